// SPDX-License-Identifier: GPL-2.0
/* rtnetlink helpers of the C tools: see nl.h. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nl.h"

int rtnl_open(int cap_ack, int rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, one = 1, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cap_ack)
		setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void nl_parse_err(const struct nlmsghdr *nh, struct nl_err *ne)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);
	const struct nlattr *a;
	size_t off, len;

	ne->msg[0] = '\0';
	ne->offs = -1;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
		ne->error = EPROTO;
		return;
	}
	ne->error = -e->error;
	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;

	off = sizeof(*e);
	if (!(nh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(e->msg))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	off = NLMSG_ALIGN(off);
	if (NLMSG_HDRLEN + off >= nh->nlmsg_len)
		return;
	len = nh->nlmsg_len - NLMSG_HDRLEN - off;
	a = (const struct nlattr *)((const char *)e + off);
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
	       a->nla_len <= len) {
		size_t plen = a->nla_len - NLA_HDRLEN;
		const char *p = (const char *)a + NLA_HDRLEN;
		__u32 offs;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			plen = strnlen(p, plen);
			if (plen >= sizeof(ne->msg))
				plen = sizeof(ne->msg) - 1;
			memcpy(ne->msg, p, plen);
			ne->msg[plen] = '\0';
			break;
		case NLMSGERR_ATTR_OFFS:
			if (plen >= sizeof(offs)) {
				memcpy(&offs, p, sizeof(offs));
				ne->offs = offs;
			}
			break;
		}
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a +
					    NLA_ALIGN(a->nla_len));
	}
}

struct rtattr *nl_attr_add(struct nlmsghdr *nh, size_t room,
			   unsigned short type, const void *data,
			   unsigned short len)
{
	struct rtattr *rta;

	if (NLMSG_ALIGN(nh->nlmsg_len) + RTA_SPACE(len) > room)
		return NULL;
	rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

void nl_nest_end(struct nlmsghdr *nh, struct rtattr *nest)
{
	nest->rta_len = (char *)nh + nh->nlmsg_len - (char *)nest;
}
