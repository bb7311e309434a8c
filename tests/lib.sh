# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers sourced by every tests/*.sh (kselftest style). Tests run as root
# inside the QEMU guest (tools/vm/run); each builds its own namespaces,
# prints KTAP and exits 0 (pass), 1 (fail) or 4 (skip).
#
#   . "$(dirname "$0")/lib.sh"
#   ktap_plan 3
#   check "slave pings outside" ns_exec "$NS_S1" ping -c1 192.0.2.254
#   check_fail "mode foo is refused" ip link add ... mode foo
#   skip "needs foo" "foo not installed"
#   ktap_finish
#
# Addresses used (inside the guest's namespaces only; documentation ranges):
#   outside: 192.0.2.254/24, 2001:db8::fe/64   slave i: 192.0.2.i, 2001:db8::i

set -u

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
IMPL=${IMPL:-ours}
IPVTAP_REPO=${IPVTAP_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# IPVTAP_MODULES: where tools/vm/run put its copy of ipvlan.ko/ipvtap.ko
# taken when the VM started (unset: use the repo's build directly).
IPVTAP_MODULES=${IPVTAP_MODULES:-}
export IMPL IPVTAP_REPO IPVTAP_MODULES

NET4=192.0.2
NET6=2001:db8:
OUT4=$NET4.254
OUT6=$NET6:fe

_ktap_n=0
_ktap_pass=0
_ktap_fail=0
_ktap_skip=0
_ktap_plan=
_ktap_header=0

# ---------------------------------------------------------------- KTAP

ktap_header() {
	[ "$_ktap_header" -eq 1 ] && return
	_ktap_header=1
	echo "KTAP version 1"
}

ktap_plan() {
	ktap_header
	_ktap_plan=$1
	echo "1..$1"
}

# diag MSG...: "# " comment lines (multi-line messages are split).
diag() {
	local l

	while IFS= read -r l; do
		echo "# $l"
	done <<<"$*"
}

ktap_ok() {
	_ktap_n=$((_ktap_n + 1))
	_ktap_pass=$((_ktap_pass + 1))
	echo "ok $_ktap_n $1"
}

ktap_not_ok() {
	_ktap_n=$((_ktap_n + 1))
	_ktap_fail=$((_ktap_fail + 1))
	echo "not ok $_ktap_n $1"
}

# skip DESC REASON
skip() {
	_ktap_n=$((_ktap_n + 1))
	_ktap_skip=$((_ktap_skip + 1))
	echo "ok $_ktap_n $1 # SKIP ${2:-}"
}

# check DESC CMD...: one case, passes when CMD exits 0. On failure the
# command and its output are printed as diagnostics. Returns CMD's status.
check() {
	local desc=$1 out rc

	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ktap_ok "$desc"
	else
		ktap_not_ok "$desc"
		diag "command: $* (exit $rc)"
		[ -z "$out" ] || diag "$out"
	fi
	return "$rc"
}

# check_fail DESC CMD...: one case, passes when CMD exits non-zero.
check_fail() {
	local desc=$1 out rc

	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		ktap_ok "$desc"
		[ -z "$out" ] || diag "refused as expected: $out"
		return 0
	fi
	ktap_not_ok "$desc"
	diag "command unexpectedly succeeded: $*"
	[ -z "$out" ] || diag "$out"
	return 1
}

# ktap_skip_all REASON: the whole test is skipped (exit 4).
ktap_skip_all() {
	ktap_header
	echo "1..0 # SKIP $1"
	exit "$KSFT_SKIP"
}

# ktap_bail REASON: cannot go on (setup failed); exit 1.
ktap_bail() {
	echo "Bail out! $1"
	exit "$KSFT_FAIL"
}

# ktap_finish: print totals and exit 0/1/4 (runs the cleanup via EXIT).
ktap_finish() {
	if [ -n "$_ktap_plan" ] && [ "$_ktap_n" -ne "$_ktap_plan" ]; then
		ktap_not_ok "plan: $_ktap_plan cases planned, $_ktap_n run"
	fi
	echo "# $TEST_NAME: pass:$_ktap_pass fail:$_ktap_fail skip:$_ktap_skip"
	if [ "$_ktap_fail" -gt 0 ]; then
		exit "$KSFT_FAIL"
	elif [ "$_ktap_pass" -eq 0 ] && [ "$_ktap_skip" -gt 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}

# ------------------------------------------------------- requirements

require_root() {
	[ "$(id -u)" -eq 0 ] || ktap_skip_all "must run as root (inside the test VM)"
}

# require_cmd CMD...: skip the test when a tool is missing.
require_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			ktap_skip_all "'$c' not installed (run 'make deps')"
	done
}

# require_ipvlan: the implementation under test must be loaded.
require_ipvlan() {
	[ -d /sys/module/ipvlan ] ||
		ktap_skip_all "ipvlan module not loaded (run the tests via 'make check')"
}

# ------------------------------------------------------- cleanup hooks

_cleanup_cmds=()
_ns_list=()
BG_PIDS=()

# defer CMD...: run CMD (as one string, eval'd) at exit, last-in first-out.
defer() {
	_cleanup_cmds+=("$*")
}

# At exit: the background processes of bg end first, then the deferred
# commands run, then every namespace of ns_create goes (one process).
_lib_cleanup() {
	local i

	set +e
	bg_kill "${BG_PIDS[@]}"
	for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_cmds[$i]}" >/dev/null 2>&1
	done
	# Newest first, as they were created.
	for ((i = ${#_ns_list[@]} - 1; i >= 0; i--)); do
		_ns_rev+=("${_ns_list[$i]}")
	done
	ns_del "${_ns_rev[@]}"
}
_ns_rev=()
trap _lib_cleanup EXIT
trap 'exit 1' INT TERM

# ------------------------------------------------------------ processes

# bg LOG CMD...: run CMD in the background, output to LOG; its pid in
# BGPID. Killed at exit if still running.
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

# wait_pid PID SECS: wait for PID (a child of this shell) to exit on its
# own within SECS; its exit status in WAIT_RC (255 and killed when it did
# not: then returns 1).
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
	# shellcheck disable=SC2034 # for the tests
	WAIT_RC=$?
	return 0
}

# bg_all_ended: no process started by bg is still running.
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

# ms_since T0: milliseconds since T0 (an $EPOCHREALTIME value).
ms_since() {
	local t1=$EPOCHREALTIME

	echo $(((${t1/./} - ${1/./}) / 1000))
}

# ----------------------------------------------------------- kernel log

# SPLAT_RE and HANG_RE: the patterns tools/vm/run fails a run on.
# shellcheck source=tools/vm/splat.sh
. "$IPVTAP_REPO/tools/vm/splat.sh"

# kmsg_mark [NAME]: a marker line "<test>: mark NAME" in the kernel log
# (default NAME: the next number); dmesg_clean scans from the latest one.
KMSG_MARK=0
kmsg_mark() {
	KMSG_MARK=$((KMSG_MARK + 1))
	KMSG_LAST=${1:-$KMSG_MARK}
	echo "$TEST_NAME: mark $KMSG_LAST" >/dev/kmsg
}

# dmesg_clean [NAME]: no line of the kernel log since marker NAME (default:
# the latest kmsg_mark) matches SPLAT_RE; prints the splat when one does.
dmesg_clean() {
	local mark="$TEST_NAME: mark ${1:-${KMSG_LAST:-}}" new

	new=$(dmesg | awk -v m="$mark" '
		!f && length($0) >= length(m) &&
		    substr($0, length($0) - length(m) + 1) == m { f = 1 }
		f')
	if [ -z "$new" ]; then
		echo "marker '$mark' not found in dmesg"
		return 1
	fi
	if grep -qE "$SPLAT_RE" <<<"$new"; then
		echo "kernel log since '$mark':"
		grep -E -B3 -A20 "$SPLAT_RE" <<<"$new" | head -n 120
		return 1
	fi
	return 0
}

# ----------------------------------------------------------- namespaces

# ns_create [--bare] [VAR:]LABEL...: create the namespaces
# "<test>-<pid>-LABEL" with one process, store each name in VAR (may be
# an array element, "NS_S[1]:s1"), delete them at exit. Unless --bare,
# lo is up and DAD off in each (a test that wants DAD turns accept_dad on
# for its device); --bare leaves lo down and DAD on (two processes less
# per namespace: under TCG every process costs).
ns_create() {
	# Underscored locals: the VARs are the caller's (e.g. "out").
	local _bare=0 _spec _name _batch='' _out _names=()

	[ "${1:-}" != --bare ] || { _bare=1; shift; }
	for _spec in "$@"; do
		_name="$TEST_NAME-$$-${_spec#*:}"
		_batch+="netns add $_name"$'\n'
		[[ $_spec != *:* ]] || printf -v "${_spec%%:*}" '%s' "$_name"
		_ns_list+=("$_name")
		_names+=("$_name")
	done
	_out=$(ip -batch - <<<"$_batch" 2>&1) ||
		ktap_bail "cannot create namespaces: $_out"
	[ "$_bare" -eq 0 ] || return 0
	for _name in "${_names[@]}"; do
		ip -n "$_name" link set lo up
		ip netns exec "$_name" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
	done
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

# ns_del NS...: kill what runs in the namespaces, then delete them with
# one process (those already gone are passed over).
ns_del() {
	local ns batch=''

	for ns in "$@"; do
		[ -e "/run/netns/$ns" ] || continue
		ns_kill_pids "$ns"
		batch+="netns del $ns"$'\n'
	done
	[ -z "$batch" ] || ip -batch - <<<"$batch" >/dev/null 2>&1
	return 0
}

ns_exec() {
	local ns=$1

	shift
	ip netns exec "$ns" "$@"
}

# dev_mac NS DEV: print DEV's MAC address.
dev_mac() {
	ip -n "$1" -br link show dev "$2" | awk '{ print $3 }'
}

# mac_is NS DEV MAC: DEV's MAC address is MAC.
mac_is() {
	local got

	got=$(dev_mac "$1" "$2")
	[ "$got" = "$3" ] && return 0
	echo "$2 has MAC '$got', want '$3'"
	return 1
}

# wait_ping NS ADDR [SECONDS]: ping until ADDR answers (default 10 s).
wait_ping() {
	local ns=$1 addr=$2 secs=${3:-10} i

	for ((i = 0; i < secs * 2; i++)); do
		ip netns exec "$ns" ping -q -c 1 -W 1 "$addr" >/dev/null 2>&1 &&
			return 0
		sleep 0.5
	done
	ip netns exec "$ns" ping -c 1 -W 1 "$addr"
	return 1
}

# ping_ok NS ADDR: a few echo requests, all must be answered.
ping_ok() {
	ip netns exec "$1" ping -q -c 3 -i 0.2 -W 2 "$2"
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	local secs=$1 i

	shift
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@"
}

# ------------------------------------------------------------ topology

# add_ipvlan NS MASTER NAME [ipvlan args...]: create an ipvlan slave.
add_ipvlan() {
	local ns=$1 master=$2 name=$3

	shift 3
	ip -n "$ns" link add link "$master" name "$name" type ipvlan "$@"
}

# link_has NS DEV TEXT: `ip -d link show DEV` in NS contains TEXT
# (e.g. "ipvlan  mode l2 bridge"); prints the output when it does not.
link_has() {
	local got

	got=$(ip -n "$1" -d link show dev "$2" 2>&1)
	[[ $got == *"$3"* ]] && return 0
	echo "'ip -d link show $2' lacks '$3':"
	echo "$got"
	return 1
}

# dev_absent NS DEV: DEV does not exist in NS.
dev_absent() {
	if ip -n "$1" link show dev "$2" >/dev/null 2>&1; then
		echo "$2 still exists in $1"
		return 1
	fi
	return 0
}

# neigh_is NS ADDR MAC: NS resolved ADDR (ARP or ND) to MAC.
neigh_is() {
	local got

	got=$(ip -n "$1" neigh show "$2" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
	[ "$got" = "$3" ] && return 0
	echo "neighbour $2 in $1: '$got', want '$3'"
	ip -n "$1" neigh show
	return 1
}

# stat_of NS DEV COUNTER: DEV's statistics/COUNTER (0 when unreadable).
stat_of() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || echo 0
}

# tap_node NS DEV: TAP=/dev/tap<ifindex> of the ipvtap DEV, after up to
# 5 s for devtmpfs to make it; without one it is made here (mknod,
# removed at exit) so that the test can go on, and TAP_MKNOD=1.
TAP_MKNOD=0
tap_node() {
	local idx dev

	TAP=
	idx=$(ip netns exec "$1" cat "/sys/class/net/$2/ifindex") || return 1
	TAP=/dev/tap$idx
	wait_for 5 test -c "$TAP" >/dev/null && return 0
	dev=$(ip netns exec "$1" cat "/sys/class/net/$2/tap$idx/dev") || return 1
	mknod "$TAP" c "${dev%%:*}" "${dev##*:}" || return 1
	defer "rm -f '$TAP'"
	# shellcheck disable=SC2034 # for the tests
	TAP_MKNOD=1
}

# setup_master [SUFFIX]: NS_HOST (label "host$SUFFIX") with master m0
# (veth, up, no address), its peer o0 in NS_OUT ("out$SUFFIX") with
# OUT4/24 and OUT6/64 (the outside host); sets MASTER_MAC and OUT_MAC.
setup_master() {
	ns_create "NS_OUT:out${1:-}" "NS_HOST:host${1:-}"
	ip -n "$NS_HOST" link add m0 type veth peer name o0 netns "$NS_OUT" ||
		ktap_bail "cannot create the veth master"
	# SETUP_MASTER_MAC: a fixed MAC for m0 (before any slave takes it).
	[ -z "${SETUP_MASTER_MAC:-}" ] ||
		ip -n "$NS_HOST" link set m0 address "$SETUP_MASTER_MAC" ||
		ktap_bail "cannot set m0's MAC to $SETUP_MASTER_MAC"
	ip -n "$NS_HOST" link set m0 up
	ip -n "$NS_OUT" link set o0 up
	ip -n "$NS_OUT" addr add "$OUT4/24" dev o0
	ip -n "$NS_OUT" addr add "$OUT6/64" dev o0 nodad
	# shellcheck disable=SC2034 # for the tests
	MASTER_MAC=$(dev_mac "$NS_HOST" m0)
	# shellcheck disable=SC2034 # for the tests
	OUT_MAC=$(dev_mac "$NS_OUT" o0)
}

# setup_l2_topology N [ipvlan args...] (default: mode l2)
#
#   NS_OUT: "outside" host, veth o0 (192.0.2.254, 2001:db8::fe)
#   NS_HOST: veth m0 = the ipvlan master (no address)
#   NS_S[i], i=1..N: slave s<i> (192.0.2.i, 2001:db8::i)
#   MASTER_MAC, OUT_MAC
# shellcheck disable=SC2034 # MASTER_MAC, OUT_MAC are for the tests
setup_l2_topology() {
	local n=$1 i

	shift
	[ $# -gt 0 ] || set -- mode l2

	setup_master
	NS_S=("")
	for ((i = 1; i <= n; i++)); do
		ns_create "NS_S[$i]:s$i"
		add_ipvlan "$NS_HOST" m0 "s$i" "$@" ||
			ktap_bail "cannot create ipvlan slave s$i ($*)"
		ip -n "$NS_HOST" link set "s$i" netns "${NS_S[$i]}" ||
			ktap_bail "cannot move s$i into ${NS_S[$i]}"
		ip -n "${NS_S[$i]}" link set "s$i" up
		ip -n "${NS_S[$i]}" addr add "$NET4.$i/24" dev "s$i"
		ip -n "${NS_S[$i]}" addr add "$NET6:$i/64" dev "s$i" nodad
	done
}

# ------------------------------------------------------------- modules

# ipvlan_unload: remove the implementation under test (ipvtap first).
ipvlan_unload() {
	local m

	for m in ipvtap ipvlan; do
		[ -d "/sys/module/$m" ] || continue
		if [ "$IMPL" = in-tree ]; then
			modprobe -r "$m" || return 1
		else
			rmmod "$m" || return 1
		fi
	done
	[ ! -d /sys/module/ipvlan ]
}

# ipvlan_load: load it again the way tools/vm/guest.sh does.
ipvlan_load() {
	local ko=$IPVTAP_REPO/ipvlan/ipvlan.ko

	if [ "$IMPL" = in-tree ]; then
		modprobe ipvlan && modprobe ipvtap
		return
	fi
	[ -z "$IPVTAP_MODULES" ] || ko=$IPVTAP_MODULES/ipvlan.ko
	# shellcheck disable=SC2086 # "name=value ..." (IPVLAN_MODPARAMS)
	insmod "$ko" ${IPVLAN_MODPARAMS:-} || return 1
	ipvtap_load
}

# ipvtap_load: ipvtap is loaded (ours: when it was built; the kernel's
# tap library first, which may be built in: insmod tells if it is missing).
ipvtap_load() {
	local ko=$IPVTAP_REPO/ipvtap/ipvtap.ko

	[ ! -d /sys/module/ipvtap ] || return 0
	if [ "$IMPL" = in-tree ]; then
		modprobe ipvtap
		return
	fi
	[ -z "$IPVTAP_MODULES" ] || ko=$IPVTAP_MODULES/ipvtap.ko
	[ -f "$ko" ] || return 0
	modprobe tap 2>/dev/null
	insmod "$ko"
}

# modules_ensure: ipvlan and ipvtap are loaded (after a test unloaded
# them), so that later tests work.
modules_ensure() {
	if [ ! -d /sys/module/ipvlan ]; then
		ipvlan_load || return 1
	fi
	ipvtap_load || return 1
	[ -d /sys/module/ipvlan ]
}

# TIME_SCALE (IPVTAP_TIME_SCALE, default 1; make check-debug sets 3): how
# many times slower than on Debian's kernel the guest runs. A time limit a
# test asserts (e.g. an unload within 10 s) is multiplied by it.
# shellcheck disable=SC2034 # for the tests
TIME_SCALE=${IPVTAP_TIME_SCALE:-1}

# kmemleak_clean: on a debug kernel, a kmemleak scan finds no
# unreferenced object of ipvlan/ipvtap/tap (objects must be 5 s old to be
# reported: scan twice, RCU frees in between). Returns 4 without kmemleak.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_clean() {
	local rep re='ipvl|ipvtap|\[tap\]|tap_'

	[ -w "$KMEMLEAK" ] || return 4
	sleep 6
	echo scan >"$KMEMLEAK"
	sleep 6
	echo scan >"$KMEMLEAK"
	rep=$(cat "$KMEMLEAK")
	echo "$(grep -c '^unreferenced object' <<<"$rep") unreferenced objects in total"
	if grep -qE "$re" <<<"$rep"; then
		grep -E -B12 -A4 "$re" <<<"$rep" | head -n 80
		return 1
	fi
}

# ------------------------------------------------------------ tapguest

TG=$IPVTAP_REPO/tools/tapguest/tapguest

# json_get FILE KEY: a number from tapguest's --json summary line.
json_get() {
	grep -o "\"$2\":[0-9]*" "$1" | tail -n1 | cut -d: -f2
}

# at_least LOG KEY N: the guest's counter KEY (tapguest --json) is >= N.
at_least() {
	local v

	v=$(json_get "$1" "$2")
	[ -n "$v" ] && [ "$v" -ge "$3" ] && return 0
	echo "guest counter $2 = '$v', want >= $3"
	cat "$1"
	return 1
}

# tg_serve LOG NS ARGS...: tapguest ARGS --serve --json --timeout 60 in NS
# in the background, output to LOG, until it says it is up (a simple
# command, so that SERVE_PID is tapguest itself, not a subshell).
tg_serve() {
	local log=$1 ns=$2

	shift 2
	ip netns exec "$ns" "$TG" "$@" --serve --json --timeout 60 >"$log" 2>&1 &
	SERVE_PID=$!
	wait_for 10 grep -q '^guest mac' "$log" >/dev/null
}

# serve_stop: the tg_serve guest ends (SIGTERM).
serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
}

# ------------------------------------------------------- pumped guests

# pump_guest VAR LABEL VT MAC: a namespace (its name in VAR) whose tap
# device g0, with MAC, is bridged by tools/testing/tappump.py to the
# /dev/tapN of ipvtap VT (in NS_HOST): the namespace's own kernel is the
# guest behind VT. The pump logs to $TMP/pump-LABEL.log (TMP: the test's
# scratch directory). Needs the tun module.
pump_guest() {
	local var=$1 label=$2 vt=$3 mac=$4 ns

	modprobe tun 2>/dev/null
	if [ ! -c /dev/net/tun ]; then
		mkdir -p /dev/net
		mknod /dev/net/tun c 10 200 ||
			ktap_skip_all "no /dev/net/tun (CONFIG_TUN)"
	fi
	ns_create "$var:$label"
	ns=${!var}
	tap_node "$NS_HOST" "$vt" || ktap_bail "no /dev/tapN for $vt"
	ip -n "$ns" tuntap add dev g0 mode tap ||
		ktap_bail "cannot create a tap device in $ns"
	ip -n "$ns" link set g0 address "$mac"
	ip -n "$ns" link set g0 up
	bg "$TMP/pump-$label.err" ip netns exec "$ns" python3 -S \
		"$IPVTAP_REPO/tools/testing/tappump.py" "$TAP" g0 \
		"$TMP/pump-$label.log"
	wait_for 10 grep -q '^pump up' "$TMP/pump-$label.log" >/dev/null ||
		ktap_bail "the pump of $label did not start: $(cat "$TMP/pump-$label.err")"
}
