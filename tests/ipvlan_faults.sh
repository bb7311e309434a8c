#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan/ipvtap under stress and faults, always with traffic flowing:
#
#  1. churn: FAULTS_WORKERS (default 8) namespaces, each a worker loop
#     that creates a slave on the shared master (random mode l2/l3/l3s and
#     flag bridge/private/vepa: the latest request sets the port's mode for
#     every slave), moves it into its namespace, adds an address, pings
#     the outside once and deletes it, all at the same time, while three
#     long-lived slaves ping the outside every 10 ms (and an iperf3 UDP
#     stream runs when iperf3 is installed);
#  2. mode and flag changes (every mode x every flag, random order)
#     through random slaves of the port under traffic, each checked on
#     another slave of the same port; back to l2 bridge, all slaves work;
#  3. a slave's namespace deleted under traffic (its address becomes free
#     for a new slave), the master deleted under traffic (its slaves
#     vanish from their namespaces), the master's own namespace deleted
#     under traffic, mode l3s (its slaves vanish);
#  4. an ipvtap deleted while two tools/tapguest processes hold its
#     /dev/tapN (one flooding UDP, one pinging) and the outside pings the
#     guest: `ip link del` returns, the node goes, both guests end on
#     their own with a clean error (exit 1, summary printed), no hang;
#  5. module unload right after heavy use (ping -f, iperf3, tapguest
#     flood), first with the traffic just stopped, then with it still
#     running (mode l3s: the netfilter hooks go too): the unload succeeds
#     within FAULTS_UNLOAD_MAX seconds, the slaves and the ipvtap are gone,
#     the master stays; loaded again, a fresh slave works;
#  6. kmemleak (debug kernels): a scan finds no unreferenced object of
#     ipvlan/ipvtap;
#  7. (run last, see there) a master and its slave unregistered in one
#     netns cleanup batch, under traffic: a slave's namespace and its
#     master's namespace deleted with one command, and a master's
#     namespace deleted with a slave inside it when the master is listed
#     after that slave (moved away and back): no splat, RTNL still free,
#     the devices go.
#
# Elsewhere the test deletes each master before its namespaces, so that
# only phase 7 puts a master and its slaves into one cleanup batch.
#
# After phases 3, 4, 5 and 7 the test scans dmesg (from a marker it wrote)
# for a splat or "unregister_netdevice: waiting for" (a leaked device
# reference); the harness scans the whole log too (refcount trackers).
#
# Topology of each "site" (a master, its outside and its slaves):
#   <site>o: o0 198.51.100.2/24, route 192.0.2.0/24 via 198.51.100.1
#   <site>h: m0 (veth peer of o0) 198.51.100.1/24, the ipvlan master
#   <site><i>: slave <site><i> 192.0.2.<i>/32, default route dev <site><i>
# The outside routes the slaves' addresses to the master's address (whose
# MAC every slave shares), so slave<->outside traffic works in every mode
# and flag without any neighbour entry for a slave; nothing forwards.
#
# Each phase's traffic lasts FAULTS_SECONDS (default 8). IMPL=in-tree
# runs the same cases against the kernel's ipvlan/ipvtap (modprobe -r /
# modprobe for phase 5); all cases are expected to pass there as well.
# The modules are loaded again at exit in any case.
#
# The debug kernel is 3-4 times slower:
# tests/run: timeout 900
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping timeout
require_ipvlan

SECS=${FAULTS_SECONDS:-8}
WORKERS=${FAULTS_WORKERS:-8}
UNLOAD_MAX=${FAULTS_UNLOAD_MAX:-10}	# seconds an unload may take
MAX_LOSS=${FAULTS_MAX_LOSS:-20}		# % of pings the long-lived slaves may lose

OUTA=198.51.100.2	# the outside
HOSTA=198.51.100.1	# the master's address (the outside's gateway)

TG=$IPVTAP_REPO/tools/tapguest/tapguest
HAVE_IPERF=0
command -v iperf3 >/dev/null 2>&1 && HAVE_IPERF=1
HAD_IPVTAP=0
[ -d /sys/module/ipvtap ] && HAD_IPVTAP=1

# The harness's splat patterns (tools/vm/run).
SPLAT_RE='Oops|BUG:|WARNING:|KASAN|UBSAN:|lockdep is turned off|turning off the locking correctness validator|INFO: trying to register non-static key|possible circular locking|inconsistent lock state|suspicious RCU usage|refcount_t:|unreferenced object|general protection fault|Kernel panic|unregister_netdevice: waiting for'

PFX=$TEST_NAME-$$
TMP=$(mktemp -d) || ktap_bail "mktemp failed"

# ------------------------------------------------- processes, namespaces

BG_PIDS=()
MY_NS=()
RTNL_DEAD=0	# set when RTNL stays locked (a kernel BUG in netns cleanup)

# bg LOG CMD...: run CMD in the background, output to LOG; its pid in BGPID.
bg() {
	local log=$1

	shift
	"$@" >"$log" 2>&1 &
	BGPID=$!
	BG_PIDS+=("$BGPID")
}

# bg_kill PID...: SIGKILL and reap.
bg_kill() {
	local p

	for p in "$@"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

# wait_pid PID SECS: wait for PID (a child) to exit on its own within
# SECS; its exit status in WAIT_RC (255 and killed when it did not).
wait_pid() {
	local pid=$1 end=$((EPOCHSECONDS + $2))

	# Deadline by the clock: each external sleep costs under TCG.
	while kill -0 "$pid" 2>/dev/null && [ "$EPOCHSECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		bg_kill "$pid"
		WAIT_RC=255
		return 1
	fi
	wait "$pid"
	WAIT_RC=$?
	return 0
}

# ns_kill_pids NS: SIGKILL every process in NS.
ns_kill_pids() {
	local pids

	[ -e "/run/netns/$1" ] || return 0
	pids=$(ip netns pids "$1" 2>/dev/null)
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null
	return 0
}

# mkns LABEL...: create the namespaces "$PFX-LABEL" with one process.
mkns() {
	local l batch='' out

	for l in "$@"; do
		batch+="netns add $PFX-$l"$'\n'
		MY_NS+=("$PFX-$l")
	done
	out=$(ip -batch - <<<"$batch" 2>&1) ||
		ktap_bail "cannot create namespaces: $out"
}

# ns_teardown NS...: delete namespaces (after killing what runs in them)
# with one process. The masters (m0 of the "...h" namespaces) are deleted
# first, which takes their slaves: a master and its slave must not die in
# the same netns cleanup batch, except in phase 7, which tests exactly
# that (see there).
ns_teardown() {
	local ns batch=''

	for ns in "$@"; do
		[ -e "/run/netns/$ns" ] || continue
		ns_kill_pids "$ns"
		if [ "$RTNL_DEAD" -eq 0 ] && [[ $ns == *h ]]; then
			ip -n "$ns" link del m0 >/dev/null 2>&1
		fi
		batch+="netns del $ns"$'\n'
	done
	[ -z "$batch" ] || ip -batch - <<<"$batch" >/dev/null 2>&1
}

# delns LABEL...: ns_teardown of "$PFX-LABEL"...
delns() {
	local l nss=()

	for l in "$@"; do
		nss+=("$PFX-$l")
	done
	ns_teardown "${nss[@]}"
}

# modules_ensure: ipvlan (and ipvtap when it was loaded at the start, or
# with IMPL=in-tree) are loaded, so that later tests work.
ipvtap_load() {
	local ko=$IPVTAP_REPO/ipvtap/ipvtap.ko

	[ -d /sys/module/ipvtap ] && return 0
	if [ "$IMPL" = in-tree ]; then
		modprobe ipvtap
		return
	fi
	[ -z "$IPVTAP_MODULES" ] || ko=$IPVTAP_MODULES/ipvtap.ko
	modprobe tap 2>/dev/null
	insmod "$ko"
}

modules_ensure() {
	if [ ! -d /sys/module/ipvlan ]; then
		ipvlan_load || return 1
	fi
	if [ "$HAD_IPVTAP" -eq 1 ] || [ "$IMPL" = in-tree ]; then
		ipvtap_load || return 1
	fi
	[ -d /sys/module/ipvlan ]
}

cleanup() {
	local p

	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ns_teardown "${MY_NS[@]}"
	# With RTNL held by a crashed kernel thread, loading would hang.
	[ "$RTNL_DEAD" -eq 1 ] || modules_ensure
	rm -rf "$TMP"
}
defer cleanup

# ----------------------------------------------------------- kmsg scans

# kmsg_mark NAME: a marker line in the kernel log.
kmsg_mark() {
	echo "$TEST_NAME: mark $1" >/dev/kmsg
}

# dmesg_clean NAME: no splat in the kernel log since marker NAME.
dmesg_clean() {
	local new

	new=$(dmesg | sed -n "/$TEST_NAME: mark $1\$/,\$p")
	if [ -z "$new" ]; then
		echo "marker '$1' not found in dmesg"
		return 1
	fi
	if grep -qE "$SPLAT_RE" <<<"$new"; then
		echo "kernel log since '$1':"
		grep -E -B3 -A20 "$SPLAT_RE" <<<"$new" | head -n 120
		return 1
	fi
	return 0
}

# --------------------------------------------------------------- sites

# site TAG MODE FLAG N: namespaces TAGo, TAGh, TAG1..N; master m0 in TAGh,
# slaves TAG1..N (192.0.2.1..N) in their namespaces, all in MODE FLAG.
site() {
	local tag=$1 mode=$2 flag=$3 n=$4 i labels=("${1}o" "${1}h") hb ob

	for ((i = 1; i <= n; i++)); do
		labels+=("$tag$i")
	done
	mkns "${labels[@]}"
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

	[ -e "/run/netns/$PFX-$ns" ] || mkns "$ns"
	ip -n "$PFX-${tag}h" -batch - <<-EOF || return 1
	link add link m0 name $name type ipvlan mode $mode
	link set $name netns $PFX-$ns
	EOF
	slave_up "$PFX-$ns" "$name" "$addr" || return 1
	wait_ping "$PFX-$ns" "$OUTA" 10
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

# ms_since T0: milliseconds since T0 (an $EPOCHREALTIME value).
ms_since() {
	local t1=$EPOCHREALTIME

	echo $(((${t1/./} - ${1/./}) / 1000))
}

# stat_of NS DEV COUNTER
stat_of() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo 0
}

# flowing NS DEV: DEV's rx_packets grows by more than 20 in a second.
flowing() {
	local a b

	a=$(stat_of "$1" "$2" rx_packets)
	sleep 1
	b=$(stat_of "$1" "$2" rx_packets)
	echo "$2 rx_packets $a -> $b in 1 s"
	[ $((b - a)) -gt 20 ]
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
	IPERF_S=$BGPID
	sleep 0.5
	# No --connect-timeout: with it, iperf3 3.12 failed under load with
	# "unable to read from stream socket: Resource temporarily
	# unavailable" during the setup (seen once).
	bg "$log" ip netns exec "$ns" iperf3 -c "$OUTA" -u -b 4M -l 512 \
		-t "$secs"
	IPERF_C=$BGPID
}

# iperf_result LOG: the receiver's "lost/total (pct)" line; 0 when the
# client succeeded and something was received.
iperf_result() {
	local l re='([0-9]+)/([0-9]+) \(([0-9.e+-]+)%\)'

	l=$(grep -E 'receiver' "$1" | tail -n1)
	echo "iperf3 receiver: ${l:-none}"
	[[ $l =~ $re ]] || { cat "$1"; return 1; }
	IPERF_LOST=${BASH_REMATCH[1]} IPERF_TOTAL=${BASH_REMATCH[2]}
	[ "$IPERF_TOTAL" -gt "$IPERF_LOST" ]
}

# phase_done NAME: how long the phase took (diagnostic).
PHASE_T=$SECONDS
phase_done() {
	diag "$1 took $((SECONDS - PHASE_T)) s"
	PHASE_T=$SECONDS
}

ktap_plan 33
kmsg_mark start

# =========================================================== phase 1

diag "phase 1: $WORKERS workers churn slaves for ${SECS}s while a1..a3 ping the outside"
site a l2 bridge 3
W_LABELS=()
for ((i = 1; i <= WORKERS; i++)); do
	W_LABELS+=("w$i")
done
mkns "${W_LABELS[@]}"
# reach_all SLAVE...: each slave (named like its namespace) reaches the
# outside.
reach_all() {
	local s

	for s in "$@"; do
		wait_ping "$PFX-$s" "$OUTA" 10 || return 1
	done
}
check "phase 1: long-lived slaves a1..a3 reach the outside before" \
	reach_all a1 a2 a3

# worker I END: create/move/configure/ping/delete slave w<I> in namespace
# w<I> until END (epoch seconds); prints the totals, errors to stderr.
worker() {
	local i=$1 end=$2 ns=$PFX-w$1 name=w$1 addr=192.0.2.$((100 + $1))
	local modes=(l2 l3 l3s) flags=(bridge private vepa) m f e
	local iter=0 created=0 deleted=0 pinged=0 errors=0

	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		iter=$((iter + 1))
		m=${modes[RANDOM % 3]} f=${flags[RANDOM % 3]}
		if ! e=$(ip -n "$PFX-ah" -batch - 2>&1 <<-EOF
			link add link m0 name $name type ipvlan mode $m $f
			link set $name netns $ns
			EOF
		); then
			errors=$((errors + 1))
			echo "create $name mode $m $f: $e" >&2
			ip -n "$PFX-ah" link del "$name" 2>/dev/null
			ip -n "$ns" link del "$name" 2>/dev/null
			continue
		fi
		created=$((created + 1))
		if ! e=$(slave_up "$ns" "$name" "$addr" 2>&1); then
			errors=$((errors + 1))
			echo "configure $name: $e" >&2
		elif ip netns exec "$ns" ping -q -n -c 1 -W 1 "$OUTA" >/dev/null 2>&1; then
			pinged=$((pinged + 1))
		fi
		if e=$(ip -n "$ns" link del "$name" 2>&1); then
			deleted=$((deleted + 1))
		else
			errors=$((errors + 1))
			echo "delete $name: $e" >&2
		fi
	done
	echo "iter=$iter created=$created deleted=$deleted pinged=$pinged errors=$errors"
}

iperf_start a "$PFX-a3" "$SECS" "$TMP/p1-iperf"
for i in 1 2 3; do
	ping_bg "$TMP/p1-ping-a$i" "$PFX-a$i" "$OUTA" "$SECS"
	P1_PING[i]=$BGPID
done
end=$((EPOCHSECONDS + SECS))
W_PIDS=()
for ((i = 1; i <= WORKERS; i++)); do
	worker "$i" "$end" >"$TMP/p1-w$i" 2>"$TMP/p1-w$i.err" &
	W_PIDS+=("$!")
	BG_PIDS+=("$!")
done

# Wait for the workers (an iteration in progress at the deadline ends).
hung=0
for p in "${W_PIDS[@]}"; do
	wait_pid "$p" $((SECS + 60)) || hung=$((hung + 1))
done
for i in 1 2 3; do
	wait_pid "${P1_PING[i]}" 30
done
[ "$IPERF_C" -eq 0 ] || wait_pid "$IPERF_C" 30
[ "$IPERF_S" -eq 0 ] || wait_pid "$IPERF_S" 10

declare -A W=([iter]=0 [created]=0 [deleted]=0 [pinged]=0 [errors]=0)
idle=0
for ((i = 1; i <= WORKERS; i++)); do
	read -r -a kv <"$TMP/p1-w$i" 2>/dev/null || kv=()
	[ ${#kv[@]} -gt 0 ] || idle=$((idle + 1))
	for x in "${kv[@]}"; do
		k=${x%%=*}
		[ -n "${W[$k]+set}" ] && W[$k]=$((W[$k] + ${x#*=}))
	done
	for x in "${kv[@]}"; do
		[ "$x" != created=0 ] || idle=$((idle + 1))
	done
done
werr=$(cat "$TMP"/p1-w*.err 2>/dev/null | head -n 20)
diag "phase 1: iterations ${W[iter]}, slaves created+moved ${W[created]}, deleted ${W[deleted]}, pinged the outside ${W[pinged]}, errors ${W[errors]}"
if [ "$hung" -eq 0 ] && [ "$idle" -eq 0 ] && [ "${W[errors]}" -eq 0 ] &&
	[ "${W[created]}" -eq "${W[deleted]}" ] && [ -z "$werr" ]; then
	ktap_ok "phase 1: $WORKERS workers created, moved and deleted ${W[created]} slaves concurrently, no error"
else
	ktap_not_ok "phase 1: $WORKERS workers created, moved and deleted ${W[created]} slaves concurrently, no error"
	diag "workers hung: $hung, workers that created nothing: $idle"
	[ -z "$werr" ] || diag "$werr"
fi
check "phase 1: the worker slaves reached the outside (at least half of them)" \
	test $((W[pinged] * 2)) -ge "${W[created]}" -a "${W[created]}" -gt 0

leftovers() {
	local i n bad=0

	for ((i = 1; i <= WORKERS; i++)); do
		n=$(ip -n "$PFX-w$i" -o link show | grep -vc ': lo:')
		[ "$n" -eq 0 ] || { echo "w$i still has: $(ip -n "$PFX-w$i" -o link show)"; bad=1; }
	done
	if ip -n "$PFX-ah" -o link show | grep -q ': w[0-9]*@'; then
		echo "the master's namespace still has worker slaves"
		bad=1
	fi
	return "$bad"
}
check "phase 1: no worker slave left in any namespace" leftovers
delns "${W_LABELS[@]}"

p1_loss() {
	local i tx rx bad=0 msg=''

	for i in 1 2 3; do
		read -r tx rx < <(ping_counts "$TMP/p1-ping-a$i")
		msg+="a$i: $rx/$tx answered; "
		if [ "$tx" -lt 10 ] || [ $(((tx - rx) * 100)) -gt $((tx * MAX_LOSS)) ]; then
			bad=1
		fi
	done
	echo "$msg(at most $MAX_LOSS% may be lost)"
	return "$bad"
}
out=$(p1_loss)
rc=$?
diag "phase 1: $out"
if [ "$rc" -eq 0 ]; then
	ktap_ok "phase 1: the long-lived slaves kept their traffic during the churn"
else
	ktap_not_ok "phase 1: the long-lived slaves kept their traffic during the churn"
fi
if [ "$HAVE_IPERF" -eq 1 ]; then
	check "phase 1: an iperf3 UDP stream from a3 ran through the churn" \
		iperf_result "$TMP/p1-iperf"
	diag "$(grep -E 'receiver' "$TMP/p1-iperf" | tail -n1)"
else
	skip "phase 1: an iperf3 UDP stream from a3 ran through the churn" "iperf3 not installed"
fi

back_to_l2() {
	local i

	ip -n "$PFX-a1" link set a1 type ipvlan mode l2 bridge || return 1
	for i in 1 2 3; do
		link_has "$PFX-a$i" "a$i" "ipvlan  mode l2 bridge" || return 1
		wait_ping "$PFX-a$i" "$OUTA" 10 || return 1
	done
}
check "phase 1: afterwards, back in mode l2 bridge, a1..a3 reach the outside" back_to_l2

phase_done "phase 1"

# =========================================================== phase 2

diag "phase 2: mode/flag changes through random slaves for ${SECS}s under traffic"
for i in 1 2 3; do
	ping_bg "$TMP/p2-ping-a$i" "$PFX-a$i" "$OUTA" $((SECS + 1))
	P2_PING[i]=$BGPID
done
# And the outside pings a1 (outside -> slave in every mode).
ping_bg "$TMP/p2-ping-out" "$PFX-ao" 192.0.2.1 $((SECS + 1))
P2_OUT=$BGPID

changes=0 refused=0 documented=0 mismatch=0
refusals='' mismatches=''
modes=(l2 l3 l3s) flags=(bridge private vepa)
end=$((EPOCHSECONDS + SECS))
while [ "$EPOCHSECONDS" -lt "$end" ]; do
	m=${modes[RANDOM % 3]} f=${flags[RANDOM % 3]}
	k=$((RANDOM % 3 + 1))
	j=$((k % 3 + 1))
	changes=$((changes + 1))
	if ! e=$(ip -n "$PFX-a$k" link set "a$k" type ipvlan mode "$m" "$f" 2>&1); then
		# Documented refusals (none applies to this port: no VRF).
		if [[ $e == *"L3 master device"* ]]; then
			documented=$((documented + 1))
		else
			refused=$((refused + 1))
			refusals+="a$k mode $m $f: $e"$'\n'
		fi
		continue
	fi
	# Mode and flags are the port's: the other slave reports them.
	if ! e=$(link_has "$PFX-a$j" "a$j" "ipvlan  mode $m $f"); then
		mismatch=$((mismatch + 1))
		mismatches+="after a$k mode $m $f: $e"$'\n'
	fi
done
wait_pid "$P2_OUT" 30
for i in 1 2 3; do
	wait_pid "${P2_PING[i]}" 30
done
diag "phase 2: $changes changes, $refused refused ($documented documented refusals), $mismatch not seen on another slave"
if [ "$refused" -eq 0 ] && [ "$changes" -gt 0 ]; then
	ktap_ok "phase 2: $changes mode/flag changes under traffic, none refused"
else
	ktap_not_ok "phase 2: $changes mode/flag changes under traffic, none refused"
	diag "$(head -n 20 <<<"$refusals")"
fi
if [ "$mismatch" -eq 0 ]; then
	ktap_ok "phase 2: every change showed on another slave of the port"
else
	ktap_not_ok "phase 2: every change showed on another slave of the port"
	diag "$(head -n 20 <<<"$mismatches")"
fi

p2_traffic() {
	local i tx rx msg='' bad=0

	for i in 1 2 3; do
		read -r tx rx < <(ping_counts "$TMP/p2-ping-a$i")
		msg+="a$i->outside: $rx/$tx; "
		[ "$rx" -gt 0 ] || bad=1
	done
	read -r tx rx < <(ping_counts "$TMP/p2-ping-out")
	msg+="outside->a1: $rx/$tx"
	[ "$rx" -gt 0 ] || bad=1
	echo "$msg"
	return "$bad"
}
out=$(p2_traffic)
rc=$?
diag "phase 2: answered $out"
if [ "$rc" -eq 0 ]; then
	ktap_ok "phase 2: traffic flowed both ways during the changes"
else
	ktap_not_ok "phase 2: traffic flowed both ways during the changes"
fi
check "phase 2: back in mode l2 bridge, ip -d link says so and a1..a3 reach the outside" \
	back_to_l2

phase_done "phase 2"

# =========================================================== phase 3

kmsg_mark phase3
diag "phase 3: namespace, master and master-namespace deletion under traffic"
mkns n3
ip -n "$PFX-ah" -batch - <<-EOF || ktap_bail "cannot create slave n3"
link add link m0 name n3 type ipvlan mode l2
link set n3 netns $PFX-n3
EOF
ip -n "$PFX-n3" link set lo up
P3=()
for i in 1 2 3; do
	ping_bg "$TMP/p3-ping-a$i" "$PFX-a$i" "$OUTA" 60
	P3+=("$BGPID")
done
ping_bg "$TMP/p3-ping-out3" "$PFX-ao" 192.0.2.3 60
P3+=("$BGPID")
ping_bg "$TMP/p3-ping-out1" "$PFX-ao" 192.0.2.1 60
P3+=("$BGPID")

# ns_deleted: a3's namespace goes (its ping killed first, the outside
# still sends to it); the old slave is gone once n3 can take its address.
ns_deleted() {
	local t=$EPOCHREALTIME

	flowing "$PFX-ao" o0 || return 1
	ns_kill_pids "$PFX-a3"
	ip netns del "$PFX-a3" || return 1
	if ! wait_for 20 ip -n "$PFX-n3" addr add 192.0.2.3/32 dev n3; then
		echo "192.0.2.3 is still taken 20 s after a3's namespace was deleted"
		return 1
	fi
	echo "192.0.2.3 free again after $(ms_since "$t") ms"
	ip -n "$PFX-n3" link set n3 up &&
		ip -n "$PFX-n3" route add default dev n3 &&
		wait_ping "$PFX-n3" "$OUTA" 10
}
check "phase 3: a3's namespace deleted under traffic: the slave goes, a new slave takes its address" \
	ns_deleted
ping_bg "$TMP/p3-ping-n3" "$PFX-n3" "$OUTA" 60
P3+=("$BGPID")
check "phase 3: ... a1, a2 still reach the outside" reach_all a1 a2

# master_deleted: m0 deleted while a1, a2, n3 and the outside send.
master_deleted() {
	local t=$SECONDS s

	flowing "$PFX-ao" o0 || return 1
	timeout 60 ip -n "$PFX-ah" link del m0 || return 1
	echo "ip link del m0 took $((SECONDS - t - 1)) s"
	for s in a1 a2 n3; do
		wait_for 10 dev_absent "$PFX-$s" "$s" || return 1
	done
	dev_absent "$PFX-ao" o0
}
check "phase 3: the master deleted under traffic: a1, a2, n3 vanish from their namespaces" \
	master_deleted
bg_kill "${P3[@]}"

# Site b: master in its own namespace, slaves in mode l3s; its namespace
# is deleted under traffic.
site b l3s bridge 2
reach_all b1 b2 >/dev/null || diag "phase 3: site b does not reach the outside"
P3=()
ping_bg "$TMP/p3-ping-b1" "$PFX-b1" "$OUTA" 60
P3+=("$BGPID")
ping_bg "$TMP/p3-ping-b2" "$PFX-b2" "$OUTA" 60
P3+=("$BGPID")
ping_bg "$TMP/p3-ping-bo" "$PFX-bo" 192.0.2.1 60
P3+=("$BGPID")
master_ns_deleted() {
	local s

	flowing "$PFX-bo" o0 || return 1
	ip netns del "$PFX-bh" || return 1
	for s in b1 b2; do
		wait_for 20 dev_absent "$PFX-$s" "$s" || return 1
	done
	wait_for 10 dev_absent "$PFX-bo" o0
}
check "phase 3: the master's namespace deleted under traffic (l3s): b1, b2 vanish" \
	master_ns_deleted
bg_kill "${P3[@]}"
delns a1 a2 n3 ah ao b1 b2 bo
check "phase 3: kernel log clean (no splat, no 'unregister_netdevice: waiting for')" \
	dmesg_clean phase3

phase_done "phase 3"

# =========================================================== phase 4

kmsg_mark phase4
P4_CASES=(
	"phase 4: ipvtap deleted while 2 tapguests write to its fd: ip link del returns, node gone"
	"phase 4: ... the outside stops receiving the guest's flood"
	"phase 4: ... the UDP-flooding tapguest ends with a clean error (exit 1), no hang"
	"phase 4: ... the pinging tapguest ends with a clean error (exit 1), no hang"
	"phase 4: kernel log clean"
)
p4_skip() {
	local c

	for c in "${P4_CASES[@]}"; do
		skip "$c" "$1"
	done
}

mkns po ph
ip -n "$PFX-ph" -batch - <<-EOF || ktap_bail "phase 4: cannot set up the master"
link set lo up
link add m0 type veth peer name o0 netns $PFX-po
link set m0 up
addr add $HOSTA/24 dev m0
EOF
ip -n "$PFX-po" -batch - <<-EOF || ktap_bail "phase 4: cannot set up the outside"
link set lo up
link set o0 up
addr add $OUTA/24 dev o0
route add 192.0.2.0/24 via $HOSTA
EOF
if [ ! -x "$TG" ]; then
	p4_skip "tools/tapguest/tapguest not built"
elif [ "$IMPL" = ours ] && [ ! -d /sys/module/ipvtap ]; then
	p4_skip "our ipvtap.ko is not loaded"
elif ! out=$(ip -n "$PFX-ph" link add link m0 name t0 type ipvtap mode l2 2>&1); then
	p4_skip "no ipvtap link kind: $out"
else
	GUEST=192.0.2.50
	OUT_MAC=$(dev_mac "$PFX-po" o0)
	ip -n "$PFX-ph" addr add "$GUEST/32" dev t0
	ip -n "$PFX-ph" link set t0 up
	IFX=$(ip netns exec "$PFX-ph" cat /sys/class/net/t0/ifindex)
	TAP=/dev/tap$IFX
	if ! wait_for 5 test -c "$TAP" >/dev/null; then
		# No devtmpfs node: make one (ipvtap_guest.sh reports that).
		dev=$(ip netns exec "$PFX-ph" cat "/sys/class/net/t0/tap$IFX/dev")
		mknod "$TAP" c "${dev%%:*}" "${dev##*:}"
		defer "rm -f '$TAP'"
	fi
	GARGS=(--tap "$TAP" --ip4 "$GUEST/24" --gw4 "$OUTA"
	       --neigh "$OUTA=$OUT_MAC" --timeout $((SECS + 2)) --json)
	bg "$TMP/p4-flood" ip netns exec "$PFX-ph" "$TG" "${GARGS[@]}" \
		--udp-flood "$OUTA:9" --count 100000000 --size 256
	G_FLOOD=$BGPID
	bg "$TMP/p4-ping" ip netns exec "$PFX-ph" "$TG" "${GARGS[@]}" \
		--ping4 "$OUTA" --count 1000
	G_PING=$BGPID
	ping_bg "$TMP/p4-ping-out" "$PFX-po" "$GUEST" $((SECS + 2))
	P4_OUT=$BGPID
	sleep $((SECS / 2))

	tap_deleted() {
		local t=$SECONDS

		flowing "$PFX-po" o0 || return 1
		kill -0 "$G_FLOOD" "$G_PING" 2>/dev/null ||
			{ echo "a tapguest exited before the deletion"; return 1; }
		timeout 60 ip -n "$PFX-ph" link del t0 || return 1
		echo "ip link del t0 took $((SECONDS - t - 1)) s"
		wait_for 5 test ! -e "$TAP" ||
			{ echo "$TAP still exists"; return 1; }
	}
	check "${P4_CASES[0]}" tap_deleted

	stopped() {
		local a b

		sleep 0.5
		a=$(stat_of "$PFX-po" o0 rx_packets)
		sleep 1.5
		b=$(stat_of "$PFX-po" o0 rx_packets)
		echo "o0 rx_packets $a -> $b in 1.5 s after the deletion"
		[ $((b - a)) -lt 20 ]
	}
	check "${P4_CASES[1]}" stopped

	# Both guests must exit on their own by their --timeout (plus a
	# margin) with status 1 and their summary (waited for here, in this
	# shell: check runs its command in a subshell).
	t=$EPOCHREALTIME
	wait_pid "$G_FLOOD" $((SECS + 15))
	RC_FLOOD=$WAIT_RC
	wait_pid "$G_PING" $((SECS + 15))
	RC_PING=$WAIT_RC
	diag "phase 4: the guests (--timeout $((SECS + 2)) s) exited $(ms_since "$t") ms after the checks above"

	# guest_ended RC LOG PATTERN
	guest_ended() {
		cat "$2"
		if [ "$1" -eq 255 ]; then
			echo "tapguest did not exit: killed"
			return 1
		fi
		echo "tapguest exit status $1"
		[ "$1" -eq 1 ] && grep -q "$3" "$2"
	}
	check "${P4_CASES[2]}" guest_ended "$RC_FLOOD" "$TMP/p4-flood" '^udp-flood: sent'
	diag "phase 4: $(grep -E '^udp-flood' "$TMP/p4-flood" | tr '\n' ' ')"
	check "${P4_CASES[3]}" guest_ended "$RC_PING" "$TMP/p4-ping" '^ping .* received'
	diag "phase 4: guest $(grep -E '^ping .* sent' "$TMP/p4-ping")"
	wait_pid "$P4_OUT" 30
	check "${P4_CASES[4]}" dmesg_clean phase4
fi
delns ph po

phase_done "phase 4"

# =========================================================== phase 5

kmsg_mark phase5

# heavy_start MODE: site c (c1, c2 in MODE, and an ipvtap tv0 when the
# kind exists), floods: ping -f from c1 and c2, outside -> c1, iperf3
# c2 -> outside, and the tapguest flood on tv0. Pids in HEAVY.
heavy_start() {
	local mode=$1

	HEAVY=() HAVE_TV=0
	site c "$mode" bridge 2
	wait_ping "$PFX-c1" "$OUTA" 10 >/dev/null || return 1
	wait_ping "$PFX-c2" "$OUTA" 5 >/dev/null || return 1
	if [ -x "$TG" ] && { [ "$IMPL" = in-tree ] || [ -d /sys/module/ipvtap ]; } &&
		ip -n "$PFX-ch" link add link m0 name tv0 type ipvtap mode "$mode" 2>/dev/null; then
		HAVE_TV=1
		ip -n "$PFX-ch" addr add 192.0.2.60/32 dev tv0
		ip -n "$PFX-ch" link set tv0 up
		IFX=$(ip netns exec "$PFX-ch" cat /sys/class/net/tv0/ifindex)
		wait_for 5 test -c "/dev/tap$IFX" >/dev/null
		bg "$TMP/p5-tg-$mode" ip netns exec "$PFX-ch" "$TG" \
			--tap "/dev/tap$IFX" --ip4 192.0.2.60/24 --gw4 "$OUTA" \
			--neigh "$OUTA=$(dev_mac "$PFX-co" o0)" --timeout $((SECS / 2)) \
			--udp-flood "$OUTA:9" --count 200000 --size 256
		TG_PID=$BGPID
	fi
	bg "$TMP/p5-f1-$mode" ip netns exec "$PFX-c1" ping -q -n -f -w 60 "$OUTA"
	HEAVY+=("$BGPID")
	bg "$TMP/p5-f2-$mode" ip netns exec "$PFX-c2" ping -q -n -f -w 60 "$OUTA"
	HEAVY+=("$BGPID")
	bg "$TMP/p5-fo-$mode" ip netns exec "$PFX-co" ping -q -n -f -w 60 192.0.2.1
	HEAVY+=("$BGPID")
	iperf_start c "$PFX-c2" 60 "$TMP/p5-iperf-$mode"
	[ "$IPERF_C" -eq 0 ] || HEAVY+=("$IPERF_C" "$IPERF_S")
	flowing "$PFX-co" o0 >/dev/null
}

heavy_stop() {
	bg_kill "${HEAVY[@]}"
	HEAVY=()
}

# unload_timed: unload ipvtap and ipvlan within UNLOAD_MAX seconds.
unload_timed() {
	local t0=$EPOCHREALTIME ms

	if ! timeout -k 5 60 bash -c "$(declare -f ipvlan_unload); ipvlan_unload"; then
		echo "unload failed"
		lsmod | grep -E '^(ipvlan|ipvtap|tap) '
		return 1
	fi
	ms=$(ms_since "$t0")
	echo "unloaded in $ms ms"
	[ "$ms" -le $((UNLOAD_MAX * 1000)) ]
}

# after_unload: the slaves and the ipvtap are gone, the master is up.
after_unload() {
	local s

	for s in c1 c2; do
		wait_for 5 dev_absent "$PFX-$s" "$s" || return 1
	done
	dev_absent "$PFX-ch" tv0 || return 1
	ip -n "$PFX-ch" link show dev m0 | grep -q 'state UP' ||
		{ echo "m0 is not up"; ip -n "$PFX-ch" link show dev m0; return 1; }
}

# reload_fresh MODE: the modules load again; a fresh slave on m0 works.
reload_fresh() {
	modules_ensure || { echo "cannot load the modules again"; return 1; }
	new_slave c "c9" "c9" 192.0.2.9 "$1"
}

# Run 1: heavy use, traffic stopped, unload at once.
diag "phase 5: heavy use for $((SECS / 2))s, traffic stopped, then unload"
heavy_start l2 || diag "phase 5: site c does not reach the outside"
sleep $((SECS / 2))
heavy_stop
[ "$HAVE_TV" -eq 0 ] || wait_pid "$TG_PID" $((SECS + 15))
[ "$HAVE_TV" -eq 0 ] || diag "phase 5: $(grep -E '^udp-flood: sent' "$TMP/p5-tg-l2")"
check "phase 5: unload right after heavy use (ipvtap: $HAVE_TV) succeeds within ${UNLOAD_MAX}s" \
	unload_timed
check "phase 5: ... slaves$([ "$HAVE_TV" -eq 0 ] || echo ' and ipvtap') gone, master up" after_unload
check "phase 5: ... loaded again, a fresh slave works" reload_fresh l2
delns c1 c2 c9 ch co

# Run 2: the same in mode l3s, unloaded with the traffic running.
diag "phase 5: heavy use in l3s, unload with the traffic running"
heavy_start l3s || diag "phase 5: site c (l3s) does not reach the outside"
sleep $((SECS / 2))
[ "$HAVE_TV" -eq 0 ] || wait_pid "$TG_PID" $((SECS + 15))
check "phase 5: unload under traffic (mode l3s) succeeds within ${UNLOAD_MAX}s" \
	unload_timed
check "phase 5: ... slaves gone, master up" after_unload
heavy_stop
check "phase 5: ... loaded again, a fresh l3s slave works" reload_fresh l3s
delns c1 c2 c9 ch co
check "phase 5: kernel log clean" dmesg_clean phase5

phase_done "phase 5"

# =========================================================== phase 6

KML=/sys/kernel/debug/kmemleak
if [ -w "$KML" ]; then
	# Objects must be 5 s old to be reported; scan twice (RCU frees).
	kmemleak_clean() {
		local rep

		sleep 6
		echo scan >"$KML"
		sleep 6
		echo scan >"$KML"
		rep=$(cat "$KML")
		echo "$(grep -c '^unreferenced object' <<<"$rep") unreferenced objects in total"
		if grep -qE 'ipvl|ipvtap|\[tap\]|tap_' <<<"$rep"; then
			grep -E -B12 -A4 'ipvl|ipvtap|\[tap\]|tap_' <<<"$rep" | head -n 80
			return 1
		fi
	}
	check "phase 6: kmemleak: no unreferenced ipvlan/ipvtap object" kmemleak_clean
else
	skip "phase 6: kmemleak: no unreferenced ipvlan/ipvtap object" \
		"no $KML (not a debug kernel)"
fi

phase_done "phase 6"

# =========================================================== phase 7
#
# A master and its slave unregistered in the same netns cleanup batch.
# Run last: a driver that deletes such a slave a second time (from the
# master's NETDEV_UNREGISTER, while it is already queued) hits the BUG_ON
# in unregister_netdevice_many() in the cleanup worker, with RTNL held:
# every later RTNL user would hang. rtnl_probe notices that, the cases
# fail with the kernel log, and the cleanup then avoids RTNL.

# rtnl_probe SECS: an RTNL request completes within SECS (else RTNL_DEAD;
# the stuck process is left behind: it cannot be killed).
rtnl_probe() {
	local pid end=$((EPOCHSECONDS + $1))

	ip link set lo up </dev/null >/dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ "$EPOCHSECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		RTNL_DEAD=1
		return 1
	fi
	wait "$pid"
	return 0
}

# p7_result MARK NS DEV...: RTNL works, each DEV is gone from NS (pairs
# "NS DEV"), no splat since MARK.
p7_result() {
	local mark=$1 rc=0

	shift
	if [ "$RTNL_DEAD" -eq 1 ]; then
		echo "RTNL stays locked after the namespace deletion"
		dmesg_clean "$mark"
		return 1
	fi
	while [ $# -ge 2 ]; do
		wait_for 20 dev_absent "$1" "$2" || rc=1
		shift 2
	done
	dmesg_clean "$mark" || rc=1
	return "$rc"
}

# p7_site TAG: site TAG with slave TAG1 in its namespace, traffic from it
# and from the outside to it (pids in P7).
p7_site() {
	site "$1" l2 bridge 1
	reach_all "${1}1" >/dev/null || diag "phase 7: site $1 does not reach the outside"
	P7=()
	ping_bg "$TMP/p7-$1-s" "$PFX-${1}1" "$OUTA" 60
	P7+=("$BGPID")
	ping_bg "$TMP/p7-$1-o" "$PFX-${1}o" 192.0.2.1 60
	P7+=("$BGPID")
}

# 7a: the slave's namespace and the master's namespace deleted together:
# one process holds both (after their names are gone) and exits, so both
# are freed at once, the master's last: the cleanup worker takes them in
# one batch, the master's namespace first (its list is LIFO).
kmsg_mark phase7a
p7_site e
sleep 1
bash -c 'exec 3<"$1" 4<"$2"; exec sleep 300' - \
	"/run/netns/$PFX-e1" "/run/netns/$PFX-eh" </dev/null >/dev/null 2>&1 &
HOLDER=$!
BG_PIDS+=("$HOLDER")
sleep 0.5
ns_kill_pids "$PFX-e1"
bg_kill "${P7[0]}"	# e1's ping; the outside's goes on
ip -batch - >/dev/null 2>&1 <<-EOF
netns del $PFX-e1
netns del $PFX-eh
EOF
bg_kill "$HOLDER"
rtnl_probe 20
bg_kill "${P7[1]}"
check "phase 7: a slave's and its master's namespaces deleted together under traffic: no splat, RTNL free, the master's veth peer goes" \
	p7_result phase7a "$PFX-eo" o0

# 7b: deterministic: the master moved to another namespace and back is
# listed after a slave left in its namespace, so the namespace's cleanup
# unregisters the master first, with that slave in the same batch.
kmsg_mark phase7b
if [ "$RTNL_DEAD" -eq 1 ]; then
	skip "phase 7: the master's namespace deleted with a slave inside, the master listed last: no splat, RTNL free, the other slave goes" \
		"RTNL is stuck since 7a"
else
	p7_site f
	mkns fx
	ip -n "$PFX-fh" -batch - <<-EOF || diag "phase 7: cannot set up f2 / move m0"
	link add link m0 name f2 type ipvlan mode l2
	addr add 192.0.2.2/32 dev f2
	link set f2 up
	link set m0 netns $PFX-fx
	EOF
	ip -n "$PFX-fx" link set m0 netns "$PFX-fh"
	ip -n "$PFX-fh" -batch - <<-EOF || diag "phase 7: cannot bring m0 back up"
	addr add $HOSTA/24 dev m0
	link set m0 up
	EOF
	diag "phase 7: $PFX-fh: $(ip -n "$PFX-fh" -o link show | awk '{ printf "%s ", $2 }')"
	ping_bg "$TMP/p7-f-o2" "$PFX-fo" 192.0.2.2 60
	P7+=("$BGPID")
	sleep 1
	ip netns del "$PFX-fh"
	rtnl_probe 20
	bg_kill "${P7[@]}"
	check "phase 7: the master's namespace deleted with a slave inside, the master listed last: no splat, RTNL free, the other slave goes" \
		p7_result phase7b "$PFX-f1" f1 "$PFX-fo" o0
	[ "$RTNL_DEAD" -eq 1 ] || delns f1 fo fx
fi
[ "$RTNL_DEAD" -eq 1 ] || delns e1 eh eo

phase_done "phase 7"

# bg_all_ended: no background process of the test is still running.
bg_all_ended() {
	local p st alive=0

	for p in "${BG_PIDS[@]}"; do
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$st" = Z ] && continue
		echo "still running: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		alive=1
	done
	return "$alive"
}
check "every background process of the test has ended" bg_all_ended
check "kernel log clean since the start" dmesg_clean start

ktap_finish
