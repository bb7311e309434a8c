#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak (`make soak`; minutes to an hour, not part of CI): boot one guest and
# run tests/soak/churn.sh in it: mode/flag churn under pings and a UDP
# flood, then slave and namespace churn, while this host is kept busy.
#
#   tools/soak.sh [options] [-- tools/vm/run options]
#
#   --minutes N     minutes per phase (default 10; SOAK_SECONDS=N in the
#                   environment gives seconds instead)
#   --phases LIST   "modes slaves" (default), or one of them
#   --hogs N        N busy loops on the host during the run (default 1; 0
#                   for none): hypervisor hosts are loaded, and races hide
#                   on a quiet one
#   --debug         the debug kernel (tools/debug-kernel.sh; modules built
#                   against it in .cache/debug-modules)
#   --accel MODE    tcg (multi-threaded) or tcg-single; default: as
#                   tools/vm/run (tcg for ours, tcg-single for in-tree)
#   --impl IMPL     ours (default) or in-tree
#
# Prints the guest's KTAP (iterations and changes per phase) and ends with
# "N passed, N failed, N skipped"; a stall, soft lockup, hung task or splat
# fails the run at once with its traces in .cache/vm/last-*.txt.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

MINUTES=10
PHASES="modes slaves"
HOGS=1
DEBUG=0
ACCEL=
IMPL=ours
VM_EXTRA=()

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--minutes) MINUTES=${2:?}; shift 2 ;;
	--phases) PHASES=${2:?}; shift 2 ;;
	--hogs) HOGS=${2:?}; shift 2 ;;
	--debug) DEBUG=1; shift ;;
	--accel) ACCEL=${2:?}; shift 2 ;;
	--impl) IMPL=${2:?}; shift 2 ;;
	-h|--help) usage 0 ;;
	--) shift; VM_EXTRA=("$@"); break ;;
	*) echo "tools/soak.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
if ! [[ $MINUTES =~ ^[0-9]+$ ]] || [ "$MINUTES" -eq 0 ]; then
	echo "--minutes: a positive number" >&2
	exit 2
fi
[[ $HOGS =~ ^[0-9]+$ ]] || { echo "--hogs: a number" >&2; exit 2; }

# SOAK_SECONDS (per phase) overrides --minutes for short trial runs.
secs=${SOAK_SECONDS:-$((MINUTES * 60))}
nphases=$(wc -w <<<"$PHASES")
# Setup, teardown and a slow boot on top of the phases. The debug kernel
# at host load 9: a 180 s phase took 618 s from its start to its report
# (stopping the traffic alone took minutes), the boot 125 s.
timeout=$((secs * nphases + 600))
[ "$DEBUG" = 0 ] || timeout=$((secs * nphases * 3 + 1200))

VM=(tools/vm/run --impl "$IMPL" --timeout "$timeout")
[ -z "$ACCEL" ] || VM+=(--accel "$ACCEL")
if [ "$DEBUG" = 1 ]; then
	[ "$IMPL" = ours ] || { echo "--debug: the debug kernel has no in-tree ipvlan" >&2; exit 2; }
	tools/debug-kernel.sh build >/dev/null
	tools/debug-kernel.sh modules "$REPO/.cache/debug-modules" >/dev/null
	# shellcheck disable=SC2207 # "--kernel X --modules-dir Y"
	VM+=($(tools/debug-kernel.sh vm-args) --ko-dir "$REPO/.cache/debug-modules"
		--mem 3072 --append pci=noacpi)
fi

hog_pids=()
stop_hogs() {
	[ ${#hog_pids[@]} -eq 0 ] || kill "${hog_pids[@]}" 2>/dev/null || true
}
trap stop_hogs EXIT
for ((i = 0; i < HOGS; i++)); do
	sh -c 'while :; do :; done' &
	hog_pids+=($!)
done

echo "tools/soak.sh: $PHASES, ${secs}s each, $IMPL, ${ACCEL:-default accel}, $HOGS host CPU hog(s)$([ "$DEBUG" = 1 ] && echo ', debug kernel')"
out=$(mktemp)
set +e
"${VM[@]}" "${VM_EXTRA[@]}" -- \
	env SOAK_SECONDS="$secs" SOAK_PHASES="$PHASES" tests/soak/churn.sh |
	tee "$out"
rc=${PIPESTATUS[0]}
set -e
p=$(grep -Ec '^ok [0-9]+' "$out" || true)
f=$(grep -Ec '^not ok [0-9]+' "$out" || true)
rm -f "$out"
# A hang, splat or timeout the harness saw is a failure of its own.
[ "$rc" -eq 0 ] || [ "$f" -gt 0 ] || f=1
echo "$p passed, $f failed, 0 skipped"
[ "$f" -eq 0 ]
