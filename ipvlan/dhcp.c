// SPDX-License-Identifier: GPL-2.0-only
/*
 * DHCP for guests: a guest behind a learning slave (ipvtap's default) uses
 * the master's MAC, so a DHCPv4 server that answers a client without the
 * broadcast flag unicasts its OFFER/ACK to the offered address, which no
 * slave owns yet, and to the master's MAC: the frame would end in the
 * master's own stack. This file remembers the transactions the guests
 * start and hands such a reply to the slave whose guest started it.
 *
 * Client side (learn.c, for every frame a learning slave sends): a DHCP
 * message from port 68 to port 67 (DISCOVER, REQUEST, INFORM) opens or
 * refreshes a transaction (slave, xid, client identifier (option 61) or,
 * without one, chaddr) in the port's table; DECLINE and RELEASE end the
 * slave's transactions of that client. A malformed one is dropped
 * (x_dhcp_bad).
 *
 * Server side (core.c, for a unicast frame from the wire whose IPv4
 * destination no running slave owns): a DHCP reply from port 67 to port 68
 * goes to the one slave with a live transaction of the same xid, chaddr
 * and, if the reply carries one, client identifier. Guests share the
 * master's MAC, so chaddr alone cannot tell them apart: xid and client
 * identifier do. A reply no transaction matches, or that several slaves'
 * transactions match, goes to no slave (dhcp_unmatched): it stays with the
 * master's stack, as before. Replies to an address a slave owns (renewal,
 * rebinding) and broadcast replies are switched as any other frame.
 *
 * Bounds: IPVL_DHCP_XACTS transactions per port, at most
 * IPVL_DHCP_XACTS_PER_SLAVE of them one slave's (its own oldest makes way
 * for its newest, so a guest cannot crowd out the others); a transaction
 * lives IPVL_DHCP_TIMEOUT after the client's latest message, and
 * IPVL_DHCP_GRACE after an ACK or NAK was handed over (servers repeat
 * themselves). Expired entries are reused in place: no timer.
 *
 * Headers are untrusted: read with skb_header_pointer() (parse.c's rule:
 * the receive handler sees frames that may be shared, so nothing is
 * pulled), every length checked against what the frame holds.
 */

#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/jiffies.h>
#include <linux/siphash.h>
#include <linux/udp.h>
#include <net/ip.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

#define IPVL_DHCP_SERVER_PORT	67
#define IPVL_DHCP_CLIENT_PORT	68

/* Transaction lifetime: after the client's latest message, and after
 * the ACK or NAK that ends it.
 */
#define IPVL_DHCP_TIMEOUT	(60 * HZ)
#define IPVL_DHCP_GRACE		(5 * HZ)

/* BOOTP (RFC 951) fixed header up to chaddr; the magic cookie follows
 * sname and file, at IPVL_BOOTP_COOKIE_OFF.
 */
struct ipvl_bootp_head {
	u8	op;
	u8	htype;
	u8	hlen;
	u8	hops;
	__be32	xid;
	__be16	secs;
	__be16	flags;
	__be32	ciaddr;
	__be32	yiaddr;
	__be32	siaddr;
	__be32	giaddr;
	u8	chaddr[IPVL_DHCP_CHADDR_LEN];
} __packed;

#define IPVL_BOOTP_COOKIE_OFF	236
#define IPVL_BOOTP_OPTS_OFF	240
#define IPVL_DHCP_COOKIE	htonl(0x63825363)

/* Option area scanned at most: a longer one is refused as malformed. */
#define IPVL_DHCP_OPTS_MAX	1500

#define BOOTREQUEST		1
#define BOOTREPLY		2

/* Option codes and DHCP message types (RFC 2132). */
#define IPVL_OPT_PAD		0
#define IPVL_OPT_MSG_TYPE	53
#define IPVL_OPT_CLIENT_ID	61
#define IPVL_OPT_END		255

enum {
	IPVL_DHCPDISCOVER = 1,
	IPVL_DHCPOFFER,
	IPVL_DHCPREQUEST,
	IPVL_DHCPDECLINE,
	IPVL_DHCPACK,
	IPVL_DHCPNAK,
	IPVL_DHCPRELEASE,
	IPVL_DHCPINFORM,
};

/* What a DHCP message says about its transaction. */
struct ipvl_dhcp_msg {
	__be32	xid;
	u64	cid_hash;	/* of option 61, if has_cid */
	u8	type;		/* option 53 */
	u8	hlen;
	bool	has_cid;
	u8	chaddr[IPVL_DHCP_CHADDR_LEN];
};

enum ipvl_dhcp_parsed {
	IPVL_DHCP_NOT,		/* not a DHCP message of that direction */
	IPVL_DHCP_OK,
	IPVL_DHCP_BAD,		/* claims to be one, but malformed */
};

static siphash_aligned_key_t ipvl_dhcp_key;

/*
 * The UDP payload of an IPv4 packet from port @sport to port @dport at
 * @off: its offset in @pstart and its length, within what the frame holds
 * and what both length fields say.
 */
static enum ipvl_dhcp_parsed ipvl_dhcp_udp(const struct sk_buff *skb,
					   unsigned int off, u16 sport,
					   u16 dport, unsigned int *pstart,
					   unsigned int *plen)
{
	const struct udphdr *uh;
	const struct iphdr *iph;
	unsigned int ihl, tot;
	struct udphdr _uh;
	struct iphdr _iph;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5 ||
	    iph->protocol != IPPROTO_UDP)
		return IPVL_DHCP_NOT;
	/* Only a first fragment has the ports; DHCP is never fragmented. */
	if (iph->frag_off & htons(IP_MF | IP_OFFSET))
		return IPVL_DHCP_NOT;
	ihl = iph->ihl * 4;
	tot = ntohs(iph->tot_len);

	uh = skb_header_pointer(skb, off + ihl, sizeof(_uh), &_uh);
	if (!uh || uh->source != htons(sport) || uh->dest != htons(dport))
		return IPVL_DHCP_NOT;

	/* It says it is DHCP: from here on, a lie is malformed. */
	if (skb->len < off || tot > skb->len - off || tot < ihl + sizeof(*uh))
		return IPVL_DHCP_BAD;
	if (ntohs(uh->len) < sizeof(*uh) + IPVL_BOOTP_OPTS_OFF ||
	    ntohs(uh->len) > tot - ihl)
		return IPVL_DHCP_BAD;
	*pstart = off + ihl + sizeof(*uh);
	*plen = ntohs(uh->len) - sizeof(*uh);
	return IPVL_DHCP_OK;
}

/* Walk the options of the DHCP message at @start, @len bytes long. */
static enum ipvl_dhcp_parsed ipvl_dhcp_opts(const struct sk_buff *skb,
					    unsigned int start,
					    unsigned int len,
					    struct ipvl_dhcp_msg *m)
{
	unsigned int pos = start + IPVL_BOOTP_OPTS_OFF;
	unsigned int end = start + len;
	u8 buf[U8_MAX];
	bool has_type = false;
	const u8 *p;

	if (len - IPVL_BOOTP_OPTS_OFF > IPVL_DHCP_OPTS_MAX)
		return IPVL_DHCP_BAD;
	m->has_cid = false;
	while (pos < end) {
		u8 code, olen;

		p = skb_header_pointer(skb, pos, 1, buf);
		if (!p)
			return IPVL_DHCP_BAD;
		code = p[0];
		if (code == IPVL_OPT_END)
			break;
		if (code == IPVL_OPT_PAD) {
			pos++;
			continue;
		}
		if (end - pos < 2)
			return IPVL_DHCP_BAD;
		p = skb_header_pointer(skb, pos + 1, 1, buf);
		if (!p)
			return IPVL_DHCP_BAD;
		olen = p[0];
		if (end - pos - 2 < olen)
			return IPVL_DHCP_BAD;

		switch (code) {
		case IPVL_OPT_MSG_TYPE:
			p = skb_header_pointer(skb, pos + 2, 1, buf);
			if (olen != 1 || has_type || !p)
				return IPVL_DHCP_BAD;
			m->type = p[0];
			has_type = true;
			break;
		case IPVL_OPT_CLIENT_ID:
			/* RFC 2132 9.14: type and at least one byte. */
			p = skb_header_pointer(skb, pos + 2, olen, buf);
			if (olen < 2 || m->has_cid || !p)
				return IPVL_DHCP_BAD;
			m->cid_hash = siphash(p, olen, &ipvl_dhcp_key);
			m->has_cid = true;
			break;
		}
		pos += 2 + olen;
	}
	/* No message type: plain BOOTP, not ours to track. */
	return has_type ? IPVL_DHCP_OK : IPVL_DHCP_NOT;
}

/*
 * Read the DHCP message (BOOTP @op, from port @sport to @dport) of the
 * IPv4 packet at @off.
 */
static enum ipvl_dhcp_parsed ipvl_dhcp_parse(const struct sk_buff *skb,
					     unsigned int off, u8 op,
					     u16 sport, u16 dport,
					     struct ipvl_dhcp_msg *m)
{
	const struct ipvl_bootp_head *bh;
	struct ipvl_bootp_head _bh;
	enum ipvl_dhcp_parsed ret;
	unsigned int start, len;
	const __be32 *cookie;
	__be32 _cookie;

	ret = ipvl_dhcp_udp(skb, off, sport, dport, &start, &len);
	if (ret != IPVL_DHCP_OK)
		return ret;
	bh = skb_header_pointer(skb, start, sizeof(_bh), &_bh);
	cookie = skb_header_pointer(skb, start + IPVL_BOOTP_COOKIE_OFF,
				    sizeof(_cookie), &_cookie);
	if (!bh || !cookie || bh->op != op || bh->hlen > IPVL_DHCP_CHADDR_LEN)
		return IPVL_DHCP_BAD;
	/* No cookie: BOOTP (RFC 951), not DHCP. */
	if (*cookie != IPVL_DHCP_COOKIE)
		return IPVL_DHCP_NOT;
	m->xid = bh->xid;
	m->hlen = bh->hlen;
	memset(m->chaddr, 0, sizeof(m->chaddr));
	memcpy(m->chaddr, bh->chaddr, bh->hlen);
	return ipvl_dhcp_opts(skb, start, len, m);
}

static bool ipvl_dhcp_live(const struct ipvl_dhcp_xact *x)
{
	return x->slave_id && time_before(jiffies, x->expires);
}

/* A transaction is live until @expires: so is the table. */
static void ipvl_dhcp_live_until(struct ipvl_dhcp_table *t,
				 unsigned long expires)
{
	lockdep_assert_held(&t->lock);
	if (time_after(expires, t->live_until))
		WRITE_ONCE(t->live_until, expires);
}

/* @x is the transaction of the client of @m (same xid and client). */
static bool ipvl_dhcp_same(const struct ipvl_dhcp_xact *x,
			   const struct ipvl_dhcp_msg *m)
{
	if (x->xid != m->xid || x->hlen != m->hlen ||
	    memcmp(x->chaddr, m->chaddr, m->hlen))
		return false;
	if (x->has_cid != m->has_cid)
		return false;
	return !m->has_cid || x->cid_hash == m->cid_hash;
}

/* A server's reply @m answers transaction @x: its client identifier, if
 * it echoes one (RFC 6842), must be the client's.
 */
static bool ipvl_dhcp_answers(const struct ipvl_dhcp_xact *x,
			      const struct ipvl_dhcp_msg *m)
{
	if (x->xid != m->xid || x->hlen != m->hlen ||
	    memcmp(x->chaddr, m->chaddr, m->hlen))
		return false;
	return !m->has_cid || (x->has_cid && x->cid_hash == m->cid_hash);
}

/* The client of @m (on @slave) ends its transactions (DECLINE, RELEASE). */
static void ipvl_dhcp_end(struct ipvl_dhcp_table *t, u64 slave_id,
			  const struct ipvl_dhcp_msg *m)
{
	unsigned int i;

	lockdep_assert_held(&t->lock);
	for (i = 0; i < IPVL_DHCP_XACTS; i++) {
		struct ipvl_dhcp_xact *x = &t->xact[i];

		if (x->slave_id != slave_id || x->has_cid != m->has_cid)
			continue;
		if (m->has_cid ? x->cid_hash == m->cid_hash :
		    !memcmp(x->chaddr, m->chaddr, sizeof(x->chaddr)))
			x->slave_id = 0;
	}
}

/*
 * Record the transaction of @m for @slave. Returns false if the table has
 * no room for it, or another slave's live transaction has the same key.
 */
static bool ipvl_dhcp_track(struct ipvl_dhcp_table *t, u64 slave_id,
			    const struct ipvl_dhcp_msg *m)
{
	struct ipvl_dhcp_xact *free = NULL, *oldest = NULL, *x;
	unsigned int i, mine = 0;

	lockdep_assert_held(&t->lock);
	for (i = 0; i < IPVL_DHCP_XACTS; i++) {
		x = &t->xact[i];
		if (!ipvl_dhcp_live(x)) {
			if (!free)
				free = x;
			continue;
		}
		if (ipvl_dhcp_same(x, m)) {
			/* A retransmission, or the REQUEST after an OFFER. */
			if (x->slave_id != slave_id)
				return false;
			x->expires = jiffies + IPVL_DHCP_TIMEOUT;
			ipvl_dhcp_live_until(t, x->expires);
			return true;
		}
		if (x->slave_id == slave_id) {
			mine++;
			if (!oldest || time_before(x->expires, oldest->expires))
				oldest = x;
		}
	}
	if (mine >= IPVL_DHCP_XACTS_PER_SLAVE)
		x = oldest;
	else if (free)
		x = free;
	else
		return false;

	x->slave_id = slave_id;
	x->xid = m->xid;
	x->has_cid = m->has_cid;
	x->cid_hash = m->has_cid ? m->cid_hash : 0;
	x->hlen = m->hlen;
	memcpy(x->chaddr, m->chaddr, sizeof(x->chaddr));
	x->expires = jiffies + IPVL_DHCP_TIMEOUT;
	ipvl_dhcp_live_until(t, x->expires);
	return true;
}

/**
 * ipvl_dhcp_tx - note the DHCP transaction a guest starts
 * @slave: a learning slave
 * @skb: the frame its guest sends, Ethernet header at skb->data
 *
 * Return: false if the frame is a malformed DHCP client message and must be
 * dropped (counted).
 */
bool ipvl_dhcp_tx(struct ipvl_dev *slave, const struct sk_buff *skb)
{
	struct ipvl_dhcp_table *t = &slave->port->dhcp;
	bool tracked = false, untracked = false;
	struct ipvl_dhcp_msg m;

	if (eth_hdr(skb)->h_proto != htons(ETH_P_IP))
		return true;
	switch (ipvl_dhcp_parse(skb, ETH_HLEN, BOOTREQUEST,
				IPVL_DHCP_CLIENT_PORT, IPVL_DHCP_SERVER_PORT,
				&m)) {
	case IPVL_DHCP_NOT:
		return true;
	case IPVL_DHCP_BAD:
		atomic64_inc(&slave->x_dhcp_bad);
		net_info_ratelimited("%s: dropped a malformed DHCP message from the guest\n",
				     slave->dev->name);
		return false;
	case IPVL_DHCP_OK:
		break;
	}

	spin_lock_bh(&t->lock);
	switch (m.type) {
	case IPVL_DHCPDISCOVER:
	case IPVL_DHCPREQUEST:
	case IPVL_DHCPINFORM:
		tracked = ipvl_dhcp_track(t, slave->id, &m);
		untracked = !tracked;
		break;
	case IPVL_DHCPDECLINE:
	case IPVL_DHCPRELEASE:
		ipvl_dhcp_end(t, slave->id, &m);
		break;
	}
	spin_unlock_bh(&t->lock);

	if (tracked)
		atomic64_inc(&slave->x_dhcp_tracked);
	if (untracked)
		atomic64_inc(&t->untracked);
	return true;
}

/**
 * ipvl_dhcp_client_msg - is @skb a DHCPv4 client message?
 * @skb: a frame a slave sends, Ethernet header at skb->data
 *
 * For the L3 modes (core.c), which send a learning slave's guest's
 * broadcast DISCOVER and REQUEST to the wire: the server's unicast reply
 * then finds the guest by its transaction (ipvl_dhcp_rx()).
 */
bool ipvl_dhcp_client_msg(const struct sk_buff *skb)
{
	struct ipvl_dhcp_msg m;

	return eth_hdr(skb)->h_proto == htons(ETH_P_IP) &&
	       ipvl_dhcp_parse(skb, ETH_HLEN, BOOTREQUEST,
			       IPVL_DHCP_CLIENT_PORT, IPVL_DHCP_SERVER_PORT,
			       &m) == IPVL_DHCP_OK;
}

/* The slave with id @id, or NULL. Caller holds RCU. */
static struct ipvl_dev *ipvl_dhcp_slave(struct ipvl_port *port, u64 id)
{
	struct ipvl_dev *slave;

	list_for_each_entry_rcu(slave, &port->slaves, pnode) {
		if (slave->id == id)
			return slave;
	}
	return NULL;
}

/**
 * ipvl_dhcp_rx - the slave a DHCP reply to nobody's address is for
 * @port: the master's port
 * @skb: a unicast IPv4 frame from the wire whose destination no running
 *	slave owns, L3 header at skb->data
 *
 * Return: the running slave whose guest's transaction the frame answers,
 * or NULL: no transaction is live, not a DHCP reply, or one for no slave
 * (counted). Caller holds RCU.
 */
struct ipvl_dev *ipvl_dhcp_rx(struct ipvl_port *port,
			      const struct sk_buff *skb)
{
	struct ipvl_dhcp_table *t = &port->dhcp;
	struct ipvl_dev *slave;
	struct ipvl_dhcp_msg m;
	unsigned int i;
	u64 id = 0;

	if (skb->protocol != htons(ETH_P_IP) || skb->pkt_type != PACKET_HOST)
		return NULL;
	/* No guest waits for a reply: the master's own traffic (its DHCP
	 * client's too) is not parsed, nor counted.
	 */
	if (!time_before(jiffies, READ_ONCE(t->live_until)))
		return NULL;
	switch (ipvl_dhcp_parse(skb, 0, BOOTREPLY, IPVL_DHCP_SERVER_PORT,
				IPVL_DHCP_CLIENT_PORT, &m)) {
	case IPVL_DHCP_NOT:
		return NULL;
	case IPVL_DHCP_BAD:
		atomic64_inc(&t->rx_bad);
		return NULL;
	case IPVL_DHCP_OK:
		break;
	}
	if (m.type != IPVL_DHCPOFFER && m.type != IPVL_DHCPACK &&
	    m.type != IPVL_DHCPNAK)
		goto unmatched;

	spin_lock_bh(&t->lock);
	for (i = 0; i < IPVL_DHCP_XACTS; i++) {
		struct ipvl_dhcp_xact *x = &t->xact[i];

		if (!ipvl_dhcp_live(x) || !ipvl_dhcp_answers(x, &m))
			continue;
		if (id && id != x->slave_id) {
			/* Two guests' transactions: neither gets it. */
			id = 0;
			break;
		}
		id = x->slave_id;
		if (m.type != IPVL_DHCPOFFER &&
		    time_after(x->expires, jiffies + IPVL_DHCP_GRACE))
			x->expires = jiffies + IPVL_DHCP_GRACE;
	}
	spin_unlock_bh(&t->lock);

	if (!id)
		goto unmatched;
	slave = ipvl_dhcp_slave(port, id);
	if (!slave || !netif_running(slave->dev))
		goto unmatched;
	atomic64_inc(&slave->x_dhcp_delivered);
	return slave;

unmatched:
	atomic64_inc(&t->unmatched);
	return NULL;
}

/* @slave stops learning or goes away (RTNL): its transactions end. */
void ipvl_dhcp_forget(struct ipvl_dev *slave)
{
	struct ipvl_dhcp_table *t = &slave->port->dhcp;
	unsigned int i;

	ASSERT_RTNL();
	spin_lock_bh(&t->lock);
	for (i = 0; i < IPVL_DHCP_XACTS; i++) {
		if (t->xact[i].slave_id == slave->id)
			t->xact[i].slave_id = 0;
	}
	spin_unlock_bh(&t->lock);
}

void ipvl_dhcp_port_init(struct ipvl_port *port)
{
	spin_lock_init(&port->dhcp.lock);
	/* Not 0: jiffies starts 5 minutes before wrapping. */
	port->dhcp.live_until = jiffies;
	net_get_random_once(&ipvl_dhcp_key, sizeof(ipvl_dhcp_key));
}

/* Room the counters of ipvl_dhcp_fill_stats() take in a link message. */
size_t ipvl_dhcp_stats_size(void)
{
	return 6 * nla_total_size_64bit(sizeof(u64));
}

/* The counters, inside IFLA_IPVLAN_X_STATS. */
int ipvl_dhcp_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	const struct ipvl_dhcp_table *t = &slave->port->dhcp;

	if (nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_TRACKED,
			      atomic64_read(&slave->x_dhcp_tracked),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_DELIVERED,
			      atomic64_read(&slave->x_dhcp_delivered),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_BAD,
			      atomic64_read(&slave->x_dhcp_bad),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_UNTRACKED,
			      atomic64_read(&t->untracked),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_UNMATCHED,
			      atomic64_read(&t->unmatched),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_DHCP_RX_BAD,
			      atomic64_read(&t->rx_bad),
			      IPVLAN_X_STATS_PAD))
		return -EMSGSIZE;
	return 0;
}
