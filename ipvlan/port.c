// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan port: the state ipvlan keeps on a master device, and what the
 * master's device events do to its slaves.
 *
 * Locking: the port, its slave list, mode and flags change only under RTNL
 * (asserted below); the data path reads them under RCU or with READ_ONCE().
 */

#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>
#include <net/rtnetlink.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

/*
 * The ARP filter of a port when it is created (arpf.c): on unless the
 * module is loaded with arp_filter=0. Read-only once loaded; a port's own
 * setting changes with IFLA_IPVLAN_X_ARP_FILTER (ipvlanctl set DEV
 * arp-filter on|off).
 */
static bool arp_filter = true;
module_param(arp_filter, bool, 0444);
MODULE_PARM_DESC(arp_filter,
		 "ARP filter of new ports in mode l2 (default: on)");

struct ipvl_port *ipvl_port_get_rtnl(const struct net_device *dev)
{
	ASSERT_RTNL();
	if (!ipvl_is_master(dev))
		return NULL;
	return rtnl_dereference(dev->rx_handler_data);
}

static struct ipvl_port *ipvl_port_create(struct net_device *master,
					  struct netlink_ext_ack *extack)
{
	struct ipvl_port *port;
	unsigned int i;
	int err;

	ASSERT_RTNL();
	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return ERR_PTR(-ENOMEM);

	port->dev = master;
	write_pnet(&port->pnet, dev_net(master));
	port->mode = IPVLAN_MODE_L3;
	INIT_LIST_HEAD(&port->slaves);
	ida_init(&port->ida);
	spin_lock_init(&port->addr_lock);
	for (i = 0; i < IPVL_ADDR_HASH_SIZE; i++)
		INIT_HLIST_HEAD(&port->addr_hash[i]);
	skb_queue_head_init(&port->backlog);
	port->mc_queue_len = IPVLAN_X_MC_QUEUE_LEN_DEFAULT;
	port->arp_filter = arp_filter;
	INIT_WORK(&port->mc_work, ipvl_mc_work);
	ipvl_dhcp_port_init(port);

	err = netdev_rx_handler_register(master, ipvl_handle_frame, port);
	if (err) {
		NL_SET_ERR_MSG(extack,
			       "master already has a receive handler (bridge, bond, macvlan...)");
		ida_destroy(&port->ida);
		kfree(port);
		return ERR_PTR(err);
	}
	return port;
}

/**
 * ipvl_port_attach - the port of @master, created if it has none yet
 * @master: the master device of a new slave
 * @extack: for the refusal message
 *
 * A port without slaves is destroyed again by ipvl_port_release_unused().
 *
 * Return: the port or an ERR_PTR().
 */
struct ipvl_port *ipvl_port_attach(struct net_device *master,
				   struct netlink_ext_ack *extack)
{
	struct ipvl_port *port = ipvl_port_get_rtnl(master);

	return port ? port : ipvl_port_create(master, extack);
}

void ipvl_port_destroy(struct ipvl_port *port)
{
	ASSERT_RTNL();
	WARN_ON_ONCE(port->count || !list_empty(&port->slaves));

	/* Waits for running rx handlers: nothing can queue after this. */
	netdev_rx_handler_unregister(port->dev);
	ipvl_l3s_port_destroy(port);
	ipvl_host_port_destroy(port);
	cancel_work_sync(&port->mc_work);
	skb_queue_purge(&port->backlog);
	ida_destroy(&port->ida);
	kfree_rcu(port, rcu);
}

/**
 * ipvl_slave_set_noarp - set or clear a slave's IFF_NOARP
 * @slave: the slave
 * @noarp: the flag's new value
 * @extack: for a refusal
 *
 * The other flags stay as the user set them: the base is dev_get_flags(),
 * not dev->flags. dev->flags also carries the promiscuity and allmulti
 * that others counted (a packet socket, a bridge, a VLAN); handed back to
 * dev_change_flags() they would become the user's own, and stay after
 * the counter went back to 0. RTNL held.
 *
 * Return: 0 or a negative errno.
 */
int ipvl_slave_set_noarp(struct ipvl_dev *slave, bool noarp,
			 struct netlink_ext_ack *extack)
{
	struct net_device *dev = slave->dev;
	unsigned int flags;

	ASSERT_RTNL();
	if (!!(dev->flags & IFF_NOARP) == noarp)
		return 0;
	flags = ipvl_get_flags(dev);
	flags = noarp ? flags | IFF_NOARP : flags & ~IFF_NOARP;
	return dev_change_flags(dev, flags, extack);
}

/*
 * Slaves are NOARP in the L3 modes: their neighbours are resolved by the
 * master's namespace; not the default slave (default.c). Stops at the
 * first slave that refuses.
 */
static int ipvl_port_sync_noarp(struct ipvl_port *port, u16 mode,
				struct netlink_ext_ack *extack)
{
	struct ipvl_dev *slave;
	int err;

	ASSERT_RTNL();
	list_for_each_entry(slave, &port->slaves, pnode) {
		bool noarp = mode != IPVLAN_MODE_L2 &&
			     slave != rtnl_dereference(port->default_slave);

		err = ipvl_slave_set_noarp(slave, noarp, extack);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "cannot change the ARP flag of a slave for the new mode");
			return err;
		}
	}
	return 0;
}

/* Switch a port to @mode; on a refusal, the port stays in its old mode. */
int ipvl_port_set_mode(struct ipvl_port *port, u16 mode,
		       struct netlink_ext_ack *extack)
{
	u16 old = port->mode;
	int err;

	ASSERT_RTNL();
	if (mode == old)
		return 0;
	if (mode == IPVLAN_MODE_L3S) {
		err = ipvl_l3s_enter(port, extack);
		if (err)
			return err;
	} else if (old == IPVLAN_MODE_L3S) {
		ipvl_l3s_leave(port);
	}

	err = ipvl_port_sync_noarp(port, mode, extack);
	if (err) {
		/* Back to the old mode's flags, as far as the slaves let us
		 * (the one that refused is unchanged). Entering L3S again
		 * cannot fail: the master kept our l3mdev_ops and the hooks.
		 */
		if (ipvl_port_sync_noarp(port, old, NULL))
			netdev_warn(port->dev, "ipvlan: slaves' ARP flags do not match the mode\n");
		if (mode == IPVLAN_MODE_L3S)
			ipvl_l3s_leave(port);
		else if (old == IPVLAN_MODE_L3S)
			WARN_ON_ONCE(ipvl_l3s_enter(port, NULL));
		return err;
	}
	WRITE_ONCE(port->mode, mode);
	/* A default slave means nothing in l2: forgotten, not kept. */
	if (mode == IPVLAN_MODE_L2)
		RCU_INIT_POINTER(port->default_slave, NULL);
	return 0;
}

/*
 * A slave failed to register on @master: destroy the master's port if no
 * slave is left on it. Looked up again: if the failure came after the
 * slave's ndo_init, its ndo_uninit may have destroyed the port already.
 */
void ipvl_port_release_unused(struct net_device *master)
{
	struct ipvl_port *port = ipvl_port_get_rtnl(master);

	if (port && !port->count)
		ipvl_port_destroy(port);
}

/* Master events --------------------------------------------------------- */

static void ipvl_master_mtu_changed(struct ipvl_port *port)
{
	unsigned int mtu = port->dev->mtu;
	struct ipvl_dev *slave;

	/* As upstream: every slave follows, an MTU set at create too. */
	list_for_each_entry(slave, &port->slaves, pnode) {
		if (dev_set_mtu(slave->dev, mtu))
			netdev_warn(slave->dev, "ipvlan: cannot follow the master's MTU %u\n",
				    mtu);
	}
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
	case NETDEV_DOWN:	/* as the in-tree driver from 6.12 on */
	case NETDEV_CHANGE:	/* carrier */
		list_for_each_entry(slave, &port->slaves, pnode)
			netif_stacked_transfer_operstate(dev, slave->dev);
		break;
	case NETDEV_REGISTER:
		/* Re-registered in a new namespace: an l3s port's hooks
		 * follow it there.
		 */
		write_pnet(&port->pnet, dev_net(dev));
		if (port->mode == IPVLAN_MODE_L3S &&
		    ipvl_l3s_hooks_get(dev_net(dev)))
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

int ipvl_port_notifier_register(void)
{
	return register_netdevice_notifier(&ipvl_device_nb);
}

void ipvl_port_notifier_unregister(void)
{
	unregister_netdevice_notifier(&ipvl_device_nb);
}
