#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo run by `make demo` inside the QEMU guest (tools/vm/run), in two
# parts on a veth master m0 whose peer o0 plays the outside network: a
# switch port that accepts one MAC, the master's (an nftables rule on o0
# counts and drops frames from any other source MAC), and a DHCP server
# (dnsmasq).
#
# 1. A virtual machine behind ipvtap: a real QEMU guest (nested TCG,
#    virtio-net on "-netdev tap,fd=3 3<>/dev/tapN", the Debian kernel and a
#    busybox initramfs, tools/vm/nested-init) on ipvtap0, which has no
#    address at all. The guest gets its IPv4 address by DHCP without the
#    broadcast flag, pings the outside and is pinged; ipvtap learned its
#    addresses from its own traffic. DEMO_GUEST=0 skips this part.
# 2. Containers: three ipvlan L2 slaves, each in its own network namespace,
#    ping (IPv4/IPv6) and iperf3 (TCP).
#
#   outside netns                host netns              c1/c2/c3 netns
#   o0 192.0.2.254  <-veth->     m0 (master) --ipvlan--> s1 192.0.2.1 ...
#   dnsmasq, 1 MAC allowed                   --ipvtap--> /dev/tapN: QEMU
set -euo pipefail

IPVTAP_REPO=${IPVTAP_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=tools/vm/nested.sh
. "$IPVTAP_REPO/tools/vm/nested.sh"

NSO=demo-outside
NSH=demo-host
SLAVES=(1 2 3)
CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
TMP=$(mktemp -d /tmp/demo.XXXXXX)
QEMU_PID=

cleanup() {
	local ns

	set +e
	[ -z "$QEMU_PID" ] || kill -9 "$QEMU_PID" 2>/dev/null
	rm -rf "$TMP"
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

say "kernel $(uname -r), ipvlan implementation: ${IMPL:-?} ($(grep -q O /sys/module/ipvlan/taint 2>/dev/null && echo "out of tree: this package's ipvlan.ko" || echo "the kernel's own ipvlan.ko"))"
grep -E '^(ipvlan|ipvtap|tap) ' /proc/modules | cut -d' ' -f1-3 || true

say "topology: the outside (a switch port that takes one MAC, a DHCP server) <-veth-> master m0"
run ip netns add "$NSO"
run ip netns add "$NSH"
run ip -n "$NSH" link add m0 type veth peer name o0 netns "$NSO"
run ip -n "$NSH" link set m0 up
run ip -n "$NSO" link set o0 up
run ip -n "$NSO" addr add 192.0.2.254/24 dev o0
run ip -n "$NSO" addr add 2001:db8::fe/64 dev o0 nodad
MAC=$(ip netns exec "$NSH" cat /sys/class/net/m0/address)
echo "# port security: o0 takes frames from $MAC (m0's MAC) only"
run ip netns exec "$NSO" nft add table netdev port
run ip netns exec "$NSO" nft add chain netdev port in \
	"{ type filter hook ingress device o0 priority 0; }"
run ip netns exec "$NSO" nft add rule netdev port in \
	ether saddr != "$MAC" counter drop
echo "# DHCP server on the outside: leases 192.0.2.50-59"
ip netns exec "$NSO" dnsmasq --no-daemon --conf-file=/dev/null --port=0 \
	--interface=o0 --bind-interfaces \
	--dhcp-range=192.0.2.50,192.0.2.59,255.255.255.0,10m \
	--dhcp-leasefile="$TMP/leases" --no-ping --log-dhcp \
	--log-facility="$TMP/dnsmasq.log" --user=root --group=root \
	>/dev/null 2>&1 &

# guest_line PATTERN SECS: wait until the guest's console shows PATTERN.
guest_line() {
	local end=$((SECONDS + $2))

	while [ $SECONDS -lt "$end" ]; do
		tr -d '\r' <"$TMP/console" | grep -q -- "$1" && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || return 1
		sleep 1
	done
	return 1
}

part_guest() {
	local tap addr append t0 ok=1

	say "part 1: a virtual machine behind ipvtap, nothing configured on the host side"
	run ip -n "$NSH" link add link m0 name ipvtap0 type ipvtap mode l2
	run ip -n "$NSH" link set ipvtap0 addrgenmode none
	run ip -n "$NSH" link set ipvtap0 up
	tap=/dev/tap$(ip netns exec "$NSH" cat /sys/class/net/ipvtap0/ifindex)
	run ls -l "$tap"
	run ip -n "$NSH" -br addr show dev ipvtap0
	if ! nested_prepare "$TMP" >"$TMP/prepare" 2>&1; then
		echo "# no guest kernel to boot: $(tail -n1 "$TMP/prepare"); part 1 skipped"
		return 0
	fi
	append=$(nested_append 1 dhcp 2001:db8::1/64 192.0.2.254 2001:db8::fe \
		192.0.2.253 300)
	echo "# the guest: Debian's kernel $GKVER, busybox; its /init runs udhcpc"
	echo "# (no broadcast flag: the server answers by unicast) and pings the outside"
	printf '$ qemu-system-x86_64 -M pc -m 256 -nographic -kernel ... -initrd ... \\\n'
	printf '    -netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0,mac=%s 3<>%s\n' "$MAC" "$tap"
	: >"$TMP/console"
	(
		exec 3<>"$tap"
		exec qemu-system-x86_64 -accel tcg,tb-size=128 -M pc -m 256 \
			-nodefaults -display none -no-reboot \
			-serial "file:$TMP/console" -kernel "$GKERNEL" \
			-initrd "$INITRD" -append "$append" \
			-netdev tap,id=n0,fd=3 \
			-device "virtio-net-pci,netdev=n0,mac=$MAC"
	) </dev/null >"$TMP/qemu.log" 2>&1 &
	QEMU_PID=$!
	t0=$SECONDS
	echo "# booting (TCG inside TCG: a minute or two) ..."
	if ! guest_line GUEST-READY 400; then
		echo "# the guest did not come up; its console:"
		tr -d '\r' <"$TMP/console" | tail -n 20
		cat "$TMP/qemu.log"
		return 1
	fi
	echo "# the guest is up after $((SECONDS - t0)) s; its console says:"
	tr -d '\r' <"$TMP/console" | grep '^GUEST' | sed 's/^/    /'
	addr=$(tr -d '\r' <"$TMP/console" | sed -n 's|^GUEST: dhcp bound \([0-9.]*\)/.*|\1|p' | head -n1)
	echo "# the DHCP server's side:"
	grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK)' "$TMP/dnsmasq.log" | sed 's/^/    /'
	if [ -z "$addr" ]; then
		echo "# the guest got no lease"
		return 1
	fi
	say "the outside pings the guest ($addr, 2001:db8::1)"
	run ip netns exec "$NSO" ping -c 3 -i 0.5 "$addr" || ok=0
	run ip netns exec "$NSO" ping -c 3 -i 0.5 2001:db8::1 || ok=0
	say "what ipvtap learned from the guest's own traffic (no address on ipvtap0)"
	run ip -n "$NSH" -br addr show dev ipvtap0
	run ip netns exec "$NSH" "$CTL" show ipvtap0
	run ip netns exec "$NSH" "$CTL" addrs
	say "the outside sees the guest behind the master's one MAC; no frame from another MAC"
	run ip -n "$NSO" neigh show dev o0
	run ip netns exec "$NSO" nft list chain netdev port in
	echo "# the guest stops when 192.0.2.253 answers it"
	ip -n "$NSO" addr add 192.0.2.253/24 dev o0
	guest_line GUEST-DONE 120 || true
	wait "$QEMU_PID" 2>/dev/null || true
	QEMU_PID=
	ip -n "$NSO" addr del 192.0.2.253/24 dev o0
	run ip -n "$NSH" -s link show dev ipvtap0
	run ip -n "$NSH" link del ipvtap0
	[ "$ok" = 1 ] || { echo "# part 1 FAILED"; return 1; }
}

if [ "${DEMO_GUEST:-1}" = 1 ] && grep -q '^ipvtap ' /proc/modules; then
	part_guest
else
	say "part 1 (a virtual machine behind ipvtap) skipped: ${DEMO_GUEST:+DEMO_GUEST=$DEMO_GUEST, }ipvtap $(grep -q '^ipvtap ' /proc/modules && echo loaded || echo 'not loaded')"
fi

say "part 2: containers, three ipvlan L2 slaves in their own netns"
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
