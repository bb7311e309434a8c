/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Extensions of this ipvlan/ipvtap implementation: attributes of
 * IFLA_INFO_DATA for link kinds "ipvlan" and "ipvtap", and a generic
 * netlink family for the address table and the allow-lists.
 *
 * Upstream defines IFLA_IPVLAN_MODE (1) and IFLA_IPVLAN_FLAGS (2); they
 * keep their numbers and meaning. The extensions start at 40, clear of
 * any attribute upstream may add (rtnetlink caps a kind at 50), and are
 * opt-in: a request without them behaves as with the in-tree driver.
 * Kernels without the extensions ignore them (they are above the in-tree
 * maxtype). Every one is reported back by
 * RTM_GETLINK, so a dump can recreate the device.
 *
 * Guest address learning (IFLA_IPVLAN_X_LEARN, per slave; default on for
 * ipvtap, off for ipvlan): the slave learns the IPv4/IPv6 addresses its
 * guest uses from the frames the guest sends (ARP sender, IPv4/IPv6
 * source, neighbour advertisement target) and switches them to it like
 * configured addresses. While learning is on, the slave also enforces:
 * frames must carry the master's MAC as source, and a frame whose source
 * address is owned by another slave of the same master, or by the master's
 * namespace (its local, broadcast and anycast addresses; IPv6 link-local
 * excepted, see below), is dropped: an address never moves to a spoofer.
 * Unspecified, multicast, broadcast, loopback and the master namespace's
 * own addresses are never learned. A guest using the master's MAC derives
 * the master's EUI-64 IPv6 link-local address: it may send from it, but it
 * is not learned (traffic to it stays with the host).
 *
 * Learned addresses are forgotten after IFLA_IPVLAN_X_LEARN_TIMEOUT
 * seconds without traffic from them; at most IFLA_IPVLAN_X_LEARN_MAX are
 * learned (frames from further new addresses are dropped; lowering the cap
 * evicts nothing, the surplus ages out). Addresses configured on the slave
 * take precedence over learned ones, on this slave or another, and never
 * age.
 *
 * Multicast backlog (IFLA_IPVLAN_X_MC_QUEUE_LEN, per master like mode and
 * flags: the latest request wins for every slave of the master; default
 * 1000): broadcast and multicast frames wait there for the work item that
 * copies them to the slaves; frames that find it full are dropped and
 * counted in IPVLAN_X_STATS_MC_DROPS (also per master, so every slave of
 * a master reports the same value). A frame from the wire skips the
 * backlog on a port with at most mc_inline_max slaves (module parameter,
 * default 4, 0: never) while the backlog is empty: the copies are handed
 * out at once in the master's receive softirq, the same copies to the
 * same slaves, in the order each receive queue delivered them. Counted in
 * IPVLAN_X_STATS_MC_INLINE (per master). Frames sent by a slave always
 * wait for the work item.
 *
 * ARP filter (IFLA_IPVLAN_X_ARP_FILTER, per master like mode and flags;
 * default on): in mode l2, a broadcast ARP request (Ethernet/IPv4, no VLAN
 * tag in the frame) from the wire or from a slave is handed only to the
 * slave that owns its target address (configured or learned) and to the
 * slave that owns its sender address (RFC 5227: ongoing conflict
 * detection must see another host use its address), or to none if no
 * slave owns either; a request for an address nobody owns still goes to
 * the slaves that learn guest addresses, whose guest may own it unknown to
 * the host. Probes (sender 0.0.0.0) are requests like any other.
 * Gratuitous ARP and announcements (sender = target), replies, other ARP
 * and malformed frames go to every slave as before, and so does everything
 * for a slave in promiscuous mode. An IPv6 neighbour solicitation to a
 * solicited-node group whose target a slave owns goes to that slave only
 * (also not to the slaves that learn, whose multicast filter takes every
 * group); one for an address nobody owns goes as the multicast filters
 * let it. The master's own stack keeps its copy
 * of a frame from the wire, and a request sent by a slave still leaves
 * through the master. Every copy a slave does not get because of the
 * filter is counted in IPVLAN_X_STATS_ARP_FILTERED (per master). With the
 * filter off, every slave gets every broadcast, as with the in-tree driver.
 *
 * DHCP for guests (learning slaves; no setting): the DHCPv4 client
 * messages a guest sends (DISCOVER, REQUEST, INFORM) are noted as
 * transactions (xid, client identifier option 61 or else chaddr;
 * IPVLAN_X_STATS_DHCP_TRACKED), at most 64 per master and 8 per slave,
 * each for 60 s after the client's latest message or 5 s after its ACK or
 * NAK; DECLINE and RELEASE end them. A server's unicast reply (UDP 67 to
 * 68) to an IPv4 address no slave owns is handed to the slave whose
 * guest's transaction it answers (IPVLAN_X_STATS_DHCP_DELIVERED): a client
 * without the broadcast flag gets its lease. Guests share the master's MAC,
 * so they are told apart by xid and client identifier. A reply that no
 * transaction, or more than one slave's, matches goes to no slave
 * (IPVLAN_X_STATS_DHCP_UNMATCHED, per master) and stays with the master's
 * stack. Malformed client messages are dropped (IPVLAN_X_STATS_DHCP_BAD);
 * malformed replies go to no slave (IPVLAN_X_STATS_DHCP_RX_BAD, per
 * master); client messages the table has no room for, or whose
 * transaction another slave holds, are sent but not noted
 * (IPVLAN_X_STATS_DHCP_UNTRACKED, per master).
 *
 * IFLA_IPVLAN_X_EXT (50) is the last attribute number rtnetlink allows a
 * link kind (RTNL_MAX_TYPE): every extension after it is a member of this
 * nest (IPVLAN_X_EXT_*), parsed strictly (NLA_F_NESTED, no unknown
 * members). It is always reported back.
 *
 * MAC-NAT (IPVLAN_X_EXT_MAC_NAT, per slave; default off): the guest keeps
 * a MAC of its own. The first unicast source MAC other than the master's
 * that the slave sends after MAC-NAT was turned on is latched as the
 * guest's (IPVLAN_X_EXT_GUEST_MAC, report only); from then on frames from
 * any other source MAC, the master's included, are dropped
 * (IPVLAN_X_STATS_MAC_DROPS): one MAC per slave. Turning MAC-NAT off, or
 * IFLA_IPVLAN_X_LEARN_FLUSH, forgets it. A hardware address that denotes
 * the guest is rewritten: the guest's MAC becomes the master's on the way
 * out (Ethernet source, ARP sender/target, the link-layer address options
 * of ND (RS, RA, NS, NA, redirect), the chaddr of DHCPv4 client messages;
 * ICMPv6 and UDP checksums updated; IPVLAN_X_STATS_MACNAT_TX), and the
 * master's becomes the guest's on the way in where it denotes this guest
 * (unicast Ethernet destination, ARP and ND addresses whose IP address the
 * slave owns, chaddr of DHCPv4 replies; IPVLAN_X_STATS_MACNAT_RX).
 * Broadcast and multicast destinations are never touched. A malformed
 * ARP/ND message or a VLAN-tagged frame from the guest is dropped
 * (IPVLAN_X_STATS_MACNAT_BAD). Anti-spoofing is learning's, unchanged:
 * the latched MAC never reaches the wire and never decides where a frame
 * goes (switching stays on L3 addresses), and learning polices the
 * rewritten frame's addresses as it does any guest's.
 *
 * L3-mode neighbours (learning slaves in l3/l3s that are not the default
 * slave; no setting): the guest's ARP requests and neighbour
 * solicitations for any unicast address are answered by the driver with
 * the master's MAC (also under MAC-NAT, sent to the guest's own), except
 * probes and duplicate address detection (sender 0.0.0.0, source ::),
 * announcements (sender = target) and requests for an address the slave
 * owns (IPVLAN_X_STATS_NEIGH_ANSWERED). The guest's other ARP (replies to
 * the outside's requests, announcements, probes) and its broadcast DHCPv4
 * client messages go to the wire as in l2, never back to the guest
 * itself (the server's unicast reply finds the guest as in "DHCP for
 * guests" above).
 * Host path (IFLA_IPVLAN_X_HOST, per master like mode and flags; default
 * off, as upstream): the master's own namespace and the slaves reach each
 * other directly through the driver, in modes l2, l3 and l3s, IPv4 and
 * IPv6, with no route or device added. The master namespace's ARP
 * requests and neighbour solicitations for a running slave's address
 * (not probes or duplicate address detection: unspecified source) are
 * answered by the driver with the master's MAC (the slaves share it); its
 * packets to the master's MAC for such an address are handed to the slave
 * instead of the wire. A slave's packets to the shared MAC for a local
 * address of the master's namespace, and in l2 its ARP requests and
 * solicitations for one, are received on the master (iif = master: the
 * namespace's netfilter, conntrack and rp_filter see them), and the
 * namespace's own stack answers. Addresses are looked up per packet.
 * Flags: bridge and private let the host and every slave talk (private
 * isolates slaves from each other only); in vepa everything goes through
 * the adjacent switch and the setting has no effect until the port leaves
 * vepa. Frames with a VLAN tag are left alone. Per slave:
 * IPVLAN_X_STATS_HOST_RX (frames from the master's namespace handed to
 * it), _HOST_TX (its frames handed to the master's namespace),
 * _HOST_NEIGH (requests of the master's namespace answered for its
 * addresses), _HOST_DROPS (frames between the two not delivered). Needs
 * CONFIG_NETFILTER_EGRESS (an egress hook on the master, registered with
 * the port's first "on"); without it "on" is refused.
 */
#ifndef _UAPI_IPVLAN_EXT_H
#define _UAPI_IPVLAN_EXT_H

#include <linux/types.h>

enum {
	IFLA_IPVLAN_X_LEARN = 40,	/* u8: 1 learn guest addresses, 0 off */
	IFLA_IPVLAN_X_LEARN_MAX,	/* u32: learned addresses kept, 1..4096 */
	IFLA_IPVLAN_X_LEARN_TIMEOUT,	/* u32: idle seconds, 1..86400 */
	IFLA_IPVLAN_X_LEARN_FLUSH,	/* flag, set only: forget learned ones */
	IFLA_IPVLAN_X_LEARN_COUNT,	/* u32, report only: learned now */
	IFLA_IPVLAN_X_STATS,		/* nest of IPVLAN_X_STATS_*, report only */
	IFLA_IPVLAN_X_MC_QUEUE_LEN,	/* u32: multicast backlog, 1..65536 */
	IFLA_IPVLAN_X_ARP_FILTER,	/* u8: 1 ARP filter on (default) */
	IFLA_IPVLAN_X_DEFAULT,		/* u8: 1 this slave is the port's default */
	IFLA_IPVLAN_X_HOST = 49,	/* u8: 1 host <-> slave path on (per port) */
	/* The last attribute rtnetlink allows a link kind (RTNL_MAX_TYPE):
	 * every further extension is a member of this nest.
	 */
	IFLA_IPVLAN_X_EXT = 50,		/* nest of IPVLAN_X_EXT_* */
	__IFLA_IPVLAN_X_MAX
};

#define IFLA_IPVLAN_X_MAX (__IFLA_IPVLAN_X_MAX - 1)

/* Members of IFLA_IPVLAN_X_EXT. */
enum {
	IPVLAN_X_EXT_UNSPEC,
	IPVLAN_X_EXT_MAC_NAT,		/* u8: 1 MAC-NAT on (per slave), 0 off */
	IPVLAN_X_EXT_GUEST_MAC,		/* 6 bytes, report only: the guest's MAC */
	__IPVLAN_X_EXT_MAX
};

#define IPVLAN_X_EXT_MAX (__IPVLAN_X_EXT_MAX - 1)

/* Counters in IFLA_IPVLAN_X_STATS, all u64. */
enum {
	IPVLAN_X_STATS_UNSPEC,
	IPVLAN_X_STATS_PAD,
	IPVLAN_X_STATS_LEARNED,		/* addresses learned (total) */
	IPVLAN_X_STATS_EXPIRED,		/* learned addresses that aged out */
	IPVLAN_X_STATS_SPOOF_DROPS,	/* source owned by another slave */
	IPVLAN_X_STATS_MAC_DROPS,	/* source MAC not the master's */
	IPVLAN_X_STATS_CAP_DROPS,	/* new source beyond LEARN_MAX */
	IPVLAN_X_STATS_MC_DROPS,	/* per master: multicast backlog full */
	IPVLAN_X_STATS_ARP_FILTERED,	/* per master: copies kept back */
	IPVLAN_X_STATS_DEFAULT_RX,	/* per master: frames to the default slave */
	IPVLAN_X_STATS_DHCP_TRACKED,	/* DHCP client messages noted */
	IPVLAN_X_STATS_DHCP_DELIVERED,	/* DHCP replies handed to this slave */
	IPVLAN_X_STATS_DHCP_BAD,	/* malformed DHCP client messages dropped */
	IPVLAN_X_STATS_DHCP_UNTRACKED,	/* per master: table full or xid taken */
	IPVLAN_X_STATS_DHCP_UNMATCHED,	/* per master: replies for nobody */
	IPVLAN_X_STATS_DHCP_RX_BAD,	/* per master: malformed DHCP replies */
	IPVLAN_X_STATS_HOST_RX = 16,	/* frames from the master's namespace */
	IPVLAN_X_STATS_HOST_TX = 17,	/* frames to the master's namespace */
	IPVLAN_X_STATS_HOST_NEIGH = 18,	/* host's ARP/NS answered for it */
	IPVLAN_X_STATS_HOST_DROPS = 19,	/* host <-> slave frames dropped */
	/* The allow-list (IPVLAN_CMD_ALLOW_*), per slave: */
	IPVLAN_X_STATS_ALLOW_DROPS = 20,	/* source outside the list */
	IPVLAN_X_STATS_ALLOW_PROTO_DROPS = 21,	/* locked: not ARP/IPv4/IPv6 */
	IPVLAN_X_STATS_ALLOW_REFUSED = 22,	/* changes refused by the lock */
	IPVLAN_X_STATS_ALLOW_PREFIXES = 23,	/* gauge: prefixes; only if locked */
	IPVLAN_X_STATS_MACNAT_TX = 24,	/* guest frames whose MACs were rewritten */
	IPVLAN_X_STATS_MACNAT_RX = 25,	/* frames to the guest rewritten */
	IPVLAN_X_STATS_MACNAT_BAD = 26,	/* malformed ARP/ND/DHCP of a guest, dropped */
	IPVLAN_X_STATS_NEIGH_ANSWERED = 27, /* L3 modes: ARP/NS answered */
	IPVLAN_X_STATS_MC_INLINE = 28,	/* per master: delivered in softirq */
	__IPVLAN_X_STATS_MAX
};

#define IPVLAN_X_STATS_MAX (__IPVLAN_X_STATS_MAX - 1)

#define IPVLAN_X_LEARN_MAX_DEFAULT	32
#define IPVLAN_X_LEARN_MAX_LIMIT	4096
#define IPVLAN_X_LEARN_TIMEOUT_DEFAULT	300
#define IPVLAN_X_LEARN_TIMEOUT_LIMIT	86400
#define IPVLAN_X_MC_QUEUE_LEN_DEFAULT	1000
#define IPVLAN_X_MC_QUEUE_LEN_LIMIT	65536

/*
 * The address table: generic netlink family IPVLAN_GENL_NAME.
 *
 * IPVLAN_CMD_ADDR_GET with NLM_F_DUMP lists the addresses of the ipvlan and
 * ipvtap slaves in the requester's network namespace (the namespace a
 * slave is in, which may differ from its master's), configured or
 * learned, one message per address. IPVLAN_ADDR_A_IFINDEX in the request
 * limits the dump to that slave (ENODEV if there is none, EOPNOTSUPP if it
 * is not an ipvlan/ipvtap device). Anyone may dump. A dump that spans
 * several reads is not a snapshot: addresses may come and go meanwhile.
 *
 * Why not a list inside RTM_GETLINK: a slave may hold thousands of
 * addresses, learned from softirq without RTNL, so no size computed
 * beforehand would bound the link message, and every RTM_NEWLINK
 * notification would carry the list to every listener (iproute2, systemd-
 * networkd, Docker). A family of its own is invisible to them.
 */
#define IPVLAN_GENL_NAME	"ipvlan"
#define IPVLAN_GENL_VERSION	1

enum {
	IPVLAN_CMD_UNSPEC,
	IPVLAN_CMD_ADDR_GET,		/* dump only; replies carry this cmd */
	IPVLAN_CMD_ALLOW_GET = 2,	/* one slave's allow-list; reply: same cmd */
	IPVLAN_CMD_ALLOW_ADD = 3,	/* add prefixes; locks the slave */
	IPVLAN_CMD_ALLOW_DEL = 4,	/* remove prefixes; stays locked */
	IPVLAN_CMD_ALLOW_FLUSH = 5,	/* empty the list; stays locked */
	IPVLAN_CMD_ALLOW_UNLOCK = 6,	/* remove the list: lock off */
	__IPVLAN_CMD_MAX
};

#define IPVLAN_CMD_MAX (__IPVLAN_CMD_MAX - 1)

enum {
	IPVLAN_ADDR_A_UNSPEC,
	IPVLAN_ADDR_A_IFINDEX,		/* u32: the slave (request: filter) */
	IPVLAN_ADDR_A_INET,		/* 4 bytes, network order: IPv4 address */
	IPVLAN_ADDR_A_INET6,		/* 16 bytes: IPv6 address */
	IPVLAN_ADDR_A_ORIGIN,		/* u8: IPVLAN_ADDR_ORIGIN_* */
	IPVLAN_ADDR_A_AGE_MS,		/* u32: ms since last used, 0 if configured */
	__IPVLAN_ADDR_A_MAX
};

#define IPVLAN_ADDR_A_MAX (__IPVLAN_ADDR_A_MAX - 1)

enum {
	IPVLAN_ADDR_ORIGIN_CONFIGURED,	/* on the slave, by the host */
	IPVLAN_ADDR_ORIGIN_LEARNED,	/* from the guest's own traffic */
};

/*
 * The allow-list of a slave (the configuration lock): IPVLAN_CMD_ALLOW_*
 * of the same family. Without a list (the default) a slave behaves as
 * before. With one, even an empty one, the slave is locked:
 *
 *  - an IPv4/IPv6 address outside the list cannot be configured on the
 *    slave (the address validators refuse it with EPERM and an extack
 *    message; one the kernel adds without asking, e.g. SLAAC, is not
 *    recorded: nothing is switched to it);
 *  - a frame the slave sends (any socket, raw and packet ones included;
 *    ipvlan and ipvtap) is dropped and counted in IPVLAN_X_STATS_ALLOW_DROPS
 *    unless its IPv4/IPv6 source, its ARP sender address and the target
 *    of a neighbour advertisement are inside the list; the unspecified
 *    source (0.0.0.0, ::) passes, except in an ARP probe or a duplicate
 *    address detection solicitation for a target outside the list;
 *  - frames other than Ethernet/IPv4 ARP, IPv4 and IPv6, and VLAN-tagged
 *    ones, are dropped and counted in IPVLAN_X_STATS_ALLOW_PROTO_DROPS;
 *  - the slave's own IPv6 link-local address (EUI-64 of its MAC and its
 *    dev_id: addr_gen_mode eui64, the default) is always inside; other
 *    link-local addresses only if the list covers them;
 *  - learning (ipvtap) learns only inside the list.
 *
 * Changing the list needs CAP_NET_ADMIN over the user namespace of the
 * slave's MASTER's network namespace, wherever the slave is: root of a
 * container (its own user namespace) gets EPERM. Anyone in the slave's
 * namespace may read it. The slave is named by its ifindex in its
 * namespace: the requester's, or the one IPVLAN_ALLOW_A_NETNS_PID or
 * _NETNS_FD names (reading another namespace's slave needs CAP_NET_ADMIN
 * over it or over the master's). At most IPVLAN_ALLOW_MAX_PREFIXES
 * prefixes. Narrowing the list (DEL, FLUSH, a first ADD) is refused while
 * an address configured on the slave would fall outside it; learned
 * addresses outside it are forgotten.
 */
#define IPVLAN_ALLOW_MAX_PREFIXES	64

enum {
	IPVLAN_ALLOW_A_UNSPEC,
	IPVLAN_ALLOW_A_IFINDEX,		/* u32: the slave, in its namespace */
	IPVLAN_ALLOW_A_NETNS_PID,	/* u32: the slave's netns: a process's */
	IPVLAN_ALLOW_A_NETNS_FD,	/* u32: the slave's netns: an nsfs fd */
	IPVLAN_ALLOW_A_PREFIX,		/* struct ipvlan_allow_prefix, repeated */
	IPVLAN_ALLOW_A_LOCKED,		/* u8, report only: 1 a list is set */
	__IPVLAN_ALLOW_A_MAX
};

#define IPVLAN_ALLOW_A_MAX (__IPVLAN_ALLOW_A_MAX - 1)

/* One prefix: host bits must be zero, pad zero. */
struct ipvlan_allow_prefix {
	__u8	family;		/* AF_INET or AF_INET6 */
	__u8	prefixlen;	/* 0..32 or 0..128 */
	__u8	pad[2];
	__u8	addr[16];	/* network order; IPv4 in the first 4 bytes */
};

#endif /* _UAPI_IPVLAN_EXT_H */
