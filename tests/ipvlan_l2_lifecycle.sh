#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan L2: slaves and master come and go; carrier follows the master.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping
require_ipvlan

ktap_plan 10

setup_l2_topology 3
S1=${NS_S[1]} S2=${NS_S[2]} S3=${NS_S[3]}
wait_ping "$S1" "$OUT4" >/dev/null

check "deleting a slave succeeds" ip -n "$S2" link del s2
check "... its netns no longer has the device" dev_absent "$S2" s2

both_reach_outside() {
	ping_ok "$S1" "$OUT4" && ping_ok "$S3" "$OUT4"
}
check "... the other slaves still reach the outside" both_reach_outside
check "... and each other" ping_ok "$S1" "$NET4.3"

readd() {
	ip -n "$NS_HOST" link add link m0 name s2 type ipvlan mode l2 || return 1
	ip -n "$NS_HOST" link set s2 netns "$S2" || return 1
	ip -n "$S2" link set s2 up
	ip -n "$S2" addr add "$NET4.2/24" dev s2 || return 1
	ip -n "$NS_OUT" neigh flush dev o0
	wait_ping "$NS_OUT" "$NET4.2"
}
check "a new slave can take the deleted slave's address" readd

# Carrier: the outside end going down takes the master's carrier and the
# slaves follow (in-tree: netif_stacked_transfer_operstate on
# NETDEV_CHANGE). Note: in-tree, "ip link set m0 down" alone does NOT
# change the slaves' state, so that is not asserted.
no_carrier() {
	ip -n "$S1" link show dev s1 | grep -q 'NO-CARRIER'
}
has_carrier() {
	ip -n "$S1" link show dev s1 | grep -q 'LOWER_UP'
}
carrier_lost() {
	ip -n "$NS_OUT" link set o0 down || return 1
	wait_for 5 no_carrier >/dev/null || { ip -n "$S1" link show dev s1; return 1; }
}
carrier_back() {
	ip -n "$NS_OUT" link set o0 up || return 1
	wait_for 5 has_carrier >/dev/null || { ip -n "$S1" link show dev s1; return 1; }
	wait_ping "$S1" "$OUT4"
}
check "master losing carrier (peer down) takes the slaves' carrier" carrier_lost
check "carrier comes back on the slaves and traffic flows again" carrier_back

check "deleting the master succeeds" ip -n "$NS_HOST" link del m0

no_slaves_left() {
	local i rc=0

	for i in 1 2 3; do
		dev_absent "${NS_S[$i]}" "s$i" || rc=1
	done
	return "$rc"
}
check "... every slave disappears from its netns" wait_for 5 no_slaves_left

only_lo() {
	local i n rc=0

	for i in 1 2 3; do
		n=$(ip -n "${NS_S[$i]}" -o link show | grep -vc ': lo:')
		[ "$n" -eq 0 ] || { echo "${NS_S[$i]} still has $n devices"; rc=1; }
	done
	return "$rc"
}
check "... leaving the slave namespaces with only lo" only_lo

ktap_finish
