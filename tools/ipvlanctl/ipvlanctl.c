// SPDX-License-Identifier: GPL-2.0
/*
 * ipvlanctl: show and set the extensions of ipvlan/ipvtap links that
 * iproute2 does not know (guest address learning, the multicast backlog,
 * the ARP filter, the default slave of the L3 modes, MAC-NAT, the host path, see
 * include/uapi/ipvlan_ext.h), over raw rtnetlink,
 * and the address table and the allow-lists, from generic netlink family
 * "ipvlan".
 *
 *   ipvlanctl show [DEV] [--json]
 *   ipvlanctl addrs [DEV]
 *   ipvlanctl allow DEV [--netns PATH|PID] [show [--json]|add PREFIX...|
 *                        del PREFIX...|flush|off]
 *   ipvlanctl set DEV [learn on|off] [learn-max N] [learn-timeout SEC]
 *                     [flush] [mc-queue-len N] [arp-filter on|off]
 *                     [default on|off] [mac-nat on|off] [host on|off]
 *   ipvlanctl help
 *
 * Exit status: 0 success, 1 error (the kernel refused, no such device,
 * extensions not supported, ...), 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "uapi/ipvlan_ext.h"
#include "nl.h"

#define NL_RECV_SIZE		65536
#define KIND_SIZE		16

#define EXIT_USAGE		2

static const char *prog = "ipvlanctl";

/* A slave's allow-list, as IPVLAN_CMD_ALLOW_GET reports it. */
struct allow {
	bool		available;	/* the kernel has the commands */
	bool		locked;
	int		n;
	char		pfx[IPVLAN_ALLOW_MAX_PREFIXES][64];
};

/* One ipvlan/ipvtap link as RTM_GETLINK reports it. */
struct link {
	int		ifindex;
	char		name[IF_NAMESIZE];
	char		kind[KIND_SIZE];
	int		master;		/* IFLA_LINK, 0 if not reported */
	bool		has_netnsid;	/* master in another netns */
	int		netnsid;
	int		mode;		/* -1 if not reported */
	int		flags;		/* -1 if not reported */
	bool		has_learn;	/* kernel knows the extensions */
	bool		learn;
	bool		has_max;
	__u32		learn_max;
	bool		has_timeout;
	__u32		learn_timeout;
	bool		has_count;
	__u32		count;
	bool		has_mcq;
	__u32		mc_queue_len;
	bool		has_arpf;
	bool		arp_filter;
	bool		has_default;
	bool		is_default;
	bool		has_macnat;	/* IFLA_IPVLAN_X_EXT's MAC-NAT */
	bool		mac_nat;
	bool		has_guest_mac;
	__u8		guest_mac[6];
	bool		has_host;
	bool		host;
	bool		has_stats;
	bool		has_stat[IPVLAN_X_STATS_MAX + 1];
	__u64		stat[IPVLAN_X_STATS_MAX + 1];
	struct allow	allow;		/* filled by cmd_show */
};

struct link_list {
	struct link	*v;
	size_t		n;
	size_t		cap;
};

/* One entry of the address table dump. */
struct addr {
	int		ifindex;
	char		family[8];
	char		address[64];
	char		origin[16];
	unsigned long	age_ms;
};

struct addr_list {
	struct addr	*v;
	size_t		n;
	size_t		cap;
	bool		available;	/* the kernel has the family */
};

struct req {
	struct nlmsghdr		nh;
	struct ifinfomsg	ifi;
	char			attrs[512];
};

/* A generic netlink request. */
struct greq {
	struct nlmsghdr		nh;
	struct genlmsghdr	g;
	char			attrs[64];
};

static const char * const stat_names[IPVLAN_X_STATS_MAX + 1] = {
	[IPVLAN_X_STATS_LEARNED]	= "learned",
	[IPVLAN_X_STATS_EXPIRED]	= "expired",
	[IPVLAN_X_STATS_SPOOF_DROPS]	= "spoof_drops",
	[IPVLAN_X_STATS_MAC_DROPS]	= "mac_drops",
	[IPVLAN_X_STATS_CAP_DROPS]	= "cap_drops",
	[IPVLAN_X_STATS_MC_DROPS]	= "mc_drops",
	[IPVLAN_X_STATS_ARP_FILTERED]	= "arp_filtered",
	[IPVLAN_X_STATS_DEFAULT_RX]	= "default_rx",
	[IPVLAN_X_STATS_MC_INLINE]	= "mc_inline",
	[IPVLAN_X_STATS_DHCP_TRACKED]	= "dhcp_tracked",
	[IPVLAN_X_STATS_DHCP_DELIVERED]	= "dhcp_delivered",
	[IPVLAN_X_STATS_DHCP_BAD]	= "dhcp_bad",
	[IPVLAN_X_STATS_DHCP_UNTRACKED]	= "dhcp_untracked",
	[IPVLAN_X_STATS_DHCP_UNMATCHED]	= "dhcp_unmatched",
	[IPVLAN_X_STATS_DHCP_RX_BAD]	= "dhcp_rx_bad",
	[IPVLAN_X_STATS_MACNAT_TX]	= "macnat_tx",
	[IPVLAN_X_STATS_MACNAT_RX]	= "macnat_rx",
	[IPVLAN_X_STATS_MACNAT_BAD]	= "macnat_bad",
	[IPVLAN_X_STATS_NEIGH_ANSWERED]	= "neigh_answered",
	[IPVLAN_X_STATS_ALLOW_DROPS]	= "allow_drops",
	[IPVLAN_X_STATS_ALLOW_PROTO_DROPS] = "allow_proto_drops",
	[IPVLAN_X_STATS_ALLOW_REFUSED]	= "allow_refused",
	[IPVLAN_X_STATS_ALLOW_PREFIXES]	= "allow_prefixes",
	[IPVLAN_X_STATS_HOST_RX]	= "host_rx",
	[IPVLAN_X_STATS_HOST_TX]	= "host_tx",
	[IPVLAN_X_STATS_HOST_NEIGH]	= "host_neigh",
	[IPVLAN_X_STATS_HOST_DROPS]	= "host_drops",
};

/* A generic netlink request with room for a full allow-list. */
struct areq {
	struct nlmsghdr		nh;
	struct genlmsghdr	g;
	char			attrs[2048];
};

static int allow_talk(__u8 cmd, int ifindex, int nsfd,
		      const struct ipvlan_allow_prefix *pfx, int npfx,
		      struct allow *al, struct nl_err *ne);
static void print_allow_text(const struct allow *al);
static void print_allow_json(const struct allow *al);

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	return p;
}

/* ------------------------------------------------------- netlink: build */

static void req_init(struct req *req, __u16 type, __u16 flags)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(req->ifi));
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req->ifi.ifi_family = AF_UNSPEC;
}

/* Append an attribute to the message at @nh, of @size bytes at most. */
static struct rtattr *nl_put(struct nlmsghdr *nh, size_t size,
			     unsigned short type, const void *data,
			     unsigned short len)
{
	struct rtattr *rta;

	if (NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len) > size) {
		fprintf(stderr, "%s: request too large\n", prog);
		exit(1);
	}
	rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len);
	return rta;
}

static struct rtattr *req_put(struct req *req, unsigned short type,
			      const void *data, unsigned short len)
{
	return nl_put(&req->nh, sizeof(*req), type, data, len);
}

static void greq_init(struct greq *req, __u16 family, __u8 cmd, __u8 version,
		      __u16 flags)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req->nh.nlmsg_type = family;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	req->g.cmd = cmd;
	req->g.version = version;
}

static void req_nest_end(struct req *req, struct rtattr *nest)
{
	nest->rta_len = (char *)req + req->nh.nlmsg_len - (char *)nest;
}

/* ----------------------------------------------------- netlink: parse */

static void parse_attrs(const struct rtattr **tb, int max,
			const struct rtattr *rta, int len)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		int type = rta->rta_type & NLA_TYPE_MASK;

		if (type <= max && !tb[type])
			tb[type] = rta;
	}
}

static void parse_nested(const struct rtattr **tb, int max,
			 const struct rtattr *nest)
{
	parse_attrs(tb, max, RTA_DATA(nest), RTA_PAYLOAD(nest));
}

/* Copy a fixed-size attribute; false if absent or too short. */
static bool attr_get(const struct rtattr *rta, void *v, size_t size)
{
	if (!rta || RTA_PAYLOAD(rta) < size)
		return false;
	memcpy(v, RTA_DATA(rta), size);
	return true;
}

static void attr_str(const struct rtattr *rta, char *buf, size_t size)
{
	size_t len = 0;

	if (rta) {
		len = strnlen(RTA_DATA(rta), RTA_PAYLOAD(rta));
		if (len >= size)
			len = size - 1;
		memcpy(buf, RTA_DATA(rta), len);
	}
	buf[len] = '\0';
}

/* ------------------------------------------------- netlink: exchange */

static int nl_open(int protocol)
{
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
	if (fd < 0) {
		fprintf(stderr, "%s: netlink socket: %s\n", prog,
			strerror(errno));
		return -1;
	}
	/* Best effort: without it errors come without a message. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

typedef int (*nl_cb)(const struct nlmsghdr *nh, void *arg);

/*
 * Send @req and read the answer: every message of the request goes to @cb,
 * until NLMSG_DONE (dump) or NLMSG_ERROR (ack or error, in @ne).
 * Return: 0 when the exchange completed (see ne->error), -1 on a local
 * error (reported).
 */
static int nl_talk(int fd, struct nlmsghdr *req, nl_cb cb, void *arg,
		   struct nl_err *ne)
{
	static char buf[NL_RECV_SIZE];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	static __u32 seq;

	ne->error = 0;
	ne->msg[0] = '\0';
	ne->offs = -1;
	req->nlmsg_seq = ++seq;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		fprintf(stderr, "%s: netlink send: %s\n", prog,
			strerror(errno));
		return -1;
	}

	for (;;) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_name = &sa,
			.msg_namelen = sizeof(sa),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		struct nlmsghdr *nh;
		ssize_t n;

		n = recvmsg(fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: netlink receive: %s\n", prog,
				strerror(errno));
			return -1;
		}
		if (msg.msg_flags & MSG_TRUNC) {
			fprintf(stderr, "%s: netlink message truncated\n",
				prog);
			return -1;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
					memcpy(&err, NLMSG_DATA(nh),
					       sizeof(err));
				ne->error = err < 0 ? -err : 0;
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				nl_parse_err(nh, ne);
				return 0;
			}
			if (cb && cb(nh, arg))
				return -1;
		}
	}
}

/* ---------------------------------------------------------- links */

static bool kind_is_ours(const char *kind)
{
	return !strcmp(kind, "ipvlan") || !strcmp(kind, "ipvtap");
}

static void parse_stats(struct link *l, const struct rtattr *nest)
{
	const struct rtattr *tb[IPVLAN_X_STATS_MAX + 1];
	int i;

	l->has_stats = true;
	parse_nested(tb, IPVLAN_X_STATS_MAX, nest);
	for (i = 0; i <= IPVLAN_X_STATS_MAX; i++) {
		if (stat_names[i])
			l->has_stat[i] = attr_get(tb[i], &l->stat[i],
						  sizeof(l->stat[i]));
	}
}

/* IFLA_IPVLAN_X_EXT: the extensions past attribute 50. */
static void parse_ext(struct link *l, const struct rtattr *nest)
{
	const struct rtattr *tb[IPVLAN_X_EXT_MAX + 1];
	__u8 v8;

	parse_nested(tb, IPVLAN_X_EXT_MAX, nest);
	if (attr_get(tb[IPVLAN_X_EXT_MAC_NAT], &v8, sizeof(v8))) {
		l->has_macnat = true;
		l->mac_nat = v8;
	}
	l->has_guest_mac = attr_get(tb[IPVLAN_X_EXT_GUEST_MAC], l->guest_mac,
				    sizeof(l->guest_mac));
}

static void parse_info_data(struct link *l, const struct rtattr *nest)
{
	const struct rtattr *tb[IFLA_IPVLAN_X_MAX + 1];
	__u16 v16;
	__u8 v8;

	parse_nested(tb, IFLA_IPVLAN_X_MAX, nest);
	if (attr_get(tb[IFLA_IPVLAN_MODE], &v16, sizeof(v16)))
		l->mode = v16;
	if (attr_get(tb[IFLA_IPVLAN_FLAGS], &v16, sizeof(v16)))
		l->flags = v16;
	if (attr_get(tb[IFLA_IPVLAN_X_LEARN], &v8, sizeof(v8))) {
		l->has_learn = true;
		l->learn = v8;
	}
	l->has_max = attr_get(tb[IFLA_IPVLAN_X_LEARN_MAX], &l->learn_max,
			      sizeof(l->learn_max));
	l->has_timeout = attr_get(tb[IFLA_IPVLAN_X_LEARN_TIMEOUT],
				  &l->learn_timeout, sizeof(l->learn_timeout));
	l->has_count = attr_get(tb[IFLA_IPVLAN_X_LEARN_COUNT], &l->count,
				sizeof(l->count));
	l->has_mcq = attr_get(tb[IFLA_IPVLAN_X_MC_QUEUE_LEN],
			      &l->mc_queue_len, sizeof(l->mc_queue_len));
	if (attr_get(tb[IFLA_IPVLAN_X_ARP_FILTER], &v8, sizeof(v8))) {
		l->has_arpf = true;
		l->arp_filter = v8;
	}
	if (attr_get(tb[IFLA_IPVLAN_X_DEFAULT], &v8, sizeof(v8))) {
		l->has_default = true;
		l->is_default = v8;
	}
	if (attr_get(tb[IFLA_IPVLAN_X_HOST], &v8, sizeof(v8))) {
		l->has_host = true;
		l->host = v8;
	}
	if (tb[IFLA_IPVLAN_X_STATS])
		parse_stats(l, tb[IFLA_IPVLAN_X_STATS]);
	if (tb[IFLA_IPVLAN_X_EXT])
		parse_ext(l, tb[IFLA_IPVLAN_X_EXT]);
}

/* Fill @l from an RTM_NEWLINK message. Return: true for our kinds. */
static bool parse_link(const struct nlmsghdr *nh, struct link *l)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *tb[IFLA_MAX + 1];
	const struct rtattr *li[IFLA_INFO_MAX + 1];
	__s32 nsid;
	__u32 link;

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return false;
	parse_attrs(tb, IFLA_MAX, IFLA_RTA(ifi), IFLA_PAYLOAD(nh));
	if (!tb[IFLA_LINKINFO])
		return false;
	parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);

	memset(l, 0, sizeof(*l));
	attr_str(li[IFLA_INFO_KIND], l->kind, sizeof(l->kind));
	if (!kind_is_ours(l->kind))
		return false;
	l->ifindex = ifi->ifi_index;
	attr_str(tb[IFLA_IFNAME], l->name, sizeof(l->name));
	l->mode = -1;
	l->flags = -1;
	if (attr_get(tb[IFLA_LINK], &link, sizeof(link)))
		l->master = link;
	if (attr_get(tb[IFLA_LINK_NETNSID], &nsid, sizeof(nsid))) {
		l->has_netnsid = true;
		l->netnsid = nsid;
	}
	if (li[IFLA_INFO_DATA])
		parse_info_data(l, li[IFLA_INFO_DATA]);
	return true;
}

static int collect_link(const struct nlmsghdr *nh, void *arg)
{
	struct link_list *ll = arg;
	struct link l;

	if (!parse_link(nh, &l))
		return 0;
	if (ll->n == ll->cap) {
		ll->cap = ll->cap ? 2 * ll->cap : 8;
		ll->v = xrealloc(ll->v, ll->cap * sizeof(*ll->v));
	}
	ll->v[ll->n++] = l;
	return 0;
}

static void print_nl_err(const char *what, const struct nl_err *ne)
{
	fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, strerror(ne->error),
		ne->msg[0] ? ": " : "", ne->msg);
}

/*
 * Fetch the ipvlan/ipvtap links of the current netns, or only @dev.
 * Return: 0, or 1 (reported: no such device, not ours, netlink error).
 */
static int get_links(int fd, const char *dev, struct link_list *ll)
{
	struct nl_err ne;
	struct req req;

	memset(ll, 0, sizeof(*ll));
	if (dev) {
		if (strlen(dev) >= IF_NAMESIZE) {
			fprintf(stderr, "%s: invalid device name '%s'\n", prog,
				dev);
			return 1;
		}
		req_init(&req, RTM_GETLINK, NLM_F_ACK);
		req_put(&req, IFLA_IFNAME, dev, strlen(dev) + 1);
	} else {
		req_init(&req, RTM_GETLINK, NLM_F_DUMP);
	}
	if (nl_talk(fd, &req.nh, collect_link, ll, &ne))
		return 1;
	if (ne.error == ENODEV && dev) {
		fprintf(stderr, "%s: cannot find device '%s'\n", prog, dev);
		return 1;
	}
	if (ne.error) {
		print_nl_err(dev ? dev : "link dump", &ne);
		return 1;
	}
	if (dev && !ll->n) {
		fprintf(stderr, "%s: %s is not an ipvlan or ipvtap device\n",
			prog, dev);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------ addresses */

/* CTRL_CMD_GETFAMILY's answer: the family's id. */
static int family_id_cb(const struct nlmsghdr *nh, void *arg)
{
	const struct rtattr *tb[CTRL_ATTR_MAX + 1];
	const struct genlmsghdr *g = NLMSG_DATA(nh);

	if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return 0;
	parse_attrs(tb, CTRL_ATTR_MAX,
		    (const struct rtattr *)((const char *)g + GENL_HDRLEN),
		    nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
	attr_get(tb[CTRL_ATTR_FAMILY_ID], arg, sizeof(__u16));
	return 0;
}

/*
 * The id of generic netlink family @name, 0 if the kernel has none.
 * Return: 0, or 1 on an error (reported).
 */
static int family_id(int fd, const char *name, __u16 *id)
{
	struct nl_err ne;
	struct greq req;

	*id = 0;
	greq_init(&req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, NLM_F_ACK);
	nl_put(&req.nh, sizeof(req), CTRL_ATTR_FAMILY_NAME, name,
	       strlen(name) + 1);
	if (nl_talk(fd, &req.nh, family_id_cb, id, &ne))
		return 1;
	if (ne.error == ENOENT)
		return 0;
	if (ne.error) {
		print_nl_err("generic netlink family lookup", &ne);
		return 1;
	}
	return 0;
}

static int collect_addr(const struct nlmsghdr *nh, void *arg)
{
	const struct rtattr *tb[IPVLAN_ADDR_A_MAX + 1];
	struct addr_list *al = arg;
	struct addr a = { 0 };
	__u32 ifindex, age;
	__u8 origin, ip[16];

	if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return 0;
	parse_attrs(tb, IPVLAN_ADDR_A_MAX,
		    (const struct rtattr *)((const char *)NLMSG_DATA(nh) +
					    GENL_HDRLEN),
		    nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN));
	if (!attr_get(tb[IPVLAN_ADDR_A_IFINDEX], &ifindex, sizeof(ifindex)) ||
	    !attr_get(tb[IPVLAN_ADDR_A_ORIGIN], &origin, sizeof(origin)) ||
	    !attr_get(tb[IPVLAN_ADDR_A_AGE_MS], &age, sizeof(age)))
		return 0;
	if (attr_get(tb[IPVLAN_ADDR_A_INET6], ip, 16))
		snprintf(a.family, sizeof(a.family), "inet6");
	else if (attr_get(tb[IPVLAN_ADDR_A_INET], ip, 4))
		snprintf(a.family, sizeof(a.family), "inet");
	else
		return 0;
	inet_ntop(a.family[4] ? AF_INET6 : AF_INET, ip, a.address,
		  sizeof(a.address));
	snprintf(a.origin, sizeof(a.origin), "%s",
		 origin == IPVLAN_ADDR_ORIGIN_LEARNED ? "learned" :
		 origin == IPVLAN_ADDR_ORIGIN_CONFIGURED ? "configured" :
		 "unknown");
	a.ifindex = ifindex;
	a.age_ms = age;
	if (al->n == al->cap) {
		al->cap = al->cap ? 2 * al->cap : 16;
		al->v = xrealloc(al->v, al->cap * sizeof(*al->v));
	}
	al->v[al->n++] = a;
	return 0;
}

/*
 * Dump the address table of the current netns (of slave @ifindex only,
 * if not 0). Without the family (in-tree ipvlan) al->available is false.
 * Return: 0, or 1 on an error (reported).
 */
static int get_addrs(int ifindex, struct addr_list *al)
{
	struct nl_err ne;
	struct greq req;
	__u16 id;
	int fd, err = 1;

	memset(al, 0, sizeof(*al));
	fd = nl_open(NETLINK_GENERIC);
	if (fd < 0)
		return 1;
	if (family_id(fd, IPVLAN_GENL_NAME, &id))
		goto out;
	err = 0;
	if (!id)
		goto out;
	al->available = true;
	greq_init(&req, id, IPVLAN_CMD_ADDR_GET, IPVLAN_GENL_VERSION,
		  NLM_F_DUMP);
	if (ifindex) {
		__u32 v = ifindex;

		nl_put(&req.nh, sizeof(req), IPVLAN_ADDR_A_IFINDEX, &v,
		       sizeof(v));
	}
	err = 1;
	if (nl_talk(fd, &req.nh, collect_addr, al, &ne))
		goto out;
	if (ne.error) {
		print_nl_err("address table dump", &ne);
		goto out;
	}
	err = 0;
out:
	close(fd);
	return err;
}

/* ---------------------------------------------------------- show */

static const char *mode_name(int mode)
{
	switch (mode) {
	case IPVLAN_MODE_L2:
		return "l2";
	case IPVLAN_MODE_L3:
		return "l3";
	case IPVLAN_MODE_L3S:
		return "l3s";
	}
	return NULL;
}

static const char *flags_name(int flags)
{
	switch (flags) {
	case 0:
		return "bridge";
	case IPVLAN_F_PRIVATE:
		return "private";
	case IPVLAN_F_VEPA:
		return "vepa";
	}
	return NULL;
}

/* "xx:xx:xx:xx:xx:xx" into @buf (18 bytes). */
static void mac_str(const __u8 *m, char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The master's name, or NULL if it is elsewhere or unknown. */
static const char *master_name(const struct link *l, char *buf)
{
	if (!l->master || l->has_netnsid)
		return NULL;
	return if_indextoname(l->master, buf);
}

static void print_text(const struct link *l, const struct addr_list *al)
{
	char mbuf[IF_NAMESIZE], mbuf2[18];
	const char *s;
	size_t i;
	int n = 0;

	printf("%s: %s", l->name, l->kind);
	s = master_name(l, mbuf);
	if (s)
		printf(" master %s", s);
	else if (l->has_netnsid)
		printf(" master ifindex %d (netnsid %d)", l->master,
		       l->netnsid);
	else if (l->master)
		printf(" master ifindex %d", l->master);
	s = mode_name(l->mode);
	if (s)
		printf(" mode %s", s);
	else if (l->mode >= 0)
		printf(" mode %d", l->mode);
	s = flags_name(l->flags);
	if (s)
		printf(" %s", s);
	else if (l->flags >= 0)
		printf(" flags 0x%x", l->flags);
	printf("\n");

	if (!l->has_learn) {
		printf("    learn unsupported (ipvlan without the extensions)\n");
	} else {
		printf("    learn %s", l->learn ? "on" : "off");
		if (l->has_max)
			printf(" learn-max %u", l->learn_max);
		if (l->has_timeout)
			printf(" learn-timeout %us", l->learn_timeout);
		if (l->has_count)
			printf(" learned %u", l->count);
		printf("\n");
	}
	if (l->has_mcq)
		printf("    mc-queue-len %u\n", l->mc_queue_len);
	if (l->has_arpf)
		printf("    arp-filter %s\n", l->arp_filter ? "on" : "off");
	if (l->has_default)
		printf("    default %s\n", l->is_default ? "on" : "off");
	if (l->has_macnat) {
		printf("    mac-nat %s", l->mac_nat ? "on" : "off");
		if (l->has_guest_mac) {
			mac_str(l->guest_mac, mbuf2);
			printf(" guest-mac %s", mbuf2);
		}
		printf("\n");
	}
	print_allow_text(&l->allow);
	if (l->has_host)
		printf("    host %s\n", l->host ? "on" : "off");
	if (l->has_stats) {
		printf("    stats");
		for (i = 0; i <= IPVLAN_X_STATS_MAX; i++) {
			if (l->has_stat[i])
				printf(" %s %llu", stat_names[i],
				       (unsigned long long)l->stat[i]);
		}
		printf("\n");
	}

	if (!al->available) {
		printf("    addresses unavailable (no generic netlink family %s)\n",
		       IPVLAN_GENL_NAME);
		return;
	}
	for (i = 0; i < al->n; i++) {
		const struct addr *a = &al->v[i];

		if (a->ifindex != l->ifindex)
			continue;
		printf("    %s %s %s", a->family, a->address, a->origin);
		if (!strcmp(a->origin, "learned"))
			printf(" age %lums", a->age_ms);
		printf("\n");
		n++;
	}
	if (!n)
		printf("    no addresses\n");
}

/* A JSON string; control and non-ASCII bytes are escaped. */
static void json_str(const char *s)
{
	const unsigned char *p;

	if (!s) {
		printf("null");
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_key(const char *key)
{
	printf(", ");
	json_str(key);
	printf(": ");
}

static void json_u32(const char *key, bool has, __u32 v)
{
	json_key(key);
	if (has)
		printf("%u", v);
	else
		printf("null");
}

static void print_json_addrs(const struct link *l, const struct addr_list *al)
{
	bool first = true;
	size_t i;

	json_key("addresses");
	if (!al->available) {
		printf("null");
		return;
	}
	printf("[");
	for (i = 0; i < al->n; i++) {
		const struct addr *a = &al->v[i];

		if (a->ifindex != l->ifindex)
			continue;
		printf("%s{\"family\": ", first ? "" : ", ");
		json_str(a->family);
		json_key("address");
		json_str(a->address);
		json_key("origin");
		json_str(a->origin);
		printf(", \"age_ms\": %lu}", a->age_ms);
		first = false;
	}
	printf("]");
}

static void print_json(const struct link *l, const struct addr_list *al)
{
	char mbuf[IF_NAMESIZE], hex[16], gmac[18];
	const char *flags;
	size_t i;

	printf("{\"ifindex\": %d", l->ifindex);
	json_key("ifname");
	json_str(l->name);
	json_key("kind");
	json_str(l->kind);
	json_key("master");
	json_str(master_name(l, mbuf));
	json_key("master_ifindex");
	if (l->master)
		printf("%d", l->master);
	else
		printf("null");
	if (l->has_netnsid) {
		json_key("master_netnsid");
		printf("%d", l->netnsid);
	}
	json_key("mode");
	json_str(mode_name(l->mode));
	flags = flags_name(l->flags);
	if (!flags && l->flags >= 0) {
		snprintf(hex, sizeof(hex), "0x%x", l->flags);
		flags = hex;
	}
	json_key("flags");
	json_str(flags);
	json_key("learn_supported");
	printf("%s", l->has_learn ? "true" : "false");
	json_key("learn");
	printf("%s", !l->has_learn ? "null" : l->learn ? "true" : "false");
	json_u32("learn_max", l->has_max, l->learn_max);
	json_u32("learn_timeout", l->has_timeout, l->learn_timeout);
	json_u32("learned", l->has_count, l->count);
	json_u32("mc_queue_len", l->has_mcq, l->mc_queue_len);
	json_key("arp_filter");
	printf("%s", !l->has_arpf ? "null" : l->arp_filter ? "true" : "false");
	json_key("default");
	printf("%s", !l->has_default ? "null" : l->is_default ? "true" : "false");
	json_key("mac_nat");
	printf("%s", !l->has_macnat ? "null" : l->mac_nat ? "true" : "false");
	json_key("guest_mac");
	if (l->has_guest_mac) {
		mac_str(l->guest_mac, gmac);
		json_str(gmac);
	} else {
		printf("null");
	}
	json_key("host");
	printf("%s", !l->has_host ? "null" : l->host ? "true" : "false");
	json_key("stats");
	if (l->has_stats) {
		bool first = true;

		printf("{");
		for (i = 0; i <= IPVLAN_X_STATS_MAX; i++) {
			if (!l->has_stat[i])
				continue;
			printf("%s", first ? "" : ", ");
			json_str(stat_names[i]);
			printf(": %llu", (unsigned long long)l->stat[i]);
			first = false;
		}
		printf("}");
	} else {
		printf("null");
	}
	print_json_addrs(l, al);
	json_key("allow");
	print_allow_json(&l->allow);
	printf("}");
}

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s help'.\n", prog);
	return EXIT_USAGE;
}

static int cmd_show(int argc, char **argv)
{
	const char *dev = NULL;
	struct link_list ll;
	struct addr_list al;
	bool json = false;
	int i, fd, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else if (argv[i][0] == '-')
			return usage_error("show: unknown option '%s'",
					   argv[i]);
		else if (dev)
			return usage_error("show: unexpected argument '%s'",
					   argv[i]);
		else
			dev = argv[i];
	}

	fd = nl_open(NETLINK_ROUTE);
	if (fd < 0)
		return 1;
	err = get_links(fd, dev, &ll);
	close(fd);
	if (err)
		return err;
	if (get_addrs(dev ? ll.v[0].ifindex : 0, &al)) {
		free(ll.v);
		return 1;
	}

	for (i = 0; i < (int)ll.n; i++) {
		struct nl_err ne;

		/* The list of each; "unsupported" without the commands. */
		if (allow_talk(IPVLAN_CMD_ALLOW_GET, ll.v[i].ifindex, -1, NULL,
			       0, &ll.v[i].allow, &ne) > 0 &&
		    ll.v[i].allow.available) {
			print_nl_err(ll.v[i].name, &ne);
			free(ll.v);
			free(al.v);
			return 1;
		}
	}
	if (json)
		printf("[");
	for (i = 0; i < (int)ll.n; i++) {
		if (json) {
			printf("%s\n  ", i ? "," : "");
			print_json(&ll.v[i], &al);
		} else {
			print_text(&ll.v[i], &al);
		}
	}
	if (json)
		printf("%s]\n", ll.n ? "\n" : "");
	free(ll.v);
	free(al.v);
	return 0;
}

/* The address table, one line each, like `ip -o`: for scripts. */
static int cmd_addrs(int argc, char **argv)
{
	char name[IF_NAMESIZE];
	struct link_list ll;
	struct addr_list al;
	int ifindex = 0;
	size_t i;

	if (argc > 1)
		return usage_error("addrs: unexpected argument '%s'", argv[1]);
	if (argc == 1) {
		int fd, err;

		if (argv[0][0] == '-')
			return usage_error("addrs: unknown option '%s'",
					   argv[0]);
		fd = nl_open(NETLINK_ROUTE);
		if (fd < 0)
			return 1;
		err = get_links(fd, argv[0], &ll);
		close(fd);
		if (err)
			return err;
		ifindex = ll.v[0].ifindex;
		free(ll.v);
	}
	if (get_addrs(ifindex, &al))
		return 1;
	if (!al.available) {
		fprintf(stderr,
			"%s: no address table: the loaded ipvlan has no generic netlink family \"%s\"\n",
			prog, IPVLAN_GENL_NAME);
		return 1;
	}
	printf("ifindex ifname family address origin age_ms\n");
	for (i = 0; i < al.n; i++) {
		const struct addr *a = &al.v[i];

		printf("%d %s %s %s %s %lu\n", a->ifindex,
		       if_indextoname(a->ifindex, name) ? name : "?",
		       a->family, a->address, a->origin, a->age_ms);
	}
	free(al.v);
	return 0;
}

/* ----------------------------------------------------------- set */

struct settings {
	int		learn;		/* -1: unchanged */
	long long	learn_max;	/* -1: unchanged */
	long long	learn_timeout;	/* -1: unchanged */
	long long	mc_queue_len;	/* -1: unchanged */
	int		arp_filter;	/* -1: unchanged */
	int		is_default;	/* -1: unchanged */
	int		mac_nat;	/* -1: unchanged */
	int		host;		/* -1: unchanged */
	bool		flush;
};

/* A decimal u32 (range checks are the kernel's); -1 if malformed. */
static long long parse_u32(const char *s)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT_MAX)
		return -1;
	return v;
}

/* "on" 1, "off" 0, anything else -1. */
static int parse_on_off(const char *s)
{
	if (!strcmp(s, "on"))
		return 1;
	if (!strcmp(s, "off"))
		return 0;
	return -1;
}

static int parse_settings(int argc, char **argv, struct settings *st)
{
	int i;

	st->learn = -1;
	st->learn_max = -1;
	st->learn_timeout = -1;
	st->mc_queue_len = -1;
	st->arp_filter = -1;
	st->is_default = -1;
	st->mac_nat = -1;
	st->host = -1;
	st->flush = false;
	for (i = 0; i < argc; i++) {
		const char *key = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(key, "flush")) {
			st->flush = true;
			continue;
		}
		if (strcmp(key, "learn") && strcmp(key, "learn-max") &&
		    strcmp(key, "learn-timeout") && strcmp(key, "mc-queue-len") &&
		    strcmp(key, "arp-filter") && strcmp(key, "default") &&
		    strcmp(key, "mac-nat") && strcmp(key, "host"))
			return usage_error("set: unknown setting '%s'", key);
		if (!val)
			return usage_error("set: '%s' needs a value", key);
		i++;
		if (!strcmp(key, "learn") || !strcmp(key, "arp-filter") ||
		    !strcmp(key, "default") || !strcmp(key, "mac-nat") ||
		    !strcmp(key, "host")) {
			int on = parse_on_off(val);

			if (on < 0)
				return usage_error("set: %s takes on or off, not '%s'",
						   key, val);
			if (!strcmp(key, "learn"))
				st->learn = on;
			else if (!strcmp(key, "default"))
				st->is_default = on;
			else if (!strcmp(key, "mac-nat"))
				st->mac_nat = on;
			else if (!strcmp(key, "host"))
				st->host = on;
			else
				st->arp_filter = on;
		} else if (!strcmp(key, "learn-max")) {
			st->learn_max = parse_u32(val);
			if (st->learn_max < 0)
				return usage_error("set: learn-max takes a number, not '%s'",
						   val);
		} else if (!strcmp(key, "mc-queue-len")) {
			st->mc_queue_len = parse_u32(val);
			if (st->mc_queue_len < 0)
				return usage_error("set: mc-queue-len takes a number, not '%s'",
						   val);
		} else {
			st->learn_timeout = parse_u32(val);
			if (st->learn_timeout < 0)
				return usage_error("set: learn-timeout takes seconds, not '%s'",
						   val);
		}
	}
	if (st->learn < 0 && st->learn_max < 0 && st->learn_timeout < 0 &&
	    st->mc_queue_len < 0 && st->arp_filter < 0 &&
	    st->is_default < 0 && st->mac_nat < 0 && st->host < 0 &&
	    !st->flush)
		return usage_error("set: nothing to set");
	return 0;
}

/*
 * The name of the attribute at offset @offs of @req, for error messages;
 * @ext is the IFLA_IPVLAN_X_EXT nest in it, or NULL.
 */
static const char *req_attr_name(const struct req *req, long offs,
				 const struct rtattr *ext)
{
	const struct rtattr *rta;
	long ext_offs;

	if (offs < (long)NLMSG_LENGTH(sizeof(req->ifi)) ||
	    offs + (long)sizeof(*rta) > (long)req->nh.nlmsg_len)
		return NULL;
	rta = (const struct rtattr *)((const char *)req + offs);
	ext_offs = ext ? (const char *)ext - (const char *)req : -1;
	if (ext && offs > ext_offs && offs < ext_offs + ext->rta_len) {
		if ((rta->rta_type & NLA_TYPE_MASK) == IPVLAN_X_EXT_MAC_NAT)
			return "mac-nat";
		return NULL;
	}
	switch (rta->rta_type & NLA_TYPE_MASK) {
	case IFLA_IPVLAN_X_LEARN:
		return "learn";
	case IFLA_IPVLAN_X_LEARN_MAX:
		return "learn-max";
	case IFLA_IPVLAN_X_LEARN_TIMEOUT:
		return "learn-timeout";
	case IFLA_IPVLAN_X_LEARN_FLUSH:
		return "flush";
	case IFLA_IPVLAN_X_MC_QUEUE_LEN:
		return "mc-queue-len";
	case IFLA_IPVLAN_X_ARP_FILTER:
		return "arp-filter";
	case IFLA_IPVLAN_X_DEFAULT:
		return "default";
	case IFLA_IPVLAN_X_EXT:
		return "mac-nat";
	case IFLA_IPVLAN_X_HOST:
		return "host";
	}
	return NULL;
}

static int cmd_set(int argc, char **argv)
{
	struct rtattr *linkinfo, *data, *ext = NULL;
	struct link_list ll;
	struct settings st;
	const char *dev, *attr;
	struct nl_err ne;
	struct req req;
	int fd, err;
	__u32 v32;
	__u8 v8;

	if (argc < 1)
		return usage_error("set: which device?");
	dev = argv[0];
	err = parse_settings(argc - 1, argv + 1, &st);
	if (err)
		return err;

	fd = nl_open(NETLINK_ROUTE);
	if (fd < 0)
		return 1;
	err = get_links(fd, dev, &ll);
	if (err)
		goto out;
	if (!ll.v[0].has_learn) {
		fprintf(stderr,
			"%s: %s: this kernel's %s has no learning extensions\n",
			prog, dev, ll.v[0].kind);
		err = 1;
		goto out;
	}
	/* A kernel without it would ignore the attribute silently. */
	if (st.arp_filter >= 0 && !ll.v[0].has_arpf) {
		fprintf(stderr,
			"%s: %s: this kernel's %s has no ARP filter\n",
			prog, dev, ll.v[0].kind);
		err = 1;
		goto out;
	}
	if (st.is_default >= 0 && !ll.v[0].has_default) {
		fprintf(stderr,
			"%s: %s: this kernel's %s has no default slave\n",
			prog, dev, ll.v[0].kind);
		err = 1;
		goto out;
	}
	if (st.mac_nat >= 0 && !ll.v[0].has_macnat) {
		fprintf(stderr, "%s: %s: this kernel's %s has no MAC-NAT\n",
			prog, dev, ll.v[0].kind);
		err = 1;
		goto out;
	}
	if (st.host >= 0 && !ll.v[0].has_host) {
		fprintf(stderr,
			"%s: %s: this kernel's %s has no host path\n",
			prog, dev, ll.v[0].kind);
		err = 1;
		goto out;
	}

	req_init(&req, RTM_NEWLINK, NLM_F_ACK);
	req.ifi.ifi_index = ll.v[0].ifindex;
	linkinfo = req_put(&req, IFLA_LINKINFO | NLA_F_NESTED, NULL, 0);
	req_put(&req, IFLA_INFO_KIND, ll.v[0].kind, strlen(ll.v[0].kind));
	data = req_put(&req, IFLA_INFO_DATA | NLA_F_NESTED, NULL, 0);
	if (st.learn >= 0) {
		v8 = st.learn;
		req_put(&req, IFLA_IPVLAN_X_LEARN, &v8, sizeof(v8));
	}
	if (st.learn_max >= 0) {
		v32 = st.learn_max;
		req_put(&req, IFLA_IPVLAN_X_LEARN_MAX, &v32, sizeof(v32));
	}
	if (st.learn_timeout >= 0) {
		v32 = st.learn_timeout;
		req_put(&req, IFLA_IPVLAN_X_LEARN_TIMEOUT, &v32, sizeof(v32));
	}
	if (st.flush)
		req_put(&req, IFLA_IPVLAN_X_LEARN_FLUSH, NULL, 0);
	if (st.mc_queue_len >= 0) {
		v32 = st.mc_queue_len;
		req_put(&req, IFLA_IPVLAN_X_MC_QUEUE_LEN, &v32, sizeof(v32));
	}
	if (st.arp_filter >= 0) {
		v8 = st.arp_filter;
		req_put(&req, IFLA_IPVLAN_X_ARP_FILTER, &v8, sizeof(v8));
	}
	if (st.is_default >= 0) {
		v8 = st.is_default;
		req_put(&req, IFLA_IPVLAN_X_DEFAULT, &v8, sizeof(v8));
	}
	if (st.host >= 0) {
		v8 = st.host;
		req_put(&req, IFLA_IPVLAN_X_HOST, &v8, sizeof(v8));
	}
	if (st.mac_nat >= 0) {
		ext = req_put(&req, IFLA_IPVLAN_X_EXT | NLA_F_NESTED, NULL, 0);
		v8 = st.mac_nat;
		req_put(&req, IPVLAN_X_EXT_MAC_NAT, &v8, sizeof(v8));
		req_nest_end(&req, ext);
	}
	req_nest_end(&req, data);
	req_nest_end(&req, linkinfo);

	if (nl_talk(fd, &req.nh, NULL, NULL, &ne)) {
		err = 1;
		goto out;
	}
	if (ne.error) {
		attr = req_attr_name(&req, ne.offs, ext);
		fprintf(stderr, "%s: %s: kernel refused: %s%s%s", prog, dev,
			strerror(ne.error), ne.msg[0] ? ": " : "", ne.msg);
		if (attr)
			fprintf(stderr, " (%s)", attr);
		fprintf(stderr, "\n");
		err = 1;
	} else if (ne.msg[0]) {
		fprintf(stderr, "%s: %s: warning: %s\n", prog, dev, ne.msg);
	}
out:
	free(ll.v);
	close(fd);
	return err;
}

/* ------------------------------------------------------ allow-list */

static int collect_allow(const struct nlmsghdr *nh, void *arg)
{
	const struct genlmsghdr *g = NLMSG_DATA(nh);
	struct ipvlan_allow_prefix ap;
	const struct rtattr *rta;
	struct allow *al = arg;
	char buf[INET6_ADDRSTRLEN];
	int len;
	__u8 v8;

	if (nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return 0;
	rta = (const struct rtattr *)((const char *)g + GENL_HDRLEN);
	len = nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type & NLA_TYPE_MASK) {
		case IPVLAN_ALLOW_A_LOCKED:
			if (attr_get(rta, &v8, sizeof(v8)))
				al->locked = v8;
			break;
		case IPVLAN_ALLOW_A_PREFIX:
			if (!attr_get(rta, &ap, sizeof(ap)) ||
			    al->n >= IPVLAN_ALLOW_MAX_PREFIXES ||
			    !inet_ntop(ap.family, ap.addr, buf, sizeof(buf)))
				break;
			snprintf(al->pfx[al->n++], sizeof(al->pfx[0]), "%s/%u",
				 buf, ap.prefixlen);
			break;
		}
	}
	return 0;
}

/*
 * Enter the network namespace @spec names (a path, or a PID), keeping
 * the current one in *@orig; *@nsfd is the target's fd (-1: none given).
 * Return: 0, or 1 (reported).
 */
static int netns_enter(const char *spec, int *nsfd, int *orig)
{
	char path[64];
	const char *p = spec;

	*nsfd = -1;
	*orig = -1;
	if (!spec)
		return 0;
	if (spec[0] >= '0' && spec[0] <= '9' &&
	    strspn(spec, "0123456789") == strlen(spec)) {
		snprintf(path, sizeof(path), "/proc/%s/ns/net", spec);
		p = path;
	}
	*nsfd = open(p, O_RDONLY | O_CLOEXEC);
	if (*nsfd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, p, strerror(errno));
		return 1;
	}
	*orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*orig < 0 || setns(*nsfd, CLONE_NEWNET)) {
		fprintf(stderr, "%s: cannot enter %s: %s\n", prog, p,
			strerror(errno));
		return 1;
	}
	return 0;
}

static void netns_leave(int orig)
{
	if (orig >= 0 && setns(orig, CLONE_NEWNET))
		fprintf(stderr, "%s: cannot return to the namespace: %s\n",
			prog, strerror(errno));
	if (orig >= 0)
		close(orig);
}

/*
 * Send an IPVLAN_CMD_ALLOW_* request about slave @ifindex, in namespace
 * @nsfd (-1: the current one), with @npfx prefixes; the reply of a GET
 * fills @al. Return: 0, -1 on a local error (reported), or a positive
 * errno with the kernel's message in @ne.
 */
static int allow_talk(__u8 cmd, int ifindex, int nsfd,
		      const struct ipvlan_allow_prefix *pfx, int npfx,
		      struct allow *al, struct nl_err *ne)
{
	struct areq req;
	__u32 v = ifindex;
	int fd, i, err = -1;
	__u16 id;

	memset(al, 0, sizeof(*al));
	fd = nl_open(NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	if (family_id(fd, IPVLAN_GENL_NAME, &id))
		goto out;
	err = 0;
	if (!id)
		goto out;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.nh.nlmsg_type = id;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.g.cmd = cmd;
	req.g.version = IPVLAN_GENL_VERSION;
	nl_put(&req.nh, sizeof(req), IPVLAN_ALLOW_A_IFINDEX, &v, sizeof(v));
	if (nsfd >= 0) {
		v = nsfd;
		nl_put(&req.nh, sizeof(req), IPVLAN_ALLOW_A_NETNS_FD, &v,
		       sizeof(v));
	}
	for (i = 0; i < npfx; i++)
		nl_put(&req.nh, sizeof(req), IPVLAN_ALLOW_A_PREFIX, &pfx[i],
		       sizeof(pfx[i]));
	err = -1;
	if (nl_talk(fd, &req.nh, collect_allow, al, ne))
		goto out;
	/* A kernel with the family but not the command: EOPNOTSUPP. */
	al->available = ne->error != EOPNOTSUPP;
	err = ne->error;
out:
	close(fd);
	return err;
}

/* "ADDR[/LEN]" into @ap; false if malformed. */
static bool parse_prefix(const char *s, struct ipvlan_allow_prefix *ap)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	long long len = -1;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	memset(ap, 0, sizeof(*ap));
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		len = parse_u32(slash + 1);
		if (len < 0 || len > 128)
			return false;
	}
	if (inet_pton(AF_INET, buf, ap->addr) == 1) {
		ap->family = AF_INET;
		ap->prefixlen = len < 0 ? 32 : len;
	} else if (inet_pton(AF_INET6, buf, ap->addr) == 1) {
		ap->family = AF_INET6;
		ap->prefixlen = len < 0 ? 128 : len;
	} else {
		return false;
	}
	return true;
}

static void print_allow_json(const struct allow *al)
{
	int i;

	if (!al->available) {
		printf("null");
		return;
	}
	printf("{\"locked\": %s, \"prefixes\": [", al->locked ? "true" : "false");
	for (i = 0; i < al->n; i++) {
		printf("%s", i ? ", " : "");
		json_str(al->pfx[i]);
	}
	printf("]}");
}

static void print_allow_text(const struct allow *al)
{
	int i;

	if (!al->available) {
		printf("    allow-list unsupported\n");
		return;
	}
	if (!al->locked) {
		printf("    allow-list off\n");
		return;
	}
	printf("    allow-list locked");
	if (!al->n)
		printf(" (empty)");
	for (i = 0; i < al->n; i++)
		printf(" %s", al->pfx[i]);
	printf("\n");
}

/* The ifindex of @dev in the current namespace (or @dev as a number). */
static int dev_ifindex(const char *dev)
{
	long long v = parse_u32(dev);
	unsigned int idx;

	if (v > 0)
		return v;
	idx = if_nametoindex(dev);
	if (!idx)
		fprintf(stderr, "%s: cannot find device '%s'\n", prog, dev);
	return idx;
}

static int cmd_allow(int argc, char **argv)
{
	struct ipvlan_allow_prefix pfx[IPVLAN_ALLOW_MAX_PREFIXES];
	const char *dev, *netns = NULL, *op = "show";
	int i, ifindex, nsfd, orig, npfx = 0, err;
	bool json = false;
	struct nl_err ne;
	struct allow al;
	__u8 cmd;

	if (argc < 1)
		return usage_error("allow: which device?");
	dev = argv[0];
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--netns") && i + 1 < argc)
			netns = argv[++i];
		else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else
			return usage_error("allow: unknown option '%s'",
					   argv[i]);
	}
	if (i < argc)
		op = argv[i++];
	if (!strcmp(op, "show")) {
		cmd = IPVLAN_CMD_ALLOW_GET;
		for (; i < argc; i++) {
			if (strcmp(argv[i], "--json") && strcmp(argv[i], "-j"))
				return usage_error("allow: unexpected argument '%s'",
						   argv[i]);
			json = true;
		}
	} else if (!strcmp(op, "add") || !strcmp(op, "del")) {
		cmd = op[0] == 'a' ? IPVLAN_CMD_ALLOW_ADD :
				     IPVLAN_CMD_ALLOW_DEL;
		if (i == argc)
			return usage_error("allow: %s needs a prefix", op);
		for (; i < argc; i++) {
			if (npfx == IPVLAN_ALLOW_MAX_PREFIXES)
				return usage_error("allow: at most %d prefixes",
						   IPVLAN_ALLOW_MAX_PREFIXES);
			if (!parse_prefix(argv[i], &pfx[npfx++]))
				return usage_error("allow: '%s' is not an address or ADDR/LEN",
						   argv[i]);
		}
	} else if (!strcmp(op, "flush") || !strcmp(op, "off")) {
		cmd = op[0] == 'f' ? IPVLAN_CMD_ALLOW_FLUSH :
				     IPVLAN_CMD_ALLOW_UNLOCK;
		if (i < argc)
			return usage_error("allow: unexpected argument '%s'",
					   argv[i]);
	} else {
		return usage_error("allow: unknown operation '%s'", op);
	}

	if (netns_enter(netns, &nsfd, &orig)) {
		netns_leave(orig);
		return 1;
	}
	ifindex = dev_ifindex(dev);
	netns_leave(orig);
	if (!ifindex)
		return 1;

	err = allow_talk(cmd, ifindex, nsfd, pfx, npfx, &al, &ne);
	if (nsfd >= 0)
		close(nsfd);
	if (err < 0)
		return 1;
	if (!al.available) {
		fprintf(stderr,
			"%s: the loaded ipvlan has no allow-lists (generic netlink family \"%s\" or its commands missing)\n",
			prog, IPVLAN_GENL_NAME);
		return 1;
	}
	if (err) {
		fprintf(stderr, "%s: %s: kernel refused: %s%s%s\n", prog, dev,
			strerror(ne.error), ne.msg[0] ? ": " : "", ne.msg);
		return 1;
	}
	if (cmd != IPVLAN_CMD_ALLOW_GET)
		return 0;
	if (json) {
		printf("{\"ifindex\": %d, \"allow\": ", ifindex);
		print_allow_json(&al);
		printf("}\n");
	} else {
		printf("%s:\n", dev);
		print_allow_text(&al);
	}
	return 0;
}

/* ---------------------------------------------------------- main */

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: %s show [DEV] [--json]\n"
		"       %s addrs [DEV]\n"
		"       %s set DEV [learn on|off] [learn-max N] [learn-timeout SEC]\n"
		"                  [flush] [mc-queue-len N] [arp-filter on|off]\n"
		"                  [default on|off] [mac-nat on|off] [host on|off]\n"
		"       %s allow DEV [--netns PATH|PID] [show [--json] | add PREFIX... |\n"
		"                  del PREFIX... | flush | off]\n"
		"       %s help\n"
		"\n"
		"Show or set the guest address learning, the multicast backlog,\n"
		"the ARP filter, the default slave, MAC-NAT, the host path and the\n"
		"allow-list of ipvlan/ipvtap devices in the current network\n"
		"namespace.\n"
		"\n"
		"  show            kind, master, mode, flags, learning settings,\n"
		"                  counters and addresses (origin configured or\n"
		"                  learned, age of learned ones) of every\n"
		"                  ipvlan/ipvtap device, or of DEV only\n"
		"  --json          one JSON array of objects\n"
		"  addrs           the address table of the namespace (or of\n"
		"                  DEV), one line each: ifindex ifname family\n"
		"                  address origin age_ms (0 if configured)\n"
		"  learn on|off    learn the guest's addresses from its traffic\n"
		"                  (default: on for ipvtap, off for ipvlan)\n"
		"  learn-max N     learned addresses kept, %d..%d (default %d)\n"
		"  learn-timeout SEC\n"
		"                  forget a learned address idle that long,\n"
		"                  1..%d (default %d)\n"
		"  flush           forget the learned addresses now\n"
		"  mc-queue-len N  broadcast/multicast frames waiting for the\n"
		"                  slaves, for every slave of the master,\n"
		"                  1..%d (default %d)\n"
		"  arp-filter on|off\n"
		"                  mode l2: a broadcast ARP request goes only to\n"
		"                  the slave owning its target, for every slave\n"
		"                  of the master (default on)\n"
		"  default on|off  modes l3, l3s: DEV is the master's default\n"
		"                  slave (broadcast, multicast and unicast no\n"
		"                  one else takes; it resolves its neighbours\n"
		"                  itself); on moves it from another slave\n"
		"  mac-nat on|off  the guest keeps its own MAC: the first one\n"
		"                  it sends from is latched and rewritten to\n"
		"                  the master's (Ethernet, ARP, ND, DHCP) and\n"
		"                  back; flush or off forgets it (default off)\n"
		"  allow           DEV's allow-list (the configuration lock):\n"
		"                  with one, DEV owns and sends from addresses\n"
		"                  inside it only; set from the master's\n"
		"                  namespace only. --netns: DEV is in the\n"
		"                  namespace of that file or process. add/del\n"
		"                  ADDR[/LEN] (at most %d), flush (empty, still\n"
		"                  locked), off (no list: unlocked)\n"
		"  host on|off     the master's namespace and the slaves reach\n"
		"                  each other through the driver (ARP/ND\n"
		"                  answered, no route needed), for every slave\n"
		"                  of the master; no effect in vepa (default off)\n"
		"\n"
		"Exit status: 0 success, 1 error, 2 usage error.\n",
		prog, prog, prog, prog, prog, 1, IPVLAN_X_LEARN_MAX_LIMIT,
		IPVLAN_X_LEARN_MAX_DEFAULT, IPVLAN_X_LEARN_TIMEOUT_LIMIT,
		IPVLAN_X_LEARN_TIMEOUT_DEFAULT, IPVLAN_X_MC_QUEUE_LEN_LIMIT,
		IPVLAN_X_MC_QUEUE_LEN_DEFAULT, IPVLAN_ALLOW_MAX_PREFIXES);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "show") || !strcmp(cmd, "list"))
		return cmd_show(argc - 2, argv + 2);
	if (!strcmp(cmd, "set"))
		return cmd_set(argc - 2, argv + 2);
	if (!strcmp(cmd, "addrs"))
		return cmd_addrs(argc - 2, argv + 2);
	if (!strcmp(cmd, "allow"))
		return cmd_allow(argc - 2, argv + 2);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "--help")) {
		print_help(stdout);
		return 0;
	}
	return usage_error("unknown command '%s'", cmd);
}
