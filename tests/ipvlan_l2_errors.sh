#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: bad requests are refused with an error and create nothing.
# Raw netlink requests (values iproute2 will not send) go through
# tools/testing/ipvl_newlink (built by `make`).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip
require_ipvlan

NEWLINK=$IPVTAP_REPO/tools/testing/ipvl_newlink

ktap_plan 13

ns_create NS:host
ip -n "$NS" link add m0 type veth peer name p0 || ktap_bail "cannot create veth"
ip -n "$NS" link set m0 up

# refused NAME CMD...: CMD fails with an error message and device NAME
# does not exist afterwards.
refused() {
	local name=$1 out rc

	shift
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	if [ "$rc" -eq 0 ]; then
		echo "request was accepted"
		return 1
	fi
	if [ -z "$out" ]; then
		echo "refused without any error message"
		return 1
	fi
	dev_absent "$NS" "$name"
}

# raw_refused NAME ERRNO_NAME ipvl_newlink-args...: the kernel refuses the
# raw RTM_NEWLINK with that errno and creates nothing.
raw_refused() {
	local name=$1 want=$2 out rc

	shift 2
	out=$(ip netns exec "$NS" "$NEWLINK" --name "$name" "$@" 2>&1)
	rc=$?
	echo "$out"
	if [ "$rc" -ne 1 ]; then
		echo "ipvl_newlink exit $rc, want 1 (kernel refused)"
		return 1
	fi
	if ! grep -q "^error: $want " <<<"$out"; then
		echo "want $want"
		return 1
	fi
	dev_absent "$NS" "$name"
}

check "iproute2 refuses 'mode foo' with a message, nothing created" \
	refused x0 ip -n "$NS" link add link m0 name x0 type ipvlan mode foo

if [ -x "$NEWLINK" ]; then
	check "raw netlink: valid request (mode l2, flags 0) is accepted" \
		bash -c "ip netns exec '$NS' '$NEWLINK' --link m0 --name r0 --mode 0 --flags 0 &&
			 ip -n '$NS' -d link show dev r0 | grep -q 'ipvlan  mode l2 bridge'"
	ip -n "$NS" link del r0 2>/dev/null
	check "raw netlink: IFLA_IPVLAN_MODE=7 refused with EINVAL, nothing created" \
		raw_refused r1 EINVAL --link m0 --mode 7
	check "raw netlink: IFLA_IPVLAN_MODE=3 (one past l3s) refused with EINVAL" \
		raw_refused r2 EINVAL --link m0 --mode 3
	check "raw netlink: IFLA_IPVLAN_FLAGS=private|vepa refused with EINVAL" \
		raw_refused r3 EINVAL --link m0 --mode 0 --flags 3
	check "raw netlink: unknown IFLA_IPVLAN_FLAGS bit 0x4 refused with EINVAL" \
		raw_refused r4 EINVAL --link m0 --mode 0 --flags 4
	check "raw netlink: ipvlan on lo refused with EINVAL" \
		raw_refused r5 EINVAL --link lo --mode 0
else
	for d in "valid request accepted" "mode 7 refused" "mode 3 refused" \
		 "flags 3 refused" "flags 4 refused" "lo refused"; do
		skip "raw netlink: $d" "$NEWLINK not built (run make)"
	done
fi

check "ipvlan on lo is refused with a message, nothing created" \
	refused x1 ip -n "$NS" link add link lo name x1 type ipvlan mode l2

check "ipvlan without a master (no 'link') is refused, nothing created" \
	refused x2 ip -n "$NS" link add name x2 type ipvlan mode l2

if modprobe tun 2>/dev/null && ip -n "$NS" tuntap add dev tun0 mode tun 2>/dev/null; then
	check "ipvlan on a non-Ethernet (tun) master is refused, nothing created" \
		refused x3 ip -n "$NS" link add link tun0 name x3 type ipvlan mode l2
else
	skip "ipvlan on a non-Ethernet (tun) master is refused" "no tun support"
fi

# A master whose rx_handler is taken (here: a bridge port) is busy.
bridge_busy() {
	ip -n "$NS" link add b0 type bridge || return 1
	ip -n "$NS" link add v0 type veth peer name v1 || return 1
	ip -n "$NS" link set v0 master b0 || return 1
	refused x4 ip -n "$NS" link add link v0 name x4 type ipvlan mode l2
}
if ip -n "$NS" link add bprobe type bridge 2>/dev/null; then
	ip -n "$NS" link del bprobe
	check "ipvlan on a bridge port (rx_handler busy) is refused" bridge_busy
else
	skip "ipvlan on a bridge port (rx_handler busy) is refused" "no bridge support"
fi

check "an existing name is refused (EEXIST), the existing slave is untouched" \
	bash -c "ip -n '$NS' link add link m0 name s1 type ipvlan mode l2 &&
		 ! ip -n '$NS' link add link m0 name s1 type ipvlan mode l3 &&
		 ip -n '$NS' -d link show dev s1 | grep -q 'ipvlan  mode l2 bridge'"

check "after all refusals only the one valid slave exists on m0" \
	bash -c "test \"\$(ip -n '$NS' -o link show type ipvlan | wc -l)\" -eq 1"

ktap_finish
