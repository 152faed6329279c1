#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ephport installed the way DKMS installs it (updates/dkms in the kernel's
# own module tree), used through kmod: modprobe, options on the command
# line and in /etc/modprobe.d, modprobe -r, modinfo. Needs the VM of
# "vm.sh --debian-modules"; skips elsewhere.
. "$(dirname "$0")/lib.sh"

CONF=/etc/modprobe.d/ephport.conf

# Debian's kmod: busybox's sh would run its own applets of these names.
modprobe() { /sbin/modprobe "$@"; }
modinfo() { /sbin/modinfo "$@"; }
PARAMS="mode reuse_delay_ms"

# skip_case DESC REASON: a skipped case that says why.
skip_case() {
	__ktap_test ok "$1" "SKIP $2"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

# case_if DESC CMD...: one case, passed if CMD succeeds.
case_if() {
	desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$desc"
	else
		ktap_test_fail "$desc"
	fi
}

# has_params: modinfo lists every parameter this test sets.
has_params() {
	for p in $PARAMS; do
		modinfo -F parm ephport | grep -q "^$p:" || return 1
	done
}

# global_value NAME: the value in effect, from /sys/kernel/ephport (the
# control) or else /sys/module/ephport/parameters.
global_value() {
	for f in $SYSFS/$1 /sys/module/ephport/parameters/$1; do
		[ -r "$f" ] && { cat "$f"; return; }
	done
}

# random_mode_in_effect: mode reads "random" (or marks it "[random]").
random_mode_in_effect() {
	mode=$(global_value mode)
	delay=$(global_value reuse_delay_ms)
	ktap_print_msg "mode '$mode', reuse_delay_ms '$delay'"
	case "$mode" in
	random|*"[random]"*) ;;
	*) return 1 ;;
	esac
	[ "$delay" = 5000 ]
}

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "needs root"; exit "$KSFT_SKIP"; }
if ! modprobe -V 2>/dev/null | grep -q kmod; then
	ktap_skip_all "needs kmod's modprobe (vm.sh --debian-modules)"
	exit "$KSFT_SKIP"
fi
if ! modinfo -n ephport 2>/dev/null | grep -q /updates/; then
	ktap_skip_all "ephport is not installed under updates/ (vm.sh --debian-modules)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 10
ephport_unload
rm -f $CONF
dmesg_mark modprobe

ktap_print_msg "modprobe finds $(modinfo -n ephport)"
if modprobe ephport && [ -d /sys/module/ephport ] &&
   [ "$(cat $SYSFS/version 2>/dev/null)" = "$(modinfo -F version ephport)" ]; then
	ktap_test_pass "modprobe ephport"
else
	ktap_test_fail "modprobe ephport"
fi

modprobe -r ephport
left=$(ephport_leftovers)
[ -z "$left" ] || ktap_print_msg "left behind: $left"
case_if "modprobe -r ephport removes it" test -z "$left"

# Debian's own compressed modules load through the same modprobe.
ktap_print_msg "veth: $(modinfo -n veth 2>&1)"
if modprobe veth && grep -q '^veth ' /proc/modules; then
	ktap_test_pass "modprobe loads a module of the Debian image (veth)"
else
	ktap_test_fail "modprobe loads a module of the Debian image (veth)"
fi
modprobe -r veth 2>/dev/null

modinfo ephport | sed 's/^/# modinfo: /'
# Every parameter this test sets is there, and each has a description
# ("name:text (type)").
undescribed=$(modinfo -F parm ephport | grep -v -E '^[a-z_0-9]+:[^(]*[[:alnum:]][^(]* \(')
[ -z "$undescribed" ] || ktap_print_msg "without a description: $undescribed"
has_params || ktap_print_msg "modinfo lacks one of: $PARAMS"
if has_params && [ -z "$undescribed" ]; then
	ktap_test_pass "modinfo describes every parameter"
else
	ktap_test_fail "modinfo describes every parameter"
fi

if modprobe ephport mode=random reuse_delay_ms=5000 && random_mode_in_effect; then
	ktap_test_pass "modprobe ephport mode=random reuse_delay_ms=5000"
else
	ktap_test_fail "modprobe ephport mode=random reuse_delay_ms=5000"
fi
modprobe -r ephport

mkdir -p "$(dirname $CONF)"
echo "options ephport mode=random reuse_delay_ms=5000" >$CONF
if modprobe ephport && random_mode_in_effect; then
	ktap_test_pass "options in $CONF take effect"
else
	ktap_test_fail "options in $CONF take effect"
fi
modprobe -r ephport
rm -f $CONF
left=$(ephport_leftovers)
[ -z "$left" ] || ktap_print_msg "left behind: $left"
case_if "modprobe -r after options" test -z "$left"

# Without options, a new load is back to the defaults.
if modprobe ephport && ! random_mode_in_effect; then
	ktap_test_pass "a load without options has the defaults"
else
	ktap_test_fail "a load without options has the defaults"
fi
modprobe -r ephport

# At boot, systemd-modules-load loads what /etc/modules-load.d names,
# with the options /etc/modprobe.d gives.
LOADER=/lib/systemd/systemd-modules-load
desc="/etc/modules-load.d/ephport.conf loads it (systemd-modules-load)"
if [ ! -x $LOADER ]; then
	skip_case "$desc" "no $LOADER"
else
	mkdir -p /etc/modules-load.d "$(dirname $CONF)"
	echo ephport >/etc/modules-load.d/ephport.conf
	echo "options ephport mode=random reuse_delay_ms=5000" >$CONF
	ok=0
	$LOADER && [ -d /sys/module/ephport ] && random_mode_in_effect && ok=1
	modprobe -r ephport
	rm -f /etc/modules-load.d/ephport.conf $CONF
	case_if "$desc" test $ok = 1
fi

complaints=$(dmesg_complaints modprobe)
[ -z "$complaints" ] || echo "$complaints" | sed 's/^/# /'
case_if "no kernel complaints" test -z "$complaints"
ktap_finished
