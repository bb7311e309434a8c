# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers of the tests that stress a port under traffic (ipvlan_churn,
# ipvlan_modechange, ipvlan_teardown, ipvlan_unload_busy,
# ipvlan_unreg_batch, ipvtap_del_busy). Sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/lib_stress.sh"
#
# Topology of each "site" (a master, its outside and its slaves), in the
# namespaces "$PFX-<label>":
#   <site>o: o0 198.51.100.2/24, route 192.0.2.0/24 via 198.51.100.1
#   <site>h: m0 (veth peer of o0) 198.51.100.1/24, the ipvlan master
#   <site><i>: slave <site><i> 192.0.2.<i>/32, default route dev <site><i>
# The outside routes the slaves' addresses to the master's address (whose
# MAC every slave shares), so slave<->outside traffic works in every mode
# and flag without any neighbour entry for a slave; nothing forwards.
#
# A master is deleted before the namespaces (delns, and at exit), so that
# only ipvlan_unreg_batch puts a master and its slaves into one netns
# cleanup batch. Sourcing it requires root, ip, ping, timeout and the
# ipvlan module (else the test is skipped). STRESS_SECONDS (default 8):
# how long traffic runs in a step (FAULTS_SECONDS, as these tests used
# before, is still read).

require_root
require_cmd ip ping timeout
require_ipvlan

# shellcheck disable=SC2034 # for the tests
SECS=${STRESS_SECONDS:-${FAULTS_SECONDS:-8}}
OUTA=198.51.100.2	# the outside
HOSTA=198.51.100.1	# the master's address (the outside's gateway)
PFX=$TEST_NAME-$$
HAVE_IPERF=0
command -v iperf3 >/dev/null 2>&1 && HAVE_IPERF=1
RTNL_DEAD=0	# set when RTNL stays locked (a kernel BUG in netns cleanup)

TMP=$(mktemp -d) || ktap_bail "mktemp failed"

# At exit (before lib.sh deletes the namespaces): the masters go first;
# the modules are loaded again (a test may have unloaded them). With RTNL
# held by a crashed kernel thread, both would hang.
_stress_cleanup() {
	local ns

	if [ "$RTNL_DEAD" -eq 0 ]; then
		for ns in /run/netns/"$PFX"-*h; do
			[ -e "$ns" ] || continue
			ns_kill_pids "${ns##*/}"
			ip -n "${ns##*/}" link del m0 >/dev/null 2>&1
		done
		modules_ensure
	fi
	rm -rf "$TMP"
}
defer _stress_cleanup

# delns LABEL...: delete the namespaces "$PFX-LABEL" (what runs in them
# killed first); the master of a "...h" namespace is deleted before.
delns() {
	local l nss=()

	for l in "$@"; do
		[ -e "/run/netns/$PFX-$l" ] || continue
		nss+=("$PFX-$l")
		if [ "$RTNL_DEAD" -eq 0 ] && [[ $l == *h ]]; then
			ns_kill_pids "$PFX-$l"
			ip -n "$PFX-$l" link del m0 >/dev/null 2>&1
		fi
	done
	ns_del "${nss[@]}"
}

# site TAG MODE FLAG N: namespaces TAGo, TAGh, TAG1..N; master m0 in TAGh,
# slaves TAG1..N (192.0.2.1..N) in their namespaces, all in MODE FLAG.
site() {
	local tag=$1 mode=$2 flag=$3 n=$4 i labels=("${1}o" "${1}h") hb ob

	for ((i = 1; i <= n; i++)); do
		labels+=("$tag$i")
	done
	ns_create --bare "${labels[@]}"
	hb="link set lo up
link add m0 type veth peer name o0 netns $PFX-${tag}o
link set m0 up
addr add $HOSTA/24 dev m0
"
	for ((i = 1; i <= n; i++)); do
		hb+="link add link m0 name $tag$i type ipvlan mode $mode $flag
link set $tag$i netns $PFX-$tag$i
"
	done
	ob="link set lo up
link set o0 up
addr add $OUTA/24 dev o0
route add 192.0.2.0/24 via $HOSTA
"
	ip -n "$PFX-${tag}h" -batch - <<<"$hb" ||
		ktap_bail "site $tag: cannot set up the master and its slaves"
	ip -n "$PFX-${tag}o" -batch - <<<"$ob" ||
		ktap_bail "site $tag: cannot set up the outside"
	for ((i = 1; i <= n; i++)); do
		slave_up "$PFX-$tag$i" "$tag$i" "192.0.2.$i" ||
			ktap_bail "site $tag: cannot configure slave $tag$i"
	done
}

# slave_up NS DEV ADDR: address, up, default route.
slave_up() {
	ip -n "$1" -batch - <<-EOF
	link set lo up
	addr add $3/32 dev $2
	link set $2 up
	route add default dev $2
	EOF
}

# new_slave TAG NAME NS ADDR [MODE]: a slave NAME on TAG's master, moved
# into NS (created here), configured and pinging the outside.
new_slave() {
	local tag=$1 name=$2 ns=$3 addr=$4 mode=${5:-l2}

	[ -e "/run/netns/$PFX-$ns" ] || ns_create --bare "$ns"
	ip -n "$PFX-${tag}h" -batch - <<-EOF || return 1
	link add link m0 name $name type ipvlan mode $mode
	link set $name netns $PFX-$ns
	EOF
	slave_up "$PFX-$ns" "$name" "$addr" || return 1
	wait_ping "$PFX-$ns" "$OUTA" 10
}

# reach_all SLAVE...: each slave (named like its namespace) reaches the
# outside.
reach_all() {
	local s

	for s in "$@"; do
		wait_ping "$PFX-$s" "$OUTA" 10 || return 1
	done
}

# ping_bg LOG NS ADDR SECS [ping args]: ping ADDR from NS in the
# background every 10 ms for SECS seconds (pid in BGPID).
ping_bg() {
	local log=$1 ns=$2 addr=$3 secs=$4

	shift 4
	bg "$log" ip netns exec "$ns" ping -q -n -i 0.01 -w "$secs" "$@" "$addr"
}

# ping_counts LOG: "TX RX" from a ping summary (0 0 without one).
ping_counts() {
	local l re='([0-9]+) packets transmitted, ([0-9]+) received'

	l=$(grep -E 'packets transmitted' "$1" 2>/dev/null)
	if [[ $l =~ $re ]]; then
		echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
	else
		echo "0 0"
	fi
}

# flowing NS DEV: DEV's rx_packets grows by more than 20 in a second (by
# any on a slower kernel, TIME_SCALE > 1: the debug kernel at host load 10
# carried a tapguest's flood at 3 frames/s).
flowing() {
	local a b min=20

	[ "$TIME_SCALE" -eq 1 ] || min=0
	a=$(stat_of "$1" "$2" rx_packets)
	sleep 1
	b=$(stat_of "$1" "$2" rx_packets)
	echo "$2 rx_packets $a -> $b in 1 s"
	[ $((b - a)) -gt "$min" ]
}

# iperf_start TAG SLAVE_NS SECS LOG: iperf3 UDP from a slave to the
# outside of site TAG (server pid in IPERF_S, client in IPERF_C; 0 without
# iperf3).
IPERF_S=0 IPERF_C=0
iperf_start() {
	local tag=$1 ns=$2 secs=$3 log=$4

	IPERF_S=0 IPERF_C=0
	[ "$HAVE_IPERF" -eq 1 ] || return 0
	bg "$log.server" ip netns exec "$PFX-${tag}o" iperf3 -s -1 -B "$OUTA"
	# shellcheck disable=SC2034 # for the tests
	IPERF_S=$BGPID
	sleep 0.5
	# No --connect-timeout: with it, iperf3 3.12 failed under load with
	# "unable to read from stream socket: Resource temporarily
	# unavailable" during the setup (seen once).
	bg "$log" ip netns exec "$ns" iperf3 -c "$OUTA" -u -b 4M -l 512 \
		-t "$secs"
	# shellcheck disable=SC2034
	IPERF_C=$BGPID
}

# iperf_result LOG: the receiver's "lost/total (pct)" line; 0 when the
# client succeeded and something was received.
iperf_result() {
	local l re='([0-9]+)/([0-9]+) \(([0-9.e+-]+)%\)'

	l=$(grep -E 'receiver' "$1" | tail -n1)
	echo "iperf3 receiver: ${l:-none}"
	[[ $l =~ $re ]] || { cat "$1"; return 1; }
	[ "${BASH_REMATCH[2]}" -gt "${BASH_REMATCH[1]}" ]
}

# back_to_l2 TAG N: through TAG1, the port goes back to mode l2 bridge;
# ip -d link of TAG1..N says so and each reaches the outside.
back_to_l2() {
	local tag=$1 n=$2 i

	ip -n "$PFX-${tag}1" link set "${tag}1" type ipvlan mode l2 bridge || return 1
	for ((i = 1; i <= n; i++)); do
		link_has "$PFX-$tag$i" "$tag$i" "ipvlan  mode l2 bridge" || return 1
		wait_ping "$PFX-$tag$i" "$OUTA" 10 || return 1
	done
}

# stress_finish: the cases every stress test ends with (no background
# process left running, no splat since the start), then ktap_finish.
stress_finish() {
	check "every background process of the test has ended" bg_all_ended
	check "kernel log clean since the start (no splat, no 'unregister_netdevice: waiting for')" \
		dmesg_clean start
	ktap_finish
}
kmsg_mark start
