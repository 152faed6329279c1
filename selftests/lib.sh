# SPDX-License-Identifier: GPL-2.0
# Helpers shared by ephport's shell selftests (sourced). Inside the VM the
# module is at /lib/modules/$(uname -r)/extra/ephport.ko.
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

EPHPORT_KO=${EPHPORT_KO:-/lib/modules/$(uname -r)/extra/ephport.ko}
SYSFS=/sys/kernel/ephport
# The wait for namespace teardowns before an unload (ephport_settle.c):
# ep_settle_netns() of ephport_test.h, the C tests' wait, as a program.
EPHPORT_SETTLE=$(cd "$(dirname "$0")" && pwd)/ephport_settle

# ephport_load [PARAM=VALUE...]: insmod the module (unloading it first).
ephport_load() {
	ephport_unload
	insmod "$EPHPORT_KO" "$@"
}

ephport_unload() {
	if [ -d /sys/module/ephport ]; then
		"$EPHPORT_SETTLE"
		rmmod ephport
	fi
}

# Everything ephport creates that a user can see: none of it may outlive
# the module.
ephport_leftovers() {
	ls -d /sys/kernel/ephport /sys/module/ephport /proc/net/ephport \
		/proc/sys/net/ephport 2>/dev/null
	grep -w ephport /proc/modules 2>/dev/null
	grep -w ephport /sys/kernel/debug/kprobes/list 2>/dev/null
}

# Kernel complaints since the mark written by dmesg_mark.
dmesg_mark() {
	echo "ephport-test-mark $1" >/dev/kmsg
}

dmesg_since() {
	dmesg | sed -n "/ephport-test-mark $1/,\$p" | sed 1d
}

dmesg_complaints() {
	dmesg_since "$1" | grep -E 'WARNING:|BUG:|Oops|Call Trace|KASAN|UBSAN|circular locking|lock held|RCU usage|kmemleak'
}

# random_unsupported ERRFILE: whether ERRFILE, what a switch to random mode
# wrote to stderr (a write of "random", a load with mode=random), says
# that this kernel has no random mode: EOPNOTSUPP ("Operation not
# supported"), and nothing else. If so, prints the kernel's reason,
# ephport's last kernel message about random mode (module/kernel_fn.c
# logs why it cannot work); a refusal the kernel gives no reason for is
# not one (status 1).
random_unsupported() {
	grep -q 'Operation not supported' "$1" || return 1
	why=$(dmesg | grep 'ephport: random mode' | tail -n 1 | sed 's/^.*ephport: //')
	[ -n "$why" ] && echo "$why"
}
