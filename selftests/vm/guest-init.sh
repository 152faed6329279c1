#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the ephport test VM (busybox). Reads /etc/ephport-vm.conf:
#   VM_MODE=suite|test|kunit|demo|bench|shell  VM_TESTS="name..."  VM_KREL=<uname -r>
#   VM_KUNIT=1 (the KUnit suite before the tests)
# Prints KTAP on the console, then "EPHPORT-VM-END rc=N" and reboots.
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
ip link set lo up
hostname ephport-vm
echo "EPHPORT-VM-START $(uname -r)"
. /etc/ephport-vm.conf
echo 5 >/proc/sys/kernel/printk

rc=0
end() {
	echo "EPHPORT-VM-END rc=$1"
	sync
	reboot -f
	sleep 10
}

# Modules ship in /lib/modules/$VM_KREL/extra (ephport.ko, the KUnit module).
# With vm.sh --debian-modules (Debian's whole tree and kmod), vm.sh's depmod
# stands: busybox's would take minutes on it under TCG.
[ -x /usr/bin/kmod ] || depmod -a 2>/dev/null

if [ -e /sys/kernel/debug/kmemleak ]; then
	# Forget what boot allocated; the end-of-run scan then shows only
	# what leaked while the tests ran. No automatic scans meanwhile
	# (the first a minute after boot, then every ten): under TCG each
	# takes the KASAN kernel up to minutes of CPU beside the tests, and
	# the one at the end finds whatever they would have.
	echo clear >/sys/kernel/debug/kmemleak
	echo scan=off >/sys/kernel/debug/kmemleak
fi

# The KUnit suite: alone (VM_MODE=kunit), or before the tests (VM_KUNIT=1).
if [ "$VM_MODE" = kunit ] || [ "${VM_KUNIT:-}" = 1 ]; then
	echo "EPHPORT-KUNIT-BEGIN"
	# Boot printed an empty KTAP plan for the built-in tests: start clean.
	dmesg -c >/dev/null
	if insmod /lib/modules/"$VM_KREL"/extra/ephport.ko &&
	   insmod /lib/modules/"$VM_KREL"/extra/ephport_kunit.ko; then
		# KUnit printed its KTAP to the kernel log as it ran.
		dmesg -c
	else
		echo "Bail out! cannot load the KUnit module"
		rc=1
	fi
	echo "EPHPORT-KUNIT-END"
	rmmod ephport_kunit 2>/dev/null
	rmmod ephport 2>/dev/null
fi

case "$VM_MODE" in
suite|test)
	cd /kselftest || end 1
	if [ "$VM_MODE" = suite ]; then
		./run_kselftest.sh || rc=$?
	else
		args=
		for t in $VM_TESTS; do
			args="$args -t ephport:$t"
		done
		./run_kselftest.sh $args || rc=$?
	fi
	;;
demo)
	/kselftest/ephport/demo.sh || rc=$?
	;;
bench)
	/bench/run.sh || rc=$?
	;;
shell)
	setsid cttyhack sh
	;;
esac

if [ -e /sys/kernel/debug/kmemleak ]; then
	# A scan reports every unreferenced object older than kmemleak's
	# minimum age (5 s): past that age, one scan finds what two would
	# (a scan takes 8 s on the idle KASAN kernel under TCG, more after
	# the tests).
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	if grep -q unreferenced /sys/kernel/debug/kmemleak; then
		echo "EPHPORT-KMEMLEAK-REPORT"
		cat /sys/kernel/debug/kmemleak
		rc=1
	else
		echo "# kmemleak: no leaks reported"
	fi
fi
end $rc
