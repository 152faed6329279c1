#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel's own bind/connect selftests (tools/testing/selftests/net of
# linux-source, built static as net_<name> next to this script: 6.12's, or
# the kernel line's own where it has them, vm.sh) give the
# same result for every case with ephport in observe mode and in random
# mode as without ephport.
#
# Each program runs in a new network namespace set up as its upstream
# wrapper does (range, sysctls, addresses); harness programs report one
# result per case, the others one result per run (their exit code).
# Cases that fail without ephport are listed, and their comparison still
# counts: ephport must not change a failure either.
. "$(dirname "$0")/lib.sh"

DIR=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp -d /tmp/ephport-upstream.XXXXXX)

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }
[ -f "$EPHPORT_KO" ] || { ktap_skip_all "no $EPHPORT_KO"; exit "$KSFT_SKIP"; }
[ -x "$DIR/net_bind_wildcard" ] || {
	ktap_skip_all "the upstream programs (net_*) were not built"
	exit "$KSFT_SKIP"
}

# The KASAN kernel is several times slower: the two longest programs are
# left out there (reported as skipped).
debug=
zcat /proc/config.gz 2>/dev/null | grep -qx 'CONFIG_KASAN=y' && debug=1

# What SCTP and DCCP cases need: modules where the kernel has them
# (vm.sh ships them from Debian's tree; the debug kernel has neither).
for m in crc32c_generic libcrc32c sctp dccp dccp_ipv4 dccp_ipv6; do
	modprobe -q "$m" 2>/dev/null
done
for p in SCTP DCCP; do
	if grep -q "^$p " /proc/net/protocols; then
		ktap_print_msg "$p: available"
	else
		ktap_print_msg "$p: not in this kernel: its cases fail without ephport too"
	fi
done

# Programs whose result depends on timing, not only on the kernel: each
# runs up to three times in every condition (30 s each at most, where the
# others have 150 s) and its result is its first run with no failure;
# every failed try is reported.
# reuseport_addr_any: receive_once() gives epoll_wait() 3 ms, then uses
# the event without checking that one came; under TCG a loopback
# handshake can take longer, and the program then blocks in accept()
# until killed, or reports "received on an unexpected socket", with or
# without ephport.
TIMING_DEPENDENT="reuseport_addr_any"

# run_case NAME SETUP CMD: in a new namespace, SETUP then CMD; prints
# "case result" lines: one per harness case, else "NAME pass|fail".
run_case() {
	tries=1 limit=150
	case " $TIMING_DEPENDENT " in
	*" $1 "*) tries=3 limit=30 ;;
	esac
	try=1
	while :; do
		run_once "$@" >"$OUT/$cond.$1.res"
		if [ "$try" -ge "$tries" ] || ! grep -q ' fail$' "$OUT/$cond.$1.res"; then
			break
		fi
		echo "# $cond: $1 try $try of $tries failed (timing-dependent):" \
			"$(grep ' fail$' "$OUT/$cond.$1.res" | tr '\n' ' ')" >&2
		tail -n 3 "$OUT/$cond.$1.log" | sed "s/^/# $cond: $1: /" >&2
		try=$((try + 1))
	done
	cat "$OUT/$cond.$1.res"
}

# run_once NAME SETUP CMD: one run of run_case's.
run_once() {
	name=$1 setup=$2 cmd=$3
	log=$OUT/$cond.$name.log
	case "$debug:$name" in
	1:bind_bhash*|1:bind_wildcard)
		# Under KASAN and TCG, per mode: bind_bhash 93-105 s per address
		# family, bind_wildcard 16-21 s. 6.1 and 6.12 run them.
		echo "$name skip"
		return
		;;
	esac
	t0=$(date +%s)
	(cd "$DIR" && timeout "$limit" unshare -n sh -c \
		"ip link set lo up; $setup; ulimit -n 32768 2>/dev/null; $cmd") \
		>"$log" 2>&1
	rc=$?
	echo "$name $(($(date +%s) - t0))" >>"$OUT/$cond.seconds"
	echo "# $cond: $name took $(($(date +%s) - t0)) s" >&2
	if grep -q '^# Starting [0-9]* tests' "$log"; then
		# kselftest_harness: "ok N case", "not ok N case", "# SKIP".
		sed -n 's/^\(not ok\|ok\) [0-9]* \([^ ]*\)\( # SKIP.*\)\{0,1\}$/\1|\2|\3/p' "$log" |
		while IFS='|' read -r st c d; do
			if [ -n "$d" ]; then r=skip
			elif [ "$st" = ok ]; then r=pass
			else r=fail
			fi
			echo "$name:$c $r"
		done
		[ $rc = 0 ] || [ $rc = 4 ] || grep -q '^not ok' "$log" ||
			echo "$name:exit fail"
	elif [ $rc = 0 ]; then
		echo "$name pass"
	elif [ $rc = 4 ]; then
		echo "$name skip"
	else
		echo "$name fail"
	fi
}

run_all() {
	run_case ip_local_port_range \
		'sysctl -q -w net.ipv4.ip_local_port_range="40000 49999"' \
		./net_ip_local_port_range
	run_case bind_bhash_v4 'ip addr add 10.8.8.8/32 dev lo' \
		'./net_bind_bhash 443 ipv4 10.8.8.8'
	run_case bind_bhash_v6 'ip -6 addr add 2001:db8:0:f101::1/128 dev lo' \
		'./net_bind_bhash 443 ipv6 2001:db8:0:f101::1'
	run_case bind_timewait : ./net_bind_timewait
	run_case bind_wildcard : ./net_bind_wildcard
	run_case reuseaddr_conflict : ./net_reuseaddr_conflict
	run_case reuseaddr_ports_exhausted \
		'sysctl -q -w net.ipv4.ip_local_port_range="32768 32768"; sysctl -q -w net.ipv4.ip_autobind_reuse=1' \
		./net_reuseaddr_ports_exhausted
	run_case reuseport_addr_any : ./net_reuseport_addr_any
	run_case reuseport_dualstack : ./net_reuseport_dualstack
	run_case sk_bind_sendto_listen : ./net_sk_bind_sendto_listen
	run_case sk_connect_zero_addr : ./net_sk_connect_zero_addr
	# Only in the selftests of lines newer than 6.12 (the 7.x line runs
	# its own, vm.sh): connect() sharing a port among connections from
	# other local addresses, blocked while a bind() holds that port, and
	# after it. Its own namespace and range.
	[ ! -x "$DIR/net_tcp_port_share" ] ||
		run_case tcp_port_share : ./net_tcp_port_share
}

was_loaded=
[ -d /sys/module/ephport ] && was_loaded=1
dmesg_mark upstream
start=$(date +%s)

cond=none
ephport_unload
run_all >"$OUT/none"
t_none=$(($(date +%s) - start))

cond=observe
ephport_load
mode=$(cat "$SYSFS/mode")
run_all >"$OUT/observe"
t_obs=$(($(date +%s) - start - t_none))

# A module that will not switch has no results in random mode: each fails,
# or, on a kernel without random mode (EOPNOTSUPP), each is skipped.
cond=random
: >"$OUT/random"
no_random=
if echo random 2>"$OUT/random.err" >"$SYSFS/mode" &&
   [ "$(cat "$SYSFS/mode")" = random ]; then
	run_all >"$OUT/random"
elif no_random=$(random_unsupported "$OUT/random.err"); then
	ktap_print_msg "random mode unsupported on this kernel: $no_random"
else
	ktap_print_msg "$SYSFS/mode did not take 'random': $(cat "$OUT/random.err")"
fi
t_rnd=$(($(date +%s) - start - t_none - t_obs))
ephport_unload
[ -z "$was_loaded" ] || ephport_load

for c in none observe random; do
	[ -f "$OUT/$c.seconds" ] || continue
	ktap_print_msg "seconds ($c): $(tr '\n' ' ' <"$OUT/$c.seconds")"
done
[ -z "$debug" ] || ktap_print_msg "KASAN kernel: bind_bhash and bind_wildcard left out (they run on 6.1 and 6.12)"
n=$(wc -l <"$OUT/none")
ktap_print_msg "$n cases; seconds: without ephport $t_none, observe ($mode) $t_obs, random $t_rnd"
nfail=$(grep -c ' fail$' "$OUT/none")
ktap_print_msg "$nfail cases fail without ephport (reported, and compared like the rest):"
grep ' fail$' "$OUT/none" | sed 's/^/#   /'
grep -q ' fail$' "$OUT/none" && for f in "$OUT"/none.*.log; do
	grep -qi 'fail\|error' "$f" || continue
	ktap_print_msg "$(basename "$f" .log | sed 's/^none\.//'): $(grep -i 'fail\|error' "$f" | head -n 2 | tr '\n' ' ')"
done

ktap_set_plan $((2 * n + 1))
# result CASE FILE: that case's result in FILE, "missing" if absent.
result() {
	r=$(awk -v c="$1" '$1 == c { print $2; exit }' "$2")
	echo "${r:-missing}"
}
while read -r c base; do
	for m in observe random; do
		got=$(result "$c" "$OUT/$m")
		if [ "$m" = random ] && [ -n "$no_random" ]; then
			ktap_test_skip "$c random: random mode unsupported on this kernel: $no_random"
		elif [ "$got" = skip ] && [ "$base" = skip ]; then
			case "$debug:$c" in
			1:bind_bhash*|1:bind_wildcard)
				ktap_test_skip "$c $m: left out on the KASAN kernel (16-105 s per mode there; 6.1 and 6.12 run it)" ;;
			*)
				ktap_test_skip "$c $m: not run, nor without ephport" ;;
			esac
		elif [ "$got" = "$base" ]; then
			ktap_test_pass "$c $m: $got, as without ephport"
		else
			ktap_print_msg "$c: $base without ephport, $got in $m mode"
			sed "s/^/# $m: /" "$OUT/$m.$(echo "$c" | cut -d: -f1).log" 2>/dev/null | tail -n 20
			ktap_test_fail "$c $m: $got, as without ephport: $base"
		fi
	done
done <"$OUT/none"

complaints=$(dmesg_complaints upstream)
if [ -z "$complaints" ]; then
	ktap_test_pass "no kernel complaints"
else
	echo "$complaints" | sed 's/^/# /'
	ktap_test_fail "no kernel complaints"
fi
rm -rf "$OUT"
ktap_finished
