// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipvlan broadcast and multicast.
 *
 * Such frames may be for any number of slaves, so they are not delivered
 * in the receive/transmit path: they are queued on the port's backlog,
 * bounded by IFLA_IPVLAN_X_MC_QUEUE_LEN (what does not fit is counted in
 * IPVLAN_X_STATS_MC_DROPS), and a work item hands a clone to every
 * running slave whose multicast filter accepts the destination. Frames
 * sent by a slave skip the sender and then leave through the master.
 * Frames from the wire are clones: the master's own stack keeps the
 * original. The ARP filter (arpf.c) looks at each frame once before the
 * walk and may keep it from the slaves that do not own the target of an
 * ARP request.
 *
 * Small ports skip the work item for frames from the wire (inline
 * delivery, see ipvl_mc_inline()): the walk is the same, done in the
 * master's receive softirq, as long as the port has at most mc_inline_max
 * slaves and nothing waits in its backlog. Counted per master in
 * IPVLAN_X_STATS_MC_INLINE.
 */

#include <linux/etherdevice.h>
#include <linux/hash.h>
#include <linux/module.h>

#include "ipvlan.h"

/*
 * Inline delivery: a broadcast/multicast frame from the wire is handed to
 * the slaves in the master's receive softirq, not by the port's work item,
 * when the port has at most this many slaves (registered, up or not: the
 * walk visits them all) and its backlog is empty. 0 turns it off.
 *
 * Why a small bound: the walk then costs at most a few clones in the
 * softirq, less than waking the work item once per frame (queue_work_on
 * and the kworker's context switch were about 12% of the 1-slave
 * broadcast profile); a port with hundreds of slaves keeps its walk out
 * of the softirq, which must not run for a tick per frame. Why 4: make
 * bench's arp_bcast (ours/in-tree, 4 rounds each) went from 0.66-1.59 to
 * 2.00-2.65 with 1 slave, 1.01-3.07 to 1.51-3.59 with 2 and 1.16-2.29 to
 * 0.98-3.02 with 4, with no copy lost at the port's backlog any more;
 * larger ports were not measured inline (README, Benchmarks).
 */
static unsigned int mc_inline_max = 4;
module_param(mc_inline_max, uint, 0644);
MODULE_PARM_DESC(mc_inline_max,
		 "broadcast/multicast from the wire is delivered in the receive softirq on ports with at most this many slaves (default 4, 0: never)");

/* Bucket of a destination MAC in a slave's multicast filter. */
unsigned int ipvl_mc_hash(const u8 *mac)
{
	return hash_32(get_unaligned_be32(mac + 2), IPVL_MC_FILTER_BITS);
}

/**
 * ipvl_mc_filter_sync - rebuild a slave's filter from its multicast list
 * @slave: the slave, its addr_list_lock held (ndo_set_rx_mode)
 *
 * Also pushes the slave's unicast and multicast lists to the master so
 * that its hardware filter lets the frames in.
 */
void ipvl_mc_filter_sync(struct ipvl_dev *slave)
{
	DECLARE_BITMAP(filter, IPVL_MC_FILTER_SIZE);
	struct net_device *dev = slave->dev;
	struct netdev_hw_addr *ha;

	/* A learning slave's guest joins groups the host cannot see. */
	if ((dev->flags & (IFF_PROMISC | IFF_ALLMULTI)) ||
	    READ_ONCE(slave->learn)) {
		bitmap_fill(filter, IPVL_MC_FILTER_SIZE);
	} else {
		bitmap_zero(filter, IPVL_MC_FILTER_SIZE);
		netdev_for_each_mc_addr(ha, dev)
			__set_bit(ipvl_mc_hash(ha->addr), filter);
		__set_bit(ipvl_mc_hash(dev->broadcast), filter);
	}
	bitmap_copy(slave->mc_filter, filter, IPVL_MC_FILTER_SIZE);

	dev_uc_sync(slave->master, dev);
	dev_mc_sync(slave->master, dev);
}

/*
 * Hand a copy of a broadcast/multicast frame to one slave: received here
 * and now (@now: the work item, or inline delivery from the master's rx
 * handler, see ipvl_mc_inline()) or through this CPU's backlog (the ARP
 * filter's walk-free path, in the receive or transmit path). Called with
 * BHs off and RCU held.
 */
static void ipvl_mc_deliver(struct sk_buff *skb, struct ipvl_dev *slave,
			    u8 pkt_type, bool now)
{
	const struct ipvl_skb_cb *cb = IPVL_SKB_CB(skb);
	unsigned int len = skb->len + (cb->tx ? 0 : ETH_HLEN);
	struct sk_buff *nskb;
	int ret;

	nskb = skb_clone(skb, GFP_ATOMIC);
	if (!nskb) {
		ipvl_count_rx(slave, len, false, true);
		return;
	}
	/* Received here and now, not through this CPU's backlog: a port
	 * with more slaves than netdev_max_backlog would drop its own
	 * copies whenever the receive softirq falls behind.
	 */
	if (cb->tx) {
		/* __dev_forward_skb() scrubs, sets pkt_type, frees on error. */
		ret = __dev_forward_skb(slave->dev, nskb);
		if (ret != NET_RX_SUCCESS) {
			ipvl_count_rx(slave, len, false, true);
			return;
		}
	} else {
		if (!net_eq(dev_net(nskb->dev), dev_net(slave->dev)))
			skb_scrub_packet(nskb, true);
		nskb->pkt_type = pkt_type;
		nskb->dev = slave->dev;
	}
	/* A copy of its own: MAC-NAT may rewrite it (macnat.c). */
	if (!ipvl_macnat_in(slave, nskb)) {
		kfree_skb(nskb);
		ipvl_count_rx(slave, len, false, true);
		return;
	}
	/* Counted as received once handed to the slave's stack, as a NIC
	 * does; what the stack then drops, it counts itself.
	 */
	if (now) {
		ipvl_count_rx(slave, len, true, true);
		netif_receive_skb(nskb);
	} else {
		ipvl_count_rx(slave, len, netif_rx(nskb) == NET_RX_SUCCESS,
			      true);
	}
}

/*
 * The ARP filter's walk-free path (arpf.c): a broadcast ARP request that
 * the filter gives to the owners of its target and sender only, on a port
 * without promiscuous or learning slaves, reaches those owners at once;
 * the copies the other running slaves would have got are counted from
 * port->n_running, not found by a walk. Called in the receive or transmit
 * path, RCU held. Return: true if @skb was consumed.
 */
static bool ipvl_mc_arpf_fast(struct ipvl_port *port, struct sk_buff *skb)
{
	const struct ipvl_skb_cb *cb = IPVL_SKB_CB(skb);
	unsigned int bit, handed = 0;
	struct ipvl_dev *to[2];
	int others;
	struct ipvl_arpf v;
	int i;

	if (READ_ONCE(port->n_wild))
		return false;
	ipvl_arpf_decide(port, skb, &v);
	if (!v.active || v.walk)
		return false;

	bit = ipvl_mc_hash(eth_hdr(skb)->h_dest);
	to[0] = v.owner;
	to[1] = v.sender != v.owner ? v.sender : NULL;
	for (i = 0; i < ARRAY_SIZE(to); i++) {
		if (!to[i] || (cb->tx && to[i]->id == cb->src_id) ||
		    !test_bit(bit, to[i]->mc_filter))
			continue;
		ipvl_mc_deliver(skb, to[i], PACKET_BROADCAST, false);
		handed++;
	}
	/* The sender of a request from a slave gets no copy either way. */
	others = (int)READ_ONCE(port->n_running) - (cb->tx ? 1 : 0) - handed;
	if (others > 0)
		atomic64_add(others, &port->arp_filtered);

	if (cb->tx) {
		skb->pkt_type = PACKET_BROADCAST;
		dev_queue_xmit(skb);
	} else {
		consume_skb(skb);
	}
	return true;
}

/*
 * Hand @skb to every running slave that takes it, the sender excepted,
 * each copy received at once (ipvl_mc_deliver() with @now). Called with
 * BHs off and RCU held. @batch: the work item's walk, which may be long:
 * it lets pending softirqs run about once a tick.
 */
static void ipvl_mc_walk(struct ipvl_port *port, struct sk_buff *skb,
			 bool batch)
{
	const struct ipvl_skb_cb *cb = IPVL_SKB_CB(skb);
	const u8 *dest = eth_hdr(skb)->h_dest;
	unsigned int bit = ipvl_mc_hash(dest);
	unsigned long since = jiffies;
	unsigned int filtered = 0;
	unsigned int handed = 0;
	struct ipvl_dev *slave;
	struct ipvl_arpf arpf;
	u8 pkt_type;

	pkt_type = is_broadcast_ether_addr(dest) ? PACKET_BROADCAST :
						   PACKET_MULTICAST;

	/* Once per frame; it reads the header, never pulls it. */
	ipvl_arpf_decide(port, skb, &arpf);
	list_for_each_entry_rcu(slave, &port->slaves, pnode) {
		if (cb->tx && slave->id == cb->src_id)
			continue;
		if (!(slave->dev->flags & IFF_UP) ||
		    !test_bit(bit, slave->mc_filter))
			continue;
		if (ipvl_arpf_skip(&arpf, slave)) {
			filtered++;
			continue;
		}
		ipvl_mc_deliver(skb, slave, pkt_type, true);
		/* A broadcast to thousands of slaves is a long walk: keep
		 * BHs off for about a tick at most, then let pending
		 * softirqs run. Nothing waits for them here any more (the
		 * copies are received above), so not more often. The RCU
		 * read section stays open, so the walk goes on safely.
		 */
		if (batch && ++handed % IPVL_MC_BATCH == 0 &&
		    time_after(jiffies, since)) {
			local_bh_enable();
			local_bh_disable();
			since = jiffies;
		}
	}
	if (filtered)
		atomic64_add(filtered, &port->arp_filtered);
}

/*
 * Inline delivery of a frame from the wire (see mc_inline_max above).
 * Called from the master's rx handler: softirq, RCU held. Return: true if
 * @skb (the master's clone) was delivered and consumed.
 *
 * Each copy is received with netif_receive_skb() from inside the master's
 * own __netif_receive_skb(), as the bridge hands frames to its own device
 * from its rx handler: one level deeper on the stack (a slave is never
 * an ipvlan master itself, netlink.c), and no further queue, so no copy
 * is lost to a full netdev_max_backlog. The work item receives its copies
 * the same way, so what a slave's stack sees does not depend on the path.
 *
 * Order: mc_pending counts the frames queued for or being handed out by
 * the work item; while it is not zero every frame from the wire queues
 * behind them, so a frame never overtakes an earlier one of the same
 * receive queue. The count is read without the backlog's lock: a frame
 * queued on another CPU meanwhile came from another receive queue, not
 * ordered against this one anyway.
 *
 * Frames sent by a slave stay on the work item: the transmit path runs
 * with BHs off inside the sender's ndo_start_xmit (maybe nested in a
 * dev_queue_xmit() of an upper device), where receiving the copies at
 * once would run the siblings' whole stack, and their replies'
 * transmission, recursively under the sender's transmit. Their rate
 * (ARP, ND, DHCP, mDNS of the slaves) is too low for the wake-up to
 * matter.
 */
static bool ipvl_mc_inline(struct ipvl_port *port, struct sk_buff *skb)
{
	if (READ_ONCE(port->count) > READ_ONCE(mc_inline_max) ||
	    atomic_read(&port->mc_pending))
		return false;
	ipvl_mc_walk(port, skb, false);
	atomic64_inc(&port->mc_inline);
	consume_skb(skb);
	return true;
}

/**
 * ipvl_mc_enqueue - queue a broadcast/multicast frame for the port's work
 * @port: the master's port
 * @skb: the frame; consumed
 * @src_id: id of the sending slave, 0 for a frame from the wire
 * @tx: sent by a slave (data at the Ethernet header) or received
 *
 * A frame from the wire may be delivered at once instead, on a small port
 * (ipvl_mc_inline()).
 */
void ipvl_mc_enqueue(struct ipvl_port *port, struct sk_buff *skb, u64 src_id,
		     bool tx)
{
	struct ipvl_skb_cb *cb = IPVL_SKB_CB(skb);

	if (tx) {
		skb_reset_mac_header(skb);
		if (!net_eq(dev_net(skb->dev), dev_net(port->dev)))
			skb_scrub_packet(skb, true);
	}
	skb->dev = port->dev;
	cb->src_id = src_id;
	cb->tx = tx;
	if (ipvl_mc_arpf_fast(port, skb))
		return;
	if (!tx && ipvl_mc_inline(port, skb))
		return;

	spin_lock(&port->backlog.lock);
	if (skb_queue_len(&port->backlog) < READ_ONCE(port->mc_queue_len)) {
		__skb_queue_tail(&port->backlog, skb);
		atomic_inc(&port->mc_pending);
		spin_unlock(&port->backlog.lock);
		schedule_work(&port->mc_work);
		return;
	}
	spin_unlock(&port->backlog.lock);
	atomic64_inc(&port->mc_dropped);
	dev_core_stats_rx_dropped_inc(port->dev);
	kfree_skb(skb);
}

static void ipvl_mc_process(struct ipvl_port *port, struct sk_buff *skb)
{
	const struct ipvl_skb_cb *cb = IPVL_SKB_CB(skb);

	local_bh_disable();
	rcu_read_lock();
	ipvl_mc_walk(port, skb, true);
	rcu_read_unlock();
	local_bh_enable();

	if (cb->tx) {
		/* Sent by a slave: now it goes out to the wire. */
		skb->pkt_type = is_broadcast_ether_addr(eth_hdr(skb)->h_dest) ?
				PACKET_BROADCAST : PACKET_MULTICAST;
		dev_queue_xmit(skb);
	} else {
		consume_skb(skb);
	}
}

/* Work item of a port: drain the backlog. Process context. */
void ipvl_mc_work(struct work_struct *work)
{
	struct ipvl_port *port = container_of(work, struct ipvl_port, mc_work);
	struct sk_buff_head list;
	struct sk_buff *skb;

	__skb_queue_head_init(&list);
	spin_lock_bh(&port->backlog.lock);
	skb_queue_splice_tail_init(&port->backlog, &list);
	spin_unlock_bh(&port->backlog.lock);

	while ((skb = __skb_dequeue(&list))) {
		ipvl_mc_process(port, skb);
		/* Handed out: frames from the wire may go inline again. */
		atomic_dec(&port->mc_pending);
		cond_resched();
	}
}
