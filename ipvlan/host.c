// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host path (IFLA_IPVLAN_X_HOST, per port, off by default): the
 * master's own namespace and the slaves reach each other directly through
 * the driver, as peers on one segment, in modes l2, l3 and l3s.
 *
 * Host to slave. What the master's namespace sends leaves its stack
 * through the master's transmit path, after routing, the neighbour layer
 * and POSTROUTING (conntrack has confirmed its entry by then). An egress
 * hook (NF_NETDEV_EGRESS) on the master looks at each untagged frame:
 *
 *  - an ARP request, or an IPv6 neighbour solicitation, whose target a
 *    running slave owns is answered by the driver on the slave's behalf:
 *    an ARP reply or a neighbour advertisement with the master's MAC (the
 *    slaves share it), received on the master as if from the wire. The
 *    request goes no further. Slaves of the L3 modes are NOARP and could
 *    not answer themselves; one rule serves every mode;
 *  - an IPv4 or IPv6 packet to the master's MAC for an address a running
 *    slave owns is handed to that slave, as received on it (an ARP reply
 *    of the host, answering a slave, is one too);
 *  - everything else, every frame whose source address a slave owns (a
 *    slave's traffic leaving through the master) and every request from
 *    the unspecified source (probes, duplicate address detection: a
 *    slave's own for its tentative address, maybe) goes on to the wire.
 *
 * Slave to host. A slave's frame for an address of the master's namespace
 * enters the master's stack as if received on the master (skb->dev is the
 * master, then the receive path: PREROUTING, conntrack, rp_filter and
 * INPUT see it with iif = master):
 *
 *  - mode l2 (and the default slave of the L3 modes): unicast to the
 *    shared MAC that is not for a sibling goes there already without the
 *    setting (core.c); with it, an ARP request or neighbour solicitation
 *    whose target is the master namespace's own goes there too, instead
 *    of to the siblings and the wire, and the host's own stack answers it
 *    (its arp_ignore/arp_filter and ND rules apply). The answer leaves
 *    through the master and the egress hook hands it to the slave;
 *  - modes l3 and l3s: a packet to the shared MAC whose destination is a
 *    local address of the master's namespace goes there instead of being
 *    routed there (which delivered it through the loopback device).
 *
 * "Local address" is looked up per packet, so addresses added or removed
 * on either side take effect at once: IPv4, inet_addr_type_dev_table()
 * in the master's (l3mdev) table; IPv6, ipv6_chk_addr() on the master,
 * which takes the master's own link-local addresses and the namespace's
 * addresses of wider scope. Slaves' addresses are the port's table; their
 * link-local addresses are in it too and each slave has its own (dev_id),
 * distinct from the master's.
 *
 * The port's flags keep their meaning with the host as a peer: bridge and
 * private let the host and every slave talk (private isolates slaves from
 * each other only); vepa sends everything to the adjacent switch, the
 * host's traffic to the slaves included, so the setting does nothing
 * while the port is in vepa (it is kept, and applies again after).
 * Frames with a VLAN tag, in the frame or beside it, are left alone.
 *
 * Counters, per slave: host_rx (frames from the master's namespace handed
 * to it), host_tx (its frames handed to the master's namespace),
 * host_neigh (ARP requests and solicitations of the master's namespace
 * answered for its addresses) and host_drops (frames between it and the
 * master's namespace that could not be delivered).
 *
 * The egress hook is registered when the setting goes on and unregistered
 * when it goes off (or the port is destroyed): a master with the setting
 * off has no hook, and its own traffic pays nothing. A frame already in
 * the hook when it goes off reads the setting and passes. Registering a
 * hook changes static keys in the kernel's text (nf_hooks_needed, the
 * egress queue key) on the first such hook of the system, which QEMU's
 * multi-threaded TCG mishandles under traffic: the test harness holds
 * those keys (README "Hangs").
 *
 * Locking: port->host is written under RTNL and read with READ_ONCE();
 * host_hooked and host_ops under RTNL only. The data path runs under RCU
 * (the hook, ndo_start_xmit) with BHs off and takes no lock.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/inetdevice.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_netdev.h>
#include <net/addrconf.h>
#include <net/arp.h>
#include <net/ip6_checksum.h>
#include <net/ndisc.h>
#include <net/route.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

/**
 * ipvl_host_local - is @ip an address of the master's namespace?
 * @port: the port
 * @ip: the address
 * @is_v6: which of @ip's members is valid
 *
 * IPv4: a local address of the master's (l3mdev) table. IPv6: an address
 * of the master, or of wider than link scope in its namespace; tentative
 * ones are not. Caller holds RCU.
 */
bool ipvl_host_local(const struct ipvl_port *port, const union ipvl_ip *ip,
		     bool is_v6)
{
	struct net_device *master = port->dev;

	if (is_v6)
		return ipv6_chk_addr(dev_net(master), &ip->ip6, master, 0);
	return inet_addr_type_dev_table(dev_net(master), master, ip->ip4) ==
	       RTN_LOCAL;
}

static void ipvl_host_count(struct ipvl_dev *slave, bool rx)
{
	struct ipvl_pcpu_stats *s = this_cpu_ptr(slave->stats);

	u64_stats_update_begin(&s->syncp);
	if (rx)
		u64_stats_inc(&s->host_rx);
	else
		u64_stats_inc(&s->host_tx);
	u64_stats_update_end(&s->syncp);
}

/* Slave to host ------------------------------------------------------- */

/**
 * ipvl_host_neigh_tx - a slave's ARP request or NS for the host?
 * @port: the sending slave's port, host path active
 * @skb: a broadcast/multicast frame sent by a slave, data at Ethernet
 *
 * Return: true if it is an ARP request or an IPv6 neighbour solicitation
 * whose target is the master namespace's own, for ipvl_host_tx(). Caller
 * holds RCU.
 */
bool ipvl_host_neigh_tx(struct ipvl_port *port, const struct sk_buff *skb)
{
	struct ipvl_l3hdr h;
	union ipvl_ip target;

	if (skb_vlan_tag_present(skb) ||
	    !ipvl_parse_l3(skb, ETH_HLEN, eth_hdr(skb)->h_proto, &h))
		return false;
	if (h.is_v6) {
		if (h.nd_type != NDISC_NEIGHBOUR_SOLICITATION)
			return false;
		target.ip6 = h.nd_target;
	} else {
		if (h.arp_op != htons(ARPOP_REQUEST))
			return false;
		target = h.dst;
	}
	/* A sibling's address is the siblings' business, even when the
	 * master's namespace holds it too (a slave of its own).
	 */
	if (ipvl_addr_lookup(port, &target, h.is_v6))
		return false;
	return ipvl_host_local(port, &target, h.is_v6);
}

/**
 * ipvl_host_tx - hand a slave's frame to the master's namespace
 * @slave: the sending slave
 * @skb: the frame, data at its Ethernet header; consumed
 *
 * It is received on the master (dev_forward_skb(): scrubbed when it
 * crosses namespaces, Ethernet header pulled, through the master's
 * receive path, whose handler passes it to the stack).
 *
 * Return: NET_XMIT_SUCCESS or NET_XMIT_DROP.
 */
int ipvl_host_tx(struct ipvl_dev *slave, struct sk_buff *skb)
{
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb || dev_forward_skb(slave->port->dev, skb) != NET_RX_SUCCESS) {
		atomic64_inc(&slave->x_host_drops);
		return NET_XMIT_DROP;
	}
	ipvl_host_count(slave, false);
	return NET_XMIT_SUCCESS;
}

/* Host to slave ------------------------------------------------------- */

#if IS_ENABLED(CONFIG_NETFILTER_EGRESS)

/* The running slave owning @ip, or NULL. Caller holds RCU. */
static struct ipvl_dev *ipvl_host_owner(struct ipvl_port *port,
					const void *ip, bool is_v6)
{
	struct ipvl_addr *a = ipvl_addr_lookup(port, ip, is_v6);

	if (!a || !netif_running(a->slave->dev))
		return NULL;
	return a->slave;
}

/* A frame made here enters the master's stack as if from the wire. */
static void ipvl_host_inject(struct net_device *master, struct sk_buff *skb)
{
	skb->protocol = eth_type_trans(skb, master);
	netif_rx(skb);
}

/*
 * Answer the host's ARP request @req for @to's address, as @to would:
 * sender the slave's address and the shared MAC, to the requester.
 */
static void ipvl_host_arp_reply(struct ipvl_port *port, struct ipvl_dev *to,
				const struct sk_buff *req,
				const struct ipvl_l3hdr *h)
{
	struct net_device *master = port->dev;
	struct sk_buff *reply;
	u8 _sha[ETH_ALEN];
	const u8 *sha;

	/* The sender's MAC follows the ARP header; the parser saw it. */
	sha = skb_header_pointer(req, ETH_HLEN + sizeof(struct arphdr),
				 ETH_ALEN, _sha);
	if (!sha)
		goto drop;
	reply = arp_create(ARPOP_REPLY, ETH_P_ARP, h->src.ip4, master,
			   h->dst.ip4, sha, master->dev_addr, sha);
	if (!reply)
		goto drop;
	ipvl_host_inject(master, reply);
	atomic64_inc(&to->x_host_neigh);
	return;
drop:
	atomic64_inc(&to->x_host_drops);
}

/* ICMPv6 neighbour advertisement with a target link-layer option. */
#define IPVL_NA_OPT_LEN		8
#define IPVL_NA_LEN		(sizeof(struct nd_msg) + IPVL_NA_OPT_LEN)

/*
 * Answer the host's neighbour solicitation for @target (@to's address),
 * sent from @saddr: a solicited NA to it, or to all nodes if it came from
 * the unspecified address (duplicate address detection, RFC 4862 5.4.3).
 */
static void ipvl_host_na(struct ipvl_port *port, struct ipvl_dev *to,
			 const struct in6_addr *target,
			 const struct in6_addr *saddr)
{
	bool dad = ipv6_addr_any(saddr);
	struct net_device *master = port->dev;
	u8 dest[ETH_ALEN];
	struct ipv6hdr *ip6h;
	struct sk_buff *skb;
	struct nd_msg *msg;

	skb = alloc_skb(LL_RESERVED_SPACE(master) + sizeof(*ip6h) +
			IPVL_NA_LEN, GFP_ATOMIC);
	if (!skb)
		goto drop;
	skb_reserve(skb, LL_RESERVED_SPACE(master));
	skb_reset_network_header(skb);
	ip6h = skb_put(skb, sizeof(*ip6h));
	ip6_flow_hdr(ip6h, 0, 0);
	ip6h->payload_len = htons(IPVL_NA_LEN);
	ip6h->nexthdr = IPPROTO_ICMPV6;
	ip6h->hop_limit = 255;
	ip6h->saddr = *target;
	if (dad)
		ipv6_addr_set(&ip6h->daddr, htonl(0xff020000), 0, 0,
			      htonl(1));
	else
		ip6h->daddr = *saddr;

	skb_set_transport_header(skb, skb->len);
	msg = skb_put_zero(skb, IPVL_NA_LEN);
	msg->icmph.icmp6_type = NDISC_NEIGHBOUR_ADVERTISEMENT;
	msg->icmph.icmp6_solicited = !dad;
	msg->icmph.icmp6_override = 1;
	msg->target = *target;
	msg->opt[0] = ND_OPT_TARGET_LL_ADDR;
	msg->opt[1] = IPVL_NA_OPT_LEN / 8;
	ether_addr_copy(&msg->opt[2], master->dev_addr);
	msg->icmph.icmp6_cksum =
		csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr, IPVL_NA_LEN,
				IPPROTO_ICMPV6,
				csum_partial(msg, IPVL_NA_LEN, 0));

	if (dad)
		ipv6_eth_mc_map(&ip6h->daddr, (char *)dest);
	else
		ether_addr_copy(dest, master->dev_addr);
	skb->dev = master;
	skb->protocol = htons(ETH_P_IPV6);
	if (dev_hard_header(skb, master, ETH_P_IPV6, dest, master->dev_addr,
			    skb->len) < 0) {
		kfree_skb(skb);
		goto drop;
	}
	ipvl_host_inject(master, skb);
	atomic64_inc(&to->x_host_neigh);
	return;
drop:
	atomic64_inc(&to->x_host_drops);
}

/* Hand a frame of the master's namespace to @to, as received on it. */
static void ipvl_host_to_slave(struct ipvl_port *port, struct ipvl_dev *to,
			       struct sk_buff *skb)
{
	unsigned int len = skb->len;
	int ret;

	/* Taps on the master (tcpdump) see it leave, as they would. */
	if (dev_nit_active(port->dev))
		dev_queue_xmit_nit(skb, port->dev);
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb || !ipvl_macnat_in(to, skb)) {
		kfree_skb(skb);
		ipvl_count_rx(to, len, false, false);
		atomic64_inc(&to->x_host_drops);
		return;
	}
	ret = dev_forward_skb(to->dev, skb);
	ipvl_count_rx(to, len, ret == NET_RX_SUCCESS, false);
	if (ret == NET_RX_SUCCESS)
		ipvl_host_count(to, true);
	else
		atomic64_inc(&to->x_host_drops);
}

/*
 * True if @h's source is a slave's: the frame is a slave's own, leaving
 * through the master (broadcasts in l2, routed packets in l3). The
 * unspecified source (an ARP probe, duplicate address detection) may be a
 * slave's too, probing its own tentative address: such frames go to the
 * wire as without the host path, never answered here.
 */
static bool ipvl_host_from_slave(struct ipvl_port *port,
				 const struct ipvl_l3hdr *h)
{
	if (h->is_v6 ? ipv6_addr_any(&h->src.ip6) : !h->src.ip4)
		return true;
	return !!ipvl_addr_lookup(port, &h->src, h->is_v6);
}

static unsigned int ipvl_host_egress(void *priv, struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct ipvl_port *port = priv;
	const struct ethhdr *eth;
	struct ethhdr _eth;
	struct ipvl_l3hdr h;
	struct ipvl_dev *to;
	bool to_master;

	if (!ipvl_host_active(port, READ_ONCE(port->flags)) ||
	    skb_vlan_tag_present(skb))
		return NF_ACCEPT;
	/* Data at the Ethernet header (__dev_queue_xmit()). */
	eth = skb_header_pointer(skb, 0, sizeof(_eth), &_eth);
	if (!eth || !ipvl_parse_l3(skb, ETH_HLEN, eth->h_proto, &h))
		return NF_ACCEPT;
	to_master = ether_addr_equal(eth->h_dest, port->dev->dev_addr);

	if (h.is_v6 && h.nd_type == NDISC_NEIGHBOUR_SOLICITATION) {
		to = ipvl_host_owner(port, &h.nd_target, true);
		if (!to || ipvl_host_from_slave(port, &h))
			return NF_ACCEPT;
		ipvl_host_na(port, to, &h.nd_target, &h.src.ip6);
		consume_skb(skb);
		return NF_STOLEN;
	}
	if (h.arp_op == htons(ARPOP_REQUEST)) {
		to = ipvl_host_owner(port, &h.dst, false);
		if (!to || ipvl_host_from_slave(port, &h))
			return NF_ACCEPT;
		ipvl_host_arp_reply(port, to, skb, &h);
		consume_skb(skb);
		return NF_STOLEN;
	}
	/* IPv4, IPv6 (an NA too) and other ARP: by destination address. */
	if (!to_master)
		return NF_ACCEPT;
	to = ipvl_host_owner(port, &h.dst, h.is_v6);
	if (!to || ipvl_host_from_slave(port, &h))
		return NF_ACCEPT;
	ipvl_host_to_slave(port, to, skb);
	return NF_STOLEN;
}

/* Settings ------------------------------------------------------------ */

/**
 * ipvl_host_prepare - make the port ready for the host path
 * @port: the port
 * @extack: for the refusal message
 *
 * Registers the master's egress hook, unless it is there already (see
 * the header of this file); nothing the user sees changes. RTNL held.
 *
 * Return: 0 or a negative errno, with a message in @extack.
 */
int ipvl_host_prepare(struct ipvl_port *port, struct netlink_ext_ack *extack)
{
	int err;

	ASSERT_RTNL();
	if (port->host_hooked)
		return 0;
	/* Filled once: after an "off", a reader may still be inside the
	 * hook through the old entries, reading these fields.
	 */
	if (!port->host_ops.hook)
		port->host_ops = (struct nf_hook_ops) {
			.hook		= ipvl_host_egress,
			.dev		= port->dev,
			.priv		= port,
			.pf		= NFPROTO_NETDEV,
			.hooknum	= NF_NETDEV_EGRESS,
			/* After the host's own egress filters. */
			.priority	= INT_MAX,
		};
	err = nf_register_net_hook(dev_net(port->dev), &port->host_ops);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "cannot register the host path's egress hook on the master");
		return err;
	}
	port->host_hooked = true;
	return 0;
}

static void ipvl_host_unhook(struct ipvl_port *port)
{
	/* The hook lives on the master, in whatever namespace it is now. */
	nf_unregister_net_hook(dev_net(port->dev), &port->host_ops);
}

#else /* !CONFIG_NETFILTER_EGRESS */

int ipvl_host_prepare(struct ipvl_port *port, struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack,
		       "the host path needs a kernel with CONFIG_NETFILTER_EGRESS");
	return -EOPNOTSUPP;
}

static void ipvl_host_unhook(struct ipvl_port *port)
{
}

#endif /* CONFIG_NETFILTER_EGRESS */

/**
 * ipvl_host_set - turn the host path on or off
 * @port: the port, ipvl_host_prepare()d if @on
 * @on: the setting
 *
 * RTNL held.
 */
void ipvl_host_set(struct ipvl_port *port, bool on)
{
	ASSERT_RTNL();
	if (WARN_ON_ONCE(on && !port->host_hooked))
		return;
	WRITE_ONCE(port->host, on);
	/* Off: the hook goes, so that the master's traffic does not pass it
	 * for nothing; host_ops stays with the port, which outlives any
	 * reader still inside the hook (RCU).
	 */
	if (!on && port->host_hooked) {
		ipvl_host_unhook(port);
		port->host_hooked = false;
	}
}

/**
 * ipvl_host_port_destroy - the port goes: its egress hook too
 * @port: the port, freed after an RCU grace period
 *
 * A reader still inside the hook holds RCU, so the port outlives it.
 * RTNL held.
 */
void ipvl_host_port_destroy(struct ipvl_port *port)
{
	ASSERT_RTNL();
	WRITE_ONCE(port->host, false);
	if (!port->host_hooked)
		return;
	ipvl_host_unhook(port);
	port->host_hooked = false;
}

/* The counters IPVLAN_X_STATS_HOST_* in IFLA_IPVLAN_X_STATS. */
size_t ipvl_host_stats_size(void)
{
	return 4 * nla_total_size_64bit(sizeof(u64));
}

int ipvl_host_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	u64 rx = 0, tx = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct ipvl_pcpu_stats *s = per_cpu_ptr(slave->stats, cpu);
		unsigned int start;
		u64 r, t;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			r = u64_stats_read(&s->host_rx);
			t = u64_stats_read(&s->host_tx);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		rx += r;
		tx += t;
	}
	if (nla_put_u64_64bit(skb, IPVLAN_X_STATS_HOST_RX, rx,
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_HOST_TX, tx,
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_HOST_NEIGH,
			      atomic64_read(&slave->x_host_neigh),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_HOST_DROPS,
			      atomic64_read(&slave->x_host_drops),
			      IPVLAN_X_STATS_PAD))
		return -EMSGSIZE;
	return 0;
}
