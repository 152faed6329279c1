#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run a command with the programs and libraries of another Debian release:
# ROOT's /usr (with its dynamic linker cache and alternatives) in place of
# the host's, in a mount namespace of the command's own. Every other path
# is the host's, so builds find their trees where the caller put them.
# For kernel headers whose tools and compiler the host cannot run
# (debian-kernel.sh prints it as KRUN). Needs root and a merged /usr.
# Usage: with-root.sh ROOT CMD [ARG]...
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 ROOT CMD [ARG]..." >&2; exit 2; }
root=$1
shift
[ -L /lib ] && [ -L "$root/lib" ] ||
	{ echo "with-root.sh: needs a merged /usr on the host and in $root" >&2; exit 1; }
exec unshare -m --propagation private /bin/sh -ec '
	root=$1
	shift
	mount --bind "$root/usr" /usr
	mount --bind "$root/etc/ld.so.cache" /etc/ld.so.cache
	mount --bind "$root/etc/alternatives" /etc/alternatives
	exec "$@"' with-root "$root" "$@"
