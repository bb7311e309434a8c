#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan L2: address management on slaves. IPv6 DAD works through the
# master (a duplicate on the outside is detected), and an address already
# used by another slave of the same master is refused.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping
require_ipvlan

ktap_plan 8

setup_l2_topology 2
S1=${NS_S[1]} S2=${NS_S[2]}
wait_ping "$S1" "$OUT4" >/dev/null

# addr_state NS DEV ADDR: "present" + the address flags, "" when absent.
addr_state() {
	ip -n "$1" -6 addr show dev "$2" | awk -v a="$3" '
		$1 == "inet6" && $2 ~ "^" a "/" {
			f = ""
			for (i = 5; i <= NF; i++) f = f " " $i
			print "present" f
		}'
}

# DAD on for s1 (ns_create turned it off by default).
ip netns exec "$S1" sysctl -qw net.ipv6.conf.s1.accept_dad=1 \
	net.ipv6.conf.s1.dad_transmits=1

dad_passes() {
	local st

	st=$(addr_state "$S1" s1 "$NET6:51")
	echo "2001:db8::51 on s1: ${st:-absent}"
	[ "$st" = present ]
}
check "IPv6 address added with DAD on a slave" \
	ip -n "$S1" addr add "$NET6:51/64" dev s1
check "... DAD completes: the address becomes non-tentative" \
	wait_for 10 dad_passes
check "... and is reachable from the outside" \
	wait_ping "$NS_OUT" "$NET6:51"

# The outside already owns 2001:db8::77: DAD on the slave must fail.
ip -n "$NS_OUT" addr add "$NET6:77/64" dev o0 nodad
dad_fails() {
	local st

	st=$(addr_state "$S1" s1 "$NET6:77")
	echo "2001:db8::77 on s1: ${st:-absent}"
	[[ $st == *dadfailed* ]]
}
ip -n "$S1" addr add "$NET6:77/64" dev s1
check "a duplicate of the outside's IPv6 on a slave ends up dadfailed" \
	wait_for 10 dad_fails

# Addresses are unique among the slaves of one master.
dup_refused() {
	local out

	if out=$(ip -n "$S2" addr add "$1" dev s2 2>&1); then
		echo "duplicate $1 accepted on s2"
		return 1
	fi
	echo "refused: $out"
	[ -n "$out" ]
}
check "IPv4 address of another slave is refused on s2 with a message" \
	dup_refused "$NET4.1/24"
check "IPv6 address of another slave is refused on s2 with a message" \
	dup_refused "$NET6:1/64"

check "the refused address did not break s1 (outside -> s1 IPv4)" \
	ping_ok "$NS_OUT" "$NET4.1"

# Once s1 drops the address, s2 may take it.
move_addr() {
	ip -n "$S1" addr del "$NET4.1/24" dev s1 || return 1
	ip -n "$S2" addr add "$NET4.1/24" dev s2 || return 1
	ip -n "$NS_OUT" neigh flush dev o0
	wait_ping "$NS_OUT" "$NET4.1"
}
check "an address released by s1 can be added to s2 and is reachable" move_addr

ktap_finish
