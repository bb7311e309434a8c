// SPDX-License-Identifier: GPL-2.0-only
/*
 * The one parser of untrusted L3 headers, used by the switch (core.c: whom
 * a frame is for, or from) and by learning (learn.c: which addresses a
 * guest uses). One set of rules for both:
 *
 *  - headers are read with skb_header_pointer() at an offset from
 *    skb->data, never assumed to be in the linear area, and never pulled:
 *    the rx handler sees frames before skb_share_check(), so they may be
 *    shared and must not change;
 *  - ARP counts only for Ethernet/IPv4 (hln 6, pln 4, pro IPv4) with its
 *    whole body present; its opcode is reported only if its hardware type
 *    is one the IPv4 stack takes on Ethernet (arp_process(): ARPHRD_ETHER
 *    or ARPHRD_IEEE802), 0 otherwise. The switch does not check the
 *    hardware type, as the in-tree driver does not; the ARP filter
 *    (arpf.c) acts only on a frame with an opcode;
 *  - IPv4 needs version 4 and ihl >= 5 (options are never read);
 *  - IPv6 needs version 6. A neighbour solicitation or advertisement is
 *    recognised only as ICMPv6 right after the fixed header, with its
 *    whole message present; its type and target are reported, what they
 *    mean is the caller's business.
 *
 * Runs under RCU on the data path; no state.
 */

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <net/ndisc.h>

#include "ipvlan.h"

/* ARP payload for Ethernet/IPv4, after struct arphdr. */
struct ipvl_arp_eth_ip4 {
	u8	sha[ETH_ALEN];
	u8	sip[4];
	u8	tha[ETH_ALEN];
	u8	tip[4];
} __packed;

static bool ipvl_parse_arp(const struct sk_buff *skb, unsigned int off,
			   struct ipvl_l3hdr *h)
{
	const struct ipvl_arp_eth_ip4 *body;
	struct ipvl_arp_eth_ip4 _body;
	const struct arphdr *arp;
	struct arphdr _arp;

	arp = skb_header_pointer(skb, off, sizeof(_arp), &_arp);
	if (!arp || arp->ar_hln != ETH_ALEN || arp->ar_pln != 4 ||
	    arp->ar_pro != htons(ETH_P_IP))
		return false;
	body = skb_header_pointer(skb, off + sizeof(_arp), sizeof(_body),
				  &_body);
	if (!body)
		return false;
	if (arp->ar_hrd == htons(ARPHRD_ETHER) ||
	    arp->ar_hrd == htons(ARPHRD_IEEE802))
		h->arp_op = arp->ar_op;
	memcpy(&h->src.ip4, body->sip, sizeof(h->src.ip4));
	memcpy(&h->dst.ip4, body->tip, sizeof(h->dst.ip4));
	h->is_v6 = false;
	return true;
}

static bool ipvl_parse_ipv4(const struct sk_buff *skb, unsigned int off,
			    struct ipvl_l3hdr *h)
{
	const struct iphdr *iph;
	struct iphdr _iph;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph || iph->version != 4 || iph->ihl < 5)
		return false;
	h->src.ip4 = iph->saddr;
	h->dst.ip4 = iph->daddr;
	h->is_v6 = false;
	return true;
}

static bool ipvl_parse_ipv6(const struct sk_buff *skb, unsigned int off,
			    struct ipvl_l3hdr *h)
{
	const struct ipv6hdr *ip6h;
	struct ipv6hdr _ip6h;
	const struct nd_msg *nd;
	struct nd_msg _nd;

	ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
	if (!ip6h || ip6h->version != 6)
		return false;
	h->src.ip6 = ip6h->saddr;
	h->dst.ip6 = ip6h->daddr;
	h->is_v6 = true;
	if (ip6h->nexthdr != IPPROTO_ICMPV6)
		return true;

	nd = skb_header_pointer(skb, off + sizeof(_ip6h), sizeof(_nd), &_nd);
	if (nd && (nd->icmph.icmp6_type == NDISC_NEIGHBOUR_SOLICITATION ||
		   nd->icmph.icmp6_type == NDISC_NEIGHBOUR_ADVERTISEMENT)) {
		h->nd_type = nd->icmph.icmp6_type;
		h->nd_target = nd->target;
	}
	return true;
}

/**
 * ipvl_parse_l3 - read the L3 addresses of an untrusted frame
 * @skb: the frame
 * @off: offset of its L3 header from skb->data
 * @proto: its ethertype
 * @h: filled on success
 *
 * Return: false if the frame is not ARP, IPv4 or IPv6 as described above.
 */
bool ipvl_parse_l3(const struct sk_buff *skb, unsigned int off, __be16 proto,
		   struct ipvl_l3hdr *h)
{
	h->nd_type = 0;
	h->arp_op = 0;
	switch (proto) {
	case htons(ETH_P_ARP):
		return ipvl_parse_arp(skb, off, h);
	case htons(ETH_P_IP):
		return ipvl_parse_ipv4(skb, off, h);
	case htons(ETH_P_IPV6):
		return ipvl_parse_ipv6(skb, off, h);
	}
	return false;
}
