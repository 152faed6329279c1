#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The module loads, says its version, unloads cleanly, 20 times in a row.
. "$(dirname "$0")/lib.sh"

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }
[ -f "$EPHPORT_KO" ] || { ktap_skip_all "no $EPHPORT_KO"; exit "$KSFT_SKIP"; }
ktap_set_plan 6

dmesg_mark load
if ephport_load; then
	ktap_test_pass "insmod ephport"
else
	ktap_test_fail "insmod ephport"
fi

want=$(modinfo -F version "$EPHPORT_KO")
got=$(cat $SYSFS/version 2>/dev/null)
ktap_print_msg "modinfo version '$want', sysfs version '$got'"
if [ -n "$want" ] && [ "$got" = "$want" ] &&
   [ "$(cat /sys/module/ephport/version 2>/dev/null)" = "$want" ]; then
	ktap_test_pass "version matches modinfo"
else
	ktap_test_fail "version matches modinfo"
fi

lic=$(modinfo -F license "$EPHPORT_KO")
desc=$(modinfo -F description "$EPHPORT_KO")
ktap_print_msg "license '$lic', description '$desc'"
if [ "$lic" = GPL ] && [ -n "$desc" ]; then
	ktap_test_pass "modinfo license and description"
else
	ktap_test_fail "modinfo license and description"
fi

ephport_unload
left=$(ephport_leftovers)
if [ -z "$left" ]; then
	ktap_test_pass "unload removes everything"
else
	ktap_print_msg "left behind: $left"
	ktap_test_fail "unload removes everything"
fi

ok=1
i=0
while [ $i -lt 20 ]; do
	ephport_load || { ok=0; ktap_print_msg "load $i failed"; break; }
	cat $SYSFS/version >/dev/null || { ok=0; break; }
	ephport_unload || { ok=0; ktap_print_msg "unload $i failed"; break; }
	[ -z "$(ephport_leftovers)" ] || { ok=0; ktap_print_msg "leftovers after cycle $i"; break; }
	i=$((i + 1))
done
ktap_print_msg "$i load/unload cycles"
if [ $ok = 1 ] && [ $i = 20 ]; then
	ktap_test_pass "20 load/unload cycles"
else
	ktap_test_fail "20 load/unload cycles"
fi

complaints=$(dmesg_complaints load)
if [ -z "$complaints" ]; then
	ktap_test_pass "no kernel complaints"
else
	echo "$complaints" | sed 's/^/# /'
	ktap_test_fail "no kernel complaints"
fi
ktap_finished
