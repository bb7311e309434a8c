#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# MAC-NAT (issue 14, item 2; ipvlan/macnat.c): guests behind ipvtap keep
# MACs of their own (libvirt's 52:54:00:...). Each guest is a namespace
# whose tap device g0 has its own MAC, bridged to an ipvtap's /dev/tapN by
# tools/testing/tappump.py, so the guest's own kernel does its ARP, ND,
# ping and DHCP; nothing is configured on the host side. A packet socket
# on the outside end of the wire (o0) records every frame.
#
#  - guests A (vt0) and B (vt1), each with its own MAC and MAC-NAT on,
#    ping the outside and are pinged, IPv4 and IPv6, and ping each other;
#  - their neighbour tables are sane: the outside at its own MAC, the
#    sibling at the master's; the outside has both at the master's MAC;
#  - a DHCP client without the broadcast flag gets its lease (chaddr);
#  - the wire never carried a guest's MAC, not even inside ARP, NDP or
#    DHCP, and the guests' ARP and NDP carried the master's MAC instead;
#  - a second MAC behind a slave, and a guest's MAC with MAC-NAT off, are
#    dropped (mac_drops) and never reach the wire.
#
# Against the in-tree ipvtap (IMPL=in-tree): no MAC-NAT, a guest with a
# MAC of its own gets no answer (marked # DIFF).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"


require_root
require_cmd ip ping python3 busybox

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi

MAC_A=52:54:00:12:34:56
MAC_B=52:54:00:ab:cd:ef
MAC_STRAY=52:54:00:99:99:99
A4=$NET4.1
A6=$NET6:1
B4=$NET4.2
B6=$NET6:2
STRAY=IPVTAP-STRAY-MAC

setup_master
TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# The wire, from the outside: every frame o0 sees, one hex line each.
bg "$TMP/wire.hex" ip netns exec "$NS_OUT" python3 -S -c '
import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("o0", 0))
print("up", flush=True)
while True:
    print(s.recv(65536).hex(), flush=True)'
wait_for 5 grep -q '^up' "$TMP/wire.hex" >/dev/null ||
	ktap_bail "the packet socket on o0 did not start"

for d in vt0 vt1; do
	if ! out=$(ip -n "$NS_HOST" link add link m0 name $d type ipvtap mode l2 2>&1); then
		case $out in
		*"Unknown device type"*) ktap_skip_all "no ipvtap link kind ($out)" ;;
		esac
		ktap_bail "cannot create $d: $out"
	fi
	ip -n "$NS_HOST" link set $d up
done

# ctl_word DEV KEY: the word after KEY in `ipvlanctl show DEV` (e.g.
# mac-nat, guest-mac, or a counter of the stats line); "none" if absent.
# (Text, not --json: a python3 per look costs a second under TCG.)
ctl_word() {
	ip netns exec "$NS_HOST" "$CTL" show "$1" |
		awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) v = $(i + 1) }
			END { print v == "" ? "none" : v }'
}

# ctl_is DEV KEY VALUE: ctl_word DEV KEY is VALUE.
ctl_is() {
	local v

	v=$(ctl_word "$1" "$2")
	[ "$v" = "$3" ] && return 0
	echo "$1 $2 = '$v', want '$3'"
	return 1
}

# stat_is DEV KEY OP N: the counter KEY of DEV compares to N.
stat_is() {
	local v

	v=$(ctl_word "$1" "$2")
	test "$v" "$3" "$4" 2>/dev/null && return 0
	echo "$1 $2 = $v, want $3 $4"
	return 1
}

# guest_addrs NS A4 A6: the guest's addresses and routes (no neighbours).
guest_addrs() {
	ip -n "$1" addr add "$2/24" dev g0
	ip -n "$1" addr add "$3/64" dev g0 nodad
}

# wire_check: what the packet socket on o0 saw. Fails if any frame holds
# a guest's MAC anywhere but in DHCP options (the client identifier,
# udhcpc's 01+MAC, is the guest's own name for itself: left as is);
# prints counts of ARP and NDP frames carrying the master's MAC inside.
wire_check() {
	python3 -S - "$TMP/wire.hex" "$MASTER_MAC" "$MAC_A" "$MAC_B" \
		"$MAC_STRAY" "$STRAY" <<'EOF'
import sys
path, master = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
guests = [bytes.fromhex(m.replace(":", "")) for m in sys.argv[3:6]]
marker = sys.argv[6].encode()
frames = [bytes.fromhex(l) for l in open(path).read().split()[1:]]
bad = arp = nd = 0
for f in frames:
    if f[12:14] == b"\x08\x00" and f[23] == 17:
        u = 14 + (f[14] & 15) * 4
        if f[u:u + 4] in (b"\x00\x44\x00\x43", b"\x00\x43\x00\x44"):
            f = f[:u + 8 + 236]	# up to the magic cookie, options cut
    if any(g in f for g in guests) or marker in f:
        bad += 1
        print("guest MAC or stray frame on the wire:", f[:64].hex())
    if f[6:12] != master:
        continue
    if f[12:14] == b"\x08\x06" and f[22:28] == master:
        arp += 1
    if f[12:14] == b"\x86\xdd" and f[20] == 58 and f[54] in (133, 135, 136) \
            and master in f[54:]:
        nd += 1
print("frames %d, with a guest's MAC %d, ARP with the master's sha %d, "
      "NDP with the master's lladdr %d" % (len(frames), bad, arp, nd))
sys.exit(1 if bad or not arp or not nd else 0)
EOF
}

if [ "$IMPL" = in-tree ]; then
	ktap_plan 2
	pump_guest NS_GA ga vt0 "$MAC_A"
	guest_addrs "$NS_GA" "$A4" "$A6"
	check_fail "in-tree ipvtap has no MAC-NAT setting # DIFF: ours has IPVLAN_X_EXT_MAC_NAT" \
		ip netns exec "$NS_HOST" "$CTL" set vt0 mac-nat on
	check_fail "in-tree: guest A with a MAC of its own cannot reach the outside # DIFF: ours rewrites its MAC (MAC-NAT)" \
		ping_ok "$NS_GA" "$OUT4"
	ktap_finish
fi

ktap_plan 17

ip netns exec "$NS_HOST" "$CTL" set vt0 mac-nat on
ip netns exec "$NS_HOST" "$CTL" set vt1 mac-nat on
check "mac-nat on is reported back for vt0 and vt1 (RTM_GETLINK)" \
	eval "ctl_is vt0 mac-nat on && ctl_is vt1 mac-nat on"

pump_guest NS_GA ga vt0 "$MAC_A"
pump_guest NS_GB gb vt1 "$MAC_B"
guest_addrs "$NS_GA" "$A4" "$A6"
guest_addrs "$NS_GB" "$B4" "$B6"

# ------------------------------------------------ guests and the outside

check "guest A ($MAC_A) pings the outside, IPv4 and IPv6" \
	eval "ping_ok $NS_GA $OUT4 && ping_ok $NS_GA $OUT6"
check "the outside pings guest A, IPv4 and IPv6" \
	eval "ping_ok $NS_OUT $A4 && ping_ok $NS_OUT $A6"
check "guest B ($MAC_B, vt1) and the outside ping each other, IPv4 and IPv6" \
	eval "ping_ok $NS_GB $OUT4 && ping_ok $NS_GB $OUT6 && \
		ping_ok $NS_OUT $B4 && ping_ok $NS_OUT $B6"
check "guests A and B ping each other (switched inside the host)" \
	eval "ping_ok $NS_GA $B4 && ping_ok $NS_GA $B6 && ping_ok $NS_GB $A4"
check "vt0 and vt1 latched their guests' MACs (guest-mac, and in --json)" \
	eval "ctl_is vt0 guest-mac $MAC_A && ctl_is vt1 guest-mac $MAC_B && \
		ip netns exec $NS_HOST $CTL show vt0 --json | \
		grep -q '\"mac_nat\": true, \"guest_mac\": \"$MAC_A\"'"
check "... and rewrote frames both ways (macnat_tx, macnat_rx)" \
	eval "stat_is vt0 macnat_tx -ge 4 && stat_is vt0 macnat_rx -ge 4"

# ------------------------------------------------- neighbour tables

check "guest A has the outside at its own MAC, IPv4 and IPv6" \
	eval "neigh_is $NS_GA $OUT4 $OUT_MAC && neigh_is $NS_GA $OUT6 $OUT_MAC"
check "guest A has guest B at the master's MAC (the host switches)" \
	eval "neigh_is $NS_GA $B4 $MASTER_MAC && neigh_is $NS_GA $B6 $MASTER_MAC"
check "the outside has A and B at the master's MAC, IPv4 and IPv6" \
	eval "neigh_is $NS_OUT $A4 $MASTER_MAC && neigh_is $NS_OUT $A6 $MASTER_MAC && \
		neigh_is $NS_OUT $B4 $MASTER_MAC && neigh_is $NS_OUT $B6 $MASTER_MAC"

# --------------------------------------------------------------- DHCP

if command -v dnsmasq >/dev/null 2>&1 && busybox udhcpc --help >/dev/null 2>&1; then
	bg "$TMP/dnsmasq.log" ip netns exec "$NS_OUT" dnsmasq --no-daemon \
		--conf-file=/dev/null --port=0 --interface=o0 --bind-interfaces \
		--dhcp-range=$NET4.100,$NET4.149,255.255.255.0,2m \
		--dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" \
		--no-ping --dhcp-authoritative --log-dhcp --log-facility=- \
		--user=root --group=root
	wait_for 10 grep -q 'DHCP, IP range' "$TMP/dnsmasq.log" >/dev/null
	# shellcheck disable=SC2016 # the script's own variables
	printf '#!/bin/sh\necho "$1 ${ip:-}" >>%s\n' "$TMP/dhcp-a.log" >"$TMP/udhcpc.sh"
	chmod +x "$TMP/udhcpc.sh"
	# udhcpc checks that the reply's chaddr is its own MAC; the server
	# unicasts to the master's MAC (what chaddr said on the wire).
	check "guest A's udhcpc (no broadcast flag) gets a lease: chaddr rewritten both ways" \
		eval "ip netns exec $NS_GA busybox udhcpc -f -q -n -i g0 \
			-s $TMP/udhcpc.sh -t 4 -T 2 && grep -q '^bound $NET4.1[0-4][0-9]' $TMP/dhcp-a.log"
else
	skip "guest A's udhcpc (no broadcast flag) gets a lease: chaddr rewritten both ways" \
		"dnsmasq or busybox udhcpc missing (make deps)"
fi

# ------------------------------------------------ what is not allowed

# refusals IFINDEX: three RTM_NEWLINK requests on the ipvtap IFINDEX that
# the kernel must refuse with an extack message: MAC-NAT 2, setting the
# guest's MAC, and the nest without NLA_F_NESTED.
refusals() {
	ip netns exec "$NS_HOST" python3 -S - "$1" <<'EOF'
import socket, struct, sys
idx = int(sys.argv[1])
def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + bytes((4 - n % 4) % 4)
def req(flagged, inner):
    ext = attr(50 | (0x8000 if flagged else 0), inner)
    info = attr(1, b"ipvtap") + attr(2 | 0x8000, ext)
    body = struct.pack("BxHiII", 0, 0, idx, 0, 0) + attr(18 | 0x8000, info)
    return struct.pack("IHHII", 16 + len(body), 16, 0x5, 1, 0) + body
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.setsockopt(270, 11, 1)	# NETLINK_EXT_ACK
ok = True
for name, m in (("mac-nat 2", req(True, attr(1, b"\x02"))),
                ("guest MAC", req(True, attr(2, bytes.fromhex("525400000001")))),
                ("no NLA_F_NESTED", req(False, attr(1, b"\x01")))):
    s.send(m)
    r = s.recv(65536)
    n, _, flags = struct.unpack("IHH", r[:8])
    err, msg, off = struct.unpack("i", r[16:20])[0], "", 20 + len(m)
    while flags & 0x200 and off + 4 <= n:
        al, at = struct.unpack("HH", r[off:off + 4])
        if al < 4:
            break
        if at == 1:
            msg = r[off + 4:off + al].rstrip(b"\0").decode()
        off += (al + 3) & ~3
    print("%s: error %d, extack '%s'" % (name, err, msg))
    ok = ok and err < 0 and msg != ""
sys.exit(0 if ok else 1)
EOF
}

check "refused with an extack message: mac-nat 2, setting the guest's MAC, the nest without NLA_F_NESTED; nothing changed" \
	eval "refusals \$(ip netns exec $NS_HOST cat /sys/class/net/vt0/ifindex) && \
		ctl_is vt0 mac-nat on && ctl_is vt0 guest-mac $MAC_A"

# A frame from another MAC behind vt0 (UDP to the outside, marked).
drops=$(ctl_word vt0 mac_drops)
ip netns exec "$NS_GA" python3 -S -c '
import socket, sys
m = lambda s: bytes.fromhex(s.replace(":", ""))
ip = bytes.fromhex("4500002c0000400040110000") + socket.inet_aton(sys.argv[3]) \
    + socket.inet_aton(sys.argv[4])
udp = bytes.fromhex("30393039001800000000") + sys.argv[5].encode()[:14]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("g0", 0))
s.send(m(sys.argv[2]) + m(sys.argv[1]) + b"\x08\x00" + ip + udp)' \
	"$MAC_STRAY" "$OUT_MAC" "$A4" "$OUT4" "$STRAY"
check "a second MAC behind vt0 is dropped (mac_drops)" \
	wait_for 5 stat_is vt0 mac_drops -ge $((drops + 1))

# A neighbour solicitation whose option length is 0 and a VLAN-tagged ARP
# request, both from A's MAC with A's MAC inside: the parser cannot
# vouch for them, so they must not leave (wire_check below).
bad=$(ctl_word vt0 macnat_bad)
ip netns exec "$NS_GA" python3 -S -c '
import socket, sys
m = lambda s: bytes.fromhex(s.replace(":", ""))
mac_a, out_mac = m(sys.argv[1]), m(sys.argv[2])
a6 = socket.inet_pton(socket.AF_INET6, sys.argv[3])
tgt = socket.inet_pton(socket.AF_INET6, sys.argv[4])
icmp = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + tgt + bytes([1, 0]) + mac_a
ip6 = bytes([0x60, 0, 0, 0, 0, len(icmp), 58, 255]) + a6 + \
    bytes.fromhex("ff0200000000000000000001ff") + tgt[13:]
arp = bytes.fromhex("0001080006040001") + mac_a + bytes(14)
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("g0", 0))
s.send(bytes.fromhex("3333ff") + tgt[13:] + mac_a + b"\x86\xdd" + ip6 + icmp)
s.send(out_mac + mac_a + bytes.fromhex("810000050806") + arp)' \
	"$MAC_A" "$OUT_MAC" "$A6" "$OUT6"
check "a malformed NS and a VLAN-tagged frame from guest A are dropped (macnat_bad)" \
	wait_for 5 stat_is vt0 macnat_bad -ge $((bad + 2))

drops=$(ctl_word vt1 mac_drops)
ip netns exec "$NS_HOST" "$CTL" set vt1 mac-nat off
ip -n "$NS_GB" neigh flush dev g0
check_fail "mac-nat off: guest B with its own MAC cannot reach the outside" \
	ip netns exec "$NS_GB" ping -c 2 -i 0.3 -W 1 "$OUT4"
check "... its frames were dropped (mac_drops), and the latched MAC is gone" \
	eval "stat_is vt1 mac_drops -gt $drops && ctl_is vt1 guest-mac none"

sleep 0.5
check "the wire never carried a guest's MAC (Ethernet, ARP, NDP, DHCP), nor the stray, malformed or tagged frames; ARP and NDP carried the master's" \
	wire_check

ktap_finish
