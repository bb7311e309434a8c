#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ipvl_nl.py: send one raw rtnetlink link request and print the answer.

Complements tools/testing/ipvl_newlink (C, newlink only): this one also
changes existing links, takes a raw ifindex for IFLA_LINK (a device that
does not exist), sends IFLA_MASTER, and prints the errno for every refusal
(iproute2 prints only the extack message when there is one).

  ipvl_nl.py newlink --name NAME [--link DEV | --link-index N]
                     [--kind KIND] [--mode N] [--flags N] [--mtu N]
  ipvl_nl.py setlink --dev DEV [--kind KIND] [--mode N] [--flags N]
                     [--mtu N] [--master DEV | --master-index N]

newlink: RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL (no --link: no
IFLA_LINK at all). setlink: RTM_NEWLINK on the existing DEV without
NLM_F_CREATE (what `ip link set DEV type ipvlan ...` sends: with --kind,
IFLA_LINKINFO reaches the driver's changelink); --master-index 0 detaches.

Output: "ok" or "error: <ENAME> (<errno>): <strerror>", then
"extack: <message>" when the kernel set one.
Exit: 0 accepted, 1 refused by the kernel, 2 usage or local error.
Needs only python3-minimal (socket, struct).
"""
import argparse
import errno
import os
import socket
import struct
import sys

RTM_NEWLINK = 16
NLMSG_ERROR = 2
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200
NLA_F_NESTED = 0x8000
SOL_NETLINK = 270
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1

IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINK = 5
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_IPVLAN_MODE = 1
IFLA_IPVLAN_FLAGS = 2


def align4(n):
    return (n + 3) & ~3


def attr(atype, payload=b""):
    hdr = struct.pack("=HH", 4 + len(payload), atype)
    return hdr + payload + b"\0" * (align4(len(payload)) - len(payload))


def u16(v):
    return struct.pack("=H", v)


def u32(v):
    return struct.pack("=I", v)


def ifindex(name):
    try:
        return socket.if_nametoindex(name)
    except OSError:
        print("no device '%s'" % name, file=sys.stderr)
        sys.exit(2)


def linkinfo(args):
    if args.kind is None:
        return b""
    body = attr(IFLA_INFO_KIND, args.kind.encode())
    data = b""
    if args.mode is not None:
        data += attr(IFLA_IPVLAN_MODE, u16(args.mode))
    if args.flags is not None:
        data += attr(IFLA_IPVLAN_FLAGS, u16(args.flags))
    if data:
        body += attr(IFLA_INFO_DATA | NLA_F_NESTED, data)
    return attr(IFLA_LINKINFO | NLA_F_NESTED, body)


def build(args):
    attrs = b""
    flags = NLM_F_REQUEST | NLM_F_ACK
    index = 0

    if args.cmd == "newlink":
        flags |= NLM_F_CREATE | NLM_F_EXCL
        attrs += attr(IFLA_IFNAME, args.name.encode() + b"\0")
        if args.link is not None:
            attrs += attr(IFLA_LINK, u32(ifindex(args.link)))
        elif args.link_index is not None:
            attrs += attr(IFLA_LINK, u32(args.link_index))
    else:
        index = ifindex(args.dev)
        if args.master is not None:
            attrs += attr(IFLA_MASTER, u32(ifindex(args.master)))
        elif args.master_index is not None:
            attrs += attr(IFLA_MASTER, u32(args.master_index))
    if args.mtu is not None:
        attrs += attr(IFLA_MTU, u32(args.mtu))
    attrs += linkinfo(args)

    ifi = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, 0)
    body = ifi + attrs
    return struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, flags,
                       1, 0) + body


def extack_msg(msg, nlflags):
    """The NLMSGERR_ATTR_MSG of an NLMSG_ERROR payload, or None."""
    if not nlflags & NLM_F_ACK_TLVS:
        return None
    off = 4 + 16  # error + the original request's header
    if not nlflags & NLM_F_CAPPED:
        off = 4 + struct.unpack_from("=I", msg, 4)[0]
    off = align4(off)
    while off + 4 <= len(msg):
        alen, atype = struct.unpack_from("=HH", msg, off)
        if alen < 4 or off + alen > len(msg):
            break
        if atype & 0x3fff == NLMSGERR_ATTR_MSG:
            return msg[off + 4:off + alen].rstrip(b"\0").decode(
                errors="replace")
        off += align4(alen)
    return None


def num(s):
    return int(s, 0)


def main():
    p = argparse.ArgumentParser(
        description="raw rtnetlink link requests for ipvlan tests")
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("newlink")
    n.add_argument("--name", required=True)
    g = n.add_mutually_exclusive_group()
    g.add_argument("--link")
    g.add_argument("--link-index", type=num)
    n.add_argument("--kind", default="ipvlan")
    s = sub.add_parser("setlink")
    s.add_argument("--dev", required=True)
    s.add_argument("--kind")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--master")
    g.add_argument("--master-index", type=num)
    for sp in (n, s):
        sp.add_argument("--mode", type=num)
        sp.add_argument("--flags", type=num)
        sp.add_argument("--mtu", type=num)
    args = p.parse_args()
    if args.cmd == "setlink" and args.kind is None and (
            args.mode is not None or args.flags is not None):
        p.error("--mode/--flags need --kind")

    req = build(args)
    try:
        sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                           socket.NETLINK_ROUTE)
        sk.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        sk.sendto(req, (0, 0))
        buf = sk.recv(65536)
    except OSError as e:
        print("local error: %s" % e, file=sys.stderr)
        return 2

    off = 0
    while off + 16 <= len(buf):
        mlen, mtype, mflags, _, _ = struct.unpack_from("=IHHII", buf, off)
        if mlen < 16:
            break
        if mtype == NLMSG_ERROR:
            payload = buf[off + 16:off + mlen]
            err = -struct.unpack_from("=i", payload, 0)[0]
            msg = extack_msg(payload, mflags)
            if err == 0:
                print("ok")
            else:
                name = "EOPNOTSUPP" if err == errno.EOPNOTSUPP else \
                    errno.errorcode.get(err, "E?")
                print("error: %s (%d): %s" % (name, err, os.strerror(err)),
                      flush=True)
            if msg:
                print("extack: %s" % msg)
            return 0 if err == 0 else 1
        off += align4(mlen)
    print("no netlink ack received", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
