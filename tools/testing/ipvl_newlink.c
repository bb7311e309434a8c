// SPDX-License-Identifier: GPL-2.0
/*
 * ipvl_newlink: send one raw RTM_NEWLINK for an ipvlan link, with attribute
 * values iproute2 refuses to send (e.g. IFLA_IPVLAN_MODE=7), and print the
 * kernel's answer including the extended ack message.
 *
 *   ipvl_newlink --link DEV --name NAME [--kind KIND] [--mode N]
 *                [--flags N] [--mtu N]
 *
 * Output: "ok" or "error: <errno name> (<errno>): <strerror>", followed by
 * "extack: <message>" when the kernel set one.
 * Exit: 0 link created, 1 the kernel refused, 2 usage or local error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>

#include "nl.h"

#define BUF_SIZE 8192

struct req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[1024];
};

/* Append an attribute; the request has room for all of them. */
static struct rtattr *add_attr(struct req *req, unsigned short type,
			       const void *data, unsigned short len)
{
	return nl_attr_add(&req->nh, sizeof(*req), type, data, len);
}

static int print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --link DEV --name NAME [--kind KIND] [--mode N] [--flags N] [--mtu N]\n",
		prog);
	return 2;
}

static long parse_num(const char *s, const char *what, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < 0 || v > max) {
		fprintf(stderr, "bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "kind", required_argument, NULL, 'k' },
		{ "mode", required_argument, NULL, 'm' },
		{ "flags", required_argument, NULL, 'f' },
		{ "mtu", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	long mode = -1, flags = -1, mtu = -1;
	const char *link = NULL, *name = NULL;
	struct rtattr *linkinfo, *data;
	const char *kind = "ipvlan";
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
	};
	char buf[BUF_SIZE];
	struct nlmsghdr *nh;
	struct nl_err ne;
	struct req req;
	unsigned int ifindex;
	int fd, c;
	ssize_t n;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			link = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 'm':
			mode = parse_num(optarg, "mode", 0xffff);
			break;
		case 'f':
			flags = parse_num(optarg, "flags", 0xffff);
			break;
		case 'u':
			mtu = parse_num(optarg, "mtu", 0x7fffffff);
			break;
		default:
			return print_usage(argv[0]);
		}
	}
	if (!link || !name || optind != argc || strlen(name) >= IFNAMSIZ)
		return print_usage(argv[0]);
	ifindex = if_nametoindex(link);
	if (!ifindex) {
		fprintf(stderr, "no device '%s'\n", link);
		return 2;
	}

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
			     NLM_F_EXCL;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;

	add_attr(&req, IFLA_IFNAME, name, strlen(name) + 1);
	add_attr(&req, IFLA_LINK, &ifindex, sizeof(ifindex));
	if (mtu >= 0) {
		unsigned int v = mtu;

		add_attr(&req, IFLA_MTU, &v, sizeof(v));
	}
	linkinfo = add_attr(&req, IFLA_LINKINFO | NLA_F_NESTED, NULL, 0);
	add_attr(&req, IFLA_INFO_KIND, kind, strlen(kind));
	if (mode >= 0 || flags >= 0) {
		data = add_attr(&req, IFLA_INFO_DATA | NLA_F_NESTED, NULL, 0);
		if (mode >= 0) {
			unsigned short v = mode;

			add_attr(&req, IFLA_IPVLAN_MODE, &v, sizeof(v));
		}
		if (flags >= 0) {
			unsigned short v = flags;

			add_attr(&req, IFLA_IPVLAN_FLAGS, &v, sizeof(v));
		}
		nl_nest_end(&req.nh, data);
	}
	nl_nest_end(&req.nh, linkinfo);

	fd = rtnl_open(0, 0);
	if (fd < 0) {
		fprintf(stderr, "netlink socket: %s\n", strerror(-fd));
		return 2;
	}
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0) {
		perror("sendto");
		return 2;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		perror("recv");
		return 2;
	}
	close(fd);

	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type != NLMSG_ERROR)
			continue;
		nl_parse_err(nh, &ne);
		if (!ne.error)
			printf("ok\n");
		else
			printf("error: %s (%d): %s\n",
			       strerrorname_np(ne.error) ?: "E?", ne.error,
			       strerror(ne.error));
		if (ne.msg[0])
			printf("extack: %s\n", ne.msg);
		return ne.error ? 1 : 0;
	}
	fprintf(stderr, "no netlink ack received\n");
	return 2;
}
