# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by tests/ipvtap_qemu.sh, tools/demo.sh and tools/bench/guest.sh
# (its vhost part): what a nested QEMU
# guest (TCG inside the TCG test VM) behind an ipvtap needs, and libvirt's
# daemon to start one with.
#
#   nested_prepare DIR [ROOT [PROGRAM...]]
#                          the guest's kernel and initramfs in DIR: sets
#                          GKVER, GKBZ, GKERNEL (the uncompressed vmlinux,
#                          booted through PVH, or else the bzImage), INITRD;
#                          the kernel and its modules are looked up under
#                          ROOT (default /: ROOT/boot, ROOT/lib/modules),
#                          the PROGRAMs go into the initramfs with their
#                          libraries (tools/vm/initramfs.sh --bin)
#   nested_append SMP IP4 IP6 PEER4 PEER6 STOP SERVE
#                          the kernel command line for tools/vm/nested-init
#                          (IP4 "dhcp": udhcpc, no broadcast flag)
#   lv_start DIR [NETNS]   libvirt's daemon (libvirtd 9.0, Debian's) in a
#                          mount namespace of its own, its state on the
#                          VM's tmpfs, in network namespace NETNS (where
#                          the ipvtap is: libvirt looks the target dev up
#                          in its own); returns 1 with the reason on stdout
#   lv_domain NAME DEV MAC CONSOLE APPEND
#                          the XML of a domain on the unmanaged ethernet
#                          interface DEV (an ipvtap), as README documents
#   lv_stop                the daemon ends (its domains are destroyed)
#
# Needs IPVTAP_REPO (the repository, as tests/lib.sh sets it).

# nested_find_kernel [ROOT]: the nested guest's kernel, the newest
# ROOT/boot/vmlinuz-* with its modules in ROOT/lib/modules.
nested_find_kernel() {
	local k v r=${1:-}

	r=${r%/}
	for k in $(compgen -G "$r/boot/vmlinuz-*" | sort -rV); do
		v=${k#"$r"/boot/vmlinuz-}
		[ -f "$r/lib/modules/$v/modules.dep" ] || continue
		GKVER=$v GKBZ=$k
		return 0
	done
	echo "no $r/boot/vmlinuz-* with $r/lib/modules/<version>"
	return 1
}

# nested_extract_vmlinux BZIMAGE OUT: the xz payload of a bzImage (like the
# kernel's scripts/extract-vmlinux); the result must be an ELF.
nested_extract_vmlinux() {
	local off

	command -v xz >/dev/null 2>&1 || return 1
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || return 1
	tail -c +$((off + 1)) "$1" | xz -dc >"$2" 2>/dev/null
	[ "$(head -c 4 "$2" | od -An -c | tr -d ' ')" = '177ELF' ]
}

nested_prepare() {
	local dir=$1 root=${2:-/} s=$SECONDS p bins=()

	shift 2 2>/dev/null || shift
	for p in "$@"; do
		bins+=(--bin "$p")
	done
	nested_find_kernel "$root" || return 1
	INITRD=$dir/guest.cpio.gz
	# busybox, virtio_pci + virtio_net with their dependencies, and
	# tools/vm/nested-init as /init.
	"$IPVTAP_REPO/tools/vm/initramfs.sh" --kver "$GKVER" --gzip 1 \
		--modroot "$root" "${bins[@]}" \
		--init "$IPVTAP_REPO/tools/vm/nested-init" --out "$INITRD" \
		virtio_pci virtio_net || { echo "cannot build the initramfs"; return 1; }
	GKERNEL=$dir/vmlinux
	if ! nested_extract_vmlinux "$GKBZ" "$GKERNEL"; then
		echo "cannot uncompress $GKBZ: booting the bzImage (slower)"
		GKERNEL=$GKBZ
	fi
	echo "guest kernel $GKBZ (booting $GKERNEL), initramfs $(stat -c %s "$INITRD") bytes, prepared in $((SECONDS - s)) s"
}

# Measured (single-level TCG) to boot fastest: no ACPI interpreter
# (acpi=ht still enumerates a second CPU), no crypto self-tests, audit,
# AppArmor, watchdogs or clocksource checks.
nested_append() {
	local a

	a="console=ttyS0 quiet panic=-1 mitigations=off nokaslr"
	a+=" cryptomgr.notests audit=0 apparmor=0 nowatchdog"
	a+=" tsc=reliable no_timer_check"
	if [ "$1" -gt 1 ]; then
		a+=" acpi=ht"
	else
		a+=" acpi=off"
	fi
	a+=" tg_ip4=$2 tg_ip6=$3 tg_peer4=$4 tg_peer6=$5 tg_stop=$6 tg_serve=$7"
	echo "$a"
}

LV_PID=
LV_URI=qemu:///system

# lv_start DIR [NETNS]: libvirtd with the configuration a VM whose / is read-only
# allows: /etc/libvirt, /etc/passwd and /etc/group are bind-mounted from
# DIR in the daemon's own mount namespace (QEMU as root, no security
# driver, no cgroups or namespaces, QEMU's output to a file: no virtlogd);
# its state goes to /run and /var (tmpfs in the VM). Debian's libvirt
# needs the user libvirt-qemu to exist even when QEMU runs as root.
lv_start() {
	local dir=$1 i pre=()

	if ! command -v libvirtd >/dev/null 2>&1 ||
	   ! command -v virsh >/dev/null 2>&1; then
		echo "libvirt not installed (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients: make deps)"
		return 1
	fi
	mkdir -p "$dir/etc" /var/log/libvirt/qemu /var/lib/libvirt/qemu \
		/var/cache/libvirt /run/libvirt
	cat >"$dir/etc/qemu.conf" <<-'EOF'
		user = "root"
		group = "root"
		dynamic_ownership = 0
		remember_owner = 0
		security_driver = "none"
		namespaces = [ ]
		cgroup_controllers = [ ]
		stdio_handler = "file"
	EOF
	: >"$dir/etc/libvirtd.conf"
	cp /etc/passwd "$dir/passwd"
	cp /etc/group "$dir/group"
	getent passwd libvirt-qemu >/dev/null ||
		echo 'libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin' >>"$dir/passwd"
	getent group libvirt-qemu >/dev/null ||
		echo 'libvirt-qemu:x:64055:' >>"$dir/group"
	[ -z "${2-}" ] || pre=(ip netns exec "$2")
	# shellcheck disable=SC2016 # expanded by the inner bash
	"${pre[@]}" unshare -m --propagation private bash -c '
		mount --bind "$1/etc" /etc/libvirt &&
		mount --bind "$1/passwd" /etc/passwd &&
		mount --bind "$1/group" /etc/group &&
		exec libvirtd' - "$dir" </dev/null >"$dir/libvirtd.log" 2>&1 &
	LV_PID=$!
	for ((i = 0; i < 150; i++)); do
		virsh -c "$LV_URI" version >/dev/null 2>&1 && return 0
		kill -0 "$LV_PID" 2>/dev/null || break
		sleep 0.2
	done
	echo "libvirtd did not start:"
	grep -v 'system bus\|DBus' "$dir/libvirtd.log" | tail -n 5
	return 1
}

lv_stop() {
	local d

	[ -n "$LV_PID" ] || return 0
	for d in $(virsh -c "$LV_URI" list --name 2>/dev/null); do
		virsh -c "$LV_URI" destroy "$d" >/dev/null 2>&1
	done
	kill "$LV_PID" 2>/dev/null
	wait "$LV_PID" 2>/dev/null
	LV_PID=
}

# lv_domain NAME DEV MAC CONSOLE APPEND: one vCPU, 256 MiB, TCG with a
# 128 MiB translation cache, direct kernel boot of GKERNEL/INITRD, the
# serial console to the file CONSOLE, no USB or balloon; the guest's reboot
# ends the domain.
lv_domain() {
	cat <<-EOF
		<domain type='qemu'>
		  <name>$1</name>
		  <memory unit='MiB'>256</memory>
		  <vcpu>1</vcpu>
		  <os>
		    <type arch='x86_64' machine='pc'>hvm</type>
		    <kernel>$GKERNEL</kernel>
		    <initrd>$INITRD</initrd>
		    <cmdline>$5</cmdline>
		  </os>
		  <features><tcg><tb-cache unit='MiB'>128</tb-cache></tcg></features>
		  <on_reboot>destroy</on_reboot>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <controller type='usb' model='none'/>
		    <memballoon model='none'/>
		    <interface type='ethernet'>
		      <mac address='$3'/>
		      <target dev='$2' managed='no'/>
		      <model type='virtio'/>
		    </interface>
		    <serial type='file'><source path='$4'/></serial>
		  </devices>
		</domain>
	EOF
}
