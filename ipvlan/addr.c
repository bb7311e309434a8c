// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan address table: which slave owns which IPv4/IPv6 address.
 *
 * Every address configured on a slave is kept in its port's hash table,
 * whether the slave is up or not; the data path ignores owners that are
 * down. Entries follow the inet/inet6 address notifiers, and the validator
 * notifiers refuse an address that another slave of the same master owns.
 *
 * Addresses come configured (on the slave, by the host) or learned (from a
 * guest's traffic, learn.c). A configured address takes precedence: it
 * replaces a learned entry of the same address, whoever learned it.
 *
 * A locked slave (allow.c) records only addresses inside its allow-list:
 * the validators refuse the others, and the list is checked again here,
 * under addr_lock, for addresses that come without a validator (SLAAC)
 * or race with a change of the list.
 *
 * Locking: port->addr_lock (BH-safe spinlock, because the inet6 address
 * chain is atomic) guards the hash and every slave's address list; readers
 * on the data path use RCU. A slave's allow pointer changes under it too.
 */

#include <linux/inetdevice.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <net/addrconf.h>
#include <net/route.h>
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

static struct ipvl_addr *ipvl_addr_alloc(struct ipvl_dev *slave,
					 const void *ip, bool is_v6, u8 origin)
{
	struct ipvl_addr *a = kzalloc(sizeof(*a), GFP_ATOMIC);

	if (!a)
		return NULL;
	a->slave = slave;
	a->is_v6 = is_v6;
	a->origin = origin;
	a->seen = jiffies;
	if (is_v6)
		a->ip6 = *(const struct in6_addr *)ip;
	else
		a->ip4 = *(const __be32 *)ip;
	return a;
}

static void ipvl_addr_link(struct ipvl_addr *a)
{
	struct ipvl_port *port = a->slave->port;

	lockdep_assert_held(&port->addr_lock);
	list_add_tail(&a->lnode, &a->slave->addrs);
	hlist_add_head_rcu(&a->hnode,
			   &port->addr_hash[ipvl_addr_hash(&a->ip6, a->is_v6)]);
	/* Read locklessly by the transmit path and fill_info. */
	if (a->origin == IPVL_ORIGIN_LEARNED)
		WRITE_ONCE(a->slave->n_learned, a->slave->n_learned + 1);
}

/* @slave's allow-list, NULL if unlocked. port->addr_lock held. */
static struct ipvl_allow *ipvl_addr_allow(struct ipvl_dev *slave)
{
	return rcu_dereference_protected(slave->allow,
					 lockdep_is_held(&slave->port->addr_lock));
}

/* True if @slave may own @ip: unlocked, or inside its list. */
static bool ipvl_addr_allowed(struct ipvl_dev *slave, const void *ip,
			      bool is_v6)
{
	struct ipvl_allow *al = ipvl_addr_allow(slave);

	return !al || ipvl_allow_owns(slave, al, ip, is_v6);
}

static void ipvl_addr_unlink(struct ipvl_addr *a)
{
	lockdep_assert_held(&a->slave->port->addr_lock);
	hlist_del_rcu(&a->hnode);
	list_del(&a->lnode);
	if (a->origin == IPVL_ORIGIN_LEARNED)
		WRITE_ONCE(a->slave->n_learned, a->slave->n_learned - 1);
	kfree_rcu(a, rcu);
}

/**
 * ipvl_addr_add - record that @slave owns @ip, configured by the host
 * @slave: the slave the address was configured on
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 *
 * A learned entry for @ip, on any slave, gives way.
 *
 * A locked slave does not record @ip outside its allow-list (counted).
 *
 * Return: 0 on success or if @slave already owns @ip (or may not),
 * -EADDRINUSE if another slave of the same master has it configured,
 * -ENOMEM.
 */
int ipvl_addr_add(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *old;
	int err = 0;

	a = ipvl_addr_alloc(slave, ip, is_v6, IPVL_ORIGIN_CONFIGURED);
	if (!a)
		return -ENOMEM;

	spin_lock_bh(&port->addr_lock);
	if (!ipvl_addr_allowed(slave, ip, is_v6)) {
		/* Locked: configured all the same, but owned by nobody. */
		spin_unlock_bh(&port->addr_lock);
		atomic64_inc(&slave->x_allow_refused);
		kfree(a);
		return 0;
	}
	old = ipvl_addr_lookup(port, ip, is_v6);
	if (old && old->origin == IPVL_ORIGIN_CONFIGURED) {
		err = old->slave == slave ? 0 : -EADDRINUSE;
		spin_unlock_bh(&port->addr_lock);
		kfree(a);
		return err;
	}
	if (old)
		ipvl_addr_unlink(old);
	ipvl_addr_link(a);
	spin_unlock_bh(&port->addr_lock);
	return 0;
}

/**
 * ipvl_addr_learn - record that @slave's guest uses @ip
 * @slave: the slave whose guest sent from @ip
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 *
 * Called from the transmit path. The caller checked that @ip is a
 * learnable unicast address.
 *
 * Return: 0, -EADDRINUSE if another slave owns @ip, -ENOSPC if @slave has
 * learned its maximum, -EPERM if @ip is outside @slave's allow-list,
 * -ENOMEM.
 */
int ipvl_addr_learn(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *old;
	int err = 0;

	if (READ_ONCE(slave->n_learned) >= READ_ONCE(slave->learn_max))
		return -ENOSPC;
	a = ipvl_addr_alloc(slave, ip, is_v6, IPVL_ORIGIN_LEARNED);
	if (!a)
		return -ENOMEM;

	spin_lock_bh(&port->addr_lock);
	old = ipvl_addr_lookup(port, ip, is_v6);
	if (!ipvl_addr_allowed(slave, ip, is_v6))
		err = -EPERM;
	else if (old)
		err = old->slave == slave ? 0 : -EADDRINUSE;
	else if (slave->n_learned >= READ_ONCE(slave->learn_max))
		err = -ENOSPC;
	else
		ipvl_addr_link(a);
	spin_unlock_bh(&port->addr_lock);

	if (old || err)
		kfree(a);
	return err;
}

/* One address for ipvl_addr_sync_configured(): a failure is said. */
static void ipvl_addr_sync_one(struct ipvl_dev *slave, const void *ip,
			       bool is_v6)
{
	int err = ipvl_addr_add(slave, ip, is_v6);

	/* Another slave's stays unrecorded, as when it was added. */
	if (!err || err == -EADDRINUSE)
		return;
	if (is_v6)
		netdev_warn(slave->dev, "ipvlan: cannot record %pI6c: %d\n",
			    ip, err);
	else
		netdev_warn(slave->dev, "ipvlan: cannot record %pI4: %d\n",
			    ip, err);
}

/*
 * Record the addresses configured on @slave that its allow-list @al (NULL:
 * unlocked) lets it own and that the table lacks: refused under an older,
 * narrower list without a validator to stop them (SLAAC), they stayed on
 * the device. One that another slave owns stays unrecorded, as when it
 * was added. The lists are walked as their own readers do: IPv4 under
 * RTNL, IPv6 under RCU.
 */
static void ipvl_addr_sync_configured(struct ipvl_dev *slave,
				      const struct ipvl_allow *al)
{
	struct net_device *dev = slave->dev;
	struct inet6_ifaddr *ifp;
	struct in_device *in_dev;
	struct inet6_dev *idev;
	struct in_ifaddr *ifa;

	ASSERT_RTNL();
	in_dev = __in_dev_get_rtnl(dev);
	if (in_dev) {
		in_dev_for_each_ifa_rtnl(ifa, in_dev) {
			if (!al || ipvl_allow_owns(slave, al, &ifa->ifa_local,
						   false))
				ipvl_addr_sync_one(slave, &ifa->ifa_local, false);
		}
	}
	rcu_read_lock();
	idev = __in6_dev_get(dev);
	if (idev) {
		list_for_each_entry_rcu(ifp, &idev->addr_list, if_list) {
			if (!al || ipvl_allow_owns(slave, al, &ifp->addr, true))
				ipvl_addr_sync_one(slave, &ifp->addr, true);
		}
	}
	rcu_read_unlock();
}

/**
 * ipvl_addr_set_allow - replace @slave's allow-list
 * @slave: the slave
 * @al: the new list, NULL to unlock
 * @bad: set to an address configured on @slave outside @al, on refusal
 * @bad_v6: which family @bad is
 *
 * The list is published under addr_lock, so that no address is recorded
 * against the old list once the new one is checked; learned addresses
 * outside it are forgotten, configured ones it now allows are recorded.
 * The old list is freed after a grace period. RTNL held.
 *
 * Return: 0, or -EPERM if a configured address would fall outside @al
 * (nothing changed).
 */
int ipvl_addr_set_allow(struct ipvl_dev *slave, struct ipvl_allow *al,
			union ipvl_ip *bad, bool *bad_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *tmp;
	struct ipvl_allow *old;

	ASSERT_RTNL();
	spin_lock_bh(&port->addr_lock);
	list_for_each_entry(a, &slave->addrs, lnode) {
		if (!al || a->origin != IPVL_ORIGIN_CONFIGURED ||
		    ipvl_allow_owns(slave, al, &a->ip6, a->is_v6))
			continue;
		if (a->is_v6)
			bad->ip6 = a->ip6;
		else
			bad->ip4 = a->ip4;
		*bad_v6 = a->is_v6;
		spin_unlock_bh(&port->addr_lock);
		return -EPERM;
	}
	old = ipvl_addr_allow(slave);
	rcu_assign_pointer(slave->allow, al);
	list_for_each_entry_safe(a, tmp, &slave->addrs, lnode) {
		if (al && !ipvl_allow_owns(slave, al, &a->ip6, a->is_v6))
			ipvl_addr_unlink(a);
	}
	spin_unlock_bh(&port->addr_lock);
	if (old)
		kfree_rcu(old, rcu);
	ipvl_addr_sync_configured(slave, al);
	return 0;
}

/* Forget that @slave has @ip configured; a no-op if it does not. */
void ipvl_addr_del(struct ipvl_dev *slave, const void *ip, bool is_v6)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a;

	spin_lock_bh(&port->addr_lock);
	a = ipvl_addr_lookup(port, ip, is_v6);
	if (a && a->slave == slave && a->origin == IPVL_ORIGIN_CONFIGURED)
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

/* Drop the learned addresses of @slave. */
void ipvl_addr_flush_learned(struct ipvl_dev *slave)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *tmp;

	spin_lock_bh(&port->addr_lock);
	list_for_each_entry_safe(a, tmp, &slave->addrs, lnode) {
		if (a->origin == IPVL_ORIGIN_LEARNED)
			ipvl_addr_unlink(a);
	}
	spin_unlock_bh(&port->addr_lock);
}

/* Drop learned addresses of @slave unused for @timeout jiffies. */
void ipvl_addr_age(struct ipvl_dev *slave, unsigned long timeout)
{
	struct ipvl_port *port = slave->port;
	struct ipvl_addr *a, *tmp;

	spin_lock_bh(&port->addr_lock);
	list_for_each_entry_safe(a, tmp, &slave->addrs, lnode) {
		if (a->origin == IPVL_ORIGIN_LEARNED &&
		    time_after(jiffies, READ_ONCE(a->seen) + timeout)) {
			ipvl_addr_unlink(a);
			atomic64_inc(&slave->x_expired);
		}
	}
	spin_unlock_bh(&port->addr_lock);
}

/*
 * True if a slave of @dev's port other than @dev has @ip configured (a
 * learned owner gives way to the host's configuration).
 */
static bool ipvl_addr_taken(struct net_device *dev, const void *ip, bool is_v6)
{
	struct ipvl_dev *slave = netdev_priv(dev);
	struct ipvl_addr *a;
	bool taken;

	rcu_read_lock();
	a = ipvl_addr_lookup(slave->port, ip, is_v6);
	taken = a && a->slave != slave &&
		READ_ONCE(a->origin) == IPVL_ORIGIN_CONFIGURED;
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
	int err;

	if (event != NETDEV_UP || !ipvl_is_slave(dev))
		return NOTIFY_DONE;
	err = ipvl_allow_check_addr(netdev_priv(dev), &ivi->ivi_addr, false,
				    ivi->extack);
	if (err)
		return notifier_from_errno(err);
	if (ipvl_addr_taken(dev, &ivi->ivi_addr, false)) {
		NL_SET_ERR_MSG(ivi->extack,
			       "address already in use by another slave of this master");
		return notifier_from_errno(-EADDRINUSE);
	}
	return NOTIFY_OK;
}

static int ipvl_inet6addr_validate(struct notifier_block *nb,
				   unsigned long event, void *ptr)
{
	struct in6_validator_info *i6vi = ptr;
	struct net_device *dev = i6vi->i6vi_dev->dev;
	int err;

	if (event != NETDEV_UP || !ipvl_is_slave(dev))
		return NOTIFY_DONE;
	err = ipvl_allow_check_addr(netdev_priv(dev), &i6vi->i6vi_addr, true,
				    i6vi->extack);
	if (err)
		return notifier_from_errno(err);
	if (ipvl_addr_taken(dev, &i6vi->i6vi_addr, true)) {
		NL_SET_ERR_MSG(i6vi->extack,
			       "address already in use by another slave of this master");
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
	int err;

	ipvl_hash_seed = get_random_u32();
	err = register_inetaddr_validator_notifier(&ipvl_inetaddr_validator_nb);
	if (err)
		return err;
	err = register_inetaddr_notifier(&ipvl_inetaddr_nb);
	if (err)
		goto err_inet;
	err = register_inet6addr_validator_notifier(&ipvl_inet6addr_validator_nb);
	if (err)
		goto err_inet6_validator;
	err = register_inet6addr_notifier(&ipvl_inet6addr_nb);
	if (err)
		goto err_inet6;
	return 0;

err_inet6:
	unregister_inet6addr_validator_notifier(&ipvl_inet6addr_validator_nb);
err_inet6_validator:
	unregister_inetaddr_notifier(&ipvl_inetaddr_nb);
err_inet:
	unregister_inetaddr_validator_notifier(&ipvl_inetaddr_validator_nb);
	return err;
}

void ipvl_addr_notifiers_unregister(void)
{
	unregister_inet6addr_notifier(&ipvl_inet6addr_nb);
	unregister_inet6addr_validator_notifier(&ipvl_inet6addr_validator_nb);
	unregister_inetaddr_notifier(&ipvl_inetaddr_nb);
	unregister_inetaddr_validator_notifier(&ipvl_inetaddr_validator_nb);
}

/*
 * The type of @ip in the master's namespace, as the master's local table
 * (its l3mdev's, if any) says. inet_addr_type_dev_table() answers
 * RTN_BROADCAST for any address while the namespace has no such table yet
 * (no IPv4 address was ever configured there, not even lo's 127.0.0.1):
 * then no address is local or broadcast, and this says RTN_UNICAST.
 */
unsigned int ipvl_master_addr_type4(const struct net_device *master,
				    __be32 ip)
{
	struct net *net = dev_net(master);
	unsigned int type;

	type = inet_addr_type_dev_table(net, master, ip);
	if (type == RTN_BROADCAST && !ipv4_is_lbcast(ip) &&
	    !ipv4_is_zeronet(ip) &&
	    inet_addr_type_dev_table(net, master, htonl(INADDR_LOOPBACK)) ==
	    RTN_BROADCAST)
		return RTN_UNICAST;
	return type;
}
