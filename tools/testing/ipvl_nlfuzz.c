// SPDX-License-Identifier: GPL-2.0
/*
 * ipvl_nlfuzz: rtnetlink fuzzer for the link kinds "ipvlan" and "ipvtap".
 *
 *   ipvl_nlfuzz --kind ipvlan|ipvtap --master IFNAME --victim IFNAME
 *               [--seed N] [--count N] [--start I] [--baseline N]
 *               [--batch N] [--allmulti-leak-ok] [--keep-going] [-v]
 *   ipvl_nlfuzz --replay HEX        send one raw request, print the answer
 *
 * Sends --count RTM_NEWLINK/RTM_SETLINK requests over a raw NETLINK_ROUTE
 * socket in the current network namespace: first --baseline valid ones
 * (new slaves of --master, changelinks of --victim), then random mutations
 * of them: IFLA_LINKINFO/IFLA_INFO_KIND/IFLA_INFO_DATA with
 * IFLA_IPVLAN_MODE, IFLA_IPVLAN_FLAGS and the extension attributes of
 * include/uapi/ipvlan_ext.h of wrong sizes and out-of-range values,
 * unknown attribute types, garbage bytes, lying and truncated nla_len,
 * missing or odd IFLA_LINK, bad IFLA_IFNAME, IFLA_MTU extremes,
 * IFLA_ADDRESS of the wrong length, NLM_F_CREATE/EXCL/REPLACE mixes,
 * changelinks of the victim and short ifinfomsg headers.
 *
 * Request I is generated from (seed, I) only, so "--seed S --start I
 * --count 1 -v" sends it again; every violation prints the request in hex
 * for --replay.
 *
 * Every request carries NLM_F_ACK and must be answered within 2 s. After
 * each one the victim is read back (RTM_GETLINK: name, flags, MTU, MAC,
 * broadcast address, txqueuelen, IFLA_LINK, kind, mode, flags and the
 * extension settings) and the
 * namespace's links are listed:
 *  - a refused request must not change the victim, unless it asked for
 *    several changes at once on the victim (rtnetlink applies a kind's
 *    changelink before the generic attributes, and those one by one: such
 *    partial changes are counted apart, "nonatomic_refusal_changes");
 *  - a refused request must not leave a new link behind;
 *  - an accepted request may change the victim (mode and flags are per
 *    master, so even a new slave does): the victim is then set back to
 *    its first state, which must work;
 *  - links created by accepted requests are deleted (in batches of up to
 *    --batch, default 16, through a device group: one RCU grace period
 *    per batch);
 *  - whenever none of them is left, the master must be as it was (flags,
 *    MTU, promiscuity and allmulti counts): a count a slave took and did
 *    not give back is a leak ("master_changed"). --allmulti-leak-ok
 *    counts apart ("allmulti_leaked"), without failing, only a master
 *    whose allmulti count went up (and IFF_ALLMULTI with it) and nothing
 *    else: the in-tree driver's documented leak. With --batch 1 the
 *    request printed with it is the one that leaked.
 *
 * The last line is
 *   requests N answered N refused N accepted N victim_changed_by_refusal N
 *   no_answer N stray_by_refusal N restore_failed N ...
 * Exit: 0 no violation, 1 a violation (details on stderr), 2 usage or
 * local error.
 *
 * Requests never move links to other namespaces, enslave them, touch
 * device groups or address the master directly: the topology of the test
 * must survive the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "uapi/ipvlan_ext.h"
#include "nl.h"

#define MSG_MAX			4096
#define RX_BUF			65536
#define ANSWER_TIMEOUT_MS	2000
#define FZ_MAX_LINKS		512
#define PENDING_MAX		16
#define CLEANUP_GROUP		0x7a7a0f01u	/* "fz" devices awaiting deletion */
#define NOWHERE_IFINDEX		0x7ffffff0	/* an ifindex nobody has */
#define CREATE_IFINDEX		0x7fff0000	/* asked of new links: 256 */
#define UNKNOWN_TOP_BASE	100		/* IFLA_* types no kernel knows */

/* ifi_flags bits the victim's snapshot compares (the volatile ones not). */
#define SNAP_FLAGS (IFF_UP | IFF_DEBUG | IFF_NOTRAILERS | IFF_NOARP | \
		    IFF_DYNAMIC | IFF_MULTICAST | IFF_PORTSEL | \
		    IFF_AUTOMEDIA | IFF_PROMISC | IFF_ALLMULTI)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ PRNG */

static uint64_t rng_state;

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void rng_seed(uint64_t seed, uint64_t idx)
{
	rng_state = splitmix64(splitmix64(seed) ^ (idx * 0xd6e8feb86659fd93ULL));
	if (!rng_state)
		rng_state = 1;
}

static uint64_t rnd64(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd(uint32_t n)		/* 0 .. n-1 */
{
	return n ? (uint32_t)((rnd64() >> 32) % n) : 0;
}

static bool chance(uint32_t percent)
{
	return rnd(100) < percent;
}

/* ------------------------------------------------------- messages */

struct msg {
	unsigned char buf[MSG_MAX];
	size_t len;
};

static struct nlmsghdr *msg_hdr(struct msg *m)
{
	return (struct nlmsghdr *)m->buf;
}

/* Raw bytes, no alignment: garbage may leave the stream unaligned. */
static void put_raw(struct msg *m, const void *data, size_t len)
{
	if (m->len + len > MSG_MAX - 64)
		return;
	memcpy(m->buf + m->len, data, len);
	m->len += len;
}

static void put_rnd_bytes(struct msg *m, size_t len)
{
	unsigned char b[256];
	size_t i;

	if (len > sizeof(b))
		len = sizeof(b);
	for (i = 0; i < len; i++)
		b[i] = rnd64() >> 56;
	put_raw(m, b, len);
}

static void put_align(struct msg *m)
{
	static const unsigned char zero[NLA_ALIGNTO];
	size_t pad = NLA_ALIGN(m->len) - m->len;

	put_raw(m, zero, pad);
}

/* An attribute whose header says nla_len = @hdr_len (honest: 4 + len). */
static void put_attr_lie(struct msg *m, uint16_t type, const void *data,
			 size_t len, uint16_t hdr_len)
{
	struct nlattr nla = { .nla_len = hdr_len, .nla_type = type };

	put_align(m);
	put_raw(m, &nla, sizeof(nla));
	if (len)
		put_raw(m, data, len);
	put_align(m);
}

static void put_attr(struct msg *m, uint16_t type, const void *data,
		     size_t len)
{
	put_attr_lie(m, type, data, len, NLA_HDRLEN + len);
}

static void put_u16(struct msg *m, uint16_t type, uint16_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_u32(struct msg *m, uint16_t type, uint32_t v)
{
	put_attr(m, type, &v, sizeof(v));
}

static void put_str(struct msg *m, uint16_t type, const char *s)
{
	put_attr(m, type, s, strlen(s) + 1);
}

static size_t nest_start(struct msg *m, uint16_t type)
{
	size_t off;

	put_align(m);
	off = m->len;
	put_attr(m, type, NULL, 0);
	return off;
}

static void nest_end(struct msg *m, size_t off)
{
	struct nlattr *nla = (struct nlattr *)(m->buf + off);

	put_align(m);
	nla->nla_len = m->len - off;
}

static struct ifinfomsg *msg_init(struct msg *m, uint16_t type,
				  uint16_t flags)
{
	struct nlmsghdr *nh = msg_hdr(m);

	memset(m->buf, 0, NLMSG_SPACE(sizeof(struct ifinfomsg)));
	m->len = NLMSG_SPACE(sizeof(struct ifinfomsg));
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	return NLMSG_DATA(nh);
}

static void msg_finish(struct msg *m, uint32_t seq)
{
	struct nlmsghdr *nh = msg_hdr(m);

	nh->nlmsg_len = m->len;
	nh->nlmsg_seq = seq;
	nh->nlmsg_pid = 0;
}

static void print_hex(FILE *f, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
	fputc('\n', f);
}

/* --------------------------------------------------------- netlink */

static int nl_fd = -1;
static uint32_t nl_seq = 1;
static union {
	unsigned char b[RX_BUF];
	uint64_t align;
} rx;

struct answer {
	bool got;		/* an NLMSG_ERROR with our sequence number */
	int err;		/* 0 (ACK) or a positive errno */
	char extack[256];
};

static int nl_open(void)
{
	nl_fd = rtnl_open(1, 1 << 20);
	return nl_fd < 0 ? nl_fd : 0;
}

static int nl_send(const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(nl_fd, buf, len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Read one datagram within the deadline; returns its length, 0 on timeout. */
static ssize_t nl_recv(long deadline)
{
	struct pollfd pfd = { .fd = nl_fd, .events = POLLIN };
	ssize_t n;
	long left;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		n = recv(nl_fd, rx.b, sizeof(rx.b), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		return n;
	}
}

/*
 * Wait for the NLMSG_ERROR answering @seq. Other messages (NLM_F_ECHO
 * copies, stale answers) are skipped; @cb, if set, sees the messages of
 * type @cb_type with our sequence number (GETLINK answers, dump parts).
 * A dump ends with NLMSG_DONE (reported as an ACK).
 */
static int nl_wait(uint32_t seq, struct answer *a, uint16_t cb_type,
		   void (*cb)(struct nlmsghdr *nh, void *arg), void *arg,
		   bool want_data_only)
{
	long deadline = now_ms() + ANSWER_TIMEOUT_MS;
	struct nlmsghdr *nh;
	ssize_t n;

	memset(a, 0, sizeof(*a));
	for (;;) {
		n = nl_recv(deadline);
		if (n < 0)
			return n;
		if (n == 0)
			return 0;	/* no answer */
		for (nh = (struct nlmsghdr *)rx.b; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nl_err ne;

				nl_parse_err(nh, &ne);
				a->got = true;
				a->err = ne.error;
				snprintf(a->extack, sizeof(a->extack), "%s",
					 ne.msg);
				return 0;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				a->got = true;
				return 0;
			}
			if (cb && nh->nlmsg_type == cb_type) {
				cb(nh, arg);
				if (want_data_only) {
					a->got = true;
					return 0;
				}
			}
		}
	}
}

/* ---------------------------------------------------------- links */

struct snap {
	bool exists;
	char ifname[IFNAMSIZ + 8];
	unsigned int flags;
	uint32_t mtu;
	uint32_t link;
	uint32_t txqlen;
	unsigned char addr[32], brd[32];
	int addr_len, brd_len;
	char kind[32];
	int mode, pflags;		/* -1: not reported */
	int learn;
	int64_t learn_max, learn_timeout;
	int64_t promiscuity, allmulti;	/* counts; -1: not reported */
};

static const char *attr_str(struct nlattr *nla, char *buf, size_t sz)
{
	size_t l = nla->nla_len - NLA_HDRLEN;

	if (l >= sz)
		l = sz - 1;
	memcpy(buf, (char *)nla + NLA_HDRLEN, l);
	buf[l] = 0;
	return buf;
}

/* @a lies within [.., @end) with a sane length. */
static bool nla_inside(const struct nlattr *a, const char *end)
{
	const char *p = (const char *)a;

	return p + NLA_HDRLEN <= end && a->nla_len >= NLA_HDRLEN &&
	       p + a->nla_len <= end;
}

static struct nlattr *nla_after(const struct nlattr *a)
{
	return (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
}

static uint32_t nla_u32(struct nlattr *nla)
{
	uint32_t v = 0;

	if (nla->nla_len >= NLA_HDRLEN + 4)
		memcpy(&v, (char *)nla + NLA_HDRLEN, 4);
	return v;
}

static uint16_t nla_u16(struct nlattr *nla)
{
	uint16_t v = 0;

	if (nla->nla_len >= NLA_HDRLEN + 2)
		memcpy(&v, (char *)nla + NLA_HDRLEN, 2);
	return v;
}

static void snap_parse_data(struct snap *s, struct nlattr *data)
{
	const char *end = (char *)data + data->nla_len;
	struct nlattr *a;

	for (a = (struct nlattr *)((char *)data + NLA_HDRLEN);
	     nla_inside(a, end); a = nla_after(a)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case IFLA_IPVLAN_MODE:
			s->mode = nla_u16(a);
			break;
		case IFLA_IPVLAN_FLAGS:
			s->pflags = nla_u16(a);
			break;
		case IFLA_IPVLAN_X_LEARN:
			if (a->nla_len > NLA_HDRLEN)
				s->learn = *((unsigned char *)a + NLA_HDRLEN);
			break;
		case IFLA_IPVLAN_X_LEARN_MAX:
			s->learn_max = nla_u32(a);
			break;
		case IFLA_IPVLAN_X_LEARN_TIMEOUT:
			s->learn_timeout = nla_u32(a);
			break;
		}
	}
}

static void snap_parse(struct nlmsghdr *nh, void *arg)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const char *end, *bend;
	struct snap *s = arg;
	struct nlattr *a, *b;

	memset(s, 0, sizeof(*s));
	s->mode = -1;
	s->pflags = -1;
	s->learn = -1;
	s->learn_max = -1;
	s->learn_timeout = -1;
	s->promiscuity = -1;
	s->allmulti = -1;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	s->exists = true;
	s->flags = ifi->ifi_flags & SNAP_FLAGS;
	end = (char *)nh + nh->nlmsg_len;
	for (a = (struct nlattr *)((char *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
	     nla_inside(a, end); a = nla_after(a)) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case IFLA_IFNAME:
			attr_str(a, s->ifname, sizeof(s->ifname));
			break;
		case IFLA_MTU:
			s->mtu = nla_u32(a);
			break;
		case IFLA_LINK:
			s->link = nla_u32(a);
			break;
		case IFLA_TXQLEN:
			s->txqlen = nla_u32(a);
			break;
		case IFLA_PROMISCUITY:
			s->promiscuity = nla_u32(a);
			break;
		case IFLA_ALLMULTI:
			s->allmulti = nla_u32(a);
			break;
		case IFLA_ADDRESS:
			s->addr_len = a->nla_len - NLA_HDRLEN;
			if (s->addr_len > (int)sizeof(s->addr))
				s->addr_len = sizeof(s->addr);
			memcpy(s->addr, (char *)a + NLA_HDRLEN, s->addr_len);
			break;
		case IFLA_BROADCAST:
			s->brd_len = a->nla_len - NLA_HDRLEN;
			if (s->brd_len > (int)sizeof(s->brd))
				s->brd_len = sizeof(s->brd);
			memcpy(s->brd, (char *)a + NLA_HDRLEN, s->brd_len);
			break;
		case IFLA_LINKINFO:
			bend = (char *)a + a->nla_len;
			for (b = (struct nlattr *)((char *)a + NLA_HDRLEN);
			     nla_inside(b, bend); b = nla_after(b)) {
				if ((b->nla_type & NLA_TYPE_MASK) == IFLA_INFO_KIND)
					attr_str(b, s->kind, sizeof(s->kind));
				else if ((b->nla_type & NLA_TYPE_MASK) ==
					 IFLA_INFO_DATA)
					snap_parse_data(s, b);
			}
			break;
		}
	}
}

static int get_link(int ifindex, struct snap *s)
{
	struct answer a;
	struct ifinfomsg *ifi;
	struct msg m;
	int err;

	memset(s, 0, sizeof(*s));
	ifi = msg_init(&m, RTM_GETLINK, 0);
	ifi->ifi_index = ifindex;
	put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	msg_finish(&m, ++nl_seq);
	err = nl_send(m.buf, m.len);
	if (err)
		return err;
	err = nl_wait(nl_seq, &a, RTM_NEWLINK, snap_parse, s, true);
	if (err)
		return err;
	if (!a.got)
		return -ETIMEDOUT;
	return s->exists ? 0 : -a.err;
}

/* A difference between two snapshots, as text ("" when equal). */
static void snap_diff(const struct snap *a, const struct snap *b, char *out,
		      size_t sz)
{
	size_t n = 0;

#define DIFF(fmt, ...) \
	(n += snprintf(out + n, n < sz ? sz - n : 0, fmt, __VA_ARGS__))
	out[0] = 0;
	if (a->exists != b->exists) {
		DIFF("exists %d->%d ", a->exists, b->exists);
		return;
	}
	if (strcmp(a->ifname, b->ifname))
		DIFF("name %s->%s ", a->ifname, b->ifname);
	if (a->flags != b->flags)
		DIFF("flags %#x->%#x ", a->flags, b->flags);
	if (a->mtu != b->mtu)
		DIFF("mtu %u->%u ", a->mtu, b->mtu);
	if (a->link != b->link)
		DIFF("link %u->%u ", a->link, b->link);
	if (a->addr_len != b->addr_len ||
	    memcmp(a->addr, b->addr, a->addr_len))
		DIFF("%s", "address changed ");
	if (a->brd_len != b->brd_len || memcmp(a->brd, b->brd, a->brd_len))
		DIFF("%s", "broadcast address changed ");
	if (a->txqlen != b->txqlen)
		DIFF("txqlen %u->%u ", a->txqlen, b->txqlen);
	if (a->promiscuity != b->promiscuity)
		DIFF("promiscuity %lld->%lld ", (long long)a->promiscuity,
		     (long long)b->promiscuity);
	if (a->allmulti != b->allmulti)
		DIFF("allmulti %lld->%lld ", (long long)a->allmulti,
		     (long long)b->allmulti);
	if (strcmp(a->kind, b->kind))
		DIFF("kind %s->%s ", a->kind, b->kind);
	if (a->mode != b->mode)
		DIFF("mode %d->%d ", a->mode, b->mode);
	if (a->pflags != b->pflags)
		DIFF("ipvlan_flags %d->%d ", a->pflags, b->pflags);
	if (a->learn != b->learn)
		DIFF("learn %d->%d ", a->learn, b->learn);
	if (a->learn_max != b->learn_max)
		DIFF("learn_max %lld->%lld ", (long long)a->learn_max,
		     (long long)b->learn_max);
	if (a->learn_timeout != b->learn_timeout)
		DIFF("learn_timeout %lld->%lld ", (long long)a->learn_timeout,
		     (long long)b->learn_timeout);
#undef DIFF
}

/*
 * @now differs from @base only by a higher allmulti count and the
 * IFF_ALLMULTI flag that comes with it.
 */
static bool allmulti_leak_only(const struct snap *base, const struct snap *now)
{
	struct snap t = *now;
	char d[512];

	if (base->allmulti < 0 || now->allmulti <= base->allmulti)
		return false;
	t.allmulti = base->allmulti;
	t.flags = (t.flags & ~IFF_ALLMULTI) | (base->flags & IFF_ALLMULTI);
	snap_diff(base, &t, d, sizeof(d));
	return !d[0];
}

struct linklist {
	int n;
	int ifindex[FZ_MAX_LINKS];
	char name[FZ_MAX_LINKS][IFNAMSIZ];
};

static void list_cb(struct nlmsghdr *nh, void *arg)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct linklist *l = arg;
	struct nlattr *a;
	const char *end;

	if (l->n >= FZ_MAX_LINKS || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	l->ifindex[l->n] = ifi->ifi_index;
	l->name[l->n][0] = 0;
	end = (char *)nh + nh->nlmsg_len;
	for (a = (struct nlattr *)((char *)ifi + NLMSG_ALIGN(sizeof(*ifi)));
	     nla_inside(a, end); a = nla_after(a))
		if ((a->nla_type & NLA_TYPE_MASK) == IFLA_IFNAME)
			attr_str(a, l->name[l->n], IFNAMSIZ);
	l->n++;
}

static int list_links(struct linklist *l)
{
	long deadline = now_ms() + ANSWER_TIMEOUT_MS;
	struct nlmsghdr *nh;
	struct ifinfomsg *ifi;
	struct msg m;
	ssize_t n;
	int err;

	l->n = 0;
	ifi = msg_init(&m, RTM_GETLINK, NLM_F_DUMP);
	ifi->ifi_family = AF_UNSPEC;
	put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	msg_finish(&m, ++nl_seq);
	err = nl_send(m.buf, m.len);
	if (err)
		return err;
	for (;;) {
		n = nl_recv(deadline);
		if (n <= 0)
			return n ? n : -ETIMEDOUT;
		for (nh = (struct nlmsghdr *)rx.b; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != nl_seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			if (nh->nlmsg_type == RTM_NEWLINK)
				list_cb(nh, l);
		}
	}
}

static bool list_has(const struct linklist *l, int ifindex)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->ifindex[i] == ifindex)
			return true;
	return false;
}

/* One request built by hand (cleanup, restore): send it, wait for the ACK. */
static int transact(struct msg *m)
{
	struct answer a;
	int err;

	msg_finish(m, ++nl_seq);
	err = nl_send(m->buf, m->len);
	if (err)
		return err;
	err = nl_wait(nl_seq, &a, 0, NULL, NULL, false);
	if (err)
		return err;
	if (!a.got)
		return -ETIMEDOUT;
	return -a.err;
}

static int del_link(int ifindex)
{
	struct ifinfomsg *ifi;
	struct msg m;

	ifi = msg_init(&m, RTM_DELLINK, NLM_F_ACK);
	ifi->ifi_index = ifindex;
	return transact(&m);
}

/* ----------------------------------------------------- the fuzzer */

struct fuzz {
	const char *kind;
	const char *other_kind;
	char victim_name[IFNAMSIZ];
	int master, victim, lo;
	uint64_t seed;
	unsigned long idx;
	bool verbose;
};

enum target { T_NONE, T_NEW, T_VICTIM, T_MISSING };

/* What the generator knows about the request it built. */
struct gen {
	const char *what;	/* scenario */
	enum target target;	/* which link the kernel will work on */
	int ops;		/* separate changes asked of an existing link */
	bool unknown_ops;	/* random stream: cannot tell */
	bool create;
};

static const char *const scenario_names[] = {
	"baseline-new", "baseline-change", "new", "victim-data",
	"victim-generic", "victim-mixed", "setlink", "raw",
};

enum scenario {
	S_BASE_NEW, S_BASE_CHANGE, S_NEW, S_VICTIM_DATA, S_VICTIM_GENERIC,
	S_VICTIM_MIXED, S_SETLINK, S_RAW, S_NR
};

/* ---- values */

static uint32_t mode_value(void)
{
	static const uint32_t v[] = { 0, 1, 2, 0, 1, 2, 3, 4, 7, 0x100,
				      0x7fff, 0xffff };

	return chance(10) ? (uint32_t)rnd64() : v[rnd(ARRAY_SIZE(v))];
}

static uint32_t pflags_value(void)
{
	static const uint32_t v[] = { 0, 1, 2, 0, 1, 2, 3, 4, 5, 6, 8, 0x10,
				      0x8000, 0xffff, 0x8001 };

	return chance(10) ? (uint32_t)rnd64() : v[rnd(ARRAY_SIZE(v))];
}

static uint32_t ext_value(int type)
{
	static const uint32_t learn[] = { 0, 1, 0, 1, 2, 0x7f, 0x80, 0xff };
	static const uint32_t lmax[] = { 1, 2, 32, 4095, 4096, 0, 4097, 65536,
					 0x7fffffff, 0xffffffff };
	static const uint32_t lto[] = { 1, 60, 300, 86400, 0, 86401,
					0x80000000, 0xffffffff };

	if (chance(10))
		return (uint32_t)rnd64();
	switch (type) {
	case IFLA_IPVLAN_X_LEARN:
		return learn[rnd(ARRAY_SIZE(learn))];
	case IFLA_IPVLAN_X_LEARN_MAX:
		return lmax[rnd(ARRAY_SIZE(lmax))];
	case IFLA_IPVLAN_X_LEARN_TIMEOUT:
		return lto[rnd(ARRAY_SIZE(lto))];
	default:
		return (uint32_t)rnd64();
	}
}

/* Payload size: mostly the right one, else a wrong one. */
static size_t attr_size(size_t right)
{
	static const size_t wrong[] = { 0, 1, 2, 3, 4, 8, 16, 5, 7 };

	return chance(75) ? right : wrong[rnd(ARRAY_SIZE(wrong))];
}

/* A scalar attribute of @size bytes holding @v (little end first). */
static void put_scalar(struct msg *m, uint16_t type, uint64_t v, size_t size)
{
	unsigned char b[16] = { 0 };

	if (size > sizeof(b))
		size = sizeof(b);
	memcpy(b, &v, size < sizeof(v) ? size : sizeof(v));
	put_attr(m, type, b, size);
}

/* Attribute-type bits nla_type() strips, sometimes set. */
static uint16_t type_bits(uint16_t type)
{
	if (chance(4))
		type |= NLA_F_NESTED;
	if (chance(3))
		type |= NLA_F_NET_BYTEORDER;
	return type;
}

/* ---- IFLA_INFO_DATA */

/* A stream of attributes whose headers lie (truncated, too short). */
static void put_lying_attr(struct msg *m, uint16_t type)
{
	unsigned char b[8];
	uint16_t len;

	memset(b, 0xa5, sizeof(b));
	switch (rnd(4)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = 1 + rnd(3);		/* shorter than a header */
		break;
	case 2:
		len = NLA_HDRLEN + 64 + rnd(1024);	/* past the end */
		break;
	default:
		len = 0xffff;
		break;
	}
	put_attr_lie(m, type, b, rnd(9), len);
}

static void put_data_attr(struct msg *m, bool valid)
{
	static const uint16_t unknown[] = { 0, 3, 4, 10, 20, 39, 47, 48, 49,
					    50, 51, 63, 100, 255, 0x3fff };
	uint16_t t;
	size_t sz;

	if (valid) {
		switch (rnd(5)) {
		case 0:
			put_u16(m, IFLA_IPVLAN_MODE, rnd(3));
			break;
		case 1:
			put_u16(m, IFLA_IPVLAN_FLAGS, rnd(3));
			break;
		case 2:
			put_scalar(m, IFLA_IPVLAN_X_LEARN, rnd(2), 1);
			break;
		case 3:
			put_u32(m, IFLA_IPVLAN_X_LEARN_MAX, 1 + rnd(4096));
			break;
		default:
			put_u32(m, IFLA_IPVLAN_X_LEARN_TIMEOUT, 1 + rnd(86400));
			break;
		}
		return;
	}

	switch (rnd(16)) {
	case 0: case 1: case 2:
		put_scalar(m, type_bits(IFLA_IPVLAN_MODE), mode_value(),
			   attr_size(2));
		break;
	case 3: case 4: case 5:
		put_scalar(m, type_bits(IFLA_IPVLAN_FLAGS), pflags_value(),
			   attr_size(2));
		break;
	case 6: case 7: case 8:
		t = IFLA_IPVLAN_X_LEARN + rnd(3);
		sz = t == IFLA_IPVLAN_X_LEARN ? 1 : 4;
		put_scalar(m, type_bits(t), ext_value(t), attr_size(sz));
		break;
	case 9:		/* flag: right with no payload */
		put_scalar(m, type_bits(IFLA_IPVLAN_X_LEARN_FLUSH), rnd64(),
			   attr_size(0));
		break;
	case 10:	/* report-only attributes */
		if (chance(50)) {
			put_scalar(m, type_bits(IFLA_IPVLAN_X_LEARN_COUNT),
				   rnd64(), attr_size(4));
		} else {
			size_t n = nest_start(m, IFLA_IPVLAN_X_STATS |
						 (chance(50) ? NLA_F_NESTED : 0));

			if (chance(50))
				put_scalar(m, 1 + rnd(7), rnd64(), attr_size(8));
			else
				put_rnd_bytes(m, rnd(24));
			nest_end(m, n);
		}
		break;
	case 11: case 12:	/* unknown types */
		put_scalar(m, type_bits(unknown[rnd(ARRAY_SIZE(unknown))]), rnd64(),
			   attr_size(rnd(2) ? 4 : 2));
		break;
	case 13:	/* garbage bytes */
		put_rnd_bytes(m, 1 + rnd(40));
		break;
	case 14:	/* nested garbage inside a data attribute */
		{
			size_t n = nest_start(m, type_bits(1 + rnd(45)));

			put_rnd_bytes(m, rnd(32));
			nest_end(m, n);
		}
		break;
	default:
		put_lying_attr(m, type_bits(unknown[rnd(ARRAY_SIZE(unknown))] % 2 ?
				IFLA_IPVLAN_MODE : IFLA_IPVLAN_X_LEARN_MAX));
		break;
	}
}

/* IFLA_INFO_DATA (and what surrounds it inside IFLA_LINKINFO). */
static void put_info_data(struct msg *m, bool valid)
{
	size_t n;
	int i, cnt;

	if (!valid && chance(8)) {	/* not a nest at all */
		put_scalar(m, IFLA_INFO_DATA, rnd64(), attr_size(4));
		return;
	}
	if (!valid && chance(5)) {
		put_lying_attr(m, IFLA_INFO_DATA);
		return;
	}
	n = nest_start(m, IFLA_INFO_DATA | (chance(50) ? NLA_F_NESTED : 0));
	cnt = valid ? 1 + rnd(3) : rnd(6);
	for (i = 0; i < cnt; i++)
		put_data_attr(m, valid);
	nest_end(m, n);
	if (!valid && chance(5)) {	/* the nest claims more than it has */
		struct nlattr *nla = (struct nlattr *)(m->buf + n);

		nla->nla_len += 4 + rnd(64);
	}
}

/*
 * The kind string; *known tells whether a kernel has it (an unknown kind
 * on create makes the kernel try to load a module: kept rare, it is slow).
 */
static void put_kind(struct msg *m, struct fuzz *f, bool valid, bool *known)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
	char s[40];
	int i, n;

	*known = true;
	if (valid || chance(80)) {
		put_str(m, IFLA_INFO_KIND, f->kind);
		return;
	}
	switch (rnd(8)) {
	case 0:
		put_str(m, IFLA_INFO_KIND, f->other_kind);
		break;
	case 1:		/* no NUL terminator */
		put_attr(m, IFLA_INFO_KIND, f->kind, strlen(f->kind));
		break;
	case 2:		/* garbage after the NUL */
		snprintf(s, sizeof(s), "%s%cxyz", f->kind, 0);
		put_attr(m, IFLA_INFO_KIND, s, strlen(f->kind) + 5);
		break;
	case 3:
		put_attr(m, IFLA_INFO_KIND, "", rnd(2));
		break;
	case 4:		/* longer than any kind (MODULE_NAME_LEN) */
		memset(s, 'k', sizeof(s) - 1);
		s[sizeof(s) - 1] = 0;
		put_attr(m, IFLA_INFO_KIND, s, sizeof(s));
		break;
	case 5:
		*known = false;
		snprintf(s, sizeof(s), "%.*s", (int)strlen(f->kind) - 1,
			 f->kind);
		put_str(m, IFLA_INFO_KIND, s);
		break;
	case 6:
		*known = false;
		n = 3 + rnd(8);
		memcpy(s, "fzk", 3);
		for (i = 3; i < n; i++)
			s[i] = letters[rnd(26)];
		s[n] = 0;
		put_str(m, IFLA_INFO_KIND, s);
		break;
	default:
		put_lying_attr(m, IFLA_INFO_KIND);
		break;
	}
}

/*
 * IFLA_LINKINFO. @valid: kind + sane data; @strict: nothing but kinds
 * and IFLA_INFO_DATA (no slave attributes, no garbage at its level).
 * Returns the number of changes of an existing link it asks for (data,
 * slave data); *known as for put_kind().
 */
static int put_linkinfo(struct msg *m, struct fuzz *f, bool valid,
			bool strict, bool *known)
{
	int ops = 0;
	size_t n;

	*known = true;
	if (!valid && !strict && chance(3)) {	/* garbage, not a nest */
		n = nest_start(m, IFLA_LINKINFO);
		put_rnd_bytes(m, rnd(48));
		nest_end(m, n);
		*known = false;
		return 1;
	}
	n = nest_start(m, IFLA_LINKINFO | (chance(50) ? NLA_F_NESTED : 0));
	if (valid) {
		put_kind(m, f, true, known);
		if (chance(90)) {
			put_info_data(m, true);
			ops++;
		}
		nest_end(m, n);
		return ops;
	}
	if (chance(30))		/* data before kind */
		goto data_first;
kind:
	if (chance(92))
		put_kind(m, f, false, known);
	if (chance(15) && !strict)
		put_kind(m, f, false, known);	/* a second kind */
data_first:
	if (chance(85)) {
		put_info_data(m, false);
		ops = 1;
	}
	if (!strict && chance(8)) {	/* slave side: no master here */
		put_str(m, IFLA_INFO_SLAVE_KIND, chance(50) ? "bridge" : f->kind);
		if (chance(70)) {
			size_t s = nest_start(m, IFLA_INFO_SLAVE_DATA);

			put_rnd_bytes(m, rnd(16));
			nest_end(m, s);
		}
		ops++;
	}
	if (ops == 0 && chance(10))
		goto kind;	/* no data yet: another round */
	if (chance(5))
		put_scalar(m, type_bits(IFLA_INFO_XSTATS + 4 + rnd(100)),
			   rnd64(), attr_size(4));
	if (chance(4))
		put_rnd_bytes(m, 1 + rnd(12));	/* trailing garbage */
	nest_end(m, n);
	return ops;
}

/* ---- generic attributes */

static uint32_t mtu_value(void)
{
	static const uint32_t v[] = { 0, 1, 67, 68, 576, 1280, 1499, 1500,
				      1501, 9000, 65535, 65536, 0x7fffffff,
				      0x80000000, 0xffffffff };

	return chance(10) ? (uint32_t)rnd64() : v[rnd(ARRAY_SIZE(v))];
}

static void put_mtu(struct msg *m)
{
	put_scalar(m, type_bits(IFLA_MTU), mtu_value(), attr_size(4));
}

static void put_address(struct msg *m)
{
	static const size_t lens[] = { 0, 1, 5, 6, 6, 7, 8, 16, 32 };
	unsigned char a[32];
	size_t l = lens[rnd(ARRAY_SIZE(lens))], i;

	for (i = 0; i < l; i++)
		a[i] = rnd64() >> 56;
	if (l)
		a[0] &= 0xfe;	/* unicast, mostly */
	put_attr(m, IFLA_ADDRESS, a, l);
}

static void put_link(struct msg *m, struct fuzz *f)
{
	uint32_t v;

	switch (rnd(8)) {
	case 0: case 1: case 2:
		v = f->master;
		break;
	case 3:
		v = f->lo;
		break;
	case 4:
		v = f->victim;		/* a slave: lands on its master */
		break;
	case 5:
		v = NOWHERE_IFINDEX;
		break;
	case 6:
		v = 0;
		break;
	default:
		v = (uint32_t)rnd64();
		break;
	}
	put_scalar(m, type_bits(IFLA_LINK), v, attr_size(4));
}

/* IFLA_IFNAME of a new link; *target set to what the kernel looks up. */
static void put_new_name(struct msg *m, struct fuzz *f, enum target *target)
{
	char s[40];

	*target = T_NEW;
	switch (rnd(16)) {
	case 0:
		return;		/* none: the kernel names it */
	case 1:
		put_str(m, IFLA_IFNAME, "fz%d");
		return;
	case 2:		/* too long */
		snprintf(s, sizeof(s), "fz%lu-0123456789abcdef", f->idx);
		put_str(m, IFLA_IFNAME, s);
		return;
	case 3: {	/* 15 characters: the longest valid */
		snprintf(s, sizeof(s), "fz%013lu", f->idx);
		put_str(m, IFLA_IFNAME, s);
		return;
	}
	case 4: {	/* invalid characters */
		static const char *const bad[] = { "fz/%lu", "fz:%lu",
						   "fz %lu", "fz\t%lu" };

		snprintf(s, sizeof(s), bad[rnd(ARRAY_SIZE(bad))], f->idx);
		put_str(m, IFLA_IFNAME, s);
		return;
	}
	case 5:
		put_str(m, IFLA_IFNAME, chance(50) ? "." : "..");
		return;
	case 6:
		put_str(m, IFLA_IFNAME, "");
		return;
	case 7:		/* no NUL terminator */
		snprintf(s, sizeof(s), "fz%lu", f->idx);
		put_attr(m, IFLA_IFNAME, s, strlen(s));
		return;
	case 8:		/* the victim's: changes it without NLM_F_EXCL */
		put_str(m, IFLA_IFNAME, f->victim_name);
		*target = T_VICTIM;
		return;
	default:
		snprintf(s, sizeof(s), "fz%lu", f->idx);
		put_str(m, IFLA_IFNAME, s);
		return;
	}
}

/* Names the victim's request may carry: none of them renames it. */
static void put_victim_name(struct msg *m, struct fuzz *f)
{
	char s[40];

	switch (rnd(4)) {
	case 0:
		put_str(m, IFLA_IFNAME, f->victim_name);
		break;
	case 1:
		snprintf(s, sizeof(s), "%s-0123456789abcdef", f->victim_name);
		put_str(m, IFLA_IFNAME, s);
		break;
	case 2:
		put_str(m, IFLA_IFNAME, "fz/bad");
		break;
	default:
		put_str(m, IFLA_IFNAME, "");
		break;
	}
}

/* One generic change of an existing link (counts as one op). */
static void put_generic_change(struct msg *m, struct fuzz *f,
			       struct ifinfomsg *ifi)
{
	static const unsigned int chg[] = { IFF_UP, IFF_NOARP, IFF_PROMISC,
					    IFF_ALLMULTI, IFF_UP | IFF_NOARP,
					    IFF_MULTICAST, 0xffffffff };

	switch (rnd(8)) {
	case 0: case 1:
		put_mtu(m);
		break;
	case 2:
		put_address(m);
		break;
	case 3:
		put_victim_name(m, f);
		break;
	case 4:
		put_scalar(m, type_bits(IFLA_TXQLEN), chance(50) ? 0 :
			   (uint32_t)rnd64(), attr_size(4));
		break;
	case 5:
		ifi->ifi_change = chg[rnd(ARRAY_SIZE(chg))];
		ifi->ifi_flags = rnd(2) ? ifi->ifi_change : (uint32_t)rnd64();
		break;
	case 6:
		put_scalar(m, type_bits(IFLA_BROADCAST), rnd64(),
			   attr_size(6));
		break;
	default:
		put_scalar(m, type_bits(IFLA_CARRIER), rnd(3), attr_size(1));
		break;
	}
}

/* Attributes no link change comes from (unknown to rtnetlink, ignored). */
static void put_inert(struct msg *m, struct fuzz *f)
{
	switch (rnd(4)) {
	case 0:
		put_scalar(m, UNKNOWN_TOP_BASE + rnd(0x3fff - UNKNOWN_TOP_BASE),
			   rnd64(), attr_size(4));
		break;
	case 1:
		put_link(m, f);		/* IFLA_LINK: used on create only */
		break;
	case 2:
		put_rnd_bytes(m, 1 + rnd(3));	/* trailing: parse stops */
		break;
	default:
		put_lying_attr(m, UNKNOWN_TOP_BASE + rnd(100));
		break;
	}
}

static uint16_t nl_flags(bool create)
{
	uint16_t fl = NLM_F_ACK;

	if (create && chance(90))
		fl |= NLM_F_CREATE;
	else if (!create && chance(10))
		fl |= NLM_F_CREATE;
	if (chance(create ? 25 : 8))
		fl |= NLM_F_EXCL;
	if (chance(4))
		fl |= NLM_F_REPLACE;
	if (chance(4))
		fl |= NLM_F_APPEND;
	if (chance(4))
		fl |= NLM_F_ECHO;
	return fl;
}

/* The kernel's lookup of the link an RTM_NEWLINK works on. */
static enum target victim_lookup(struct fuzz *f, struct ifinfomsg *ifi)
{
	switch (rnd(6)) {
	case 0:
		ifi->ifi_index = 0;	/* by IFLA_IFNAME = victim */
		return T_NONE;
	case 1:
		ifi->ifi_index = NOWHERE_IFINDEX;
		return T_MISSING;
	default:
		ifi->ifi_index = f->victim;
		return T_VICTIM;
	}
}

static void gen_request(struct fuzz *f, enum scenario sc, struct msg *m,
			struct gen *g)
{
	static const unsigned char families[] = { AF_INET, AF_INET6,
						  AF_BRIDGE, AF_PACKET, 0xff };
	static const int32_t nsids[] = { -1, 0, 1, 1000 };
	struct ifinfomsg *ifi;
	bool known = true;
	uint16_t fl;
	int i, n;

	memset(g, 0, sizeof(*g));
	g->what = scenario_names[sc];

	switch (sc) {
	case S_BASE_NEW:
		ifi = msg_init(m, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE |
			       NLM_F_EXCL);
		if (chance(30)) {
			ifi->ifi_flags = IFF_UP;
			ifi->ifi_change = IFF_UP;
		}
		g->target = T_NEW;
		{
			char s[40];

			snprintf(s, sizeof(s), "fz%lu", f->idx);
			put_str(m, IFLA_IFNAME, s);
		}
		put_u32(m, IFLA_LINK, chance(80) ? f->master : f->victim);
		if (chance(20))
			put_u32(m, IFLA_MTU, 68 + rnd(1500 - 68));
		put_linkinfo(m, f, true, true, &known);
		g->create = true;
		break;

	case S_BASE_CHANGE:
		ifi = msg_init(m, RTM_NEWLINK, NLM_F_ACK);
		ifi->ifi_index = f->victim;
		g->target = T_VICTIM;
		g->ops = put_linkinfo(m, f, true, true, &known);
		break;

	case S_NEW:
		fl = nl_flags(true);
		ifi = msg_init(m, RTM_NEWLINK, fl);
		g->create = fl & NLM_F_CREATE;
		if (chance(5)) {
			/*
			 * Created with that index: never NOWHERE_IFINDEX,
			 * which must stay nobody's.
			 */
			ifi->ifi_index = chance(50) ? CREATE_IFINDEX + rnd(256) :
				(uint32_t)rnd64() & 0x7ffeffff;
			g->target = T_MISSING;
		}
		if (chance(15)) {
			ifi->ifi_change = chance(50) ? IFF_UP : 0xffffffff;
			ifi->ifi_flags = chance(50) ? IFF_UP : (uint32_t)rnd64();
		}
		if (chance(10))
			ifi->ifi_family = families[rnd(ARRAY_SIZE(families))];
		put_new_name(m, f, &g->target);
		if (g->target == T_VICTIM && (fl & NLM_F_EXCL))
			g->target = T_NONE;	/* EEXIST first */
		if (ifi->ifi_index)
			g->target = T_MISSING;
		if (chance(88))
			put_link(m, f);
		if (chance(25))
			put_mtu(m);
		if (chance(12))
			put_address(m);
		if (chance(8))
			put_scalar(m, type_bits(IFLA_TXQLEN), rnd64(),
				   attr_size(4));
		if (chance(3))	/* an nsid: the peer's namespace, or none */
			put_scalar(m, IFLA_LINK_NETNSID,
				   nsids[rnd(ARRAY_SIZE(nsids))],
				   attr_size(4));
		if (chance(92))
			n = put_linkinfo(m, f, false, false, &known);
		else
			n = 0;
		if (chance(10))
			put_inert(m, f);
		/* Changes of the victim, should the name select it. */
		g->ops = n + (m->len > NLMSG_SPACE(sizeof(*ifi)) ? 2 : 0) +
			 (ifi->ifi_change ? 1 : 0);
		if (!known && g->create && !chance(15)) {
			/* Unknown kind on create: kept rare (modprobe). */
			gen_request(f, S_NEW, m, g);
			return;
		}
		break;

	case S_VICTIM_DATA:
		/* Only IFLA_LINKINFO: a refusal must change nothing. */
		ifi = msg_init(m, RTM_NEWLINK, nl_flags(false) & ~NLM_F_CREATE);
		g->target = victim_lookup(f, ifi);
		/*
		 * By name only: with an ifindex, IFLA_IFNAME is a rename, and
		 * 6.1 refuses even a same-name one of an up link (EBUSY),
		 * after the changelink.
		 */
		if (!ifi->ifi_index)
			put_str(m, IFLA_IFNAME, f->victim_name);
		g->ops = put_linkinfo(m, f, false, true, &known);
		/*
		 * Stray attributes last: garbage may end the parsing early,
		 * but never makes the kernel read what follows differently.
		 */
		if (chance(25))
			put_inert(m, f);
		if (!ifi->ifi_index)
			g->target = T_VICTIM;
		break;

	case S_VICTIM_GENERIC:
		/* One generic change, maybe a kind without data. */
		fl = nl_flags(false);
		ifi = msg_init(m, chance(30) ? RTM_SETLINK : RTM_NEWLINK,
			       fl & ~NLM_F_CREATE);
		g->target = victim_lookup(f, ifi);
		if (!ifi->ifi_index) {
			put_str(m, IFLA_IFNAME, f->victim_name);
			g->target = T_VICTIM;
		}
		put_generic_change(m, f, ifi);
		g->ops = 1;
		if (chance(30)) {
			size_t l = nest_start(m, IFLA_LINKINFO);

			put_kind(m, f, false, &known);
			nest_end(m, l);
		}
		if (chance(15))
			put_inert(m, f);
		break;

	case S_VICTIM_MIXED:
		ifi = msg_init(m, RTM_NEWLINK, nl_flags(false));
		g->target = victim_lookup(f, ifi);
		if (!ifi->ifi_index) {
			put_str(m, IFLA_IFNAME, f->victim_name);
			g->target = T_VICTIM;
		}
		n = 1 + rnd(3);
		for (i = 0; i < n; i++)
			put_generic_change(m, f, ifi);
		g->ops = n + put_linkinfo(m, f, chance(30), false, &known);
		if (chance(20))
			put_inert(m, f);
		break;

	case S_SETLINK:
		/* RTM_SETLINK ignores IFLA_LINKINFO: several generic changes. */
		ifi = msg_init(m, RTM_SETLINK, NLM_F_ACK |
			       (chance(10) ? NLM_F_CREATE : 0));
		g->target = victim_lookup(f, ifi);
		if (!ifi->ifi_index) {
			put_str(m, IFLA_IFNAME, f->victim_name);
			g->target = T_VICTIM;
		}
		n = rnd(3);
		for (i = 0; i < n; i++)
			put_generic_change(m, f, ifi);
		g->ops = n;
		if (chance(60))
			put_linkinfo(m, f, chance(50), false, &known);
		if (chance(30))
			put_inert(m, f);
		break;

	default: /* S_RAW */
		fl = nl_flags(chance(50));
		ifi = msg_init(m, chance(80) ? RTM_NEWLINK : RTM_SETLINK, fl);
		g->create = fl & NLM_F_CREATE;
		g->unknown_ops = true;
		if (chance(40)) {
			/* ifinfomsg cut short: nothing can be parsed */
			m->len = NLMSG_HDRLEN + rnd(sizeof(*ifi));
			g->target = T_NONE;
			if (m->len > NLMSG_HDRLEN + 4)
				ifi->ifi_index = f->victim;
			break;
		}
		g->target = chance(50) ? victim_lookup(f, ifi) : T_NEW;
		if (g->target == T_NONE)
			g->target = T_NEW;	/* no name: none found */
		ifi->ifi_family = rnd(3) ? 0 : rnd64() >> 56;
		ifi->ifi_type = rnd64() >> 48;
		/* Only the stray fields the kernel does not act upon. */
		n = 1 + rnd(4);
		for (i = 0; i < n; i++) {
			switch (rnd(4)) {
			case 0:
				put_link(m, f);
				break;
			case 1:
				put_linkinfo(m, f, false, false, &known);
				break;
			case 2:
				put_inert(m, f);
				break;
			default:
				put_mtu(m);
				break;
			}
		}
		if (!known && g->create && !chance(15)) {
			gen_request(f, S_RAW, m, g);
			return;
		}
		break;
	}
}

/* ---------------------------------------------------- bookkeeping */

struct stats {
	unsigned long requests, answered, refused, accepted, no_answer;
	unsigned long victim_changed, nonatomic, stray, restore_failed;
	unsigned long restored, created, deleted, snapshots, master_changed;
	unsigned long allmulti_leaked;
	unsigned long errnos[4096];
	unsigned long sc_req[S_NR], sc_acc[S_NR];
};

static struct stats st;
static struct linklist initial;
static int pending[PENDING_MAX];
static int n_pending, batch = PENDING_MAX;

static void violation(struct fuzz *f, const char *what, struct msg *m,
		      struct gen *g, const struct answer *a, const char *detail)
{
	fprintf(stderr, "VIOLATION: request %lu (seed %llu, %s): %s\n",
		f->idx, (unsigned long long)f->seed, g->what, what);
	if (a)
		fprintf(stderr, "  answer: %s%s%s\n",
			a->got ? (a->err ? strerrorname_np(a->err) : "ACK") :
			"none", a->extack[0] ? ", extack: " : "", a->extack);
	if (detail && detail[0])
		fprintf(stderr, "  %s\n", detail);
	fprintf(stderr, "  request hex: ");
	print_hex(stderr, m->buf, m->len);
}

static int flush_pending(void)
{
	struct ifinfomsg *ifi;
	struct msg m;
	int i, err = 0, e;

	if (!n_pending)
		return 0;
	for (i = 0; i < n_pending; i++) {
		ifi = msg_init(&m, RTM_NEWLINK, NLM_F_ACK);
		ifi->ifi_index = pending[i];
		put_u32(&m, IFLA_GROUP, CLEANUP_GROUP);
		e = transact(&m);
		if (e && e != -ENODEV)
			err = e;
	}
	ifi = msg_init(&m, RTM_DELLINK, NLM_F_ACK);
	put_u32(&m, IFLA_GROUP, CLEANUP_GROUP);
	e = transact(&m);
	if (e) {
		/* One by one, then. */
		for (i = 0; i < n_pending; i++) {
			e = del_link(pending[i]);
			if (e && e != -ENODEV)
				err = e;
		}
	}
	st.deleted += n_pending;
	n_pending = 0;
	if (err)
		fprintf(stderr, "ipvl_nlfuzz: deleting created links: %s\n",
			strerror(-err));
	return err;
}

/* Set the victim back to @base. */
static int restore_victim(struct fuzz *f, const struct snap *base,
			  const struct snap *cur)
{
	struct ifinfomsg *ifi;
	struct msg m;
	size_t li, di;

	ifi = msg_init(&m, RTM_NEWLINK, NLM_F_ACK);
	ifi->ifi_index = f->victim;
	ifi->ifi_flags = base->flags;
	ifi->ifi_change = SNAP_FLAGS;
	/* (A same-name "rename" of an up link is refused with EBUSY.) */
	if (strcmp(cur->ifname, base->ifname))
		put_str(&m, IFLA_IFNAME, base->ifname);
	put_u32(&m, IFLA_MTU, base->mtu);
	if (cur->addr_len != base->addr_len ||
	    memcmp(cur->addr, base->addr, base->addr_len))
		put_attr(&m, IFLA_ADDRESS, base->addr, base->addr_len);
	if (cur->brd_len != base->brd_len ||
	    memcmp(cur->brd, base->brd, base->brd_len))
		put_attr(&m, IFLA_BROADCAST, base->brd, base->brd_len);
	put_u32(&m, IFLA_TXQLEN, base->txqlen);
	if (base->mode < 0 && base->pflags < 0 && base->learn < 0)
		return transact(&m);	/* not an ipvlan kind (tests) */
	li = nest_start(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, base->kind);
	di = nest_start(&m, IFLA_INFO_DATA);
	if (base->mode >= 0)
		put_u16(&m, IFLA_IPVLAN_MODE, base->mode);
	if (base->pflags >= 0)
		put_u16(&m, IFLA_IPVLAN_FLAGS, base->pflags);
	if (base->learn >= 0) {
		unsigned char v = base->learn;

		put_attr(&m, IFLA_IPVLAN_X_LEARN, &v, 1);
	}
	if (base->learn_max >= 0)
		put_u32(&m, IFLA_IPVLAN_X_LEARN_MAX, base->learn_max);
	if (base->learn_timeout >= 0)
		put_u32(&m, IFLA_IPVLAN_X_LEARN_TIMEOUT, base->learn_timeout);
	nest_end(&m, di);
	nest_end(&m, li);
	return transact(&m);
}

static enum scenario pick_scenario(unsigned long i, unsigned long baseline)
{
	static const enum scenario mix[] = {
		S_NEW, S_NEW, S_NEW, S_NEW, S_NEW, S_NEW,
		S_VICTIM_DATA, S_VICTIM_DATA, S_VICTIM_DATA, S_VICTIM_DATA,
		S_VICTIM_DATA,
		S_VICTIM_GENERIC, S_VICTIM_GENERIC,
		S_VICTIM_MIXED, S_VICTIM_MIXED,
		S_SETLINK, S_RAW, S_RAW,
	};

	if (i < baseline)
		return i % 2 ? S_BASE_CHANGE : S_BASE_NEW;
	return mix[rnd(ARRAY_SIZE(mix))];
}

static void usage(void)
{
	fprintf(stderr,
		"Usage: ipvl_nlfuzz --kind ipvlan|ipvtap --master IFNAME --victim IFNAME\n"
		"                   [--seed N] [--count N] [--start I] [--baseline N]\n"
		"                   [--batch N] [--allmulti-leak-ok] [--keep-going] [-v]\n"
		"       ipvl_nlfuzz --replay HEX\n");
	exit(2);
}

static int replay(const char *hex)
{
	static struct msg m;
	struct answer a;
	size_t n = strlen(hex) / 2, i;
	unsigned int b;
	int err;

	if (n > MSG_MAX || n < NLMSG_HDRLEN)
		return 2;
	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return 2;
		m.buf[i] = b;
	}
	m.len = n;
	msg_hdr(&m)->nlmsg_seq = ++nl_seq;
	msg_hdr(&m)->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	err = nl_send(m.buf, m.len);
	if (!err)
		err = nl_wait(nl_seq, &a, 0, NULL, NULL, false);
	if (err) {
		fprintf(stderr, "ipvl_nlfuzz: %s\n", strerror(-err));
		return 2;
	}
	if (!a.got) {
		printf("no answer within %d ms\n", ANSWER_TIMEOUT_MS);
		return 1;
	}
	printf("%s%s%s\n", a.err ? strerrorname_np(a.err) : "ACK",
	       a.extack[0] ? " extack: " : "", a.extack);
	return a.err ? 1 : 0;
}

static void print_summary(long ms)
{
	unsigned int e;
	int s;

	fprintf(stdout, "refused_by_errno");
	for (e = 0; e < ARRAY_SIZE(st.errnos); e++) {
		const char *name;

		if (!st.errnos[e])
			continue;
		name = strerrorname_np(e);
		if (name)
			fprintf(stdout, " %s:%lu", name, st.errnos[e]);
		else
			fprintf(stdout, " E%u:%lu", e, st.errnos[e]);
	}
	fprintf(stdout, "\nscenarios");
	for (s = 0; s < S_NR; s++)
		fprintf(stdout, " %s:%lu/%lu", scenario_names[s], st.sc_acc[s],
			st.sc_req[s]);
	fprintf(stdout, " (accepted/sent)\n");
	fprintf(stdout,
		"housekeeping created %lu deleted %lu victim_restored %lu snapshots %lu time_ms %ld\n",
		st.created, st.deleted, st.restored, st.snapshots, ms);
	fprintf(stdout,
		"requests %lu answered %lu refused %lu accepted %lu victim_changed_by_refusal %lu no_answer %lu stray_by_refusal %lu restore_failed %lu master_changed %lu nonatomic_refusal_changes %lu allmulti_leaked %lu\n",
		st.requests, st.answered, st.refused, st.accepted,
		st.victim_changed, st.no_answer, st.stray, st.restore_failed,
		st.master_changed, st.nonatomic, st.allmulti_leaked);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "master", required_argument, NULL, 'm' },
		{ "victim", required_argument, NULL, 'V' },
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "start", required_argument, NULL, 'S' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "keep-going", no_argument, NULL, 'K' },
		{ "batch", required_argument, NULL, 'B' },
		{ "allmulti-leak-ok", no_argument, NULL, 'M' },
		{ "replay", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long count = 1000, start = 0, baseline = 40, i;
	const char *master = NULL, *victim = NULL, *hex = NULL;
	struct fuzz f = { .kind = NULL };
	bool keep_going = false, failed = false;
	struct snap base, before, after, mbase;
	bool allmulti_leak_ok = false;
	struct linklist now;
	char diff[512];
	long t0;
	int c, err;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			f.kind = optarg;
			break;
		case 'm':
			master = optarg;
			break;
		case 'V':
			victim = optarg;
			break;
		case 's':
			f.seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			start = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			baseline = strtoul(optarg, NULL, 0);
			break;
		case 'K':
			keep_going = true;
			break;
		case 'B':
			batch = strtol(optarg, NULL, 0);
			break;
		case 'M':
			allmulti_leak_ok = true;
			break;
		case 'r':
			hex = optarg;
			break;
		case 'v':
			f.verbose = true;
			break;
		default:
			usage();
		}
	}
	err = nl_open();
	if (err) {
		fprintf(stderr, "ipvl_nlfuzz: netlink socket: %s\n",
			strerror(-err));
		return 2;
	}
	if (hex)
		return replay(hex);
	if (!f.kind || !master || !victim || optind != argc || batch < 1 ||
	    batch > PENDING_MAX)
		usage();
	if (!strcmp(f.kind, "ipvlan"))
		f.other_kind = "ipvtap";
	else if (!strcmp(f.kind, "ipvtap"))
		f.other_kind = "ipvlan";
	else
		usage();
	f.master = if_nametoindex(master);
	f.victim = if_nametoindex(victim);
	f.lo = if_nametoindex("lo");
	if (!f.master || !f.victim || strlen(victim) >= IFNAMSIZ) {
		fprintf(stderr, "ipvl_nlfuzz: no such link '%s'\n",
			f.master ? victim : master);
		return 2;
	}
	snprintf(f.victim_name, sizeof(f.victim_name), "%s", victim);

	if (get_link(f.victim, &base) || get_link(f.master, &mbase) ||
	    list_links(&initial)) {
		fprintf(stderr, "ipvl_nlfuzz: cannot read the links\n");
		return 2;
	}
	if (strcmp(base.kind, f.kind))
		fprintf(stderr, "ipvl_nlfuzz: warning: victim %s is of kind '%s', not '%s'\n",
			victim, base.kind, f.kind);
	before = base;
	t0 = now_ms();

	for (i = start; i < start + count; i++) {
		static struct msg m;
		enum scenario sc;
		struct answer a;
		struct gen g;
		bool changed;
		int k;

		f.idx = i;
		rng_seed(f.seed, i);
		sc = pick_scenario(i, baseline);
		gen_request(&f, sc, &m, &g);
		msg_finish(&m, ++nl_seq);
		st.requests++;
		st.sc_req[sc]++;

		err = nl_send(m.buf, m.len);
		if (err) {
			fprintf(stderr, "ipvl_nlfuzz: send request %lu: %s\n",
				i, strerror(-err));
			return 2;
		}
		err = nl_wait(nl_seq, &a, 0, NULL, NULL, false);
		if (err) {
			fprintf(stderr, "ipvl_nlfuzz: receive: %s\n",
				strerror(-err));
			return 2;
		}
		if (f.verbose) {
			fprintf(stderr, "%lu %s target=%d ops=%d%s: %s%s%s\n  ",
				i, g.what, g.target, g.ops,
				g.unknown_ops ? "+" : "",
				a.got ? (a.err ? strerrorname_np(a.err) : "ACK")
				: "NO ANSWER",
				a.extack[0] ? " extack: " : "", a.extack);
			print_hex(stderr, m.buf, m.len);
		}
		if (!a.got) {
			st.no_answer++;
			violation(&f, "no answer within 2 s", &m, &g, &a, NULL);
			failed = true;
			if (!keep_going)
				break;
			continue;
		}
		st.answered++;
		if (a.err) {
			st.refused++;
			if (a.err > 0 && a.err < (int)ARRAY_SIZE(st.errnos))
				st.errnos[a.err]++;
		} else {
			st.accepted++;
			st.sc_acc[sc]++;
		}

		/* The victim and the links after the request. */
		err = get_link(f.victim, &after);
		st.snapshots++;
		if (err && err != -ENODEV) {
			fprintf(stderr, "ipvl_nlfuzz: reading the victim: %s\n",
				strerror(-err));
			return 2;
		}
		if (list_links(&now)) {
			fprintf(stderr, "ipvl_nlfuzz: cannot list the links\n");
			return 2;
		}
		snap_diff(&before, &after, diff, sizeof(diff));
		changed = diff[0] != 0;

		for (k = 0; k < now.n; k++) {
			int ix = now.ifindex[k], p;
			bool known = list_has(&initial, ix);

			for (p = 0; p < n_pending && !known; p++)
				known = pending[p] == ix;
			if (known)
				continue;
			if (a.err) {
				char d[64];

				st.stray++;
				snprintf(d, sizeof(d), "new link %s (%d) left behind",
					 now.name[k], ix);
				violation(&f, "refused request created a link",
					  &m, &g, &a, d);
				failed = true;
			}
			st.created++;
			/*
			 * NOWHERE_IFINDEX (asked with NLM_F_CREATE) must go
			 * at once: later requests count on nobody having it.
			 */
			if (n_pending < batch && ix != NOWHERE_IFINDEX)
				pending[n_pending++] = ix;
			else if (del_link(ix))
				fprintf(stderr, "ipvl_nlfuzz: cannot delete %s\n",
					now.name[k]);
			else
				st.deleted++;
		}
		if (n_pending >= batch && flush_pending())
			return 2;

		if (a.err && changed) {
			/*
			 * Only a request working on the victim itself may
			 * have changed part of it before failing.
			 */
			bool strict = g.target != T_VICTIM ||
				      (!g.unknown_ops && g.ops <= 1);

			if (strict) {
				st.victim_changed++;
				violation(&f, "refused request changed the victim",
					  &m, &g, &a, diff);
				failed = true;
			} else {
				st.nonatomic++;
				if (st.nonatomic <= 3 || f.verbose)
					fprintf(stderr,
						"note: request %lu (%s, %d changes asked) refused with %s but changed the victim: %s\n  hex: ",
						i, g.what, g.ops,
						strerrorname_np(a.err), diff);
				if (st.nonatomic <= 3 || f.verbose)
					print_hex(stderr, m.buf, m.len);
			}
		}
		if (changed) {
			/* Back to the first state (and check it took). */
			err = restore_victim(&f, &base, &after);
			if (!err)
				err = get_link(f.victim, &after);
			snap_diff(&base, &after, diff, sizeof(diff));
			st.restored++;
			if (err || diff[0]) {
				char d[600];

				st.restore_failed++;
				snprintf(d, sizeof(d), "restore: %s; still differs: %s",
					 err ? strerror(-err) : "accepted", diff);
				violation(&f, "cannot set the victim back", &m,
					  &g, &a, d);
				failed = true;
				break;
			}
		}
		before = after;

		/*
		 * With no created link left, the master must be as it was
		 * (promiscuity and allmulti counts balanced, flags, MTU).
		 * With --batch 1 the request printed is the culprit.
		 */
		if (!n_pending) {
			struct snap mnow;

			if (get_link(f.master, &mnow)) {
				fprintf(stderr, "ipvl_nlfuzz: reading the master failed\n");
				return 2;
			}
			snap_diff(&mbase, &mnow, diff, sizeof(diff));
			if (diff[0] && allmulti_leak_ok &&
			    allmulti_leak_only(&mbase, &mnow)) {
				st.allmulti_leaked++;
				if (f.verbose)
					fprintf(stderr, "tolerated: request %lu: %s\n",
						f.idx, diff);
				diff[0] = 0;
				mbase = mnow;
			}
			if (diff[0]) {
				st.master_changed++;
				violation(&f, "master changed, no link of the run left",
					  &m, &g, &a, diff);
				failed = true;
				mbase = mnow;
			}
		}
		if (failed && !keep_going)
			break;
		if ((i - start + 1) % 500 == 0)
			fprintf(stderr, "progress %lu/%lu answered %lu refused %lu accepted %lu\n",
				i - start + 1, count, st.answered, st.refused,
				st.accepted);
	}
	if (flush_pending())
		failed = true;

	/* Final state: the victim as it started, no link left over. */
	if (get_link(f.victim, &after) == 0) {
		snap_diff(&base, &after, diff, sizeof(diff));
		if (diff[0]) {
			fprintf(stderr, "VIOLATION: victim differs at the end: %s\n",
				diff);
			failed = true;
		}
	} else {
		fprintf(stderr, "VIOLATION: the victim is gone\n");
		failed = true;
	}
	if (list_links(&now) == 0) {
		int k;

		for (k = 0; k < now.n; k++) {
			if (list_has(&initial, now.ifindex[k]))
				continue;
			fprintf(stderr, "VIOLATION: link %s (%d) left over\n",
				now.name[k], now.ifindex[k]);
			failed = true;
		}
	}
	print_summary(now_ms() - t0);
	return failed ? 1 : 0;
}
