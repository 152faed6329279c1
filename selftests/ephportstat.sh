#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ephportstat against the real module: the host, a named (ip netns) and an
# unnamed (unshare) namespace are listed by the right names with exactly the
# values their sysfs files hold, in the table, with -n (name, inode number,
# PID), as JSON (checked by a JSON parser in awk and by ephport-jsoncheck)
# and for Prometheus (checked by promtool when the VM has it, and by a
# format check in awk always); names a tenant chose to break them (bytes
# that are not UTF-8, quotes, backslashes, newlines, controls) and a
# Docker-style mount; the textfile writer; a user and a user namespace
# (a container) see their own namespace; the not-loaded case says so in
# one line and fails.
. "$(dirname "$0")/lib.sh"

DIR=$(cd "$(dirname "$0")" && pwd)
CONN=$DIR/ephport_conn
NAMED=ephst$$
TMP=$(mktemp -d /tmp/ephportstat.XXXXXX)
NINUM=
UINUM=
UPID=
HINUM=
# The hostile-name namespaces: one named by a process's comm, one by an
# ip netns name, one by a mount in /run/docker/netns.
XPID=
XINUM=
ODD=
OINUM=
DOCK=/run/docker/netns/ephdock$$
DINUM=

# ---- helpers ----

ns_of() {
	readlink "/proc/$1/ns/net" 2>/dev/null | tr -cd '0-9'
}

FILES="tcp_in_use udp_in_use tcp_peak udp_peak tcp_connect_ok tcp_connect_fail
	tcp_bind_ok tcp_bind_fail udp_ok udp_fail self_connect alarm tcp_dest_max"

# load INUM: namespace INUM's sysfs values in $v_<file> ("null" if absent or
# not a number), $v_lo, $v_hi, $v_mode ("-" if absent), without a fork:
# the slow kernels are slow at fork.
load() {
	for f in $FILES; do
		v=null
		[ -r "$SYSFS/net/$1/$f" ] && read -r v <"$SYSFS/net/$1/$f"
		case "$v" in
		''|*[!0-9]*) v=null ;;
		esac
		eval "v_$f=\$v"
	done
	read -r v_lo v_hi <"$SYSFS/net/$1/range"
	v_mode=-
	[ -r "$SYSFS/net/$1/mode" ] && read -r v_mode <"$SYSFS/net/$1/mode"
}

# poll SECONDS CMD...: until CMD succeeds.
poll() {
	t=$(($1 * 10))
	shift
	while ! "$@"; do
		t=$((t - 1))
		[ $t -gt 0 ] || return 1
		usleep 100000
	done
}

# Whether PID is in a namespace other than ours.
ns_moved() {
	[ -n "$(ns_of "$1")" ] && [ "$(ns_of "$1")" != "$(ns_of $$)" ]
}

traffic_done() {
	for i in 1 2 3 4 5 6 7; do
		grep -q '^ok' "$TMP/c$i" 2>/dev/null || return 1
	done
}

# Kill every process in the namespace of NSFILE (the traffic of this test):
# "test -ef" compares namespace files without a fork per process (two forks
# per process took 35 s on the KASAN kernel).
kill_ns() {
	pids=
	for p in /proc/[0-9]*; do
		[ "$p" = "/proc/$$" ] && continue
		# shellcheck disable=SC3013 # busybox's test has -ef
		[ "$p/ns/net" -ef "$1" ] && pids="$pids ${p#/proc/}"
	done
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill $pids 2>/dev/null
}

cleanup() {
	[ -n "$UINUM" ] && kill_ns "/proc/$UPID/ns/net"
	[ -n "$NINUM" ] && kill_ns "/run/netns/$NAMED"
	[ -n "$XINUM" ] && kill_ns "/proc/$XPID/ns/net"
	[ -n "$HCONN" ] && kill "$HCONN" 2>/dev/null
	if [ -e "/run/netns/$NAMED" ]; then
		ip netns del "$NAMED" 2>/dev/null ||
			{ umount "/run/netns/$NAMED"; rm -f "/run/netns/$NAMED"; }
	fi
	for f in "/run/netns/$ODD" "$DOCK"; do
		[ -n "$ODD" ] && [ -e "$f" ] && { umount "$f"; rm -f "$f"; }
	done
	[ -d "$SYSFS/net" ] && chmod 0755 "$SYSFS/net/$NINUM" 2>/dev/null
	sed -i '/^ephstat:/d' /etc/passwd /etc/group 2>/dev/null
	rm -rf "$TMP"
	UINUM= NINUM= HCONN= XINUM= ODD=
}

# check NAME CMD...: one KTAP case, passing if CMD does.
check() {
	case_name=$1
	shift
	if "$@"; then
		ktap_test_pass "$case_name"
	else
		ktap_test_fail "$case_name"
	fi
}

# Show a file as KTAP diagnostics, spacing kept.
show() {
	sed 's/^/# /' "$1"
}

say() {
	ktap_print_msg "$*"
	return 1
}

# A JSON parser: fails on anything that is not JSON; prints every scalar
# as path=value (".namespaces.0.inum=4026531840").
json_flat() {
	awk '
	function fail(m) { printf "JSON error at byte %d: %s\n", pos, m > "/dev/stderr"; bad = 1; exit 1 }
	function ch() { return substr(s, pos, 1) }
	function ws() { while (pos <= n && index(" \t\r\n", ch())) pos++ }
	function str(   out, c, e) {
		pos++
		out = ""
		for (;;) {
			if (pos > n) fail("unterminated string")
			c = ch()
			if (c == "\"") { pos++; return out }
			if (c == "\\") {
				e = substr(s, pos + 1, 1)
				if (index("\"\\/bfnrt", e)) { out = out e; pos += 2; continue }
				if (e == "u" && substr(s, pos + 2, 4) ~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/) { out = out "?"; pos += 6; continue }
				fail("bad escape")
			}
			if (c == "\n" || c == "\t") fail("control character in string")
			out = out c
			pos++
		}
	}
	function value(path,   c, t) {
		ws()
		c = ch()
		if (c == "{") return object(path)
		if (c == "[") return array(path)
		if (c == "\"") { t = str(); print path "=" t; return }
		if (substr(s, pos, 4) == "true" || substr(s, pos, 4) == "null") { print path "=" substr(s, pos, 4); pos += 4; return }
		if (substr(s, pos, 5) == "false") { print path "=false"; pos += 5; return }
		t = substr(s, pos)
		if (match(t, /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) { print path "=" substr(t, 1, RLENGTH); pos += RLENGTH; return }
		fail("unexpected \"" c "\"")
	}
	function object(path,   k, c) {
		pos++
		ws()
		if (ch() == "}") { pos++; return }
		for (;;) {
			ws()
			if (ch() != "\"") fail("key expected")
			k = str()
			ws()
			if (ch() != ":") fail(": expected")
			pos++
			value(path "." k)
			ws()
			c = ch()
			pos++
			if (c == "}") return
			if (c != ",") fail(", or } expected")
		}
	}
	function array(path,   i, c) {
		pos++
		ws()
		if (ch() == "]") { pos++; return }
		for (i = 0; ; i++) {
			value(path "." i)
			ws()
			c = ch()
			pos++
			if (c == "]") return
			if (c != ",") fail(", or ] expected")
		}
	}
	{ s = s $0 "\n" }
	END {
		if (bad) exit 1
		n = length(s)
		pos = 1
		ws()
		if (pos > n) fail("empty")
		value("")
		ws()
		if (pos <= n) fail("trailing text")
	}'
}

# The Prometheus text format, checked the way the exposition format
# defines it: HELP/TYPE before a family's samples, families contiguous,
# counters named *_total, histograms with cumulative buckets ending in
# +Inf, names and labels well-formed.
prom_check() {
	awk '
	function fail(m) { printf "line %d: %s: %s\n", NR, m, $0 > "/dev/stderr"; bad = 1; exit 1 }
	/^# HELP / {
		if ($3 !~ /^ephport_[a-z0-9_]+$/) fail("bad name")
		if (help[$3]++) fail("second HELP")
		next
	}
	/^# TYPE / {
		if (type[$3] != "") fail("second TYPE")
		if ($4 !~ /^(counter|gauge|histogram)$/) fail("bad type")
		if (!help[$3]) fail("TYPE without HELP")
		if ($4 == "counter" && $3 !~ /_total$/) fail("counter not named _total")
		if ($4 != "counter" && $3 ~ /_total$/) fail("_total on a non-counter")
		type[$3] = $4
		if (done[$3]) fail("family split")
		if (fam != "") done[fam] = 1
		fam = $3
		next
	}
	/^#/ || /^$/ { fail("stray line") }
	{
		line = $0
		if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) fail("bad sample name")
		name = substr(line, 1, RLENGTH)
		rest = substr(line, RLENGTH + 1)
		base = name
		if (type[fam] == "histogram") sub(/_(bucket|count|sum)$/, "", base)
		if (base != fam) fail("sample outside its family " fam)
		labels = ""
		if (substr(rest, 1, 1) == "{") {
			if (!match(rest, /^\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",)*[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"\}/))
				fail("bad labels")
			labels = substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
		}
		if (rest !~ /^ (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[-+]Inf|NaN)$/) fail("bad value")
		if (seen[name labels]++) fail("duplicate sample")
		v = substr(rest, 2) + 0
		if (name ~ /_bucket$/) {
			key = labels
			sub(/,le="[^"]*"\}$/, "}", key)
			if (key == lastkey && v < lastv) fail("buckets not cumulative")
			lastkey = key
			lastv = v
			if (labels ~ /le="\+Inf"/) inf[key] = v
		}
		if (name ~ /_count$/ && type[fam] == "histogram") {
			if (!(labels in inf)) fail("_count without a +Inf bucket")
			if (inf[labels] != v) fail("_count differs from +Inf bucket")
		}
	}
	END { if (!bad && !NR) { print "empty" > "/dev/stderr"; exit 1 } }'
}

# cell A [B]: $T, the table cell of a value or of the sum of two ("-": null).
cell() {
	if [ "$1" = null ] && [ "${2:-null}" = null ]; then
		T=-
	elif [ "$1" = null ]; then
		T=$2
	elif [ "${2:-null}" = null ]; then
		T=$1
	else
		T=$(($1 + $2))
	fi
}

# ns_file INUM: $F, a file to enter namespace INUM by ("" if not ours).
ns_file() {
	case $1 in
	"$HINUM") F=/proc/1/ns/net ;;
	"$NINUM") F=/run/netns/$NAMED ;;
	"$UINUM") F=/proc/$UPID/ns/net ;;
	*) F= ;;
	esac
}

# headroom_want INUM: $H, the connect()s left toward namespace INUM's busiest
# destination: its range, less its ip_local_reserved_ports in the range,
# less tcp_dest_max (after load INUM); "-" without tcp_dest_max, "?" for a
# namespace this test did not make.
headroom_want() {
	ns_file "$1"
	H=-
	[ "$v_tcp_dest_max" = null ] && return
	[ -n "$F" ] || { H="?"; return; }
	reserved=$(nsenter --net="$F" cat /proc/sys/net/ipv4/ip_local_reserved_ports |
		awk -v lo="$v_lo" -v hi="$v_hi" -F, '{
			for (i = 1; i <= NF; i++) {
				n = split($i, r, "-"); a = r[1]; b = n > 1 ? r[2] : r[1]
				if (a < lo) a = lo; if (b > hi) b = hi
				if (b >= a) c += b - a + 1
			}
		} END { print c + 0 }')
	H=$((v_hi - v_lo + 1 - reserved - v_tcp_dest_max))
	[ $H -ge 0 ] || H=0
}

# The expected table rows of namespace INUM called NAME, fields single-spaced.
table_want() {
	load "$1"
	headroom_want "$1"
	size=$((v_hi - v_lo + 1))
	case $v_alarm in
	0) alarm=off ;;
	1) alarm=ON ;;
	*) alarm=- ;;
	esac
	for p in tcp udp; do
		eval "used=\$v_${p}_in_use peak=\$v_${p}_peak"
		pm=$((used * 1000 / size))
		cell "$peak"
		peak=$T
		if [ $p = tcp ]; then
			cell "$v_tcp_connect_fail" "$v_tcp_bind_fail"
			echo "$2 $v_lo-$v_hi tcp $used $((pm / 10))% $H $peak $T $v_mode $alarm"
		else
			cell "$v_udp_fail"
			echo "$1 $size ports udp $used $((pm / 10))% $peak $T"
		fi
	done
}

# The table's rows for namespace INUM, fields single-spaced.
table_got() {
	awk -v inum="$1" '{ prev = cur; cur = $0 } $1 == inum && $4 == "udp" { print prev; print cur }' "$2" |
		tr -s ' ' | sed 's/ $//'
}

# want_name INUM: $W, the name the test expects for namespace INUM.
want_name() {
	case $1 in
	"$HINUM") W=host ;;
	"$NINUM") W=$NAMED ;;
	"$UINUM") W=$UPID/sleep ;;
	*) W="?" ;;
	esac
}

# ---- the cases ----

case_not_loaded() {
	ok=0
	for args in "" "-n host" "--json" "--prometheus"; do
		ephportstat $args >"$TMP/out" 2>"$TMP/err"
		rc=$?
		lines=$(cat "$TMP/out" "$TMP/err" | wc -l)
		ktap_print_msg "ephportstat $args: rc $rc: $(cat "$TMP/err")"
		[ $rc != 0 ] && [ ! -s "$TMP/out" ] && [ "$lines" = 1 ] &&
			grep -q 'not loaded' "$TMP/err" || ok=1
	done
	# The textfile says the module is not there: ephport_up 0 alone.
	mkdir -p "$TMP/tfdown"
	ephportstat --textfile "$TMP/tfdown/ephport.prom" 2>"$TMP/err" && ok=1
	ktap_print_msg "--textfile: $(grep '^ephport_' "$TMP/tfdown/ephport.prom" 2>/dev/null)"
	[ "$(grep '^ephport_' "$TMP/tfdown/ephport.prom" 2>/dev/null)" = "ephport_up 0" ] || ok=1
	return $ok
}

setup() {
	mkdir -p /run/netns
	if ip netns add "$NAMED" 2>/dev/null; then
		ktap_print_msg "named namespace by ip netns add"
	else
		# busybox ip has no netns: do what it does, by hand.
		unshare -n sleep 600 &
		p=$!
		poll 10 ns_moved $p || return 1
		touch "/run/netns/$NAMED"
		mount --bind "/proc/$p/ns/net" "/run/netns/$NAMED" || return 1
		kill $p
		ktap_print_msg "named namespace by unshare -n and a bind mount"
	fi
	NINUM=$(stat -L -c %i "/run/netns/$NAMED")
	HINUM=$(ns_of 1)

	# Named: 10 ports, TCP 5 connects and 4 binds held (90%: the alarm),
	# UDP 8 held, then 3 UDP failures. Each traffic maker says "ok N fail
	# M" in $TMP/cN when it is done: the values are still from then on.
	nsenter --net="/run/netns/$NAMED" sh -c "
		ip link set lo up
		echo '40000 40009' >/proc/sys/net/ipv4/ip_local_port_range
		$CONN -n 5 -s 600 -q 2>$TMP/c1 &
		$CONN -m udp -n 8 -s 600 -q 2>$TMP/c2 &
		i=0
		while ! grep -q ok $TMP/c2 && [ \$i -lt 600 ]; do
			usleep 100000
			i=\$((i + 1))
		done
		$CONN -m udp -n 5 -q 2>$TMP/c3
		$CONN -m bind -n 4 -s 600 -q 2>$TMP/c4 &
	"
	# Unnamed: a shell in its own namespace, which becomes "sleep".
	unshare -n sh -c "
		ip link set lo up
		echo '20000 20099' >/proc/sys/net/ipv4/ip_local_port_range
		$CONN -n 7 -s 600 -q 2>$TMP/c5 &
		$CONN -m udp -n 3 -s 600 -q 2>$TMP/c6 &
		exec sleep 600
	" &
	UPID=$!
	poll 20 grep -qx sleep "/proc/$UPID/comm" || return 1
	UINUM=$(ns_of $UPID)
	# Host: a few connects.
	"$CONN" -n 3 -s 600 -q 2>"$TMP/c7" &
	HCONN=$!
	poll 60 traffic_done || return 1
	cat "$TMP"/c? | sed 's/^/# traffic: /'
	# A reserved port in the named namespace's range (and one outside):
	# the table's headroom leaves it out, read by entering the namespace.
	echo "40009,12345" | nsenter --net="/run/netns/$NAMED" \
		sh -c 'cat >/proc/sys/net/ipv4/ip_local_reserved_ports' || return 1
	ktap_print_msg "host $HINUM, $NAMED $NINUM, unnamed $UINUM (pid $UPID)"
	[ -n "$NINUM" ] && [ -n "$UINUM" ] && [ -n "$HINUM" ] &&
		[ -d "$SYSFS/net/$NINUM" ] && [ -d "$SYSFS/net/$UINUM" ] &&
		[ -d "$SYSFS/net/$HINUM" ]
}

# try CMD...: CMD, again up to twice if it fails (the values may move
# between the tool's read and the test's, e.g. a TIME_WAIT ending).
try() {
	"$@" 2>/dev/null || { sleep 1; "$@" 2>/dev/null; } || { sleep 1; "$@"; }
}

table_names() {
	ephportstat >"$TMP/table" || return 1
	show "$TMP/table"
	for inum in $HINUM $NINUM $UINUM; do
		got=$(table_got "$inum" "$TMP/table" | head -n 1 | cut -d' ' -f1)
		want_name "$inum"
		[ "$got" = "$W" ] || say "$inum: named '$got', want '$W'" || return 1
	done
}

table_values() {
	ephportstat >"$TMP/table" || return 1
	n=0
	for d in "$SYSFS"/net/*; do
		inum=${d##*/}
		n=$((n + 1))
		want_name "$inum"
		want=$(table_want "$inum" "$W")
		got=$(table_got "$inum" "$TMP/table")
		if [ "$W" = "?" ]; then
			# Not made by this test: check the values, not the name
			# nor the headroom (its reserved ports are not known here).
			want=$(echo "$want" | cut -d' ' -f2-5,7-)
			got=$(echo "$got" | cut -d' ' -f2-5,7-)
		fi
		[ "$got" = "$want" ] || say "$inum: got '$got', want '$want'" || return 1
	done
	rows=$(awk '$4 == "udp"' "$TMP/table" | wc -l)
	[ "$rows" = $n ] || say "$rows namespaces in the table, $n in sysfs"
}

table_order() {
	ephportstat >"$TMP/table" || return 1
	# What runs out first comes first: the larger of the USE%s and of the
	# share of the range gone toward the busiest destination (100 -
	# HEADROOM * 100 / size, in whole percent: the tool compares tenths)
	# never increases.
	awk 'NR > 2 && $3 == "tcp" { t = $5 + 0; split($2, r, "-"); s = r[2] - r[1] + 1
		d = $6 == "-" ? 0 : int((s - $6) * 100 / s) }
	NR > 2 && $4 == "udp" {
		u = $6 + 0; m = t > u ? t : u; m = d > m ? d : m
		if (NR > 4 && m > last) { print "not sorted at " $1; exit 1 }
		last = m }' "$TMP/table" &&
	awk 'length($0) > 80 { print "too wide: " $0; exit 1 }' "$TMP/table"
}

# one_check ARG INUM: -n ARG shows namespace INUM with its values.
one_check() {
	ephportstat -n "$1" >"$TMP/one" || return 1
	want_name "$2"
	load "$2"
	head -n 1 "$TMP/one" | grep -qx "netns $2 ($W)" ||
		say "-n $1: $(head -n 1 "$TMP/one")" || return 1
	want="in use $v_tcp_in_use $v_udp_in_use"
	got=$(grep '^  in use ' "$TMP/one" | tr -s ' ' | sed 's/^ //')
	[ "$got" = "$want" ] || say "-n $1: '$got', want '$want'" || return 1
	want="peak $v_tcp_peak $v_udp_peak"
	got=$(grep '^  peak ' "$TMP/one" | tr -s ' ' | sed 's/^ //')
	[ "$got" = "$want" ] || say "-n $1: '$got', want '$want'" || return 1
	if grep -q unsupported "$SYSFS/net/$2/search_ns"; then
		grep -q 'search time: -' "$TMP/one"
		return
	fi
	total=$(awk '{ s += $2 } END { print s + 0 }' "$SYSFS/net/$2/search_ns")
	grep -q "search time ($total searches[,)]" "$TMP/one" ||
		say "-n $1: want $total searches: $(grep 'search time' "$TMP/one")"
}

one_histogram() {
	ephportstat -n "$NAMED" >"$TMP/one" || return 1
	show "$TMP/one"
	load "$NINUM"
	[ "$v_tcp_connect_ok" = null ] && return 0
	grep -q 'search time (' "$TMP/one"
}

json_parses() {
	ephportstat --json >"$TMP/json" || return 1
	ephport-jsoncheck <"$TMP/json" || return 1
	json_flat <"$TMP/json" >"$TMP/flat" || return 1
	grep -q '^\.namespaces\.0\.inum=' "$TMP/flat"
}

json_values() {
	ephportstat --json >"$TMP/json" || return 1
	json_flat <"$TMP/json" >"$TMP/flat" || return 1
	# What the JSON says, keyed by inode: "INUM.key=value".
	awk '/^\.namespaces\.[0-9]+\./ {
		split($0, p, ".")
		sub(/^\.namespaces\.[0-9]+\./, "")
		if ($0 ~ /^inum=/) { inum[p[3]] = substr($0, 6); n++ }
		line[p[3], ++cnt[p[3]]] = $0
		next
	}
	{ print }
	END {
		for (i = 0; i < n; i++)
			for (j = 1; j <= cnt[i]; j++)
				print inum[i] "." line[i, j]
	}' "$TMP/flat" >"$TMP/got"
	# What sysfs says.
	{
		read -r v <"$SYSFS/netns"
		echo ".netns=$v"
		read -r v <"$SYSFS/version"
		echo ".version=$v"
		for d in "$SYSFS"/net/*; do
			inum=${d##*/}
			load "$inum"
			want_name "$inum"
			[ "$W" = "?" ] || echo "$inum.name=$W"
			echo "$inum.inum=$inum"
			echo "$inum.range.lo=$v_lo"
			echo "$inum.range.hi=$v_hi"
			for f in $FILES; do
				eval "echo \"$inum.$f=\$v_$f\""
			done
			read -r v <"$d/search_ns_sum"
			case "$v" in
			''|*[!0-9]*) v=null ;;
			esac
			echo "$inum.search_ns_sum=$v"
			grep -q unsupported "$d/search_ns" ||
				awk -v i="$inum" '{ k = i ".search_ns." NR - 1
					print k ".le=" $1; print k ".count=" $2 }' "$d/search_ns"
		done
	} >"$TMP/want"
	missing=$(grep -vxFf "$TMP/got" "$TMP/want")
	[ -z "$missing" ] || say "JSON lacks or differs: $(echo $missing)" || return 1
	[ "$(grep -c '^[0-9]*\.inum=' "$TMP/got")" = "$(ls "$SYSFS/net" | wc -l)" ] ||
		say "not every namespace once in JSON"
}

prom_format() {
	ephportstat --prometheus >"$TMP/prom" || return 1
	prom_check <"$TMP/prom"
}

prom_promtool() {
	ephportstat --prometheus >"$TMP/prom" || return 1
	promtool check metrics <"$TMP/prom" >"$TMP/promtool" 2>&1
	rc=$?
	show "$TMP/promtool"
	return $rc
}

prom_values() {
	ephportstat --prometheus >"$TMP/prom" || return 1
	# The named namespace's part, for the log (empty buckets left out).
	awk -v n="netns=\"$NINUM\"" '/^# HELP/ { h = $0 } /^# TYPE/ { t = $0 }
		index($0, n) && !/_bucket.*le="[0-9.]*"} 0$/ {
			if (h) print h; if (t) print t; h = t = ""; print }' "$TMP/prom" |
		sed 's/^/# /'
	for inum in $HINUM $NINUM $UINUM; do
		want_name "$inum"
		load "$inum"
		echo "ephport_netns_info{netns=\"$inum\",name=\"$W\",workload=\"\"} 1"
		l="netns=\"$inum\""
		for m in \
			"range_low{$l} $v_lo" \
			"range_high{$l} $v_hi" \
			"ports_in_use{$l,proto=\"tcp\"} $v_tcp_in_use" \
			"ports_in_use{$l,proto=\"udp\"} $v_udp_in_use" \
			"ports_peak{$l,proto=\"tcp\"} $v_tcp_peak" \
			"ports_peak{$l,proto=\"udp\"} $v_udp_peak" \
			"connect_ok_total{$l,proto=\"tcp\"} $v_tcp_connect_ok" \
			"connect_fail_total{$l,proto=\"tcp\"} $v_tcp_connect_fail" \
			"bind_ok_total{$l,proto=\"tcp\"} $v_tcp_bind_ok" \
			"bind_fail_total{$l,proto=\"tcp\"} $v_tcp_bind_fail" \
			"bind_ok_total{$l,proto=\"udp\"} $v_udp_ok" \
			"bind_fail_total{$l,proto=\"udp\"} $v_udp_fail" \
			"self_connect_total{$l,proto=\"tcp\"} $v_self_connect" \
			"alarm{$l} $v_alarm"; do
			# A value this kernel does not provide is left out.
			case "$m" in
			*" null") ;;
			*) echo "ephport_$m" ;;
			esac
		done
	done >"$TMP/want"
	missing=$(grep -vxFf "$TMP/prom" "$TMP/want")
	[ -z "$missing" ] || say "missing: $missing"
}

frames() {
	[ "$(grep -c '^NETNS' "$TMP/watch")" -ge 3 ]
}

watch_refreshes() {
	ephportstat -w 0.5 >"$TMP/watch" 2>&1 &
	p=$!
	poll 60 frames
	kill $p
	wait $p 2>/dev/null
	printf '\033' >"$TMP/esc"
	escapes=$(grep -c -F -f "$TMP/esc" "$TMP/watch")
	ktap_print_msg "-w 0.5 to a file: $(grep -c '^NETNS' "$TMP/watch") tables, $escapes lines with escapes"
	# Not a terminal: screens one after the other, no cursor movement.
	frames && [ "$escapes" = 0 ] || return 1
	# -c: that many screens, then exit 0, a blank line between them.
	ephportstat -w 0.5 -c 2 >"$TMP/watch" || return 1
	ktap_print_msg "-w 0.5 -c 2: $(grep -c '^NETNS' "$TMP/watch") tables"
	[ "$(grep -c '^NETNS.* OK ' "$TMP/watch")" = 2 ] &&
		[ "$(grep -c '^Every 0.5s' "$TMP/watch")" = 2 ] &&
		! grep -q -F -f "$TMP/esc" "$TMP/watch"
}

textfile() {
	mkdir -p "$TMP/tf"
	(umask 077 && ephportstat --textfile "$TMP/tf/ephport.prom") || return 1
	f=$TMP/tf/ephport.prom
	[ "$(stat -c %a "$f")" = 644 ] || say "mode $(stat -c %a "$f"), want 644" || return 1
	[ "$(ls -A "$TMP/tf")" = ephport.prom ] || say "left: $(ls -A "$TMP/tf")" || return 1
	promtool check metrics <"$f" >"$TMP/promtool" 2>&1 || { show "$TMP/promtool"; return 1; }
	prom_check <"$f" || return 1
	grep -qx 'ephport_up 1' "$f" || say "no ephport_up 1" || return 1
	read -r pct <"$SYSFS/alarm_pct"
	ratio=$(awk -v p="$pct" 'BEGIN { printf "%g", p / 100 }')
	grep -qx "ephport_alarm_threshold_ratio $ratio" "$f" ||
		say "no ephport_alarm_threshold_ratio $ratio" || return 1
	grep -qx "ephport_netns_info{netns=\"$NINUM\",name=\"$NAMED\",workload=\"\"} 1" "$f" ||
		say "no info metric for $NAMED" || return 1
	# The histogram's sum, in seconds: the module's nanoseconds.
	read -r sum <"$SYSFS/net/$NINUM/search_ns_sum"
	got=$(sed -n "s/^ephport_connect_search_seconds_sum{netns=\"$NINUM\",proto=\"tcp\"} //p" "$f")
	want=$(awk -v n="$sum" 'BEGIN { printf "%.9f", n / 1e9 }')
	awk -v g="$got" -v w="$want" 'BEGIN { exit !(g != "" && g + 0 == w + 0 && w > 0) }' ||
		say "_sum '$got', want $want (search_ns_sum $sum)"
}

user_setup() {
	grep -q '^ephstat:' /etc/passwd 2>/dev/null ||
		echo 'ephstat:x:65534:65534:ephstat:/:/bin/sh' >>/etc/passwd
	grep -q '^ephstat:' /etc/group 2>/dev/null ||
		echo 'ephstat:x:65534:' >>/etc/group
}

# A user may not read the namespace files (0400): the own namespace from
# /proc/net/ephport, the same values; another namespace: one line, exit 1.
as_user() {
	user_setup
	su -s /bin/sh ephstat -c ephportstat >"$TMP/out" 2>"$TMP/err"
	rc=$?
	show "$TMP/out"
	[ $rc = 0 ] && [ ! -s "$TMP/err" ] || say "as uid 65534: rc $rc: $(cat "$TMP/err")" || return 1
	head -n 1 "$TMP/out" | grep -q '^ephport .*, this namespace only' || return 1
	[ "$(awk '$4 == "udp"' "$TMP/out" | wc -l)" = 1 ] || say "not one namespace" || return 1
	want=$(table_want "$HINUM" x | cut -d' ' -f2-)
	got=$(table_got "$HINUM" "$TMP/out" | cut -d' ' -f2-)
	[ "$got" = "$want" ] || say "got '$got', want '$want'" || return 1
	su -s /bin/sh ephstat -c "ephportstat -n $NINUM" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	ktap_print_msg "as uid 65534, -n $NINUM: rc $rc: $(cat "$TMP/err")"
	[ $rc = 1 ] && [ ! -s "$TMP/out" ] &&
		[ "$(wc -l <"$TMP/err")" = 1 ] && grep -q 'Permission denied' "$TMP/err"
}

# A container: root of its own user namespace, which owns nothing in
# sysfs, in a new network namespace: that namespace, from /proc/net/ephport.
as_container() {
	user_setup
	su -s /bin/sh ephstat -c "unshare -rn ephportstat --json" >"$TMP/cj" 2>"$TMP/err"
	rc=$?
	[ $rc = 0 ] || say "unshare -rn ephportstat: rc $rc: $(cat "$TMP/err")" || return 1
	ephport-jsoncheck <"$TMP/cj" && json_flat <"$TMP/cj" >"$TMP/cflat" || return 1
	inum=$(sed -n 's/^\.namespaces\.0\.inum=//p' "$TMP/cflat")
	ktap_print_msg "in a user namespace: namespace $inum"
	grep -qx '\.source=/proc/net/ephport' "$TMP/cflat" &&
		[ "$(grep -c '^\.namespaces\.[0-9]*\.inum=' "$TMP/cflat")" = 1 ] &&
		[ -n "$inum" ] && [ "$inum" != "$HINUM" ] && [ "$inum" != "$NINUM" ] &&
		grep -qx '\.namespaces\.0\.tcp_in_use=0' "$TMP/cflat" &&
		grep -qx '\.namespaces\.0\.range\.lo=[0-9]*' "$TMP/cflat"
}

# The names a tenant can choose: a process renames itself (what prctl
# PR_SET_NAME does) to bytes that are not UTF-8, a newline, a quote, a
# backslash and a control; an ip netns name with such bytes; a namespace
# mounted where Docker mounts its own.
hostile_setup() {
	printf '%s\n' "printf '\\377\\376\\n\"\\\\\\001x' >/proc/self/comm" \
		'sleep 600' >"$TMP/rename.sh"
	unshare -n sh "$TMP/rename.sh" &
	XPID=$!
	poll 10 ns_moved $XPID || return 1
	XINUM=$(ns_of $XPID)
	comm_renamed() { [ "$(wc -c <"/proc/$XPID/comm")" = 8 ]; }
	poll 10 comm_renamed || say "comm not renamed" || return 1
	ODD=$(printf 'ephodd%s\377"\\\001\nz' $$)
	mkdir -p /run/netns /run/docker/netns
	unshare -n sleep 600 &
	p=$!
	unshare -n sleep 600 &
	q=$!
	poll 10 ns_moved $p && poll 10 ns_moved $q || return 1
	touch "/run/netns/$ODD" "$DOCK"
	mount --bind "/proc/$p/ns/net" "/run/netns/$ODD" &&
		mount --bind "/proc/$q/ns/net" "$DOCK" || return 1
	kill $p $q
	OINUM=$(stat -L -c %i "/run/netns/$ODD")
	DINUM=$(stat -L -c %i "$DOCK")
	ktap_print_msg "hostile comm $XINUM (pid $XPID), odd ip netns name $OINUM, $DOCK $DINUM"
	[ -d "$SYSFS/net/$XINUM" ] && [ -d "$SYSFS/net/$OINUM" ] && [ -d "$SYSFS/net/$DINUM" ]
}

hostile_prom() {
	ephportstat --prometheus >"$TMP/hprom" || return 1
	promtool check metrics <"$TMP/hprom" >"$TMP/promtool" 2>&1
	rc=$?
	show "$TMP/promtool"
	[ $rc = 0 ] && prom_check <"$TMP/hprom" || return 1
	# U+FFFD for what is not UTF-8; \n, \" and \\ escaped; the rest as is.
	for want in \
		"$(printf 'ephport_netns_info{netns="%s",name="%s/\357\277\275\357\277\275\134n\134\042\134\134\001x",workload=""} 1' "$XINUM" "$XPID")" \
		"$(printf 'ephport_netns_info{netns="%s",name="ephodd%s\357\277\275\134\042\134\134\001\134nz",workload=""} 1' "$OINUM" $$)"; do
		grep -qxF -- "$want" "$TMP/hprom" || say "not in the output: $want" || return 1
	done
}

hostile_json() {
	ephportstat --json >"$TMP/hjson" || return 1
	ephport-jsoncheck <"$TMP/hjson" && json_flat <"$TMP/hjson" >/dev/null || return 1
	ephportstat --json -w 0.5 -c 2 >"$TMP/hjl" || return 1
	ephport-jsoncheck -l <"$TMP/hjl" || return 1
	[ "$(wc -l <"$TMP/hjl")" = 2 ] || say "-w 0.5 -c 2: $(wc -l <"$TMP/hjl") lines" || return 1
	for want in \
		"$(printf '"comm": "\134ufffd\134ufffd\134n\134\042\134\134\134u0001x"')" \
		"$(printf '"name": "%s/\134ufffd\134ufffd\134n\134\042\134\134\134u0001x"' "$XPID")" \
		"$(printf '"name": "ephodd%s\134ufffd\134\042\134\134\134u0001\134nz"' $$)"; do
		grep -qF -- "$want" "$TMP/hjson" || say "not in the output: $want" || return 1
	done
}

hostile_table() {
	ephportstat >"$TMP/ht" && ephportstat -n "$XPID" >"$TMP/hn" &&
		ephportstat -n "$ODD" >"$TMP/ho" || return 1
	show "$TMP/ht"
	head -q -n 1 "$TMP/hn" "$TMP/ho" | sed 's/^/# /'
	# Printable ASCII only (the names have no valid non-ASCII character).
	n=$(cat "$TMP/ht" "$TMP/hn" "$TMP/ho" | tr -d '\n -~' | wc -c)
	[ "$n" = 0 ] || say "$n bytes that are not printable" || return 1
	awk 'length($0) > 80 { print "too wide: " $0; exit 1 }' "$TMP/ht" &&
		head -n 1 "$TMP/hn" | grep -qxF "netns $XINUM ($XPID/???\"\\?x)" &&
		head -n 1 "$TMP/ho" | grep -qxF "netns $OINUM (ephodd$$?\"\\??z)"
}

# tracefs, mounted if it is not: 0, or 1 if this kernel has none.
have_tracefs() {
	[ -d /sys/kernel/tracing/instances ] ||
		mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	[ -d /sys/kernel/tracing/instances ]
}

ev_instance() {
	[ -d "/sys/kernel/tracing/instances/ephportstat.$1" ]
}

# The instance records ephport's events (they are enabled after it is
# made: a failure before that is not seen).
ev_enabled() {
	[ "$(cat "/sys/kernel/tracing/instances/ephportstat.$1/events/ephport/enable" 2>/dev/null)" = 1 ]
}

# --events: a UDP autobind that finds no port in the named namespace (its
# 10 ports: 8 held, 2 free, 3 asked) is one line, with the namespace's name
# and the process; the tracefs instance is gone after.
events_live() {
	ephportstat --events --json -c 1 >"$TMP/ev" 2>&1 &
	p=$!
	poll 30 ev_enabled $p || { kill $p; show "$TMP/ev"; say "no tracefs instance with the events"; return 1; }
	i=/sys/kernel/tracing/instances/ephportstat.$p
	read -r before <"$SYSFS/net/$NINUM/udp_fail"
	nsenter --net="/run/netns/$NAMED" $CONN -m udp -n 3 -q 2>"$TMP/c8"
	read -r after <"$SYSFS/net/$NINUM/udp_fail"
	ktap_print_msg "udp_fail $before -> $after; $(cat "$TMP/c8"); enable $(cat "$i/events/ephport/enable" 2>&1)"
	poll 30 grep -q port_fail "$TMP/ev" || {
		kill $p
		show "$TMP/ev"
		ktap_print_msg "the instance's trace: $(cat "$i/trace" 2>&1 | grep -v '^#' | head -n 3)"
		return 1
	}
	wait $p || { show "$TMP/ev"; return 1; }
	show "$TMP/ev"
	grep -q "\"event\": \"port_fail\", \"netns\": $NINUM, \"name\": \"$NAMED\"," "$TMP/ev" ||
		{ say "no port_fail line naming $NAMED"; return 1; }
	grep -q '"comm": "ephport_conn", "op": "bind", "proto": "udp"' "$TMP/ev" ||
		{ say "no line of ephport_conn's UDP bind"; return 1; }
	ephport-jsoncheck -l <"$TMP/ev" || { say "not JSON lines"; return 1; }
	# tracefs may finish removing the instance after the tool's exit.
	poll 10 ev_gone $p || { say "the tracefs instance was left behind"; return 1; }
}

ev_gone() {
	! ev_instance "$1"
}

# --dests --all: every namespace, each with its line; the named one's
# busiest destination holds tcp_dest_max ports.
dests_all() {
	ephportstat --dests --all >"$TMP/dall" || return 1
	show "$TMP/dall"
	read -r max <"$SYSFS/net/$NINUM/tcp_dest_max"
	[ "$(grep -c '^netns ' "$TMP/dall")" = "$(ls "$SYSFS/net" | wc -l)" ] &&
		grep -q "^netns $NINUM ($NAMED), range 40000-40009 (10 ports), 1 reserved\$" "$TMP/dall" &&
		awk -v n="netns $NINUM " -v m="$max" 'index($0, n) == 1 { f = 1; next }
			f && $1 ~ /^tcp/ { exit !($4 == m) }' "$TMP/dall"
}

# As lsns shows it: a namespace's nsfs file mounted outside /run/netns.
docker_name() {
	ephportstat >"$TMP/table" && ephportstat -n "ephdock$$" >"$TMP/one" || return 1
	got=$(table_got "$DINUM" "$TMP/table" | head -n 1 | cut -d' ' -f1)
	[ "$got" = "ephdock$$" ] || say "$DINUM: named '$got'" || return 1
	head -n 2 "$TMP/one" | sed 's/^/# /'
	head -n 1 "$TMP/one" | grep -qxF "netns $DINUM (ephdock$$)" &&
		grep -q "^  mounted at  *$DOCK\$" "$TMP/one"
}

# ---- main ----

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }
[ -f "$EPHPORT_KO" ] || { ktap_skip_all "no $EPHPORT_KO"; exit "$KSFT_SKIP"; }
command -v ephportstat >/dev/null ||
	{ ktap_skip_all "no ephportstat in PATH"; exit "$KSFT_SKIP"; }
ktap_set_plan 25
trap cleanup EXIT

ephport_unload
check "not loaded: one line, exit 1" case_not_loaded

dmesg_mark ephportstat
ephport_load || { ktap_exit_fail_msg "insmod ephport failed"; }
if ! setup; then
	ktap_print_msg "setting up the namespaces failed"
fi
check "table: host, named and unnamed namespaces by name" table_names
check "table: every namespace, values equal sysfs" try table_values
check "table: what runs out first first, within 80 columns" table_order
check "-n NAME" try one_check "$NAMED" "$NINUM"
check "-n INUM" try one_check "$UINUM" "$UINUM"
check "-n PID" try one_check "$UPID" "$UINUM"
check "-n host" try one_check host "$HINUM"
check "-n: search time histogram" one_histogram
check "--json parses" json_parses
check "--json: values equal sysfs" try json_values
check "--prometheus: exposition format" prom_format
if command -v promtool >/dev/null; then
	check "--prometheus: promtool check metrics" prom_promtool
else
	ktap_test_skip "--prometheus: promtool check metrics (no promtool in the VM)"
fi
check "--prometheus: values equal sysfs" try prom_values
check "-w: screens one after the other in a file" watch_refreshes
check "--textfile: written whole, 0644, promtool" textfile
check "--dests --all: every namespace, the busiest destination" try dests_all
if have_tracefs; then
	check "--events: a failure, named, as it happens" events_live
else
	ktap_test_skip "--events: a failure, named, as it happens (no tracefs)"
fi
check "a user: own namespace from /proc/net/ephport" as_user
check "a user namespace (container): its own namespace" as_container
if hostile_setup; then
	check "hostile names: promtool, format, escaped" try hostile_prom
	check "hostile names: strict JSON, escaped" try hostile_json
	check "hostile names: the table holds no control" hostile_table
	check "a mount in /run/docker/netns names its namespace" docker_name
else
	for t in "hostile names: promtool, format, escaped" \
		"hostile names: strict JSON, escaped" \
		"hostile names: the table holds no control" \
		"a mount in /run/docker/netns names its namespace"; do
		ktap_test_fail "$t (setting up the namespaces failed)"
	done
fi

cleanup
ephport_unload
complaints=$(dmesg_complaints ephportstat)
if [ -z "$complaints" ] && [ -z "$(ephport_leftovers)" ]; then
	ktap_test_pass "no kernel complaints, nothing left after unload"
else
	echo "$complaints" | sed 's/^/# /'
	ktap_test_fail "no kernel complaints, nothing left after unload"
fi
ktap_finished
