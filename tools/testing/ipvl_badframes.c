// SPDX-License-Identifier: GPL-2.0
/*
 * ipvl_badframes: send malformed Ethernet frames at an ipvlan/ipvtap data
 * path, for tests/ipvtap_badframes.sh.
 *
 *   ipvl_badframes --packet IFNAME [options]   AF_PACKET/SOCK_RAW sendto()
 *                                              out of IFNAME
 *   ipvl_badframes --tap /dev/tapN [options]   write() with a 12-byte vnet
 *                                              header, opened like QEMU
 *
 * Inject with --packet on the veth peer of an ipvlan master (the frames
 * reach the master's rx_handler) or on an ipvlan slave (its transmit
 * path); with --tap on an ipvtap's character device (the tap library's
 * write path, then the slave's transmit path).
 *
 * The frames are a fixed catalogue followed by --random N mutations of
 * valid frames, both deterministic for a given --seed and address set:
 *
 *  - every base frame (ARP, IPv4 UDP/TCP/ICMP/options/IGMP/fragments,
 *    IPv6 UDP/TCP/echo/NS/NA/RS/MLD/extension headers/fragments, 802.1Q
 *    and QinQ tagged ones) truncated at every byte up to 8 bytes past its
 *    last header, in four addressing variants: natural (unicast to the
 *    slave's address at --mac-dst), broadcast from the --mac-dst MAC and a
 *    slave's own address (a frame looking like it came from a slave),
 *    multicast, and unicast with --mac-dst as both MAC addresses;
 *  - header fields that lie: IPv4 version/ihl/tot_len/options/fragment
 *    fields, IPv6 payload_len/next header, long, repeating and overlong
 *    extension header chains, jumbograms, ARP hrd/pro/hln/pln/op, ICMPv6
 *    ND codes, hop limits and options, UDP lengths, TCP offsets and
 *    options, odd ethertypes, reserved destination MACs, overlapping and
 *    oversized fragments;
 *  - --tap only: virtio-net headers with bogus flags, gso_type, gso_size,
 *    hdr_len, csum_start and csum_offset on GSO-sized carriers.
 *
 * Output: "frames N sent N refused_by_write N" (a frame the kernel refused
 * at sendto()/write(), e.g. EINVAL, counts as refused), then a "detail:"
 * line: short (frames shorter than an Ethernet header), oversize (longer
 * than 1514 bytes: a 1500-byte MTU, no tag), refused_long
 * (refused frames with a full Ethernet header), nonip (sent frames with a
 * full Ethernet header whose ethertype is not IPv4, IPv6 or ARP: an L3
 * mode slave must drop every one of them), xmit_dropped (sent, but
 * sendto() said ENOBUFS: the device's transmit returned NET_XMIT_DROP, as
 * the in-tree ipvlan does, or another errno from the transmit path; such
 * a frame is not retried), retries (EAGAIN), "blocked N" if sendto() blocked
 * for more than a second twice on a frame (then refused with EAGAIN; after
 * 5 such frames in a row the run stops: "gave_up_at N"), the
 * transmit errnos and the errnos of the refused frames.
 * --hex prints every frame (with --from/--to: replay a single one).
 * Exit: 0 done, 1 a system call failed, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "csum.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define FRAME_MAX	4096
#define ETH_HDR		14
#define VNET_SZ		12	/* struct virtio_net_hdr_mrg_rxbuf */
#define GSO_PAYLOAD	3000	/* carriers of the vnet header catalogue */

enum { M_PACKET, M_TAP };

/* Addressing variants of the truncation catalogue. */
enum { V_UNI, V_OWN, V_MC, V_SELF, V_NUM };
static const char *const vname[V_NUM] = { "uni", "own", "mc", "self" };

static struct {
	int mode;
	const char *target;
	int fd;
	int ifindex;
	u8 mac_dst[6], mac_src[6];
	u8 dst4[4], src4[4], own4[4];
	u8 dst6[16], src6[16], own6[16];
	bool have_src_mac;
	u64 seed;
	long nrandom;
	long pace, pace_us;
	u64 from, to;
	bool hex, verbose, no_catalogue;
	/* results */
	u64 idx, frames, sent, refused, shortf, oversize, refused_long, nonip;
	u64 retries, xmit_dropped, blocked, blocked_run;
	bool gave_up;
	u64 xmit_err[160];
	u64 err[160];
	u8 rbuf[65536];
} G = { .fd = -1, .seed = 1, .nrandom = 1000, .to = UINT64_MAX };

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mc4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const u8 mc6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* ------------------------------------------------------------- PRNG */

static u64 rng;

/* xorshift64*: small, fast and the same everywhere. */
static u64 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static u32 rnd_below(u32 n)
{
	return n ? (u32)(rnd() % n) : 0;
}

/* ---------------------------------------------------------- helpers */

/* A frame being built: offsets of its layers and end of its headers. */
struct fr {
	u8 b[FRAME_MAX];
	size_t len;	/* bytes of the complete frame */
	size_t l3;	/* network header */
	size_t l4;	/* transport header (0: none) */
	size_t hend;	/* end of the last header */
	bool v6;
	u8 l4proto;
};

/* Ethernet header with 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) tags. */
static size_t put_eth(u8 *f, const u8 *dst, const u8 *src, int tags, u16 type)
{
	size_t off = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	if (tags == 2) {
		put16(f + off, ETH_P_8021AD);
		put16(f + off + 2, 0x0064);	/* VID 100 */
		off += 4;
	}
	if (tags >= 1) {
		put16(f + off, ETH_P_8021Q);
		put16(f + off + 2, 0x2005);	/* PCP 1, VID 5 */
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

static void ip4_csum(u8 *ip)
{
	size_t hl = (ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, csum(ip, hl));
}

/* IPv4 header of 20 + @optlen bytes (options zeroed: end of list). */
static size_t put_ip4(u8 *ip, u8 proto, const u8 *src, const u8 *dst,
		      size_t payload, size_t optlen, u16 frag)
{
	size_t hl = 20 + optlen;

	memset(ip, 0, hl);
	ip[0] = 0x40 | (u8)(hl / 4);
	put16(ip + 2, (u16)(hl + payload));
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	ip4_csum(ip);
	return hl;
}

static void put_ip6(u8 *ip, u8 nexthdr, const u8 *src, const u8 *dst,
		    size_t payload, u8 hops)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (u16)payload);
	ip[6] = nexthdr;
	ip[7] = hops;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

/* L4 checksum over the pseudo header of the frame's IP header. */
static void l4_csum(struct fr *f, size_t csum_off)
{
	const u8 *ip = f->b + f->l3;
	size_t l4len = f->len - f->l4;
	u64 sum;

	put16(f->b + f->l4 + csum_off, 0);
	if (f->v6)
		sum = csum_add(0, ip + 8, 32);
	else
		sum = csum_add(0, ip + 12, 8);
	sum += f->l4proto + (u32)l4len;
	sum = csum_add(sum, f->b + f->l4, l4len);
	put16(f->b + f->l4 + csum_off, (u16)~csum_fold(sum));
}

static size_t put_udp(u8 *p, size_t payload, u16 dport)
{
	put16(p, 40000);
	put16(p + 2, dport);
	put16(p + 4, (u16)(8 + payload));
	put16(p + 6, 0);
	memset(p + 8, 0x5a, payload);
	return 8 + payload;
}

/* TCP SYN with MSS, SACK-permitted, window scale and NOP: 32 bytes. */
static size_t put_tcp(u8 *p, size_t payload)
{
	static const u8 opts[12] = { 2, 4, 0x05, 0xb4, 4, 2, 3, 3, 7, 1, 1, 1 };

	memset(p, 0, 32);
	put16(p, 40001);
	put16(p + 2, 5001);
	put32(p + 4, 0x11223344);
	p[12] = 8 << 4;
	p[13] = payload ? 0x18 : 0x02;
	put16(p + 14, 65535);
	memcpy(p + 20, opts, sizeof(opts));
	memset(p + 32, 0x6b, payload);
	return 32 + payload;
}

static void mc6_mac(u8 *mac, const u8 *ip6)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, ip6 + 12, 4);
}

static void solicited(u8 *ip6, const u8 *target)
{
	static const u8 pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
				    0xff };

	memcpy(ip6, pfx, 13);
	memcpy(ip6 + 13, target + 13, 3);
}

/* ------------------------------------------------------------ output */

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOBUFS: return "ENOBUFS";
	case EFAULT: return "EFAULT";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case ENETDOWN: return "ENETDOWN";
	case ENXIO: return "ENXIO";
	case EIO: return "EIO";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	return NULL;
}

static void drain_tap(void)
{
	int i;

	if (G.mode != M_TAP)
		return;
	for (i = 0; i < 256; i++)
		if (read(G.fd, G.rbuf, sizeof(G.rbuf)) <= 0)
			break;
}

static void print_hex(const char *cls, size_t len, const u8 *f,
		      const struct virtio_net_hdr *vh)
{
	size_t i;

	printf("frame %llu %s len %zu", (unsigned long long)(G.idx - 1), cls,
	       len);
	if (vh)
		printf(" vnet flags 0x%x gso_type 0x%x hdr_len %u gso_size %u csum %u/%u",
		       vh->flags, vh->gso_type, vh->hdr_len, vh->gso_size,
		       vh->csum_start, vh->csum_offset);
	printf(":");
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n  ", f[i]);
	printf("\n");
}

/* One write/sendto attempt; returns 0 or an errno. */
static int send_once(const u8 *f, size_t len, const struct virtio_net_hdr *vh)
{
	ssize_t n, want;

	if (G.mode == M_PACKET) {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_ifindex = G.ifindex,
			.sll_halen = 6,
		};

		/*
		 * The frame's ethertype as skb->protocol, as a raw sender
		 * would give it (0 makes the kernel parse it only where the
		 * device has header_ops->parse_protocol).
		 */
		if (len >= ETH_HDR)
			sll.sll_protocol = htons(get16(f + 12));
		memcpy(sll.sll_addr, len >= 6 ? f : bcast, 6);
		n = sendto(G.fd, f, len, 0, (struct sockaddr *)&sll,
			   sizeof(sll));
		want = (ssize_t)len;
	} else {
		struct virtio_net_hdr_mrg_rxbuf h = { 0 };
		struct iovec iov[2];

		if (vh)
			h.hdr = *vh;
		iov[0].iov_base = &h;
		iov[0].iov_len = VNET_SZ;
		iov[1].iov_base = (void *)f;
		iov[1].iov_len = len;
		n = writev(G.fd, iov, 2);
		want = (ssize_t)len + VNET_SZ;
	}
	if (n == want)
		return 0;
	return n < 0 ? errno : EIO;
}

/*
 * Send one frame (@vh: vnet header for --tap, NULL for a zeroed one) and
 * count it. EAGAIN (a full socket buffer) is retried for a while. ENOBUFS
 * from sendto() means the device's transmit dropped the frame (it
 * returned NET_XMIT_DROP): it was sent, and is counted as "xmit_dropped".
 */
static void emit(const char *cls, const u8 *f, size_t len,
		 const struct virtio_net_hdr *vh)
{
	struct pollfd pfd = { .fd = G.fd, .events = POLLOUT };
	int e, tries = 0;
	u16 type;

	G.idx++;
	if (G.idx - 1 < G.from || G.idx - 1 > G.to || G.gave_up)
		return;
	if (G.hex)
		print_hex(cls, len, f, vh);
	for (;;) {
		e = send_once(f, len, vh);
		if (e != EAGAIN || tries++ >= (G.mode == M_TAP ? 50 : 1))
			break;
		G.retries++;
		poll(&pfd, 1, 20);
		drain_tap();
	}
	/*
	 * sendto() errors other than af_packet's own checks come from the
	 * device's transmit (the in-tree ipvlan returns NET_XMIT_DROP and
	 * even negative errnos from ndo_start_xmit): the frame was sent.
	 */
	if (G.mode == M_PACKET && e && e != EINVAL && e != EMSGSIZE &&
	    e != EAGAIN && e != ENETDOWN && e != ENXIO && e != EFAULT &&
	    e != ENOMEM && e != EPERM) {
		G.xmit_dropped++;
		G.xmit_err[e < 160 ? e : 0]++;
		e = 0;
	}
	if (e == EAGAIN && G.mode == M_PACKET) {
		G.blocked++;
		/* the kernel keeps the socket's frames: stop, report it */
		if (++G.blocked_run >= 5)
			G.gave_up = true;
	} else {
		G.blocked_run = 0;
	}
	G.frames++;
	if (len < ETH_HDR)
		G.shortf++;
	if (len > ETH_HDR + 1500)
		G.oversize++;
	if (!e) {
		G.sent++;
		if (len >= ETH_HDR) {
			type = get16(f + 12);
			if (type != ETH_P_IP && type != ETH_P_IPV6 &&
			    type != ETH_P_ARP)
				G.nonip++;
		}
	} else {
		G.refused++;
		if (len >= ETH_HDR)
			G.refused_long++;
		G.err[e < 160 ? e : 0]++;
		if (G.verbose)
			printf("frame %llu %s len %zu refused: %s\n",
			       (unsigned long long)(G.idx - 1), cls, len,
			       strerror(e));
	}
	if (G.pace && !(G.frames % G.pace)) {
		if (G.pace_us)
			usleep(G.pace_us);
		drain_tap();
	}
}

/* -------------------------------------------------------- base frames */

enum kind {
	K_ARP_REQ, K_ARP_REPLY, K_IP4_UDP, K_IP4_TCP, K_IP4_ICMP, K_IP4_OPT,
	K_IP4_FRAG0, K_IP4_FRAGN, K_IGMP,
	K_IP6_UDP, K_IP6_TCP, K_IP6_ECHO, K_NS, K_NS_DAD, K_NA, K_RS, K_MLD,
	K_IP6_EXT, K_IP6_FRAG0, K_IP6_FRAGN, K_IP6_CHAIN,
	K_VLAN_IP4, K_VLAN_ARP, K_VLAN_NS, K_QINQ_IP4, K_QINQ_IP6,
	K_NUM
};

static const char *const kname[K_NUM] = {
	"arp-req", "arp-reply", "ip4-udp", "ip4-tcp", "ip4-icmp", "ip4-opt",
	"ip4-frag0", "ip4-fragn", "igmp",
	"ip6-udp", "ip6-tcp", "ip6-echo", "ns", "ns-dad", "na", "rs", "mld",
	"ip6-ext", "ip6-frag0", "ip6-fragn", "ip6-chain",
	"vlan-ip4", "vlan-arp", "vlan-ns", "qinq-ip4", "qinq-ip6",
};

/* Addresses of one variant. */
struct addrs {
	u8 mdst[6], msrc[6];
	const u8 *s4, *d4, *s6, *d6;
	int variant;
};

static size_t build_arp(struct fr *f, size_t off, const struct addrs *a,
			u16 op)
{
	u8 *p = f->b + off;

	f->l3 = off;
	put16(p, 1);
	put16(p + 2, ETH_P_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, a->msrc, 6);
	memcpy(p + 14, a->s4, 4);
	memcpy(p + 18, op == 2 ? G.mac_dst : (const u8 *)"\0\0\0\0\0\0", 6);
	memcpy(p + 24, a->d4, 4);
	f->hend = off + 28;
	return off + 28;
}

static size_t build_ip4(struct fr *f, size_t off, const struct addrs *a,
			u8 proto, size_t optlen, u16 frag, size_t plen)
{
	u8 *ip = f->b + off;
	size_t hl, l4len = 0;
	const u8 *dst = a->d4;
	static const u8 grp[4] = { 224, 0, 0, 251 };

	f->l3 = off;
	f->v6 = false;
	f->l4proto = proto;
	if (proto == IPPROTO_IGMP)
		dst = grp;
	hl = 20 + optlen;
	f->l4 = off + hl;
	switch (proto) {
	case IPPROTO_UDP:
		l4len = put_udp(f->b + f->l4, plen, 9);
		f->hend = f->l4 + 8;
		break;
	case IPPROTO_TCP:
		l4len = put_tcp(f->b + f->l4, plen);
		f->hend = f->l4 + 32;
		break;
	case IPPROTO_ICMP:
		memset(f->b + f->l4, 0, 8 + plen);
		f->b[f->l4] = 8;
		put16(f->b + f->l4 + 4, 0x4242);
		l4len = 8 + plen;
		f->hend = f->l4 + 8;
		break;
	case IPPROTO_IGMP:
		memset(f->b + f->l4, 0, 8);
		f->b[f->l4] = 0x16;	/* v2 membership report */
		memcpy(f->b + f->l4 + 4, grp, 4);
		l4len = 8;
		f->hend = f->l4 + 8;
		break;
	}
	f->len = f->l4 + l4len;
	put_ip4(ip, proto, a->s4, dst, l4len, optlen, frag);
	if (optlen >= 4) {
		/* Router Alert, then end of list */
		ip[20] = 0x94;
		ip[21] = 4;
		ip4_csum(ip);
	}
	if (proto == IPPROTO_UDP && !(frag & 0x3fff))
		l4_csum(f, 6);
	else if (proto == IPPROTO_TCP)
		l4_csum(f, 16);
	else if (proto == IPPROTO_ICMP || proto == IPPROTO_IGMP)
		put16(f->b + f->l4 + 2, csum(f->b + f->l4, l4len));
	return f->len;
}

/* ICMPv6 message of @type: NS/NA with a link-layer option, RS, echo, MLD. */
static size_t build_icmp6(struct fr *f, size_t off, u8 type, const u8 *target,
			  const u8 *src, const u8 *dst, bool hbh_ra)
{
	u8 *ip = f->b + off, *p;
	size_t l4len = 0, ext = hbh_ra ? 8 : 0;

	f->l3 = off;
	f->v6 = true;
	f->l4proto = IPPROTO_ICMPV6;
	f->l4 = off + 40 + ext;
	p = f->b + f->l4;
	switch (type) {
	case 135:	/* NS */
	case 136:	/* NA */
		memset(p, 0, 32);
		p[0] = type;
		if (type == 136)
			p[4] = 0x60;	/* solicited, override */
		memcpy(p + 8, target, 16);
		p[24] = type == 135 ? 1 : 2;
		p[25] = 1;
		memcpy(p + 26, G.mac_src, 6);
		l4len = 32;
		f->hend = f->l4 + 24;
		break;
	case 133:	/* RS */
		memset(p, 0, 16);
		p[0] = type;
		p[8] = 1;
		p[9] = 1;
		memcpy(p + 10, G.mac_src, 6);
		l4len = 16;
		f->hend = f->l4 + 8;
		break;
	case 128:	/* echo request */
		memset(p, 0, 24);
		p[0] = type;
		put16(p + 4, 0x4242);
		memset(p + 8, 0x61, 16);
		l4len = 24;
		f->hend = f->l4 + 8;
		break;
	case 143:	/* MLDv2 report, one record */
		memset(p, 0, 28);
		p[0] = type;
		put16(p + 6, 1);
		p[8] = 4;	/* CHANGE_TO_EXCLUDE */
		memcpy(p + 12, dst, 16);
		p[12 + 15] = 0xfb;
		l4len = 28;
		f->hend = f->l4 + 28;
		break;
	}
	f->len = f->l4 + l4len;
	put_ip6(ip, hbh_ra ? 0 : IPPROTO_ICMPV6, src, dst, ext + l4len, 255);
	if (hbh_ra) {
		u8 *h = ip + 40;

		memset(h, 0, 8);
		h[0] = IPPROTO_ICMPV6;
		h[2] = 5;	/* router alert */
		h[3] = 2;
		h[6] = 1;	/* PadN, 0 bytes */
		if (type == 143)
			ip[7] = 1;
	}
	l4_csum(f, 2);
	return f->len;
}

/*
 * IPv6 with the extension headers in @ext (next header values, the last
 * one the transport) before a UDP datagram of @plen bytes.
 */
static size_t build_ip6_chain(struct fr *f, size_t off, const struct addrs *a,
			      const u8 *types, int n, size_t plen, u16 fragoff)
{
	u8 *ip = f->b + off, *h;
	size_t pos = off + 40;
	int i;

	f->l3 = off;
	f->v6 = true;
	for (i = 0; i < n; i++) {
		u8 next = i + 1 < n ? types[i + 1] : IPPROTO_UDP;
		size_t hl = 8;

		h = f->b + pos;
		memset(h, 0, 24);
		h[0] = next;
		switch (types[i]) {
		case 43:	/* routing, type 0, one address, nothing left */
			h[1] = 2;
			h[2] = 0;
			h[3] = 0;
			memcpy(h + 8, a->d6, 16);
			hl = 24;
			break;
		case 44:	/* fragment */
			put16(h + 2, fragoff);
			put32(h + 4, 0xabcd0000u + (u32)i);
			break;
		case 51:	/* AH: 12-byte header + 4-byte ICV */
			h[1] = 2;
			put32(h + 4, 0x100);
			put32(h + 8, 1);
			hl = 16;
			break;
		default:	/* hop-by-hop, destination options: PadN */
			h[2] = 1;
			h[3] = 4;
			break;
		}
		pos += hl;
		/* stay within a 1500-byte MTU */
		if (pos + 24 + 8 + plen > 1514 && plen < 1000)
			break;
	}
	f->l4 = pos;
	f->l4proto = IPPROTO_UDP;
	put_udp(f->b + pos, plen, 9);
	f->hend = pos + 8;
	f->len = pos + 8 + plen;
	put_ip6(ip, n ? types[0] : IPPROTO_UDP, a->s6, a->d6, f->len - off - 40,
		64);
	l4_csum(f, 6);
	return f->len;
}

static size_t build_ip6(struct fr *f, size_t off, const struct addrs *a,
			u8 proto, size_t plen)
{
	size_t l4len;

	f->l3 = off;
	f->v6 = true;
	f->l4proto = proto;
	f->l4 = off + 40;
	if (proto == IPPROTO_TCP) {
		l4len = put_tcp(f->b + f->l4, plen);
		f->hend = f->l4 + 32;
	} else {
		l4len = put_udp(f->b + f->l4, plen, 9);
		f->hend = f->l4 + 8;
	}
	f->len = f->l4 + l4len;
	put_ip6(f->b + off, proto, a->s6, a->d6, l4len, 64);
	l4_csum(f, proto == IPPROTO_TCP ? 16 : 6);
	return f->len;
}

static void variant_addrs(struct addrs *a, int v, bool v6)
{
	memset(a, 0, sizeof(*a));
	a->variant = v;
	a->s4 = G.src4;
	a->d4 = G.dst4;
	a->s6 = G.src6;
	a->d6 = G.dst6;
	memcpy(a->mdst, G.mac_dst, 6);
	memcpy(a->msrc, G.mac_src, 6);
	switch (v) {
	case V_OWN:
		memcpy(a->mdst, bcast, 6);
		memcpy(a->msrc, G.mac_dst, 6);
		a->s4 = G.own4;
		a->s6 = G.own6;
		break;
	case V_MC:
		memcpy(a->mdst, v6 ? mc6 : mc4, 6);
		break;
	case V_SELF:
		memcpy(a->msrc, G.mac_dst, 6);
		a->s4 = G.own4;
		a->s6 = G.own6;
		break;
	}
}

static bool kind_is_v6(int k)
{
	return (k >= K_IP6_UDP && k <= K_IP6_CHAIN) || k == K_VLAN_NS ||
	       k == K_QINQ_IP6;
}

/* Build base frame @k in variant @v. */
static void build(struct fr *f, int k, int v)
{
	static const u8 ext[] = { 0, 60, 43, 44 };
	static const u8 chain[] = { 60, 60, 60, 60, 60, 60, 60, 60 };
	static const u8 allr[16] = { 0xff, 0x02, [15] = 2 };
	static const u8 mldr[16] = { 0xff, 0x02, [15] = 0x16 };
	static const u8 any6[16];
	bool v6 = kind_is_v6(k);
	struct addrs a;
	u8 sn[16], mac[6];
	size_t off;

	variant_addrs(&a, v, v6);
	memset(f, 0, sizeof(*f));
	switch (k) {
	case K_ARP_REQ:
	case K_VLAN_ARP:
		off = put_eth(f->b, v == V_UNI ? bcast : a.mdst, a.msrc,
			      k == K_VLAN_ARP, ETH_P_ARP);
		f->len = build_arp(f, off, &a, 1);
		break;
	case K_ARP_REPLY:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_ARP);
		f->len = build_arp(f, off, &a, 2);
		break;
	case K_IP4_UDP:
	case K_VLAN_IP4:
	case K_QINQ_IP4:
		off = put_eth(f->b, a.mdst, a.msrc,
			      k == K_VLAN_IP4 ? 1 : k == K_QINQ_IP4 ? 2 : 0,
			      ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_UDP, 0, 0, 16);
		break;
	case K_IP4_TCP:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_TCP, 0, 0x4000, 0);
		break;
	case K_IP4_ICMP:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_ICMP, 0, 0, 16);
		break;
	case K_IP4_OPT:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_UDP, 8, 0, 8);
		break;
	case K_IP4_FRAG0:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_UDP, 0, 0x2000, 16);
		break;
	case K_IP4_FRAGN:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_UDP, 0, 3, 16);
		f->hend = f->l4;
		break;
	case K_IGMP:
		off = put_eth(f->b, v == V_UNI ? (const u8 *)"\x01\x00\x5e\x00\x00\xfb" :
			      a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_IGMP, 4, 0, 0);
		break;
	case K_IP6_UDP:
	case K_QINQ_IP6:
		off = put_eth(f->b, a.mdst, a.msrc, k == K_QINQ_IP6 ? 2 : 0,
			      ETH_P_IPV6);
		build_ip6(f, off, &a, IPPROTO_UDP, 16);
		break;
	case K_IP6_TCP:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6(f, off, &a, IPPROTO_TCP, 0);
		break;
	case K_IP6_ECHO:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_icmp6(f, off, 128, NULL, a.s6, a.d6, false);
		break;
	case K_NS:
	case K_VLAN_NS:
		solicited(sn, a.d6);
		mc6_mac(mac, sn);
		off = put_eth(f->b, v == V_UNI ? mac : a.mdst, a.msrc,
			      k == K_VLAN_NS, ETH_P_IPV6);
		build_icmp6(f, off, 135, a.d6, a.s6, sn, false);
		break;
	case K_NS_DAD:
		solicited(sn, a.d6);
		mc6_mac(mac, sn);
		off = put_eth(f->b, v == V_UNI ? mac : a.mdst, a.msrc, 0,
			      ETH_P_IPV6);
		build_icmp6(f, off, 135, a.d6, any6, sn, false);
		f->len -= 8;	/* no source link-layer option from :: */
		put16(f->b + f->l3 + 4, 24);
		l4_csum(f, 2);
		break;
	case K_NA:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_icmp6(f, off, 136, a.variant == V_UNI ? a.s6 : a.d6,
			    a.s6, a.d6, false);
		break;
	case K_RS:
		off = put_eth(f->b, v == V_UNI ? (const u8 *)"\x33\x33\0\0\0\x02" :
			      a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_icmp6(f, off, 133, NULL, a.s6, allr, false);
		break;
	case K_MLD:
		off = put_eth(f->b, v == V_UNI ? (const u8 *)"\x33\x33\0\0\0\x16" :
			      a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_icmp6(f, off, 143, NULL, a.s6, mldr, true);
		break;
	case K_IP6_EXT:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6_chain(f, off, &a, ext, sizeof(ext), 16, 0);
		break;
	case K_IP6_FRAG0:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6_chain(f, off, &a, ext + 3, 1, 16, 1);
		break;
	case K_IP6_FRAGN:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6_chain(f, off, &a, ext + 3, 1, 16, 3 << 3);
		f->hend = f->l4;
		break;
	case K_IP6_CHAIN:
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6_chain(f, off, &a, chain, sizeof(chain), 8, 0);
		break;
	}
}

/* --------------------------------------------------------- catalogue */

/* Every base frame in every variant, cut at every byte. */
static void cat_truncations(void)
{
	struct fr f;
	char cls[48];
	int k, v;
	size_t n, max;

	for (k = 0; k < K_NUM; k++) {
		for (v = 0; v < V_NUM; v++) {
			build(&f, k, v);
			snprintf(cls, sizeof(cls), "trunc/%s/%s", kname[k],
				 vname[v]);
			max = f.hend + 8 < f.len ? f.hend + 8 : f.len;
			for (n = 1; n <= max; n++)
				emit(cls, f.b, n, NULL);
			if (max < f.len)
				emit(cls, f.b, f.len, NULL);
		}
	}
}

static void emit_f(const char *cls, struct fr *f)
{
	emit(cls, f->b, f->len, NULL);
}

/* Set the IPv4 header checksum again after editing it. */
static void fix4(struct fr *f)
{
	ip4_csum(f->b + f->l3);
}

static void cat_ip4(void)
{
	static const u16 lens[] = { 0, 1, 19, 20, 27, 28, 43, 45, 0xffff };
	static const u8 protos[] = { 0, 4, 41, 47, 50, 51, 103, 132, 255 };
	static const u8 opts[][8] = {
		{ 0x94, 0x00, 0, 0, 0, 0, 0, 0 },	/* RA, length 0 */
		{ 0x94, 0x01, 0, 0, 0, 0, 0, 0 },	/* length 1 */
		{ 0x94, 0xff, 0, 0, 0, 0, 0, 0 },	/* past the header */
		{ 0x07, 0x07, 0x04, 1, 2, 3, 4, 0 },	/* record route */
		{ 0x07, 0x08, 0x09, 1, 2, 3, 4, 0 },	/* rr, bad pointer */
		{ 0x44, 0x08, 0x05, 0x01, 0, 0, 0, 0 },	/* timestamp */
		{ 0x83, 0x07, 0x04, 192, 0, 2, 1, 0 },	/* LSRR */
		{ 0x89, 0x07, 0x04, 192, 0, 2, 1, 0 },	/* SSRR */
		{ 0x86, 0x06, 0, 0, 0, 0, 0, 0 },	/* CIPSO, short */
		{ 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x82 },
	};
	static const u16 frags[] = { 0x3fff, 0x2000 | 0x1fff, 0x8000, 0x6000,
				     0x0001, 0x1ff8 };
	struct addrs a;
	struct fr f;
	unsigned int i;
	int v;

	for (v = 0; v < V_NUM; v += 2) {	/* unicast and own-slave */
		for (i = 0; i < 16; i++) {
			build(&f, K_IP4_UDP, v);
			f.b[f.l3] = (f.b[f.l3] & 0xf0) | i;
			fix4(&f);
			emit_f("ip4/ihl", &f);
			build(&f, K_IP4_UDP, v);
			f.b[f.l3] = (u8)(i << 4) | 5;
			fix4(&f);
			emit_f("ip4/version", &f);
		}
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			build(&f, K_IP4_UDP, v);
			put16(f.b + f.l3 + 2, lens[i]);
			fix4(&f);
			emit_f("ip4/tot_len", &f);
			/* cut right after the destination address */
			emit("ip4/tot_len-cut", f.b, f.l3 + 20, NULL);
		}
		/* ihl 15 with only 20 header bytes left in the frame */
		build(&f, K_IP4_UDP, v);
		f.b[f.l3] = 0x4f;
		fix4(&f);
		emit("ip4/ihl15-short", f.b, f.l3 + 20, NULL);
		emit("ip4/ihl15-short", f.b, f.l3 + 59, NULL);
		/* bad header checksum */
		build(&f, K_IP4_UDP, v);
		f.b[f.l3 + 10] ^= 0x55;
		emit_f("ip4/csum", &f);
	}
	for (i = 0; i < sizeof(protos); i++) {
		build(&f, K_IP4_UDP, V_UNI);
		f.b[f.l3 + 9] = protos[i];
		fix4(&f);
		emit_f("ip4/proto", &f);
		emit("ip4/proto-cut", f.b, f.l4 + 2, NULL);
	}
	variant_addrs(&a, V_UNI, false);
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		size_t off;

		memset(&f, 0, sizeof(f));
		off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(&f, off, &a, IPPROTO_UDP, 8, 0, 8);
		memcpy(f.b + f.l3 + 20, opts[i], 8);
		fix4(&f);
		emit_f("ip4/options", &f);
		emit("ip4/options-cut", f.b, f.l3 + 24, NULL);
	}
	for (i = 0; i < ARRAY_SIZE(frags); i++) {
		build(&f, K_IP4_UDP, V_UNI);
		put16(f.b + f.l3 + 6, frags[i]);
		fix4(&f);
		emit_f("ip4/frag-field", &f);
	}
	/* overlapping fragments: 0-23 MF, 8-31 MF, 16-47 last */
	for (i = 0; i < 3; i++) {
		build(&f, K_IP4_FRAG0, V_UNI);
		put16(f.b + f.l3 + 6, (u16)((i < 2 ? 0x2000 : 0) | i));
		put16(f.b + f.l3 + 4, 0x7777);
		fix4(&f);
		emit_f("ip4/frag-overlap", &f);
	}
	/* a fragment ending past 65535 */
	build(&f, K_IP4_FRAGN, V_UNI);
	put16(f.b + f.l3 + 6, 0x1fff);
	fix4(&f);
	emit_f("ip4/frag-oversize", &f);
	/* first fragment holding half a UDP header */
	build(&f, K_IP4_FRAG0, V_UNI);
	put16(f.b + f.l3 + 2, 24);
	fix4(&f);
	emit("ip4/frag-tiny", f.b, f.l3 + 24, NULL);
	/* addresses the stack must never accept as a source */
	{
		static const u8 bad[][4] = { { 0, 0, 0, 0 }, { 255, 255, 255, 255 },
					     { 127, 0, 0, 1 }, { 224, 0, 0, 1 },
					     { 192, 0, 2, 255 } };

		for (i = 0; i < 5; i++) {
			build(&f, K_IP4_UDP, V_UNI);
			memcpy(f.b + f.l3 + 12, bad[i], 4);
			fix4(&f);
			emit_f("ip4/bad-saddr", &f);
			build(&f, K_IP4_UDP, V_UNI);
			memcpy(f.b + f.l3 + 16, bad[i], 4);
			fix4(&f);
			emit_f("ip4/bad-daddr", &f);
		}
	}
}

/* Extension header chains and IPv6 header lies. */
static void cat_ip6(void)
{
	static const u16 plens[] = { 0, 1, 7, 8, 23, 25, 0xffff };
	static const u8 nexts[] = { 0, 43, 44, 50, 51, 59, 60, 135, 139, 140,
				    253, 255, 4, 41 };
	static u8 types[200];
	struct addrs a;
	struct fr f;
	unsigned int i, n;
	size_t off;
	int v;

	for (v = 0; v < V_NUM; v += 2) {
		for (i = 0; i < ARRAY_SIZE(plens); i++) {
			build(&f, K_IP6_UDP, v);
			put16(f.b + f.l3 + 4, plens[i]);
			emit_f("ip6/payload_len", &f);
			build(&f, K_IP6_EXT, v);
			put16(f.b + f.l3 + 4, plens[i]);
			emit_f("ip6/payload_len-ext", &f);
			build(&f, K_NS, v);
			put16(f.b + f.l3 + 4, plens[i]);
			emit_f("ip6/payload_len-ns", &f);
			emit("ip6/payload_len-cut", f.b, f.l3 + 40, NULL);
		}
		for (i = 0; i < 16; i++) {
			build(&f, K_IP6_UDP, v);
			f.b[f.l3] = (u8)(i << 4);
			emit_f("ip6/version", &f);
		}
	}
	for (i = 0; i < sizeof(nexts); i++) {
		build(&f, K_IP6_UDP, V_UNI);
		f.b[f.l3 + 6] = nexts[i];
		emit_f("ip6/nexthdr", &f);
		emit("ip6/nexthdr-cut", f.b, f.l3 + 42, NULL);
	}

	variant_addrs(&a, V_UNI, true);
	/* long and repeating chains */
	static const u8 chain_types[] = { 60, 43, 60, 51 };

	for (n = 1; n <= 180; n = n < 16 ? n + 5 : n * 2) {
		for (i = 0; i < n; i++)
			types[i] = chain_types[i % 4];
		for (v = 0; v < 2; v++) {
			memset(&f, 0, sizeof(f));
			off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
			build_ip6_chain(&f, off, &a, types + v, (int)n - v, 8, 0);
			emit_f("ip6/chain-long", &f);
			emit("ip6/chain-long-cut", f.b, f.l4 - 3, NULL);
		}
	}
	/* header lengths pointing past the end of the frame */
	for (i = 0; i < 4; i++) {
		static const u8 t[4] = { 0, 60, 43, 51 };
		static const u8 hl[] = { 1, 16, 127, 255 };
		unsigned int j;

		for (j = 0; j < sizeof(hl); j++) {
			memset(&f, 0, sizeof(f));
			off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
			build_ip6_chain(&f, off, &a, t + i, 1, 8, 0);
			f.b[f.l3 + 41] = hl[j];
			emit_f("ip6/ext-overlong", &f);
		}
	}
	/* hop-by-hop not first, twice, after a fragment header */
	{
		static const u8 c1[] = { 60, 0 }, c2[] = { 0, 0 },
				c3[] = { 44, 0 }, c4[] = { 44, 44, 60 },
				c5[] = { 60, 44, 60, 44 }, c6[] = { 43, 43, 43 };
		static const u8 *const cs[] = { c1, c2, c3, c4, c5, c6 };
		static const int cn[] = { 2, 2, 2, 3, 4, 3 };

		for (i = 0; i < 6; i++) {
			for (n = 0; n < 2; n++) {
				memset(&f, 0, sizeof(f));
				off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
				build_ip6_chain(&f, off, &a, cs[i], cn[i], 16,
						n ? 0x0009 : 0);
				emit_f("ip6/chain-order", &f);
			}
		}
	}
	/* options inside hop-by-hop: jumbo, unknown, overlong */
	{
		static const u8 hopts[][6] = {
			{ 0xc2, 4, 0x00, 0x01, 0x00, 0x00 },	/* jumbo 65536 */
			{ 0xc2, 4, 0x00, 0x00, 0x00, 0x10 },	/* jumbo < 65536 */
			{ 0xc2, 4, 0xff, 0xff, 0xff, 0xff },
			{ 0xc2, 2, 0x00, 0x01, 0, 0 },		/* short jumbo */
			{ 0x05, 2, 0x00, 0x00, 0, 0 },		/* RA */
			{ 0x05, 9, 0, 0, 0, 0 },		/* past the end */
			{ 0x01, 0xff, 0, 0, 0, 0 },
			{ 0x80, 4, 1, 2, 3, 4 },		/* unknown, discard */
			{ 0xc0, 4, 1, 2, 3, 4 },		/* unknown, icmp */
			{ 0x3e, 4, 1, 2, 3, 4 },
			{ 0x63, 4, 0, 0, 0, 0 },		/* RPL option */
			{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },	/* Pad1s */
		};

		for (i = 0; i < ARRAY_SIZE(hopts); i++) {
			for (n = 0; n < 2; n++) {
				static const u8 hbh;	/* hop-by-hop: 0 */

				memset(&f, 0, sizeof(f));
				off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
				build_ip6_chain(&f, off, &a, &hbh, 1, 16, 0);
				memcpy(f.b + f.l3 + 42, hopts[i], 6);
				if (n)	/* jumbogram style: payload_len 0 */
					put16(f.b + f.l3 + 4, 0);
				emit_f("ip6/hbh-option", &f);
			}
		}
	}
	/* routing headers: type 0 with segments left past its addresses,
	 * type 2 (home address), 3 (RPL) and 4 (SRH) with bogus lengths
	 */
	{
		static const u8 rh[][4] = { { 0, 2, 0, 5 }, { 0, 2, 0, 1 },
					    { 0, 2, 2, 1 }, { 0, 0, 2, 1 },
					    { 0, 2, 3, 1 }, { 0, 1, 3, 200 },
					    { 0, 2, 4, 1 }, { 0, 0, 4, 1 },
					    { 0, 2, 4, 9 }, { 0, 2, 253, 1 } };
		static const u8 r43 = 43;

		for (i = 0; i < ARRAY_SIZE(rh); i++) {
			memset(&f, 0, sizeof(f));
			off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
			build_ip6_chain(&f, off, &a, &r43, 1, 16, 0);
			memcpy(f.b + f.l3 + 41, rh[i] + 1, 3);
			f.b[f.l3 + 44] = 0x44;	/* SRH last entry / RPL cmpr */
			emit_f("ip6/routing", &f);
		}
	}
	/* neighbour discovery behind extension headers and fragments */
	{
		static const u8 e1[] = { 60 }, e2[] = { 44 };
		static const u8 *const es[] = { e1, e2 };

		for (i = 0; i < 2; i++) {
			u8 *p;

			build(&f, K_NS, V_UNI);
			off = f.l3;
			/* insert the header in front of the ICMPv6 message */
			memmove(f.b + f.l4 + 8, f.b + f.l4, f.len - f.l4);
			p = f.b + f.l4;
			memset(p, 0, 8);
			p[0] = IPPROTO_ICMPV6;
			if (es[i][0] == 60) {
				p[2] = 1;
				p[3] = 4;
			}
			f.b[off + 6] = es[i][0];
			f.len += 8;
			put16(f.b + off + 4, (u16)(f.len - off - 40));
			emit_f("ip6/nd-behind-ext", &f);
		}
	}
	/* fragments: overlapping, atomic, odd sizes, huge offsets */
	{
		static const u16 fo[] = { 0x0001, 0x0009, 0x0011, 0x0000,
					  0xfff8, 0xfff9, 0x0003, 0x0019 };
		static const u8 fr = 44;

		for (i = 0; i < ARRAY_SIZE(fo); i++) {
			memset(&f, 0, sizeof(f));
			off = put_eth(f.b, a.mdst, a.msrc, 0, ETH_P_IPV6);
			build_ip6_chain(&f, off, &a, &fr, 1, 16 + i, fo[i]);
			put32(f.b + f.l3 + 44, 0x5555);
			emit_f("ip6/frag", &f);
		}
	}
}

static void cat_arp(void)
{
	static const u8 hlns[] = { 0, 1, 5, 7, 16, 255 };
	static const u8 plns[] = { 0, 2, 3, 5, 16, 255 };
	static const u16 ops[] = { 0, 3, 4, 8, 9, 0xffff };
	static const u16 hrds[] = { 0, 6, 0x18, 0xffff };
	static const u16 pros[] = { 0, ETH_P_IPV6, ETH_P_ARP, 0x0801 };
	struct fr f;
	unsigned int i;
	int v;

	for (v = 0; v < V_NUM; v++) {
		for (i = 0; i < sizeof(hlns); i++) {
			build(&f, K_ARP_REQ, v);
			f.b[f.l3 + 4] = hlns[i];
			emit_f("arp/hln", &f);
			emit("arp/hln-cut", f.b, f.l3 + 8 + hlns[i] + 4, NULL);
		}
		for (i = 0; i < sizeof(plns); i++) {
			build(&f, K_ARP_REQ, v);
			f.b[f.l3 + 5] = plns[i];
			emit_f("arp/pln", &f);
		}
		for (i = 0; i < ARRAY_SIZE(ops); i++) {
			build(&f, K_ARP_REPLY, v);
			put16(f.b + f.l3 + 6, ops[i]);
			emit_f("arp/op", &f);
		}
		for (i = 0; i < ARRAY_SIZE(hrds); i++) {
			build(&f, K_ARP_REQ, v);
			put16(f.b + f.l3, hrds[i]);
			emit_f("arp/hrd", &f);
			build(&f, K_ARP_REQ, v);
			put16(f.b + f.l3 + 2, pros[i]);
			emit_f("arp/pro", &f);
		}
	}
	/* a gratuitous ARP and an ARP probe for the slave's address */
	build(&f, K_ARP_REQ, V_UNI);
	memcpy(f.b + f.l3 + 14, G.dst4, 4);
	emit_f("arp/gratuitous", &f);
	build(&f, K_ARP_REQ, V_UNI);
	memset(f.b + f.l3 + 14, 0, 4);
	emit_f("arp/probe", &f);
}

static void cat_icmp6(void)
{
	struct fr f;
	unsigned int i;
	int k, v;

	for (v = 0; v < V_NUM; v += 2) {
		for (k = K_NS; k <= K_RS; k++) {
			build(&f, k, v);
			f.b[f.l3 + 7] = 64;		/* hop limit */
			l4_csum(&f, 2);
			emit_f("nd/hoplimit", &f);
			build(&f, k, v);
			f.b[f.l4 + 1] = 1;		/* code */
			l4_csum(&f, 2);
			emit_f("nd/code", &f);
			build(&f, k, v);
			f.b[f.l4 + 2] ^= 0xff;		/* checksum */
			emit_f("nd/csum", &f);
			if (k == K_NS_DAD)
				continue;
			for (i = 0; i < 4; i++) {
				static const u8 ol[] = { 0, 2, 4, 255 };
				size_t opt = k == K_RS ? 8 : 24;

				build(&f, k, v);
				f.b[f.l4 + opt + 1] = ol[i];
				l4_csum(&f, 2);
				emit_f("nd/optlen", &f);
				build(&f, k, v);
				f.b[f.l4 + opt] = (u8)(i * 50);	/* opt type */
				l4_csum(&f, 2);
				emit_f("nd/opttype", &f);
			}
		}
		/* multicast and unspecified targets */
		for (i = 0; i < 2; i++) {
			build(&f, i ? K_NA : K_NS, v);
			memset(f.b + f.l4 + 8, 0, 16);
			if (!i) {
				f.b[f.l4 + 8] = 0xff;
				f.b[f.l4 + 9] = 0x02;
				f.b[f.l4 + 23] = 1;
			}
			l4_csum(&f, 2);
			emit_f("nd/target", &f);
		}
		/* DAD probe carrying a source link-layer option */
		build(&f, K_NS, v);
		memset(f.b + f.l3 + 8, 0, 16);
		l4_csum(&f, 2);
		emit_f("nd/dad-sllao", &f);
		/* redirect (137) and RA (134) bodies cut short */
		for (i = 0; i < 2; i++) {
			build(&f, K_NA, v);
			f.b[f.l4] = i ? 137 : 134;
			l4_csum(&f, 2);
			emit_f("nd/other", &f);
			emit("nd/other-cut", f.b, f.l4 + 9, NULL);
		}
	}
}

static void cat_l4(void)
{
	static const u16 ulens[] = { 0, 1, 7, 8, 9, 25, 0xffff };
	static const u8 doffs[] = { 0, 1, 4, 5, 6, 15 };
	static const u8 topts[][4] = { { 2, 0, 0, 0 }, { 2, 1, 0, 0 },
				       { 2, 255, 0, 0 }, { 2, 3, 5, 0 },
				       { 8, 2, 0, 0 }, { 30, 2, 0, 0 },
				       { 34, 3, 1, 0 }, { 254, 4, 0xf9, 0x89 } };
	struct fr f;
	unsigned int i;
	int k;

	for (k = 0; k < 2; k++) {
		int ku = k ? K_IP6_UDP : K_IP4_UDP, kt = k ? K_IP6_TCP : K_IP4_TCP;

		for (i = 0; i < ARRAY_SIZE(ulens); i++) {
			build(&f, ku, V_UNI);
			put16(f.b + f.l4 + 4, ulens[i]);
			l4_csum(&f, 6);
			emit_f("udp/len", &f);
		}
		build(&f, ku, V_UNI);
		put16(f.b + f.l4 + 6, 0);	/* no checksum (IPv6: invalid) */
		emit_f("udp/zero-csum", &f);
		for (i = 0; i < sizeof(doffs); i++) {
			build(&f, kt, V_UNI);
			f.b[f.l4 + 12] = (u8)(doffs[i] << 4);
			l4_csum(&f, 16);
			emit_f("tcp/doff", &f);
		}
		for (i = 0; i < ARRAY_SIZE(topts); i++) {
			build(&f, kt, V_UNI);
			memcpy(f.b + f.l4 + 20, topts[i], 4);
			l4_csum(&f, 16);
			emit_f("tcp/option", &f);
		}
		build(&f, kt, V_UNI);
		f.b[f.l4 + 13] = 0xff;		/* every flag */
		l4_csum(&f, 16);
		emit_f("tcp/flags", &f);
	}
}

/* Odd ethertypes and destination MACs, short and long. */
static void cat_eth(void)
{
	static const u16 types[] = { 0x0000, 0x0001, 0x05dc, 0x0600, 0x8100,
				     0x88a8, 0x9100, 0x88cc, 0x8847, 0x8863,
				     0x8864, 0x8808, 0x88e5, 0x8906, 0x22f0,
				     0xffff };
	static const size_t lens[] = { 14, 15, 16, 18, 22, 60 };
	static const u8 dmacs[][6] = {
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 },
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x01 },	/* pause */
		{ 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e },
		{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },	/* someone else */
		{ 0x01, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};
	u8 b[64];
	struct fr f;
	unsigned int i, j;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < ARRAY_SIZE(types); i++) {
			memset(b, 0xa5, sizeof(b));
			put_eth(b, d ? bcast : G.mac_dst, G.mac_src, 0, types[i]);
			for (j = 0; j < ARRAY_SIZE(lens); j++)
				emit("eth/type", b, lens[j], NULL);
		}
	}
	/* triple tag, and tags in front of ARP/IPv6 cut short */
	memset(b, 0, sizeof(b));
	put_eth(b, G.mac_dst, G.mac_src, 2, ETH_P_8021Q);
	put16(b + 22, 7);
	put16(b + 24, ETH_P_IP);
	for (j = 14; j <= 30; j++)
		emit("eth/triple-tag", b, j, NULL);
	/* IPv6 in an IPv4 ethertype and the other way round */
	build(&f, K_IP6_UDP, V_UNI);
	put16(f.b + 12, ETH_P_IP);
	emit_f("eth/type-mismatch", &f);
	put16(f.b + 12, ETH_P_ARP);
	emit_f("eth/type-mismatch", &f);
	build(&f, K_IP4_UDP, V_UNI);
	put16(f.b + 12, ETH_P_IPV6);
	emit_f("eth/type-mismatch", &f);
	build(&f, K_ARP_REQ, V_SELF);
	put16(f.b + 12, ETH_P_IPV6);
	emit_f("eth/type-mismatch", &f);
	for (i = 0; i < ARRAY_SIZE(dmacs); i++) {
		build(&f, K_IP4_UDP, V_UNI);
		memcpy(f.b, dmacs[i], 6);
		emit_f("eth/dmac", &f);
		emit("eth/dmac-cut", f.b, f.l3 + 20, NULL);
		build(&f, K_IP6_UDP, V_UNI);
		memcpy(f.b, dmacs[i], 6);
		emit("eth/dmac-cut", f.b, f.l3 + 40, NULL);
		build(&f, K_ARP_REQ, V_UNI);
		memcpy(f.b, dmacs[i], 6);
		emit("eth/dmac-cut", f.b, f.l3 + 28, NULL);
	}
	/* valid frames from a foreign source MAC (ipvtap: mac_drops) */
	for (i = 0; i < 3; i++) {
		static const int fk[3] = { K_ARP_REQ, K_IP4_UDP, K_IP6_UDP };

		build(&f, fk[i], V_UNI);
		memcpy(f.b + 6, "\x02\x00\x00\x00\x00\x02", 6);
		emit_f("eth/foreign-src", &f);
	}
	/* oversized: one byte past the MTU, and padded minimum frames */
	build(&f, K_IP4_UDP, V_UNI);
	memset(f.b + f.len, 0, 1515 - f.len);
	emit("eth/oversize", f.b, 1515, NULL);
	emit("eth/padded", f.b, 60, NULL);
	emit("eth/jumbo", f.b, 1600, NULL);
}

/* ---------------------------------------------------- vnet catalogue */

/* A GSO-sized TCP or UDP carrier for the vnet header catalogue. */
static void carrier(struct fr *f, int c)
{
	struct addrs a;
	size_t off;

	variant_addrs(&a, V_UNI, c & 1);
	memset(f, 0, sizeof(*f));
	switch (c) {
	case 0:		/* IPv4 TCP */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_TCP, 0, 0x4000, GSO_PAYLOAD);
		break;
	case 1:		/* IPv6 TCP */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6(f, off, &a, IPPROTO_TCP, GSO_PAYLOAD);
		break;
	case 2:		/* IPv4 UDP */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_UDP, 0, 0, GSO_PAYLOAD);
		break;
	case 3:		/* IPv6 UDP */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6(f, off, &a, IPPROTO_UDP, GSO_PAYLOAD);
		break;
	case 4:		/* 802.1Q IPv4 TCP */
		off = put_eth(f->b, a.mdst, a.msrc, 1, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_TCP, 0, 0x4000, GSO_PAYLOAD);
		break;
	case 5: {	/* IPv6 TCP behind extension headers */
		static const u8 t[] = { 0, 60, 43 };
		u8 *ip;

		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6_chain(f, off, &a, t, 3, GSO_PAYLOAD, 0);
		/* turn the UDP header into TCP */
		ip = f->b + f->l4;
		memmove(ip + 32, ip + 8, GSO_PAYLOAD);
		put_tcp(ip, 0);
		f->b[f->l4 - 24] = IPPROTO_TCP;	/* next of the RH */
		f->len += 24;
		f->hend = f->l4 + 32;
		f->l4proto = IPPROTO_TCP;
		put16(f->b + f->l3 + 4, (u16)(f->len - f->l3 - 40));
		l4_csum(f, 16);
		break;
	}
	case 6:		/* ARP */
		build(f, K_ARP_REQ, V_UNI);
		break;
	case 7:		/* IPv4 TCP with ihl 15 and tot_len lying */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_TCP, 0, 0x4000, GSO_PAYLOAD);
		f->b[f->l3] = 0x4f;
		put16(f->b + f->l3 + 2, 100);
		fix4(f);
		break;
	case 8:		/* IPv4 TCP with data offset 15 */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IP);
		build_ip4(f, off, &a, IPPROTO_TCP, 0, 0x4000, GSO_PAYLOAD);
		f->b[f->l4 + 12] = 0xf0;
		break;
	case 9:		/* IPv6 TCP with payload_len 0 */
		off = put_eth(f->b, a.mdst, a.msrc, 0, ETH_P_IPV6);
		build_ip6(f, off, &a, IPPROTO_TCP, GSO_PAYLOAD);
		put16(f->b + f->l3 + 4, 0);
		break;
	}
}

#define NCARRIERS 10

/* The natural GSO type of carrier @c. */
static u8 carrier_gso(const struct fr *f)
{
	if (f->l4proto == IPPROTO_UDP)
		return VIRTIO_NET_HDR_GSO_UDP;
	return f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
}

static void vh_valid(struct virtio_net_hdr *vh, const struct fr *f)
{
	memset(vh, 0, sizeof(*vh));
	if (!f->l4)
		return;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = carrier_gso(f);
	vh->gso_size = 1400;
	vh->hdr_len = (u16)f->hend;
	vh->csum_start = (u16)f->l4;
	vh->csum_offset = f->l4proto == IPPROTO_UDP ? 6 : 16;
}

static void cat_vnet(void)
{
	static const u8 flags[] = { 0, 1, 2, 3, 4, 0x80, 0xff };
	static const u8 gtypes[] = { 0, 1, 2, 3, 4, 5, 6, 0x81, 0x83, 0x84,
				     0x80, 0x7f, 0xff };
	static const u16 gsizes[] = { 0, 1, 7, 8, 64, 536, 1400, 1448, 2999,
				      9000, 0xfffe, 0xffff };
	struct virtio_net_hdr vh;
	struct fr f;
	u16 hl[9], cs[12], co[7];
	unsigned int i, j;
	int c;

	for (c = 0; c < NCARRIERS; c++) {
		size_t L;

		carrier(&f, c);
		L = f.len;
		/* the valid header first: it must be accepted */
		vh_valid(&vh, &f);
		emit("vnet/valid", f.b, L, &vh);
		for (i = 0; i < sizeof(flags); i++) {
			vh_valid(&vh, &f);
			vh.flags = flags[i];
			emit("vnet/flags", f.b, L, &vh);
		}
		for (i = 0; i < sizeof(gtypes); i++) {
			for (j = 0; j < ARRAY_SIZE(gsizes); j++) {
				vh_valid(&vh, &f);
				vh.gso_type = gtypes[i];
				vh.gso_size = gsizes[j];
				emit("vnet/gso", f.b, L, &vh);
				if (j % 3)
					continue;
				vh.flags = 0;	/* no NEEDS_CSUM: dissected */
				emit("vnet/gso-nocsum", f.b, L, &vh);
			}
		}
		hl[0] = 0; hl[1] = 1; hl[2] = 13; hl[3] = 14;
		hl[4] = (u16)f.hend; hl[5] = (u16)(L - 1); hl[6] = (u16)L;
		hl[7] = (u16)(L + 1); hl[8] = 0xffff;
		for (i = 0; i < 9; i++) {
			vh_valid(&vh, &f);
			vh.hdr_len = hl[i];
			emit("vnet/hdr_len", f.b, L, &vh);
			vh.flags = 0;
			emit("vnet/hdr_len", f.b, L, &vh);
		}
		cs[0] = 0; cs[1] = 1; cs[2] = 13; cs[3] = 14; cs[4] = 33;
		cs[5] = 34; cs[6] = 54; cs[7] = (u16)(L - 2);
		cs[8] = (u16)(L - 1); cs[9] = (u16)L; cs[10] = 0xfffe;
		cs[11] = 0xffff;
		co[0] = 0; co[1] = 2; co[2] = 6; co[3] = 16; co[4] = (u16)L;
		co[5] = 0xfffe; co[6] = 0xffff;
		for (i = 0; i < 12; i++) {
			for (j = 0; j < 7; j++) {
				vh_valid(&vh, &f);
				vh.csum_start = cs[i];
				vh.csum_offset = co[j];
				emit("vnet/csum", f.b, L, &vh);
				vh.gso_type = 0;
				vh.hdr_len = 0;
				emit("vnet/csum-nogso", f.b, L, &vh);
			}
		}
		/* the carrier cut at every byte of its headers, GSO header kept */
		for (i = 1; i <= f.hend + 8 && i < L; i++) {
			vh_valid(&vh, &f);
			emit("vnet/trunc", f.b, i, &vh);
			vh.hdr_len = 0;
			vh.flags = 0;
			emit("vnet/trunc-nocsum", f.b, i, &vh);
		}
	}
}

/* ------------------------------------------------------------ random */

static void random_vnet(struct virtio_net_hdr *vh, const struct fr *f)
{
	static const u16 gs[] = { 0, 1, 8, 576, 1400, 0xffff };

	vh_valid(vh, f);
	switch (rnd_below(6)) {
	case 0:
		vh->flags = (u8)rnd();
		break;
	case 1:
		vh->gso_type = (u8)rnd();
		break;
	case 2:
		vh->gso_size = rnd_below(2) ? gs[rnd_below(6)] : (u16)rnd();
		break;
	case 3:
		vh->hdr_len = (u16)rnd_below((u32)f->len + 64);
		break;
	case 4:
		vh->csum_start = (u16)rnd_below((u32)f->len + 8);
		vh->csum_offset = (u16)rnd_below(64);
		break;
	default:
		vh->flags = (u8)rnd();
		vh->gso_type = (u8)rnd();
		vh->gso_size = (u16)rnd();
		vh->hdr_len = (u16)rnd();
		vh->csum_start = (u16)rnd();
		vh->csum_offset = (u16)rnd();
		break;
	}
}

static void cat_random(long n)
{
	static const u8 vals8[] = { 0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x40, 0x3c };
	static const u16 vals16[] = { 0, 1, 0xffff, 0x8000, 8, 20, 40, 0x0800,
				      0x86dd, 0x0806, 0x8100 };
	struct virtio_net_hdr vh;
	struct fr f;
	long i;

	for (i = 0; i < n; i++) {
		bool gso = G.mode == M_TAP && rnd_below(8) == 0;
		int ops, o;
		size_t len, p;

		if (gso)
			carrier(&f, (int)rnd_below(NCARRIERS));
		else
			build(&f, (int)rnd_below(K_NUM), (int)rnd_below(V_NUM));
		len = f.len;
		/* sometimes append garbage */
		if (rnd_below(8) == 0) {
			size_t extra = rnd_below(64);

			for (p = len; p < len + extra; p++)
				f.b[p] = (u8)rnd();
			len += extra;
		}
		ops = 1 + (int)rnd_below(4);
		for (o = 0; o < ops; o++) {
			/* three quarters of the damage goes into headers */
			p = rnd_below(4) ? rnd_below((u32)f.hend) :
					   rnd_below((u32)len);
			switch (rnd_below(5)) {
			case 0:
				f.b[p] ^= (u8)(1u << rnd_below(8));
				break;
			case 1:
				f.b[p] = vals8[rnd_below(sizeof(vals8))];
				break;
			case 2:
				p &= ~(size_t)1;
				put16(f.b + p, vals16[rnd_below(11)]);
				break;
			case 3:
				len = rnd_below(2) ? rnd_below((u32)f.hend + 9) :
						     rnd_below((u32)len + 1);
				break;
			default:
				f.b[p] = (u8)rnd();
				break;
			}
		}
		if (len > FRAME_MAX)
			len = FRAME_MAX;
		/* half the time the IPv4 header checksum is made right */
		if (!f.v6 && f.l3 >= 2 && get16(f.b + f.l3 - 2) == ETH_P_IP &&
		    f.l3 + 20 <= len && rnd_below(2) &&
		    (f.b[f.l3] & 0x0f) * 4 + f.l3 <= len)
			fix4(&f);
		if (G.mode == M_TAP && (gso || rnd_below(3) == 0)) {
			random_vnet(&vh, &f);
			emit("random/vnet", f.b, len, &vh);
		} else {
			emit(gso ? "random/carrier" : "random", f.b, len, NULL);
		}
	}
}

/* ------------------------------------------------------------- setup */

static int open_packet(const char *ifname)
{
	struct ifreq ifr;

	struct timeval tv = { .tv_sec = 1 };

	G.fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: send only */
	if (G.fd < 0) {
		perror("ipvl_badframes: socket(AF_PACKET)");
		return -1;
	}
	/*
	 * A send blocking for a second means the kernel holds on to the
	 * socket's earlier frames: give up on that frame ("blocked").
	 */
	if (setsockopt(G.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		perror("ipvl_badframes: SO_SNDTIMEO");
		return -1;
	}
	G.ifindex = (int)if_nametoindex(ifname);
	if (!G.ifindex) {
		fprintf(stderr, "ipvl_badframes: no interface %s\n", ifname);
		return -1;
	}
	if (!G.have_src_mac) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
		if (ioctl(G.fd, SIOCGIFHWADDR, &ifr) < 0) {
			perror("ipvl_badframes: SIOCGIFHWADDR");
			return -1;
		}
		memcpy(G.mac_src, ifr.ifr_hwaddr.sa_data, 6);
	}
	return 0;
}

/* Open a tap node the way QEMU does, with a 12-byte vnet header. */
static int open_tap(const char *path)
{
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			   TUN_F_TSO_ECN | TUN_F_UFO;
	int sz = VNET_SZ, sndbuf = INT_MAX;
	struct ifreq ifr;

	G.fd = open(path, O_RDWR | O_NONBLOCK);
	if (G.fd < 0) {
		fprintf(stderr, "ipvl_badframes: open %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(G.fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR)) {
		fprintf(stderr, "ipvl_badframes: %s: no vnet header (TUNGETIFF)\n",
			path);
		return -1;
	}
	if (ioctl(G.fd, TUNSETOFFLOAD, off) < 0 &&
	    ioctl(G.fd, TUNSETOFFLOAD, off & ~TUN_F_UFO) < 0) {
		perror("ipvl_badframes: TUNSETOFFLOAD");
		return -1;
	}
	if (ioctl(G.fd, TUNSETVNETHDRSZ, &sz) < 0) {
		perror("ipvl_badframes: TUNSETVNETHDRSZ");
		return -1;
	}
	if (ioctl(G.fd, TUNSETSNDBUF, &sndbuf) < 0) {
		perror("ipvl_badframes: TUNSETSNDBUF");
		return -1;
	}
	if (!G.have_src_mac) {
		fprintf(stderr, "ipvl_badframes: --tap needs --mac-src (the master's MAC)\n");
		return -1;
	}
	return 0;
}

static int parse_mac(const char *s, u8 *mac)
{
	unsigned int m[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
		   &m[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (m[i] > 0xff)
			return -1;
		mac[i] = (u8)m[i];
	}
	return 0;
}

static void print_usage(FILE *o)
{
	fprintf(o,
		"usage: ipvl_badframes (--packet IFNAME | --tap /dev/tapN) [options]\n"
		"  --mac-dst MAC     unicast destination: the master's (= slaves') MAC\n"
		"  --mac-src MAC     source MAC (default: IFNAME's; --tap: required)\n"
		"  --dst4 A --dst6 A the slave addresses frames are sent to\n"
		"  --src4 A --src6 A the frames' source addresses\n"
		"  --own4 A --own6 A a slave's address used as a spoofed source\n"
		"                    (default: the --dst ones)\n"
		"  --seed N          PRNG seed (default 1)\n"
		"  --random N        random mutations after the catalogue (default 1000)\n"
		"  --no-catalogue    random frames only\n"
		"  --pace N --pace-us U   sleep U us after every N frames\n"
		"  --from I --to J   send only frames I..J (0-based)\n"
		"  --hex             print every frame sent\n"
		"  -v, --verbose     print every refused frame\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "packet", required_argument, NULL, 'P' },
		{ "tap", required_argument, NULL, 'T' },
		{ "mac-dst", required_argument, NULL, 'D' },
		{ "mac-src", required_argument, NULL, 'S' },
		{ "dst4", required_argument, NULL, '4' },
		{ "dst6", required_argument, NULL, '6' },
		{ "src4", required_argument, NULL, 'a' },
		{ "src6", required_argument, NULL, 'b' },
		{ "own4", required_argument, NULL, 'c' },
		{ "own6", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "random", required_argument, NULL, 'r' },
		{ "no-catalogue", no_argument, NULL, 'n' },
		{ "pace", required_argument, NULL, 'p' },
		{ "pace-us", required_argument, NULL, 'u' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "hex", no_argument, NULL, 'x' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool own4 = false, own6 = false, have_dst = false;
	int c, e, rc;

	G.mode = -1;
	inet_pton(AF_INET, "192.0.2.1", G.dst4);
	inet_pton(AF_INET, "192.0.2.254", G.src4);
	inet_pton(AF_INET6, "2001:db8::1", G.dst6);
	inet_pton(AF_INET6, "2001:db8::fe", G.src6);
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		rc = 1;
		switch (c) {
		case 'P':
		case 'T':
			G.mode = c == 'P' ? M_PACKET : M_TAP;
			G.target = optarg;
			break;
		case 'D':
			rc = !parse_mac(optarg, G.mac_dst);
			have_dst = true;
			break;
		case 'S':
			rc = !parse_mac(optarg, G.mac_src);
			G.have_src_mac = true;
			break;
		case '4':
			rc = inet_pton(AF_INET, optarg, G.dst4);
			break;
		case '6':
			rc = inet_pton(AF_INET6, optarg, G.dst6);
			break;
		case 'a':
			rc = inet_pton(AF_INET, optarg, G.src4);
			break;
		case 'b':
			rc = inet_pton(AF_INET6, optarg, G.src6);
			break;
		case 'c':
			rc = inet_pton(AF_INET, optarg, G.own4);
			own4 = true;
			break;
		case 'd':
			rc = inet_pton(AF_INET6, optarg, G.own6);
			own6 = true;
			break;
		case 's':
			G.seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			G.nrandom = strtol(optarg, NULL, 0);
			break;
		case 'n':
			G.no_catalogue = true;
			break;
		case 'p':
			G.pace = strtol(optarg, NULL, 0);
			break;
		case 'u':
			G.pace_us = strtol(optarg, NULL, 0);
			break;
		case 'f':
			G.from = strtoull(optarg, NULL, 0);
			break;
		case 't':
			G.to = strtoull(optarg, NULL, 0);
			break;
		case 'x':
			G.hex = true;
			break;
		case 'v':
			G.verbose = true;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
		if (rc != 1) {
			fprintf(stderr, "ipvl_badframes: bad value '%s'\n",
				optarg);
			return 2;
		}
	}
	if (G.mode < 0 || optind != argc || !have_dst || G.nrandom < 0) {
		print_usage(stderr);
		return 2;
	}
	if (!own4)
		memcpy(G.own4, G.dst4, 4);
	if (!own6)
		memcpy(G.own6, G.dst6, 16);
	if ((G.mode == M_PACKET ? open_packet(G.target) : open_tap(G.target)) < 0)
		return 1;

	rng = G.seed * 0x9e3779b97f4a7c15ULL + 0x1234567;
	if (!rng)
		rng = 1;
	if (!G.no_catalogue) {
		cat_truncations();
		cat_ip4();
		cat_ip6();
		cat_arp();
		cat_icmp6();
		cat_l4();
		cat_eth();
		if (G.mode == M_TAP)
			cat_vnet();
	}
	cat_random(G.nrandom);
	drain_tap();

	printf("frames %llu sent %llu refused_by_write %llu\n",
	       (unsigned long long)G.frames, (unsigned long long)G.sent,
	       (unsigned long long)G.refused);
	printf("detail: short %llu oversize %llu refused_long %llu",
	       (unsigned long long)G.shortf, (unsigned long long)G.oversize,
	       (unsigned long long)G.refused_long);
	printf(" nonip %llu xmit_dropped %llu retries %llu",
	       (unsigned long long)G.nonip,
	       (unsigned long long)G.xmit_dropped,
	       (unsigned long long)G.retries);
	if (G.blocked)
		printf(" blocked %llu%s", (unsigned long long)G.blocked,
		       G.gave_up ? " gave_up_at " : "");
	if (G.gave_up)
		printf("%llu", (unsigned long long)G.frames);
	for (e = 0; e < 160; e++) {
		if (!G.xmit_err[e])
			continue;
		if (errname(e))
			printf(" xmit_%s %llu", errname(e),
			       (unsigned long long)G.xmit_err[e]);
		else
			printf(" xmit_errno%d %llu", e,
			       (unsigned long long)G.xmit_err[e]);
	}
	for (e = 0; e < 160; e++) {
		if (!G.err[e])
			continue;
		if (errname(e))
			printf(" %s %llu", errname(e),
			       (unsigned long long)G.err[e]);
		else
			printf(" errno%d %llu", e, (unsigned long long)G.err[e]);
	}
	printf("\n");
	return 0;
}
