#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the default kernel build directory (KDIR): the highest installed
# Debian 6.1 amd64 headers. The running kernel is deliberately ignored (the
# build host may run a kernel without module support or without headers).
#
# Usage: tools/kdir.sh            -> prints KDIR, exits 1 if none is installed
#        tools/kdir.sh --version  -> prints the kernel release of that KDIR
set -u

pick() {
	local d v best='' bestv=''
	for d in /lib/modules/6.1.*-amd64/build /usr/src/linux-headers-6.1.*-amd64; do
		[ -f "$d/Makefile" ] || continue
		v=${d#/lib/modules/}; v=${v%/build}; v=${v#/usr/src/linux-headers-}
		if [ -z "$bestv" ] ||
		   [ "$(printf '%s\n%s\n' "$bestv" "$v" | sort -V | tail -n1)" = "$v" ] &&
		   [ "$v" != "$bestv" ]; then
			best=$d; bestv=$v
		fi
	done
	[ -n "$best" ] || return 1
	if [ "${1:-}" = --version ]; then
		echo "$bestv"
	else
		echo "$best"
	fi
}

if ! pick "${1:-}"; then
	echo "tools/kdir.sh: no Debian 6.1 amd64 kernel headers found; run 'make deps' or pass KDIR=" >&2
	exit 1
fi
