#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make bench` (tools/bench/run.sh boots the VM with
# --impl ours and runs this). Inside ONE boot it measures our ipvlan/ipvtap
# against the in-tree ones by swapping the modules in interleaved rounds
# (ours, in-tree, in-tree, ours, ...), then the alternatives (macvlan/
# macvtap in bridge mode, veth + Linux bridge, veth + forwarding, veth +
# forwarding + NAT, loopback) on the same kernel; last, the vhost part: a
# nested QEMU guest on vhost-net behind ours, in-tree ipvtap and macvtap.
#
# Every result is one line on stdout:
#   BENCH {"scenario":..,"impl":..,"round":N,"x":N|null,"value":V,
#          "unit":..,"better":"higher"|"lower", ...}
# Lines starting with "#" are progress; tools/bench/report.py renders.
#
# Knobs (environment): BENCH_ROUNDS (ipvlan rounds, default 8: issue
# #16 wants every ratio's range from at least 8; parts hooks and host,
# the address curves and churn run in each), BENCH_ALT_ROUNDS (2: the
# alternatives), BENCH_HOST_ROUNDS (the rounds, 8), BENCH_SCALE_ROUNDS
# (2: the whole ARP curves, where ours leads in-tree by far past 1 slave;
# the other rounds measure their first point, 1 slave),
# BENCH_T (seconds per throughput run, 2),
# BENCH_TCP_T (seconds per TCP run, 4), BENCH_SLAVES ("1 16 64 256 1024"),
# BENCH_ADDRS ("1 16 256 1024 4096"), BENCH_CHURN (500), BENCH_PARTS ("paths
# hooks host scale alts vhost"), BENCH_VHOST_RUNS (measurements each way per
# nested boot, 8), BENCH_VHOST_T (seconds each, 5), BENCH_VHOST_BOOT_WAIT
# (600), BENCH_VHOST_ORDER (the boots' order, "ours in-tree macvlan"),
# BENCH_QUICK=1 (a tiny smoke run of everything).
#
# Addresses (only inside this guest's namespaces): 192.0.2.0/24 ipvlan,
# 198.18.0.0/15 (RFC 2544 benchmarking range) for everything else.
set -u

REPO=${IPVTAP_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
MODS=${IPVTAP_MODULES:-}
ROUNDS=${BENCH_ROUNDS:-8}
ALT_ROUNDS=${BENCH_ALT_ROUNDS:-2}
SCALE_ROUNDS=${BENCH_SCALE_ROUNDS:-2}
HOST_ROUNDS=${BENCH_HOST_ROUNDS:-$ROUNDS}
T=${BENCH_T:-2}
TCP_T=${BENCH_TCP_T:-4}
SLAVES_LIST=${BENCH_SLAVES:-1 16 64 256 1024}
ADDRS_LIST=${BENCH_ADDRS:-1 16 256 1024 4096}
CHURN=${BENCH_CHURN:-500}
PARTS=${BENCH_PARTS:-paths hooks host scale alts vhost}
VHOST_RUNS=${BENCH_VHOST_RUNS:-8}
VHOST_T=${BENCH_VHOST_T:-5}
VHOST_BOOT_WAIT=${BENCH_VHOST_BOOT_WAIT:-600}
VHOST_ORDER=${BENCH_VHOST_ORDER:-ours in-tree macvlan}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=1 ALT_ROUNDS=1 SCALE_ROUNDS=1 HOST_ROUNDS=1 T=1 TCP_T=1
	SLAVES_LIST="1 16" ADDRS_LIST="1 64" CHURN=50
	VHOST_RUNS=1 VHOST_T=2
fi
PING_N=40	# echo requests per latency sample (10 ms apart)
PAYLOAD=64	# "small packet" UDP payload, bytes
TAP_COUNT=$((15000 * T))	# datagrams per tap flood (~1-2 s in TCG)

FLOOD=$REPO/tools/bench/pktflood
# BENCH_ARP_RX: where the scaling part's ARP requests are received.
# "napi" (default): the master's veth receives through its own NAPI
# instance (GRO on), threaded, its thread on CPU 1 and the sender on
# CPU 0: a NIC with threaded NAPI. "same": on the sender's CPU, in its
# context (a veth's default), so a driver that answers in the receive
# softirq slows the flood's sender and one that defers to a kworker lets
# it run on. "rps": on CPU 1 by RPS; 2 of 3 runs of this TCG guest died
# in the in-tree ipvlan's work item (a #DB, then a double fault, EFLAGS
# holding a pointer: QEMU's, as README "Hangs" says).
ARP_RX=${BENCH_ARP_RX:-napi}
FLOOD_ARP=
[ "$ARP_RX" = same ] || FLOOD_ARP="taskset -c 0"
CTL=$REPO/tools/ipvlanctl/ipvlanctl
TG=$REPO/tools/tapguest/tapguest
WORK=$(mktemp -d /tmp/bench.XXXXXX)
ALL_NS=()
IPERF_PIDS=()

log() { echo "# [$(awk -v a="$START" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')s] $*"; }
die() { echo "# FATAL: $*"; exit 1; }

cleanup() {
	local p ns

	for p in "${IPERF_PIDS[@]}"; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	[ -z "${VM_PID:-}" ] || kill "$VM_PID" 2>/dev/null
	for ns in "${ALL_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# The vhost part's bind mount of / (only mounted while it prepares).
	umount "$WORK/hostroot" 2>/dev/null
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# emit SCENARIO IMPL ROUND X VALUE UNIT BETTER [EXTRA-JSON-MEMBERS]
emit() {
	local v=$5 x=$4

	[ -n "$v" ] || v=null
	[ -n "$x" ] || x=null
	echo "BENCH {\"scenario\":\"$1\",\"impl\":\"$2\",\"round\":$3,\"x\":$x,\"value\":$v,\"unit\":\"$6\",\"better\":\"$7\"${8:+,$8}}"
	log "$2 r$3 $1${4:+ x=$4}: $v $6"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
START=$(now)

# ------------------------------------------------------------ namespaces

# ns NAME: a netns with IPv6 off for every device created in it (no
# DAD/MLD/RS noise). net.core.devconf_inherit_init_net=1 does not do it
# on 6.1: a new namespace gets "all" from the initial one but not
# "default", and only "default" reaches devices created later. Without
# it the 1024 slaves of the ARP fan-out each sent ~6 IPv6 multicasts on
# link-up, a storm of 6 million copies behind which the ARP flood waited.
ns() {
	ip netns add "$1" || die "cannot create netns $1"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1 || die "cannot turn IPv6 off in $1"
	ALL_NS+=("$1")
}

mac_of() { ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'; }
stat_of() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# veth NS1 DEV1 NS2 DEV2: a veth pair, both ends up.
veth() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" ||
		die "veth $1/$2 - $3/$4"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

wait_ping() {
	local i

	for i in $(seq 1 40); do
		ip netns exec "$1" ping -q -c1 -W1 "$2" >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	log "WARNING: $1 cannot ping $2"
	return 1
}

# iperf3 server daemon in NS (one per namespace, for the whole run).
iperf_server() {
	local pf=$WORK/iperf-$1.pid

	ip netns exec "$1" iperf3 -s -D -I "$pf" >/dev/null 2>&1 ||
		log "WARNING: iperf3 server in $1 failed"
	IPERF_PIDS+=("$pf")
}

# ------------------------------------------------------------- measures

# tcp NS ADDR: Mbit/s received.
m_tcp() {
	ip netns exec "$1" iperf3 -c "$2" -t "$TCP_T" -f m 2>&1 | awk '
		/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
		END { print v }'
}

# udp NS ADDR: datagrams/s received (64-byte payloads, unlimited rate).
m_udp() {
	ip netns exec "$1" iperf3 -c "$2" -u -l "$PAYLOAD" -b 0 -t "$T" 2>&1 | awk '
		/receiver/ {
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, a, "/"); lost = a[1]; tot = a[2] }
				if ($i == "sec") { split($(i - 1), b, "-"); secs = b[2] }
			}
		}
		END { if (secs > 0) printf "%.0f\n", (tot - lost) / secs }'
}

# rr NS ADDR [-U]: median echo round trip in microseconds (first one
# dropped). With -U ping measures user-to-user (send to recvmsg); without,
# up to the reply's kernel receive timestamp (SO_TIMESTAMP).
m_rr() {
	ip netns exec "$1" ping -n -c "$PING_N" -i 0.01 -W 1 ${3:+"$3"} "$2" 2>/dev/null |
		awk -F'time=' '/time=/ { split($2, a, " "); print a[1] }' |
		tail -n +2 | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR) printf "%.0f\n", 1000 * (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# rx FROM_NS FROM_DEV DST_MAC SRC_IP DST_IP TO_NS TO_DEV: raw 64-byte
# unicast UDP flood for T s; frames/s counted at TO_DEV.
m_rx() {
	local before after out secs

	before=$(stat_of "$6" "$7" rx_packets)
	out=$(ip netns exec "$1" "$FLOOD" --dev "$2" --kind udp --dst-mac "$3" \
		--src-ip "$4" --dst-ip "$5" --size "$PAYLOAD" --duration "$T")
	after=$(stat_of "$6" "$7" rx_packets)
	secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$out")
	awk -v d=$((after - before)) -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f\n", d / s }'
}

# tap NS TAPDEV GUEST_IP OUT_IP OUT_MAC OUT_NS OUT_DEV: the C guest floods
# 64-byte UDP datagrams from the tap for T s; frames/s at OUT_DEV.
m_tap() {
	local before after out secs l

	before=$(stat_of "$6" "$7" rx_packets)
	out=$(ip netns exec "$1" "$TG" --tap "$2" --ip4 "$3/24" --neigh "$4=$5" \
		--udp-flood "$4:9" --count "$TAP_COUNT" --size "$PAYLOAD" \
		--timeout 60 2>&1)
	after=$(stat_of "$6" "$7" rx_packets)
	secs=$(sed -n 's/^udp-flood: \([0-9.]*\) s,.*/\1/p' <<<"$out")
	awk -v d=$((after - before)) -v s="$secs" 'BEGIN { if (s > 0) printf "%.0f\n", d / s }'
	if [ -z "$secs" ] || [ $((after - before)) -lt $((TAP_COUNT / 2)) ]; then
		echo "# tapguest on $2: $((after - before)) of $TAP_COUNT frames reached $7:"
		while IFS= read -r l; do echo "#   $l"; done <<<"$out"
	fi >&2
}

# tap_node NS DEV: /dev/tap<ifindex> of a macvtap/ipvtap (mknod if needed).
tap_node() {
	local idx devno

	idx=$(ip netns exec "$1" cat "/sys/class/net/$2/ifindex") || return 1
	devno=$(ip netns exec "$1" cat "/sys/class/net/$2/tap$idx/dev") || return 1
	if [ ! -c "/dev/tap$idx" ]; then
		mknod "/dev/tap$idx" c "${devno%%:*}" "${devno##*:}" || return 1
	fi
	echo "/dev/tap$idx"
}

# ------------------------------------------------------------- topology

# Every family has its "outside" device in the netns out (which also
# runs the loopback case) and its master/bridge in the netns host, with
# its own subnet.
topo_common() {
	ns out; ns host
	ip -n out link set lo up
	iperf_server out
}

# ipvlan family (master m0 in host, outside o0, slaves s1/s2 in b1/b2,
# ipvtap ipvt0 in host); the slaves are made per implementation.
topo_ipvlan() {
	ns b1; ns b2; ns bx
	veth host m0 out o0
	ip -n out addr add 192.0.2.254/24 dev o0
	iperf_server b1; iperf_server b2; iperf_server host
}

ipvlan_slaves() {
	local i

	for i in 1 2; do
		ip -n host link add link m0 name "s$i" type ipvlan mode l2 ||
			return 1
		ip -n host link set "s$i" netns "b$i"
		ip -n "b$i" addr add "192.0.2.$i/24" dev "s$i"
		ip -n "b$i" link set "s$i" up
	done
	ip -n host link add link m0 name ipvt0 type ipvtap mode l2 || return 1
	ip -n host addr add 192.0.2.3/24 dev ipvt0
	ip -n host link set ipvt0 up
	wait_ping b1 192.0.2.254 && wait_ping b1 192.0.2.2 &&
		wait_ping out 192.0.2.2
}

# macvlan family: m1 (host) - o1 (out), macvlan bridge slaves in ma1/ma2,
# macvtap mvt0 in host.
topo_macvlan() {
	local i

	ns ma1; ns ma2
	veth host m1 out o1
	ip -n out addr add 198.18.1.254/24 dev o1
	for i in 1 2; do
		ip -n host link add link m1 name "mv$i" type macvlan mode bridge ||
			die "macvlan"
		ip -n host link set "mv$i" netns "ma$i"
		ip -n "ma$i" addr add "198.18.1.$i/24" dev "mv$i"
		ip -n "ma$i" link set "mv$i" up
	done
	ip -n host link add link m1 name mvt0 type macvtap mode bridge ||
		log "WARNING: no macvtap"
	ip -n host link set mvt0 up 2>/dev/null
	iperf_server ma1; iperf_server ma2
	wait_ping ma1 198.18.1.254; wait_ping ma1 198.18.1.2
	wait_ping out 198.18.1.2
}

# bridge family: br0 in host with veth ports to ra1, ra2 and the outside.
topo_bridge() {
	ns ra1; ns ra2
	ip -n host link add br0 type bridge stp_state 0 forward_delay 0 ||
		die "bridge"
	ip -n host link set br0 up
	veth host p0 out o2
	veth host p1 ra1 v1
	veth host p2 ra2 v2
	ip -n host link set p0 master br0
	ip -n host link set p1 master br0
	ip -n host link set p2 master br0
	ip -n out addr add 198.18.2.254/24 dev o2
	ip -n ra1 addr add 198.18.2.1/24 dev v1
	ip -n ra2 addr add 198.18.2.2/24 dev v2
	iperf_server ra1; iperf_server ra2
	wait_ping ra1 198.18.2.254; wait_ping ra1 198.18.2.2
	wait_ping out 198.18.2.2
}

# forwarding family: router fh between fa1/fa2 (veth /28s) and the
# outside; "nat" adds an nftables masquerade on the uplink.
topo_fwd() {
	ns fh; ns fa1; ns fa2
	veth fh u3 out o3
	veth fh h1 fa1 f1
	veth fh h2 fa2 f2
	ip -n out addr add 198.18.4.254/24 dev o3
	ip -n out route add 198.18.3.0/24 via 198.18.4.1
	ip -n fh addr add 198.18.4.1/24 dev u3
	ip -n fh addr add 198.18.3.1/28 dev h1
	ip -n fh addr add 198.18.3.17/28 dev h2
	ip -n fa1 addr add 198.18.3.2/28 dev f1
	ip -n fa1 route add default via 198.18.3.1
	ip -n fa2 addr add 198.18.3.18/28 dev f2
	ip -n fa2 route add default via 198.18.3.17
	ip netns exec fh sysctl -qw net.ipv4.ip_forward=1
	iperf_server fa1; iperf_server fa2
	wait_ping fa1 198.18.4.254; wait_ping fa1 198.18.3.18
	wait_ping out 198.18.3.18
}

nat_on() {
	ip netns exec fh nft -f - <<-'EOF'
	table ip bench_nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "u3" masquerade
		}
	}
	EOF
}
nat_off() { ip netns exec fh nft delete table ip bench_nat; }

# ------------------------------------------------------- implementations

is_ours() { grep -q O /sys/module/ipvlan/taint 2>/dev/null; }

impl_load() {
	case $1 in
	ours)
		modprobe tap 2>/dev/null
		insmod "$MODS/ipvlan.ko" || return 1
		insmod "$MODS/ipvtap.ko" || return 1
		is_ours || { log "loaded ipvlan is not ours"; return 1; }
		;;
	in-tree)
		# An explicit modprobe passes tools/vm/guest.sh's guard (it
		# only sits in the kernel's autoload path).
		modprobe ipvlan && modprobe ipvtap || return 1
		! is_ours || { log "loaded ipvlan is ours, not in-tree"; return 1; }
		! grep -q O /sys/module/ipvtap/taint || return 1
		;;
	esac
	log "loaded $1 ipvlan (taint '$(cat /sys/module/ipvlan/taint)')"
}

impl_unload() {
	if is_ours; then
		rmmod ipvtap ipvlan
	else
		modprobe -r ipvtap ipvlan
	fi
	[ ! -d /sys/module/ipvlan ] || die "ipvlan still loaded"
}

# --------------------------------------------------------------- paths

# paths IMPL ROUND: every path through one implementation's devices.
paths_ipvlan() {
	local impl=$1 r=$2 tap mac

	ipvlan_slaves || { log "WARNING: $impl topology broken"; }
	emit tcp_s2s "$impl" "$r" "" "$(m_tcp b1 192.0.2.2)" Mbit/s higher
	emit tcp_s2o "$impl" "$r" "" "$(m_tcp b1 192.0.2.254)" Mbit/s higher
	emit tcp_o2s "$impl" "$r" "" "$(m_tcp out 192.0.2.1)" Mbit/s higher
	emit udp_s2s "$impl" "$r" "" "$(m_udp b1 192.0.2.2)" pps higher
	emit udp_s2o "$impl" "$r" "" "$(m_udp b1 192.0.2.254)" pps higher
	emit rr_s2s "$impl" "$r" "" "$(m_rr b1 192.0.2.2 -U)" us lower
	emit rr_s2o "$impl" "$r" "" "$(m_rr b1 192.0.2.254 -U)" us lower
	emit rrts_s2o "$impl" "$r" "" "$(m_rr b1 192.0.2.254)" us lower
	mac=$(mac_of host m0)
	emit rx_o2s "$impl" "$r" "" \
		"$(m_rx out o0 "$mac" 192.0.2.254 192.0.2.1 b1 s1)" pps higher
	tap=$(tap_node host ipvt0) || log "WARNING: no tap node for ipvt0"
	emit tap_g2o "$impl" "$r" "" \
		"$(m_tap host "$tap" 192.0.2.3 192.0.2.254 "$(mac_of out o0)" out o0)" \
		pps higher
	s2o_variants "$impl" "$r"
}

# v6 on|off: IPv6 on the devices of the slave -> outside path (s1, m0,
# o0; no DAD wait: accept_dad 0), with 2001:db8::1 on s1 and 2001:db8::fe
# on o0.
v6() {
	local v=1 ns dev

	[ "$1" = on ] && v=0
	for ns in b1:s1 host:m0 out:o0; do
		dev=${ns#*:} ns=${ns%%:*}
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" \
			"net.ipv6.conf.$dev.disable_ipv6=$v" ||
			log "WARNING: IPv6 $1 on $ns/$dev"
	done
	if [ "$1" = on ]; then
		ip -n b1 addr add 2001:db8::1/64 dev s1 nodad
		ip -n out addr add 2001:db8::fe/64 dev o0 nodad
		wait_ping b1 2001:db8::fe
	fi
}

# Issue #16: slave -> outside TCP as a new user sets it up, in the same
# round: IPv6 on (IPv4 and IPv6 TCP), and 16 slaves on the port.
s2o_variants() {
	local impl=$1 r=$2 i

	v6 on
	emit tcp_s2o_v6on "$impl" "$r" "" "$(m_tcp b1 192.0.2.254)" Mbit/s higher
	emit tcp6_s2o "$impl" "$r" "" "$(m_tcp b1 2001:db8::fe)" Mbit/s higher
	ip -n out addr del 2001:db8::fe/64 dev o0
	v6 off
	for ((i = 3; i <= 16; i++)); do
		echo "link add link m0 name x$i type ipvlan mode l2"
		echo "link set x$i netns bx"
	done >"$WORK/x.batch"
	ip -n host -batch "$WORK/x.batch" >/dev/null ||
		log "WARNING: $impl: 16 slaves"
	for ((i = 3; i <= 16; i++)); do
		echo "addr add 192.0.2.$((100 + i))/24 dev x$i"
		echo "link set x$i up"
	done >"$WORK/x.batch"
	ip -n bx -batch "$WORK/x.batch" >/dev/null
	emit tcp_s2o_16 "$impl" "$r" "" "$(m_tcp b1 192.0.2.254)" Mbit/s higher
	for ((i = 3; i <= 16; i++)); do echo "link del x$i"; done >"$WORK/x.batch"
	ip -n bx -batch "$WORK/x.batch" >/dev/null
}

# hooks IMPL ROUND: what l3s's LOCAL_IN hooks cost traffic that is for
# no slave: outside -> an address of the master's own namespace, with an
# l2 port on the master (neither driver has hooks then), then with an l3s
# port on a dummy master in the same namespace too (both drivers have
# them then; ours keeps them until the module goes, README "Hangs": the
# part runs last in a round).
hooks_ipvlan() {
	local impl=$1 r=$2

	ip -n b1 link show dev s1 >/dev/null 2>&1 || ipvlan_slaves ||
		log "WARNING: $impl topology broken"
	ip -n host addr add 198.51.100.1/24 dev m0
	ip -n out addr add 198.51.100.254/24 dev o0
	wait_ping out 198.51.100.1
	emit tcp_o2m "$impl" "$r" "" "$(m_tcp out 198.51.100.1)" Mbit/s higher
	emit udp_o2m "$impl" "$r" "" "$(m_udp out 198.51.100.1)" pps higher
	ip -n host link add d0 type dummy
	ip -n host link set d0 up
	ip -n host link add link d0 name l3s0 type ipvlan mode l3s ||
		log "WARNING: no l3s port on d0"
	emit tcp_o2m_l3s "$impl" "$r" "" "$(m_tcp out 198.51.100.1)" Mbit/s higher
	emit udp_o2m_l3s "$impl" "$r" "" "$(m_udp out 198.51.100.1)" pps higher
	ip -n host link del d0
	ip -n host addr del 198.51.100.1/24 dev m0
	ip -n out addr del 198.51.100.254/24 dev o0
}

# host ROUND: the host path (ours only: the in-tree driver has none),
# between the master's namespace (host, 203.0.113.100 on m0) and slave s1
# (b1, 203.0.113.1), both ways, against a veth pair between the same two
# namespaces (198.18.9.100 - 198.18.9.1), measured in the same round,
# in alternating order (ABBA over the rounds).
host_ipvlan() {
	local r=$1 which order

	ip -n b1 link show dev s1 >/dev/null 2>&1 || ipvlan_slaves ||
		log "WARNING: ours topology broken"
	ip -n host addr add 203.0.113.100/24 dev m0
	ip -n b1 addr add 203.0.113.1/24 dev s1
	ip netns exec b1 "$CTL" set s1 host on || log "WARNING: no host path"
	wait_ping host 203.0.113.1
	wait_ping b1 203.0.113.100
	order="ours veth"
	[ $((r % 2)) -eq 1 ] || order="veth ours"
	for which in $order; do
		if [ "$which" = ours ]; then
			host_measure ours "$r" 203.0.113.1 203.0.113.100
		else
			host_measure veth "$r" 198.18.9.1 198.18.9.100
		fi
	done
	ip netns exec b1 "$CTL" set s1 host off
	ip -n b1 addr del 203.0.113.1/24 dev s1
	ip -n host addr del 203.0.113.100/24 dev m0
}

# host_measure IMPL ROUND SLAVE_ADDR HOST_ADDR
host_measure() {
	emit tcp_h2s "$1" "$2" "" "$(m_tcp host "$3")" Mbit/s higher
	emit tcp_s2h "$1" "$2" "" "$(m_tcp b1 "$4")" Mbit/s higher
	emit udp_h2s "$1" "$2" "" "$(m_udp host "$3")" pps higher
	emit udp_s2h "$1" "$2" "" "$(m_udp b1 "$4")" pps higher
}

# The veth pair host_ipvlan compares with: host vh0 - b1 vb1.
topo_host_veth() {
	veth host vh0 b1 vb1
	ip -n host addr add 198.18.9.100/24 dev vh0
	ip -n b1 addr add 198.18.9.1/24 dev vb1
}

paths_macvlan() {
	local r=$1 tap

	emit tcp_s2s macvlan "$r" "" "$(m_tcp ma1 198.18.1.2)" Mbit/s higher
	emit tcp_s2o macvlan "$r" "" "$(m_tcp ma1 198.18.1.254)" Mbit/s higher
	emit tcp_o2s macvlan "$r" "" "$(m_tcp out 198.18.1.1)" Mbit/s higher
	emit udp_s2s macvlan "$r" "" "$(m_udp ma1 198.18.1.2)" pps higher
	emit udp_s2o macvlan "$r" "" "$(m_udp ma1 198.18.1.254)" pps higher
	emit rr_s2s macvlan "$r" "" "$(m_rr ma1 198.18.1.2 -U)" us lower
	emit rr_s2o macvlan "$r" "" "$(m_rr ma1 198.18.1.254 -U)" us lower
	emit rx_o2s macvlan "$r" "" "$(m_rx out o1 "$(mac_of ma1 mv1)" \
		198.18.1.254 198.18.1.1 ma1 mv1)" pps higher
	if tap=$(tap_node host mvt0); then
		emit tap_g2o macvlan "$r" "" "$(m_tap host "$tap" 198.18.1.3 \
			198.18.1.254 "$(mac_of out o1)" out o1)" pps higher
	fi
}

paths_bridge() {
	local r=$1

	emit tcp_s2s bridge "$r" "" "$(m_tcp ra1 198.18.2.2)" Mbit/s higher
	emit tcp_s2o bridge "$r" "" "$(m_tcp ra1 198.18.2.254)" Mbit/s higher
	emit tcp_o2s bridge "$r" "" "$(m_tcp out 198.18.2.1)" Mbit/s higher
	emit udp_s2s bridge "$r" "" "$(m_udp ra1 198.18.2.2)" pps higher
	emit udp_s2o bridge "$r" "" "$(m_udp ra1 198.18.2.254)" pps higher
	emit rr_s2s bridge "$r" "" "$(m_rr ra1 198.18.2.2 -U)" us lower
	emit rr_s2o bridge "$r" "" "$(m_rr ra1 198.18.2.254 -U)" us lower
	emit rx_o2s bridge "$r" "" "$(m_rx out o2 "$(mac_of ra1 v1)" \
		198.18.2.254 198.18.2.1 ra1 v1)" pps higher
}

paths_fwd() {
	local r=$1

	emit tcp_s2s fwd "$r" "" "$(m_tcp fa1 198.18.3.18)" Mbit/s higher
	emit tcp_s2o fwd "$r" "" "$(m_tcp fa1 198.18.4.254)" Mbit/s higher
	emit tcp_o2s fwd "$r" "" "$(m_tcp out 198.18.3.2)" Mbit/s higher
	emit udp_s2s fwd "$r" "" "$(m_udp fa1 198.18.3.18)" pps higher
	emit udp_s2o fwd "$r" "" "$(m_udp fa1 198.18.4.254)" pps higher
	emit rr_s2s fwd "$r" "" "$(m_rr fa1 198.18.3.18 -U)" us lower
	emit rr_s2o fwd "$r" "" "$(m_rr fa1 198.18.4.254 -U)" us lower
	emit rx_o2s fwd "$r" "" "$(m_rx out o3 "$(mac_of fh u3)" \
		198.18.4.254 198.18.3.2 fa1 f1)" pps higher
	if nat_on; then
		emit tcp_s2o nat "$r" "" "$(m_tcp fa1 198.18.4.254)" Mbit/s higher
		emit udp_s2o nat "$r" "" "$(m_udp fa1 198.18.4.254)" pps higher
		emit rr_s2o nat "$r" "" "$(m_rr fa1 198.18.4.254 -U)" us lower
		nat_off
	else
		log "WARNING: nftables masquerade unavailable: no NAT numbers"
	fi
}

paths_lo() {
	local r=$1

	emit tcp_s2s loopback "$r" "" "$(m_tcp out 127.0.0.1)" Mbit/s higher
	emit udp_s2s loopback "$r" "" "$(m_udp out 127.0.0.1)" pps higher
	emit rr_s2s loopback "$r" "" "$(m_rr out 127.0.0.1 -U)" us lower
}

# -------------------------------------------------------------- scaling

# arp_stats: "slave_rx slave_dropped master_rx_dropped busy_jiffies" of
# the ARP fan-out namespace sh, in one process (each costs ~0.5 s in TCG).
arp_stats() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec sh sh -c '
		cd /sys/class/net || exit 1
		cat a*/statistics/rx_packets | awk "{ s += \$1 } END { printf \"%d \", s }"
		cat a*/statistics/rx_dropped | awk "{ s += \$1 } END { printf \"%d \", s }"
		cat m4/statistics/rx_dropped | tr "\n" " "
		awk "/^cpu / { print \$2 + \$3 + \$4 + \$7 + \$8 }" /proc/stat'
}

# Wait until the port's broadcast backlog is drained: a1 (first slave,
# served first for every frame) stops counting for 0.3 s (at most 30 s).
drain() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec sh sh -c '
		f=/sys/class/net/a1/statistics/rx_packets
		a=$(cat $f)
		for i in $(seq 1 100); do
			sleep 0.3
			b=$(cat $f)
			[ "$a" = "$b" ] && exit 0
			a=$b
		done
		exit 1' || log "WARNING: broadcast backlog still draining"
}

# o4_rx: frames the outside host's o4 received (the slaves' ARP replies).
o4_rx() { ip netns exec out cat /sys/class/net/o4/statistics/rx_packets; }

# answered N: a flood of broadcast ARP requests from the outside whose
# targets cycle over the N slaves' addresses; prints the replies the
# outside received per second, from the flood's start until they stop
# (0.3 s without one, at most 30 s), and the JSON details after a tab.
answered() {
	local n=$1 r0 r1 t0 secs out sent prev i

	r0=$(o4_rx)
	t0=$(now)
	out=$($FLOOD_ARP ip netns exec out "$FLOOD" --dev o4 --kind arp \
		--src-ip 198.18.5.254 --dst-ip 198.18.16.1 --dst-count "$n" \
		--duration "$T")
	prev=$(o4_rx)
	for ((i = 0; i < 100; i++)); do
		sleep 0.3
		r1=$(o4_rx)
		[ "$r1" = "$prev" ] && break
		prev=$r1
	done
	secs=$(awk -v e="$(elapsed "$t0")" 'BEGIN { printf "%.3f", e - 0.3 }')
	sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' <<<"$out")
	printf '%s\t%s\n' \
		"$(awk -v d=$((r1 - r0)) -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", d / s }')" \
		"\"replies\":$((r1 - r0)),\"sent\":${sent:-0},\"seconds\":$secs"
}

# Broadcast ARP with N slaves on m4 (sh), slave a<i> owning 198.18.16.0+i,
# arp_ignore=1 (only the owner answers, also when every slave gets every
# request). Slaves are added incrementally; the implementation's unload
# removes them.
#  - arp_answer: requests whose targets are spread over the slaves,
#    answered per second (replies counted by the outside host): ours with
#    its ARP filter on (the default), and arp_answer_nofilter with it off;
#    in-tree has no filter: its one measurement is its value in both rows.
#  - arp_bcast: requests for an address nobody has; the copies handed to
#    slaves per slave per second during the flood (the fan-out). Ours runs
#    it with the filter off: on, no slave gets such a request.
scale_arp() {
	local impl=$1 r=$2 list=$3 have=0 n i out secs sent b a res

	ip netns exec sh sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.default.arp_ignore=1
	# Every answering slave keeps a neighbour entry for the requester:
	# room for 1024 of them (the table is global, set here).
	sysctl -qw net.ipv4.neigh.default.gc_thresh1=4096 \
		net.ipv4.neigh.default.gc_thresh2=8192 \
		net.ipv4.neigh.default.gc_thresh3=16384
	for n in $list; do
		for ((i = have + 1; i <= n; i++)); do
			echo "link add link m4 name a$i type ipvlan mode l2"
			echo "addr add 198.18.$((16 + i / 256)).$((i % 256))/16 dev a$i"
			echo "link set a$i up"
		done >"$WORK/arp.batch"
		ip -n sh -batch "$WORK/arp.batch" >/dev/null ||
			{ log "WARNING: creating $n slaves failed"; return; }
		have=$n
		drain
		res=$(answered "$n")
		if [ "$impl" = ours ]; then
			emit arp_answer ours "$r" "$n" "${res%%$'\t'*}" replies/s higher "${res#*$'\t'}"
			ip netns exec sh "$CTL" set a1 arp-filter off ||
				{ log "WARNING: cannot turn the ARP filter off"; return; }
			drain
			res=$(answered "$n")
			emit arp_answer_nofilter ours "$r" "$n" "${res%%$'\t'*}" replies/s higher "${res#*$'\t'}"
		else
			emit arp_answer "$impl" "$r" "$n" "${res%%$'\t'*}" replies/s higher "${res#*$'\t'}"
			emit arp_answer_nofilter "$impl" "$r" "$n" "${res%%$'\t'*}" replies/s higher "${res#*$'\t'}"
		fi
		drain
		read -r -a b <<<"$(arp_stats)"
		out=$($FLOOD_ARP ip netns exec out "$FLOOD" --dev o4 --kind arp \
			--src-ip 198.18.5.254 --dst-ip 198.18.5.99 --duration "$T")
		read -r -a a <<<"$(arp_stats)"
		secs=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$out")
		sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' <<<"$out")
		# Back to the default for the next point's first measurement.
		[ "$impl" != ours ] || ip netns exec sh "$CTL" set a1 arp-filter on ||
			log "WARNING: cannot turn the ARP filter on"
		emit arp_bcast "$impl" "$r" "$n" \
			"$(awk -v d=$((a[0] - b[0])) -v s="$secs" -v n="$n" \
				'BEGIN { if (s > 0) printf "%.1f", d / n / s }')" bcast/s higher \
			"\"deliveries\":$((a[0] - b[0])),\"sent\":${sent:-0},\"slave_drops\":$((a[1] - b[1])),\"port_drops\":$((a[2] - b[2])),\"busy_jiffies\":$((a[3] - b[3])),\"seconds\":${secs:-0}"
	done
}

# Receive lookup: K addresses on one slave l1 (sl) of m5; a unicast flood
# from the outside (out, o5) to the first of them.
scale_lookup() {
	local impl=$1 r=$2 list=$3 have=0 k i mac t0 add_s=0 dt

	ip -n sh link add link m5 name l1 type ipvlan mode l2 || return
	ip -n sh link set l1 netns sl
	ip -n sl link set l1 up
	mac=$(mac_of sh m5)
	# Every point adds what it counts: the first one the slave's
	# primary address, 198.19.0.1/16 (the flood's target).
	for k in $list; do
		for ((i = have; i < k; i++)); do
			if [ "$i" -eq 0 ]; then
				echo "addr add 198.19.0.1/16 dev l1"
			else
				echo "addr add 198.19.$((1 + i / 250)).$((1 + i % 250))/32 dev l1"
			fi
		done >"$WORK/addr.batch"
		t0=$(now)
		ip -n sl -batch "$WORK/addr.batch" >/dev/null ||
			{ log "WARNING: adding addresses failed"; return; }
		dt=$(elapsed "$t0")
		add_s=$(awk -v a="$add_s" -v b="$dt" 'BEGIN { printf "%.3f", a + b }')
		have=$k
		emit addr_add "$impl" "$r" "$k" "$add_s" s lower
		emit lookup_rx "$impl" "$r" "$k" \
			"$(m_rx out o5 "$mac" 198.19.255.254 198.19.0.1 sl l1)" pps higher
	done
}

# Create and delete CHURN slaves of m6 (sc) with ip -batch.
scale_churn() {
	local impl=$1 r=$2 i t0

	for ((i = 1; i <= CHURN; i++)); do
		echo "link add link m6 name c$i type ipvlan mode l2"
	done >"$WORK/churn-add.batch"
	for ((i = 1; i <= CHURN; i++)); do
		echo "link del c$i"
	done >"$WORK/churn-del.batch"
	t0=$(now)
	ip -n sc -batch "$WORK/churn-add.batch" >/dev/null ||
		{ log "WARNING: creating $CHURN slaves failed"; return; }
	emit churn_create "$impl" "$r" "$CHURN" "$(elapsed "$t0")" s lower
	t0=$(now)
	ip -n sc -batch "$WORK/churn-del.batch" >/dev/null ||
		log "WARNING: deleting $CHURN slaves failed"
	emit churn_delete "$impl" "$r" "$CHURN" "$(elapsed "$t0")" s lower
}

# arp_rx_napi: m4 receives in a NAPI thread of its own on CPU 1 (veth
# takes the NAPI path when GRO is on; "threaded" gives it a kthread).
arp_rx_napi() {
	local pid

	if ! ip netns exec sh ethtool -K m4 gro on >/dev/null ||
		! ip netns exec sh sh -c 'echo 1 >/sys/class/net/m4/threaded'; then
		log "WARNING: no threaded NAPI on m4"
		return
	fi
	for pid in $(pgrep '^napi/m4-'); do
		taskset -pc 1 "$pid" >/dev/null ||
			log "WARNING: cannot pin NAPI thread $pid"
	done
	log "arp-rx napi: $(pgrep -l '^napi/m4-' | tr '\n' ' ')"
}

topo_scale() {
	ns sh; ns sl; ns sc
	veth sh m4 out o4
	if [ "$ARP_RX" = rps ]; then
		# m4 receives on CPU 1 (RPS), the outside's flood is sent
		# from CPU 0 (FLOOD_ARP): as from a NIC, whose receive
		# softirq is not the sender's.
		ip netns exec sh sh -c 'echo 2 >/sys/class/net/m4/queues/rx-0/rps_cpus' ||
			log "WARNING: no RPS on m4"
	elif [ "$ARP_RX" = napi ]; then
		arp_rx_napi
	fi
	veth sh m5 out o5
	ip -n out addr add 198.19.255.254/16 dev o5
	veth sc m6 sc o6
}

# ---------------------------------------------------------------- vhost

# The path users run: a nested QEMU guest (TCG inside this TCG guest),
# virtio-net with vhost=on (/dev/vhost-net), on the /dev/tapN of a tap
# device on master m7 (netns vh), TCP with iperf3 between the outside
# (out, o7, 198.18.7.254) and an iperf3 server in the guest (198.18.7.1):
# vm_tcp_g2o (iperf3 -R: the guest sends) and vm_tcp_o2g, Mbit/s received.
# One boot per implementation, by default in the order ours, in-tree,
# macvtap (VHOST_ORDER; a boot costs 1-2 minutes, so no A B B A order:
# run again with the order reversed to see its effect); each boot measures both
# directions VHOST_RUNS times, after a 1 s warm-up each way (discarded),
# and run N of each boot is "round" N of the rows.
#  ours:    ipvtap, learning on, no address on the host side: the driver
#           learns the guest's address from its traffic;
#  in-tree: ipvtap with the guest's address configured on it (upstream
#           forwards to a guest only what is configured on the host side);
#  macvlan: macvtap in bridge mode; the guest uses the macvtap's MAC (the
#           ipvtap guests the master's).
# The nested guest boots the kernel of the host's /boot with virtio_net
# from the host's /lib/modules, found on the host's root as shared over
# 9p, seen through a bind mount of / (a VM of another kernel series
# mounts its own modules over /lib/modules), and tools/vm/nested-init
# (tools/vm/nested.sh) as /init with an iperf3 server.

VHOST_GUEST=198.18.7.1
VHOST_OUT=198.18.7.254
VHOST_WHY=

vhost_prepare() {
	local root=$WORK/hostroot

	[ -n "$(command -v qemu-system-x86_64)" ] ||
		{ VHOST_WHY="no qemu-system-x86_64"; return 1; }
	[ -n "$(command -v iperf3)" ] || { VHOST_WHY="no iperf3"; return 1; }
	if ! modprobe vhost_net 2>/dev/null || [ ! -c /dev/vhost-net ]; then
		VHOST_WHY="vhost_net cannot be loaded (no /dev/vhost-net)"
		return 1
	fi
	IPVTAP_REPO=$REPO
	# shellcheck source=tools/vm/nested.sh
	. "$REPO/tools/vm/nested.sh"
	mkdir -p "$root" "$WORK/nested"
	mount --bind / "$root" || { VHOST_WHY="cannot bind-mount /"; return 1; }
	nested_prepare "$WORK/nested" "$root" "$(command -v iperf3)" \
		>"$WORK/nested/prepare.log" 2>&1
	umount "$root"
	if [ -z "${INITRD:-}" ] || [ ! -s "$INITRD" ] || [ ! -s "${GKERNEL:-}" ]; then
		VHOST_WHY=$(tail -n1 "$WORK/nested/prepare.log")
		return 1
	fi
	log "vhost: $(tail -n1 "$WORK/nested/prepare.log")"
	ns vh
	veth vh m7 out o7
	ip -n out addr add "$VHOST_OUT/24" dev o7
}

# vhost_boot IMPL NODE MAC: the nested guest on NODE (its fd 3) with MAC;
# sets VM_PID, VM_CON.
vhost_boot() {
	local append

	append="$(nested_append 1 "$VHOST_GUEST/24" "" "$VHOST_OUT" "" "" 3600) tg_iperf3=1"
	VM_CON=$WORK/vm-$1.console
	: >"$VM_CON"
	(
		exec 3<>"$2"
		exec qemu-system-x86_64 -accel tcg,tb-size=128 -M pc -m 256 \
			-smp 1 -nodefaults -display none -no-reboot \
			-serial "file:$VM_CON" -kernel "$GKERNEL" -initrd "$INITRD" \
			-append "$append" -netdev tap,id=n0,vhost=on,fd=3 \
			-device "virtio-net-pci,netdev=n0,mac=$3"
	) </dev/null >"$WORK/vm-$1.qemu" 2>&1 &
	VM_PID=$!
}

# vhost_used PID: QEMU has /dev/vhost-net open and its vhost worker runs
# (a kernel thread vhost-PID before 6.4, a thread of QEMU's since).
vhost_used() {
	local f n=0

	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f")" = /dev/vhost-net ] && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || return 1
	pgrep -x "vhost-$1" >/dev/null && return 0
	grep -qx "vhost-$1" /proc/"$1"/task/*/comm 2>/dev/null
}

# m_tcp_vm [-R]: "Mbit/s received<TAB>retransmissions" between the outside
# and the guest (the sender's TCP retransmissions, as iperf3 reports
# them). The guest's server runs one test at a time and, under nested
# TCG, may not have finished the last one ("the server is busy"): up to 3
# tries.
m_tcp_vm() {
	local try out v

	for try in 1 2 3; do
		out=$(ip netns exec out iperf3 -c "$VHOST_GUEST" -t "$VHOST_T" -f m "$@" 2>&1)
		v=$(awk '
			/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
			/sender/ && $(NF - 1) ~ /^[0-9]+$/ { retr = $(NF - 1) }
			END { if (v != "") printf "%s\t%s\n", v, retr == "" ? "null" : retr }' <<<"$out")
		[ -z "$v" ] || break
		echo "# iperf3 $* to the nested guest, try $try: $(tail -n1 <<<"$out")" >&2
		sleep 2
	done
	echo "$v"
}

# vm_emit SCENARIO IMPL ROUND "VALUE<TAB>RETR" EXTRA
vm_emit() {
	local v=${4%%$'\t'*} retr=null

	[[ $4 != *$'\t'* ]] || retr=${4#*$'\t'}
	emit "$1" "$2" "$3" "" "$v" Mbit/s higher "$5,\"retr\":$retr"
}

# vhost_one IMPL: one boot on IMPL's tap device, VHOST_RUNS measurements.
vhost_one() {
	local impl=$1 mac node t0 i r ready=0 extra boot_s

	if [ "$impl" = macvlan ]; then
		ip -n vh link add link m7 name vt7 type macvtap mode bridge ||
			{ log "WARNING: vhost: no macvtap"; return; }
		mac=$(mac_of vh vt7)
	else
		ip -n vh link add link m7 name vt7 type ipvtap mode l2 ||
			{ log "WARNING: vhost: no $impl ipvtap"; return; }
		mac=$(mac_of vh m7)
		if [ "$impl" = ours ]; then
			ip netns exec vh "$CTL" set vt7 learn on ||
				log "WARNING: vhost: cannot turn learning on"
		else
			ip -n vh addr add "$VHOST_GUEST/24" dev vt7
		fi
	fi
	ip -n vh link set vt7 up
	node=$(tap_node vh vt7) || { log "WARNING: vhost: no tap node"; return; }
	t0=$SECONDS
	vhost_boot "$impl" "$node" "$mac"
	for ((i = 0; i < VHOST_BOOT_WAIT; i++)); do
		grep -q GUEST-READY "$VM_CON" && { ready=1; break; }
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 1
	done
	if [ "$ready" -eq 1 ] && vhost_used "$VM_PID" &&
	   grep -q 'GUEST: ping4 ok' "$VM_CON" &&
	   grep -q 'GUEST: iperf3 server ok' "$VM_CON"; then
		boot_s=$((SECONDS - t0))
		log "vhost: $impl guest ready in $boot_s s, vhost-net in use," \
			"outside sees $VHOST_GUEST at $(ip -n out neigh show "$VHOST_GUEST" dev o7 | awk '{ print $3 }') (guest $mac)"
		[ "$impl" != ours ] ||
			log "vhost: $(ip netns exec vh "$CTL" addrs vt7 2>&1 | grep -F "$VHOST_GUEST" | tr -s ' ')"
		ip netns exec out iperf3 -c "$VHOST_GUEST" -t 1 >/dev/null 2>&1
		ip netns exec out iperf3 -c "$VHOST_GUEST" -t 1 -R >/dev/null 2>&1
		extra="\"boot_s\":$boot_s,\"seconds\":$VHOST_T"
		for ((r = 1; r <= VHOST_RUNS; r++)); do
			vm_emit vm_tcp_g2o "$impl" "$r" "$(m_tcp_vm -R)" "$extra"
			vm_emit vm_tcp_o2g "$impl" "$r" "$(m_tcp_vm)" "$extra"
		done
		log "vhost: $impl: $(ip -n vh -s link show dev vt7 | tr -s ' \n' ' ')"
	else
		log "WARNING: vhost: $impl guest not ready (or vhost-net not in use) after $((SECONDS - t0)) s; QEMU says (its console: VHOST_CONSOLE lines in guest-output.txt):"
		sed 's/^/#   /' "$WORK/vm-$impl.qemu"
	fi
	kill "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=
	# The nested guest's own lines, kept in guest-output.txt.
	tr -d '\r' <"$VM_CON" | grep '^GUEST' | sed "s/^/VHOST_CONSOLE $impl: /"
	ip -n vh link del vt7
}

vhost_part() {
	local impl

	log "vhost: nested guests on vhost-net, $VHOST_RUNS x ${VHOST_T}s runs per boot"
	if ! vhost_prepare; then
		log "SKIP vhost: $VHOST_WHY"
		return
	fi
	for impl in $VHOST_ORDER; do
		if [ "$impl" = macvlan ]; then
			vhost_one macvlan
			continue
		fi
		impl_load "$impl" || die "cannot load $impl ipvlan"
		vhost_one "$impl"
		impl_unload
	done
}

# ----------------------------------------------------------------- main

has() { [[ " $PARTS " == *" $1 "* ]]; }

[ "$(id -u)" -eq 0 ] || die "run inside the VM (tools/bench/run.sh)"
if [ -z "$MODS" ] || [ ! -f "$MODS/ipvlan.ko" ]; then
	die "no IPVTAP_MODULES/ipvlan.ko: run via tools/bench/run.sh (--impl ours)"
fi
for c in iperf3 ping nft "$FLOOD" "$TG"; do
	command -v "$c" >/dev/null || log "WARNING: $c missing"
done
is_ours || die "the VM must boot with --impl ours"

# Only the vhost part: no rounds of module swaps for nothing.
has paths || has hooks || has host || has scale || has alts || ROUNDS=0
log "bench: rounds $ROUNDS (alternatives $ALT_ROUNDS, host path $HOST_ROUNDS, whole ARP curves $SCALE_ROUNDS), ${T}s runs, ${TCP_T}s TCP runs, parts: $PARTS"
log "bench: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
echo "BENCH_META {\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"rounds\":$ROUNDS,\"alt_rounds\":$ALT_ROUNDS,\"scale_rounds\":$SCALE_ROUNDS,\"host_rounds\":$HOST_ROUNDS,\"seconds_per_run\":$T,\"tcp_seconds\":$TCP_T,\"payload\":$PAYLOAD,\"ping_count\":$PING_N,\"churn\":$CHURN,\"vhost_runs\":$VHOST_RUNS,\"vhost_seconds\":$VHOST_T,\"vhost_order\":\"$VHOST_ORDER\"}"

# No IPv6 in the initial namespace either (see ns()).
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
topo_common
topo_ipvlan
has host && topo_host_veth
has scale && topo_scale
if has alts; then
	topo_macvlan; topo_bridge; topo_fwd
fi
log "topology ready"

# Warm the page cache (binaries come over 9p) and the guest's TCG code.
ip netns exec out iperf3 -c 127.0.0.1 -t 1 >/dev/null 2>&1
"$FLOOD" --help >/dev/null; "$TG" --help >/dev/null 2>&1

impl_unload
for ((r = 1; r <= ROUNDS; r++)); do
	# A B B A: neither implementation is always measured first in a
	# round (right after a module swap).
	order="ours in-tree"
	[ $((r % 2)) -eq 1 ] || order="in-tree ours"
	for impl in $order; do
		log "round $r/$ROUNDS: $impl"
		impl_load "$impl" || die "cannot load $impl ipvlan"
		has paths && paths_ipvlan "$impl" "$r"
		if [ "$impl" = ours ] && has host && [ "$r" -le "$HOST_ROUNDS" ]; then
			host_ipvlan "$r"
		fi
		if has scale; then
			if [ "$r" -le "$SCALE_ROUNDS" ]; then
				scale_arp "$impl" "$r" "$SLAVES_LIST"
			else
				scale_arp "$impl" "$r" "${SLAVES_LIST%% *}"
			fi
			scale_lookup "$impl" "$r" "$ADDRS_LIST"
			scale_churn "$impl" "$r"
		fi
		# Last: its l3s port leaves ours' hooks in "host" until the
		# module goes.
		if has hooks; then
			hooks_ipvlan "$impl" "$r"
		fi
		impl_unload
	done
	if has alts && [ "$r" -le "$ALT_ROUNDS" ]; then
		log "round $r/$ROUNDS: alternatives"
		paths_macvlan "$r"
		paths_bridge "$r"
		paths_fwd "$r"
		paths_lo "$r"
	fi
done
has vhost && vhost_part
# Leave ours loaded, as the harness found it.
impl_load ours >/dev/null
log "bench done"
