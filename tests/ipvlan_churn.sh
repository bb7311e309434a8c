#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Slave churn under traffic: CHURN_WORKERS (default 8) namespaces, each a
# worker loop that creates a slave on a shared master (random mode
# l2/l3/l3s and flag bridge/private/vepa: the latest request sets the
# port's mode for every slave), moves it into its namespace, adds an
# address, pings the outside once and deletes it, all at the same time,
# for STRESS_SECONDS (default 8), while three long-lived slaves a1..a3
# ping the outside every 10 ms (and an iperf3 UDP stream runs from a3
# when iperf3 is installed). Afterwards, back in mode l2 bridge, the
# long-lived slaves work. Topology: tests/lib_stress.sh ("site a").
#
# IMPL=in-tree: all cases are expected to pass there as well.
# The debug kernel is 3-4 times slower:
# tests/run: timeout 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"

WORKERS=${CHURN_WORKERS:-${FAULTS_WORKERS:-8}}
MAX_LOSS=${CHURN_MAX_LOSS:-20}	# % of pings the long-lived slaves may lose

ktap_plan 9

site a l2 bridge 3
W_LABELS=()
for ((i = 1; i <= WORKERS; i++)); do
	W_LABELS+=("w$i")
done
ns_create --bare "${W_LABELS[@]}"
check "long-lived slaves a1..a3 reach the outside before" reach_all a1 a2 a3

# worker I END: create/move/configure/ping/delete slave w<I> in namespace
# w<I> until END (epoch seconds); prints the totals, errors to stderr.
worker() {
	local i=$1 end=$2 ns=$PFX-w$1 name=w$1 addr=192.0.2.$((100 + $1))
	local modes=(l2 l3 l3s) flags=(bridge private vepa) m f e
	local iter=0 created=0 deleted=0 pinged=0 errors=0

	# At least one round each, however late the worker starts: on a
	# loaded host (or the debug kernel) forking eight workers can take
	# longer than the churn itself.
	while [ "$iter" -eq 0 ] || [ "$EPOCHSECONDS" -lt "$end" ]; do
		iter=$((iter + 1))
		m=${modes[RANDOM % 3]} f=${flags[RANDOM % 3]}
		if ! e=$(ip -n "$PFX-ah" -batch - 2>&1 <<-EOB
			link add link m0 name $name type ipvlan mode $m $f
			link set $name netns $ns
			EOB
		); then
			errors=$((errors + 1))
			echo "create $name mode $m $f: $e" >&2
			ip -n "$PFX-ah" link del "$name" 2>/dev/null
			ip -n "$ns" link del "$name" 2>/dev/null
			continue
		fi
		created=$((created + 1))
		if ! e=$(slave_up "$ns" "$name" "$addr" 2>&1); then
			errors=$((errors + 1))
			echo "configure $name: $e" >&2
		elif ip netns exec "$ns" ping -q -n -c 1 -W 1 "$OUTA" >/dev/null 2>&1; then
			pinged=$((pinged + 1))
		fi
		if e=$(ip -n "$ns" link del "$name" 2>&1); then
			deleted=$((deleted + 1))
		else
			errors=$((errors + 1))
			echo "delete $name: $e" >&2
		fi
	done
	echo "iter=$iter created=$created deleted=$deleted pinged=$pinged errors=$errors"
}

diag "$WORKERS workers churn slaves for ${SECS}s while a1..a3 ping the outside"
iperf_start a "$PFX-a3" "$SECS" "$TMP/iperf"
for i in 1 2 3; do
	ping_bg "$TMP/ping-a$i" "$PFX-a$i" "$OUTA" "$SECS"
	PINGS[i]=$BGPID
done
end=$((EPOCHSECONDS + SECS))
W_PIDS=()
for ((i = 1; i <= WORKERS; i++)); do
	worker "$i" "$end" >"$TMP/w$i" 2>"$TMP/w$i.err" &
	W_PIDS+=("$!")
	BG_PIDS+=("$!")
done

# Wait for the workers (an iteration in progress at the deadline ends).
# One round of a worker is a handful of RTNL requests, two of them namespace
# moves, queued behind seven other workers': on the debug kernel at host
# load 11 one took over 60 s. Hung means 60 s past the deadline, times
# TIME_SCALE (180 s on the debug kernel).
hung=0
for p in "${W_PIDS[@]}"; do
	wait_pid "$p" $((SECS + 60 * TIME_SCALE)) || hung=$((hung + 1))
done
for i in 1 2 3; do
	wait_pid "${PINGS[i]}" 30
done
[ "$IPERF_C" -eq 0 ] || wait_pid "$IPERF_C" 30
[ "$IPERF_S" -eq 0 ] || wait_pid "$IPERF_S" 10

declare -A W=([iter]=0 [created]=0 [deleted]=0 [pinged]=0 [errors]=0)
idle=0
for ((i = 1; i <= WORKERS; i++)); do
	read -r -a kv <"$TMP/w$i" 2>/dev/null || kv=()
	[ ${#kv[@]} -gt 0 ] || idle=$((idle + 1))
	for x in "${kv[@]}"; do
		k=${x%%=*}
		[ -n "${W[$k]+set}" ] && W[$k]=$((W[$k] + ${x#*=}))
	done
	for x in "${kv[@]}"; do
		[ "$x" != created=0 ] || idle=$((idle + 1))
	done
done
werr=$(cat "$TMP"/w*.err 2>/dev/null | head -n 20)
diag "iterations ${W[iter]}, slaves created+moved ${W[created]}, deleted ${W[deleted]}, pinged the outside ${W[pinged]}, errors ${W[errors]}"
desc="$WORKERS workers created, moved and deleted ${W[created]} slaves concurrently, no error"
if [ "$hung" -eq 0 ] && [ "$idle" -eq 0 ] && [ "${W[errors]}" -eq 0 ] &&
	[ "${W[created]}" -eq "${W[deleted]}" ] && [ -z "$werr" ]; then
	ktap_ok "$desc"
else
	ktap_not_ok "$desc"
	diag "workers hung: $hung, workers that created nothing: $idle"
	[ -z "$werr" ] || diag "$werr"
fi
check "the worker slaves reached the outside (at least half of them)" \
	test $((W[pinged] * 2)) -ge "${W[created]}" -a "${W[created]}" -gt 0

leftovers() {
	local i n bad=0

	for ((i = 1; i <= WORKERS; i++)); do
		n=$(ip -n "$PFX-w$i" -o link show | grep -vc ': lo:')
		[ "$n" -eq 0 ] || { echo "w$i still has: $(ip -n "$PFX-w$i" -o link show)"; bad=1; }
	done
	if ip -n "$PFX-ah" -o link show | grep -q ': w[0-9]*@'; then
		echo "the master's namespace still has worker slaves"
		bad=1
	fi
	return "$bad"
}
check "no worker slave left in any namespace" leftovers
delns "${W_LABELS[@]}"

# kept_traffic: each long-lived slave lost at most MAX_LOSS % of its pings.
kept_traffic() {
	local i tx rx bad=0 msg=''

	for i in 1 2 3; do
		read -r tx rx < <(ping_counts "$TMP/ping-a$i")
		msg+="a$i: $rx/$tx answered; "
		if [ "$tx" -lt 10 ] || [ $(((tx - rx) * 100)) -gt $((tx * MAX_LOSS)) ]; then
			bad=1
		fi
	done
	echo "$msg(at most $MAX_LOSS% may be lost)"
	return "$bad"
}
check "the long-lived slaves kept their traffic during the churn" kept_traffic
if [ "$HAVE_IPERF" -eq 1 ]; then
	check "an iperf3 UDP stream from a3 ran through the churn" \
		iperf_result "$TMP/iperf"
	diag "$(grep -E 'receiver' "$TMP/iperf" | tail -n1)"
else
	skip "an iperf3 UDP stream from a3 ran through the churn" "iperf3 not installed"
fi
check "afterwards, back in mode l2 bridge, a1..a3 reach the outside" back_to_l2 a 3

stress_finish
