// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: releases, judged in this one place. A socket of a namespace
 * is about to let go of a port: if no other owner in the namespace holds
 * it, judged under the port's bind hash chain or UDP slot lock (so that
 * shared ports stay counted and TIME_WAIT ports stay in use), random mode
 * is told first (the port rests from now) and then the counting (its bit
 * is cleared): in that order, a choice made meanwhile finds the port
 * either bound or resting, never free before its delay. Called from the
 * hooks at the entry of the kernel's release functions, in atomic
 * context.
 *
 * Judged at entry, not at return: the kernel frees the buckets inside
 * its release functions (inet_put_port() and inet_twsk_bind_unhash()
 * inline inet_bind_bucket_destroy()), so nothing runs between its
 * unlinking and its unlock that a probe could see. An owner that joins
 * after the judgement (a bind with SO_REUSEADDR, an accepted child) sets
 * the bit from its own hook after it joined, so it wins.
 *
 * The locks are taken with interrupts off, so that no softirq runs (and
 * hits a probe) while one is held, as the kernel's own inet_put_port()
 * and udp_lib_unhash() do at the same place. The TIME_WAIT path's caller
 * already holds the chain lock.
 */
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <net/inet_hashtables.h>
#include <net/udp.h>

#include "counting.h"
#include "random_mode.h"
#include "release.h"
#include "tables.h"

/* No other owner holds @port: it is let go. Under its chain or slot lock. */
static void ephport_net_let_go(struct ephport_net *en,
			       enum ephport_proto proto, u32 port)
{
	ephport_random_released(en, port);
	ephport_net_unbind(en, proto, port);
}

/*
 * The TCP owner @leaving (a socket's or a TIME_WAIT socket's bind node)
 * is about to leave @port's bind bucket. @locked: the caller holds the
 * chain lock (inet_twsk_bind_unhash()), else it is taken here, before
 * the kernel's own inet_put_port() takes it.
 */
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked)
{
	struct inet_bind_hashbucket *head;
	unsigned long flags;

	if (port >= EPHPORT_NPORTS)
		return;
	head = ephport_tcp_chain(en->net, port);
	local_irq_save(flags);
	if (locked)
		lockdep_assert_held(&head->lock);
	else
		spin_lock(&head->lock);
	if (!ephport_tcp_held_but(head, en->net, port, leaving))
		ephport_net_let_go(en, EPHPORT_TCP, port);
	if (!locked)
		spin_unlock(&head->lock);
	local_irq_restore(flags);
}

/* @sk is about to leave the UDP table, from udp_lib_unhash(). */
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk)
{
	struct udp_hslot *hslot;
	unsigned long flags;

	if (port >= EPHPORT_NPORTS)
		return;
	hslot = ephport_udp_slot(en->net, port);
	spin_lock_irqsave(&hslot->lock, flags);
	if (!ephport_udp_held(hslot, en->net, port, sk))
		ephport_net_let_go(en, EPHPORT_UDP, port);
	spin_unlock_irqrestore(&hslot->lock, flags);
}
