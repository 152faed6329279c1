#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: boot one VM, measure ephport's cost (bench/run.sh in the guest),
# and write the table, CSV, JSON and the occupancy-sweep plot, and the run's
# results for git, bench/results-KERNEL.md.
set -euo pipefail
. "$(dirname "$0")/../selftests/vm/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [--kernel 6.12|6.1] [--rounds N] [--secs S] [--samples N]
          [--netns N] [--conns N] [--out DIR] [--timeout SECONDS]

Boots one VM (selftests/vm/vm.sh --bench) and, in it, measures each case
without ephport, in observe mode and in random mode, interleaved, for N
rounds, and connect() also with ephport built without its tracepoints;
then memory and reading cost with many namespaces, and the cost of
reading /proc/net/ephport_dests with many connections. Writes
DIR/{table,results}-KERNEL.{txt,csv,json}, DIR/sweep-KERNEL.png and the
console log DIR/console-KERNEL.log, and prints the table. A run whose VM
ended well also rewrites bench/results-KERNEL.md, the results meant to be
committed: date, the module's commit, the host's load, the table, spreads.

  --kernel K    Debian 12 kernel line (default 6.12)
  --rounds N    interleaved rounds (default 11)
  --secs S      seconds per throughput measurement (default 1)
  --samples N   connect()s timed per occupancy level and round (default 200)
  --netns N     namespaces for the memory and reading cases (default 1000)
  --conns N     connections in the namespace whose /proc/net/ephport_dests
                is read (default 10000)
  --out DIR     results folder (default bench/out)
  --timeout S   give up on the VM after S seconds (default 1500)
USAGE
}

kernel=6.12
rounds=11
secs=1
samples=200
netns=1000
conns=10000
out=$EPHPORT_TOP/bench/out
timeout=1500
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
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
case "$kernel" in
6.1|6.12) ;;
*) die "--kernel 6.1 or 6.12" ;;
esac

host_pkgs
need_pkgs gnuplot-nox
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/ephport-bench.XXXXXX)
sampler=
cleanup() {
	[ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# What goes to /bench in the VM.
make -s -C "$EPHPORT_TOP/bench" OUTPUT="$work/stage" >"$work/build.log" 2>&1 ||
	{ cat "$work/build.log" >&2; die "ephport_bench does not build"; }
if grep -q 'warning:' "$work/build.log"; then
	cat "$work/build.log" >&2
	die "ephport_bench builds with warnings"
fi
cp "$EPHPORT_TOP/bench/run.sh" "$work/stage/"
# ephport without its tracepoints, for the connect() cases' notrace mode
# (vm.sh builds the usual one, with them).
eval "$("$EPHPORT_TOP/selftests/vm/debian-kernel.sh" "$kernel")"
mkdir -p "$work/notrace"
cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$work/notrace/"
make -s -C "$work/notrace" KDIR="$KDIR" EPHPORT_NO_TRACE=1 module \
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

# The tree measured, for the results file: its commit, "-dirty" when the
# working tree differs from it.
if commit=$(git -C "$EPHPORT_TOP" describe --always --dirty --abbrev=7 2>/dev/null); then
	commit="commit $commit"
else
	commit="commit unknown (git could not tell: not a git tree, or no git)"
fi

log "make bench on $kernel: $rounds rounds; console in $out/console-$kernel.log"
# No result of an earlier run may pass for this one's.
rm -f "$out"/{console,table,results,sweep}-"$kernel".*
start=$(date +%s)
set +e
"$EPHPORT_TOP/selftests/vm/vm.sh" --kernel "$kernel" --bench "$work/stage" \
	--timeout "$timeout" --log "$out/console-$kernel.log" 2>&1 |
	while IFS= read -r line; do
		# Progress and errors; the whole console is in the log.
		case "$line" in
		"# booting "*) touch "$work/booted" ;;
		esac
		case "$line" in
		"# "*|EPHPORT-*|ephport-vm:*|*[Ee]rror*|*warning:*)
			printf '%s\n' "$line" ;;
		esac
	done
vrc=${PIPESTATUS[0]}
set -e
kill "$sampler" 2>/dev/null || true
sampler=
log "the VM ran for $(($(date +%s) - start)) s (queueing for a VM slot included)"

[ -f "$out/console-$kernel.log" ] ||
	die "the VM run failed before it booted (vm.sh exit $vrc)"
# Only a run that ended well replaces the committed results.
results=()
[ "$vrc" != 0 ] ||
	results=(--results "$EPHPORT_TOP/bench/results-$kernel.md")
python3 "$EPHPORT_TOP/bench/report.py" "$out/console-$kernel.log" "$load" \
	"$kernel" "$out" --commit "$commit" "${results[@]}" ||
	die "no results (see $out/console-$kernel.log)"
log "wrote $out/table-$kernel.txt, results-$kernel.csv, results-$kernel.json, sweep-$kernel.png"
[ "$vrc" != 0 ] || log "wrote bench/results-$kernel.md (for git: add its Notes)"
[ "$vrc" = 0 ] || die "the VM run failed (vm.sh exit $vrc): see $out/console-$kernel.log"
