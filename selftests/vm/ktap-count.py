#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the test cases in the KTAP that kselftest's runner printed.

Usage: ktap-count.py CONSOLE_LOG
Prints "passed failed skipped" on stdout and each failed case on stderr.
A program's own cases (nested "# ok"/"# not ok" lines) are counted one by
one; a program that reports no cases counts as one. A program that fails
(exit code, timeout) although its cases passed adds one failure.
"""
import re
import sys

TOP = re.compile(r'^(not ok|ok) \d+ (selftests: .*?)(?: # (.*))?$')
NESTED = re.compile(r'^# (not ok|ok) \d+ (.*?)(?: # (SKIP.*|TODO.*))?$')


def main():
    passed = failed = skipped = 0
    nested = []
    with open(sys.argv[1], errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = NESTED.match(line)
            if m:
                nested.append(m.groups())
                continue
            m = TOP.match(line)
            if not m:
                continue
            status, name, directive = m.groups()
            directive = directive or ''
            if nested:
                nfail = 0
                for st, case, d in nested:
                    if d and d.startswith('SKIP'):
                        skipped += 1
                    elif st == 'ok':
                        passed += 1
                    else:
                        failed += 1
                        nfail += 1
                        print(f'FAIL {name}: {case}', file=sys.stderr)
                if status != 'ok' and nfail == 0:
                    failed += 1
                    print(f'FAIL {name}: {directive}', file=sys.stderr)
            elif directive.startswith('SKIP'):
                skipped += 1
            elif status == 'ok':
                passed += 1
            else:
                failed += 1
                print(f'FAIL {name}: {directive}', file=sys.stderr)
            nested = []
    print(passed, failed, skipped)


if __name__ == '__main__':
    main()
