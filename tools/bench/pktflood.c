// SPDX-License-Identifier: GPL-2.0
/*
 * pktflood: send one prebuilt Ethernet frame many times through an
 * AF_PACKET socket, as fast as the kernel takes it (sendmmsg batches),
 * for a count or a duration. Used by tools/bench/guest.sh to load a
 * device's receive path with little sender overhead:
 *
 *   --kind arp   broadcast ARP request "who has DST-IP tell SRC-IP"
 *   --kind udp   unicast IPv4/UDP datagram to DST-MAC/DST-IP port 9
 *
 * Prints one JSON line: {"sent":N,"errors":N,"seconds":S,"pps":P}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "csum.h"

#define BATCH 64

static void print_help(FILE *f)
{
	fprintf(f,
		"usage: pktflood --dev IF --kind arp|udp --src-ip A --dst-ip A\n"
		"                [--dst-mac MAC] [--src-mac MAC] [--size BYTES]\n"
		"                [--count N] [--duration SEC] [--bypass]\n"
		"                [--dst-count K]\n"
		"  --dev IF        send on IF (in the current netns)\n"
		"  --kind arp      broadcast ARP request for --dst-ip\n"
		"  --kind udp      IPv4/UDP to --dst-mac/--dst-ip port 9\n"
		"  --src-mac MAC   default: IF's address\n"
		"  --size BYTES    UDP payload (default 18: a 64-byte frame)\n"
		"  --count N       stop after N frames (default: no limit)\n"
		"  --duration SEC  stop after SEC seconds (default 2, 0: none)\n"
		"  --bypass        PACKET_QDISC_BYPASS\n"
		"  --dst-count K   cycle the destination over K addresses from\n"
		"                  --dst-ip on, one per frame (default 1)\n"
		"Prints {\"sent\":N,\"errors\":N,\"seconds\":S,\"pps\":P}.\n");
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = b[i];
	}
	return 0;
}

/* Build the frame into buf; returns its length. */
static size_t build_arp(uint8_t *buf, const uint8_t *smac,
			struct in_addr sip, struct in_addr dip)
{
	uint8_t *a = buf + 14;

	memset(buf, 0xff, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, ETHERTYPE_ARP);
	put16(a, 1);			/* htype Ethernet */
	put16(a + 2, ETHERTYPE_IP);	/* ptype */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);		/* request */
	memcpy(a + 8, smac, 6);
	memcpy(a + 14, &sip, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &dip, 4);
	memset(a + 28, 0, 60 - 14 - 28);	/* pad to the minimum frame */
	return 60;
}

static size_t build_udp(uint8_t *buf, const uint8_t *smac, const uint8_t *dmac,
			struct in_addr sip, struct in_addr dip, size_t payload)
{
	uint8_t *ip = buf + 14, *udp = ip + 20;
	size_t len = 14 + 20 + 8 + payload;

	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	put16(buf + 12, ETHERTYPE_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, 20 + 8 + payload);
	put16(ip + 4, 0);
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	put16(ip + 10, 0);
	memcpy(ip + 12, &sip, 4);
	memcpy(ip + 16, &dip, 4);
	put16(ip + 10, csum(ip, 20));
	put16(udp, 4242);
	put16(udp + 2, 9);		/* discard */
	put16(udp + 4, 8 + payload);
	put16(udp + 6, 0);		/* no checksum */
	memset(udp + 8, 0x5a, payload);
	if (len < 60) {
		memset(buf + len, 0, 60 - len);
		len = 60;
	}
	return len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "kind", required_argument, NULL, 'k' },
		{ "src-ip", required_argument, NULL, 's' },
		{ "dst-ip", required_argument, NULL, 't' },
		{ "src-mac", required_argument, NULL, 'S' },
		{ "dst-mac", required_argument, NULL, 'D' },
		{ "size", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'T' },
		{ "bypass", no_argument, NULL, 'b' },
		{ "dst-count", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = NULL, *kind = NULL;
	uint8_t smac[6], dmac[6], *frames;
	int have_smac = 0, have_dmac = 0, bypass = 0, fd, opt, i;
	struct in_addr sip = { 0 }, dip = { 0 };
	long long count = -1, sent = 0, errors = 0, ndst = 1;
	double duration = 2, t0, t1, elapsed;
	struct mmsghdr msgs[BATCH];
	struct sockaddr_ll sll;
	struct iovec *iovs;
	size_t size = 18, len;
	struct ifreq ifr;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'k':
			kind = optarg;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &sip) != 1)
				goto bad;
			break;
		case 't':
			if (inet_pton(AF_INET, optarg, &dip) != 1)
				goto bad;
			break;
		case 'S':
			if (parse_mac(optarg, smac))
				goto bad;
			have_smac = 1;
			break;
		case 'D':
			if (parse_mac(optarg, dmac))
				goto bad;
			have_dmac = 1;
			break;
		case 'z':
			size = strtoul(optarg, NULL, 0);
			if (size > 1472)
				goto bad;
			break;
		case 'c':
			count = strtoll(optarg, NULL, 0);
			break;
		case 'T':
			duration = strtod(optarg, NULL);
			break;
		case 'b':
			bypass = 1;
			break;
		case 'K':
			ndst = strtoll(optarg, NULL, 0);
			if (ndst < 1 || ndst > 65536)
				goto bad;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		default:
			print_help(stderr);
			return 2;
		}
	}
	if (!dev || !kind || (strcmp(kind, "arp") && strcmp(kind, "udp")) ||
	    (!strcmp(kind, "udp") && !have_dmac)) {
		print_help(stderr);
		return 2;
	}

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		perror(dev);
		return 1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = 6;
	if (!have_smac) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			perror("SIOCGIFHWADDR");
			return 1;
		}
		memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	}
	if (bypass) {
		int one = 1;

		if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
			       sizeof(one)) < 0)
			perror("PACKET_QDISC_BYPASS");
	}

	frames = calloc(ndst, 1600);
	iovs = calloc(ndst, sizeof(*iovs));
	if (!frames || !iovs) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < ndst; i++) {
		struct in_addr d = { htonl(ntohl(dip.s_addr) + i) };
		uint8_t *f = frames + (size_t)i * 1600;

		if (!strcmp(kind, "arp"))
			len = build_arp(f, smac, sip, d);
		else
			len = build_udp(f, smac, dmac, sip, d, size);
		iovs[i].iov_base = f;
		iovs[i].iov_len = len;
	}
	memcpy(sll.sll_addr, frames, 6);

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = now_s();
	t1 = t0;
	while (count < 0 || sent < count) {
		long long want = BATCH;
		int n;

		if (count >= 0 && count - sent < want)
			want = count - sent;
		for (i = 0; i < want; i++)
			msgs[i].msg_hdr.msg_iov = &iovs[(sent + i) % ndst];
		n = sendmmsg(fd, msgs, want, 0);
		if (n < 0) {
			if (errno != ENOBUFS && errno != EAGAIN &&
			    errno != EINTR) {
				perror("sendmmsg");
				return 1;
			}
			errors++;
		} else {
			sent += n;
		}
		t1 = now_s();
		if (duration > 0 && t1 - t0 >= duration)
			break;
	}
	elapsed = t1 - t0;
	printf("{\"sent\":%lld,\"errors\":%lld,\"seconds\":%.4f,\"pps\":%.1f}\n",
	       sent, errors, elapsed, elapsed > 0 ? sent / elapsed : 0.0);
	close(fd);
	free(frames);
	free(iovs);
	return 0;
bad:
	fprintf(stderr, "pktflood: bad value '%s'\n", optarg);
	return 2;
}
