#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark inside the VM (vm.sh --bench DIR runs DIR/run.sh as /bench/run.sh).
#
# Each round measures every case without ephport (module not loaded), in
# observe mode and in random mode, in that order (A B C A B C ...), case by
# case, so a slow moment of the host hits all three alike. The cases
# ending in 2 run two processes, one per vCPU, in one namespace. The connect()
# cases are also measured with ephport built without its tracepoints
# (notrace: ephport-notrace.ko, observe mode) next to observe, the one
# first in odd rounds, the other in even ones: the pair shows what the
# tracepoints cost while disabled. Then, once, memory and reading cost
# with many namespaces, and reading /proc/net/ephport_dests with many
# connections. Result lines ("R key=value ...") are collected in a file
# and printed between EPHPORT-BENCH-BEGIN and EPHPORT-BENCH-END at the
# end, when no test runs that could make the kernel print into them;
# progress goes to the console as "# ..." lines.
cd "$(dirname "$0")" || exit 1

# Defaults; bench.sh writes bench.conf to change them.
ROUNDS=11
TPUT_SECS=1
SWEEP_RANGE="40000 40999"
SWEEP_PCTS=0,50,90,99
SWEEP_SAMPLES=200
NETNS=1000
DESTS_CONNS=10000
[ -f ./bench.conf ] && . ./bench.conf
# The instruction counts' boot (vm.sh --icount) runs its own script.
[ "${ICOUNT:-0}" = 1 ] && exec ./icount.sh

KO=/lib/modules/$(uname -r)/extra/ephport.ko
KO_NOTRACE=$PWD/ephport-notrace.ko	# bench.sh builds it (EPHPORT_NO_TRACE=1)
SYSFS=/sys/kernel/ephport
OUT=/tmp/bench.txt
BENCH=./ephport_bench
: >"$OUT"

say() { echo "# bench: [$(cut -d" " -f1 /proc/uptime) s] $*"; }

unload() {
	if [ -d /sys/module/ephport ]; then
		# Every namespace released so far torn down first: an unload
		# meanwhile can hang the guest (selftests/ephport_test.h,
		# ep_settle_netns(), says why).
		./ephport_settle
		rmmod ephport || return 1
	fi
}

# set_mode without|observe|notrace|random
set_mode() {
	unload || return 1
	[ "$1" = without ] && return 0
	[ "$1" = notrace ] && { insmod "$KO_NOTRACE"; return; }
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

# Give the namespace of the previous measurement time to go (its teardown
# runs in a kernel worker and would compete with the next measurement).
# The same pause in every mode: without the module nothing tells when a
# namespace is gone.
settle() {
	sleep 1
}

# Wait (at most 20 s) until ephport tracks only the initial namespace.
settle_all() {
	n=0
	while [ "$(cat $SYSFS/netns)" -gt 1 ] && [ $n -lt 100 ]; do
		sleep 0.2
		n=$((n + 1))
	done
}

insmod "$KO" || { say "cannot load $KO"; exit 1; }
random=available
MODES="without observe random"
notrace=available
[ -f "$KO_NOTRACE" ] || notrace=missing
echo "R case=info kernel=$(uname -r) version=$(cat $SYSFS/version) random=$random notrace=$notrace rounds=$ROUNDS tput_secs=$TPUT_SECS sweep_range=${SWEEP_RANGE% *}-${SWEEP_RANGE#* } sweep_samples=$SWEEP_SAMPLES netns=$NETNS cpus=$(nproc)" >>"$OUT"
say "ephport $(cat $SYSFS/version) on $(uname -r), random mode $random"
sed 's/^/# bench: probes: /' "$SYSFS/probes"
unload

# measure MODE ROUND CASE: one measurement in one mode.
measure() {
	if ! set_mode $1; then
		say "cannot switch to $1"
		return 1
	fi
	settle
	if [ $3 != sweep ]; then
		record "mode=$1 round=$2" $BENCH tput $3 "$TPUT_SECS"
		return
	fi
	global_delay=
	if [ $1 = random ] && [ ! -e /proc/sys/net/ephport ] &&
	   [ -w $SYSFS/reuse_delay_ms ]; then
		# No per-namespace sysctl: the sweep needs a delay of 0.
		global_delay=$(cat $SYSFS/reuse_delay_ms)
		echo 0 >$SYSFS/reuse_delay_ms
	fi
	record "mode=$1 round=$2" $BENCH sweep $SWEEP_RANGE $SWEEP_PCTS \
		"$SWEEP_SAMPLES"
	brc=$?
	[ -z "$global_delay" ] || echo "$global_delay" >$SYSFS/reuse_delay_ms
	return $brc
}

# The modes alternate case by case, so that the measurements compared
# are seconds apart.
rc=0
r=1
while [ $r -le "$ROUNDS" ]; do
	say "round $r/$ROUNDS"
	# With and without the tracepoints side by side, in turns first.
	if [ $((r % 2)) = 1 ]; then
		pair="observe notrace"
	else
		pair="notrace observe"
	fi
	for c in connect bind udp connect2 bind2 udp2 sweep; do
		modes=$MODES
		[ $c = connect ] && modes="without $pair random"
		for m in $modes; do
			measure $m $r $c || rc=1
		done
	done
	# A connect() that finds no port: the path where port_fail sits.
	for m in $pair; do
		measure $m $r connfail || rc=1
	done
	r=$((r + 1))
done

# Memory and reading with $NETNS namespaces, once every earlier namespace
# is gone.
set_mode observe && settle_all
say "$(cat $SYSFS/netns) namespace(s) before the memory case"
unload
random_cmd="echo random >$SYSFS/mode"
record "mode=all round=1" $BENCH netns "$NETNS" "insmod $KO" "$random_cmd" \
	"rmmod ephport" || rc=1

# Reading /proc/net/ephport_dests with DESTS_CONNS connections in the
# namespace, to one destination and each to its own; the size of the
# kernel's established hash that every walk goes through.
set_mode observe && settle_all
echo "R case=ehash $(dmesg | sed -n 's/.*TCP established hash table entries: \([0-9]*\).*/entries=\1/p' | head -n 1)" >>"$OUT"
for d in 1 "$DESTS_CONNS"; do
	record "mode=observe round=1" $BENCH dests "$DESTS_CONNS" "$d" || rc=1
	settle_all
done
unload

echo "EPHPORT-BENCH-BEGIN"
cat "$OUT"
echo "EPHPORT-BENCH-END rc=$rc"
exit $rc
