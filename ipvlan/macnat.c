// SPDX-License-Identifier: GPL-2.0-only
/*
 * MAC-NAT (IPVLAN_X_EXT_MAC_NAT, per slave, off by default): the guest
 * behind a slave keeps a MAC of its own (libvirt's 52:54:00:..., say)
 * while the wire only ever sees the master's.
 *
 * Which MAC is the guest's: the first unicast source MAC other than the
 * master's that the slave sends after the setting was turned on (or the
 * learned state flushed) is latched; from then on frames from any other
 * source MAC are dropped (mac_drops), the master's included. Until one is
 * latched the master's MAC is accepted as without MAC-NAT. One MAC per
 * slave: a VM's NIC has one; several MACs behind one slave (a bridge in
 * the guest) are not supported. Turning MAC-NAT off, or flushing the
 * slave's learned state, forgets the MAC.
 *
 * What is rewritten, by one rule: a hardware address that denotes the
 * guest is the guest's MAC on the guest's side and the master's MAC on the
 * wire's side; one that denotes anybody else is left alone.
 *
 *  - out (the guest sends, ipvl_macnat_tx()): every occurrence of the
 *    guest's MAC becomes the master's: Ethernet source, ARP sender and
 *    target hardware address, the link-layer address options of neighbour
 *    discovery (source in RS, RA, NS; target in NA and redirect), and
 *    the chaddr of a DHCPv4 client message (so that the server's reply
 *    comes back to the master's MAC; dhcp.c tells the guests apart by
 *    xid and client identifier). A malformed ARP or ND message, or a
 *    VLAN-tagged frame, might hide the guest's MAC from this parser: it is
 *    dropped (macnat_bad) rather than let out;
 *  - in (a frame handed to the slave, ipvl_macnat_rx()): the master's MAC
 *    becomes the guest's where it denotes the guest: the Ethernet
 *    destination of a unicast frame (it was switched to this slave), an
 *    ARP hardware address whose IPv4 address (sender's, target's) this
 *    slave owns, an ND option whose address (the source of RS/RA/NS, the
 *    target of NA/redirect) this slave owns, and the chaddr of a DHCPv4
 *    server reply. Broadcast and multicast destinations are untouched, and
 *    so are the host's own and the sibling guests' addresses: on the wire
 *    they are the master's MAC, and so they are for the guest, whose
 *    frames to them go back through the slave (never to the wire as its
 *    own MAC).
 *
 * The ICMPv6 and UDP checksums are updated for what changed (left alone
 * when the stack will compute them, CHECKSUM_PARTIAL); a received frame
 * whose L3 payload changed loses CHECKSUM_COMPLETE.
 *
 * Anti-spoofing is learning's (learn.c), unchanged: the latched MAC is
 * private to the slave, never seen on the wire and never used to switch
 * (switching stays on L3 addresses), so a guest cannot take another's
 * frames by choosing a MAC; learning then polices the addresses of the
 * rewritten frame exactly as for a guest using the master's MAC.
 *
 * Headers are read with skb_header_pointer() first; a frame is made
 * writable (skb_ensure_writable(), which also unshares a cloned head) only
 * when something must change, by callers that own the skb (after
 * skb_share_check(), or a clone of their own).
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ndisc.h>

#include "ipvlan.h"
#include "uapi/ipvlan_ext.h"

#define IPVL_MN_DHCP_SERVER	67
#define IPVL_MN_DHCP_CLIENT	68
/* BOOTP: op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr,
 * giaddr, then chaddr.
 */
#define IPVL_MN_BOOTP_CHADDR	28

/* ARP for Ethernet/IPv4: header and body. */
struct ipvl_mn_arp {
	struct arphdr	hdr;
	u8		sha[ETH_ALEN];
	u8		sip[4];
	u8		tha[ETH_ALEN];
	u8		tip[4];
} __packed;

/* One frame being rewritten. */
struct ipvl_mn {
	struct ipvl_dev	*slave;
	const u8	*master;		/* the master's MAC */
	u8		guest[ETH_ALEN];	/* the latched MAC */
	unsigned int	off;			/* L3 header, from skb->data */
	bool		out;			/* sent by the guest */
};

/* True if @ip is this slave's (configured or learned). RCU held. */
static bool ipvl_mn_owns(const struct ipvl_mn *mn, const void *ip, bool is_v6)
{
	struct ipvl_addr *a;

	if (!ip)
		return true;
	a = ipvl_addr_lookup(mn->slave->port, ip, is_v6);
	return a && a->slave == mn->slave;
}

/*
 * Rewrite the hardware address @mac (a copy, 6 bytes) if it denotes the
 * guest: out, the guest's MAC becomes the master's; in, the master's MAC
 * becomes the guest's if @ip (the address it goes with; NULL: the frame's
 * receiver) is this slave's. Return: true if @mac changed.
 */
static bool ipvl_mn_swap(const struct ipvl_mn *mn, u8 *mac, const void *ip,
			 bool is_v6)
{
	if (mn->out) {
		if (!ether_addr_equal_unaligned(mac, mn->guest))
			return false;
		memcpy(mac, mn->master, ETH_ALEN);
		return true;
	}
	if (!ether_addr_equal_unaligned(mac, mn->master) ||
	    !ipvl_mn_owns(mn, ip, is_v6))
		return false;
	memcpy(mac, mn->guest, ETH_ALEN);
	return true;
}

/* Write @len bytes at @off (from skb->data). Return: 0 or -ENOMEM. */
static int ipvl_mn_write(struct sk_buff *skb, unsigned int off,
			 const void *data, unsigned int len)
{
	if (skb_ensure_writable(skb, off + len))
		return -ENOMEM;
	memcpy(skb->data + off, data, len);
	return 0;
}

/*
 * A checksum at @csum_off covering a 6-byte field at an even offset from
 * its start, which changed from @old to @new. Caller made it writable.
 */
static void ipvl_mn_csum(struct sk_buff *skb, unsigned int csum_off,
			 const u8 *old, const u8 *new)
{
	__sum16 *sum = (__sum16 *)(skb->data + csum_off);
	__wsum diff;

	/* Partial: the stack sums the data later, the field holds only
	 * the pseudo-header's sum.
	 */
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		return;
	diff = csum_sub(csum_partial(new, ETH_ALEN, 0),
			csum_partial(old, ETH_ALEN, 0));
	csum_replace_by_diff(sum, diff);
}

/* Return: 1 changed, 0 nothing to do, -EINVAL malformed, -ENOMEM. */
static int ipvl_mn_arp(struct sk_buff *skb, const struct ipvl_mn *mn)
{
	struct ipvl_mn_arp arp;
	bool changed;

	if (skb_copy_bits(skb, mn->off, &arp, sizeof(arp)) ||
	    arp.hdr.ar_hln != ETH_ALEN || arp.hdr.ar_pln != 4 ||
	    arp.hdr.ar_pro != htons(ETH_P_IP))
		return mn->out ? -EINVAL : 0;
	changed = ipvl_mn_swap(mn, arp.sha, arp.sip, false);
	changed |= ipvl_mn_swap(mn, arp.tha, arp.tip, false);
	if (!changed)
		return 0;
	return ipvl_mn_write(skb, mn->off, &arp, sizeof(arp)) ?: 1;
}

/*
 * Neighbour discovery: the link-layer address options of RS, RA, NS, NA
 * and redirect. Anything else in IPv6 carries no hardware address.
 */
static int ipvl_mn_nd(struct sk_buff *skb, const struct ipvl_mn *mn)
{
	unsigned int icmp = mn->off + sizeof(struct ipv6hdr);
	struct in6_addr who;	/* the address the option goes with */
	unsigned int o, end, optlen;
	struct icmp6hdr _ic, *ic;
	struct ipv6hdr _ip6, *ip6;
	u8 opt[8], old[ETH_ALEN];
	bool by_target;
	int changed = 0;
	u8 want;

	ip6 = skb_header_pointer(skb, mn->off, sizeof(_ip6), &_ip6);
	if (!ip6 || ip6->version != 6 || ip6->nexthdr != IPPROTO_ICMPV6)
		return 0;
	ic = skb_header_pointer(skb, icmp, sizeof(_ic), &_ic);
	if (!ic)
		return 0;
	by_target = false;
	switch (ic->icmp6_type) {
	case NDISC_ROUTER_SOLICITATION:
		o = sizeof(struct rs_msg);
		want = ND_OPT_SOURCE_LL_ADDR;
		break;
	case NDISC_ROUTER_ADVERTISEMENT:
		o = sizeof(struct ra_msg);
		want = ND_OPT_SOURCE_LL_ADDR;
		break;
	case NDISC_NEIGHBOUR_SOLICITATION:
		o = sizeof(struct nd_msg);
		want = ND_OPT_SOURCE_LL_ADDR;
		break;
	case NDISC_NEIGHBOUR_ADVERTISEMENT:
		o = sizeof(struct nd_msg);
		want = ND_OPT_TARGET_LL_ADDR;
		by_target = true;
		break;
	case NDISC_REDIRECT:
		o = sizeof(struct rd_msg);
		want = ND_OPT_TARGET_LL_ADDR;
		by_target = true;
		break;
	default:
		return 0;
	}
	end = icmp + ntohs(ip6->payload_len);
	if (end > skb->len || end < icmp + o)
		return mn->out ? -EINVAL : 0;
	/* NA and redirect: the target follows the 8-byte ICMPv6 header. */
	if (!by_target)
		who = ip6->saddr;
	else if (skb_copy_bits(skb, icmp + sizeof(*ic), &who, sizeof(who)))
		return mn->out ? -EINVAL : 0;

	for (o += icmp; o < end; o += optlen) {
		if (end - o < 2 || skb_copy_bits(skb, o, opt, 2))
			return mn->out ? -EINVAL : changed;
		optlen = opt[1] * 8;
		if (!optlen || optlen > end - o)
			return mn->out ? -EINVAL : changed;
		if (opt[0] != want || optlen != sizeof(opt))
			continue;
		if (skb_copy_bits(skb, o, opt, sizeof(opt)))
			return mn->out ? -EINVAL : changed;
		memcpy(old, opt + 2, ETH_ALEN);
		if (!ipvl_mn_swap(mn, opt + 2, &who, true))
			continue;
		/* Option at a multiple of 8 from the ICMPv6 header: even. */
		if (ipvl_mn_write(skb, o + 2, opt + 2, ETH_ALEN))
			return -ENOMEM;
		ipvl_mn_csum(skb, icmp + offsetof(struct icmp6hdr, icmp6_cksum),
			     old, opt + 2);
		changed = 1;
	}
	return changed;
}

/* DHCPv4: chaddr of a client message (out) or a server reply (in). */
static int ipvl_mn_dhcp(struct sk_buff *skb, const struct ipvl_mn *mn)
{
	u8 bootp[3], mac[ETH_ALEN], old[ETH_ALEN];
	struct udphdr _uh, *uh;
	struct iphdr _iph, *iph;
	unsigned int udp, chaddr;
	__be16 sport, dport;

	iph = skb_header_pointer(skb, mn->off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5 ||
	    iph->protocol != IPPROTO_UDP || ip_is_fragment(iph))
		return 0;
	udp = mn->off + iph->ihl * 4;
	uh = skb_header_pointer(skb, udp, sizeof(_uh), &_uh);
	if (!uh)
		return 0;
	sport = htons(mn->out ? IPVL_MN_DHCP_CLIENT : IPVL_MN_DHCP_SERVER);
	dport = htons(mn->out ? IPVL_MN_DHCP_SERVER : IPVL_MN_DHCP_CLIENT);
	if (uh->source != sport || uh->dest != dport)
		return 0;
	chaddr = udp + sizeof(*uh) + IPVL_MN_BOOTP_CHADDR;
	/* Lengths beyond the frame are dhcp.c's to judge: not rewritten. */
	if (ntohs(uh->len) < chaddr + ETH_ALEN - udp ||
	    skb_copy_bits(skb, udp + sizeof(*uh), bootp, sizeof(bootp)) ||
	    skb_copy_bits(skb, chaddr, mac, ETH_ALEN))
		return 0;
	/* htype Ethernet, hlen 6 */
	if (bootp[1] != ARPHRD_ETHER || bootp[2] != ETH_ALEN)
		return 0;
	memcpy(old, mac, ETH_ALEN);
	if (!ipvl_mn_swap(mn, mac, NULL, false))
		return 0;
	if (ipvl_mn_write(skb, chaddr, mac, ETH_ALEN))
		return -ENOMEM;
	uh = (struct udphdr *)(skb->data + udp);
	/* IPv4 UDP without a checksum stays without one. */
	if (uh->check) {
		/* chaddr is at an even offset from the UDP header. */
		ipvl_mn_csum(skb, udp + offsetof(struct udphdr, check), old,
			     mac);
		if (!uh->check && skb->ip_summed != CHECKSUM_PARTIAL)
			uh->check = CSUM_MANGLED_0;
	}
	return 1;
}

/* The frame's L3 payload, by its ethertype. Return: as ipvl_mn_arp(). */
static int ipvl_mn_l3(struct sk_buff *skb, const struct ipvl_mn *mn)
{
	switch (eth_hdr(skb)->h_proto) {
	case htons(ETH_P_ARP):
		return ipvl_mn_arp(skb, mn);
	case htons(ETH_P_IPV6):
		return ipvl_mn_nd(skb, mn);
	case htons(ETH_P_IP):
		return ipvl_mn_dhcp(skb, mn);
	case htons(ETH_P_8021Q):
	case htons(ETH_P_8021AD):
		/* Tagged: whatever is inside stays unread. */
		return mn->out ? -EINVAL : 0;
	}
	return 0;
}

/**
 * ipvl_macnat_guest - the MAC latched for @slave's guest
 * @slave: the slave
 * @mac: filled if there is one
 *
 * Return: true if MAC-NAT is on and a MAC is latched.
 */
bool ipvl_macnat_guest(const struct ipvl_dev *slave, u8 *mac)
{
	u64 v;

	if (!READ_ONCE(slave->mac_nat))
		return false;
	v = atomic64_read(&slave->guest_mac);
	if (!v)
		return false;
	u64_to_ether_addr(v, mac);
	return true;
}

/**
 * ipvl_macnat_tx - police and rewrite a frame the guest sends
 * @slave: the slave, MAC-NAT on
 * @skb: the frame, Ethernet header at skb->data (pulled), owned here
 *
 * Return: false if the frame must be dropped (counted here, except when
 * memory ran out).
 */
bool ipvl_macnat_tx(struct ipvl_dev *slave, struct sk_buff *skb)
{
	const u8 *master = slave->master->dev_addr;
	const u8 *src = eth_hdr(skb)->h_source;
	u64 mac = ether_addr_to_u64(src);
	struct ipvl_mn mn;
	u64 cur;
	int ret;

	cur = atomic64_read(&slave->guest_mac);
	if (!cur) {
		if (ether_addr_equal(src, master))
			return true;	/* as without MAC-NAT */
		if (!is_valid_ether_addr(src))
			goto bad_mac;
		cur = atomic64_cmpxchg(&slave->guest_mac, 0, mac);
		if (!cur) {
			cur = mac;
			netdev_info(slave->dev, "MAC-NAT: guest MAC %pM\n", src);
		}
	}
	if (cur != mac)
		goto bad_mac;

	mn.slave = slave;
	mn.master = master;
	u64_to_ether_addr(cur, mn.guest);
	mn.off = ETH_HLEN;
	mn.out = true;
	ret = ipvl_mn_l3(skb, &mn);
	if (ret == -EINVAL) {
		atomic64_inc(&slave->x_macnat_bad);
		net_info_ratelimited("%s: MAC-NAT: dropped a malformed or tagged frame from %pM\n",
				     slave->dev->name, mn.guest);
		return false;
	}
	if (ret < 0 || skb_ensure_writable(skb, ETH_HLEN))
		return false;
	ether_addr_copy(eth_hdr(skb)->h_source, master);
	atomic64_inc(&slave->x_macnat_tx);
	return true;

bad_mac:
	atomic64_inc(&slave->x_mac_drops);
	net_info_ratelimited("%s: dropped frame from %pM: MAC-NAT takes one guest MAC per slave\n",
			     slave->dev->name, src);
	return false;
}

/**
 * ipvl_macnat_rx - rewrite a frame handed to @slave's guest
 * @slave: the slave, MAC-NAT on
 * @skb: the frame, owned by the caller (not shared); its Ethernet header
 *	at skb_mac_header(), data at it (sent by a sibling) or after it
 *
 * Caller holds RCU. Return: false if memory ran out (the caller drops it).
 */
bool ipvl_macnat_rx(struct ipvl_dev *slave, struct sk_buff *skb)
{
	int l3 = skb_mac_offset(skb) + ETH_HLEN;
	struct ipvl_mn mn;
	struct ethhdr *eth;
	bool changed;
	int ret;

	if (!ipvl_macnat_guest(slave, mn.guest) || l3 < 0)
		return true;
	mn.slave = slave;
	mn.master = slave->master->dev_addr;
	mn.off = l3;
	mn.out = false;
	ret = ipvl_mn_l3(skb, &mn);
	if (ret < 0)
		return false;
	changed = ret > 0;
	/* The payload changed under a checksum of the whole of it. */
	if (changed && skb->ip_summed == CHECKSUM_COMPLETE)
		skb->ip_summed = CHECKSUM_NONE;

	eth = eth_hdr(skb);
	if (is_unicast_ether_addr(eth->h_dest) &&
	    ether_addr_equal(eth->h_dest, mn.master)) {
		if (skb_ensure_writable(skb, l3))
			return false;
		ether_addr_copy(eth_hdr(skb)->h_dest, mn.guest);
		changed = true;
	}
	if (changed)
		atomic64_inc(&slave->x_macnat_rx);
	return true;
}

/**
 * ipvl_macnat_set - turn MAC-NAT on or off
 * @slave: the slave
 * @on: the setting
 *
 * A change forgets the latched MAC. RTNL held.
 */
void ipvl_macnat_set(struct ipvl_dev *slave, bool on)
{
	ASSERT_RTNL();
	if (on == slave->mac_nat)
		return;
	WRITE_ONCE(slave->mac_nat, on);
	atomic64_set(&slave->guest_mac, 0);
}

/* Forget the latched MAC (flush): the next guest MAC latches. RTNL held. */
void ipvl_macnat_forget(struct ipvl_dev *slave)
{
	ASSERT_RTNL();
	atomic64_set(&slave->guest_mac, 0);
}

/* Room of ipvl_macnat_fill_ext()'s members in a link message. */
size_t ipvl_macnat_ext_size(void)
{
	return nla_total_size(sizeof(u8)) +	/* IPVLAN_X_EXT_MAC_NAT */
	       nla_total_size(ETH_ALEN);	/* IPVLAN_X_EXT_GUEST_MAC */
}

/* The setting and the latched MAC, inside IFLA_IPVLAN_X_EXT. */
int ipvl_macnat_fill_ext(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	u8 mac[ETH_ALEN];

	if (nla_put_u8(skb, IPVLAN_X_EXT_MAC_NAT, READ_ONCE(slave->mac_nat)))
		return -EMSGSIZE;
	if (ipvl_macnat_guest(slave, mac) &&
	    nla_put(skb, IPVLAN_X_EXT_GUEST_MAC, ETH_ALEN, mac))
		return -EMSGSIZE;
	return 0;
}

size_t ipvl_macnat_stats_size(void)
{
	return 3 * nla_total_size_64bit(sizeof(u64));
}

/* The counters, inside IFLA_IPVLAN_X_STATS. */
int ipvl_macnat_fill_stats(struct sk_buff *skb, const struct ipvl_dev *slave)
{
	if (nla_put_u64_64bit(skb, IPVLAN_X_STATS_MACNAT_TX,
			      atomic64_read(&slave->x_macnat_tx),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_MACNAT_RX,
			      atomic64_read(&slave->x_macnat_rx),
			      IPVLAN_X_STATS_PAD) ||
	    nla_put_u64_64bit(skb, IPVLAN_X_STATS_MACNAT_BAD,
			      atomic64_read(&slave->x_macnat_bad),
			      IPVLAN_X_STATS_PAD))
		return -EMSGSIZE;
	return 0;
}
