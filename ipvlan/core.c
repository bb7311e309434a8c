// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan data path: the master's receive handler and the slaves' transmit.
 *
 * Slaves share the master's MAC, so frames are switched on L3 addresses:
 * the ARP target/sender, the IPv4 or IPv6 destination/source, or the target
 * of an IPv6 neighbour solicitation. Headers are read by parse.c, under
 * its rules.
 *
 * Everything here runs under RCU (rx handler, ndo_start_xmit).
 */

#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ndisc.h>
#include <net/route.h>

#include "ipvlan.h"

/* An L3 address pulled out of a frame. */
struct ipvl_l3addr {
	union ipvl_ip	ip;
	bool		is_v6;
};

/*
 * Read the address to switch on from a frame whose L3 header starts @off
 * bytes after skb->data and whose ethertype is @proto: its destination
 * (@dst) or its source. A neighbour solicitation is about its target: its
 * destination may be the solicited-node group, and during DAD it is sent
 * from ::.
 */
static bool ipvl_l3_addr(const struct sk_buff *skb, unsigned int off,
			 __be16 proto, bool dst, struct ipvl_l3addr *out)
{
	struct ipvl_l3hdr h;

	if (!ipvl_parse_l3(skb, off, proto, &h))
		return false;
	out->is_v6 = h.is_v6;
	if (h.nd_type == NDISC_NEIGHBOUR_SOLICITATION &&
	    (dst || ipv6_addr_any(&h.src.ip6)))
		out->ip.ip6 = h.nd_target;
	else
		out->ip = dst ? h.dst : h.src;
	return true;
}

/* The running slave owning @ip, or NULL. Caller holds RCU. */
static struct ipvl_dev *ipvl_owner(struct ipvl_port *port,
				   const struct ipvl_l3addr *ip)
{
	struct ipvl_addr *a = ipvl_addr_lookup(port, &ip->ip, ip->is_v6);

	if (!a || !netif_running(a->slave->dev))
		return NULL;
	return a->slave;
}

/**
 * ipvl_skb_dst_owner - running slave owning a received packet's destination
 * @port: the master's port
 * @skb: packet with its L3 header at skb->data, skb->protocol set
 *
 * Caller holds RCU.
 */
struct ipvl_dev *ipvl_skb_dst_owner(struct ipvl_port *port,
				    const struct sk_buff *skb)
{
	struct ipvl_l3addr ip;

	if (!ipvl_l3_addr(skb, 0, skb->protocol, true, &ip))
		return NULL;
	return ipvl_owner(port, &ip);
}

/* Clear what must not leak when @skb moves into @to's namespace. */
static void ipvl_cross_ns(struct sk_buff *skb, struct net_device *to)
{
	u8 pkt_type = skb->pkt_type;

	if (!net_eq(dev_net(skb->dev), dev_net(to))) {
		skb_scrub_packet(skb, true);
		skb->pkt_type = pkt_type;
	}
	skb->dev = to;
}

/* Receive path ---------------------------------------------------------- */

/*
 * A frame from the wire for a slave: hand it to the slave's stack by
 * re-running the receive loop on the slave.
 */
static rx_handler_result_t ipvl_rx_to_slave(struct sk_buff **pskb,
					    struct ipvl_dev *slave)
{
	struct sk_buff *skb = *pskb;
	unsigned int len = skb->len + ETH_HLEN;
	ktime_t tstamp;

	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		ipvl_count_rx(slave, len, false, false);
		return RX_HANDLER_CONSUMED;
	}
	if (!ipvl_macnat_in(slave, skb)) {
		kfree_skb(skb);
		ipvl_count_rx(slave, len, false, false);
		return RX_HANDLER_CONSUMED;
	}
	/* Keep the arrival time: sockets in the slave's netns may read it. */
	tstamp = skb->tstamp;
	ipvl_cross_ns(skb, slave->dev);
	skb->tstamp = tstamp;
	*pskb = skb;
	ipvl_count_rx(slave, len, true, false);
	return RX_HANDLER_ANOTHER;
}

static rx_handler_result_t ipvl_rx_unicast(struct sk_buff **pskb,
					   struct ipvl_port *port)
{
	struct sk_buff *skb = *pskb;
	struct ipvl_l3addr ip;
	struct ipvl_dev *slave;

	if (!ipvl_l3_addr(skb, 0, skb->protocol, true, &ip))
		return RX_HANDLER_PASS;
	slave = ipvl_owner(port, &ip);
	/* An address nobody owns yet: maybe a guest's DHCP lease. */
	if (!slave && !ip.is_v6)
		slave = ipvl_dhcp_rx(port, skb);
	if (!slave)
		return RX_HANDLER_PASS;
	return ipvl_rx_to_slave(pskb, slave);
}

/*
 * True if a frame seen on the master was sent by one of our own slaves
 * (e.g. reflected by a VEPA switch): it carries the master's MAC and a
 * source address a slave owns.
 */
static bool ipvl_rx_from_own_slave(struct ipvl_port *port, struct sk_buff *skb)
{
	struct ipvl_l3addr ip;

	if (!ether_addr_equal(eth_hdr(skb)->h_source, port->dev->dev_addr))
		return false;
	if (!ipvl_l3_addr(skb, 0, skb->protocol, false, &ip))
		return false;
	return !!ipvl_owner(port, &ip);
}

static rx_handler_result_t ipvl_rx_l2(struct sk_buff **pskb,
				      struct ipvl_port *port)
{
	struct sk_buff *skb = *pskb;
	struct sk_buff *nskb;

	if (!is_multicast_ether_addr(eth_hdr(skb)->h_dest))
		return ipvl_rx_unicast(pskb, port);

	/* Broadcast and multicast: the master keeps the original. */
	if (ipvl_rx_from_own_slave(port, skb))
		return RX_HANDLER_PASS;
	nskb = skb_clone(skb, GFP_ATOMIC);
	if (nskb)
		ipvl_mc_enqueue(port, nskb, 0, false);
	else
		atomic64_inc(&port->mc_dropped);
	return RX_HANDLER_PASS;
}

/*
 * The L3 modes with a default slave (default.c): it gets a copy of what
 * the wire broadcasts or multicasts, and the unicast that neither a slave
 * nor the master's namespace takes, nor a guest's DHCP transaction
 * claims. In l3s, unicast a slave owns goes through the master's stack as
 * without it (l3s.c).
 */
static rx_handler_result_t ipvl_rx_default(struct sk_buff **pskb,
					   struct ipvl_port *port,
					   struct ipvl_dev *def, bool l3s)
{
	struct sk_buff *skb = *pskb;
	struct ipvl_l3addr ip;
	struct ipvl_dev *slave;

	if (is_multicast_ether_addr(eth_hdr(skb)->h_dest)) {
		if (netif_running(def->dev) &&
		    !ipvl_rx_from_own_slave(port, skb))
			ipvl_default_rx_mc(port, def, skb);
		return RX_HANDLER_PASS;
	}
	if (!ipvl_l3_addr(skb, 0, skb->protocol, true, &ip))
		return RX_HANDLER_PASS;
	slave = ipvl_owner(port, &ip);
	if (slave)
		return l3s ? RX_HANDLER_PASS : ipvl_rx_to_slave(pskb, slave);
	/* A guest's DHCP lease comes before the default slave (dhcp.c). */
	if (!ip.is_v6) {
		slave = ipvl_dhcp_rx(port, skb);
		if (slave)
			return ipvl_rx_to_slave(pskb, slave);
	}
	if (!netif_running(def->dev) ||
	    ipvl_default_master_takes(port, &ip.ip, ip.is_v6))
		return RX_HANDLER_PASS;
	atomic64_inc(&port->default_rx);
	return ipvl_rx_to_slave(pskb, def);
}

/**
 * ipvl_handle_frame - rx_handler of a master with ipvlan slaves
 * @pskb: the received frame, data at the L3 header
 */
rx_handler_result_t ipvl_handle_frame(struct sk_buff **pskb)
{
	struct ipvl_port *port = ipvl_port_get_rcu((*pskb)->dev);
	struct ipvl_dev *def;

	if (unlikely(!port))
		return RX_HANDLER_PASS;

	switch (READ_ONCE(port->mode)) {
	case IPVLAN_MODE_L2:
		return ipvl_rx_l2(pskb, port);
	case IPVLAN_MODE_L3:
		def = rcu_dereference(port->default_slave);
		if (def)
			return ipvl_rx_default(pskb, port, def, false);
		return ipvl_rx_unicast(pskb, port);
	case IPVLAN_MODE_L3S:
		def = rcu_dereference(port->default_slave);
		if (def)
			return ipvl_rx_default(pskb, port, def, true);
		/* Everything goes through the master's stack: l3s.c. */
		return RX_HANDLER_PASS;
	}
	return RX_HANDLER_PASS;
}

/* Transmit path --------------------------------------------------------- */

/* Deliver a frame sent by a slave to a sibling slave, unless private. */
static int ipvl_tx_to_slave(struct sk_buff *skb, struct ipvl_dev *to,
			    u16 flags)
{
	unsigned int len = skb->len;
	int ret;

	if (flags & IPVLAN_F_PRIVATE) {
		kfree_skb(skb);
		return NET_XMIT_DROP;
	}
	skb = skb_share_check(skb, GFP_ATOMIC);
	if (!skb) {
		ipvl_count_rx(to, len, false, false);
		return NET_XMIT_DROP;
	}
	if (!ipvl_macnat_in(to, skb)) {
		kfree_skb(skb);
		ipvl_count_rx(to, len, false, false);
		return NET_XMIT_DROP;
	}
	ret = dev_forward_skb(to->dev, skb);
	ipvl_count_rx(to, len, ret == NET_RX_SUCCESS, false);
	return ret == NET_RX_SUCCESS ? NET_XMIT_SUCCESS : NET_XMIT_DROP;
}

static int ipvl_tx_l2(struct sk_buff *skb, struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;
	const struct ethhdr *eth = eth_hdr(skb);
	u16 flags = READ_ONCE(port->flags);
	struct ipvl_l3addr ip;
	struct ipvl_dev *to;

	if (is_multicast_ether_addr(eth->h_dest)) {
		/* The host path: a request for the host goes to its stack. */
		if (ipvl_host_active(port, flags) &&
		    ipvl_host_neigh_tx(port, skb))
			return ipvl_host_tx(slave, skb);
		ipvl_mc_enqueue(port, skb, slave->id, true);
		return NET_XMIT_SUCCESS;
	}

	if (!(flags & IPVLAN_F_VEPA) &&
	    ether_addr_equal(eth->h_dest, slave->dev->dev_addr)) {
		/* Addressed to our shared MAC: a sibling or the master. */
		if (ipvl_l3_addr(skb, ETH_HLEN, eth->h_proto, true, &ip)) {
			to = ipvl_owner(port, &ip);
			if (to)
				return ipvl_tx_to_slave(skb, to, flags);
		}
		/* The same way, counted, with the host path on. */
		if (ipvl_host_active(port, flags))
			return ipvl_host_tx(slave, skb);
		skb = skb_share_check(skb, GFP_ATOMIC);
		if (!skb)
			return NET_XMIT_DROP;
		return dev_forward_skb(port->dev, skb) == NET_RX_SUCCESS ?
		       NET_XMIT_SUCCESS : NET_XMIT_DROP;
	}

	ipvl_cross_ns(skb, port->dev);
	return dev_queue_xmit(skb);
}

/*
 * The default slave of an L3 port sends like an l2 slave, except that its
 * broadcasts and multicasts go to the wire only: no sibling listens in the
 * L3 modes.
 */
static int ipvl_tx_default(struct sk_buff *skb, struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;

	if (is_multicast_ether_addr(eth_hdr(skb)->h_dest)) {
		if (ipvl_host_active(port, READ_ONCE(port->flags)) &&
		    ipvl_host_neigh_tx(port, skb))
			return ipvl_host_tx(slave, skb);
		ipvl_cross_ns(skb, port->dev);
		return dev_queue_xmit(skb);
	}
	return ipvl_tx_l2(skb, slave);
}

static int ipvl_tx_route_v4(struct sk_buff *skb, struct net_device *master)
{
	struct net *net = dev_net(master);
	const struct iphdr *iph;
	struct flowi4 fl4 = {};
	struct rtable *rt;

	if (!pskb_network_may_pull(skb, sizeof(*iph)))
		goto drop;
	iph = ip_hdr(skb);
	if (iph->version != 4 || iph->ihl < 5)
		goto drop;
	/* ip_local_out() checksums ihl * 4 bytes: they must all be there. */
	if (!pskb_network_may_pull(skb, iph->ihl * 4))
		goto drop;
	iph = ip_hdr(skb);

	fl4.flowi4_oif = master->ifindex;
	ipvl_flowi4_set_tos(&fl4, iph->tos);
	fl4.flowi4_flags = FLOWI_FLAG_ANYSRC;
	fl4.flowi4_mark = skb->mark;
	fl4.daddr = iph->daddr;
	fl4.saddr = iph->saddr;
	rt = ip_route_output_flow(net, &fl4, NULL);
	if (IS_ERR(rt))
		goto drop;
	if (rt->rt_type != RTN_UNICAST && rt->rt_type != RTN_LOCAL) {
		ip_rt_put(rt);
		goto drop;
	}
	skb_dst_set(skb, &rt->dst);
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	return ip_local_out(net, NULL, skb);
drop:
	kfree_skb(skb);
	return NET_XMIT_DROP;
}

static int ipvl_tx_route_v6(struct sk_buff *skb, struct net_device *master)
{
	struct net *net = dev_net(master);
	const struct ipv6hdr *ip6h;
	struct flowi6 fl6 = {};
	struct dst_entry *dst;

	if (!pskb_network_may_pull(skb, sizeof(*ip6h)))
		goto drop;
	ip6h = ipv6_hdr(skb);
	if (ip6h->version != 6)
		goto drop;

	fl6.flowi6_oif = master->ifindex;
	fl6.daddr = ip6h->daddr;
	fl6.saddr = ip6h->saddr;
	fl6.flowi6_flags = FLOWI_FLAG_ANYSRC;
	fl6.flowlabel = ip6_flowinfo(ip6h);
	fl6.flowi6_mark = skb->mark;
	fl6.flowi6_proto = ip6h->nexthdr;
	dst = ip6_route_output(net, NULL, &fl6);
	if (dst->error) {
		dst_release(dst);
		goto drop;
	}
	skb_dst_set(skb, dst);
	memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
	return ip6_local_out(net, NULL, skb);
drop:
	kfree_skb(skb);
	return NET_XMIT_DROP;
}

/*
 * L3 modes: a slave's packet that is not for a sibling is routed in the
 * master's namespace. The slave's Ethernet header is meaningless there.
 */
static int ipvl_tx_routed(struct sk_buff *skb, struct ipvl_dev *slave)
{
	struct net_device *master = slave->port->dev;
	__be16 proto = eth_hdr(skb)->h_proto;

	/* A guest's ARP that l3neigh.c did not answer (a reply, an
	 * announcement, a probe) goes to the wire as in l2, and so does its
	 * broadcast DHCP DISCOVER or REQUEST (dhcp.c finds it the unicast
	 * reply): learning has policed them.
	 */
	if (READ_ONCE(slave->learn) &&
	    (proto == htons(ETH_P_ARP) ||
	     (is_broadcast_ether_addr(eth_hdr(skb)->h_dest) &&
	      ipvl_dhcp_client_msg(skb)))) {
		ipvl_cross_ns(skb, master);
		return dev_queue_xmit(skb);
	}
	if (is_multicast_ether_addr(eth_hdr(skb)->h_dest))
		goto drop;

	skb_pull(skb, ETH_HLEN);
	skb_reset_network_header(skb);
	skb->mac_header = (typeof(skb->mac_header))~0U;
	ipvl_cross_ns(skb, master);
	skb_dst_drop(skb);

	switch (proto) {
	case htons(ETH_P_IP):
		return ipvl_tx_route_v4(skb, master);
	case htons(ETH_P_IPV6):
		return ipvl_tx_route_v6(skb, master);
	}
drop:
	kfree_skb(skb);
	return NET_XMIT_DROP;
}

static int ipvl_tx_l3(struct sk_buff *skb, struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;
	u16 flags = READ_ONCE(port->flags);
	struct ipvl_l3addr ip;
	struct ipvl_dev *to;

	if (!(flags & IPVLAN_F_VEPA) &&
	    ipvl_l3_addr(skb, ETH_HLEN, eth_hdr(skb)->h_proto, true, &ip)) {
		to = ipvl_owner(port, &ip);
		/* A guest's ARP probe or announcement of its own address
		 * does not come back to it (l3neigh.c).
		 */
		if (to && !(to == slave && READ_ONCE(slave->learn)))
			return ipvl_tx_to_slave(skb, to, flags);
		/* The host path: received on the master, not routed there
		 * (which delivered it through the loopback device).
		 */
		if (ipvl_host_active(port, flags) &&
		    ether_addr_equal(eth_hdr(skb)->h_dest,
				     slave->dev->dev_addr) &&
		    ipvl_host_local(port, &ip.ip, ip.is_v6))
			return ipvl_host_tx(slave, skb);
	}
	return ipvl_tx_routed(skb, slave);
}

/**
 * ipvl_start_xmit - ndo_start_xmit of a slave
 * @skb: frame with its Ethernet header at skb->data
 * @dev: the slave
 */
netdev_tx_t ipvl_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	const struct ipvl_allow *al;
	unsigned int len = skb->len;
	int ret;

	if (unlikely(!pskb_may_pull(skb, ETH_HLEN))) {
		kfree_skb(skb);
		ret = NET_XMIT_DROP;
		goto out;
	}
	skb_reset_mac_header(skb);
	/* A tap writer's file is open while it writes: its socket cannot
	 * die here, only later, wherever the last frame is freed.
	 */
	if (slave->orphan_tx)
		skb_orphan(skb);

	/* The guest's own MAC becomes the master's first (macnat.c), so
	 * that learning sees the frame as from a guest using the master's.
	 */
	if (READ_ONCE(slave->mac_nat) && !ipvl_macnat_tx(slave, skb)) {
		kfree_skb(skb);
		ret = NET_XMIT_DROP;
		goto out;
	}

	/* A locked slave sends from its own addresses only (allow.c). */
	al = rcu_dereference_check(slave->allow, rcu_read_lock_bh_held());
	if (unlikely(al) && !ipvl_allow_tx(slave, al, skb)) {
		kfree_skb(skb);
		ret = NET_XMIT_DROP;
		goto out;
	}

	if (READ_ONCE(slave->learn) && !ipvl_learn_tx(slave, skb)) {
		kfree_skb(skb);
		ret = NET_XMIT_DROP;
		goto out;
	}

	if (READ_ONCE(slave->port->mode) == IPVLAN_MODE_L2)
		ret = ipvl_tx_l2(skb, slave);
	else if (ipvl_is_default(slave))
		ret = ipvl_tx_default(skb, slave);
	else if (READ_ONCE(slave->learn) && ipvl_neigh_answer(slave, skb))
		ret = NET_XMIT_SUCCESS;	/* answered (l3neigh.c) */
	else
		ret = ipvl_tx_l3(skb, slave);
out:
	if (likely(ret == NET_XMIT_SUCCESS || ret == NET_XMIT_CN)) {
		struct ipvl_pcpu_stats *s = this_cpu_ptr(slave->stats);

		u64_stats_update_begin(&s->syncp);
		u64_stats_inc(&s->tx_packets);
		u64_stats_add(&s->tx_bytes, len);
		u64_stats_update_end(&s->syncp);
	} else {
		this_cpu_inc(slave->stats->tx_dropped);
	}
	return NETDEV_TX_OK;
}
