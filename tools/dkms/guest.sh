#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside a tools/vm/run guest (--impl in-tree): install the ipvtap-dkms
# package the way a host would, then prove that modprobe loads ours and
# that it works. Run by tools/dkms-check.sh; KTAP output.
#
#   tools/dkms/guest.sh DEB [TEST...]
#
# The guest's / is the host's, read-only: dpkg runs in a chroot on an
# overlay of it (writes go to tmpfs), with the guest kernel's modules
# directory overlaid too and its build link pointing at its headers.
# dpkg -i runs the package's postinst, which has DKMS build and install
# the modules for the running kernel; then modprobe ipvlan/ipvtap, and
# TEST... (default ipvlan_l2_basic ipvlan_l2_traffic) run with them.
set -uo pipefail

DEB=${1:?usage: tools/dkms/guest.sh DEB [TEST...]}
shift
TESTS=("$@")
[ ${#TESTS[@]} -gt 0 ] || TESTS=(ipvlan_l2_basic ipvlan_l2_traffic)
KVER=$(uname -r)
W=/tmp/dkms-guest
R=$W/root
n=0 fail=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
bail() { echo "Bail out! $*"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }

echo "KTAP version 1"

# The in-tree modules the harness loaded must go: ours take their kinds.
modprobe -r ipvtap ipvlan 2>/dev/null
[ ! -d /sys/module/ipvlan ] || bail "cannot unload the in-tree ipvlan"

mkdir -p "$W"
mount -t tmpfs tmpfs "$W" || bail "tmpfs"
mkdir -p "$W"/{up,work,root,mup,mwork}
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/up,workdir=$W/work" "$R" ||
	bail "cannot mount an overlay on / (overlay module?)"
for d in proc sys dev dev/pts run tmp; do
	mkdir -p "$R/$d"
done
if ! { mount -t proc proc "$R/proc" && mount --rbind /sys "$R/sys" &&
	mount --rbind /dev "$R/dev" && mount -t tmpfs tmpfs "$R/run" &&
	mount -t tmpfs tmpfs "$R/tmp"; }; then
	bail "cannot mount proc/sys/dev in the chroot"
fi
# This kernel's modules (a 9p export for a kernel not installed on the
# host) and its headers, writable through an overlay.
moddir=$(readlink -f "/lib/modules/$KVER")
mkdir -p "$R/lib/modules/$KVER"
mount -t overlay overlay \
	-o "lowerdir=$moddir,upperdir=$W/mup,workdir=$W/mwork" "$R/lib/modules/$KVER" ||
	bail "cannot overlay /lib/modules/$KVER"
# VM_HEADERS: the headers' path on the host (a cache under /var, which is
# a tmpfs in the guest: seen through the overlay, i.e. in the chroot).
build=${VM_HEADERS:-$(readlink -f "/lib/modules/$KVER/build" 2>/dev/null || true)}
[ -f "$R$build/Makefile" ] || bail "no headers for $KVER at $build (set VM_HEADERS)"
ln -sfn "$build" "$R/lib/modules/$KVER/build"

# 1: the package installs; its postinst builds and installs for KVER.
# (The chroot's /tmp is its own: the package goes to its /run.)
cp "$DEB" "$R/run/" || bail "cannot copy $DEB"
if in_root dpkg -i "/run/$(basename "$DEB")" >"$W/dpkg.log" 2>&1; then
	ok "dpkg -i $(basename "$DEB")"
else
	not_ok "dpkg -i $(basename "$DEB")"
	sed 's/^/# /' "$W/dpkg.log" | tail -n 40
	find "$R/var/lib/dkms" -name make.log -exec sh -c 'sed "s/^/# /" "$1" | tail -n 30' _ {} \;
fi
# 2: DKMS reports it installed for this kernel.
st=$(in_root dkms status -m ipvtap -k "$KVER" 2>&1)
echo "# dkms status: $st"
if grep -q installed <<<"$st"; then ok "dkms status: installed for $KVER"; else not_ok "dkms status: installed for $KVER"; fi
# 3: modprobe resolves ipvlan to the DKMS copy (updates/ comes first).
f=$(in_root modinfo -k "$KVER" -F filename ipvlan 2>&1)
echo "# modinfo -F filename ipvlan: $f"
case $f in
*/updates/dkms/ipvlan.ko*) ok "modprobe's ipvlan is updates/dkms/" ;;
*) not_ok "modprobe's ipvlan is updates/dkms/" ;;
esac
# 4, 5: modprobe loads ours (its description is not the in-tree one's).
for m in ipvlan ipvtap; do
	want=$(in_root modinfo -k "$KVER" -F srcversion "$m" 2>/dev/null)
	file=$(in_root modinfo -k "$KVER" -F filename "$m" 2>/dev/null)
	if [[ $file == */updates/dkms/* ]] && [ -n "$want" ] &&
	   in_root modprobe "$m" &&
	   [ "$(cat "/sys/module/$m/srcversion" 2>/dev/null)" = "$want" ]; then
		ok "modprobe $m loads the DKMS build ($(in_root modinfo -k "$KVER" -F description "$m"))"
	else
		not_ok "modprobe $m loads the DKMS build"
	fi
done
# 6: it is ours: the learning extension answers.
if tools/ipvlanctl/ipvlanctl help >/dev/null 2>&1; then
	ip link add dkv0 type veth peer name dkv1 &&
	ip link add link dkv0 name dkt0 type ipvtap mode l2 &&
	if tools/ipvlanctl/ipvlanctl show dkt0 | grep -q 'learn on'; then
		ok "ipvtap learns (this package's driver)"
	else
		not_ok "ipvtap learns (this package's driver)"
	fi
	ip link del dkv0 2>/dev/null
else
	not_ok "ipvtap learns (tools/ipvlanctl not built)"
fi
# 7: the core tests pass on the DKMS modules.
if IMPL=in-tree tests/run "${TESTS[@]}" >"$W/tests.log" 2>&1; then
	ok "tests/run ${TESTS[*]}: $(tail -n1 "$W/tests.log")"
else
	not_ok "tests/run ${TESTS[*]}: $(tail -n1 "$W/tests.log")"
	sed 's/^/# /' "$W/tests.log" | tail -n 40
fi
echo "1..$n"
echo "$((n - fail)) passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
