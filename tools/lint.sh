#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch.pl --strict (from Debian's linux-source-6.1), a
# sparse build (make C=2) and a W=1 build for every kernel series of
# tools/kernels.sh (6.1, 6.12, 7.3; or for one KDIR), and shellcheck on
# the scripts. Fails if any of them reports anything.
#
#   tools/lint.sh [--kdir KDIR] [--series "6.1 6.12 7.3"]
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
KDIR=
SERIES="6.1 6.12 7.3"
while [ $# -gt 0 ]; do
	case $1 in
	--kdir) KDIR=${2:?--kdir needs a value}; shift 2 ;;
	--series) SERIES=${2:?--series needs a value}; shift 2 ;;
	*) echo "usage: tools/lint.sh [--kdir KDIR] [--series \"6.1 6.12 7.3\"]" >&2; exit 2 ;;
	esac
done

SRC_TAR=$(compgen -G '/usr/src/linux-source-6.1.tar.*' | head -n1)
CP_DIR=$REPO/.cache/checkpatch
failed=()

step() { printf '\n==== %s\n' "$*"; }

# ------------------------------------------------------------ checkpatch

step "checkpatch.pl --strict"
if [ -z "$SRC_TAR" ]; then
	echo "no /usr/src/linux-source-6.1.tar.*; run 'make deps'" >&2
	failed+=(checkpatch)
else
	if [ ! -f "$CP_DIR/checkpatch.pl" ] || [ "$SRC_TAR" -nt "$CP_DIR/checkpatch.pl" ]; then
		rm -rf "$CP_DIR" && mkdir -p "$CP_DIR"
		top=$(tar -tf "$SRC_TAR" 2>/dev/null | head -n1 | cut -d/ -f1)
		tar -xf "$SRC_TAR" -C "$CP_DIR" --strip-components=2 \
			"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
			"$top/scripts/const_structs.checkpatch" ||
			{ echo "cannot extract checkpatch from $SRC_TAR" >&2; exit 2; }
		touch "$CP_DIR/checkpatch.pl"
	fi
	mapfile -t files < <(
		{
			compgen -G 'ipvlan/*.[ch]'
			compgen -G 'ipvtap/*.[ch]'
			[ -d include ] && find include -name '*.h'
			find tools tests -name '*.[ch]'
		} | grep -v '\.mod\.c$' | grep -vx 'include/ipvtap_compat.h' | sort -u)
	if [ ${#files[@]} -eq 0 ]; then
		echo "no C files yet"
	else
		printf '%s\n' "${files[@]}"
		perl "$CP_DIR/checkpatch.pl" --strict --no-tree --show-types \
			--quiet --no-summary -f "${files[@]}" ||
			failed+=(checkpatch)
	fi
	# The compat header defines the netlink callbacks whose prototype
	# changed (IPVL_RTNL_NEWLINK: a function, not flow control hidden
	# in a statement): that rule cannot apply to it.
	if [ -f include/ipvtap_compat.h ]; then
		perl "$CP_DIR/checkpatch.pl" --strict --no-tree --show-types \
			--quiet --no-summary \
			--ignore MACRO_WITH_FLOW_CONTROL \
			-f include/ipvtap_compat.h || failed+=(checkpatch)
	fi
fi

# ---------------------------------------------------- kbuild: C=2, W=1

# kbuild WHAT DIR BUILD_MODULES_ARGS... -- MAKE_ARGS...: build the modules
# (tools/build-modules.sh) in DIR, fail on any warning or error. The C=2
# and W=1 builds of a kernel share DIR: their flags differ, so each
# rebuilds every file.
kbuild() {
	local what=$1 dir=$2 out rc

	shift 2
	out=$(tools/build-modules.sh --out "$dir" "$@" 2>&1 >/dev/null)
	rc=$?
	echo "$out" | grep -Ev '^make(\[[0-9]+\])?: (Entering|Leaving) directory'
	# (kbuild's "C=2 specified, but sparse is not available or not up
	# to date" is not a "warning:" line: sparse did not run, unless
	# forced with KBUILD_CHECKSRC.)
	if [[ " $* " != *" KBUILD_CHECKSRC=2 "* ]] &&
	   grep -q 'not available or not up to date' <<<"$out"; then
		failed+=("$what")
	elif [ "$rc" -ne 0 ] || grep -Eq '(warning|error):' <<<"$out"; then
		failed+=("$what")
	fi
}

if [ ! -f ipvlan/Kbuild ] && [ ! -f ipvlan/Makefile ]; then
	step "kbuild: ipvlan/Kbuild does not exist yet, skipping sparse and W=1"
else
	command -v sparse >/dev/null || { echo "sparse not installed; run 'make deps'" >&2; exit 2; }
	if [ -n "$KDIR" ]; then
		targets=("kdir")
	else
		read -r -a targets <<<"$SERIES"
	fi
	for t in "${targets[@]}"; do
		if [ "$t" = kdir ]; then
			sel=(--kdir "$KDIR")
		else
			sel=(--series "$t")
		fi
		# Kernels whose headers need a newer sparse than Debian's
		# (7.x: it validates the checker with scripts/checker-valid.sh,
		# which Debian does not even package): run it anyway, with
		# tools/lint/sparse-compat.h for the two constructs 0.6.4 lacks.
		kdir=${KDIR:-$(tools/kernels.sh kdir "$t")}
		sp=(C=2)
		mapfile -t mk < <(echo "$kdir/Makefile"; sed -n 's/^include //p' "$kdir/Makefile" 2>/dev/null)
		if grep -qs checker-valid.sh "${mk[@]}"; then
			sp+=(KBUILD_CHECKSRC=2 "CF=-include $REPO/tools/lint/sparse-compat.h")
		fi
		step "sparse: make ${sp[*]} (${sel[*]})"
		kbuild "sparse $t" ".cache/lint-$t" "${sel[@]}" -- "${sp[@]}"
		step "W=1 build (${sel[*]})"
		kbuild "W=1 $t" ".cache/lint-$t" "${sel[@]}" -- W=1
		# The other side of each build option (Kconfig): without L3S.
		step "W=1 build, CONFIG_IPVTAP_IPVLAN_L3S=n (${sel[*]})"
		kbuild "W=1 nol3s $t" ".cache/lint-$t-nol3s" "${sel[@]}" -- \
			W=1 CONFIG_IPVTAP_IPVLAN_L3S=n
	done
fi

# ------------------------------------------------------------ shellcheck

step "shellcheck"
if command -v shellcheck >/dev/null; then
	mapfile -t scripts < <(
		{
			compgen -G 'tests/*.sh'
			compgen -G 'tests/*/*.sh'
			echo tests/run
			echo tools/vm/run
			echo tools/vm/splat.sh
			echo tools/vm/initramfs.sh
			echo tools/vm/guest.sh
			[ ! -f .ci/run ] || echo .ci/run
			compgen -G 'tools/*.sh'
			compgen -G 'tools/bench/*.sh'
		} | sort -u)
	shellcheck -x -s bash "${scripts[@]}" || failed+=(shellcheck)
	shellcheck -s sh tools/vm/init tools/vm/nested-init || failed+=(shellcheck)
else
	echo "shellcheck not installed, skipped"
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "lint: FAILED: ${failed[*]}"
	exit 1
fi
echo "lint: clean"
