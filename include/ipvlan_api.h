/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The API ipvlan.ko exports to link kinds built on it (ipvtap.ko). The
 * names differ from the in-tree ipvlan's exports on purpose: a module built
 * against this API can never bind to the in-tree ipvlan.ko.
 *
 * Such a kind is an ipvlan slave with extra state: its rtnl_link_ops are
 * completed by ipvl_kind_register() (policy, validate, changelink,
 * fill_info, ... are ipvlan's), its net_device private area starts with
 * ipvlan's and continues with the kind's own, found with
 * ipvl_kind_priv(). Its newlink/dellink call ipvl_kind_newlink() and
 * ipvl_kind_dellink() around their own work. Everything else about
 * ipvlan stays private to ipvlan.ko.
 */
#ifndef _IPVLAN_API_H
#define _IPVLAN_API_H

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

/**
 * ipvl_kind_register - complete and register an ipvlan-based link kind
 * @ops: kind, setup/newlink/dellink (may be NULL for ipvlan's own) filled
 * @ext_priv_size: bytes of private state the kind needs after ipvlan's
 *
 * Return: 0 or the error of rtnl_link_register().
 */
int ipvl_kind_register(struct rtnl_link_ops *ops, size_t ext_priv_size);
void ipvl_kind_unregister(struct rtnl_link_ops *ops);

/* ipvlan's setup, newlink and dellink, for kinds that wrap them. */
void ipvl_kind_setup(struct net_device *dev);
int ipvl_kind_newlink(struct net *src_net, struct net_device *dev,
		      struct nlattr *tb[], struct nlattr *data[],
		      struct netlink_ext_ack *extack);
void ipvl_kind_dellink(struct net_device *dev, struct list_head *head);

/* The kind's private area of an ipvlan-based device. */
void *ipvl_kind_priv(const struct net_device *dev);

/*
 * Offloads the device may announce (e.g. what a tap reader accepts);
 * the master's features still bound them. RTNL held.
 */
void ipvl_kind_set_offered_features(struct net_device *dev,
				    netdev_features_t features);

/*
 * Default of guest address learning for a kind (ipvtap: on). Only from
 * the kind's setup, before the device registers.
 */
void ipvl_kind_learn_default(struct net_device *dev, bool on);

/*
 * Frames sent through the device are released from their socket at
 * transmit (skb_orphan). For a kind whose writer's socket must not be
 * destroyed from softirq, as the tap library's: a frame may outlive the
 * file that wrote it (a neighbour queue, a backlog), and dropping the last
 * reference there would run its destructor from softirq. It also keeps a
 * guest's frames waiting in the host from filling its send buffer. Only
 * from the kind's setup, before the device registers.
 */
void ipvl_kind_orphan_tx(struct net_device *dev);

/* Counters for drops that happen in the kind's own code. */
void ipvl_kind_count_rx_dropped(struct net_device *dev);
void ipvl_kind_count_tx_dropped(struct net_device *dev);

#endif /* _IPVLAN_API_H */
