// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allow-list of a slave: the configuration lock of the IPvlan paper
 * ("lock-down configuration from slaves' namespace"). The rules are in
 * include/uapi/ipvlan_ext.h; in short, a locked slave may own and send
 * from the addresses inside its list only, and only the master's
 * namespace changes the list.
 *
 * The list is an array of at most IPVLAN_ALLOW_MAX_PREFIXES prefixes,
 * replaced whole on every change (ipvl_addr_set_allow(), under RTNL and
 * the port's addr_lock) and freed after a grace period. The transmit path
 * reads the pointer once per frame: NULL, the default, costs nothing more;
 * a list costs one header parse and a walk over its prefixes.
 *
 * What the lock refuses from the slave's namespace (any caller without
 * CAP_NET_ADMIN over the master's namespace):
 *  - changing the list (EPERM, here);
 *  - configuring an address outside it (the address validators, addr.c);
 *  - every setting of IFLA_INFO_DATA, and new slaves through it: refused
 *    locked or not (netlink.c), counted in the lock's refusals when
 *    locked.
 * Left to it, as they touch only the slave itself: up/down, MTU (bounded
 * by the master's), deleting it, moving it to a namespace it owns (the
 * list goes with it), promiscuous mode. Its MAC cannot change at all.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/inetdevice.h>
#include <linux/ipv6.h>
#include <linux/socket.h>
#include <net/addrconf.h>
#include <net/genetlink.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

static bool ipvl_allow_match(const struct ipvl_allow *al, const void *ip,
			     bool is_v6)
{
	const struct ipvl_allow_pfx *p;
	unsigned int i;

	for (i = 0; i < al->n; i++) {
		p = &al->pfx[i];
		if (p->is_v6 != is_v6)
			continue;
		if (is_v6) {
			if (ipv6_prefix_equal(ip, &p->addr.ip6, p->plen))
				return true;
		} else if (!((*(const __be32 *)ip ^ p->addr.ip4) &
			     inet_make_mask(p->plen))) {
			return true;
		}
	}
	return false;
}

/*
 * The link-local address the kernel gives the slave with addr_gen_mode
 * eui64: the shared MAC with the slave's dev_id in the middle, unique on
 * the port.
 */
static bool ipvl_allow_own_ll(struct ipvl_dev *slave,
			      const struct in6_addr *ip)
{
	u8 eui[8];

	if (ip->s6_addr32[0] != htonl(0xfe800000) || ip->s6_addr32[1])
		return false;
	if (addrconf_ifid_eui48(eui, slave->dev))
		return false;
	return !memcmp(&ip->s6_addr[8], eui, sizeof(eui));
}

/**
 * ipvl_allow_owns - may a locked slave own and send from an address
 * @slave: the slave
 * @al: its allow-list
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 *
 * Return: true if @ip is inside @al or is @slave's own link-local.
 */
bool ipvl_allow_owns(struct ipvl_dev *slave, const struct ipvl_allow *al,
		     const void *ip, bool is_v6)
{
	if (ipvl_allow_match(al, ip, is_v6))
		return true;
	return is_v6 && ipvl_allow_own_ll(slave, ip);
}

/*
 * The addresses a frame speaks for must be the slave's. The unspecified
 * source names nobody and passes, but a probe from it (ARP probe, DAD
 * solicitation) must be for an address of the slave: another host's
 * probe for its tentative address makes it give the address up.
 */
static bool ipvl_allow_frame(struct ipvl_dev *slave,
			     const struct ipvl_allow *al,
			     const struct ipvl_l3hdr *h, bool arp)
{
	bool any;

	if (h->is_v6) {
		any = ipv6_addr_any(&h->src.ip6);
		if (!any && !ipvl_allow_owns(slave, al, &h->src.ip6, true))
			return false;
		if (h->nd_type == NDISC_NEIGHBOUR_ADVERTISEMENT ||
		    (any && h->nd_type == NDISC_NEIGHBOUR_SOLICITATION))
			return ipvl_allow_owns(slave, al, &h->nd_target, true);
		return true;
	}
	if (h->src.ip4 != htonl(INADDR_ANY))
		return ipvl_allow_owns(slave, al, &h->src.ip4, false);
	return !arp || ipvl_allow_owns(slave, al, &h->dst.ip4, false);
}

/*
 * True if @skb (IPv6) carries neighbour discovery behind extension headers,
 * or a chain of them that cannot be read. The parser reads ND only right
 * after the IPv6 header, so a Hop-by-Hop or Destination Options header
 * would hide an advertisement (or a DAD solicitation) for another host's
 * address from the rules above; ND never needs one (MLD, which does, is
 * not ND and passes).
 */
static bool ipvl_allow_nd_hidden(const struct sk_buff *skb)
{
	const struct ipv6hdr *ip6;
	struct ipv6hdr _ip6;
	__be16 frag_off;
	const u8 *type;
	u8 nexthdr, _t;
	int off;

	ip6 = skb_header_pointer(skb, ETH_HLEN, sizeof(_ip6), &_ip6);
	if (!ip6 || !ipv6_ext_hdr(ip6->nexthdr))
		return false;
	nexthdr = ip6->nexthdr;
	off = ipv6_skip_exthdr(skb, ETH_HLEN + sizeof(*ip6), &nexthdr,
			       &frag_off);
	if (off < 0)
		return true;
	if (nexthdr != IPPROTO_ICMPV6 || (frag_off & htons(IP6_OFFSET)))
		return false;
	type = skb_header_pointer(skb, off, sizeof(_t), &_t);
	return !type || (*type >= NDISC_ROUTER_SOLICITATION &&
			 *type <= NDISC_REDIRECT);
}

/**
 * ipvl_allow_tx - may a locked slave send this frame
 * @slave: the slave
 * @al: its allow-list
 * @skb: the frame, Ethernet header at skb->data
 *
 * Runs under RCU on the transmit path, before learning.
 *
 * Return: false if the frame must be dropped (counted).
 */
bool ipvl_allow_tx(struct ipvl_dev *slave, const struct ipvl_allow *al,
		   const struct sk_buff *skb)
{
	__be16 proto = eth_hdr(skb)->h_proto;
	struct ipvl_l3hdr h;

	if (skb_vlan_tag_present(skb) ||
	    !ipvl_parse_l3(skb, ETH_HLEN, proto, &h)) {
		atomic64_inc(&slave->x_allow_proto_drops);
		return false;
	}
	if (ipvl_allow_frame(slave, al, &h, proto == htons(ETH_P_ARP)) &&
	    !(h.is_v6 && ipvl_allow_nd_hidden(skb)))
		return true;
	atomic64_inc(&slave->x_allow_drops);
	return false;
}

/**
 * ipvl_allow_check_addr - may an address be configured on a slave
 * @slave: the slave
 * @ip: pointer to a __be32 or a struct in6_addr
 * @is_v6: which of the two @ip points to
 * @extack: the request's, may be NULL
 *
 * Called by the address validators.
 *
 * Return: 0, or -EPERM if @slave is locked and @ip is outside its list.
 */
int ipvl_allow_check_addr(struct ipvl_dev *slave, const void *ip, bool is_v6,
			  struct netlink_ext_ack *extack)
{
	const struct ipvl_allow *al;
	bool ok;

	rcu_read_lock();
	al = rcu_dereference(slave->allow);
	ok = !al || ipvl_allow_owns(slave, al, ip, is_v6);
	rcu_read_unlock();
	if (ok)
		return 0;
	atomic64_inc(&slave->x_allow_refused);
	NL_SET_ERR_MSG(extack,
		       "ipvlan: address outside this slave's allow-list (set from the master's namespace: ipvlanctl allow)");
	return -EPERM;
}

/* The slave is going away (RTNL): its list goes after a grace period. */
void ipvl_allow_free(struct ipvl_dev *slave)
{
	struct ipvl_allow *al = rtnl_dereference(slave->allow);

	RCU_INIT_POINTER(slave->allow, NULL);
	if (al)
		kfree_rcu(al, rcu);
}

/* Counters in IFLA_IPVLAN_X_STATS ------------------------------------- */

size_t ipvl_allow_stats_size(void)
{
	return 4 * nla_total_size_64bit(sizeof(u64));
}

int ipvl_allow_fill_stats(struct sk_buff *skb, struct ipvl_dev *slave)
{
	const struct ipvl_allow *al;
	int n = -1;

	rcu_read_lock();
	al = rcu_dereference(slave->allow);
	if (al)
		n = al->n;
	rcu_read_unlock();

	if (nla_put_u64_64bit(skb, IPVLAN_X_STATS_ALLOW_DROPS,
			      atomic64_read(&slave->x_allow_drops),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_ALLOW_PROTO_DROPS,
			      atomic64_read(&slave->x_allow_proto_drops),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_ALLOW_REFUSED,
			      atomic64_read(&slave->x_allow_refused),
			      IPVLAN_X_STATS_PAD))
		return -EMSGSIZE;
	if (n >= 0 &&
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_ALLOW_PREFIXES, n,
			      IPVLAN_X_STATS_PAD))
		return -EMSGSIZE;
	return 0;
}

/* Generic netlink: IPVLAN_CMD_ALLOW_* ---------------------------------- */

const struct nla_policy ipvl_allow_policy[IPVLAN_ALLOW_A_MAX + 1] = {
	[IPVLAN_ALLOW_A_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),
	[IPVLAN_ALLOW_A_NETNS_PID]	= { .type = NLA_U32 },
	[IPVLAN_ALLOW_A_NETNS_FD]	= { .type = NLA_U32 },
	[IPVLAN_ALLOW_A_PREFIX]		=
		NLA_POLICY_EXACT_LEN(sizeof(struct ipvlan_allow_prefix)),
	[IPVLAN_ALLOW_A_LOCKED]		= {
		.type = NLA_REJECT,
		.reject_message = "the lock is reported, not requested",
	},
};

/* The namespace the request names the slave in; a reference. */
static struct net *ipvl_allow_req_net(struct genl_info *info)
{
	struct nlattr *pid = info->attrs[IPVLAN_ALLOW_A_NETNS_PID];
	struct nlattr *fd = info->attrs[IPVLAN_ALLOW_A_NETNS_FD];
	struct net *net;

	if (pid && fd) {
		NL_SET_ERR_MSG_ATTR(info->extack, fd,
				    "name the slave's namespace by pid or by fd, not both");
		return ERR_PTR(-EINVAL);
	}
	if (pid) {
		net = get_net_ns_by_pid(nla_get_u32(pid));
		if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(info->extack, pid,
					    "no such process");
		return net;
	}
	if (fd) {
		net = get_net_ns_by_fd(nla_get_u32(fd));
		if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(info->extack, fd,
					    "not a network namespace file descriptor");
		return net;
	}
	return get_net(genl_info_net(info));
}

/*
 * The slave a request names, RTNL held. Reading a slave of another
 * namespace than the requester's takes CAP_NET_ADMIN over that namespace
 * or the master's; changing a list always takes it over the master's.
 */
static struct ipvl_dev *ipvl_allow_req_slave(struct sk_buff *skb,
					     struct genl_info *info,
					     struct net *net, bool write)
{
	struct nlattr *attr = info->attrs[IPVLAN_ALLOW_A_IFINDEX];
	struct user_namespace *master_ns;
	struct ipvl_dev *slave;
	struct net_device *dev;

	ASSERT_RTNL();
	if (!attr) {
		NL_SET_ERR_MSG(info->extack,
			       "which slave? IPVLAN_ALLOW_A_IFINDEX is missing");
		return ERR_PTR(-EINVAL);
	}
	dev = __dev_get_by_index(net, nla_get_u32(attr));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "no such device in the slave's namespace");
		return ERR_PTR(-ENODEV);
	}
	if (!ipvl_is_slave(dev)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "not an ipvlan or ipvtap device");
		return ERR_PTR(-EOPNOTSUPP);
	}
	slave = netdev_priv(dev);
	master_ns = dev_net(slave->master)->user_ns;
	if (netlink_ns_capable(skb, master_ns, CAP_NET_ADMIN))
		return slave;
	if (write) {
		if (rtnl_dereference(slave->allow))
			atomic64_inc(&slave->x_allow_refused);
		NL_SET_ERR_MSG(info->extack,
			       "the allow-list is set from the master's namespace only (CAP_NET_ADMIN there)");
		return ERR_PTR(-EPERM);
	}
	if (!net_eq(net, genl_info_net(info)) &&
	    !netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN)) {
		NL_SET_ERR_MSG(info->extack,
			       "reading a slave of another namespace needs CAP_NET_ADMIN over it or the master's");
		return ERR_PTR(-EPERM);
	}
	return slave;
}

int ipvl_allow_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct ipvlan_allow_prefix ap;
	const struct ipvl_allow *al;
	struct ipvl_dev *slave;
	struct sk_buff *msg;
	struct net *net;
	unsigned int i;
	int err = 0;
	void *hdr;

	net = ipvl_allow_req_net(info);
	if (IS_ERR(net))
		return PTR_ERR(net);
	msg = genlmsg_new(nla_total_size(sizeof(u32)) + nla_total_size(1) +
			  IPVLAN_ALLOW_MAX_PREFIXES *
			  nla_total_size(sizeof(ap)), GFP_KERNEL);
	if (!msg) {
		put_net(net);
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &ipvl_genl_family, 0,
				IPVLAN_CMD_ALLOW_GET);
	if (!hdr) {
		put_net(net);
		err = -EMSGSIZE;
		goto out_free;
	}

	rtnl_lock();
	slave = ipvl_allow_req_slave(skb, info, net, false);
	if (IS_ERR(slave)) {
		err = PTR_ERR(slave);
		goto out_unlock;
	}
	al = rtnl_dereference(slave->allow);
	if (nla_put_u32(msg, IPVLAN_ALLOW_A_IFINDEX, slave->dev->ifindex) ||
	    nla_put_u8(msg, IPVLAN_ALLOW_A_LOCKED, !!al)) {
		err = -EMSGSIZE;
		goto out_unlock;
	}
	for (i = 0; al && i < al->n; i++) {
		memset(&ap, 0, sizeof(ap));
		ap.family = al->pfx[i].is_v6 ? AF_INET6 : AF_INET;
		ap.prefixlen = al->pfx[i].plen;
		if (al->pfx[i].is_v6)
			memcpy(ap.addr, &al->pfx[i].addr.ip6, 16);
		else
			memcpy(ap.addr, &al->pfx[i].addr.ip4, 4);
		if (nla_put(msg, IPVLAN_ALLOW_A_PREFIX, sizeof(ap), &ap)) {
			err = -EMSGSIZE;
			goto out_unlock;
		}
	}
out_unlock:
	rtnl_unlock();
	put_net(net);
	if (err)
		goto out_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
	return err;
}

/* Read one IPVLAN_ALLOW_A_PREFIX (its length checked by the policy). */
static int ipvl_allow_parse_pfx(const struct nlattr *nla,
				struct ipvl_allow_pfx *p,
				struct netlink_ext_ack *extack)
{
	const struct ipvlan_allow_prefix *ap = nla_data(nla);
	struct in6_addr masked;
	unsigned int i;

	if (ap->pad[0] || ap->pad[1]) {
		NL_SET_ERR_MSG_ATTR(extack, nla, "prefix padding must be zero");
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->plen = ap->prefixlen;
	switch (ap->family) {
	case AF_INET:
		if (ap->prefixlen > 32) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "IPv4 prefix length above 32");
			return -EINVAL;
		}
		for (i = 4; i < sizeof(ap->addr); i++) {
			if (ap->addr[i]) {
				NL_SET_ERR_MSG_ATTR(extack, nla,
						    "IPv4 prefix: bytes 4..15 of the address must be zero");
				return -EINVAL;
			}
		}
		memcpy(&p->addr.ip4, ap->addr, 4);
		if (p->addr.ip4 & ~inet_make_mask(p->plen)) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "host bits set beyond the prefix length");
			return -EINVAL;
		}
		return 0;
	case AF_INET6:
		if (ap->prefixlen > 128) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "IPv6 prefix length above 128");
			return -EINVAL;
		}
		p->is_v6 = true;
		memcpy(&p->addr.ip6, ap->addr, 16);
		ipv6_addr_prefix(&masked, &p->addr.ip6, p->plen);
		if (!ipv6_addr_equal(&masked, &p->addr.ip6)) {
			NL_SET_ERR_MSG_ATTR(extack, nla,
					    "host bits set beyond the prefix length");
			return -EINVAL;
		}
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, nla, "family must be AF_INET or AF_INET6");
	return -EAFNOSUPPORT;
}

static int ipvl_allow_find(const struct ipvl_allow *al,
			   const struct ipvl_allow_pfx *p)
{
	unsigned int i;

	for (i = 0; al && i < al->n; i++) {
		const struct ipvl_allow_pfx *q = &al->pfx[i];

		if (q->is_v6 == p->is_v6 && q->plen == p->plen &&
		    (p->is_v6 ? ipv6_addr_equal(&q->addr.ip6, &p->addr.ip6) :
				q->addr.ip4 == p->addr.ip4))
			return i;
	}
	return -1;
}

static struct ipvl_allow *ipvl_allow_alloc(void)
{
	struct ipvl_allow *al;

	al = kzalloc(struct_size(al, pfx, IPVLAN_ALLOW_MAX_PREFIXES),
		     GFP_KERNEL);
	return al;
}

/*
 * The list a request makes of @old (NULL: unlocked): a new array, or an
 * ERR_PTR with the reason in extack. Nothing is published here.
 */
static struct ipvl_allow *ipvl_allow_edit(const struct ipvl_allow *old,
					  struct genl_info *info)
{
	u8 cmd = info->genlhdr->cmd;
	struct ipvl_allow_pfx p;
	struct ipvl_allow *al;
	struct nlattr *nla;
	int rem, i, err;

	if (cmd == IPVLAN_CMD_ALLOW_DEL && !old) {
		NL_SET_ERR_MSG(info->extack,
			       "the slave has no allow-list to remove from");
		return ERR_PTR(-ENOENT);
	}
	al = ipvl_allow_alloc();
	if (!al)
		return ERR_PTR(-ENOMEM);
	if (old && cmd != IPVLAN_CMD_ALLOW_FLUSH) {
		al->n = old->n;
		memcpy(al->pfx, old->pfx, old->n * sizeof(old->pfx[0]));
	}

	nla_for_each_attr(nla, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(nla) != IPVLAN_ALLOW_A_PREFIX)
			continue;
		if (cmd != IPVLAN_CMD_ALLOW_ADD && cmd != IPVLAN_CMD_ALLOW_DEL) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "this command takes no prefix");
			err = -EINVAL;
			goto err;
		}
		err = ipvl_allow_parse_pfx(nla, &p, info->extack);
		if (err)
			goto err;
		i = ipvl_allow_find(al, &p);
		if (cmd == IPVLAN_CMD_ALLOW_DEL) {
			if (i < 0) {
				NL_SET_ERR_MSG_ATTR(info->extack, nla,
						    "prefix not in the allow-list");
				err = -ENOENT;
				goto err;
			}
			al->pfx[i] = al->pfx[--al->n];
			continue;
		}
		if (i >= 0)
			continue;
		if (al->n == IPVLAN_ALLOW_MAX_PREFIXES) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "an allow-list holds at most 64 prefixes");
			err = -ENOSPC;
			goto err;
		}
		al->pfx[al->n++] = p;
	}
	return al;
err:
	kfree(al);
	return ERR_PTR(err);
}

/* IPVLAN_CMD_ALLOW_ADD, _DEL, _FLUSH and _UNLOCK. */
int ipvl_allow_nl_set(struct sk_buff *skb, struct genl_info *info)
{
	struct ipvl_allow *al = NULL;
	struct ipvl_dev *slave;
	bool bad_v6 = false;
	union ipvl_ip bad;
	struct net *net;
	int err;

	net = ipvl_allow_req_net(info);
	if (IS_ERR(net))
		return PTR_ERR(net);

	rtnl_lock();
	slave = ipvl_allow_req_slave(skb, info, net, true);
	if (IS_ERR(slave)) {
		err = PTR_ERR(slave);
		goto out;
	}
	if (info->genlhdr->cmd != IPVLAN_CMD_ALLOW_UNLOCK) {
		al = ipvl_allow_edit(rtnl_dereference(slave->allow), info);
		if (IS_ERR(al)) {
			err = PTR_ERR(al);
			goto out;
		}
	} else if (info->attrs[IPVLAN_ALLOW_A_PREFIX]) {
		/* As FLUSH: a prefix here is a mistake, not to be ignored. */
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[IPVLAN_ALLOW_A_PREFIX],
				    "this command takes no prefix");
		err = -EINVAL;
		goto out;
	}
	err = ipvl_addr_set_allow(slave, al, &bad, &bad_v6);
	if (err) {
		/* Formatted messages hold 80 characters. */
		if (bad_v6)
			IPVL_ERR_MSG_FMT(info->extack,
					 "an address configured on the slave would be outside the allow-list: remove it first",
					 "%pI6c is configured, outside the allow-list",
					 &bad.ip6);
		else
			IPVL_ERR_MSG_FMT(info->extack,
					 "an address configured on the slave would be outside the allow-list: remove it first",
					 "%pI4 is configured, outside the allow-list",
					 &bad.ip4);
		kfree(al);
	}
out:
	rtnl_unlock();
	put_net(net);
	return err;
}
