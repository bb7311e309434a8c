#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DHCP for guests behind ipvtap (issue 14, item 1; ipvlan/dhcp.c), with a
# real DHCP server and real DHCP clients, nothing configured on the host
# side. dnsmasq serves 192.0.2.100-149 on the outside (o0); each guest is
# a namespace whose tap device g0 (the master's MAC) is bridged by a small
# pump to an ipvtap's /dev/tapN (opened without the vnet header), so the
# guest's own kernel and DHCP client (busybox udhcpc, ISC dhclient if
# installed) run as in a VM.
#
#  - guests A and B (vt0, vt1, one master) ask at the same time without
#    the broadcast flag (udhcpc's and dhclient's default): dnsmasq unicasts
#    OFFER/ACK to the offered address and the master's MAC; each guest gets
#    its own lease (told apart by xid and client identifier: guests sharing
#    a MAC need distinct client identifiers, or any server gives them one
#    lease);
#  - the leased addresses work both ways and are learned; a renewal
#    (unicast REQUEST and ACK) works;
#  - with the broadcast flag (udhcpc -B) a lease works as before;
#  - a forged reply with an xid no guest used reaches no guest (the pumps
#    log every DHCP frame they pass to a guest) and is counted; a
#    malformed client message is dropped before the wire and counted.
#
# Against the in-tree ipvtap (IMPL=in-tree), a client without the
# broadcast flag gets no lease (marked # DIFF); with it, it does.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3 busybox
command -v dnsmasq >/dev/null 2>&1 ||
	ktap_skip_all "'dnsmasq' not installed (Debian package dnsmasq-base; run 'make deps')"
busybox udhcpc --help >/dev/null 2>&1 ||
	ktap_skip_all "busybox has no udhcpc applet (Debian package busybox-static)"

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi

# Client identifiers (option 61, hex): guests share the master's MAC.
CID_A=ff00000a01
CID_B=ff00000b01
CID_B2=ff00000b02
FORGED_XID=deadbeef
BAD_XID=badbad00

setup_master
for d in vt0 vt1; do
	if ! out=$(ip -n "$NS_HOST" link add link m0 name $d type ipvtap mode l2 2>&1); then
		case $out in
		*"Unknown device type"*) ktap_skip_all "no ipvtap link kind ($out)" ;;
		esac
		ktap_bail "cannot create $d: $out"
	fi
	ip -n "$NS_HOST" link set $d up
done

TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# The guests' tap devices: the tun module, and its node (the guest's
# devtmpfs makes it only once the module is loaded).
modprobe tun 2>/dev/null
if [ ! -c /dev/net/tun ]; then
	mkdir -p /dev/net
	mknod /dev/net/tun c 10 200 || ktap_skip_all "no /dev/net/tun (CONFIG_TUN)"
fi

# ------------------------------------------------------------ helpers

# The pump: /dev/tapN (no vnet header) <-> tap device g0 of the guest's
# namespace. Every DHCP frame (UDP to port 68) it hands to the guest is
# logged as "rx xid=XXXXXXXX".
cat >"$TMP/pump.py" <<'EOF'
import fcntl, os, select, struct, sys
TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454ca, 0x0002, 0x1000
tapn, ifname, log = sys.argv[1], sys.argv[2], open(sys.argv[3], "a", 1)
a = os.open(tapn, os.O_RDWR)
fcntl.ioctl(a, TUNSETIFF, struct.pack("16sH", b"", IFF_TAP | IFF_NO_PI))
b = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(b, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TAP | IFF_NO_PI))
log.write("pump up\n")
while True:
    r, _, _ = select.select([a, b], [], [])
    for fd in r:
        try:
            f = os.read(fd, 65536)
        except OSError:
            continue
        if fd == a and len(f) >= 14 + 20 + 8 + 8 and f[12:14] == b"\x08\x00" \
                and f[23] == 17:
            ihl = (f[14] & 15) * 4
            u = 14 + ihl
            if f[u + 2:u + 4] == b"\x00\x44" and len(f) >= u + 16:
                log.write("rx xid=%s\n" % f[u + 12:u + 16].hex())
        try:
            os.write(b if fd == a else a, f)
        except OSError:
            pass
EOF

# The udhcpc script: logs each event, configures the address.
cat >"$TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
echo "$1 ${ip:-}" >>"$DHCP_LOG"
case $1 in
deconfig) ip addr flush dev "$interface" ;;
bound|renew) ip addr replace "$ip/${mask:-24}" dev "$interface" ;;
esac
exit 0
EOF
chmod +x "$TMP/udhcpc.sh"

# guest_create VAR LABEL VT: a guest namespace with g0 (the master's MAC)
# pumped to VT's /dev/tapN.
guest_create() {
	local var=$1 label=$2 vt=$3 ns tap

	ns_create "$var:$label"
	ns=${!var}
	tap=/dev/tap$(ip netns exec "$NS_HOST" cat "/sys/class/net/$vt/ifindex")
	wait_for 5 test -c "$tap" >/dev/null || ktap_bail "$tap did not appear"
	ip -n "$ns" tuntap add dev g0 mode tap ||
		ktap_bail "cannot create a tap device in $ns"
	ip -n "$ns" link set g0 address "$MASTER_MAC"
	ip -n "$ns" link set g0 up
	bg "$TMP/pump-$label.err" ip netns exec "$ns" python3 -S "$TMP/pump.py" \
		"$tap" g0 "$TMP/pump-$label.log"
	wait_for 10 grep -q '^pump up' "$TMP/pump-$label.log" >/dev/null ||
		ktap_bail "the pump of $label did not start: $(cat "$TMP/pump-$label.err")"
}

# udhcpc_bg NS LOG ARGS...: udhcpc in the foreground of a background job.
udhcpc_bg() {
	local ns=$1 log=$2

	shift 2
	bg "$log.out" ip netns exec "$ns" env DHCP_LOG="$log" \
		busybox udhcpc -f -i g0 -s "$TMP/udhcpc.sh" -t 6 -T 2 -A 3 "$@"
}

# leased LOG: the address of the latest "bound" event in LOG.
leased() {
	awk '$1 == "bound" { a = $2 } END { if (a == "") exit 1; print a }' "$1"
}

# ctl_stat DEV KEY: stats.KEY of DEV (ipvlanctl show --json).
ctl_stat() {
	ip netns exec "$NS_HOST" "$CTL" show "$1" --json | python3 -S -c '
import json, sys
print(json.load(sys.stdin)[0]["stats"][sys.argv[1]])' "$2"
}

stat_at_least() {
	local v

	v=$(ctl_stat "$1" "$2") || return 1
	[ "$v" -ge "$3" ] && return 0
	echo "$1 $2 = $v, want >= $3"
	return 1
}

# addr_learned DEV ADDR: ADDR is in DEV's table, learned.
addr_learned() {
	ip netns exec "$NS_HOST" "$CTL" addrs |
		awk -v d="$1" -v a="$2" '$2 == d && $4 == a && $5 == "learned" { f = 1 } END { exit !f }' &&
		return 0
	ip netns exec "$NS_HOST" "$CTL" addrs
	return 1
}

# send_raw NS DEV HEX: one Ethernet frame (hex) out of DEV in NS.
send_raw() {
	ip netns exec "$1" python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(bytes.fromhex(sys.argv[2]))' "$2" "$3"
}

# dhcp_frame DST_MAC SRC_MAC SRC_IP DST_IP SPORT DPORT OP XID TYPE [UDP_LEN_EXTRA [CID]]:
# an Ethernet/IPv4/UDP DHCP frame in hex, chaddr the master's MAC;
# UDP_LEN_EXTRA makes the UDP length claim more than the packet holds;
# CID (hex) is sent as option 61.
dhcp_frame() {
	python3 -S - "$@" <<'EOF'
import socket, struct, sys
dmac, smac, sip, dip, sport, dport, op, xid, typ = sys.argv[1:10]
extra = int(sys.argv[10]) if len(sys.argv) > 10 else 0
cid = bytes.fromhex(sys.argv[11]) if len(sys.argv) > 11 else b""
mac = lambda m: bytes(int(x, 16) for x in m.split(":"))
bootp = struct.pack("!BBBB4sHH4s4s4s4s", int(op), 1, 6, 0, bytes.fromhex(xid),
                    0, 0, bytes(4), socket.inet_aton("192.0.2.77")
                    if op == "2" else bytes(4), bytes(4), bytes(4))
bootp += mac(dmac if op == "2" else smac) + bytes(10) + bytes(64 + 128)
bootp += b"\x63\x82\x53\x63" + bytes([53, 1, int(typ)])
if cid:
    bootp += bytes([61, len(cid)]) + cid
bootp += b"\xff" + bytes(40)
udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(bootp) + extra, 0) + bootp
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 socket.inet_aton(sip), socket.inet_aton(dip))
s = 0
for i in range(0, 20, 2):
    s += (ip[i] << 8) | ip[i + 1]
s = (s & 0xffff) + (s >> 16)
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
print((mac(dmac) + mac(smac) + b"\x08\x00" + ip + udp).hex())
EOF
}

# ------------------------------------------------------------ server

bg "$TMP/dnsmasq.log" ip netns exec "$NS_OUT" dnsmasq --no-daemon \
	--conf-file=/dev/null --port=0 --interface=o0 --bind-interfaces \
	--dhcp-range=$NET4.100,$NET4.149,255.255.255.0,2m \
	--dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" \
	--no-ping --dhcp-authoritative --log-dhcp --log-facility=- \
	--user=root --group=root
DNSMASQ_PID=$BGPID
wait_for 10 grep -q 'DHCP, IP range' "$TMP/dnsmasq.log" >/dev/null ||
	ktap_bail "dnsmasq did not start: $(cat "$TMP/dnsmasq.log")"

guest_create NS_GA ga vt0
guest_create NS_GB gb vt1

if [ "$IMPL" = in-tree ]; then
	ktap_plan 2
	# The unicast OFFER to an address no slave has goes to the host.
	check_fail "in-tree ipvtap: guest A gets no lease without the broadcast flag # DIFF: ours hands the unicast OFFER/ACK to the guest by xid (ipvlan/dhcp.c)" \
		ip netns exec "$NS_GA" env DHCP_LOG="$TMP/a.log" busybox udhcpc \
		-f -q -n -i g0 -s "$TMP/udhcpc.sh" -t 3 -T 2 -x "0x3d:$CID_A"
	check "guest B gets a lease with the broadcast flag (-B)" \
		ip netns exec "$NS_GB" env DHCP_LOG="$TMP/b2.log" busybox udhcpc \
		-f -q -n -B -i g0 -s "$TMP/udhcpc.sh" -t 6 -T 2 -x "0x3d:$CID_B2"
	ktap_finish
fi

ktap_plan 21

# ------------------------------------------------ before any transaction

# m0_rx: frames the master's veth received (the kernel's count).
m0_rx() { ip netns exec "$NS_HOST" cat /sys/class/net/m0/statistics/rx_packets; }

# With no guest's transaction live, replies are not even parsed: a forged
# OFFER to an unowned address goes to the master's stack uncounted.
unmatched=$(ctl_stat vt0 dhcp_unmatched)
rx0=$(m0_rx)
send_raw "$NS_OUT" o0 "$(dhcp_frame "$MASTER_MAC" "$OUT_MAC" "$OUT4" \
	$NET4.77 67 68 2 $FORGED_XID 2)"
m0_got() { [ "$(m0_rx)" -gt "$rx0" ]; }
not_parsed() {
	local u

	wait_for 5 m0_got >/dev/null || { echo "m0 received nothing"; return 1; }
	# (veth counts it sent; give the receive softirq time.)
	sleep 1
	u=$(ctl_stat vt0 dhcp_unmatched)
	[ "$u" = "$unmatched" ] && return 0
	echo "dhcp_unmatched $unmatched -> $u: parsed with no transaction live"
	return 1
}
check "an OFFER before any guest's DHCP reaches the master unparsed (dhcp_unmatched unchanged)" \
	not_parsed

# ------------------------------------- two guests, no broadcast flag

udhcpc_bg "$NS_GA" "$TMP/a.log" -x "0x3d:$CID_A"
UDHCPC_A=$BGPID
udhcpc_bg "$NS_GB" "$TMP/b.log" -x "0x3d:$CID_B"
UDHCPC_B=$BGPID

check "guest A gets a lease without the broadcast flag" \
	wait_for 40 leased "$TMP/a.log"
check "guest B, at the same time on the same master, gets its own lease" \
	wait_for 40 leased "$TMP/b.log"
A4=$(leased "$TMP/a.log")
B4=$(leased "$TMP/b.log")
check "the two leases differ ($A4, $B4)" test -n "$A4" -a "$A4" != "$B4"
check "their OFFER and ACK were handed over by xid (dhcp_delivered >= 2 on vt0 and vt1)" \
	eval "stat_at_least vt0 dhcp_delivered 2 && stat_at_least vt1 dhcp_delivered 2 && stat_at_least vt0 dhcp_tracked 2"

# -------------------------------------------------- using the lease

check "guest A pings the outside from its lease" ping_ok "$NS_GA" "$OUT4"
check "the outside pings guest A" ping_ok "$NS_OUT" "$A4"
# Until B sends from its lease nobody owns it: dnsmasq itself resolved it
# to the master's MAC for its unicast ACK, so its pings would go to the
# host. The address is learned from the guest's first frame from it.
check "guest B pings the outside, then the outside pings guest B" \
	eval "ping_ok $NS_GB $OUT4 && ping_ok $NS_OUT $B4"
check "A's lease $A4 is learned on vt0" addr_learned vt0 "$A4"

kill -USR1 "$UDHCPC_A"
check "guest A renews its lease (unicast REQUEST and ACK)" \
	wait_for 20 grep -q "^renew $A4" "$TMP/a.log"

# ---------------------------------------------- broadcast flag

bg_kill "$UDHCPC_B"
ip -n "$NS_GB" addr flush dev g0
check "guest B gets a lease with the broadcast flag (-B)" \
	ip netns exec "$NS_GB" env DHCP_LOG="$TMP/b2.log" busybox udhcpc \
	-f -q -n -B -i g0 -s "$TMP/udhcpc.sh" -t 6 -T 2 -x "0x3d:$CID_B2"

# ------------------------------------------------ forged and malformed

unmatched=$(ctl_stat vt0 dhcp_unmatched)
send_raw "$NS_OUT" o0 "$(dhcp_frame "$MASTER_MAC" "$OUT_MAC" "$OUT4" \
	$NET4.77 67 68 2 $FORGED_XID 2)"
check "a forged OFFER with an xid no guest used is counted (dhcp_unmatched)" \
	wait_for 5 stat_at_least vt0 dhcp_unmatched $((unmatched + 1))
sleep 1
check "... and reached neither guest (the pumps passed them other DHCP frames only)" \
	eval "grep -q '^rx xid=' '$TMP/pump-ga.log' && grep -q '^rx xid=' '$TMP/pump-gb.log' && \
		! grep -q 'xid=$FORGED_XID' '$TMP/pump-ga.log' '$TMP/pump-gb.log'"

bad=$(ctl_stat vt1 dhcp_bad)
bg "$TMP/sniff.log" ip netns exec "$NS_OUT" python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("o0", 0))
s.settimeout(4)
print("up", flush=True)
try:
    while True:
        if bytes.fromhex(sys.argv[1]) in s.recv(65536):
            print("seen", flush=True)
except socket.timeout:
    pass' "$BAD_XID"
SNIFF=$BGPID
wait_for 5 grep -q up "$TMP/sniff.log" >/dev/null
send_raw "$NS_GB" g0 "$(dhcp_frame ff:ff:ff:ff:ff:ff "$MASTER_MAC" 0.0.0.0 \
	255.255.255.255 68 67 1 $BAD_XID 1 64)"
wait_pid "$SNIFF" 10
check "a malformed DISCOVER (UDP length beyond the packet) is dropped and counted (dhcp_bad)" \
	stat_at_least vt1 dhcp_bad $((bad + 1))
check "... and never reached the wire" eval "! grep -q seen '$TMP/sniff.log'"

# ------------------------------------------------------- dhclient

if command -v dhclient >/dev/null 2>&1; then
	bg_kill "$UDHCPC_A"
	ip -n "$NS_GA" addr flush dev g0
	# (dhclient gives its script an environment of its own: the log's
	# path is written in.)
	cat >"$TMP/dhclient.sh" <<EOF
#!/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
echo "\$reason \${new_ip_address:-}" >>"$TMP/dh.log"
EOF
	cat >>"$TMP/dhclient.sh" <<'EOF'
case $reason in
BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;;
esac
exit 0
EOF
	chmod +x "$TMP/dhclient.sh"
	# A client identifier of its own, as for any guest sharing a MAC.
	printf '%s\n' 'timeout 40;' 'retry 5;' \
		'send dhcp-client-identifier "dhclient-guest-a";' >"$TMP/dh.conf"
	timeout 60 ip netns exec "$NS_GA" dhclient -1 -cf "$TMP/dh.conf" \
		-sf "$TMP/dhclient.sh" -lf "$TMP/dh.leases" -pf "$TMP/dh.pid" g0 \
		>"$TMP/dh.out" 2>&1
	D4=$(awk '$1 == "BOUND" { a = $2 } END { print a }' "$TMP/dh.log" 2>/dev/null)
	check "ISC dhclient (no broadcast flag) gets a lease and pings the outside from it" \
		eval "[ -n '$D4' ] && ip -n $NS_GA -4 addr show dev g0 | grep -q 'inet $D4/' && \
			ping_ok $NS_GA $OUT4"
	[ -n "$D4" ] || diag "$(cat "$TMP/dh.out" "$TMP/dh.log" 2>/dev/null)"
	if [ -s "$TMP/dh.pid" ]; then
		kill "$(cat "$TMP/dh.pid")" 2>/dev/null
	fi
else
	skip "ISC dhclient (no broadcast flag) gets a lease and pings the outside from it" \
		"dhclient not installed (Debian package isc-dhcp-client)"
fi

check "dnsmasq is still serving" kill -0 "$DNSMASQ_PID"

# ------------------------------------------ matching, frame by frame

# Transactions opened by hand-made DISCOVERs from the guests, answered by
# hand-made OFFERs from the outside; dnsmasq must not answer them too.
bg_kill "$DNSMASQ_PID"

# discover NS XID [CID]: a DISCOVER (no broadcast flag) from a guest.
discover() {
	send_raw "$1" g0 "$(dhcp_frame ff:ff:ff:ff:ff:ff "$MASTER_MAC" 0.0.0.0 \
		255.255.255.255 68 67 1 "$2" 1 0 ${3:+"$3"})"
}

# offer XID [CID]: an OFFER from the outside to $NET4.77, unicast.
offer() {
	send_raw "$NS_OUT" o0 "$(dhcp_frame "$MASTER_MAC" "$OUT_MAC" "$OUT4" \
		$NET4.77 67 68 2 "$1" 2 0 ${2:+"$2"})"
}

# got LABEL XID: guest LABEL's pump passed it a DHCP frame with XID.
got() {
	grep -q "xid=$2" "$TMP/pump-$1.log"
}

discover "$NS_GB" cafe0001
wait_for 5 stat_at_least vt1 dhcp_tracked 1 >/dev/null
offer cafe0001
check "an OFFER for B's pending xid (no client identifier) reaches B, not A" \
	eval "wait_for 5 got gb cafe0001 && ! got ga cafe0001"

discover "$NS_GB" cafe0002 01aa
unmatched=$(ctl_stat vt0 dhcp_unmatched)
offer cafe0002 01bb
check "an OFFER for B's xid but another client identifier reaches no guest" \
	eval "wait_for 5 stat_at_least vt0 dhcp_unmatched $((unmatched + 1)) && \
		! got gb cafe0002 && ! got ga cafe0002"

untracked=$(ctl_stat vt0 dhcp_untracked)
discover "$NS_GA" cafe0003 01cc
sleep 1
discover "$NS_GB" cafe0003 01cc
check "B cannot take over A's pending transaction (dhcp_untracked)" \
	wait_for 5 stat_at_least vt1 dhcp_untracked $((untracked + 1))
offer cafe0003 01cc
check "... and its OFFER reaches A only" \
	eval "wait_for 5 got ga cafe0003 && ! got gb cafe0003"

ktap_finish
