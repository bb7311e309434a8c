#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interop: Docker's ipvlan network driver (Debian's docker.io), the daemon
# started by this test inside the host namespace with all its state on
# tmpfs, no iptables, no default bridge; the image is a busybox rootfs
# built here and loaded with `docker import` (nothing is pulled).
#
#   NS_OUT o0 ==veth== m0 NS_HOST (dockerd, containerd; -o parent=m0)
#     192.0.2.254/24     198.51.100.1/24
#     198.51.100.254/24  route 203.0.113.0/24 via 198.51.100.1 (l3, l3s)
#
# l2: containers c1, c2 in 192.0.2.0/24 (gateway: the outside, .254).
# l3, l3s: containers in 203.0.113.0/24, the outside routes to them
# through m0. For each mode: network create, two containers, the link
# Docker made (ip -d link in the container's netns), c1 -> c2, c1 -> the
# outside, the outside -> c1, then rm -f and `docker network rm`: no
# ipvlan link, netns or network left. ipvlan_flag=bridge|private|vepa
# (l2) where the Docker version has it: c1 -> c2 only with bridge.
#
# tests/run: timeout 1500
# shellcheck source=tests/lib_interop.sh
. "$(dirname "$(readlink -f "$0")")/../lib_interop.sh"

require_root
require_cmd ip ping nsenter
require_ipvlan
require_prog dockerd docker.io
require_prog docker docker.io
require_prog containerd containerd
require_prog runc runc
require_prog /bin/busybox busybox-static

DOCKER_VERSION=$(pkg_version docker.io)
# Docker < 23 has no ipvlan_flag option (nor mode l3s): probe the binary.
HAS_FLAG=0
grep -q ipvlan_flag "$(command -v dockerd)" && HAS_FLAG=1

MODES=(l2 l3 l3s)
FLAGS=(bridge private vepa)
ktap_plan $((2 + ${#MODES[@]} * 8 + ${#FLAGS[@]}))
diag "docker.io $DOCKER_VERSION (ipvlan_flag: $([ $HAS_FLAG = 1 ] && echo yes || echo no)), IMPL=$IMPL"

interop_tmp T
export DOCKER_HOST=unix://$T/docker.sock DOCKER_CONFIG=$T/cli
IMG=ipvtap-interop/busybox:local

setup_master
ip -n "$NS_HOST" addr add 198.51.100.1/24 dev m0
ip -n "$NS_OUT" addr add 198.51.100.254/24 dev o0
ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.1

# ------------------------------------------------------------ daemon

# dockerd in NS_HOST, in the mount namespace `ip netns exec` makes:
# cgroup2 on its /sys/fs/cgroup, a tmpfs on /etc/docker (it writes
# key.json there), everything else under $T.
start_dockerd() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$NS_HOST" env -i PATH="$PATH" HOME="$T" bash -c '
		T=$1
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
		mount -t tmpfs tmpfs /etc/docker || exit 1
		exec dockerd --data-root "$T/lib" --exec-root "$T/run" \
			-H "unix://$T/docker.sock" --pidfile "$T/dockerd.pid" \
			--iptables=false --ip6tables=false --ip-forward=false \
			--ip-masq=false --bridge=none --userland-proxy=false \
			--log-level=info' _ "$T" >"$T/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	defer "stop_dockerd"
	# A loaded TCG guest can take minutes; the CLI waits forever on a
	# daemon that accepted but does not answer, hence the timeout.
	docker_up 300
}

# docker_up SECONDS: the daemon answers within SECONDS of wall time.
docker_up() {
	local end=$((SECONDS + $1))

	while [ "$SECONDS" -lt "$end" ]; do
		timeout 20 docker version >/dev/null 2>&1 && return 0
		kill -0 "$DOCKERD_PID" 2>/dev/null ||
			{ echo "dockerd exited"; return 1; }
		sleep 1
	done
	echo "dockerd did not answer within $1 s"
	return 1
}

stop_dockerd() {
	local i

	timeout 60 docker ps -aq | xargs -r timeout 120 docker rm -f
	kill -TERM "$DOCKERD_PID" 2>/dev/null
	for ((i = 0; i < 60; i++)); do
		kill -0 "$DOCKERD_PID" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$DOCKERD_PID" 2>/dev/null
	wait "$DOCKERD_PID" 2>/dev/null
}

dockerd_log() {
	echo "--- dockerd's log (last 30 lines):"
	tail -n 30 "$T/dockerd.log"
}

# A busybox rootfs: /bin/busybox and its applets.
build_image() {
	local a

	mkdir -p "$T/rootfs/bin" "$T/rootfs/etc" "$T/rootfs/tmp" &&
	cp /bin/busybox "$T/rootfs/bin/" &&
	# Relative links: `busybox --install -s` would point them at
	# this host path.
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$T/rootfs/bin/$a" || return 1
	done &&
	echo 'root:x:0:0:root:/:/bin/sh' >"$T/rootfs/etc/passwd" &&
	tar -C "$T/rootfs" -cf "$T/rootfs.tar" . &&
	docker import "$T/rootfs.tar" "$IMG" &&
	docker run --rm --network none --security-opt apparmor=unconfined \
		"$IMG" /bin/true
}

if ! check "dockerd starts (state on tmpfs, no iptables, no bridge)" start_dockerd; then
	diag "$(dockerd_log)"
	ktap_bail "no Docker daemon"
fi
diag "$(docker info --format 'storage driver {{.Driver}}, cgroup v{{.CgroupVersion}} {{.CgroupDriver}}, kernel {{.KernelVersion}}' 2>&1)"
check "docker import of a local busybox rootfs; a container runs" build_image ||
	{ diag "$(dockerd_log)"; ktap_bail "no image"; }

# ------------------------------------------------------------ helpers

# replay OUTPUT STATUS: print OUTPUT, return STATUS (a command run earlier).
replay() {
	echo "$1"
	return "$2"
}

# run_ctr NAME NET IP: a container sleeping on network NET.
run_ctr() {
	docker run -d --name "$1" --network "$2" --ip "$3" \
		--security-opt apparmor=unconfined "$IMG" sleep 600 >/dev/null
}

ctr_pid() {
	docker inspect -f '{{.State.Pid}}' "$1"
}

# in_ctr NAME CMD...: CMD (a host program) in the container's netns.
in_ctr() {
	local pid

	pid=$(ctr_pid "$1") || return 1
	shift
	nsenter -t "$pid" -n "$@"
}

# ctr_pings NAME ADDR: the container reaches ADDR (retried for 10 s).
ctr_pings() {
	local i

	for ((i = 0; i < 10; i++)); do
		in_ctr "$1" ping -q -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
		sleep 1
	done
	in_ctr "$1" ping -c 1 -W 1 "$2"
}

# ctr_not_pings NAME ADDR: ADDR never answers within 3 s.
ctr_not_pings() {
	if in_ctr "$1" ping -q -c 3 -i 1 -W 1 "$2" >/dev/null 2>&1; then
		echo "$1 reached $2"
		return 1
	fi
}

ctr_link_has() {
	local got

	got=$(in_ctr "$1" ip -d link show dev eth0 2>&1)
	[[ $got == *"$2"* ]] && return 0
	echo "eth0 of $1 lacks '$2':"
	echo "$got"
	return 1
}

# nothing_left NET: after `docker network rm`, no trace of NET.
nothing_left() {
	if docker network inspect "$1" >/dev/null 2>&1; then
		echo "network $1 still exists"
		return 1
	fi
	no_link_in "$NS_HOST" '^(dm-|ipvl|eth)' || return 1
	if [ -n "$(docker ps -aq)" ]; then
		echo "containers left:"
		docker ps -a
		return 1
	fi
	ip -n "$NS_HOST" link show dev m0 | grep -q 'state UP' ||
		{ echo "m0 is not up any more"; return 1; }
}

remove_all() {
	docker rm -f c1 c2 >/dev/null && docker network rm "$1" >/dev/null
}

# ------------------------------------------------------------ modes

run_mode() {
	local mode=$1 net=ipvl-$1 subnet gw a1 a2 out i err rc

	if [ "$mode" = l2 ]; then
		subnet=192.0.2.0/24 gw=$OUT4 a1=192.0.2.10 a2=192.0.2.11 out=$OUT4
	else
		subnet=203.0.113.0/24 gw=203.0.113.254 a1=203.0.113.10
		a2=203.0.113.11 out=198.51.100.254
	fi
	# Docker < 23 knows l2 and l3 only: its refusal of l3s is a skip.
	err=$(docker network create -d ipvlan --subnet "$subnet" --gateway "$gw" \
		-o parent=m0 -o ipvlan_mode="$mode" "$net" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -ne 0 ] && [[ $err == *"mode '$mode' is not valid"* ]]; then
		for ((i = 1; i <= 8; i++)); do
			skip "$mode: case $i" "docker.io $DOCKER_VERSION has no ipvlan_mode=$mode (Docker 23 added it): $err"
		done
		return
	fi
	if ! check "$mode: docker network create -d ipvlan -o ipvlan_mode=$mode" \
		replay "$err" "$rc"; then
		for ((i = 2; i <= 8; i++)); do
			skip "$mode: case $i" "no network"
		done
		return
	fi
	check "$mode: containers c1 ($a1) and c2 ($a2) start on it" \
		both run_ctr c1 "$net" "$a1" -- run_ctr c2 "$net" "$a2"
	check "$mode: c1's eth0 is 'ipvlan  mode $mode bridge' with $a1" \
		both ctr_link_has c1 "ipvlan  mode $mode bridge" -- \
		bash -c "nsenter -t \$(docker inspect -f '{{.State.Pid}}' c1) -n ip -4 addr show dev eth0 | grep -q ' $a1/'"
	check "$mode: c1 pings c2" ctr_pings c1 "$a2"
	check "$mode: c1 pings the outside ($out)" ctr_pings c1 "$out"
	check "$mode: the outside pings c1 and c2" pings_all "$NS_OUT" "$a1" "$a2"
	check "$mode: docker rm -f and docker network rm succeed" remove_all "$net"
	check "$mode: nothing left behind (network, links, containers)" nothing_left "$net"
}

flag_case() {
	local flag=$1 net=ipvl-$1 rc=0

	docker network create -d ipvlan --subnet 192.0.2.0/24 --gateway "$OUT4" \
		-o parent=m0 -o ipvlan_mode=l2 -o ipvlan_flag="$flag" "$net" >/dev/null || return 1
	run_ctr c1 "$net" 192.0.2.10 && run_ctr c2 "$net" 192.0.2.11 || rc=1
	[ "$rc" = 0 ] && { ctr_link_has c1 "ipvlan  mode l2 $flag" || rc=1; }
	[ "$rc" = 0 ] && { ctr_pings c1 "$OUT4" || rc=1; }
	if [ "$rc" = 0 ]; then
		if [ "$flag" = bridge ]; then
			ctr_pings c1 192.0.2.11 || rc=1
		else
			# private: never; vepa: only through the outside,
			# which does not hairpin.
			ctr_not_pings c1 192.0.2.11 || rc=1
		fi
	fi
	remove_all "$net" || rc=1
	nothing_left "$net" || rc=1
	return "$rc"
}

for m in "${MODES[@]}"; do
	run_mode "$m"
	docker rm -f c1 c2 >/dev/null 2>&1
	docker network rm "ipvl-$m" >/dev/null 2>&1
done

for f in "${FLAGS[@]}"; do
	if [ "$HAS_FLAG" = 0 ]; then
		skip "l2 ipvlan_flag=$f: c1 -> c2 only with bridge, the outside always" \
			"docker.io $DOCKER_VERSION has no ipvlan_flag option (Docker 23 added it)"
		continue
	fi
	check "l2 ipvlan_flag=$f: c1 -> c2 only with bridge, the outside always" flag_case "$f"
	docker rm -f c1 c2 >/dev/null 2>&1
	docker network rm "ipvl-$f" >/dev/null 2>&1
done

ktap_finish
