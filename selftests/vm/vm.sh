#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel in QEMU (TCG) with ephport built for it and run tests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 --kernel 6.1|6.12|7.x|debug [--suite | --test NAME... | --kunit | --demo | --shell |
          --bench DIR] [--timeout SECONDS] [--log FILE] [--debian-modules]
          [--smp N] [--one-thread] [--icount] [--env VAR=VALUE]...

Builds ephport.ko for the chosen kernel, packs it with busybox and the
selftests into an initramfs, boots it under qemu-system-x86_64 -accel tcg
and streams the serial console.

  --kernel K    6.1 / 6.12: the current Debian 12 kernel of that line,
                7.x: Debian 13 backports' (debian-kernel.sh),
                debug: the KUnit/KASAN/lockdep kernel from linux-source-6.12
  --suite       run every selftest (default)
  --test NAME   run one selftest (repeatable), e.g. --test ephport_load.sh
  --kunit       load the KUnit suite (debug kernel only) and print its KTAP;
                with --test, before those tests, in the same boot
  --demo        show ephport at work
  --shell       an interactive shell on the console (Ctrl-a x quits)
  --bench DIR   copy DIR to /bench in the VM and run /bench/run.sh (make bench)
  --timeout S   give up after S seconds (default 900)
  --log FILE    also write the console to FILE
  --smp N       virtual CPUs (default \$EPHPORT_VM_SMP, else 2)
  --one-thread  emulate every vCPU on one host thread, in turn (TCG's
                thread=single), instead of one thread each: kernel text
                can then be live-patched under traffic on several vCPUs
                (Documentation/hardening-test-findings.md, F1); no two
                vCPUs run at once
  --icount      count instead of time: one vCPU with QEMU's -icount
                shift=0,sleep=off, so the guest's clocks advance one
                nanosecond per instruction executed and a time measured
                in the guest is an instruction count, whatever the host's
                load (make bench's instruction counts; bench/README.md)
  --env VAR=VALUE  set VAR in the tests' environment (repeatable), e.g.
                EPHPORT_CYCLES=200 (see selftests/ephport_stress_cycles.c)
  --debian-modules  (6.1 / 6.12 / 7.x) the image's /lib/modules tree (without
                drivers/, veth aside, and sound/), ephport built by dkms
                in updates/dkms instead of extra/, Debian's kmod as
                modprobe/modinfo/depmod, and systemd-modules-load,
                systemd-sysctl and systemd-udevd with ephport's udev rule
                (for ephport_modprobe.sh)

Exits 0 only if the run ended, its tests passed, and the kernel printed no
oops, WARN, BUG, KASAN, UBSAN, lockdep or kmemleak report.
Cache: \$EPHPORT_CACHE (default /var/cache/ephport). With EPHPORT_VM_PREBUILT=DIR,
the selftests, the tools and ephport.ko (per kernel, DIR/ko-KREL) are built
once into DIR and reused by later runs; a dkms-built ephport.ko found in
DIR/dkms-KREL serves --debian-modules.
USAGE
}

kernel=
mode=suite
tests=
timeout=900
logfile=
debmods=
benchdir=
smp=${EPHPORT_VM_SMP:-2}
smp_given=
tcg=tcg
icount=
kunit=
envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--suite) mode=suite; shift ;;
	--test) mode=test; tests="$tests $2"; shift 2 ;;
	--kunit) kunit=1; shift ;;
	--demo) mode=demo; shift ;;
	--shell) mode=shell; shift ;;
	--bench) mode=bench; benchdir=$2; shift 2 ;;
	--debian-modules) debmods=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--smp) smp=$2; smp_given=1; shift 2 ;;
	--one-thread) tcg=tcg,thread=single; shift ;;
	--icount) icount=1; shift ;;
	--env)
		[[ "$2" =~ ^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_.,:/-]*$ ]] ||
			die "--env wants VAR=VALUE (letters, digits and _.,:/- only): '$2'"
		envs+=("export $2"); shift 2 ;;
	--log) logfile=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$kernel" ] || { usage >&2; exit 2; }
if [ -n "$icount" ]; then
	# One instruction counter, one vCPU: QEMU counts instructions only
	# with TCG's single thread, and two vCPUs would share one clock.
	[ -z "$smp_given" ] || [ "$smp" = 1 ] || die "--icount runs one vCPU (--smp 1)"
	smp=1
fi

host_pkgs
work=$(mktemp -d /tmp/ephport-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The kernel: image, build tree, and (Debian) its module tree; KRUN runs
# its build tools where the host cannot (debian-kernel.sh).
KMODS=
KRUN=
case "$kernel" in
6.1|6.12|7.x)
	eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" "$kernel")"
	;;
debug)
	KDIR=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh")
	KIMAGE=$KDIR/arch/x86/boot/bzImage
	KREL=$(cat "$KDIR/include/config/kernel.release")
	;;
*) die "unknown kernel '$kernel'" ;;
esac
if [ -n "$kunit" ]; then
	[ "$kernel" = debug ] || die "--kunit needs --kernel debug"
	[ "$mode" = test ] || mode=kunit
fi
[ -z "$debmods" ] || [ -n "$KMODS" ] || die "--debian-modules needs a Debian kernel"

# systemd_tree: a directory with Debian's systemd, udev and libsystemd-shared
# of one version unpacked (apt-get download, not installed on this machine),
# made once per version in the cache.
systemd_tree() {
	local v dir
	v=$(apt-cache policy udev | sed -n 's/^ *Candidate: //p')
	[ -n "$v" ] && [ "$v" != "(none)" ] || die "apt knows no udev package (apt-get update?)"
	dir=$EPHPORT_CACHE/systemd/$v
	(
		flock 9
		[ -e "$dir/.done" ] && exit 0
		rm -rf "$dir"
		mkdir -p "$dir/debs"
		(cd "$dir/debs" &&
		 apt-get download -q "udev=$v" "systemd=$v" "libsystemd-shared=$v") \
			>"$dir/download.log" 2>&1 ||
			{ cat "$dir/download.log" >&2; exit 1; }
		for d in "$dir"/debs/*.deb; do
			dpkg-deb -x "$d" "$dir"
		done
		rm -rf "$dir/debs"
		touch "$dir/.done"
	) 9>"$EPHPORT_CACHE/.systemd-tree.lock" || die "cannot unpack systemd $v"
	echo "$dir"
}

# ephport.ko and the selftests' module, built from a copy of the tree so
# runs for different kernels never share objects; with EPHPORT_VM_PREBUILT,
# once per kernel.
build_module() {
	local out=$1
	rm -rf "$out"
	mkdir -p "$out"
	cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$out/"
	$KRUN make -s -C "$out" KDIR="$KDIR" module >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; die "ephport does not build for $KREL"; }
	if grep -q 'warning:' "$out/build.log"; then
		cat "$out/build.log" >&2
		die "ephport builds with warnings for $KREL"
	fi
	# The selftests' own module (another IP-modifying ftrace user).
	cp -a "$EPHPORT_TOP/selftests/ipmodify" "$out/ipmodify"
	$KRUN make -s -C "$out/ipmodify" KDIR="$KDIR" module >"$out/ipmodify.log" 2>&1 ||
		{ cat "$out/ipmodify.log" >&2; die "selftests/ipmodify does not build for $KREL"; }
	if grep -q 'warning:' "$out/ipmodify.log"; then
		cat "$out/ipmodify.log" >&2
		die "selftests/ipmodify builds with warnings for $KREL"
	fi
	cp "$out"/ipmodify/*.ko "$out/"
	touch "$out/built"
}
kosrc=$work/src
if [ -n "${EPHPORT_VM_PREBUILT:-}" ]; then
	kosrc=$EPHPORT_VM_PREBUILT/ko-$KREL
	mkdir -p "$EPHPORT_VM_PREBUILT"
	(
		flock 9
		[ -e "$kosrc/built" ] || { log "building ephport for $KREL"; build_module "$kosrc"; }
	) 9>"$EPHPORT_VM_PREBUILT/.ko-$KREL.lock" || exit 1
else
	log "building ephport for $KREL"
	build_module "$kosrc"
fi

# The initramfs.
stage=$work/stage
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root}
mkdir -p "$stage/lib/modules/$KREL/extra"
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
# kselftest's runner calls "timeout --foreground", which busybox lacks.
printf '#!/bin/sh\n[ "$1" = --foreground ] && shift\nexec busybox timeout "$@"\n' \
	>"$stage/usr/bin/timeout"
chmod +x "$stage/usr/bin/timeout"
cp "$EPHPORT_TOP/selftests/vm/guest-init.sh" "$stage/init"
cp "$kosrc"/*.ko "$stage/lib/modules/$KREL/extra/"
# Without their DWARF, as dkms and Debian's packages install modules: the
# symbol table (kallsyms, stack traces) stays. Measured under TCG on an
# idle 6.12, one vCPU: insmod 0.46-0.82 s and rmmod 0.15-0.38 s with it
# (7 MB), 0.03-0.05 s and 0.02 s without (0.26 MB). Under the stress
# test's traffic other costs dominate: 0.41 s per load and 0.55 s per
# unload in random mode on 6.1 either way.
strip --strip-debug "$stage/lib/modules/$KREL/extra/"*.ko
if [ -n "$KMODS" ]; then
	# Debian's own modules the tests use, uncompressed for busybox.
	# veth for the tests; sctp, dccp and what they need for the SCTP and
	# DCCP cases of the upstream selftests (ephport_upstream.sh).
	for m in veth sctp libcrc32c crc32c_generic udp_tunnel ip6_udp_tunnel \
		dccp dccp_ipv4 dccp_ipv6; do
		f=$(find "$KMODS/kernel" -name "$m.ko*" | head -n 1)
		[ -n "$f" ] || continue
		case "$f" in
		*.xz) xz -dc "$f" >"$stage/lib/modules/$KREL/extra/$m.ko" ;;
		*.zst) zstd -qdc "$f" >"$stage/lib/modules/$KREL/extra/$m.ko" ;;
		*) cp "$f" "$stage/lib/modules/$KREL/extra/" ;;
		esac
	done
fi
if [ -n "$debmods" ]; then
	# As on a Debian machine: the image's module tree, ephport from dkms
	# in updates/dkms, kmod and systemd-modules-load (what reads
	# /etc/modules-load.d at boot) with the libraries ldd names.
	rm -rf "$stage/lib/modules/$KREL/extra"
	# Without drivers/ (but veth) and sound/: 300 MB less to unpack
	# under emulation, and nothing the tests load.
	rsync -a --exclude=/kernel/drivers --exclude=/kernel/sound \
		"$KMODS/" "$stage/lib/modules/$KREL/"
	(cd "$KMODS" && find kernel/drivers/net -name 'veth.ko*' |
		cpio -pdm --quiet "$stage/lib/modules/$KREL")
	mkdir -p "$stage/lib/modules/$KREL/updates/dkms"
	prebuilt_dkms=${EPHPORT_VM_PREBUILT:+$EPHPORT_VM_PREBUILT/dkms-$KREL}
	if [ -n "$prebuilt_dkms" ] && ls "$prebuilt_dkms"/ephport.ko* >/dev/null 2>&1; then
		# make check's dkms-KREL step built it already.
		cp "$prebuilt_dkms"/ephport.ko* "$stage/lib/modules/$KREL/updates/dkms/"
	else
		$KRUN "$EPHPORT_TOP/selftests/vm/dkms-build.sh" "$KREL" "$KDIR" \
			"$stage/lib/modules/$KREL/updates/dkms" >"$work/dkms.log" 2>&1 ||
			{ cat "$work/dkms.log" >&2; die "dkms build for $KREL failed"; }
	fi
	# systemd's programs of one version (they share a private library):
	# systemd-modules-load, systemd-sysctl and udevd with ephport-dkms's udev
	# rule, which applies /etc/sysctl.d's net.ephport.* when the module loads.
	st=$(systemd_tree)
	stlib=$st/usr/lib/x86_64-linux-gnu/systemd
	mkdir -p "$stage/lib/systemd" "$stage/lib/udev/rules.d" "$stage/usr/lib/x86_64-linux-gnu/systemd"
	cp /usr/bin/kmod "$stage/usr/bin/kmod"
	cp "$st/lib/systemd/systemd-modules-load" "$st/lib/systemd/systemd-sysctl" \
		"$stage/lib/systemd/"
	cp "$st/bin/udevadm" "$stage/bin/udevadm"
	ln -s /bin/udevadm "$stage/lib/systemd/systemd-udevd"
	cp "$stlib"/libsystemd-shared-*.so "$stage/usr/lib/x86_64-linux-gnu/systemd/"
	cp "$EPHPORT_TOP/system/60-ephport.rules" "$stage/lib/udev/rules.d/"
	for lib in $(LD_LIBRARY_PATH=$stlib ldd /usr/bin/kmod "$st/bin/udevadm" \
		     "$st/lib/systemd/systemd-modules-load" "$st/lib/systemd/systemd-sysctl" |
		     grep -o '/[^ ]*\.so[^ ]*' | grep -v libsystemd-shared | sort -u); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
	for t in modprobe modinfo depmod lsmod insmod rmmod; do
		ln -s /usr/bin/kmod "$stage/sbin/$t"
	done
fi
for f in modules.order modules.builtin modules.builtin.modinfo; do
	if [ -n "$KMODS" ] && [ -f "$KMODS/$f" ]; then
		cp "$KMODS/$f" "$stage/lib/modules/$KREL/"
	else
		: >"$stage/lib/modules/$KREL/$f"
	fi
done
depmod -b "$stage" "$KREL"

# The selftests and the userspace tools (lib.sh's userspace_build): with
# EPHPORT_VM_PREBUILT=DIR (make check), built once into DIR and taken from
# there by every run.
KSFT_SRC=$("$EPHPORT_TOP/selftests/vm/debug-kernel.sh" --print-src)/tools/testing/selftests
userspace=$work/userspace
if [ -n "${EPHPORT_VM_PREBUILT:-}" ]; then
	userspace=$EPHPORT_VM_PREBUILT
fi
userspace_build "$userspace" || exit 1
mkdir -p "$stage/kselftest/kselftest"
cp "$KSFT_SRC/run_kselftest.sh" "$stage/kselftest/"
cp "$KSFT_SRC"/kselftest/{runner.sh,ktap_helpers.sh} "$stage/kselftest/kselftest/"
cp -a "$userspace/ephport" "$stage/kselftest/"
cp "$userspace/kselftest-list.txt" "$stage/kselftest/"
cp "$userspace"/bin/* "$stage/usr/bin/" 2>/dev/null || true
# A kernel line with selftests of its own runs ephport_upstream.sh's
# programs built from them (lib.sh's upstream_build; README, "Tests").
if [ "$kernel" != debug ] &&
   { [ "$mode" = suite ] || [[ " $tests " == *" ephport_upstream.sh "* ]]; }; then
	upstream=$(upstream_build "$userspace" "$kernel") || exit 1
	[ -z "$upstream" ] || cp "$upstream"/net_* "$stage/kselftest/ephport/"
fi

# promtool for ephportstat's test, only in the runs that have it (48 MB:
# the initramfs unpacks seconds faster without it, most on the KASAN
# kernel). Debian builds it with cgo: it is not static, so the libraries
# ldd names (libc, the loader) come along.
if [ -f "$EPHPORT_TOP/tools/Makefile" ] &&
   { [ "$mode" != test ] || [[ " $tests " == *" ephportstat.sh "* ]]; }; then
	need_pkgs prometheus
	cp /usr/bin/promtool "$stage/usr/bin/"
	for lib in $(ldd /usr/bin/promtool | grep -o '/[^ ]*'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
fi

if [ -n "$benchdir" ]; then
	mkdir -p "$stage/bench"
	cp -a "$benchdir/." "$stage/bench/"
fi

cat >"$stage/etc/ephport-vm.conf" <<CONF
VM_MODE=$mode
VM_TESTS="$tests"
VM_KREL=$KREL
VM_KERNEL=$kernel
VM_KUNIT=$kunit
CONF
[ ${#envs[@]} = 0 ] || printf '%s\n' "${envs[@]}" >>"$stage/etc/ephport-vm.conf"
# Uncompressed: inflating it costs the emulated CPU more than copying it.
# Debian's module tree (--debian-modules) is too big for that.
if [ -n "$debmods" ]; then
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs"
else
	(cd "$stage" && find . | cpio -o -H newc --quiet) >"$work/initramfs"
fi

# Boot. Any kernel complaint panics the guest (and ends the run).
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1"
append="$append nokaslr loglevel=5 ephport_vm=$kernel"
[ "$kernel" != debug ] || append="$append kmemleak=on"
# No LA57: with 5-level page tables every emulated TLB refill walks one
# level more (the selftests ran 10-15% slower with it).
qemu=(qemu-system-x86_64 -accel "$tcg" -cpu max,la57=off -smp "$smp" -m 2048 -nographic -vga none
	-no-reboot -kernel "$KIMAGE" -initrd "$work/initramfs"
	-append "$append")
[ -z "$icount" ] || qemu+=(-icount "shift=0,sleep=off")
# At most EPHPORT_VM_SLOTS (default 2) VMs at a time on this machine:
# more only make TCG emulation thrash and tests time out.
slots=${EPHPORT_VM_SLOTS:-2}
mkdir -p "$EPHPORT_CACHE"
while :; do
	for ((i = 0; i < slots; i++)); do
		exec 8>"$EPHPORT_CACHE/.vm-slot-$i"
		flock -n 8 && break 2
		exec 8>&-
	done
	sleep 2
done
log "booting $KREL ($mode)"
console=$work/console.log
if [ "$mode" = shell ]; then
	"${qemu[@]}"
	exit 0
fi
boot() {
	timeout --foreground "$timeout" "${qemu[@]}" </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$console"
	return "${PIPESTATUS[0]}"
}
set +e
boot
qrc=$?
tries=1
while ! grep -q '^EPHPORT-VM-START' "$console" && [ $tries -lt 3 ]; do
	# The kernel died before /init ran: nothing of ephport was loaded.
	# Seen with the KASAN kernel under TCG (a wild access in
	# rcu_is_watching at 0.15 s, about one boot in six); boot again and
	# keep the failed console for the record.
	log "the kernel died before userspace ($(grep -m1 -E 'panic|BUG' "$console")); booting again"
	[ -z "$logfile" ] || cp "$console" "$logfile.failed-boot-$tries"
	tries=$((tries + 1))
	boot
	qrc=$?
done
set -e
[ -z "$logfile" ] || cp "$console" "$logfile"

fail=0
if [ "$qrc" = 124 ]; then
	log "FAIL: timed out after $timeout s"
	fail=1
fi
if ! grep -q '^EPHPORT-VM-END rc=' "$console"; then
	log "FAIL: the run did not finish (crash, panic or timeout)"
	fail=1
elif ! grep -q '^EPHPORT-VM-END rc=0' "$console"; then
	log "FAIL: $(grep '^EPHPORT-VM-END' "$console")"
	fail=1
fi
bad='Kernel panic|Oops|BUG:|WARNING:|KASAN|UBSAN|general protection|'
bad+='circular locking|lock held when|inconsistent lock|recursive locking|'
bad+='suspicious RCU|sleeping function called|ODEBUG|EPHPORT-KMEMLEAK-REPORT|Call Trace'
if grep -E "$bad" "$console" | grep -v '^#' >"$work/bad"; then
	log "FAIL: the kernel complained:"
	sed 's/^/#   /' "$work/bad" >&2
	fail=1
fi
if [ "$mode" = suite ] || [ "$mode" = test ]; then
	# A kselftest's "not ok" fails the run (run_kselftest.sh exits 0).
	read -r kp kf ks < <(python3 "$EPHPORT_TOP/selftests/vm/ktap-count.py" "$console" 2>/dev/null)
	log "selftests: ${kp:-0} passed, ${kf:-0} failed, ${ks:-0} skipped"
	if [ "${kf:-0}" != 0 ] || [ $((${kp:-0} + ${kf:-0} + ${ks:-0})) = 0 ]; then
		fail=1
	fi
fi
exit $fail
