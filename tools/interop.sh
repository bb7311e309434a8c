#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make interop`: the programs users drive ipvlan with (CNI, systemd-networkd,
# Docker) and the kernel's own selftests for tap/ipvtap/ipvlan, run inside
# one guest against the implementation under test (tests/interop/).
#
#   tools/interop.sh [--series S] [--tests "NAME..."] [--prepare-only]
#                    [--list] [-- tools/vm/run options]
#
#   --tests "NAME..."  only these tests of tests/interop/ (cni, docker,
#                   kselftest, networkd; make interop TESTS="..."); default
#                   all
#   --series S      the kernel series the guest boots (make interop passes
#                   KERNEL_SERIES): its linux-source-<X.Y> is fetched first
#                   if missing (tools/kernels.sh source S: 6.1 from make
#                   deps, 6.12 and 7.3 unpacked into
#                   ${IPVTAP_CACHE:-/var/cache/ipvtap}/interop-src)
#   --prepare-only  only extract and build the kernel selftests (host side)
#   --list          print what each linux-source-<X.Y> ships for
#                   tap/macvtap/ipvtap/ipvlan, then exit
#
# The selftests come from Debian's linux-source-<X.Y> package
# (/usr/src/linux-source-<X.Y>.tar.xz), never from this repository: the
# files they need are extracted into .cache/kselftest/<X.Y>/src (git-ignored)
# and built there; tap.c is built twice, as shipped (macvtap, the baseline)
# and with the link kind changed to ipvtap by a sed at build time. The guest
# test tests/interop/kselftest.sh runs what was built for its kernel.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CACHE=.cache/kselftest
prepare_only=0
list_only=0
series=
tests=()
vm_args=()

while [ $# -gt 0 ]; do
	case $1 in
	--prepare-only) prepare_only=1 ;;
	--list) list_only=1 ;;
	--series) series=${2:?--series needs a value}; shift ;;
	--tests) read -r -a tests <<<"${2:?--tests needs a value}"; shift ;;
	--) shift; vm_args=("$@"); break ;;
	-h|--help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "tools/interop.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

log() { echo "tools/interop.sh: $*" >&2; }

# Files in tools/testing/selftests that concern these drivers.
SELFTEST_RE='tools/testing/selftests/(.*/)?(tap\.c|[^/]*(ipvlan|ipvtap|macvtap)[^/]*)$'

# inventory TARBALL OUT: what the source ships (names, and the files that
# mention ipvlan/ipvtap/macvtap).
inventory() {
	local tb=$1 out=$2 top=$3 dir=$4

	{
		echo "# $tb"
		echo "# files named for tap/ipvlan/ipvtap under tools/testing/selftests:"
		tar -tJf "$tb" | grep -E "$SELFTEST_RE" |
			sed "s|^$top/||" || true
		echo "# selftests that mention ipvlan, ipvtap or macvtap:"
		grep -rlE 'ipvlan|ipvtap|macvtap' "$dir/tools/testing/selftests" 2>/dev/null |
			sed "s|^$dir/||" | sort || true
	} >"$out"
}

# prepare TARBALL: extract the selftests of one linux-source and build
# them in $CACHE/<X.Y>/.
prepare() {
	local tb=$1 ver top dir stamp

	ver=${tb##*/linux-source-}
	ver=${ver%.tar.xz}
	top=linux-source-$ver
	dir=$CACHE/$ver/src
	stamp=$CACHE/$ver/.extracted-$(stat -c %Y-%s "$tb")
	if [ ! -e "$stamp" ]; then
		log "extracting the selftests of $tb"
		rm -rf "${CACHE:?}/$ver"
		mkdir -p "$dir"
		# Members missing in some versions (kselftest/) make tar
		# complain and exit 2; it extracts the others all the same.
		tar -xJf "$tb" -C "$dir" --strip-components=1 \
			"$top/tools/testing/selftests/net" \
			"$top/tools/testing/selftests/kselftest" \
			"$top/tools/testing/selftests/kselftest.h" \
			"$top/tools/testing/selftests/kselftest_harness.h" \
			"$top/tools/testing/selftests/lib.mk" 2>/dev/null || true
		[ -d "$dir/tools/testing/selftests/net" ] ||
			{ log "$tb has no tools/testing/selftests/net"; return 1; }
		touch "$stamp"
	fi
	[ -s "$CACHE/$ver/inventory.txt" ] ||
		inventory "$tb" "$CACHE/$ver/inventory.txt" "$top" "$dir"
	build "$ver"
}

build() {
	local ver=$1 d=$CACHE/$1 st=$CACHE/$1/src/tools/testing/selftests
	local net=$CACHE/$1/src/tools/testing/selftests/net

	mkdir -p "$d/bin" "$d/gen"
	[ -f "$net/tap.c" ] || return 0
	[ ! -x "$d/bin/tap_ipvtap" ] || [ "$net/tap.c" -nt "$d/bin/tap_ipvtap" ] || return 0
	log "$ver: building tap.c (macvtap, as shipped) and tap_ipvtap.c"
	# Older tap.c include "../kselftest_harness.h", newer ones
	# "kselftest_harness.h": both directories are on the path.
	gcc -O2 -Wall -I "$net" -I "$st" -o "$d/bin/tap_macvtap" "$net/tap.c" -lpthread ||
		return 1
	# The only change: the link kind (and the device's name).
	sed -e 's/"macvtap"/"ipvtap"/' -e 's/xmacvtap0/xipvtap0/' \
		"$net/tap.c" >"$d/gen/tap_ipvtap.c"
	grep -q '"ipvtap"' "$d/gen/tap_ipvtap.c" ||
		{ log "$ver: tap.c does not create \"macvtap\" any more"; return 1; }
	gcc -O2 -Wall -I "$net" -I "$st" -o "$d/bin/tap_ipvtap" "$d/gen/tap_ipvtap.c" -lpthread
}

# The source of the kernel under test, fetched once (idempotent, offline
# when cached); the guest finds no selftests without it.
if [ -n "$series" ]; then
	tools/kernels.sh source "$series" >/dev/null ||
		log "could not get linux-source-$series: its selftests will be skipped"
fi

shopt -s nullglob
# Debian's linux-source-<X.Y> installs the tarball in /usr/src; sources of
# other kernels (unpacked from their .deb with dpkg-deb, not installed) may
# sit in $IPVTAP_CACHE/interop-src/usr/src.
tarballs=(/usr/src/linux-source-*.tar.xz
	"${IPVTAP_CACHE:-/var/cache/ipvtap}"/interop-src/usr/src/linux-source-*.tar.xz)
if [ ${#tarballs[@]} -eq 0 ]; then
	log "no /usr/src/linux-source-*.tar.xz (install linux-source-6.1: make deps); the kernel selftests will be skipped"
fi
for tb in "${tarballs[@]}"; do
	prepare "$tb" || log "could not prepare the selftests of $tb"
done

if [ "$list_only" = 1 ]; then
	for f in "$CACHE"/*/inventory.txt; do
		cat "$f"
	done
	exit 0
fi
[ "$prepare_only" = 1 ] && exit 0

# One host thread for both vCPUs (-accel tcg,thread=single), with either
# driver: starting a container flips kernel static keys (the cgroup
# controllers' as cgroups are created, cgroup BPF as runc attaches its
# device filter) while the other vCPU runs their sites, which QEMU 7.2's
# multi-threaded TCG mis-patches (README, "Hangs"). Measured: 6.12, ours,
# multi-threaded: "Oops: int3" at __kmalloc_noprof+0x18b under
# hugetlb_cgroup_css_alloc, in runc, at Docker's first container. These
# tests drive clients, not races (tests/ipvlan_addr_stress.sh is the race
# test of make check).
# VM_ACCEL=tcg overrides it.
export VM_ACCEL=${VM_ACCEL:-tcg-single}
exec tools/vm/run "${vm_args[@]}" --summary -- tests/interop/run "${tests[@]}"
