#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tappump: a network namespace's own kernel as the guest behind an ipvtap.

    tappump.py /dev/tapN IFNAME LOG

Opens /dev/tapN (the ipvtap's node, without the vnet header) and the tap
device IFNAME of the current network namespace (created beforehand with
`ip tuntap add dev IFNAME mode tap`), and copies every frame from one to
the other, as QEMU's tap backend and a VM's NIC would: the namespace's
stack (its ARP, neighbour discovery, ping, DHCP client) is the guest, and
IFNAME's MAC address is the guest's MAC.

LOG gets "pump up" once both ends are open, then a line for each frame
handed to the guest that answers a question of its: "rx xid=XXXXXXXX"
for DHCP (UDP to port 68), "rx arp-reply dst=MAC sip=IP sha=MAC" for an
ARP reply, "rx na dst=MAC target=IP tlla=MAC" for a neighbour
advertisement. Runs until killed.
"""
import fcntl
import ipaddress
import os
import select
import struct
import sys

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000


def tap_open(path, name=b""):
    fd = os.open(path, os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name, IFF_TAP | IFF_NO_PI))
    return fd


def dhcp_xid(f):
    """The xid of an Ethernet/IPv4/UDP frame to port 68, or None."""
    if len(f) < 14 + 20 + 8 + 8 or f[12:14] != b"\x08\x00" or f[23] != 17:
        return None
    u = 14 + (f[14] & 15) * 4
    if f[u + 2:u + 4] != b"\x00\x44" or len(f) < u + 16:
        return None
    return f[u + 12:u + 16].hex()


def mac(b):
    return ":".join("%02x" % x for x in b)


def answer(f):
    """A log line for an ARP reply or a neighbour advertisement, or None."""
    if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02":
        return "rx arp-reply dst=%s sip=%s sha=%s" % (
            mac(f[0:6]), ipaddress.ip_address(f[28:32]), mac(f[22:28]))
    if len(f) >= 86 and f[12:14] == b"\x86\xdd" and f[20] == 58 \
            and f[54] == 136:
        tlla = "none"
        if f[78] == 2 and f[79] == 1:
            tlla = mac(f[80:86])
        return "rx na dst=%s target=%s tlla=%s" % (
            mac(f[0:6]), ipaddress.ip_address(f[62:78]), tlla)
    return None


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    tapn, ifname, logpath = sys.argv[1:]
    log = open(logpath, "a", 1)
    a = tap_open(tapn)
    b = tap_open("/dev/net/tun", ifname.encode())
    log.write("pump up\n")
    while True:
        r, _, _ = select.select([a, b], [], [])
        for fd in r:
            try:
                f = os.read(fd, 65536)
            except OSError:
                continue
            if fd == a:
                xid = dhcp_xid(f)
                if xid:
                    log.write("rx xid=%s\n" % xid)
                line = answer(f)
                if line:
                    log.write(line + "\n")
            try:
                os.write(b if fd == a else a, f)
            except OSError:
                pass


if __name__ == "__main__":
    main()
