#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench's instruction counts inside the VM (vm.sh --icount --bench DIR:
# run.sh hands over to this script when DIR/bench.conf says ICOUNT=1).
#
# Under -icount shift=0,sleep=off on one vCPU the guest's clock advances
# one nanosecond per instruction executed, so ephport_icount's times are
# instruction counts. Each round measures every case without ephport
# (module not loaded), in observe mode (count cases only) and in random
# mode, in that order, case by case. Result lines ("R key=value ...") are
# collected and printed between EPHPORT-BENCH-BEGIN and EPHPORT-BENCH-END
# at the end; progress goes to the console as "# ..." lines.
cd "$(dirname "$0")" || exit 1

# Defaults (make bench); bench.sh writes bench.conf to change them
# (bench.sh --check: fewer rounds, less guest time).
ICOUNT_ROUNDS=3
ICOUNT_OPS="connect bind udp"
# count: the kernel's default range, SECS of guest time per measurement,
# random mode with the namespace's reuse_delay_ms at DELAY.
ICOUNT_SECS=0.5
ICOUNT_DELAY=1000
# rest: PCT % of a pinned range released just before OPS timed operations,
# with a delay far longer than the run (nothing stops resting meanwhile).
REST_RANGE="40000 49999"
REST_PCTS="0 50 90 99"
REST_OPS=20
REST_DELAY=600000
# bound: PCT % of a pinned range held by the operation's own sockets, no
# delay (nothing rests), then OPS timed operations.
BOUND_RANGE="40000 40999"
BOUND_PCTS=0,99
BOUND_OPS=50
[ -f ./bench.conf ] && . ./bench.conf

KO=/lib/modules/$(uname -r)/extra/ephport.ko
SYSFS=/sys/kernel/ephport
OUT=/tmp/bench.txt
BENCH=./ephport_icount
: >"$OUT"

say() { echo "# bench: [$(cut -d" " -f1 /proc/uptime) s] $*"; }

unload() {
	if [ -d /sys/module/ephport ]; then
		# Every namespace released so far torn down first
		# (selftests/ephport_test.h, ep_settle_netns(), says why).
		./ephport_settle
		rmmod ephport || return 1
	fi
}

# set_mode without|observe|random
set_mode() {
	unload || return 1
	[ "$1" = without ] && return 0
	insmod "$KO" || return 1
	[ "$1" = observe ] && return 0
	echo random >"$SYSFS/mode"
}

# record TAG CMD...: run a measurement, keep its result lines tagged.
record() {
	tag=$1
	shift
	"$@" >/tmp/bench.one 2>/tmp/bench.err
	brc=$?
	sed "s/^R /R $tag /" /tmp/bench.one >>"$OUT"
	sed "s/^R /# bench: $tag /" /tmp/bench.one | cut -c1-150
	if [ $brc != 0 ]; then
		say "FAILED ($brc): $tag $*"
		sed 's/^/# bench:   /' /tmp/bench.err
		echo "R $tag case=error rc=$brc" >>"$OUT"
		return 1
	fi
	return 0
}

# measure MODE ROUND CMD...: one measurement in one mode. The pause lets
# the last measurement's namespace go first: its teardown runs in a
# kernel worker, on the one vCPU, and would be counted in this one. It
# costs no host time (sleep=off: an idle guest's clock jumps ahead).
measure() {
	m=$1
	r=$2
	shift 2
	if ! set_mode "$m"; then
		say "cannot switch to $m"
		return 1
	fi
	sleep 2
	record "mode=$m round=$r" $BENCH "$@"
}

insmod "$KO" || { say "cannot load $KO"; exit 1; }
echo "R case=info kernel=$(uname -r) version=$(cat $SYSFS/version) rounds=$ICOUNT_ROUNDS secs=$ICOUNT_SECS delay_ms=$ICOUNT_DELAY rest_range=${REST_RANGE% *}-${REST_RANGE#* } rest_ops=$REST_OPS rest_delay_ms=$REST_DELAY bound_range=${BOUND_RANGE% *}-${BOUND_RANGE#* } bound_ops=$BOUND_OPS cpus=$(nproc)" >>"$OUT"
say "ephport $(cat $SYSFS/version) on $(uname -r), instruction counts"
unload
rc=0
# The clock counts instructions: a known loop says so (1.00 ns each).
record "mode=without round=0" $BENCH calib || rc=1

r=1
while [ $r -le "$ICOUNT_ROUNDS" ]; do
	say "round $r/$ICOUNT_ROUNDS"
	for op in $ICOUNT_OPS; do
		measure without $r count "$op" "$ICOUNT_SECS" - || rc=1
		measure observe $r count "$op" "$ICOUNT_SECS" - || rc=1
		measure random $r count "$op" "$ICOUNT_SECS" "$ICOUNT_DELAY" ||
			rc=1
	done
	for op in $ICOUNT_OPS; do
		for pct in $REST_PCTS; do
			for m in without random; do
				measure $m $r rest "$op" $REST_RANGE "$pct" \
					"$REST_OPS" "$REST_DELAY" || rc=1
			done
		done
	done
	for op in $ICOUNT_OPS; do
		for m in without random; do
			measure $m $r bound "$op" $BOUND_RANGE "$BOUND_PCTS" \
				"$BOUND_OPS" || rc=1
		done
	done
	r=$((r + 1))
done
unload
record "mode=without round=0" $BENCH calib || rc=1

echo "EPHPORT-BENCH-BEGIN"
cat "$OUT"
echo "EPHPORT-BENCH-END rc=$rc"
exit $rc
