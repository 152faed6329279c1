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
