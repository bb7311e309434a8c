// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API ipvlan.ko exports to link kinds built on it (ipvtap.ko), all in
 * this file and declared in include/ipvlan_api.h. Each export is a thin
 * door into the file that does the work; nothing else of ipvlan.ko is
 * exported.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#include "ipvlan.h"
#include "ipvlan_api.h"

int ipvl_kind_register(struct rtnl_link_ops *ops, size_t ext_priv_size)
{
	return ipvl_nl_register(ops, ext_priv_size);
}
EXPORT_SYMBOL_GPL(ipvl_kind_register);

void ipvl_kind_unregister(struct rtnl_link_ops *ops)
{
	rtnl_link_unregister(ops);
}
EXPORT_SYMBOL_GPL(ipvl_kind_unregister);

void ipvl_kind_setup(struct net_device *dev)
{
	ipvl_slave_setup(dev);
}
EXPORT_SYMBOL_GPL(ipvl_kind_setup);

int ipvl_kind_newlink(struct net *src_net, struct net_device *dev,
		      struct nlattr *tb[], struct nlattr *data[],
		      struct netlink_ext_ack *extack)
{
	return ipvl_nl_newlink(src_net, dev, tb, data, extack);
}
EXPORT_SYMBOL_GPL(ipvl_kind_newlink);

void ipvl_kind_dellink(struct net_device *dev, struct list_head *head)
{
	ipvl_nl_dellink(dev, head);
}
EXPORT_SYMBOL_GPL(ipvl_kind_dellink);

void *ipvl_kind_priv(const struct net_device *dev)
{
	return (u8 *)netdev_priv(dev) + IPVL_PRIV_SIZE;
}
EXPORT_SYMBOL_GPL(ipvl_kind_priv);

void ipvl_kind_learn_default(struct net_device *dev, bool on)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	WARN_ON_ONCE(dev->reg_state != NETREG_UNINITIALIZED);
	slave->learn = on;
}
EXPORT_SYMBOL_GPL(ipvl_kind_learn_default);

void ipvl_kind_orphan_tx(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	WARN_ON_ONCE(dev->reg_state != NETREG_UNINITIALIZED);
	slave->orphan_tx = true;
}
EXPORT_SYMBOL_GPL(ipvl_kind_orphan_tx);

void ipvl_kind_set_offered_features(struct net_device *dev,
				    netdev_features_t features)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	ASSERT_RTNL();
	slave->sfeatures = features;
	netdev_update_features(dev);
}
EXPORT_SYMBOL_GPL(ipvl_kind_set_offered_features);

void ipvl_kind_count_rx_dropped(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	this_cpu_inc(slave->stats->rx_dropped);
}
EXPORT_SYMBOL_GPL(ipvl_kind_count_rx_dropped);

void ipvl_kind_count_tx_dropped(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	this_cpu_inc(slave->stats->tx_dropped);
}
EXPORT_SYMBOL_GPL(ipvl_kind_count_tx_dropped);
