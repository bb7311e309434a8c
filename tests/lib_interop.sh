# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the interop tests (tests/interop_*.sh, tests/interop/*.sh):
# real clients (CNI plugins, systemd-networkd, Docker, the kernel's own
# selftests) driving the ipvlan under test inside the guest. Sources
# tests/lib.sh. Every client comes from a Debian package: when it is
# missing the test is skipped and the package is named (`make deps`
# installs them all).

# shellcheck source=tests/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

# require_prog PATH|CMD PACKAGE: skip the test when the program is missing.
require_prog() {
	local p=$1 pkg=$2

	if [[ $p == /* ]]; then
		[ -x "$p" ] && return 0
	else
		command -v "$p" >/dev/null 2>&1 && return 0
	fi
	ktap_skip_all "$p not found: install Debian's '$pkg' ('make deps' does)"
}

# pkg_version PACKAGE: the installed Debian version (for the diagnostics).
# The guest's /var is a tmpfs (no dpkg database): read the changelog.
pkg_version() {
	local d=/usr/share/doc/$1 f

	for f in "$d/changelog.Debian.amd64.gz" "$d/changelog.Debian.gz"; do
		[ -f "$f" ] || continue
		zcat "$f" 2>/dev/null | sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p'
		return
	done
	echo unknown
}

# interop_tmp VAR: a private directory under /tmp, removed at exit.
interop_tmp() {
	local d

	d=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX") || ktap_bail "mktemp failed"
	defer "rm -rf '$d'"
	printf -v "$1" '%s' "$d"
}

# no_link_in NS PATTERN: no link whose name matches the extended regex.
no_link_in() {
	local left

	left=$(ip -n "$1" -o link show | awk -F': ' '{ print $2 }' |
		sed 's/@.*//' | grep -E "$2")
	[ -z "$left" ] && return 0
	echo "left behind in $1: $left"
	return 1
}

# pings_all NS ADDR...: every address answers from NS (wait_ping each).
pings_all() {
	local ns=$1 a

	shift
	for a in "$@"; do
		wait_ping "$ns" "$a" 10 || return 1
	done
}

# both CMD1... -- CMD2...: run CMD1, then CMD2 if it succeeded.
both() {
	local a=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	"${a[@]}" && "$@"
}
