#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# L3-mode guests without static neighbours (issue 14, item 3;
# ipvlan/l3neigh.c). Guests behind ipvtap in mode l3 are namespaces whose
# tap device g0 is bridged to /dev/tapN by tools/testing/tappump.py: their
# own kernel resolves neighbours. Each has only addresses and default
# routes (via the outside router, 192.0.2.254 / 2001:db8::fe); nothing is
# configured on the ipvtaps, no neighbour is static anywhere. The host has
# its own address on the master and routes 198.51.100.0/24 and
# 2001:db8:1::/64 (the outside's loopback) via the outside.
#
#  - guest A (the master's MAC) pings the outside on-link and off-link
#    through its default route, IPv4 and IPv6: its ARP requests and
#    neighbour solicitations are answered by the driver with the master's
#    MAC; the outside pings it (the outside's ARP/NS reach the guest, its
#    answers go out), with no static neighbour on either side;
#  - the guest's own duplicate address detection is not answered: an
#    IPv6 address added with DAD on becomes valid, ARP probes (arping -D)
#    for its own and for a free address get no answer;
#  - guest B with a MAC of its own and MAC-NAT on works the same; the
#    answer it gets is the master's MAC, not its own; its DHCP client
#    (busybox udhcpc, no broadcast flag) gets a lease from dnsmasq outside
#    (its broadcasts go to the wire, the unicast reply finds it by xid).
#
# Against the in-tree ipvtap (IMPL=in-tree) a guest without static
# neighbours cannot reach anything in l3 (marked # DIFF).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"


require_root
require_cmd ip ping python3 busybox

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi

MAC_B=52:54:00:12:34:56
A4=$NET4.1
A6=$NET6:1
B4=$NET4.2
B6=$NET6:2
HOST4=$NET4.200
HOST6=$NET6:c8
FAR4=198.51.100.1
FAR6=2001:db8:1::1

setup_master
TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

ip -n "$NS_HOST" addr add "$HOST4/24" dev m0
ip -n "$NS_HOST" addr add "$HOST6/64" dev m0 nodad
ip -n "$NS_HOST" route add "$FAR4/32" via "$OUT4"
ip -n "$NS_HOST" route add "$FAR6/128" via "$OUT6"
ip -n "$NS_OUT" addr add "$FAR4/32" dev lo
ip -n "$NS_OUT" addr add "$FAR6/128" dev lo

for d in vt0 vt1; do
	if ! out=$(ip -n "$NS_HOST" link add link m0 name $d type ipvtap mode l3 2>&1); then
		case $out in
		*"Unknown device type"*) ktap_skip_all "no ipvtap link kind ($out)" ;;
		esac
		ktap_bail "cannot create $d: $out"
	fi
	ip -n "$NS_HOST" link set $d up
done

# guest_setup NS A4 A6: addresses and default routes, nothing else.
guest_setup() {
	ip -n "$1" addr add "$2/24" dev g0
	ip -n "$1" addr add "$3/64" dev g0 nodad
	ip -n "$1" route add default via "$OUT4"
	ip -n "$1" -6 route add default via "$OUT6"
}

# neigh_router NS ADDR: NS has ADDR as a router (the driver's NA).
neigh_router() {
	ip -n "$1" neigh show "$2" | grep -qw router && return 0
	ip -n "$1" neigh show
	return 1
}

# answered LABEL DST ADDR: the pump of guest LABEL handed it an ARP reply
# (IPv4 ADDR) or a neighbour advertisement (IPv6) for ADDR, sent to DST,
# with the master's MAC as the answer.
answered() {
	local log=$TMP/pump-$1.log

	if [[ $3 == *:* ]]; then
		grep -q "^rx na dst=$2 target=$3 tlla=$MASTER_MAC" "$log" && return 0
	else
		grep -q "^rx arp-reply dst=$2 sip=$3 sha=$MASTER_MAC" "$log" && return 0
	fi
	echo "no answer for $3 to $2 in $log:"
	grep '^rx ' "$log"
	return 1
}

# no_static NS...: no permanent neighbour entry in these namespaces.
no_static() {
	local ns

	for ns in "$@"; do
		if ip -n "$ns" neigh show nud permanent | grep -q .; then
			ip -n "$ns" neigh show nud permanent
			return 1
		fi
	done
}

pump_guest NS_GA ga vt0 "$MASTER_MAC"
guest_setup "$NS_GA" "$A4" "$A6"

if [ "$IMPL" = in-tree ]; then
	ktap_plan 2
	check_fail "in-tree l3: guest A without static neighbours cannot reach the outside # DIFF: ours answers the guest's ARP (ipvlan/l3neigh.c)" \
		ip netns exec "$NS_GA" ping -c 2 -i 0.3 -W 1 "$OUT4"
	check_fail "in-tree l3: nor over IPv6 # DIFF: ours answers the guest's NS" \
		ip netns exec "$NS_GA" ping -c 2 -i 0.3 -W 1 "$OUT6"
	ktap_finish
fi

ktap_plan 12

check "l3: guest A pings the outside and, via its default route, a host beyond it (IPv4)" \
	eval "ping_ok $NS_GA $OUT4 && ping_ok $NS_GA $FAR4"
check "l3: the same over IPv6" \
	eval "ping_ok $NS_GA $OUT6 && ping_ok $NS_GA $FAR6"
# (The guest's entries may later take the outside's own MAC from the
# outside's ARP requests and NS, which reach it: in l3 the host routes
# whatever MAC the guest sends to.)
check "guest A got answers for its router with the master's MAC (ARP reply, NA with the router flag)" \
	eval "answered ga $MASTER_MAC $OUT4 && answered ga $MASTER_MAC $OUT6 && \
		neigh_router $NS_GA $OUT6"
check "the outside pings guest A, IPv4 and IPv6 (its ARP and NS answered by the guest)" \
	eval "ping_ok $NS_OUT $A4 && ping_ok $NS_OUT $A6"
check "the outside has guest A at the master's MAC; no static neighbour anywhere" \
	eval "neigh_is $NS_OUT $A4 $MASTER_MAC && neigh_is $NS_OUT $A6 $MASTER_MAC && \
		no_static $NS_GA $NS_OUT $NS_HOST"
check "vt0 counted the answers (neigh_answered)" \
	eval "ip netns exec $NS_HOST $CTL show vt0 | grep -Eq 'neigh_answered [1-9]'"

# ------------------------------------------ the guest's own addresses

ip netns exec "$NS_GA" sysctl -qw net.ipv6.conf.g0.accept_dad=1
ip -n "$NS_GA" addr add "$NET6:99/64" dev g0
# (Each with a case the driver does answer: what is left unanswered is
# chosen, not everything.)
check "DAD of a new IPv6 address is not answered (it becomes valid); the guest's NS for a free address is" \
	eval "sleep 2; wait_for 5 eval '! ip -n $NS_GA -6 addr show dev g0 tentative | grep -q .' && \
		! ip -n $NS_GA -6 addr show dev g0 dadfailed | grep -q . && \
		{ ip netns exec $NS_GA ping -c 1 -W 1 $NET6:77 >/dev/null; \
		  neigh_is $NS_GA $NET6:77 $MASTER_MAC; }"
check "ARP probes for the guest's own and a free address get no answer (arping -D); a request for the free one does" \
	eval "ip netns exec $NS_GA busybox arping -D -q -c 1 -w 1 -I g0 $A4 && \
		ip netns exec $NS_GA busybox arping -D -q -c 1 -w 1 -I g0 $NET4.77 && \
		ip netns exec $NS_GA busybox arping -q -c 1 -w 2 -I g0 -s $A4 $NET4.77"

# ------------------------------------------------- a guest's own MAC

ip netns exec "$NS_HOST" "$CTL" set vt1 mac-nat on
pump_guest NS_GB gb vt1 "$MAC_B"
guest_setup "$NS_GB" "$B4" "$B6"
check "l3, MAC-NAT: guest B ($MAC_B) pings the outside, IPv4 and IPv6, and is pinged" \
	eval "ping_ok $NS_GB $FAR4 && ping_ok $NS_GB $FAR6 && \
		ping_ok $NS_OUT $B4 && ping_ok $NS_OUT $B6"
check "... the answers for its router, sent to its own MAC, say the master's" \
	eval "answered gb $MAC_B $OUT4 && answered gb $MAC_B $OUT6"
check "guests A and B ping each other" \
	eval "ping_ok $NS_GA $B4 && ping_ok $NS_GB $A6"

# ---------------------------------------------------------------- DHCP

# leased_ping: guest B's udhcpc (no broadcast flag) gets a lease from
# dnsmasq outside, and B pings the outside from the leased address.
leased_ping() {
	local ip

	ip netns exec "$NS_GB" busybox udhcpc -f -q -n -i g0 \
		-s "$TMP/udhcpc.sh" -t 4 -T 2 >"$TMP/udhcpc.out" 2>&1
	ip=$(awk '$1 == "bound" { a = $2 } END { print a }' "$TMP/dhcp.log")
	if [ -z "$ip" ]; then
		cat "$TMP/udhcpc.out" "$TMP/dnsmasq.log"
		return 1
	fi
	ip netns exec "$NS_GB" ping -c 3 -i 0.2 -W 2 -I "$ip" "$OUT4"
}
if command -v dnsmasq >/dev/null 2>&1 && busybox udhcpc --help >/dev/null 2>&1; then
	bg "$TMP/dnsmasq.log" ip netns exec "$NS_OUT" dnsmasq --no-daemon \
		--conf-file=/dev/null --port=0 --interface=o0 --bind-interfaces \
		--dhcp-range=$NET4.100,$NET4.149,255.255.255.0,2m \
		--dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" \
		--no-ping --dhcp-authoritative --log-dhcp --log-facility=- \
		--user=root --group=root
	wait_for 10 grep -q 'DHCP, IP range' "$TMP/dnsmasq.log" >/dev/null
	# shellcheck disable=SC2016 # the script's own variables
	printf '#!/bin/sh\necho "$1 ${ip:-}" >>%s\n[ "$1" != bound ] || ip addr add "$ip/24" dev "$interface"\n' \
		"$TMP/dhcp.log" >"$TMP/udhcpc.sh"
	chmod +x "$TMP/udhcpc.sh"
	check "l3, MAC-NAT: guest B's udhcpc (no broadcast flag) gets a lease and pings the outside from it" \
		leased_ping
else
	skip "l3, MAC-NAT: guest B's udhcpc (no broadcast flag) gets a lease and pings the outside from it" \
		"dnsmasq or busybox udhcpc missing (make deps)"
fi

ktap_finish
