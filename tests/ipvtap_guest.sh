#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvtap: a "guest" (tools/tapguest) on /dev/tap<ifindex>, opened with
# QEMU 7.2's tap ioctls (vnet header 12 bytes, offloads on), in mode l2
# and in mode l3: the node's lifetime, ARP/ND and pings both ways, two
# queues, one GSO frame, and malformed writes.
#
# Upstream model (in-tree ipvtap, which this test pins down): the guest
# uses the master's MAC and is reachable only at addresses configured on
# the host-side ipvtap device (ipvtap never learns guest addresses), so
# ipvt0 carries the guest's 192.0.2.1 and 2001:db8::1. While a queue is
# open every frame for those addresses goes to the tap, not to the host
# stack (the tap library's rx_handler consumes it).
#
# Mode l3 (in-tree behaviour, asserted below; ours differs in the first
# two points, marked # DIFF, see tests/ipvtap_l3neigh.sh):
#  - the guest's ARP requests and NS are dropped by ipvtap (non-IP frames
#    and multicast are not routed outbound), so the guest cannot resolve
#    anything: it needs a static neighbour; any MAC works, l3 mode routes
#    on the IP header (the guest uses the master's). Ours answers them
#    with the master's MAC (ipvlan/l3neigh.c);
#  - the outside's ARP request for the guest's address IS delivered to the
#    tap (looked up by target IP), but the guest's ARP reply is dropped on
#    the way out (ours sends it to the wire: the outside resolves the
#    guest), so the outside needs a static neighbour too; the
#    outside's NS is not even delivered (only DAD probes are looked up by
#    target, others by the solicited-node destination, which is no slave's);
#  - guest packets are routed by the master's netns, strictly out of the
#    master: IPv4 falls back to "on-link" there, but it ARPs for the next
#    hop with the ipvtap's address as sender, so the reply goes to the
#    tap, not to the host stack: the host netns needs a static neighbour;
#    IPv6 finds no route (the /64 is on ipvt0, `ip -6 route get X oif m0`
#    is unreachable; the master's tx_errors count it): the host netns needs
#    a route to the outside via the master (ND then works from m0's
#    link-local address).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping mknod

[ -x "$TG" ] || ktap_skip_all "tools/tapguest/tapguest not built (make tools)"

GUEST4=$NET4.1
GUEST6=$NET6:1
BAD_WRITES=9	# tapguest --bad-write all: writes that must be refused

TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# ---------------------------------------------------------------- probe

# The ipvtap link kind must exist (in-tree: modprobe ipvtap; ours:
# ipvtap.ko loaded by the harness). The guard refuses autoloading the
# in-tree module when ours is tested, which gives "Unknown device type".
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded (not built yet?)"
fi
ns_create NS_PROBE:probe
ip -n "$NS_PROBE" link add m0 type veth peer name p0 ||
	ktap_bail "cannot create a veth"
if ! out=$(ip -n "$NS_PROBE" link add link m0 name t0 type ipvtap mode l2 2>&1); then
	case $out in
	*"Unknown device type"* | *"not supported"*)
		ktap_skip_all "no ipvtap link kind ($out)" ;;
	esac
	ktap_bail "cannot create an ipvtap device: $out"
fi
# Delete it now: netns teardown is asynchronous, and /dev/tap<ifindex> is
# one global name for every netns (a second ipvtap with the same ifindex
# in another netns gets no node at all).
ip -n "$NS_PROBE" link del t0
ip netns del "$NS_PROBE"

ktap_plan 30

# ------------------------------------------------------------- helpers

# guest ARGS...: run tapguest on the tap in the host netns.
guest() {
	ip netns exec "$NS_HOST" "$TG" --tap "$TAP" --ip4 "$GUEST4/24" \
		--ip6 "$GUEST6/64" "${GUEST_NEIGH[@]}" "$@"
}

# serve_start LOG [ARGS...]: the guest answers in the background.
serve_start() {
	local log=$1

	shift
	tg_serve "$log" "$NS_HOST" --tap "$TAP" --ip4 "$GUEST4/24" \
		--ip6 "$GUEST6/64" "${GUEST_NEIGH[@]}" "$@"
}

# ping_and_count LOG NS ADDR "KEY:N..." [ARGS...]: ping ADDR from NS while
# the guest serves (tapguest ARGS); each guest counter KEY must reach N.
ping_and_count() {
	local log=$1 ns=$2 addr=$3 want=$4 kv rc=0

	shift 4
	serve_start "$log" "$@" || { serve_stop; cat "$log"; return 1; }
	ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 "$addr" || rc=1
	serve_stop
	for kv in $want; do
		at_least "$log" "${kv%%:*}" "${kv##*:}" >/dev/null || {
			echo "guest counter ${kv%%:*} < ${kv##*:}"
			rc=1
		}
	done
	[ "$rc" -eq 0 ] || cat "$log"
	return "$rc"
}

# ------------------------------------------------------------ topology

# setup MODE: NS_OUT (o0: 192.0.2.254, 2001:db8::fe), NS_HOST (m0 master,
# ipvt0 ipvtap carrying the guest's addresses), TAP=/dev/tap<ifindex>.
setup() {
	local mode=$1

	setup_master "-$mode"
	ip -n "$NS_HOST" link add link m0 name ipvt0 type ipvtap mode "$mode" ||
		ktap_bail "cannot create ipvtap mode $mode"
	ip -n "$NS_HOST" addr add "$GUEST4/24" dev ipvt0
	ip -n "$NS_HOST" addr add "$GUEST6/64" dev ipvt0 nodad
	ip -n "$NS_HOST" link set ipvt0 up
	IFINDEX=$(ip netns exec "$NS_HOST" cat /sys/class/net/ipvt0/ifindex)
	TAP=/dev/tap$IFINDEX
	GUEST_NEIGH=()
}

# tap_node_ok: /dev/tapN exists with the major:minor of the tap class
# device /sys/class/net/ipvt0/tapN. Without a devtmpfs node, make one so
# that the rest of the test can run (and report the missing node).
TAP_MKNOD=0
tap_node_ok() {
	local want got

	want=$(ip netns exec "$NS_HOST" cat "/sys/class/net/ipvt0/tap$IFINDEX/dev") ||
		return 1
	if [ ! -c "$TAP" ]; then
		echo "no $TAP in devtmpfs (class device: $want); creating it"
		mknod "$TAP" c "${want%%:*}" "${want##*:}" && TAP_MKNOD=1
		defer "rm -f '$TAP'"
		return 1
	fi
	got=$(stat -c '%Hr:%Lr' "$TAP" 2>/dev/null ||
		printf '%d:%d' "0x$(stat -c %t "$TAP")" "0x$(stat -c %T "$TAP")")
	[ "$got" = "$want" ] && return 0
	echo "$TAP is $got, the class device says $want"
	return 1
}

# tap_abi: QEMU's sequence works: vnet header on by default (10 bytes),
# settable to 12, offloads accepted.
tap_abi() {
	local out

	out=$(guest --serve --timeout 0) || { echo "$out"; return 1; }
	echo "$out"
	grep -q 'flags 0x[0-9a-f]*:.* vnet_hdr' <<<"$out" &&
		grep -q 'vnet header 12 bytes (default was 10)' <<<"$out" &&
		grep -q 'offloads 0x1[ef]' <<<"$out"
}

# bad_writes: every malformed write is refused and counted in tx_dropped.
bad_writes() {
	local before after out refused

	before=$(stat_of "$NS_HOST" ipvt0 tx_dropped)
	out=$(guest --bad-write all) || { echo "$out"; return 1; }
	after=$(stat_of "$NS_HOST" ipvt0 tx_dropped)
	echo "$out"
	refused=$(grep -c '^bad-write .* = -1 errno' <<<"$out")
	echo "refused $refused of $BAD_WRITES; ipvt0 tx_dropped $before -> $after"
	[ "$refused" -eq "$BAD_WRITES" ] &&
		[ $((after - before)) -eq "$BAD_WRITES" ]
}

# gso_write: one GSO_TCPV4 frame (4000 bytes of payload) is accepted and
# reaches the outside in one piece or segmented.
gso_write() {
	local before after

	before=$(stat_of "$NS_OUT" o0 rx_bytes)
	guest --gso-tcp "$OUT4" || return 1
	after=$(stat_of "$NS_OUT" o0 rx_bytes)
	echo "o0 rx_bytes $before -> $after"
	[ $((after - before)) -ge 4000 ]
}

# udp_flood: tapguest --udp-flood; the outside receives every datagram.
udp_flood() {
	local before after

	before=$(stat_of "$NS_OUT" o0 rx_packets)
	guest --udp-flood "$OUT4:9" --count 200 --size 1000 || return 1
	after=$(stat_of "$NS_OUT" o0 rx_packets)
	echo "o0 rx_packets $before -> $after"
	[ $((after - before)) -ge 200 ]
}

tap_gone() {
	ip -n "$NS_HOST" link del ipvt0 || return 1
	[ "$TAP_MKNOD" -eq 1 ] && rm -f "$TAP"
	wait_for 5 test ! -e "$TAP" && return 0
	echo "$TAP still exists after deleting ipvt0"
	return 1
}

# common MODE: the cases both modes share.
common() {
	local m=$1

	check "$m: guest pings the outside (IPv4)" \
		guest --ping4 "$OUT4" --count 3 --timeout 10
	check "$m: guest pings the outside (IPv6)" \
		guest --ping6 "$OUT6" --count 3 --timeout 10
	check "$m: outside pings the guest (IPv4), the guest answers" \
		ping_and_count "$TMP/$m-serve4" "$NS_OUT" "$GUEST4" \
		echo_replies_sent:3
	# l2: the outside's NS reaches the guest, which answers it (l3:
	# static entries, which a flush keeps).
	ip -n "$NS_OUT" neigh flush dev o0
	check "$m: outside pings the guest (IPv6), the guest answers${ND_DESC}" \
		ping_and_count "$TMP/$m-serve6" "$NS_OUT" "$GUEST6" \
		"echo_replies_sent:3${ND_CHECK}"
	check "$m: two queues (detach and re-attach queue 1) serve pings" \
		ping_and_count "$TMP/$m-mq" "$NS_OUT" "$GUEST4" \
		echo_replies_sent:3 --queues 2 --detach 1 --reattach
	check "$m: malformed writes are refused and counted in tx_dropped" \
		bad_writes
	check "$m: the guest still pings after the malformed writes (csum offload)" \
		guest --ping4 "$OUT4" --count 2 --timeout 10 --tx-csum-offload
	check "$m: 200 UDP datagrams from the guest reach the outside" \
		udp_flood
	check "$m: a GSO TCPv4 frame from the guest reaches the outside" \
		gso_write
}

# ------------------------------------------------------------- mode l2

setup l2
check "l2: $TAP appears with the ipvtap device" wait_for 5 tap_node_ok
check "l2: QEMU's ioctls: vnet header (10 -> 12 bytes), offloads" tap_abi
# ARP is answered by the guest: flush what the outside learned so far.
ip -n "$NS_OUT" neigh flush dev o0
check "l2: outside's ARP for the guest is answered by the guest" \
	ping_and_count "$TMP/l2-arp" "$NS_OUT" "$GUEST4" arp_replies:1

# announced: --announce sends a gratuitous ARP; with arp_accept the
# outside creates a neighbour entry from it.
announced() {
	local rc=0

	ip netns exec "$NS_OUT" sysctl -qw net.ipv4.conf.o0.arp_accept=1
	ip -n "$NS_OUT" neigh flush dev o0
	guest --announce --serve --timeout 1 || rc=1
	wait_for 2 neigh_is "$NS_OUT" "$GUEST4" "$MASTER_MAC" || rc=1
	ip netns exec "$NS_OUT" sysctl -qw net.ipv4.conf.o0.arp_accept=0
	return "$rc"
}
check "l2: --announce: the outside learns the guest from its gratuitous ARP" \
	announced
ND_DESC=" NS too" ND_CHECK=" ns_answered:1"
common l2
check "l2: guest pings the outside without the vnet header" \
	guest --ping4 "$OUT4" --count 2 --timeout 10 --no-vnet-hdr
check "l2: the tap can be opened from another netns (here: the VM's)" \
	"$TG" --tap "$TAP" --ip4 "$GUEST4/24" --ping4 "$OUT4" --count 2
check "l2: $TAP disappears with the ipvtap device" tap_gone

# ------------------------------------------------------------- mode l3

setup l3
check "l3: $TAP appears with the ipvtap device" wait_for 5 tap_node_ok
check "l3: QEMU's ioctls: vnet header (10 -> 12 bytes), offloads" tap_abi

# no_resolve: the guest's ARP requests do not get through (exit 1).
no_resolve() {
	local log=$TMP/l3-noarp rc

	guest --ping4 "$OUT4" --count 2 --timeout 3 --json >"$log" 2>&1
	rc=$?
	cat "$log"
	[ "$rc" -eq 1 ] && at_least "$log" arp_requests 1 >/dev/null &&
		[ "$(json_get "$log" replies_received)" -eq 0 ]
}
# answered_by_driver: the guest's ARP request for the outside gets the
# master's MAC as the answer (ours, l3neigh.c).
answered_by_driver() {
	local log=$TMP/l3-answered

	guest --ping4 "$OUT4" --count 1 --timeout 3 --verbose >"$log" 2>&1
	grep -q "^neigh $OUT4 lladdr $MASTER_MAC" "$log" && return 0
	cat "$log"
	return 1
}
if [ "$IMPL" = in-tree ]; then
	check "l3: the guest's ARP requests are dropped (no resolution) # DIFF: ours answers them (ipvlan/l3neigh.c)" \
		no_resolve
else
	check "l3: the guest's ARP request is answered by the driver with the master's MAC" \
		answered_by_driver
fi

# arp_reply_lost: the guest gets the outside's ARP request and answers,
# but the reply is dropped: the outside's ping fails.
arp_reply_lost() {
	local log=$TMP/l3-arp

	ip -n "$NS_OUT" neigh flush dev o0
	serve_start "$log" || { serve_stop; cat "$log"; return 1; }
	ip netns exec "$NS_OUT" ping -c 2 -i 0.5 -W 1 "$GUEST4" && {
		serve_stop
		echo "the outside resolved the guest"
		return 1
	}
	serve_stop
	at_least "$log" arp_replies 1
}
# arp_reply_out: the guest's answer to the outside's ARP request reaches
# the outside (ours): it resolves the guest to the master's MAC.
arp_reply_out() {
	local log=$TMP/l3-arp-out

	ip -n "$NS_OUT" neigh flush dev o0
	serve_start "$log" || { serve_stop; cat "$log"; return 1; }
	ip netns exec "$NS_OUT" ping -c 1 -W 1 "$GUEST4" >/dev/null
	serve_stop
	at_least "$log" arp_replies 1 && neigh_is "$NS_OUT" "$GUEST4" "$MASTER_MAC"
}
if [ "$IMPL" = in-tree ]; then
	check "l3: the guest answers the outside's ARP, the answer is dropped # DIFF: ours sends it to the wire" \
		arp_reply_lost
else
	check "l3: the guest answers the outside's ARP, the answer reaches the outside" \
		arp_reply_out
fi

# Static neighbours everywhere (see the header).
ip -n "$NS_OUT" neigh replace "$GUEST4" lladdr "$MASTER_MAC" dev o0
ip -n "$NS_OUT" neigh replace "$GUEST6" lladdr "$MASTER_MAC" dev o0
ip -n "$NS_HOST" neigh replace "$OUT4" lladdr "$OUT_MAC" dev m0
ip -n "$NS_HOST" route add "$OUT6/128" dev m0
GUEST_NEIGH=(--neigh "$OUT4=$MASTER_MAC" --neigh "$OUT6=$MASTER_MAC")
ND_DESC="" ND_CHECK=""
common l3
check "l3: $TAP disappears with the ipvtap device" tap_gone

ktap_finish
