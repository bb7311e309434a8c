// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan L3S mode: like L3, but received packets for a slave go through
 * the master namespace's IP stack, so its netfilter hooks (conntrack,
 * iptables PREROUTING/INPUT) see them.
 *
 * The master becomes an "L3 rx handler" device: ip_rcv_finish() and
 * ip6_rcv_finish() call our l3mdev_l3_rcv, which routes the packet with
 * the owning slave as input device (a local route in the slave's
 * namespace). At the end of LOCAL_IN in the master's namespace, a hook
 * hands the packet to the slave, so that sockets are looked up in the
 * slave's namespace.
 *
 * A namespace gets the hooks when a port of it first enters L3S, and keeps
 * them until the namespace (or the module) goes away; they pass on
 * everything not for an L3S port. A namespace that never had an L3S port
 * has none: its own traffic pays nothing for them. Keeping them spares
 * every later mode change the registration: it patches a static key in
 * the running kernel text (nf_hooks_needed) when it is the system's first
 * such hook, which under traffic hung guests of QEMU's multi-threaded TCG
 * (a vCPU left spinning on the patcher's int3 while the mode change
 * waited for a grace period), and unregistering costs a grace period.
 * Likewise the master keeps its l3mdev_ops from the first entry into L3S
 * until the port is destroyed; leaving L3S only clears
 * IFF_L3MDEV_RX_HANDLER.
 */

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/l3mdev.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/route.h>

#include "ipvlan.h"

struct ipvl_net {
	/* Set under RTNL; read at namespace exit, when no port is left. */
	bool		hooked;
};

static unsigned int ipvl_net_id __read_mostly;

static unsigned int ipvl_nf_input(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	struct ipvl_port *port;
	struct ipvl_dev *slave;

	if (!ipvl_is_master(skb->dev))
		return NF_ACCEPT;
	port = ipvl_port_get_rcu(skb->dev);
	if (!port || READ_ONCE(port->mode) != IPVLAN_MODE_L3S)
		return NF_ACCEPT;
	slave = ipvl_skb_dst_owner(port, skb);
	if (!slave)
		return NF_ACCEPT;

	skb->dev = slave->dev;
	skb->skb_iif = slave->dev->ifindex;
#if IS_ENABLED(CONFIG_IPV6)
	if (skb->protocol == htons(ETH_P_IPV6))
		IP6CB(skb)->iif = slave->dev->ifindex;
#endif
	ipvl_count_rx(slave, skb->len + ETH_HLEN, true, false);
	return NF_ACCEPT;
}

static const struct nf_hook_ops ipvl_nf_ops[] = {
	{
		.hook		= ipvl_nf_input,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= INT_MAX,
	},
#if IS_ENABLED(CONFIG_IPV6)
	{
		.hook		= ipvl_nf_input,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_LOCAL_IN,
		.priority	= INT_MAX,
	},
#endif
};

static struct sk_buff *ipvl_l3_rcv(struct net_device *dev, struct sk_buff *skb,
				   u16 proto)
{
	struct ipvl_port *port = ipvl_port_get_rcu(dev);
	struct ipvl_dev *slave;

	if (!port || READ_ONCE(port->mode) != IPVLAN_MODE_L3S)
		return skb;
	slave = ipvl_skb_dst_owner(port, skb);
	if (!slave)
		return skb;

	if (proto == AF_INET) {
		const struct iphdr *iph = ip_hdr(skb);

		/* On failure the master's own routing decides. */
		ipvl_route_input(skb, iph->daddr, iph->saddr, iph->tos,
				 slave->dev);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (proto == AF_INET6) {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);
		struct flowi6 fl6 = {
			.flowi6_iif	= slave->dev->ifindex,
			.daddr		= ip6h->daddr,
			.saddr		= ip6h->saddr,
			.flowlabel	= ip6_flowinfo(ip6h),
			.flowi6_mark	= skb->mark,
			.flowi6_proto	= ip6h->nexthdr,
		};
		struct dst_entry *dst;

		skb_dst_drop(skb);
		dst = ip6_route_input_lookup(dev_net(slave->dev), slave->dev,
					     &fl6, skb, RT6_LOOKUP_F_HAS_SADDR);
		skb_dst_set(skb, dst);
#endif
	}
	return skb;
}

static const struct l3mdev_ops ipvl_l3mdev_ops = {
	.l3mdev_l3_rcv	= ipvl_l3_rcv,
};

/**
 * ipvl_l3s_hooks_get - make sure @net has the LOCAL_IN hooks of L3S
 * @net: the namespace of a master
 *
 * Idempotent; the hooks stay until @net is dismantled.
 */
int ipvl_l3s_hooks_get(struct net *net)
{
	struct ipvl_net *in = net_generic(net, ipvl_net_id);
	int err;

	ASSERT_RTNL();
	if (in->hooked)
		return 0;
	err = nf_register_net_hooks(net, ipvl_nf_ops, ARRAY_SIZE(ipvl_nf_ops));
	if (!err)
		in->hooked = true;
	return err;
}

/**
 * ipvl_l3s_enter - make the master an L3 rx handler device
 * @port: port switching to L3S
 * @extack: for the refusal message
 */
int ipvl_l3s_enter(struct ipvl_port *port, struct netlink_ext_ack *extack)
{
	struct net_device *master = port->dev;
	int err;

	ASSERT_RTNL();
	if (master->l3mdev_ops && master->l3mdev_ops != &ipvl_l3mdev_ops) {
		NL_SET_ERR_MSG(extack,
			       "master already has L3 master device operations (VRF?); l3s impossible");
		return -EBUSY;
	}
	/* The namespace's first L3S port registers them. */
	err = ipvl_l3s_hooks_get(read_pnet(&port->pnet));
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register the l3s netfilter hooks");
		return err;
	}
	master->l3mdev_ops = &ipvl_l3mdev_ops;
	master->priv_flags |= IFF_L3MDEV_RX_HANDLER;
	return 0;
}

/*
 * Leave L3S. A reader still inside ipvl_l3_rcv or ipvl_nf_input sees the
 * port's new mode and lets the packet pass: no grace period to wait for.
 */
void ipvl_l3s_leave(struct ipvl_port *port)
{
	ASSERT_RTNL();
	port->dev->priv_flags &= ~IFF_L3MDEV_RX_HANDLER;
}

/* The port is going away and its rx handler is unregistered. */
void ipvl_l3s_port_destroy(struct ipvl_port *port)
{
	struct net_device *master = port->dev;

	ASSERT_RTNL();
	master->priv_flags &= ~IFF_L3MDEV_RX_HANDLER;
	if (master->l3mdev_ops == &ipvl_l3mdev_ops) {
		/* No reader can be left inside ipvl_l3_rcv after this. */
		synchronize_net();
		master->l3mdev_ops = NULL;
	}
}

static void __net_exit ipvl_net_exit(struct net *net)
{
	struct ipvl_net *in = net_generic(net, ipvl_net_id);

	if (in->hooked)
		nf_unregister_net_hooks(net, ipvl_nf_ops,
					ARRAY_SIZE(ipvl_nf_ops));
	in->hooked = false;
}

static struct pernet_operations ipvl_net_ops = {
	.exit	= ipvl_net_exit,
	.id	= &ipvl_net_id,
	.size	= sizeof(struct ipvl_net),
};

int ipvl_l3s_init(void)
{
	return register_pernet_subsys(&ipvl_net_ops);
}

void ipvl_l3s_exit(void)
{
	unregister_pernet_subsys(&ipvl_net_ops);
}
