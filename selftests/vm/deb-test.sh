#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages, built and installed for real. A Debian 12 chroot
# with dkms, man-db, systemd and the linux-headers of both kernel lines (the
# releases debian-kernel.sh reports), and the packages of debian/control's
# Build-Depends downloaded but not installed, is built once per machine and
# cached; each run works on overlays of it. In one, "apt-get build-dep" and
# "dpkg-buildpackage -us -uc -b" build the packages from the tree, as Debian's
# tools do, and lintian --pedantic (on the host) must find nothing in them;
# they must build the same way in a bare Debian 13 chroot, also cached. In
# another, "apt-get install ./ephport-dkms_<version>_all.deb
# ./ephport-tools_<version>_<arch>.deb" must build and install ephport for
# both kernels and give a working ephportstat, its man pages and its service;
# installing a higher version must replace those modules, "apt-get remove"
# must take every built module away again, and "apt-get purge" of both must
# leave no file of theirs in /usr, /etc or /var/lib. The packages built on
# Debian 13 must install in a Debian 13 chroot with the headers of Debian 13
# backports' kernel (debian-kernel.sh 7.x, also cached), have dkms build and
# install ephport for it, and leave no module on removal. Prints KTAP; exits
# non-zero on a failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [DKMS-DEB TOOLS-DEB]
Tests the two packages (default: build them from the working tree with
dpkg-buildpackage in the chroot) in an overlay of a cached Debian 12 chroot,
\$EPHPORT_CACHE/deb-chroot/<key>/, made with debootstrap from deb.debian.org
the first time (dkms, man-db, systemd, linux-headers for 6.1 and 6.12, the
build dependencies downloaded). The upgrade goes to packages of the working
tree with DKMS-DEB's version + "+1", built the same way.
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; -*) usage >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"

# Flat KTAP, counted by check.sh from the "# Totals:" line.
ntest=0 npass=0 nfail=0 nskip=0
ktap_ok() { ntest=$((ntest + 1)) npass=$((npass + 1)); echo "ok $ntest $1"; }
ktap_skip() { ntest=$((ntest + 1)) nskip=$((nskip + 1)); echo "ok $ntest $1 # SKIP $2"; }
ktap_notok() { ntest=$((ntest + 1)) nfail=$((nfail + 1)); echo "not ok $ntest $1"; }
ktap_check() {
	local desc=$1
	shift
	if "$@"; then ktap_ok "$desc"; else ktap_notok "$desc"; fi
}
# The plan at the end (as TAP allows): the cases depend on what the run
# has (a Debian 13 chroot, packages given or built).
ktap_end() {
	echo "1..$ntest"
	echo "# Totals: pass:$npass fail:$nfail xfail:0 xpass:0 skip:$nskip error:0"
	[ "$nfail" = 0 ]
	exit
}

need_pkgs debootstrap dkms lintian
krels=
for line in 6.1 6.12; do
	eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" "$line")"
	krels="$krels $KREL"
done
krels=${krels# }
# Debian 13's: the 7.x line, from trixie-backports.
eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" 7.x)"
krel13=$KREL

# The cached chroot, keyed by the kernel releases and this recipe.
suite=bookworm
mirror=http://deb.debian.org/debian
# man-db: "man -w" finds the man pages ephport-tools installs; systemd:
# systemd-analyze checks its unit, deb-systemd-helper enables its service,
# and the udev rule of ephport-dkms runs systemd-sysctl.
pkgs="dkms openssl man-db systemd"
for k in $krels; do
	pkgs="$pkgs linux-headers-$k"
done
# What debian/control's Build-Depends name, downloaded only: each build
# installs them into its overlay with "apt-get build-dep", so a package
# missing from Build-Depends fails the build.
build_pkgs="build-essential debhelper dh-dkms"
key=$(echo "$suite $mirror $pkgs / $build_pkgs" | sha256sum | cut -c1-16)
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

# make_chroot BASE SUITE INSTALL DOWNLOAD [BACKPORTS]: a Debian SUITE chroot
# in BASE/root (once: kept with BASE/.done) with the packages INSTALL
# installed and DOWNLOAD in apt's cache, not installed; with BACKPORTS (1),
# SUITE-backports is among its sources, in a file of its own.
make_chroot() {
	local base=$1 suite=$2 install=$3 download=$4 backports=${5:-} root
	[ ! -f "$base/.done" ] || return 0
	log "building the Debian $suite chroot (once per machine)"
	rm -rf --one-file-system "$base.tmp"
	mkdir -p "$base.tmp"
	root=$base.tmp/root
	debootstrap --variant=minbase "$suite" "$root" "$mirror" \
		>"$base.tmp/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$base.tmp/debootstrap.log" >&2; return 1; }
	cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
	[ -z "$backports" ] ||
		echo "deb $mirror $suite-backports main" \
			>"$root/etc/apt/sources.list.d/$suite-backports.list"
	chroot_mount "$root"
	if ! { in_chroot apt-get update -q &&
	       { [ -z "$install" ] ||
		 in_chroot apt-get install -y -q --no-install-recommends $install; } &&
	       in_chroot apt-get clean &&
	       in_chroot apt-get install -y -q --no-install-recommends \
			--download-only $download; } >"$base.tmp/apt.log" 2>&1; then
		chroot_umount
		tail -n 30 "$base.tmp/apt.log" >&2
		return 1
	fi
	chroot_umount
	touch "$base.tmp/.done"
	rm -rf --one-file-system "$base"
	mv "$base.tmp" "$base"
}

t0=$(date +%s)
with_lock deb-chroot make_chroot "$base" "$suite" "$pkgs" "$build_pkgs" ||
	die "cannot build the Debian 12 chroot"
t1=$(date +%s)
# Debian 13: a bare chroot with the build dependencies downloaded, where
# the packages must build too. Without it (no network the first time), the
# case is skipped.
base13=$EPHPORT_CACHE/deb-chroot/$(echo "trixie $mirror / $build_pkgs" | sha256sum | cut -c1-16)
have13=1
with_lock deb-chroot-13 make_chroot "$base13" trixie "" "$build_pkgs" || have13=0
# Debian 13 with dkms and the 7.x line's headers (from trixie-backports),
# where Debian 13's packages are installed and removed.
pkgs13="dkms openssl man-db systemd linux-headers-$krel13"
base13i=$EPHPORT_CACHE/deb-chroot/$(echo "trixie-backports $mirror $pkgs13" | sha256sum | cut -c1-16)
have13i=1
[ $have13 = 1 ] &&
	with_lock deb-chroot-13i make_chroot "$base13i" trixie "$pkgs13" "" 1 || have13i=0
t2=$(date +%s)

work=$(mktemp -d /tmp/ephport-deb-test.XXXXXX)
cleanup() {
	chroot_umount
	umount "$work/root" 2>/dev/null || true
	umount "$work/broot" 2>/dev/null || true
	# Lazily if it is still busy: after the Debian 13 cases its umount
	# failed once (the same umount passed by hand minutes later).
	umount "$work/root13" 2>/dev/null || umount -l "$work/root13" 2>/dev/null || true
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# build_in_chroot TREE VERSION...: ephport-VERSION's packages from TREE (the
# first version) and from $work/next (the others), built in one overlay of
# the chroot: "apt-get build-dep" from the first tree's debian/control, then
# dpkg-buildpackage -us -uc -b for each; a version's packages and .changes
# go to $work/out-VERSION. The overlay is thrown away after.
build_in_chroot() {
	local tree=$1 v rc=0 out lower=${build_base:-$base}
	shift
	mkdir -p "$work"/b-{upper,ovl} "$work/broot"
	mount -t overlay overlay \
		-o "lowerdir=$lower/root,upperdir=$work/b-upper,workdir=$work/b-ovl" "$work/broot"
	local root=$work/broot
	chroot_mount "$root"
	for v in "$@"; do
		mkdir -p "$root/build/$v/ephport-$v"
		cp -a "$tree"/{Kbuild,Makefile,dkms.conf,module,tools,man,system,Documentation,debian} \
			"$root/build/$v/ephport-$v/"
		rm -f "$root/build/$v/ephport-$v/debian/build-deb.sh"
		tree=$work/next
	done
	in_chroot sh -c "cd /build/$1 && apt-get build-dep -y -q --no-install-recommends ./ephport-$1" \
		>"$work/build-dep.log" 2>&1 ||
		{ rc=1; tail -n 30 "$work/build-dep.log" | sed 's/^/# build-dep: /'; }
	for v in "$@"; do
		out=$work/out-$v
		mkdir -p "$out"
		[ $rc = 0 ] || break
		in_chroot sh -c "cd /build/$v/ephport-$v && dpkg-buildpackage -us -uc -b" \
			>"$out/build.log" 2>&1 ||
			{ rc=1; tail -n 30 "$out/build.log" | sed 's/^/# build: /'; }
		cp "$root/build/$v"/*.deb "$root/build/$v"/*.changes \
			"$root/build/$v"/*.buildinfo "$out/" 2>/dev/null
	done
	chroot_umount
	umount "$work/broot"
	rm -rf --one-file-system "$work"/b-{upper,ovl}
	return $rc
}

# The tree at the next version: the same with a higher PACKAGE_VERSION and
# a changelog entry for it.
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$EPHPORT_TOP/dkms.conf")
next_ver=$ver+1
mkdir -p "$work/next"
cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module,tools,man,system,Documentation,debian} \
	"$work/next/"
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$next_ver\"/" "$work/next/dkms.conf"
{
	echo "ephport ($next_ver) unstable; urgency=medium"
	echo
	echo "  * The upgrade that deb-test.sh installs."
	echo
	echo " -- $(sed -n 's/^Maintainer: //p' "$EPHPORT_TOP/debian/control")  $(date -R)"
	echo
	cat "$EPHPORT_TOP/debian/changelog"
} >"$work/next/debian/changelog"

echo "TAP version 13"
echo "# chroot $base ($((t1 - t0)) s to get it), kernels $krels"
echo "# Debian 13 chroots $base13 and $base13i ($((t2 - t1)) s to get them), kernel $krel13"

t=$(date +%s)
if [ -n "${1:-}" ]; then
	[ -n "${2:-}" ] || { usage >&2; exit 2; }
	deb=$(realpath "$1")
	tools_deb=$(realpath "$2")
	ver=$(dpkg-deb -f "$deb" Version)
	ktap_skip "dpkg-buildpackage -us -uc -b builds ephport $ver and $next_ver in a bare Debian 12" \
		"packages given on the command line"
	build_in_chroot "$work/next" "$next_ver" || ktap_notok "dpkg-buildpackage builds $next_ver"
else
	ktap_check "dpkg-buildpackage -us -uc -b builds ephport $ver and $next_ver in a bare Debian 12" \
		build_in_chroot "$EPHPORT_TOP" "$ver" "$next_ver"
	deb=$work/out-$ver/ephport-dkms_${ver}_all.deb
	tools_deb=$(ls "$work/out-$ver"/ephport-tools_"${ver}"_*.deb 2>/dev/null | head -n 1)
fi
echo "# the builds took $(($(date +%s) - t)) s"
# The same tree builds on Debian 13 (its debhelper puts units and rules in
# /usr/lib; the packages tested below are Debian 12's).
t=$(date +%s)
if [ $have13 = 1 ]; then
	mkdir -p "$work/t13"
	cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module,tools,man,system,Documentation,debian} \
		"$work/t13/"
	build13() {
		build_base=$base13 build_in_chroot "$work/t13" "$ver-13" &&
			ls "$work/out-$ver-13"/ephport-dkms_*_all.deb \
				"$work/out-$ver-13"/ephport-tools_*.deb
	}
	ktap_check "dpkg-buildpackage -us -uc -b builds ephport $ver in a bare Debian 13" \
		build13
	echo "# the Debian 13 build took $(($(date +%s) - t)) s"
else
	ktap_skip "dpkg-buildpackage -us -uc -b builds ephport $ver in a bare Debian 13" \
		"no Debian 13 chroot (debootstrap trixie failed)"
fi
next_deb=$work/out-$next_ver/ephport-dkms_${next_ver}_all.deb
next_tools_deb=$(ls "$work/out-$next_ver"/ephport-tools_"${next_ver}"_*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] && [ -f "$tools_deb" ] && [ -f "$next_deb" ] && [ -f "$next_tools_deb" ] ||
	{ ktap_notok "the packages to test are there"; ktap_end; }
src=/usr/src/ephport-$ver

# Debian's own checks of the packages, pedantic ones included.
if [ -z "${1:-}" ]; then
	lintian --pedantic --tag-display-limit 0 "$work/out-$ver"/*.changes \
		>"$work/lintian.log" 2>&1
	sed 's/^/# lintian: /' "$work/lintian.log"
	ktap_check "lintian --pedantic finds nothing in the packages" \
		bash -c "! grep -q -E '^[EWIPXO]: ' '$work/lintian.log'"
else
	ktap_skip "lintian --pedantic finds nothing in the packages" \
		"packages given on the command line"
fi

# What ephport-dkms ships: the module's sources and the udev rule, nothing
# else.
dpkg-deb -c "$deb" | awk '{print $6}' | sed '/\/$/d; s#^\./##' >"$work/contents"
sed 's/^/# deb: /' "$work/contents"
unexpected=$(grep -v -E "^usr/share/doc/ephport-dkms/(changelog\.gz|copyright)$|^${src#/}/(Kbuild|Makefile|dkms\.conf|module/[a-z_]+\.[ch])$|^lib/udev/rules\.d/60-ephport\.rules$" \
	"$work/contents" || true)
[ -z "$unexpected" ] || echo "$unexpected" | sed 's/^/# unexpected: /'
ktap_check "ephport-dkms holds only the module's sources and udev rule" \
	test -z "$unexpected"
ktap_check "the package holds no tests" \
	bash -c "! grep -q -E 'kunit|selftest|_test' '$work/contents'"

# What ephport-tools ships, exactly.
dpkg-deb -c "$tools_deb" | awk '{print $6}' | sed '/\/$/d; s#^\./##' | sort >"$work/tools-contents"
sed 's/^/# tools deb: /' "$work/tools-contents"
doc=usr/share/doc/ephport-tools
sort >"$work/tools-expected" <<EXPECTED
lib/systemd/system/ephport-textfile.service
usr/bin/ephportstat
usr/share/man/man1/ephportstat.1.gz
usr/share/man/man7/ephport.7.gz
$doc/README.md.gz
$doc/changelog.gz
$doc/copyright
$doc/runbook.md
$doc/examples/ephport-alerts.yml
$doc/examples/systemd/ephport-textfile.service.d/directory.conf
$doc/sysfs-kernel-ephport.gz
$doc/examples/modprobe.d/ephport.conf
$doc/examples/modules-load.d/ephport.conf
$doc/examples/sysctl.d/ephport.conf
EXPECTED
diff "$work/tools-expected" "$work/tools-contents" | sed 's/^/# /' || true
ktap_check "ephport-tools holds the tool, man pages, unit, ABI, runbook and examples" \
	cmp -s "$work/tools-expected" "$work/tools-contents"
# The examples are examples: not one line of them is active (the alert
# rules take effect only where a Prometheus loads them).
active=$(dpkg-deb --fsys-tarfile "$tools_deb" |
	tar -x -O --wildcards --exclude '*.yml' "./$doc/examples/*" |
	grep -v -E '^[[:space:]]*(#|$)' || true)
[ -z "$active" ] || echo "$active" | sed 's/^/# active: /'
ktap_check "every line of the configuration examples is a comment" test -z "$active"

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
cp "$deb" "$next_deb" "$tools_deb" "$next_tools_deb" "$root/tmp/"

# What is in the chroot before the packages, to compare after the purge.
snapshot() {
	(cd "$root" && find usr etc var/lib -xdev \( -type f -o -type l \) | sort)
}
snapshot >"$work/before"

# on: what the cases below start with ("Debian 13: " in that chroot).
on=

# apt_install DEB...: "apt-get install ./DEB..." in the chroot, as one case.
apt_install() {
	local names t
	names=$(for d in "$@"; do printf './%s ' "$(basename "$d")"; done)
	names=${names% }
	t=$(date +%s)
	if in_chroot sh -c "cd /tmp && apt-get install -y -q $names" \
		>"$work/install.log" 2>&1; then
		ktap_ok "${on}apt-get install $names"
	else
		sed 's/^/# /' "$work/install.log"
		ktap_notok "${on}apt-get install $names"
	fi
	echo "# apt-get install took $(($(date +%s) - t)) s"
	grep -E '^(Removing|Building|Done|Skipped|Module build|It is likely)' \
		"$work/install.log" | sed 's/^/# /' || true
}

# check_installed VERSION: dkms has VERSION, and only it, installed for
# each kernel; each module has that version, the kernel's vermagic, and
# is in modules.dep.
# remove_dkms: apt-get remove ephport-dkms takes every trace of the build
# away (the cases named after $on).
remove_dkms() {
	local left
	if in_chroot apt-get remove -y -q ephport-dkms >"$work/remove.log" 2>&1; then
		ktap_ok "${on}apt-get remove ephport-dkms"
	else
		sed 's/^/# /' "$work/remove.log"
		ktap_notok "${on}apt-get remove ephport-dkms"
	fi
	left=$(cd "$root" && { find lib/modules -name 'ephport.ko*'
		grep -l -s ephport lib/modules/*/modules.dep
		ls -d var/lib/dkms/ephport usr/src/ephport-*; } 2>/dev/null || true)
	[ -z "$left" ] || echo "$left" | sed 's/^/# left behind: /'
	ktap_check "${on}no ephport module, dkms tree or source left" test -z "$left"
}

check_installed() {
	local v=$1 k ko info signer ok
	in_chroot dkms status >"$work/status" 2>/dev/null || true
	sed 's/^/# dkms status: /' "$work/status"
	for k in $krels; do
		ktap_check "${on}dkms status: $v installed for $k, no other version" \
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
		ktap_check "${on}ephport.ko $v for $k in updates/dkms and modules.dep" \
			test $ok = 1
	done
}

# check_tools VERSION: ephport-tools works as installed.
check_tools() {
	local v=$1 out
	out=$(in_chroot ephportstat --version 2>&1) || true
	echo "# ephportstat --version: $out"
	ktap_check "${on}ephportstat --version says $v" test "$out" = "ephportstat $v"
	out=$(in_chroot man -w ephportstat 2>&1) || true
	echo "# man -w ephportstat: $out"
	ktap_check "${on}man -w ephportstat finds its page" \
		test "$out" = /usr/share/man/man1/ephportstat.1.gz
	out=$(in_chroot man -w 7 ephport 2>&1) || true
	echo "# man -w 7 ephport: $out"
	ktap_check "${on}man -w 7 ephport finds the module's page" \
		test "$out" = /usr/share/man/man7/ephport.7.gz
}

apt_install "$deb" "$tools_deb"
check_installed "$ver"
check_tools "$ver"

# The unit: systemd's own check (syntax, ExecStart's binary, the man pages
# of Documentation=), its sandbox (systemd-analyze security, at most 2.5,
# "OK"), and the service enabled the way dh_installsystemd does.
unit=/lib/systemd/system/ephport-textfile.service
ktap_check "systemd-analyze verify accepts the service" \
	in_chroot systemd-analyze verify "$unit"
rc=0
in_chroot systemd-analyze security --offline=true --threshold=25 "$unit" \
	>"$work/security" 2>&1 || rc=$?
grep -v '✓' "$work/security" | sed 's/^/# /'
ktap_check "systemd-analyze security: exposure 2.5 or less ($(sed -n 's/.*exposure level for [^:]*: //p' "$work/security"))" \
	test "$rc" = 0 -a -n "$(grep 'Overall exposure level' "$work/security")"
ktap_check "the service is enabled (multi-user.target wants it)" \
	test -L "$root/etc/systemd/system/multi-user.target.wants/ephport-textfile.service"
# The udev rule runs a program that exists, on the module's "add" only.
rule=$root/lib/udev/rules.d/60-ephport.rules
prog=$(sed -n 's/.*RUN+="\([^ "]*\).*/\1/p' "$rule" 2>/dev/null)
echo "# udev rule: $(grep -v '^#' "$rule" 2>/dev/null)"
ktap_check "the udev rule runs $prog, present in the chroot" \
	test -n "$prog" -a -x "$root$prog"

# The service's command, as systemd would run it (no module in a chroot),
# its variables expanded, for one round (-c 1). Its directory is the one
# the sandbox lets it write.
svc=$root$unit
textdir=$(sed -n 's/^Environment=EPHPORT_TEXTFILE_DIR=//p' "$svc")
exec_start=$(sed -n 's/^ExecStart=//p' "$svc")
exec_start=${exec_start//\$\{EPHPORT_TEXTFILE_DIR\}/$textdir}
exec_start="${exec_start//\$EPHPORT_TEXTFILE_OPTIONS/} -c 1"
echo "# ExecStart: $exec_start"
ktap_check "the service writes to $textdir, the one directory it may write" \
	test -n "$textdir" -a "$(sed -n 's/^ReadWritePaths=-//p' "$svc")" = "$textdir"
# No directory: said in one line, and nothing made.
rc=0
# shellcheck disable=SC2086
in_chroot $exec_start >"$work/exec.out" 2>"$work/exec.err" || rc=$?
sed 's/^/# stderr: /' "$work/exec.err"
ktap_check "without its directory, the service says so in one line" \
	test "$rc" = 1 -a "$(wc -l <"$work/exec.err")" = 2 -a ! -e "$root$textdir" -a \
	"$(grep -c "$textdir: No such file or directory" "$work/exec.err")" = 1
mkdir -p "$root$textdir"
rc=0
# shellcheck disable=SC2086
in_chroot $exec_start >"$work/exec.out" 2>"$work/exec.err" || rc=$?
sed 's/^/# stdout: /' "$work/exec.out"
sed 's/^/# stderr: /' "$work/exec.err"
ktap_check "without the module, ExecStart exits 1 (not loaded), the file says ephport_up 0" \
	test "$rc" = 1 -a ! -s "$work/exec.out" -a "$(ls -A "$root$textdir")" = ephport.prom -a \
	"$(grep '^ephport_' "$root$textdir/ephport.prom" 2>/dev/null)" = "ephport_up 0" -a \
	"$(grep -c 'not loaded' "$work/exec.err")" = 1
# With a tree that has ephport's files (ephportstat --root, through the
# environment), the same command writes the metrics, and only them.
fake=/tmp/fake
mkdir -p "$root$fake/sys/kernel/ephport/net/4026531840" "$root$fake/proc/1/ns" "$root$fake/run"
(
	cd "$root$fake/sys/kernel/ephport"
	echo "$ver" >version
	echo 90 >alarm_pct
	echo 1 >netns
	cd net/4026531840
	echo "32768 60999" >range
	for f in tcp_in_use udp_in_use tcp_peak udp_peak tcp_connect_ok \
		tcp_connect_fail tcp_bind_ok tcp_bind_fail udp_ok udp_fail \
		self_connect alarm; do
		echo 0 >$f
	done
	for i in $(seq 0 22); do echo "$((1 << (i + 10))) 0"; done >search_ns
)
ln -s "net:[4026531840]" "$root$fake/proc/1/ns/net"
echo systemd >"$root$fake/proc/1/comm"
rc=0
# shellcheck disable=SC2086
in_chroot EPHPORTSTAT_ROOT=$fake $exec_start >"$work/exec.out" 2>"$work/exec.err" || rc=$?
sed 's/^/# stderr: /' "$work/exec.err"
ls -A "$root$textdir" | sed 's/^/# in the directory: /'
ktap_check "with ephport's files, ExecStart writes ephport.prom, and nothing else" \
	test "$rc" = 0 -a "$(ls -A "$root$textdir")" = ephport.prom -a \
	"$(grep -c '^ephport_.*[0-9]$' "$root$textdir/ephport.prom" 2>/dev/null)" -gt 0
rm -rf "${root:?}$textdir" "$root/var/lib/prometheus" "${root:?}$fake"

# An upgrade replaces the old version's modules for every kernel.
apt_install "$next_deb" "$next_tools_deb"
check_installed "$next_ver"
check_tools "$next_ver"

# Removal takes every trace of the build away.
remove_dkms
in_chroot dkms status >"$work/status" 2>/dev/null || true
ktap_check "dkms status no longer lists ephport" \
	bash -c "! grep -q '^ephport/' '$work/status'"
for k in $krels; do
	ktap_check "modprobe --dry-run no longer finds ephport for $k" \
		bash -c "! chroot '$root' modprobe -S '$k' --dry-run ephport 2>/dev/null"
done

# Purge: no file of either package, and nothing they made, is left. dkms's
# signing key (made by dkms for every module it builds, and enrolled as a
# MOK once) is dkms's and stays; so do depmod's indexes, made by dkms's
# depmod here because the chroot has headers but no kernel image (on a
# machine they come with the kernel; none names ephport, checked above).
if in_chroot apt-get purge -y -q ephport-tools ephport-dkms >"$work/purge.log" 2>&1; then
	ktap_ok "apt-get purge ephport-tools ephport-dkms"
else
	sed 's/^/# /' "$work/purge.log"
	ktap_notok "apt-get purge ephport-tools ephport-dkms"
fi
snapshot >"$work/after"
left=$(comm -13 "$work/before" "$work/after" |
	grep -v -E '^var/lib/dkms/mok\.(key|pub)$|^var/lib/(apt|dpkg)/|^usr/lib/modules/[^/]+/modules\.[a-z.]+$' ||
	true)
[ -z "$left" ] || echo "$left" | sed 's/^/# left behind: /'
ktap_check "after the purge, no new file in /usr, /etc or /var/lib" test -z "$left"
left=$(cd "$root" && find usr etc var/lib -xdev -name "*ephport*" || true)
[ -z "$left" ] || echo "$left" | sed 's/^/# left behind: /'
ktap_check "after the purge, nothing named ephport in /usr, /etc or /var/lib" test -z "$left"

# Debian 13: its own packages in an overlay of the chroot with the 7.x
# line's headers; dkms builds ephport for that kernel when they install.
# (The upgrade and the purge, the same scripts on both releases, are the
# Debian 12 cases above.)
t=$(date +%s)
deb13=$(ls "$work/out-$ver-13"/ephport-dkms_*_all.deb 2>/dev/null | head -n 1)
tools13=$(ls "$work/out-$ver-13"/ephport-tools_*.deb 2>/dev/null | head -n 1)
if [ $have13i = 0 ]; then
	ktap_skip "Debian 13: apt-get install of its packages builds ephport for $krel13" \
		"no Debian 13 chroot with the headers (debootstrap trixie failed)"
elif [ -z "$deb13" ] || [ -z "$tools13" ]; then
	ktap_notok "Debian 13: its packages are there to install"
else
	chroot_umount
	mkdir -p "$work"/{upper13,ovl13,root13}
	mount -t overlay overlay \
		-o "lowerdir=$base13i/root,upperdir=$work/upper13,workdir=$work/ovl13" \
		"$work/root13"
	root=$work/root13
	chroot_mount "$root"
	cp "$deb13" "$tools13" "$root/tmp/"
	# Debian 13's dkms runs depmod only for a kernel whose image is
	# installed (its modules.dep exists); this chroot has the headers
	# alone, and an empty modules.dep stands for the image's.
	: >"$root/lib/modules/$krel13/modules.dep"
	krels=$krel13
	on="Debian 13: "
	apt_install "$deb13" "$tools13"
	check_installed "$ver"
	check_tools "$ver"
	remove_dkms
	echo "# the Debian 13 install and removal took $(($(date +%s) - t)) s"
fi
echo "# run took $(($(date +%s) - t0)) s"
ktap_end
