// SPDX-License-Identifier: GPL-2.0-only
/*
 * The default slave of an L3 port (IFLA_IPVLAN_X_DEFAULT): the IPvlan
 * paper's "special L3 mode".
 *
 * In l3 and l3s no slave sees broadcast or multicast from the wire, and
 * slaves do not resolve neighbours (they are NOARP): a host whose master
 * has no address of its own cannot run DHCP or answer ARP/ND there. One
 * slave per port may be nominated to act as an L2 endpoint on the master:
 *
 *  - it receives a copy of every broadcast/multicast frame from the wire
 *    that its own multicast filter takes (the master keeps the original);
 *  - it receives unicast for addresses that no slave owns and the master's
 *    namespace does not take either (not one of its local or broadcast
 *    addresses, and the master does not forward: a router keeps what it
 *    routes); everything else goes as in the mode without it;
 *  - it resolves its neighbours itself (not NOARP) and sends like an l2
 *    slave: broadcast and multicast straight to the wire, unicast to a
 *    sibling or out through the master.
 *
 * Every frame handed to it for being the default is counted in
 * IPVLAN_X_STATS_DEFAULT_RX (per port). In l2 it means nothing: setting it
 * is refused, and a port switched to l2 forgets it. Deleting the slave
 * clears it.
 */

#include <linux/etherdevice.h>
#include <linux/inetdevice.h>
#include <net/addrconf.h>
#include <net/route.h>

#include "ipvlan.h"

/**
 * ipvl_default_set - nominate @slave as its port's default slave, or not
 * @slave: the slave a request names
 * @on: nominate it; false clears it if it is the default
 * @extack: for the refusal message
 *
 * The previous default, if another slave, goes back to NOARP. Nothing
 * changes on a refusal. RTNL held.
 *
 * Return: 0 or a negative errno.
 */
int ipvl_default_set(struct ipvl_dev *slave, bool on,
		     struct netlink_ext_ack *extack)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_dev *old;
	int err;

	ASSERT_RTNL();
	old = rtnl_dereference(port->default_slave);
	if (!on) {
		if (old != slave)
			return 0;
		RCU_INIT_POINTER(port->default_slave, NULL);
		if (ipvl_slave_set_noarp(slave, true, NULL))
			netdev_warn(slave->dev, "ipvlan: cannot set NOARP again\n");
		return 0;
	}
	if (port->mode == IPVLAN_MODE_L2) {
		NL_SET_ERR_MSG(extack,
			       "a default slave exists only in modes l3 and l3s");
		return -EINVAL;
	}
	if (old == slave)
		return 0;
	err = ipvl_slave_set_noarp(slave, false, extack);
	if (err)
		return err;
	rcu_assign_pointer(port->default_slave, slave);
	if (old && ipvl_slave_set_noarp(old, true, NULL))
		netdev_warn(old->dev, "ipvlan: cannot set NOARP again\n");
	return 0;
}

/**
 * ipvl_default_forget - @slave goes away, or its port leaves the L3 modes
 * @slave: a slave; nothing happens unless it is its port's default
 *
 * Readers under RCU may still use it until a grace period has passed: the
 * caller's unregister waits for one before the slave is freed. RTNL held.
 */
void ipvl_default_forget(struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;

	ASSERT_RTNL();
	if (rtnl_dereference(port->default_slave) == slave)
		RCU_INIT_POINTER(port->default_slave, NULL);
}

/* True if the master's namespace takes @ip4 itself. Caller holds RCU. */
static bool ipvl_default_master_takes4(struct net_device *master, __be32 ip4)
{
	struct in_device *in_dev = __in_dev_get_rcu(master);

	if (!in_dev)
		return false;
	if (IN_DEV_FORWARD(in_dev))
		return true;
	return ipvl_master_addr_type4(master, ip4) != RTN_UNICAST;
}

/* True if the master's namespace takes @ip6 itself. Caller holds RCU. */
static bool ipvl_default_master_takes6(struct net_device *master,
				       const struct in6_addr *ip6)
{
	struct inet6_dev *idev = __in6_dev_get(master);

	if (!idev)
		return false;
	if (READ_ONCE(idev->cnf.forwarding) || ipv6_addr_is_multicast(ip6))
		return true;
	return ipv6_chk_addr(dev_net(master), ip6, NULL, 0);
}

/**
 * ipvl_default_master_takes - unicast for an address no slave owns: master's?
 * @port: the port
 * @ip: the destination address of the frame
 * @is_v6: which of @ip's members is valid
 *
 * Caller holds RCU.
 *
 * Return: true if the master's namespace keeps the frame, false if the
 * default slave gets it.
 */
bool ipvl_default_master_takes(struct ipvl_port *port, const union ipvl_ip *ip,
			       bool is_v6)
{
	if (is_v6)
		return ipvl_default_master_takes6(port->dev, &ip->ip6);
	return ipvl_default_master_takes4(port->dev, ip->ip4);
}

/**
 * ipvl_default_rx_mc - a copy of a broadcast/multicast frame to @slave
 * @port: the port it came in on
 * @slave: the port's default slave, running
 * @skb: the frame from the wire, data at its L3 header; not consumed
 *
 * The copy goes through the backlog of this CPU, as a frame received on
 * the slave. Caller holds RCU.
 */
void ipvl_default_rx_mc(struct ipvl_port *port, struct ipvl_dev *slave,
			struct sk_buff *skb)
{
	const u8 *dest = eth_hdr(skb)->h_dest;
	unsigned int len = skb->len + ETH_HLEN;
	struct sk_buff *nskb;

	if (!test_bit(ipvl_mc_hash(dest), slave->mc_filter))
		return;
	nskb = skb_clone(skb, GFP_ATOMIC);
	if (!nskb) {
		ipvl_count_rx(slave, len, false, true);
		return;
	}
	if (!net_eq(dev_net(nskb->dev), dev_net(slave->dev)))
		skb_scrub_packet(nskb, true);
	nskb->pkt_type = is_broadcast_ether_addr(dest) ? PACKET_BROADCAST :
							 PACKET_MULTICAST;
	nskb->dev = slave->dev;
	if (!ipvl_macnat_in(slave, nskb)) {
		kfree_skb(nskb);
		ipvl_count_rx(slave, len, false, true);
		return;
	}
	atomic64_inc(&port->default_rx);
	ipvl_count_rx(slave, len, netif_rx(nskb) == NET_RX_SUCCESS, true);
}
