#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make deb": ephport-dkms_<version>_all.deb and
# ephport-tools_<version>_<arch>.deb in the top directory, built by debhelper
# and dh-dkms from a copy of the working tree in a temporary directory; their
# paths on standard output, one a line. The version is dkms.conf's PACKAGE_VERSION: debian/changelog
# is written from it here and is never checked in.
set -euo pipefail
. "$(dirname "$0")/../selftests/vm/lib.sh"

need_pkgs build-essential debhelper dh-dkms dpkg-dev
top=$EPHPORT_TOP
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
maint=$(sed -n 's/^Maintainer: //p' "$top/debian/control")
# The date of the last commit, so that a rebuild of one commit is the same.
when=$(git -C "$top" log -1 --format=%aD 2>/dev/null || date -R)

tmp=$(mktemp -d /tmp/ephport-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/ephport-$ver
mkdir -p "$src"
cp -a "$top"/{Kbuild,Makefile,dkms.conf,module,tools,man,system,Documentation,debian} "$src/"
rm -f "$src/debian/build-deb.sh"
cat >"$src/debian/changelog" <<CHANGELOG
ephport ($ver) unstable; urgency=medium

  * Built by make deb from the ephport tree; its git history has the changes.

 -- $maint  $when
CHANGELOG

# Whatever a build by hand left in tools/ is not the package's.
make -s -C "$src/tools" clean
(cd "$src" && dpkg-buildpackage --build=binary --no-sign) >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; die "dpkg-buildpackage failed"; }
arch=$(dpkg --print-architecture)
for deb in ephport-dkms_${ver}_all.deb ephport-tools_${ver}_$arch.deb; do
	cp "$tmp/$deb" "$top/$deb"
	echo "$top/$deb"
done
