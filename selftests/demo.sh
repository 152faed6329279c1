#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo that "make demo" runs inside the VM: load ephport, make traffic
# in two namespaces, show what it sees, then the kernel's choice of ports
# against random mode's on 20 connects.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

say() { printf '\n== %s\n' "$*"; }

# named NAME: a network namespace with an `ip netns` name (busybox's ip
# has no netns: make one the way ip does, a bind mount under /run/netns).
named() {
	mkdir -p /run/netns
	ip netns add "$1" 2>/dev/null && return
	unshare -n sleep 3600 &
	holder=$!
	sleep 1
	touch "/run/netns/$1"
	mount --bind "/proc/$holder/ns/net" "/run/netns/$1"
}
inns() {
	ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

say "ephport demo on Linux $(uname -r)"
ephport_load || exit 1
modinfo "$EPHPORT_KO" | grep -E '^(version|description|parm)'

say "Two namespaces: the host, and 'web' (a container, say) with a small range"
named web
inns web ip link set lo up
inns web sh -c 'echo "40000 40199" >/proc/sys/net/ipv4/ip_local_port_range'
echo "host: 30 TCP connects, 5 bind(0), 5 UDP sends; web: 150 TCP connects, all held open"
./ephport_conn -n 30 -s 4 -q 2>/dev/null &
jobs="$!"
./ephport_conn -m bind -n 5 -s 4 -q 2>/dev/null &
jobs="$jobs $!"
./ephport_conn -m udp -n 5 -s 4 -q 2>/dev/null &
jobs="$jobs $!"
inns web ./ephport_conn -n 150 -s 4 -q 2>/dev/null &
jobs="$jobs $!"
sleep 2

say "ephportstat: every namespace, the fullest first"
ephportstat 2>&1 || true
web=$(stat -L -c %i /run/netns/web)
say "/sys/kernel/ephport/net/$web/ (web), one file a line"
for f in range tcp_in_use tcp_peak tcp_connect_ok tcp_connect_fail udp_in_use alarm mode; do
	[ -r "$SYSFS/net/$web/$f" ] && printf '  %-18s %s\n' "$f" "$(cat "$SYSFS/net/$web/$f")"
done
say "/proc/net/ephport as a process in web reads it (first lines)"
inns web head -n 12 /proc/net/ephport
wait $jobs

say "20 connects to one destination: which source ports?"
echo "The kernel's own choice (observe mode) walks the range from a per-destination"
echo "start, so consecutive connections get neighbouring ports:"
inns web ./ephport_conn -n 20 2>/dev/null | tr '\n' ' '
echo
if [ -e "$SYSFS/mode" ] && ! inns web sh -c 'echo random >/proc/sys/net/ephport/mode' &&
   ! echo random 2>/tmp/ephport-demo.err >"$SYSFS/mode" &&
   why=$(random_unsupported /tmp/ephport-demo.err); then
	echo "Random mode: unsupported on this kernel ($why)"
elif [ -e "$SYSFS/mode" ]; then
	echo "Random mode (net.ephport.mode=random in web): uniform over 40000-40199, and a"
	echo "released port rests for reuse_delay_ms ($(cat "$SYSFS/net/$web/reuse_delay_ms") ms) before it is reused:"
	inns web ./ephport_conn -n 20 2>/dev/null | tr '\n' ' '
	echo
	printf '  random_ok %s  random_fallback %s  resting %s\n' \
		"$(cat "$SYSFS/net/$web/random_ok")" \
		"$(cat "$SYSFS/net/$web/random_fallback")" \
		"$(cat "$SYSFS/net/$web/resting")"
fi

say "Unload: nothing is left behind"
ip netns del web 2>/dev/null || { umount /run/netns/web; rm -f /run/netns/web; }
[ -z "${holder:-}" ] || kill "$holder" 2>/dev/null
ephport_unload
echo "left behind: '$(ephport_leftovers)'"
