# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Extra helpers for the differential tests (ipvlan_matrix, ipvlan_badinput,
# ipvlan_master, ipvlan_addr_stress). Sourced after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/lib_matrix.sh"
#
# Result cases. A case whose outcome is a value rather than pass/fail
# (reachable/unreachable, an errno, ...) is printed as
#
#   ok N <case>: <observed> (expected <expected>)
#
# where <expected> is what the in-tree ipvlan does, recorded in a table in
# the test. tools/diffcheck.sh compares two runs (in-tree, ours) case by
# case on "<test> <case>" and on <observed>.
#
# Deliberate differences: a case where ours is meant to behave differently
# from the in-tree module carries "# DIFF: <reason>" at the end of its
# line (diff_tag, or deliberate_diff before check_case/result_case) in
# BOTH implementations' runs; tools/diffcheck.sh then reports a difference
# in that case as explained. Its expectation may depend on $IMPL.

NL_TOOL=$IPVTAP_REPO/tools/testing/ipvl_nl.py

_next_diff=

# diff_tag REASON: the suffix marking a case as a deliberate difference.
diff_tag() {
	printf ' # DIFF: %s' "$*"
}

# deliberate_diff REASON: mark the next result_case/check_case as a
# deliberate difference from the in-tree module.
deliberate_diff() {
	_next_diff=$*
}

# _take_diff VAR: store the pending deliberate_diff's tag in VAR and clear
# it (no command substitution: the clearing must happen in this shell).
_take_diff() {
	if [ -n "$_next_diff" ]; then
		printf -v "$1" ' # DIFF: %s' "$_next_diff"
	else
		printf -v "$1" '%s' ''
	fi
	_next_diff=
}

# result_case CASE OBSERVED EXPECTED: ok when OBSERVED equals EXPECTED.
# An empty EXPECTED (nothing recorded in the test's table) fails and prints
# a "# record:" line to copy into the table.
result_case() {
	local name=$1 got=$2 want=$3 tag

	_take_diff tag
	if [ -z "$want" ]; then
		ktap_not_ok "$name: $got (expected <not recorded>)$tag"
		diag "record: $name=$got"
		return 1
	fi
	if [ "$got" = "$want" ]; then
		ktap_ok "$name: $got (expected $want)$tag"
		return 0
	fi
	ktap_not_ok "$name: $got (expected $want)$tag"
	return 1
}

# check_case DESC CMD...: lib.sh's check() plus a pending deliberate_diff.
check_case() {
	local desc=$1 tag

	shift
	_take_diff tag
	check "$desc$tag" "$@"
}

# ------------------------------------------------------------ traffic

# reach NS ADDR: print "reachable" when ADDR answers an echo request from
# NS within 3 s (one probe every 0.2 s, so neighbour resolution and the
# first lost probe do not matter), else "unreachable".
reach() {
	if ip netns exec "$1" ping -q -n -c 1 -i 0.2 -w 3 "$2" >/dev/null 2>&1; then
		echo reachable
	else
		echo unreachable
	fi
}

# -------------------------------------------------------- raw netlink

# require_nl_tool: tools/testing/ipvl_nl.py and python3 are available.
require_nl_tool() {
	command -v python3 >/dev/null 2>&1 ||
		ktap_skip_all "python3 not installed (run 'make deps')"
	[ -f "$NL_TOOL" ] || ktap_skip_all "$NL_TOOL missing"
}

# nl NS ARGS...: run ipvl_nl.py in NS; prints its output.
nl() {
	local ns=$1

	shift
	ip netns exec "$ns" python3 "$NL_TOOL" "$@" 2>&1
}

# nl_server_start NAME [RUNNER...]: start `RUNNER python3 ipvl_nl.py serve`
# (e.g. RUNNER = ip netns exec NS) in the background; nl_call NAME then
# sends it requests. One python start-up instead of one per request (a
# second or more each under TCG).
nl_server_start() {
	local name=$1 dir w r

	shift
	dir=$(mktemp -d)
	mkfifo "$dir/in" "$dir/out" || return 1
	"$@" python3 "$NL_TOOL" serve <"$dir/in" >"$dir/out" 2>&1 &
	defer "kill $! 2>/dev/null; rm -rf '$dir'"
	exec {w}>"$dir/in" {r}<"$dir/out"
	printf -v "NLW_$name" '%s' "$w"
	printf -v "NLR_$name" '%s' "$r"
}

# nl_call NAME ARGS...: one newlink/setlink request through server NAME;
# prints the answer (as ipvl_nl.py does), returns its exit status.
nl_call() {
	local name=$1 w r line out=''

	shift
	w=NLW_$name r=NLR_$name
	printf '%q ' "$@" >&"${!w}"
	printf '\n' >&"${!w}"
	while IFS= read -r -t 30 -u "${!r}" line; do
		if [[ $line =~ ^exit\ ([0-9]+)$ ]]; then
			printf '%s' "$out"
			return "${BASH_REMATCH[1]}"
		fi
		out+=$line$'\n'
	done
	printf '%s' "$out"
	echo "nl_call: no answer from the ipvl_nl.py server '$name'"
	return 2
}

# nl_outcome OUTPUT: "<RESULT> msg|nomsg" from ipvl_nl.py's OUTPUT:
# RESULT is "accepted" or the errno name of the refusal; msg when the
# kernel sent an extack message.
nl_outcome() {
	local out=$1 res='?' m=nomsg re='^error: ([A-Z0-9?]+) '

	if [[ $out == ok* ]]; then
		res=accepted
	elif [[ $out =~ $re ]]; then
		res=${BASH_REMATCH[1]}
	fi
	[[ $out != *$'\n'extack:* ]] || m=msg
	echo "$res $m"
}

# --------------------------------------------------------- snapshots

# link_snapshot NS: `ip -d -o link` of every device in NS without what
# changes by itself (counters are not shown without -s; bridge timers).
link_snapshot() {
	snapshot_clean "$(ip -n "$1" -d -o link show 2>&1)"
}

# snapshot_clean TEXT: TEXT without the bridge timer values (sed: a bash
# extglob substitution takes seconds on these lines under TCG).
snapshot_clean() {
	if [[ $1 == *_timer* ]]; then
		sed -E 's/_timer +[0-9.]+/_timer/g' <<<"$1"
	else
		echo "$1"
	fi
}

# ------------------------------------------------------------ ip -batch

# ns_batch NS <<EOF ... EOF: run the ip commands on stdin (one per line,
# without the leading "ip" and without options such as -6: the family
# follows from the addresses, e.g. "route add ::/0 dev s1") in NS with
# one process; prints them and the error as diagnostics when one fails.
ns_batch() {
	local cmds out

	cmds=$(</dev/stdin)
	out=$(ip -n "$1" -batch - <<<"$cmds" 2>&1) && return 0
	diag "ip -n $1 -batch failed: $out"
	diag "commands were:"
	diag "$cmds"
	return 1
}
