#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: the host path (IFLA_IPVLAN_X_HOST, ipvlan/host.c, issue 13
# part 1): the master's namespace and its slaves reach each other through
# the driver, in every mode x flag, IPv4 and IPv6, ICMP/TCP/UDP.
#
#   out ns:  o0, the master's veth peer: a plain end, no address, never
#            answers or hairpins anything (the "wire")
#   host ns: m0 198.51.100.1/24 2001:db8:1::1/64, the master; nft gives a
#            flow that starts on iif m0 a conntrack mark, and counts s1's
#            packets in on m0
#   s1, s2:  slaves 198.51.100.1{1,2}/24 2001:db8:1::1{1,2}/64, the same
#            addresses in every mode (l3: NOARP, the prefix is on-link)
#
# No route, neighbour entry or device is added anywhere. For every
# mode/flag, set live on the port (changelink):
#  - host off: host -> s1 echo v4/v6 fails (today's behaviour, the in-tree
#    driver's);
#  - host on: host -> s1 and s1 -> host, ICMP echo, TCP and UDP (echo
#    servers in both namespaces), v4 and v6: bridge and private reach,
#    vepa not (everything goes to the wire, which does not hairpin);
#    s1 -> s2 keeps the flag's meaning (private isolates slaves from each
#    other only); the master namespace's conntrack has s1's six flows to
#    it, begun on iif m0 and replied, and its nft input chain counted
#    s1's packets in on m0.
# Then, in l2 and l3: neighbour entries on both sides (the master's MAC,
# valid), addresses added on s1 and on m0 reachable at once and gone at
# once when removed, a VLAN on m0 left alone, the counters; ipvlanctl's
# show/--json/set through another slave; value 2 refused.
#
# The probes come from two long-lived python processes, one in the host
# namespace and one in s1's (ICMP echo through ping sockets, TCP and UDP
# echo clients with fixed source ports, one echo server each): a process
# start costs about a second under TCG on a loaded host.
#
# The in-tree ipvlan has no host path: the "host on" cases are marked
# "# DIFF" (it reaches nothing there); the "host off" ones are the same.
#
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip python3 nft
require_ipvlan

CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
[ -x "$CTL" ] || ktap_skip_all "tools/ipvlanctl/ipvlanctl not built (make tools)"

MODES=${HOST_MODES:-l2 l3 l3s}
FLAGS=${HOST_FLAGS:-bridge private vepa}
H4=198.51.100.1 H6=2001:db8:1::1
A4=(" " 198.51.100.11 198.51.100.12) A6=(" " 2001:db8:1::11 2001:db8:1::12)
PORT=7000
CT_MARK=19760
HOST_DIFF="the in-tree ipvlan has no host path: the master's namespace never reaches its slaves"

# Per flag, host on: host<->s1, s1->s2, s1's flows in the host's conntrack
# (of 6), s1's packets counted in on m0 by nft.
declare -A ON_EXPECT=(
	[bridge]="reachable reachable 6/6 seen"
	[private]="reachable unreachable 6/6 seen"
	[vepa]="unreachable unreachable 0/6 unseen"
)
PROBES=("icmp v4" "icmp v6" "tcp v4" "tcp v6" "udp v4" "udp v6")

read -r -a _m <<<"$MODES"
read -r -a _f <<<"$FLAGS"
ktap_plan $((${#_m[@]} * ${#_f[@]} * 17 + 2 * 6 + 6))
kmsg_mark start

TMPD=$(mktemp -d)
defer "rm -rf '$TMPD'"

cat >"$TMPD/agent.py" <<'EOF'
"""Probe agent: an echo server on PORT (TCP and UDP, IPv4 and IPv6) and,
for every line of tasks on stdin, the tasks at once, then one line
"<task> <result>" each and "end". Tasks:
  icmp,DST,SECS,ID      echo requests until a reply (ping socket, ident ID)
  tcp,DST,PORT,SPORT    connect from SPORT, echo one message
  udp,DST,PORT,SPORT    datagrams from SPORT until one comes back
  ct,SRC4,DST4,SRC6,DST6,PORT,BASE  of the six flows SRC->DST (udp v4/v6
                        from BASE/BASE+1, tcp BASE+2/+3, icmp ids +4/+5)
                        how many conntrack has, begun with the mark
                        CT_MARK and replied: "N/6"
  link,DEV,ATTR,VALUE   RTM_NEWLINK with a u8 IFLA_INFO_DATA attribute
"""
import ipaddress, os, select, socket, struct, sys, threading, time

CT_MARK = 19760


def serve(port):
    t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    t.bind(("::", port))
    t.listen(64)
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", port))
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


def fam(dst):
    return socket.AF_INET6 if ":" in dst else socket.AF_INET


def anyaddr(dst):
    return "::" if ":" in dst else "0.0.0.0"


def icmp(dst, secs, ident):
    v6 = ":" in dst
    s = socket.socket(fam(dst), socket.SOCK_DGRAM,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.bind((anyaddr(dst), int(ident)))
    s.settimeout(0.2)
    req = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, 1) + b"ipvlan"
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        try:
            s.sendto(req, (dst, 0))
            data, addr = s.recvfrom(256)
        except socket.timeout:
            continue
        except OSError:
            # A send refused (the in-tree private flag): try again.
            time.sleep(0.2)
            continue
        if data[0] == (129 if v6 else 0) and addr[0] == dst:
            return True
    return False


def tcp(dst, port, sport):
    try:
        s = socket.socket(fam(dst), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((anyaddr(dst), int(sport)))
        s.settimeout(3)
        s.connect((dst, int(port)))
        s.sendall(b"tcp echo")
        ok = s.recv(64) == b"tcp echo"
        s.close()
        return ok
    except OSError:
        return False


def udp(dst, port, sport):
    s = socket.socket(fam(dst), socket.SOCK_DGRAM)
    s.bind((anyaddr(dst), int(sport)))
    s.settimeout(0.2)
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            s.sendto(b"udp echo", (dst, int(port)))
            data, addr = s.recvfrom(64)
        except socket.timeout:
            continue
        except OSError:
            time.sleep(0.2)
            continue
        if data == b"udp echo" and addr[0] == dst:
            return True
    return False


def ct_lines():
    """The table, read to its end. Each read() returns a page of it, and
    the next one walks the table again from the start and skips as many
    entries as it has shown: when an entry before has gone meanwhile, one
    is never shown. Callers read it more than once."""
    with open("/proc/net/nf_conntrack") as f:
        return f.read().splitlines()


def ct(src4, dst4, src6, dst6, port, base):
    lines = set()
    for i in range(4):
        lines.update(ct_lines())
        r = ct_once(lines, src4, dst4, src6, dst6, port, base)
        if r.startswith("6/6"):
            break
        time.sleep(0.05)
    return r


def ct_once(lines, src4, dst4, src6, dst6, port, base):
    base = int(base)
    src6 = ipaddress.ip_address(src6).exploded
    dst6 = ipaddress.ip_address(dst6).exploded
    want = []
    for i, (f, s, d) in enumerate((("ipv4", src4, dst4),
                                   ("ipv6", src6, dst6))):
        want.append((f, "udp", "src=%s dst=%s sport=%d dport=%s " %
                     (s, d, base + i, port)))
        want.append((f, "tcp", "src=%s dst=%s sport=%d dport=%s " %
                     (s, d, base + 2 + i, port)))
        want.append((f, "icmp", "src=%s dst=%s type=%d code=0 id=%d " %
                     (s, d, 128 if i else 8, base + 4 + i)))
    n, miss = 0, []
    for f, proto, key in want:
        got = [l for l in lines if l.split()[0] == f and key in l and
               l.split()[2].startswith(proto)]
        if any("mark=%d " % CT_MARK in l and "UNREPLIED" not in l
               for l in got):
            n += 1
        else:
            miss.append("%s-%s:%s" % (f, proto, "|".join(got) or "none"))
    return "%d/6" % n + ("(" + ";".join(miss) + ")").replace(" ", "_") * bool(miss)


def link(dev, attr, value):
    sys.path.insert(0, os.environ["IPVTAP_REPO"] + "/tools/testing")
    import ipvl_nl as nl
    data = nl.attr(int(attr), bytes([int(value)]))
    info = nl.attr(nl.IFLA_INFO_KIND, b"ipvlan") + \
        nl.attr(nl.IFLA_INFO_DATA | nl.NLA_F_NESTED, data)
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0,
                       socket.if_nametoindex(dev), 0, 0) + \
        nl.attr(nl.IFLA_LINKINFO | nl.NLA_F_NESTED, info)
    err, msg = nl.Rtnl().request(nl.RTM_NEWLINK, 0, body)
    return "ok" if not err else "error:%s:%s" % (nl.ename(err),
                                                 str(msg).replace(" ", "_"))


def run(task, res):
    kind, *args = task.split(",")
    try:
        r = globals()[kind](*args)
    except Exception as e:
        r = "error:%s" % type(e).__name__
    if r is True or r is False:
        r = "reachable" if r else "unreachable"
    res[task] = r


open("/proc/sys/net/ipv4/ping_group_range", "w").write("0 0")
threading.Thread(target=serve, args=(int(sys.argv[1]),), daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    res = {}
    th = [threading.Thread(target=run, args=(t, res)) for t in line.split()]
    for t in th:
        t.start()
    for t in th:
        t.join()
    for t in line.split():
        print(t, res[t])
    print("end", flush=True)
EOF

# agent_start NAME NS: the agent of NS, talked to through fifos.
agent_start() {
	local dir=$TMPD/agent-$1 w r line

	mkdir "$dir" && mkfifo "$dir/in" "$dir/out" || return 1
	ip netns exec "$2" python3 -S "$TMPD/agent.py" "$PORT" \
		<"$dir/in" >"$dir/out" 2>"$dir/err" &
	BG_PIDS+=("$!")
	exec {w}>"$dir/in" {r}<"$dir/out"
	printf -v "AGW_$1" '%s' "$w"
	printf -v "AGR_$1" '%s' "$r"
	IFS= read -r -t 60 -u "$r" line && [ "$line" = ready ] && return 0
	cat "$dir/err"
	return 1
}

# ask NAME TASK...: send the tasks to agent NAME (they run at once).
ask() {
	local w=AGW_$1

	shift
	echo "$*" >&"${!w}"
}

# answer NAME: read agent NAME's results into R[task].
declare -A R
answer() {
	local r=AGR_$1 task res

	while IFS=' ' read -r -t 60 -u "${!r}" task res; do
		[ "$task" != end ] || return 0
		R[$task]=$res
	done
	echo "agent $1: no answer"
	return 1
}

# one NAME TASK: run one task on agent NAME, print its result.
one() {
	ask "$1" "$2" && answer "$1" >/dev/null
	echo "${R[$2]:-no answer}"
}

ctl() { ip netns exec "$1" "$CTL" "${@:2}"; }

# ----------------------------------------------------------- topology
out='' host='' S1='' S2='' H2=''
ns_create out:o host:h S1:s1 S2:s2 H2:h2
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
# nft_setup RULE: the master namespace's table, RULE in its prerouting.
nft_setup() {
	ip netns exec "$host" nft -f - <<EOF
table inet ipvlan_host {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		$1
	}
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "m0" ip saddr ${A4[1]} counter
		iifname "m0" ip6 saddr ${A6[1]} counter
	}
}
EOF
}
# A kernel without CONFIG_NF_CONNTRACK_MARK cannot mark: the conntrack
# cases are skipped there, with the reason.
NO_CT=
if ! err=$(nft_setup "iifname \"m0\" ct state new ct mark set $CT_MARK" 2>&1); then
	NO_CT="nft cannot set a conntrack mark (CONFIG_NF_CONNTRACK_MARK?): $(grep -m1 Error <<<"$err")"
	nft_setup "" || ktap_bail "nft setup failed"
fi

agent_start H "$host" || ktap_bail "no agent in the host namespace"
agent_start S "$S1" || ktap_bail "no agent in s1's namespace"

HAVE_HOST=0
[[ $(ctl "$S1" show s1) != *$'\n    host '* ]] || HAVE_HOST=1
diag "IMPL=$IMPL; host path in the loaded ipvlan: $HAVE_HOST; set up in ${SECONDS}s"

# host_set on|off: the setting, through s1 (it is the port's); raw
# netlink from the agent, ipvlanctl is tested at the end.
host_set() {
	local v=0 r

	[ "$HAVE_HOST" -eq 1 ] || return 0
	[ "$1" = off ] || v=1
	r=$(one S "link,s1,49,$v")
	[ "$r" = ok ] || diag "host $1 on s1: $r"
}

# nf_seen: the nft counters of s1's v4 and v6 packets in on m0 both grew
# since the last call.
NF_LAST="0 0"
nf_seen() {
	local l re='saddr ([0-9a-f.:]+) counter packets ([0-9]+)' v4=0 v6=0

	while IFS= read -r l; do
		[[ $l =~ $re ]] || continue
		if [ "${BASH_REMATCH[1]}" = "${A4[1]}" ]; then
			v4=${BASH_REMATCH[2]}
		else
			v6=${BASH_REMATCH[2]}
		fi
	done < <(ip netns exec "$host" nft list chain inet ipvlan_host in)
	read -r l4 l6 <<<"$NF_LAST"
	NF_LAST="$v4 $v6"
	[ "$v4" -gt "$l4" ] && [ "$v6" -gt "$l6" ]
}

# on_case CASE OBSERVED OURS IN_TREE: a case of the host path, which the
# in-tree driver does not have: it expects IN_TREE.
on_case() {
	local want=$3

	deliberate_diff "$HOST_DIFF"
	[ "$IMPL" != in-tree ] || want=$4
	result_case "$1" "$2" "$want"
}

# host_check DESC CMD...: a check of the host path (check_case, marked
# "# DIFF"); skipped where the loaded ipvlan has none (in-tree).
host_check() {
	if [ "$HAVE_HOST" -eq 0 ]; then
		skip "$1" "the loaded ipvlan ($IMPL) has no host path"
		return 0
	fi
	deliberate_diff "$HOST_DIFF"
	check_case "$@"
}

# tasks DST4 DST6 BASE SECS: the six probes to DST4/DST6, source ports
# and idents from BASE (as the ct task expects).
tasks() {
	T=("icmp,$1,$4,$(($3 + 4))" "icmp,$2,$4,$(($3 + 5))"
	   "tcp,$1,$PORT,$(($3 + 2))" "tcp,$2,$PORT,$(($3 + 3))"
	   "udp,$1,$PORT,$3" "udp,$2,$PORT,$(($3 + 1))")
}

# ------------------------------------------------------------ matrix
combo=0
run_combo() {
	local m=$1 f=$2 c="$1/$2" j b hs sh s2 got ctd
	local -a exp

	combo=$((combo + 1))
	diag "$c: from ${SECONDS}s"
	b=$((30000 + combo * 20))
	read -r -a exp <<<"${ON_EXPECT[$f]}"
	ip -n "$S1" link set s1 type ipvlan mode "$m" "$f" ||
		diag "$c: ip link set s1 type ipvlan mode $m $f failed"

	# Off: today's behaviour.
	host_set off
	ask H "icmp,${A4[1]},1,$b" "icmp,${A6[1]},1,$((b + 1))"
	answer H
	result_case "$c host off: host->s1 icmp v4" "${R[icmp,${A4[1]},1,$b]}" unreachable
	result_case "$c host off: host->s1 icmp v6" "${R[icmp,${A6[1]},1,$((b + 1))]}" unreachable

	# On: every probe of both directions at once.
	host_set on
	tasks "${A4[1]}" "${A6[1]}" $((b + 2)) 3
	hs=("${T[@]}")
	tasks "$H4" "$H6" $((b + 10)) 3
	sh=("${T[@]}")
	s2="icmp,${A4[2]},3,$((b + 16))"
	ask H "${hs[@]}"
	ask S "${sh[@]}" "$s2"
	answer H
	answer S
	for j in 0 1 2 3 4 5; do
		on_case "$c host on: host->s1 ${PROBES[j]}" "${R[${hs[j]}]}" \
			"${exp[0]}" unreachable
		on_case "$c host on: s1->host ${PROBES[j]}" "${R[${sh[j]}]}" \
			"${exp[0]}" unreachable
	done
	# s1 -> s2 is the flag's business, the same with both drivers.
	result_case "$c host on: s1->s2 icmp v4 (the flag decides)" "${R[$s2]}" "${exp[1]}"

	if [ -n "$NO_CT" ]; then
		skip "$c host on: master ns conntrack: s1's 6 flows to it, begun on iif m0, replied" \
			"$NO_CT"
	else
		ctd=$(one H "ct,${A4[1]},$H4,${A6[1]},$H6,$PORT,$((b + 10))")
		got=${ctd%%(*}
		if [ "$got" != "${exp[2]}" ]; then
			diag "conntrack: $ctd"
			diag "$(ip netns exec "$host" grep -E ' (tcp|udp|icmp) ' /proc/net/nf_conntrack)"
		fi
		on_case "$c host on: master ns conntrack: s1's 6 flows to it, begun on iif m0, replied" \
			"$got" "${exp[2]}" 0/6
	fi
	if nf_seen; then got=seen; else got=unseen; fi
	on_case "$c host on: master ns nft input counted s1's v4 and v6 packets in on m0" \
		"$got" "${exp[3]}" unseen
}

for m in $MODES; do
	for f in $FLAGS; do
		run_combo "$m" "$f"
	done
done

# --------------------------------------------------- per mode: l2, l3
# neigh_valid NS DEV ADDR...: each ADDR resolved to the master's MAC, valid.
neigh_valid() {
	local ns=$1 dev=$2 l a ok=0

	l=$(ip -n "$ns" neigh show dev "$dev")
	echo "$l"
	shift 2
	for a in "$@"; do
		[[ $l =~ (^|$'\n')$a\ lladdr\ $MASTER_MAC\ (REACHABLE|STALE|DELAY|PROBE) ]] ||
			ok=1
	done
	return "$ok"
}

mode_steps() {
	local m=$1 got

	diag "$m steps: from ${SECONDS}s"
	ip -n "$S1" link set s1 type ipvlan mode "$m" bridge
	host_set on
	ip -n "$host" neigh flush dev m0
	ip -n "$S1" neigh flush dev s1
	ask H "icmp,${A4[1]},3,101" "icmp,${A6[1]},3,102"
	ask S "icmp,$H4,3,103" "icmp,$H6,3,104"
	answer H
	answer S
	host_check "$m: the host's neighbour entries for s1 (v4, v6): the master's MAC, valid, after echoes both ways" \
		neigh_valid "$host" m0 "${A4[1]}" "${A6[1]}"
	if [ "$m" = l2 ]; then
		host_check "$m: s1's neighbour entries for the host (v4, v6): the master's MAC, valid" \
			neigh_valid "$S1" s1 "$H4" "$H6"
	else
		check_case "$m: s1 is NOARP: its entry for the host is NOARP" \
			eval "ip -n '$S1' neigh show nud all '$H4' dev s1 | grep -q NOARP"
	fi

	# Addresses added live on either side: reachable at once.
	ns_batch "$S1" <<-EOF
	addr add 198.51.100.21/24 dev s1
	addr add 2001:db8:1::21/64 dev s1 nodad
	EOF
	ns_batch "$host" <<-EOF
	addr add 198.51.100.5/24 dev m0
	addr add 2001:db8:1::5/64 dev m0 nodad
	EOF
	ask H "icmp,198.51.100.21,3,105" "icmp,2001:db8:1::21,3,106"
	ask S "icmp,198.51.100.5,3,107" "icmp,2001:db8:1::5,3,108"
	answer H
	answer S
	got="${R[icmp,198.51.100.21,3,105]} ${R[icmp,2001:db8:1::21,3,106]}"
	got+=" ${R[icmp,198.51.100.5,3,107]} ${R[icmp,2001:db8:1::5,3,108]}"
	on_case "$m: addresses just added on s1 and m0 answer at once (host->s1 v4 v6, s1->host v4 v6)" \
		"$got" "reachable reachable reachable reachable" \
		"unreachable unreachable unreachable unreachable"
	ns_batch "$S1" <<-EOF
	addr del 198.51.100.21/24 dev s1
	addr del 2001:db8:1::21/64 dev s1
	EOF
	ns_batch "$host" <<-EOF
	addr del 198.51.100.5/24 dev m0
	addr del 2001:db8:1::5/64 dev m0
	EOF
	ask H "icmp,198.51.100.21,1,109" "icmp,2001:db8:1::21,1,110"
	ask S "icmp,198.51.100.5,1,111" "icmp,2001:db8:1::5,1,112"
	answer H
	answer S
	got="${R[icmp,198.51.100.21,1,109]} ${R[icmp,2001:db8:1::21,1,110]}"
	got+=" ${R[icmp,198.51.100.5,1,111]} ${R[icmp,2001:db8:1::5,1,112]}"
	result_case "$m: the same addresses removed: gone at once" "$got" \
		"unreachable unreachable unreachable unreachable"

	# A VLAN on the master is another segment: its frames are left alone.
	ns_batch "$host" <<-EOF
	link add link m0 name m0.7 type vlan id 7
	link set m0.7 up
	addr add 203.0.113.1/24 dev m0.7
	EOF
	ip -n "$S1" addr add 203.0.113.11/32 dev s1
	result_case "$m: tagged (m0.7): the host's frames for an address of s1 go to the wire" \
		"$(one H "icmp,203.0.113.11,1,113")" unreachable
	ip -n "$host" link del m0.7
	ip -n "$S1" addr del 203.0.113.11/32 dev s1

	host_check "$m: s1's host_rx, host_tx and host_neigh counted" counted
}

# counted: s1's host_rx, host_tx and host_neigh are not 0 (ipvlanctl).
counted() {
	local l k re

	l=$(ctl "$S1" show s1)
	for k in host_rx host_tx host_neigh; do
		re=" $k ([0-9]+)"
		if ! [[ $l =~ $re ]] || [ "${BASH_REMATCH[1]}" -eq 0 ]; then
			echo "$l"
			return 1
		fi
	done
}

mode_steps l2
mode_steps l3

# ------------------------------------------------------------ settings
diag "settings: from ${SECONDS}s"
shown() {
	ctl "$S1" show s1 | grep -q "^    host on$" &&
		ctl "$S2" show s2 --json | grep -q '"host": true'
}
host_check "ipvlanctl: host on shown on s1 and on s2 (per port), text and --json" shown
off_via_s2() {
	ctl "$S2" set s2 host off && ctl "$S1" show s1 | grep -q "^    host off$" &&
		[ "$(one H "icmp,${A4[1]},1,114")" = unreachable ]
}
host_check "ipvlanctl set s2 host off: off on s1 too, and host->s1 fails again" off_via_s2
value2() {
	local out

	out=$(one S "link,s1,49,2")
	echo "$out"
	[[ $out == error:* ]] && ctl "$S1" show s1 | grep -q "^    host off$"
}
host_check "IFLA_IPVLAN_X_HOST 2 refused by the policy, nothing changed" value2
value1() {
	[ "$(one S "link,s1,49,1")" = ok ] &&
		ctl "$S1" show s1 | grep -q "^    host on$" &&
		[ "$(one H "icmp,${A4[1]},3,115")" = reachable ]
}
host_check "value 1 through raw netlink: on, and host->s1 answers" value1
# The hook is the master's: it goes where the master goes, and with it.
moved() {
	ip -n "$host" link set m0 netns "$H2" || return 1
	ns_batch "$H2" <<-EOF || return 1
	link set m0 up
	addr add $H4/24 dev m0
	EOF
	ip netns exec "$H2" ping -q -n -c 1 -i 0.2 -w 3 "${A4[1]}" || return 1
	# Its namespace deleted: m0, its slaves, the port and the hook go.
	ns_del "$H2"
	wait_for 10 dev_absent "$S1" s1
}
host_check "the master moved to another namespace: the host path follows; deleted there: port and hook go" moved
check "no kernel splat since the start" dmesg_clean start

ktap_finish
