#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/kbuild-compat.sh KDIR: print the extra kbuild arguments needed to
# build out-of-tree modules against KDIR on this machine (nothing when it
# needs none). Used by the Makefile's modules target (so by make, make
# install and DKMS) and by tools/build-modules.sh.
#
# - A kernel built with a compiler this machine does not have (a Debian 13
#   kernel's gcc-14 on Debian 12) is built with the local gcc ($CC if it
#   exists, else gcc), minus
#   -fmin-function-alignment when that gcc lacks it (kbuild then uses
#   -falign-functions, its own fallback for older compilers).
# - Without pahole, module BTF is skipped (and 7.x's pahole version check
#   is kept quiet): nothing here needs it.
kdir=$1
[ -f "$kdir/.config" ] || exit 0
args=
kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$kdir/.config")
if [ -n "$kcc" ] && ! command -v "$kcc" >/dev/null 2>&1; then
	# (DKMS exports CC as the kernel's compiler: not usable either.)
	cc=${CC:-gcc}
	command -v "$cc" >/dev/null 2>&1 || cc=gcc
	echo "kbuild-compat: the kernel was built with $kcc, not on this machine: using $cc" >&2
	args="CC=$cc"
	if grep -q '^CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=y' "$kdir/.config" &&
	   ! "$cc" -fmin-function-alignment=16 -E -x c /dev/null >/dev/null 2>&1; then
		args="$args CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT="
	fi
fi
if ! command -v pahole >/dev/null 2>&1; then
	args="$args CONFIG_DEBUG_INFO_BTF_MODULES= CONFIG_PAHOLE_VERSION=0"
fi
echo "${args# }"
