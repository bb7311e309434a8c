#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the guest (PID 1 after switch_root into the host's / over 9p).
# Copied into the harness I/O export by tools/vm/run and run from there.
#
# Reads $IO/config (written by the host), loads the modules under test, runs
# $IO/cmd.sh (or an interactive shell), then leaves the exit status, the
# command output and the full dmesg in $IO and powers off.
set -u

IO=/run/ipvtap-vm
P9_OPTS=trans=virtio,version=9p2000.L,msize=262144
# The host's snapshot of ipvlan.ko/ipvtap.ko taken at VM start (IMPL=ours).
MODS=$IO/modules
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=${TERM:-linux}

log() { echo "vm: $*"; }

# shellcheck source=/dev/null
. "$IO/config"	# VM_MODE VM_IMPL VM_REPO VM_KVER VM_TIMEOUT VM_MODDIR VM_TTY_SIZE
		# VM_MODPARAMS

power_off() {
	sync
	if [ -d /sys/firmware/acpi ]; then
		busybox poweroff -f
	fi
	# No ACPI (small debug kernels): halt by rebooting; QEMU runs with
	# -no-reboot so the reboot ends it.
	busybox reboot -f
	sleep 30
}

finish() {
	local rc=$1

	if [ -w /sys/kernel/debug/kmemleak ]; then
		# kmemleak reports only objects older than 5 s, found
		# unreferenced by a scan: let the last test's objects age, and
		# scan twice (pending RCU frees, objects in flight).
		sleep 6
		echo scan >/sys/kernel/debug/kmemleak 2>/dev/null
		sleep 6
		echo scan >/sys/kernel/debug/kmemleak 2>/dev/null
	fi
	dmesg >"$IO/dmesg.txt" 2>&1
	if [ -r /sys/kernel/debug/kmemleak ]; then
		cat /sys/kernel/debug/kmemleak >>"$IO/dmesg.txt" 2>/dev/null
	fi
	echo "$rc" >"$IO/status"
	power_off
}

setup_base() {
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	ln -sfn /proc/self/fd /dev/fd
	ln -sfn /proc/self/fd/0 /dev/stdin
	ln -sfn /proc/self/fd/1 /dev/stdout
	ln -sfn /proc/self/fd/2 /dev/stderr
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mkdir -p /run/netns /var/tmp 2>/dev/null
	ln -sfn /run /var/run
	hostname ipvtap-vm
	ip link set lo up
	# New namespaces get only lo, as on the Debian kernel whose tunnel
	# drivers are modules: a kernel with sit built in (the debug kernel)
	# would add a fallback sit0 to each.
	sysctl -qw net.core.fb_tunnels_only_for_init_net=1 2>/dev/null
	# Userspace markers (tests/run writes some) must not be ratelimited.
	echo on >/proc/sys/kernel/printk_devkmsg 2>/dev/null

	# The repository has its own read-only export, mounted at the same path:
	# it may live below /tmp, /var, /root or /run, which are tmpfs here.
	mkdir -p "$VM_REPO" 2>/dev/null
	mount -t 9p -o "$P9_OPTS,ro" repo "$VM_REPO" ||
		{ log "cannot mount the repository export on $VM_REPO"; return 1; }

	if [ -n "$VM_MODDIR" ]; then
		# Modules of a non-host kernel, exported as "moddir".
		if ! { mount -t tmpfs tmpfs /lib/modules &&
		       mkdir -p "/lib/modules/$VM_KVER" &&
		       mount -t 9p -o "$P9_OPTS,ro" moddir "/lib/modules/$VM_KVER"; }; then
			log "cannot mount $VM_MODDIR on /lib/modules/$VM_KVER"
			return 1
		fi
	fi
	if [ ! -f "/lib/modules/$VM_KVER/modules.dep" ]; then
		log "warning: no /lib/modules/$VM_KVER/modules.dep in the guest"
	fi

	# A clean kmemleak baseline: forget boot-time reports.
	if [ -w /sys/kernel/debug/kmemleak ]; then
		echo scan >/sys/kernel/debug/kmemleak 2>/dev/null
		echo clear >/sys/kernel/debug/kmemleak 2>/dev/null
	fi
}

# pin_static_keys: hold the kernel's networking static keys that tests
# would otherwise flip on and off all the time, so that the run never
# patches kernel text under traffic. QEMU 7.2's multi-threaded TCG
# mishandles that patching on another vCPU: it runs into the patcher's
# int3 and dies ("Oops: int3" in netif_rx_internal() on 7.3, in a ping,
# CI at stop 20) or spins on it (README, "Hangs"). What flips them:
# - netstamp_needed_key: every ping turns SO_TIMESTAMP on, and off when
#   it exits; a socket holding SO_TIMESTAMP keeps the count above zero;
# - nf_hooks_needed: an l3s port's LOCAL_IN hooks (both drivers) come and
#   go with the tests' namespaces; accept-all base chains in the initial
#   namespace hold every inet hook;
# - the tc ingress/egress keys (docker's interop test): a clsact on lo;
# - nf_hooks_needed of the netdev egress hook: the host path's hook on a
#   master (ipvlan/host.c) comes and goes with its port; an accept-all
#   egress base chain on lo holds it (and the egress queue key).
# None of them changes what a test namespace does with its packets.
pin_static_keys() {
	local i

	rm -f /run/ipvtap-vm-netstamp
	python3 -c '
import signal, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 29, 1)  # SO_TIMESTAMP (x86)
open("/run/ipvtap-vm-netstamp", "w").close()
signal.pause()
' </dev/null >/dev/null 2>&1 &
	# Python starts slowly under TCG: the command must not run before the
	# key is held (its first ping would flip it). The kernel enables the
	# key from a work item, right after the setsockopt().
	for ((i = 0; i < 300; i++)); do
		[ -e /run/ipvtap-vm-netstamp ] && break
		sleep 0.1
	done
	[ -e /run/ipvtap-vm-netstamp ] ||
		log "warning: the netstamp static key is not held after 30 s"
	sleep 0.5
	nft -f - <<'NFT' 2>/dev/null || log "warning: nft could not pin the netfilter hooks' static keys"
table inet ipvtap_vm_pin {
	chain pin_pre { type filter hook prerouting priority 0; policy accept; }
	chain pin_in { type filter hook input priority 0; policy accept; }
	chain pin_fwd { type filter hook forward priority 0; policy accept; }
	chain pin_out { type filter hook output priority 0; policy accept; }
	chain pin_post { type filter hook postrouting priority 0; policy accept; }
}
NFT
	tc qdisc add dev lo clsact 2>/dev/null ||
		log "warning: tc could not pin the ingress/egress static keys"
	nft -f - <<'NFT' 2>/dev/null || log "warning: nft could not pin the netdev egress hook's static key"
table netdev ipvtap_vm_pin_egress {
	chain pin_egress { type filter hook egress device "lo" priority 0; policy accept; }
}
NFT
}

# Never let the kernel autoload the in-tree ipvlan/ipvtap while ours is
# tested: the kernel's module autoloader is pointed at a wrapper.
install_modprobe_guard() {
	cat >/tmp/modprobe-guard <<'GUARD'
#!/bin/sh
for a in "$@"; do
	case $a in
	ipvlan|ipvtap|rtnl-link-ipvlan|rtnl-link-ipvtap)
		echo "modprobe-guard: refusing autoload of in-tree '$a'" >/dev/kmsg
		exit 1
		;;
	esac
done
exec /sbin/modprobe "$@"
GUARD
	chmod 755 /tmp/modprobe-guard
	echo /tmp/modprobe-guard >/proc/sys/kernel/modprobe
}

load_modules() {
	local want got

	case $VM_IMPL in
	ours)
		install_modprobe_guard
		# shellcheck disable=SC2086 # "name=value ..." (IPVLAN_MODPARAMS)
		insmod "$MODS/ipvlan.ko" ${VM_MODPARAMS:-} ||
			{ log "insmod ipvlan.ko (from $VM_REPO/ipvlan) failed"; return 1; }
		# Make sure the loaded ipvlan is this build, not the in-tree one.
		want=$(modinfo -F srcversion "$MODS/ipvlan.ko" 2>/dev/null)
		got=$(cat /sys/module/ipvlan/srcversion 2>/dev/null)
		if [ -n "$want" ] && [ "$want" != "$got" ]; then
			log "loaded ipvlan srcversion '$got' is not ipvlan/ipvlan.ko's '$want'"
			return 1
		fi
		if [ -f "$MODS/ipvtap.ko" ]; then
			# tap may be built in (and, with no modules directory,
			# unknown to modprobe): insmod tells if it is missing.
			modprobe tap 2>/dev/null ||
				log "warning: modprobe tap failed (built in?)"
			insmod "$MODS/ipvtap.ko" ||
				{ log "insmod ipvtap.ko (from $VM_REPO/ipvtap) failed"; return 1; }
		fi
		;;
	in-tree)
		modprobe ipvlan || { log "modprobe ipvlan failed"; return 1; }
		modprobe ipvtap || { log "modprobe ipvtap failed"; return 1; }
		;;
	none)
		;;
	*)
		log "unknown implementation '$VM_IMPL'"
		return 1
		;;
	esac
}

# timeout_dump: 90 s before the host kills the guest for running out of
# time (tools/vm/run --timeout, counted from the boot), put on the console
# (the saved log) what the guest is doing: blocked tasks, every CPU's
# backtrace, every task's stack (sysrq w, l, t). For what no hang detector
# reports: a task sleeping interruptibly, a loop that keeps scheduling.
# The sysrq handler raises the console's log level while it prints.
timeout_dump() {
	local at=$((VM_TIMEOUT - 90)) up

	while read -r up _ </proc/uptime && [ "${up%.*}" -lt "$at" ]; do
		sleep 5
	done
	if [ -w /proc/sysrq-trigger ]; then
		echo "vm: 90 s before the guest's ${VM_TIMEOUT} s timeout: blocked tasks, CPUs, all tasks (sysrq w, l, t)" >/dev/console
		echo 1 >/proc/sys/kernel/sysrq 2>/dev/null
		for k in w l t; do
			echo "$k" >/proc/sysrq-trigger
		done
		return
	fi
	# A kernel without CONFIG_MAGIC_SYSRQ (the debug kernel): where each
	# task waits, and the stacks of those in D state.
	{
		echo "vm: 90 s before the guest's ${VM_TIMEOUT} s timeout (no sysrq here): tasks and where they wait"
		ps -eo pid,ppid,stat,wchan:32,args
		for d in /proc/[0-9]*; do
			grep -qs '^State:.*D' "$d/status" || continue
			echo "vm: stack of ${d#/proc/} ($(cat "$d/comm" 2>/dev/null)), in D state:"
			cat "$d/stack" 2>/dev/null
		done
	} >/dev/console 2>&1
}

rc=0
setup_base || rc=1
[ "$rc" -ne 0 ] || pin_static_keys
[ "$VM_MODE" != cmd ] || [ "${VM_TIMEOUT:-0}" -le 90 ] || timeout_dump &
if [ "$rc" -eq 0 ]; then
	load_modules || rc=1
fi

# IPVLAN_MODPARAMS: for tests that reload ours (tests/lib.sh, ipvlan_load).
export IMPL=$VM_IMPL IPVTAP_REPO=$VM_REPO IPVTAP_MODULES=$MODS
export IPVLAN_MODPARAMS=${VM_MODPARAMS:-}
cd "$VM_REPO" || rc=1

if [ "$rc" -ne 0 ]; then
	log "setup failed, not running the command"
elif [ "$VM_MODE" = shell ]; then
	log "interactive shell: IMPL=$IMPL, repo $VM_REPO; 'exit' powers off"
	if [ -n "${VM_TTY_SIZE:-}" ]; then
		# shellcheck disable=SC2086 # "rows cols"
		set -- $VM_TTY_SIZE
		stty -F /dev/console rows "$1" cols "$2" 2>/dev/null
	fi
	setsid -c bash -l </dev/console >/dev/console 2>&1
	rc=$?
else
	bash "$IO/cmd.sh" </dev/null 2>&1 | tee "$IO/output.txt"
	rc=${PIPESTATUS[0]}
fi
finish "$rc"
