#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interop: systemd-networkd (Debian's systemd package) creates and
# configures ipvlan and ipvtap devices from .netdev/.network files, the
# way a host does at boot. networkd runs without systemd as PID 1: started
# by hand inside the host namespace, with its own /run/systemd (config in
# network/, state in netif/) and a read-only /sys (no udev here; networkd
# then does not wait for udev to initialise each link).
#
#   NS_OUT o0 (192.0.2.254, 2001:db8::fe) ==veth== m0  NS_HOST
#          o1 (198.51.100.254)            ==veth== m1  (networkd)
#
#   m0.network: IPVLAN=ipvl0, IPVTAP=ipvtap0
#     ipvl0.netdev   Kind=ipvlan [IPVLAN] Mode=L2 Flags=bridge
#                    192.0.2.1/24, 2001:db8::1/64
#     ipvtap0.netdev Kind=ipvtap [IPVTAP] Mode=L2 Flags=bridge
#                    192.0.2.2/24: the address of the guest behind
#                    /dev/tapN (tools/tapguest), configured on the host
#                    side as upstream ipvtap needs
#   m1.network: 198.51.100.1/24, IPVLAN=ipvl1
#     ipvl1.netdev   Kind=ipvlan [IPVLAN] Mode=L3 Flags=private
#                    203.0.113.1/24, reached by the outside through m1
# shellcheck source=tests/lib_interop.sh
. "$(dirname "$(readlink -f "$0")")/lib_interop.sh"

NETWORKD=${NETWORKD:-/lib/systemd/systemd-networkd}
TG=$IPVTAP_REPO/tools/tapguest/tapguest

require_root
require_cmd ip ping
require_ipvlan
require_prog "$NETWORKD" systemd
id systemd-network >/dev/null 2>&1 ||
	ktap_skip_all "no user systemd-network: install Debian's 'systemd' ('make deps' does)"

ktap_plan 11
diag "systemd $(pkg_version systemd), IMPL=$IMPL"

interop_tmp T
S=$T/systemd
mkdir -p "$S/network" "$S/netif/links" "$S/netif/leases" "$S/netif/lldp"
chown -R systemd-network:systemd-network "$S/netif"
chmod 755 "$T"

setup_master
ip -n "$NS_HOST" link add m1 type veth peer name o1 netns "$NS_OUT" ||
	ktap_bail "cannot create the second veth"
ip -n "$NS_OUT" link set o1 up
ip -n "$NS_OUT" addr add 198.51.100.254/24 dev o1
ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.1

cat >"$S/network/10-m0.network" <<'EOF'
[Match]
Name=m0

[Link]
RequiredForOnline=no

[Network]
LinkLocalAddressing=no
IPv6AcceptRA=no
IPVLAN=ipvl0
IPVTAP=ipvtap0
EOF
cat >"$S/network/10-m1.network" <<'EOF'
[Match]
Name=m1

[Network]
Address=198.51.100.1/24
LinkLocalAddressing=no
IPv6AcceptRA=no
IPVLAN=ipvl1
EOF
cat >"$S/network/20-ipvl0.netdev" <<'EOF'
[NetDev]
Name=ipvl0
Kind=ipvlan

[IPVLAN]
Mode=L2
Flags=bridge
EOF
cat >"$S/network/20-ipvl0.network" <<'EOF'
[Match]
Name=ipvl0

[Network]
Address=192.0.2.1/24
Address=2001:db8::1/64
IPv6AcceptRA=no
EOF
cat >"$S/network/20-ipvtap0.netdev" <<'EOF'
[NetDev]
Name=ipvtap0
Kind=ipvtap

[IPVTAP]
Mode=L2
Flags=bridge
EOF
cat >"$S/network/20-ipvtap0.network" <<'EOF'
[Match]
Name=ipvtap0

[Network]
Address=192.0.2.2/24
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
cat >"$S/network/20-ipvl1.netdev" <<'EOF'
[NetDev]
Name=ipvl1
Kind=ipvlan

[IPVLAN]
Mode=L3
Flags=private
EOF
cat >"$S/network/20-ipvl1.network" <<'EOF'
[Match]
Name=ipvl1

[Network]
Address=203.0.113.1/24
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF

# networkd in NS_HOST, in the mount namespace `ip netns exec` makes: its
# own /run/systemd, /sys read-only.
mkdir -p /run/systemd
# shellcheck disable=SC2016 # expanded by the inner shell
ip netns exec "$NS_HOST" env -i PATH="$PATH" SYSTEMD_LOG_LEVEL=debug \
	SYSTEMD_LOG_TARGET=console bash -c '
	mount -o remount,ro /sys &&
	mount --bind "$1" /run/systemd &&
	exec "$2"' _ "$S" "$NETWORKD" >"$T/networkd.log" 2>&1 &
NETWORKD_PID=$!
defer "kill $NETWORKD_PID; wait $NETWORKD_PID"

links_exist() {
	local d

	for d in ipvl0 ipvtap0 ipvl1; do
		ip -n "$NS_HOST" link show dev "$d" >/dev/null || return 1
	done
}

networkd_log() {
	echo "--- networkd's log (last 40 lines):"
	tail -n 40 "$T/networkd.log"
}

if check "networkd creates ipvl0, ipvtap0 and ipvl1 from the .netdev files" \
	wait_for 60 links_exist; then
	:
else
	diag "$(networkd_log)"
fi

check "ipvl0: 'ipvlan  mode l2 bridge'" link_has "$NS_HOST" ipvl0 "ipvlan  mode l2 bridge"
check "ipvtap0: 'ipvtap  mode l2 bridge'" link_has "$NS_HOST" ipvtap0 "ipvtap  mode l2 bridge"
check "ipvl1: 'ipvlan  mode l3 private'" link_has "$NS_HOST" ipvl1 "ipvlan  mode l3 private"

# networkd's own verdict: /run/systemd/netif/links/<ifindex>.
configured() {
	local d idx st

	for d in m0 m1 ipvl0 ipvtap0 ipvl1; do
		idx=$(ip netns exec "$NS_HOST" cat "/sys/class/net/$d/ifindex") || return 1
		st=$(grep '^ADMIN_STATE=' "$S/netif/links/$idx" 2>/dev/null)
		[ "$st" = ADMIN_STATE=configured ] ||
			{ echo "$d: '${st:-no state file}'"; return 1; }
	done
}
check "networkd reports m0, m1, ipvl0, ipvtap0, ipvl1 configured" \
	wait_for 60 configured || diag "$(networkd_log)"

addrs_applied() {
	local got

	got=$(ip -n "$NS_HOST" -br addr show) || return 1
	echo "$got"
	grep -Eq '^ipvl0@m0 .* 192\.0\.2\.1/24 .*2001:db8::1/64' <<<"$got" &&
		grep -Eq '^ipvtap0@m0 .* 192\.0\.2\.2/24' <<<"$got" &&
		grep -Eq '^ipvl1@m1 .* 203\.0\.113\.1/24' <<<"$got"
}
check "the .network addresses are on ipvl0, ipvtap0 and ipvl1" addrs_applied

# tap_node: ipvtap0's /dev/tap<ifindex> is a character device.
tap_node() {
	[ -c "$TAP" ] || { echo "$TAP is not a character device"; return 1; }
}
TAP=/dev/tap$(ip netns exec "$NS_HOST" cat /sys/class/net/ipvtap0/ifindex 2>/dev/null)
check "ipvtap0 has its character device /dev/tap<ifindex>" wait_for 10 tap_node

check "the outside pings ipvl0 (192.0.2.1, 2001:db8::1)" \
	pings_all "$NS_OUT" 192.0.2.1 2001:db8::1
check "ipvl0 pings the outside from its addresses" \
	bash -c "ip netns exec '$NS_HOST' ping -q -c 2 -W 2 -I 192.0.2.1 $OUT4 &&
		ip netns exec '$NS_HOST' ping -q -c 2 -W 2 -I 2001:db8::1 $OUT6"
check "the outside pings the l3 slave ipvl1 (203.0.113.1) through m1" \
	wait_ping "$NS_OUT" 203.0.113.1 10

# The guest behind ipvtap0 uses the master's MAC and the address that
# networkd configured on ipvtap0.
guest_traffic() {
	[ -x "$TG" ] || { echo "tools/tapguest/tapguest not built (make tools)"; return 1; }
	ip netns exec "$NS_HOST" "$TG" --tap "$TAP" --ip4 192.0.2.2/24 \
		--ping4 "$OUT4" --count 3 --timeout 20 --json
}
check "a guest on ipvtap0's /dev/tapN (192.0.2.2) pings the outside" guest_traffic

ktap_finish
