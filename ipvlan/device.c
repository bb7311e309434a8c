// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan slave device: its net_device and ethtool operations, and the
 * setup every ipvlan-based kind starts from.
 *
 * Locking: ndo_init/ndo_uninit run under RTNL (asserted) and are where a
 * slave joins and leaves its port's list; the other operations are
 * called by the core with its own rules (RTNL for open/stop/features,
 * the address list lock for set_rx_mode).
 */

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>

#include "ipvlan.h"

#define IPVL_FEATURES \
	(NETIF_F_SG | NETIF_F_CSUM_MASK | NETIF_F_HIGHDMA | NETIF_F_FRAGLIST | \
	 NETIF_F_GSO | NETIF_F_ALL_TSO | NETIF_F_GSO_ROBUST | \
	 NETIF_F_GRO | NETIF_F_RXCSUM)

/* Offloads a slave can do whatever the master does: the master segments. */
#define IPVL_SOFT_FEATURES	(NETIF_F_GSO | NETIF_F_GSO_SOFTWARE | NETIF_F_GRO)

#define IPVL_ALWAYS_ON		(IPVL_F_LLTX | NETIF_F_VLAN_CHALLENGED)

#define IPVL_STATE_MASK \
	(BIT(__LINK_STATE_NOCARRIER) | BIT(__LINK_STATE_DORMANT))

static struct lock_class_key ipvl_addr_lock_key;

/* Source of slave ids; 0 means "from the wire". */
static atomic64_t ipvl_next_id = ATOMIC64_INIT(0);

static int ipvl_init(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct net_device *master = slave->master;
	struct ipvl_port *port = slave->port;
	int id;

	ASSERT_RTNL();
	dev->state = (dev->state & ~IPVL_STATE_MASK) |
		     (master->state & IPVL_STATE_MASK);
	dev->features = master->features & IPVL_FEATURES;
	dev->features |= IPVL_ALWAYS_ON | IPVL_SOFT_FEATURES;
	dev->vlan_features = master->vlan_features & IPVL_FEATURES;
	dev->vlan_features |= IPVL_ALWAYS_ON;
	dev->hw_enc_features |= dev->features;
	netif_inherit_tso_max(dev, master);
	dev->hard_header_len = master->hard_header_len;
	dev->needed_headroom = master->needed_headroom;
	dev->needed_tailroom = master->needed_tailroom;

	ipvl_set_lltx(dev);
	ipvl_lockdep_set_classes(dev);
	lockdep_set_class(&dev->addr_list_lock, &ipvl_addr_lock_key);

	slave->stats = netdev_alloc_pcpu_stats(struct ipvl_pcpu_stats);
	if (!slave->stats)
		return -ENOMEM;

	/* A distinct dev_id gives each slave its own IPv6 link-local. */
	id = ida_alloc_range(&port->ida, 1, 0xfffe, GFP_KERNEL);
	if (id < 0) {
		free_percpu(slave->stats);
		slave->stats = NULL;
		return id;
	}
	dev->dev_id = id;
	slave->id = atomic64_inc_return(&ipvl_next_id);

	netdev_hold(master, &slave->master_tracker, GFP_KERNEL);
	WRITE_ONCE(port->count, port->count + 1);
	list_add_tail_rcu(&slave->pnode, &port->slaves);
	ipvl_arpf_update(slave, false);
	return 0;
}

static void ipvl_uninit(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_port *port = slave->port;

	ASSERT_RTNL();
	list_del_rcu(&slave->pnode);
	ipvl_arpf_update(slave, true);
	ipvl_default_forget(slave);
	ipvl_learn_stop(slave);
	ipvl_dhcp_forget(slave);
	ipvl_addr_flush(slave);
	ipvl_allow_free(slave);
	ida_free(&port->ida, dev->dev_id);
	netdev_put(slave->master, &slave->master_tracker);
	WRITE_ONCE(port->count, port->count - 1);
	if (!port->count)
		ipvl_port_destroy(port);
}

static void ipvl_destructor(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	free_percpu(slave->stats);
}

static int ipvl_open(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	int err;

	if (dev->flags & IFF_ALLMULTI) {
		err = dev_set_allmulti(slave->master, 1);
		if (err)
			return err;
	}
	/* A learning slave's guest needs all multicast from the wire. */
	if (slave->learn) {
		err = dev_set_allmulti(slave->master, 1);
		if (err) {
			if (dev->flags & IFF_ALLMULTI)
				dev_set_allmulti(slave->master, -1);
			return err;
		}
	}
	/* Running already (__LINK_STATE_START is set before ndo_open). */
	ipvl_arpf_update(slave, false);
	return 0;
}

static int ipvl_stop(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	dev_uc_unsync(slave->master, dev);
	dev_mc_unsync(slave->master, dev);
	if (dev->flags & IFF_ALLMULTI)
		dev_set_allmulti(slave->master, -1);
	if (slave->learn)
		dev_set_allmulti(slave->master, -1);
	/* No longer running (__LINK_STATE_START is clear by now). */
	ipvl_arpf_update(slave, false);
	return 0;
}

static void ipvl_change_rx_flags(struct net_device *dev, int change)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	if ((dev->flags & IFF_UP) && (change & IFF_ALLMULTI))
		dev_set_allmulti(slave->master,
				 dev->flags & IFF_ALLMULTI ? 1 : -1);
	if (change & IFF_PROMISC)
		ipvl_arpf_update(slave, false);
}

static void ipvl_set_rx_mode(struct net_device *dev)
{
	ipvl_mc_filter_sync(netdev_priv(dev));
}

static netdev_features_t ipvl_fix_features(struct net_device *dev,
					   netdev_features_t features)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	netdev_features_t allowed;

	allowed = (slave->master->features & IPVL_FEATURES) |
		  IPVL_SOFT_FEATURES;
	features &= slave->sfeatures | ~(IPVL_FEATURES | IPVL_SOFT_FEATURES);
	features &= allowed | ~IPVL_FEATURES;
	return features | IPVL_ALWAYS_ON;
}

static void ipvl_get_stats64(struct net_device *dev,
			     struct rtnl_link_stats64 *stats)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	int cpu;

	if (!slave->stats)
		return;
	for_each_possible_cpu(cpu) {
		const struct ipvl_pcpu_stats *s = per_cpu_ptr(slave->stats, cpu);
		u64 rx_packets, rx_bytes, rx_mcast, tx_packets, tx_bytes;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			rx_packets = u64_stats_read(&s->rx_packets);
			rx_bytes = u64_stats_read(&s->rx_bytes);
			rx_mcast = u64_stats_read(&s->rx_multicast);
			tx_packets = u64_stats_read(&s->tx_packets);
			tx_bytes = u64_stats_read(&s->tx_bytes);
		} while (u64_stats_fetch_retry(&s->syncp, start));

		stats->rx_packets += rx_packets;
		stats->rx_bytes += rx_bytes;
		stats->multicast += rx_mcast;
		stats->tx_packets += tx_packets;
		stats->tx_bytes += tx_bytes;
		/* Written without syncp: u32 reads are atomic. */
		stats->rx_errors += READ_ONCE(s->rx_errors);
		stats->rx_dropped += READ_ONCE(s->rx_dropped);
		stats->tx_dropped += READ_ONCE(s->tx_dropped);
	}
}

static int ipvl_get_iflink(const struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	return slave->master->ifindex;
}

const struct net_device_ops ipvl_netdev_ops = {
	.ndo_init		= ipvl_init,
	.ndo_uninit		= ipvl_uninit,
	.ndo_open		= ipvl_open,
	.ndo_stop		= ipvl_stop,
	.ndo_start_xmit		= ipvl_start_xmit,
	.ndo_fix_features	= ipvl_fix_features,
	.ndo_change_rx_flags	= ipvl_change_rx_flags,
	.ndo_set_rx_mode	= ipvl_set_rx_mode,
	.ndo_get_stats64	= ipvl_get_stats64,
	.ndo_get_iflink		= ipvl_get_iflink,
};

static void ipvl_get_drvinfo(struct net_device *dev,
			     struct ethtool_drvinfo *info)
{
	strscpy(info->driver, KBUILD_MODNAME, sizeof(info->driver));
	strscpy(info->version, IPVL_DRV_VERSION, sizeof(info->version));
}

static int ipvl_get_link_ksettings(struct net_device *dev,
				   struct ethtool_link_ksettings *cmd)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	return __ethtool_get_link_ksettings(slave->master, cmd);
}

static const struct ethtool_ops ipvl_ethtool_ops = {
	.get_link		= ethtool_op_get_link,
	.get_drvinfo		= ipvl_get_drvinfo,
	.get_link_ksettings	= ipvl_get_link_ksettings,
};

void ipvl_slave_setup(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	ether_setup(dev);
	dev->max_mtu = ETH_MAX_MTU;
	dev->priv_flags &= ~(IFF_XMIT_DST_RELEASE | IFF_TX_SKB_SHARING);
	dev->priv_flags |= IFF_UNICAST_FLT | IFF_NO_QUEUE;
	dev->netdev_ops = &ipvl_netdev_ops;
	dev->ethtool_ops = &ipvl_ethtool_ops;
	dev->needs_free_netdev = true;
	dev->priv_destructor = ipvl_destructor;
	dev->hw_features = IPVL_FEATURES | IPVL_SOFT_FEATURES;
	slave->sfeatures = IPVL_FEATURES | IPVL_SOFT_FEATURES;
	ipvl_learn_init(slave);
}

