#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make deb": ephport-dkms_<version>_all.deb and
# ephport-tools_<version>_<arch>.deb in the top directory, built by debhelper
# and dh-dkms from a copy of the working tree in a temporary directory; their
# paths on standard output, one a line, with dpkg-buildpackage -us -uc -b
# (the way Debian's tools build it). Their version is debian/changelog's,
# which must be dkms.conf's PACKAGE_VERSION (debian/rules checks it too).
set -euo pipefail
. "$(dirname "$0")/../selftests/vm/lib.sh"

need_pkgs build-essential debhelper dh-dkms dpkg-dev
top=$EPHPORT_TOP
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
debver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "$debver" = "$ver" ] ||
	die "debian/changelog's version is $debver, dkms.conf's $ver: add a changelog entry"

tmp=$(mktemp -d /tmp/ephport-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/ephport-$ver
mkdir -p "$src"
cp -a "$top"/{Kbuild,Makefile,dkms.conf,module,tools,man,system,Documentation,debian} "$src/"
rm -f "$src/debian/build-deb.sh"
# Whatever a build by hand left in tools/ is not the package's.
make -s -C "$src/tools" clean
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; die "dpkg-buildpackage failed"; }
arch=$(dpkg --print-architecture)
for deb in ephport-dkms_${ver}_all.deb ephport-tools_${ver}_$arch.deb; do
	cp "$tmp/$deb" "$top/$deb"
	echo "$top/$deb"
done
