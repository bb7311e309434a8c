#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages needed to build, lint, test and demo this
# package. Idempotent: does nothing when everything is present. Works with
# no stdin (CI=true).
set -euo pipefail

PACKAGES=(
	# build
	gcc make libc6-dev linux-headers-amd64
	# lint; building kernels from linux-source-6.1
	perl xz-utils linux-source-6.1 sparse
	bc flex bison libelf-dev libssl-dev
	# VM harness: guest kernel + modules, initramfs, qemu
	qemu-system-x86 linux-image-amd64 busybox-static kmod cpio gzip
	coreutils util-linux
	# tools used by tests and the demo inside the guest
	iproute2 iputils-ping iperf3 ethtool procps ndisc6 python3 nftables
	# tests/ipvtap_dhcp.sh: a DHCP server, and ISC's client beside udhcpc
	dnsmasq-base isc-dhcp-client
	# tests/ipvtap_qemu.sh, make demo: libvirt starts a nested guest
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
	# make interop (and tests/interop_*.sh in make check): the clients
	# users drive ipvlan with; docker.io brings containerd and runc
	containernetworking-plugins systemd docker.io jq
	# make lint (shell scripts)
	shellcheck
	# make check-dkms: the DKMS package installed in a guest
	dkms
	# make bench: PNG plots of the scaling curves
	gnuplot-nox
)

# Files that must exist as well (a package can be "installed" but an older
# kernel metapackage may not have pulled a 6.1 kernel yet).
need_files() {
	compgen -G '/boot/vmlinuz-6.1.*-amd64' >/dev/null &&
	compgen -G '/usr/src/linux-headers-6.1.*-amd64/Makefile' >/dev/null &&
	[ -f /usr/src/linux-source-6.1.tar.xz ] &&
	[ -x /bin/busybox ]
}

missing=()
for p in "${PACKAGES[@]}"; do
	case $p in '#'*) continue ;; esac
	st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $st in
	ii*) ;;
	*) missing+=("$p") ;;
	esac
done

if [ ${#missing[@]} -eq 0 ] && need_files; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "tools/deps.sh: missing packages: ${missing[*]:-<files>}; run as root" >&2
	exit 1
fi

echo "tools/deps.sh: installing: ${missing[*]:-(kernel files missing, reinstalling kernel packages)}"
[ ${#missing[@]} -gt 0 ] || missing=(linux-image-amd64 linux-headers-amd64 linux-source-6.1 busybox-static)
export DEBIAN_FRONTEND=noninteractive
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
need_files || { echo "tools/deps.sh: kernel image/headers/source still missing after install" >&2; exit 1; }
