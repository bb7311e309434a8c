#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvtap guest address learning (issue 5), with NO address configured on
# the host-side devices: two "guests" (tools/tapguest on /dev/tapN, QEMU's
# ioctls) behind ipvtap vt0 and vt1 on master m0; the peer namespace plays
# the outside host.
#
#  - guest A configures its own IPv4/IPv6 addresses: it reaches the peer
#    and the peer reaches it (ARP/ND answered by the guest, then learned);
#  - A changes its IPv4 address: the new one works, the old one ages out;
#  - guest B claiming A's address cannot take it: A keeps working, B's
#    frames are dropped and counted;
#  - a guest spraying thousands of source addresses is held to the cap;
#  - the host's own address cannot be claimed; a foreign source MAC is
#    dropped.
#
# Against the in-tree ipvtap (IMPL=in-tree), which never learns, the peer
# cannot reach a guest whose address is not configured on the host side:
# that case is asserted, the learning-only cases are skipped with the
# reason, so the difference shows explicitly.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3

TG=$IPVTAP_REPO/tools/tapguest/tapguest
CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$TG" ] || ktap_skip_all "tools/tapguest/tapguest not built (make tools)"
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded"
fi

A4=$NET4.1
A4_NEW=$NET4.11
A6=$NET6:1
HOST4=$NET4.200

setup_master
ip -n "$NS_HOST" addr add "$HOST4/24" dev m0

for d in vt0 vt1; do
	if ! out=$(ip -n "$NS_HOST" link add link m0 name $d type ipvtap mode l2 2>&1); then
		case $out in
		*"Unknown device type"*) ktap_skip_all "no ipvtap link kind ($out)" ;;
		esac
		ktap_bail "cannot create $d: $out"
	fi
	ip -n "$NS_HOST" link set $d up
done
TAPA=/dev/tap$(ip netns exec "$NS_HOST" cat /sys/class/net/vt0/ifindex)
TAPB=/dev/tap$(ip netns exec "$NS_HOST" cat /sys/class/net/vt1/ifindex)
wait_for 5 test -c "$TAPA" >/dev/null || ktap_bail "$TAPA did not appear"
wait_for 5 test -c "$TAPB" >/dev/null || ktap_bail "$TAPB did not appear"

TMP=$(mktemp -d) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# serve TAP LOG ARGS...: a guest answering in the background until stopped.
serve() {
	local tap=$1 log=$2

	shift 2
	ip netns exec "$NS_HOST" "$TG" --tap "$tap" --serve --timeout 60 \
		"$@" >"$log" 2>&1 &
	SERVE_PID=$!
	wait_for 10 grep -q '^guest mac' "$log" >/dev/null
}

unserve() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID" 2>/dev/null
}

# peer_pings ADDR: the peer reaches ADDR while a guest serves it.
peer_pings() {
	ip netns exec "$NS_OUT" ping -c 3 -i 0.3 -W 2 "$1"
}

# addr_is DEV ADDR ORIGIN|absent: the address table of the host netns
# (ipvlanctl addrs).
addr_is() {
	local got

	# shellcheck disable=SC2016 # awk program
	got=$(ip netns exec "$NS_HOST" "$CTL" addrs | awk -v d="$1" -v a="$2" \
		'$2 == d && $4 == a { print $5 }')
	[ "${got:-absent}" = "$3" ] && return 0
	echo "$1 $2: '${got:-absent}', want '$3'"
	ip netns exec "$NS_HOST" "$CTL" addrs
	return 1
}

# stat_at_least DEV KEY N: ipvlanctl's counter stats.KEY of DEV >= N
# (KEY "learned" at top level is the number learned now).
ctl_value() {
	ip netns exec "$NS_HOST" "$CTL" show "$1" --json | python3 -S -c '
import json, sys
o = json.load(sys.stdin)[0]
k = sys.argv[1]
print(o[k] if k == "learned" else o["stats"][k])' "$2"
}

# stat_cmp DEV KEY OP N: ctl_value DEV KEY compares to N by OP (-ge, -le).
stat_cmp() {
	local v

	v=$(ctl_value "$1" "$2") || return 1
	test "$v" "$3" "$4" && return 0
	echo "$1 $2 = $v, want $3 $4"
	return 1
}

stat_at_least() {
	stat_cmp "$1" "$2" -ge "$3"
}

stat_at_most() {
	stat_cmp "$1" "$2" -le "$3"
}

# spray TAP COUNT: frames from COUNT distinct IPv6 sources (2001:db8:5::N)
# and the master's MAC, written straight into the tap (10-byte vnet hdr).
spray() {
	ip netns exec "$NS_HOST" python3 -S - "$1" "$2" "$MASTER_MAC" <<'EOF'
import os, struct, sys
tap, count, mac = sys.argv[1], int(sys.argv[2]), sys.argv[3]
src_mac = bytes(int(x, 16) for x in mac.split(":"))
fd = os.open(tap, os.O_RDWR)
dst = bytes.fromhex("20010db8" + "00" * 11 + "fe")
for n in range(1, count + 1):
    src = bytes.fromhex("20010db80005" + "00" * 6) + struct.pack("!I", n)
    ip6 = struct.pack("!IHBB", 6 << 28, 0, 59, 64) + src + dst
    frame = b"\xff" * 6 + src_mac + b"\x86\xdd" + ip6
    os.write(fd, b"\x00" * 10 + frame)
os.close(fd)
EOF
}

if [ "$IMPL" = in-tree ]; then
	ktap_plan 2
	# The peer's ARP reply for an address configured nowhere goes to the
	# host stack: even the guest's own pings fail. What only a learning
	# ipvtap does (the rest of this test) is not run here.
	check_fail "in-tree ipvtap does not learn: guest A cannot reach the peer # DIFF: ours learns the guest's addresses" \
		ip netns exec "$NS_HOST" "$TG" --tap "$TAPA" --ip4 "$A4/24" \
		--ping4 "$OUT4" --count 3 --timeout 10
	serve "$TAPA" "$TMP/a0.log" --ip4 "$A4/24" --ip6 "$A6/64"
	check_fail "in-tree ipvtap does not learn: the peer cannot reach guest A # DIFF: ours learns the guest's addresses" \
		peer_pings "$A4"
	unserve
	ktap_finish
fi

ktap_plan 18

# ------------------------------------------- guest A, its own addresses

check "guest A reaches the peer over IPv4 (nothing configured on vt0)" \
	ip netns exec "$NS_HOST" "$TG" --tap "$TAPA" --ip4 "$A4/24" \
	--ping4 "$OUT4" --count 3 --timeout 10
check "guest A reaches the peer over IPv6" \
	ip netns exec "$NS_HOST" "$TG" --tap "$TAPA" --ip6 "$A6/64" \
	--ping6 "$OUT6" --count 3 --timeout 10

serve "$TAPA" "$TMP/a1.log" --ip4 "$A4/24" --ip6 "$A6/64"
check "the peer reaches guest A over IPv4 (ARP answered by the guest)" \
	peer_pings "$A4"
check "the peer reaches guest A over IPv6 (ND answered by the guest)" \
	peer_pings "$A6"
unserve
check "vt0 lists $A4 and $A6 as learned" \
	eval "addr_is vt0 $A4 learned && addr_is vt0 $A6 learned"
check "the master's own address was not learned" addr_is vt0 "$HOST4" absent

# --------------------------------------------- A changes its address

ip netns exec "$NS_HOST" "$CTL" set vt0 learn-timeout 2 >/dev/null
serve "$TAPA" "$TMP/a2.log" --ip4 "$A4_NEW/24" --announce
check "after A changes to $A4_NEW, the peer reaches the new address" \
	peer_pings "$A4_NEW"
check "the old address $A4 ages out (learn-timeout 2 s)" \
	wait_for 10 addr_is vt0 "$A4" absent

# ------------------------------- guest B claims A's (current) address

# A idle for 2 s loses its new address too: back to the default timeout,
# and A announces itself again.
unserve
ip netns exec "$NS_HOST" "$CTL" set vt0 learn-timeout 300 >/dev/null
serve "$TAPA" "$TMP/a3.log" --ip4 "$A4_NEW/24" --announce
wait_for 5 addr_is vt0 "$A4_NEW" learned >/dev/null
check_fail "guest B, claiming $A4_NEW, cannot reach the peer" \
	ip netns exec "$NS_HOST" "$TG" --tap "$TAPB" --ip4 "$A4_NEW/24" \
	--ping4 "$OUT4" --count 2 --timeout 5
check "B's frames were dropped and counted (spoof_drops)" \
	stat_at_least vt1 spoof_drops 1
check "the address stayed with A, and the peer still reaches A" \
	eval "addr_is vt0 $A4_NEW learned && peer_pings $A4_NEW"
unserve

# ---------------------------------------------- spray, host, MAC

spray "$TAPB" 2000
check "a spray of 2000 source addresses leaves B at the cap (32 learned)" \
	eval "stat_at_most vt1 learned 32 && stat_at_least vt1 learned 32"
check "... and the frames beyond the cap were dropped and counted" \
	stat_at_least vt1 cap_drops 1900

before=$(ctl_value vt1 spoof_drops)
ip netns exec "$NS_HOST" "$CTL" set vt1 flush >/dev/null
check_fail "guest B cannot send from the host's address $HOST4" \
	ip netns exec "$NS_HOST" "$TG" --tap "$TAPB" --ip4 "$HOST4/24" \
	--ping4 "$OUT4" --count 2 --timeout 5
check "... dropped as spoofing, and $HOST4 is not learned" \
	eval "stat_at_least vt1 spoof_drops $((before + 1)) && addr_is vt1 $HOST4 absent"

check "a frame with a foreign source MAC is dropped and counted" \
	eval "ip netns exec $NS_HOST $TG --tap $TAPB --mac 02:00:00:00:00:01 \
		--ip4 $NET4.77/24 --ping4 $OUT4 --count 1 --timeout 3; \
		stat_at_least vt1 mac_drops 1"

# ------------------------------------- a host namespace with no IPv4 at all

# The master's namespace has never had an IPv4 address, not even lo's
# (lo down): its kernel has no local routing table, and asking it about
# any address answers "broadcast". A guest's address is still learned.
ns_create --bare NS_BH:bare-host
ns_create NS_BO:bare-out
ip -n "$NS_BH" link add m1 type veth peer name o1 netns "$NS_BO"
ip -n "$NS_BH" link set m1 up
ip -n "$NS_BO" link set o1 up
ip -n "$NS_BO" addr add 198.51.100.254/24 dev o1
# /dev/tap<ifindex> is named in no namespace: an index of its own.
ip -n "$NS_BH" link add link m1 name vt2 index 4000 type ipvtap mode l2
ip -n "$NS_BH" link set vt2 up
TAPC=/dev/tap$(ip netns exec "$NS_BH" cat /sys/class/net/vt2/ifindex)
wait_for 5 test -c "$TAPC" >/dev/null || ktap_bail "$TAPC did not appear"
# bare_learned: vt2 learned the guest's address and dropped nothing.
bare_learned() {
	local out

	out=$(ip netns exec "$NS_BH" "$CTL" show vt2) || return 1
	grep -q 'inet 198.51.100.1 learned' <<<"$out" &&
		grep -q 'spoof_drops 0 ' <<<"$out" && return 0
	echo "$out"
	return 1
}
check "no IPv4 in the host's namespace (lo down): the guest pings the peer" \
	ip netns exec "$NS_BH" "$TG" --tap "$TAPC" --ip4 198.51.100.1/24 \
	--ping4 198.51.100.254 --count 2 --timeout 10
check "... its address is learned, nothing dropped as spoofing" bare_learned

ktap_finish
