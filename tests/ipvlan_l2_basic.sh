#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan L2: link creation and what `ip -d link` reports; per-master (port)
# properties shared by all slaves: MAC, mode, flags, MTU.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip
require_ipvlan

ktap_plan 13

ns_create NS:host
ip -n "$NS" link add m0 type veth peer name p0 || ktap_bail "cannot create veth"
ip -n "$NS" link set m0 up
ip -n "$NS" link set p0 up
MASTER_MAC=$(dev_mac "$NS" m0)

check "ip link add ... type ipvlan mode l2 creates a slave" \
	add_ipvlan "$NS" m0 s1 mode l2

# iproute2 prints "ipvlan  mode l2 bridge" (kind, then the mode and flags
# from IFLA_IPVLAN_MODE/IFLA_IPVLAN_FLAGS).
check "ip -d link reports 'ipvlan  mode l2 bridge'" \
	link_has "$NS" s1 "ipvlan  mode l2 bridge"

check "slave shares the master's MAC" mac_is "$NS" s1 "$MASTER_MAC"

check "ip -d link reports the master as the slave's link (s1@m0)" \
	bash -c "ip -n '$NS' link show dev s1 | grep -q 's1@m0:'"

add_ipvlan "$NS" m0 s2 mode l2 || ktap_bail "cannot create s2"
ip -n "$NS" link set s1 up
ip -n "$NS" link set s2 up

ll_addr() {
	ip -n "$1" -6 addr show dev "$2" scope link | awk '/inet6/ { print $2 }'
}

# Slaves share one MAC; each gets its own dev_id so the EUI-64 link-local
# addresses differ (in-tree: dev_id is fed into addrconf_ifid_eui48()).
distinct_ll() {
	local a b

	a=$(ll_addr "$NS" s1)
	b=$(ll_addr "$NS" s2)
	echo "s1: $a s2: $b"
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ]
}
check "two slaves get distinct IPv6 link-local addresses" \
	wait_for 5 distinct_ll

mac_change() {
	ip -n "$NS" link set m0 address 02:00:5e:10:00:01 || return 1
	mac_is "$NS" s1 02:00:5e:10:00:01 && mac_is "$NS" s2 02:00:5e:10:00:01
}
check "changing the master's MAC changes every slave's MAC" mac_change

mtu_follow() {
	ip -n "$NS" link set m0 mtu 1400 || return 1
	ip -n "$NS" link show dev s1 | grep -q 'mtu 1400' &&
		ip -n "$NS" link show dev s2 | grep -q 'mtu 1400'
}
check "changing the master's MTU changes every slave's MTU" mtu_follow

check "a new slave starts with the master's MTU" \
	bash -c "ip -n '$NS' link add link m0 name s3 type ipvlan mode l2 &&
		 ip -n '$NS' link show dev s3 | grep -q 'mtu 1400'"
ip -n "$NS" link del s3 2>/dev/null

# Mode and flags belong to the master (the "port"): the last request wins
# for every slave of that master, as in-tree.
check "'mode l2 private' is reported as such" \
	bash -c "ip -n '$NS' link add link m0 name s3 type ipvlan mode l2 private &&
		 ip -n '$NS' -d link show dev s3 | grep -q 'ipvlan  mode l2 private'"
check "flags are per master: the existing slave now reports private too" \
	link_has "$NS" s1 "ipvlan  mode l2 private"
ip -n "$NS" link del s3 2>/dev/null

# A second, separate master for the default-mode check.
ip -n "$NS" link add m1 type veth peer name p1 || ktap_bail "cannot create veth m1"
check "no mode given: the slave is created in mode l3 (in-tree default)" \
	bash -c "ip -n '$NS' link add link m1 name t1 type ipvlan &&
		 ip -n '$NS' -d link show dev t1 | grep -q 'ipvlan  mode l3 bridge'"

check "ipvlan on an ipvlan slave is attached to the same master (t2@m1)" \
	bash -c "ip -n '$NS' link add link t1 name t2 type ipvlan mode l3 &&
		 ip -n '$NS' link show dev t2 | grep -q 't2@m1:'"

check "deleting one slave leaves the others on the master" \
	bash -c "ip -n '$NS' link del t1 && ip -n '$NS' link show dev t2 >/dev/null"

ktap_finish
