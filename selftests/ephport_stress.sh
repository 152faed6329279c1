#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ephport under load, one program per subject: load/unload cycles under
# traffic and with readers (ephport_stress_cycles), namespace churn with
# readers (ephport_stress_churn), heavy load with exact counters
# (ephport_stress_heavy). One entry for the three, so that a run can
# give them a VM of their own (make check: one vCPU, EPHPORT_CYCLE_MODE).
# It may run anywhere in a run: each case loads or unloads ephport as it
# needs and leaves it loaded if it found it so.
# Exits 4 (skip) if all three skip, 1 if any fails.
dir=$(dirname "$0")
rc=0
skipped=0
for t in cycles churn heavy; do
	"$dir/ephport_stress_$t" "$@"
	case $? in
	0) ;;
	4) skipped=$((skipped + 1)) ;;
	*) rc=1 ;;
	esac
done
[ $rc = 0 ] && [ $skipped = 3 ] && exit 4
exit $rc
