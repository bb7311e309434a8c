/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compatibility shims between the kernels ipvtap builds against: Debian's
 * 6.1 (bookworm), 6.12 (trixie) and 7.3 (trixie-backports). Each shim is
 * keyed on what the kernel provides: a macro or a type tested here, or,
 * for a changed parameter list, an IPVTAP_HAVE_* that the top-level Kbuild
 * sets from the kernel's own header; none on the version. Each names the
 * kernel change it covers.
 */
#ifndef _IPVTAP_COMPAT_H
#define _IPVTAP_COMPAT_H

#include <linux/device/class.h>
#include <linux/netdevice.h>
#include <net/flow.h>
#include <net/inet_dscp.h>
#include <net/route.h>
#include <net/rtnetlink.h>

/*
 * struct class: namespace() takes a const device and owner is gone (6.4,
 * "driver core: class: make namespace and get_ownership take const *").
 * IPVTAP_HAVE_CLASS_NS_CONST: Kbuild.
 */
#ifdef IPVTAP_HAVE_CLASS_NS_CONST
#define IPVTAP_CLASS_NS_CONST	const
#define IPVTAP_CLASS_OWNER
#else
#define IPVTAP_CLASS_NS_CONST
#define IPVTAP_CLASS_OWNER	.owner = THIS_MODULE,
#endif

/*
 * struct class: namespace() returns the namespace's const struct
 * ns_common * since the kobject namespace rework (between 6.12 and 7.3),
 * a const void * (the struct net itself) before. The header's own return
 * type tells which.
 */
#define ipvtap_class_ns_t	typeof(((struct class *)NULL)->namespace(NULL))

static inline ipvtap_class_ns_t ipvtap_class_ns_of(const struct net *net)
{
	if (__builtin_types_compatible_p(ipvtap_class_ns_t, const void *))
		return (const void *)net;
	return (const void *)&net->ns;
}

/*
 * NETIF_F_LLTX became the core-private flag dev->lltx (6.12, "net: move
 * NETIF_F_LLTX to priv flags").
 */
#ifdef NETIF_F_LLTX
#define IPVL_F_LLTX		NETIF_F_LLTX
static inline void ipvl_set_lltx(struct net_device *dev)
{
}
#else
#define IPVL_F_LLTX		0
static inline void ipvl_set_lltx(struct net_device *dev)
{
	dev->lltx = true;
}
#endif

/*
 * dev_get_flags() is netif_get_flags() (between 6.12 and 7.3, the core's
 * netif_ names for calls made with the device's instance lock).
 * IPVTAP_HAVE_NETIF_GET_FLAGS: Kbuild.
 */
#ifdef IPVTAP_HAVE_NETIF_GET_FLAGS
#define ipvl_get_flags(dev)	netif_get_flags(dev)
#else
#define ipvl_get_flags(dev)	dev_get_flags(dev)
#endif

/*
 * netdev_lockdep_set_classes() is gone: the core gives every device its
 * own lock classes (between 6.12 and 7.3).
 */
#ifdef netdev_lockdep_set_classes
#define ipvl_lockdep_set_classes(dev)	netdev_lockdep_set_classes(dev)
#else
#define ipvl_lockdep_set_classes(dev)	do { } while (0)
#endif

/*
 * struct flowi4: the TOS key became a dscp_t, flowi4_dscp (between 6.12
 * and 7.3, "ipv4: Convert ip_route_output_flow() users to dscp_t").
 */
static inline void ipvl_flowi4_set_tos(struct flowi4 *fl4, u8 tos)
{
#ifdef flowi4_dscp
	fl4->flowi4_dscp = inet_dsfield_to_dscp(tos);
#else
	fl4->flowi4_tos = RT_TOS(tos);
#endif
}

/*
 * ip_route_input_noref() takes the DSCP as a dscp_t ("ipv4: Convert
 * ip_route_input_noref() to dscp_t", after 6.12), a TOS byte before.
 * IPVTAP_HAVE_ROUTE_INPUT_DSCP: Kbuild.
 */
static inline void ipvl_route_input(struct sk_buff *skb, __be32 daddr,
				    __be32 saddr, u8 tos,
				    struct net_device *dev)
{
#ifdef IPVTAP_HAVE_ROUTE_INPUT_DSCP
	ip_route_input_noref(skb, daddr, saddr, inet_dsfield_to_dscp(tos), dev);
#else
	ip_route_input_noref(skb, daddr, saddr, tos, dev);
#endif
}

/*
 * rtnl_link_ops->newlink: its netlink arguments come packed in struct
 * rtnl_newlink_params ("rtnetlink: Pack newlink() params into struct",
 * after 6.12; IPVTAP_HAVE_NEWLINK_PARAMS: Kbuild); the net IFLA_LINK
 * names a device of is rtnl_newlink_link_net() (IFLA_LINK_NETNSID's, else
 * the socket's), which older kernels pass as src_net. IPVL_RTNL_NEWLINK(
 * name, fn) defines the callback name() for fn(net, dev, tb, data, extack).
 */
#ifdef IPVTAP_HAVE_NEWLINK_PARAMS
#define IPVL_RTNL_NEWLINK(name, fn)					\
static int name(struct net_device *dev,					\
		struct rtnl_newlink_params *params,			\
		struct netlink_ext_ack *extack)				\
{									\
	return fn(rtnl_newlink_link_net(params), dev, params->tb,	\
		  params->data, extack);				\
}
#else
#define IPVL_RTNL_NEWLINK(name, fn)					\
static int name(struct net *src_net, struct net_device *dev,		\
		struct nlattr *tb[], struct nlattr *data[],		\
		struct netlink_ext_ack *extack)				\
{									\
	return fn(src_net, dev, tb, data, extack);			\
}
#endif

/*
 * NL_SET_ERR_MSG_FMT came in 6.2: before it, an extack message cannot be
 * formatted, and IPVL_ERR_MSG_FMT() sets the fixed one instead.
 */
#ifdef NL_SET_ERR_MSG_FMT
#define IPVL_ERR_MSG_FMT(extack, fixed, fmt, args...)			\
	NL_SET_ERR_MSG_FMT(extack, fmt, ##args)
#else
#define IPVL_ERR_MSG_FMT(extack, fixed, fmt, args...)			\
	NL_SET_ERR_MSG(extack, fixed)
#endif

#endif /* _IPVTAP_COMPAT_H */
