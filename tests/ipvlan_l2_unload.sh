#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: unloading the module with slaves present removes them cleanly,
# then the module is loaded again (IMPL=ours: rmmod/insmod of this repo's
# ipvlan.ko; IMPL=in-tree: modprobe -r/modprobe). Runs last (alphabetical
# order), but reloads the module so later tests would still work.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip ping
require_ipvlan

ktap_plan 6

setup_l2_topology 2
S1=${NS_S[1]} S2=${NS_S[2]}
check "slaves work before the unload" wait_ping "$S1" "$OUT4"

check "unloading ipvlan ($IMPL) with slaves present succeeds" ipvlan_unload

slaves_gone() {
	dev_absent "$S1" s1 && dev_absent "$S2" s2
}
check "... the slaves are gone from their namespaces" wait_for 5 slaves_gone
check "... the master is still there and up" \
	bash -c "ip -n '$NS_HOST' link show dev m0 | grep -q 'state UP'"

reloaded() {
	ipvlan_load || return 1
	[ -d /sys/module/ipvlan ]
}
check "ipvlan loads again" reloaded

new_slave() {
	ip -n "$NS_HOST" link add link m0 name s1 type ipvlan mode l2 || return 1
	ip -n "$NS_HOST" link set s1 netns "$S1" || return 1
	ip -n "$S1" link set s1 up
	ip -n "$S1" addr add "$NET4.1/24" dev s1 || return 1
	wait_ping "$S1" "$OUT4"
}
check "a new slave on the old master works after the reload" new_slave

ktap_finish
