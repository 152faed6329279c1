#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ephport installed the way DKMS installs it (updates/dkms in the kernel's
# own module tree), used through kmod: modprobe, options on the command
# line and in /etc/modprobe.d, modprobe -r, modinfo, and the udev rule that
# applies /etc/sysctl.d's net.ephport.* at load, run by systemd-udevd. Needs
# the VM of "vm.sh --debian-modules"; skips elsewhere.
. "$(dirname "$0")/lib.sh"

CONF=/etc/modprobe.d/ephport.conf

# Debian's kmod: busybox's sh would run its own applets of these names.
modprobe() { /sbin/modprobe "$@"; }
modinfo() { /sbin/modinfo "$@"; }
PARAMS="mode reuse_delay_ms alarm_pct"
SYSCTL_CONF=/etc/sysctl.d/ephport.conf
RULE=/lib/udev/rules.d/60-ephport.rules
UDEVD=/lib/systemd/systemd-udevd

# skip_case DESC REASON: a skipped case that says why.
skip_case() {
	__ktap_test ok "$1" "SKIP $2"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

# random_skip DESC ERRFILE: DESC skipped, with the kernel's reason, if
# ERRFILE (a switch's stderr) says this kernel has no random mode
# (lib.sh's random_unsupported); status 1, nothing reported, otherwise.
random_skip() {
	why=$(random_unsupported "$2") || return 1
	skip_case "$1" "random mode unsupported on this kernel: $why"
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
ktap_set_plan 15
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

ERR=$(mktemp)
desc="modprobe ephport mode=random reuse_delay_ms=5000"
if modprobe ephport mode=random reuse_delay_ms=5000 2>"$ERR" && random_mode_in_effect; then
	ktap_test_pass "$desc"
elif ! random_skip "$desc" "$ERR"; then
	sed 's/^/# /' "$ERR"
	ktap_test_fail "$desc"
fi
modprobe -r ephport 2>/dev/null

mkdir -p "$(dirname $CONF)"
echo "options ephport mode=random reuse_delay_ms=5000" >$CONF
if modprobe ephport 2>"$ERR" && random_mode_in_effect; then
	ktap_test_pass "options in $CONF take effect"
elif ! random_skip "options in $CONF take effect" "$ERR"; then
	sed 's/^/# /' "$ERR"
	ktap_test_fail "options in $CONF take effect"
fi
modprobe -r ephport 2>/dev/null
rm -f $CONF

# alarm_pct, the third global setting, at load; values out of 1..100
# refuse the load (EINVAL) and leave nothing behind.
if modprobe ephport alarm_pct=50 &&
   [ "$(cat $SYSFS/alarm_pct)" = 50 ] &&
   [ "$(cat /sys/module/ephport/parameters/alarm_pct)" = 50 ]; then
	ktap_test_pass "modprobe ephport alarm_pct=50"
else
	ktap_test_fail "modprobe ephport alarm_pct=50"
fi
modprobe -r ephport
ok=1
for v in 0 101 abc -5 4294967346; do
	if out=$(modprobe ephport alarm_pct=$v 2>&1); then
		ktap_print_msg "alarm_pct=$v loaded"
		modprobe -r ephport
		ok=0
	fi
	ktap_print_msg "alarm_pct=$v: $out"
	case "$out" in *"Invalid argument"*) ;; *) ok=0 ;; esac
	left=$(ephport_leftovers)
	[ -z "$left" ] || { ktap_print_msg "left behind: $left"; ok=0; }
done
case_if "modprobe refuses alarm_pct out of 1..100 (EINVAL), nothing left" test $ok = 1
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

# /etc/sysctl.d's net.ephport.* when the module loads after
# systemd-sysctl.service has run: ephport-dkms's udev rule, run by the real
# systemd-udevd on the module's "add" event (this VM's init is busybox: the
# test starts udevd itself, as systemd does at boot).
mkdir -p /etc/sysctl.d
printf 'net.ephport.mode = random\nnet.ephport.reuse_delay_ms = 5000\n' >$SYSCTL_CONF
sysctl_values() {
	echo "$(cat /proc/sys/net/ephport/mode 2>&1) $(cat /proc/sys/net/ephport/reuse_delay_ms 2>&1)"
}
# Without udevd, nothing applies the file: the module starts from its defaults.
modprobe ephport
got=$(sysctl_values)
ktap_print_msg "without udevd: net.ephport.mode, reuse_delay_ms: $got"
case_if "without udevd, $SYSCTL_CONF is not applied at load" test "$got" = "default -1"
modprobe -r ephport
if [ -x $UDEVD ] && [ -f $RULE ]; then
	ktap_print_msg "rule: $(grep -v '^#' $RULE)"
	$UDEVD --daemon
	udevadm settle -t 30
	modprobe ephport
	udevadm settle -t 30
	got=$(sysctl_values)
	ktap_print_msg "with udevd: net.ephport.mode, reuse_delay_ms: $got"
	desc="systemd-udevd's run of the rule applies $SYSCTL_CONF at load"
	# Not random: the same switch by hand says whether the kernel lacks it.
	if [ "$got" = "random 5000" ]; then
		ktap_test_pass "$desc"
	elif ! { echo random 2>"$ERR" >/proc/sys/net/ephport/mode;
		 random_skip "$desc" "$ERR"; }; then
		ktap_test_fail "$desc"
	fi
	# The host namespace only: a new namespace keeps its own defaults.
	got=$(unshare -n cat /proc/sys/net/ephport/mode 2>&1)
	case_if "a new namespace still starts at mode 'default' ($got)" test "$got" = default
	modprobe -r ephport
	udevadm control --exit
else
	ktap_test_fail "systemd-udevd's run of the rule applies $SYSCTL_CONF at load (no $UDEVD or $RULE)"
	ktap_test_fail "a new namespace still starts at mode 'default'"
fi
rm -f $SYSCTL_CONF

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
	if [ $ok = 1 ]; then
		ktap_test_pass "$desc"
	# Not loaded: the same load by hand says whether the kernel lacks random mode.
	elif [ -d /sys/module/ephport ] || modprobe ephport 2>"$ERR" ||
	     ! random_skip "$desc" "$ERR"; then
		ktap_test_fail "$desc"
	fi
	modprobe -r ephport 2>/dev/null
	rm -f /etc/modules-load.d/ephport.conf $CONF
fi
rm -f "$ERR"

complaints=$(dmesg_complaints modprobe)
[ -z "$complaints" ] || echo "$complaints" | sed 's/^/# /'
case_if "no kernel complaints" test -z "$complaints"
ktap_finished
