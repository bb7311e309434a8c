#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, run on the HOST (`make check-harness`, part of CI):
# the guest holds the networking static keys tests flip
# (tools/vm/guest.sh, pin_static_keys), so that no test patches kernel
# text under traffic, which QEMU's multi-threaded TCG mishandles (README,
# "Hangs"). In one 7.3 guest (where CI met it), with no ipvlan loaded,
# tests/harness/keyflip.sh checks that a ping leaves the code of
# netif_rx_internal() as it was (netstamp_needed_key's jump label), then
# runs a UDP flood through lo beside back-to-back pings for
# KEYFLIP_SECONDS (default 120): without the keys held that guest died on
# an int3 within 15-111 s in four boots out of four. KTAP; the last line
# is "N passed, N failed, N skipped".
#
# Environment: KEYFLIP_SERIES (default 7.3), KEYFLIP_SECONDS.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO" || exit 1

SERIES=${KEYFLIP_SERIES:-7.3}
SECS=${KEYFLIP_SECONDS:-120}
pass=0 fail=0 n=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; shift; printf '# %s\n' "$@"; }

echo "KTAP version 1"
echo "1..3"
if ! read -ra kargs <<<"$(tools/kernels.sh vm-args "$SERIES")" || [ ${#kargs[@]} -eq 0 ]; then
	echo "Bail out! no $SERIES kernel (tools/kernels.sh fetch $SERIES)"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
tools/vm/run "${kargs[@]}" --impl none --accel tcg --timeout $((SECS + 300)) -- \
	env KEYFLIP_SECONDS="$SECS" tests/harness/keyflip.sh >"$out" 2>&1
rc=$?
if grep -q '^code: same$' "$out"; then
	ok "$SERIES: a ping leaves netif_rx_internal()'s code (netstamp jump label) unpatched"
else
	not_ok "$SERIES: a ping leaves netif_rx_internal()'s code unpatched" \
		"$(grep -A3 '^code:' "$out" || echo 'no code: line')"
fi
pings=$(sed -n 's/^pings: \([0-9]*\)$/\1/p' "$out")
if [ -n "$pings" ] && [ "$pings" -gt 0 ]; then
	ok "$SERIES: $pings pings in ${SECS}s beside a UDP flood through lo"
else
	not_ok "$SERIES: pings beside a UDP flood through lo" "$(tail -n 20 "$out")"
fi
if [ "$rc" -eq 0 ] && grep -q 'kernel splat: no' "$out"; then
	ok "$SERIES: the guest ends cleanly, no splat (no int3 Oops)"
else
	not_ok "$SERIES: the guest ends cleanly" "exit $rc" \
		"$(grep -m3 -E 'Oops|BUG|RIP:' "$out")" "$(tail -n 5 "$out")"
fi
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
