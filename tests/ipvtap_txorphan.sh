#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Frames a guest writes into /dev/tapN that have to wait in the host (here
# in the neighbour queue of an address that never answers ARP) must not
# stay charged to the guest's tap socket:
#
#  - with a 4096-byte send buffer (TUNSETSNDBUF) and O_NONBLOCK, 40 frames
#    to the silent address are all accepted: none of them holds the
#    buffer while it waits (a driver that keeps them charged refuses the
#    writes with EAGAIN after a few frames: the guest stalls);
#  - the writer closes /dev/tapN with the frames still queued; when the
#    resolution fails they are freed from the neighbour timer (softirq).
#    Were they still the socket's, the last one would destroy the tap
#    library's socket there (tap_sock_destruct in softirq: lockdep's
#    "inconsistent lock state" on the debug kernel);
#  - the guest's path still works afterwards (the tap and slave counters
#    moved, the device is intact);
#  - vt0 has no qdisc of its own (noqueue): a qdisc would hold the frames
#    still charged and hand them on, or drop them, from net_tx_action()
#    in softirq, with the same end for a closed tap's socket (CI, debug
#    kernel, with the default fq_codel). The in-tree ipvtap has one: SKIP.
#
#   NS_HOST: m0 (veth) 192.0.2.200/24, ipvtap vt0 mode l3 on m0, no address
#   NS_OUT:  o0 192.0.2.254/24; 192.0.2.77 is nobody's
#
# Against the in-tree ipvtap (IMPL=in-tree), which keeps the frames
# charged, the first case shows the stall: it is reported as a SKIP with
# the number of writes refused, so the difference is visible.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip tc python3
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi

GUEST4=$NET4.1
SILENT4=$NET4.77
HOST4=$NET4.200
FRAMES=40
SNDBUF=4096

ktap_plan 5

setup_master
ip -n "$NS_HOST" addr add "$HOST4/24" dev m0
# Resolution of the silent address fails after 3 probes, 1 s apart.
ip netns exec "$NS_HOST" sysctl -qw net.ipv4.neigh.m0.mcast_solicit=3 \
	net.ipv4.neigh.m0.retrans_time_ms=1000

if ! out=$(ip -n "$NS_HOST" link add link m0 name vt0 type ipvtap mode l3 2>&1); then
	case $out in
	*"Unknown device type"*) ktap_skip_all "no ipvtap link kind ($out)" ;;
	esac
	ktap_bail "cannot create vt0: $out"
fi
ip -n "$NS_HOST" link set vt0 up

# The kernel's own qdisc list for vt0.
vt_noqueue() {
	local q

	q=$(tc -n "$NS_HOST" qdisc show dev vt0) || return 1
	case $q in
	"qdisc noqueue "*) return 0 ;;
	esac
	echo "vt0: $q"
	return 1
}
if [ "$IMPL" = in-tree ] && ! vt_noqueue >/dev/null; then
	skip "vt0 has no qdisc to hold what the guest writes" \
		"in-tree ipvtap has a qdisc: $(tc -n "$NS_HOST" qdisc show dev vt0)"
else
	check "vt0 has no qdisc to hold what the guest writes" vt_noqueue
fi

TAP=/dev/tap$(ip netns exec "$NS_HOST" cat /sys/class/net/vt0/ifindex)
wait_for 5 test -c "$TAP" >/dev/null || ktap_bail "$TAP did not appear"

TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# tx_packets of vt0 (frames the guest wrote that the slave sent on).
vt_tx() {
	ip -n "$NS_HOST" -s -j link show dev vt0 | python3 -S -c '
import json, sys
print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'
}

# write_frames: FRAMES UDP frames GUEST4 -> SILENT4 written O_NONBLOCK
# with a SNDBUF send buffer, then the tap is closed. Prints "accepted N
# refused N".
write_frames() {
	ip netns exec "$NS_HOST" python3 -S - "$TAP" "$MASTER_MAC" \
		"$GUEST4" "$SILENT4" "$FRAMES" "$SNDBUF" <<'EOF'
import errno, fcntl, os, select, socket, struct, sys
tap, mac, src, dst = sys.argv[1:5]
count, sndbuf = int(sys.argv[5]), int(sys.argv[6])
TUNSETSNDBUF = 0x400454d4
m = bytes(int(x, 16) for x in mac.split(":"))
fd = os.open(tap, os.O_RDWR | os.O_NONBLOCK)
fcntl.ioctl(fd, TUNSETSNDBUF, struct.pack("i", sndbuf))
# As QEMU does: poll the queue (it takes the ring's lock, BHs on).
p = select.poll()
p.register(fd, select.POLLIN | select.POLLOUT)
p.poll(0)
payload = b"x" * 64
udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = sum(struct.unpack("!10H", ip))
s = (s & 0xffff) + (s >> 16)
s = (s & 0xffff) + (s >> 16)
ip = ip[:10] + struct.pack("!H", ~s & 0xffff) + ip[12:]
frame = bytes(10) + m + m + b"\x08\x00" + ip + udp
ok = refused = 0
for _ in range(count):
    try:
        os.write(fd, frame)
        ok += 1
    except OSError as e:
        if e.errno != errno.EAGAIN:
            raise
        refused += 1
os.close(fd)
print("accepted %d refused %d" % (ok, refused))
EOF
}

before=$(vt_tx)
res=$(write_frames 2>&1)
read -r _ accepted _ refused <<<"$res"
diag "$FRAMES frames to $SILENT4 with sndbuf $SNDBUF: $res"

all_accepted() {
	[ "${accepted:-0}" -eq "$FRAMES" ] && return 0
	echo "$res; want all $FRAMES accepted"
	return 1
}
if [ "$IMPL" = in-tree ] && ! all_accepted >/dev/null; then
	skip "$FRAMES frames waiting on ARP do not fill a $SNDBUF-byte send buffer" \
		"in-tree ipvtap keeps them charged: $refused of $FRAMES writes refused (EAGAIN)"
else
	check "$FRAMES frames waiting on ARP do not fill a $SNDBUF-byte send buffer" \
		all_accepted
fi

# The frames really went through the slave into the neighbour queue.
queued() {
	local after n

	after=$(vt_tx) || return 1
	n=$((after - before))
	ip -n "$NS_HOST" neigh show "$SILENT4" dev m0
	[ "$n" -ge "${accepted:-1}" ] && [ "$n" -gt 0 ] && return 0
	echo "vt0 tx_packets +$n, want +${accepted:-1}"
	return 1
}
check "vt0 sent the accepted frames on to the routed path" queued

# Resolution fails: the queued frames are freed by the neighbour timer.
neigh_failed() {
	local st

	st=$(ip -n "$NS_HOST" neigh show "$SILENT4" dev m0)
	case $st in
	*FAILED* | "") return 0 ;;
	esac
	echo "neighbour $SILENT4: '$st'"
	return 1
}
check "resolution of $SILENT4 fails after the tap closed; its queue is freed" \
	wait_for 10 neigh_failed

# Afterwards the tap opens and writes again.
again() {
	local r

	r=$(write_frames 2>&1) || { echo "$r"; return 1; }
	case $r in
	"accepted 0 "*) echo "$r"; return 1 ;;
	esac
	ip -n "$NS_HOST" link show dev vt0 >/dev/null
}
check "the tap takes writes again after the frames were freed" again

ktap_finish
