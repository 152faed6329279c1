#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel checkers the suite relies on are really on: every kernel
# turns a warning and an oops into a panic; the debug kernel
# (CONFIG_KASAN=y) also has every checker built in and kmemleak running,
# so that the scan at the end of the run (vm/guest-init.sh) can report.
. "$(dirname "$0")/lib.sh"

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }

debug=
config=$(zcat /proc/config.gz 2>/dev/null)
echo "$config" | grep -qx 'CONFIG_KASAN=y' && debug=1
if [ -n "$debug" ]; then
	ktap_set_plan 4
else
	ktap_set_plan 2
fi
ktap_print_msg "kernel $(uname -r), $([ -n "$debug" ] && echo "the debug kernel" || echo "a distribution kernel")"

w=$(cat /proc/sys/kernel/panic_on_warn 2>/dev/null)
o=$(cat /proc/sys/kernel/panic_on_oops 2>/dev/null)
ktap_print_msg "panic_on_warn=$w panic_on_oops=$o"
if [ "$w" = 1 ] && [ "$o" = 1 ]; then
	ktap_test_pass "a warning or an oops panics the kernel"
else
	ktap_test_fail "a warning or an oops panics the kernel"
fi

# The harness fails a run on what the console shows: KERN_WARNING (4)
# and worse reach it when the console level is above 4.
level=$(cut -f1 /proc/sys/kernel/printk)
ktap_print_msg "console loglevel $level"
if [ "$level" -gt 4 ]; then
	ktap_test_pass "warnings reach the console"
else
	ktap_test_fail "warnings reach the console"
fi

[ -n "$debug" ] || { ktap_finished; exit; }

missing=
# FAILSLAB and its stack filter: ephport_nomem's fault injection.
for opt in KASAN UBSAN DEBUG_KMEMLEAK PROVE_LOCKING PROVE_RCU \
	DEBUG_ATOMIC_SLEEP DEBUG_OBJECTS DEBUG_LIST FAILSLAB \
	FAULT_INJECTION_STACKTRACE_FILTER; do
	echo "$config" | grep -qx "CONFIG_$opt=y" || missing="$missing $opt"
done
if [ -z "$missing" ]; then
	ktap_test_pass "every checker is built in"
else
	ktap_print_msg "missing:$missing"
	ktap_test_fail "every checker is built in"
fi

# kmemleak is running (not disabled at boot or after an error): a command
# is accepted (kmemleak refuses every one but "clear" with EPERM once it is
# off), and its report file is readable. In the test VM (ephport_vm= on
# the command line) the command is "scan=off", which its /init gave
# already: the full scan that /init runs after the tests reports what one
# here would, and on the debug kernel under TCG a scan takes seconds.
# Elsewhere, a scan.
kcmd=scan
grep -q 'ephport_vm=' /proc/cmdline 2>/dev/null && kcmd=scan=off
if [ -r /sys/kernel/debug/kmemleak ] &&
   echo "$kcmd" >/sys/kernel/debug/kmemleak 2>/dev/null &&
   cat /sys/kernel/debug/kmemleak >/dev/null; then
	ktap_print_msg "kmemleak: \"$kcmd\" accepted, $(grep -c unreferenced /sys/kernel/debug/kmemleak) reports so far"
	ktap_test_pass "kmemleak is running"
else
	ktap_test_fail "kmemleak is running"
fi
ktap_finished
