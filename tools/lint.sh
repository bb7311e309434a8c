#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch.pl --strict (from Debian's linux-source-6.1), a
# sparse build (make C=2), a W=1 build, and shellcheck on the scripts.
# Fails if any of them reports anything.
#
#   tools/lint.sh [--kdir KDIR]
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2
KDIR=
while [ $# -gt 0 ]; do
	case $1 in
	--kdir) KDIR=${2:?--kdir needs a value}; shift 2 ;;
	*) echo "usage: tools/lint.sh [--kdir KDIR]" >&2; exit 2 ;;
	esac
done
[ -n "$KDIR" ] || KDIR=$(tools/kdir.sh) || exit 2

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
	# The compat header exists to test kernel versions: that one rule
	# cannot apply to it.
	if [ -f include/ipvtap_compat.h ]; then
		perl "$CP_DIR/checkpatch.pl" --strict --no-tree --show-types \
			--quiet --no-summary \
			--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
			-f include/ipvtap_compat.h || failed+=(checkpatch)
	fi
fi

# ---------------------------------------------------- kbuild: C=2, W=1

# kbuild OUTFILE ARGS...: build the modules, fail on any warning/error.
kbuild() {
	local what=$1 out rc

	shift
	out=$(make -C "$KDIR" M="$REPO" "$@" modules 2>&1)
	rc=$?
	echo "$out" | grep -Ev '^make(\[[0-9]+\])?: (Entering|Leaving) directory'
	if [ "$rc" -ne 0 ] || grep -Eq '(warning|error):' <<<"$out"; then
		failed+=("$what")
	fi
}

if [ ! -f ipvlan/Kbuild ] && [ ! -f ipvlan/Makefile ]; then
	step "kbuild: ipvlan/Kbuild does not exist yet, skipping sparse and W=1"
else
	command -v sparse >/dev/null || { echo "sparse not installed; run 'make deps'" >&2; exit 2; }
	step "sparse: make C=2"
	kbuild sparse C=2
	step "W=1 build"
	kbuild W=1 W=1
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
