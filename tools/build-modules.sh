#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build ipvlan.ko and ipvtap.ko out of tree for one kernel, in a directory
# of their own, so that builds for several kernels coexist and the
# repository's own directories stay clean for `make` (the running kernel).
#
#   tools/build-modules.sh [--series S] [--kdir KDIR] [--out DIR]
#                          [--vm-args] [-- MAKE_ARGS...]
#
#   --series S   a kernel series of tools/kernels.sh (6.1, 6.12, 7.3;
#                default 6.12): its headers are KDIR (fetched if needed)
#   --kdir KDIR  build against this kernel build tree instead
#   --out DIR    build directory (default .cache/build-<release>/ in the
#                repository)
#   --vm-args    print tools/vm/run options for the result on stdout:
#                "--kernel K --modules-dir M --ko-dir DIR" (with --series),
#                "--ko-dir DIR" (with --kdir); otherwise print DIR
#   MAKE_ARGS    more kbuild arguments (e.g. W=1, C=2, KCFLAGS=-g)
#
# The build directory holds symlinks to the sources (Kbuild, ipvlan/,
# ipvtap/, include/), refreshed on every run, and the build products:
# kbuild's dependency tracking makes later runs incremental. The build log
# goes to stderr.
set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=tools/build-modules.sh

SERIES=
KDIR=
OUT=
VMARGS=0
MAKE_ARGS=()

die() { echo "$PROG: error: $*" >&2; exit 1; }

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--series) SERIES=${2:?--series needs a value}; shift 2 ;;
	--kdir) KDIR=${2:?--kdir needs a value}; shift 2 ;;
	--out) OUT=${2:?--out needs a value}; shift 2 ;;
	--vm-args) VMARGS=1; shift ;;
	-h|--help) usage 0 ;;
	--) shift; MAKE_ARGS=("$@"); break ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done

if [ -z "$KDIR" ]; then
	SERIES=${SERIES:-6.12}
	KDIR=$("$REPO/tools/kernels.sh" kdir "$SERIES")
fi
[ -f "$KDIR/Makefile" ] || die "'$KDIR' is not a kernel build tree (no Makefile)"
KDIR=$(cd "$KDIR" && pwd)
rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$KDIR/include/generated/utsrelease.h" 2>/dev/null || true)
[ -n "$rel" ] || die "cannot read the release of '$KDIR' (include/generated/utsrelease.h)"
[ -n "$OUT" ] || OUT=$REPO/.cache/build-$rel
case $(readlink -m "$OUT") in
"$REPO"|"$REPO"/ipvlan*|"$REPO"/ipvtap*|"$REPO"/include*|/) die "refusing to build in '$OUT'" ;;
esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Arguments for a kernel built with a compiler this machine lacks, or
# without pahole (tools/kbuild-compat.sh).
read -r -a COMPAT <<<"$("$REPO/tools/kbuild-compat.sh" "$KDIR")"

# Mirror the sources as symlinks; drop links whose source is gone.
(
	cd "$REPO"
	find Kbuild Kconfig ipvlan ipvtap include -type f \
		\( -name '*.[ch]' -o -name Kbuild -o -name Kconfig -o -name Makefile \) \
		! -name '*.mod.c'
) | while read -r f; do
	mkdir -p "$OUT/$(dirname "$f")"
	[ "$(readlink "$OUT/$f" 2>/dev/null)" = "$REPO/$f" ] || ln -sfn "$REPO/$f" "$OUT/$f"
done
find "$OUT" -xtype l -delete

echo "$PROG: building in $OUT against $KDIR ($rel)" >&2
make -C "$KDIR" M="$OUT" -j"$(nproc 2>/dev/null || echo 2)" "${COMPAT[@]}" \
	"${MAKE_ARGS[@]}" modules >&2 ||
	die "build for $rel failed"
[ -f "$OUT/ipvlan/ipvlan.ko" ] || die "no ipvlan.ko in $OUT"

if [ "$VMARGS" -eq 0 ]; then
	echo "$OUT"
elif [ -n "$SERIES" ]; then
	echo "$("$REPO/tools/kernels.sh" vm-args "$SERIES") --ko-dir $OUT"
else
	echo "--ko-dir $OUT"
fi
