#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build ipvtap-dkms_<version>_all.deb: the module sources in
# /usr/src/ipvtap-<version>/ (with dkms.conf); its maintainer scripts
# register them with DKMS, which builds and installs the modules for every
# installed kernel with headers (Debian's /usr/lib/dkms/common.postinst,
# as dh_dkms packages do) and again on each kernel upgrade.
#
#   tools/dkms-deb.sh [OUTDIR]    (default .cache/dkms); prints the .deb path
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=tools/dkms-deb.sh
OUT=${1:-$REPO/.cache/dkms}
die() { echo "$PROG: error: $*" >&2; exit 1; }

cd "$REPO"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)
drv=$(sed -n 's/^#define IPVL_DRV_VERSION[[:space:]]*"\(.*\)"$/\1/p' ipvlan/ipvlan.h)
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
[ "$ver" = "$drv" ] || die "dkms.conf PACKAGE_VERSION $ver is not IPVL_DRV_VERSION $drv (ipvlan/ipvlan.h)"
# The Debian version: the driver's, plus the commit when in a git clone.
debver=$ver
rev=$(git rev-parse --short HEAD 2>/dev/null || true)
[ -z "$rev" ] || debver=$ver+git$(git log -1 --format=%cd --date=format:%Y%m%d)+$rev

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
src=$stage/usr/src/ipvtap-$ver
mkdir -p "$src" "$stage/DEBIAN" "$OUT"
chmod 755 "$stage"
# Only what builds the modules (the Makefile's modules/clean targets).
find Makefile Kbuild Kconfig dkms.conf README.md ipvlan ipvtap include tools/kbuild-compat.sh \
	-type f \( -name '*.[ch]' -o -name Kbuild -o -name Kconfig -o -name Makefile \
	-o -name dkms.conf -o -name README.md -o -name '*.sh' \) ! -name '*.mod.c' |
	while read -r f; do
		mkdir -p "$src/$(dirname "$f")"
		cp -p "$f" "$src/$f"
	done

cat >"$stage/DEBIAN/control" <<CTRL
Package: ipvtap-dkms
Version: $debver
Architecture: all
Maintainer: ipvtap maintainers <ipvtap@localhost>
Depends: dkms (>= 2.1.0.0), make, gcc | c-compiler
Recommends: linux-headers-amd64 | linux-headers-generic
Section: kernel
Priority: optional
Description: ipvlan re-implementation and ipvtap (DKMS sources)
 ipvlan.ko (link kind ipvlan, modes l2/l3/l3s, API-compatible with the
 in-tree driver) and ipvtap.ko (/dev/tap<ifindex> on an ipvlan slave, with
 guest address learning), built by DKMS for every installed kernel. They
 are installed in updates/dkms/, ahead of the kernel's own ipvlan/ipvtap.
CTRL
cat >"$stage/DEBIAN/postinst" <<POST
#!/bin/sh
set -e
# Register, build and install for the kernels with headers (dh_dkms's way).
if [ "\$1" = configure ]; then
	/usr/lib/dkms/common.postinst ipvtap $ver "" "" "\$2"
fi
POST
cat >"$stage/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
case "\$1" in
remove|upgrade|deconfigure)
	if dkms status -m ipvtap -v $ver 2>/dev/null | grep -q .; then
		dkms remove -m ipvtap -v $ver --all || true
	fi
	;;
esac
PRERM
chmod 755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm"
deb=$OUT/ipvtap-dkms_${debver}_all.deb
dpkg-deb --root-owner-group -Zxz -b "$stage" "$deb" >/dev/null
echo "$deb"
