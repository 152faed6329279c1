#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": style, builds for every supported kernel, KUnit on the debug
# kernel, the selftests on Debian's three kernel lines (Debian 12's 6.1 and
# 6.12, Debian 13 backports' 7.x) and the debug kernel, the Debian package
# and modprobe. One line per suite, then "N passed, N failed" over the
# individual cases.
#
# The VM runs go through a queue served by EPHPORT_JOBS workers (default 2,
# one per core): the slow suites are split over several boots so that the
# two workers finish together. The queue starts as soon as the debug
# kernel's module and the test programs are built; the host's own suites
# (the Debian package, style, tools, the builds for Debian's kernels) run
# beside it, and a run on a Debian kernel waits for that kernel's builds.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [-h]
Environment:
  EPHPORT_KERNELS  kernels to test (default "debug 6.1 6.12 7.x"; 7.x is
                   Debian 13 backports' line)
  EPHPORT_JOBS     VM runs at a time (default 2)
  EPHPORT_CACHE    cache for kernels and builds (default /var/cache/ephport)
  EPHPORT_LOGS     where console logs go (default ./selftests/out)
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage >&2; exit 2 ;; esac

kernels=${EPHPORT_KERNELS:-debug 6.1 6.12 7.x}
njobs=${EPHPORT_JOBS:-2}
logs=${EPHPORT_LOGS:-$EPHPORT_TOP/selftests/out}
mkdir -p "$logs"
rm -rf "$logs"/*.result "$logs/.prebuilt" "$logs"/.host-end-* "$logs/.tools"
VM=$EPHPORT_TOP/selftests/vm
start=$(date +%s)
suites=()

# record SUITE PASSED FAILED SKIPPED [SECONDS]: the suite's line, and its
# result file (with the suite's own time, for the summary).
record() {
	echo "$2 $3 $4 ${5:-0}" >"$logs/$1.result"
	printf '# %-28s %4d passed, %d failed, %d skipped (%ds)\n' "$1" "$2" "$3" "$4" \
		$(($(date +%s) - start))
}

# case_result SUITE CMD...: a suite of one case that passes if CMD does.
case_result() {
	local name=$1 t0=$(date +%s)
	shift
	if "$@" >"$logs/$name.log" 2>&1; then
		record "$name" 1 0 0 $(($(date +%s) - t0))
	else
		sed 's/^/#   /' "$logs/$name.log" | tail -n 30
		record "$name" 0 1 0 $(($(date +%s) - t0))
	fi
}

# phase NAME: the time since the last phase goes to the one before.
phases=()
phase_t=$start
phase() {
	local now=$(date +%s)
	[ -z "${phase_name:-}" ] || phases+=("$phase_name $((now - phase_t))")
	phase_name=$1
	phase_t=$now
}

phase "host packages, kernels"
host_pkgs

# The selftests, their static binaries, the tools and ephport.ko (per
# kernel) are the same for every VM run: each run takes them from here.
export EPHPORT_VM_PREBUILT=$logs/.prebuilt
mkdir -p "$EPHPORT_VM_PREBUILT"

# The suites, in the order of the summary. Those of the host and of the
# builds run beside the VM runs and finish in any order.
suites=(style tools)
for k in $kernels; do
	case $k in
	debug) suites+=("build-debug") ;;
	*) suites+=("build-$k" "dkms-$k") ;;
	esac
done

# What the builds install, and Debian 12's kernels (apt-get update and
# download), one at a time before anything else uses them. The 7.x line
# has an apt state of its own and, once per machine, a Debian 13 userland
# to debootstrap (about 5 minutes): fetched beside the debug kernel's
# build; whatever needs it waits for debian-kernel.sh's lock.
need_pkgs dkms apt-utils
for k in $kernels; do
	case $k in
	debug) ;;
	7.x) { "$VM/debian-kernel.sh" "$k" >/dev/null ||
		log "cannot fetch Debian's $k kernel"; } & ;;
	*) "$VM/debian-kernel.sh" "$k" >/dev/null ||
		log "cannot fetch Debian's $k kernel" ;;
	esac
done

# The Debian package: apt-get install/upgrade/remove in a cached chroot,
# on the host (no VM), from the start. Beside two VMs and the module's
# builds on a machine that other VMs shared, it took 1,421 s: the limit is
# that of the VM runs.
run_deb() {
	local name=$1 debrc p f s t0=$(date +%s)
	timeout "$2" "$VM/deb-test.sh" >"$logs/$name.log" 2>"$logs/$name.err"
	debrc=$?
	read -r p f s < <(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) .*/\1 \2 \3/p' "$logs/$name.log")
	p=${p:-0} f=${f:-0} s=${s:-0}
	{
		grep '^not ok' "$logs/$name.log" | sed 's/^/# /'
		if [ $debrc != 0 ] && [ "$f" = 0 ] || [ $((p + f + s)) = 0 ]; then
			tail -n 30 "$logs/$name.err" | sed 's/^/# /'
			f=$((f + 1))
		fi
		record "$name" "$p" "$f" "$s" $(($(date +%s) - t0))
	} >"$logs/$name.out"
	cat "$logs/$name.out"
}
host_t0=$(date +%s)
{ run_deb deb 2400; date +%s >"$logs/.host-end-deb"; } &
host_pids=($!)
phase "debug build, test programs"

# The kernels, then a build of the module for each (warnings fail), kept
# for the VM runs (vm.sh's ko-KREL), as is dkms's (dkms-KREL, for the
# --debian-modules runs).
build_for() {
	local kdir=$1 out=$EPHPORT_VM_PREBUILT/ko-$2 krun=${3:-} rc
	rm -rf "$out"
	mkdir -p "$out"
	cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$out/"
	$krun make -C "$out" -j"$(nproc)" KDIR="$kdir" module >"$out/build.log" 2>&1
	rc=$?
	# The selftests' own module (selftests/ipmodify), for the same kernel.
	cp -a "$EPHPORT_TOP/selftests/ipmodify" "$out/ipmodify"
	$krun make -C "$out/ipmodify" KDIR="$kdir" module >>"$out/build.log" 2>&1 || rc=1
	cp "$out"/ipmodify/*.ko "$out/" 2>/dev/null || rc=1
	cat "$out/build.log"
	grep -q 'warning:' "$out/build.log" && rc=1
	if [ $rc = 0 ]; then
		touch "$out/built"
	else
		rm -rf "$out"
	fi
	return $rc
}
# build_kernel K: the kernel K and the builds for it; its suites' lines
# go to stdout; for a line with selftests of its own (7.x), the kernel's
# port-selection programs from them (lib.sh's upstream_build). Then
# EPHPORT_VM_PREBUILT/ready-K, which the VM runs on K wait for (whether
# the builds passed or not: vm.sh then builds or fails on its own).
build_kernel() {
	local k=$1 kdir
	case $k in
	debug)
		log "debug kernel (built once per machine, then cached)"
		if kdir=$("$VM/debug-kernel.sh"); then
			# Show that the debug kernel really has its checkers.
			for opt in KUNIT KASAN UBSAN DEBUG_KMEMLEAK PROVE_LOCKING \
				PROVE_RCU DEBUG_ATOMIC_SLEEP DEBUG_OBJECTS DEBUG_LIST \
				PANIC_ON_OOPS KPROBES; do
				grep "^CONFIG_$opt=" "$kdir/.config" | sed 's/^/# debug kernel: /'
			done
			case_result "build-debug" build_for "$kdir" \
				"$(cat "$kdir/include/config/kernel.release")"
		else
			record "build-debug" 0 1 0
		fi
		;;
	*)
		if eval "$("$VM/debian-kernel.sh" "$k")"; then
			case_result "build-$k" build_for "$KDIR" "$KREL" "$KRUN"
			mkdir -p "$EPHPORT_VM_PREBUILT/dkms-$KREL"
			# shellcheck disable=SC2086
			case_result "dkms-$k" $KRUN "$VM/dkms-build.sh" "$KREL" "$KDIR" \
				"$EPHPORT_VM_PREBUILT/dkms-$KREL"
			upstream_build "$EPHPORT_VM_PREBUILT" "$k" >/dev/null ||
				log "the kernel's own selftests of $k do not build"
		else
			record "build-$k" 0 1 0
			record "dkms-$k" 0 1 0
		fi
		;;
	esac
	touch "$EPHPORT_VM_PREBUILT/ready-$k"
}

# What the first VM runs need: the debug kernel's builds and the test
# programs (lib.sh's userspace_build, as vm.sh would), side by side.
userspace_build "$EPHPORT_VM_PREBUILT" >"$logs/userspace.out" 2>&1 &
us_pid=$!
for k in $kernels; do
	[ "$k" != debug ] || build_kernel debug
done
wait "$us_pid" || { cat "$logs/userspace.out"; log "the test programs do not build"; }

# Kernel coding style of every file in module/, and its layers; with a
# build for Debian's 6.12 from this tree, the layers read its objects.
style_suite() {
	local ko=()
	if [[ " $kernels " == *" 6.12 "* ]] &&
	   eval "$("$VM/debian-kernel.sh" 6.12)" &&
	   [ -e "$EPHPORT_VM_PREBUILT/ko-$KREL/built" ]; then
		ko=(--objects "$EPHPORT_VM_PREBUILT/ko-$KREL")
	fi
	case_result style "$VM/style.sh" "${ko[@]}" >"$logs/style.out"
	cat "$logs/style.out"
}

# ephportstat against fake trees, no module: its output, hostile names,
# the textfile writer, the example alert rules. Each "ok"/"not ok" counts.
# Built in a directory of its own: the package test copies tools/ meanwhile.
tools_suite() {
	local rc=0 p f t0=$(date +%s)
	make -s -C "$EPHPORT_TOP/tools" OUTPUT="$logs/.tools" check \
		>"$logs/tools.log" 2>&1 || rc=$?
	p=$(grep -c '^ok ' "$logs/tools.log")
	f=$(grep -c '^not ok ' "$logs/tools.log")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	{
		[ "$f" = 0 ] || sed 's/^/#   /' "$logs/tools.log" | tail -n 30
		record tools "$p" "$f" 0 $(($(date +%s) - t0))
	} >"$logs/tools.out"
	cat "$logs/tools.out"
}

# The host's suites beside the VM runs, in two chains (a build of the
# module takes both cores): the Debian kernels' builds first, as the
# VM runs on those kernels wait for them; style after 6.12's, whose
# objects it reads; 7.x after 6.1 (its first VM run is queued after
# those of 6.1).
host_chain() {
	local k
	for k in "$@"; do
		case $k in
		style) style_suite ;;
		tools) tools_suite ;;
		*)
			build_kernel "$k" >"$logs/build-kernel-$k.out" 2>&1
			cat "$logs/build-kernel-$k.out"
			;;
		esac
	done
}
chain_a=() chain_b=()
for k in $kernels; do
	case $k in
	debug) ;;
	6.12) chain_b+=("$k") ;;
	*) chain_a+=("$k") ;;
	esac
done
{ host_chain "${chain_a[@]}" tools; date +%s >"$logs/.host-end-a"; } &
host_pids+=($!)
{ host_chain "${chain_b[@]}" style; date +%s >"$logs/.host-end-b"; } &
host_pids+=($!)

# ---- the queue ----
# job NAME TIMEOUT KIND ARGS...: KIND is ktap (a vm.sh run of selftests,
# and of KUnit with --kunit).
queue=()
job() {
	queue+=("$*")
	suites+=("$1")
}

# kunit_result NAME CONSOLE: the KUnit suite's KTAP in CONSOLE, parsed by
# the kernel's own kunit.py, recorded as suite NAME.
kunit_result() {
	local name=$1 console=$2 src p f s
	src=$("$VM/debug-kernel.sh" --print-src)
	sed -n '/^EPHPORT-KUNIT-BEGIN/,/^EPHPORT-KUNIT-END/p' \
		"$console" >"$logs/$name.ktap" 2>/dev/null
	python3 "$src/tools/testing/kunit/kunit.py" parse \
		--json="$logs/$name.json" "$logs/$name.ktap" >"$logs/$name.parse" 2>&1
	read -r p f s < <(python3 "$VM/kunit-count.py" "$logs/$name.json" \
		2>"$logs/$name.failures")
	p=${p:-0} f=${f:-0} s=${s:-0}
	[ $((p + f + s)) != 0 ] || f=1
	sed 's/^/# /' "$logs/$name.parse"
	sed 's/^/# /' "$logs/$name.failures"
	record "$name" "$p" "$f" "$s"
}

# run_ktap NAME TIMEOUT VM-ARGS...: a vm.sh run of selftests. With --kunit
# among VM-ARGS, the KUnit suite runs first in the same boot and is
# recorded as kunit-debug.
run_ktap() {
	local name=$1 tmo=$2 vmrc p f s t0
	shift 2
	# The builds for this run's kernel (--kernel K), made beside the queue.
	local args=" $* " k
	k=${args#* --kernel }
	k=${k%% *}
	while [ ! -e "$EPHPORT_VM_PREBUILT/ready-$k" ]; do
		sleep 2
	done
	t0=$(date +%s)
	"$VM/vm.sh" "$@" --timeout "$tmo" --log "$logs/$name.log" \
		>/dev/null 2>"$logs/$name.err"
	vmrc=$?
	if [[ " $* " == *" --kunit "* ]]; then
		# A VM failure after KUnit's cases all passed counts below.
		kunit_result kunit-debug "$logs/$name.log" >"$logs/kunit-debug.out"
		cat "$logs/kunit-debug.out"
	fi
	read -r p f s < <(python3 "$VM/ktap-count.py" "$logs/$name.log" \
		2>"$logs/$name.failures")
	p=${p:-0} f=${f:-0} s=${s:-0}
	{
		sed 's/^/# /' "$logs/$name.failures"
		if [ $vmrc != 0 ] && [ "$f" = 0 ] || [ $((p + f + s)) = 0 ]; then
			# The VM itself failed: timeout, crash or a kernel complaint.
			sed 's/^/# /' "$logs/$name.err" | tail -n 30
			f=$((f + 1))
		fi
		record "$name" "$p" "$f" "$s" $(($(date +%s) - t0))
	} >"$logs/$name.out"
}

run_job() {
	local name=$1 tmo=$2 kind=$3
	shift 3
	case $kind in
	ktap) run_ktap "$name" "$tmo" "$@" ;;
	esac
	cat "$logs/$name.out"
}

# Every selftest the Makefile lists; the suites below share them out.
all_tests=$(make -s -C "$EPHPORT_TOP/selftests" \
	KSFT_DIR="$("$VM/debug-kernel.sh" --print-src)/tools/testing/selftests" \
	COLLECTION=ephport emit_tests | sed -n 's/^ephport://p')
# tests_but NAME...: --test options for every selftest but those named.
tests_but() {
	local t
	for t in $all_tests; do
		[[ " $* " == *" $t "* ]] || printf -- '--test %s ' "$t"
	done
}
# tests NAME...: --test options for those named.
tests() {
	printf -- '--test %s ' "$@"
}

# What runs where. Debian's three lines differ in what every hook-level
# case depends on: the hook backend (6.1: ftrace_ops and kretprobes; 6.12:
# fprobe handed pt_regs; 7.x: fprobe on the function graph tracer, handed
# ftrace_regs), which kernel functions are inlined, and the port-selection
# code itself (connect()'s search under RCU and its new signature in
# 6.15, the even/odd split in 6.8). So each line runs the selftests,
# the kernel's own port-selection selftests (ephport_upstream.sh: 7.x with
# its own), the stress suite (load/unload under traffic is where the
# backends differ most) and modprobe on its own module tree; the debug
# kernel (6.12's source, KASAN and lockdep) runs them all once more.
# One case needs one line only: ephportstat.sh, the static userspace
# tool against a live module, compares the tool's output with the files
# it reads, and those are made by the code every line shares; the files'
# values per line are what the observe tests check, the tool's parsing
# of every form of them is the host's tools suite (fake trees), and who
# may read what is ephport_priv on every line. It runs on 6.12 (or the
# first Debian line asked for) and on the debug kernel; the other lines'
# initramfs then go without promtool.
#
# The order: the debug kernel's three runs (their module is built first),
# then each Debian line's stress run and selftests, in the order of the
# lines (7.x, whose builds come last, last), and the short modprobe runs
# to even out the two workers. With a quiet machine's times (debug-1..3
# 456, 579 and 312 s; stress 273 and 256 s on 6.1 and 6.12, selftests 287
# (270 without ephportstat.sh) and 217 s; modprobe 30-40 s each) and the 7.x line's as measured by
# hand with other VMs running (stress 406 s, its 200 random-mode unloads
# 0.66 s each; selftests 390 s with a host thread per vCPU, 285 s with
# one; modprobe 39 s), the workers end 9 s apart (1,645 and 1,636 s with
# 390 s), as in the best order; 20-40 s apart if the 7.x runs take 65-80 %
# of those times. Kind by kind (all stress runs, then all selftests) they
# ended 90-110 s apart.
# Timeouts are hard limits far above the times measured here (README,
# "Tests"); the debug kernel is several times slower. A VM
# killed at its limit reports only the cases it finished and one failure:
# on a loaded machine a one-vCPU stress run took 1,173 s, so the limits
# leave twice the quiet machine's times and more.
# ephport_stress's load/unload cycles run on one vCPU with traffic that is
# never paused (EPHPORT_CYCLE_MODE=free): with a host thread per vCPU, QEMU
# TCG hangs or crashes on kernel text live-patched under a running vCPU,
# with or without ephport (Documentation/hardening-test-findings.md, F1).
# Two vCPUs emulated in turn by one thread (vm.sh --one-thread) do not, but each cycle then
# takes twice as long (2.3-2.7 s against 1.2 s). The other runs keep a
# thread per vCPU (their two-CPU cases need both at once), and the tests
# wait for the host's namespace teardowns before they unload ephport
# (ep_settle_netns).
# On the debug kernel, selftests-debug-1 runs on two vCPUs: KASAN and
# lockdep see the cases that need two CPUs at once (ephport_concurrent).
# The other two boots keep one vCPU, as every debug run had before its
# kernel brought up the second one: ephport_stress.sh among them.
debug_a="ephport_observe_ports ephport_observe_hooks ephport_observe_tables ephport_observe_files ephport_random ephport_concurrent ephport_priv ephport_nomem ephport_checkers.sh"
debug_b="ephport_load.sh ephportstat.sh ephport_badinput ephport_dests ephport_dests_trace ephport_random_busy ephport_random_ipmodify"
for k in $kernels; do
	[ "$k" = debug ] || continue
	# shellcheck disable=SC2086,SC2046
	job selftests-debug-1 2400 ktap --kernel debug $(tests $debug_a)
	# shellcheck disable=SC2086,SC2046
	job selftests-debug-2 2400 ktap --kernel debug --smp 1 \
		$(tests $debug_b)
	# With the KUnit suite first, in the same boot.
	# shellcheck disable=SC2086,SC2046
	job selftests-debug-3 2400 ktap --kernel debug --smp 1 --kunit \
		$(tests_but $debug_a $debug_b)
	suites+=(kunit-debug)
done
suites+=(deb)
# ephportstat.sh on one Debian line ("What runs where", above).
tool_line=
for k in $kernels; do
	[ "$k" = debug ] || [ -n "$tool_line" ] || tool_line=$k
	[ "$k" != 6.12 ] || { tool_line=6.12; break; }
done
for k in $kernels; do
	case $k in
	debug) continue ;;
	"$tool_line") but=ephport_stress.sh ;;
	*) but="ephport_stress.sh ephportstat.sh" ;;
	esac
	# On 7.x, fprobe rides on the function graph tracer, and each load
	# and unload of ephport switches a static branch in __schedule(),
	# code the other vCPU runs all the time: with a host thread per vCPU
	# that is F1 (above), seen there as an "Oops: int3" at
	# __schedule+0x30c during an unload in ephport_load.sh. Its two-vCPU
	# runs take one host thread for both: the two-CPU cases still run,
	# their CPUs interleaved by that thread instead of at once (6.1, 6.12
	# and the debug kernel run them at once). selftests-7.x took 285 s so
	# against 390 s with a thread each, on the same loaded machine.
	one=
	[ "$k" != 7.x ] || one=--one-thread
	# shellcheck disable=SC2046
	job "stress-$k" 2400 ktap --kernel "$k" --smp 1 \
		--env EPHPORT_CYCLE_MODE=free $(tests ephport_stress.sh)
	# shellcheck disable=SC2086,SC2046
	job "selftests-$k" 2400 ktap --kernel "$k" $one $(tests_but $but)
done
for k in $kernels; do
	one=
	[ "$k" != 7.x ] || one=--one-thread
	# shellcheck disable=SC2086,SC2046
	[ "$k" = debug ] ||
		job "modprobe-$k" 1200 ktap --kernel "$k" --debian-modules $one \
			$(tests ephport_modprobe.sh)
done

phase "VM runs ($njobs at a time)"
log "${#queue[@]} runs, $njobs at a time"
# In a subshell of its own: the jobs it counts are the VM runs alone.
(
	for j in "${queue[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$njobs" ]; do
			wait -n
		done
		# shellcheck disable=SC2086
		run_job $j &
		sleep 1
	done
	wait
)
phase end
# The host's suites, if they outlast the queue.
wait "${host_pids[@]}"
host_end=$(cat "$logs"/.host-end-* 2>/dev/null | sort -n | tail -n 1)

passed=0
failed=0
skipped=0
echo "# ---- summary (logs in $logs, $(($(date +%s) - start)) s) ----"
for name in "${suites[@]}"; do
	read -r p f s t 2>/dev/null <"$logs/$name.result" || { p=0 f=1 s=0 t=0; }
	printf '# %-28s %4d passed, %d failed, %d skipped %6ds\n' "$name" "$p" "$f" "$s" "${t:-0}"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done
echo "# ---- time of each part (s) ----"
for p in "${phases[@]}"; do
	printf '# %-28s %6d\n' "${p% *}" "${p##* }"
done
# Beside the first builds and the queue: the package test, the builds for
# Debian's kernels, style and tools (each one's own time is above).
printf '# %-28s %6d (from %d s to %d s)\n' "host suites, beside" \
	$((${host_end:-$host_t0} - host_t0)) $((host_t0 - start)) $((${host_end:-$host_t0} - start))
printf '# %-28s %6d\n' total $(($(date +%s) - start))
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
