#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo run by `make demo` inside the QEMU guest (tools/vm/run):
# three ipvlan L2 slaves, each in its own network namespace ("containers"),
# on a veth master whose peer plays the outside network. Shows the links,
# then traffic: ping (IPv4/IPv6) and iperf3 (TCP).
#
#   outside netns            host netns              c1/c2/c3 netns
#   o0 192.0.2.254  <-veth-> m0 (master) --ipvlan--> s1 192.0.2.1 ...
set -euo pipefail

NSO=demo-outside
NSH=demo-host
SLAVES=(1 2 3)

cleanup() {
	local ns

	set +e
	for ns in demo-c3 demo-c2 demo-c1 "$NSH" "$NSO"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
trap cleanup EXIT

say() { printf '\n### %s\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

say "kernel $(uname -r), ipvlan implementation: ${IMPL:-?} ($(modinfo -F filename ipvlan 2>/dev/null || echo "${IPVTAP_REPO:-.}/ipvlan/ipvlan.ko"))"
grep -E '^(ipvlan|ipvtap|tap) ' /proc/modules | cut -d' ' -f1-3 || true

say "topology: outside <-veth-> master m0, three ipvlan L2 slaves in their own netns"
run ip netns add "$NSO"
run ip netns add "$NSH"
run ip -n "$NSH" link add m0 type veth peer name o0 netns "$NSO"
run ip -n "$NSH" link set m0 up
run ip -n "$NSO" link set o0 up
run ip -n "$NSO" addr add 192.0.2.254/24 dev o0
run ip -n "$NSO" addr add 2001:db8::fe/64 dev o0 nodad
for i in "${SLAVES[@]}"; do
	run ip netns add "demo-c$i"
	run ip -n "$NSH" link add link m0 name "s$i" type ipvlan mode l2
	run ip -n "$NSH" link set "s$i" netns "demo-c$i"
	run ip -n "demo-c$i" link set lo up
	run ip -n "demo-c$i" link set "s$i" up
	run ip -n "demo-c$i" addr add "192.0.2.$i/24" dev "s$i"
	run ip -n "demo-c$i" addr add "2001:db8::$i/64" dev "s$i" nodad
done

say "the slave as iproute2 sees it (note: same MAC as the master m0)"
run ip -n demo-c1 -d link show s1
run ip -n "$NSH" -br link show m0
for i in "${SLAVES[@]}"; do
	run ip -n "demo-c$i" -br addr show dev "s$i"
done

say "ping: slave -> outside, outside -> slave, slave -> slave (IPv4 and IPv6)"
run ip netns exec demo-c1 ping -c 3 -i 0.2 192.0.2.254
run ip netns exec "$NSO" ping -c 3 -i 0.2 192.0.2.2
run ip netns exec demo-c3 ping -c 3 -i 0.2 192.0.2.1
run ip netns exec demo-c2 ping -c 3 -i 0.2 2001:db8::fe
run ip netns exec demo-c1 ping -c 3 -i 0.2 2001:db8::3

say "the outside sees every slave IP behind the master's single MAC"
run ip -n "$NSO" neigh show dev o0
run ip -n "$NSH" -br link show m0

say "TCP throughput (iperf3, 3 s each; TCG-emulated guest, numbers are only indicative)"
ip netns exec "$NSO" iperf3 -s -1 -B 192.0.2.254 >/dev/null 2>&1 &
sleep 1
run ip netns exec demo-c1 iperf3 -c 192.0.2.254 -t 3 -f m
ip netns exec demo-c2 iperf3 -s -1 -B 192.0.2.2 >/dev/null 2>&1 &
sleep 1
run ip netns exec demo-c3 iperf3 -c 192.0.2.2 -t 3 -f m

say "per-slave counters"
for i in "${SLAVES[@]}"; do
	run ip -n "demo-c$i" -s link show dev "s$i"
done

say "deleting the master removes every slave"
run ip -n "$NSH" link del m0
run ip -n demo-c1 -br link

say "demo finished OK"
