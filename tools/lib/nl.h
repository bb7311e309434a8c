/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rtnetlink helpers shared by the C tools (tools/ipvlanctl,
 * tools/testing): a socket with extended acks, building attributes, and
 * reading the answer to a request with the kernel's extack message.
 */
#ifndef IPVTAP_TOOLS_NL_H
#define IPVTAP_TOOLS_NL_H

#include <stddef.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

/* The error of a request, with the kernel's extended ack. */
struct nl_err {
	int		error;		/* positive errno, 0: acked */
	char		msg[256];	/* NLMSGERR_ATTR_MSG, "" if none */
	long		offs;		/* NLMSGERR_ATTR_OFFS, -1 if none */
};

/*
 * A bound NETLINK_ROUTE socket with extended acks (best effort: without
 * them errors come without a message) and, with @cap_ack, acks that do
 * not echo the request; @rcvbuf: SO_RCVBUF if not 0.
 * Return: the socket, or -errno.
 */
int rtnl_open(int cap_ack, int rcvbuf);

/* Read the error and extended ack of an NLMSG_ERROR message into @ne. */
void nl_parse_err(const struct nlmsghdr *nh, struct nl_err *ne);

/*
 * Append attribute @type with @len bytes of @data to the message @nh,
 * which has room for @room bytes in all. Return: the attribute (to close
 * a nest with nl_nest_end()), or NULL when it does not fit.
 */
struct rtattr *nl_attr_add(struct nlmsghdr *nh, size_t room,
			   unsigned short type, const void *data,
			   unsigned short len);

/* Close the nest @nest: it holds what was added to @nh after it. */
void nl_nest_end(struct nlmsghdr *nh, struct rtattr *nest);

#endif
