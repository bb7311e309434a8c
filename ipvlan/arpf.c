// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan ARP filter (IFLA_IPVLAN_X_ARP_FILTER, per port, default on).
 *
 * Without it, every broadcast ARP request is copied to every slave, and
 * each slave's stack parses it and drops it unless it owns the target: the
 * cost of one request grows with the number of slaves. With it, mode l2
 * hands a broadcast ARP request (from the wire or from a slave) only to
 * the slave that owns its target, configured or learned, and to the slave
 * that owns its sender address, and to none when no slave owns either.
 * The rules:
 *
 *  - only a well-formed Ethernet/IPv4 ARP request to the broadcast MAC,
 *    with no VLAN tag in the frame or beside it, is filtered; replies,
 *    other ARP, other protocols and malformed frames go to every slave as
 *    before;
 *  - a gratuitous request or announcement (sender = target) goes to every
 *    slave: hosts move addresses with them (fail-over, VRRP);
 *  - a probe (sender 0.0.0.0) is a request like any other: it goes to the
 *    owner of the address it probes, which defends it, or to none;
 *  - a request whose sender address a slave owns also goes to that slave,
 *    whatever its target: RFC 5227 conflict detection goes on after an
 *    address is configured (n-acd in NetworkManager and systemd-networkd),
 *    and another host asking with our address as its sender is exactly the
 *    conflict it must see;
 *  - a slave in promiscuous mode (a sniffer) gets every request;
 *  - an IPv6 neighbour solicitation to a solicited-node group (33:33:ff,
 *    untagged) whose target a slave owns goes to that slave only: the
 *    multicast filter of most slaves keeps it out already, not that of a
 *    slave learning its guest's addresses, which takes every multicast.
 *    One whose target no slave owns goes where the multicast filters let
 *    it, as before. Solicitations take the walk, never the walk-free path
 *    below: what the other slaves' filters would have let through is only
 *    known by asking each;
 *  - when no running slave owns the target, slaves learning their guests'
 *    addresses get the request: their guest may own it, unknown until it
 *    speaks (and then learned from its answer);
 *  - the master's stack keeps its copy of a frame from the wire, and a
 *    request sent by a slave still leaves through the master: the filter
 *    only thins the copies for the slaves (mcast.c).
 *
 * The decision is made once per frame: one look at the header and two
 * lookups in the address table (target and sender). When no slave of the
 * port is promiscuous or learning (port->n_wild), a filtered request is
 * handed to its owners at once, where it arrives, without the backlog and
 * the walk over the slaves (mcast.c): its cost no longer grows with the
 * number of slaves. Otherwise the port's work item decides before it walks
 * the slaves and compares each with the two owners. Every copy kept back
 * is counted in port->arp_filtered (IPVLAN_X_STATS_ARP_FILTERED).
 *
 * Locking: port->arp_filter is written under RTNL (netlink.c) and read
 * here with READ_ONCE(); the owner is found under the caller's RCU read
 * lock and only compared within it.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <net/ndisc.h>

#include "ipvlan.h"

/*
 * The slave owning @ip if it is running, as the unicast switch sees it
 * (core.c, ipvl_owner()): a request for the address of a slave that is
 * down is treated like one no slave owns (the learning slaves get it), as
 * a unicast frame to it goes to the master's stack.
 */
static struct ipvl_dev *ipvl_arpf_owner(struct ipvl_port *port,
					const void *ip, bool is_v6)
{
	struct ipvl_addr *a = ipvl_addr_lookup(port, ip, is_v6);

	if (!a || !netif_running(a->slave->dev))
		return NULL;
	return a->slave;
}

/* Return: the frame goes to an IPv6 solicited-node group, untagged. */
static bool ipvl_arpf_is_snm(const struct sk_buff *skb)
{
	const struct ethhdr *eth = eth_hdr(skb);

	return eth->h_dest[0] == 0x33 && eth->h_dest[1] == 0x33 &&
	       eth->h_dest[2] == 0xff && eth->h_proto == htons(ETH_P_IPV6) &&
	       !skb_vlan_tag_present(skb);
}

/*
 * A neighbour solicitation for a target a slave owns: for that slave. The
 * sender's owner is not involved (IPv6 has no RFC 5227 watch), and no
 * walk-free path (@v->walk).
 */
static void ipvl_arpf_decide_ns(struct ipvl_port *port,
				const struct sk_buff *skb, unsigned int off,
				struct ipvl_arpf *v)
{
	struct ipvl_l3hdr h;

	if (!ipvl_parse_l3(skb, off, htons(ETH_P_IPV6), &h) ||
	    h.nd_type != NDISC_NEIGHBOUR_SOLICITATION)
		return;
	v->owner = ipvl_arpf_owner(port, &h.nd_target, true);
	v->active = !!v->owner;
	v->walk = true;
}

/* Return: the frame is a broadcast Ethernet frame holding ARP, untagged. */
static bool ipvl_arpf_is_bcast_arp(const struct sk_buff *skb)
{
	const struct ethhdr *eth = eth_hdr(skb);

	return is_broadcast_ether_addr(eth->h_dest) &&
	       eth->h_proto == htons(ETH_P_ARP) && !skb_vlan_tag_present(skb);
}

/**
 * ipvl_arpf_decide - whom the ARP filter lets a queued frame reach
 * @port: the master's port
 * @skb: a frame of the port's backlog: its data at the L3 header if it
 *	 came from the wire, at the Ethernet header if a slave sent it
 * @v: the verdict, for ipvl_arpf_skip()
 *
 * Called with BHs off and RCU held. The header is read
 * by the shared parser (parse.c) with skb_header_pointer(): the frame is
 * not pulled, so pointers the caller holds into it stay valid.
 */
void ipvl_arpf_decide(struct ipvl_port *port, const struct sk_buff *skb,
		      struct ipvl_arpf *v)
{
	unsigned int off = IPVL_SKB_CB(skb)->tx ? ETH_HLEN : 0;
	struct ipvl_l3hdr h;

	v->active = false;
	v->walk = false;
	v->owner = NULL;
	v->sender = NULL;
	if (!READ_ONCE(port->arp_filter) ||
	    READ_ONCE(port->mode) != IPVLAN_MODE_L2)
		return;
	if (ipvl_arpf_is_snm(skb)) {
		ipvl_arpf_decide_ns(port, skb, off, v);
		return;
	}
	if (!ipvl_arpf_is_bcast_arp(skb))
		return;
	if (!ipvl_parse_l3(skb, off, htons(ETH_P_ARP), &h) ||
	    h.arp_op != htons(ARPOP_REQUEST))
		return;
	if (h.src.ip4 == h.dst.ip4)
		return;		/* gratuitous: for everyone */

	v->owner = ipvl_arpf_owner(port, &h.dst.ip4, false);
	/* RFC 5227 2.4: the sender's owner watches for conflicts. */
	if (h.src.ip4)
		v->sender = ipvl_arpf_owner(port, &h.src.ip4, false);
	v->active = true;
}

/**
 * ipvl_arpf_update - count @slave in its port's running and wild slaves
 * @slave: the slave that came, opened or stopped, or changed its
 *	   promiscuity or learning
 * @gone: the slave is leaving the port: it counts as neither
 *
 * Called under RTNL. Wild slaves (promiscuous or learning, running or
 * not) keep the walk-free path off for the port. Each slave remembers
 * what it added (arpf_running, arpf_wild), so that a change costs the
 * same whatever the number of slaves: a walk over all of them here made
 * creating N slaves O(N^2).
 */
void ipvl_arpf_update(struct ipvl_dev *slave, bool gone)
{
	bool wild = !gone && ((slave->dev->flags & IFF_PROMISC) || slave->learn);
	bool running = !gone && netif_running(slave->dev);
	struct ipvl_port *port = slave->port;

	ASSERT_RTNL();
	if (running != slave->arpf_running) {
		WRITE_ONCE(port->n_running,
			   port->n_running + (running ? 1 : -1));
		slave->arpf_running = running;
	}
	if (wild != slave->arpf_wild) {
		WRITE_ONCE(port->n_wild, port->n_wild + (wild ? 1 : -1));
		slave->arpf_wild = wild;
	}
}
