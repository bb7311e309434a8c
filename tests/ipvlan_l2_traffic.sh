#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan L2: unicast, ARP/ND, broadcast/multicast and TCP between three
# slaves (each in its own netns) and an "outside" host behind the master.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping iperf3 ndisc6
require_ipvlan

ktap_plan 19

setup_l2_topology 3
S1=${NS_S[1]} S2=${NS_S[2]} S3=${NS_S[3]}

# The first packets need ARP/ND: wait for them, then assert.
wait_ping "$S1" "$OUT4" >/dev/null

check "slave -> slave IPv4 ping (s1 -> s2)" wait_ping "$S1" "$NET4.2"
check "slave -> slave IPv6 ping (s2 -> s3)" wait_ping "$S2" "$NET6:3"
check "slave -> outside IPv4 ping" ping_ok "$S1" "$OUT4"
check "slave -> outside IPv6 ping" wait_ping "$S3" "$OUT6"
check "outside -> slave IPv4 ping" wait_ping "$NS_OUT" "$NET4.2"
check "outside -> slave IPv6 ping" wait_ping "$NS_OUT" "$NET6:1"

check "outside's ARP entry for a slave IPv4 is the master's MAC" \
	neigh_is "$NS_OUT" "$NET4.2" "$MASTER_MAC"
check "outside's ND entry for a slave IPv6 is the master's MAC" \
	neigh_is "$NS_OUT" "$NET6:1" "$MASTER_MAC"
check "slave's ARP entry for the outside is the outside's MAC" \
	neigh_is "$S1" "$OUT4" "$OUT_MAC"
check "slave's ND entry for the outside is the outside's MAC" \
	neigh_is "$S3" "$OUT6" "$OUT_MAC"

# Explicit neighbour solicitations (ndisc6 prints the target's MAC).
nd_probe() {
	local got

	got=$(ip netns exec "$1" ndisc6 -1 -q "$2" "$3")
	got=${got,,}
	[ "$got" = "$4" ] && return 0
	echo "ndisc6 $2 on $3 in $1: '$got', want '$4'"
	return 1
}
check "ND solicitation from the outside for a slave answers the master's MAC" \
	nd_probe "$NS_OUT" "$NET6:2" o0 "$MASTER_MAC"
check "ND solicitation from a slave for the outside answers the outside's MAC" \
	nd_probe "$S2" "$OUT6" s2 "$OUT_MAC"

# Broadcast: every slave answers an echo to 192.0.2.255.
for ns in "$S1" "$S2" "$S3"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0
done

# bcast_responders NS DEV WANT...: a broadcast ping from NS is answered by
# every address in WANT.
bcast_responders() {
	local ns=$1 out a rc=0

	shift
	out=$(ip netns exec "$ns" ping -b -c 3 -i 0.3 -W 2 "$NET4.255" 2>/dev/null)
	for a in "$@"; do
		if ! grep -q "from $a:" <<<"$out"; then
			echo "no reply from $a"
			rc=1
		fi
	done
	[ "$rc" -eq 0 ] || echo "$out"
	return "$rc"
}
check "broadcast ping from the outside reaches all three slaves" \
	bcast_responders "$NS_OUT" "$NET4.1" "$NET4.2" "$NET4.3"
check "broadcast ping from a slave reaches the other slaves" \
	bcast_responders "$S1" "$NET4.2" "$NET4.3"

# Multicast: the outside's ping to all-nodes is answered by each slave's
# link-local address (distinct per slave, see ipvlan_l2_basic).
mcast_all_slaves() {
	local out i ll rc=0

	out=$(ip netns exec "$NS_OUT" ping -c 3 -i 0.3 -W 2 ff02::1%o0 2>/dev/null)
	for i in 1 2 3; do
		ll=$(ip -n "${NS_S[$i]}" -6 addr show dev "s$i" scope link |
			awk '/inet6/ { sub("/.*", "", $2); print $2 }')
		if [ -z "$ll" ] || ! grep -q "from $ll%o0" <<<"$out"; then
			echo "no reply from s$i ($ll)"
			rc=1
		fi
	done
	[ "$rc" -eq 0 ] || echo "$out"
	return "$rc"
}
check "IPv6 all-nodes multicast ping from the outside reaches all slaves" \
	mcast_all_slaves

tcp_listening() {
	ip netns exec "$1" ss -Htln "sport = :$2" | grep -q .
}

# iperf NS_SERVER NS_CLIENT ADDR [args]: a 2 s TCP transfer must complete
# with a nonzero received bitrate.
iperf() {
	local srv=$1 cli=$2 addr=$3 out rate

	shift 3
	# One-shot server; killed with its netns at exit if it lingers.
	ip netns exec "$srv" iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
	wait_for 5 tcp_listening "$srv" 5201 ||
		{ echo "iperf3 server did not start"; return 1; }
	out=$(ip netns exec "$cli" timeout 30 iperf3 -c "$addr" -t 2 -f m "$@" 2>&1) ||
		{ echo "$out"; return 1; }
	rate=$(awk '/receiver/ { for (i = 1; i <= NF; i++)
		if ($i == "Mbits/sec") print $(i - 1) }' <<<"$out")
	echo "receiver: ${rate:-?} Mbit/s"
	awk -v r="${rate:-0}" 'BEGIN { exit !(r > 0) }'
}
check "TCP (iperf3) slave -> outside" iperf "$NS_OUT" "$S1" "$OUT4"
check "TCP (iperf3) slave -> slave" iperf "$S2" "$S3" "$NET4.2"
check "TCP (iperf3) outside -> slave over IPv6" iperf "$S3" "$NS_OUT" "$NET6:3"

counters_moved() {
	local rx tx

	read -r rx tx < <(ip netns exec "$S1" cat /sys/class/net/s1/statistics/rx_packets \
		/sys/class/net/s1/statistics/tx_packets | paste -s -d ' ')
	echo "s1 rx_packets=$rx tx_packets=$tx"
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]
}
check "slave RX/TX packet counters count the traffic" counters_moved

ktap_finish
