#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a busybox initramfs for a QEMU guest: the one tools/vm/run boots,
# and the nested guests of tests/ipvtap_qemu.sh.
#
#   tools/vm/initramfs.sh --kver KVER [--modroot DIR] [--gzip N]
#                         [--bin PROGRAM]... --init FILE --out FILE.cpio.gz
#                         MODULE...
#   tools/vm/initramfs.sh --kver KVER [--modroot DIR] --list MODULE...
#
# The image has /bin/busybox with links for the applets of tools/vm/init, /init
# (FILE), empty /dev /proc /sys /tmp /newroot, and the MODULEs of kernel
# KVER with their dependencies, in load order, uncompressed in
# /lib/modules/, listed one "NAME.ko ARGS" a line in /modules.list (for
# /init to insmod). The modules are looked up by modprobe in
# DIR/lib/modules/KVER (default DIR /); a module built into the kernel is
# left out, and so is one modprobe cannot resolve (with a warning: the
# guest's /init says so if it was needed). --list prints "PATH ARGS" of
# each module instead of building. --gzip: compression level (default 9).
# --bin PROGRAM (repeatable): PROGRAM as /bin/<its name>, with the shared
# libraries ldd lists for it (and the dynamic loader) at their own paths
# (e.g. iperf3 for make bench's nested guests).
set -euo pipefail

PROG=tools/vm/initramfs.sh
KVER='' MODROOT=/ INIT='' OUT='' LIST=0 LEVEL=9 MODS=() BINS=()

die() { echo "$PROG: error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kver) KVER=${2:?}; shift 2 ;;
	--modroot) MODROOT=${2-}; shift 2 ;;
	--init) INIT=${2:?}; shift 2 ;;
	--out) OUT=${2:?}; shift 2 ;;
	--gzip) LEVEL=${2:?}; shift 2 ;;
	--bin) BINS+=("${2:?}"); shift 2 ;;
	--list) LIST=1; shift ;;
	-h|--help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) die "unknown option '$1'" ;;
	*) MODS+=("$1"); shift ;;
	esac
done
[ -n "$KVER" ] || die "--kver is needed"

# modlist: "PATH ARGS" of MODS and their dependencies, in load order,
# each once ("builtin" ones left out).
modlist() {
	local m line path args
	local -A seen=()

	[ -n "$MODROOT" ] || return 0
	for m in "${MODS[@]}"; do
		modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" ||
			echo "$PROG: warning: modprobe cannot resolve $m for $KVER in $MODROOT; assuming it is built in" >&2
	done | while read -r line; do
		case $line in
		builtin\ *) continue ;;
		insmod\ *) ;;
		*) echo "$PROG: unexpected modprobe output: $line" >&2; exit 1 ;;
		esac
		line=${line#insmod }
		path=${line%% *}
		args=
		[ "$path" = "$line" ] || args=${line#* }
		[ -z "${seen[$path]:-}" ] || continue
		seen[$path]=1
		printf '%s %s\n' "$path" "$args"
	done
}

list=$(modlist)
if [ "$LIST" -eq 1 ]; then
	[ -z "$list" ] || echo "$list"
	exit 0
fi
{ [ -n "$INIT" ] && [ -f "$INIT" ]; } || die "--init FILE is needed"
[ -n "$OUT" ] || die "--out FILE is needed"

stage=$(mktemp -d "${TMPDIR:-/tmp}/initramfs.XXXXXX")
trap 'rm -rf "$stage" "$OUT.tmp.$$"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,newroot,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
# The applets tools/vm/init uses (a process per link costs under TCG; an
# /init that wants more runs "busybox --install -s /bin" first).
for a in sh mount mkdir insmod switch_root cat echo poweroff reboot sleep chmod; do
	ln -s busybox "$stage/bin/$a"
done
install -m 0755 "$INIT" "$stage/init"
for b in "${BINS[@]}"; do
	[ -x "$b" ] || die "--bin $b: not an executable"
	cp -L "$b" "$stage/bin/$(basename "$b")"
	# "name => /path (addr)" and "/path (addr)"; the vDSO has no path.
	for lib in $(ldd "$b" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }'); do
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
done
: >"$stage/modules.list"
while read -r path args; do
	[ -n "$path" ] || continue
	base=$(basename "$path")
	case $base in
	*.ko.xz) base=${base%.xz}; xz -dc "$path" >"$stage/lib/modules/$base" ;;
	*.ko.zst) base=${base%.zst}; zstd -qdc "$path" >"$stage/lib/modules/$base" ;;
	*.ko.gz) base=${base%.gz}; gzip -dc "$path" >"$stage/lib/modules/$base" ;;
	*) cp "$path" "$stage/lib/modules/$base" ;;
	esac
	printf '%s %s\n' "$base" "$args" >>"$stage/modules.list"
done <<<"$list"
# A temporary of this process's own: two guests booting at once (CI's
# two streams, a differential check's two runs) may build the same image;
# each renames a complete one into place.
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet -R 0:0) | gzip "-$LEVEL" >"$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
