// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest address learning: a slave with learning on (ipvtap's default)
 * learns the IPv4/IPv6 addresses its guest uses from the frames the guest
 * sends, and polices them. See include/uapi/ipvlan_ext.h for the rules.
 *
 * A locked slave's frames reach learning only if their addresses are
 * inside its allow-list (allow.c runs first), so nothing outside it is
 * learned; ipvl_addr_learn() checks again under the table's lock.
 *
 * The transmit path does one RCU lookup per source address; it allocates
 * and takes port->addr_lock only for an address it has not seen yet, and
 * writes an entry's timestamp at most once per second.
 */

#include <linux/etherdevice.h>
#include <linux/inetdevice.h>
#include <linux/ipv6.h>
#include <net/addrconf.h>
#include <net/ndisc.h>
#include <net/route.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

/* Up to two addresses a frame speaks for (IPv6 source + NA target). */
struct ipvl_srcs {
	union ipvl_ip	a[2];
	unsigned int	n;
	bool		is_v6;
};

/*
 * Collect the source addresses of a frame sent by a guest: the ARP sender,
 * the IPv4/IPv6 source, and the target of a neighbour advertisement (the
 * guest announces it owns it).
 */
static void ipvl_learn_srcs(const struct sk_buff *skb, struct ipvl_srcs *s)
{
	struct ipvl_l3hdr h;

	s->n = 0;
	if (!ipvl_parse_l3(skb, ETH_HLEN, eth_hdr(skb)->h_proto, &h))
		return;
	s->is_v6 = h.is_v6;
	s->a[s->n++] = h.src;
	if (h.nd_type == NDISC_NEIGHBOUR_ADVERTISEMENT)
		s->a[s->n++].ip6 = h.nd_target;
}

/* Unspecified, multicast, broadcast, loopback and similar: never learned. */
static bool ipvl_learnable4(__be32 ip)
{
	return !ipv4_is_zeronet(ip) && !ipv4_is_multicast(ip) &&
	       !ipv4_is_lbcast(ip) && !ipv4_is_loopback(ip);
}

static bool ipvl_learnable6(const struct in6_addr *ip)
{
	int type = ipv6_addr_type(ip);

	return !(type & (IPV6_ADDR_MULTICAST | IPV6_ADDR_LOOPBACK |
			 IPV6_ADDR_MAPPED)) && type != IPV6_ADDR_ANY;
}

/*
 * What the master's namespace says about @ip: its own address (local, or
 * a broadcast or anycast address of its routes) is never a guest's.
 */
static bool ipvl_master_owns(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct net *net = dev_net(slave->master);

	if (is_v6)
		return ipv6_chk_addr(net, ip, NULL, 0);
	switch (ipvl_master_addr_type4(slave->master, *(const __be32 *)ip)) {
	case RTN_LOCAL:
	case RTN_BROADCAST:
	case RTN_MULTICAST:
	case RTN_ANYCAST:
		return true;
	}
	return false;
}

/*
 * Police and learn one source address. Returns false if the frame must be
 * dropped.
 */
static bool ipvl_learn_one(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_addr *a;
	int err;

	if (is_v6 ? !ipvl_learnable6(ip) : !ipvl_learnable4(*(const __be32 *)ip))
		return true;

	a = ipvl_addr_lookup(slave->port, ip, is_v6);
	if (a) {
		if (a->slave != slave)
			goto spoof;
		if (a->origin == IPVL_ORIGIN_LEARNED &&
		    time_after(jiffies, READ_ONCE(a->seen) + HZ))
			WRITE_ONCE(a->seen, jiffies);
		return true;
	}

	/*
	 * The host's own addresses are not for a guest to take, nor to send
	 * from. Link-local is the exception: a guest using the master's MAC
	 * derives the master's EUI-64 link-local, and neighbour discovery
	 * needs it; it is used, never learned.
	 */
	if (ipvl_master_owns(slave, ip, is_v6)) {
		if (is_v6 && ipv6_addr_type(ip) & IPV6_ADDR_LINKLOCAL)
			return true;
		goto spoof;
	}

	err = ipvl_addr_learn(slave, ip, is_v6);
	switch (err) {
	case 0:
		atomic64_inc(&slave->x_learned);
		schedule_delayed_work(&slave->age_work, 0);
		return true;
	case -EADDRINUSE:
		goto spoof;
	case -ENOSPC:
		atomic64_inc(&slave->x_cap_drops);
		return false;
	case -EPERM:
		/* Outside the allow-list: the list changed since allow.c
		 * let the frame through.
		 */
		atomic64_inc(&slave->x_allow_drops);
		return false;
	}
	/* -ENOMEM: let the frame go, learn on a later one. */
	return true;

spoof:
	atomic64_inc(&slave->x_spoof_drops);
	if (is_v6)
		net_info_ratelimited("%s: dropped frame from %pI6c, owned by the host or another ipvlan slave\n",
				     slave->dev->name, ip);
	else
		net_info_ratelimited("%s: dropped frame from %pI4, owned by the host or another ipvlan slave\n",
				     slave->dev->name, ip);
	return false;
}

/**
 * ipvl_learn_tx - police and learn a frame a guest sends
 * @slave: the slave, with learning on
 * @skb: the frame, Ethernet header at skb->data
 *
 * Return: false if the frame must be dropped (already counted).
 */
bool ipvl_learn_tx(struct ipvl_dev *slave, struct sk_buff *skb)
{
	struct ipvl_srcs s;
	unsigned int i;

	if (unlikely(!ether_addr_equal(eth_hdr(skb)->h_source,
				       slave->master->dev_addr))) {
		atomic64_inc(&slave->x_mac_drops);
		net_info_ratelimited("%s: dropped frame from %pM: guests must use the master's MAC %pM\n",
				     slave->dev->name, eth_hdr(skb)->h_source,
				     slave->master->dev_addr);
		return false;
	}

	ipvl_learn_srcs(skb, &s);
	for (i = 0; i < s.n; i++) {
		if (!ipvl_learn_one(slave, &s.a[i], s.is_v6))
			return false;
	}
	/* A DHCP transaction its guest starts (dhcp.c). */
	return ipvl_dhcp_tx(slave, skb);
}

/* Age work: forget idle learned addresses, rerun while some are left. */
static void ipvl_learn_age_work(struct work_struct *work)
{
	struct ipvl_dev *slave = container_of(to_delayed_work(work),
					      struct ipvl_dev, age_work);
	unsigned long timeout = READ_ONCE(slave->learn_timeout) * HZ;

	ipvl_addr_age(slave, timeout);
	if (READ_ONCE(slave->n_learned))
		schedule_delayed_work(&slave->age_work,
				      max_t(unsigned long, HZ, timeout / 4));
}

void ipvl_learn_init(struct ipvl_dev *slave)
{
	slave->learn_max = IPVLAN_X_LEARN_MAX_DEFAULT;
	slave->learn_timeout = IPVLAN_X_LEARN_TIMEOUT_DEFAULT;
	INIT_DELAYED_WORK(&slave->age_work, ipvl_learn_age_work);
}

/* The slave is going away: no transmit can re-arm the work any more. */
void ipvl_learn_stop(struct ipvl_dev *slave)
{
	cancel_delayed_work_sync(&slave->age_work);
}

/*
 * Turn learning on or off. A learning slave hears all multicast, as its
 * guest's groups are unknown to the host; off, learned addresses go.
 */
void ipvl_learn_set(struct ipvl_dev *slave, bool on)
{
	struct net_device *dev = slave->dev;

	ASSERT_RTNL();
	if (on == slave->learn)
		return;
	WRITE_ONCE(slave->learn, on);
	ipvl_arpf_update(slave, false);
	if (dev->flags & IFF_UP)
		dev_set_allmulti(slave->master, on ? 1 : -1);
	if (!on) {
		ipvl_addr_flush_learned(slave);
		ipvl_dhcp_forget(slave);
	}
	netif_addr_lock_bh(dev);
	ipvl_mc_filter_sync(slave);
	netif_addr_unlock_bh(dev);
}
