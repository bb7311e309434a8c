// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan address table: which slave owns which IPv4/IPv6 address.
 *
 * Every address configured on a slave is kept in its port's hash table,
 * whether the slave is up or not; the data path ignores owners that are
 * down. Entries follow the inet/inet6 address notifiers, and the validator
 * notifiers refuse an address that another slave of the same master owns.
 *
 * Locking: port->addr_lock (BH-safe spinlock, because the inet6 address
 * chain is atomic) guards the hash and every slave's address list; readers
 * on the data path use RCU.
 */

#include <linux/inetdevice.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>

#include "ipvlan.h"

static u32 ipvl_hash_seed __read_mostly;

static u32 ipvl_addr_hash(const void *ip, bool is_v6)
{
	u32 h;

	if (is_v6)
		h = jhash2(ip, sizeof(struct in6_addr) / sizeof(u32),
			   ipvl_hash_seed);
	else
		h = jhash_1word((__force u32)*(const __be32 *)ip,
				ipvl_hash_seed);
	return h & (IPVL_ADDR_HASH_SIZE - 1);
}

static bool ipvl_addr_equal(const struct ipvl_addr *a, const void *ip,
			    bool is_v6)
{
	if (a->is_v6 != is_v6)
		return false;
	if (is_v6)
		return ipv6_addr_equal(&a->ip6, ip);
	return a->ip4 == *(const __be32 *)ip;
}

/**
 * ipvl_addr_lookup - find the owner of an address on a port
 * @port: the master's port
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 *
 * Caller holds rcu_read_lock() or port->addr_lock. The owner may be down.
 */
struct ipvl_addr *ipvl_addr_lookup(struct ipvl_port *port, const void *ip,
				   bool is_v6)
{
	struct hlist_head *head = &port->addr_hash[ipvl_addr_hash(ip, is_v6)];
	struct ipvl_addr *a;

	hlist_for_each_entry_rcu(a, head, hnode,
				 lockdep_is_held(&port->addr_lock)) {
		if (ipvl_addr_equal(a, ip, is_v6))
			return a;
	}
	return NULL;
}

/**
 * ipvl_addr_add - record that @slave owns @ip
 * @slave: the slave the address was configured on
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 *
 * Return: 0 on success or if @slave already owns @ip, -EADDRINUSE if another
 * slave of the same master owns it, -ENOMEM.
 */
int ipvl_addr_add(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *old;
	int err = 0;

	a = kzalloc(sizeof(*a), GFP_ATOMIC);
	if (!a)
		return -ENOMEM;
	a->slave = slave;
	a->is_v6 = is_v6;
	if (is_v6)
		a->ip6 = *(const struct in6_addr *)ip;
	else
		a->ip4 = *(const __be32 *)ip;

	spin_lock_bh(&port->addr_lock);
	old = ipvl_addr_lookup(port, ip, is_v6);
	if (old) {
		err = old->slave == slave ? 0 : -EADDRINUSE;
		spin_unlock_bh(&port->addr_lock);
		kfree(a);
		return err;
	}
	list_add_tail(&a->lnode, &slave->addrs);
	hlist_add_head_rcu(&a->hnode,
			   &port->addr_hash[ipvl_addr_hash(ip, is_v6)]);
	spin_unlock_bh(&port->addr_lock);
	return 0;
}

static void ipvl_addr_unlink(struct ipvl_addr *a)
{
	lockdep_assert_held(&a->slave->port->addr_lock);
	hlist_del_rcu(&a->hnode);
	list_del(&a->lnode);
	kfree_rcu(a, rcu);
}

/* Forget that @slave owns @ip; a no-op if it does not. */
void ipvl_addr_del(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a;

	spin_lock_bh(&port->addr_lock);
	a = ipvl_addr_lookup(port, ip, is_v6);
	if (a && a->slave == slave)
		ipvl_addr_unlink(a);
	spin_unlock_bh(&port->addr_lock);
}

/* Drop every address of @slave (it is going away). */
void ipvl_addr_flush(struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *tmp;

	spin_lock_bh(&port->addr_lock);
	list_for_each_entry_safe(a, tmp, &slave->addrs, lnode)
		ipvl_addr_unlink(a);
	spin_unlock_bh(&port->addr_lock);
}

/* True if a slave of @dev's port other than @dev owns @ip. */
static bool ipvl_addr_taken(struct net_device *dev, const void *ip, bool is_v6)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_addr *a;
	bool taken;

	rcu_read_lock();
	a = ipvl_addr_lookup(slave->port, ip, is_v6);
	taken = a && a->slave != slave;
	rcu_read_unlock();
	return taken;
}

static int ipvl_inetaddr_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct in_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->ifa_dev->dev;

	if (!ipvl_is_slave(dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UP:
		return notifier_from_errno(ipvl_addr_add(netdev_priv(dev),
							 &ifa->ifa_local,
							 false));
	case NETDEV_DOWN:
		ipvl_addr_del(netdev_priv(dev), &ifa->ifa_local, false);
		break;
	}
	return NOTIFY_OK;
}

static int ipvl_inet6addr_event(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct inet6_ifaddr *ifa = ptr;
	struct net_device *dev = ifa->idev->dev;

	if (!ipvl_is_slave(dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UP:
		return notifier_from_errno(ipvl_addr_add(netdev_priv(dev),
							 &ifa->addr, true));
	case NETDEV_DOWN:
		ipvl_addr_del(netdev_priv(dev), &ifa->addr, true);
		break;
	}
	return NOTIFY_OK;
}

static int ipvl_inetaddr_validate(struct notifier_block *nb,
				  unsigned long event, void *ptr)
{
	struct in_validator_info *ivi = ptr;
	struct net_device *dev = ivi->ivi_dev->dev;

	if (event != NETDEV_UP || !ipvl_is_slave(dev))
		return NOTIFY_DONE;
	if (ipvl_addr_taken(dev, &ivi->ivi_addr, false)) {
		NL_SET_ERR_MSG(ivi->extack,
			       "ipvlan: address already in use by another slave of this master");
		return notifier_from_errno(-EADDRINUSE);
	}
	return NOTIFY_OK;
}

static int ipvl_inet6addr_validate(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct in6_validator_info *i6vi = ptr;
	struct net_device *dev = i6vi->i6vi_dev->dev;

	if (event != NETDEV_UP || !ipvl_is_slave(dev))
		return NOTIFY_DONE;
	if (ipvl_addr_taken(dev, &i6vi->i6vi_addr, true)) {
		NL_SET_ERR_MSG(i6vi->extack,
			       "ipvlan: address already in use by another slave of this master");
		return notifier_from_errno(-EADDRINUSE);
	}
	return NOTIFY_OK;
}

static struct notifier_block ipvl_inetaddr_nb = {
	.notifier_call = ipvl_inetaddr_event,
};

static struct notifier_block ipvl_inet6addr_nb = {
	.notifier_call = ipvl_inet6addr_event,
};

static struct notifier_block ipvl_inetaddr_validator_nb = {
	.notifier_call = ipvl_inetaddr_validate,
};

static struct notifier_block ipvl_inet6addr_validator_nb = {
	.notifier_call = ipvl_inet6addr_validate,
};

int ipvl_addr_notifiers_register(void)
{
	ipvl_hash_seed = get_random_u32();

	register_inetaddr_validator_notifier(&ipvl_inetaddr_validator_nb);
	register_inetaddr_notifier(&ipvl_inetaddr_nb);
	register_inet6addr_validator_notifier(&ipvl_inet6addr_validator_nb);
	register_inet6addr_notifier(&ipvl_inet6addr_nb);
	return 0;
}

void ipvl_addr_notifiers_unregister(void)
{
	unregister_inet6addr_notifier(&ipvl_inet6addr_nb);
	unregister_inet6addr_validator_notifier(&ipvl_inet6addr_validator_nb);
	unregister_inetaddr_notifier(&ipvl_inetaddr_nb);
	unregister_inetaddr_validator_notifier(&ipvl_inetaddr_validator_nb);
}
