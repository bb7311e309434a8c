#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan/ipvtap netlink fuzzing (issue 6, "Bad input"): thousands of
# random and mutated RTM_NEWLINK/RTM_SETLINK requests from
# tools/testing/ipvl_nlfuzz for each kind. Every request must be answered,
# nothing may crash (tools/vm/run fails the run on any splat), a refused
# request must leave the victim (an existing slave) as it was, the victim
# must still pass traffic afterwards and no created link may be left over.
#
# Topology, one per kind (the mode and flags are per master, so the kinds
# get separate masters and namespaces):
#   NS_O<k>: o0 192.0.2.254/24 --veth-- NS_H<k>: m0 (master, no address)
#   NS_H1: victim v0, ipvlan mode l2 on m0, 192.0.2.1/24
#   NS_H2: victim t0, ipvtap mode l2 on m0
# The fuzzer runs in NS_H<k>. An ipvtap slave hands what it receives to
# its character device, not to the host stack: the traffic case of the
# ipvtap victim checks that it is still there, up and unchanged instead.
#
# NLFUZZ_COUNT (default 3000) requests per kind, NLFUZZ_SEED (default 1;
# ipvtap uses NLFUZZ_SEED + 1).
# A failure prints the request in hex: reproduce it with
#   ip netns exec NS tools/testing/ipvl_nlfuzz --replay HEX
# or again the whole run with the printed seed (--start I --count 1 -v).
#
# Whenever no link created by the run is left, the master's flags, MTU
# and promiscuity/allmulti counts must be as before: a slave must give
# back what it took from its master ("master_changed").
#
# IMPL=in-tree: same expectations, except one. The in-tree driver has no
# extension attributes (40..45 of include/uapi/ipvlan_ext.h): it ignores
# them (they are above its maxtype), so it accepts requests ours refuses
# for an out-of-range extension value; the counts differ, the cases do
# not. The exception (# DIFF): the in-tree driver passes a slave's
# IFF_ALLMULTI change to the master even while the slave is down and
# never takes it back, so a slave created down with IFF_ALLMULTI (or set
# so while down) and deleted leaves the master's allmulti count one up:
#   ip link add link m0 name x type ipvlan; ip link set x allmulticast on
#   ip link del x      # m0: allmulti 1
# With in-tree the fuzzer tolerates it (--master-change-ok) and the
# master's counts are not compared in the links case.
# tests/run: timeout 600
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip ping
require_ipvlan

FUZZ=$IPVTAP_REPO/tools/testing/ipvl_nlfuzz
[ -x "$FUZZ" ] || ktap_skip_all "tools/testing/ipvl_nlfuzz not built (make tools)"

COUNT=${NLFUZZ_COUNT:-3000}
SEED=${NLFUZZ_SEED:-1}

ktap_plan 12

ALLMULTI_DIFF="in-tree ipvlan passes IFF_ALLMULTI of a down slave to the master and never takes it back (leak on delete); ours counts it only while the slave is up"
FUZZ_ARGS=()
[ "$IMPL" != in-tree ] || FUZZ_ARGS=(--master-change-ok)

# setup_kind K KIND VICTIM: namespaces NS_O<K>/NS_H<K>, master m0, victim.
setup_kind() {
	local k=$1 kind=$2 victim=$3 ho hh

	ns_create "NS_O$k" "out$k"
	ns_create "NS_H$k" "host$k"
	ho=NS_O$k hh=NS_H$k
	ip -n "${!hh}" link add m0 type veth peer name o0 netns "${!ho}" ||
		ktap_bail "cannot create the veth master"
	ip -n "${!hh}" link set m0 up
	ip -n "${!ho}" link set o0 up
	ip -n "${!ho}" addr add "$OUT4/24" dev o0
	ip -n "${!hh}" link add link m0 name "$victim" type "$kind" mode l2 ||
		return 1
	ip -n "${!hh}" link set "$victim" up
}

# links NS: the namespace's links, one line each, without the operational
# state (which follows the master by itself); with in-tree also without
# the promiscuity/allmulti counts (see above).
links() {
	if [ "$IMPL" = in-tree ]; then
		ip -n "$1" -d -o link show |
			sed -E 's/ state [A-Z]+ / /; s/ (promiscuity|allmulti) [0-9]+//g'
	else
		ip -n "$1" -d -o link show | sed -E 's/ state [A-Z]+ / /'
	fi
}

# ipvtap_ok NS DEV: the ipvtap DEV is up, in mode l2, and its
# /dev/tap<ifindex> node exists.
ipvtap_ok() {
	local idx

	link_has "$1" "$2" "ipvtap  mode l2" || return 1
	link_has "$1" "$2" ",UP" || return 1
	idx=$(ip netns exec "$1" cat "/sys/class/net/$2/ifindex") || return 1
	[ -c "/dev/tap$idx" ] && return 0
	echo "no character device /dev/tap$idx"
	return 1
}

# val OUTPUT KEY: the number after KEY on the fuzzer's summary line.
val() {
	awk -v k="$2" '/^requests / {
		for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit }
	}' <<<"$1"
}

# fuzz_kind K KIND VICTIM: run the fuzzer (seed SEED+K-1) and emit the
# six cases.
fuzz_kind() {
	local k=$1 kind=$2 victim=$3 hh=NS_H$1 ns out rc before after
	local stray t0 secs req ans mc got want seed=$((SEED + $1 - 1))

	ns=${!hh}
	before=$(links "$ns")
	t0=$SECONDS
	out=$(ip netns exec "$ns" "$FUZZ" --kind "$kind" --master m0 \
		--victim "$victim" --seed "$seed" --count "$COUNT" "${FUZZ_ARGS[@]}" 2>&1)
	rc=$?
	secs=$((SECONDS - t0))
	diag "$kind: ipvl_nlfuzz --seed $seed --count $COUNT: exit $rc, ${secs}s"
	diag "$(awk -v k="$kind" '{ print k ": " $0 }' <<<"$out")"

	if [ "$rc" -eq 0 ]; then
		ktap_ok "$kind: fuzzer ran to completion, no violation"
	else
		ktap_not_ok "$kind: fuzzer ran to completion, no violation"
	fi

	req=$(val "$out" requests)
	ans=$(val "$out" answered)
	if [ -n "$req" ] && [ "$req" -eq "$COUNT" ] && [ "$ans" = "$req" ] &&
		[ "$(val "$out" no_answer)" = 0 ]; then
		ktap_ok "$kind: every request answered ($ans/$req)"
	else
		ktap_not_ok "$kind: every request answered (${ans:-?}/${req:-?} of $COUNT)"
	fi

	if [ -n "$req" ] && [ "$(val "$out" victim_changed_by_refusal)" = 0 ] &&
		[ "$(val "$out" restore_failed)" = 0 ]; then
		ktap_ok "$kind: no refused request changed the victim"
	else
		ktap_not_ok "$kind: no refused request changed the victim"
	fi

	if [ "$kind" = ipvlan ]; then
		if ! ip -n "$ns" -4 addr show dev "$victim" | grep -q "$NET4.1/"; then
			diag "$victim lost its address during the run: added again"
			ip -n "$ns" addr add "$NET4.1/24" dev "$victim"
		fi
		check "$kind: victim still passes traffic afterwards" \
			wait_ping "$ns" "$OUT4" 10
	else
		check "$kind: victim still passes traffic afterwards (up, l2, tap node; no host-stack traffic on ipvtap)" \
			ipvtap_ok "$ns" "$victim"
	fi

	after=$(links "$ns")
	stray=$(ip -n "$ns" -o link show | awk -F': ' '$2 ~ /^fz/ { print $2 }')
	stray=${stray//$'\n'/ }
	if [ -z "$stray" ] && [ "$(val "$out" stray_by_refusal)" = 0 ] &&
		[ "$before" = "$after" ]; then
		ktap_ok "$kind: no stray fz* devices left, links as before"
	else
		ktap_not_ok "$kind: no stray fz* devices left, links as before"
		[ -z "$stray" ] || diag "left over: $stray"
		diag "$(diff <(echo "$before") <(echo "$after"))"
	fi

	mc=$(val "$out" master_changed)
	if [ "$mc" = 0 ]; then got=balanced; else got="leaked ${mc:-?}x"; fi
	want=balanced
	if [ "$IMPL" = in-tree ]; then
		want=$got
		deliberate_diff "$ALLMULTI_DIFF"
	fi
	result_case "$kind: master's flags and promiscuity/allmulti counts after the run" \
		"$got" "$want"
}

skip_kind() {
	local kind=$1 why=$2

	skip "$kind: fuzzer ran to completion, no violation" "$why"
	skip "$kind: every request answered" "$why"
	skip "$kind: no refused request changed the victim" "$why"
	skip "$kind: victim still passes traffic afterwards" "$why"
	skip "$kind: no stray fz* devices left, links as before" "$why"
	skip "$kind: master's flags and promiscuity/allmulti counts after the run" "$why"
}

diag "implementation: $IMPL; $COUNT requests per kind, seed $SEED (ipvtap: $((SEED + 1)))"

setup_kind 1 ipvlan v0 || ktap_bail "cannot create the ipvlan victim"
ip -n "$NS_H1" addr add "$NET4.1/24" dev v0
wait_ping "$NS_H1" "$OUT4" 10 >/dev/null ||
	ktap_bail "the ipvlan victim does not pass traffic before fuzzing"
fuzz_kind 1 ipvlan v0

if setup_kind 2 ipvtap t0 2>/dev/null; then
	fuzz_kind 2 ipvtap t0
else
	skip_kind ipvtap "no ipvtap link kind"
fi

ktap_finish
