// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: releases. A socket of a namespace let go of a port (or is
 * about to): the port's bit is cleared only if no other socket of the
 * namespace holds it, judged under the port's bind hash chain or UDP slot
 * lock, so that shared ports stay counted and TIME_WAIT ports stay in
 * use. Called from the hooks, in atomic context.
 *
 * The locks are taken with interrupts off, so that no softirq runs (and
 * hits a probe) while one is held, like the kernel's own inet_put_port()
 * and udp_lib_unhash() do at the same place.
 */
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <net/inet_hashtables.h>
#include <net/udp.h>

#include "netns.h"
#include "tables.h"

/*
 * A socket of the namespace gave up @port: its release function has
 * returned and the kernel dropped the chain lock; it is taken again here.
 */
void ephport_net_released(struct ephport_net *en, enum ephport_proto proto,
			  u32 port)
{
	struct net *net = en->net;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	local_irq_save(flags);
	if (proto == EPHPORT_TCP) {
		struct inet_bind_hashbucket *head = ephport_tcp_chain(net, port);

		spin_lock(&head->lock);
		if (!ephport_tcp_held(head, net, port))
			alarm = ephport_net_unbind(en, proto, port);
		spin_unlock(&head->lock);
	} else {
		struct udp_hslot *hslot = ephport_udp_slot(net, port);

		spin_lock(&hslot->lock);
		if (!ephport_udp_held(hslot, net, port, NULL))
			alarm = ephport_net_unbind(en, proto, port);
		spin_unlock(&hslot->lock);
	}
	local_irq_restore(flags);
	if (alarm)
		ephport_netns_kick();
}

/*
 * A TIME_WAIT socket of the namespace left the bind hash. Its callers
 * hold the chain lock of its port (inet_twsk_bind_unhash()'s contract,
 * checked by lockdep), so the chain is read here without taking it.
 */
void ephport_net_released_locked(struct ephport_net *en, u32 port)
{
	struct inet_bind_hashbucket *head;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	head = ephport_tcp_chain(en->net, port);
	lockdep_assert_held(&head->lock);
	local_irq_save(flags);
	if (!ephport_tcp_held(head, en->net, port))
		alarm = ephport_net_unbind(en, EPHPORT_TCP, port);
	local_irq_restore(flags);
	if (alarm)
		ephport_netns_kick();
}

/*
 * Releases at entry, for hooks that only see a function's entry (ftrace
 * on kernels without fprobe): the owner @leaving (a socket's or a
 * TIME_WAIT socket's bind node) is about to leave @port's bind bucket.
 * @locked: the caller holds the chain lock (inet_twsk_bind_unhash()),
 * else it is taken here, before the kernel's own inet_put_port() does.
 */
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked)
{
	struct inet_bind_hashbucket *head;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	head = ephport_tcp_chain(en->net, port);
	local_irq_save(flags);
	if (locked)
		lockdep_assert_held(&head->lock);
	else
		spin_lock(&head->lock);
	if (!ephport_tcp_held_but(head, en->net, port, leaving))
		alarm = ephport_net_unbind(en, EPHPORT_TCP, port);
	if (!locked)
		spin_unlock(&head->lock);
	local_irq_restore(flags);
	if (alarm)
		ephport_netns_kick();
}

/* @sk is about to leave the UDP table, from udp_lib_unhash(). */
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk)
{
	struct udp_hslot *hslot;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	hslot = ephport_udp_slot(en->net, port);
	local_irq_save(flags);
	spin_lock(&hslot->lock);
	if (!ephport_udp_held(hslot, en->net, port, sk))
		alarm = ephport_net_unbind(en, EPHPORT_UDP, port);
	spin_unlock(&hslot->lock);
	local_irq_restore(flags);
	if (alarm)
		ephport_netns_kick();
}
