// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan rtnetlink: link kind "ipvlan" with upstream's IFLA_IPVLAN_MODE and
 * IFLA_IPVLAN_FLAGS, so that iproute2, Docker, CNI and systemd-networkd
 * work unchanged. Every refusal carries an extack message.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <net/rtnetlink.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

#define IPVL_F_ALL	(IPVLAN_F_PRIVATE | IPVLAN_F_VEPA)

static struct netlink_range_validation ipvl_learn_timeout_range = {
	.min = 1,
	.max = IPVLAN_X_LEARN_TIMEOUT_LIMIT,
};

static struct netlink_range_validation ipvl_mc_queue_len_range = {
	.min = 1,
	.max = IPVLAN_X_MC_QUEUE_LEN_LIMIT,
};

/* Members of IFLA_IPVLAN_X_EXT. */
static const struct nla_policy ipvl_ext_policy[IPVLAN_X_EXT_MAX + 1] = {
	[IPVLAN_X_EXT_MAC_NAT]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IPVLAN_X_EXT_GUEST_MAC] = {
		.type = NLA_REJECT,
		.reject_message = "the guest's MAC is read-only (learned from its frames)",
	},
};

static const struct nla_policy ipvl_nl_policy[IFLA_IPVLAN_X_MAX + 1] = {
	/* Range checked in validate: upstream answers EINVAL, not ERANGE. */
	[IFLA_IPVLAN_MODE]	= { .type = NLA_U16 },
	[IFLA_IPVLAN_FLAGS]	= NLA_POLICY_MASK(NLA_U16, IPVL_F_ALL),
	[IFLA_IPVLAN_X_LEARN]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_IPVLAN_X_LEARN_MAX] =
		NLA_POLICY_RANGE(NLA_U32, 1, IPVLAN_X_LEARN_MAX_LIMIT),
	[IFLA_IPVLAN_X_LEARN_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &ipvl_learn_timeout_range),
	[IFLA_IPVLAN_X_LEARN_FLUSH] = { .type = NLA_FLAG },
	[IFLA_IPVLAN_X_LEARN_COUNT] = {
		.type = NLA_REJECT,
		.reject_message = "learned address count is read-only",
	},
	[IFLA_IPVLAN_X_STATS] = {
		.type = NLA_REJECT,
		.reject_message = "statistics are read-only",
	},
	[IFLA_IPVLAN_X_MC_QUEUE_LEN] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &ipvl_mc_queue_len_range),
	[IFLA_IPVLAN_X_ARP_FILTER] = NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_IPVLAN_X_DEFAULT]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_IPVLAN_X_HOST]	= NLA_POLICY_MAX(NLA_U8, 1),
	[IFLA_IPVLAN_X_EXT]	= NLA_POLICY_NESTED(ipvl_ext_policy),
};

static int ipvl_nl_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_ADDRESS],
					    "invalid MAC address length");
			return -EINVAL;
		}
	}
	if (data && data[IFLA_IPVLAN_MODE] &&
	    nla_get_u16(data[IFLA_IPVLAN_MODE]) >= IPVLAN_MODE_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_IPVLAN_MODE],
				    "unknown ipvlan mode (l2=0, l3=1, l3s=2)");
		return -EINVAL;
	}
	/* A new attribute: strict, before anything changes. */
	if (data && data[IFLA_IPVLAN_X_EXT]) {
		const struct nlattr *ext = data[IFLA_IPVLAN_X_EXT];
		int err;

		if (!(ext->nla_type & NLA_F_NESTED)) {
			NL_SET_ERR_MSG_ATTR(extack, ext,
					    "IFLA_IPVLAN_X_EXT needs NLA_F_NESTED");
			return -EINVAL;
		}
		err = nla_validate_nested(ext, IPVLAN_X_EXT_MAX,
					  ipvl_ext_policy, extack);
		if (err)
			return err;
	}
	if (data && data[IFLA_IPVLAN_FLAGS]) {
		u16 flags = nla_get_u16(data[IFLA_IPVLAN_FLAGS]);

		if ((flags & IPVL_F_ALL) == IPVL_F_ALL) {
			NL_SET_ERR_MSG_ATTR(extack, data[IFLA_IPVLAN_FLAGS],
					    "flags private and vepa are mutually exclusive");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Mode, flags, the multicast backlog, the ARP filter and the host path are
 * per master: the latest request wins for all slaves. RTNL held.
 */
static int ipvl_nl_apply(struct ipvl_port *port, struct nlattr *data[],
			 u16 def_mode, struct netlink_ext_ack *extack)
{
	u16 mode = def_mode;
	int err;

	ASSERT_RTNL();
	if (data && data[IFLA_IPVLAN_MODE])
		mode = nla_get_u16(data[IFLA_IPVLAN_MODE]);
	/* Refused before anything changes. */
	if (data && data[IFLA_IPVLAN_X_DEFAULT] &&
	    nla_get_u8(data[IFLA_IPVLAN_X_DEFAULT]) &&
	    mode == IPVLAN_MODE_L2) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_IPVLAN_X_DEFAULT],
				    "a default slave exists only in modes l3 and l3s");
		return -EINVAL;
	}
	/* The host path's hook, if it needs one: invisible if we fail later. */
	if (data && data[IFLA_IPVLAN_X_HOST] &&
	    nla_get_u8(data[IFLA_IPVLAN_X_HOST])) {
		err = ipvl_host_prepare(port, extack);
		if (err)
			return err;
	}
	err = ipvl_port_set_mode(port, mode, extack);
	if (err) {
		/* Off, the port has no hook: one registered above goes. */
		if (!port->host)
			ipvl_host_set(port, false);
		return err;
	}
	if (data && data[IFLA_IPVLAN_FLAGS])
		WRITE_ONCE(port->flags, nla_get_u16(data[IFLA_IPVLAN_FLAGS]));
	if (data && data[IFLA_IPVLAN_X_MC_QUEUE_LEN])
		WRITE_ONCE(port->mc_queue_len,
			   nla_get_u32(data[IFLA_IPVLAN_X_MC_QUEUE_LEN]));
	if (data && data[IFLA_IPVLAN_X_ARP_FILTER])
		WRITE_ONCE(port->arp_filter,
			   nla_get_u8(data[IFLA_IPVLAN_X_ARP_FILTER]));
	if (data && data[IFLA_IPVLAN_X_HOST])
		ipvl_host_set(port, nla_get_u8(data[IFLA_IPVLAN_X_HOST]));
	return 0;
}

/*
 * Per-slave extension settings (learning, default slave, the members of
 * IFLA_IPVLAN_X_EXT). RTNL held.
 */
static int ipvl_nl_apply_slave(struct ipvl_dev *slave, struct nlattr *data[],
			       struct netlink_ext_ack *extack)
{
	struct nlattr *ext[IPVLAN_X_EXT_MAX + 1] = {};
	int err;

	if (!data)
		return 0;
	/* Validated strictly by ipvl_nl_validate(): cannot fail here. */
	if (data[IFLA_IPVLAN_X_EXT]) {
		err = nla_parse_nested(ext, IPVLAN_X_EXT_MAX,
				       data[IFLA_IPVLAN_X_EXT], ipvl_ext_policy,
				       extack);
		if (err)
			return err;
	}
	if (data[IFLA_IPVLAN_X_LEARN_MAX])
		WRITE_ONCE(slave->learn_max,
			   nla_get_u32(data[IFLA_IPVLAN_X_LEARN_MAX]));
	if (data[IFLA_IPVLAN_X_LEARN_TIMEOUT]) {
		WRITE_ONCE(slave->learn_timeout,
			   nla_get_u32(data[IFLA_IPVLAN_X_LEARN_TIMEOUT]));
		mod_delayed_work(system_wq, &slave->age_work, 0);
	}
	if (data[IFLA_IPVLAN_X_LEARN])
		ipvl_learn_set(slave, nla_get_u8(data[IFLA_IPVLAN_X_LEARN]));
	if (data[IFLA_IPVLAN_X_LEARN_FLUSH]) {
		ipvl_addr_flush_learned(slave);
		ipvl_macnat_forget(slave);
	}
	if (ext[IPVLAN_X_EXT_MAC_NAT])
		ipvl_macnat_set(slave, nla_get_u8(ext[IPVLAN_X_EXT_MAC_NAT]));
	if (data[IFLA_IPVLAN_X_DEFAULT])
		return ipvl_default_set(slave,
					nla_get_u8(data[IFLA_IPVLAN_X_DEFAULT]),
					extack);
	return 0;
}

static struct net_device *ipvl_nl_master(struct net *net, struct nlattr *tb[],
					 struct netlink_ext_ack *extack)
{
	struct net_device *master;

	if (!tb[IFLA_LINK]) {
		NL_SET_ERR_MSG(extack, "ipvlan needs a master device (link)");
		return ERR_PTR(-EINVAL);
	}
	master = __dev_get_by_index(net, nla_get_u32(tb[IFLA_LINK]));
	if (!master) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_LINK],
				    "master device not found");
		return ERR_PTR(-ENODEV);
	}
	/*
	 * A slave of a slave lands on the real master, whose mode the new
	 * slave may change: that takes CAP_NET_ADMIN over the master's netns.
	 */
	if (ipvl_is_slave(master)) {
		struct ipvl_dev *via = netdev_priv(master);

		master = via->master;
		if (!ns_capable(dev_net(master)->user_ns, CAP_NET_ADMIN)) {
			if (rtnl_dereference(via->allow))
				atomic64_inc(&via->x_allow_refused);
			NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_LINK],
					    "a slave on this master needs CAP_NET_ADMIN in the master's namespace");
			return ERR_PTR(-EPERM);
		}
	}

	if (master->type != ARPHRD_ETHER || master->addr_len != ETH_ALEN ||
	    (master->flags & IFF_LOOPBACK)) {
		NL_SET_ERR_MSG_ATTR(extack, tb[IFLA_LINK],
				    "master must be an Ethernet device, not loopback");
		return ERR_PTR(-EINVAL);
	}
	return master;
}

int ipvl_nl_newlink(struct net *src_net, struct net_device *dev,
		    struct nlattr *tb[], struct nlattr *data[],
		    struct netlink_ext_ack *extack)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct net_device *master;
	struct ipvl_port *port;
	u16 mode;
	int err;

	ASSERT_RTNL();
	master = ipvl_nl_master(src_net, tb, extack);
	if (IS_ERR(master))
		return PTR_ERR(master);

	port = ipvl_port_attach(master, extack);
	if (IS_ERR(port))
		return PTR_ERR(port);

	slave->dev = dev;
	slave->master = master;
	slave->port = port;
	INIT_LIST_HEAD(&slave->addrs);
	/* As upstream, a requested MAC gives way to the master's. */
	eth_hw_addr_set(dev, master->dev_addr);
	/* An MTU chosen at create stays until the master's changes. */
	if (!tb[IFLA_MTU])
		dev->mtu = master->mtu;

	mode = IPVLAN_MODE_L3;
	if (data && data[IFLA_IPVLAN_MODE])
		mode = nla_get_u16(data[IFLA_IPVLAN_MODE]);
	if (mode != IPVLAN_MODE_L2)
		dev->flags |= IFF_NOARP;
	if (data && data[IFLA_IPVLAN_X_LEARN])
		slave->learn = nla_get_u8(data[IFLA_IPVLAN_X_LEARN]);

	err = register_netdevice(dev);
	if (err) {
		NL_SET_ERR_MSG(extack, "failed to register the ipvlan device");
		goto err_port;
	}
	err = netdev_upper_dev_link(master, dev, extack);
	if (err)
		goto err_unregister;

	err = ipvl_nl_apply(port, data, IPVLAN_MODE_L3, extack);
	if (err)
		goto err_unlink;
	err = ipvl_nl_apply_slave(slave, data, extack);
	if (err)
		goto err_unlink;
	netif_stacked_transfer_operstate(master, dev);
	return 0;

err_unlink:
	netdev_upper_dev_unlink(master, dev);
err_unregister:
	/* The last slave's uninit destroys the port. */
	unregister_netdevice(dev);
	return err;
err_port:
	ipvl_port_release_unused(master);
	return err;
}

/* The rtnl_link_ops callback around it (include/ipvtap_compat.h). */
IPVL_RTNL_NEWLINK(ipvl_nl_rtnl_newlink, ipvl_nl_newlink)

void ipvl_nl_dellink(struct net_device *dev, struct list_head *head)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	ASSERT_RTNL();
	netdev_upper_dev_unlink(slave->master, dev);
	unregister_netdevice_queue(dev, head);
}

static int ipvl_nl_changelink(struct net_device *dev, struct nlattr *tb[],
			      struct nlattr *data[],
			      struct netlink_ext_ack *extack)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_port *port = slave->port;
	int err;

	ASSERT_RTNL();
	if (!data)
		return 0;
	if (!ns_capable(dev_net(slave->master)->user_ns, CAP_NET_ADMIN)) {
		/* Refused locked or not; counted as the lock's when locked. */
		if (rtnl_dereference(slave->allow))
			atomic64_inc(&slave->x_allow_refused);
		NL_SET_ERR_MSG(extack,
			       "changing ipvlan settings needs CAP_NET_ADMIN in the master's namespace");
		return -EPERM;
	}
	err = ipvl_nl_apply(port, data, port->mode, extack);
	if (err)
		return err;
	return ipvl_nl_apply_slave(slave, data, extack);
}

static size_t ipvl_nl_get_size(const struct net_device *dev)
{
	return nla_total_size(sizeof(u16)) +	/* IFLA_IPVLAN_MODE */
	       nla_total_size(sizeof(u16)) +	/* IFLA_IPVLAN_FLAGS */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPVLAN_X_LEARN */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPVLAN_X_LEARN_MAX */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPVLAN_X_LEARN_TIMEOUT */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPVLAN_X_LEARN_COUNT */
	       nla_total_size(sizeof(u32)) +	/* IFLA_IPVLAN_X_MC_QUEUE_LEN */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPVLAN_X_ARP_FILTER */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPVLAN_X_DEFAULT */
	       nla_total_size(sizeof(u8)) +	/* IFLA_IPVLAN_X_HOST */
	       nla_total_size(0) +		/* IFLA_IPVLAN_X_STATS */
	       9 * nla_total_size_64bit(sizeof(u64)) +
	       ipvl_dhcp_stats_size() +
	       ipvl_host_stats_size() +
	       ipvl_allow_stats_size() +
	       ipvl_macnat_stats_size() +
	       ipvl_neigh_stats_size() +
	       nla_total_size(0) +		/* IFLA_IPVLAN_X_EXT */
	       ipvl_macnat_ext_size();
}

static int ipvl_nl_fill_stats(struct sk_buff *skb, struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;
	struct nlattr *nest = nla_nest_start(skb, IFLA_IPVLAN_X_STATS);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, IPVLAN_X_STATS_LEARNED,
			      atomic64_read(&slave->x_learned),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_EXPIRED,
			      atomic64_read(&slave->x_expired),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_SPOOF_DROPS,
			      atomic64_read(&slave->x_spoof_drops),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_MAC_DROPS,
			      atomic64_read(&slave->x_mac_drops),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_CAP_DROPS,
			      atomic64_read(&slave->x_cap_drops),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_MC_DROPS,
			      atomic64_read(&port->mc_dropped),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_ARP_FILTERED,
			      atomic64_read(&port->arp_filtered),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DEFAULT_RX,
			      atomic64_read(&port->default_rx),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_MC_INLINE,
			      atomic64_read(&port->mc_inline),
			      IPVLAN_X_STATS_PAD) ||
	    ipvl_dhcp_fill_stats(skb, slave) ||
	    ipvl_host_fill_stats(skb, slave) ||
	    ipvl_allow_fill_stats(skb, slave) ||
	    ipvl_macnat_fill_stats(skb, slave) ||
	    ipvl_neigh_fill_stats(skb, slave)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* IFLA_IPVLAN_X_EXT (50, the last number): later extensions, one nest. */
static int ipvl_nl_fill_ext(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	struct nlattr *nest = nla_nest_start(skb, IFLA_IPVLAN_X_EXT);

	if (!nest)
		return -EMSGSIZE;
	if (ipvl_macnat_fill_ext(skb, slave)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int ipvl_nl_fill_info(struct sk_buff *skb, const struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_port *port = slave->port;

	if (nla_put_u16(skb, IFLA_IPVLAN_MODE, READ_ONCE(port->mode)) ||
	    nla_put_u16(skb, IFLA_IPVLAN_FLAGS, READ_ONCE(port->flags)) ||
	    nla_put_u8(skb, IFLA_IPVLAN_X_LEARN, READ_ONCE(slave->learn)) ||
	    nla_put_u32(skb, IFLA_IPVLAN_X_LEARN_MAX,
			READ_ONCE(slave->learn_max)) ||
	    nla_put_u32(skb, IFLA_IPVLAN_X_LEARN_TIMEOUT,
			READ_ONCE(slave->learn_timeout)) ||
	    nla_put_u32(skb, IFLA_IPVLAN_X_LEARN_COUNT,
			READ_ONCE(slave->n_learned)) ||
	    nla_put_u32(skb, IFLA_IPVLAN_X_MC_QUEUE_LEN,
			READ_ONCE(port->mc_queue_len)) ||
	    nla_put_u8(skb, IFLA_IPVLAN_X_ARP_FILTER,
		       READ_ONCE(port->arp_filter)) ||
	    nla_put_u8(skb, IFLA_IPVLAN_X_DEFAULT, ipvl_is_default(slave)) ||
	    nla_put_u8(skb, IFLA_IPVLAN_X_HOST, READ_ONCE(port->host)))
		return -EMSGSIZE;
	if (ipvl_nl_fill_ext(skb, slave))
		return -EMSGSIZE;
	return ipvl_nl_fill_stats(skb, slave);
}

static struct net *ipvl_nl_get_link_net(const struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	return dev_net(slave->master);
}

/**
 * ipvl_nl_register - complete @ops with ipvlan's and register the kind
 * @ops: kind, and setup/newlink/dellink if the kind wraps ipvlan's
 * @ext_priv_size: the kind's own private area, after ipvlan's
 */
int ipvl_nl_register(struct rtnl_link_ops *ops, size_t ext_priv_size)
{
	ops->priv_size = IPVL_PRIV_SIZE + ext_priv_size;
	if (!ops->setup)
		ops->setup = ipvl_slave_setup;
	if (!ops->newlink)
		ops->newlink = ipvl_nl_rtnl_newlink;
	if (!ops->dellink)
		ops->dellink = ipvl_nl_dellink;
	ops->maxtype = IFLA_IPVLAN_X_MAX;
	ops->policy = ipvl_nl_policy;
	ops->validate = ipvl_nl_validate;
	ops->changelink = ipvl_nl_changelink;
	ops->get_size = ipvl_nl_get_size;
	ops->fill_info = ipvl_nl_fill_info;
	ops->get_link_net = ipvl_nl_get_link_net;
	return rtnl_link_register(ops);
}

static struct rtnl_link_ops ipvl_link_ops = {
	.kind		= "ipvlan",
};

int ipvl_link_register(void)
{
	return ipvl_nl_register(&ipvl_link_ops, 0);
}

void ipvl_link_unregister(void)
{
	rtnl_link_unregister(&ipvl_link_ops);
}
