#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ipvl_nl.py: send one raw rtnetlink link request and print the answer.

Complements tools/testing/ipvl_newlink (C, newlink only): this one also
changes existing links, takes a raw ifindex for IFLA_LINK (a device that
does not exist), sends IFLA_MASTER, and prints the errno for every refusal
(iproute2 prints only the extack message when there is one).

  ipvl_nl.py newlink --name NAME [--link DEV | --link-index N]
                     [--kind KIND] [--mode N] [--flags N] [--mtu N]
                     [--address MAC]
  ipvl_nl.py setlink --dev DEV [--kind KIND] [--mode N] [--flags N]
                     [--mtu N] [--master DEV | --master-index N]
  ipvl_nl.py addrstress {--dev DEV | --ns NETNS:DEV...} --seconds S
                        [--seed N] ADDR/PLEN...
  ipvl_nl.py addrops [--undo] {add|del}:NETNS:DEV:ADDR/PLEN...
  ipvl_nl.py serve       newlink/setlink argument lines on stdin, each
                         answered by its output and "exit <status>"
  ipvl_nl.py allow --cmd N --dev DEV [ADDR/PLEN...]
                     one raw request of the generic netlink family
                     "ipvlan" (IPVLAN_CMD_ALLOW_*, include/uapi/
                     ipvlan_ext.h), with IPVLAN_ALLOW_A_PREFIX attributes
                     whatever the command (ipvlanctl refuses such input)

newlink: RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL (no --link: no
IFLA_LINK at all). setlink: RTM_NEWLINK on the existing DEV without
NLM_F_CREATE (what `ip link set DEV type ipvlan ...` sends: with --kind,
IFLA_LINKINFO reaches the driver's changelink); --master-index 0 detaches.

Output: "ok" or "error: <ENAME> (<errno>): <strerror>", then
"extack: <message>" when the kernel set one.
Exit: 0 accepted, 1 refused by the kernel, 2 usage or local error.

addrstress: one worker per device (--ns: a device in a named netns,
repeatable; the workers are forked after every socket is open, so they
start together). For S seconds each worker at random either adds one of
the given addresses that its device does not hold (RTM_NEWADDR, IPv6 with
IFA_F_NODAD) or deletes one it holds, as fast as netlink answers. Each
worker notes when it certainly held an address: from the kernel's answer
to its add (CLOCK_MONOTONIC, one clock for all CPUs) to the moment it
sent the delete (or the end). Two such spans of one address on two
devices that overlap mean that both held it at once: an "overlap".
Prints "workers=N adds=N refused_msg=N refused_nomsg=N dels=N errors=N
held=N holds=N overlaps=N" (totals; held: at the end, holds: spans),
one "refusal: <count> <ENAME> <extack message>" line per distinct
refusal, one "unexpected: ..." line per distinct unexpected answer (a
refusal without a message, a failed delete) and one "overlap: ..." line
for each of the first 20 overlaps. Needs ctypes (python3) for setns.
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

IFLA_ADDRESS = 1
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
        if args.address is not None:
            attrs += attr(IFLA_ADDRESS,
                          bytes(int(b, 16) for b in args.address.split(":")))
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


RTM_NEWADDR = 20
RTM_DELADDR = 21
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_F_NODAD = 0x02


class Rtnl:
    """One netlink socket (rtnetlink unless PROTO says otherwise) with
    extended acks; request() -> (err, msg)."""

    def __init__(self, proto=socket.NETLINK_ROUTE):
        self.sk = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        self.sk.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.seq = 0

    def request(self, mtype, flags, body):
        self.seq += 1
        self.sk.send(struct.pack("=IHHII", 16 + len(body), mtype,
                                 flags | NLM_F_REQUEST | NLM_F_ACK,
                                 self.seq, 0) + body)
        while True:
            buf = self.sk.recv(65536)
            off = 0
            while off + 16 <= len(buf):
                mlen, t, f, seq, _ = struct.unpack_from("=IHHII", buf, off)
                if mlen < 16:
                    break
                if t == NLMSG_ERROR and seq == self.seq:
                    payload = buf[off + 16:off + mlen]
                    err = -struct.unpack_from("=i", payload, 0)[0]
                    return err, extack_msg(payload, f)
                off += align4(mlen)


NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
IPVLAN_ALLOW_A_IFINDEX = 1
IPVLAN_ALLOW_A_PREFIX = 4


def genl_family(sk, name):
    """The id of generic netlink family NAME, or None."""
    body = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0)
    body += attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
    sk.send(struct.pack("=IHHII", 16 + len(body), GENL_ID_CTRL,
                        NLM_F_REQUEST, 1, 0) + body)
    buf = sk.recv(65536)
    mlen, t = struct.unpack_from("=IH", buf, 0)
    if t == NLMSG_ERROR:
        return None
    off = 20
    while off + 4 <= mlen:
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        if atype == CTRL_ATTR_FAMILY_ID:
            return struct.unpack_from("=H", buf, off + 4)[0]
        off += align4(alen)
    return None


def print_answer(err, msg):
    """Print the kernel's answer as the module docstring says; the exit
    status."""
    if err == 0:
        print("ok")
    else:
        print("error: %s (%d): %s" % (ename(err), err, os.strerror(err)))
    if msg:
        print("extack: %s" % msg)
    return 0 if err == 0 else 1


def allow_request(args):
    nl = Rtnl(NETLINK_GENERIC)
    fam = genl_family(nl.sk, "ipvlan")
    if fam is None:
        print("local error: no generic netlink family ipvlan")
        return 2
    body = struct.pack("=BBH", args.gcmd, 1, 0)
    body += attr(IPVLAN_ALLOW_A_IFINDEX, u32(ifindex(args.dev)))
    for pfx in args.prefixes:
        ip, plen = pfx.split("/")
        af = socket.AF_INET6 if ":" in ip else socket.AF_INET
        raw = socket.inet_pton(af, ip).ljust(16, b"\0")
        body += attr(IPVLAN_ALLOW_A_PREFIX,
                     struct.pack("=BBxx", af, int(plen)) + raw)
    err, msg = nl.request(fam, 0, body)
    nl.sk.close()
    return print_answer(err, msg)


def addr_msg(index, addr):
    ip, plen = addr.split("/")
    if ":" in ip:
        fam, raw, flags = socket.AF_INET6, socket.inet_pton(
            socket.AF_INET6, ip), IFA_F_NODAD
    else:
        fam, raw, flags = socket.AF_INET, socket.inet_pton(
            socket.AF_INET, ip), 0
    body = struct.pack("=BBBBI", fam, int(plen), flags, 0, index)
    body += attr(IFA_LOCAL, raw) + attr(IFA_ADDRESS, raw)
    return body


def ename(err):
    if err == errno.EOPNOTSUPP:
        return "EOPNOTSUPP"
    return errno.errorcode.get(err, "E?")


def stress_loop(nl, index, addrs, seconds, rng):
    """Random add/del on one device; returns (counts, refusals, unexpected,
    spans): spans are (addr, t_added, t_deleted) of what it certainly held
    (t_deleted None: held at the end)."""
    import time

    held = {}
    spans = []
    cnt = dict(adds=0, refused_msg=0, refused_nomsg=0, dels=0, errors=0)
    refusals = {}
    unexpected = {}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if held and rng.random() < 0.5:
            a = rng.choice(sorted(held))
            t = time.monotonic()
            err, msg = nl.request(RTM_DELADDR, 0, addr_msg(index, a))
            if err:
                cnt["errors"] += 1
                k = "del %s: %s %s" % (a, ename(err), msg)
                unexpected[k] = unexpected.get(k, 0) + 1
            else:
                spans.append((a, held.pop(a), t))
                cnt["dels"] += 1
            continue
        a = rng.choice(addrs)
        if a in held:
            continue
        err, msg = nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                              addr_msg(index, a))
        if not err:
            held[a] = time.monotonic()
            cnt["adds"] += 1
        elif msg:
            cnt["refused_msg"] += 1
            k = "%s %s" % (ename(err), msg)
            refusals[k] = refusals.get(k, 0) + 1
        else:
            cnt["refused_nomsg"] += 1
            k = "add %s: %s (no message)" % (a, ename(err))
            unexpected[k] = unexpected.get(k, 0) + 1
    cnt["held"] = len(held)
    spans += [(a, t, None) for a, t in held.items()]
    return cnt, refusals, unexpected, spans


def overlaps(spans):
    """spans: (device, addr, t0, t1 or None). The pairs of spans of one
    address on two devices that overlap, as text."""
    found = []
    by_addr = {}
    for dev, a, t0, t1 in spans:
        by_addr.setdefault(a, []).append(
            (t0, float("inf") if t1 is None else t1, dev))
    for a, lst in sorted(by_addr.items()):
        lst.sort()
        last = None  # the span that ends last so far
        for t0, t1, dev in lst:
            if last and t0 < last[1] and dev != last[2]:
                found.append("%s on %s [%.6f, %.6f] and %s [%.6f, %.6f]" %
                             (a, last[2], last[0], last[1], dev, t0, t1))
            if not last or t1 > last[1]:
                last = (t0, t1, dev)
    return found


def addrops(args):
    """Each OP is add:NETNS:DEV:ADDR/PLEN or del:NETNS:DEV:ADDR/PLEN
    (NETNS "-": the current one). Prints one line per OP:
    "<op> <netns> <dev> <addr> ok" or "... <ENAME> msg|nomsg[: message]".
    With --undo, an accepted add is deleted again right away."""
    socks = {}
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    rc = 0
    for op in args.ops:
        kind, name, dev, addr = op.split(":", 3)
        if (name, dev) not in socks:
            if name != "-":
                fd = os.open("/run/netns/" + name, os.O_RDONLY)
                setns_net(fd)
                os.close(fd)
            socks[(name, dev)] = (Rtnl(), ifindex(dev))
            if name != "-":
                setns_net(home)
        nl, index = socks[(name, dev)]
        if kind == "add":
            err, msg = nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
                                  addr_msg(index, addr))
            if not err and args.undo:
                nl.request(RTM_DELADDR, 0, addr_msg(index, addr))
        else:
            err, msg = nl.request(RTM_DELADDR, 0, addr_msg(index, addr))
        if err:
            rc = 1
            res = "%s %s" % (ename(err), "msg: " + msg if msg else "nomsg")
        else:
            res = "ok"
        print("%s %s %s %s %s" % (kind, name, dev, addr, res))
    return rc


def setns_net(fd):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns")


def addrstress(args):
    """One worker per --ns NETNS:DEV (forked, sockets opened in each
    namespace first, so the workers start together), or one on --dev."""
    import random

    workers = []  # (label, Rtnl, ifindex)
    if args.ns:
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        for spec in args.ns:
            name, dev = spec.rsplit(":", 1)
            fd = os.open("/run/netns/" + name, os.O_RDONLY)
            setns_net(fd)
            os.close(fd)
            workers.append((dev, Rtnl(), ifindex(dev)))
            setns_net(home)
        os.close(home)
    else:
        workers.append((args.dev, Rtnl(), ifindex(args.dev)))

    pids = []
    for i, (label, nl, index) in enumerate(workers):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            rng = random.Random(args.seed * 1000 + i)
            cnt, ref, unx, spans = stress_loop(nl, index, args.addrs,
                                               args.seconds, rng)
            out = [" ".join("%s=%d" % kv for kv in cnt.items())]
            out += ["span: %s %.6f %s" % (a, t0, "-" if t1 is None else
                                          "%.6f" % t1)
                    for a, t0, t1 in spans]
            out += ["refusal: %d %s" % (v, k) for k, v in ref.items()]
            out += ["unexpected: %d %s: %s" % (v, label, k)
                    for k, v in unx.items()]
            os.write(w, ("\n".join(out) + "\n").encode())
            os._exit(0)
        os.close(w)
        pids.append((pid, r))

    total = dict(adds=0, refused_msg=0, refused_nomsg=0, dels=0, errors=0,
                 held=0)
    refusals = {}
    lines = []
    spans = []
    rc = 0
    for i, (pid, r) in enumerate(pids):
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        if status or not data:
            rc = 1
            lines.append("unexpected: worker %d exited with status %d"
                         % (pid, status))
            continue
        head, *rest = data.decode().splitlines()
        for kv in head.split():
            k, v = kv.split("=")
            total[k] += int(v)
        label = workers[i][0]
        for line in rest:
            if line.startswith("span: "):
                _, a, t0, t1 = line.split()
                spans.append((label, a, float(t0),
                              None if t1 == "-" else float(t1)))
            elif line.startswith("refusal: "):
                n, k = line[len("refusal: "):].split(" ", 1)
                refusals[k] = refusals.get(k, 0) + int(n)
            else:
                lines.append(line)
    found = overlaps(spans)
    total["holds"] = len(spans)
    total["overlaps"] = len(found)
    print("workers=%d " % len(workers) +
          " ".join("%s=%d" % kv for kv in total.items()))
    for line in found[:20]:
        print("overlap: " + line)
    for k, v in sorted(refusals.items()):
        print("refusal: %d %s" % (v, k))
    for line in lines:
        print(line)
    return rc


def num(s):
    return int(s, 0)


def parser():
    p = argparse.ArgumentParser(
        description="raw rtnetlink link requests for ipvlan tests")
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("newlink")
    n.add_argument("--name", required=True)
    g = n.add_mutually_exclusive_group()
    g.add_argument("--link")
    g.add_argument("--link-index", type=num)
    n.add_argument("--kind", default="ipvlan")
    n.add_argument("--address", help="IFLA_ADDRESS, aa:bb:cc:dd:ee:ff")
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
    a = sub.add_parser("addrstress")
    g = a.add_mutually_exclusive_group(required=True)
    g.add_argument("--dev")
    g.add_argument("--ns", action="append", metavar="NETNS:DEV")
    a.add_argument("--seconds", type=float, required=True)
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("addrs", nargs="+")
    o = sub.add_parser("addrops")
    o.add_argument("--undo", action="store_true")
    o.add_argument("ops", nargs="+")
    sub.add_parser("serve")
    w = sub.add_parser("allow")
    w.add_argument("--cmd", dest="gcmd", type=num, required=True)
    w.add_argument("--dev", required=True)
    w.add_argument("prefixes", nargs="*")
    return p


def link_request(p, args):
    if args.cmd == "setlink" and args.kind is None and (
            args.mode is not None or args.flags is not None):
        p.error("--mode/--flags need --kind")
    req = build(args)
    nl = Rtnl()
    flags = struct.unpack_from("=H", req, 6)[0]
    err, msg = nl.request(RTM_NEWLINK, flags & ~(NLM_F_REQUEST | NLM_F_ACK),
                          req[16:])
    nl.sk.close()
    return print_answer(err, msg)


def serve(p):
    """One request per stdin line (the arguments of newlink/setlink);
    each answer is followed by a line "exit <status>". Saves a python
    start-up per request (expensive under TCG)."""
    import shlex

    for line in sys.stdin:
        try:
            rc = link_request(p, p.parse_args(shlex.split(line)))
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        except OSError as e:
            print("local error: %s" % e)
            rc = 2
        print("exit %d" % rc, flush=True)
    return 0


def main():
    p = parser()
    args = p.parse_args()
    if args.cmd == "addrstress":
        return addrstress(args)
    if args.cmd == "serve":
        return serve(p)
    if args.cmd == "addrops":
        return addrops(args)
    if args.cmd == "allow":
        return allow_request(args)
    try:
        return link_request(p, args)
    except OSError as e:
        print("local error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
