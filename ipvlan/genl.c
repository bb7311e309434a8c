// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generic netlink family "ipvlan": the address table, whose command dumps
 * the addresses of the slaves in the requester's network namespace, one
 * message each, with origin and age; and the allow-lists of the slaves
 * (IPVLAN_CMD_ALLOW_*, handled in allow.c, each command with its own
 * policy). The uAPI is in include/uapi/ipvlan_ext.h.
 *
 * Locking: the dump walks the namespace's devices under RCU, and each
 * slave's address list under its port's addr_lock. A slave still on the
 * RCU device list has its port: the last slave's ndo_uninit destroys the
 * port only after the slave was unlisted and a grace period passed.
 */

#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

/* Where a dump stands, in netlink_callback::args. */
enum {
	IPVL_DUMP_IFINDEX,	/* the one slave asked for, 0: all */
	IPVL_DUMP_SLAVE,	/* slaves done */
	IPVL_DUMP_ADDR,		/* addresses done of the current slave */
	IPVL_DUMP_STARTED,	/* request parsed */
};

static const struct nla_policy ipvl_genl_policy[IPVLAN_ADDR_A_MAX + 1] = {
	[IPVLAN_ADDR_A_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),
	[IPVLAN_ADDR_A_INET]	= {
		.type = NLA_REJECT,
		.reject_message = "addresses are reported, not requested",
	},
	[IPVLAN_ADDR_A_INET6]	= {
		.type = NLA_REJECT,
		.reject_message = "addresses are reported, not requested",
	},
	[IPVLAN_ADDR_A_ORIGIN]	= {
		.type = NLA_REJECT,
		.reject_message = "origin is reported, not requested",
	},
	[IPVLAN_ADDR_A_AGE_MS]	= {
		.type = NLA_REJECT,
		.reject_message = "age is reported, not requested",
	},
};

static int ipvl_genl_fill(struct sk_buff *skb, struct netlink_callback *cb,
			  const struct net_device *dev,
			  const struct ipvl_addr *a)
{
	bool learned = a->origin == IPVL_ORIGIN_LEARNED;
	u32 age = 0;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ipvl_genl_family, NLM_F_MULTI, IPVLAN_CMD_ADDR_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (learned)
		age = jiffies_to_msecs(jiffies - READ_ONCE(a->seen));
	if (nla_put_u32(skb, IPVLAN_ADDR_A_IFINDEX, dev->ifindex) ||
	    (a->is_v6 ? nla_put_in6_addr(skb, IPVLAN_ADDR_A_INET6, &a->ip6) :
			nla_put_in_addr(skb, IPVLAN_ADDR_A_INET, a->ip4)) ||
	    nla_put_u8(skb, IPVLAN_ADDR_A_ORIGIN,
		       learned ? IPVLAN_ADDR_ORIGIN_LEARNED :
				 IPVLAN_ADDR_ORIGIN_CONFIGURED) ||
	    nla_put_u32(skb, IPVLAN_ADDR_A_AGE_MS, age)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Dump @slave's addresses from *@pos on, advancing *@pos. RCU held. */
static int ipvl_genl_dump_slave(struct sk_buff *skb,
				struct netlink_callback *cb,
				struct ipvl_dev *slave, long *pos)
{
	struct ipvl_port *port = slave->port;
	const struct ipvl_addr *a;
	long i = 0;
	int err = 0;

	spin_lock_bh(&port->addr_lock);
	list_for_each_entry(a, &slave->addrs, lnode) {
		if (i++ < *pos)
			continue;
		err = ipvl_genl_fill(skb, cb, slave->dev, a);
		if (err)
			break;
		(*pos)++;
	}
	spin_unlock_bh(&port->addr_lock);
	return err;
}

/* Read the request's filter into cb->args; refuse a device not ours. */
static int ipvl_genl_dump_filter(struct net *net, struct netlink_callback *cb)
{
	struct nlattr *tb[IPVLAN_ADDR_A_MAX + 1];
	struct net_device *dev;
	u32 ifindex;
	int err;

	err = nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, IPVLAN_ADDR_A_MAX,
			  ipvl_genl_policy, cb->extack);
	if (err)
		return err;
	if (!tb[IPVLAN_ADDR_A_IFINDEX])
		return 0;
	ifindex = nla_get_u32(tb[IPVLAN_ADDR_A_IFINDEX]);

	rcu_read_lock();
	dev = dev_get_by_index_rcu(net, ifindex);
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[IPVLAN_ADDR_A_IFINDEX],
				    "no such device in this namespace");
		err = -ENODEV;
	} else if (!ipvl_is_slave(dev)) {
		NL_SET_ERR_MSG_ATTR(cb->extack, tb[IPVLAN_ADDR_A_IFINDEX],
				    "not an ipvlan or ipvtap device");
		err = -EOPNOTSUPP;
	}
	rcu_read_unlock();
	cb->args[IPVL_DUMP_IFINDEX] = ifindex;
	return err;
}

static int ipvl_genl_addr_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	long ifindex, *done = &cb->args[IPVL_DUMP_SLAVE];
	struct net *net = sock_net(skb->sk);
	struct net_device *dev;
	long idx = 0;
	int err = 0;

	if (!cb->args[IPVL_DUMP_STARTED]) {
		err = ipvl_genl_dump_filter(net, cb);
		if (err)
			return err;
		cb->args[IPVL_DUMP_STARTED] = 1;
	}
	ifindex = cb->args[IPVL_DUMP_IFINDEX];

	rcu_read_lock();
	for_each_netdev_rcu(net, dev) {
		if (!ipvl_is_slave(dev) || (ifindex && dev->ifindex != ifindex))
			continue;
		if (idx++ < *done)
			continue;
		err = ipvl_genl_dump_slave(skb, cb, netdev_priv(dev),
					   &cb->args[IPVL_DUMP_ADDR]);
		if (err)
			break;
		(*done)++;
		cb->args[IPVL_DUMP_ADDR] = 0;
	}
	rcu_read_unlock();

	/* Full: the rest goes in the next message. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ? err : skb->len;
}

static const struct genl_ops ipvl_genl_ops[] = {
	{
		.cmd	= IPVLAN_CMD_ADDR_GET,
		.dumpit	= ipvl_genl_addr_dump,
		.policy	= ipvl_genl_policy,
		.maxattr = IPVLAN_ADDR_A_MAX,
	},
	{
		.cmd	= IPVLAN_CMD_ALLOW_GET,
		.doit	= ipvl_allow_nl_get,
		.policy	= ipvl_allow_policy,
		.maxattr = IPVLAN_ALLOW_A_MAX,
	},
	/* Permission: CAP_NET_ADMIN over the master's netns (allow.c). */
	{
		.cmd	= IPVLAN_CMD_ALLOW_ADD,
		.doit	= ipvl_allow_nl_set,
		.policy	= ipvl_allow_policy,
		.maxattr = IPVLAN_ALLOW_A_MAX,
	},
	{
		.cmd	= IPVLAN_CMD_ALLOW_DEL,
		.doit	= ipvl_allow_nl_set,
		.policy	= ipvl_allow_policy,
		.maxattr = IPVLAN_ALLOW_A_MAX,
	},
	{
		.cmd	= IPVLAN_CMD_ALLOW_FLUSH,
		.doit	= ipvl_allow_nl_set,
		.policy	= ipvl_allow_policy,
		.maxattr = IPVLAN_ALLOW_A_MAX,
	},
	{
		.cmd	= IPVLAN_CMD_ALLOW_UNLOCK,
		.doit	= ipvl_allow_nl_set,
		.policy	= ipvl_allow_policy,
		.maxattr = IPVLAN_ALLOW_A_MAX,
	},
};

struct genl_family ipvl_genl_family __ro_after_init = {
	.name		= IPVLAN_GENL_NAME,
	.version	= IPVLAN_GENL_VERSION,
	/* Each op has its own policy; this is the larger maxattr. */
	.maxattr	= IPVLAN_ALLOW_A_MAX,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= ipvl_genl_ops,
	.n_ops		= ARRAY_SIZE(ipvl_genl_ops),
};

int __init ipvl_genl_init(void)
{
	BUILD_BUG_ON(IPVLAN_ADDR_A_MAX > IPVLAN_ALLOW_A_MAX);
	return genl_register_family(&ipvl_genl_family);
}

void ipvl_genl_exit(void)
{
	genl_unregister_family(&ipvl_genl_family);
}
