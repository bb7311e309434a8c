// SPDX-License-Identifier: GPL-2.0
/*
 * tapguest: a minimal "guest" behind a macvtap/ipvtap character device.
 *
 * Opens /dev/tapN the way QEMU 7.2 does for "-netdev tap,fd=N" with a
 * virtio-net device (TUNGETIFF, TUNSETOFFLOAD probes, TUNGET/SETVNETHDRSZ
 * to 12 bytes, TUNSETSNDBUF INT_MAX), then runs a tiny IPv4/IPv6 stack on
 * the raw frames: ARP and neighbour discovery both ways, ICMP/ICMPv6 echo,
 * a UDP sender, one GSO TCP frame and deliberately malformed writes.
 *
 * With --udp, the frames travel as UDP datagrams on 127.0.0.1 instead,
 * one Ethernet frame each, without a virtio-net header: the other end is
 * QEMU's "-netdev dgram" joined by a hub to "-netdev tap,fd=N", so that
 * QEMU's own tap backend holds the tap fd while this program plays the
 * guest (see tests/ipvtap_qemu.sh).
 *
 *   tapguest (--tap PATH | --dev IFNAME | --fd N | --udp L:R) [options] [action]
 *
 * Run "tapguest --help" for the options. Exit status: 0 success, 1 failure
 * (e.g. unanswered pings), 2 usage or setup error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/if_tun.h>
#include <linux/types.h>
#include <linux/virtio_net.h>

#include "csum.h"

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define MAX_QUEUES		16
#define MAX_ADDRS		8
#define MAX_NEIGH		32
#define VNET_HDR_MRG_LEN	12	/* sizeof(struct virtio_net_hdr_mrg_rxbuf) */
#define FRAME_MAX		65550	/* GSO frames: 64 KiB + Ethernet header */
#define BUF_MAX			(VNET_HDR_MRG_LEN + FRAME_MAX)
#define PING_INTERVAL_MS	200
#define SOLICIT_INTERVAL_MS	200
#define PING_PAYLOAD		56

/* Frame layout: offsets into each header. */
#define ETH_DST		0
#define ETH_SRC		6
#define ETH_TYPE	12
#define ETH_HLEN	14

#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IPV6	0x86dd

#define ARP_OP		6
#define ARP_SHA		8
#define ARP_SPA		14
#define ARP_THA		18
#define ARP_TPA		24
#define ARP_LEN		28

#define IP4_TOT_LEN	2
#define IP4_ID		4
#define IP4_FRAG	6
#define IP4_TTL		8
#define IP4_PROTO	9
#define IP4_CSUM	10
#define IP4_SRC		12
#define IP4_DST		16
#define IP4_HLEN	20

#define IP6_PLEN	4
#define IP6_NXT		6
#define IP6_HLIM	7
#define IP6_SRC		8
#define IP6_DST		24
#define IP6_HLEN	40

#define ICMP_CSUM	2
#define ICMP_ID		4
#define ICMP_SEQ	6
#define ICMP_HLEN	8

#define ICMP4_ECHO_REPLY	0
#define ICMP4_ECHO_REQUEST	8
#define ICMP6_ECHO_REQUEST	128
#define ICMP6_ECHO_REPLY	129
#define ND_NEIGH_SOLICIT	135
#define ND_NEIGH_ADVERT		136
#define ND_TARGET		8
#define ND_OPTS			24
#define ND_OPT_SLLA		1
#define ND_OPT_TLLA		2
#define ND_NA_ROUTER		0x80
#define ND_NA_SOLICITED		0x40
#define ND_NA_OVERRIDE		0x20

#define UDP_LEN		4
#define UDP_CSUM	6
#define UDP_HLEN	8
#define TCP_CSUM	16
#define TCP_HLEN	20

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_ICMPV6	58

enum action {
	ACT_SERVE,
	ACT_PING,
	ACT_UDP_FLOOD,
	ACT_GSO_TCP,
	ACT_BAD_WRITE,
};

struct addr {
	int family;		/* AF_INET or AF_INET6 */
	u8 a[16];		/* network order; IPv4 in the first 4 bytes */
	int plen;
};

struct neigh {
	struct addr ip;
	u8 mac[6];
	bool valid;
	bool permanent;
};

struct counters {
	u64 rx_frames;
	u64 tx_frames;
	u64 tx_errors;
	u64 arp_replies;
	u64 arp_requests;
	u64 echo_replies_sent;
	u64 echo_requests_sent;
	u64 replies_received;
	u64 dup_replies;
	u64 ns_answered;
	u64 ns_sent;
	u64 na_received;
	u64 dropped_unknown;
	u64 csum_errors;
	u64 rx_csum_partial;
	u64 rx_gso;
	u64 rx_queue[MAX_QUEUES];
};

/* One destination the guest sends to: ping, flood or GSO target. */
struct target {
	struct addr dst;
	struct addr src;
	struct addr nexthop;
	u16 port;
	u64 next_solicit;
	const u8 *mac;		/* resolved next-hop MAC, NULL until then */
};

struct guest {
	/* tap setup */
	const char *path;
	int fds[MAX_QUEUES];
	int nqueues;
	int passed_fd;
	u16 udp_local;		/* --udp: our port, 0 without --udp */
	u16 udp_remote;		/* --udp: QEMU's port */
	u64 udp_errors;		/* --udp: ICMP errors on the socket */
	bool vnet;
	int vnet_sz;
	bool offload;
	bool tx_csum;
	int detach[MAX_QUEUES];
	int ndetach;
	bool reattach;

	/* identity */
	u8 mac[6];
	bool have_mac;
	struct addr addrs[MAX_ADDRS];
	int naddrs;
	struct addr gw4, gw6;
	struct neigh neigh[MAX_NEIGH];

	/* behaviour */
	enum action action;
	bool serve;
	bool announce;
	bool json;
	bool verbose;
	int timeout_s;
	int wait_ms;
	long count;
	long min_replies;
	long size;
	const char *bad_kind;
	struct target tgt;

	/* ping state */
	u16 ping_id;
	long ping_sent;
	long ping_received;
	u8 *ping_seen;
	u64 next_ping;
	u64 last_ping;

	u16 ip4_id;
	struct counters c;
	int sigfd;
	u64 deadline;
	bool stop;
	bool done;
	int status;
	u8 rxbuf[BUF_MAX];
	u8 txbuf[BUF_MAX];
};

/* ------------------------------------------------------------ helpers */

static u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static u64 get64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put64(u8 *p, u64 v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = v & 0xff;
		v >>= 8;
	}
}

static int alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static const char *addr_str(const struct addr *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int n;
	char *s = buf[n++ & 3];

	inet_ntop(a->family, a->a, s, INET6_ADDRSTRLEN);
	return s;
}

static void addr_set(struct addr *a, int family, const u8 *bytes)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->a, bytes, alen(family));
}

static bool addr_eq(const struct addr *a, int family, const u8 *bytes)
{
	return a->family == family && !memcmp(a->a, bytes, alen(family));
}

static bool same_prefix(const struct addr *net, const struct addr *a)
{
	int bits = net->plen, i;

	if (net->family != a->family)
		return false;
	for (i = 0; bits > 0; i++, bits -= 8) {
		u8 mask = bits >= 8 ? 0xff : (u8)(0xff << (8 - bits));

		if ((net->a[i] ^ a->a[i]) & mask)
			return false;
	}
	return true;
}

static void mac_str(const u8 *m, char *s)
{
	sprintf(s, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int parse_mac(const char *s, u8 *m)
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		m[i] = b[i];
	}
	return 0;
}

/* "A" or "A/len" for IPv4 or IPv6 (want: AF_INET, AF_INET6 or 0 = any). */
static int parse_addr(const char *s, int want, struct addr *a)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long plen;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->a) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->a) == 1)
		a->family = AF_INET6;
	else
		return -1;
	if (want && a->family != want)
		return -1;
	a->plen = a->family == AF_INET ? 24 : 64;
	if (slash) {
		plen = strtol(slash, &end, 10);
		if (*end || plen < 0 || plen > alen(a->family) * 8)
			return -1;
		a->plen = plen;
	}
	return 0;
}

static u64 pseudo_sum(int family, const u8 *src, const u8 *dst, u32 len,
		      u8 proto)
{
	u64 sum = 0;

	sum = csum_add(sum, src, alen(family));
	sum = csum_add(sum, dst, alen(family));
	sum += len >> 16;
	sum += len & 0xffff;
	sum += proto;
	return sum;
}

/* ------------------------------------------------------------ addresses */

static const struct addr *own_addr(const struct guest *g, int family,
				   const u8 *a)
{
	int i;

	for (i = 0; i < g->naddrs; i++)
		if (addr_eq(&g->addrs[i], family, a))
			return &g->addrs[i];
	return NULL;
}

/* ff02::1:ffXX:XXXX for one of our IPv6 addresses, or ff02::1. */
static bool our_mcast6(const struct guest *g, const u8 *a)
{
	static const u8 sn[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
				   0, 0, 0, 1, 0xff };
	int i;

	if (a[0] == 0xff && a[1] == 0x02 && a[15] == 1 &&
	    !memcmp(a + 2, sn + 2, 13))
		return true;	/* all-nodes */
	if (memcmp(a, sn, sizeof(sn)))
		return false;
	for (i = 0; i < g->naddrs; i++)
		if (g->addrs[i].family == AF_INET6 &&
		    !memcmp(g->addrs[i].a + 13, a + 13, 3))
			return true;
	return false;
}

/* Source address and next hop towards t->dst. */
static int route(struct guest *g, struct target *t)
{
	const struct addr *gw = t->dst.family == AF_INET ? &g->gw4 : &g->gw6;
	bool ll = t->dst.family == AF_INET6 && t->dst.a[0] == 0xfe &&
		  (t->dst.a[1] & 0xc0) == 0x80;
	int i, first = -1;

	for (i = 0; i < g->naddrs; i++) {
		if (g->addrs[i].family != t->dst.family)
			continue;
		if (first < 0)
			first = i;
		if (ll || same_prefix(&g->addrs[i], &t->dst)) {
			t->src = g->addrs[i];
			t->nexthop = t->dst;
			return 0;
		}
	}
	if (first < 0) {
		fprintf(stderr, "tapguest: no %s address configured for %s\n",
			t->dst.family == AF_INET ? "--ip4" : "--ip6",
			addr_str(&t->dst));
		return -1;
	}
	if (!gw->family) {
		fprintf(stderr, "tapguest: %s is off-link and no %s given\n",
			addr_str(&t->dst),
			t->dst.family == AF_INET ? "--gw4" : "--gw6");
		return -1;
	}
	t->src = g->addrs[first];
	t->nexthop = *gw;
	return 0;
}

static struct neigh *neigh_find(struct guest *g, int family, const u8 *a)
{
	int i;

	for (i = 0; i < MAX_NEIGH; i++)
		if (g->neigh[i].valid && addr_eq(&g->neigh[i].ip, family, a))
			return &g->neigh[i];
	return NULL;
}

static void neigh_update(struct guest *g, int family, const u8 *a,
			 const u8 *mac, bool permanent)
{
	struct neigh *n = neigh_find(g, family, a);
	char ms[18];
	int i;

	if (n && n->permanent && !permanent)
		return;
	if (!n) {
		for (i = 0; i < MAX_NEIGH && g->neigh[i].valid; i++)
			;
		n = &g->neigh[i < MAX_NEIGH ? i : 0];
		addr_set(&n->ip, family, a);
		n->valid = true;
		if (g->verbose) {
			mac_str(mac, ms);
			printf("neigh %s lladdr %s\n", addr_str(&n->ip), ms);
		}
	}
	n->permanent = permanent;
	memcpy(n->mac, mac, 6);
}

/* ------------------------------------------------------------ transmit */

static u8 *tx_frame(struct guest *g)
{
	return g->txbuf + g->vnet_sz;
}

static void eth_fill(struct guest *g, const u8 *dst, u16 type)
{
	u8 *f = tx_frame(g);

	memcpy(f + ETH_DST, dst, 6);
	memcpy(f + ETH_SRC, g->mac, 6);
	put16(f + ETH_TYPE, type);
}

/*
 * Write the frame in txbuf (len bytes after the vnet header). With csum_start
 * > 0 and --tx-csum-offload, the checksum at csum_start + csum_offset holds
 * the pseudo-header seed only and VIRTIO_NET_HDR_F_NEEDS_CSUM asks the kernel
 * to finish it; otherwise the caller already wrote the complete checksum.
 */
static ssize_t tx_write(struct guest *g, size_t len,
			const struct virtio_net_hdr *vh)
{
	size_t total = g->vnet_sz + len;
	ssize_t n;

	if (g->vnet_sz) {
		memset(g->txbuf, 0, g->vnet_sz);
		if (vh)
			memcpy(g->txbuf, vh, sizeof(*vh));
	}
	n = write(g->fds[0], g->txbuf, total);
	if (n == (ssize_t)total) {
		g->c.tx_frames++;
	} else {
		g->c.tx_errors++;
		if (g->c.tx_errors <= 5)
			printf("tx: write(%zu) = %zd (%s)\n", total, n,
			       n < 0 ? strerror(errno) : "short");
	}
	return n;
}

/*
 * Finish the L4 checksum at off (relative to the frame) over [start, len):
 * fully in software, or left partial for the kernel with NEEDS_CSUM.
 */
static ssize_t tx_l4(struct guest *g, size_t len, size_t start, size_t off,
		     u64 seed)
{
	struct virtio_net_hdr vh = { 0 };
	u8 *f = tx_frame(g);

	if (g->tx_csum && g->vnet) {
		put16(f + start + off, csum_fold(seed));
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.csum_start = start;
		vh.csum_offset = off;
		return tx_write(g, len, &vh);
	}
	put16(f + start + off, 0);
	put16(f + start + off, ~csum_fold(csum_add(seed, f + start,
						   len - start)));
	return tx_write(g, len, NULL);
}

/* IPv4 header at ETH_HLEN; returns the offset of the payload. */
static size_t ip4_fill(struct guest *g, const u8 *src, const u8 *dst,
		       u8 proto, size_t plen)
{
	u8 *ip = tx_frame(g) + ETH_HLEN;

	memset(ip, 0, IP4_HLEN);
	ip[0] = 0x45;
	put16(ip + IP4_TOT_LEN, (u16)(IP4_HLEN + plen));
	put16(ip + IP4_ID, g->ip4_id++);
	ip[IP4_TTL] = 64;
	ip[IP4_PROTO] = proto;
	memcpy(ip + IP4_SRC, src, 4);
	memcpy(ip + IP4_DST, dst, 4);
	put16(ip + IP4_CSUM, ~csum_fold(csum_add(0, ip, IP4_HLEN)));
	return ETH_HLEN + IP4_HLEN;
}

static size_t ip6_fill(struct guest *g, const u8 *src, const u8 *dst,
		       u8 proto, size_t plen, u8 hlim)
{
	u8 *ip = tx_frame(g) + ETH_HLEN;

	memset(ip, 0, IP6_HLEN);
	ip[0] = 0x60;
	put16(ip + IP6_PLEN, (u16)plen);
	ip[IP6_NXT] = proto;
	ip[IP6_HLIM] = hlim;
	memcpy(ip + IP6_SRC, src, 16);
	memcpy(ip + IP6_DST, dst, 16);
	return ETH_HLEN + IP6_HLEN;
}

static void send_arp(struct guest *g, u16 op, const u8 *eth_dst,
		     const u8 *tha, const u8 *spa, const u8 *tpa)
{
	u8 *arp = tx_frame(g) + ETH_HLEN;

	eth_fill(g, eth_dst, ETHERTYPE_ARP);
	put16(arp, 1);			/* Ethernet */
	put16(arp + 2, ETHERTYPE_IP);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + ARP_OP, op);
	memcpy(arp + ARP_SHA, g->mac, 6);
	memcpy(arp + ARP_SPA, spa, 4);
	memcpy(arp + ARP_THA, tha, 6);
	memcpy(arp + ARP_TPA, tpa, 4);
	tx_write(g, ETH_HLEN + ARP_LEN, NULL);
}

/* NS (target) or NA (target, flags) with a link-layer address option. */
static void send_nd(struct guest *g, u8 type, const u8 *eth_dst,
		    const u8 *src, const u8 *dst, const u8 *target, u8 flags)
{
	const size_t plen = ND_OPTS + 8;
	u8 *f = tx_frame(g), *icmp;
	size_t off;

	eth_fill(g, eth_dst, ETHERTYPE_IPV6);
	off = ip6_fill(g, src, dst, PROTO_ICMPV6, plen, 255);
	icmp = f + off;
	memset(icmp, 0, plen);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + ND_TARGET, target, 16);
	icmp[ND_OPTS] = type == ND_NEIGH_SOLICIT ? ND_OPT_SLLA : ND_OPT_TLLA;
	icmp[ND_OPTS + 1] = 1;		/* length in units of 8 bytes */
	memcpy(icmp + ND_OPTS + 2, g->mac, 6);
	tx_l4(g, off + plen, off, ICMP_CSUM,
	      pseudo_sum(AF_INET6, src, dst, plen, PROTO_ICMPV6));
}

static void solicit(struct guest *g, const struct addr *src,
		    const struct addr *who)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const u8 zero[6];
	u8 mac[6] = { 0x33, 0x33, 0xff }, dst[16] = { 0xff, 0x02 };

	if (who->family == AF_INET) {
		send_arp(g, 1, bcast, zero, src->a, who->a);
		g->c.arp_requests++;
		return;
	}
	/* solicited-node multicast ff02::1:ffXX:XXXX */
	dst[11] = 1;
	dst[12] = 0xff;
	memcpy(dst + 13, who->a + 13, 3);
	memcpy(mac + 3, who->a + 13, 3);
	send_nd(g, ND_NEIGH_SOLICIT, mac, src->a, dst, who->a, 0);
	g->c.ns_sent++;
}

/* The next hop's MAC, or NULL after (rate-limited) soliciting it. */
static const u8 *resolve(struct guest *g, struct target *t, u64 now)
{
	struct neigh *n = neigh_find(g, t->nexthop.family, t->nexthop.a);

	if (n)
		return n->mac;
	if (now >= t->next_solicit) {
		solicit(g, &t->src, &t->nexthop);
		t->next_solicit = now + SOLICIT_INTERVAL_MS;
	}
	return NULL;
}

static void announce(struct guest *g)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const u8 allnodes[16] = { 0xff, 0x02, [15] = 1 };
	static const u8 allnodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const u8 zero[6];
	int i;

	for (i = 0; i < g->naddrs; i++) {
		const struct addr *a = &g->addrs[i];

		if (a->family == AF_INET)
			send_arp(g, 1, bcast, zero, a->a, a->a);
		else
			send_nd(g, ND_NEIGH_ADVERT, allnodes_mac, a->a,
				allnodes, a->a, ND_NA_OVERRIDE);
		printf("announced %s\n", addr_str(a));
	}
}

/* ------------------------------------------------------------ receive */

static void rx_arp(struct guest *g, const u8 *f, size_t len)
{
	const u8 *arp = f + ETH_HLEN;
	u16 op;

	if (len < ETH_HLEN + ARP_LEN || get16(arp) != 1 ||
	    get16(arp + 2) != ETHERTYPE_IP || arp[4] != 6 || arp[5] != 4) {
		g->c.dropped_unknown++;
		return;
	}
	op = get16(arp + ARP_OP);
	if (!own_addr(g, AF_INET, arp + ARP_TPA)) {
		/* Not for us; still learn from replies to our requests. */
		if (op == 2 && neigh_find(g, AF_INET, arp + ARP_SPA))
			neigh_update(g, AF_INET, arp + ARP_SPA, arp + ARP_SHA,
				     false);
		else
			g->c.dropped_unknown++;
		return;
	}
	neigh_update(g, AF_INET, arp + ARP_SPA, arp + ARP_SHA, false);
	if (op == 1) {
		send_arp(g, 2, arp + ARP_SHA, arp + ARP_SHA, arp + ARP_TPA,
			 arp + ARP_SPA);
		g->c.arp_replies++;
		if (g->verbose)
			printf("arp reply to %u.%u.%u.%u\n", arp[ARP_SPA],
			       arp[ARP_SPA + 1], arp[ARP_SPA + 2],
			       arp[ARP_SPA + 3]);
	}
}

static void echo_reply_rx(struct guest *g, const struct addr *from,
			  const u8 *icmp, size_t len, int ttl)
{
	u16 seq = get16(icmp + ICMP_SEQ);
	double rtt = -1;

	if (get16(icmp + ICMP_ID) != g->ping_id || g->action != ACT_PING ||
	    seq >= g->count) {
		g->c.dropped_unknown++;
		return;
	}
	if (g->ping_seen[seq]) {
		g->c.dup_replies++;
		printf("duplicate reply from %s: seq=%u\n", addr_str(from), seq);
		return;
	}
	g->ping_seen[seq] = 1;
	g->ping_received++;
	g->c.replies_received++;
	if (len >= ICMP_HLEN + 8)
		rtt = (now_us() - get64(icmp + ICMP_HLEN)) / 1000.0;
	printf("reply from %s: seq=%u ttl=%d time=%.2f ms\n",
	       addr_str(from), seq, ttl, rtt);
}

static void rx_ip4(struct guest *g, const u8 *f, size_t len, bool csum_ok)
{
	const u8 *ip = f + ETH_HLEN, *icmp;
	size_t ihl, tot, ilen, off;
	struct addr from;

	if (len < ETH_HLEN + IP4_HLEN || ip[0] >> 4 != 4)
		goto drop;
	ihl = (ip[0] & 0xf) * 4;
	tot = get16(ip + IP4_TOT_LEN);
	if (ihl < IP4_HLEN || tot < ihl || ETH_HLEN + tot > len)
		goto drop;
	if (csum_fold(csum_add(0, ip, ihl)) != 0xffff) {
		g->c.csum_errors++;
		return;
	}
	if (!own_addr(g, AF_INET, ip + IP4_DST) ||
	    (get16(ip + IP4_FRAG) & 0x3fff) || ip[IP4_PROTO] != PROTO_ICMP)
		goto drop;
	icmp = ip + ihl;
	ilen = tot - ihl;
	if (ilen < ICMP_HLEN)
		goto drop;
	if (!csum_ok && csum_fold(csum_add(0, icmp, ilen)) != 0xffff) {
		g->c.csum_errors++;
		return;
	}
	addr_set(&from, AF_INET, ip + IP4_SRC);
	if (icmp[0] == ICMP4_ECHO_REPLY) {
		echo_reply_rx(g, &from, icmp, ilen, ip[IP4_TTL]);
		return;
	}
	if (icmp[0] != ICMP4_ECHO_REQUEST)
		goto drop;

	/* Echo reply to the requester's MAC, like most small stacks do. */
	eth_fill(g, f + ETH_SRC, ETHERTYPE_IP);
	off = ip4_fill(g, ip + IP4_DST, ip + IP4_SRC, PROTO_ICMP, ilen);
	memcpy(tx_frame(g) + off, icmp, ilen);
	tx_frame(g)[off] = ICMP4_ECHO_REPLY;
	tx_l4(g, off + ilen, off, ICMP_CSUM, 0);
	g->c.echo_replies_sent++;
	if (g->verbose)
		printf("echo reply to %s seq=%u\n", addr_str(&from),
		       get16(icmp + ICMP_SEQ));
	return;
drop:
	g->c.dropped_unknown++;
}

/* Link-layer address option of type want in an ND message, or NULL. */
static const u8 *nd_lladdr(const u8 *icmp, size_t len, u8 want)
{
	size_t off = ND_OPTS;

	while (off + 8 <= len) {
		size_t olen = icmp[off + 1] * 8;

		if (!olen || off + olen > len)
			return NULL;
		if (icmp[off] == want)
			return icmp + off + 2;
		off += olen;
	}
	return NULL;
}

static void rx_nd(struct guest *g, const u8 *f, const u8 *ip, const u8 *icmp,
		  size_t len)
{
	static const u8 allnodes[16] = { 0xff, 0x02, [15] = 1 };
	static const u8 allnodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const u8 any[16];
	const u8 *ll;

	if (len < ND_OPTS || ip[IP6_HLIM] != 255) {
		g->c.dropped_unknown++;
		return;
	}
	if (icmp[0] == ND_NEIGH_ADVERT) {
		ll = nd_lladdr(icmp, len, ND_OPT_TLLA);
		g->c.na_received++;
		if (ll)
			neigh_update(g, AF_INET6, icmp + ND_TARGET, ll, false);
		return;
	}
	if (!own_addr(g, AF_INET6, icmp + ND_TARGET)) {
		g->c.dropped_unknown++;
		return;
	}
	ll = nd_lladdr(icmp, len, ND_OPT_SLLA);
	if (!memcmp(ip + IP6_SRC, any, 16)) {
		/* DAD probe for our address: defend it to all-nodes. */
		send_nd(g, ND_NEIGH_ADVERT, allnodes_mac, icmp + ND_TARGET,
			allnodes, icmp + ND_TARGET, ND_NA_OVERRIDE);
	} else {
		if (ll)
			neigh_update(g, AF_INET6, ip + IP6_SRC, ll, false);
		send_nd(g, ND_NEIGH_ADVERT, ll ? ll : f + ETH_SRC,
			icmp + ND_TARGET, ip + IP6_SRC, icmp + ND_TARGET,
			ND_NA_SOLICITED | ND_NA_OVERRIDE);
	}
	g->c.ns_answered++;
	if (g->verbose) {
		struct addr from;

		addr_set(&from, AF_INET6, ip + IP6_SRC);
		printf("neighbour advertisement to %s\n", addr_str(&from));
	}
}

static void rx_ip6(struct guest *g, const u8 *f, size_t len, bool csum_ok)
{
	const u8 *ip = f + ETH_HLEN, *icmp;
	struct addr from;
	size_t plen, off;

	if (len < ETH_HLEN + IP6_HLEN || ip[0] >> 4 != 6)
		goto drop;
	plen = get16(ip + IP6_PLEN);
	if (ETH_HLEN + IP6_HLEN + plen > len)
		goto drop;
	if (ip[IP6_NXT] != PROTO_ICMPV6 || plen < ICMP_HLEN)
		goto drop;
	if (!own_addr(g, AF_INET6, ip + IP6_DST) &&
	    !our_mcast6(g, ip + IP6_DST))
		goto drop;
	icmp = ip + IP6_HLEN;
	if (!csum_ok &&
	    csum_fold(csum_add(pseudo_sum(AF_INET6, ip + IP6_SRC,
					  ip + IP6_DST, plen, PROTO_ICMPV6),
			       icmp, plen)) != 0xffff) {
		g->c.csum_errors++;
		return;
	}
	addr_set(&from, AF_INET6, ip + IP6_SRC);
	switch (icmp[0]) {
	case ND_NEIGH_SOLICIT:
	case ND_NEIGH_ADVERT:
		rx_nd(g, f, ip, icmp, plen);
		return;
	case ICMP6_ECHO_REPLY:
		echo_reply_rx(g, &from, icmp, plen, ip[IP6_HLIM]);
		return;
	case ICMP6_ECHO_REQUEST:
		if (!own_addr(g, AF_INET6, ip + IP6_DST))
			goto drop;
		break;
	default:
		goto drop;
	}
	eth_fill(g, f + ETH_SRC, ETHERTYPE_IPV6);
	off = ip6_fill(g, ip + IP6_DST, ip + IP6_SRC, PROTO_ICMPV6, plen, 64);
	memcpy(tx_frame(g) + off, icmp, plen);
	tx_frame(g)[off] = ICMP6_ECHO_REPLY;
	tx_l4(g, off + plen, off, ICMP_CSUM,
	      pseudo_sum(AF_INET6, ip + IP6_DST, ip + IP6_SRC, plen,
			 PROTO_ICMPV6));
	g->c.echo_replies_sent++;
	if (g->verbose)
		printf("echo reply to %s seq=%u\n", addr_str(&from),
		       get16(icmp + ICMP_SEQ));
	return;
drop:
	g->c.dropped_unknown++;
}

static void rx_frame(struct guest *g, u8 *buf, size_t n)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct virtio_net_hdr vh = { 0 };
	bool csum_ok = false;
	size_t len;
	u8 *f;

	g->c.rx_frames++;
	if (n < (size_t)g->vnet_sz + ETH_HLEN) {
		g->c.dropped_unknown++;
		return;
	}
	f = buf + g->vnet_sz;
	len = n - g->vnet_sz;
	if (g->vnet)
		memcpy(&vh, buf, sizeof(vh));
	if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		g->c.rx_gso++;
		if (g->verbose)
			printf("rx gso frame: type %u size %u len %zu\n",
			       vh.gso_type, vh.gso_size, len);
	}
	if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* Partial checksum: finish it before looking at the frame. */
		size_t start = vh.csum_start, off = vh.csum_offset;

		g->c.rx_csum_partial++;
		if (start + off + 2 > len) {
			g->c.csum_errors++;
			return;
		}
		put16(f + start + off, ~csum_fold(csum_add(0, f + start,
							   len - start)));
	} else if (vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		csum_ok = true;
	}
	if (memcmp(f + ETH_DST, g->mac, 6) && memcmp(f + ETH_DST, bcast, 6) &&
	    !(f[ETH_DST] & 1)) {
		g->c.dropped_unknown++;
		return;
	}
	switch (get16(f + ETH_TYPE)) {
	case ETHERTYPE_ARP:
		rx_arp(g, f, len);
		break;
	case ETHERTYPE_IP:
		rx_ip4(g, f, len, csum_ok);
		break;
	case ETHERTYPE_IPV6:
		rx_ip6(g, f, len, csum_ok);
		break;
	default:
		g->c.dropped_unknown++;
	}
}

static void rx_drain(struct guest *g, int q)
{
	int i;

	for (i = 0; i < 256; i++) {
		ssize_t n = read(g->fds[q], g->rxbuf, sizeof(g->rxbuf));

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				printf("rx: read on queue %d: %s\n", q,
				       strerror(errno));
			return;
		}
		if (n == 0)
			return;
		g->c.rx_queue[q]++;
		rx_frame(g, g->rxbuf, n);
	}
}

/* ------------------------------------------------------------ actions */

static void ping_tick(struct guest *g, u64 now)
{
	struct target *t = &g->tgt;
	size_t off, ilen = ICMP_HLEN + PING_PAYLOAD;
	u8 *icmp;
	int i;

	if (g->ping_sent >= g->count) {
		if (g->ping_received >= g->count ||
		    now >= g->last_ping + g->wait_ms)
			g->done = true;
		return;
	}
	if (now < g->next_ping)
		return;
	t->mac = resolve(g, t, now);
	if (!t->mac)
		return;

	eth_fill(g, t->mac, t->dst.family == AF_INET ? ETHERTYPE_IP :
						       ETHERTYPE_IPV6);
	if (t->dst.family == AF_INET)
		off = ip4_fill(g, t->src.a, t->dst.a, PROTO_ICMP, ilen);
	else
		off = ip6_fill(g, t->src.a, t->dst.a, PROTO_ICMPV6, ilen, 64);
	icmp = tx_frame(g) + off;
	memset(icmp, 0, ICMP_HLEN);
	icmp[0] = t->dst.family == AF_INET ? ICMP4_ECHO_REQUEST :
					     ICMP6_ECHO_REQUEST;
	put16(icmp + ICMP_ID, g->ping_id);
	put16(icmp + ICMP_SEQ, (u16)g->ping_sent);
	put64(icmp + ICMP_HLEN, now_us());
	for (i = 8; i < PING_PAYLOAD; i++)
		icmp[ICMP_HLEN + i] = (u8)i;
	if (t->dst.family == AF_INET)
		tx_l4(g, off + ilen, off, ICMP_CSUM, 0);
	else
		tx_l4(g, off + ilen, off, ICMP_CSUM,
		      pseudo_sum(AF_INET6, t->src.a, t->dst.a, ilen,
				 PROTO_ICMPV6));
	g->c.echo_requests_sent++;
	g->ping_sent++;
	g->last_ping = now;
	g->next_ping = now + PING_INTERVAL_MS;
}

/* UDP datagram of g->size payload bytes to the resolved target. */
static ssize_t udp_send(struct guest *g, long seq)
{
	struct target *t = &g->tgt;
	size_t ulen = UDP_HLEN + g->size, off;
	u8 *udp;

	eth_fill(g, t->mac, t->dst.family == AF_INET ? ETHERTYPE_IP :
						       ETHERTYPE_IPV6);
	if (t->dst.family == AF_INET)
		off = ip4_fill(g, t->src.a, t->dst.a, PROTO_UDP, ulen);
	else
		off = ip6_fill(g, t->src.a, t->dst.a, PROTO_UDP, ulen, 64);
	udp = tx_frame(g) + off;
	put16(udp, 40000);
	put16(udp + 2, t->port);
	put16(udp + UDP_LEN, (u16)ulen);
	memset(udp + UDP_HLEN, 0x5a, g->size);
	if (g->size >= 8)
		put64(udp + UDP_HLEN, seq);
	return tx_l4(g, off + ulen, off, UDP_CSUM,
		     pseudo_sum(t->dst.family, t->src.a, t->dst.a, ulen,
				PROTO_UDP));
}

static void udp_flood(struct guest *g, u64 now)
{
	struct pollfd pfd = { .fd = g->fds[0], .events = POLLOUT };
	u64 start = now_us(), us;
	long i, ok = 0;
	ssize_t n;

	g->tgt.mac = resolve(g, &g->tgt, now);
	if (!g->tgt.mac)
		return;
	for (i = 0; i < g->count && now_ms() < g->deadline; i++) {
		n = udp_send(g, i);
		if (n < 0 && errno == EAGAIN) {
			poll(&pfd, 1, 100);
			i--;
			continue;
		}
		if (n > 0)
			ok++;
	}
	us = now_us() - start;
	if (!us)
		us = 1;
	printf("udp-flood: sent %ld of %ld datagrams of %ld bytes to %s port %u\n",
	       ok, g->count, g->size, addr_str(&g->tgt.dst), g->tgt.port);
	printf("udp-flood: %.3f s, %.0f pps, %.1f Mbit/s\n", us / 1e6,
	       ok * 1e6 / us, ok * 8.0 * g->size / us);
	g->status = ok == g->count ? 0 : 1;
	g->done = true;
}

/*
 * One TCP/IPv4 frame of 14 + 20 + 20 + payload bytes carrying a virtio GSO
 * header (GSO_TCPV4, gso_size 1400, checksum left partial): what a
 * virtio-net guest with TSO hands to its host.
 */
static void gso_tcp(struct guest *g, u64 now)
{
	struct virtio_net_hdr vh = { 0 };
	struct target *t = &g->tgt;
	size_t plen = g->size > 0 ? g->size : 4000;
	size_t tlen = TCP_HLEN + plen, off;
	u8 *tcp;
	ssize_t n;

	t->mac = resolve(g, t, now);
	if (!t->mac)
		return;
	eth_fill(g, t->mac, ETHERTYPE_IP);
	off = ip4_fill(g, t->src.a, t->dst.a, PROTO_TCP, tlen);
	tcp = tx_frame(g) + off;
	memset(tcp, 0, TCP_HLEN);
	put16(tcp, 40001);
	put16(tcp + 2, t->port ? t->port : 5001);
	put32(tcp + 4, 0x1000);		/* seq */
	put32(tcp + 8, 0x2000);		/* ack */
	tcp[12] = (TCP_HLEN / 4) << 4;
	tcp[13] = 0x18;			/* PSH | ACK */
	put16(tcp + 14, 65535);
	memset(tcp + TCP_HLEN, 0x6b, plen);
	put16(tcp + TCP_CSUM,
	      csum_fold(pseudo_sum(AF_INET, t->src.a, t->dst.a, tlen,
				   PROTO_TCP)));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = 1400;
	vh.hdr_len = off + TCP_HLEN;
	vh.csum_start = off;
	vh.csum_offset = TCP_CSUM;
	n = tx_write(g, off + tlen, &vh);
	printf("gso-tcp: write(%zu) = %zd%s%s\n", g->vnet_sz + off + tlen, n,
	       n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
	g->status = n == (ssize_t)(g->vnet_sz + off + tlen) ? 0 : 1;
	g->done = true;
}

static void bad_report(struct guest *g, const char *what, size_t len,
		       const u8 *buf)
{
	ssize_t n = write(g->fds[0], buf, len);
	int err = errno;

	printf("bad-write %s: write(%zu) = %zd", what, len, n);
	if (n < 0)
		printf(" errno %d (%s)", err, strerror(err));
	printf("\n");
}

/* A small but valid ARP request frame to carry the bogus headers. */
static size_t bad_frame(struct guest *g, u8 *f)
{
	static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	u8 *arp = f + ETH_HLEN;

	memcpy(f + ETH_DST, bcast, 6);
	memcpy(f + ETH_SRC, g->mac, 6);
	put16(f + ETH_TYPE, ETHERTYPE_ARP);
	memset(arp, 0, ARP_LEN);
	put16(arp, 1);
	put16(arp + 2, ETHERTYPE_IP);
	arp[4] = 6;
	arp[5] = 4;
	put16(arp + ARP_OP, 1);
	memcpy(arp + ARP_SHA, g->mac, 6);
	return ETH_HLEN + ARP_LEN;
}

static int bad_write(struct guest *g)
{
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)g->txbuf;
	const char *k = g->bad_kind;
	bool all = !strcmp(k, "all");
	u8 *f = g->txbuf + g->vnet_sz;
	size_t flen;
	int done = 0;

	memset(g->txbuf, 0, sizeof(g->txbuf));
	flen = bad_frame(g, f);
	if (all || !strcmp(k, "short")) {
		bad_report(g, "short", 3, g->txbuf);
		done++;
	}
	if (!g->vnet) {
		if (!done)
			fprintf(stderr, "tapguest: --bad-write %s needs the vnet header\n",
				k);
		return done ? 0 : 2;
	}
	if (all || !strcmp(k, "short-vnet")) {
		bad_report(g, "short-vnet", g->vnet_sz - 2, g->txbuf);
		done++;
	}
	if (all || !strcmp(k, "bad-vnet-hdr")) {
		vh->hdr_len = flen + 100;
		bad_report(g, "bad-vnet-hdr hdr_len>len", g->vnet_sz + flen,
			   g->txbuf);
		memset(vh, 0, sizeof(*vh));
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = flen + 20;
		vh->csum_offset = 6;
		bad_report(g, "bad-vnet-hdr csum_start>len", g->vnet_sz + flen,
			   g->txbuf);
		memset(vh, 0, sizeof(*vh));
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = ETH_HLEN;
		vh->csum_offset = ARP_LEN - 1;
		bad_report(g, "bad-vnet-hdr csum_offset>len",
			   g->vnet_sz + flen, g->txbuf);
		memset(vh, 0, sizeof(*vh));
		done++;
	}
	if (all || !strcmp(k, "gso-bogus")) {
		vh->gso_type = 0x7f;
		vh->gso_size = 1400;
		bad_report(g, "gso-bogus gso_type=0x7f", g->vnet_sz + flen,
			   g->txbuf);
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = 0;
		bad_report(g, "gso-bogus gso_size=0", g->vnet_sz + flen,
			   g->txbuf);
		/* GSO_TCPV4 on an ARP frame: protocol mismatch */
		vh->gso_size = 1400;
		bad_report(g, "gso-bogus tcpv4-on-arp", g->vnet_sz + flen,
			   g->txbuf);
		memset(vh, 0, sizeof(*vh));
		done++;
	}
	if (all || !strcmp(k, "runt-eth")) {
		bad_report(g, "runt-eth", g->vnet_sz + 10, g->txbuf);
		done++;
	}
	if (!done) {
		fprintf(stderr, "tapguest: unknown --bad-write kind '%s'\n", k);
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------ tap setup */

static int die_ioctl(const char *what, int q)
{
	fprintf(stderr, "tapguest: %s on queue %d failed: %s (errno %d)\n",
		what, q, strerror(errno), errno);
	return -1;
}

/*
 * The ioctl sequence of QEMU 7.2's tap backend for "-netdev tap,fd=N"
 * (checked with strace), then what virtio-net adds once the guest driver
 * negotiated its features. TUNSETIFF is extra: only for --no-vnet-hdr and
 * --queues, QEMU never changes the flags of a passed fd.
 */
static int tap_setup(struct guest *g, int q)
{
	unsigned int offload, flags;
	int fd = g->fds[q], sz, orig, sndbuf = INT_MAX;
	struct ifreq ifr;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return die_ioctl("fcntl(O_NONBLOCK)", q);

	if (!g->vnet || g->nqueues > 1) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (g->vnet)
			ifr.ifr_flags |= IFF_VNET_HDR;
		if (g->nqueues > 1)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0)
			return die_ioctl("TUNSETIFF", q);
	}

	/* tap_probe_vnet_hdr() */
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return die_ioctl("TUNGETIFF", q);
	flags = (unsigned short)ifr.ifr_flags;
	printf("queue %d: fd %d dev %.*s flags 0x%04x:%s%s%s%s\n", q, fd,
	       IFNAMSIZ, ifr.ifr_name, flags,
	       flags & IFF_TAP ? " tap" : "",
	       flags & IFF_NO_PI ? " no_pi" : "",
	       flags & IFF_VNET_HDR ? " vnet_hdr" : "",
	       flags & IFF_MULTI_QUEUE ? " multi_queue" : "");
	if (!(flags & IFF_TAP)) {
		fprintf(stderr, "tapguest: not a tap device (flags 0x%x)\n",
			flags);
		return -1;
	}
	if (g->vnet != !!(flags & IFF_VNET_HDR)) {
		fprintf(stderr, "tapguest: IFF_VNET_HDR is %s, wanted %s\n",
			flags & IFF_VNET_HDR ? "on" : "off",
			g->vnet ? "on" : "off");
		return -1;
	}

	/* tap_probe_has_ufo(), then tap_set_offload(0) in net_tap_fd_init() */
	offload = TUN_F_CSUM | TUN_F_UFO;
	if (ioctl(fd, TUNSETOFFLOAD, offload) < 0)
		printf("queue %d: TUNSETOFFLOAD probe CSUM|UFO: %s\n", q,
		       strerror(errno));
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return die_ioctl("TUNSETOFFLOAD(0)", q);

	if (g->vnet) {
		/* tap_probe_vnet_hdr_len(): get, set, restore */
		if (ioctl(fd, TUNGETVNETHDRSZ, &orig) < 0)
			return die_ioctl("TUNGETVNETHDRSZ", q);
		sz = VNET_HDR_MRG_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
			return die_ioctl("TUNSETVNETHDRSZ probe", q);
		if (ioctl(fd, TUNSETVNETHDRSZ, &orig) < 0)
			return die_ioctl("TUNSETVNETHDRSZ restore", q);
		/* net_tap_fd_init(): sizeof(struct virtio_net_hdr) */
		sz = sizeof(struct virtio_net_hdr);
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
			return die_ioctl("TUNSETVNETHDRSZ", q);
	}

	/* tap_set_sndbuf(): sndbuf= unset means INT_MAX */
	if (ioctl(fd, TUNSETSNDBUF, &sndbuf) < 0)
		return die_ioctl("TUNSETSNDBUF", q);

	if (g->vnet) {
		/* virtio-net: mrg_rxbuf (or VIRTIO_F_VERSION_1) header */
		sz = VNET_HDR_MRG_LEN;
		if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
			return die_ioctl("TUNSETVNETHDRSZ", q);
		if (ioctl(fd, TUNGETVNETHDRSZ, &sz) < 0)
			return die_ioctl("TUNGETVNETHDRSZ", q);
		printf("queue %d: vnet header %d bytes (default was %d)\n", q,
		       sz, orig);
		g->vnet_sz = sz;
	}

	/* virtio_net_apply_guest_offloads(): all of them, then without UFO */
	if (g->vnet && g->offload) {
		offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
			  TUN_F_UFO;
		if (ioctl(fd, TUNSETOFFLOAD, offload) < 0) {
			offload &= ~TUN_F_UFO;
			if (ioctl(fd, TUNSETOFFLOAD, offload) < 0)
				return die_ioctl("TUNSETOFFLOAD", q);
		}
		printf("queue %d: offloads 0x%x\n", q, offload);
	} else {
		printf("queue %d: offloads off\n", q);
	}
	return 0;
}

static int queue_op(struct guest *g, int q, unsigned int op)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = op;
	if (ioctl(g->fds[q], TUNSETQUEUE, &ifr) < 0)
		return die_ioctl(op == IFF_ATTACH_QUEUE ?
				 "TUNSETQUEUE(IFF_ATTACH_QUEUE)" :
				 "TUNSETQUEUE(IFF_DETACH_QUEUE)", q);
	printf("queue %d: %s\n", q, op == IFF_ATTACH_QUEUE ? "attached" :
							      "detached");
	return 0;
}

/*
 * --udp: the one "queue" is a UDP socket bound to 127.0.0.1:udp_local and
 * connected to 127.0.0.1:udp_remote. Each datagram is one Ethernet frame
 * without a virtio-net header: QEMU's tap backend strips and adds that
 * header itself when its peer (here a hub) does not use it.
 */
static int udp_open(struct guest *g)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, rcvbuf = 1 << 20;
	char ms[18];

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("tapguest: socket");
		return -1;
	}
	/* Room for QEMU's bursts (floods, the peer's pings while we wait). */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(g->udp_local);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "tapguest: bind 127.0.0.1:%u: %s\n",
			g->udp_local, strerror(errno));
		close(fd);
		return -1;
	}
	sin.sin_port = htons(g->udp_remote);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "tapguest: connect 127.0.0.1:%u: %s\n",
			g->udp_remote, strerror(errno));
		close(fd);
		return -1;
	}
	g->fds[0] = fd;
	g->vnet_sz = 0;
	printf("queue 0: udp 127.0.0.1:%u -> 127.0.0.1:%u\n", g->udp_local,
	       g->udp_remote);
	mac_str(g->mac, ms);
	printf("guest mac %s\n", ms);
	return 0;
}

/*
 * POLLERR on a --udp socket is a pending ICMP error (QEMU not listening
 * yet, or gone), not a vanished device: report it and carry on.
 */
static bool udp_soft_error(struct guest *g, int q, short revents)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (!g->udp_local || (revents & POLLNVAL))
		return false;
	getsockopt(g->fds[q], SOL_SOCKET, SO_ERROR, &err, &len);
	if (err && ++g->udp_errors <= 5)
		printf("udp: %s (is QEMU listening on port %u?)\n",
		       strerror(err), g->udp_remote);
	return true;
}

static int tap_open_all(struct guest *g)
{
	struct ifreq ifr;
	char ms[18];
	int q;

	if (g->udp_local)
		return udp_open(g);
	for (q = 0; q < g->nqueues; q++) {
		if (g->passed_fd >= 0) {
			g->fds[q] = g->passed_fd;
		} else {
			g->fds[q] = open(g->path, O_RDWR | O_NONBLOCK);
			if (g->fds[q] < 0) {
				fprintf(stderr, "tapguest: open %s (queue %d): %s (errno %d)\n",
					g->path, q, strerror(errno), errno);
				return -1;
			}
		}
		if (tap_setup(g, q))
			return -1;
	}
	for (q = 0; q < g->ndetach; q++)
		if (queue_op(g, g->detach[q], IFF_DETACH_QUEUE))
			return -1;
	for (q = 0; g->reattach && q < g->ndetach; q++)
		if (queue_op(g, g->detach[q], IFF_ATTACH_QUEUE))
			return -1;

	if (!g->have_mac) {
		/* The tap library answers SIOCGIFHWADDR with the netdev's MAC. */
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(g->fds[0], SIOCGIFHWADDR, &ifr) < 0)
			return die_ioctl("SIOCGIFHWADDR", 0);
		memcpy(g->mac, ifr.ifr_hwaddr.sa_data, 6);
	}
	mac_str(g->mac, ms);
	printf("guest mac %s\n", ms);
	return 0;
}

/* ------------------------------------------------------------ main */

static const char help_text[] =
	"usage: tapguest (--tap PATH | --dev IFNAME | --fd N | --udp L:R)\n"
	"                [options] [action]\n"
	"\n"
	"  --tap PATH          character device (e.g. /dev/tap5)\n"
	"  --dev IFNAME        use /dev/tap<ifindex of IFNAME> (current netns)\n"
	"  --fd N              an already open tap fd (QEMU-like fd passing)\n"
	"  --udp LPORT:RPORT   no tap: one Ethernet frame per UDP datagram, bound\n"
	"                      to 127.0.0.1:LPORT, sent to 127.0.0.1:RPORT (QEMU's\n"
	"                      -netdev dgram hubbed to its tap); needs --mac;\n"
	"                      one queue, no vnet header\n"
	"  --queues N          open the node N times, one queue each (default 1)\n"
	"  --detach Q          TUNSETQUEUE(IFF_DETACH_QUEUE) on queue Q after setup\n"
	"  --reattach          then IFF_ATTACH_QUEUE again on the detached queues\n"
	"  --no-vnet-hdr       clear IFF_VNET_HDR (TUNSETIFF)\n"
	"  --no-offload        TUNSETOFFLOAD(0): no csum/TSO offloads\n"
	"  --tx-csum-offload   send with VIRTIO_NET_HDR_F_NEEDS_CSUM, partial csum\n"
	"  --mac MAC           guest MAC (default: the tap netdev's, SIOCGIFHWADDR)\n"
	"  --ip4 A[/len]       IPv4 address (repeatable)\n"
	"  --ip6 A[/len]       IPv6 address (repeatable)\n"
	"  --gw4 A, --gw6 A    default gateways\n"
	"  --neigh IP=MAC      static neighbour entry (no ARP/NS for IP)\n"
	"  --announce          gratuitous ARP / unsolicited NA at start\n"
	"  --timeout SEC       run at most SEC seconds (default 10)\n"
	"  --json              print a JSON summary line at exit\n"
	"  -v, --verbose       print every answer sent\n"
	"actions (default --serve):\n"
	"  --serve             answer ARP/NS/echo until --timeout, exit 0\n"
	"  --ping4 A, --ping6 A  send --count echo requests, 1 per 200 ms\n"
	"  --count N           (default 3) --min-replies K (default: all)\n"
	"  --wait MS           wait for replies after the last request (2000)\n"
	"  --udp-flood A:PORT  --count N --size BYTES UDP datagrams ([v6]:PORT)\n"
	"  --gso-tcp A         one GSO_TCPV4 frame (gso_size 1400, --size payload)\n"
	"  --bad-write KIND    short, short-vnet, bad-vnet-hdr, gso-bogus,\n"
	"                      runt-eth or all; report write() results, exit 0\n"
	"exit: 0 success, 1 failure, 2 usage or setup error\n";

enum {
	OPT_TAP = 256, OPT_DEV, OPT_FD, OPT_QUEUES, OPT_DETACH, OPT_REATTACH,
	OPT_NO_VNET, OPT_NO_OFFLOAD, OPT_TX_CSUM, OPT_MAC, OPT_IP4, OPT_IP6,
	OPT_GW4, OPT_GW6, OPT_NEIGH, OPT_ANNOUNCE, OPT_TIMEOUT, OPT_JSON,
	OPT_SERVE, OPT_PING4, OPT_PING6, OPT_COUNT, OPT_MIN, OPT_WAIT,
	OPT_FLOOD, OPT_GSO, OPT_BAD, OPT_SIZE, OPT_UDP,
};

static const struct option long_opts[] = {
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "udp", required_argument, NULL, OPT_UDP },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "detach", required_argument, NULL, OPT_DETACH },
	{ "reattach", no_argument, NULL, OPT_REATTACH },
	{ "no-vnet-hdr", no_argument, NULL, OPT_NO_VNET },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "tx-csum-offload", no_argument, NULL, OPT_TX_CSUM },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "ip4", required_argument, NULL, OPT_IP4 },
	{ "ip6", required_argument, NULL, OPT_IP6 },
	{ "gw4", required_argument, NULL, OPT_GW4 },
	{ "gw6", required_argument, NULL, OPT_GW6 },
	{ "neigh", required_argument, NULL, OPT_NEIGH },
	{ "announce", no_argument, NULL, OPT_ANNOUNCE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "serve", no_argument, NULL, OPT_SERVE },
	{ "ping4", required_argument, NULL, OPT_PING4 },
	{ "ping6", required_argument, NULL, OPT_PING6 },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "min-replies", required_argument, NULL, OPT_MIN },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "udp-flood", required_argument, NULL, OPT_FLOOD },
	{ "gso-tcp", required_argument, NULL, OPT_GSO },
	{ "bad-write", required_argument, NULL, OPT_BAD },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad_arg(const char *opt, const char *val)
{
	fprintf(stderr, "tapguest: bad value '%s' for --%s\n", val, opt);
	return -1;
}

static long num_arg(const char *opt, const char *val, long min, long max,
		    int *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 0);
	if (errno || *end || end == val || v < min || v > max) {
		*err = bad_arg(opt, val);
		return min;
	}
	return v;
}

/* "A:PORT" or "[A6]:PORT" */
static int parse_hostport(const char *s, struct target *t)
{
	char buf[INET6_ADDRSTRLEN + 16], *colon, *host = buf, *end;
	long port;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (*host == '[') {
		host++;
		if (colon[-1] != ']')
			return -1;
		colon[-1] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	t->port = port;
	return parse_addr(host, 0, &t->dst);
}

/* "LPORT:RPORT" for --udp */
static int parse_ports(const char *s, u16 *local, u16 *remote)
{
	unsigned long l, r;
	char *end;

	errno = 0;
	l = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':' || !l || l > 65535)
		return -1;
	s = end + 1;
	r = strtoul(s, &end, 10);
	if (errno || end == s || *end || !r || r > 65535)
		return -1;
	*local = l;
	*remote = r;
	return 0;
}

static int set_action(struct guest *g, enum action a, bool *have)
{
	if (*have && g->action != a) {
		fprintf(stderr, "tapguest: only one action at a time\n");
		return -1;
	}
	*have = true;
	g->action = a;
	return 0;
}

static int parse_args(struct guest *g, int argc, char **argv)
{
	bool have_action = false;
	int opt, err = 0;
	char path[64];
	struct addr a;
	char *eq;
	u8 mac[6];

	while ((opt = getopt_long(argc, argv, "hv", long_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_TAP:
			g->path = optarg;
			break;
		case OPT_DEV:
			if (!if_nametoindex(optarg)) {
				fprintf(stderr, "tapguest: no device %s: %s\n",
					optarg, strerror(errno));
				return -1;
			}
			snprintf(path, sizeof(path), "/dev/tap%u",
				 if_nametoindex(optarg));
			g->path = strdup(path);
			break;
		case OPT_FD:
			g->passed_fd = num_arg("fd", optarg, 0, INT_MAX, &err);
			break;
		case OPT_UDP:
			if (parse_ports(optarg, &g->udp_local, &g->udp_remote))
				return bad_arg("udp", optarg);
			break;
		case OPT_QUEUES:
			g->nqueues = num_arg("queues", optarg, 1, MAX_QUEUES,
					     &err);
			break;
		case OPT_DETACH:
			if (g->ndetach == MAX_QUEUES)
				return bad_arg("detach", optarg);
			g->detach[g->ndetach++] =
				num_arg("detach", optarg, 0, MAX_QUEUES - 1,
					&err);
			break;
		case OPT_REATTACH:
			g->reattach = true;
			break;
		case OPT_NO_VNET:
			g->vnet = false;
			break;
		case OPT_NO_OFFLOAD:
			g->offload = false;
			break;
		case OPT_TX_CSUM:
			g->tx_csum = true;
			break;
		case OPT_MAC:
			if (parse_mac(optarg, g->mac))
				return bad_arg("mac", optarg);
			g->have_mac = true;
			break;
		case OPT_IP4:
		case OPT_IP6:
			if (g->naddrs == MAX_ADDRS ||
			    parse_addr(optarg, opt == OPT_IP4 ? AF_INET :
					AF_INET6, &g->addrs[g->naddrs]))
				return bad_arg(opt == OPT_IP4 ? "ip4" : "ip6",
					       optarg);
			g->naddrs++;
			break;
		case OPT_GW4:
			if (parse_addr(optarg, AF_INET, &g->gw4))
				return bad_arg("gw4", optarg);
			break;
		case OPT_GW6:
			if (parse_addr(optarg, AF_INET6, &g->gw6))
				return bad_arg("gw6", optarg);
			break;
		case OPT_NEIGH:
			eq = strchr(optarg, '=');
			if (!eq || parse_mac(eq + 1, mac))
				return bad_arg("neigh", optarg);
			*eq = '\0';
			if (parse_addr(optarg, 0, &a)) {
				*eq = '=';
				return bad_arg("neigh", optarg);
			}
			*eq = '=';
			neigh_update(g, a.family, a.a, mac, true);
			break;
		case OPT_ANNOUNCE:
			g->announce = true;
			break;
		case OPT_TIMEOUT:
			g->timeout_s = num_arg("timeout", optarg, 0, 86400,
					       &err);
			break;
		case OPT_JSON:
			g->json = true;
			break;
		case 'v':
			g->verbose = true;
			break;
		case OPT_SERVE:
			g->serve = true;
			break;
		case OPT_PING4:
		case OPT_PING6:
			if (set_action(g, ACT_PING, &have_action))
				return -1;
			if (parse_addr(optarg, opt == OPT_PING4 ? AF_INET :
					AF_INET6, &g->tgt.dst))
				return bad_arg(opt == OPT_PING4 ? "ping4" :
					       "ping6", optarg);
			break;
		case OPT_COUNT:
			g->count = num_arg("count", optarg, 1, 100000000, &err);
			break;
		case OPT_MIN:
			g->min_replies = num_arg("min-replies", optarg, 0,
						 100000000, &err);
			break;
		case OPT_WAIT:
			g->wait_ms = num_arg("wait", optarg, 0, 600000, &err);
			break;
		case OPT_FLOOD:
			if (set_action(g, ACT_UDP_FLOOD, &have_action))
				return -1;
			if (parse_hostport(optarg, &g->tgt))
				return bad_arg("udp-flood", optarg);
			break;
		case OPT_GSO:
			if (set_action(g, ACT_GSO_TCP, &have_action))
				return -1;
			if (parse_addr(optarg, AF_INET, &g->tgt.dst))
				return bad_arg("gso-tcp", optarg);
			break;
		case OPT_BAD:
			if (set_action(g, ACT_BAD_WRITE, &have_action))
				return -1;
			g->bad_kind = optarg;
			break;
		case OPT_SIZE:
			g->size = num_arg("size", optarg, 0, 65000, &err);
			break;
		case 'h':
			fputs(help_text, stdout);
			exit(0);
		default:
			fputs(help_text, stderr);
			return -1;
		}
		if (err)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "tapguest: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!g->path && g->passed_fd < 0 && !g->udp_local) {
		fprintf(stderr, "tapguest: need --tap, --dev, --fd or --udp\n");
		return -1;
	}
	if (g->udp_local) {
		if (g->path || g->passed_fd >= 0) {
			fprintf(stderr, "tapguest: --udp excludes --tap, --dev and --fd\n");
			return -1;
		}
		if (!g->have_mac) {
			fprintf(stderr, "tapguest: --udp needs --mac (no tap to ask)\n");
			return -1;
		}
		if (g->nqueues > 1 || g->ndetach || g->reattach) {
			fprintf(stderr, "tapguest: --udp gives one queue only\n");
			return -1;
		}
		g->vnet = false;	/* QEMU's dgram backend has none */
	}
	if (g->passed_fd >= 0 && g->nqueues > 1) {
		fprintf(stderr, "tapguest: --fd gives one queue only\n");
		return -1;
	}
	for (opt = 0; opt < g->ndetach; opt++) {
		if (g->detach[opt] >= g->nqueues) {
			fprintf(stderr, "tapguest: --detach %d: only %d queues\n",
				g->detach[opt], g->nqueues);
			return -1;
		}
	}
	if (g->tx_csum && !g->vnet) {
		fprintf(stderr, "tapguest: --tx-csum-offload needs the vnet header\n");
		return -1;
	}
	if (g->action == ACT_GSO_TCP && !g->vnet) {
		fprintf(stderr, "tapguest: --gso-tcp needs the vnet header\n");
		return -1;
	}
	if (g->action == ACT_UDP_FLOOD && !g->size)
		g->size = 64;
	if (g->action == ACT_PING && g->count > 65536) {
		fprintf(stderr, "tapguest: --count: at most 65536 echo requests\n");
		return -1;
	}
	if (g->action == ACT_PING && g->min_replies < 0)
		g->min_replies = g->count;
	if (g->min_replies > g->count)
		g->min_replies = g->count;
	return 0;
}

#define COUNTER(name)	{ #name, offsetof(struct counters, name) }

/* The first seven are the documented JSON summary; the rest are extras. */
static const struct {
	const char *name;
	size_t off;
} counter_names[] = {
	COUNTER(rx_frames),
	COUNTER(tx_frames),
	COUNTER(arp_replies),
	COUNTER(echo_replies_sent),
	COUNTER(replies_received),
	COUNTER(ns_answered),
	COUNTER(dropped_unknown),
	COUNTER(tx_errors),
	COUNTER(arp_requests),
	COUNTER(echo_requests_sent),
	COUNTER(dup_replies),
	COUNTER(ns_sent),
	COUNTER(na_received),
	COUNTER(csum_errors),
	COUNTER(rx_csum_partial),
	COUNTER(rx_gso),
};

static u64 counter(const struct guest *g, size_t i)
{
	const u8 *base = (const u8 *)&g->c;
	u64 v;

	memcpy(&v, base + counter_names[i].off, sizeof(v));
	return v;
}

static void print_summary(const struct guest *g)
{
	size_t i;
	int q;

	printf("summary:");
	for (i = 0; i < ARRAY_SIZE(counter_names); i++)
		printf(" %s %llu", counter_names[i].name, counter(g, i));
	printf("\n");
	if (!g->json)
		return;
	for (i = 0; i < ARRAY_SIZE(counter_names); i++)
		printf("%s\"%s\":%llu", i ? "," : "{", counter_names[i].name,
		       counter(g, i));
	printf(",\"vnet_hdr_len\":%d,\"rx_queue\":[", g->vnet_sz);
	for (q = 0; q < g->nqueues; q++)
		printf("%s%llu", q ? "," : "", g->c.rx_queue[q]);
	printf("],\"status\":%d}\n", g->status);
}

static int run(struct guest *g)
{
	struct pollfd pfd[MAX_QUEUES + 1];
	u64 deadline, now;
	int q, wait;

	deadline = now_ms() + (u64)g->timeout_s * 1000;
	g->deadline = deadline;
	if (g->announce)
		announce(g);
	if (g->action == ACT_PING)
		printf("ping %s from %s: %ld requests\n",
		       addr_str(&g->tgt.dst), addr_str(&g->tgt.src), g->count);

	while (!g->stop) {
		now = now_ms();
		if (now >= deadline)
			break;
		if (!g->done) {
			if (g->action == ACT_PING)
				ping_tick(g, now);
			else if (g->action == ACT_UDP_FLOOD)
				udp_flood(g, now);
			else if (g->action == ACT_GSO_TCP)
				gso_tcp(g, now);
		}
		if (g->done && !g->serve)
			break;

		now = now_ms();
		wait = deadline > now ? (int)(deadline - now) : 0;
		if (!g->done && wait > 20)
			wait = 20;	/* action timers: 200 ms granularity */
		for (q = 0; q < g->nqueues; q++) {
			pfd[q].fd = g->fds[q];
			pfd[q].events = POLLIN;
			pfd[q].revents = 0;
		}
		pfd[q].fd = g->sigfd;
		pfd[q].events = POLLIN;
		pfd[q].revents = 0;
		if (poll(pfd, g->nqueues + 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			perror("tapguest: poll");
			return 2;
		}
		for (q = 0; q < g->nqueues; q++) {
			if ((pfd[q].revents & (POLLERR | POLLHUP | POLLNVAL)) &&
			    !udp_soft_error(g, q, pfd[q].revents)) {
				printf("queue %d: poll revents 0x%x: device gone?\n",
				       q, pfd[q].revents);
				return 1;
			}
			if (pfd[q].revents & POLLIN)
				rx_drain(g, q);
		}
		if (pfd[q].revents & POLLIN)
			g->stop = true;	/* SIGINT/SIGTERM: summary, then exit */
	}

	if (g->action == ACT_PING) {
		printf("ping %s: %ld sent, %ld received, %llu duplicates\n",
		       addr_str(&g->tgt.dst), g->ping_sent, g->ping_received,
		       g->c.dup_replies);
		return g->ping_received >= g->min_replies ? 0 : 1;
	}
	if (g->action == ACT_UDP_FLOOD || g->action == ACT_GSO_TCP) {
		if (!g->done) {
			printf("%s: next hop %s not resolved\n",
			       g->action == ACT_GSO_TCP ? "gso-tcp" : "udp-flood",
			       addr_str(&g->tgt.nexthop));
			return 1;
		}
		return g->status;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct guest *g;
	sigset_t sigs;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g = calloc(1, sizeof(*g));
	if (!g) {
		perror("tapguest");
		return 2;
	}
	g->passed_fd = -1;
	g->nqueues = 1;
	g->vnet = true;
	g->offload = true;
	g->timeout_s = 10;
	g->wait_ms = 2000;
	g->count = 3;
	g->min_replies = -1;
	g->ping_id = getpid() & 0xffff;
	g->ip4_id = getpid() & 0xffff;
	if (parse_args(g, argc, argv))
		return 2;
	if (g->action == ACT_PING || g->action == ACT_UDP_FLOOD ||
	    g->action == ACT_GSO_TCP) {
		if (route(g, &g->tgt))
			return 2;
	}
	if (g->action == ACT_PING) {
		g->ping_seen = calloc(g->count, 1);
		if (!g->ping_seen)
			return 2;
	}
	if (g->action == ACT_SERVE)
		g->serve = true;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	g->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (g->sigfd < 0) {
		perror("tapguest: signalfd");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	if (tap_open_all(g))
		return 2;
	if (g->action == ACT_BAD_WRITE) {
		ret = bad_write(g);
		if (ret)
			return ret;
		/* Still a working guest afterwards: answer for a moment. */
		if (!g->serve) {
			print_summary(g);
			return 0;
		}
	}
	ret = run(g);
	g->status = ret;
	print_summary(g);
	return ret;
}
