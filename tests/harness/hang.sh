#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, run on the HOST (`make check-harness`, part of CI): a
# hang in the guest must fail the run fast, with its stack traces in the
# saved logs, instead of waiting for the VM timeout. A test-only module
# (tests/harness/hang_inject/, built here, never shipped) hangs the guest
# on purpose:
#
#   spin    a CPU spins with preemption off in hang_inject_spin():
#           soft lockup / RCU stall -> panic with every CPU's backtrace
#   block   insmod sleeps forever in hang_inject_init(): hung task ->
#           panic with the blocked task's stack
#
# For each: tools/vm/run fails, well before its timeout, and the saved
# dmesg names the hang and the function that hung. KTAP; the last line is
# "N passed, N failed, N skipped".
#
# Environment: KDIR (default the 6.1 headers, tools/kernels.sh kdir 6.1), KERNEL, MODULES_DIR (the guest
# kernel; default tools/vm/run's), HANG_MODES (default "spin block").
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO" || exit 1

# The guest's own timeout: a harness that waited for it would take this
# long; a fast failure takes a fraction.
VM_LIMIT=900
FAST=300
MODES=${HANG_MODES:-spin block}
KDIR=${KDIR:-$(tools/kernels.sh kdir 6.1)} || exit 1

pass=0 fail=0 n=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; shift; printf '# %s\n' "$@"; }

build=$REPO/.cache/hang_inject
rm -rf "$build"
mkdir -p "$build"
cp tests/harness/hang_inject/* "$build/"

echo "KTAP version 1"
echo "1..$(($(wc -w <<<"$MODES") * 3))"
if ! blog=$(make -C "$KDIR" M="$build" modules 2>&1); then
	echo "Bail out! cannot build tests/harness/hang_inject against $KDIR"
	printf '# %s\n' "$blog" | tail -n 20
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

# No ipvlan at all (--impl none): only the harness is under test here, and
# the modules of the repository may be built for another kernel. The
# multi-threaded TCG of `make check` (--accel tcg).
vm_args=(--timeout "$VM_LIMIT" --impl none --accel tcg)
[ -z "${KERNEL:-}" ] || vm_args+=(--kernel "$KERNEL")
[ -z "${MODULES_DIR:-}" ] || vm_args+=(--modules-dir "$MODULES_DIR")

for mode in $MODES; do
	case $mode in
	# spin: the soft lockup (20 s) or RCU stall (21 s) detector must be
	# the one that fires. A task blocked behind the spinning CPU (e.g. a
	# workqueue flush) would trip a 10 s hung-task detector first: keep
	# its default (120 s) there. block: the hung-task detector looks
	# every timeout period, so 10 s instead of 120.
	spin) want='soft lockup|detected stall' fn=hang_inject_spin hung=120 ;;
	block) want='blocked for more than' fn='hang_inject_init.*hang_inject' hung=10 ;;
	*) echo "Bail out! unknown mode '$mode'"; exit 1 ;;
	esac
	out=$(mktemp)
	start=$SECONDS
	tools/vm/run "${vm_args[@]}" -- sh -c \
		"sysctl -qw kernel.hung_task_timeout_secs=$hung; insmod $build/hang_inject.ko mode=$mode" \
		>"$out" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	log=$(sed -n 's/^tools\/vm\/run: (full log: \(.*\))$/\1/p' "$out" | tail -n1)
	if [ "$rc" -ne 0 ] && grep -q 'FAIL' "$out"; then
		ok "$mode: the run fails (exit $rc)"
	else
		not_ok "$mode: the run fails" "exit $rc" "$(tail -n 20 "$out")"
	fi
	if [ "$rc" -ne 124 ] && [ "$secs" -lt "$FAST" ]; then
		ok "$mode: it ends by itself after ${secs}s, not at the ${VM_LIMIT}s timeout"
	else
		not_ok "$mode: it ends fast" "took ${secs}s, exit $rc"
	fi
	if [ -n "$log" ] && [ -f "$log" ] && grep -Eq "$want" "$log" &&
	   grep -Eq "$fn" "$log" && grep -q 'Kernel panic' "$log"; then
		ok "$mode: the saved log ($log) has the hang, the panic and a stack in $fn"
	else
		not_ok "$mode: the saved log has the hang and a stack in $fn" \
			"log: '${log:-none}'" "$(tail -n 20 "$out")"
	fi
	rm -f "$out"
done
echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
