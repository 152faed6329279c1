#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per machine) the ephport debug kernel from Debian's
# linux-source-6.12: tinyconfig + config/base.config + config/debug.config.
# Prints the build tree's path. The tree is cached under
# $EPHPORT_CACHE/debug-kernel/<source version>-<fragment hash>/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [--print-src]
Builds the KUnit/KASAN/lockdep test kernel if it is not cached and prints the
path of its build tree (bzImage in arch/x86/boot/, modules built in place).
--print-src  only unpack linux-source-6.12 and print its path
Cache: \$EPHPORT_CACHE (default /var/cache/ephport).
USAGE
}

# linux_source: unpack Debian's linux-source-6.12 once; print the path.
linux_source() {
	need_pkgs linux-source-6.12 xz-utils
	local ver tarball dir
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	tarball=$(ls /usr/src/linux-source-6.12.tar.xz)
	dir=$EPHPORT_CACHE/src/linux-source-$ver
	if [ ! -f "$dir/.unpacked" ]; then
		log "unpacking $tarball"
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xf "$tarball" -C "$dir" --strip-components=1
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

build() {
	local src ver key dir cfgdir
	host_pkgs
	src=$(with_lock src linux_source)
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	cfgdir=$EPHPORT_TOP/selftests/vm/config
	key=$(cat "$cfgdir/base.config" "$cfgdir/debug.config" \
		"$EPHPORT_TOP/selftests/vm/debug-kernel.sh" | sha256sum | cut -c1-12)
	dir=$EPHPORT_CACHE/debug-kernel/$ver-$key
	if [ -f "$dir/.built" ]; then
		echo "$dir"
		return
	fi
	log "building the debug kernel in $dir (about 10-15 min on 2 cores)"
	rm -rf "$dir"
	mkdir -p "$dir"
	make -s -C "$src" O="$dir" tinyconfig >/dev/null
	(cd "$dir" && "$src/scripts/kconfig/merge_config.sh" -m .config \
		"$cfgdir/base.config" "$cfgdir/debug.config" >/dev/null)
	make -s -C "$src" O="$dir" olddefconfig >/dev/null
	# Every option the fragments ask for must have survived olddefconfig.
	local line opt val bad=0
	while read -r line; do
		case "$line" in CONFIG_*) ;; *) continue ;; esac
		opt=${line%%=*}
		val=${line#*=}
		if [ "$val" = n ]; then
			grep -q "^$opt=" "$dir/.config" && { log "config: $opt still set"; bad=1; }
		else
			grep -qx "$opt=$val" "$dir/.config" || { log "config: $opt!=$val"; bad=1; }
		fi
	done < <(cat "$cfgdir/base.config" "$cfgdir/debug.config")
	[ $bad = 0 ] || die "the config fragments do not apply to $ver"
	# bzImage and modules from one configured tree, in one go, so that
	# out-of-tree modules get a matching vermagic and Module.symvers.
	make -s -C "$dir" -j"$(nproc)" bzImage modules >"$dir/build.log" 2>&1 ||
		{ tail -n 40 "$dir/build.log" >&2; die "debug kernel build failed"; }
	touch "$dir/.built"
	echo "$dir"
}

case "${1:-}" in
-h|--help) usage ;;
--print-src) with_lock src linux_source ;;
"") with_lock debug-kernel build ;;
*) usage >&2; exit 2 ;;
esac
