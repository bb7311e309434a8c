#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: the LOCAL_IN netfilter hooks of mode l3s exist only in a
# namespace that has (or had) an l3s port. Evidence: the kernel's own
# list of the hooks of a namespace (`nft list hooks`, nfnetlink_hook),
# which names each hook's function and module.
#
#  - a master with only l2 (and l3) slaves: no ipvlan hook in its
#    namespace, so the host's own traffic does not pass one;
#  - the port enters l3s: the namespace has an ipvlan hook at input, for
#    IPv4 and IPv6; a namespace with only an l2 port still has none;
#  - the port goes back to l2: ours keeps the hooks until the namespace
#    or the module goes, so later mode changes register nothing (README
#    "Hangs"); the in-tree driver removes them (# DIFF);
#  - an l3s master moved to another namespace takes them there.
#
# IMPL=in-tree: the same, except the case marked # DIFF.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_cmd ip nft
require_ipvlan

ns_create NA:hooks-a NB:hooks-b NC:hooks-c SA:hooks-sa
# The probe: an nftables input chain of NA must show in the list (a kernel
# without CONFIG_NETFILTER_NETLINK_HOOK, like the debug kernel's, lists
# nothing and says nothing).
# Debian builds it as a module, which nft does not always get loaded.
modprobe -q nfnetlink_hook 2>/dev/null
probe=$(ip netns exec "$NA" nft -f - 2>&1 <<'EOF'
table inet probe {
	chain in { type filter hook input priority 0; policy accept; }
}
EOF
) || ktap_bail "cannot add an nftables chain: $probe"
probe=$(ip netns exec "$NA" nft list hooks 2>&1)
ip netns exec "$NA" nft delete table inet probe
if ! grep -q 'chain inet probe in' <<<"$probe"; then
	diag "$probe"
	ktap_skip_all "nft list hooks lists no nftables chain here (no nfnetlink_hook in the kernel?)"
fi

ktap_plan 8

# ipvl_hooks NS: the ipvlan module's hooks in NS, one per line as
# "FAMILY HOOK FUNCTION".
ipvl_hooks() {
	ip netns exec "$1" nft list hooks 2>/dev/null | awk '
		/^family / { fam = $2 }
		/^[ \t]*hook / { hk = $2 }
		/\[ipvlan\]/ { print fam, hk, $(NF - 1) }'
}

# hooks_are NS WANT: the ipvlan hooks of NS are WANT ("" for none).
hooks_are() {
	local got

	got=$(ipvl_hooks "$1" | sort | tr '\n' ' ')
	got=${got% }
	echo "ipvlan hooks in $1: '${got}'"
	[ "$got" = "$2" ] && return 0
	echo "nft list hooks says:"
	ip netns exec "$1" nft list hooks
	return 1
}

# "ip input F ip6 input F" with F the function's name (ours or in-tree's).
l3s_hooks() {
	local f

	f=$(ipvl_hooks "$1" | awk 'NR == 1 { print $3 }')
	if [ -z "$f" ]; then
		echo "no ipvlan hook in $1; nft list hooks says:"
		ip netns exec "$1" nft list hooks
		return 1
	fi
	hooks_are "$1" "ip input $f ip6 input $f"
}

# mode_then NS DEV MODE CMD...: DEV (in NS) to MODE, then CMD.
mode_then() {
	ip -n "$1" link set "$2" type ipvlan mode "$3" || return 1
	"${@:4}"
}

# move_then NS DEV TO CMD...: DEV of NS moved to namespace TO, then CMD.
move_then() {
	ip -n "$1" link set "$2" netns "$3" || return 1
	"${@:4}"
}

for ns in "$NA" "$NB"; do
	ip -n "$ns" link add m0 type veth peer name p0 ||
		ktap_bail "cannot create a veth in $ns"
	ip -n "$ns" link set m0 up
done
add_ipvlan "$NA" m0 s1 mode l2 || ktap_bail "cannot add an l2 slave"
add_ipvlan "$NB" m0 s1 mode l2 || ktap_bail "cannot add an l2 slave"
ip -n "$NA" link set s1 netns "$SA"
add_ipvlan "$NA" m0 s2 mode l2 || ktap_bail "cannot add a second slave"

check "an l2 port: no ipvlan hook in the master's namespace" \
	hooks_are "$NA" ""
check "the port in mode l3: still none" \
	mode_then "$SA" s1 l3 hooks_are "$NA" ""
check "the port enters l3s: an ipvlan hook at input, IPv4 and IPv6" \
	mode_then "$SA" s1 l3s l3s_hooks "$NA"
check "another namespace with only an l2 port: none there" \
	hooks_are "$NB" ""
check "the l3s slave in another namespace still reports mode l3s" \
	link_has "$SA" s1 "mode l3s"

if [ "$IMPL" = in-tree ]; then
	check "back to l2: the hooks are gone (# DIFF: ours keeps them)" \
		mode_then "$SA" s1 l2 hooks_are "$NA" ""
else
	check "back to l2: the hooks stay until the namespace or module goes (# DIFF: in-tree removes them)" \
		mode_then "$SA" s1 l2 l3s_hooks "$NA"
fi

# A master with an l3s port moves to NC: its hooks go with it.
ip -n "$NB" link set s1 type ipvlan mode l3s || ktap_bail "cannot enter l3s in $NB"
check "an l3s master moved to a namespace without hooks: they follow it" \
	move_then "$NB" m0 "$NC" l3s_hooks "$NC"
check "... and the moved master's slave still reports mode l3s" \
	link_has "$NB" s1 "mode l3s"

ktap_finish
