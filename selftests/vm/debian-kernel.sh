#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch a Debian kernel (image + headers) into the cache without
# installing it, and print shell assignments describing it:
#   KREL=<uname -r>  KIMAGE=<vmlinuz>  KDIR=<headers build dir>
#   KMODS=<lib/modules/KREL of the image>
#   KRUN=<command prefix that runs the kernel's build tools, or empty>
# Build with: $KRUN make -C "$KDIR" M=$PWD modules
# With --selftests, print instead the path of the kernel line's own
# tools/testing/selftests (from its linux-source, unpacked once into the
# cache), or nothing for a line that runs linux-source-6.12's.
# Usage: debian-kernel.sh [--selftests] 6.1|6.12|7.x
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mirror=http://deb.debian.org/debian
# apt: extra options of apt-get and apt-cache (a suite the host's apt
# does not know, in a private apt state); builder: the Debian release
# whose userland runs the kernel's build tools, when the host's cannot.
apt=()
builder=
selftests=
if [ "${1:-}" = --selftests ]; then
	selftests=1
	shift
fi
case "${1:-}" in
6.1) meta=linux-image-amd64 ;;
6.12) meta=linux-image-6.12-amd64 ;;
7.x)
	# Debian 13's backports: its newest kernel, built with Debian 13's
	# gcc-14 and linked against its glibc (2.38 or later): Debian 12 runs
	# neither, so the builds run with a Debian 13 userland (KRUN).
	meta=linux-image-amd64
	suite=trixie-backports
	builder=trixie
	adir=$EPHPORT_CACHE/debian/apt-$suite
	apt=(-o "Dir::Etc::SourceList=$adir/sources.list"
		-o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$adir/lists" -o "Dir::Cache=$adir/cache"
		-o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
	mkdir -p "$adir/lists/partial" "$adir/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
		>"$adir/sources.list"
	;;
-h|--help|"")
	echo "usage: $0 [--selftests] 6.1|6.12|7.x   (Debian 12's kernel lines and Debian 13 backports' 7.x; prints KREL/KIMAGE/KDIR/KMODS/KRUN, or with --selftests the line's own tools/testing/selftests)"
	[ -n "${1:-}" ]; exit $? ;;
*) die "unknown kernel line '$1' (6.1, 6.12 or 7.x)" ;;
esac
line=$1

# deps PKG KIND...: the packages PKG depends on whose names start with
# linux-KIND- (one of KIND), one a line.
deps() {
	local pkg=$1 kinds
	shift
	kinds=$(IFS='|'; echo "$*")
	apt-cache "${apt[@]}" depends "$pkg" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-[^ ]*\)$/\1/p' |
		grep -E "^linux-($kinds)-" || true
}

# build_root ROOT PKG...: a Debian $builder chroot in ROOT with the build
# dependencies of PKG (their Depends outside linux-*), made once.
build_root() {
	local root=$1 pkgs p tmp
	shift
	[ ! -f "$root/.done" ] || return 0
	need_pkgs debootstrap >/dev/null
	pkgs="make libc6-dev dkms"
	for p in "$@"; do
		pkgs="$pkgs $(apt-cache "${apt[@]}" depends "$p" |
			sed -n 's/^ *Depends: <\?\([^<> ]*\)>\?$/\1/p' |
			sed '/^linux-/d' | tr '\n' ' ')"
	done
	pkgs=$(echo $pkgs | tr ' ' '\n' | sort -u | tr '\n' ',')
	log "building a Debian $builder chroot with ${pkgs%,} (once per machine)"
	tmp=$root.tmp
	rm -rf --one-file-system "$tmp"
	mkdir -p "$tmp"
	debootstrap --variant=minbase --include="${pkgs%,}" "$builder" "$tmp" \
		"$mirror" >"$tmp.log" 2>&1 ||
		{ tail -n 30 "$tmp.log" >&2; die "debootstrap $builder failed"; }
	touch "$tmp/.done"
	rm -rf --one-file-system "$root"
	mv "$tmp" "$root"
}

fetch() {
	local img krel root pkgs p kbuild key
	img=$(deps "$meta" image | head -n 1)
	if [ -z "$img" ]; then
		apt-get "${apt[@]}" update -q >/dev/null
		img=$(deps "$meta" image | head -n 1)
	fi
	[ -n "$img" ] || die "apt knows no image behind $meta"
	krel=${img#linux-image-}
	case $line in
	*.x) [ "${krel%%.*}" = "${line%.x}" ] ||
		die "$meta is $krel now, not of the $line line: add its line" ;;
	esac
	root=$EPHPORT_CACHE/debian/$krel
	if [ ! -f "$root/.fetched" ]; then
		# The image (with, from 7.x on, the packages that hold its
		# binary, modules and base files), its headers, their -common
		# part and the kbuild tools.
		pkgs="$img $(deps "$img" binary modules base | tr '\n' ' ')"
		pkgs="$pkgs linux-headers-$krel"
		pkgs="$pkgs $(deps "linux-headers-$krel" headers kbuild | tr '\n' ' ')"
		log "fetching $pkgs"
		rm -rf "$root"
		mkdir -p "$root/debs"
		(cd "$root/debs" && apt-get "${apt[@]}" download -q $pkgs >/dev/null) ||
			die "apt-get download $pkgs failed"
		for p in "$root"/debs/*.deb; do
			dpkg -x "$p" "$root"
		done
		rm -rf "$root/debs"
		# From 7.x on, the image and modules are in /usr/lib/modules
		# alone (vmlinuz too): the same paths as before, through /lib.
		[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
		# The packages link and include by absolute paths: rebase them.
		ln -sfn "$root/usr/src/linux-headers-$krel" \
			"$root/lib/modules/$krel/build"
		grep -rlZ --include=Makefile '/usr/src/linux-headers-' \
			"$root/usr/src" 2>/dev/null |
			xargs -0 -r sed -i "s#\([ =]\)/usr/src/linux-headers-#\1$root/usr/src/linux-headers-#g"
		find "$root/usr/src" -maxdepth 2 -type l | while read -r p; do
			case "$(readlink "$p")" in
			/*) ln -sfn "$root$(readlink "$p")" "$p" ;;
			esac
		done
		touch "$root/.fetched"
	fi
	echo "KREL=$krel"
	if [ -f "$root/boot/vmlinuz-$krel" ]; then
		echo "KIMAGE=$root/boot/vmlinuz-$krel"
	else
		echo "KIMAGE=$root/lib/modules/$krel/vmlinuz"
	fi
	echo "KDIR=$root/lib/modules/$krel/build"
	echo "KMODS=$root/lib/modules/$krel"
	if [ -n "$builder" ]; then
		# One per release and kbuild package: what it needs is theirs.
		kbuild=$(deps "linux-headers-$krel" kbuild | head -n 1)
		key=$(echo "$builder $kbuild" | sha256sum | cut -c1-16)
		build_root "$EPHPORT_CACHE/debian/root-$builder-$key" \
			"linux-headers-$krel" "$kbuild"
		echo "KRUN='$EPHPORT_TOP/selftests/vm/with-root.sh $EPHPORT_CACHE/debian/root-$builder-$key'"
	else
		echo "KRUN="
	fi
}

# selftests: the kernel's own selftests of the line's linux-source, of
# the image's version, for the programs ephport_upstream.sh runs. 6.1 and
# 6.12 run those of linux-source-6.12 (the selftests' build has them:
# selftests/Makefile); the 7.x line runs its own, which test what its
# connect() does since 6.12 (README, "Tests"). Only tools/testing/selftests
# is unpacked (about 25 s of xz on 2 cores, once per machine).
selftests() {
	local img ver src dir
	[ "$line" = 7.x ] || return 0
	img=$(deps "$meta" image | head -n 1)
	[ -n "$img" ] || die "apt knows no image behind $meta (run $0 $line first)"
	ver=$(apt-cache "${apt[@]}" show "$img" | sed -n 's/^Version: //p' | head -n 1)
	src=linux-source-$(echo "${img#linux-image-}" | cut -d. -f1-2)
	dir=$EPHPORT_CACHE/src/$src-$ver-selftests
	if [ ! -f "$dir/.unpacked" ]; then
		log "fetching $src $ver for its selftests"
		rm -rf "$dir"
		mkdir -p "$dir/debs"
		(cd "$dir/debs" && apt-get "${apt[@]}" download -q "$src=$ver" >/dev/null) ||
			die "apt-get download $src=$ver failed"
		dpkg-deb --fsys-tarfile "$dir"/debs/*.deb |
			tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$dir" --strip-components=1 --wildcards \
				'*/tools/testing/selftests/net/*' \
				'*/tools/testing/selftests/kselftest*' ||
			die "cannot unpack the selftests of $src"
		rm -rf "$dir/debs"
		touch "$dir/.unpacked"
	fi
	echo "$dir/tools/testing/selftests"
}

need_pkgs apt-utils >/dev/null 2>&1 || true
if [ -n "$selftests" ]; then
	# The kernel first: its apt lists name the image's version.
	with_lock "debian-$line" fetch >/dev/null
	with_lock "debian-$line-src" selftests
else
	with_lock "debian-$line" fetch
fi
