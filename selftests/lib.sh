# SPDX-License-Identifier: GPL-2.0
# Helpers shared by ephport's shell selftests (sourced). Inside the VM the
# module is at /lib/modules/$(uname -r)/extra/ephport.ko.
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

EPHPORT_KO=${EPHPORT_KO:-/lib/modules/$(uname -r)/extra/ephport.ko}
SYSFS=/sys/kernel/ephport

# ephport_load [PARAM=VALUE...]: insmod the module (unloading it first).
ephport_load() {
	ephport_unload
	insmod "$EPHPORT_KO" "$@"
}

ephport_unload() {
	if [ -d /sys/module/ephport ]; then
		ephport_settle_netns
		rmmod ephport
	fi
}

# ephport_settle_netns: waits (at most 30 s for each of two namespaces)
# until every network namespace released before it is torn down, while
# ephport is loaded: a teardown runs one of ephport's hooks (TIME_WAIT
# purge) on whichever vCPU it likes, and under QEMU TCG with several
# vCPUs, an unload that unpatches it meanwhile can hang the guest
# (Documentation/hardening-test-findings.md, F1). Teardowns run a batch
# at a time in order, and a namespace's ephport directory goes early in its own: the
# second of two namespaces released one after the other is torn down
# after the batch that was under way. ep_settle_netns() in
# ephport_test.h is the same.
ephport_settle_netns() {
	# On one CPU nothing runs while the unload patches.
	[ "$(grep -c '^processor' /proc/cpuinfo)" -ge 2 ] || return 0
	for _ in 1 2; do
		[ -d "$SYSFS/net" ] || return 0
		ns=$(unshare -n readlink /proc/self/ns/net) || return 0
		ns=${ns#net:\[}
		ns=${ns%]}
		n=0
		while [ -d "$SYSFS/net/$ns" ] && [ $n -lt 1500 ]; do
			sleep 0.02
			n=$((n + 1))
		done
	done
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
