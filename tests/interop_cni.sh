#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interop: the CNI ipvlan plugin (Debian's containernetworking-plugins,
# /usr/lib/cni/ipvlan with host-local IPAM), driven the way a container
# runtime drives it (CNI_COMMAND=ADD/CHECK/DEL, the network config on
# stdin), in modes l2, l3 and l3s:
#
#   NS_OUT (outside) o0 ==veth== m0 NS_HOST (the plugin runs here)
#                                 |-- eth0 in container c1 (ipvlan)
#                                 '-- eth0 in container c2 (ipvlan)
#
# l2: everything in 192.0.2.0/24 and 2001:db8::/64, the outside is
# 192.0.2.254. l3, l3s: the containers are routed; m0 has 198.51.100.1 and
# 2001:db8:1::1, the outside 198.51.100.254 and 2001:db8:1::fe with routes
# to the container subnets through m0.
#
# For each mode: ADD two containers, the link the plugin made, CHECK (and
# a CHECK that must fail), ping container <-> container and both ways
# with the outside (IPv4 and IPv6), DEL, DEL again, DEL of a container
# whose netns is gone, host-local's reservations released.
# shellcheck source=tests/lib_interop.sh
. "$(dirname "$(readlink -f "$0")")/lib_interop.sh"

CNI_DIR=${CNI_DIR:-/usr/lib/cni}

require_root
require_cmd ip ping
require_prog jq jq
require_ipvlan
require_prog "$CNI_DIR/ipvlan" containernetworking-plugins
require_prog "$CNI_DIR/host-local" containernetworking-plugins

MODES=(l2 l3 l3s)
ktap_plan $((${#MODES[@]} * 13))
diag "containernetworking-plugins $(pkg_version containernetworking-plugins), IMPL=$IMPL"

interop_tmp T

# cni CMD MODE CID NS CONF_FILE: run the ipvlan plugin in NS_HOST; the
# result (or the CNI error object) goes to stdout.
cni() {
	local cmd=$1 mode=$2 cid=$3 ns=$4 conf=$5

	ip netns exec "$NS_HOST" env -i PATH="$PATH" \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
		CNI_NETNS="/run/netns/$ns" CNI_IFNAME=eth0 CNI_PATH="$CNI_DIR" \
		"$CNI_DIR/ipvlan" <"$conf"
}

# cni_ok DESC CMD MODE CID NS CONF_FILE [OUT_FILE]: one case, the plugin
# exits 0; its output is kept in OUT_FILE.
cni_ok() {
	local desc=$1 out=${7:-$T/out}

	shift
	check "$desc" cni_save "$out" "$@"
}

cni_save() {
	local out=$1 rc

	shift
	cni "$@" >"$out"
	rc=$?
	[ "$rc" -eq 0 ] || cat "$out"
	return "$rc"
}

# conf MODE [PREV_RESULT_FILE]: the network config (with prevResult for
# CHECK); writes it to a file and prints its name.
conf() {
	local mode=$1 prev=${2:-} f routes='[]'

	f=$T/conf-$mode${prev:+-check}.json
	if [ "$mode" != l2 ]; then
		# With the gateway spelled out: CHECK compares the routes
		# of prevResult with the container's, and ADD installs a
		# route without "gw" through the range's gateway.
		routes='[{"dst": "198.51.100.0/24", "gw": "192.0.2.254"},
			{"dst": "2001:db8:1::/64", "gw": "2001:db8::fe"}]'
	fi
	jq -n --arg mode "$mode" --arg dir "$T/ipam" --argjson routes "$routes" '{
		cniVersion: "1.0.0", name: ("ipvl-" + $mode), type: "ipvlan",
		master: "m0", mode: $mode,
		ipam: { type: "host-local", dataDir: $dir, routes: $routes,
			ranges: [
				[{ subnet: "192.0.2.0/24", rangeStart: "192.0.2.10",
				   rangeEnd: "192.0.2.20", gateway: "192.0.2.254" }],
				[{ subnet: "2001:db8::/64", rangeStart: "2001:db8::10",
				   rangeEnd: "2001:db8::20", gateway: "2001:db8::fe" }]
			] } }' >"$f" || return 1
	if [ -n "$prev" ]; then
		jq --slurpfile r "$prev" '. + { prevResult: $r[0] }' "$f" >"$f.new" &&
			mv "$f.new" "$f"
	fi
	echo "$f"
}

# result_ip FILE 4|6: the container's address from an ADD result.
result_ip() {
	local re='[.]'

	[ "$2" = 6 ] && re=':'
	jq -r --arg re "$re" '.ips[].address | select(test($re)) | sub("/.*"; "")' "$1" |
		head -n1
}

# reserved MODE IP: host-local holds a reservation for IP.
reserved() {
	[ -e "$T/ipam/ipvl-$1/$2" ]
}

released() {
	local mode=$1 ip

	shift
	for ip in "$@"; do
		if reserved "$mode" "$ip"; then
			echo "host-local still holds $ip:"
			ls -l "$T/ipam/ipvl-$mode"
			return 1
		fi
	done
}

# held MODE IP...: every IP is reserved.
held() {
	local mode=$1 ip

	shift
	for ip in "$@"; do
		reserved "$mode" "$ip" || { echo "$ip not reserved"; ls -l "$T/ipam/ipvl-$mode"; return 1; }
	done
}

has_addrs() {
	local ns=$1 a got

	shift
	got=$(ip -n "$ns" addr show dev eth0)
	for a in "$@"; do
		[[ $got == *" $a/"* ]] || { echo "eth0 lacks $a:"; echo "$got"; return 1; }
	done
}

# setup MODE: NS_OUT, NS_HOST (m0), containers NS_C1, NS_C2 (empty).
setup() {
	local mode=$1

	ns_create "NS_OUT:$mode-out"
	ns_create "NS_HOST:$mode-host"
	ns_create "NS_C1:$mode-c1"
	ns_create "NS_C2:$mode-c2"
	ip -n "$NS_HOST" link add m0 type veth peer name o0 netns "$NS_OUT" ||
		ktap_bail "cannot create the veth master"
	ip -n "$NS_HOST" link set m0 up
	ip -n "$NS_OUT" link set o0 up
	if [ "$mode" = l2 ]; then
		ip -n "$NS_OUT" addr add "$OUT4/24" dev o0
		ip -n "$NS_OUT" addr add "$OUT6/64" dev o0 nodad
		OUT_V4=$OUT4 OUT_V6=$OUT6
	else
		ip -n "$NS_HOST" addr add 198.51.100.1/24 dev m0
		ip -n "$NS_HOST" addr add 2001:db8:1::1/64 dev m0 nodad
		ip netns exec "$NS_HOST" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1
		ip -n "$NS_OUT" addr add 198.51.100.254/24 dev o0
		ip -n "$NS_OUT" addr add 2001:db8:1::fe/64 dev o0 nodad
		ip -n "$NS_OUT" route add 192.0.2.0/24 via 198.51.100.1
		ip -n "$NS_OUT" route add 2001:db8::/64 via 2001:db8:1::1
		OUT_V4=198.51.100.254 OUT_V6=2001:db8:1::fe
	fi
}

teardown() {
	local ns

	for ns in "$NS_C1" "$NS_C2" "$NS_HOST" "$NS_OUT"; do
		ip netns del "$ns" 2>/dev/null
	done
}

run_mode() {
	local mode=$1 c r1 r2 a1 a2 b1 b2 bad i

	setup "$mode"
	c=$(conf "$mode") || ktap_bail "cannot write the CNI config"

	cni_ok "$mode: ADD c1" ADD "$mode" c1 "$NS_C1" "$c" "$T/r1-$mode"
	cni_ok "$mode: ADD c2" ADD "$mode" c2 "$NS_C2" "$c" "$T/r2-$mode"
	r1=$T/r1-$mode r2=$T/r2-$mode
	a1=$(result_ip "$r1" 4 2>/dev/null) b1=$(result_ip "$r1" 6 2>/dev/null)
	a2=$(result_ip "$r2" 4 2>/dev/null) b2=$(result_ip "$r2" 6 2>/dev/null)
	diag "$mode: c1 $a1 $b1, c2 $a2 $b2"
	if [ -z "$a1" ] || [ -z "$b1" ] || [ -z "$a2" ] || [ -z "$b2" ]; then
		# Without them nothing below means anything.
		diag "$mode: ADD results lack addresses; skipping the rest of $mode"
		for ((i = 3; i <= 13; i++)); do
			skip "$mode: case $i" "no addresses from ADD"
		done
		teardown
		return
	fi

	check "$mode: c1's eth0 is 'ipvlan  mode $mode bridge' with the IPAM addresses" \
		both link_has "$NS_C1" eth0 "ipvlan  mode $mode bridge" -- \
		has_addrs "$NS_C1" "$a1" "$b1"
	check "$mode: host-local holds both containers' addresses" \
		held "$mode" "$a1" "$b1" "$a2" "$b2"

	cni_ok "$mode: CHECK c1" CHECK "$mode" c1 "$NS_C1" "$(conf "$mode" "$r1")"
	# CHECK compares the link's mode (IFLA_IPVLAN_MODE) with the config.
	bad=l2
	[ "$mode" = l2 ] && bad=l3
	c=$(conf "$bad" "$r1") && jq --arg m "$bad" '.name = "ipvl-'"$mode"'"' "$c" >"$c.x" &&
		mv "$c.x" "$c"
	check_fail "$mode: CHECK c1 with mode $bad in the config is refused" \
		cni CHECK "$mode" c1 "$NS_C1" "$c"
	c=$(conf "$mode")

	check "$mode: c1 pings c2 ($a2, $b2)" pings_all "$NS_C1" "$a2" "$b2"
	check "$mode: c1 pings the outside ($OUT_V4, $OUT_V6)" pings_all "$NS_C1" "$OUT_V4" "$OUT_V6"
	check "$mode: the outside pings c1 and c2" pings_all "$NS_OUT" "$a1" "$b1" "$a2" "$b2"

	cni_ok "$mode: DEL c1" DEL "$mode" c1 "$NS_C1" "$c"
	check "$mode: after DEL, c1 has no eth0 and its addresses are released" \
		both dev_absent "$NS_C1" eth0 -- released "$mode" "$a1" "$b1"
	cni_ok "$mode: DEL c1 a second time succeeds" DEL "$mode" c1 "$NS_C1" "$c"

	ip netns del "$NS_C2"
	check "$mode: DEL c2 after its netns is gone succeeds and releases its addresses" \
		both cni DEL "$mode" c2 "$NS_C2" "$c" -- released "$mode" "$a2" "$b2"
	teardown
}

for m in "${MODES[@]}"; do
	run_mode "$m"
done

ktap_finish
