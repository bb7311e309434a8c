#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: the host path (IFLA_IPVLAN_X_HOST, ipvlan/host.c, issue 13
# part 1): the master's namespace and its slaves reach each other through
# the driver, in every mode x flag, IPv4 and IPv6, ICMP/TCP/UDP.
#
#   out ns:  o0, the master's veth peer: a plain end, no address, never
#            answers or hairpins anything (the "wire")
#   host ns: m0 198.51.100.1/24 2001:db8:1::1/64, the master; an nft input
#            chain counting s1's packets with iif m0, conntrack on
#   s1, s2:  slaves 198.51.100.1{1,2}/24 2001:db8:1::1{1,2}/64, the same
#            addresses in every mode (l3: NOARP, the prefix is on-link)
#
# No route, neighbour entry or device is added anywhere. For every
# mode/flag, set live on one port (changelink):
#  - host off: host -> s1 ping v4/v6 fails (today's behaviour, the in-tree
#    driver's);
#  - host on: host -> s1 and s1 -> host, ping, TCP and UDP (echo servers
#    in both namespaces), v4 and v6: bridge and private reach, vepa not
#    (everything goes to the wire, which does not hairpin); s1 -> s2 keeps
#    the flag's meaning (private isolates slaves from each other only);
#    the master namespace's nft input chain counts s1's packets with
#    iif m0, its conntrack has s1's UDP flows replied (not [UNREPLIED]).
# Then, in l2 and l3: neighbour entries on both sides (the master's MAC,
# valid), an address added on s1 and on m0 reachable at once and gone at
# once when removed; a VLAN on m0 is left alone; the counters, ipvlanctl's
# show/--json; value 2 refused.
#
# The in-tree ipvlan has no host path: the "host on" cases are marked
# "# DIFF" (it reaches nothing there); the "host off" ones are the same.
#
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip ping python3 nft
require_ipvlan

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"

MODES=${HOST_MODES:-l2 l3 l3s}
FLAGS=${HOST_FLAGS:-bridge private vepa}
H4=198.51.100.1 H6=2001:db8:1::1
A4=(" " 198.51.100.11 198.51.100.12) A6=(" " 2001:db8:1::11 2001:db8:1::12)
PORT=7000
HOST_DIFF="the in-tree ipvlan has no host path: the master's namespace never reaches its slaves"

# Per mode/flag, host on: [flag]=host<->s1 s1->s2 nf ct
declare -A ON_EXPECT=(
	[bridge]="reachable reachable seen both"
	[private]="reachable unreachable seen both"
	[vepa]="unreachable unreachable unseen none"
)
PROBES=("ping v4" "ping v6" "tcp v4" "tcp v6" "udp v4" "udp v6")

read -r -a _m <<<"$MODES"
read -r -a _f <<<"$FLAGS"
ktap_plan $((${#_m[@]} * ${#_f[@]} * 17 + 2 * 6 + 5))
kmsg_mark start

TMPD=$(mktemp -d)
defer "rm -rf '$TMPD'"

cat >"$TMPD/host.py" <<'EOF'
import os, select, socket, struct, sys, threading, time


def serve(port, out):
    """TCP and UDP echo on PORT, IPv4 and IPv6; "ready" in OUT first."""
    port = int(port)
    t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    t.bind(("::", port))
    t.listen(64)
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", port))
    open(out, "w").write("ready\n")
    conns = []
    while True:
        r, _, _ = select.select([t, u] + conns, [], [])
        for s in r:
            if s is t:
                conns.append(t.accept()[0])
            elif s is u:
                data, addr = u.recvfrom(2048)
                u.sendto(data, addr)
            else:
                try:
                    data = s.recv(2048)
                except OSError:
                    data = b""
                if data:
                    s.sendall(data)
                else:
                    conns.remove(s)
                    s.close()


def tcp(dst, port, res, key):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect((dst, port))
        s.sendall(b"tcp " + key.encode())
        ok = s.recv(64) == b"tcp " + key.encode()
        s.close()
    except OSError:
        ok = False
    res[key] = ok


def udp(dst, port, sport, res, key):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", sport))
    s.settimeout(0.2)
    msg = b"udp " + key.encode()
    end = time.monotonic() + 3
    ok = False
    while not ok and time.monotonic() < end:
        s.sendto(msg, (dst, port))
        try:
            data, addr = s.recvfrom(64)
            ok = data == msg and addr[0] == dst
        except socket.timeout:
            pass
    res[key] = ok


def probe(dst4, dst6, port, sport):
    """TCP and UDP echo to DST4 and DST6 at once; UDP from SPORT (v4)
    and SPORT+1 (v6). One line each: "<proto> <v4|v6> reachable|..."."""
    port, sport = int(port), int(sport)
    res = {}
    th = [threading.Thread(target=tcp, args=(dst4, port, res, "tcp v4")),
          threading.Thread(target=tcp, args=(dst6, port, res, "tcp v6")),
          threading.Thread(target=udp, args=(dst4, port, sport, res, "udp v4")),
          threading.Thread(target=udp, args=(dst6, port, sport + 1, res, "udp v6"))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    for k in sorted(res):
        print(k, "reachable" if res[k] else "unreachable")


def link(dev, attr, value):
    """RTM_NEWLINK on DEV with IFLA_INFO_DATA attribute ATTR (u8) VALUE:
    prints "ok" or the errno and extack."""
    sys.path.insert(0, os.environ["IPVTAP_REPO"] + "/tools/testing")
    import ipvl_nl as nl
    data = nl.attr(int(attr), bytes([int(value)]))
    info = nl.attr(nl.IFLA_INFO_KIND, b"ipvlan") + \
        nl.attr(nl.IFLA_INFO_DATA | nl.NLA_F_NESTED, data)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0,
                       socket.if_nametoindex(dev), 0, 0) + \
        nl.attr(nl.IFLA_LINKINFO | nl.NLA_F_NESTED, info)
    err, msg = nl.Rtnl().request(nl.RTM_NEWLINK, 0, body)
    print("ok" if not err else "error: %s: %s" % (nl.ename(err), msg))


globals()[sys.argv[1]](*sys.argv[2:])
EOF

py() { ip netns exec "$1" python3 -S "$TMPD/host.py" "${@:2}"; }
ctl() { ip netns exec "$1" "$CTL" "${@:2}"; }

# field NS DEV KEY: a value of `ipvlanctl show DEV --json` (dotted KEY).
field() {
	ctl "$1" show "$2" --json | python3 -S -c '
import json, sys
v = json.load(sys.stdin)[0]
for k in sys.argv[1].split("."):
    v = v[k] if v is not None else None
print(json.dumps(v))' "$3"
}

# ping_to NS ADDR SECS: "reachable" if ADDR answers within SECS.
ping_to() {
	if ip netns exec "$1" ping -q -n -c 1 -i 0.2 -w "$3" "$2" >/dev/null 2>&1; then
		echo reachable
	else
		echo unreachable
	fi
}

# The probes run in the background, beside the echo servers: P holds
# their pids; wait_all waits for them (a bare wait would wait for the
# servers too).
P=()
wait_all() {
	wait "${P[@]}"
	P=()
}

# ----------------------------------------------------------- topology
out='' host='' S1='' S2=''
ns_create out:o host:h S1:s1 S2:s2
ip -n "$host" link add m0 type veth peer name o0 netns "$out" ||
	ktap_bail "cannot create the veth master"
ns_batch "$host" <<-EOF || ktap_bail "host setup failed"
link set m0 up
addr add $H4/24 dev m0
addr add $H6/64 dev m0 nodad
link add link m0 name s1 type ipvlan mode l2 bridge
link add link m0 name s2 type ipvlan mode l2 bridge
link set s1 netns $S1
link set s2 netns $S2
EOF
ip -n "$out" link set o0 up
for i in 1 2; do
	ns=S$i
	ns_batch "${!ns}" <<-EOF || ktap_bail "cannot configure s$i"
	link set s$i up
	addr add ${A4[i]}/24 dev s$i
	addr add ${A6[i]}/64 dev s$i nodad
	EOF
done
MASTER_MAC=$(dev_mac "$host" m0)

modprobe nf_conntrack 2>/dev/null
ip netns exec "$host" nft -f - <<EOF || ktap_bail "nft setup failed"
table inet ipvlan_host {
	chain in {
		type filter hook input priority 0; policy accept;
		ct state new,established counter
		iifname "m0" ip saddr ${A4[1]} counter
		iifname "m0" ip6 saddr ${A6[1]} counter
	}
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		iifname "m0" ct state new ct mark set 0x4d30
	}
}
EOF

for ns in "$host" "$S1"; do
	bg "$TMPD/serve-$ns.log" py "$ns" serve "$PORT" "$TMPD/serve-$ns.ready"
	wait_for 20 test -s "$TMPD/serve-$ns.ready" ||
		ktap_bail "no echo server in $ns: $(cat "$TMPD/serve-$ns.log")"
done

HAVE_HOST=1
[ "$(field "$S1" s1 host)" != null ] || HAVE_HOST=0
diag "IMPL=$IMPL; host path in the loaded ipvlan: $HAVE_HOST; set up in ${SECONDS}s"

# host_set on|off: the setting, through s1 (it is the port's).
host_set() {
	[ "$HAVE_HOST" -eq 1 ] || return 0
	ctl "$S1" set s1 host "$1" || diag "ipvlanctl set s1 host $1 failed"
}

# nf_count FAMILY ADDR: packets the host's input rule for ADDR counted.
nf_count() {
	ip netns exec "$host" nft list chain inet ipvlan_host in |
		sed -n "s/.*iifname \"m0\" $1 saddr $2 counter packets \([0-9]*\).*/\1/p"
}

# ct_both CONNTRACK FAMILY SPORT: CONNTRACK (the host's
# /proc/net/nf_conntrack) has the UDP flow from SPORT to PORT, begun by a
# packet in on m0 (its ct mark, set in prerouting) and replied.
ct_both() {
	local l

	l=$(grep -E "^$2 .* udp .* sport=$3 dport=$PORT .* mark=19760 " <<<"$1")
	[ -n "$l" ] && [[ $l != *UNREPLIED* ]]
}

# on_case CASE OBSERVED OURS_EXPECTED: a case of the host path, which the
# in-tree driver does not have (it expects IN_TREE_EXPECTED, $4).
on_case() {
	local want=$3

	deliberate_diff "$HOST_DIFF"
	[ "$IMPL" != in-tree ] || want=$4
	result_case "$1" "$2" "$want"
}

# ------------------------------------------------------------ matrix
combo=0
run_combo() {
	local m=$1 f=$2 c="$1/$2" j n4 n6 got sport tmp reach s2 nf ct
	local -a exp

	combo=$((combo + 1))
	diag "$c: from ${SECONDS}s"
	sport=$((40000 + combo * 10))
	read -r -a exp <<<"${ON_EXPECT[$f]}"
	ip -n "$S1" link set s1 type ipvlan mode "$m" "$f" ||
		diag "$c: ip link set s1 type ipvlan mode $m $f failed"

	# Off: today's behaviour.
	host_set off
	tmp=$TMPD/$combo
	mkdir -p "$tmp"
	ping_to "$host" "${A4[1]}" 2 >"$tmp/off4" & P+=($!)
	ping_to "$host" "${A6[1]}" 2 >"$tmp/off6" & P+=($!)
	wait_all
	result_case "$c host off: host->s1 ping v4" "$(<"$tmp/off4")" unreachable
	result_case "$c host off: host->s1 ping v6" "$(<"$tmp/off6")" unreachable

	# On: every probe at once.
	host_set on
	n4=$(nf_count ip "${A4[1]}") n6=$(nf_count ip6 "${A6[1]}")
	ping_to "$host" "${A4[1]}" 3 >"$tmp/h-ping v4" & P+=($!)
	ping_to "$host" "${A6[1]}" 3 >"$tmp/h-ping v6" & P+=($!)
	ping_to "$S1" "$H4" 3 >"$tmp/s-ping v4" & P+=($!)
	ping_to "$S1" "$H6" 3 >"$tmp/s-ping v6" & P+=($!)
	ping_to "$S1" "${A4[2]}" 3 >"$tmp/s2" & P+=($!)
	py "$host" probe "${A4[1]}" "${A6[1]}" "$PORT" "$sport" >"$tmp/h-l4" 2>&1 & P+=($!)
	py "$S1" probe "$H4" "$H6" "$PORT" $((sport + 2)) >"$tmp/s-l4" 2>&1 & P+=($!)
	wait_all
	for j in "${PROBES[@]}"; do
		for dir in h s; do
			if [[ $j == ping* ]]; then
				got=$(<"$tmp/$dir-$j")
			else
				got=$(sed -n "s/^$j //p" "$tmp/$dir-l4")
				[ -n "$got" ] || got="error: $(head -c 200 "$tmp/$dir-l4")"
			fi
			if [ "$dir" = h ]; then reach="host->s1"; else reach="s1->host"; fi
			on_case "$c host on: $reach $j" "$got" "${exp[0]}" unreachable
		done
	done
	s2=$(<"$tmp/s2")
	# s1 -> s2 is the flag's business, the same with both drivers.
	result_case "$c host on: s1->s2 ping v4 (the flag decides)" "$s2" "${exp[1]}"

	if [ "$(nf_count ip "${A4[1]}")" -gt "$n4" ] &&
		[ "$(nf_count ip6 "${A6[1]}")" -gt "$n6" ]; then
		nf=seen
	else
		nf=unseen
	fi
	on_case "$c host on: master ns nft input counts s1's v4 and v6 packets with iif m0" \
		"$nf" "${exp[2]}" unseen
	ct=$(ip netns exec "$host" cat /proc/net/nf_conntrack)
	if ct_both "$ct" ipv4 $((sport + 2)) && ct_both "$ct" ipv6 $((sport + 3)); then
		ct=both
	else
		ct=none
	fi
	on_case "$c host on: master ns conntrack has s1's UDP flows to it, begun on iif m0, replied (v4, v6)" \
		"$ct" "${exp[3]}" none
}

for m in $MODES; do
	for f in $FLAGS; do
		run_combo "$m" "$f"
	done
done

# --------------------------------------------------- per mode: l2, l3
# neigh_valid NS ADDR DEV: ADDR resolved to the master's MAC, valid.
neigh_valid() {
	local l

	l=$(ip -n "$1" neigh show "$2" dev "$3")
	echo "$l"
	[[ $l == *"lladdr $MASTER_MAC "* ]] &&
		[[ $l =~ (REACHABLE|STALE|DELAY|PROBE) ]]
}

mode_steps() {
	local m=$1 tmp=$TMPD/$1 k

	mkdir -p "$tmp"
	diag "$m steps: from ${SECONDS}s"
	ip -n "$S1" link set s1 type ipvlan mode "$m" bridge
	host_set on
	ip -n "$host" neigh flush dev m0
	ip -n "$S1" neigh flush dev s1
	ping_to "$host" "${A4[1]}" 3 >"$tmp/h4" & P+=($!)
	ping_to "$host" "${A6[1]}" 3 >"$tmp/h6" & P+=($!)
	ping_to "$S1" "$H4" 3 >"$tmp/s4" & P+=($!)
	ping_to "$S1" "$H6" 3 >"$tmp/s6" & P+=($!)
	wait_all
	deliberate_diff "$HOST_DIFF"
	check_case "$m: the host's neighbour entries for s1 (v4, v6): the master's MAC, valid, after ping both ways" \
		eval "neigh_valid '$host' '${A4[1]}' m0 && neigh_valid '$host' '${A6[1]}' m0"
	if [ "$m" = l2 ]; then
		deliberate_diff "$HOST_DIFF"
		check_case "$m: s1's neighbour entries for the host (v4, v6): the master's MAC, valid" \
			eval "neigh_valid '$S1' '$H4' s1 && neigh_valid '$S1' '$H6' s1"
	else
		check_case "$m: s1 is NOARP: its entry for the host is NOARP" \
			eval "ip -n '$S1' neigh show nud all '$H4' dev s1 | grep -q NOARP"
	fi

	# Addresses added live on either side: reachable at once.
	ip -n "$S1" addr add 198.51.100.21/24 dev s1
	ip -n "$S1" addr add 2001:db8:1::21/64 dev s1 nodad
	ip -n "$host" addr add 198.51.100.5/24 dev m0
	ip -n "$host" addr add 2001:db8:1::5/64 dev m0 nodad
	ping_to "$host" 198.51.100.21 3 >"$tmp/a1" & P+=($!)
	ping_to "$host" 2001:db8:1::21 3 >"$tmp/a2" & P+=($!)
	ping_to "$S1" 198.51.100.5 3 >"$tmp/a3" & P+=($!)
	ping_to "$S1" 2001:db8:1::5 3 >"$tmp/a4" & P+=($!)
	wait_all
	on_case "$m: addresses just added on s1 and m0 answer at once (host->s1 v4 v6, s1->host v4 v6)" \
		"$(cat "$tmp"/a[1-4] | tr '\n' ' ')" \
		"reachable reachable reachable reachable " \
		"unreachable unreachable unreachable unreachable "
	ip -n "$S1" addr del 198.51.100.21/24 dev s1
	ip -n "$S1" addr del 2001:db8:1::21/64 dev s1
	ip -n "$host" addr del 198.51.100.5/24 dev m0
	ip -n "$host" addr del 2001:db8:1::5/64 dev m0
	ping_to "$host" 198.51.100.21 2 >"$tmp/a1" & P+=($!)
	ping_to "$host" 2001:db8:1::21 2 >"$tmp/a2" & P+=($!)
	ping_to "$S1" 198.51.100.5 2 >"$tmp/a3" & P+=($!)
	ping_to "$S1" 2001:db8:1::5 2 >"$tmp/a4" & P+=($!)
	wait_all
	result_case "$m: the same addresses removed: gone at once" \
		"$(cat "$tmp"/a[1-4] | tr '\n' ' ')" \
		"unreachable unreachable unreachable unreachable "

	# A VLAN on the master is another segment: its frames are left alone.
	k=$(ip -n "$host" link add link m0 name m0.7 type vlan id 7 2>&1 &&
		ip -n "$host" link set m0.7 up &&
		ip -n "$host" addr add 203.0.113.1/24 dev m0.7 &&
		ip -n "$S1" addr add 203.0.113.11/32 dev s1 2>&1) ||
		diag "vlan setup: $k"
	result_case "$m: tagged (m0.7): the host's frames for an address of s1 go to the wire" \
		"$(ping_to "$host" 203.0.113.11 2)" unreachable
	ip -n "$host" link del m0.7
	ip -n "$S1" addr del 203.0.113.11/32 dev s1

	deliberate_diff "$HOST_DIFF"
	check_case "$m: s1's host_rx, host_tx and host_neigh counted" counted
}

# counted: s1's host_rx, host_tx and host_neigh are not 0.
counted() {
	local k v

	for k in host_rx host_tx host_neigh; do
		v=$(field "$S1" s1 "stats.$k")
		echo "$k $v"
		[ "$v" != null ] && [ "$v" -gt 0 ] || return 1
	done
}
mode_steps l2
mode_steps l3

# ------------------------------------------------------------ settings
diag "settings: from ${SECONDS}s"
shown() {
	ctl "$S1" show s1 | grep -q "^    host on$" &&
		[ "$(field "$S2" s2 host)" = true ]
}
deliberate_diff "$HOST_DIFF"
check_case "ipvlanctl: host on shown on s1 and s2 (per port), text and --json" shown
off_via_s2() {
	ctl "$S2" set s2 host off && [ "$(field "$S1" s1 host)" = false ] &&
		[ "$(ping_to "$host" "${A4[1]}" 2)" = unreachable ]
}
deliberate_diff "$HOST_DIFF"
check_case "host off through s2: off on s1 too, and host->s1 fails again" off_via_s2
value2() {
	local out

	out=$(py "$S1" link s1 49 2)
	echo "$out"
	[[ $out == error:* ]] && [ "$(field "$S1" s1 host)" = false ]
}
deliberate_diff "$HOST_DIFF"
check_case "IFLA_IPVLAN_X_HOST 2 refused by the policy, nothing changed" value2
value1() {
	[ "$(py "$S1" link s1 49 1)" = ok ] && [ "$(field "$S1" s1 host)" = true ] &&
		[ "$(ping_to "$host" "${A4[1]}" 3)" = reachable ]
}
deliberate_diff "$HOST_DIFF"
check_case "value 1 through raw netlink: on, and host->s1 answers" value1
check "no kernel splat since the start" dmesg_clean start

ktap_finish
