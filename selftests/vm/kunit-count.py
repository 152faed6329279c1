#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the cases in the JSON that "kunit.py parse --json" wrote.

Usage: kunit-count.py FILE.json   -> prints "passed failed skipped"
"""
import json
import sys


def walk(suite, counts):
    for case in suite.get('test_cases', []):
        status = case.get('status')
        if status == 'PASS':
            counts[0] += 1
        elif status == 'SKIP':
            counts[2] += 1
        else:
            counts[1] += 1
            print(f"FAIL {suite.get('name')}.{case.get('name')}: {status}",
                  file=sys.stderr)
    for sub in suite.get('sub_groups', []) or []:
        walk(sub, counts)


def main():
    counts = [0, 0, 0]
    with open(sys.argv[1]) as f:
        data = json.load(f)
    walk(data, counts)
    print(*counts)


if __name__ == '__main__':
    main()
