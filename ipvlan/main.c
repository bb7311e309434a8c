// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan: module init and exit. The pieces, one file each: port.c (the
 * master's port and its events), device.c (the slave device), netlink.c
 * (link kind "ipvlan"), kind.c (the API exported to ipvtap.ko), genl.c
 * (the address table's dump), core.c (switching), addr.c (the address
 * table), mcast.c, l3s.c, learn.c.
 */

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <net/rtnetlink.h>

#include "ipvlan.h"

static int __init ipvl_module_init(void)
{
	int err;

	err = ipvl_port_notifier_register();
	if (err)
		return err;
	err = ipvl_addr_notifiers_register();
	if (err)
		goto err_addr;
	err = ipvl_l3s_init();
	if (err)
		goto err_l3s;
	err = ipvl_genl_init();
	if (err)
		goto err_genl;
	err = ipvl_link_register();
	if (err)
		goto err_link;
	return 0;

err_link:
	ipvl_genl_exit();
err_genl:
	ipvl_l3s_exit();
err_l3s:
	ipvl_addr_notifiers_unregister();
err_addr:
	ipvl_port_notifier_unregister();
	return err;
}

static void __exit ipvl_module_exit(void)
{
	/* Deletes every slave, and with the last one each port. */
	ipvl_link_unregister();
	ipvl_genl_exit();
	ipvl_l3s_exit();
	ipvl_addr_notifiers_unregister();
	ipvl_port_notifier_unregister();
	/* Ports are freed with kfree_rcu(); nothing of ours may run after. */
	rcu_barrier();
}

module_init(ipvl_module_init);
module_exit(ipvl_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ipvlan: virtual devices sharing their master's MAC, switched by L3 address");
MODULE_VERSION(IPVL_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK("ipvlan");
