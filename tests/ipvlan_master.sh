#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: what slaves take from their master and how they follow it; moving
# slaves and the master between namespaces; namespace deletion; ethtool and
# statistics. Values are compared with the in-tree driver's (the EXPECT
# table, regenerate with IMPL=in-tree from the "# record:" lines).
#
#   outside ns O: o0 198.51.100.2/24 2001:db8:1::2/64 (peer of m0)
#                 o1 203.0.113.2/24 (peer of m1), route 192.0.2.50 via m1
#   host ns H:    m0 (l2 master), slaves s1 s2 in H; s3 in A, s4 in D
#                 m1 203.0.113.1/24 (l3s master), slave t1 in T
#   s3 198.51.100.13/24, s4 198.51.100.14/24, t1 192.0.2.50/32
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip ping ethtool
require_ipvlan

# The in-tree driver's values (Debian 6.12 and 7.3; 6.1: see operstate).
declare -A EXPECT=(
	["slave created without mtu: mtu (master 1400)"]="1400"
	["slave created with mtu 1300: mtu (master 1400)"]="1300"
	["master mtu 1400 -> 1450: mtu of s1, s2"]="1450 1450"
	["master mtu 1450 -> 1280: mtu of s1, s2"]="1280 1280"
	["slave operstate with its master up"]="UNKNOWN"
	["master set down: slave operstate"]="LOWERLAYERDOWN"
	["master set up again: slave operstate"]="UP"
	["master loses carrier (peer down): slave operstate"]="LOWERLAYERDOWN"
	["master carrier back: slave operstate"]="UP"
	["slave s3 in its namespace: outside"]="reachable"
	["slave s3 moved to another namespace: outside"]="reachable"
	["ethtool -i on a slave: driver"]="ipvlan"
	["ethtool -i on a slave: version"]="0.1"
	["ethtool on a slave: speed (the master's: 10000Mb/s)"]="10000Mb/s"
	["l3s: outside -> slave t1"]="reachable"
	["l3s: master moved to another namespace: outside -> slave t1"]="reachable"
	["l3s: master moved to another namespace: slave t1 -> outside"]="reachable"
	["l2: master moved to another namespace: slave s3 -> outside"]="reachable"
)

ktap_plan 31

ns_create --bare O:o H:h H2:h2 A:a B:b D:d T:t

ns_batch "$H" <<EOF || ktap_bail "cannot build the host namespace"
link set lo up
link add m0 type veth peer name o0 netns $O
link add m1 type veth peer name o1 netns $O
link set m0 up
link set m1 up
addr add 203.0.113.1/24 dev m1
EOF
ns_batch "$O" <<EOF || ktap_bail "cannot build the outside"
link set lo up
link set o0 up
link set o1 up
addr add 198.51.100.2/24 dev o0
addr add 2001:db8:1::2/64 dev o0 nodad
addr add 203.0.113.2/24 dev o1
route add 192.0.2.50/32 via 203.0.113.1
EOF

# val NAME OBSERVED: a result case against EXPECT[NAME].
val() {
	result_case "$1" "$2" "${EXPECT[$1]:-}"
	[ -n "${EXPECT[$1]:-}" ] || diag "record: [\"$1\"]=\"$2\""
}

# mtu NS DEV, mac NS DEV, operstate NS DEV
mtu() {
	local l

	l=$(ip -n "$1" -o link show dev "$2")
	l=${l#* mtu }
	echo "${l%% *}"
}
mac() {
	local l

	l=$(ip -n "$1" -o link show dev "$2")
	l=${l#*link/ether }
	echo "${l%% *}"
}
operstate() {
	local l

	l=$(ip -n "$1" -o link show dev "$2")
	l=${l#* state }
	echo "${l%% *}"
}

# state_after NS DEV OLD: DEV's operstate once it is no longer OLD (link
# watch is asynchronous, at most a second), or OLD after 2 s.
state_after() {
	local s i

	for ((i = 0; i < 10; i++)); do
		s=$(operstate "$1" "$2")
		[ "$s" = "$3" ] || break
		sleep 0.2
	done
	echo "$s"
}

# --------------------------------------------------------------- MTU

ip -n "$H" link set m0 mtu 1400
add_ipvlan "$H" m0 s1 mode l2 || ktap_bail "cannot create s1"
val "slave created without mtu: mtu (master 1400)" "$(mtu "$H" s1)"
ip -n "$H" link add link m0 name s2 mtu 1300 type ipvlan mode l2 ||
	ktap_bail "cannot create s2"
val "slave created with mtu 1300: mtu (master 1400)" "$(mtu "$H" s2)"
ip -n "$H" link set m0 mtu 1450
val "master mtu 1400 -> 1450: mtu of s1, s2" "$(mtu "$H" s1) $(mtu "$H" s2)"
ip -n "$H" link set m0 mtu 1280
val "master mtu 1450 -> 1280: mtu of s1, s2" "$(mtu "$H" s1) $(mtu "$H" s2)"
ip -n "$H" link set m0 mtu 1500

# --------------------------------------------------------------- MAC

{ add_ipvlan "$H" m0 s3 mode l2 && ip -n "$H" link set s3 netns "$A"; } ||
	ktap_bail "cannot create s3"
{ add_ipvlan "$H" m0 s4 mode l2 && ip -n "$H" link set s4 netns "$D"; } ||
	ktap_bail "cannot create s4"
ip -n "$H" link set m0 address 02:00:5e:10:00:42
got="$(mac "$H" s1) $(mac "$H" s2) $(mac "$A" s3)"
if [ "$got" = "02:00:5e:10:00:42 02:00:5e:10:00:42 02:00:5e:10:00:42" ]; then
	ktap_ok "master MAC change reaches every slave, also in other namespaces"
else
	ktap_not_ok "master MAC change reaches every slave, also in other namespaces"
	diag "s1 s2 s3 MACs: $got"
fi

# ------------------------------------------------------------ dev_id

ns_batch "$H" <<EOF
link set s1 up
link set s2 up
EOF
ns_batch "$A" <<EOF
link set lo up
link set s3 up
addr add 198.51.100.13/24 dev s3
EOF
ns_batch "$D" <<EOF
link set lo up
link set s4 up
addr add 198.51.100.14/24 dev s4
EOF

ids=$(ip netns exec "$H" cat /sys/class/net/s1/dev_id /sys/class/net/s2/dev_id /sys/class/net/m0/dev_id)
ids="$ids $(ip netns exec "$A" cat /sys/class/net/s3/dev_id)"
diag "dev_id of s1 s2 m0 s3: ${ids//$'\n'/ }"
# shellcheck disable=SC2086 # one id per word
if [ "$(printf '%s\n' $ids | sort -u | wc -l)" -eq 4 ]; then
	ktap_ok "every slave has its own dev_id, different from the master's"
else
	ktap_not_ok "every slave has its own dev_id, different from the master's"
fi

# ll NS DEV: DEV's IPv6 link-local address.
ll() {
	local l

	l=$(ip -n "$1" -6 -o addr show dev "$2" scope link)
	l=${l#* inet6 }
	echo "${l%%/*}"
}
distinct_ll() {
	local all

	all="$(ll "$H" s1) $(ll "$H" s2) $(ll "$A" s3) $(ll "$H" m0)"
	echo "link-locals of s1 s2 s3 m0: $all"
	# shellcheck disable=SC2086 # one address per word
	[ "$(printf '%s\n' $all | grep -c '^fe80')" -eq 4 ] &&
		[ "$(printf '%s\n' $all | sort -u | wc -l)" -eq 4 ]
}
check "slaves get distinct IPv6 link-local addresses, unlike the master's" \
	wait_for 5 distinct_ll

# ---------------------------------------------------------- operstate

# A slave's operstate follows its master's carrier (link watch, async).
sleep 1
st0=$(operstate "$H" s1)
val "slave operstate with its master up" "$st0"
# The in-tree driver passes a master's admin down and up on to its slaves
# from 6.12 on; 6.1's left them UNKNOWN. Ours does it on every kernel.
if [ "$IMPL" = in-tree ] && [ "$(uname -r | cut -d. -f1-2)" = 6.1 ]; then
	EXPECT["master set down: slave operstate"]=UNKNOWN
	EXPECT["master set up again: slave operstate"]=UNKNOWN
fi
if [ "$(uname -r | cut -d. -f1-2)" = 6.1 ]; then
	OPER_DIFF="in-tree 6.1 does not pass a master's admin down/up on to its slaves; 6.12 and later do, ours does on every kernel"
else
	OPER_DIFF=
fi
ip -n "$H" link set m0 down
st=$(state_after "$H" s1 "$st0")
[ -z "$OPER_DIFF" ] || deliberate_diff "$OPER_DIFF"
val "master set down: slave operstate" "$st"
ip -n "$H" link set m0 up
[ -z "$OPER_DIFF" ] || deliberate_diff "$OPER_DIFF"
st1=$(state_after "$H" s1 "$st")
val "master set up again: slave operstate" "$st1"
ip -n "$O" link set o0 down
st=$(state_after "$H" s1 "$st1")
val "master loses carrier (peer down): slave operstate" "$st"
ip -n "$O" link set o0 up
val "master carrier back: slave operstate" "$(state_after "$H" s1 "$st")"

# ------------------------------------------------- slaves change netns

val "slave s3 in its namespace: outside" "$(reach "$A" 198.51.100.2)"
ip -n "$A" link set s3 netns "$B"
ns_batch "$B" <<EOF
link set lo up
link set s3 up
addr add 198.51.100.13/24 dev s3
EOF
val "slave s3 moved to another namespace: outside" "$(reach "$B" 198.51.100.2)"
check "ip -d link there reports link-netns = the master's namespace" \
	link_has "$B" s3 "link-netns $H"
ip -n "$B" link set s3 netns "$H"
check "moved into the master's namespace: s3@m0, no link-netns" \
	bash -c "ip -n '$H' -d link show dev s3 | grep -q 's3@m0:' &&
		 ! ip -n '$H' -d link show dev s3 | grep -q link-netns"
ip -n "$H" link set s3 netns "$B"
ns_batch "$B" <<EOF
link set s3 up
addr add 198.51.100.13/24 dev s3
EOF

# ------------------------------------------------------- statistics

# rxtx NS DEV: "rx_packets tx_packets" from `ip -s -j link`.
rxtx() {
	local j re='"rx":\{"bytes":[0-9]+,"packets":([0-9]+).*"tx":\{"bytes":[0-9]+,"packets":([0-9]+)'

	j=$(ip -n "$1" -s -j link show dev "$2")
	[[ $j =~ $re ]] && echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}
read -r rx0 tx0 <<<"$(rxtx "$B" s3)"
ip netns exec "$B" ping -q -c 5 -i 0.2 -W 2 198.51.100.2 >/dev/null
read -r rx1 tx1 <<<"$(rxtx "$B" s3)"
diag "s3 rx/tx packets: $rx0/$tx0 -> $rx1/$tx1"
check "ip -s link: 5 pings move the slave's rx and tx counters by >= 5" \
	test $((rx1 - rx0)) -ge 5 -a $((tx1 - tx0)) -ge 5

# ------------------------------------------------------------ ethtool

drv=$(ip netns exec "$H" ethtool -i s1 2>&1)
val "ethtool -i on a slave: driver" "$(sed -n 's/^driver: //p' <<<"$drv")"
val "ethtool -i on a slave: version" "$(sed -n 's/^version: //p' <<<"$drv")"
speed() {
	ip netns exec "$1" ethtool "$2" 2>/dev/null | sed -n 's/^[[:space:]]*Speed: //p'
}
val "ethtool on a slave: speed (the master's: $(speed "$H" m0))" "$(speed "$H" s1)"

# ------------------------------------------- l3s master changes netns

{ add_ipvlan "$H" m1 t1 mode l3s && ip -n "$H" link set t1 netns "$T"; } ||
	ktap_bail "cannot create t1"
ns_batch "$T" <<EOF
link set lo up
link set t1 up
addr add 192.0.2.50/32 dev t1
route add default dev t1
EOF
val "l3s: outside -> slave t1" "$(reach "$O" 192.0.2.50)"
ip -n "$H" link set m1 netns "$H2"
ns_batch "$H2" <<EOF
link set lo up
link set m1 up
addr add 203.0.113.1/24 dev m1
EOF
read -r rx0 _ <<<"$(rxtx "$T" t1)"
val "l3s: master moved to another namespace: outside -> slave t1" "$(reach "$O" 192.0.2.50)"
read -r rx1 _ <<<"$(rxtx "$T" t1)"
diag "t1 rx packets: $rx0 -> $rx1"
check "l3s: those pings reached t1 itself (its rx counter moved)" \
	test "$((rx1 - rx0))" -ge 1
val "l3s: master moved to another namespace: slave t1 -> outside" "$(reach "$T" 203.0.113.2)"
check "ip -d link of t1 reports link-netns = the master's new namespace" \
	link_has "$T" t1 "link-netns $H2"

# ------------------------------------------- l2 master changes netns

ip -n "$H" link set m0 netns "$H2"
ip -n "$H2" link set m0 up
val "l2: master moved to another namespace: slave s3 -> outside" "$(reach "$B" 198.51.100.2)"
check "ip -d link of s3 reports link-netns = the master's new namespace" \
	link_has "$B" s3 "link-netns $H2"
check "s1, s2 stay in the old namespace, reporting link-netns" \
	link_has "$H" s1 "link-netns $H2"

# --------------------------------------------------- netns deletion

# s4 (198.51.100.14) goes with its namespace; then its address is free.
ns_del "$D"
take_s4_addr() {
	ip -n "$B" addr add 198.51.100.14/24 dev s3
}
check "deleting a slave's namespace removes that slave (its address is free)" \
	wait_for 10 take_s4_addr
check "the other slaves stay: s1 and s2 exist, s3 reaches the outside" \
	bash -c "ip -n '$H' link show dev s1 >/dev/null &&
		 ip -n '$H' link show dev s2 >/dev/null &&
		 ip netns exec '$B' ping -q -c 1 -w 3 -i 0.2 198.51.100.2 >/dev/null"

all_gone() {
	! ip -n "$H" link show dev s1 >/dev/null 2>&1 &&
		! ip -n "$H" link show dev s2 >/dev/null 2>&1 &&
		! ip -n "$B" link show dev s3 >/dev/null 2>&1 &&
		! ip -n "$T" link show dev t1 >/dev/null 2>&1
}
ns_del "$H2"
check "deleting the masters' namespace deletes every slave in every namespace" \
	wait_for 10 all_gone

ktap_finish
