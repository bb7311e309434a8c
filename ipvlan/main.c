// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan: module glue, the master's port, slave device operations and the
 * master's device events.
 *
 * Locking: the port, its slave list, mode and flags change only under RTNL
 * (asserted below); the data path reads them under RCU or with READ_ONCE().
 */

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <net/rtnetlink.h>

#include "ipvlan.h"
#include "ipvlan_api.h"

#define IPVL_FEATURES \
	(NETIF_F_SG | NETIF_F_CSUM_MASK | NETIF_F_HIGHDMA | NETIF_F_FRAGLIST | \
	 NETIF_F_GSO | NETIF_F_ALL_TSO | NETIF_F_GSO_ROBUST | \
	 NETIF_F_GRO | NETIF_F_RXCSUM)

/* Offloads a slave can do whatever the master does: the master segments. */
#define IPVL_SOFT_FEATURES	(NETIF_F_GSO | NETIF_F_GSO_SOFTWARE | NETIF_F_GRO)

#define IPVL_ALWAYS_ON		(NETIF_F_LLTX | NETIF_F_VLAN_CHALLENGED)

#define IPVL_STATE_MASK \
	(BIT(__LINK_STATE_NOCARRIER) | BIT(__LINK_STATE_DORMANT))

static struct lock_class_key ipvl_addr_lock_key;

/* Source of slave ids; 0 means "from the wire". */
static atomic64_t ipvl_next_id = ATOMIC64_INIT(0);

/* Port ------------------------------------------------------------------ */

struct ipvl_port *ipvl_port_get_rtnl(const struct net_device *dev)
{
	ASSERT_RTNL();
	if (!ipvl_is_master(dev))
		return NULL;
	return rtnl_dereference(dev->rx_handler_data);
}

int ipvl_port_create(struct net_device *master, struct netlink_ext_ack *extack)
{
	struct ipvl_port *port;
	unsigned int i;
	int err;

	ASSERT_RTNL();
	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;

	port->dev = master;
	write_pnet(&port->pnet, dev_net(master));
	port->mode = IPVLAN_MODE_L3;
	INIT_LIST_HEAD(&port->slaves);
	ida_init(&port->ida);
	spin_lock_init(&port->addr_lock);
	for (i = 0; i < IPVL_ADDR_HASH_SIZE; i++)
		INIT_HLIST_HEAD(&port->addr_hash[i]);
	skb_queue_head_init(&port->backlog);
	INIT_WORK(&port->mc_work, ipvl_mc_work);

	err = netdev_rx_handler_register(master, ipvl_handle_frame, port);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "master already has a receive handler (bridge, bond, macvlan...)");
		ida_destroy(&port->ida);
		kfree(port);
		return err;
	}
	/*
	 * L3S needs the namespace's hooks: take them now, not on a mode
	 * change under traffic (l3s.c says why). Failing here only matters
	 * to L3S, whose entry retries and reports it.
	 */
	if (ipvl_l3s_hooks_get(dev_net(master)))
		netdev_warn(master, "ipvlan: no l3s netfilter hooks in this namespace yet\n");
	return 0;
}

void ipvl_port_destroy(struct ipvl_port *port)
{
	ASSERT_RTNL();
	WARN_ON_ONCE(port->count || !list_empty(&port->slaves));

	/* Waits for running rx handlers: nothing can queue after this. */
	netdev_rx_handler_unregister(port->dev);
	ipvl_l3s_port_destroy(port);
	cancel_work_sync(&port->mc_work);
	skb_queue_purge(&port->backlog);
	ida_destroy(&port->ida);
	kfree_rcu(port, rcu);
}

/*
 * Switch a port to @mode. Slaves are NOARP in the L3 modes: their
 * neighbours are resolved by the master's namespace.
 */
int ipvl_port_set_mode(struct ipvl_port *port, u16 mode,
		       struct netlink_ext_ack *extack)
{
	struct ipvl_dev *slave;
	int err;

	ASSERT_RTNL();
	if (mode == port->mode)
		return 0;
	if (mode == IPVLAN_MODE_L3S) {
		err = ipvl_l3s_enter(port, extack);
		if (err)
			return err;
	} else if (port->mode == IPVLAN_MODE_L3S) {
		ipvl_l3s_leave(port);
	}

	list_for_each_entry(slave, &port->slaves, pnode) {
		unsigned int flags = slave->dev->flags;

		if (mode == IPVLAN_MODE_L2)
			flags &= ~IFF_NOARP;
		else
			flags |= IFF_NOARP;
		if (flags != slave->dev->flags)
			dev_change_flags(slave->dev, flags, NULL);
	}
	WRITE_ONCE(port->mode, mode);
	return 0;
}

/* Slave device ---------------------------------------------------------- */

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

	netdev_lockdep_set_classes(dev);
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
	port->count++;
	list_add_tail_rcu(&slave->pnode, &port->slaves);
	return 0;
}

static void ipvl_uninit(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_port *port = slave->port;

	ASSERT_RTNL();
	list_del_rcu(&slave->pnode);
	ipvl_learn_stop(slave);
	ipvl_addr_flush(slave);
	ida_free(&port->ida, dev->dev_id);
	netdev_put(slave->master, &slave->master_tracker);
	if (--port->count == 0)
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
	return 0;
}

static void ipvl_change_rx_flags(struct net_device *dev, int change)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	if ((dev->flags & IFF_UP) && (change & IFF_ALLMULTI))
		dev_set_allmulti(slave->master,
				 dev->flags & IFF_ALLMULTI ? 1 : -1);
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

static u32 ipvl_get_msglevel(struct net_device *dev)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	return slave->msg_enable;
}

static void ipvl_set_msglevel(struct net_device *dev, u32 value)
{
	struct ipvl_dev *slave = netdev_priv(dev);

	slave->msg_enable = value;
}

static const struct ethtool_ops ipvl_ethtool_ops = {
	.get_link		= ethtool_op_get_link,
	.get_drvinfo		= ipvl_get_drvinfo,
	.get_link_ksettings	= ipvl_get_link_ksettings,
	.get_msglevel		= ipvl_get_msglevel,
	.set_msglevel		= ipvl_set_msglevel,
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

bool ipvl_kind_is_slave(const struct net_device *dev)
{
	return ipvl_is_slave(dev);
}
EXPORT_SYMBOL_GPL(ipvl_kind_is_slave);

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

/* Master events --------------------------------------------------------- */

static void ipvl_master_mtu_changed(struct ipvl_port *port)
{
	unsigned int mtu = port->dev->mtu;
	struct ipvl_dev *slave;

	/* As upstream: every slave follows, an MTU set at create too. */
	list_for_each_entry(slave, &port->slaves, pnode)
		dev_set_mtu(slave->dev, mtu);
}

static void ipvl_master_addr_changed(struct ipvl_port *port)
{
	struct ipvl_dev *slave;

	list_for_each_entry(slave, &port->slaves, pnode) {
		eth_hw_addr_set(slave->dev, port->dev->dev_addr);
		call_netdevice_notifiers(NETDEV_CHANGEADDR, slave->dev);
	}
}

static void ipvl_master_gone(struct ipvl_port *port)
{
	struct ipvl_dev *slave, *next;
	LIST_HEAD(kill);

	ASSERT_RTNL();
	list_for_each_entry_safe(slave, next, &port->slaves, pnode) {
		/* A slave in the master's own batch (its namespace goes
		 * away with the master's) was unlinked by its dellink and
		 * is already on that batch's list: leave it there.
		 */
		if (slave->dev->reg_state != NETREG_REGISTERED)
			continue;
		slave->dev->rtnl_link_ops->dellink(slave->dev, &kill);
	}
	unregister_netdevice_many(&kill);
}

static int ipvl_master_event(struct net_device *dev, unsigned long event,
			     void *ptr)
{
	struct ipvl_port *port = ipvl_port_get_rtnl(dev);
	struct netdev_notifier_changeupper_info *upper;
	struct ipvl_dev *slave;

	switch (event) {
	case NETDEV_UP:
	case NETDEV_CHANGE:	/* carrier; admin down alone is not passed on */
		list_for_each_entry(slave, &port->slaves, pnode)
			netif_stacked_transfer_operstate(dev, slave->dev);
		break;
	case NETDEV_REGISTER:
		/* Re-registered in a new namespace: the hooks follow. */
		write_pnet(&port->pnet, dev_net(dev));
		if (ipvl_l3s_hooks_get(dev_net(dev)) &&
		    port->mode == IPVLAN_MODE_L3S)
			netdev_err(dev, "ipvlan: l3s hooks lost in the new namespace\n");
		break;
	case NETDEV_UNREGISTER:
		/* A namespace move keeps the slaves; a real unregister not. */
		if (dev->reg_state == NETREG_UNREGISTERING)
			ipvl_master_gone(port);
		break;
	case NETDEV_FEAT_CHANGE:
		list_for_each_entry(slave, &port->slaves, pnode) {
			netif_inherit_tso_max(slave->dev, dev);
			netdev_update_features(slave->dev);
		}
		break;
	case NETDEV_CHANGEMTU:
		ipvl_master_mtu_changed(port);
		break;
	case NETDEV_CHANGEADDR:
		ipvl_master_addr_changed(port);
		break;
	case NETDEV_PRE_TYPE_CHANGE:
		return notifier_from_errno(-EBUSY);
	case NETDEV_PRECHANGEUPPER:
		upper = ptr;
		if (upper->linking && upper->master) {
			NL_SET_ERR_MSG(upper->info.extack,
				       "device is an ipvlan master and cannot be enslaved");
			return notifier_from_errno(-EBUSY);
		}
		break;
	}
	return NOTIFY_DONE;
}

static int ipvl_device_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (!ipvl_is_master(dev))
		return NOTIFY_DONE;
	return ipvl_master_event(dev, event, ptr);
}

static struct notifier_block ipvl_device_nb = {
	.notifier_call = ipvl_device_event,
};

/* Module ---------------------------------------------------------------- */

static int __init ipvl_module_init(void)
{
	int err;

	err = register_netdevice_notifier(&ipvl_device_nb);
	if (err)
		return err;
	err = ipvl_addr_notifiers_register();
	if (err)
		goto err_addr;
	err = ipvl_l3s_init();
	if (err)
		goto err_l3s;
	err = ipvl_learn_proc_init();
	if (err)
		goto err_proc;
	err = ipvl_link_register();
	if (err)
		goto err_link;
	return 0;

err_link:
	ipvl_learn_proc_exit();
err_proc:
	ipvl_l3s_exit();
err_l3s:
	ipvl_addr_notifiers_unregister();
err_addr:
	unregister_netdevice_notifier(&ipvl_device_nb);
	return err;
}

static void __exit ipvl_module_exit(void)
{
	/* Deletes every slave, and with the last one each port. */
	ipvl_link_unregister();
	ipvl_learn_proc_exit();
	ipvl_l3s_exit();
	ipvl_addr_notifiers_unregister();
	unregister_netdevice_notifier(&ipvl_device_nb);
	/* Ports are freed with kfree_rcu(); nothing of ours may run after. */
	rcu_barrier();
}

module_init(ipvl_module_init);
module_exit(ipvl_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ipvlan: virtual devices sharing their master's MAC, switched by L3 address");
MODULE_VERSION(IPVL_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK("ipvlan");
