#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan l2: the ARP filter (IFLA_IPVLAN_X_ARP_FILTER, default on). Who
# receives a broadcast ARP request, counted by a packet socket on every
# slave (and on the outside host), and IPVLAN_X_STATS_ARP_FILTERED:
#
#  - a request for a slave's address reaches that slave only (which
#    learns the sender); one for an address no slave owns reaches none;
#    one for the master's own address reaches the master's stack, no
#    slave; the counter rises by one per copy kept back, exactly;
#  - gratuitous requests (sender = target) and broadcast replies reach
#    every slave, uncounted; each slave's stack processes the gratuitous
#    request (a stale neighbour entry takes the sender's MAC);
#  - a probe (sender 0.0.0.0) reaches the owner of its target, whose
#    answer reaches the outside, or none;
#  - a request whose sender address a slave owns reaches that slave too,
#    whatever the target (RFC 5227 ongoing conflict detection);
#  - a slave in promiscuous mode gets every request;
#  - a request sent by a slave reaches the owner and the wire, no other;
#  - a slave learning its guest's addresses gets the requests for what it
#    learned, and those for addresses no slave owns, not those for another
#    slave's;
#  - turned off live (ipvlanctl), every slave gets every request, as with
#    the in-tree driver; turned on again, it filters again; created off
#    (IFLA_INFO_DATA of a new slave), the whole port is off;
#  - the value 2 is refused with an extack message and changes nothing;
#  - ipvlanctl shows it (text and JSON) on every slave of the master;
#  - neighbour resolution and ping between slaves and with the outside
#    work with the filter on, in l2 bridge, private and vepa;
#  - an IPv6 neighbour solicitation to a slave's solicited-node group
#    reaches that slave's IPv6 stack only (Icmp6InNeighborSolicits): the
#    multicast filter does that already (this case passes with the ARP
#    filter off too), given a master MAC whose link-local group shares no
#    filter bucket with it;
#  - a listener that must get nothing is read once a marker sent after
#    the case's frames has reached it, not after a fixed delay.
#
# The in-tree ipvlan has no ARP filter: skipped (ipvlanctl says so).
#
# tests/run: timeout 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3 ndisc6
require_ipvlan

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"

N=3		# slaves
REQS=4		# requests per case

# A fixed master MAC (the slaves' too): their IPv6 link-local address,
# hence its solicited-node group, is known. 33:33:ff:00:aa:01 does not
# share a multicast filter bucket (mcast.c, 256) with 33:33:ff:00:00:01,
# the group of s1's 2001:db8::1 the NS case below asks for.
SETUP_MASTER_MAC=02:00:00:00:aa:01
setup_l2_topology "$N"
S1=${NS_S[1]} S2=${NS_S[2]} S3=${NS_S[3]}

if ! ip netns exec "$S1" "$CTL" show s1 | grep -q '^    arp-filter '; then
	ktap_skip_all "the loaded ipvlan ($IMPL) has no ARP filter"
fi

ktap_plan 19

TMPD=$(mktemp -d)
defer "rm -rf '$TMPD'"

# The helper: packet socket listener, ARP sender, raw link requests.
cat >"$TMPD/arpf.py" <<'EOF'
import os, socket, struct, sys
sys.path.insert(0, os.environ["IPVTAP_REPO"] + "/tools/testing")
import ipvl_nl as nl

IFLA_IPVLAN_X_ARP_FILTER = 47
PACKET_OUTGOING = 4


def listen(dev, out):
    """One line "op sender target" per ARP frame DEV receives."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((dev, 0))
    f = open(out, "a", buffering=1)
    f.write("ready\n")
    while True:
        data, addr = s.recvfrom(2048)
        if addr[2] == PACKET_OUTGOING or len(data) < 42:
            continue
        f.write("%d %s %s\n" % (struct.unpack_from("!H", data, 20)[0],
                                socket.inet_ntoa(data[28:32]),
                                socket.inet_ntoa(data[38:42])))


def send(dev, op, sip, tip, count, mark=None):
    """COUNT broadcast ARP frames out of DEV, from DEV's MAC; then, with
    MARK, one gratuitous request "1 MARK MARK" (see Markers in the test)."""
    mac = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read()
                        .strip().replace(":", ""))
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, int(op)) + mac + \
        socket.inet_aton(sip) + bytes(6) + socket.inet_aton(tip)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    for _ in range(int(count)):
        s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp + bytes(18))
    if mark:
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + \
            socket.inet_aton(mark) + bytes(6) + socket.inet_aton(mark)
        s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp + bytes(18))


def link(cmd, dev, value, master=None):
    """RTM_NEWLINK: set DEV's ARP filter to VALUE, or create DEV with it."""
    data = nl.attr(nl.IFLA_IPVLAN_MODE, nl.u16(0)) + \
        nl.attr(IFLA_IPVLAN_X_ARP_FILTER, bytes([int(value)]))
    info = nl.attr(nl.IFLA_INFO_KIND, b"ipvlan") + \
        nl.attr(nl.IFLA_INFO_DATA | nl.NLA_F_NESTED, data)
    attrs = nl.attr(nl.IFLA_LINKINFO | nl.NLA_F_NESTED, info)
    index, flags = 0, 0
    if cmd == "newlink":
        flags = nl.NLM_F_CREATE | nl.NLM_F_EXCL
        attrs += nl.attr(nl.IFLA_IFNAME, dev.encode() + b"\0") + \
            nl.attr(nl.IFLA_LINK, nl.u32(socket.if_nametoindex(master)))
    else:
        index = socket.if_nametoindex(dev)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, 0) + attrs
    err, msg = nl.Rtnl().request(nl.RTM_NEWLINK, flags, body)
    print("ok" if not err else "error: %s: %s" % (nl.ename(err), msg))
    sys.exit(1 if err else 0)


{"listen": listen, "send": send, "link": link}[sys.argv[1]](*sys.argv[2:])
EOF

# One listener per slave (L[i]) and on the outside host (L[0]).
L=("$TMPD/out.log")
bg "$TMPD/out.err" ip netns exec "$NS_OUT" python3 -S "$TMPD/arpf.py" \
	listen o0 "${L[0]}"
for ((i = 1; i <= N; i++)); do
	L[i]=$TMPD/s$i.log
	bg "$TMPD/s$i.err" ip netns exec "${NS_S[i]}" python3 -S \
		"$TMPD/arpf.py" listen "s$i" "${L[i]}"
done
listeners_ready() {
	local i

	for ((i = 0; i <= N; i++)); do
		grep -qx ready "${L[i]}" 2>/dev/null || return 1
	done
}
wait_for 20 listeners_ready >/dev/null ||
	ktap_bail "packet socket listeners did not start: $(cat "$TMPD"/*.err)"

ctl() {
	ip netns exec "$S1" "$CTL" "$@"
}

# filtered [NS DEV]: stats arp_filtered of DEV (default s1), from the text.
filtered() {
	ip netns exec "${1:-$S1}" "$CTL" show "${2:-s1}" |
		sed -n 's/^    stats.* arp_filtered \([0-9]*\).*/\1/p'
}

# seen I OP SIP TIP: frames "OP SIP TIP" listener I got.
seen() {
	grep -cx "$2 $3 $4" "${L[$1]}"
}

# got_is OP SIP TIP WANT0 WANT1..WANTN: listener i got WANTi of them.
got_is() {
	local op=$1 sip=$2 tip=$3 want i

	shift 3
	want=("$@")
	for ((i = 0; i <= N; i++)); do
		[ "$(seen "$i" "$op" "$sip" "$tip")" -eq "${want[i]}" ] ||
			return 1
	done
}

# filtered_is N: arp_filtered is N.
filtered_is() {
	[ "$(filtered)" = "$1" ]
}

# until_clock END CMD...: retry CMD every 0.2 s until it succeeds or the
# clock passes END (EPOCHSECONDS): a failing case must not take minutes.
until_clock() {
	local end=$1

	shift
	until "$@" >/dev/null 2>&1; do
		[ "$EPOCHSECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# Markers: after the frames of a case, the sender sends one gratuitous
# request "1 MARK MARK" from a fresh MARK (198.18.0.K), which the filter
# lets reach everyone. It passes through the port's backlog behind the
# case's frames, so a copy a listener has not got once it has the marker
# never comes. A sender's own listener never sees what it sends.

# next_mark: set MARK to a new marker address.
MARKS=0
next_mark() {
	MARKS=$((MARKS + 1))
	MARK=198.18.0.$MARKS
}

# marked SKIP: every listener but SKIP (0: the outside, i: slave i) has
# the marker.
marked() {
	local i

	for ((i = 0; i <= N; i++)); do
		[ "$i" -eq "$1" ] || [ "$(seen "$i" 1 "$MARK" "$MARK")" -ge 1 ] ||
			return 1
	done
}

# mark_out END: a marker from the outside; wait until every slave has it.
mark_out() {
	next_mark
	ip netns exec "$NS_OUT" python3 -S "$TMPD/arpf.py" send o0 1 \
		"$MARK" "$MARK" 1 && until_clock "$1" marked 0
}

# arp_case NS DEV OP SIP TIP DELTA WANT0..WANTN: send REQS broadcast ARP
# frames "OP SIP TIP" out of DEV in NS; then arp_filtered must rise by
# DELTA and listener i (0: the outside, i: slave i) get WANTi of them.
# Waits for both, and for the marker sent after them: a copy that should
# not come has had its chance.
arp_case() {
	local ns=$1 dev=$2 op=$3 sip=$4 tip=$5 delta=$6 base end n rc=0 i me

	shift 6
	me=0
	[ "$dev" = o0 ] || me=${dev#s}
	next_mark
	base=$(filtered)
	ip netns exec "$ns" python3 -S "$TMPD/arpf.py" send "$dev" "$op" \
		"$sip" "$tip" "$REQS" "$MARK" || return 1
	end=$((EPOCHSECONDS + 5 * TIME_SCALE))
	until_clock "$end" got_is "$op" "$sip" "$tip" "$@"
	until_clock "$end" filtered_is $((base + delta))
	until_clock "$end" marked "$me" ||
		{ echo "marker $MARK not seen by every listener"; rc=1; }
	n=$(filtered)
	printf 'ARP op %s %s -> %s from %s: got out' "$op" "$sip" "$tip" "$dev"
	for ((i = 0; i <= N; i++)); do
		[ "$i" -eq 0 ] || printf ' s%s' "$i"
		printf ' %s' "$(seen "$i" "$op" "$sip" "$tip")"
	done
	echo " (want $*); arp_filtered +$((n - base)) (want +$delta)"
	[ "$n" -eq $((base + delta)) ] || rc=1
	got_is "$op" "$sip" "$tip" "$@" || rc=1
	return "$rc"
}

# from_out OP SIP TIP DELTA WANT1..WANTN: arp_case from the outside host
# (which does not see its own frames).
from_out() {
	arp_case "$NS_OUT" o0 "$1" "$2" "$3" "$4" 0 "${@:5}"
}

# ------------------------------------------------------------ show

text_show() {
	local out i

	for ((i = 1; i <= N; i++)); do
		out=$(ip netns exec "${NS_S[i]}" "$CTL" show "s$i") || return 1
		echo "$out"
		grep -qx '    arp-filter on' <<<"$out" || return 1
		grep -Eq '^    stats .* arp_filtered 0( |$)' <<<"$out" || return 1
	done
	ctl show s1 --json | python3 -S -c '
import json, sys
o = json.load(sys.stdin)[0]
sys.exit(0 if o["arp_filter"] is True and o["stats"]["arp_filtered"] == 0
         else "json: %r" % o)'
}
check "arp-filter on by default, arp_filtered 0: ipvlanctl text on every slave, --json" \
	text_show

# ---------------------------------------------------------- requests

R=$REQS

owned() {
	from_out 1 "$NET4.201" "$NET4.1" $((2 * R)) "$R" 0 0 &&
		neigh_is "$S1" "$NET4.201" "$OUT_MAC"
}
check "request from the wire for s1's address: s1 only (it learns the sender), $((2 * R)) counted" \
	owned

check "request for an address no slave owns: no slave, $((N * R)) counted" \
	from_out 1 "$NET4.202" "$NET4.99" $((N * R)) 0 0 0

master_own() {
	local rc

	ip -n "$NS_HOST" addr add "$NET4.250/24" dev m0 || return 1
	from_out 1 "$NET4.203" "$NET4.250" $((N * R)) 0 0 0 &&
		neigh_is "$NS_HOST" "$NET4.203" "$OUT_MAC"
	rc=$?
	ip -n "$NS_HOST" addr del "$NET4.250/24" dev m0
	return "$rc"
}
check "request for the master's address: its stack answers, no slave gets it" \
	master_own

# Each slave's stack processes it: a stale entry for the address takes
# the sender's MAC.
gratuitous() {
	local i rc

	for ((i = 1; i <= N; i++)); do
		ip -n "${NS_S[i]}" neigh replace "$NET4.77" \
			lladdr 02:00:00:00:00:77 nud stale dev "s$i" || return 1
	done
	from_out 1 "$NET4.77" "$NET4.77" 0 "$R" "$R" "$R"
	rc=$?
	for ((i = 1; i <= N; i++)); do
		neigh_is "${NS_S[i]}" "$NET4.77" "$OUT_MAC" || rc=1
		ip -n "${NS_S[i]}" neigh del "$NET4.77" dev "s$i"
	done
	return "$rc"
}
check "gratuitous request: every slave, whose stack updates a stale entry; not counted" \
	gratuitous

check "reply to the broadcast address: every slave, not counted" \
	from_out 2 "$NET4.204" "$NET4.1" 0 "$R" "$R" "$R"

# The owner defends its address: its reply (to 0.0.0.0) reaches the
# outside.
probes() {
	local n

	from_out 1 0.0.0.0 "$NET4.2" $((2 * R)) 0 "$R" 0 || return 1
	n=$(seen 0 2 "$NET4.2" 0.0.0.0)
	echo "replies from s2 seen outside: $n"
	[ "$n" -ge 1 ] &&
		from_out 1 0.0.0.0 "$NET4.98" $((N * R)) 0 0 0
}
check "probes (sender 0.0.0.0): to the owner of the target (s2), which answers, or none" \
	probes

# RFC 5227 2.4: another host asking with s1's address as its sender is a
# conflict s1's ongoing detection (n-acd) must see, whatever the target.
check "request with s1's address as sender, target unowned: s1 only" \
	from_out 1 "$NET4.1" "$NET4.94" $(((N - 1) * R)) "$R" 0 0

promisc() {
	local rc

	ip -n "$S3" link set s3 promisc on || return 1
	from_out 1 "$NET4.205" "$NET4.1" "$R" "$R" 0 "$R"
	rc=$?
	ip -n "$S3" link set s3 promisc off
	return "$rc"
}
check "a slave in promiscuous mode (s3) gets every request" promisc

check "request sent by s1 for s2's address: s2 and the wire, not s3" \
	arp_case "$S1" s1 1 "$NET4.1" "$NET4.2" $(((N - 2) * R)) "$R" 0 "$R" 0

# A slave that learns its guest's addresses (ipvtap's default): what it
# learned counts as owned; an unowned target may be its guest's, unknown
# yet: it gets that request too.
learning() {
	local rc

	ip netns exec "$S3" "$CTL" set s3 learn on || return 1
	# s3 announces 192.0.2.33 (learned from it): everyone else gets it.
	arp_case "$S3" s3 1 "$NET4.33" "$NET4.33" 0 "$R" "$R" "$R" 0 &&
		from_out 1 "$NET4.208" "$NET4.33" $((2 * R)) 0 0 "$R" &&
		from_out 1 "$NET4.208" "$NET4.95" $((2 * R)) 0 0 "$R" &&
		from_out 1 "$NET4.208" "$NET4.1" $((2 * R)) "$R" 0 0
	rc=$?
	ip netns exec "$S3" "$CTL" set s3 learn off
	return "$rc"
}
check "a learning slave (s3): requests for what it learned and for unowned targets, not for s1's" \
	learning

# ------------------------------------------------------------- off/on

set_arpf() {
	local out

	out=$(ip netns exec "$1" "$CTL" set "$2" arp-filter "$3") || return 1
	[ -z "$out" ] || echo "$out"
	# Per master: every slave shows it.
	for ((i = 1; i <= N; i++)); do
		ip netns exec "${NS_S[i]}" "$CTL" show "s$i" |
			grep -qx "    arp-filter $3" || { echo "s$i not $3"; return 1; }
	done
}

off_live() {
	set_arpf "$S2" s2 off &&
		from_out 1 "$NET4.206" "$NET4.1" 0 "$R" "$R" "$R" &&
		from_out 1 "$NET4.206" "$NET4.97" 0 "$R" "$R" "$R"
}
check "arp-filter off live (through s2, for the master): every slave gets all, none counted" \
	off_live

on_live() {
	set_arpf "$S3" s3 on &&
		from_out 1 "$NET4.207" "$NET4.96" $((N * R)) 0 0 0
}
check "arp-filter on again live: filters again" on_live

refused() {
	local out rc

	out=$(ip netns exec "$S1" python3 -S "$TMPD/arpf.py" link set s1 2)
	rc=$?
	echo "$out"
	[ "$rc" -eq 1 ] && [[ $out == "error: "*": "[a-z]* ]] || return 1
	ctl show s1 | grep -qx '    arp-filter on'
}
check "value 2 refused with an extack message, nothing changed" refused

created_off() {
	local out rc=0

	out=$(ip netns exec "$NS_HOST" python3 -S "$TMPD/arpf.py" link \
		newlink s4 0 m0) || { echo "$out"; return 1; }
	ctl show s1 | grep -qx '    arp-filter off' || rc=1
	ip -n "$NS_HOST" link del s4 || rc=1
	set_arpf "$S1" s1 on || rc=1
	return "$rc"
}
check "a slave created with arp-filter 0 turns the master's filter off; on again" \
	created_off

# ------------------------------------------------------------ IPv6

# Before the traffic below: no neighbour entry of a slave is left to
# probe another with a solicitation of its own.
# ns_in I: Icmp6InNeighborSolicits of slave I's namespace.
ns_in() {
	ip netns exec "${NS_S[$1]}" awk \
		"/^Icmp6InNeighborSolicits / { print \$2 }" /proc/net/snmp6
}

# The neighbour solicitations the slaves' IPv6 stacks received: s1's
# answer has reached the outside (ndisc6 returned), and a marker sent
# after it has reached every slave, so any other copy has been counted.
ns_solicited() {
	local before=() d i rc=0

	for ((i = 1; i <= N; i++)); do
		before[i]=$(ns_in "$i")
	done
	ip netns exec "$NS_OUT" ndisc6 -1 -q "$NET6:1" o0 || rc=1
	mark_out $((EPOCHSECONDS + 5 * TIME_SCALE)) || rc=1
	for ((i = 1; i <= N; i++)); do
		d=$(($(ns_in "$i") - before[i]))
		echo "s$i: $d neighbour solicitations received"
		if [ "$i" -eq 1 ]; then
			[ "$d" -ge 1 ] || rc=1
		else
			[ "$d" -eq 0 ] || rc=1
		fi
	done
	[ "$rc" -eq 0 ] || ip -n "$S2" maddr show dev s2
	return "$rc"
}
check "IPv6 NS to s1's solicited-node group: s1 only (multicast filter)" \
	ns_solicited

# --------------------------------------------------------- traffic

# traffic FLAG: with neighbour caches flushed, slaves and outside resolve
# each other and ping (slave to slave only in bridge).
traffic() {
	local ns rc=0

	ip -n "$S1" link set s1 type ipvlan mode l2 "$1" || return 1
	for ns in "$NS_OUT" "$S1" "$S2" "$S3"; do
		ip -n "$ns" neigh flush all
	done
	wait_ping "$S1" "$OUT4" 5 >/dev/null || { echo "s1 -> out"; rc=1; }
	wait_ping "$NS_OUT" "$NET4.3" 5 >/dev/null || { echo "out -> s3"; rc=1; }
	wait_ping "$S2" "$OUT6" 5 >/dev/null || { echo "s2 -> out v6"; rc=1; }
	if [ "$1" = bridge ]; then
		wait_ping "$S2" "$NET4.3" 5 >/dev/null || { echo "s2 -> s3"; rc=1; }
		wait_ping "$S3" "$NET6:1" 5 >/dev/null || { echo "s3 -> s1 v6"; rc=1; }
	fi
	neigh_is "$NS_OUT" "$NET4.3" "$MASTER_MAC" || rc=1
	neigh_is "$S1" "$OUT4" "$OUT_MAC" || rc=1
	return "$rc"
}
for flag in bridge private vepa; do
	check "filter on, l2 $flag: ARP/ND resolution and ping (slaves, outside)" \
		traffic "$flag"
done
ip -n "$S1" link set s1 type ipvlan mode l2 bridge

ktap_finish
