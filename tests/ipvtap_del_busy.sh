#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An ipvtap deleted while two tools/tapguest processes hold its /dev/tapN
# (one flooding UDP, one pinging) and the outside pings the guest:
# `ip link del` returns, the node goes, the outside stops receiving the
# flood, both guests end on their own with a clean error (exit 1, summary
# printed), no hang, no splat. Topology: tests/lib_stress.sh ("site p",
# no slave), the ipvtap t0 on its master carries the guest's address.
#
# IMPL=in-tree: all cases are expected to pass there as well.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"

[ -x "$TG" ] || ktap_skip_all "tools/tapguest/tapguest not built (make tools)"
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi
site p l2 bridge 0
if ! out=$(ip -n "$PFX-ph" link add link m0 name t0 type ipvtap mode l2 2>&1); then
	ktap_skip_all "no ipvtap link kind: $out"
fi
# Delete it before the namespace goes: /dev/tapN names are global.
defer "ip -n '$PFX-ph' link del t0"

ktap_plan 7

GUEST=192.0.2.50
OUT_MAC=$(dev_mac "$PFX-po" o0)
ip -n "$PFX-ph" addr add "$GUEST/32" dev t0
ip -n "$PFX-ph" link set t0 up
tap_node "$PFX-ph" t0 || ktap_bail "no tap node for t0"

# The guests' own timeout is only a safety net: the deletion must end
# them long before it. Starting them took more than 10 s in a loaded
# single-threaded guest (in-tree run): the deletion came after it.
GTIME=$(((SECS + 2) * 3 * TIME_SCALE))
GARGS=(--tap "$TAP" --ip4 "$GUEST/24" --gw4 "$OUTA"
       --neigh "$OUTA=$OUT_MAC" --timeout "$GTIME" --json)
bg "$TMP/flood" ip netns exec "$PFX-ph" "$TG" "${GARGS[@]}" \
	--udp-flood "$OUTA:9" --count 100000000 --size 256
G_FLOOD=$BGPID
bg "$TMP/ping" ip netns exec "$PFX-ph" "$TG" "${GARGS[@]}" \
	--ping4 "$OUTA" --count 1000
G_PING=$BGPID
ping_bg "$TMP/ping-out" "$PFX-po" "$GUEST" $((SECS + 2))
P_OUT=$BGPID
sleep $((SECS / 2))

tap_deleted() {
	local t=$SECONDS

	flowing "$PFX-po" o0 || return 1
	kill -0 "$G_FLOOD" "$G_PING" 2>/dev/null ||
		{ echo "a tapguest exited before the deletion"; return 1; }
	timeout 60 ip -n "$PFX-ph" link del t0 || return 1
	echo "ip link del t0 took $((SECONDS - t - 1)) s"
	wait_for 5 test ! -e "$TAP" ||
		{ echo "$TAP still exists"; return 1; }
}
kmsg_mark deletion
check "ipvtap deleted while 2 tapguests write to its fd: ip link del returns, node gone" \
	tap_deleted

stopped() {
	local a b

	sleep 0.5
	a=$(stat_of "$PFX-po" o0 rx_packets)
	sleep 1.5
	b=$(stat_of "$PFX-po" o0 rx_packets)
	echo "o0 rx_packets $a -> $b in 1.5 s after the deletion"
	[ $((b - a)) -lt 20 ]
}
check "... the outside stops receiving the guest's flood" stopped

# Both guests must exit on their own, at once (long before their
# --timeout), with status 1 and their summary (waited for here, in this shell: check
# runs its command in a subshell).
t=$EPOCHREALTIME
wait_pid "$G_FLOOD" $((GTIME + 15))
RC_FLOOD=$WAIT_RC
wait_pid "$G_PING" $((GTIME + 15))
RC_PING=$WAIT_RC
diag "the guests (--timeout $GTIME s) exited $(ms_since "$t") ms after the checks above"

# guest_ended RC LOG PATTERN
guest_ended() {
	cat "$2"
	if [ "$1" -eq 255 ]; then
		echo "tapguest did not exit: killed"
		return 1
	fi
	echo "tapguest exit status $1"
	[ "$1" -eq 1 ] && grep -q "$3" "$2"
}
check "... the UDP-flooding tapguest ends with a clean error (exit 1), no hang" \
	guest_ended "$RC_FLOOD" "$TMP/flood" '^udp-flood: sent'
diag "$(grep -E '^udp-flood' "$TMP/flood" | tr '\n' ' ')"
check "... the pinging tapguest ends with a clean error (exit 1), no hang" \
	guest_ended "$RC_PING" "$TMP/ping" '^ping .* received'
diag "guest $(grep -E '^ping .* sent' "$TMP/ping")"
wait_pid "$P_OUT" 30
check "... kernel log clean since the deletion" dmesg_clean deletion
delns ph po

stress_finish
