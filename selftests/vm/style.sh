#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make style: checkpatch.pl --strict (the rules for new code in net/) from
# Debian's linux-source-6.12 on every file of module/ and on the
# selftests' own module (selftests/ipmodify); then the layers of module/
# (module/layers): every source file built against Debian's 6.12 headers,
# its symbols read with nm (selftests/vm/layers.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
usage() {
	cat <<USAGE
usage: $0 [--objects DIR]
checkpatch --strict on module/*.[ch] and selftests/ipmodify/*.c, then the
layers of module/: fails on any error, warning or check, any call against
module/layers, any circle of files, any module/ file over 500 lines.
  --objects DIR  a build of this tree against Debian's 6.12 headers (make
                 check's ko-KREL): its DIR/module/*.o are taken as they are
                 and only the files it did not build are compiled here
USAGE
}
prebuilt=
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--objects) [ -n "${2:-}" ] || { usage >&2; exit 2; }; prebuilt=$2 ;;
"") ;;
*) usage >&2; exit 2 ;;
esac
need_pkgs perl python3 binutils gcc
src=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh" --print-src)
cd "$EPHPORT_TOP"
files=$(ls module/*.[ch] selftests/ipmodify/*.c)
rc=0
# --no-tree: we are not in a kernel tree; SPDX tags are checked by hand.
perl "$src/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $files | tee /tmp/ephport-style.$$
! grep -qE ': (ERROR|WARNING|CHECK):' /tmp/ephport-style.$$ || rc=1
rm -f /tmp/ephport-style.$$

# The check itself must fail where it should (an upward call, a circle,
# a long file): layers-test.sh plants them in objects of its own.
"$EPHPORT_TOP/selftests/vm/layers-test.sh" || rc=1

# The layers: each file's object, both hook backends and the KUnit files
# included (built one by one, so that no kernel option leaves one out).
# With --objects, those of a module build for the same kernel from the
# same files: the same compiler, flags and headers made them; the files
# that build left out (the other hook backend, the KUnit files) are
# compiled here. All are built with EPHPORT_BY_ADDRESS=1, so that the
# calls a kernel without the exports makes (kernel_fn.c) are seen too:
# steer.c and kernel_fn.c are always built here for that.
eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" 6.12)"
obj=$(mktemp -d)
trap 'rm -rf "$obj"' EXIT
cp -a Kbuild Makefile dkms.conf module "$obj/"
want=()
for f in module/*.c; do
	o=${f%.c}.o
	if [ -n "$prebuilt" ] && [ -f "$prebuilt/$o" ] &&
	   [ "$o" != module/steer.o ] && [ "$o" != module/kernel_fn.o ]; then
		cp "$prebuilt/$o" "$obj/$o"
	else
		want+=("$o")
	fi
done
if [ ${#want[@]} != 0 ] &&
   ! make -s -C "$KDIR" M="$obj" -j"$(nproc)" EPHPORT_BY_ADDRESS=1 "${want[@]}" \
	>"$obj/build.log" 2>&1; then
	cat "$obj/build.log"
	echo "layers: module/ does not build, cannot check its layers"
	exit 1
fi
python3 selftests/vm/layers.py module/layers "$obj/module" module || rc=1
exit $rc
