#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interop: the kernel's own selftests for tap/ipvtap/ipvlan, from Debian's
# linux-source-<X.Y> of the kernel under test (never copied into this
# repository): tools/interop.sh extracts and builds them on the host into
# .cache/kselftest/<X.Y>/ (bin/, src/, inventory.txt); this runs them.
#
# - net/tap.c as shipped (kind macvtap): the baseline, it must pass on this
#   kernel with its own macvtap;
# - net/tap.c with the link kind changed to ipvtap (sed at build time):
#   the same frames through the ipvtap under test (default mode l3, as
#   tap.c sends no IFLA_INFO_DATA, on a dummy master);
# - net/ipvtap_test.sh, where the version ships it (7.3; not 6.1, 6.12);
# - the same shell selftest from the sources of other kernels that were
#   prepared (e.g. 7.3's ipvtap_test.sh on the 6.1 kernel): it uses only
#   ip(8) and the driver, so it says something about the driver under
#   test on this kernel too; labelled "<X.Y>/<test>"; only with
#   INTEROP_OTHER_SOURCES=1.
#
# Each kselftest case becomes one case here ("<program>: <case>").
# ipvtap_test.sh alone runs 60 s plus the setup and teardown of 32
# namespaces: about 3 minutes in a TCG guest beside another guest (7.3:
# 171 s and 197 s; see ipvtap_test below), each script at most
# INTEROP_SCRIPT_TIMEOUT (1000) seconds.
#
# tests/run: timeout 1200
# shellcheck source=tests/lib_interop.sh
. "$(dirname "$(readlink -f "$0")")/../lib_interop.sh"

require_root
require_cmd ip
require_ipvlan

VER=$(uname -r | cut -d. -f1,2)
CACHE=$IPVTAP_REPO/.cache/kselftest
KS=$CACHE/$VER
OTHER=${INTEROP_OTHER_SOURCES:-0}
# A selftest script's own limit (ipvtap_test.sh: see ipvtap_test below).
SCRIPT_TIMEOUT=${INTEROP_SCRIPT_TIMEOUT:-1000}

ktap_header
if [ -d "$KS/bin" ]; then
	diag "kernel $(uname -r): selftests of linux-source-$VER, IMPL=$IMPL"
	diag "$(cat "$KS/inventory.txt" 2>/dev/null)"
else
	diag "kernel $(uname -r): no selftests prepared for $VER (install Debian's 'linux-source-$VER', then 'make interop')"
fi

interop_tmp T
results=()	# "ok|not ok|skip<TAB>description<TAB>detail"

# run_harness NAME BIN: a kselftest_harness program in a fresh netns; one
# result per "ok"/"not ok" line of its TAP output.
run_harness() {
	local name=$1 bin=$2 ns out rc line st desc n=0

	ns_create "ns:$name"
	out=$T/$name.out
	timeout -k 5 120 ip netns exec "$ns" "$bin" >"$out" 2>&1
	rc=$?
	diag "--- $name ($bin), exit $rc:"
	sed 's/^/    /' "$out" | while IFS= read -r line; do diag "$line"; done
	while IFS= read -r line; do
		if [[ $line =~ ^(not ok|ok)\ [0-9]+\ (.*)$ ]]; then
			st=${BASH_REMATCH[1]} desc=${BASH_REMATCH[2]}
			n=$((n + 1))
			if [[ $desc == *'# SKIP'* ]]; then
				st=skip
			fi
			results+=("$st"$'\t'"$name: ${desc%% #*}"$'\t'"$desc")
		fi
	done <"$out"
	if [ "$n" -eq 0 ]; then
		results+=("not ok"$'\t'"$name: ran (exit $rc, no TAP result)"$'\t')
	elif [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		results+=("not ok"$'\t'"$name: exit status $rc"$'\t')
	fi
	ip netns del "$ns"
}

# run_script NAME PATH [ARGS...]: a selftest shell script, run as shipped
# from its own directory (it sources lib.sh there); exit 0 pass, 4 skip.
# Each output line gets the seconds since the start ("[  63s] ..."), for
# where the time goes. Sets $script_out and $script_secs.
run_script() {
	local name=$1 script=$2 rc line t0=$SECONDS

	shift 2
	script_out=$T/${name//\//_}.out
	(cd "$(dirname "$script")" &&
		timeout -k 5 "$SCRIPT_TIMEOUT" bash "./${script##*/}" "$@" 2>&1 |
		while IFS= read -r line; do
			printf '[%4ds] %s\n' $((SECONDS - t0)) "$line"
		done
		exit "${PIPESTATUS[0]}") >"$script_out"
	rc=$?
	script_secs=$((SECONDS - t0))
	diag "--- $name ($script $*), exit $rc after ${script_secs}s:"
	sed 's/^/    /' "$script_out" | while IFS= read -r line; do diag "$line"; done
	case $rc in
	0) results+=("ok"$'\t'"$name"$'\t') ;;
	4) results+=("skip"$'\t'"$name"$'\t'"exit 4") ;;
	124|137) results+=("not ok"$'\t'"$name: killed by the ${SCRIPT_TIMEOUT}s timeout"$'\t') ;;
	*) results+=("not ok"$'\t'"$name: exit $rc"$'\t') ;;
	esac
}

# ipvtap_test NAME PATH: net/ipvtap_test.sh (7.3): 32 namespaces, each
# with an ipvtap on one veth, add and delete random addresses for 60 s
# (hard-coded: the script has no knob for it; -t TESTS and -d only); then
# no address may be on two slaves. Run with its own -d, which prints the
# namespaces it creates and, at the end, every address left with its
# namespace: proof that the 32 threads really configured addresses (a
# pass with none left would prove nothing), and the phases' times.
ipvtap_test() {
	local name=$1 script=$2 n setup check

	run_script "$name" "$script" -d
	n=$(grep -cE '^\[ *[0-9]+s\] (172\.25\.0\.|fc00::)[0-9a-f]+/[0-9]+: [0-9]+$' "$script_out")
	setup=$(sed -n 's/^\[ *\([0-9]*\)s\] created NS .*/\1/p' "$script_out" | tail -n1)
	check=$(sed -nE 's/^\[ *([0-9]+)s\] [0-9a-f.:]+\/[0-9]+: [0-9]+$/\1/p' "$script_out" | head -n1)
	diag "$name: ${script_secs}s in all: 32 namespaces and slaves set up by ${setup:-?}s, 60 s of address churn, the threads ended and the addresses read by ${check:-?}s, then the cleanup; $n addresses (not link-local) left on the slaves"
	if grep -q 'TEST: test multithreaded ip set .*\[ OK \]' "$script_out"; then
		if [ "$n" -gt 0 ]; then
			results+=("ok"$'\t'"$name: addresses left on the 32 slaves, none on two ($n)"$'\t')
		else
			results+=("not ok"$'\t'"$name: no address left on any slave: the churn did not run"$'\t')
		fi
	fi
}

if [ -x "$KS/bin/tap_macvtap" ]; then
	modprobe macvtap 2>/dev/null
	run_harness tap_macvtap "$KS/bin/tap_macvtap"
	run_harness tap_ipvtap "$KS/bin/tap_ipvtap"
fi
f=$KS/src/tools/testing/selftests/net/ipvtap_test.sh
[ -f "$f" ] && ipvtap_test ipvtap_test "$f"
if [ "$OTHER" = 1 ]; then
	for d in "$CACHE"/*/; do
		v=$(basename "$d")
		[ "$v" != "$VER" ] || continue
		f=$d/src/tools/testing/selftests/net/ipvtap_test.sh
		[ -f "$f" ] || continue
		diag "linux-source-$v's net/ipvtap_test.sh on this $VER kernel:"
		ipvtap_test "$v/ipvtap_test" "$f"
	done
fi

[ ${#results[@]} -gt 0 ] ||
	ktap_skip_all "no tap/ipvtap/ipvlan selftest prepared for $VER (install Debian's 'linux-source-$VER', then 'make interop')"
ktap_plan ${#results[@]}
for r in "${results[@]}"; do
	IFS=$'\t' read -r st desc detail <<<"$r"
	case $st in
	ok) ktap_ok "$desc" ;;
	skip) skip "$desc" "${detail#*# SKIP}" ;;
	*) ktap_not_ok "$desc" ;;
	esac
done
ktap_finish
