#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ephportstat against fake /sys, /proc and /run trees (--root): no module,
# no VM. Naming, absent and "unsupported" files, widths, -n, JSON (python3),
# Prometheus (promtool, installed with apt-get if missing and root), the
# not-loaded and may-not-read cases. Run by "make -C tools check".
# Prints TAP; exits non-zero if a case fails.
set -u
cd "$(dirname "$0")" || exit 1
BIN=${EPHPORTSTAT:-$PWD/ephportstat}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
R=$TMP/root
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

# case NAME CMD...
case_() {
	local name=$1 rc
	shift
	"$@" >"$TMP/case.log" 2>&1
	rc=$?
	[ $rc = 0 ] || sed 's/^/# /' "$TMP/case.log"
	ok $rc "$name"
}

stat() { "$BIN" --root "$R" "$@"; }

# mkns INUM LO HI TCP UDP: a namespace directory without the random-mode files
# (mode, reuse_delay_ms, random_*, resting), as while ephport still adds them.
mkns() {
	local d=$R/sys/kernel/ephport/net/$1 f i
	mkdir -p "$d"
	echo "$2 $3" >"$d/range"
	echo "$4" >"$d/tcp_in_use"
	echo "$5" >"$d/udp_in_use"
	echo "$4" >"$d/tcp_peak"
	echo "$5" >"$d/udp_peak"
	i=1
	for f in tcp_connect_ok tcp_connect_fail tcp_bind_ok tcp_bind_fail \
		udp_ok udp_fail self_connect; do
		echo $i >"$d/$f"
		i=$((i + 1))
	done
	echo 0 >"$d/alarm"
	for i in $(seq 0 22); do
		echo "$((1 << (i + 10))) $((i == 3 ? 7 : 0))"
	done >"$d/search_ns"
}

# mkproc PID COMM INUM
mkproc() {
	mkdir -p "$R/proc/$1/ns"
	ln -s "net:[$3]" "$R/proc/$1/ns/net"
	echo "$2" >"$R/proc/$1/comm"
}

setup() {
	rm -rf "$R"
	mkdir -p "$R/sys/kernel/ephport/net" "$R/run/netns" "$R/proc"
	echo 0.1.0 >"$R/sys/kernel/ephport/version"
	echo 90 >"$R/sys/kernel/ephport/alarm_pct"
	echo 5 >"$R/sys/kernel/ephport/netns"
	printf '%s registered hits=10 nmissed=0\n' __inet_hash_connect \
		inet_csk_get_port >"$R/sys/kernel/ephport/probes"
	# A named namespace: the inode of its /run/netns file is its inum.
	touch "$R/run/netns/blue" "$R/run/netns/zz-also-blue"
	BLUE=$(command stat -c %i "$R/run/netns/blue")
	ln "$R/run/netns/blue" "$R/run/netns/aa-blue"	# same inode, two names
	mkns 4026531840 32768 60999 100 20	# host
	mkns "$BLUE" 40000 40009 9 1		# 90%: fullest
	mkns 4026532001 20000 20099 50 60	# unnamed, lowest PID 300
	mkns 4026532002 30000 30999 1 1		# no process at all
	mkns 4026532003 1 65535 0 0		# whole range, "unsupported" counters
	echo unsupported >"$R/sys/kernel/ephport/net/4026532003/tcp_connect_ok"
	echo unsupported >"$R/sys/kernel/ephport/net/4026532003/search_ns"
	rm "$R/sys/kernel/ephport/net/4026532003/udp_fail"
	echo random >"$R/sys/kernel/ephport/net/4026532003/mode"
	echo 60000 >"$R/sys/kernel/ephport/net/4026532003/reuse_delay_ms"
	mkproc 1 systemd 4026531840
	mkproc 301 nginx 4026532001
	mkproc 300 "a long command" 4026532001
	mkproc 77 sleep "$BLUE"
	mkproc 400 sleep 4026532003
	mkproc 12 kthreadd 4026531840
}

t_names() {
	stat >"$TMP/t" || return 1
	cat "$TMP/t"
	grep -q '^aa-blue ' "$TMP/t" &&
		grep -q '^host ' "$TMP/t" &&
		grep -q '^300/a long c~ ' "$TMP/t" &&
		grep -q '^400/sleep ' "$TMP/t" &&
		grep -q '^- .*30000-30999 ' "$TMP/t"
}

t_order_width() {
	stat >"$TMP/t" || return 1
	[ "$(sed -n 3p "$TMP/t" | cut -d' ' -f1)" = aa-blue ] &&
		[ "$(sed -n 5p "$TMP/t" | cut -d' ' -f1)" = 300/a ] &&
		! awk 'length($0) > 79 { print; bad = 1 } END { exit !bad }' "$TMP/t"
}

t_absent() {
	stat >"$TMP/t" || return 1
	grep -A1 '^400/sleep' "$TMP/t"
	# no udp_fail: "-"; mode shown; whole range
	grep -q '^4026532003 *65535 ports udp .* -$' "$TMP/t" &&
		grep -q '^400/sleep *1-65535 *tcp .* random  off$' "$TMP/t"
}

t_one() {
	local a
	for a in blue aa-blue 4026532001 300 300/whatever 77 host; do
		stat -n "$a" >"$TMP/one" || return 1
		head -n 1 "$TMP/one"
	done
	stat -n 300 | grep -q '^netns 4026532001 (300/a long command)$' &&
		stat -n 77 | grep -q "^netns $BLUE (aa-blue)$" &&
		stat -n host | grep -q '^netns 4026531840 (host)$' &&
		stat -n blue | grep -q 'search time (7 searches)' &&
		stat -n 4026532003 | grep -q 'search time: -' &&
		stat -n 4026532003 | grep -q 'reuse delay *60000 ms'
}

t_one_unknown() {
	stat -n nosuch >"$TMP/out" 2>"$TMP/err"
	[ $? = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ] &&
		cat "$TMP/err"
}

t_json() {
	stat --json >"$TMP/j" || return 1
	python3 - "$TMP/j" "$R" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1]))
root = sys.argv[2] + "/sys/kernel/ephport"
assert d["version"] == "0.1.0" and d["netns"] == 5 and d["alarm_pct"] == 90
assert len(d["probes"]) == 2 and d["probes"][0]["hits"] == 10
assert len(d["namespaces"]) == len(os.listdir(root + "/net"))
for ns in d["namespaces"]:
    base = "%s/net/%d/" % (root, ns["inum"])
    for f in ("tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
              "tcp_connect_ok", "tcp_connect_fail", "tcp_bind_ok",
              "tcp_bind_fail", "udp_ok", "udp_fail", "self_connect", "alarm"):
        try:
            v = open(base + f).read().strip()
            want = int(v) if v.isdigit() else None
        except FileNotFoundError:
            want = None
        assert ns[f] == want, (ns["inum"], f, ns[f], want)
    lo, hi = map(int, open(base + "range").read().split())
    assert ns["range"] == {"lo": lo, "hi": hi, "size": hi - lo + 1}
byname = {ns["name"]: ns for ns in d["namespaces"]}
assert byname["host"]["named_by"] == "host" and byname["host"]["pid"] == 1
assert byname["300/a long command"]["comm"] == "a long command"
assert byname[None]["pid"] is None
assert byname["400/sleep"]["mode"] == "random"
assert byname["400/sleep"]["search_ns"] is None
assert byname["aa-blue"]["search_ns"][3] == {"le": 8192, "count": 7}
print("json ok")
EOF
}

t_prometheus() {
	stat --prometheus >"$TMP/p" || return 1
	if ! command -v promtool >/dev/null && [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends prometheus >/dev/null 2>&1
	fi
	command -v promtool >/dev/null || { echo "no promtool"; return 1; }
	promtool check metrics <"$TMP/p" || return 1
	grep -q '^ephport_ports_in_use{netns="4026532001",name="300/a long command",proto="udp"} 60$' "$TMP/p" &&
		grep -q '^ephport_bind_fail_total{netns="4026532002",name="",proto="udp"} 6$' "$TMP/p" &&
		! grep -q 'netns="4026532003".*proto="udp"} ' <(grep bind_fail "$TMP/p") &&
		grep -q '^ephport_reuse_delay_seconds{netns="4026532003",name="400/sleep"} 60.000$' "$TMP/p" &&
		grep -q '^ephport_mode{netns="4026532003",name="400/sleep",mode="random"} 1$' "$TMP/p" &&
		grep -q "^ephport_connect_search_seconds_bucket{netns=\"$BLUE\",name=\"aa-blue\",proto=\"tcp\",le=\"0.000008192\"} 7$" "$TMP/p" &&
		grep -q "^ephport_connect_search_seconds_count{netns=\"$BLUE\",name=\"aa-blue\",proto=\"tcp\"} 7$" "$TMP/p"
}

t_hist_formats() {
	local d=$R/sys/kernel/ephport/net/$BLUE
	printf 'le_1024 1\nle_2048 2\n+Inf 3\n' >"$d/search_ns"
	stat --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
h = [n for n in d["namespaces"] if n["name"] == "aa-blue"][0]["search_ns"]
assert h == [{"le": 1024, "count": 1}, {"le": 2048, "count": 2},
             {"le": None, "count": 3}], h' || return 1
	stat --prometheus | promtool check metrics
}

# say_one_line CMD...: fails, prints nothing on stdout and one line on stderr.
say_one_line() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	cat "$TMP/err"
	[ $rc = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err")" = 1 ]
}

t_not_loaded() {
	say_one_line "$BIN" --root "$TMP/empty" &&
		grep -q 'not loaded' "$TMP/err" &&
		say_one_line "$BIN" --root "$TMP/empty" --prometheus &&
		say_one_line "$BIN" --root "$TMP/empty" -n 1 &&
		grep -q 'not loaded' "$TMP/err" &&
		EPHPORTSTAT_ROOT=$TMP/empty say_one_line "$BIN" --json
}

t_unreadable() {
	local d=$R/sys/kernel/ephport/net/4026532002 run=()
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || { echo "no setpriv"; return 0; }
		run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		chmod 0755 "$TMP"
	fi
	chmod 0700 "$d"
	say_one_line "${run[@]}" "$BIN" --root "$R"
	local rc=$?
	chmod 0755 "$d"
	[ $rc = 0 ] && grep -q 'Permission denied' "$TMP/err"
}

t_usage() {
	"$BIN" --help | grep -q '^usage: ephportstat' &&
		"$BIN" --version | grep -q '^ephportstat ' &&
		{ "$BIN" --bogus 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -w 0 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -w 1 --json 2>/dev/null; [ $? = 2 ]; }
}

t_watch() {
	timeout 2 "$BIN" --root "$R" -w 0.3 >"$TMP/w"
	[ "$(grep -c '^NETNS' "$TMP/w")" -ge 3 ] && grep -q $'\e\\[H' "$TMP/w"
}

t_dests() {
	echo 42 >"$R/sys/kernel/ephport/net/4026532001/tcp_dest_max"
	mkdir -p "$R/proc/net"
	printf '%s\n' 'proto daddr dport held time_wait headroom' \
		'tcp 10.0.0.7 5432 60 20 40' 'tcp6 2001:db8::5 443 30 0 70' \
		>"$R/proc/net/ephport_dests"
	stat --dests >"$TMP/d" || return 1
	cat "$TMP/d"
	stat --prometheus >"$TMP/p" || return 1
	head -1 "$TMP/d" | grep -q '^PROTO  *DESTINATION  *PORT  *HELD  *TIME_WAIT  *HEADROOM$' &&
		grep -q '^tcp  *10.0.0.7  *5432  *60  *20  *40$' "$TMP/d" &&
		grep -q '^tcp6  *2001:db8::5  *443  *30  *0  *70$' "$TMP/d" &&
		grep -q '^ephport_dest_ports_held_max{netns="4026532001",name="300/a long command",proto="tcp"} 42$' "$TMP/p" &&
		{ stat --dests --json 2>/dev/null; [ $? = 2 ]; }
}

setup
case_ "names: ip netns, host, PID/comm, none" t_names
case_ "table: fullest first, under 80 columns" t_order_width
case_ "absent and unsupported files are -" t_absent
case_ "-n by name, inode, PID, PID/comm, host" t_one
case_ "-n with an unknown name: one line, exit 1" t_one_unknown
case_ "--json: values equal the files" t_json
case_ "--prometheus: promtool check metrics, values" t_prometheus
case_ "search_ns: le_N and +Inf lines" t_hist_formats
case_ "not loaded: one line, exit 1" t_not_loaded
case_ "unreadable namespace: one line, exit 1" t_unreadable
case_ "usage, --version, bad options" t_usage
case_ "-w refreshes" t_watch
case_ "--dests: the table; tcp_dest_max in --prometheus" t_dests
echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
