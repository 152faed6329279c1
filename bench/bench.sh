#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot one VM, measure ephport's cost (bench/run.sh in the guest),
# and write the table, CSV, JSON and the occupancy-sweep plot, and the run's
# results for git, bench/results-KERNEL.md.
set -euo pipefail
. "$(dirname "$0")/../selftests/vm/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [--kernel 6.12|6.1|7.x] [--rounds N] [--secs S] [--samples N]
          [--netns N] [--conns N] [--icount-rounds N] [--only icount|wall]
          [--out DIR] [--timeout SECONDS]
       $0 --check [--kernel 6.12|6.1|7.x]... [--out DIR]

Boots two VMs. The first (selftests/vm/vm.sh --icount: one vCPU under
QEMU's -icount, one guest nanosecond per instruction) counts the
instructions of each operation without ephport, in observe mode and in
random mode, also with a share of the range resting or bound; the
second (vm.sh --bench) measures each case without ephport, in observe
mode and in random mode, interleaved, for N rounds, and connect() also
with ephport built without its tracepoints; then memory and reading
cost with many namespaces, and the cost of reading
/proc/net/ephport_dests with many connections. Writes
DIR/icount-KERNEL.{txt,json}, DIR/{table,results}-KERNEL.{txt,csv,json},
DIR/sweep-KERNEL.png and the consoles DIR/console-icount-KERNEL.log and
DIR/console-KERNEL.log, and prints the tables. A run whose VMs both
ended well also rewrites bench/results-KERNEL.md, the results meant to
be committed (date, the module's commit, the host's load, the tables,
spreads), and its kernel's column of measurements in bench/budgets.

With --check, only a short instruction count (one round) and the
budgets of bench/budgets: KTAP, "ok N ..." or "not ok N ..." per budget
with what was measured, and a "# Totals:" line; exits 1 if a budget is
exceeded by more than half, a case was not measured or the VM failed.
With several --kernel, their VMs run side by side. About 2 minutes per
kernel on a quiet host (bench/README.md).

  --kernel K    Debian kernel line: Debian 12's 6.1 or 6.12 (default), or
                Debian 13 backports' 7.x
  --rounds N    interleaved rounds, wall clock (default 11)
  --secs S      seconds per throughput measurement (default 1)
  --samples N   connect()s timed per occupancy level and round (default 200)
  --netns N     namespaces for the memory and reading cases (default 1000)
  --conns N     connections in the namespace whose /proc/net/ephport_dests
                is read (default 10000)
  --icount-rounds N  rounds of instruction counts (default 3)
  --only W      only the instruction counts (icount) or only the wall
                clock (wall); bench/results-KERNEL.md stays as it is
  --check       the budget check (above)
  --out DIR     results folder (default bench/out)
  --timeout S   give up on a VM after S seconds (default 1500)
USAGE
}

kernels=()
rounds=11
icount_rounds=3
only=
check=
secs=1
samples=200
netns=1000
conns=10000
out=$EPHPORT_TOP/bench/out
timeout=1500
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernels+=("$2"); shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--icount-rounds) icount_rounds=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--check) check=1; shift ;;
	--secs) secs=$2; shift 2 ;;
	--samples) samples=$2; shift 2 ;;
	--netns) netns=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ ${#kernels[@]} != 0 ] || kernels=(6.12)
for kernel in "${kernels[@]}"; do
	case "$kernel" in
	6.1|6.12|7.x) ;;
	*) die "--kernel 6.1, 6.12 or 7.x" ;;
	esac
done
case "$only" in
""|icount|wall) ;;
*) die "--only icount or --only wall" ;;
esac
[ ${#kernels[@]} = 1 ] || [ -n "$check" ] ||
	die "one --kernel at a time (several only with --check)"

host_pkgs
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -n "$check" ] && [ ${#kernels[@]} -gt 1 ]; then
	# One check per kernel, side by side (each waits for a VM slot);
	# their reports in the order asked.
	pids=()
	for kernel in "${kernels[@]}"; do
		"$0" --check --kernel "$kernel" --out "$out" --timeout "$timeout" \
			>"$out/check-$kernel.out" 2>&1 &
		pids+=($!)
	done
	rc=0
	for i in "${!kernels[@]}"; do
		wait "${pids[$i]}" || rc=1
		cat "$out/check-${kernels[$i]}.out"
	done
	exit $rc
fi
kernel=${kernels[0]}
[ -n "$check" ] || [ "$only" = icount ] || need_pkgs gnuplot-nox
work=$(mktemp -d /tmp/ephport-bench.XXXXXX)
sampler=
cleanup() {
	[ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# What goes to /bench in the VMs.
make -s -C "$EPHPORT_TOP/bench" OUTPUT="$work/stage" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; die "ephport_bench does not build"; }
if grep -q 'warning:' "$work/build.log"; then
	cat "$work/build.log" >&2
	die "ephport_bench builds with warnings"
fi
cp "$EPHPORT_TOP/bench/run.sh" "$EPHPORT_TOP/bench/icount.sh" "$work/stage/"

# vm_run ARGS...: vm.sh with ARGS, its progress and errors shown (the
# whole console goes to the log ARGS name); vm.sh's exit code. A line
# "# booting" creates $work/booted (the load sampler waits for it).
vm_run() {
	local rc
	set +e
	"$EPHPORT_TOP/selftests/vm/vm.sh" --kernel "$kernel" "$@" \
		--timeout "$timeout" 2>&1 |
		while IFS= read -r line; do
			case "$line" in
			"# booting "*) [ -z "${mark_boot:-}" ] || touch "$work/booted" ;;
			esac
			case "$line" in
			"# "*|EPHPORT-*|ephport-vm:*|*[Ee]rror*|*warning:*)
				printf '%s\n' "$line" ;;
			esac
		done
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}

# The tree measured, for the results file: its commit, "-dirty" when the
# working tree differs from it.
if commit=$(git -C "$EPHPORT_TOP" describe --always --dirty --abbrev=7 2>/dev/null); then
	commit="commit $commit"
else
	commit="commit unknown (git could not tell: not a git tree, or no git)"
fi

# ---- the instruction counts: their own boot, one vCPU under -icount ----
irc=0
icount_md=
if [ "$only" != wall ]; then
	mkdir -p "$work/icount"
	cp -a "$work/stage/." "$work/icount/"
	if [ -n "$check" ]; then
		# Short: one round (the counts are deterministic: the rounds of
		# make bench agree within a fraction of a percent), the same
		# cases and guest times, so the same numbers as make bench's.
		icount_rounds=1
	fi
	cat >"$work/icount/bench.conf" <<CONF
ICOUNT=1
ICOUNT_ROUNDS=$icount_rounds
CONF
	ilog=$out/console-icount-$kernel.log
	rm -f "$ilog" "$out"/icount-"$kernel".*
	log "instruction counts on $kernel: $icount_rounds round(s); console in $ilog"
	start=$(date +%s)
	if [ -n "$check" ]; then
		vm_run --icount --bench "$work/icount" --log "$ilog" >"$work/icount.out" || irc=$?
	else
		vm_run --icount --bench "$work/icount" --log "$ilog" || irc=$?
	fi
	log "the VM ran for $(($(date +%s) - start)) s (queueing for a VM slot included)"
	if [ -n "$check" ]; then
		why=()
		if [ "$irc" != 0 ]; then
			# What the VM said last, before the verdict.
			grep -v '^# bench: mode=' "$work/icount.out" | tail -n 20 | sed 's/^/# /'
			why=(--vm-failed "vm.sh exit $irc: see $ilog")
		fi
		crc=0
		python3 "$EPHPORT_TOP/bench/icount.py" "$ilog" "$kernel" "$out" \
			--check "${why[@]}" || crc=$?
		exit "$crc"
	fi
	icount_md=$work/icount.md
	python3 "$EPHPORT_TOP/bench/icount.py" "$ilog" "$kernel" "$out" \
		--md "$icount_md" || die "no instruction counts (see $ilog)"
	log "wrote $out/icount-$kernel.txt, icount-$kernel.json"
	[ "$irc" = 0 ] || log "the instruction counts' VM failed (vm.sh exit $irc): see $ilog"
fi
if [ "$only" = icount ]; then
	[ "$irc" = 0 ] || die "the VM run failed (vm.sh exit $irc): see $ilog"
	exit 0
fi

# ---- the wall clock: two vCPUs, the usual run ----
# ephport without its tracepoints, for the connect() cases' notrace mode
# (vm.sh builds the usual one, with them).
eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" "$kernel")"
mkdir -p "$work/notrace"
cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$work/notrace/"
# shellcheck disable=SC2086
$KRUN make -s -C "$work/notrace" KDIR="$KDIR" EPHPORT_NO_TRACE=1 module \
	>"$work/notrace.log" 2>&1 ||
	{ cat "$work/notrace.log" >&2; die "ephport without tracepoints does not build"; }
if grep -q 'warning:' "$work/notrace.log"; then
	cat "$work/notrace.log" >&2
	die "ephport without tracepoints builds with warnings"
fi
cp "$work/notrace/ephport.ko" "$work/stage/ephport-notrace.ko"
cat >"$work/stage/bench.conf" <<CONF
ROUNDS=$rounds
TPUT_SECS=$secs
SWEEP_SAMPLES=$samples
NETNS=$netns
DESTS_CONNS=$conns
CONF

# QEMU processes on this machine that are not this run's.
other_vms() {
	local n=0 p q
	for p in $(pgrep -x qemu-system-x86 || true); do
		q=$p
		while [ "$q" -gt 1 ] && [ "$q" != "$$" ]; do
			q=$(cut -d' ' -f4 "/proc/$q/stat" 2>/dev/null || echo 1)
		done
		[ "$q" = "$$" ] || n=$((n + 1))
	done
	echo $n
}

# The host's load while the VM runs (from its boot on, not while it waits
# for a VM slot): the numbers are only as quiet as the machine. One line
# every 5 s: epoch, 1-min load average, other VMs.
load=$out/load-$kernel.txt
: >"$load"
(
	while :; do
		[ ! -e "$work/booted" ] ||
			echo "$(date +%s) $(cut -d' ' -f1 /proc/loadavg) $(other_vms)"
		sleep 5
	done >>"$load"
) &
sampler=$!

log "make bench on $kernel: $rounds rounds; console in $out/console-$kernel.log"
# No result of an earlier run may pass for this one's.
rm -f "$out"/{console,table,results,sweep}-"$kernel".*
start=$(date +%s)
vrc=0
mark_boot=1 vm_run --bench "$work/stage" --log "$out/console-$kernel.log" || vrc=$?
kill "$sampler" 2>/dev/null || true
sampler=
log "the VM ran for $(($(date +%s) - start)) s (queueing for a VM slot included)"

[ -f "$out/console-$kernel.log" ] ||
	die "the VM run failed before it booted (vm.sh exit $vrc)"
# Only a run whose VMs both ended well replaces the committed results.
results=()
[ "$vrc" != 0 ] || [ "$irc" != 0 ] || [ -n "$only" ] ||
	results=(--results "$EPHPORT_TOP/bench/results-$kernel.md" --first "$icount_md")
python3 "$EPHPORT_TOP/bench/report.py" "$out/console-$kernel.log" "$load" \
	"$kernel" "$out" --commit "$commit" "${results[@]}" ||
	die "no results (see $out/console-$kernel.log)"
log "wrote $out/table-$kernel.txt, results-$kernel.csv, results-$kernel.json, sweep-$kernel.png"
if [ ${#results[@]} != 0 ]; then
	log "wrote bench/results-$kernel.md (for git: add its Notes)"
	python3 "$EPHPORT_TOP/bench/icount.py" "$ilog" "$kernel" "$out" \
		--update-budgets >/dev/null
	log "wrote bench/budgets' $kernel column"
fi
[ "$vrc" = 0 ] || die "the VM run failed (vm.sh exit $vrc): see $out/console-$kernel.log"
[ "$irc" = 0 ] || die "the instruction counts' VM failed (vm.sh exit $irc): see $ilog"
