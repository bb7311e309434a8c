// SPDX-License-Identifier: GPL-2.0-only
/*
 * L3-mode neighbours for guests: in l3 and l3s a slave's packets are
 * routed in the master's namespace and its Ethernet header means nothing,
 * so ipvlan slaves are NOARP there and never ask. A guest behind a
 * learning slave (ipvtap's default) is an unmodified host that does: its
 * ARP requests and neighbour solicitations would go nowhere, and it could
 * not send a packet without static neighbours.
 *
 * So, for a learning slave in l3/l3s that is not the port's default slave
 * (which resolves its neighbours on the wire itself), the driver answers
 * its guest's
 *
 *  - ARP request (Ethernet/IPv4) for any unicast IPv4 address, and
 *  - neighbour solicitation for any unicast IPv6 address,
 *
 * with the master's MAC, whatever the target (an outside host, the host
 * itself, a sibling): every packet the guest sends is routed by the host
 * anyway. It does not answer what concerns the guest's own addresses:
 * probes (ARP sender 0.0.0.0) and duplicate address detection (NS from
 * ::), gratuitous ARP (sender = target), nor requests for an address the
 * slave owns. Those, and ARP replies, go on as before (ARP from a learning
 * slave to the wire, core.c). Under MAC-NAT the answer is the master's MAC
 * too, sent to the guest's own: the guest must not see its own MAC as a
 * neighbour's, and the host and its other guests are the master's MAC on
 * the guest's side as on the wire (macnat.c).
 *
 * The answer is injected into the slave's receive path with netif_rx():
 * an ipvtap's rx handler (the tap library's) queues it to /dev/tapN like
 * any frame for the guest. The NA has the router, solicited and override
 * flags: the host forwards for the guest. Each answer is counted in
 * IPVLAN_X_STATS_NEIGH_ANSWERED. Learning has seen the request first
 * (core.c): its sender is policed and learned as for any frame.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/ipv6.h>
#include <net/addrconf.h>
#include <net/ip6_checksum.h>
#include <net/ndisc.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

/* An ARP reply for Ethernet/IPv4. */
struct ipvl_neigh_arp {
	struct ethhdr	eth;
	struct arphdr	hdr;
	u8		sha[ETH_ALEN];
	__be32		sip;
	u8		tha[ETH_ALEN];
	__be32		tip;
} __packed;

/* A neighbour advertisement with a target link-layer address option. */
struct ipvl_neigh_na {
	struct ethhdr	eth;
	struct ipv6hdr	ip6;
	struct icmp6hdr	icmph;		/* struct nd_msg, without its opt[] */
	struct in6_addr	target;
	u8		opt_type;
	u8		opt_len;
	u8		opt_mac[ETH_ALEN];
} __packed;

/* True if @ip (@is_v6) is this slave's own (configured or learned). */
static bool ipvl_neigh_own(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_addr *a = ipvl_addr_lookup(slave->port, ip, is_v6);

	return a && a->slave == slave;
}

static bool ipvl_neigh_wanted4(struct ipvl_dev *slave, __be32 sip, __be32 tip)
{
	if (!sip || sip == tip)
		return false;	/* probe or announcement */
	if (ipv4_is_zeronet(tip) || ipv4_is_multicast(tip) ||
	    ipv4_is_lbcast(tip) || ipv4_is_loopback(tip))
		return false;
	return !ipvl_neigh_own(slave, &tip, false);
}

static bool ipvl_neigh_wanted6(struct ipvl_dev *slave,
			       const struct in6_addr *src,
			       const struct in6_addr *target)
{
	int type = ipv6_addr_type(target);

	if (ipv6_addr_any(src) || ipv6_addr_equal(src, target))
		return false;	/* duplicate address detection */
	if (type == IPV6_ADDR_ANY ||
	    type & (IPV6_ADDR_MULTICAST | IPV6_ADDR_LOOPBACK))
		return false;
	return !ipvl_neigh_own(slave, target, true);
}

/* The Ethernet header of an answer: to the guest, from the master. */
static void ipvl_neigh_eth(struct ipvl_dev *slave, struct ethhdr *eth,
			   __be16 proto)
{
	if (!ipvl_macnat_guest(slave, eth->h_dest))
		ether_addr_copy(eth->h_dest, slave->master->dev_addr);
	ether_addr_copy(eth->h_source, slave->master->dev_addr);
	eth->h_proto = proto;
}

/* Hand an answer built at skb->data to the slave's receive path. */
static void ipvl_neigh_deliver(struct ipvl_dev *slave, struct sk_buff *skb)
{
	unsigned int len = skb->len;

	skb->protocol = eth_type_trans(skb, slave->dev);
	skb->pkt_type = PACKET_HOST;
	atomic64_inc(&slave->x_neigh_answered);
	ipvl_count_rx(slave, len, netif_rx(skb) == NET_RX_SUCCESS, false);
}

static void ipvl_neigh_arp_reply(struct ipvl_dev *slave, __be32 sip,
				 __be32 tip)
{
	struct ipvl_neigh_arp *r;
	struct sk_buff *skb;

	skb = netdev_alloc_skb(slave->dev, sizeof(*r));
	if (!skb)
		return;
	r = skb_put_zero(skb, sizeof(*r));
	ipvl_neigh_eth(slave, &r->eth, htons(ETH_P_ARP));
	r->hdr.ar_hrd = htons(ARPHRD_ETHER);
	r->hdr.ar_pro = htons(ETH_P_IP);
	r->hdr.ar_hln = ETH_ALEN;
	r->hdr.ar_pln = 4;
	r->hdr.ar_op = htons(ARPOP_REPLY);
	memcpy(r->sha, slave->master->dev_addr, ETH_ALEN);
	r->sip = tip;
	memcpy(r->tha, r->eth.h_dest, ETH_ALEN);
	r->tip = sip;
	ipvl_neigh_deliver(slave, skb);
}

static void ipvl_neigh_na(struct ipvl_dev *slave, const struct in6_addr *src,
			  const struct in6_addr *target)
{
	const unsigned int icmp_len = sizeof(struct icmp6hdr) +
				      sizeof(struct in6_addr) + 8;
	struct ipvl_neigh_na *r;
	struct sk_buff *skb;

	skb = netdev_alloc_skb(slave->dev, sizeof(*r));
	if (!skb)
		return;
	r = skb_put_zero(skb, sizeof(*r));
	ipvl_neigh_eth(slave, &r->eth, htons(ETH_P_IPV6));
	r->ip6.version = 6;
	r->ip6.payload_len = htons(icmp_len);
	r->ip6.nexthdr = IPPROTO_ICMPV6;
	r->ip6.hop_limit = 255;
	r->ip6.saddr = *target;
	r->ip6.daddr = *src;
	r->icmph.icmp6_type = NDISC_NEIGHBOUR_ADVERTISEMENT;
	r->icmph.icmp6_router = 1;
	r->icmph.icmp6_solicited = 1;
	r->icmph.icmp6_override = 1;
	r->target = *target;
	r->opt_type = ND_OPT_TARGET_LL_ADDR;
	r->opt_len = 1;
	memcpy(r->opt_mac, slave->master->dev_addr, ETH_ALEN);
	r->icmph.icmp6_cksum = csum_ipv6_magic(target, src, icmp_len,
					       IPPROTO_ICMPV6,
					       csum_partial(&r->icmph, icmp_len,
							    0));
	ipvl_neigh_deliver(slave, skb);
}

/**
 * ipvl_neigh_answer - answer an L3 slave's guest's ARP request or NS
 * @slave: a learning slave in l3/l3s, not the default slave
 * @skb: a frame it sends, Ethernet header at skb->data
 *
 * Caller holds RCU (the transmit path). Return: true if @skb was a
 * request answered here (then consumed), false to send it on as before.
 */
bool ipvl_neigh_answer(struct ipvl_dev *slave, struct sk_buff *skb)
{
	struct ipvl_l3hdr h;

	if (!ipvl_parse_l3(skb, ETH_HLEN, eth_hdr(skb)->h_proto, &h))
		return false;
	if (!h.is_v6) {
		if (h.arp_op != htons(ARPOP_REQUEST) ||
		    !ipvl_neigh_wanted4(slave, h.src.ip4, h.dst.ip4))
			return false;
		ipvl_neigh_arp_reply(slave, h.src.ip4, h.dst.ip4);
	} else {
		if (h.nd_type != NDISC_NEIGHBOUR_SOLICITATION ||
		    !ipvl_neigh_wanted6(slave, &h.src.ip6, &h.nd_target))
			return false;
		ipvl_neigh_na(slave, &h.src.ip6, &h.nd_target);
	}
	/* Without memory for the answer the guest asks again. */
	consume_skb(skb);
	return true;
}

size_t ipvl_neigh_stats_size(void)
{
	return nla_total_size_64bit(sizeof(u64));
}

/* The counter, inside IFLA_IPVLAN_X_STATS. */
int ipvl_neigh_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	return nla_put_u64_64bit(skb, IPVLAN_X_STATS_NEIGH_ANSWERED,
				 atomic64_read(&slave->x_neigh_answered),
				 IPVLAN_X_STATS_PAD);
}
