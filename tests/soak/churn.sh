#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak, run INSIDE the guest by tools/soak.sh (`make soak`); not part of
# `make check`. Configuration churn under traffic, for minutes to hours:
#
#   modes   a veth master with an address in its namespace, three l2
#           slaves in namespaces of their own, pings both ways at 100/s,
#           an `iperf3 -u -b 0 -l 256` flood from a slave to the outside,
#           and random mode/flag changes (l2/l3/l3s x bridge/private/vepa)
#           in batches of 50 through `ip -n <slave ns> -force -batch`
#           (the recipe of issue 18);
#   slaves  the same traffic while a fourth slave and its namespace are
#           created, addressed, moved to l3s and back, and deleted, and a
#           second master with slaves appears and goes, over and over.
#
# Environment: SOAK_SECONDS (per phase, default 300), SOAK_PHASES
# (default "modes slaves"). Each phase is one KTAP case: it fails on a
# hang or splat in the kernel log (soft lockup, RCU stall, hung task,
# WARNING, ...), on a change that does not return within 60 s, and when
# the traffic stops flowing. Counts of iterations and changes are printed.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_PHASES=${SOAK_PHASES:-modes slaves}
# A change that takes longer than this is a hang.
STUCK_SECS=60

require_root
require_ipvlan
require_cmd ping iperf3

read -r -a phases <<<"$SOAK_PHASES"
ktap_plan "${#phases[@]}"

TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer rm -rf "$TMP"

setup_l2_topology 3
ip -n "$NS_HOST" addr add "$NET4.100/24" dev m0
ip -n "$NS_HOST" addr add "$NET6:100/64" dev m0 nodad

traffic_start() {
	local i

	TRAFFIC=()
	for i in 1 2 3; do
		ns_exec "${NS_S[$i]}" ping -q -i 0.01 -W 1 "$OUT4" >/dev/null 2>&1 &
		TRAFFIC+=($!)
		disown
		ns_exec "$NS_OUT" ping -q -i 0.01 -W 1 "$NET4.$i" >/dev/null 2>&1 &
		TRAFFIC+=($!)
		disown
	done
	ns_exec "$NS_OUT" iperf3 -s -D -p 5201 >/dev/null 2>&1
	sleep 0.5
	# Restarted when it ends (a mode change may break its control
	# connection): a loop in the background.
	(
		while :; do
			ns_exec "${NS_S[1]}" iperf3 -u -b 0 -l 256 -t 30 \
				-c "$OUT4" -p 5201 >/dev/null 2>&1
			sleep 0.2
		done
	) &
	TRAFFIC+=($!)
	disown
}

traffic_stop() {
	local p

	for p in "${TRAFFIC[@]}"; do
		pkill -9 -P "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	pkill -9 iperf3 2>/dev/null
	TRAFFIC=()
}
defer traffic_stop

# out_rx: packets the outside host's stack received on o0.
out_rx() {
	ip -n "$NS_OUT" -s -j link show dev o0 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

MODES=(l2 l3 l3s)
FLAGS=(bridge private vepa)

# batch_of_modes N DEV: N random mode/flag changes of DEV for ip -batch.
batch_of_modes() {
	local i

	for ((i = 0; i < $1; i++)); do
		echo "link set dev $2 type ipvlan mode ${MODES[RANDOM % 3]} ${FLAGS[RANDOM % 3]}"
	done
}

# log_clean: no splat since the phase began (else PHASE_WHY says which).
log_clean() {
	dmesg_clean >"$TMP/why" && return 0
	PHASE_WHY="kernel log: $(cat "$TMP/why")"
	return 1
}

# timed CMD...: run CMD, fail (status 124) if it takes more than STUCK_SECS.
timed() {
	timeout -k 5 "$STUCK_SECS" "$@"
}

phase_modes() {
	local end=$((EPOCHSECONDS + SOAK_SECONDS)) iters=0 changes=0 i ns rc

	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		i=$((RANDOM % 3 + 1))
		ns=${NS_S[$i]}
		batch_of_modes 50 "s$i" >"$TMP/batch"
		timed ip -n "$ns" -force -batch "$TMP/batch" >/dev/null 2>&1
		rc=$?
		if [ "$rc" -eq 124 ]; then
			PHASE_WHY="a batch of mode changes did not return within ${STUCK_SECS}s"
			break
		fi
		iters=$((iters + 1))
		changes=$((changes + 50))
		log_clean || break
	done
	PHASE_STATS="$iters batches, $changes mode/flag changes"
}

# One round of slave and namespace churn; 0 when every step returned.
slaves_round() {
	local n=$1 ns j

	ns="$TEST_NAME-$$-c$n"

	timed ip netns add "$ns" || return 1
	timed ip -n "$NS_HOST" link add link m0 name c0 type ipvlan mode l2 || return 1
	timed ip -n "$NS_HOST" link set c0 netns "$ns" || return 1
	ip -n "$ns" link set c0 up
	ip -n "$ns" addr add "$NET4.$((50 + n % 40))/24" dev c0
	ip -n "$ns" addr add "$NET6:$((50 + n % 40))/64" dev c0 nodad
	timed ip -n "$ns" link set c0 type ipvlan mode l3s || return 1
	timed ip -n "$ns" link set c0 type ipvlan mode l2 || return 1
	# A second master with two slaves, gone with its namespace.
	timed ip -n "$ns" link add x0 type veth peer name x1 || return 1
	ip -n "$ns" link set x0 up
	for j in 1 2; do
		timed ip -n "$ns" link add link x0 name "xs$j" type ipvlan mode l3s ||
			return 1
		ip -n "$ns" link set "xs$j" up
	done
	timed ip netns del "$ns" || return 1
	return 0
}

phase_slaves() {
	local end=$((EPOCHSECONDS + SOAK_SECONDS)) iters=0

	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		if ! slaves_round "$iters"; then
			PHASE_WHY="slave/namespace churn round $iters failed or hung"
			break
		fi
		iters=$((iters + 1))
		log_clean || break
	done
	PHASE_STATS="$iters rounds of slave and namespace churn"
}

for phase in "${phases[@]}"; do
	case $phase in modes|slaves) ;; *) ktap_bail "unknown phase '$phase'" ;; esac
	PHASE_WHY='' PHASE_STATS=''
	kmsg_mark "phase-$phase-${SOAK_SECONDS}s"
	traffic_start
	rx0=$(out_rx)
	start=$EPOCHSECONDS
	"phase_$phase"
	secs=$((EPOCHSECONDS - start))
	# Back to l2 and see the traffic flow again.
	for i in 1 2 3; do
		ip -n "${NS_S[$i]}" link set "s$i" type ipvlan mode l2 bridge 2>/dev/null
	done
	sleep 2
	rx1=$(out_rx)
	traffic_stop
	echo "$TEST_NAME: phase $phase: done, $PHASE_STATS in ${secs}s" >/dev/kmsg
	diag "$phase: $PHASE_STATS in ${secs}s; the outside received $((rx1 - rx0)) packets"
	if [ -z "$PHASE_WHY" ] && [ $((rx1 - rx0)) -le 0 ]; then
		PHASE_WHY="no packet reached the outside host"
	fi
	if [ -z "$PHASE_WHY" ] && ! wait_ping "${NS_S[2]}" "$OUT4" 10 >/dev/null; then
		PHASE_WHY="slave 2 cannot reach the outside after the phase"
	fi
	if [ -z "$PHASE_WHY" ]; then
		ktap_ok "$phase: $PHASE_STATS, no hang, no splat"
	else
		ktap_not_ok "$phase: $PHASE_STATS"
		diag "$PHASE_WHY"
	fi
done
ktap_finish
