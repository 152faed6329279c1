#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs ephport_stress (load/unload under traffic, namespace churn, heavy
# load) last in the suite: a kernel that falls over here takes no other
# test's result with it.
exec "$(dirname "$0")/ephport_stress" "$@"
