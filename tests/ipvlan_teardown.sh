#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Deletions under traffic (pings every 10 ms both ways):
#  - a slave's namespace: the slave goes, its address becomes free for a
#    new slave, the port's other slaves keep working;
#  - the master: its slaves vanish from their namespaces;
#  - the master's own namespace, with the slaves in mode l3s: they vanish.
# Topology: tests/lib_stress.sh (sites a and b).
#
# IMPL=in-tree: all cases are expected to pass there as well.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"

ktap_plan 7

site a l2 bridge 3
ns_create --bare n3
ip -n "$PFX-ah" -batch - <<-EOF || ktap_bail "cannot create slave n3"
link add link m0 name n3 type ipvlan mode l2
link set n3 netns $PFX-n3
EOF
ip -n "$PFX-n3" link set lo up
check "a1..a3 reach the outside before" reach_all a1 a2 a3

PINGS=()
for i in 1 2 3; do
	ping_bg "$TMP/ping-a$i" "$PFX-a$i" "$OUTA" 60
	PINGS+=("$BGPID")
done
ping_bg "$TMP/ping-out3" "$PFX-ao" 192.0.2.3 60
PINGS+=("$BGPID")
ping_bg "$TMP/ping-out1" "$PFX-ao" 192.0.2.1 60
PINGS+=("$BGPID")

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
check "a3's namespace deleted under traffic: the slave goes, a new slave takes its address" \
	ns_deleted
ping_bg "$TMP/ping-n3" "$PFX-n3" "$OUTA" 60
PINGS+=("$BGPID")
check "... a1, a2 still reach the outside" reach_all a1 a2

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
check "the master deleted under traffic: a1, a2, n3 vanish from their namespaces" \
	master_deleted
bg_kill "${PINGS[@]}"

# Site b: master in its own namespace, slaves in mode l3s; its namespace
# is deleted under traffic.
site b l3s bridge 2
reach_all b1 b2 >/dev/null || diag "site b does not reach the outside"
PINGS=()
ping_bg "$TMP/ping-b1" "$PFX-b1" "$OUTA" 60
PINGS+=("$BGPID")
ping_bg "$TMP/ping-b2" "$PFX-b2" "$OUTA" 60
PINGS+=("$BGPID")
ping_bg "$TMP/ping-bo" "$PFX-bo" 192.0.2.1 60
PINGS+=("$BGPID")
master_ns_deleted() {
	local s

	flowing "$PFX-bo" o0 || return 1
	ip netns del "$PFX-bh" || return 1
	for s in b1 b2; do
		wait_for 20 dev_absent "$PFX-$s" "$s" || return 1
	done
	wait_for 10 dev_absent "$PFX-bo" o0
}
check "the master's namespace deleted under traffic (l3s): b1, b2 vanish" \
	master_ns_deleted
bg_kill "${PINGS[@]}"
delns a1 a2 n3 ah ao b1 b2 bo

stress_finish
