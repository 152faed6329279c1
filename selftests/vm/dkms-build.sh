#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms add + build of this tree for one kernel, in a private dkms tree so
# the machine's own /var/lib/dkms is left alone. With OUTDIR, the built
# module is copied there.
# Usage: dkms-build.sh KERNELRELEASE KERNEL_BUILD_DIR [OUTDIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# = 2 ] || [ $# = 3 ] ||
	{ echo "usage: $0 KERNELRELEASE KERNEL_BUILD_DIR [OUTDIR]" >&2; exit 2; }
need_pkgs dkms
krel=$1
kdir=$2
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$EPHPORT_TOP/dkms.conf")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/ephport-$ver" "$tmp/tree" "$tmp/install"
cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$tmp/src/ephport-$ver/"
opts=(--dkmstree "$tmp/tree" --sourcetree "$tmp/src" --installtree "$tmp/install"
	-k "$krel" --kernelsourcedir "$kdir")
dkms add ephport/"$ver" "${opts[@]}"
dkms build ephport/"$ver" "${opts[@]}"
ls "$tmp"/tree/ephport/"$ver"/"$krel"/x86_64/module/ephport.ko*
[ $# = 2 ] || cp "$tmp"/tree/ephport/"$ver"/"$krel"/x86_64/module/ephport.ko* "$3/"
