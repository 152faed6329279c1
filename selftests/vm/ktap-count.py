#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the test cases in the KTAP that kselftest's runner printed.

Usage: ktap-count.py CONSOLE_LOG
Prints "passed failed skipped" on stdout and each failed case on stderr.
A program's own cases (nested "# ok"/"# not ok" lines) are counted one by
one; a program that reports no cases counts as one. A program that fails
(exit code, timeout) although its cases passed adds one failure.

The console carries the kernel's messages too, and one may land in the
middle of a test's line ("# ok 1[    7.71] ip_local_port_range: ..."
then " inuse.ip4_tcp.autobind" on the next line): such a line is put back
together before it is read, so that no case is lost from the count.
"""
import re
import sys

TOP = re.compile(r'^(not ok|ok) \d+ (selftests: .*?)(?: # (.*))?$')
NESTED = re.compile(r'^# (not ok|ok) \d+ (.*?)(?: # (SKIP.*|TODO.*))?$')
# A kernel message cut into a line: what came before it, and the message.
SPLICED = re.compile(r'^(.+?)\[\s*\d+\.\d+\] .*$')


def lines(f):
    """The console's lines, those a kernel message cut in two rejoined."""
    held = None
    for line in f:
        line = line.rstrip('\n')
        if held is not None:
            # The rest of the cut line follows the message, or it is lost.
            if line.startswith(' ') and not line.startswith(' ['):
                yield held + line
                held = None
                continue
            yield held
            held = None
        m = SPLICED.match(line)
        if m and (m.group(1).startswith('# ') or
                  m.group(1).startswith('ok ') or
                  m.group(1).startswith('not ok ')):
            held = m.group(1)
            continue
        yield line
    if held is not None:
        yield held


def main():
    passed = failed = skipped = 0
    nested = []
    with open(sys.argv[1], errors='replace') as f:
        for line in lines(f):
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
