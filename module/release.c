// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: releases, judged in this one place. A socket of a namespace
 * let go of a port: if no owner in the namespace holds it any more,
 * random mode is told first (the port rests from now) and then the
 * counting (its bit is cleared): in that order, a choice made meanwhile
 * finds the port either bound or resting, never free before its delay.
 *
 * Exact on any number of CPUs. A port is judged free only where the
 * kernel's own unlink is visible, under the lock the kernel unlinks it
 * under (the port's bind hash chain lock, or its UDP slot lock):
 *
 * - inet_put_port() and udp_lib_unhash() take and drop that lock
 *   themselves: they are judged at their return, under the lock taken
 *   again here. Of two owners leaving at once on two CPUs, the one whose
 *   unlink came last finds no owner; the other finds it, or nothing.
 *   Only a port still counted bound is let go, here and below, so it is
 *   let go once (a port never counted, its bind missed, is not: the
 *   miss has a pass run, which finds the table as it is).
 *   Judged at their entry alone, each could find the other still there,
 *   and the bit would stay set.
 * - Where return handlers can be missed (kretprobes: their re-entry
 *   guard is per CPU, so a softirq release that comes while another
 *   probe handler runs on the CPU is lost), each release is judged at
 *   its entry as well, on ftrace_ops, which miss nothing: without the
 *   leaving owner, which is about to go. That judgement is exact but for
 *   two owners leaving at once (each finds the other); the return's
 *   judgement then finds the port free and lets it go. A kretprobe
 *   skipped (its guard: another probe's handler ran on the CPU) leaves
 *   the entry's judgement alone, exact but for that case; a return lost
 *   for want of a free instance counts a miss, which has a pass run.
 * - inet_twsk_bind_unhash() runs with the chain lock held by its caller
 *   from before until after the TIME_WAIT socket's unlink: judged at its
 *   entry, without the leaving socket, under that same hold.
 *
 * An owner that joins after the judgement (a bind, an accepted child)
 * joins under the same lock, after it, and its hook sets the bit after
 * it joined: it wins. A pass reads each chain under its lock as well
 * (pass.c), so it cannot find a socket that a release already judged
 * gone.
 *
 * The locks are taken with interrupts off: no softirq may run (and take
 * the lock, or hit a probe) on this CPU while one is held, which the
 * kernel's own inet_put_port() and udp_lib_unhash() ensure with bottom
 * halves off. The TIME_WAIT path's caller holds the lock with bottom
 * halves off already. Called from the hooks, in atomic context.
 */
#include <linux/lockdep.h>
#include <linux/spinlock.h>
#include <net/inet_hashtables.h>
#include <net/udp.h>

#include "counting.h"
#include "random_mode.h"
#include "release.h"
#include "tables.h"

/* No owner holds @port: it is let go. Under its chain or slot lock. */
static void ephport_net_let_go(struct ephport_net *en,
			       enum ephport_proto proto, u32 port)
{
	ephport_random_released(en, port);
	ephport_net_unbind(en, proto, port);
	ephport_random_freed(en, port);
}

/*
 * A TCP socket let go of @port (inet_put_port() returned): the chain
 * lock is taken here, after the kernel's unlink and unlock.
 */
void ephport_net_tcp_left(struct ephport_net *en, u32 port)
{
	ephport_net_tcp_leaving(en, port, NULL);
}

/*
 * The TIME_WAIT socket whose bind node is @leaving is about to leave
 * @port's bind bucket (inet_twsk_bind_unhash()): its caller holds the
 * chain lock, until after the unlink.
 */
void ephport_net_tw_leaving(struct ephport_net *en, u32 port,
			    const struct hlist_node *leaving)
{
	struct inet_bind_hashbucket *head;

	if (port >= EPHPORT_NPORTS)
		return;
	head = ephport_tcp_chain(en->net, port);
	lockdep_assert_held(&head->lock);
	if (!ephport_tcp_held_but(head, en->net, port, leaving) &&
	    ephport_net_is_bound(en, EPHPORT_TCP, port))
		ephport_net_let_go(en, EPHPORT_TCP, port);
}

/* A UDP socket let go of @port (udp_lib_unhash() returned). */
void ephport_net_udp_left(struct ephport_net *en, u32 port)
{
	ephport_net_udp_leaving(en, port, NULL);
}

/*
 * Judged at the entry as well, where return handlers can be missed
 * (hooks_kretprobe.c): the owner @leaving is about to go, so it is left
 * out. With @leaving NULL, the judgement at return above.
 */
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving)
{
	struct inet_bind_hashbucket *head;
	unsigned long flags;

	if (port >= EPHPORT_NPORTS)
		return;
	head = ephport_tcp_chain(en->net, port);
	spin_lock_irqsave(&head->lock, flags);
	if (!ephport_tcp_held_but(head, en->net, port, leaving) &&
	    ephport_net_is_bound(en, EPHPORT_TCP, port))
		ephport_net_let_go(en, EPHPORT_TCP, port);
	spin_unlock_irqrestore(&head->lock, flags);
}

/* The same for UDP: @leaving (or NULL) is about to leave the table. */
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *leaving)
{
	struct udp_hslot *hslot;
	unsigned long flags;

	if (port >= EPHPORT_NPORTS)
		return;
	hslot = ephport_udp_slot(en->net, port);
	spin_lock_irqsave(&hslot->lock, flags);
	if (!ephport_udp_held(hslot, en->net, port, leaving) &&
	    ephport_net_is_bound(en, EPHPORT_UDP, port))
		ephport_net_let_go(en, EPHPORT_UDP, port);
	spin_unlock_irqrestore(&hslot->lock, flags);
}
