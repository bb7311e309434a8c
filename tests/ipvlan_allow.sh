#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The allow-list of a slave, the configuration lock (ipvlan/allow.c,
# issue 13 part 2). A container made with `unshare --user --map-root-user
# --net` holds slave c0 (mode l2) of master m0; the outside host o0
# (192.0.2.254, 2001:db8::fe) listens on UDP 9999 and logs the source and
# tag of every datagram: that log and o0's neighbour table are the
# evidence, beside ping answers and the kernel's answers to `ip addr`.
#
#  - without a list (today's behaviour): the container configures any
#    address, and a raw socket's forged source reaches the outside;
#  - the list cannot be set from the container (EPERM, its root owns
#    c0's namespace but not the master's), nor while an address outside
#    it is configured; from the master's namespace it is, by --netns;
#  - locked: the container reads the list; `ip addr add` outside it is
#    refused with a message naming the list (nothing added), IPv4, IPv6
#    and a foreign link-local; inside it works, DAD included, and ping
#    v4/v6 goes out; forged sources from a raw socket and a packet socket
#    (IPv4, IPv6, ARP sender) never reach o0, while the allowed address's
#    datagrams sent right after them do; allow_drops counts them; a
#    VLAN-tagged frame is dropped (allow_proto_drops);
#  - the container cannot change the list, unlock it or change c0's
#    settings (EPERM, counted in allow_refused);
#  - changes from the master's namespace take effect live: a prefix
#    added lets the forged source through, removed stops it, `off`
#    brings back today's behaviour; refusals of bad prefixes, and of an
#    unlock request that carries one (a raw request: ipvlanctl sends none);
#  - SLAAC: a router advertisement from o0 (python, raw ICMPv6) gives c0
#    addresses in 2001:db8:1::/64 and 2001:db8:2::/64, outside its list:
#    configured, but not in the driver's table (`ipvlanctl addrs`) and
#    o0's ping6 gets no reply; once the host adds the first prefix its
#    address is recorded and answers while the second stays silent, until
#    `off` records that one too;
#  - ipvtap: a guest (tools/tapguest) on a locked ipvtap reaches the
#    outside from an allowed address, which is learned; one outside the
#    list neither reaches it nor is learned.
#
# The in-tree ipvlan has no allow-list (no generic netlink family): the
# test skips.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping python3 unshare nsenter
require_ipvlan

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"

A4=$NET4.10		# the container's allowed addresses
A6=$NET6:10
X4=$NET4.99		# outside the list
X6=$NET6:99
F4=$NET4.77		# forged sources
F6=$NET6:77
SP1=2001:db8:1		# /64 prefixes a router advertisement gives c0 (SLAAC)
SP2=2001:db8:2
PORT=9999

setup_master
if ! ip netns exec "$NS_HOST" "$CTL" help | grep -q '^  allow '; then
	ktap_skip_all "ipvlanctl has no allow command"
fi

TMPD=$(mktemp -d)
defer "rm -rf '$TMPD'"
chmod 755 "$TMPD"

# The container: its own user and network namespaces, root mapped.
unshare --user --map-root-user --net sleep 600 &
CPID=$!
BG_PIDS+=("$CPID")
ctr_started() {
	[ "$(readlink "/proc/$CPID/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}
wait_for 5 ctr_started >/dev/null || ktap_bail "the container did not start"

add_ipvlan "$NS_HOST" m0 c0 mode l2 || ktap_bail "cannot create c0"
ip -n "$NS_HOST" link set c0 netns "$CPID" || ktap_bail "cannot move c0"

# ctr CMD...: run CMD in the container, as its root.
ctr() {
	nsenter -t "$CPID" -U -n -- "$@"
}

# DAD and neighbour probes every 200 ms, not every second (one process:
# under TCG each costs).
ctr sh -c 'sysctl -qw net.ipv6.neigh.c0.retrans_time_ms=200 net.ipv6.conf.c0.accept_dad=1 &&
	ip link set lo up && ip link set c0 up' || ktap_bail "cannot set up c0 in the container"

if ! out=$(ctr "$CTL" allow c0 show 2>&1); then
	case $out in
	*"no allow-lists"*) ktap_skip_all "the loaded ipvlan ($IMPL) has no allow-list: $out" ;;
	esac
fi

# host CMD...: run CMD in the master's namespace (the host's root); no
# mount namespace of its own needed (cheaper than ip netns exec).
host() {
	nsenter --net="/run/netns/$NS_HOST" -- "$@"
}

# hallow ARGS...: ipvlanctl allow c0 --netns CONTAINER ARGS, from the host.
hallow() {
	host "$CTL" allow c0 --netns "$CPID" "$@"
}

cat >"$TMPD/allow.py" <<'EOF'
import os, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))

def udp4(src, dst, port, tag):
    data = tag.encode()
    udp = struct.pack("!HHHH", 40000, port, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + udp

def udp6(src, dst, port, tag):
    data = tag.encode()
    s6 = socket.inet_pton(socket.AF_INET6, src)
    d6 = socket.inet_pton(socket.AF_INET6, dst)
    ln = 8 + len(data)
    udp = struct.pack("!HHHH", 40000, port, ln, 0) + data
    c = csum(s6 + d6 + struct.pack("!IxxxB", ln, 17) + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return struct.pack("!IHBB", 6 << 28, ln, 17, 64) + s6 + d6 + udp

def send_frame(dev, frame):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    s.send(frame)

cmd = sys.argv[1]
if cmd == "recv":
    # recv LOG PORT: log "SRC TAG" of every datagram, v4 and v6.
    import select
    log = open(sys.argv[2], "w", buffering=1)
    socks = []
    for fam, any_ in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((any_, int(sys.argv[3])))
        socks.append(s)
    log.write("ready\n")
    while True:
        for s in select.select(socks, [], [])[0]:
            data, addr = s.recvfrom(2048)
            log.write("%s %s\n" % (addr[0], data.decode(errors="replace")))
elif cmd == "sniff":
    # sniff DEV LOG: log "na TARGET plain|hbh" of every NA, right after the
    # IPv6 header or behind a Hop-by-Hop header.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
    s.bind((sys.argv[2], 0))
    log = open(sys.argv[3], "w", buffering=1)
    log.write("ready\n")
    while True:
        f = s.recv(2048)
        if len(f) >= 78 and f[20] == 58 and f[54] == 136:
            log.write("na %s plain\n" % socket.inet_ntop(socket.AF_INET6,
                                                          f[62:78]))
        elif len(f) >= 86 and f[20] == 0 and f[54] == 58 and f[62] == 136:
            log.write("na %s hbh\n" % socket.inet_ntop(socket.AF_INET6,
                                                        f[70:86]))
elif cmd == "send":
    # send DEV MAC DSTMAC DST4 DST6 PORT SPEC...: frames in order; SPEC is
    # HOW,SRC,TAG: raw4 (an IPv4 raw socket), pkt4, pkt6, vlan4 (a packet
    # socket, the latter with an 802.1Q tag), arp (TAG unused: a broadcast
    # who-has DST4 tell SRC).
    dev, smac, dmac, dst4, dst6, port = sys.argv[2:8]
    port = int(port)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for spec in sys.argv[8:]:
        how, src, tag = spec.split(",")
        l2 = mac(dmac) + mac(smac)
        if how == "raw4":
            raw.sendto(udp4(src, dst4, port, tag), (dst4, 0))
        elif how == "pkt4":
            send_frame(dev, l2 + b"\x08\x00" + udp4(src, dst4, port, tag))
        elif how == "vlan4":
            send_frame(dev, l2 + b"\x81\x00\x00\x05\x08\x00" +
                       udp4(src, dst4, port, tag))
        elif how == "pkt6":
            send_frame(dev, l2 + b"\x86\xdd" + udp6(src, dst6, port, tag))
        elif how in ("na", "hbhna"):
            # An unsolicited NA (override) for TAG from SRC to all nodes;
            # hbhna: behind an empty Hop-by-Hop header.
            s6 = socket.inet_pton(socket.AF_INET6, src)
            d6 = socket.inet_pton(socket.AF_INET6, "ff02::1")
            na = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + \
                socket.inet_pton(socket.AF_INET6, tag) + b"\x02\x01" + mac(smac)
            c = csum(s6 + d6 + struct.pack("!IxxxB", len(na), 58) + na)
            na = na[:2] + struct.pack("!H", c) + na[4:]
            hbh, nh = b"", 58
            if how == "hbhna":
                hbh, nh = b"\x3a\x00\x01\x04\x00\x00\x00\x00", 0
            ip6 = struct.pack("!IHBB", 6 << 28, len(hbh) + len(na), nh, 255)
            send_frame(dev, mac("33:33:00:00:00:01") + mac(smac) +
                       b"\x86\xdd" + ip6 + s6 + d6 + hbh + na)
        elif how == "arp":
            arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac(smac) + \
                socket.inet_aton(src) + b"\0" * 6 + socket.inet_aton(dst4)
            send_frame(dev, b"\xff" * 6 + mac(smac) + b"\x08\x06" + arp)
elif cmd == "ra":
    # ra DEV PREFIX...: a router advertisement to ff02::1 from DEV's
    # link-local (router lifetime 0: no default route), with an on-link,
    # autonomous Prefix Information option for each PREFIX/64. A raw
    # ICMPv6 socket: the kernel computes the checksum.
    idx = socket.if_nametoindex(sys.argv[2])
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
    for p in sys.argv[3:]:
        # type 3, 4 x 8 bytes, /64, L|A, valid 3600 s, preferred 1800 s
        ra += struct.pack("!BBBBIII", 3, 4, 64, 0xc0, 3600, 1800, 0) + \
            socket.inet_pton(socket.AF_INET6, p)
    s.sendto(ra, ("ff02::1", 0, 0, idx))
EOF

PY=$TMPD/allow.py
LOG=$TMPD/recv.log
bg "$TMPD/recv.err" ip netns exec "$NS_OUT" python3 -S "$PY" recv "$LOG" "$PORT"
wait_for 10 grep -q ready "$LOG" >/dev/null || ktap_bail "the receiver did not start"

SNIFF=$TMPD/sniff.log
bg "$TMPD/sniff.err" ip netns exec "$NS_OUT" python3 -S "$PY" sniff o0 "$SNIFF"
wait_for 10 grep -q ready "$SNIFF" >/dev/null || ktap_bail "the sniffer did not start"

# seen TAG: a datagram tagged TAG reached the outside (prints the log).
seen() {
	grep -q " $1\$" "$LOG" && return 0
	echo "no datagram '$1' on the outside; log:"
	cat "$LOG"
	return 1
}

# send SPEC...: the container sends frames from c0 (allow.py send).
send() {
	ctr python3 -S "$PY" send c0 "$MASTER_MAC" "$OUT_MAC" "$OUT4" "$OUT6" \
		"$PORT" "$@"
}

# forged_then_marker HOW SRC TAG pass|drop: the container sends a
# datagram tagged TAG from SRC (HOW: raw4, pkt4, pkt6, vlan4), then one
# tagged TAG-mark from its allowed address (untagged); once the marker
# arrived, TAG's absence means dropped.
forged_then_marker() {
	local how=$1 src=$2 tag=$3 mhow=$1 msrc=$A4

	case $how in
	pkt6) msrc=$A6 ;;
	vlan4) mhow=pkt4 ;;
	esac
	send "$how,$src,$tag" "$mhow,$msrc,$tag-mark" || return 1
	wait_for 5 seen "$tag-mark" >/dev/null || { seen "$tag-mark"; return 1; }
	if [ "$4" = pass ]; then
		seen "$tag"
		return
	fi
	if grep -q " $tag\$" "$LOG"; then
		echo "the forged datagram '$tag' from $src reached the outside"
		return 1
	fi
}

# forged_arp SENDER TAG: the container broadcasts "who-has OUT4 tell
# SENDER", then a marker datagram TAG-mark, both from a packet socket.
forged_arp() {
	send "arp,$1,-" "pkt4,$A4,$2-mark" || return 1
	wait_for 5 seen "$2-mark"
}

# na_out HOW TARGET pass|drop: the container sends an NA (HOW na, or
# hbhna: behind a Hop-by-Hop header) for TARGET from its own A6, then a
# marker datagram; once the marker arrived, the outside's sniffer has the
# NA (pass) or not (drop).
na_out() {
	local tag=$1-${2//:/_} kind=plain

	[ "$1" = na ] || kind=hbh
	send "$1,$A6,$2" "pkt6,$A6,$tag-mark" || return 1
	wait_for 5 seen "$tag-mark" >/dev/null || { seen "$tag-mark"; return 1; }
	if grep -qx "na $2 $kind" "$SNIFF"; then
		[ "$3" = pass ] && return 0
		echo "the NA for $2 reached the outside"
		return 1
	fi
	[ "$3" = drop ] && return 0
	echo "the NA for $2 did not reach the outside; sniffer:"
	cat "$SNIFF"
	return 1
}

# o0_neigh ADDR: the outside host has a neighbour entry for ADDR.
o0_neigh() {
	ip -n "$NS_OUT" neigh show "$1" | grep -q lladdr
}

# ctr_stat KEY: c0's counter KEY from `ipvlanctl show c0` in the container.
ctr_stat() {
	# shellcheck disable=SC2016 # awk program
	ctr "$CTL" show c0 | awk -v k="$1" '
		$1 == "stats" { for (i = 2; i < NF; i += 2) if ($i == k) v = $(i + 1) }
		END { print v == "" ? -1 : v }'
}

# stat_cmp KEY OP N: ctr_stat KEY compares to N by OP.
stat_cmp() {
	local v

	v=$(ctr_stat "$1") || return 1
	test "$v" "$2" "$3" && return 0
	echo "c0 stats.$1 = $v, want $2 $3"
	return 1
}

# allow_is ctr|host WANT: the allow-list line of `ipvlanctl allow c0`
# (run in the container or from the host) is "allow-list WANT".
allow_is() {
	local got

	if [ "$1" = ctr ]; then
		got=$(ctr "$CTL" allow c0 show)
	else
		got=$(hallow show)
	fi || return 1
	got=$(sed -n 's/^    allow-list //p' <<<"$got")
	[ "$got" = "$2" ] && return 0
	echo "allow-list '$got', want '$2'"
	return 1
}

# allow_json_is: the container's `show --json` and `allow --json` report
# the list and the counters.
allow_json_is() {
	{ ctr "$CTL" show c0 --json; ctr "$CTL" allow c0 show --json; } |
		python3 -S -c '
import json, sys
text = sys.stdin.read()
dec = json.JSONDecoder()
show, i = dec.raw_decode(text)
show, allow = show[0], dec.raw_decode(text[i:].lstrip())[0]
want = {"locked": True, "prefixes": sys.argv[1:]}
bad = []
if show["allow"] != want or allow["allow"] != want:
    bad.append("allow %r / %r, want %r" % (show["allow"], allow["allow"], want))
for k in ("allow_drops", "allow_proto_drops", "allow_refused"):
    if not isinstance(show["stats"].get(k), int):
        bad.append("stats.%s missing" % k)
if show["stats"].get("allow_prefixes") != len(want["prefixes"]):
    bad.append("stats.allow_prefixes %r" % show["stats"].get("allow_prefixes"))
sys.exit("; ".join(bad) if bad else 0)' "$@"
}

# refused_with TEXT CMD...: CMD fails and its message contains TEXT.
refused_with() {
	local text=$1 out

	shift
	if out=$("$@" 2>&1); then
		echo "succeeded: $*: $out"
		return 1
	fi
	echo "$out"
	[[ $out == *"$text"* ]] && return 0
	echo "message lacks '$text'"
	return 1
}

has_addr() {
	ctr ip -o addr show dev c0 | grep -q " $1/"
}

no_tentative() {
	! ctr ip -6 addr show dev c0 | grep -q tentative
}

has_ll() {
	ctr ip -6 -o addr show dev c0 scope link | grep -q ' fe80::'
}

# slaac_of PREFIX: print c0's address in PREFIX::/64 (none: nothing).
slaac_of() {
	# shellcheck disable=SC2016 # awk program
	ctr ip -6 -o addr show dev c0 |
		awk -v p="$1:" 'index($4, p) == 1 { sub("/.*", "", $4); print $4; exit }'
}

# slaac_done: c0 has its SLAAC addresses in SP1 and SP2, DAD done.
slaac_done() {
	[ -n "$(slaac_of "$SP1")" ] && [ -n "$(slaac_of "$SP2")" ] && no_tentative
}

# in_table ADDR yes|no: the driver's address table (`ipvlanctl addrs c0`,
# read in the container) records ADDR configured on c0, or not; it must
# list c0's $A6 either way (the dump works).
in_table() {
	local out has=no

	out=$(ctr "$CTL" addrs c0) || { echo "ipvlanctl addrs c0: $out"; return 1; }
	# shellcheck disable=SC2016 # awk program
	if awk -v a="$1" '$3 == "inet6" && $4 == a && $5 == "configured" { f = 1 }
		END { exit !f }' <<<"$out"; then
		has=yes
	fi
	if [ "$has" = "$2" ] && grep -q " inet6 $A6 configured " <<<"$out"; then
		return 0
	fi
	echo "address table of c0 (want $1: $2, and $A6):"
	echo "$out"
	return 1
}

# out_ping6 ADDR answered|silent: the outside, its neighbour entry for
# ADDR flushed, pings ADDR 3 times; ping's count of replies is at least
# 1 (answered) or 0 (silent).
out_ping6() {
	local out got

	ip -n "$NS_OUT" neigh flush to "$1" dev o0
	out=$(ip netns exec "$NS_OUT" ping -6 -c 3 -i 0.2 -W 2 "$1" 2>&1)
	got=$(sed -n 's/.* \([0-9][0-9]*\) received.*/\1/p' <<<"$out")
	case $2:$got in
	answered:[1-9]*|silent:0) return 0 ;;
	esac
	echo "$out"
	echo "ping $1 from the outside: '$got' replies, want $2"
	return 1
}

# owned ADDR: ADDR is in c0's table and answers the outside's ping6 (both
# tried, so that a failure shows both).
owned() {
	local rc=0

	in_table "$1" yes || rc=1
	out_ping6 "$1" answered || rc=1
	return "$rc"
}

ktap_plan 37

# ------------------------------------------------ without a list (today)

check "no list: the container configures $X4 and pings the outside from it" \
	eval "ctr ip addr add $X4/24 dev c0 && ctr ping -q -c 2 -i 0.2 -W 2 $OUT4"
check "no list: a raw socket's forged source $F4 reaches the outside" \
	forged_then_marker raw4 "$F4" nolist4 pass
check "no list: a forged ARP sender $F4 enters the outside's neighbour table" \
	eval "forged_arp $F4 arp_nolist >/dev/null && o0_neigh $F4"
ip -n "$NS_OUT" neigh del "$F4" dev o0
check "no list: c0 reports it is not locked (also to the container)" \
	eval "allow_is ctr off && allow_is host off"

# -------------------------------------------------------- setting it

check "the container cannot set its list (EPERM, nothing changed)" \
	eval "refused_with 'master' ctr $CTL allow c0 add $X4/32 && allow_is ctr off"
check "the host cannot lock c0 while $X4 is configured outside the list" \
	eval "refused_with 'outside the allow-list' hallow add $A4/32 $A6/128 && allow_is host off"
ctr ip addr del "$X4/24" dev c0
check "the host locks c0 by --netns: $A4/32 $A6/128" \
	eval "hallow add $A4/32 $A6/128 && allow_is host 'locked $A4/32 $A6/128'"
check "the container reads the list; ipvlanctl show has it and the gauge" \
	eval "allow_is ctr 'locked $A4/32 $A6/128' && allow_json_is $A4/32 $A6/128"
check "locked: c0's own link-local comes back after down/up (DAD on)" \
	eval "ctr ip link set c0 down && ctr ip link set c0 up && \
		wait_for 5 has_ll && wait_for 5 no_tentative"

# ------------------------------------------------ addresses, locked

before=$(ctr_stat allow_refused)
check "locked: ip addr add $X4 is refused, naming the list; not added" \
	eval "refused_with 'allow-list' ctr ip addr add $X4/24 dev c0 && ! has_addr $X4"
check "locked: ip addr add $X6 is refused, naming the list; not added" \
	eval "refused_with 'allow-list' ctr ip addr add $X6/64 dev c0 nodad && ! has_addr $X6"
check "locked: a foreign link-local fe80::1 is refused" \
	eval "refused_with 'allow-list' ctr ip addr add fe80::1/64 dev c0 nodad && ! has_addr fe80::1"
check "the refusals are counted (allow_refused +3)" \
	stat_cmp allow_refused -ge $((before + 3))

check "locked: $A4 and $A6 (with DAD) configure" \
	eval "ctr ip addr add $A4/24 dev c0 && ctr ip addr add $A6/64 dev c0 && \
		wait_for 10 no_tentative && has_addr $A6"
check "locked: ping from $A4 works (ARP both ways)" \
	ctr ping -q -c 2 -i 0.2 -W 2 "$OUT4"
check "locked: ping from $A6 works (neighbour discovery both ways)" \
	wait_for 5 ctr ping -q -c 2 -i 0.2 -W 2 "$OUT6"

# -------------------------------------------------- forged sources

before=$(ctr_stat allow_drops)
check "locked: a raw socket's forged IPv4 source $F4 is dropped" \
	forged_then_marker raw4 "$F4" raw4 drop
check "locked: a packet socket's forged IPv4 source $F4 is dropped" \
	forged_then_marker pkt4 "$F4" pkt4 drop
check "locked: a packet socket's forged IPv6 source $F6 is dropped" \
	forged_then_marker pkt6 "$F6" pkt6 drop
check "locked: an ARP request with sender $F4 is dropped (o0 learns no neighbour $F4)" \
	eval "forged_arp $F4 arp_locked >/dev/null && ! o0_neigh $F4"
check "the forged frames are counted (allow_drops +4)" \
	stat_cmp allow_drops -ge $((before + 4))
check "locked: a VLAN-tagged frame is dropped, counted in allow_proto_drops" \
	eval "forged_then_marker vlan4 $A4 vlan drop && stat_cmp allow_proto_drops -ge 1"
check "locked: an NA for its own $A6 gets out (the outside's sniffer sees it)" \
	na_out na "$A6" pass
check "locked: an NA for $F6 hidden behind a Hop-by-Hop header is dropped" \
	na_out hbhna "$F6" drop

# -------------------------------------------- changes from the container

before=$(ctr_stat allow_refused)
check "the container cannot remove a prefix, flush or unlock (EPERM)" \
	eval "refused_with 'master' ctr $CTL allow c0 del $A4/32 && \
		refused_with 'master' ctr $CTL allow c0 off && \
		refused_with 'master' ctr $CTL allow c0 flush && \
		allow_is ctr 'locked $A4/32 $A6/128'"
check "the container cannot change c0's settings (EPERM); all counted" \
	eval "refused_with 'master' ctr $CTL set c0 learn on && \
		stat_cmp allow_refused -ge $((before + 4))"

# ------------------------------------------------ from the host, live

check "bad prefixes are refused with a message: host bits, length, family" \
	eval "refused_with 'host bits' hallow add 192.0.2.1/24 && \
		refused_with 'above 32' hallow add 10.0.0.0/33 && \
		refused_with 'not in the allow-list' hallow del 198.51.100.0/24 && \
		allow_is host 'locked $A4/32 $A6/128'"
# ipvlanctl sends no prefix with "off": a raw request does.
check "unlock with a prefix is refused with a message, the list kept" \
	eval "refused_with 'takes no prefix' nsenter -t $CPID -n -- \
			python3 $IPVTAP_REPO/tools/testing/ipvl_nl.py allow --cmd 6 --dev c0 $A4/32 && \
		allow_is host 'locked $A4/32 $A6/128'"

# SLAAC outside the list: the outside (a router, as far as c0 knows)
# advertises SP1::/64 and SP2::/64. c0 configures both (no validator asks
# the driver), the driver records neither. m0 must not configure them:
# its EUI-64 address could be c0's, and the outside's ping would reach
# the host's stack for an address no slave owns.
host sysctl -qw net.ipv6.conf.m0.accept_ra=0
ctr sysctl -qw net.ipv6.conf.c0.forwarding=0 net.ipv6.conf.c0.accept_ra=1 \
	net.ipv6.conf.c0.autoconf=1
ip -n "$NS_OUT" addr add "$SP1::fe/64" dev o0 nodad
ip -n "$NS_OUT" addr add "$SP2::fe/64" dev o0 nodad
before=$(ctr_stat allow_refused)
ip netns exec "$NS_OUT" python3 -S "$PY" ra o0 "$SP1::" "$SP2::"
wait_for $((15 * TIME_SCALE)) slaac_done >/dev/null
S1=$(slaac_of "$SP1")
S2=$(slaac_of "$SP2")
check "SLAAC outside the list: an RA's $SP1::/64 and $SP2::/64 configure on c0, unrecorded, counted in allow_refused" \
	eval "{ slaac_done || { ctr ip -6 addr show dev c0; false; }; } && \
		in_table '$S1' no && in_table '$S2' no && \
		stat_cmp allow_refused -ge $((before + 2))"
check "SLAAC outside the list: the outside's ping6 to c0's $SP1::/64 address gets no reply" \
	out_ping6 "$S1" silent
check "widened: the host adds $SP1::/64; c0's SLAAC address there is recorded and answers the outside's ping6" \
	eval "hallow add $SP1::/64 && owned '$S1'"
check "widened: c0's SLAAC address in $SP2::/64, still outside the list, stays unrecorded and silent" \
	eval "in_table '$S2' no && out_ping6 '$S2' silent"
check "live: the host adds $F4/32, the forged source now gets out" \
	eval "hallow add $F4/32 && forged_then_marker raw4 $F4 live_add pass"
check "live: the host removes it, dropped again" \
	eval "hallow del $F4/32 && forged_then_marker raw4 $F4 live_del drop"
check "live: off, today's behaviour: $X4 configures, forged source gets out" \
	eval "hallow off && allow_is ctr off && ctr ip addr add $X4/24 dev c0 && \
		forged_then_marker raw4 $F4 off pass"
check "off: c0's SLAAC address in $SP2::/64 is recorded and answers the outside's ping6" \
	eval "owned '$S2'"

# ------------------------------------------------------------- ipvtap

TG=$IPVTAP_REPO/tools/tapguest/tapguest
if [ ! -x "$TG" ] || [ ! -d /sys/module/ipvtap ]; then
	skip "ipvtap: learning only inside the list" "no tapguest or ipvtap.ko"
else
	if ! { host ip link add link m0 name vt0 type ipvtap mode l2 &&
		host ip link set vt0 up && tap_node "$NS_HOST" vt0; }; then
		ktap_bail "cannot create ipvtap vt0"
	fi
	host "$CTL" allow vt0 add "$NET4.20/32" >/dev/null
	check "ipvtap locked: a guest on $NET4.20 reaches the outside and is learned; on $NET4.21 it does not, is not learned, counted" \
		eval "host $TG --tap $TAP --ip4 $NET4.20/24 --ping4 $OUT4 --count 2 --timeout 10 && \
			! host $TG --tap $TAP --ip4 $NET4.21/24 --ping4 $OUT4 --count 1 --timeout 2 && \
			host $CTL addrs vt0 | grep -q ' $NET4.20 learned' && \
			! host $CTL addrs vt0 | grep -q ' $NET4.21 ' && \
			host $CTL show vt0 | grep -Eq ' allow_drops [1-9]'"
fi

ktap_finish
