#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A master and its slave unregistered in one netns cleanup batch, under
# traffic: a slave's namespace and its master's namespace deleted with
# one command, and a master's namespace deleted with a slave inside it
# when the master is listed after that slave (moved away and back): no
# splat, RTNL still free, the devices go. Topology: tests/lib_stress.sh
# (sites e and f, one slave each).
#
# A driver that deletes such a slave a second time (from the master's
# NETDEV_UNREGISTER, while it is already queued) hits the BUG_ON in
# unregister_netdevice_many() in the cleanup worker, with RTNL held:
# every later RTNL user would hang. rtnl_probe notices that, the cases
# fail with the kernel log, and the cleanup then avoids RTNL.
#
# IMPL=in-tree: all cases are expected to pass there as well.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_stress.sh
. "$(dirname "$0")/lib_stress.sh"

ktap_plan 4

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

# unreg_result MARK NS DEV...: RTNL works, each DEV is gone from NS
# (pairs "NS DEV"), no splat since MARK.
unreg_result() {
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

# unreg_site TAG: site TAG with slave TAG1 in its namespace, traffic from
# it and from the outside to it (pids in PINGS).
unreg_site() {
	site "$1" l2 bridge 1
	reach_all "${1}1" >/dev/null || diag "site $1 does not reach the outside"
	PINGS=()
	ping_bg "$TMP/$1-s" "$PFX-${1}1" "$OUTA" 60
	PINGS+=("$BGPID")
	ping_bg "$TMP/$1-o" "$PFX-${1}o" 192.0.2.1 60
	PINGS+=("$BGPID")
}

# 1: the slave's namespace and the master's namespace deleted together:
# one process holds both (after their names are gone) and exits, so both
# are freed at once, the master's last: the cleanup worker takes them in
# one batch, the master's namespace first (its list is LIFO).
kmsg_mark together
unreg_site e
sleep 1
# shellcheck disable=SC2016 # expanded by that bash
bg /dev/null bash -c 'exec 3<"$1" 4<"$2"; exec sleep 300' - \
	"/run/netns/$PFX-e1" "/run/netns/$PFX-eh"
HOLDER=$BGPID
sleep 0.5
ns_kill_pids "$PFX-e1"
bg_kill "${PINGS[0]}"	# e1's ping; the outside's goes on
ip -batch - >/dev/null 2>&1 <<-EOF
netns del $PFX-e1
netns del $PFX-eh
EOF
bg_kill "$HOLDER"
rtnl_probe 20
bg_kill "${PINGS[1]}"
check "a slave's and its master's namespaces deleted together under traffic: no splat, RTNL free, the master's veth peer goes" \
	unreg_result together "$PFX-eo" o0

# 2: deterministic: the master moved to another namespace and back is
# listed after a slave left in its namespace, so the namespace's cleanup
# unregisters the master first, with that slave in the same batch.
kmsg_mark listed-last
desc="the master's namespace deleted with a slave inside, the master listed last: no splat, RTNL free, the other slave goes"
if [ "$RTNL_DEAD" -eq 1 ]; then
	skip "$desc" "RTNL is stuck since the first case"
else
	unreg_site f
	ns_create --bare fx
	ip -n "$PFX-fh" -batch - <<-EOF || diag "cannot set up f2 / move m0"
	link add link m0 name f2 type ipvlan mode l2
	addr add 192.0.2.2/32 dev f2
	link set f2 up
	link set m0 netns $PFX-fx
	EOF
	ip -n "$PFX-fx" link set m0 netns "$PFX-fh"
	ip -n "$PFX-fh" -batch - <<-EOF || diag "cannot bring m0 back up"
	addr add $HOSTA/24 dev m0
	link set m0 up
	EOF
	diag "$PFX-fh: $(ip -n "$PFX-fh" -o link show | awk '{ printf "%s ", $2 }')"
	ping_bg "$TMP/f-o2" "$PFX-fo" 192.0.2.2 60
	PINGS+=("$BGPID")
	sleep 1
	ip netns del "$PFX-fh"
	rtnl_probe 20
	bg_kill "${PINGS[@]}"
	check "$desc" unreg_result listed-last "$PFX-f1" f1 "$PFX-fo" o0
	[ "$RTNL_DEAD" -eq 1 ] || delns f1 fo fx
fi
[ "$RTNL_DEAD" -eq 1 ] || delns e1 eh eo

stress_finish
