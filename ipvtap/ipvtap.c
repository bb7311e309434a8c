// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvtap: an ipvlan slave whose traffic goes to a character device.
 *
 * Frames the ipvlan core delivers to the slave are queued by the kernel's
 * tap library (its rx_handler on the slave) to /dev/tap<ifindex>; frames
 * written there are transmitted by the tap library through the slave, so
 * by ipvlan. Using the tap library's file operations is what lets
 * vhost-net take over the data path, as with macvtap.
 *
 * Locking: everything here runs under RTNL (link ops, device notifier),
 * except the tap library's own data path.
 */

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/etherdevice.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

#include "ipvlan_api.h"
#include "ipvtap_compat.h"

#define IPVTAP_DRV_VERSION	"0.1"

/* Offloads a tap reader can accept (TUNSETOFFLOAD narrows them). */
#define IPVTAP_OFFLOADS \
	(NETIF_F_HW_CSUM | NETIF_F_TSO_ECN | NETIF_F_TSO | NETIF_F_TSO6)

struct ipvtap_dev {
	struct tap_dev	tap;
};

static dev_t ipvtap_major;
static struct cdev ipvtap_cdev;

static struct ipvtap_dev *ipvtap_priv(const struct net_device *dev)
{
	return ipvl_kind_priv(dev);
}

static ipvtap_class_ns_t ipvtap_class_ns(IPVTAP_CLASS_NS_CONST struct device *d)
{
	return ipvtap_class_ns_of(dev_net(to_net_dev(d->parent)));
}

static struct class ipvtap_class = {
	.name		= "ipvtap",
	IPVTAP_CLASS_OWNER
	.ns_type	= &net_ns_type_operations,
	.namespace	= ipvtap_class_ns,
};

static void ipvtap_count_tx_dropped(struct tap_dev *tap)
{
	ipvl_kind_count_tx_dropped(tap->dev);
}

static void ipvtap_count_rx_dropped(struct tap_dev *tap)
{
	ipvl_kind_count_rx_dropped(tap->dev);
}

static void ipvtap_update_features(struct tap_dev *tap,
				   netdev_features_t features)
{
	ipvl_kind_set_offered_features(tap->dev, features);
}

static int __ipvtap_newlink(struct net *src_net, struct net_device *dev,
			    struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct ipvtap_dev *vt = ipvtap_priv(dev);
	int err;

	ASSERT_RTNL();
	INIT_LIST_HEAD(&vt->tap.queue_list);
	vt->tap.dev = dev;
	vt->tap.tap_features = IPVTAP_OFFLOADS;
	vt->tap.count_tx_dropped = ipvtap_count_tx_dropped;
	vt->tap.count_rx_dropped = ipvtap_count_rx_dropped;
	vt->tap.update_features = ipvtap_update_features;

	/* Frames the ipvlan core hands to this slave go to the tap queues. */
	err = netdev_rx_handler_register(dev, tap_handle_frame, &vt->tap);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot attach the tap receive handler");
		return err;
	}
	err = ipvl_kind_newlink(src_net, dev, tb, data, extack);
	if (err)
		netdev_rx_handler_unregister(dev);
	return err;
}

IPVL_RTNL_NEWLINK(ipvtap_newlink, __ipvtap_newlink)

static void ipvtap_dellink(struct net_device *dev, struct list_head *head)
{
	struct ipvtap_dev *vt = ipvtap_priv(dev);

	ASSERT_RTNL();
	netdev_rx_handler_unregister(dev);
	tap_del_queues(&vt->tap);
	ipvl_kind_dellink(dev, head);
}

static void ipvtap_setup(struct net_device *dev)
{
	ipvl_kind_setup(dev);
	/* Guests configure their own addresses: learn them. */
	ipvl_kind_learn_default(dev, true);
	/*
	 * What a guest writes is charged to its tap socket until our
	 * ndo_start_xmit orphans it. That must happen in the writer's
	 * context: freed in softirq, the last such frame of a closed tap
	 * destroys its socket there, and tap_sock_destruct() takes the
	 * ring's lock that tap_poll() takes with BHs on (lockdep: inconsistent
	 * lock state). So the device stays queueless (IFF_NO_QUEUE from
	 * ipvl_kind_setup()): a qdisc would hand the frames to our xmit from
	 * net_tx_action() and drop them from its dequeue, both in softirq.
	 * The in-tree ipvtap has a qdisc; `tc qdisc add` gives ours one too.
	 */
	ipvl_kind_orphan_tx(dev);
	/* The tap library sizes each queue's ring from it. */
	dev->tx_queue_len = TUN_READQ_SIZE;
}

static struct rtnl_link_ops ipvtap_link_ops = {
	.kind		= "ipvtap",
	.setup		= ipvtap_setup,
	.newlink	= ipvtap_newlink,
	.dellink	= ipvtap_dellink,
};

static bool ipvtap_is(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &ipvtap_link_ops;
}

/* Create /dev/tap<ifindex> and the net device's "tap<ifindex>" link. */
static int ipvtap_node_create(struct net_device *dev)
{
	struct ipvtap_dev *vt = ipvtap_priv(dev);
	struct device *node;
	char name[IFNAMSIZ];
	dev_t devt;
	int err;

	snprintf(name, sizeof(name), "tap%d", dev->ifindex);
	err = tap_get_minor(ipvtap_major, &vt->tap);
	if (err)
		return err;
	devt = MKDEV(MAJOR(ipvtap_major), vt->tap.minor);
	node = device_create(&ipvtap_class, &dev->dev, devt, dev, "%s", name);
	if (IS_ERR(node)) {
		err = PTR_ERR(node);
		goto err_minor;
	}
	err = sysfs_create_link(&dev->dev.kobj, &node->kobj, name);
	if (err)
		goto err_node;
	return 0;

err_node:
	device_destroy(&ipvtap_class, devt);
err_minor:
	tap_free_minor(ipvtap_major, &vt->tap);
	vt->tap.minor = 0;
	return err;
}

static void ipvtap_node_destroy(struct net_device *dev)
{
	struct ipvtap_dev *vt = ipvtap_priv(dev);
	char name[IFNAMSIZ];

	/* Minor 0 is never handed out: the node was not created. */
	if (!vt->tap.minor)
		return;
	snprintf(name, sizeof(name), "tap%d", dev->ifindex);
	sysfs_remove_link(&dev->dev.kobj, name);
	device_destroy(&ipvtap_class, MKDEV(MAJOR(ipvtap_major),
					    vt->tap.minor));
	tap_free_minor(ipvtap_major, &vt->tap);
	vt->tap.minor = 0;
}

static int ipvtap_device_event(struct notifier_block *nb,
			       unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (!ipvtap_is(dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_REGISTER:
		/* Also after a namespace move: the node follows. */
		return notifier_from_errno(ipvtap_node_create(dev));
	case NETDEV_UNREGISTER:
		ipvtap_node_destroy(dev);
		break;
	case NETDEV_CHANGE_TX_QUEUE_LEN:
		if (tap_queue_resize(&ipvtap_priv(dev)->tap))
			return NOTIFY_BAD;
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ipvtap_nb = {
	.notifier_call = ipvtap_device_event,
};

static int __init ipvtap_init(void)
{
	int err;

	err = tap_create_cdev(&ipvtap_cdev, &ipvtap_major, "ipvtap",
			      THIS_MODULE);
	if (err)
		return err;
	err = class_register(&ipvtap_class);
	if (err)
		goto err_cdev;
	err = register_netdevice_notifier(&ipvtap_nb);
	if (err)
		goto err_class;
	err = ipvl_kind_register(&ipvtap_link_ops, sizeof(struct ipvtap_dev));
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	unregister_netdevice_notifier(&ipvtap_nb);
err_class:
	class_unregister(&ipvtap_class);
err_cdev:
	tap_destroy_cdev(ipvtap_major, &ipvtap_cdev);
	return err;
}

static void __exit ipvtap_exit(void)
{
	ipvl_kind_unregister(&ipvtap_link_ops);
	unregister_netdevice_notifier(&ipvtap_nb);
	class_unregister(&ipvtap_class);
	tap_destroy_cdev(ipvtap_major, &ipvtap_cdev);
}

module_init(ipvtap_init);
module_exit(ipvtap_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ipvtap: ipvlan slaves as /dev/tapN character devices");
MODULE_VERSION(IPVTAP_DRV_VERSION);
MODULE_ALIAS_RTNL_LINK("ipvtap");
