#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# ephportstat against fake /sys, /proc and /run trees (--root): no module,
# no VM. Naming (ip netns, mounts, host, PID), absent and "unsupported"
# files, widths, -n, JSON (python3 and ephport-jsoncheck), Prometheus
# (promtool, installed with apt-get if missing and root), names no tenant
# can break any output with, the textfile writer, /proc/net/ephport for who
# may not read the sysfs tree, watch mode, the not-loaded and may-not-read
# cases; the example alert rules (promtool check rules, and the unit tests
# of ephport-alerts.test.yml, here). Run by "make -C tools check".
# Prints TAP; exits non-zero if a case fails.
set -u
# Here, in tools/tests/; the tool and the example rules are in tools/.
cd "$(dirname "$0")" || exit 1
BIN=${EPHPORTSTAT:-$(cd .. && pwd)/ephportstat}
JSONCHECK=${JSONCHECK:-$(cd .. && pwd)/ephport-jsoncheck}
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
	echo 123456 >"$d/search_ns_sum"
}

# mkprocnet INUM LO HI TCP UDP: /proc/net/ephport and /proc/self/ns/net of
# a reader in namespace INUM, as the module writes them.
mkprocnet() {
	local i f
	mkdir -p "$R/proc/net" "$R/proc/self/ns"
	ln -sfn "net:[$1]" "$R/proc/self/ns/net"
	{
		echo "range $2 $3"
		echo "tcp_in_use $4"
		echo "udp_in_use $5"
		echo "tcp_peak $4"
		echo "udp_peak $5"
		i=1
		for f in tcp_connect_ok tcp_connect_fail tcp_bind_ok tcp_bind_fail \
			udp_ok udp_fail self_connect; do
			echo "$f $((i * 10))"
			i=$((i + 1))
		done
		for i in $(seq 0 22); do
			echo "search_ns_le_$((1 << (i + 10))) $((i == 2 ? 70 : 0))"
		done
		echo "search_ns_sum 300000"
		echo "alarm 1"
		echo "mode random"
		echo "reuse_delay_ms 1500"
		for f in random_steered random_ok random_lru random_fallback \
			random_fallback_full random_fallback_refused \
			random_fallback_untrusted self_connect_avoided \
			self_connect_refused resting; do
			echo "$f 3"
		done
		echo "tcp_dest_max 30"
		echo "alarm_basis dest"
	} >"$R/proc/net/ephport"
	# The namespace's reserved ports: 5 of them in its range.
	mkdir -p "$R/proc/sys/net/ipv4"
	echo "80,20010-20014,$(($3 + 1))-$(($3 + 9))" >"$R/proc/sys/net/ipv4/ip_local_reserved_ports"
}

# mkmount INUM MOUNTPOINT: a line of /proc/self/mountinfo, a mount of
# namespace INUM's nsfs file (octal escapes as the kernel writes them).
mkmount() {
	printf '%s 25 0:4 net:[%s] %s rw,nosuid,nodev shared:5 - nsfs nsfs rw\n' \
		"$((40 + $(wc -l <"$R/proc/self/mountinfo")))" "$1" "$2" \
		>>"$R/proc/self/mountinfo"
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
	printf '%s registered hits=10 nmissed=0\n' inet_hash_connect \
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
	echo unsupported >"$R/sys/kernel/ephport/net/4026532003/search_ns_sum"
	mkns 4026532004 50000 50999 2 2		# Docker's: /run/docker/netns/ab c
	mkdir -p "$R/proc/self"
	echo '22 1 0:21 / /proc rw,nosuid - proc proc rw' >"$R/proc/self/mountinfo"
	mkmount "$BLUE" /run/netns/blue
	mkmount 4026532004 '/run/docker/netns/ab\040c'
	mkmount 4026532004 '/run/docker/netns/zz'
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
		grep -q '^ab c .*50000-50999 ' "$TMP/t" &&
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
	for a in blue aa-blue 4026532001 300 300/whatever 77 host "ab c" zz; do
		stat -n "$a" >"$TMP/one" || return 1
		head -n 1 "$TMP/one"
	done
	stat -n 300 | grep -q '^netns 4026532001 (300/a long command)$' &&
		stat -n 77 | grep -q "^netns $BLUE (aa-blue)$" &&
		stat -n host | grep -q '^netns 4026531840 (host)$' &&
		stat -n zz | grep -q '^netns 4026532004 (ab c)$' &&
		stat -n 'ab c' | grep -q '^  mounted at  *\/run\/docker\/netns\/ab c$' &&
		stat -n blue | grep -q 'search time (7 searches, mean 17636 ns)' &&
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
	"$JSONCHECK" <"$TMP/j" || return 1
	python3 - "$TMP/j" "$R" <<'EOF'
import json, os, sys, time
d = json.load(open(sys.argv[1]))
root = sys.argv[2] + "/sys/kernel/ephport"
assert d["version"] == "0.1.0" and d["netns"] == 5 and d["alarm_pct"] == 90
assert d["source"] == "/sys/kernel/ephport" and abs(d["time"] - time.time()) < 60
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
assert byname["aa-blue"]["search_ns_sum"] == 123456
assert byname["aa-blue"]["nsfs"] == "/run/netns/aa-blue"
assert byname["400/sleep"]["search_ns_sum"] is None
assert byname["ab c"]["named_by"] == "mount"
assert byname["ab c"]["nsfs"] == "/run/docker/netns/ab c"
print("json ok")
EOF
}

need_promtool() {
	if ! command -v promtool >/dev/null && [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends prometheus >/dev/null 2>&1
	fi
	command -v promtool >/dev/null || { echo "no promtool"; return 1; }
}

t_prometheus() {
	local rc
	stat --prometheus >"$TMP/p" || return 1
	need_promtool || return 1
	promtool check metrics <"$TMP/p" || return 1
	# Names on the info metric alone; every namespace series keyed by netns.
	grep -q '^ephport_netns_info{netns="4026532001",name="300/a long command",workload=""} 1$' "$TMP/p" &&
		grep -q '^ephport_netns_info{netns="4026532002",name="",workload=""} 1$' "$TMP/p" &&
		grep -q '^ephport_netns_info{netns="4026532004",name="ab c",workload=""} 1$' "$TMP/p" &&
		[ "$(grep -c '^ephport_netns_info{' "$TMP/p")" = 6 ] &&
		! grep -v '^ephport_netns_info{' "$TMP/p" | grep -q 'name=' &&
		grep -q '^ephport_ports_in_use{netns="4026532001",proto="udp"} 60$' "$TMP/p" &&
		grep -q '^ephport_bind_fail_total{netns="4026532002",proto="udp"} 6$' "$TMP/p" &&
		! grep -q 'netns="4026532003".*proto="udp"} ' <(grep bind_fail "$TMP/p") &&
		grep -q '^ephport_reuse_delay_seconds{netns="4026532003"} 60.000$' "$TMP/p" &&
		grep -q '^ephport_mode{netns="4026532003",mode="random"} 1$' "$TMP/p" &&
		grep -q "^ephport_connect_search_seconds_bucket{netns=\"$BLUE\",proto=\"tcp\",le=\"0.000008192\"} 7$" "$TMP/p" &&
		grep -q "^ephport_connect_search_seconds_sum{netns=\"$BLUE\",proto=\"tcp\"} 0.000123456$" "$TMP/p" &&
		grep -q "^ephport_connect_search_seconds_count{netns=\"$BLUE\",proto=\"tcp\"} 7$" "$TMP/p" &&
		! grep -q 'search_seconds_sum{netns="4026532003"' "$TMP/p" &&
		grep -q '^ephport_alarm_threshold_ratio 0.9$' "$TMP/p" &&
		! grep -q '^ephport_alarm_pct' "$TMP/p" &&
		echo 5 >"$R/sys/kernel/ephport/alarm_pct" &&
		stat --prometheus | grep -q '^ephport_alarm_threshold_ratio 0.05$' &&
		echo 100 >"$R/sys/kernel/ephport/alarm_pct" &&
		stat --prometheus | grep -q '^ephport_alarm_threshold_ratio 1$'
	rc=$?
	echo 90 >"$R/sys/kernel/ephport/alarm_pct"
	return $rc
}

t_alert_rules() {
	local m a rules=../ephport-alerts.yml n
	need_promtool || return 1
	promtool check rules $rules &&
		promtool test rules ephport-alerts.test.yml || return 1
	# The rules use the tool's metrics, by their names.
	echo 5 >"$R/sys/kernel/ephport/net/4026532001/tcp_dest_max"
	mkdir -p "$R/proc/300/net"
	printf 'proto daddr dport held time_wait headroom\ntcp 10.0.0.7 5432 5 0 95\n' \
		>"$R/proc/300/net/ephport_dests"
	stat --prometheus >"$TMP/p"
	rm -r "$R/sys/kernel/ephport/net/4026532001/tcp_dest_max" "$R/proc/300/net"
	for m in $(grep -o 'ephport_[a-z_]*' $rules | sort -u); do
		grep -q "^# TYPE $m " "$TMP/p" || { echo "no $m"; return 1; }
	done
	# Every alert waits ("for:"), says what and where (summary), links
	# to its section of the runbook, and has a unit test; no rule copies
	# a name into an alert's labels.
	n=$(grep -c '^      - alert: ' $rules)
	for m in '        for: ' '          summary: ' '          runbook_url: '; do
		[ "$(grep -c "^$m" $rules)" = "$n" ] || { echo "not $n: '$m'"; return 1; }
	done
	! grep -q 'group_left(name)\|label_replace' $rules || { echo "a name label"; return 1; }
	for a in $(sed -n 's/^      - alert: //p' $rules); do
		grep -q "^### $a\$" ../../Documentation/runbook.md ||
			{ echo "$a: no section in the runbook"; return 1; }
		grep -q "runbook.md#$(echo "$a" | tr 'A-Z' 'a-z')\"\$" $rules ||
			{ echo "$a: runbook_url"; return 1; }
		grep -q "alertname: $a\$" ephport-alerts.test.yml ||
			{ echo "$a: no unit test"; return 1; }
	done
	echo "$n alerts"
}

# Names with every byte a tenant can put in one: not UTF-8, quotes,
# backslashes, newlines, controls, an escape sequence.
HOSTILE=$'\xff\xfe"q\\b\x01\nend\x1b[2J'

t_hostile() {
	local inum
	mkns 4026532009 45000 45099 1 1
	mkns 4026532010 46000 46099 1 1
	mkns 4026532011 47000 47099 1 1
	touch "$R/run/netns/$HOSTILE"
	inum=$(command stat -c %i "$R/run/netns/$HOSTILE")
	mv "$R/sys/kernel/ephport/net/4026532009" "$R/sys/kernel/ephport/net/$inum"
	mkproc 600 "$HOSTILE" 4026532010
	# mountinfo escapes a newline as \012 and a backslash as \134.
	mkmount 4026532011 $'/run/docker/netns/\xc3\xa9\\012\\134"\x7f\xc3'
	stat --prometheus >"$TMP/hp" &&
		stat --json >"$TMP/hj" &&
		stat >"$TMP/ht" &&
		stat -n 600 >"$TMP/hn" &&
		stat --json -w 0.1 -c 2 >"$TMP/hl"
	local rc=$?
	rm -f "$R/run/netns/$HOSTILE"
	rm -rf "$R/sys/kernel/ephport/net/$inum" "$R/proc/600" \
		"$R/sys/kernel/ephport/net/4026532010" "$R/sys/kernel/ephport/net/4026532011"
	sed -i '$d' "$R/proc/self/mountinfo"
	[ $rc = 0 ] || return 1
	promtool check metrics <"$TMP/hp" || return 1
	"$JSONCHECK" <"$TMP/hj" || return 1
	"$JSONCHECK" -l <"$TMP/hl" || return 1
	python3 - "$TMP" "$inum" <<'EOF'
import json, sys
tmp, inum = sys.argv[1], sys.argv[2]
rep = '\ufffd\ufffd"q\\b\x01\nend\x1b[2J'
# Prometheus: UTF-8, the label values escaped as the format says.
p = open(tmp + "/hp", "rb").read().decode("utf-8", "strict")
want = '\ufffd\ufffd\\"q\\\\b\x01\\nend\x1b[2J'
assert 'ephport_netns_info{netns="%s",name="%s",workload=""} 1\n' % (inum, want) in p, p
assert 'ephport_netns_info{netns="4026532010",name="600/%s",workload=""} 1\n' % want in p
assert 'ephport_netns_info{netns="4026532011",name="\u00e9\\n\\\\\\"\x7f\ufffd",workload=""} 1\n' in p
# JSON: strict UTF-8, the same names back.
texts = [open(tmp + "/hj", "rb").read()] + open(tmp + "/hl", "rb").read().splitlines()
for text in texts:
    d = json.loads(text.decode("utf-8", "strict"),
                   parse_constant=lambda c: sys.exit("not JSON: " + c))
    by = {ns["inum"]: ns for ns in d["namespaces"]}
    assert by[int(inum)]["name"] == rep, by[int(inum)]["name"]
    assert by[4026532010]["comm"] == rep and by[4026532010]["name"] == "600/" + rep
    assert by[4026532011]["name"] == '\u00e9\n\\"\x7f\ufffd'
    assert by[4026532011]["nsfs"] == '/run/docker/netns/\u00e9\n\\"\x7f\ufffd'
# The terminal: UTF-8, no control but the newlines, 80 columns.
for f in ("ht", "hn"):
    t = open(tmp + "/" + f, "rb").read().decode("utf-8", "strict")
    bad = [c for c in t if c != "\n" and (ord(c) < 32 or 0x7f <= ord(c) < 0xa0)]
    assert not bad, (f, bad)
    assert max(len(l) for l in t.splitlines()) <= 80
assert "??\"q\\b??end?[2J" in open(tmp + "/hn", encoding="utf-8").read()
print("hostile names ok")
EOF
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
		command -v setpriv >/dev/null || { echo "no setpriv"; return 1; }
		run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		chmod 0755 "$TMP"
	fi
	chmod 0700 "$d"
	say_one_line "${run[@]}" "$BIN" --root "$R"
	local rc=$?
	chmod 0755 "$d"
	[ $rc = 0 ] && grep -q 'Permission denied' "$TMP/err"
}

# as_nobody CMD...: CMD as a user who may not read root's 0400 files.
as_nobody() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}

# The module's namespace files are root's, 0400: a user reads
# /proc/net/ephport instead, for the own namespace alone.
t_proc_user() {
	local rc rc2
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || { echo "no setpriv"; return 1; }
		chmod 0755 "$TMP"
	fi
	mkprocnet 4026532001 20000 20099 50 60
	find "$R/sys/kernel/ephport/net" -type f -exec chmod 0000 {} +
	as_nobody "$BIN" --root "$R" >"$TMP/t" 2>"$TMP/err" &&
		as_nobody "$BIN" --root "$R" --json >"$TMP/j" 2>>"$TMP/err" &&
		as_nobody "$BIN" --root "$R" --prometheus >"$TMP/p" 2>>"$TMP/err" &&
		as_nobody "$BIN" --root "$R" -n 300 >"$TMP/one" 2>>"$TMP/err"
	rc=$?
	as_nobody "$BIN" --root "$R" -n host >"$TMP/out" 2>"$TMP/err2"
	rc2=$?
	find "$R/sys/kernel/ephport/net" -type f -exec chmod 0644 {} +
	rm -rf "$R/proc/net" "$R/proc/self/ns" "$R/proc/sys"
	cat "$TMP/t" "$TMP/err" "$TMP/err2"
	[ $rc = 0 ] && [ ! -s "$TMP/err" ] || return 1
	# -n of another namespace: the sysfs error, one line, exit 1.
	[ $rc2 = 1 ] && [ ! -s "$TMP/out" ] && [ "$(wc -l <"$TMP/err2")" = 1 ] &&
		grep -q 'Permission denied' "$TMP/err2" || return 1
	grep -q '^ephport 0.1.0, this namespace only, alarm at 90%' "$TMP/t" &&
		[ "$(grep -c ' tcp ' "$TMP/t")" = 1 ] &&
		grep -q '^300/a long c~ 20000-20099 tcp      50  50%       65    50    60 random  ON$' "$TMP/t" &&
		grep -q '^4026532001      100 ports udp      60  60%             60    60$' "$TMP/t" &&
		grep -q 'search time (70 searches, mean 4285 ns)' "$TMP/one" &&
		grep -q '^ephport_ports_in_use{netns="4026532001",proto="udp"} 60$' "$TMP/p" &&
		grep -q '^ephport_connect_search_seconds_sum{netns="4026532001",proto="tcp"} 0.0003$' "$TMP/p" &&
		promtool check metrics <"$TMP/p" &&
		"$JSONCHECK" <"$TMP/j" &&
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "/proc/net/ephport" and d["version"] == "0.1.0"
[ns] = d["namespaces"]
assert ns["inum"] == 4026532001 and ns["name"] == "300/a long command"
assert ns["tcp_connect_fail"] == 20 and ns["udp_fail"] == 60 and ns["alarm"] == 1
assert ns["reuse_delay_ms"] == 1500 and ns["mode"] == "random"
assert ns["range"] == {"lo": 20000, "hi": 20099, "size": 100}
assert ns["search_ns"][2] == {"le": 4096, "count": 70} and ns["search_ns_sum"] == 300000
' "$TMP/j"
}

# A container sees no sysfs tree of ephport but its /proc/net/ephport.
t_proc_container() {
	local C=$TMP/container
	rm -rf "$C"
	mkdir -p "$C/proc/self"
	(R=$C; mkprocnet 4026532555 1024 1123 100 0) || return 1
	"$BIN" --root "$C" >"$TMP/t" || return 1
	cat "$TMP/t"
	grep -q "^ephport -, this namespace only, alarm on a destination's$" "$TMP/t" &&
		grep -q '^-  *1024-1123   tcp     100 100%       70   100    60 random  ON$' "$TMP/t" &&
		"$BIN" --root "$C" -n 4026532555 | grep -q '^netns 4026532555$' &&
		"$BIN" --root "$C" --prometheus | promtool check metrics &&
		say_one_line "$BIN" --root "$C" -n 4026532556 &&
		grep -q "no namespace named '4026532556'" "$TMP/err" &&
		rm "$C/proc/net/ephport" &&
		say_one_line "$BIN" --root "$C" && grep -q 'not loaded' "$TMP/err"
}

# The metrics without the time of the collection, which each run changes.
untimed() { grep -v '^ephport_last_success_timestamp_seconds ' "$@"; }

t_textfile() {
	local D=$TMP/tf rc w reads=0 t
	rm -rf "$D"
	mkdir -p "$D"
	(umask 077 && stat --textfile "$D/ephport.prom") || return 1
	stat --prometheus | untimed >"$TMP/p"
	untimed "$D/ephport.prom" | cmp "$TMP/p" - &&
		grep -q '^ephport_up 1$' "$D/ephport.prom" &&
		[ "$(command stat -c %a "$D/ephport.prom")" = 644 ] &&
		[ "$(ls -A "$D")" = ephport.prom ] || return 1
	# Rewritten while read: every read sees one whole file.
	stat -w 0.1 -c 20 --textfile "$D/ephport.prom" &
	w=$!
	while kill -0 $w 2>/dev/null; do
		untimed "$D/ephport.prom" | cmp -s "$TMP/p" - ||
			{ echo "a read saw part of a file"; kill $w; return 1; }
		reads=$((reads + 1))
	done
	wait $w || return 1
	echo "$reads whole reads while it was rewritten"
	[ "$(ls -A "$D")" = ephport.prom ] || { ls -A "$D"; return 1; }
	# The module gone: one line, exit 1, and a file that says so, with
	# the time of the last collection that worked, not the old values.
	t=$(sed -n 's/^ephport_last_success_timestamp_seconds //p' "$D/ephport.prom")
	say_one_line "$BIN" --root "$TMP/empty" --textfile "$D/ephport.prom" || return 1
	cat "$D/ephport.prom"
	grep -q '^ephport_up 0$' "$D/ephport.prom" &&
		grep -q "^ephport_last_success_timestamp_seconds $t\$" "$D/ephport.prom" &&
		[ "$(grep -c '^ephport_' "$D/ephport.prom")" = 2 ] &&
		promtool check metrics <"$D/ephport.prom" &&
		[ "$(ls -A "$D")" = ephport.prom ] || return 1
	# And again: the time is still the last success's.
	say_one_line "$BIN" --root "$TMP/empty" --textfile "$D/ephport.prom" &&
		grep -q "^ephport_last_success_timestamp_seconds $t\$" "$D/ephport.prom" || return 1
	# No file before: up 0 alone.
	say_one_line "$BIN" --root "$TMP/empty" --textfile "$D/new.prom" &&
		[ "$(grep '^ephport_' "$D/new.prom")" = "ephport_up 0" ] || return 1
	rm "$D/new.prom"
	stat --textfile "$D/ephport.prom" || return 1
	# What cannot be written: one line, exit 1, the file as it was,
	# nothing left behind.
	untimed "$D/ephport.prom" >"$TMP/p"
	say_one_line stat --textfile "$D/nosuchdir/ephport.prom" &&
		grep -q 'nosuchdir: No such file or directory' "$TMP/err" &&
		say_one_line stat --textfile "$D/" || return 1
	if [ "$(id -u)" = 0 ]; then
		chmod 0755 "$TMP" "$D"
		say_one_line as_nobody "$BIN" --root "$R" --textfile "$D/ephport.prom"
	else
		chmod 0555 "$D"
		say_one_line stat --textfile "$D/ephport.prom"
	fi
	rc=$?
	chmod 0755 "$D"
	[ $rc = 0 ] && grep -q 'Permission denied' "$TMP/err" &&
		untimed "$D/ephport.prom" | cmp "$TMP/p" - && [ "$(ls -A "$D")" = ephport.prom ]
}

# --textfile -w, long-running: the module leaves and comes back. The file
# follows (up 0, then the values again), and the log says each change
# once, not every round.
t_textfile_watch() {
	local D=$TMP/tfw w
	rm -rf "$D" "$TMP/moved"
	mkdir -p "$D"
	"$BIN" --root "$R" -w 0.2 -c 15 --textfile "$D/ephport.prom" 2>"$TMP/werr" &
	w=$!
	sleep 0.7
	mv "$R/sys" "$TMP/moved"
	sleep 1
	grep '^ephport_up' "$D/ephport.prom"
	grep -q '^ephport_up 0$' "$D/ephport.prom" || { mv "$TMP/moved" "$R/sys"; kill $w; return 1; }
	mv "$TMP/moved" "$R/sys"
	wait $w || return 1
	cat "$TMP/werr"
	grep -q '^ephport_up 1$' "$D/ephport.prom" &&
		[ "$(wc -l <"$TMP/werr")" = 2 ] &&
		grep -q 'not loaded' "$TMP/werr" && grep -q 'is written again' "$TMP/werr"
}

# Every output that cannot be written (a full disk) fails.
t_write_errors() {
	local args
	for args in "" "--json" "--prometheus" "-n blue" "--version" "--help" \
		"--json -w 0.1 -c 2"; do
		# shellcheck disable=SC2086
		if stat $args >/dev/full 2>"$TMP/err"; then
			echo "exit 0 for '$args' to /dev/full"
			return 1
		fi
		grep -q 'No space left on device' "$TMP/err" ||
			{ echo "'$args':"; cat "$TMP/err"; return 1; }
	done
}

t_usage() {
	"$BIN" --help | grep -q '^usage: ephportstat' &&
		"$BIN" --version | grep -q '^ephportstat ' &&
		{ "$BIN" --bogus 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -w 0 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -w 1 --prometheus 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -c 3 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" -w 1 -c 1.5 2>/dev/null; [ $? = 2 ]; } &&
		{ "$BIN" --json --textfile x 2>/dev/null; [ $? = 2 ]; } &&
		"$BIN" --help | grep -q -- '--textfile' &&
		"$BIN" --help | grep -q -- '--count'
}

# on_tty ROWS COLS CMD...: CMD with its standard output on a terminal of
# that size (a pseudo-terminal); what it wrote on standard output.
on_tty() {
	python3 - "$@" <<'EOF'
import fcntl, os, pty, struct, subprocess, sys, termios
rows, cols = int(sys.argv[1]), int(sys.argv[2])
m, s = pty.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
attr = termios.tcgetattr(s)
attr[1] &= ~termios.ONLCR
termios.tcsetattr(s, termios.TCSANOW, attr)
p = subprocess.Popen(sys.argv[3:], stdout=s, stdin=subprocess.DEVNULL)
os.close(s)
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    sys.stdout.buffer.write(d)
    sys.stdout.buffer.flush()
sys.exit(p.wait())
EOF
}

t_watch() {
	on_tty 50 80 timeout 2 "$BIN" --root "$R" -w 0.3 >"$TMP/w"
	[ "$(grep -c '^NETNS' "$TMP/w")" -ge 3 ] && grep -q $'\e\\[H' "$TMP/w" &&
		on_tty 50 80 timeout 5 "$BIN" --root "$R" -w 0.1 -c 3 >"$TMP/w" &&
		[ "$(grep -c '^NETNS' "$TMP/w")" = 3 ] &&
		on_tty 50 80 timeout 5 "$BIN" --root "$R" -n blue -w 0.1 -c 2 >"$TMP/w" &&
		grep -q '^  connect fail  *2  *-  *0  *-' "$TMP/w" &&
		grep -q '^  random ok  *-' "$TMP/w"
}

# Not a terminal (a pipe, a log): the screens one after the other, a blank
# line between them, no escape sequence.
t_watch_pipe() {
	timeout 5 "$BIN" --root "$R" -w 0.1 -c 3 | cat >"$TMP/w" || return 1
	! grep -q $'\e' "$TMP/w" && [ "$(grep -c '^NETNS' "$TMP/w")" = 3 ] &&
		[ "$(grep -c '^Every 0.1s' "$TMP/w")" = 3 ] &&
		[ "$(grep -c '^$' "$TMP/w")" = 5 ] &&
		timeout 5 "$BIN" --root "$R" -n blue -w 0.1 -c 2 >"$TMP/w" &&
		! grep -q $'\e' "$TMP/w" && [ "$(grep -c '^netns ' "$TMP/w")" = 2 ]
}

# A terminal smaller than the screen: the fullest namespaces that fit, a
# line for the others; lines cut to the width; nothing scrolls.
t_watch_fit() {
	local nr
	on_tty 12 80 timeout 5 "$BIN" --root "$R" -w 0.1 -c 2 >"$TMP/w" || return 1
	screen "$TMP/w" >"$TMP/screen" || return 1
	cat "$TMP/screen"
	nr=$(ls "$R/sys/kernel/ephport/net" | wc -l)
	# 12 rows: 11 lines, of which 3 namespaces (6 lines) and the rest said.
	[ "$(wc -l <"$TMP/screen")" -le 11 ] &&
		grep -q "^($((nr - 3)) more namespaces: a taller terminal, or -n NAME)$" "$TMP/screen" &&
		sed -n 5p "$TMP/screen" | grep -q '^aa-blue ' || return 1
	on_tty 8 40 timeout 5 "$BIN" --root "$R" -n blue -w 0.1 -c 1 >"$TMP/w" || return 1
	screen "$TMP/w" >"$TMP/screen" || return 1
	cat "$TMP/screen"
	[ "$(wc -l <"$TMP/screen")" -le 7 ] &&
		[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$TMP/screen")" -le 40 ] &&
		tail -n 1 "$TMP/screen" | grep -q '^([0-9]* more lines: a taller'
}

# The screen a terminal shows after the watch output: each frame homes
# the cursor, clears each line's end and what is below.
screen() {
	python3 - "$1" <<'EOF'
import re, sys
data = open(sys.argv[1], encoding="utf-8").read()
rows, r, c = [[]], 0, 0
for tok in re.findall(r"\x1b\[[0-9;]*[A-Za-z]|\n|[^\x1b\n]", data):
    while len(rows) <= r:
        rows.append([])
    row = rows[r]
    if tok == "\x1b[H":
        r = c = 0
    elif tok == "\x1b[K":
        del row[c:]
    elif tok == "\x1b[J":
        del row[c:]
        del rows[r + 1:]
    elif tok.startswith("\x1b"):
        sys.exit("unexpected escape " + repr(tok))
    elif tok == "\n":
        r, c = r + 1, 0
    else:
        row.extend(" " * (c + 1 - len(row)))
        row[c] = tok
        c += 1
print("\n".join("".join(x).rstrip() for x in rows).rstrip("\n"))
EOF
}

# vmstat-like: the counters' columns count since the previous screen; a
# screen clears what the one before left ("off" -> "ON", not "ONf").
t_watch_changes() {
	local d=$R/sys/kernel/ephport/net/$BLUE w
	on_tty 50 80 "$BIN" --root "$R" -w 1 -c 3 >"$TMP/w" &
	w=$!
	# After the second screen, a second before the third.
	while [ "$(grep -c '^NETNS' "$TMP/w")" -lt 2 ]; do
		kill -0 $w 2>/dev/null || return 1
		sleep 0.05
	done
	echo 7 >"$d/tcp_connect_fail"
	echo 1 >"$d/alarm"
	wait $w || return 1
	echo 2 >"$d/tcp_connect_fail"
	echo 0 >"$d/alarm"
	screen "$TMP/w" >"$TMP/screen" || return 1
	cat "$TMP/screen"
	# The screen shows the last frame as it was printed.
	awk '/\x1b\[H/ { f = "" } { f = f $0 "\n" } END { printf "%s", f }' "$TMP/w" |
		sed 's/\x1b\[[HKJ]//g; s/ *$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' |
		diff - "$TMP/screen" || return 1
	# aa-blue tcp: OK 1+3 and FAIL 2+4 since load, then 0 and 0, then
	# 0 and the 5 more connect failures; its alarm ON, cleared.
	sed 's/\x1b\[[HKJ]//g' "$TMP/w" | awk '/^aa-blue/ { printf "%s %s %s ", $7, $8, $NF }' >"$TMP/cols"
	cat "$TMP/cols"
	echo
	[ "$(cat "$TMP/cols")" = "4 6 off 0 0 off 0 5 ON " ] &&
		grep -q '^aa-blue .* ON$' "$TMP/screen" && ! grep -q 'ONf' "$TMP/screen" &&
		head -n 1 "$TMP/screen" | grep -q '^Every 1s: ephportstat, counts since the last screen  *[0-9-]* [0-9:]*$'
}

t_json_stream() {
	timeout 10 "$BIN" --root "$R" --json -w 0.2 -c 3 >"$TMP/js" || return 1
	"$JSONCHECK" -l <"$TMP/js" && [ "$(wc -l <"$TMP/js")" = 3 ] &&
		python3 -c '
import json, sys
t = [json.loads(l)["time"] for l in open(sys.argv[1])]
assert t[0] < t[1] < t[2], t
' "$TMP/js"
}

t_jsoncheck() {
	local bad
	# Valid: one text, and one per line.
	printf '{"a": [1, -2.5e3, "\\u00e9\\ud83d\\ude00 \xc3\xa9", null, true, {}]}\n' |
		"$JSONCHECK" &&
		printf '{}\n[1]\n' | "$JSONCHECK" -l || return 1
	for bad in '{"a":1,}' '{"a":1,"a":2}' '"\ud800"' '"\udc00"' '01' '1.' \
		'NaN' '"\x"' $'"\xff"' $'"\xc0\xaf"' $'"\xed\xa0\x80"' $'"a\tb"' \
		$'"a\nb"' '[1] x' "{'a': 1}" '' '[1,]'; do
		if printf '%s' "$bad" | "$JSONCHECK" 2>/dev/null; then
			echo "accepted: $bad"
			return 1
		fi
	done
	! printf '{}\n{\n}\n' | "$JSONCHECK" -l 2>/dev/null
}

# Per-destination headroom: read from a process's /proc/PID/net (no need to
# enter the namespace), from this process's own /proc/net and sysctl; the
# table sorts by what runs out first; --dests for one namespace, all, JSON.
t_dests() {
	local ns=$R/sys/kernel/ephport/net/4026532001 rc
	# Namespace 4026532001 (lowest PID 300): 89 TCP ports in use, 88 held
	# toward one destination, 5 reserved: 7 left toward it (93% gone).
	echo 89 >"$ns/tcp_in_use"
	echo 88 >"$ns/tcp_dest_max"
	mkdir -p "$R/proc/300/net"
	printf '%s\n' 'proto daddr dport held time_wait headroom' \
		'tcp 10.0.0.7 5432 88 20 7' 'tcp6 2001:db8::5 443 30 0 65' \
		>"$R/proc/300/net/ephport_dests"
	# This process is in the host's namespace: its own /proc/net and
	# sysctl (3 ports of its range reserved; 10 held toward one place).
	mkdir -p "$R/proc/self/ns" "$R/proc/net" "$R/proc/sys/net/ipv4"
	ln -sfn "net:[4026531840]" "$R/proc/self/ns/net"
	echo 10 >"$R/sys/kernel/ephport/net/4026531840/tcp_dest_max"
	printf '%s\n' 'proto daddr dport held time_wait headroom' \
		'tcp 192.0.2.1 80 10 0 28219' >"$R/proc/net/ephport_dests"
	echo "22,32768,40000-40001" >"$R/proc/sys/net/ipv4/ip_local_reserved_ports"
	echo dest >"$R/sys/kernel/ephport/alarm_basis"

	stat >"$TMP/t" && stat -n 300 >"$TMP/one" && stat --prometheus >"$TMP/p" &&
		stat --json >"$TMP/j" && stat --dests >"$TMP/d" &&
		stat --dests -n 300 >"$TMP/d300" && stat --dests --all >"$TMP/dall" &&
		stat --dests --all --json >"$TMP/dj"
	rc=$?
	cat "$TMP/t" "$TMP/d" "$TMP/d300" "$TMP/dall"
	[ $rc = 0 ] || return 1
	# The table: the destination's 93% comes before aa-blue's 90%.
	sed -n 3p "$TMP/t" | grep -q '^300/a long c~ 20000-20099 tcp      89  89%        7 ' &&
		sed -n 5p "$TMP/t" | grep -q '^aa-blue ' &&
		grep -q '^host  *32768-60999 tcp     100   0%    28219 ' "$TMP/t" &&
		head -n 1 "$TMP/t" | grep -q 'alarm at 90% of a destination.s' &&
		grep -q '^  reserved ports  *5$' "$TMP/one" &&
		grep -q '^  dest headroom  *7 (88 held toward the busiest destination)$' "$TMP/one" || return 1
	# Prometheus.
	grep -q '^ephport_dest_headroom_ports{netns="4026532001",proto="tcp"} 7$' "$TMP/p" &&
		grep -q '^ephport_reserved_ports{netns="4026532001"} 5$' "$TMP/p" &&
		grep -q '^ephport_reserved_ports{netns="4026531840"} 3$' "$TMP/p" &&
		grep -q '^ephport_dest_headroom_ports{netns="4026531840",proto="tcp"} 28219$' "$TMP/p" &&
		grep -q '^ephport_dest_ports_held_max{netns="4026532001",proto="tcp"} 88$' "$TMP/p" &&
		grep -q '^ephport_alarm_basis{basis="dest"} 1$' "$TMP/p" &&
		! grep -q 'dest_headroom_ports{netns="4026532002"' "$TMP/p" &&
		promtool check metrics <"$TMP/p" || return 1
	# --dests: which namespace, then its destinations.
	head -n 1 "$TMP/d" | grep -q '^netns 4026531840 (host), range 32768-60999 (28232 ports), 3 reserved$' &&
		grep -q '^tcp  *192.0.2.1  *80  *10  *0  *28219$' "$TMP/d" &&
		head -n 1 "$TMP/d300" | grep -q '^netns 4026532001 (300/a long command), range 20000-20099 (100 ports), 5 reserved$' &&
		sed -n 2p "$TMP/d300" | grep -q '^PROTO  *DESTINATION  *PORT  *HELD  *TIME_WAIT  *HEADROOM$' &&
		grep -q '^tcp  *10.0.0.7  *5432  *88  *20  *7$' "$TMP/d300" &&
		grep -q '^tcp6  *2001:db8::5  *443  *30  *0  *65$' "$TMP/d300" &&
		[ "$(grep -c '^netns ' "$TMP/dall")" = "$(ls "$R/sys/kernel/ephport/net" | wc -l)" ] &&
		grep -q '^(cannot be read' "$TMP/dall" || return 1
	"$JSONCHECK" <"$TMP/dj" && "$JSONCHECK" <"$TMP/j" &&
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
by = {n["inum"]: n for n in d["namespaces"]}
assert by[4026532001]["dests"][0] == {"proto": "tcp", "daddr": "10.0.0.7",
    "dport": 5432, "held": 88, "time_wait": 20, "headroom": 7}, by[4026532001]
assert by[4026532001]["reserved"] == 5 and by[4026532002]["dests"] is None
j = json.load(open(sys.argv[2]))
assert j["alarm_basis"] == "dest"
n = {x["inum"]: x for x in j["namespaces"]}
assert n[4026532001]["dest_headroom"] == 7 and n[4026532001]["tcp_dest_max"] == 88
assert n[4026532002]["dest_headroom"] is None
' "$TMP/dj" "$TMP/j" || return 1
	# A namespace nothing can enter: one line, exit 1.
	say_one_line stat --dests -n 4026532002 || return 1
	{ stat --dests --prometheus 2>/dev/null; [ $? = 2 ]; } &&
		{ stat --all 2>/dev/null; [ $? = 2 ]; }
	rc=$?
	echo 50 >"$ns/tcp_in_use"
	rm -f "$ns/tcp_dest_max" "$R/sys/kernel/ephport/net/4026531840/tcp_dest_max" \
		"$R/sys/kernel/ephport/alarm_basis"
	rm -rf "$R/proc/300/net" "$R/proc/net" "$R/proc/sys" "$R/proc/self/ns"
	return $rc
}

# Fleet-sized export: idle namespaces left out, the histogram coarse or
# gone; the series of one namespace counted each way.
t_fleet() {
	local d=$R/sys/kernel/ephport/net/4026532009 f full coarse none
	mkns 4026532009 60000 60099 0 0
	for f in tcp_connect_fail tcp_bind_fail udp_fail self_connect; do
		echo 0 >"$d/$f"
	done
	stat --prometheus >"$TMP/p" && stat --prometheus --skip-idle >"$TMP/pi" &&
		stat --skip-idle >"$TMP/t" && stat --json --skip-idle >"$TMP/j" &&
		stat --prometheus --histogram=coarse >"$TMP/pc" &&
		stat --prometheus --histogram=none >"$TMP/pn" || return 1
	cat "$TMP/t"
	# The idle one is there, and not with --skip-idle; a busy one stays.
	grep -q 'netns="4026532009"' "$TMP/p" && ! grep -q 'netns="4026532009"' "$TMP/pi" &&
		grep -q 'netns="4026532001"' "$TMP/pi" &&
		! grep -q '^4026532009 ' "$TMP/t" && grep -q '^4026532001 ' "$TMP/t" &&
		head -n 1 "$TMP/t" | grep -q ' (1 idle not shown)' &&
		! grep -q 4026532009 "$TMP/j" && "$JSONCHECK" <"$TMP/j" &&
		grep -q '^ephport_netns 5$' "$TMP/pi" || return 1
	for f in pi pc pn; do
		promtool check metrics <"$TMP/$f" || return 1
	done
	# Coarse: every fourth bound (16 times apart), +Inf, the same count.
	[ "$(sed -n 's/^ephport_connect_search_seconds_bucket{netns="4026532001",proto="tcp",le="\([^"]*\)"}.*/\1/p' "$TMP/pc" | tr '\n' ' ')" = \
		"0.000001024 0.000016384 0.000262144 0.004194304 0.067108864 1.073741824 +Inf " ] &&
		grep -q '^ephport_connect_search_seconds_count{netns="4026532001",proto="tcp"} 7$' "$TMP/pc" &&
		grep -q '^ephport_connect_search_seconds_bucket{netns="4026532001",proto="tcp",le="0.000016384"} 7$' "$TMP/pc" &&
		! grep -q connect_search "$TMP/pn" || return 1
	full=$(grep -c 'netns="4026532001"' "$TMP/p")
	coarse=$(grep -c 'netns="4026532001"' "$TMP/pc")
	none=$(grep -c 'netns="4026532001"' "$TMP/pn")
	echo "series of a namespace: $full, coarse $coarse, none $none"
	rm -r "$d"
	[ $((full - coarse)) = 16 ] && [ $((full - none)) = 25 ]
}

# Workloads: a namespace's lowest PID's cgroup names its pod, container or
# unit, in every output.
t_workload() {
	local W=$TMP/wl i n paths want got
	rm -rf "$W"
	mkdir -p "$W/sys/kernel/ephport/net" "$W/proc/self" "$W/run"
	echo 0.1.0 >"$W/sys/kernel/ephport/version"
	paths=(
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_0000_4e5f_8a9b_0c1d2e3f4a5b.slice/cri-containerd-0123456789abcdef0123456789abcdef.scope"
		"/kubepods/besteffort/pod1a2b3c4d-0000-4e5f-8a9b-0c1d2e3f4a5c/fedcba9876543210fedcba9876543210"
		"/system.slice/docker-abcdef0123456789abcdef0123456789.scope"
		"/docker/99887766554433221100aabbccddeeff"
		"/machine.slice/libpod-00112233445566778899aabbccddeeff.scope"
		"/system.slice/crio-0a0b0c0d0e0f0a0b0c0d0e0f.scope"
		"/system.slice/nginx.service"
		"/user.slice/user-1000.slice/session-3.scope"
	)
	want=(
		"pod:1a2b3c4d-0000-4e5f-8a9b-0c1d2e3f4a5b/0123456789ab"
		"pod:1a2b3c4d-0000-4e5f-8a9b-0c1d2e3f4a5c/fedcba987654"
		"docker:abcdef012345" "docker:998877665544" "podman:001122334455"
		"crio:0a0b0c0d0e0f" "unit:nginx.service" ""
	)
	n=${#paths[@]}
	for ((i = 0; i < n; i++)); do
		R=$W mkns $((4026533000 + i)) 40000 40099 $((i + 1)) 0
		R=$W mkproc $((700 + i)) sh $((4026533000 + i))
		echo "0::${paths[i]}" >"$W/proc/$((700 + i))/cgroup"
	done
	"$BIN" --root "$W" --json >"$TMP/j" && "$BIN" --root "$W" --prometheus >"$TMP/p" &&
		"$BIN" --root "$W" >"$TMP/t" && "$BIN" --root "$W" -n 700 >"$TMP/one" || return 1
	cat "$TMP/t"
	"$JSONCHECK" <"$TMP/j" && promtool check metrics <"$TMP/p" || return 1
	for ((i = 0; i < n; i++)); do
		got=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
[ns] = [x for x in d["namespaces"] if x["inum"] == int(sys.argv[2])]
print(ns["workload"] or "")' "$TMP/j" $((4026533000 + i)))
		[ "$got" = "${want[i]}" ] || { echo "${paths[i]}: '$got', want '${want[i]}'"; return 1; }
		grep -q "^ephport_netns_info{netns=\"$((4026533000 + i))\",name=\"$((700 + i))/sh\",workload=\"${want[i]}\"} 1\$" "$TMP/p" ||
			{ echo "no info metric for ${want[i]}"; return 1; }
	done
	# The table: under MODE and ALARM on the UDP line, cut to fit.
	grep -q '^4026533006 .* 6 unit:nginx.serv~$' "$TMP/t" &&
		grep -q '^4026533000 .* 6 pod:1a2b3c4d-00~$' "$TMP/t" &&
		grep -q '^4026533007 .* 6$' "$TMP/t" &&
		awk 'length($0) > 80 { exit 1 }' "$TMP/t" &&
		grep -q "^  workload  *${want[0]}\$" "$TMP/one"
}

# --events: the tracepoints through a tracefs instance (made beforehand in
# a test tree, with a FIFO for its trace_pipe), one line or JSON line an
# event, with the namespace's name and the workload of the event's cgroup.
t_events() {
	local T=$R/sys/kernel/tracing/instances/ephportstat cg id w
	mkdir -p "$T/events/ephport"
	echo 0 >"$T/events/ephport/enable"
	rm -f "$T/trace_pipe"
	mkfifo "$T/trace_pipe"
	cg=$R/sys/fs/cgroup/system.slice/docker-0123456789abcdef0123456789abcdef.scope
	mkdir -p "$cg"
	id=$(command stat -c %i "$cg")
	stat --events -c 3 >"$TMP/ev" 2>"$TMP/everr" &
	w=$!
	{
		echo "          <idle>-0       [000] d.s2.   100.000001: sched_switch: not ours"
		echo " ephport_conn-277     [001] ..... 1234.567890: ephport_port_fail: netns=4026532001 op=connect proto=tcp family=inet daddr=10.0.0.7 dport=5432 pid=277 comm=ephport_conn cgroup=$id"
		echo " a b-278     [000] ..... 1234.6: ephport_port_fail: netns=$BLUE op=bind proto=udp family=inet6 daddr=:: dport=0 pid=278 comm=a b cgroup=1"
		echo " x-279     [000] ..... 1234.7: ephport_self_connect: netns=4026599999 op=connect proto=tcp family=inet6 daddr=::1 dport=40001 pid=279 comm=x cgroup=0"
	} >"$T/trace_pipe"
	wait $w || { cat "$TMP/everr"; return 1; }
	cat "$TMP/ev"
	[ "$(cat "$T/events/ephport/enable")" = 0 ] &&
		head -n 1 "$TMP/ev" | grep -q '^TIME  *EVENT  *NETNS  *PID  *COMM  *OP  *PROTO  *DESTINATION  *WORKLOAD$' &&
		grep -q '^[0-9:]\{8\} port_fail  *300/a long comm~  *277 ephport_conn  *connect tcp  *10.0.0.7:5432  *docker:0123456789ab$' "$TMP/ev" &&
		grep -q '^[0-9:]\{8\} port_fail  *aa-blue  *278 a b  *bind  *udp  *-  *-$' "$TMP/ev" &&
		grep -q '^[0-9:]\{8\} self_connect 4026599999  *279 x  *connect tcp  *\[::1\]:40001  *-$' "$TMP/ev" &&
		[ "$(wc -l <"$TMP/ev")" = 4 ] || return 1
	# JSON lines; -n keeps one namespace's.
	stat --events --json -n 300 -c 1 >"$TMP/ev" &
	w=$!
	{
		echo " a b-278     [000] ..... 1234.6: ephport_port_fail: netns=$BLUE op=bind proto=udp family=inet6 daddr=:: dport=0 pid=278 comm=a b cgroup=1"
		echo " ephport_conn-277     [001] ..... 1234.567890: ephport_port_fail: netns=4026532001 op=connect proto=tcp family=inet daddr=10.0.0.7 dport=5432 pid=277 comm=ephport_conn cgroup=$id"
	} >"$T/trace_pipe"
	wait $w || return 1
	cat "$TMP/ev"
	"$JSONCHECK" -l <"$TMP/ev" && [ "$(wc -l <"$TMP/ev")" = 1 ] &&
		python3 -c '
import json, sys
e = json.loads(open(sys.argv[1]).readline())
assert e["event"] == "port_fail" and e["netns"] == 4026532001, e
assert e["name"] == "300/a long command" and e["workload"] == "docker:0123456789ab", e
assert e["cgroup_path"] == "/system.slice/docker-0123456789abcdef0123456789abcdef.scope", e
assert e["daddr"] == "10.0.0.7" and e["dport"] == 5432 and e["comm"] == "ephport_conn", e
' "$TMP/ev" || return 1
	rm -rf "$R/sys/kernel/tracing" "$R/sys/fs"
	# Without the events (the module built without them): one line, exit 1.
	mkdir -p "$R/sys/kernel/tracing/instances"
	say_one_line stat --events -c 1 && grep -q 'with its tracepoints' "$TMP/err"
	rm -rf "$R/sys/kernel/tracing"
}

setup
case_ "names: ip netns, host, PID/comm, none" t_names
case_ "table: what runs out first first, under 80 columns" t_order_width
case_ "absent and unsupported files are -" t_absent
case_ "-n by name, inode, PID, PID/comm, host" t_one
case_ "-n with an unknown name: one line, exit 1" t_one_unknown
case_ "--json: values equal the files" t_json
case_ "--prometheus: promtool check metrics, values" t_prometheus
case_ "alert rules: promtool check rules, test rules" t_alert_rules
case_ "hostile names: JSON, Prometheus, the terminal" t_hostile
case_ "search_ns: le_N and +Inf lines" t_hist_formats
case_ "not loaded: one line, exit 1" t_not_loaded
case_ "unreadable namespace: one line, exit 1" t_unreadable
case_ "a user: this namespace from /proc/net/ephport" t_proc_user
case_ "a container: /proc/net/ephport, no sysfs tree" t_proc_container
case_ "--textfile: atomic, 0644, up 0 when the module is gone" t_textfile
case_ "--textfile -w: follows the module, says each change once" t_textfile_watch
case_ "writing to a full disk fails, in every output" t_write_errors
case_ "usage, --version, bad options" t_usage
case_ "-w refreshes, -c counts" t_watch
case_ "-w: changes since the last screen, lines cleared" t_watch_changes
case_ "-w in a pipe: screens one after the other, no escapes" t_watch_pipe
case_ "-w on a small terminal: what fits, the rest said" t_watch_fit
case_ "--json -w: one object per line" t_json_stream
case_ "ephport-jsoncheck rejects what is not JSON" t_jsoncheck
case_ "--skip-idle, --histogram=coarse|none: fewer series" t_fleet
case_ "workloads from cgroups: pods, containers, units" t_workload
case_ "--events: the tracepoints, with names and workloads" t_events
case_ "headroom: table order, -n, --dests (one, all, JSON), metrics" t_dests
echo "1..$n"
echo "# $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
