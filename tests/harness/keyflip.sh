#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of tests/harness/static_keys.sh (run in a guest by
# tools/vm/run): whether the static keys tools/vm/guest.sh holds stay put
# while pings come and go, and a UDP flood through lo beside back-to-back
# pings for KEYFLIP_SECONDS (default 120). Prints "code: same" or
# "code: patched" (netif_rx_internal()'s first 64 bytes, read from
# /proc/kcore before, during and after a ping: netstamp_needed_key's jump
# label is among them) and "pings: N".
set -u

SECS=${KEYFLIP_SECONDS:-120}

site() {
	python3 - <<'PY'
import struct

def addr_of(sym):
    with open("/proc/kallsyms") as f:
        for line in f:
            a, _, n = line.split()[:3]
            if n == sym:
                return int(a, 16)
    return None

def read(addr, n):
    with open("/proc/kcore", "rb") as f:
        h = f.read(64)
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            typ, _, off, vaddr, _, _, memsz, _ = struct.unpack(
                "<IIQQQQQQ", f.read(56))
            if typ == 1 and vaddr <= addr < vaddr + memsz:
                f.seek(off + addr - vaddr)
                return f.read(n)
    return b""

a = addr_of("netif_rx_internal")
print(read(a, 64).hex() if a else "none")
PY
}

before=$(site)
ping -c 4 -i 0.5 -q 127.0.0.1 >/dev/null &
sleep 1
during=$(site)
wait
sleep 1
after=$(site)
if [ "$before" = none ] || [ -z "$before" ]; then
	echo "code: unreadable"
elif [ "$before" = "$during" ] && [ "$during" = "$after" ]; then
	echo "code: same"
else
	echo "code: patched"
	printf '%s\n' "$before" "$during" "$after"
fi

iperf3 -s -D -1 >/dev/null 2>&1
sleep 1
iperf3 -c 127.0.0.1 -u -b 0 -l 64 -t $((SECS + 20)) >/dev/null 2>&1 &
end=$((SECONDS + SECS)) n=0
while [ $SECONDS -lt $end ]; do
	ping -c 1 -W 1 -q 127.0.0.1 >/dev/null
	n=$((n + 1))
done
echo "pings: $n"
wait
