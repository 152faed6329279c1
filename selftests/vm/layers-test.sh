#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The layer check (layers.py) against small objects of its own, so that
# make style shows it fails where it must: an upward call, a circle of
# files, a file over the limit, a file in no layer. TAP on stdout.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
n=0
fails=0

# check NAME EXPECTED-RC PATTERN: layers.py on $t/src and $t/obj.
check() {
	local out rc
	n=$((n + 1))
	out=$(python3 "$here/layers.py" "$t/layers" "$t/obj" "$t/src" 2>&1)
	rc=$?
	if [ "$rc" = "$2" ] && grep -qE "$3" <<<"$out"; then
		echo "ok $n $1"
	else
		echo "not ok $n $1 (exit $rc)"
		sed 's/^/# /' <<<"$out"
		fails=$((fails + 1))
	fi
}

# obj NAME CODE: src/NAME.c and its object.
obj() {
	printf '%s\n' "$2" >"$t/src/$1.c"
	gcc -c -o "$t/obj/$1.o" "$t/src/$1.c"
}

echo "TAP version 13"
echo "1..9"
mkdir -p "$t/src" "$t/obj"
cat >"$t/layers" <<'L'
low   files: low.c   calls: -
high  files: high.c  calls: low
L
obj low 'int low_fn(void) { return 1; }'
obj high 'int low_fn(void); int high_fn(void) { return low_fn(); }'
check "a downward call passes" 0 '^layers: ok$'

obj low 'int high_fn(void); int low_fn(void) { return high_fn(); }'
check "an upward call fails, naming the symbol and both files" 1 \
	'module/low.c uses high_fn of module/high.c: layer low may not call layer high'
check "a circle of files fails" 1 'a circle of files: high.c -> low.c'

obj low 'int low_fn(void) { return 1; }'
for i in $(seq 501); do echo "/* $i */"; done >>"$t/src/low.c"
check "a file over 500 lines fails" 1 'module/low.c: 50[0-9] lines, over the limit'

obj low 'int low_fn(void) { return 1; }'
obj stray 'int stray_fn(void) { return 0; }'
check "a file in no layer fails" 1 'module/stray.c: in no layer'
obj low 'int low_fn(void) { return 1; }'
rm -f "$t/src/stray.c" "$t/obj/stray.o"
obj low 'extern int high_fn(void) __attribute__((weak)); int low_fn(void) { return high_fn ? high_fn() : 1; }'
check "a weak upward call fails" 1 'module/low.c uses high_fn of module/high.c'

# Two files of one layer that call each other: a circle all the same.
cat >"$t/layers" <<'L'
low   files: low.c low2.c  calls: -
high  files: high.c  calls: low
L
obj low 'int low2_fn(void); int low_fn(void) { return low2_fn(); }'
obj low2 'int low_fn(void); int low2_fn(void) { return low_fn(); }'
check "a circle within a layer fails" 1 'a circle of files: low.c -> low2.c'

# A symbol that a lower and a higher file both define (as the two hook
# backends do): a use of it reaches both, so an upward use still fails.
cat >"$t/layers" <<'L'
low   files: low.c low2.c  calls: -
high  files: high.c  calls: low
L
obj low2 'int dup_fn(void) { return 2; }'
obj high 'int low_fn(void); int dup_fn(void) { return 3; } int high_fn(void) { return low_fn(); }'
obj low 'int dup_fn(void); int low_fn(void) { return dup_fn(); }'
check "an upward use of a symbol defined twice fails" 1 \
	'module/low.c uses dup_fn of module/high.c'

# What nm cannot see: a static inline of a higher layer's header.
rm -f "$t/src/low2.c" "$t/obj/low2.o"
cat >"$t/layers" <<'L'
low   files: low.c   calls: -
high  files: high.c  calls: low
L
obj high 'int low_fn(void); int high_fn(void) { return low_fn(); }'
printf 'static inline int high_inline(void) { return 4; }\n' >"$t/src/high.h"
obj low '#include "high.h"
int low_fn(void) { return high_inline(); }'
check "an upward include fails" 1 \
	'module/low.c:1 includes high.h: layer low may not call layer high'
[ "$fails" = 0 ]
