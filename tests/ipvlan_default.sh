#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan l3/l3s: the default slave (IFLA_IPVLAN_X_DEFAULT, ipvlan/default.c,
# issue 12 part 2). Master m0 has no address; slaves s1, s2 in l3 with
# 192.0.2.1 and .2; the outside host o0 (192.0.2.254) has no static
# neighbour. Evidence comes from the receiving side: UDP sockets and
# packet sockets in the slaves' and the master's namespaces, the slaves'
# own rx counters, ping answers, a DHCP lease from dnsmasq.
#
#  - without a default slave (the in-tree behaviour), the outside cannot
#    resolve s1 (no one answers ARP);
#  - s1 nominated: it leaves NOARP, ARP and IPv6 neighbour discovery work
#    both ways, ping both ways, no route or neighbour configured;
#  - broadcast from the wire reaches s1's socket, not s2's; every copy is
#    counted in stats.default_rx, exactly;
#  - multicast to a group s1 has not joined does not reach it (its own
#    multicast filter), once joined it does;
#  - unicast for an address no slave owns reaches s1; once the master's
#    namespace has the address, the master's socket gets it and s1 not;
#    unicast for s2's address still reaches s2 only;
#  - DHCP on s1 from dnsmasq on the outside, with and without the
#    broadcast flag (the unicast offer goes to an address nobody owns);
#  - moved live to s2 (s1 is NOARP again, s2 gets the broadcasts), cleared
#    (nobody gets them), deleted with its slave (cleared, no report);
#  - refused with a message and nothing changed: in mode l2, value 2; a
#    port switched to l2 forgets it;
#  - in l3s: broadcasts reach it, and the outside pings it through ARP.
#
# The in-tree ipvlan has no default slave: skipped (ipvlanctl says so).
#
# tests/run: timeout 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3
require_ipvlan

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"

N=10		# frames per case
PORT=5000
UNOWNED=192.0.2.77
GROUP=239.1.2.3

setup_l2_topology 2 mode l3
S1=${NS_S[1]} S2=${NS_S[2]}

if ! ip netns exec "$S1" "$CTL" show s1 | grep -q '^    default '; then
	ktap_skip_all "the loaded ipvlan ($IMPL) has no default slave"
fi

ktap_plan 22

TMPD=$(mktemp -d)
defer "rm -rf '$TMPD'"

cat >"$TMPD/dflt.py" <<'EOF'
import os, socket, struct, sys
sys.path.insert(0, os.environ["IPVTAP_REPO"] + "/tools/testing")
import ipvl_nl as nl

IFLA_IPVLAN_X_DEFAULT = 48


def udp_listen(port, *args):
    """One line per datagram to PORT (any address), after "ready":
    udp_listen PORT [GROUP:IFADDR] OUT, GROUP an IPv4 group joined first
    on the interface with address IFADDR."""
    group, out = args if len(args) == 2 else (None, args[0])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    if group:
        group, ifaddr = group.split(":")
        mreq = socket.inet_aton(group) + socket.inet_aton(ifaddr)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    f = open(out, "a", buffering=1)
    f.write("ready\n")
    while True:
        data, addr = s.recvfrom(2048)
        f.write("%s %s\n" % (addr[0], data.decode(errors="replace")))


def pkt_listen(dev, dst, out):
    """One line per incoming IPv4 frame on DEV to DST, after "ready"."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.bind((dev, 0))
    f = open(out, "a", buffering=1)
    f.write("ready\n")
    want = socket.inet_aton(dst)
    while True:
        data, addr = s.recvfrom(2048)
        if addr[2] != 4 and len(data) >= 20 and data[16:20] == want:
            f.write("%s\n" % dst)


def udp_send(dst, port, count, tag):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    for i in range(int(count)):
        s.sendto(("%s %d" % (tag, i)).encode(), (dst, int(port)))


def link(dev, value):
    """RTM_NEWLINK on DEV with IFLA_IPVLAN_X_DEFAULT VALUE: the errno."""
    data = nl.attr(IFLA_IPVLAN_X_DEFAULT, bytes([int(value)]))
    info = nl.attr(nl.IFLA_INFO_KIND, b"ipvlan") + \
        nl.attr(nl.IFLA_INFO_DATA | nl.NLA_F_NESTED, data)
    attrs = nl.attr(nl.IFLA_LINKINFO | nl.NLA_F_NESTED, info)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0,
                       socket.if_nametoindex(dev), 0, 0) + attrs
    err, msg = nl.Rtnl().request(nl.RTM_NEWLINK, 0, body)
    print("ok" if not err else "error: %s: %s" % (nl.ename(err), msg))
    sys.exit(1 if not err else 0)


globals()[sys.argv[1]](*sys.argv[2:])
EOF

py() { ip netns exec "$1" python3 -S "$TMPD/dflt.py" "${@:2}"; }

ctl() { ip netns exec "$1" "$CTL" "${@:2}"; }

# field NS DEV KEY: a value of `ipvlanctl show DEV --json` (dotted KEY).
field() {
	ctl "$1" show "$2" --json | python3 -S -c '
import json, sys
v = json.load(sys.stdin)[0]
for k in sys.argv[1].split("."):
    v = v[k]
print(json.dumps(v))' "$3"
}

# noarp NS DEV: DEV has IFF_NOARP.
noarp() { ip -n "$1" link show "$2" | grep -q 'NOARP'; }

# Listeners: LIS_<name> is the file, started by listen NAME NS ARGS...
listen() {
	local name=$1 ns=$2 file=$TMPD/$1.lis

	shift 2
	: >"$file"
	bg "$TMPD/$name.log" py "$ns" "$@" "$file"
	wait_for 10 grep -q '^ready' "$file" || { echo "listener $name not ready"; cat "$TMPD/$name.log"; return 1; }
}
got() { echo $(($(wc -l <"$TMPD/$1.lis") - 1)); }

# exactly NAME N [SECS]: listener NAME has N lines, within SECS (5), and
# still N a second later.
exactly() {
	wait_for "${3:-5}" test "$(got "$1")" -ge "$2"
	sleep 1
	[ "$(got "$1")" -eq "$2" ] && return 0
	echo "listener $1 got $(got "$1"), want $2"
	return 1
}

# Counting cases: the outside sends nothing but what the case sends.
ip netns exec "$NS_OUT" sysctl -qw net.ipv6.conf.o0.disable_ipv6=1

listen u1 "$S1" udp_listen "$PORT" || ktap_bail "no listener in s1"
listen u2 "$S2" udp_listen "$PORT" || ktap_bail "no listener in s2"

# ------------------------------------------------------- no default slave
no_default_no_arp() {
	local v

	v=$(field "$S1" s1 default) || return 1
	[ "$v" = false ] || { echo "default $v"; return 1; }
	! ip netns exec "$NS_OUT" ping -c 1 -W 2 192.0.2.1 >/dev/null
}
check "without a default slave the outside cannot resolve s1 (l3: nobody answers ARP)" \
	no_default_no_arp
ip -n "$NS_OUT" neigh flush dev o0

# ------------------------------------------------------- s1 nominated
nominate_s1() {
	ctl "$S1" set s1 default on || return 1
	[ "$(field "$S1" s1 default)" = true ] &&
		[ "$(field "$S2" s2 default)" = false ] &&
		! noarp "$S1" s1 && noarp "$S2" s2
}
check "set s1 default on: shown on s1 only, s1 leaves NOARP, s2 keeps it" \
	nominate_s1

check "the outside pings s1 with nothing configured (s1 answers ARP)" \
	ping_ok "$NS_OUT" 192.0.2.1
check "... the outside's neighbour entry for s1 is the master's MAC" \
	neigh_is "$NS_OUT" 192.0.2.1 "$MASTER_MAC"
check "s1 pings the outside, resolving it itself" \
	ping_ok "$S1" 192.0.2.254

bcast_counted() {
	local d0 d1 r0 r1

	d0=$(field "$S1" s1 stats.default_rx) && r0=$(stat_of "$S1" s1 rx_packets) || return 1
	py "$NS_OUT" udp_send 192.0.2.255 "$PORT" "$N" bcast || return 1
	exactly u1 "$N" || return 1
	d1=$(field "$S1" s1 stats.default_rx) && r1=$(stat_of "$S1" s1 rx_packets) || return 1
	echo "default_rx $d0 -> $d1, s1 rx_packets $r0 -> $r1"
	# s1 may also get unicast the outside sends it (an ARP probe).
	[ $((d1 - d0)) -eq "$N" ] && [ $((r1 - r0)) -ge "$N" ]
}
check "broadcast from the wire: s1's socket gets all $N, default_rx +$N exactly" \
	bcast_counted
check "... s2's socket got none" exactly u2 0 1

# Counted by a packet socket on s1 (frames to the group only: s1's
# rx_packets also counts whatever else the outside happens to send).
mcast_filtered() {
	listen pm "$S1" pkt_listen s1 "$GROUP" || return 1
	py "$NS_OUT" udp_send "$GROUP" "$PORT" "$N" mc || return 1
	sleep 2
	exactly pm 0
}
ip -n "$NS_OUT" route add 224.0.0.0/4 dev o0
check "multicast to a group s1 has not joined does not reach it (its multicast filter)" \
	mcast_filtered
mcast_joined() {
	listen g1 "$S1" udp_listen "$PORT" "$GROUP:192.0.2.1" || return 1
	py "$NS_OUT" udp_send "$GROUP" "$PORT" "$N" mc || return 1
	exactly g1 "$N"
}
check "... once s1 joins it, s1's socket gets all $N" mcast_joined

# Unicast to the master's MAC for addresses no slave owns.
ip -n "$NS_OUT" neigh replace "$UNOWNED" lladdr "$MASTER_MAC" dev o0 nud permanent
ip -n "$NS_OUT" neigh replace 192.0.2.2 lladdr "$MASTER_MAC" dev o0 nud permanent
listen p1 "$S1" pkt_listen s1 "$UNOWNED" || ktap_bail "no packet listener in s1"
unowned_to_default() {
	py "$NS_OUT" udp_send "$UNOWNED" "$PORT" "$N" uc || return 1
	exactly p1 "$N"
}
check "unicast for an address no slave owns reaches s1 ($N of $N)" \
	unowned_to_default
master_keeps() {
	local before

	ip -n "$NS_HOST" addr add "$UNOWNED/32" dev m0 || return 1
	listen um "$NS_HOST" udp_listen "$PORT" || return 1
	before=$(got p1)
	py "$NS_OUT" udp_send "$UNOWNED" "$PORT" "$N" uc || return 1
	exactly um "$N" || return 1
	[ "$(got p1)" -eq "$before" ] || { echo "s1 saw $(($(got p1) - before))"; return 1; }
}
check "... the master's namespace owning it: its socket gets all $N, s1 none" \
	master_keeps
to_s2() {
	local b1 b2

	b1=$(got u1) b2=$(got u2)
	py "$NS_OUT" udp_send 192.0.2.2 "$PORT" "$N" s2 || return 1
	exactly u2 $((b2 + N)) || return 1
	[ "$(got u1)" -eq "$b1" ] || { echo "s1 got $(($(got u1) - b1))"; return 1; }
}
check "unicast for s2's address reaches s2's socket only" to_s2

# IPv6 neighbour discovery through s1's multicast filter.
ip netns exec "$NS_OUT" sysctl -qw net.ipv6.conf.o0.disable_ipv6=0
ip -n "$NS_OUT" addr add "$OUT6/64" dev o0 nodad
check "IPv6: the outside pings s1 (s1 answers neighbour solicitations)" \
	wait_ping "$NS_OUT" "${NET6}:1"
check "IPv6: s1 pings the outside, resolving it itself" ping_ok "$S1" "$OUT6"
ip netns exec "$NS_OUT" sysctl -qw net.ipv6.conf.o0.disable_ipv6=1

# ------------------------------------------------------- DHCP on s1
if command -v dnsmasq >/dev/null && command -v busybox >/dev/null; then
	cat >"$TMPD/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc event script: the lease on the interface, nothing else.
case $1 in
bound|renew) ip addr add "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
EOF
	chmod +x "$TMPD/udhcpc.sh"
	bg "$TMPD/dnsmasq.log" ip netns exec "$NS_OUT" dnsmasq -d -k -C /dev/null \
		--port=0 --interface=o0 --bind-interfaces \
		--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h \
		--dhcp-leasefile="$TMPD/leases" --pid-file= --log-dhcp
	dhcp_lease() {
		ip -n "$S1" -4 addr flush dev s1
		ip netns exec "$S1" busybox udhcpc -i s1 -n -q -f -t 5 -T 2 \
			-s "$TMPD/udhcpc.sh" "$@" || { cat "$TMPD/dnsmasq.log"; return 1; }
		LEASED=$(ip -n "$S1" -4 -o addr show dev s1 | awk '{ print $4 }')
		LEASED=${LEASED%/*}
		echo "lease: $LEASED"
		[ -n "$LEASED" ] && ping_ok "$NS_OUT" "$LEASED"
	}
	check "DHCP on s1 without the broadcast flag: lease from dnsmasq, then pinged" \
		dhcp_lease
	check "DHCP on s1 with the broadcast flag (-B): lease, then pinged" \
		dhcp_lease -B
	ip -n "$S1" -4 addr flush dev s1
	ip -n "$S1" addr add 192.0.2.1/24 dev s1
else
	skip "DHCP on s1 without the broadcast flag" "no dnsmasq (dnsmasq-base) or busybox"
	skip "DHCP on s1 with the broadcast flag (-B)" "no dnsmasq (dnsmasq-base) or busybox"
fi

# ------------------------------------------------------- live changes
move_to_s2() {
	local b1 b2

	ctl "$S2" set s2 default on || return 1
	if ! { [ "$(field "$S1" s1 default)" = false ] && noarp "$S1" s1 &&
		[ "$(field "$S2" s2 default)" = true ] && ! noarp "$S2" s2; }; then
		echo "flags after the move wrong"
		return 1
	fi
	b1=$(got u1) b2=$(got u2)
	py "$NS_OUT" udp_send 192.0.2.255 "$PORT" "$N" moved || return 1
	exactly u2 $((b2 + N)) || return 1
	[ "$(got u1)" -eq "$b1" ] || { echo "s1 got $(($(got u1) - b1))"; return 1; }
}
check "moved live to s2: s1 is NOARP again, s2's socket gets the broadcasts, s1's none" \
	move_to_s2

nobody_gets() {
	local b1 b2 d0 d1

	d0=$(field "$S1" s1 stats.default_rx) || return 1
	b1=$(got u1) b2=$(got u2)
	py "$NS_OUT" udp_send 192.0.2.255 "$PORT" "$N" none || return 1
	sleep 2
	d1=$(field "$S1" s1 stats.default_rx) || return 1
	echo "s1 +$(($(got u1) - b1)), s2 +$(($(got u2) - b2)), default_rx $d0 -> $d1"
	[ "$(got u1)" -eq "$b1" ] && [ "$(got u2)" -eq "$b2" ] && [ "$d1" -eq "$d0" ]
}
cleared() {
	ctl "$S2" set s2 default off || return 1
	[ "$(field "$S2" s2 default)" = false ] && noarp "$S2" s2 || return 1
	nobody_gets
}
check "cleared: no slave gets broadcasts, default_rx unchanged, s2 NOARP" cleared

deleted() {
	ctl "$S2" set s2 default on || return 1
	ip -n "$S2" link del s2 || return 1
	[ "$(field "$S1" s1 default)" = false ] && nobody_gets
}
check "the default slave deleted: cleared, nobody gets broadcasts" deleted

# ------------------------------------------------------- refusals
refused_in_l2() {
	local out

	ctl "$S1" set s1 default on || return 1
	ip -n "$S1" link set s1 type ipvlan mode l2 || return 1
	[ "$(field "$S1" s1 default)" = false ] || { echo "kept in l2"; return 1; }
	out=$(ctl "$S1" set s1 default on 2>&1) && { echo "accepted: $out"; return 1; }
	echo "$out"
	[[ $out == *"modes l3 and l3s"* ]] && [ "$(field "$S1" s1 default)" = false ] &&
		[ "$(field "$S1" s1 mode)" = '"l2"' ]
}
check "a port switched to l2 forgets it; set in l2: refused with a message, unchanged" \
	refused_in_l2
ip -n "$S1" link set s1 type ipvlan mode l3

value_2_refused() {
	local out

	out=$(py "$S1" link s1 2) || { echo "$out"; return 1; }
	echo "$out"
	[[ $out == error:* ]] && [ "$(field "$S1" s1 default)" = false ]
}
check "value 2 refused (netlink policy), nothing changed" value_2_refused

# ------------------------------------------------------- l3s
l3s_default() {
	local b1

	ip -n "$S1" link set s1 type ipvlan mode l3s || return 1
	ctl "$S1" set s1 default on || return 1
	ip -n "$NS_OUT" neigh flush dev o0
	b1=$(got u1)
	py "$NS_OUT" udp_send 192.0.2.255 "$PORT" "$N" l3s || return 1
	exactly u1 $((b1 + N)) || return 1
	ping_ok "$NS_OUT" 192.0.2.1
}
check "l3s: s1 as default gets the broadcasts and the outside pings it through ARP" \
	l3s_default

ktap_finish
