#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: mode l3s follows the build option CONFIG_IPVTAP_IPVLAN_L3S
# (Kconfig). IPVTAP_EXPECT_L3S=1 (the default; make check): l3s works,
# on creation and by a mode change (tests/ipvlan_matrix.sh sends traffic
# through it). IPVTAP_EXPECT_L3S=0 (`make check-config`,
# modules built with CONFIG_IPVTAP_IPVLAN_L3S=n): both are refused with
# the extack message that names the option, and nothing changes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip
require_ipvlan

EXPECT=${IPVTAP_EXPECT_L3S:-1}
MSG='CONFIG_IPVTAP_IPVLAN_L3S'

ktap_plan 4

ns_create NS:host S:slave
ip -n "$NS" link add m0 type veth peer name p0 || ktap_bail "cannot create veth"
ip -n "$NS" link set m0 up

# refused_with_msg CMD...: CMD fails and says why (the extack message).
refused_with_msg() {
	local out

	if out=$("$@" 2>&1); then
		echo "accepted: $*"
		return 1
	fi
	echo "$out"
	grep -q "$MSG" <<<"$out" || { echo "no '$MSG' in the error"; return 1; }
}

if [ "$EXPECT" = 1 ]; then
	check "mode l3s: a new slave is created in l3s" \
		add_ipvlan "$NS" m0 l3 mode l3s
	check "it reports mode l3s" link_has "$NS" l3 "mode l3s"
else
	check "mode l3s: creation refused with a message naming $MSG" \
		refused_with_msg add_ipvlan "$NS" m0 l3 mode l3s
	check "nothing was created" dev_absent "$NS" l3
fi

# A slave in l2 (alone on the port), then a mode change to l3s.
ip -n "$NS" link del l3 2>/dev/null
add_ipvlan "$NS" m0 s0 mode l2 || ktap_bail "cannot create an l2 slave"
ip -n "$NS" link set s0 netns "$S"
if [ "$EXPECT" = 1 ]; then
	check "a change from l2 to l3s is accepted" \
		ip -n "$S" link set s0 type ipvlan mode l3s
else
	check "a change from l2 to l3s is refused with a message naming $MSG" \
		refused_with_msg ip -n "$S" link set s0 type ipvlan mode l3s
fi
check "the slave reports the mode it should have" \
	link_has "$S" s0 "mode $([ "$EXPECT" = 1 ] && echo l3s || echo l2)"

ktap_finish
