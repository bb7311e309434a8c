/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Extensions of this ipvlan/ipvtap implementation: attributes of
 * IFLA_INFO_DATA for link kinds "ipvlan" and "ipvtap", and a generic
 * netlink family for the address table.
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
 * a master reports the same value).
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
 * Host path (IFLA_IPVLAN_X_HOST, per master like mode and flags; default
 * off, as upstream): the master's own namespace and the slaves reach each
 * other directly through the driver, in modes l2, l3 and l3s, IPv4 and
 * IPv6, with no route or device added. The master namespace's ARP
 * requests and neighbour solicitations for a running slave's address are
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
	__IFLA_IPVLAN_X_MAX
};

#define IFLA_IPVLAN_X_MAX (__IFLA_IPVLAN_X_MAX - 1)

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

#endif /* _UAPI_IPVLAN_EXT_H */
