#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ipvlan: every mode (l2, l3, l3s) x every flag (bridge, private, vepa),
# reachability along every path, compared with the in-tree driver.
#
# Topology, built anew for each combination:
#
#   outside ns: o0 198.51.100.2/24 2001:db8:1::2/64 (a plain veth end: no
#               forwarding, so it never hairpins vepa traffic back)
#   host ns:    m0 198.51.100.1/24 2001:db8:1::1/64, the ipvlan master
#   s1 ns, s2 ns: slave s<i>, moved into its own namespace
#     l2:       198.51.100.1<i>/24, 2001:db8:1::1<i>/64 (the outside's link)
#     l3, l3s:  192.0.2.<i>/32, 2001:db8:2::<i>/128, default routes via s<i>;
#               the outside routes 192.0.2.0/24 and 2001:db8:2::/64 via
#               the host's m0 address, the host forwards (ip_forward=1)
#               and routes the slave subnets on m0.
#
# Cases per combination: slave->slave, slave->outside, outside->slave,
# host (the master's namespace)->slave, each for IPv4 and IPv6; what
# `ip -d link` reports; whether the master namespace's netfilter (an nft
# input-hook counter) and conntrack see outside->slave traffic (l3s: they
# must, that is the point of l3s) and whether its conntrack sees
# slave->outside traffic (l3, l3s: routed there). Then mode/flag switches
# with changelink
# on a live port (l3s -> l3 -> l2 -> l3s), probed again.
#
# The EXPECTED result of each case is the in-tree module's, recorded in the
# table below by running this script with IMPL=in-tree; each case prints
#   ok N <mode>/<flag> <path>: <observed> (expected <in-tree result>)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lib_matrix.sh
. "$(dirname "$0")/lib_matrix.sh"

require_root
require_cmd ip ping
require_ipvlan

# MATRIX_MODES / MATRIX_FLAGS: run a subset (debugging only).
MODES=${MATRIX_MODES:-l2 l3 l3s}
FLAGS=${MATRIX_FLAGS:-bridge private vepa}
PATHS=("slave->slave v4" "slave->slave v6" "slave->outside v4"
	"slave->outside v6" "outside->slave v4" "outside->slave v6"
	"host->slave v4" "host->slave v6")
NF_PATHS=("host nf input sees outside->slave v4"
	"host nf input sees outside->slave v6"
	"host conntrack tracks outside->slave v4"
	"host conntrack tracks outside->slave v6"
	"host conntrack tracks slave->outside v4"
	"host conntrack tracks slave->outside v6")

# The in-tree module's results (Debian 6.1). Columns follow PATHS, then
# NF_PATHS; Y = reachable/seen/tracked, N = unreachable/not seen/untracked.
# Regenerate: run with IMPL=in-tree, copy the "# table:" lines.
#  combo        s>s4 s>s6 s>o4 s>o6 o>s4 o>s6 h>s4 h>s6 nf4 nf6 ct4 ct6 cto4 cto6
EXPECTED_TABLE='
l2/bridge      Y Y Y Y Y Y N N N N N N N N
l2/private     N N Y Y Y Y N N N N N N N N
l2/vepa        N N Y Y Y Y N N N N N N N N
l3/bridge      Y Y Y Y Y Y N N N N N N Y Y
l3/private     N N Y Y Y Y N N N N N N Y Y
l3/vepa        N N Y Y Y Y N N N N N N Y Y
l3s/bridge     Y Y Y Y Y Y N N Y Y Y Y Y Y
l3s/private    N N Y Y Y Y N N Y Y Y Y Y Y
l3s/vepa       N N Y Y Y Y N N Y Y Y Y Y Y
'

# After the matrix: changelink of mode/flags on a live port (switch_steps).
declare -A SWITCH_EXPECT=(
	["changelink -> l3/bridge: ip -d link of s2"]="mode l3 bridge"
	["changelink -> l3/bridge: s2 flags"]="NOARP"
	["changelink -> l3/bridge: slave->slave v4"]="reachable"
	["changelink -> l3/bridge: outside->slave v4"]="reachable"
	["changelink -> l2/private: ip -d link of s2"]="mode l2 private"
	["changelink -> l2/private: s2 flags"]="ARP"
	["changelink -> l2/private: slave->slave v4"]="unreachable"
	["changelink -> l2/private: outside->slave v4"]="reachable"
	["changelink -> l3s/bridge: ip -d link of s2"]="mode l3s bridge"
	["changelink -> l3s/bridge: s2 flags"]="NOARP"
	["changelink -> l3s/bridge: slave->slave v4"]="reachable"
	["changelink -> l3s/bridge: outside->slave v4"]="reachable"
	["changelink -> l3/bridge: host nf input sees outside->slave v4"]="not seen"
	["changelink -> l2/private: host nf input sees outside->slave v4"]="not seen"
	["changelink -> l3s/bridge: host nf input sees outside->slave v4"]="seen"
)

# Cases where ours deliberately differs: [case]="ours' expected|reason".
declare -A DELIBERATE=()

NF=0
if command -v nft >/dev/null 2>&1; then
	NF=1
	modprobe nf_conntrack 2>/dev/null
fi

read -r -a _m <<<"$MODES"
read -r -a _f <<<"$FLAGS"
ncases=$((${#_m[@]} * ${#_f[@]} * (${#PATHS[@]} + 1 + ${#NF_PATHS[@]}) + 15))
ktap_plan "$ncases"
diag "IMPL=$IMPL; netfilter checks: $([ $NF -eq 1 ] && echo nft || echo 'skipped (nft missing)')"

# The table as EXPECT[<combo> <column>]=Y|N (no process per lookup).
declare -A EXPECT=()
while read -r combo cols; do
	[ -n "$combo" ] || continue
	read -r -a v <<<"$cols"
	for j in "${!v[@]}"; do
		EXPECT["$combo $j"]=${v[j]}
	done
done <<<"$EXPECTED_TABLE"

# expected COMBO COLUMN WORD_Y WORD_N: the table's entry as a word.
expected() {
	case ${EXPECT["$1 $2"]:-} in
	Y) echo "$3" ;;
	N) echo "$4" ;;
	esac
}

# matrix_case CASE OBSERVED IN_TREE_EXPECTED
matrix_case() {
	local name=$1 got=$2 want=$3 d

	d=${DELIBERATE[$name]:-}
	if [ -n "$d" ]; then
		deliberate_diff "${d#*|}"
		[ "$IMPL" = in-tree ] || want=${d%%|*}
	fi
	result_case "$name" "$got" "$want"
}

# Run in the host namespace after the traffic: print the input-hook
# counters (v4, v6) for outside -> s1, the number of conntrack entries
# (v4, v6) for it and for s1 -> outside, one per line (/proc/net/
# nf_conntrack, else the conntrack tool).
# shellcheck disable=SC2016 # expanded by the inner bash
NF_QUERY='
o4=$1 s4=$2 o6=$3 s6=$4
rules=$(nft list chain inet ipvt in)
for f in "ip $o4 $s4" "ip6 $o6 $s6"; do
	read -r fam o s <<<"$f"
	n=0
	while read -r -a w; do
		[ "${w[0]}" = "$fam" ] && [ "${w[2]}" = "$o" ] && [ "${w[5]}" = "$s" ] &&
			n=${w[8]}
	done <<<"$rules"
	echo "$n"
done
if [ -r /proc/net/nf_conntrack ]; then
	# The original tuple (the first src= dst=) of every entry; IPv6 in
	# the full form (%pI6): $5, $6.
	ct=$(</proc/net/nf_conntrack)
	for p in "$o4 $s4" "$5 $6" "$s4 $o4" "$6 $5"; do
		read -r src dst <<<"$p"
		n=0
		while IFS= read -r l; do
			t=${l#*src=}
			[[ $t == "$src dst=$dst "* ]] && n=$((n + 1))
		done <<<"$ct"
		echo "$n"
	done
else
	conntrack -L -f ipv4 -s "$o4" -d "$s4" 2>/dev/null | grep -c .
	conntrack -L -f ipv6 -s "$o6" -d "$s6" 2>/dev/null | grep -c .
	conntrack -L -f ipv4 -s "$s4" -d "$o4" 2>/dev/null | grep -c .
	conntrack -L -f ipv6 -s "$s6" -d "$o6" 2>/dev/null | grep -c .
fi
'

# expand6 ADDR: the full form /proc/net/nf_conntrack prints (%pI6).
expand6() {
	local a=$1 head tail n i out=() g
	local -a h t

	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
	else
		head=$a tail=
	fi
	IFS=: read -r -a h <<<"$head"
	IFS=: read -r -a t <<<"$tail"
	n=$((8 - ${#h[@]} - ${#t[@]}))
	for g in "${h[@]}"; do printf -v g '%04x' "0x$g"; out+=("$g"); done
	for ((i = 0; i < n; i++)); do out+=(0000); done
	for g in "${t[@]}"; do printf -v g '%04x' "0x$g"; out+=("$g"); done
	local IFS=:
	echo "${out[*]}"
}

run_combo() {
	local mode=$1 flag=$2 c="$1/$2" tag i out host s1 s2 j want tmp lk
	local -a src dst got row a4 a6 nfr
	local ns_s

	tag=${mode}${flag:0:1}
	ns_create --bare out:"$tag-o" host:"$tag-h" s1:"$tag-1" s2:"$tag-2"
	ns_s=("" "$s1" "$s2")
	for i in 1 2; do
		if [ "$mode" = l2 ]; then
			a4[i]=198.51.100.1$i a6[i]=2001:db8:1::1$i
		else
			a4[i]=192.0.2.$i a6[i]=2001:db8:2::$i
		fi
	done

	ns_batch "$host" <<-EOF || ktap_bail "$c: host setup failed"
	link set lo up
	link add m0 type veth peer name o0 netns $out
	link set m0 up
	addr add 198.51.100.1/24 dev m0
	addr add 2001:db8:1::1/64 dev m0 nodad
	link add link m0 name s1 type ipvlan mode $mode $flag
	link add link m0 name s2 type ipvlan mode $mode $flag
	link set s1 netns $s1
	link set s2 netns $s2
	EOF
	if [ "$mode" != l2 ]; then
		ns_batch "$host" <<-EOF || ktap_bail "$c: host routes failed"
		route add 192.0.2.0/24 dev m0
		route add 2001:db8:2::/64 dev m0
		EOF
	fi
	ns_batch "$out" <<-EOF || ktap_bail "$c: outside setup failed"
	link set lo up
	link set o0 up
	addr add 198.51.100.2/24 dev o0
	addr add 2001:db8:1::2/64 dev o0 nodad
	EOF
	if [ "$mode" != l2 ]; then
		ns_batch "$out" <<-EOF || ktap_bail "$c: outside routes failed"
		route add 192.0.2.0/24 via 198.51.100.1
		route add 2001:db8:2::/64 via 2001:db8:1::1
		EOF
	fi
	for i in 1 2; do
		if [ "$mode" = l2 ]; then
			ns_batch "${ns_s[i]}" <<-EOF
			link set lo up
			link set s$i up
			addr add ${a4[i]}/24 dev s$i
			addr add ${a6[i]}/64 dev s$i nodad
			EOF
		else
			ns_batch "${ns_s[i]}" <<-EOF
			link set lo up
			link set s$i up
			addr add ${a4[i]}/32 dev s$i
			addr add ${a6[i]}/128 dev s$i nodad
			route add default dev s$i
			route add ::/0 dev s$i
			EOF
		fi || ktap_bail "$c: cannot configure slave s$i"
	done

	# Forwarding (l3, l3s) and the netfilter probes in the host namespace.
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$host" bash -c '
		if [ "$1" != l2 ]; then
			echo 1 >/proc/sys/net/ipv4/ip_forward &&
			echo 1 >/proc/sys/net/ipv6/conf/all/forwarding || exit 1
		fi
		[ "$2" -eq 1 ] || exit 0
		nft -f - <<-EOT
		table inet ipvt {
			chain in {
				type filter hook input priority 0; policy accept;
				ct state new,established counter
				ip saddr 198.51.100.2 ip daddr $3 counter
				ip6 saddr 2001:db8:1::2 ip6 daddr $4 counter
			}
		}
		EOT' - "$mode" "$NF" "${a4[1]}" "${a6[1]}" ||
		ktap_bail "$c: forwarding/nft setup failed"

	#        source ns / destination for each of PATHS
	src=("$s1" "$s1" "$s1" "$s1" "$out" "$out" "$host" "$host")
	dst=("${a4[2]}" "${a6[2]}" 198.51.100.2 2001:db8:1::2
	     "${a4[1]}" "${a6[1]}" "${a4[1]}" "${a6[1]}")

	# All paths at once (each takes up to 3 s when unreachable).
	tmp=$(mktemp -d)
	for j in "${!PATHS[@]}"; do
		reach "${src[j]}" "${dst[j]}" >"$tmp/$j" &
	done
	wait
	row=()
	for j in "${!PATHS[@]}"; do
		got[j]=$(<"$tmp/$j")
		row+=("$([ "${got[j]}" = reachable ] && echo Y || echo N)")
		matrix_case "$c ${PATHS[j]}" "${got[j]}" \
			"$(expected "$c" "$j" reachable unreachable)"
	done
	rm -rf "$tmp"

	lk=$(ip -n "$s1" -d link show dev s1)
	lk=$(grep -o 'ipvlan  mode [a-z0-9]* [a-z]*' <<<"$lk")
	matrix_case "$c ip -d link" "${lk#ipvlan  }" "mode $mode $flag"

	if [ "$NF" -eq 1 ]; then
		mapfile -t nfr < <(ip netns exec "$host" bash -c "$NF_QUERY" - \
			198.51.100.2 "${a4[1]}" 2001:db8:1::2 "${a6[1]}" \
			"$(expand6 2001:db8:1::2)" "$(expand6 "${a6[1]}")")
		for j in "${!NF_PATHS[@]}"; do
			if [ "$j" -lt 2 ]; then
				want=$(expected "$c" $((j + 8)) seen "not seen")
				if [ "${nfr[j]:-0}" -gt 0 ]; then got[j]=seen; else got[j]="not seen"; fi
			else
				want=$(expected "$c" $((j + 8)) tracked untracked)
				if [ "${nfr[j]:-0}" -gt 0 ]; then got[j]=tracked; else got[j]=untracked; fi
			fi
			if [ "${nfr[j]:-0}" -gt 0 ]; then row+=(Y); else row+=(N); fi
			matrix_case "$c ${NF_PATHS[j]}" "${got[j]}" "$want"
		done
	else
		for j in "${!NF_PATHS[@]}"; do
			skip "$c ${NF_PATHS[j]}" "nft not installed"
		done
	fi
	diag "table: $(printf '%-14s' "$c") ${row[*]}"

	# The slaves go with the master's namespace.
	if [ "${3:-}" = keep ]; then
		T_OUT=$out T_HOST=$host T_S1=$s1 T_S2=$s2
		T_A4=("" "${a4[1]}" "${a4[2]}")
	else
		ns_del "$host" "$s1" "$s2" "$out"
	fi
}

# switch_steps: on the kept l3s/vepa topology (l3 addressing), change the
# mode/flags with changelink on s1 (they are per master: s2 must follow)
# and probe again: l3s -> l3 (LOCAL_IN hook goes), l3 -> l2 (NOARP goes),
# l2 -> l3s (NOARP and the hook come back).
switch_steps() {
	local step m f c got flags tmp n n0

	for step in "l3 bridge" "l2 private" "l3s bridge"; do
		read -r m f <<<"$step"
		c="changelink -> $m/$f"
		ip -n "$T_S1" link set s1 type ipvlan mode "$m" "$f" ||
			diag "$c: ip link set failed"
		n0=0
		[ "$NF" -eq 0 ] || n0=$(nf_count "$T_HOST" ip 198.51.100.2 "${T_A4[1]}")
		tmp=$(mktemp -d)
		reach "$T_S1" "${T_A4[2]}" >"$tmp/ss" &
		reach "$T_OUT" "${T_A4[1]}" >"$tmp/os" &
		wait
		got=$(ip -n "$T_S2" -d link show dev s2)
		flags=${got%%>*}
		got=$(grep -o 'ipvlan  mode [a-z0-9]* [a-z]*' <<<"$got")
		switch_case "$c: ip -d link of s2" "${got#ipvlan  }"
		if [[ $flags == *NOARP* ]]; then got=NOARP; else got=ARP; fi
		switch_case "$c: s2 flags" "$got"
		switch_case "$c: slave->slave v4" "$(<"$tmp/ss")"
		switch_case "$c: outside->slave v4" "$(<"$tmp/os")"
		rm -rf "$tmp"
		if [ "$NF" -eq 1 ]; then
			n=$(nf_count "$T_HOST" ip 198.51.100.2 "${T_A4[1]}")
			if [ "${n:-0}" -gt "${n0:-0}" ]; then got=seen; else got="not seen"; fi
			switch_case "$c: host nf input sees outside->slave v4" "$got"
		else
			skip "$c: host nf input sees outside->slave v4" "nft not installed"
		fi
	done
	ns_del "$T_HOST" "$T_S1" "$T_S2" "$T_OUT"
}

# nf_count NS FAMILY SADDR DADDR: packets counted by the input-hook rule
# for SADDR -> DADDR (anonymous rule counters cannot be reset: compare).
nf_count() {
	local l w

	l=$(ip netns exec "$1" nft list chain inet ipvt in 2>/dev/null)
	while read -r -a w; do
		if [ "${w[0]:-}" = "$2" ] && [ "${w[2]:-}" = "$3" ] &&
			[ "${w[5]:-}" = "$4" ]; then
			echo "${w[8]}"
			return
		fi
	done <<<"$l"
	echo 0
}

switch_case() {
	matrix_case "$1" "$2" "${SWITCH_EXPECT[$1]:-}"
	[ -n "${SWITCH_EXPECT[$1]:-}" ] || diag "record: [\"$1\"]=\"$2\""
}

for m in $MODES; do
	for f in $FLAGS; do
		if [ "$m/$f" = l3s/vepa ]; then
			run_combo "$m" "$f" keep
		else
			run_combo "$m" "$f"
		fi
	done
done
if [ -n "${T_HOST:-}" ]; then
	switch_steps
else
	for step in l3/bridge l2/private l3s/bridge; do
		for p in "ip -d link of s2" "s2 flags" "slave->slave v4" \
			 "outside->slave v4" "host nf input sees outside->slave v4"; do
			skip "changelink -> $step: $p" "needs the l3s/vepa combination"
		done
	done
fi

ktap_finish
