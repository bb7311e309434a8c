#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Differential check: run the test suite against the in-tree ipvlan and
# against ours (two VM boots, one after the other) and compare the results
# case by case.
#
#   tools/diffcheck.sh [--tests "a b"] [--keep DIR] [--no-build]
#                      [-- tools/vm/run options]
#   tools/diffcheck.sh --compare IN_TREE_OUTPUT OURS_OUTPUT
#
# A case is identified by its test and its description, with numbers of
# two digits or more (counts, sizes, times) and "(in-tree)"/"(ours)" taken
# out. Descriptions of
# the form "<case>: <observed> (expected <x>)" (tests/lib_matrix.sh's
# result_case) are compared on <case> and <observed>; other cases on the
# ok / not ok / SKIP status. A case marked "# DIFF: <reason>" (in either
# run) is a deliberate difference: reported as explained. A test that
# fails without a case line (crash, timeout, bail out) counts as a case
# "(test result)"; a kernel splat or crash reported by tools/vm/run counts
# as "(harness)". A test skipped entirely with in-tree (e.g. it tests an
# extension of ours) is listed as not compared, and so is a single case
# that passes (or skips) with ours while the in-tree run skipped it or has
# no such case; skipped with ours while in-tree ran it is a difference.
#
# Prints the table of differences (case, in-tree result, ours result) and
# totals. Exit: 0 no unexplained difference, 1 unexplained differences,
# 2 usage error or a run/build that did not happen.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=tools/diffcheck.sh
TESTS=
KEEP=
BUILD=1
VM_ARGS=()
CMP=()

usage() {
	sed -n '3,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--tests) TESTS=${2?--tests needs a value}; shift 2 ;;
	--keep) KEEP=${2:?--keep needs a directory}; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	--compare) CMP=("${2:?--compare needs two files}" "${3:?--compare needs two files}"); shift 3 ;;
	-h|--help) usage 0 ;;
	--) shift; VM_ARGS=("$@"); break ;;
	*) echo "$PROG: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done

# parse FILE: one record per case, tab-separated:
#   test, case, status (ok|not ok|skip), observed, diff reason
parse() {
	awk '
	# normkey CASE: the case without what legitimately differs between
	# two runs of the same case: counts, sizes and times (numbers of two
	# digits or more; addresses keep their single digits) and the name
	# of the implementation it ran against.
	function normkey(k) {
		gsub(/ \((in-tree|ours)\)/, "", k)
		gsub(/[0-9][0-9]+/, "N", k)
		return k
	}
	function flush_test(name, status,    i, k, key, n) {
		# cases collected since the previous test line belong to name
		delete seen
		for (i = 1; i <= ncase; i++) {
			key = ckey[i]
			n = ++seen[key]
			if (n > 1)
				key = key " #" n
			printf "%s\t%s\t%s\t%s\t%s\t%s\n", name, key, cstat[i], cobs[i], cdiff[i], cskip[i]
		}
		if (status == "not ok" && nfail == 0)
			printf "%s\t(test result)\tnot ok\t%s\t\n", name, why
		if (status == "skip" && ncase == 0)
			printf "%s\t(test skipped)\tskip\t%s\t\n", name, skipwhy
		ncase = 0
		skipwhy = ""
		nfail = 0
		why = ""
	}
	{ sub(/\r$/, "") }
	# kernel console lines interleaved with the output
	/^\[ *[0-9]+\.[0-9]+\]/ { next }
	/^  (not ok|ok) [0-9]+ / {
		line = substr($0, 3)
		st = "ok"
		if (line ~ /^not ok /) {
			st = "not ok"
			sub(/^not ok [0-9]+ /, "", line)
		} else {
			sub(/^ok [0-9]+ /, "", line)
		}
		d = ""
		if (match(line, / # DIFF: .*/)) {
			d = substr(line, RSTART + 9)
			line = substr(line, 1, RSTART - 1)
		}
		skipwhy_case = ""
		if (match(line, / # *SKIP.*/)) {
			st = "skip"
			skipwhy_case = substr(line, RSTART)
			sub(/^ # *SKIP */, "", skipwhy_case)
			line = substr(line, 1, RSTART - 1)
		}
		obs = ""
		if (match(line, /: [^:]* \(expected [^()]*\)$/)) {
			obs = substr(line, RSTART + 2)
			sub(/ \(expected [^()]*\)$/, "", obs)
			line = substr(line, 1, RSTART - 1)
		}
		if (st == "not ok")
			nfail++
		ncase++
		ckey[ncase] = normkey(line)
		cskip[ncase] = skipwhy_case
		cstat[ncase] = st
		cobs[ncase] = obs
		cdiff[ncase] = d
		next
	}
	/^  # [^ ]+: (exited|timed out|reported no|did not clean)/ {
		why = why (why == "" ? "" : "; ") substr($0, 5)
		next
	}
	/^  Bail out!/ { why = why (why == "" ? "" : "; ") substr($0, 3); next }
	/^  1\.\.0 # SKIP/ { skipwhy = substr($0, 15); next }
	/^(not ok|ok) [0-9]+ / {
		st = ($1 == "not") ? "not ok" : "ok"
		if (st == "ok" && $0 ~ / # *SKIP/)
			st = "skip"
		name = $0
		sub(/^(not ok|ok) [0-9]+ /, "", name)
		sub(/ # .*/, "", name)
		flush_test(name, st)
		next
	}
	/^tools\/vm\/run: FAIL: / { harness = harness (harness == "" ? "" : "; ") substr($0, 21) }
	/^tools\/vm\/run: guest run took/ { ran = 1 }
	END {
		if (ncase > 0)
			flush_test("(unfinished test)", "not ok")
		if (harness != "")
			printf "(harness)\t(vm)\tnot ok\t%s\t\n", harness
		else if (!ran)
			printf "(harness)\t(vm)\tnot ok\tno tools/vm/run verdict in the output\t\n"
		else
			printf "(harness)\t(vm)\tok\t\t\n"
	}' "$1"
}

# compare IN_TREE_FILE OURS_FILE: print the table, return 0/1.
compare() {
	local a b

	a=$(mktemp) b=$(mktemp)
	parse "$1" >"$a"
	parse "$2" >"$b"
	awk -F '\t' -v OFS='\t' '
	function res(st, obs) { return obs == "" ? st : st " " obs }
	FNR == NR {
		if ($2 == "(test skipped)") skippedA[$1] = $4
		k = $1 SUBSEP $2
		if (!(k in A)) order[++n] = k
		A[k] = res($3, $4); AD[k] = $5; AS[k] = $3; AW[k] = $6
		next
	}
	{
		k = $1 SUBSEP $2
		if (!(k in A) && !(k in B)) order[++n] = k
		B[k] = res($3, $4); BD[k] = $5; BS[k] = $3
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			split(k, p, SUBSEP)
			a = (k in A) ? A[k] : "(missing)"
			b = (k in B) ? B[k] : "(missing)"
			d = (AD[k] != "") ? AD[k] : BD[k]
			if (p[1] in skippedA) {
				# The whole test skipped with in-tree (an extension
				# of ours, say): its cases cannot be compared.
				if (p[2] != "(test skipped)" && (k in B))
					notcmp[p[1]]++
				continue
			}
			if (d == "" && (k in B) && BS[k] != "not ok" &&
			    (!(k in A) || AS[k] == "skip")) {
				# A case of ours the in-tree run skipped (with its
				# reason) or does not have: it tests what only ours
				# does, nothing to compare it with.
				onlyours[++no] = p[1] ": " p[2] ((k in A) ? " (in-tree: SKIP " AW[k] ")" : " (not in the in-tree run)")
				continue
			}
			total++
			if (a == b) {
				same++
				if (a ~ /^not ok/) bothfail[++nb] = p[1] ": " p[2] " -> " a
				if (d != "") marked++
				continue
			}
			verdict = (d != "") ? "explained: " d : "UNEXPLAINED"
			if (d != "") expl++; else unexpl++
			row[++nr] = sprintf("%-20s %-50s | %-22s | %-22s | %s", p[1], p[2], a, b, verdict)
		}
		if (nr > 0) {
			printf "%-20s %-50s | %-22s | %-22s | %s\n", "test", "case", "in-tree", "ours", "verdict"
			for (i = 1; i <= nr; i++) print row[i]
			print ""
		}
		if (nb > 0) {
			print "failing identically with both implementations (tests to fix, not differences):"
			for (i = 1; i <= nb; i++) print "  " bothfail[i]
			print ""
		}
		if (no > 0) {
			printf "not compared: %d cases of ours the in-tree run skipped or does not have:\n", no
			for (i = 1; i <= no; i++) print "  " onlyours[i]
			print ""
		}
		for (t in notcmp)
			printf "not compared: %s (%d cases of ours): skipped entirely with in-tree: %s\n", t, notcmp[t], skippedA[t]
		printf "diffcheck: %d cases, %d identical (%d marked # DIFF but identical), %d explained differences, %d unexplained differences\n", total, same, marked, expl + 0, unexpl + 0
		exit unexpl > 0 ? 1 : 0
	}' "$a" "$b"
	local rc=$?
	rm -f "$a" "$b"
	return "$rc"
}

if [ ${#CMP[@]} -eq 2 ]; then
	compare "${CMP[0]}" "${CMP[1]}"
	exit $?
fi

cd "$REPO" || exit 2
OUT=${KEEP:-$(mktemp -d)}
mkdir -p "$OUT" || exit 2
[ -n "$KEEP" ] || trap 'rm -rf "$OUT"' EXIT

if [ "$BUILD" -eq 1 ]; then
	make all >"$OUT/build.txt" 2>&1 || {
		tail -n 30 "$OUT/build.txt" >&2
		echo "$PROG: build failed" >&2
		exit 2
	}
fi

# shellcheck disable=SC2086 # TESTS: names separated by spaces
for impl in in-tree ours; do
	echo "$PROG: running the suite against $impl ipvlan${TESTS:+ ($TESTS)}" >&2
	tools/vm/run "${VM_ARGS[@]}" --impl "$impl" --summary -- tests/run $TESTS \
		>"$OUT/$impl.txt" 2>&1
	echo "$PROG: $impl: $(tail -n 1 "$OUT/$impl.txt")" >&2
done
[ -z "$KEEP" ] || echo "$PROG: outputs kept in $OUT/{in-tree,ours}.txt" >&2

compare "$OUT/in-tree.txt" "$OUT/ours.txt"
