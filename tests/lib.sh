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

# defer CMD...: run CMD (as one string, eval'd) at exit, last-in first-out.
defer() {
	_cleanup_cmds+=("$*")
}

_lib_cleanup() {
	local i ns pids

	set +e
	for ((i = ${#_cleanup_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_cleanup_cmds[$i]}" >/dev/null 2>&1
	done
	for ((i = ${#_ns_list[@]} - 1; i >= 0; i--)); do
		ns=${_ns_list[$i]}
		[ -e "/run/netns/$ns" ] || continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
}
trap _lib_cleanup EXIT
trap 'exit 1' INT TERM

# ----------------------------------------------------------- namespaces

# ns_create VAR LABEL: create netns "<test>-<pid>-LABEL", store its name in
# VAR, register it for deletion at exit. lo is up, DAD off by default (a
# test that wants DAD turns accept_dad on for its device).
ns_create() {
	local var=$1 name="$TEST_NAME-$$-$2"

	ip netns add "$name" || ktap_bail "cannot create netns $name"
	_ns_list+=("$name")
	ip -n "$name" link set lo up
	ip netns exec "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 >/dev/null
	printf -v "$var" '%s' "$name"
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

# setup_master: NS_HOST with master m0 (veth, up, no address), its peer o0
# in NS_OUT with OUT4/24 and OUT6/64 (the outside host); sets MASTER_MAC
# and OUT_MAC.
setup_master() {
	ns_create NS_OUT out
	ns_create NS_HOST host
	ip -n "$NS_HOST" link add m0 type veth peer name o0 netns "$NS_OUT" ||
		ktap_bail "cannot create the veth master"
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
		ns_create "NS_S[$i]" "s$i"
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
	local ipvlan_ko=$IPVTAP_REPO/ipvlan/ipvlan.ko
	local ipvtap_ko=$IPVTAP_REPO/ipvtap/ipvtap.ko

	if [ "$IMPL" = in-tree ]; then
		modprobe ipvlan && modprobe ipvtap
		return
	fi
	if [ -n "$IPVTAP_MODULES" ]; then
		ipvlan_ko=$IPVTAP_MODULES/ipvlan.ko
		ipvtap_ko=$IPVTAP_MODULES/ipvtap.ko
	fi
	insmod "$ipvlan_ko" || return 1
	if [ -f "$ipvtap_ko" ]; then
		# tap may be built in: insmod tells if it is missing.
		modprobe tap 2>/dev/null
		insmod "$ipvtap_ko"
	fi
}
