# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the ephport VM scripts. Sourced, not run.

EPHPORT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EPHPORT_CACHE=${EPHPORT_CACHE:-/var/cache/ephport}
export EPHPORT_TOP EPHPORT_CACHE

log() { printf '# %s\n' "$*" >&2; }
die() { printf 'ephport-vm: %s\n' "$*" >&2; exit 1; }

# need_pkgs PKG...: install the Debian packages that are missing. make
# check runs several host steps at once: an apt-get of one waits for
# another's dpkg lock (up to 10 minutes) instead of failing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	[ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		-o DPkg::Lock::Timeout=600 \
		--no-install-recommends "${missing[@]}" >/dev/null; then
		apt-get update -q -o DPkg::Lock::Timeout=600 >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			-o DPkg::Lock::Timeout=600 \
			--no-install-recommends "${missing[@]}" >/dev/null ||
			die "apt-get install ${missing[*]} failed"
	fi
}

# Packages every host-side step needs (building modules, the initramfs, QEMU).
# dwarves: pahole, for the BTF of modules built against headers that ask
# for it (Debian's 6.12.117+deb12 and later).
host_pkgs() {
	need_pkgs build-essential bc bison flex libelf-dev libssl-dev kmod \
		cpio xz-utils zstd busybox-static qemu-system-x86 python3 perl \
		iproute2 rsync dwarves
}

# with_lock NAME CMD...: run CMD holding a cache lock, so parallel runs on
# one machine do not build the same thing twice.
with_lock() {
	local name=$1
	shift
	mkdir -p "$EPHPORT_CACHE"
	(
		flock 9
		"$@"
	) 9>"$EPHPORT_CACHE/.$name.lock"
}

# userspace_build DIR: the selftests, installed the kselftest way into
# DIR/ephport with their list in DIR/kselftest-list.txt, and the userspace
# tools (tools/: ephportstat) in DIR/bin, all static. They are the same for
# every kernel: built once (DIR/built), under DIR/.lock so that runs
# sharing DIR wait for the one building; make -j, one job per core.
userspace_build() {
	local out=$1 ksft
	ksft=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh" --print-src)/tools/testing/selftests ||
		return 1
	mkdir -p "$out"
	(
		flock 9
		[ -e "$out/built" ] && exit 0
		rm -rf "${out:?}/ephport" "${out:?}/bin" "${out:?}/obj"
		mkdir -p "$out/ephport" "$out/bin" "$out/obj/ksft"
		make -s -j"$(nproc)" -C "$EPHPORT_TOP/selftests" KSFT_DIR="$ksft" \
			OUTPUT="$out/obj/ksft" INSTALL_PATH="$out/ephport" install \
			>"$out/ksft.log" 2>&1 ||
			{ cat "$out/ksft.log" >&2; die "the selftests do not build"; }
		make -s -C "$EPHPORT_TOP/selftests" KSFT_DIR="$ksft" OUTPUT="$out/obj/ksft" \
			COLLECTION=ephport emit_tests >"$out/kselftest-list.txt"
		if [ -f "$EPHPORT_TOP/tools/Makefile" ]; then
			make -s -j"$(nproc)" -C "$EPHPORT_TOP/tools" STATIC=1 \
				OUTPUT="$out/obj/tools" >"$out/tools.log" 2>&1 ||
				{ cat "$out/tools.log" >&2; die "tools/ does not build"; }
			find "$out/obj/tools" -maxdepth 1 -type f -perm -u+x \
				-exec cp {} "$out/bin/" \;
		fi
		touch "$out/built"
	) 9>"$out/.lock"
}

# upstream_build DIR LINE: the kernel's own port-selection selftests that
# ephport_upstream.sh runs (net_*), built static from the kernel line
# LINE's own linux-source (debian-kernel.sh --selftests) into
# DIR/upstream-LINE, once; prints that directory. Prints nothing for a
# line that runs userspace_build's (from linux-source-6.12).
upstream_build() {
	local out=$1/upstream-$2 ksft ksft612
	ksft=$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" --selftests "$2") || return 1
	[ -n "$ksft" ] || return 0
	ksft612=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh" --print-src)/tools/testing/selftests ||
		return 1
	(
		flock 9
		[ -e "$out/built" ] && exit 0
		rm -rf "$out"
		make -s -j"$(nproc)" -C "$EPHPORT_TOP/selftests" KSFT_DIR="$ksft612" \
			UPSTREAM_KSFT="$ksft" UPSTREAM_OUT="$out" upstream \
			>"$1/upstream-$2.log" 2>&1 ||
			{ cat "$1/upstream-$2.log" >&2; die "$2's own selftests do not build"; }
		touch "$out/built"
	) 9>"$1/.upstream-$2.lock" || return 1
	echo "$out"
}
