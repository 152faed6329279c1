#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# checkpatch.pl --strict (the rules for new code in net/) from Debian's
# linux-source-6.12 on every file of module/ and on the selftests' own
# module (selftests/ipmodify).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case "${1:-}" in -h|--help) echo "usage: $0  (checkpatch --strict on module/*.[ch] and selftests/ipmodify/*.c; fails on any error, warning or check)"; exit 0 ;; esac
need_pkgs perl
src=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh" --print-src)
cd "$EPHPORT_TOP"
files=$(ls module/*.[ch] selftests/ipmodify/*.c)
# --no-tree: we are not in a kernel tree; SPDX tags are checked by hand.
perl "$src/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $files | tee /tmp/ephport-style.$$
! grep -qE ': (ERROR|WARNING|CHECK):' /tmp/ephport-style.$$
rc=$?
rm -f /tmp/ephport-style.$$
exit $rc
