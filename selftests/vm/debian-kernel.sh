#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch a Debian 12 kernel (image + headers) into the cache without
# installing it, and print shell assignments describing it:
#   KREL=<uname -r>  KIMAGE=<vmlinuz>  KDIR=<headers build dir>
#   KMODS=<lib/modules/KREL of the image>
# Usage: debian-kernel.sh 6.1|6.12
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
6.1) meta=linux-image-amd64 ;;
6.12) meta=linux-image-6.12-amd64 ;;
-h|--help|"")
	echo "usage: $0 6.1|6.12   (Debian 12 kernel lines; prints KREL/KIMAGE/KDIR/KMODS)"
	[ -n "${1:-}" ]; exit $? ;;
*) die "unknown kernel line '$1' (6.1 or 6.12)" ;;
esac

fetch() {
	local img krel root pkgs p
	img=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
	if [ -z "$img" ]; then
		apt-get update -q >/dev/null
		img=$(apt-cache depends "$meta" |
			sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
	fi
	[ -n "$img" ] || die "apt knows no image behind $meta"
	krel=${img#linux-image-}
	root=$EPHPORT_CACHE/debian/$krel
	if [ ! -f "$root/.fetched" ]; then
		# The image, its headers, their -common part and the kbuild tools.
		pkgs="$img linux-headers-$krel"
		pkgs="$pkgs $(apt-cache depends "linux-headers-$krel" |
			sed -n 's/^ *Depends: \(linux-\(headers\|kbuild\)-[^ ]*\)$/\1/p' |
			tr '\n' ' ')"
		log "fetching $pkgs"
		rm -rf "$root"
		mkdir -p "$root/debs"
		(cd "$root/debs" && apt-get download -q $pkgs >/dev/null) ||
			die "apt-get download $pkgs failed"
		for p in "$root"/debs/*.deb; do
			dpkg -x "$p" "$root"
		done
		rm -rf "$root/debs"
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
	echo "KIMAGE=$root/boot/vmlinuz-$krel"
	echo "KDIR=$root/lib/modules/$krel/build"
	echo "KMODS=$root/lib/modules/$krel"
}

need_pkgs apt-utils >/dev/null 2>&1 || true
with_lock "debian-$1" fetch
