#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-dkms: build the ipvtap-dkms package (tools/dkms-deb.sh), boot
# the Debian kernel of a series with its in-tree ipvlan, and in the guest
# install the package with dpkg (tools/dkms/guest.sh): DKMS builds the
# modules for that kernel, modprobe loads ours, the core tests pass.
#
#   tools/dkms-check.sh [--series S] [--timeout SEC] [TEST...]
#
# The last line is "N passed, N failed, N skipped".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERIES=6.12
TIMEOUT=2400
while [ $# -gt 0 ]; do
	case $1 in
	--series) SERIES=${2:?}; shift 2 ;;
	--timeout) TIMEOUT=${2:?}; shift 2 ;;
	-h|--help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) break ;;
	esac
done
cd "$REPO"
command -v dkms >/dev/null || { echo "tools/dkms-check.sh: dkms is not installed; run 'make deps'" >&2; exit 2; }
deb=$(tools/dkms-deb.sh)
read -r -a vm <<<"$(tools/kernels.sh vm-args "$SERIES")"
headers=$(tools/kernels.sh kdir "$SERIES")
exec tools/vm/run "${vm[@]}" --impl in-tree --timeout "$TIMEOUT" --summary -- \
	env "VM_HEADERS=$headers" tools/dkms/guest.sh "$deb" "$@"
