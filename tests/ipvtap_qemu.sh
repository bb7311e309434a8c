#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvtap with real QEMU 7.2: QEMU's own tap backend on /dev/tap<ifindex>
# (issue 4), with NO address configured on the host-side ipvtap: the guest
# configures its own addresses and ipvtap learns them (issue 5).
#
#   NS_OUT:  o0 (veth) 192.0.2.254/24, 2001:db8::fe/64: the peer
#   NS_HOST: m0 (veth) the ipvlan master; ipvtap slaves of m0, mode l2,
#            no address at all (addrgenmode none: not even a link-local)
#
# 1. Guestless QEMU (-M none: no guest CPU) holds "3<>/dev/tapN", its tap
#    backend joined by a hub to a UDP socket on 127.0.0.1 in NS_HOST
#    (-netdev dgram); tools/tapguest --udp plays the guest on that socket
#    (192.0.2.1/24, 2001:db8::1/64, the master's MAC). Pings both ways,
#    IPv4 and IPv6; the addresses show as learned in `ipvlanctl addrs`;
#    the guest restarts as 192.0.2.2: the new address works, and with
#    `ipvlanctl set DEV learn-timeout 3` the old one ages out.
# 2. Booted guest: the Debian kernel + a busybox initramfs built here
#    (tools/vm/initramfs.sh: virtio_net, virtio_pci and their
#    dependencies, tools/vm/nested-init), booted by nested QEMU
#    (TCG in TCG) with virtio-net-pci on "-netdev tap,fd=3" and the
#    master's MAC. Its /init configures its addresses, pings the peer,
#    prints GUEST-READY, then answers pings until the peer answers on
#    192.0.2.253 (the host's "stop" signal) and reboots (QEMU exits through
#    -no-reboot). Two guests, booted one after the other, on two ipvtaps:
#    A (192.0.2.1, 2001:db8::1) with vhost=off and one queue, B (192.0.2.2,
#    2001:db8::2) with vhost=on (vhost_net is loaded and left loaded) and
#    two queues (fds=3:4, mq=on, two guest CPUs so that virtio-net uses
#    both pairs). To save minutes of nested TCG, the kernel is uncompressed
#    here and booted through its PVH entry, with acpi=off (acpi=ht for two
#    CPUs) and other boot-time savers (see boot_start).
# 3. Edges: the ipvtap deleted while QEMU holds the fd under traffic both
#    ways; kill -9 of QEMU mid-traffic (a new QEMU re-attaches); rmmod
#    ipvtap while QEMU holds the fd (refused: the tap library's cdev holds
#    the module), and after QEMU exits (removes the device and its node;
#    the module is loaded again).
#
# IMPL=in-tree: the in-tree ipvtap does not learn, so the guest's addresses
# are configured on the host-side ipvtap (upstream's model) and the cases
# that only learning can pass are skipped ("in-tree ipvtap does not
# learn"), which shows the difference.
#
# IPVTAP_QEMU_PARTS="guestless booted edges" (default: all) runs a subset;
# VERBOSE=1 shows what every case printed.
#
# Nested TCG is slow: on the team's 2-core machine under load (load average
# 6-8) guest A took 2-3.5 and guest B 3-5 minutes to GUEST-READY, the
# whole test 6.5-11.5 minutes (guestless ~30 s, edges ~1 min); each boot
# may take BOOT_WAIT (IPVTAP_QEMU_BOOT_WAIT, 400 s), hence:
# tests/run: timeout 1200
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping ss cpio gzip modprobe timeout

QEMU=qemu-system-x86_64
command -v "$QEMU" >/dev/null 2>&1 ||
	ktap_skip_all "qemu-system-x86_64 not installed (run 'make deps')"
[ -x "$TG" ] || ktap_skip_all "tools/tapguest/tapguest not built (make tools)"
"$TG" --help | grep -q -- --udp ||
	ktap_skip_all "tools/tapguest/tapguest has no --udp (rebuild: make tools)"
CTL=$IPVTAP_REPO/tools/ipvlanctl/ipvlanctl
if [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	ktap_skip_all "our ipvtap.ko is not loaded (not built yet?)"
fi

PARTS=${IPVTAP_QEMU_PARTS:-guestless booted edges}
VERBOSE=${VERBOSE:-0}
NOLEARN="in-tree ipvtap does not learn"
GUEST4=$NET4.1
GUEST6=$NET6:1
NEW4=$NET4.2
STOP4=$NET4.253		# the peer answers here: booted guests power off
BOOT_WAIT=${IPVTAP_QEMU_BOOT_WAIT:-400}	# seconds to GUEST-READY

TMP=$(mktemp -d /tmp/ipvtap_qemu.XXXXXX) || ktap_bail "mktemp failed"
defer "rm -rf '$TMP'"

# ---------------------------------------------------------------- topology

setup_master

# The ipvtap link kind must exist (ours: loaded by the harness, in-tree
# autoloading refused by its guard).
if ! out=$(ip -n "$NS_HOST" link add link m0 name probe0 type ipvtap 2>&1); then
	case $out in
	*"Unknown device type"* | *"not supported"*)
		ktap_skip_all "no ipvtap link kind ($out)" ;;
	esac
	ktap_bail "cannot create an ipvtap device: $out"
fi
ip -n "$NS_HOST" link del probe0

# mk_ipvtap DEV [ADDR/LEN...]: an ipvtap of m0 in NS_HOST, mode l2, no
# address (in-tree: the given guest addresses, upstream's model). Sets
# TAP=/dev/tap<ifindex>. Deleted at exit if still there: /dev/tapN names
# are global, a leftover would collide with another namespace's ipvtap.
mk_ipvtap() {
	local dev=$1 a out i

	shift
	out=$(ip -n "$NS_HOST" link add link m0 name "$dev" type ipvtap mode l2 2>&1) ||
		ktap_bail "cannot create ipvtap $dev: $out"
	defer "ip -n '$NS_HOST' link del '$dev'"
	ip -n "$NS_HOST" link set "$dev" addrgenmode none
	if [ "$IMPL" = in-tree ]; then
		for a in "$@"; do
			if [[ $a == *:* ]]; then
				ip -n "$NS_HOST" addr add "$a" dev "$dev" nodad
			else
				ip -n "$NS_HOST" addr add "$a" dev "$dev"
			fi
		done
	fi
	ip -n "$NS_HOST" link set "$dev" up
	i=$(ip netns exec "$NS_HOST" cat "/sys/class/net/$dev/ifindex")
	TAP=/dev/tap$i
	wait_for 5 test -c "$TAP" >/dev/null || ktap_bail "no $TAP for $dev"
}

del_ipvtap() {
	ip -n "$NS_HOST" link del "$1" 2>/dev/null
}

# ------------------------------------------------------------- helpers

# check_here DESC CMD...: lib.sh's check, but CMD runs in this shell (not
# in a command substitution), so that the QEMU and guest processes it
# starts, the variables it sets and the children it waits for are this
# shell's. Its output is shown on failure (always with VERBOSE=1).
check_here() {
	local desc=$1 out=$TMP/case.out rc t=$SECONDS

	shift
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ktap_ok "$desc"
		if [ "$VERBOSE" = 1 ]; then
			diag "took $((SECONDS - t)) s: $*"
			[ -s "$out" ] && diag "$(cat "$out")"
		fi
	else
		ktap_not_ok "$desc"
		diag "command: $* (exit $rc)"
		[ -s "$out" ] && diag "$(cat "$out")"
	fi
	return "$rc"
}

# no_host_addr DEV: nothing configured on DEV (ours: no address at all).
no_host_addr() {
	local out

	out=$(ip -n "$NS_HOST" -o addr show dev "$1")
	[ -z "$out" ] && return 0
	echo "$1 has addresses:"
	echo "$out"
	return 1
}

# learned DEV ADDR...: each ADDR is listed as learned on DEV.
learned() {
	local dev=$1 out a

	shift
	out=$(ip netns exec "$NS_HOST" "$CTL" addrs) || return 1
	for a in "$@"; do
		awk -v d="$dev" -v a="$a" \
			'$2 == d && $4 == a && $5 == "learned" { f = 1 } END { exit !f }' \
			<<<"$out" && continue
		echo "$a is not learned on $dev:"
		echo "$out"
		return 1
	done
}

# not_listed DEV ADDR: ADDR is not in DEV's address table any more.
not_listed() {
	local out

	out=$(ip netns exec "$NS_HOST" "$CTL" addrs) || return 1
	awk -v d="$1" -v a="$2" '$2 == d && $4 == a { f = 1 } END { exit f }' \
		<<<"$out" && return 0
	echo "$2 still listed on $1:"
	echo "$out"
	return 1
}

# learned_no_config DEV [IP4 IP6]: the guest's addresses (default GUEST4,
# GUEST6) are learned on DEV, none is configured there.
learned_no_config() {
	no_host_addr "$1" && learned "$1" "${2:-$GUEST4}" "${3:-$GUEST6}"
}

# ------------------------------------------------------- guestless QEMU

udp_bound() {
	ip netns exec "$NS_HOST" ss -Huln "sport = :$1" | grep -q .
}

# qemu_guestless LOG QPORT GPORT: QEMU with no guest CPU holding $TAP as
# fd 3, its tap backend hubbed to a UDP socket 127.0.0.1:QPORT (QEMU's)
# that sends to 127.0.0.1:GPORT (tapguest --udp GPORT:QPORT). Sets QPID.
qemu_guestless() {
	local log=$1 qp=$2 gp=$3

	ip netns exec "$NS_HOST" "$QEMU" -M none -nodefaults -display none \
		-netdev tap,id=t0,fd=3 \
		-netdev "dgram,id=d0,local.type=inet,local.host=127.0.0.1,local.port=$qp,remote.type=inet,remote.host=127.0.0.1,remote.port=$gp" \
		-netdev hubport,id=h0,hubid=0,netdev=t0 \
		-netdev hubport,id=h1,hubid=0,netdev=d0 \
		3<>"$TAP" </dev/null >"$log" 2>&1 &
	QPID=$!
	defer "kill -9 $QPID"
	QP=$qp GP=$gp
	if ! wait_for 15 udp_bound "$qp" >/dev/null; then
		echo "QEMU is not listening on 127.0.0.1:$qp"
		cat "$log"
		return 1
	fi
	# QEMU's tap backend holds the node, non-blocking (flags in fdinfo).
	if ! readlink "/proc/$QPID/fd/3" | grep -qx "$TAP"; then
		echo "QEMU's fd 3 is not $TAP"
		return 1
	fi
	echo "QEMU pid $QPID: fd 3 -> $TAP, $(grep flags "/proc/$QPID/fdinfo/3")"
}

# tgu ARGS...: tapguest over QEMU's UDP socket, with the master's MAC.
tgu() {
	ip netns exec "$NS_HOST" "$TG" --udp "$GP:$QP" --mac "$MASTER_MAC" "$@"
}

# serve_start LOG IP4 [ARGS...]: the guest answers in the background.
serve_start() {
	local log=$1 ip4=$2

	shift 2
	tg_serve "$log" "$NS_HOST" --udp "$GP:$QP" --mac "$MASTER_MAC" \
		--ip4 "$ip4/24" --ip6 "$GUEST6/64" "$@"
}

# peer_pings LOG ADDR "KEY:N..." [ARGS...]: the peer pings ADDR while the
# guest (address ADDR or GUEST4 for IPv6) serves; guest counters KEY >= N.
peer_pings() {
	local log=$1 addr=$2 want=$3 ip4=$GUEST4 kv rc=0

	shift 3
	[[ $addr == *.* ]] && ip4=$addr
	serve_start "$log" "$ip4" "$@" || { serve_stop; cat "$log"; return 1; }
	ip netns exec "$NS_OUT" ping -c 3 -i 0.2 -W 2 "$addr" || rc=1
	serve_stop
	for kv in $want; do
		at_least "$log" "${kv%%:*}" "${kv##*:}" || rc=1
	done
	[ "$rc" -eq 0 ] || cat "$log"
	return "$rc"
}

# new_address: the guest comes back as NEW4 (announcing it): it pings the
# peer, and the peer pings it.
new_address() {
	tgu --ip4 "$NEW4/24" --announce --ping4 "$OUT4" --count 3 \
		--timeout 15 || return 1
	peer_pings "$TMP/gl-new4" "$NEW4" echo_replies_sent:3
}

# old_ages_out: learn-timeout 3: while the guest (NEW4) keeps answering
# the peer, the old GUEST4 is forgotten, NEW4 stays; GUEST4 is unreachable.
old_ages_out() {
	local rc=0 ppid

	serve_start "$TMP/gl-age" "$NEW4" ||
		{ serve_stop; cat "$TMP/gl-age"; return 1; }
	ip netns exec "$NS_OUT" ping -q -c 80 -i 0.5 -W 1 "$NEW4" >/dev/null &
	ppid=$!
	# The guest answers before the timeout drops to 3 s: on a slow
	# (debug) kernel, starting the guest may take longer than that, and
	# an address forgotten meanwhile stays unreachable until the peer's
	# neighbour entry fails and it asks again by broadcast.
	wait_for 10 learned ipvt0 "$NEW4" || rc=1
	ip netns exec "$NS_HOST" "$CTL" set ipvt0 learn-timeout 3 || rc=1
	wait_for 15 not_listed ipvt0 "$GUEST4" || rc=1
	learned ipvt0 "$NEW4" || rc=1
	if ip netns exec "$NS_OUT" ping -c 2 -i 0.2 -W 1 "$GUEST4" >/dev/null; then
		echo "$GUEST4 still answers after ageing out"
		rc=1
	fi
	kill "$ppid" 2>/dev/null
	wait "$ppid" 2>/dev/null
	serve_stop
	ip netns exec "$NS_HOST" "$CTL" addrs
	return "$rc"
}

part_guestless() {
	local start=$SECONDS

	mk_ipvtap ipvt0 "$GUEST4/24" "$GUEST6/64"
	check_here "guestless: QEMU -M none holds $TAP, tap backend hubbed to UDP" \
		qemu_guestless "$TMP/qemu-gl.log" 40001 40002
	check_here "guestless: the guest pings the peer through QEMU's tap backend (IPv4)" \
		tgu --ip4 "$GUEST4/24" --ping4 "$OUT4" --count 3 --timeout 15
	check_here "guestless: the guest pings the peer through QEMU's tap backend (IPv6)" \
		tgu --ip6 "$GUEST6/64" --ping6 "$OUT6" --count 3 --timeout 15
	ip -n "$NS_OUT" neigh flush dev o0
	check_here "guestless: the peer pings the guest, ARP answered by the guest (IPv4)" \
		peer_pings "$TMP/gl-serve4" "$GUEST4" \
		"echo_replies_sent:3 arp_replies:1"
	check_here "guestless: the peer pings the guest, NS answered by the guest (IPv6)" \
		peer_pings "$TMP/gl-serve6" "$GUEST6" \
		"echo_replies_sent:3 ns_answered:1"
	if [ "$IMPL" = in-tree ]; then
		skip "guestless: no address on ipvt0, the guest's are learned" "$NOLEARN"
		skip "guestless: the guest restarts as $NEW4: it works both ways" "$NOLEARN"
		skip "guestless: learn-timeout 3: the old $GUEST4 ages out" "$NOLEARN"
	else
		check_here "guestless: no address on ipvt0, the guest's are learned" \
			learned_no_config ipvt0
		check_here "guestless: the guest restarts as $NEW4: it works both ways" \
			new_address
		if [ -x "$CTL" ]; then
			check_here "guestless: learn-timeout 3: the old $GUEST4 ages out" \
				old_ages_out
		else
			skip "guestless: learn-timeout 3: the old $GUEST4 ages out" \
				"tools/ipvlanctl/ipvlanctl not built"
		fi
	fi
	kill -TERM "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	del_ipvtap ipvt0
	diag "guestless part: $((SECONDS - start)) s"
}

# ---------------------------------------------------------- booted guest

# The nested guest's kernel and initramfs, its command line, and libvirt:
# tools/vm/nested.sh.
# shellcheck source=tools/vm/nested.sh
. "$IPVTAP_REPO/tools/vm/nested.sh"

prepare_boot() {
	nested_prepare "$TMP"
}

# dnsmasq on the outside: one address to lease, GUEST4.
dnsmasq_start() {
	bg "$TMP/dnsmasq.log" ip netns exec "$NS_OUT" dnsmasq --no-daemon \
		--conf-file=/dev/null --port=0 --interface=o0 --bind-interfaces \
		--dhcp-range="$GUEST4,$GUEST4,255.255.255.0,10m" \
		--dhcp-leasefile="$TMP/leases" --no-ping --log-dhcp \
		--log-facility=- --user=root --group=root
	wait_for 10 grep -q 'DHCP, IP range' "$TMP/dnsmasq.log" >/dev/null ||
		diag "dnsmasq did not start: $(cat "$TMP/dnsmasq.log")"
}

# The two booted guests run one after the other (booting both at once was
# slower: nested TCG threads fight for the VM's two CPUs). Per guest NAME,
# in associative arrays: its ipvtap B_DEV, node B_TAP, addresses B_IP4/B_IP6, QEMU B_PID,
# console B_CON, start time B_T0.
declare -A B_DEV B_TAP B_IP4 B_IP6 B_PID B_CON B_T0 B_READY

# boot_start NAME QUEUES VHOST SMP IP4 IP6: an ipvtap "ipvt_NAME" and the
# guest on its node (QUEUES opens of it: fd=3, or fds=3:4).
boot_start() {
	local name=$1 queues=$2 vhost=$3 smp=$4 ip4=$5 ip6=$6 netdev dev append

	mk_ipvtap "ipvt_$name" "$ip4/24" "$ip6/64"
	B_DEV[$name]=ipvt_$name B_TAP[$name]=$TAP B_IP4[$name]=$ip4
	B_IP6[$name]=$ip6 B_CON[$name]=$TMP/$name.console B_READY[$name]=0
	netdev="tap,id=n0,vhost=$vhost"
	dev="virtio-net-pci,netdev=n0,mac=$MASTER_MAC"
	if [ "$queues" -eq 2 ]; then
		netdev+=",fds=3:4"
		dev+=",mq=on,vectors=6"
	else
		netdev+=",fd=3"
	fi
	append=$(nested_append "$smp" "$ip4/24" "$ip6/64" "$OUT4" "$OUT6" \
		"$STOP4" "$BOOT_WAIT")
	: >"${B_CON[$name]}"
	(
		exec 3<>"$TAP"
		if [ "$queues" -eq 2 ]; then
			exec 4<>"$TAP"
		fi
		exec "$QEMU" -accel tcg,tb-size=128 -M pc -m 256 -smp "$smp" \
			-nodefaults -display none -no-reboot \
			-serial "file:${B_CON[$name]}" -kernel "$GKERNEL" \
			-initrd "$INITRD" -append "$append" \
			-netdev "$netdev" -device "$dev"
	) </dev/null >"$TMP/$name.qemu" 2>&1 &
	B_PID[$name]=$!
	B_T0[$name]=$SECONDS
	defer "kill -9 ${B_PID[$name]}"
}

# lv_boot_start NAME IP4 IP6: the guest as a libvirt domain "ipvtap-NAME"
# (tools/vm/nested.sh's lv_domain: one queue, vhost off, the master's
# MAC), defined and started through virsh on an unmanaged ethernet
# interface, the ipvtap "ipvt_NAME". IP4 "dhcp": the guest asks dnsmasq on
# the outside (no broadcast flag). B_PID is QEMU's pid (libvirt's child).
lv_boot_start() {
	local name=$1 ip4=$2 ip6=$3 dom=ipvtap-$1 a4=$2 i

	if [ "$ip4" = dhcp ]; then
		ip4=$GUEST4
	else
		a4=$ip4/24
	fi
	mk_ipvtap "ipvt_$name" "$ip4/24" "$ip6/64"
	B_DEV[$name]=ipvt_$name B_TAP[$name]=$TAP B_IP4[$name]=$ip4
	B_IP6[$name]=$ip6 B_CON[$name]=$TMP/$name.console B_READY[$name]=0
	B_PID[$name]=0 B_T0[$name]=$SECONDS
	lv_domain "$dom" "ipvt_$name" "$MASTER_MAC" "${B_CON[$name]}" \
		"$(nested_append 1 "$a4" "$ip6/64" "$OUT4" "$OUT6" "$STOP4" "$BOOT_WAIT")" \
		>"$TMP/$dom.xml"
	virsh -c "$LV_URI" define "$TMP/$dom.xml" || return 1
	defer "virsh -c '$LV_URI' undefine '$dom'"
	virsh -c "$LV_URI" start "$dom" || return 1
	for ((i = 0; i < 50; i++)); do
		B_PID[$name]=$(cat "/run/libvirt/qemu/$dom.pid" 2>/dev/null) && break
		sleep 0.2
	done
	defer "virsh -c '$LV_URI' destroy '$dom'"
	[ -n "${B_PID[$name]}" ] || { echo "no /run/libvirt/qemu/$dom.pid"; return 1; }
	holds_node "$name"
}

# holds_node NAME: the guest's QEMU has its ipvtap's node open.
holds_node() {
	local f

	for f in /proc/"${B_PID[$1]}"/fd/*; do
		[ "$(readlink "$f")" = "${B_TAP[$1]}" ] || continue
		echo "QEMU ${B_PID[$1]} holds ${B_TAP[$1]}"
		return 0
	done
	echo "QEMU ${B_PID[$1]} does not hold ${B_TAP[$1]}"
	return 1
}

# dhcp_leased NAME: the guest's console shows the lease of its IPv4
# address and dnsmasq's log the ACK for it.
dhcp_leased() {
	console_has "$1" "GUEST: dhcp bound ${B_IP4[$1]}/24" &&
		grep "DHCPACK(o0) ${B_IP4[$1]} " "$TMP/dnsmasq.log"
}

# lv_domifstat NAME: virsh domifstat reports the guest's traffic both ways.
lv_domifstat() {
	local out rx tx

	out=$(virsh -c "$LV_URI" domifstat "ipvtap-$1" "${B_DEV[$1]}") || return 1
	echo "$out"
	rx=$(awk '$2 == "rx_packets" { print $3 }' <<<"$out")
	tx=$(awk '$2 == "tx_packets" { print $3 }' <<<"$out")
	[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt 0 ]
}

# lv_destroyed NAME: virsh destroy ends QEMU; the ipvtap and its node stay,
# and the node opens again.
lv_destroyed() {
	local dom=ipvtap-$1 pid=${B_PID[$1]}

	virsh -c "$LV_URI" destroy "$dom" || return 1
	wait_for 10 bash -c "! kill -0 $pid" || { echo "QEMU $pid still runs"; return 1; }
	virsh -c "$LV_URI" domstate "$dom" | grep -x 'shut off' || return 1
	ip -n "$NS_HOST" link show "${B_DEV[$1]}" || return 1
	[ -c "${B_TAP[$1]}" ] || { echo "${B_TAP[$1]} is gone"; return 1; }
	(exec 5<>"${B_TAP[$1]}") || { echo "${B_TAP[$1]} does not open"; return 1; }
}

# console_has NAME PATTERN: the guest's console has a line matching it.
console_has() {
	tr -d '\r' <"${B_CON[$1]}" | grep -E "$2" && return 0
	echo "no '$2' on the console of guest $1:"
	tr -d '\r' <"${B_CON[$1]}"
	return 1
}

# wait_ready NAME...: wait until each guest printed GUEST-READY (or its
# QEMU died, or BOOT_WAIT passed); B_READY says which did.
wait_ready() {
	local n left

	for ((left = 1; left && SECONDS - B_T0[$1] < BOOT_WAIT;)); do
		left=0
		for n in "$@"; do
			[ "${B_READY[$n]}" -eq 1 ] && continue
			if grep -q GUEST-READY "${B_CON[$n]}"; then
				B_READY[$n]=1
				diag "guest $n: GUEST-READY $((SECONDS - B_T0[$n])) s after QEMU started"
			elif kill -0 "${B_PID[$n]}" 2>/dev/null; then
				left=1
			fi
		done
		[ "$left" -eq 0 ] || sleep 1
	done
}

# booted_ok NAME: the guest is up and pinged the peer (IPv4).
booted_ok() {
	[ "${B_READY[$1]}" -eq 1 ] && console_has "$1" "GUEST: ping4 ok" &&
		return 0
	echo "guest $1 not ready after $((SECONDS - B_T0[$1])) s; QEMU says:"
	cat "$TMP/$1.qemu"
	return 1
}

peer_pings_booted() {
	ip netns exec "$NS_OUT" ping -c 3 -i 0.5 -W 5 "$1"
}

# vhost_used NAME: QEMU has /dev/vhost-net open and its vhost worker runs.
vhost_used() {
	local pid=${B_PID[$1]} f n=0

	for f in /proc/"$pid"/fd/*; do
		[ "$(readlink "$f")" = /dev/vhost-net ] && n=$((n + 1))
	done
	[ "$n" -gt 0 ] || { echo "QEMU has no /dev/vhost-net open"; return 1; }
	pgrep -x "vhost-$pid" >/dev/null ||
		{ echo "no vhost-$pid kernel thread"; return 1; }
	echo "QEMU $pid: /dev/vhost-net open $n times, vhost-$pid running"
}

# count_fds NAME: B_NFDS[NAME], how many times QEMU holds the guest's node (while up).
declare -A B_NFDS
count_fds() {
	local n=0 f

	for f in /proc/"${B_PID[$1]}"/fd/*; do
		[ "$(readlink "$f")" = "${B_TAP[$1]}" ] && n=$((n + 1))
	done
	B_NFDS[$1]=$n
}

# udp_spray ADDR: datagrams to 64 ports of ADDR from the peer: different
# flow hashes, so the tap library spreads them over its queues.
udp_spray() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$NS_OUT" bash -c \
		'for p in $(seq 33000 33063); do echo x >"/dev/udp/$1/$p"; done' \
		- "$1" 2>/dev/null
}

# two_queues NAME: QEMU held the node twice, the guest ran two queue pairs
# (virtio-net uses as many as it has CPUs), and its second receive queue
# got interrupts (GUEST: irq lines, printed when it stopped).
two_queues() {
	[ "${B_NFDS[$1]}" -eq 2 ] ||
		{ echo "QEMU held ${B_TAP[$1]} ${B_NFDS[$1]} times"; return 1; }
	console_has "$1" 'queues: rx-0 rx-1 tx-0 tx-1' &&
		console_has "$1" 'GUEST: irq virtio[0-9]+-input.1 [1-9]' &&
		console_has "$1" 'GUEST: irq'
}

# guest_cases NAME DESC: what each booted guest must show.
guest_cases() {
	local n=$1 d=$2

	check_here "$d: the guest boots, configures itself and pings the peer (IPv4)" \
		booted_ok "$n"
	check_here "$d: the guest pings the peer (IPv6)" \
		console_has "$n" "GUEST: ping6 ok"
	check_here "$d: the peer pings the guest (IPv4)" \
		peer_pings_booted "${B_IP4[$n]}"
	check_here "$d: the peer pings the guest (IPv6)" \
		peer_pings_booted "${B_IP6[$n]}"
	if [ "$IMPL" = in-tree ]; then
		skip "$d: no address on ${B_DEV[$n]}, the guest's are learned" \
			"$NOLEARN"
	else
		check_here "$d: no address on ${B_DEV[$n]}, the guest's are learned" \
			learned_no_config "${B_DEV[$n]}" "${B_IP4[$n]}" "${B_IP6[$n]}"
	fi
}

# stopped NAME: the peer answers on STOP4: the guest reboots (QEMU exits 0
# through -no-reboot); the node stays.
stopped() {
	local n=$1

	ip -n "$NS_OUT" addr add "$STOP4/24" dev o0
	wait_pid "${B_PID[$n]}" 120
	ip -n "$NS_OUT" addr del "$STOP4/24" dev o0
	if ! console_has "$n" GUEST-DONE >/dev/null; then
		console_has "$n" GUEST-DONE
		# Where the host's answers went.
		ip -n "$NS_HOST" -s link show dev "${B_DEV[$n]}"
		ip netns exec "$NS_HOST" "$CTL" show "${B_DEV[$n]}" 2>&1
		ip -n "$NS_OUT" neigh show
		return 1
	fi
	[ "$WAIT_RC" -eq 0 ] && [ -c "${B_TAP[$n]}" ] && return 0
	echo "QEMU exit status $WAIT_RC; ${B_TAP[$n]} $(test -c "${B_TAP[$n]}" && echo present || echo gone)"
	cat "$TMP/$n.qemu"
	return 1
}

BOOTED_CASES=17

part_booted() {
	local start=$SECONDS why i n vhost=off vhost_why='' d1 d2 lv_why a4

	if ! prepare_boot >"$TMP/prepare" 2>&1; then
		why=$(tail -n1 "$TMP/prepare")
		for ((i = 0; i < BOOTED_CASES; i++)); do
			skip "booted guest: case $((i + 1))" "$why"
		done
		return
	fi
	diag "$(cat "$TMP/prepare")"
	if modprobe vhost_net 2>/dev/null && [ -c /dev/vhost-net ]; then
		vhost=on
	else
		vhost_why="vhost_net cannot be loaded (no /dev/vhost-net)"
	fi
	# Guest A: a libvirt domain, its IPv4 address by DHCP (ours; the
	# in-tree ipvtap needs it configured on the host, so static there).
	d1="booted A (vhost=off, 1 queue)"
	d2="booted B (vhost=$vhost, 2 queues, 2 CPUs)"
	if lv_start "$TMP/libvirt" "$NS_HOST" >"$TMP/libvirt.why"; then
		defer lv_stop
		d1="booted A (libvirt, vhost=off, 1 queue)"
		a4=dhcp
		[ "$IMPL" = ours ] || a4=$GUEST4
		[ "$a4" != dhcp ] || dnsmasq_start
		check_here "$d1: virsh defines and starts the domain on the unmanaged ipvtap, QEMU holds its node" \
			lv_boot_start a "$a4" "$GUEST6" && wait_ready a
		if [ "$a4" = dhcp ]; then
			check_here "$d1: the guest's address comes from DHCP without the broadcast flag" \
				dhcp_leased a
		else
			skip "$d1: the guest's address comes from DHCP without the broadcast flag" \
				"$NOLEARN"
		fi
		guest_cases a "$d1"
		check_here "$d1: virsh domifstat counts the guest's traffic" \
			lv_domifstat a
		check_here "$d1: virsh destroy ends QEMU, the ipvtap and its node stay" \
			lv_destroyed a
	else
		lv_why=$(tail -n1 "$TMP/libvirt.why")
		diag "libvirt: $(cat "$TMP/libvirt.why")"
		skip "$d1: virsh defines and starts the domain" "$lv_why"
		skip "$d1: the guest's address comes from DHCP" "$lv_why"
		boot_start a 1 off 1 "$GUEST4" "$GUEST6"
		wait_ready a
		guest_cases a "$d1"
		skip "$d1: virsh domifstat counts the guest's traffic" "$lv_why"
		check_here "$d1: asked to stop, the guest reboots, QEMU exits 0" stopped a
	fi
	boot_start b 2 "$vhost" 2 "$NEW4" "$NET6:2"
	wait_ready b
	guest_cases b "$d2"
	if [ "$vhost" = on ]; then
		check_here "$d2: vhost-net carries the data path" vhost_used b
	else
		skip "$d2: vhost-net carries the data path" "$vhost_why"
	fi
	count_fds b
	udp_spray "$NEW4"
	check_here "$d2: asked to stop, the guest reboots, QEMU exits 0" stopped b
	check_here "$d2: two queues: the node opened twice, both carry traffic" \
		two_queues b
	for n in a b; do
		diag "guest $n console:"
		diag "$(tr -d '\r' <"${B_CON[$n]}" | grep GUEST)"
		del_ipvtap "${B_DEV[$n]}"
	done
	diag "booted part: $((SECONDS - start)) s"
}
# ---------------------------------------------------------------- edges

# traffic_start: both ways through QEMU while nobody reads: tapguest
# floods UDP to the peer through QEMU's tap (writes), the peer floods
# pings at the guest (queued to the tap, read by QEMU). Checks o0 sees it.
traffic_start() {
	local before after

	before=$(stat_of "$NS_OUT" o0 rx_packets)
	ip netns exec "$NS_HOST" "$TG" --udp "$GP:$QP" --mac "$MASTER_MAC" \
		--ip4 "$GUEST4/24" --neigh "$OUT4=$OUT_MAC" \
		--udp-flood "$OUT4:9" --count 100000000 --size 512 \
		--timeout 40 >"$TMP/flood-$QP" 2>&1 &
	FLOOD_PID=$!
	sleep 2
	ip netns exec "$NS_OUT" ping -q -f -w 40 "$GUEST4" >/dev/null 2>&1 &
	PINGF_PID=$!
	sleep 1
	after=$(stat_of "$NS_OUT" o0 rx_packets)
	echo "o0 rx_packets $before -> $after"
	[ $((after - before)) -gt 100 ]
}

traffic_stop() {
	kill -9 "$FLOOD_PID" "$PINGF_PID" 2>/dev/null
	wait "$FLOOD_PID" "$PINGF_PID" 2>/dev/null
}

# del_under_traffic: deleting ipvt1 returns (no hang on a reference the
# open fd would hold), and its node goes.
del_under_traffic() {
	local t=$SECONDS

	kmsg_mark
	traffic_start || return 1
	timeout 30 ip -n "$NS_HOST" link del ipvt1 || return 1
	echo "ip link del took $((SECONDS - t - 3)) s"
	wait_for 5 test ! -e "$TAP" || { echo "$TAP still exists"; return 1; }
}

# qemu_survives: QEMU keeps running on the orphaned fd (its writes go
# nowhere), exits on SIGTERM with status 0; no splat.
qemu_survives() {
	local rc=0

	sleep 2
	kill -0 "$QPID" 2>/dev/null || { echo "QEMU died"; cat "$TMP/qemu-e1.log"; rc=1; }
	traffic_stop
	kill -TERM "$QPID" 2>/dev/null
	wait_pid "$QPID" 10
	[ "$WAIT_RC" -eq 0 ] || { echo "QEMU exit status $WAIT_RC"; rc=1; }
	dmesg_clean || rc=1
	return "$rc"
}

# kill9_mid_traffic: the ipvtap and its node stay; no splat.
kill9_mid_traffic() {
	local rc=0

	kmsg_mark
	traffic_start || rc=1
	kill -9 "$QPID"
	wait "$QPID" 2>/dev/null
	sleep 1
	traffic_stop
	ip -n "$NS_HOST" link show dev ipvt2 >/dev/null || rc=1
	[ -c "$TAP" ] || { echo "$TAP is gone"; rc=1; }
	dmesg_clean || rc=1
	return "$rc"
}

# reattach: a new QEMU opens the node; traffic both ways.
reattach() {
	qemu_guestless "$TMP/qemu-e2b.log" 40023 40024 || return 1
	tgu --ip4 "$GUEST4/24" --ping4 "$OUT4" --count 3 --timeout 15 ||
		return 1
	peer_pings "$TMP/e2-serve" "$GUEST4" echo_replies_sent:3
}

# rmmod_while_open: QEMU holds $TAP; rmmod ipvtap is refused (the tap
# library's cdev holds the module while its node is open) and nothing
# changes: the device, its node and QEMU stay, traffic flows, no splat.
rmmod_while_open() {
	local out

	kmsg_mark
	if out=$(rmmod ipvtap 2>&1); then
		echo "rmmod ipvtap succeeded while QEMU held $TAP"
		return 1
	fi
	echo "refused: $out"
	[ -d /sys/module/ipvtap ] &&
		ip -n "$NS_HOST" link show dev ipvt3 >/dev/null &&
		[ -c "$TAP" ] && kill -0 "$QPID" &&
		tgu --ip4 "$GUEST4/24" --ping4 "$OUT4" --count 2 --timeout 10 &&
		dmesg_clean
}

# rmmod_after_close: QEMU gone: rmmod ipvtap works and takes the device
# and its node; loaded again, a new ipvtap gets its node.
rmmod_after_close() {
	local tap=$TAP

	kill -TERM "$QPID" 2>/dev/null
	wait_pid "$QPID" 10
	kmsg_mark
	if [ -d /sys/module/ipvtap ]; then
		rmmod ipvtap || return 1
	fi
	dev_absent "$NS_HOST" ipvt3 || return 1
	[ ! -e "$tap" ] || { echo "$tap still exists"; return 1; }
	ipvtap_load || { echo "cannot load ipvtap again"; return 1; }
	mk_ipvtap ipvt4
	del_ipvtap ipvt4
	dmesg_clean
}

part_edges() {
	local start=$SECONDS

	mk_ipvtap ipvt1 "$GUEST4/24"
	qemu_guestless "$TMP/qemu-e1.log" 40011 40012 >/dev/null ||
		diag "QEMU did not start on ipvt1"
	check_here "edges: ipvt1 deleted while QEMU holds its fd under traffic: returns, node gone" \
		del_under_traffic
	check_here "edges: QEMU survives on the orphaned fd, exits on SIGTERM; no splat" \
		qemu_survives

	mk_ipvtap ipvt2 "$GUEST4/24"
	qemu_guestless "$TMP/qemu-e2.log" 40021 40022 >/dev/null ||
		diag "QEMU did not start on ipvt2"
	check_here "edges: kill -9 QEMU mid-traffic: ipvt2 and its node stay; no splat" \
		kill9_mid_traffic
	check_here "edges: a new QEMU re-opens the node, traffic flows both ways" reattach
	kill -TERM "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	del_ipvtap ipvt2

	defer ipvtap_load
	mk_ipvtap ipvt3 "$GUEST4/24"
	qemu_guestless "$TMP/qemu-e3.log" 40031 40032 >/dev/null ||
		diag "QEMU did not start on ipvt3"
	check_here "edges: rmmod ipvtap while QEMU holds the fd: refused (in use), nothing changes" \
		rmmod_while_open
	check_here "edges: after QEMU exits, rmmod ipvtap removes ipvt3 and its node; reload works" \
		rmmod_after_close
	diag "edges part: $((SECONDS - start)) s"
}

# ----------------------------------------------------------------- main

plan=0
for p in $PARTS; do
	case $p in
	guestless) plan=$((plan + 8)) ;;
	booted) plan=$((plan + BOOTED_CASES)) ;;
	edges) plan=$((plan + 6)) ;;
	*) ktap_bail "unknown part '$p' in IPVTAP_QEMU_PARTS" ;;
	esac
done
ktap_plan "$plan"
for p in $PARTS; do
	"part_$p"
done
ktap_finish
