#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once, cached) the debug kernel used by `make check-debug`, and
# build this repository's modules against it.
#
#   tools/debug-kernel.sh [build]      build the kernel if it is not cached;
#                                      print its cache directory
#   tools/debug-kernel.sh kdir         print its build tree (KDIR for modules)
#   tools/debug-kernel.sh vm-args      print "--kernel BZIMAGE --modules-dir DIR"
#                                      for tools/vm/run
#   tools/debug-kernel.sh modules DIR  copy the module sources (Kbuild, ipvlan/,
#                                      ipvtap/, include/) into DIR (emptied
#                                      first) and build them there against the
#                                      debug kernel, with -g; the normal build
#                                      in the repository is left alone
#   tools/debug-kernel.sh decode DIR   read a kernel log on stdin, print it with
#                                      the stack traces decoded (file:line for
#                                      the modules built in DIR by "modules";
#                                      function+offset for the kernel)
#
# The kernel is Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz)
# configured as `make tinyconfig` + tools/debug-kernel.config + olddefconfig.
# Cache: ${IPVTAP_CACHE:-/var/cache/ipvtap} (outside the git clone, so a fresh
# clone on the same machine reuses it):
#   linux-source-<pkg version>/    the extracted source, shared by all configs
#   debug-kernel-<key>/            key = hash(fragment, source package version,
#                                  compiler, this recipe)
#     build/      O= build tree, usable as KDIR
#     root/lib/modules/<release>/  modules_install output (modules.builtin, ...)
#     bzImage  release  build.log  build-seconds  done
# Concurrent invocations serialize on a lock (flock); an interrupted build is
# redone from scratch. No stdin needed (CI=true).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=tools/debug-kernel.sh
FRAGMENT=$REPO/tools/debug-kernel.config
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
SRC_PKG=linux-source-6.1
# Bump when the build procedure below changes what it produces.
RECIPE=1

die() { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

usage() {
	sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

cache_root() {
	local d=${IPVTAP_CACHE:-/var/cache/ipvtap}

	if ! mkdir -p "$d" 2>/dev/null || [ ! -w "$d" ]; then
		[ -z "${IPVTAP_CACHE:-}" ] || die "cache directory '$d' is not writable"
		d=${XDG_CACHE_HOME:-$HOME/.cache}/ipvtap
		mkdir -p "$d" || die "cannot create cache directory '$d'"
	fi
	(cd "$d" && pwd)
}

CACHE=$(cache_root)
[ -r "$SRC_TAR" ] || die "$SRC_TAR missing; run 'make deps' ($SRC_PKG)"
[ -r "$FRAGMENT" ] || die "$FRAGMENT missing"
SRC_VER=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null) ||
	die "package $SRC_PKG is not installed; run 'make deps'"
KEY=$( {
	echo "recipe $RECIPE base tinyconfig"
	echo "source $SRC_PKG $SRC_VER"
	"${CC:-gcc}" --version | head -n1
	cat "$FRAGMENT"
	} | sha256sum | cut -c1-16)
SRC=$CACHE/linux-source-$SRC_VER
DIR=$CACHE/debug-kernel-$KEY
BUILD=$DIR/build
JOBS=$(nproc 2>/dev/null || echo 2)

# ------------------------------------------------------------------ build

extract_source() {
	[ -f "$SRC/.extracted" ] && return
	info "extracting $SRC_TAR into $SRC"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$SRC_TAR" -C "$SRC.tmp" --strip-components=1
	touch "$SRC.tmp/.extracted"
	mv "$SRC.tmp" "$SRC"
}

# Every line of the fragment must be in the final .config: a symbol that
# olddefconfig dropped (unmet dependency) would silently weaken the checks.
verify_config() {
	local line name bad=0

	while IFS= read -r line; do
		case $line in
		CONFIG_*)
			grep -qxF "$line" "$BUILD/.config" && continue
			name=${line%%=*}
			echo "  wanted $line, got: $(grep -E "^(# )?${name}[= ]" "$BUILD/.config" || echo unset)" >&2
			bad=1
			;;
		'# CONFIG_'*' is not set')
			name=${line#\# }; name=${name%% *}
			grep -q "^$name=" "$BUILD/.config" || continue
			echo "  wanted $name off, got: $(grep "^$name=" "$BUILD/.config")" >&2
			bad=1
			;;
		esac
	done <"$FRAGMENT"
	[ "$bad" -eq 0 ] || die "tools/debug-kernel.config did not apply cleanly (see above)"
}

build_kernel() {
	local start rel log=$DIR/build.log

	start=$SECONDS
	rm -rf "$DIR"
	mkdir -p "$BUILD"
	info "building the debug kernel in $DIR ($JOBS jobs; log: $log)"
	info "this takes 10 minutes or more on 2 cores; later runs reuse it"
	{
		make -C "$SRC" O="$BUILD" tinyconfig &&
		KCONFIG_CONFIG="$BUILD/.config" "$SRC/scripts/kconfig/merge_config.sh" \
			-m -O "$BUILD" "$BUILD/.config" "$FRAGMENT" &&
		make -C "$SRC" O="$BUILD" olddefconfig
	} >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "configuring the kernel failed"; }
	verify_config
	if ! make -C "$SRC" O="$BUILD" -j"$JOBS" all >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -n 20 >&2
		tail -n 30 "$log" >&2
		die "kernel build failed (full log: $log)"
	fi
	rel=$(cat "$BUILD/include/config/kernel.release" 2>/dev/null) ||
		die "cannot read the kernel release"
	if ! make -C "$SRC" O="$BUILD" INSTALL_MOD_PATH="$DIR/root" \
		modules_install >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "modules_install failed (full log: $log)"
	fi
	# depmod is skipped by kbuild when it finds no module: make sure
	# modules.dep exists (modprobe needs it, even for built-ins).
	[ -f "$DIR/root/lib/modules/$rel/modules.dep" ] ||
		depmod -b "$DIR/root" "$rel" || die "depmod failed"
	cp "$BUILD/arch/x86/boot/bzImage" "$DIR/bzImage"
	echo "$rel" >"$DIR/release"
	echo $((SECONDS - start)) >"$DIR/build-seconds"
	touch "$DIR/done"
	info "built $rel in $((SECONDS - start))s"
}

# Drop debug kernels of other keys unused for 14 days (each use touches
# "done").
prune_old() {
	local d

	for d in "$CACHE"/debug-kernel-*/; do
		d=${d%/}
		if [ "$d" = "$DIR" ] || [ ! -d "$d" ]; then
			continue
		fi
		if [ ! -f "$d/done" ] || [ -n "$(find "$d/done" -mtime +14 2>/dev/null)" ]; then
			# An unfinished build of another key may be in progress only
			# under our lock: none is.
			info "removing stale $d"
			rm -rf "$d"
		fi
	done
}

ensure_built() {
	if [ ! -f "$DIR/done" ]; then
		exec 9>"$CACHE/debug-kernel.lock"
		if ! flock -n 9; then
			info "waiting for another debug kernel build (lock $CACHE/debug-kernel.lock)"
			flock 9
		fi
		if [ ! -f "$DIR/done" ]; then
			local t

			for t in flex bison bc; do
				command -v "$t" >/dev/null || die "$t missing; run 'make deps'"
			done
			extract_source
			build_kernel
			prune_old
		fi
		exec 9>&-
	fi
	touch "$DIR/done"
}

require_built() {
	[ -f "$DIR/done" ] || die "debug kernel not built yet (key $KEY); run '$PROG build'"
}

# ---------------------------------------------------------------- modules

build_modules() {
	local out=$1

	[ -n "$out" ] || die "modules: no output directory"
	case $(readlink -f "$out") in
	"$REPO"|"$REPO/ipvlan"|"$REPO/ipvtap"|"$REPO/include"|/) die "refusing to empty '$out'" ;;
	esac
	rm -rf "$out"
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	# Sources only: build products of the normal build stay behind.
	tar -C "$REPO" -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='.*.d' \
		--exclude=modules.order --exclude=Module.symvers \
		Kbuild ipvlan ipvtap include | tar -C "$out" -x
	info "building the modules in $out against $BUILD"
	make -C "$BUILD" M="$out" KCFLAGS=-g -j"$JOBS" modules
	[ -f "$out/ipvlan/ipvlan.ko" ] || die "no ipvlan.ko in $out"
}

# ------------------------------------------------------------------- main

cmd=${1:-build}
case $cmd in
build)
	ensure_built
	echo "$DIR"
	;;
kdir)
	require_built
	echo "$BUILD"
	;;
vm-args)
	require_built
	echo "--kernel $DIR/bzImage --modules-dir $DIR/root/lib/modules/$(cat "$DIR/release")"
	;;
modules)
	require_built
	build_modules "${2:-}"
	;;
decode)
	require_built
	[ -d "${2:-}" ] || die "decode: '${2:-}' is not a directory"
	exec "$SRC/scripts/decode_stacktrace.sh" "$BUILD/vmlinux" "$SRC" "$2"
	;;
-h|--help) usage 0 ;;
*) die "unknown command '$cmd' (try --help)" ;;
esac
