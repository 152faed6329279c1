#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The demo that "make demo" runs inside the VM: load ephport, make some
# traffic, show what it sees.
cd "$(dirname "$0")" || exit 1
. ./lib.sh

show_tree() {
	for f in $(find "$1" -type f | sort); do
		printf '  %-40s ' "${f#$SYSFS/}"
		if [ -r "$f" ]; then
			# Multi-line files (histograms, probe tables) on one line.
			tr '\n' ' ' <"$f" | cut -c1-100
			echo
		else
			echo "(write-only)"
		fi
	done
}

echo "== ephport demo on $(uname -r)"
ephport_load || exit 1
echo "== modinfo"
modinfo "$EPHPORT_KO" | grep -E '^(version|description|license|parm)'
echo "== 20 TCP connects to 127.0.0.1, then 5 bind(0), 5 UDP sends, held open"
./ephport_conn -n 20 -s 3 -q &
./ephport_conn -m bind -n 5 -s 3 -q &
./ephport_conn -m udp -n 5 -s 3 -q &
sleep 2
echo "== /sys/kernel/ephport while they are open"
show_tree $SYSFS
if [ -r /proc/net/ephport ]; then
	echo "== /proc/net/ephport"
	cat /proc/net/ephport
fi
wait
echo "== ports of 20 connects to one destination (kernel's choice)"
./ephport_conn -n 20 2>/dev/null | tr '\n' ' '
echo
ephport_unload
echo "== unloaded; left behind: $(ephport_leftovers)"
