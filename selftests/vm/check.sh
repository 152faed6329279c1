#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check": style, builds for every supported kernel, KUnit on the debug
# kernel, the selftests on Debian 6.1, Debian 6.12 and the debug kernel.
# One line per suite, then "N passed, N failed" over the individual cases.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: $0 [-h]
Environment:
  EPHPORT_KERNELS  kernels to test (default "debug 6.1 6.12")
  EPHPORT_CACHE    cache for kernels and builds (default /var/cache/ephport)
  EPHPORT_LOGS     where console logs go (default ./selftests/out)
USAGE
}
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage >&2; exit 2 ;; esac

kernels=${EPHPORT_KERNELS:-debug 6.1 6.12}
logs=${EPHPORT_LOGS:-$EPHPORT_TOP/selftests/out}
mkdir -p "$logs"
VM=$EPHPORT_TOP/selftests/vm
passed=0
failed=0
skipped=0
summary=()
start=$(date +%s)

# record SUITE PASSED FAILED SKIPPED
record() {
	passed=$((passed + $2))
	failed=$((failed + $3))
	skipped=$((skipped + $4))
	summary+=("$(printf '%-28s %4d passed, %d failed, %d skipped' "$1" "$2" "$3" "$4")")
	printf '# %-28s %4d passed, %d failed, %d skipped (%ds)\n' "$1" "$2" "$3" "$4" \
		$(($(date +%s) - start))
}

# case_result SUITE CMD...: a suite of one case that passes if CMD does.
case_result() {
	local name=$1
	shift
	if "$@" >"$logs/$name.log" 2>&1; then
		record "$name" 1 0 0
	else
		sed 's/^/#   /' "$logs/$name.log" | tail -n 30
		record "$name" 0 1 0
	fi
}

host_pkgs

# Kernel coding style of every file in module/.
case_result style "$VM/style.sh"

# The kernels, then a build of the module for each (warnings fail).
build_for() {
	local kdir=$1 tmp
	tmp=$(mktemp -d)
	cp -a "$EPHPORT_TOP"/{Kbuild,Makefile,dkms.conf,module} "$tmp/"
	make -C "$tmp" KDIR="$kdir" module >"$tmp/log" 2>&1
	local rc=$?
	cat "$tmp/log"
	grep -q 'warning:' "$tmp/log" && rc=1
	rm -rf "$tmp"
	return $rc
}
for k in $kernels; do
	case $k in
	debug)
		log "debug kernel (built once per machine, then cached)"
		if kdir=$("$VM/debug-kernel.sh"); then
			# Show that the debug kernel really has its checkers.
			for opt in KUNIT KASAN UBSAN DEBUG_KMEMLEAK PROVE_LOCKING \
				PROVE_RCU DEBUG_ATOMIC_SLEEP DEBUG_OBJECTS DEBUG_LIST \
				PANIC_ON_OOPS KPROBES; do
				grep "^CONFIG_$opt=" "$kdir/.config" | sed 's/^/# debug kernel: /'
			done
			case_result "build-debug" build_for "$kdir"
		else
			record "build-debug" 0 1 0
		fi
		;;
	*)
		if eval "$("$VM/debian-kernel.sh" "$k")"; then
			case_result "build-$k" build_for "$KDIR"
			case_result "dkms-$k" "$VM/dkms-build.sh" "$KREL" "$KDIR"
		else
			record "build-$k" 0 1 0
		fi
		;;
	esac
done

# KUnit on the debug kernel, parsed by the kernel's own kunit.py.
if [[ " $kernels " == *" debug "* ]]; then
	src=$("$VM/debug-kernel.sh" --print-src)
	"$VM/vm.sh" --kernel debug --kunit --log "$logs/kunit-console.log" \
		>/dev/null 2>"$logs/kunit-vm.err"
	vmrc=$?
	sed -n '/^EPHPORT-KUNIT-BEGIN/,/^EPHPORT-KUNIT-END/p' \
		"$logs/kunit-console.log" >"$logs/kunit.ktap"
	python3 "$src/tools/testing/kunit/kunit.py" parse \
		--json="$logs/kunit.json" "$logs/kunit.ktap" | sed 's/^/# /'
	read -r p f s < <(python3 "$VM/kunit-count.py" "$logs/kunit.json" \
		2>"$logs/kunit.failures")
	sed 's/^/# /' "$logs/kunit.failures"
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ $vmrc != 0 ] || [ $((p + f + s)) = 0 ]; then
		sed 's/^/# /' "$logs/kunit-vm.err"
		f=$((f + 1))
	fi
	record "kunit-debug" "$p" "$f" "$s"
fi

# The selftests in a VM on each kernel.
for k in $kernels; do
	# A hard limit far above the runs measured here: the debug kernel
	# (KASAN, lockdep) is many times slower than Debian's under TCG.
	tmo=1200
	[ "$k" != debug ] || tmo=2400
	"$VM/vm.sh" --kernel "$k" --suite --timeout "$tmo" --log "$logs/selftests-$k.log" \
		>/dev/null 2>"$logs/selftests-$k.err"
	vmrc=$?
	read -r p f s < <(python3 "$VM/ktap-count.py" "$logs/selftests-$k.log" \
		2>"$logs/selftests-$k.failures")
	sed 's/^/# /' "$logs/selftests-$k.failures"
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ $vmrc != 0 ] && [ "$f" = 0 ] || [ $((p + f + s)) = 0 ]; then
		# The VM itself failed: timeout, crash or a kernel complaint.
		sed 's/^/# /' "$logs/selftests-$k.err" | tail -n 30
		f=$((f + 1))
	fi
	record "selftests-$k" "$p" "$f" "$s"
done

# The Debian package: apt-get install/upgrade/remove in a cached chroot.
"$VM/deb-test.sh" >"$logs/deb.log" 2>"$logs/deb.err"
debrc=$?
read -r p f s < <(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) .*/\1 \2 \3/p' "$logs/deb.log")
p=${p:-0} f=${f:-0} s=${s:-0}
grep '^not ok' "$logs/deb.log" | sed 's/^/# /'
if [ $debrc != 0 ] && [ "$f" = 0 ] || [ $((p + f + s)) = 0 ]; then
	tail -n 30 "$logs/deb.err" | sed 's/^/# /'
	f=$((f + 1))
fi
record "deb" "$p" "$f" "$s"

# modprobe of the DKMS-built module on each Debian kernel's own module tree.
for k in $kernels; do
	[ "$k" != debug ] || continue
	"$VM/vm.sh" --kernel "$k" --debian-modules --test ephport_modprobe.sh \
		--log "$logs/modprobe-$k.log" >/dev/null 2>"$logs/modprobe-$k.err"
	vmrc=$?
	read -r p f s < <(python3 "$VM/ktap-count.py" "$logs/modprobe-$k.log" \
		2>"$logs/modprobe-$k.failures")
	sed 's/^/# /' "$logs/modprobe-$k.failures"
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ $vmrc != 0 ] && [ "$f" = 0 ] || [ $((p + f + s)) = 0 ]; then
		sed 's/^/# /' "$logs/modprobe-$k.err" | tail -n 30
		f=$((f + 1))
	fi
	record "modprobe-$k" "$p" "$f" "$s"
done

echo "# ---- summary (logs in $logs, $(($(date +%s) - start)) s) ----"
printf '# %s\n' "${summary[@]}"
echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
