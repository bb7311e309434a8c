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
#   INTEROP_OTHER_SOURCES=1 (not yet seen to finish in a loaded guest).
#
# Each kselftest case becomes one case here ("<program>: <case>").
# ipvtap_test.sh alone runs 60 s plus the setup and teardown of 32
# namespaces: minutes in a loaded TCG guest.
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

# run_script NAME PATH: a selftest shell script; exit 0 pass, 4 skip.
run_script() {
	local name=$1 script=$2 rc line

	local out=$T/${name//\//_}.out

	(cd "$(dirname "$script")" && timeout -k 5 600 bash "./${script##*/}") \
		>"$out" 2>&1
	rc=$?
	diag "--- $name ($script), exit $rc:"
	sed 's/^/    /' "$out" | while IFS= read -r line; do diag "$line"; done
	case $rc in
	0) results+=("ok"$'\t'"$name"$'\t') ;;
	4) results+=("skip"$'\t'"$name"$'\t'"exit 4") ;;
	*) results+=("not ok"$'\t'"$name: exit $rc"$'\t') ;;
	esac
}

if [ -x "$KS/bin/tap_macvtap" ]; then
	modprobe macvtap 2>/dev/null
	run_harness tap_macvtap "$KS/bin/tap_macvtap"
	run_harness tap_ipvtap "$KS/bin/tap_ipvtap"
fi
f=$KS/src/tools/testing/selftests/net/ipvtap_test.sh
[ -f "$f" ] && run_script ipvtap_test "$f"
if [ "$OTHER" = 1 ]; then
	for d in "$CACHE"/*/; do
		v=$(basename "$d")
		[ "$v" != "$VER" ] || continue
		f=$d/src/tools/testing/selftests/net/ipvtap_test.sh
		[ -f "$f" ] || continue
		diag "linux-source-$v's net/ipvtap_test.sh on this $VER kernel:"
		run_script "$v/ipvtap_test" "$f"
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
