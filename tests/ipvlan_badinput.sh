#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: invalid netlink requests are refused and change nothing; errno
# and extack message compared with the in-tree driver.
#
# Every request goes through tools/testing/ipvl_nl.py (raw rtnetlink: it
# can send what iproute2 refuses to build and always shows the errno).
# For each request R three cases:
#   R: result        "accepted" or the errno, as the in-tree driver does
#   R: message       an extack message comes with the refusal. The issue
#                    asks ours for a message on EVERY refusal; where the
#                    in-tree driver refuses without one, the case is a
#                    deliberate difference ("# DIFF:"), except where no
#                    ipvlan code runs before the refusal (NO_MSG_POSSIBLE).
#   R: state after   `ip -d link` of the namespaces involved is unchanged
#                    (for what the in-tree driver accepts: changed)
#
# Topology: NS (host): m0 (veth, peer p0), slave s1 on m0 in "mode l2
# private" (not the defaults, so a reset to defaults shows), tun0.
# A user namespace that owns its own network namespace (unshare -U -r -n)
# holds slave su of m0: its root may configure su but not the mode/flags
# (CAP_NET_ADMIN over the master's namespace is needed).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip unshare nsenter
require_ipvlan
require_nl_tool

# The in-tree driver's answers (Debian 6.1): "<result> <msg|nomsg>",
# result = accepted or the errno name. Regenerate with IMPL=in-tree (the
# "# record:" lines).
declare -A EXPECT=(
	["newlink mode=3 (one past l3s)"]="EINVAL nomsg"
	["newlink mode=0xffff"]="EINVAL nomsg"
	["newlink flags=private|vepa"]="EINVAL nomsg"
	["newlink flags=0x4 (unknown bit)"]="EINVAL nomsg"
	["newlink flags=0x8000 (unknown bit)"]="EINVAL nomsg"
	["newlink without IFLA_LINK"]="EINVAL nomsg"
	["newlink IFLA_LINK=non-existent ifindex"]="ENODEV nomsg"
	["newlink on lo"]="EINVAL nomsg"
	["newlink on a non-Ethernet master (tun)"]="EINVAL nomsg"
	["newlink with a MAC address other than the master's"]="accepted nomsg"
	["newlink mtu 67 (below the minimum)"]="EINVAL msg"
	["newlink mtu 9000 (above the master's 1500)"]="accepted nomsg"
	["changelink s1 mode=3"]="EINVAL nomsg"
	["changelink s1 mode=7 with valid flags"]="EINVAL nomsg"
	["changelink s1 flags=private|vepa"]="EINVAL nomsg"
	["changelink s1 flags=0x4 (unknown bit)"]="EINVAL nomsg"
	["changelink s1 mtu 67 (below the minimum)"]="EINVAL msg"
	["newlink on slave s1 (lands on m0)"]="accepted nomsg"
	["userns root: changelink su mode=l3"]="EPERM nomsg"
	["userns root: changelink su flags=bridge"]="EPERM nomsg"
	["userns root: newlink on slave su"]="EPERM nomsg"
	["userns root: changelink su mtu 1400 (control)"]="accepted nomsg"
	["enslave master m0 (has slaves) to a bridge"]="EBUSY nomsg"
	["enslave master m0 (has slaves) to a bond"]="EBUSY msg"
	["enslave master m0 (has slaves) to a vrf"]="accepted nomsg"
)

# Where ours deliberately differs: [request]="<result> <msg|nomsg>|reason"
# (ours' expectation, then why). The in-tree run still expects EXPECT.
declare -A DELIBERATE=(
	["enslave master m0 (has slaves) to a vrf"]="EBUSY msg|issue 3: a master with ipvlan slaves cannot become a port of another device; in-tree lets a VRF enslave it"
)

# Refusals that happen before any ipvlan code runs, so that ours cannot
# add a message without giving up the in-tree errno: ours must match the
# in-tree answer (no message) there.
declare -A NO_MSG_POSSIBLE=(
	["enslave master m0 (has slaves) to a bridge"]="br_add_if() fails on netdev_rx_handler_register() (EBUSY, no extack) before NETDEV_PRECHANGEUPPER; only IFF_DONT_BRIDGE would give a message, with EOPNOTSUPP"
)

ktap_plan 81

ns_create NS:host
ns_batch "$NS" <<EOF || ktap_bail "cannot build the topology"
link add m0 type veth peer name p0
link set m0 up
link set p0 up
link add link m0 name s1 type ipvlan mode l2 private
link set s1 up
EOF
TUN=0
if modprobe tun 2>/dev/null && ip -n "$NS" tuntap add dev tun0 mode tun 2>/dev/null; then
	TUN=1
	ip -n "$NS" link set tun0 up
fi

# A user namespace owning a network namespace; slave su lives there.
unshare -U -r -n sleep 600 &
UPID=$!
defer "kill $UPID"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(readlink "/proc/$UPID/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
	sleep 0.2
done
USERNS=0
if ip -n "$NS" link add link m0 name su type ipvlan mode l2 private &&
	ip -n "$NS" link set su netns "$UPID" &&
	nsenter -t "$UPID" -n ip link set su up; then
	USERNS=1
else
	diag "cannot set up the user namespace (unshare -U -r -n)"
fi
nl_server_start ns ip netns exec "$NS"
[ "$USERNS" -eq 0 ] || nl_server_start userns nsenter -t "$UPID" -U -n
sleep 1	# let link watch settle operstates before the first snapshot

# snap WHERE...: ip -d link of each WHERE ("ns" = NS, "userns" = su's).
snap() {
	local w

	for w in "$@"; do
		case $w in
		ns) link_snapshot "$NS" ;;
		userns) snapshot_clean "$(nsenter -t "$UPID" -n ip -d -o link show 2>&1)" ;;
		esac
	done
}

# request NAME WHERE RUNNER ipvl_nl.py-args...: send the request with
# RUNNER ("ns": in NS as root; "userns": as su's user namespace root) and
# emit the three cases. WHERE: namespaces compared before/after
# ("ns", "userns" or "ns,userns").
request() {
	local name=$1 where=$2 runner=$3 out before after outcome got want
	local want_res want_msg msg wh dd=

	shift 3
	IFS=, read -r -a wh <<<"$where"
	before=$(snap "${wh[@]}")
	out=$(nl_call "$runner" "$@")
	after=$(snap "${wh[@]}")
	outcome=$(nl_outcome "$out")
	diag "$name: ${out//$'\n'/ }"

	read -r want_res want_msg <<<"${EXPECT[$name]:-}"
	if [ -n "${DELIBERATE[$name]:-}" ]; then
		dd=${DELIBERATE[$name]#*|}
		[ "$IMPL" = in-tree ] ||
			read -r want_res want_msg <<<"${DELIBERATE[$name]%%|*}"
	fi

	[ -z "$dd" ] || deliberate_diff "$dd"
	result_case "$name: result" "${outcome%% *}" "$want_res"

	if [ "${outcome#* }" = msg ]; then msg=message; else msg=none; fi
	want=
	case $want_msg in
	msg) want=message ;;
	nomsg) want=none ;;
	esac
	if [ -z "$dd" ] && [ -n "$want_res" ] && [ "$want_res" != accepted ] &&
		[ "$want_msg" = nomsg ] && [ -z "${NO_MSG_POSSIBLE[$name]:-}" ]; then
		deliberate_diff "in-tree refuses with $want_res but no extack message; ours must explain every refusal (issue 3)"
		[ "$IMPL" = in-tree ] || want=message
	fi
	[ -z "$dd" ] || deliberate_diff "$dd"
	result_case "$name: message" "$msg" "$want"

	if [ "$before" = "$after" ]; then got=unchanged; else got=changed; fi
	want=
	if [ "$want_res" = accepted ]; then
		want=changed
	elif [ -n "$want_res" ]; then
		want=unchanged
	fi
	[ -z "$dd" ] || deliberate_diff "$dd"
	result_case "$name: state after" "$got" "$want"
	[ "$got" = unchanged ] || diag "$(diff <(echo "$before") <(echo "$after"))"
	[ -n "${EXPECT[$name]:-}" ] ||
		diag "record: [\"$name\"]=\"${outcome%% *} ${outcome#* }\""
}

skip3() {
	skip "$1: result" "$2"
	skip "$1: message" "$2"
	skip "$1: state after" "$2"
}

# ------------------------------------------------------------ newlink

request "newlink mode=3 (one past l3s)" ns ns newlink --name x0 --link m0 --mode 3
request "newlink mode=0xffff" ns ns newlink --name x0 --link m0 --mode 0xffff
request "newlink flags=private|vepa" ns ns newlink --name x0 --link m0 --mode 2 --flags 3
request "newlink flags=0x4 (unknown bit)" ns ns newlink --name x0 --link m0 --flags 4
request "newlink flags=0x8000 (unknown bit)" ns ns newlink --name x0 --link m0 --flags 0x8000
request "newlink without IFLA_LINK" ns ns newlink --name x0 --mode 0
request "newlink IFLA_LINK=non-existent ifindex" ns ns newlink --name x0 --link-index 999999 --mode 0
request "newlink on lo" ns ns newlink --name x0 --link lo --mode 0
if [ "$TUN" -eq 1 ]; then
	request "newlink on a non-Ethernet master (tun)" ns ns newlink --name x0 --link tun0 --mode 0
else
	skip3 "newlink on a non-Ethernet master (tun)" "no tun device"
fi
request "newlink with a MAC address other than the master's" ns ns newlink --name x0 --link m0 --mode 0 --flags 1 --address 02:00:5e:00:53:01
ip -n "$NS" link del x0 2>/dev/null
request "newlink mtu 67 (below the minimum)" ns ns newlink --name x0 --link m0 --mtu 67
# Slaves may have a larger MTU than their master in-tree (max_mtu 65535).
# Mode and flags are per master (the last request wins): keep l2 private.
request "newlink mtu 9000 (above the master's 1500)" ns ns newlink --name x0 --link m0 --mode 0 --flags 1 --mtu 9000
ip -n "$NS" link del x0 2>/dev/null

# ---------------------------------------------------------- changelink

request "changelink s1 mode=3" ns ns setlink --dev s1 --kind ipvlan --mode 3
request "changelink s1 mode=7 with valid flags" ns ns setlink --dev s1 --kind ipvlan --mode 7 --flags 0
request "changelink s1 flags=private|vepa" ns ns setlink --dev s1 --kind ipvlan --flags 3
request "changelink s1 flags=0x4 (unknown bit)" ns ns setlink --dev s1 --kind ipvlan --flags 4
request "changelink s1 mtu 67 (below the minimum)" ns ns setlink --dev s1 --mtu 67
check "after the refused changelinks s1 still reports 'ipvlan  mode l2 private'" \
	link_has "$NS" s1 "ipvlan  mode l2 private"

# ------------------------------------------------- slave of a slave

request "newlink on slave s1 (lands on m0)" ns ns newlink --name x1 --link s1 --mode 0
check "a slave created on slave s1 is attached to m0 (x1@m0)" \
	bash -c "ip -n '$NS' link show dev x1 | grep -q 'x1@m0:'"
ip -n "$NS" link del x1 2>/dev/null

# ----------------------------------------------------------- userns

if [ "$USERNS" -eq 1 ]; then
	request "userns root: changelink su mode=l3" userns userns setlink --dev su --kind ipvlan --mode 1
	request "userns root: changelink su flags=bridge" userns userns setlink --dev su --kind ipvlan --flags 0
	request "userns root: newlink on slave su" ns,userns userns newlink --name x2 --link su --mode 2
	request "userns root: changelink su mtu 1400 (control)" userns userns setlink --dev su --mtu 1400
	check "su still reports 'ipvlan  mode l2 private' and so does s1" \
		bash -c "nsenter -t $UPID -n ip -d link show dev su | grep -q 'ipvlan  mode l2 private' &&
			 ip -n '$NS' -d link show dev s1 | grep -q 'ipvlan  mode l2 private'"
	got=$(nsenter -t "$UPID" -U -n ip link set su type ipvlan mode l3 2>&1)
	rc=$?
	result_case "userns root: 'ip link set su type ipvlan mode l3' (iproute2)" \
		"$([ $rc -eq 0 ] && echo accepted || echo refused)" refused
	diag "iproute2 said: $got"
	# Undo what a wrongly accepted request did, so later cases stand alone.
	nsenter -t "$UPID" -n ip link del x2 2>/dev/null
	ip -n "$NS" link set s1 type ipvlan mode l2 private
else
	for r in "userns root: changelink su mode=l3" "userns root: changelink su flags=bridge" \
		 "userns root: newlink on slave su" "userns root: changelink su mtu 1400 (control)"; do
		skip3 "$r" "no user namespace"
	done
	skip "su still reports 'ipvlan  mode l2 private' and so does s1" "no user namespace"
	skip "userns root: 'ip link set su type ipvlan mode l3' (iproute2)" "no user namespace"
fi

# ---------------------------------------------- master gets a master

# undo_master: detach m0 again if a request made it a port of something.
undo_master() {
	nl_call ns setlink --dev m0 --master-index 0 >/dev/null
}

for kind in bridge bond vrf; do
	case $kind in
	vrf) args=(table 10) ;;
	*) args=() ;;
	esac
	if ip -n "$NS" link add "${kind}0" type "$kind" "${args[@]}" 2>/dev/null; then
		ip -n "$NS" link set "${kind}0" up
		request "enslave master m0 (has slaves) to a $kind" ns ns setlink --dev m0 --master "${kind}0"
		undo_master
	else
		skip3 "enslave master m0 (has slaves) to a $kind" "no $kind support"
	fi
done
check "m0 has no master and its slaves still work after the enslave attempts" \
	bash -c "! ip -n '$NS' link show dev m0 | grep -q ' master ' &&
		 ip -n '$NS' -d link show dev s1 | grep -q 'ipvlan  mode l2 private'"

# Control: once its last slave is gone, m0 is an ordinary device again.
ip -n "$NS" link del s1
if [ "$USERNS" -eq 1 ]; then
	nsenter -t "$UPID" -n ip link del su
fi
if ip -n "$NS" link show dev bridge0 >/dev/null 2>&1; then
	check "without slaves m0 can join a bridge (control)" \
		ip -n "$NS" link set m0 master bridge0
else
	skip "without slaves m0 can join a bridge (control)" "no bridge support"
fi

ktap_finish
