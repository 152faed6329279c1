#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package, installed for real. A Debian 12 chroot with dkms and
# the linux-headers of both kernel lines (the releases debian-kernel.sh
# reports) is built once per machine and cached; each run works on an
# overlay of it: "apt-get install ./ephport-dkms_<version>_all.deb" must
# build and install ephport for both kernels, installing a higher version
# must replace those modules, "apt-get remove" must take every built module
# away again. Prints KTAP; exits non-zero on a failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [DEB]
Tests DEB (default: build one with make deb) in an overlay of a cached
Debian 12 chroot, \$EPHPORT_CACHE/deb-chroot/<key>/, made with debootstrap
from deb.debian.org the first time (dkms, linux-headers for 6.1 and 6.12).
The upgrade goes to a package of the working tree with DEB's version + "+1".
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) usage >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"

# Flat KTAP, counted by check.sh from the "# Totals:" line.
ntest=0 npass=0 nfail=0
ktap_ok() { ntest=$((ntest + 1)) npass=$((npass + 1)); echo "ok $ntest $1"; }
ktap_notok() { ntest=$((ntest + 1)) nfail=$((nfail + 1)); echo "not ok $ntest $1"; }
ktap_check() {
	local desc=$1
	shift
	if "$@"; then ktap_ok "$desc"; else ktap_notok "$desc"; fi
}
ktap_end() {
	echo "# Totals: pass:$npass fail:$nfail xfail:0 xpass:0 skip:0 error:0"
	[ "$nfail" = 0 ]
	exit
}

need_pkgs debootstrap dkms
krels=
for line in 6.1 6.12; do
	eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" "$line")"
	krels="$krels $KREL"
done
krels=${krels# }

# The cached chroot, keyed by the kernel releases and this recipe.
suite=bookworm
mirror=http://deb.debian.org/debian
pkgs="dkms openssl"
for k in $krels; do
	pkgs="$pkgs linux-headers-$k"
done
key=$(echo "$suite $mirror $pkgs" | sha256sum | cut -c1-16)
base=$EPHPORT_CACHE/deb-chroot/$key

mounts=()
# chroot_mount ROOT: what apt, dpkg and dkms need inside.
chroot_mount() {
	mount -t proc proc "$1/proc"
	mounts+=("$1/proc")
}
chroot_umount() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	mounts=()
}
in_chroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}

make_chroot() {
	[ ! -f "$base/.done" ] || return 0
	log "building the Debian 12 chroot for $krels (once per machine)"
	rm -rf --one-file-system "$base.tmp"
	mkdir -p "$base.tmp"
	root=$base.tmp/root
	debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		>"$base.tmp/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$base.tmp/debootstrap.log" >&2; die "debootstrap failed"; }
	cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
	chroot_mount "$root"
	if ! { in_chroot apt-get update -q &&
	       in_chroot apt-get install -y -q --no-install-recommends $pkgs &&
	       in_chroot apt-get clean; } >"$base.tmp/apt.log" 2>&1; then
		chroot_umount
		tail -n 30 "$base.tmp/apt.log" >&2
		die "installing $pkgs in the chroot failed"
	fi
	chroot_umount
	touch "$base.tmp/.done"
	rm -rf --one-file-system "$base"
	mv "$base.tmp" "$base"
}

t0=$(date +%s)
with_lock deb-chroot make_chroot
t1=$(date +%s)

work=$(mktemp -d /tmp/ephport-deb-test.XXXXXX)
cleanup() {
	chroot_umount
	umount "$work/root" 2>/dev/null || true
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

if [ -n "${1:-}" ]; then
	deb=$(realpath "$1")
else
	deb=$("$EPHPORT_TOP/debian/build-deb.sh")
fi
ver=$(dpkg-deb -f "$deb" Version)
src=/usr/src/ephport-$ver

# The next version, for the upgrade: the same tree with a higher
# PACKAGE_VERSION, packaged the same way.
next_ver=$ver+1
mkdir -p "$work/next/selftests/vm"
cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module,debian} "$work/next/"
cp "$EPHPORT_TOP/selftests/vm/lib.sh" "$work/next/selftests/vm/"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$next_ver\"/" "$work/next/dkms.conf"
next_deb=$("$work/next/debian/build-deb.sh")

echo "TAP version 13"
echo "1..18"
echo "# chroot $base ($((t1 - t0)) s to get it), kernels $krels"

# What the package ships: the module's sources, nothing else.
dpkg-deb -c "$deb" | awk '{print $6}' | sed '/\/$/d; s#^\./##' >"$work/contents"
sed 's/^/# deb: /' "$work/contents"
unexpected=$(grep -v -E "^usr/share/doc/ephport-dkms/(changelog\.gz|copyright)$|^${src#/}/(Kbuild|Makefile|dkms\.conf|module/[a-z_]+\.[ch])$" \
	"$work/contents" || true)
[ -z "$unexpected" ] || echo "$unexpected" | sed 's/^/# unexpected: /'
ktap_check "the package holds only the module's sources" \
	test -z "$unexpected"
ktap_check "the package holds no tests" \
	bash -c "! grep -q -E 'kunit|selftest|_test' '$work/contents'"

# dkms.conf's BUILD_EXCLUSIVE_CONFIG: for a kernel without kprobes, dkms
# declines to build (exit 77, which the package's install script skips).
eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" 6.1)"
mkdir -p "$work/excl/src/ephport-$ver" "$work/excl/tree" "$work/excl/kernel"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/excl" "./${src#/}"
mv "$work/excl/${src#/}"/* "$work/excl/src/ephport-$ver/"
grep -v '^CONFIG_KPROBES=' "$KDIR/.config" >"$work/excl/kernel/.config"
excl=(--dkmstree "$work/excl/tree" --sourcetree "$work/excl/src"
	--installtree "$work/excl/tree" -k "$KREL" --kernelsourcedir "$work/excl/kernel")
rc=0
{ dkms add "ephport/$ver" "${excl[@]}" && dkms build "ephport/$ver" "${excl[@]}"; } \
	>"$work/excl.log" 2>&1 || rc=$?
grep BUILD_EXCLUSIVE "$work/excl.log" | sed 's/^/# /' || true
ktap_check "dkms declines a kernel without CONFIG_KPROBES (exit $rc)" test "$rc" = 77

# An overlay of the cached chroot: the cache itself never changes.
mkdir -p "$work"/{upper,ovl,root}
mount -t overlay overlay \
	-o "lowerdir=$base/root,upperdir=$work/upper,workdir=$work/ovl" "$work/root"
root=$work/root
chroot_mount "$root"
cp "$deb" "$next_deb" "$root/tmp/"

# apt_install DEB: "apt-get install ./DEB" in the chroot, as one case.
apt_install() {
	local name t
	name=$(basename "$1")
	t=$(date +%s)
	if in_chroot sh -c "cd /tmp && apt-get install -y -q ./$name" \
		>"$work/install.log" 2>&1; then
		ktap_ok "apt-get install ./$name"
	else
		sed 's/^/# /' "$work/install.log"
		ktap_notok "apt-get install ./$name"
	fi
	echo "# apt-get install took $(($(date +%s) - t)) s"
	grep -E '^(Removing|Building|Done|Skipped|Module build|It is likely)' \
		"$work/install.log" | sed 's/^/# /' || true
}

# check_installed VERSION: dkms has VERSION, and only it, installed for
# each kernel; each module has that version, the kernel's vermagic, and
# is in modules.dep.
check_installed() {
	local v=$1 k ko info signer ok
	in_chroot dkms status >"$work/status" 2>/dev/null || true
	sed 's/^/# dkms status: /' "$work/status"
	for k in $krels; do
		ktap_check "dkms status: $v installed for $k, no other version" \
			test "$(grep -c "^ephport/[^,]*, $k," "$work/status")" = 1 -a \
			"$(grep -c "^ephport/$v, $k, x86_64: installed" "$work/status")" = 1
	done
	for k in $krels; do
		ko=$(cd "$root" && ls lib/modules/"$k"/updates/dkms/ephport.ko* 2>/dev/null |
			head -n 1) || true
		ok=0
		if [ -n "$ko" ]; then
			info=$(in_chroot modinfo -F version "/$ko"
				in_chroot modinfo -F vermagic "/$ko") || true
			signer=$(in_chroot modinfo -F signer "/$ko" || true)
			echo "# $ko: $(echo $info), signer '${signer:-none}'"
			[ "$(echo "$info" | head -n 1)" = "$v" ] &&
				echo "$info" | tail -n 1 | grep -q "^$k " &&
				grep -q "^updates/dkms/ephport.ko[^:]*:" \
					"$root/lib/modules/$k/modules.dep" &&
				ok=1
		else
			echo "# no ephport.ko* in /lib/modules/$k/updates/dkms"
		fi
		ktap_check "ephport.ko $v for $k in updates/dkms and modules.dep" \
			test $ok = 1
	done
}

apt_install "$deb"
check_installed "$ver"
# An upgrade replaces the old version's modules for every kernel.
apt_install "$next_deb"
check_installed "$next_ver"

# Removal takes every trace of the build away.
if in_chroot apt-get remove -y -q ephport-dkms >"$work/remove.log" 2>&1; then
	ktap_ok "apt-get remove ephport-dkms"
else
	sed 's/^/# /' "$work/remove.log"
	ktap_notok "apt-get remove ephport-dkms"
fi
left=$(cd "$root" && { find lib/modules -name 'ephport.ko*'
	grep -l -s ephport lib/modules/*/modules.dep
	ls -d var/lib/dkms/ephport usr/src/ephport-*; } 2>/dev/null || true)
[ -z "$left" ] || echo "$left" | sed 's/^/# left behind: /'
ktap_check "no ephport module, dkms tree or source left" test -z "$left"
in_chroot dkms status >"$work/status" 2>/dev/null || true
ktap_check "dkms status no longer lists ephport" \
	bash -c "! grep -q '^ephport/' '$work/status'"
for k in $krels; do
	ktap_check "modprobe --dry-run no longer finds ephport for $k" \
		bash -c "! chroot '$root' modprobe -S '$k' --dry-run ephport 2>/dev/null"
done
echo "# run took $(($(date +%s) - t0)) s"
ktap_end
