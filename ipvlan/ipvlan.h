/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ipvlan: virtual devices that share their master's MAC address and are
 * told apart by their L3 addresses. Private declarations of ipvlan.ko.
 */
#ifndef _IPVLAN_IPVLAN_H
#define _IPVLAN_IPVLAN_H

#include <linux/if_link.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include "ipvtap_compat.h"

#define IPVL_DRV_VERSION	"0.1"

/* Buckets of a port's address table (power of two). */
#define IPVL_ADDR_HASH_BITS	8
#define IPVL_ADDR_HASH_SIZE	BIT(IPVL_ADDR_HASH_BITS)

/* Multicast filter: one bit per hash of a destination MAC. */
#define IPVL_MC_FILTER_BITS	8
#define IPVL_MC_FILTER_SIZE	BIT(IPVL_MC_FILTER_BITS)

/* Copies handed to slaves between two looks at the clock (mcast.c). */
#define IPVL_MC_BATCH		64

struct ipvl_allow;

/* Where an address of a slave comes from. */
enum ipvl_origin {
	IPVL_ORIGIN_CONFIGURED,		/* on the slave, by the host */
	IPVL_ORIGIN_LEARNED,		/* from the guest's own traffic */
};

/*
 * One L3 address owned by a slave. It sits on the slave's list and in the
 * port's hash table. Both are written under port->addr_lock; the hash is
 * read under RCU on the data path.
 */
struct ipvl_addr {
	struct ipvl_dev		*slave;
	union {
		struct in6_addr	ip6;
		__be32		ip4;
	};
	bool			is_v6;
	u8			origin;	/* enum ipvl_origin, addr_lock */
	unsigned long		seen;	/* jiffies of last use, learned only */
	struct hlist_node	hnode;	/* port->addr_hash, RCU */
	struct list_head	lnode;	/* slave->addrs */
	struct rcu_head		rcu;
};

/*
 * DHCP for guests (dhcp.c): the DHCPv4 transactions the guests of a port's
 * learning slaves have started, so that a server's unicast reply to an
 * address no slave owns yet finds its guest. Bounds in dhcp.c's header.
 */
#define IPVL_DHCP_XACTS			64
#define IPVL_DHCP_XACTS_PER_SLAVE	8
#define IPVL_DHCP_CHADDR_LEN		16

/* One transaction; free when slave_id is 0 or it has expired. */
struct ipvl_dhcp_xact {
	u64		slave_id;	/* ipvl_dev.id: compared, never followed */
	u64		cid_hash;	/* siphash of option 61, if has_cid */
	unsigned long	expires;	/* jiffies */
	__be32		xid;
	u8		hlen;		/* of chaddr, <= IPVL_DHCP_CHADDR_LEN */
	bool		has_cid;	/* else the client is its chaddr */
	u8		chaddr[IPVL_DHCP_CHADDR_LEN];
};

struct ipvl_dhcp_table {
	spinlock_t		lock;	/* every field of xact[], BH-safe */
	struct ipvl_dhcp_xact	xact[IPVL_DHCP_XACTS];
	/* No transaction is live from then on: written under lock, only
	 * ever later; read locklessly by the receive path, which parses no
	 * reply while it has passed.
	 */
	unsigned long		live_until;	/* jiffies */
	/* Per master, reported by every slave: */
	atomic64_t		untracked;	/* no room, or another's xid */
	atomic64_t		unmatched;	/* replies for no transaction */
	atomic64_t		rx_bad;		/* malformed replies */
};

/* Per-cpu counters of a slave. */
struct ipvl_pcpu_stats {
	u64_stats_t		rx_packets;
	u64_stats_t		rx_bytes;
	u64_stats_t		rx_multicast;
	u64_stats_t		tx_packets;
	u64_stats_t		tx_bytes;
	u64_stats_t		host_rx;	/* host.c: from the master's ns */
	u64_stats_t		host_tx;	/* host.c: to the master's ns */
	struct u64_stats_sync	syncp;
	u32			rx_errors;
	u32			rx_dropped;
	u32			tx_dropped;
};

/*
 * The state ipvlan keeps on a master device. It is the master's
 * rx_handler_data, created with the first slave and destroyed with the
 * last one, both under RTNL.
 */
struct ipvl_port {
	/* First: kfree_rcu() needs it within the first 4 KiB. */
	struct rcu_head		rcu;
	struct net_device	*dev;		/* the master */
	possible_net_t		pnet;		/* master's netns, RTNL */
	u16			mode;		/* IPVLAN_MODE_*, RTNL; read locklessly */
	u16			flags;		/* IPVLAN_F_*, RTNL; read locklessly */
	unsigned int		count;		/* registered slaves, RTNL; read locklessly */
	struct list_head	slaves;		/* RTNL writers, RCU readers */
	struct ida		ida;		/* dev_id allocator, RTNL */

	/* Address table of all slaves, up or down. */
	spinlock_t		addr_lock;
	struct hlist_head	addr_hash[IPVL_ADDR_HASH_SIZE];

	/* Deferred broadcast/multicast delivery. */
	struct sk_buff_head	backlog;	/* its own lock */
	u32			mc_queue_len;	/* backlog bound, RTNL; read locklessly */
	struct work_struct	mc_work;
	atomic64_t		mc_dropped;	/* frames no slave got, reported */
	/* Frames queued on backlog or being handed out by mc_work:
	 * incremented under backlog.lock, decremented by mc_work; while
	 * not 0, frames from the wire are not delivered inline.
	 */
	atomic_t		mc_pending;
	atomic64_t		mc_inline;	/* delivered inline, reported */

	/* ARP filter (arpf.c): read once per frame by the work item.
	 * arp_filter: written under RTNL, read locklessly;
	 * arp_filtered: the copies it kept back, reported.
	 */
	bool			arp_filter;
	atomic64_t		arp_filtered;
	/* For its walk-free path: running slaves, and slaves that take
	 * requests the filter would keep from them (promiscuous or
	 * learning, up or not). Each slave's change adds or takes its
	 * own part under RTNL (ipvl_arpf_update(), O(1): no walk per
	 * created slave), read locklessly.
	 */
	unsigned int		n_running;
	unsigned int		n_wild;

	/* The default slave of the L3 modes (default.c), or NULL: RTNL
	 * writers, RCU readers; default_rx: frames it got for being it.
	 */
	struct ipvl_dev __rcu	*default_slave;
	atomic64_t		default_rx;

	/* DHCP for guests (dhcp.c): its own lock. */
	struct ipvl_dhcp_table	dhcp;

	/* The host path (host.c). host: the setting, written under RTNL,
	 * read locklessly. host_ops: the master's egress hook, registered
	 * while the setting is on (and between ipvl_host_prepare() and
	 * the setting); host_hooked says it is. Both RTNL.
	 */
	bool			host;
	bool			host_hooked;
	struct nf_hook_ops	host_ops;
};

/* A slave device's private data. */
struct ipvl_dev {
	struct net_device	*dev;
	struct net_device	*master;	/* constant while registered */
	netdevice_tracker	master_tracker;
	struct ipvl_port	*port;		/* constant while registered */
	struct list_head	pnode;		/* port->slaves */
	struct list_head	addrs;		/* port->addr_lock */
	u64			id;		/* unique, never reused */
	DECLARE_BITMAP(mc_filter, IPVL_MC_FILTER_SIZE);	/* rx_mode, read by work */
	netdev_features_t	sfeatures;	/* features asked by user */
	struct ipvl_pcpu_stats __percpu *stats;
	bool			orphan_tx;	/* set before register, constant */
	/* What this slave adds to port->n_running and n_wild: RTNL. */
	bool			arpf_running;
	bool			arpf_wild;

	/* Guest address learning, see include/uapi/ipvlan_ext.h. */
	bool			learn;		/* RTNL; read locklessly */
	u32			learn_max;	/* RTNL; read locklessly */
	u32			learn_timeout;	/* seconds; RTNL */
	unsigned int		n_learned;	/* port->addr_lock; read locklessly */
	struct delayed_work	age_work;
	atomic64_t		x_learned;
	atomic64_t		x_expired;
	atomic64_t		x_spoof_drops;
	atomic64_t		x_mac_drops;
	atomic64_t		x_cap_drops;

	/* DHCP for guests (dhcp.c), reported. */
	atomic64_t		x_dhcp_tracked;		/* client messages noted */
	atomic64_t		x_dhcp_delivered;	/* replies handed over */
	atomic64_t		x_dhcp_bad;		/* malformed, dropped */

	/* MAC-NAT (macnat.c). mac_nat: RTNL writers, read locklessly.
	 * guest_mac: the guest's MAC as ether_addr_to_u64(), 0 while none
	 * is latched; set once by cmpxchg on the data path, cleared under
	 * RTNL (setting changed, flush).
	 */
	bool			mac_nat;
	atomic64_t		guest_mac;
	atomic64_t		x_macnat_tx;
	atomic64_t		x_macnat_rx;
	atomic64_t		x_macnat_bad;

	/* L3-mode neighbours answered for the guest (l3neigh.c). */
	atomic64_t		x_neigh_answered;
	/* The allow-list (allow.c), NULL while unlocked: written under
	 * RTNL and port->addr_lock both, read under RCU or either lock.
	 */
	struct ipvl_allow __rcu	*allow;
	atomic64_t		x_allow_drops;		/* source outside */
	atomic64_t		x_allow_proto_drops;	/* not ARP/IPv4/IPv6 */
	atomic64_t		x_allow_refused;	/* changes refused */
	/* The host path (host.c), reported; host_rx/tx are per cpu. */
	atomic64_t		x_host_neigh;	/* host's ARP/NS answered */
	atomic64_t		x_host_drops;	/* undeliverable to/from host */
};

/* Control block of frames queued on port->backlog. */
struct ipvl_skb_cb {
	u64	src_id;		/* sending slave's id, 0 if from the wire */
	bool	tx;		/* sent by a slave (data at L2 header) */
};

#define IPVL_SKB_CB(skb)	((struct ipvl_skb_cb *)&((skb)->cb[0]))

/* ipvlan's part of a device's private area; a kind's own part follows. */
#define IPVL_PRIV_SIZE	ALIGN(sizeof(struct ipvl_dev), NETDEV_ALIGN)

/* device.c */
extern const struct net_device_ops ipvl_netdev_ops;

static inline bool ipvl_is_slave(const struct net_device *dev)
{
	return dev->netdev_ops == &ipvl_netdev_ops;
}

void ipvl_slave_setup(struct net_device *dev);

/* port.c */
struct ipvl_port *ipvl_port_get_rtnl(const struct net_device *dev);
struct ipvl_port *ipvl_port_attach(struct net_device *master,
				   struct netlink_ext_ack *extack);
void ipvl_port_release_unused(struct net_device *master);
void ipvl_port_destroy(struct ipvl_port *port);
int ipvl_port_set_mode(struct ipvl_port *port, u16 mode,
		       struct netlink_ext_ack *extack);
int ipvl_slave_set_noarp(struct ipvl_dev *slave, bool noarp,
			 struct netlink_ext_ack *extack);
int ipvl_port_notifier_register(void);
void ipvl_port_notifier_unregister(void);

static inline void ipvl_count_rx(struct ipvl_dev *slave, unsigned int len,
				 bool ok, bool mcast)
{
	struct ipvl_pcpu_stats *s = this_cpu_ptr(slave->stats);

	if (likely(ok)) {
		u64_stats_update_begin(&s->syncp);
		u64_stats_inc(&s->rx_packets);
		u64_stats_add(&s->rx_bytes, len);
		if (mcast)
			u64_stats_inc(&s->rx_multicast);
		u64_stats_update_end(&s->syncp);
	} else {
		this_cpu_inc(slave->stats->rx_errors);
	}
}

/* An IPv4 or IPv6 address; which one is said beside it. */
union ipvl_ip {
	struct in6_addr	ip6;
	__be32		ip4;
};

/* The addresses of a frame's L3 header (parse.c). */
struct ipvl_l3hdr {
	union ipvl_ip	src;		/* ARP: sender */
	union ipvl_ip	dst;		/* ARP: target */
	struct in6_addr	nd_target;	/* valid if nd_type */
	u8		nd_type;	/* NS or NA (NDISC_*), or 0 */
	__be16		arp_op;		/* ARPOP_*, 0: not ARP the stack takes */
	bool		is_v6;
};

/* parse.c */
bool ipvl_parse_l3(const struct sk_buff *skb, unsigned int off, __be16 proto,
		   struct ipvl_l3hdr *h);

/* core.c */
rx_handler_result_t ipvl_handle_frame(struct sk_buff **pskb);
netdev_tx_t ipvl_start_xmit(struct sk_buff *skb, struct net_device *dev);
struct ipvl_dev *ipvl_skb_dst_owner(struct ipvl_port *port,
				    const struct sk_buff *skb);

static inline struct ipvl_port *ipvl_port_get_rcu(const struct net_device *dev)
{
	return rcu_dereference(dev->rx_handler_data);
}

static inline bool ipvl_is_master(const struct net_device *dev)
{
	return rcu_access_pointer(dev->rx_handler) == ipvl_handle_frame;
}

/* addr.c */
struct ipvl_addr *ipvl_addr_lookup(struct ipvl_port *port, const void *ip,
				   bool is_v6);
int ipvl_addr_add(struct ipvl_dev *slave, const void *ip, bool is_v6);
void ipvl_addr_del(struct ipvl_dev *slave, const void *ip, bool is_v6);
void ipvl_addr_flush(struct ipvl_dev *slave);
void ipvl_addr_flush_learned(struct ipvl_dev *slave);
int ipvl_addr_learn(struct ipvl_dev *slave, const void *ip, bool is_v6);
int ipvl_addr_set_allow(struct ipvl_dev *slave, struct ipvl_allow *al,
			union ipvl_ip *bad, bool *bad_v6);
void ipvl_addr_age(struct ipvl_dev *slave, unsigned long timeout);
unsigned int ipvl_master_addr_type4(const struct net_device *master,
				    __be32 ip);
int ipvl_addr_notifiers_register(void);
void ipvl_addr_notifiers_unregister(void);

/* mcast.c */
void ipvl_mc_enqueue(struct ipvl_port *port, struct sk_buff *skb, u64 src_id,
		     bool tx);
void ipvl_mc_work(struct work_struct *work);
void ipvl_mc_filter_sync(struct ipvl_dev *slave);
unsigned int ipvl_mc_hash(const u8 *mac);

/*
 * What the ARP filter decided for one broadcast frame. Lives on the
 * caller's stack for one walk over the slaves (or one walk-free delivery),
 * within the RCU read section that found the owners.
 */
struct ipvl_arpf {
	/* a request: for @owner and @sender only, see below */
	bool			active;
	/* a neighbour solicitation: only through the walk */
	bool			walk;
	/* running owners of the target and sender IPs, or NULL */
	struct ipvl_dev		*owner;
	struct ipvl_dev		*sender;
};

/* arpf.c */
void ipvl_arpf_decide(struct ipvl_port *port, const struct sk_buff *skb,
		      struct ipvl_arpf *v);
void ipvl_arpf_update(struct ipvl_dev *slave, bool gone);

/*
 * True if the filter keeps the frame of @v from @slave, a running slave
 * whose multicast filter takes it. The owners of the target and of the
 * sender address get it (RFC 5227). A slave in promiscuous mode (a sniffer)
 * gets everything; when no slave owns the target, the slaves that learn
 * their guests' addresses get it too: the guest may own it, unknown yet.
 */
static inline bool ipvl_arpf_skip(const struct ipvl_arpf *v,
				  const struct ipvl_dev *slave)
{
	if (!v->active || slave == v->owner || slave == v->sender)
		return false;
	if (slave->dev->flags & IFF_PROMISC)
		return false;
	return v->owner || !READ_ONCE(slave->learn);
}

/* default.c */
int ipvl_default_set(struct ipvl_dev *slave, bool on,
		     struct netlink_ext_ack *extack);
void ipvl_default_forget(struct ipvl_dev *slave);
bool ipvl_default_master_takes(struct ipvl_port *port, const union ipvl_ip *ip,
			       bool is_v6);
void ipvl_default_rx_mc(struct ipvl_port *port, struct ipvl_dev *slave,
			struct sk_buff *skb);

static inline bool ipvl_is_default(const struct ipvl_dev *slave)
{
	return rcu_access_pointer(slave->port->default_slave) == slave;
}

/* learn.c */
bool ipvl_learn_tx(struct ipvl_dev *slave, struct sk_buff *skb);
void ipvl_learn_init(struct ipvl_dev *slave);
void ipvl_learn_stop(struct ipvl_dev *slave);
void ipvl_learn_set(struct ipvl_dev *slave, bool on);

/* dhcp.c */
bool ipvl_dhcp_tx(struct ipvl_dev *slave, const struct sk_buff *skb);
bool ipvl_dhcp_client_msg(const struct sk_buff *skb);
struct ipvl_dev *ipvl_dhcp_rx(struct ipvl_port *port,
			      const struct sk_buff *skb);
void ipvl_dhcp_forget(struct ipvl_dev *slave);
void ipvl_dhcp_port_init(struct ipvl_port *port);
size_t ipvl_dhcp_stats_size(void);
int ipvl_dhcp_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave);

/* macnat.c */
bool ipvl_macnat_tx(struct ipvl_dev *slave, struct sk_buff *skb);
bool ipvl_macnat_rx(struct ipvl_dev *slave, struct sk_buff *skb);
bool ipvl_macnat_guest(const struct ipvl_dev *slave, u8 *mac);
void ipvl_macnat_set(struct ipvl_dev *slave, bool on);
void ipvl_macnat_forget(struct ipvl_dev *slave);
size_t ipvl_macnat_ext_size(void);
int ipvl_macnat_fill_ext(struct sk_buff *skb, const struct ipvl_dev *slave);
size_t ipvl_macnat_stats_size(void);
int ipvl_macnat_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave);

/*
 * The receive side of MAC-NAT for a frame handed to @slave (unshared by
 * the caller): a no-op unless the slave has it on. Return: false if the
 * frame could not be made writable (dropped by the caller).
 */
static inline bool ipvl_macnat_in(struct ipvl_dev *slave, struct sk_buff *skb)
{
	if (likely(!READ_ONCE(slave->mac_nat)))
		return true;
	return ipvl_macnat_rx(slave, skb);
}

/* l3neigh.c */
bool ipvl_neigh_answer(struct ipvl_dev *slave, struct sk_buff *skb);
size_t ipvl_neigh_stats_size(void);
int ipvl_neigh_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave);

/* host.c */
int ipvl_host_prepare(struct ipvl_port *port, struct netlink_ext_ack *extack);
void ipvl_host_set(struct ipvl_port *port, bool on);
void ipvl_host_port_destroy(struct ipvl_port *port);
bool ipvl_host_local(const struct ipvl_port *port, const union ipvl_ip *ip,
		     bool is_v6);
bool ipvl_host_neigh_tx(struct ipvl_port *port, const struct sk_buff *skb);
int ipvl_host_tx(struct ipvl_dev *slave, struct sk_buff *skb);
size_t ipvl_host_stats_size(void);
int ipvl_host_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave);

/*
 * The host path is on for @port, whose flags are @flags: not in vepa,
 * where everything goes through the adjacent switch. One READ_ONCE() when
 * it is off.
 */
static inline bool ipvl_host_active(const struct ipvl_port *port, u16 flags)
{
	return unlikely(READ_ONCE(port->host)) && !(flags & IPVLAN_F_VEPA);
}

/* l3s.c: built when CONFIG_IPVTAP_IPVLAN_L3S is (Kconfig, ipvlan/Kbuild) */
#if IS_ENABLED(CONFIG_IPVTAP_IPVLAN_L3S)
int ipvl_l3s_enter(struct ipvl_port *port, struct netlink_ext_ack *extack);
void ipvl_l3s_leave(struct ipvl_port *port);
void ipvl_l3s_port_destroy(struct ipvl_port *port);
int ipvl_l3s_hooks_get(struct net *net);
int ipvl_l3s_init(void);
void ipvl_l3s_exit(void);
#else
static inline int ipvl_l3s_enter(struct ipvl_port *port,
				 struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack,
		       "ipvlan: mode l3s is not built into this module (CONFIG_IPVTAP_IPVLAN_L3S: needs NETFILTER and NET_L3_MASTER_DEV)");
	return -EOPNOTSUPP;
}

static inline void ipvl_l3s_leave(struct ipvl_port *port) {}
static inline void ipvl_l3s_port_destroy(struct ipvl_port *port) {}
static inline int ipvl_l3s_hooks_get(struct net *net) { return 0; }
static inline int ipvl_l3s_init(void) { return 0; }
static inline void ipvl_l3s_exit(void) {}
#endif

/*
 * The allow-list of a slave (allow.c): an array of prefixes replaced
 * whole on every change and freed after a grace period.
 */
struct ipvl_allow_pfx {
	union ipvl_ip	addr;		/* host bits zero */
	u8		plen;
	bool		is_v6;
};

struct ipvl_allow {
	struct rcu_head		rcu;
	unsigned int		n;
	struct ipvl_allow_pfx	pfx[];
};

/* allow.c */
bool ipvl_allow_owns(struct ipvl_dev *slave, const struct ipvl_allow *al,
		     const void *ip, bool is_v6);
bool ipvl_allow_tx(struct ipvl_dev *slave, const struct ipvl_allow *al,
		   const struct sk_buff *skb);
int ipvl_allow_check_addr(struct ipvl_dev *slave, const void *ip, bool is_v6,
			  struct netlink_ext_ack *extack);
void ipvl_allow_free(struct ipvl_dev *slave);
size_t ipvl_allow_stats_size(void);
int ipvl_allow_fill_stats(struct sk_buff *skb, struct ipvl_dev *slave);
struct genl_info;
int ipvl_allow_nl_get(struct sk_buff *skb, struct genl_info *info);
int ipvl_allow_nl_set(struct sk_buff *skb, struct genl_info *info);
extern const struct nla_policy ipvl_allow_policy[];

/* genl.c */
extern struct genl_family ipvl_genl_family;
int ipvl_genl_init(void);
void ipvl_genl_exit(void);

/* netlink.c */
int ipvl_nl_register(struct rtnl_link_ops *ops, size_t ext_priv_size);
int ipvl_nl_newlink(struct net *src_net, struct net_device *dev,
		    struct nlattr *tb[], struct nlattr *data[],
		    struct netlink_ext_ack *extack);
void ipvl_nl_dellink(struct net_device *dev, struct list_head *head);
int ipvl_link_register(void);
void ipvl_link_unregister(void);

#endif /* _IPVLAN_IPVLAN_H */
