#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Mode and flag changes under traffic: for STRESS_SECONDS (default 8),
# every mode x every flag in random order, each set through a random
# slave of the port while three slaves ping the outside and the outside
# pings a1; each change must be accepted and show on another slave of
# the same port (mode and flags are the port's). Afterwards, back in mode
# l2 bridge, every slave works. Topology: tests/lib_stress.sh ("site a").
#
# IMPL=in-tree: all cases are expected to pass there as well.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"

ktap_plan 7

site a l2 bridge 3
check "a1..a3 reach the outside before" reach_all a1 a2 a3

diag "mode/flag changes through random slaves for ${SECS}s under traffic"
for i in 1 2 3; do
	ping_bg "$TMP/ping-a$i" "$PFX-a$i" "$OUTA" $((SECS + 1))
	PINGS[i]=$BGPID
done
# And the outside pings a1 (outside -> slave in every mode).
ping_bg "$TMP/ping-out" "$PFX-ao" 192.0.2.1 $((SECS + 1))
PING_OUT=$BGPID

changes=0 refused=0 documented=0 mismatch=0
refusals='' mismatches=''
modes=(l2 l3 l3s) flags=(bridge private vepa)
end=$((EPOCHSECONDS + SECS))
while [ "$EPOCHSECONDS" -lt "$end" ]; do
	m=${modes[RANDOM % 3]} f=${flags[RANDOM % 3]}
	k=$((RANDOM % 3 + 1))
	j=$((k % 3 + 1))
	changes=$((changes + 1))
	if ! e=$(ip -n "$PFX-a$k" link set "a$k" type ipvlan mode "$m" "$f" 2>&1); then
		# Documented refusals (none applies to this port: no VRF).
		if [[ $e == *"L3 master device"* ]]; then
			documented=$((documented + 1))
		else
			refused=$((refused + 1))
			refusals+="a$k mode $m $f: $e"$'\n'
		fi
		continue
	fi
	# Mode and flags are the port's: the other slave reports them.
	if ! e=$(link_has "$PFX-a$j" "a$j" "ipvlan  mode $m $f"); then
		mismatch=$((mismatch + 1))
		mismatches+="after a$k mode $m $f: $e"$'\n'
	fi
done
wait_pid "$PING_OUT" 30
for i in 1 2 3; do
	wait_pid "${PINGS[i]}" 30
done
diag "$changes changes, $refused refused ($documented documented refusals), $mismatch not seen on another slave"
if [ "$refused" -eq 0 ] && [ "$changes" -gt 0 ]; then
	ktap_ok "mode/flag changes under traffic, none refused"
else
	ktap_not_ok "mode/flag changes under traffic, none refused"
	diag "$(head -n 20 <<<"$refusals")"
fi
if [ "$mismatch" -eq 0 ]; then
	ktap_ok "every change showed on another slave of the port"
else
	ktap_not_ok "every change showed on another slave of the port"
	diag "$(head -n 20 <<<"$mismatches")"
fi

# both_ways: every slave's pings and the outside's got answers.
both_ways() {
	local i tx rx msg='' bad=0

	for i in 1 2 3; do
		read -r tx rx < <(ping_counts "$TMP/ping-a$i")
		msg+="a$i->outside: $rx/$tx; "
		[ "$rx" -gt 0 ] || bad=1
	done
	read -r tx rx < <(ping_counts "$TMP/ping-out")
	msg+="outside->a1: $rx/$tx"
	[ "$rx" -gt 0 ] || bad=1
	echo "answered $msg"
	return "$bad"
}
check "traffic flowed both ways during the changes" both_ways
check "back in mode l2 bridge, ip -d link says so and a1..a3 reach the outside" \
	back_to_l2 a 3

stress_finish
