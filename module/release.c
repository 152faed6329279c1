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
 * Whether a socket of the namespace still holds @port. @leaving: the
 * owner about to leave (TCP: its bind node; UDP: the socket), judged
 * before the release; NULL after it. Caller holds @slot's lock.
 */
static bool ephport_held(struct net *net, enum ephport_proto proto, u32 port,
			 void *slot, const void *leaving)
{
	if (proto == EPHPORT_UDP)
		return ephport_udp_held(slot, net, port, leaving);
	if (leaving)
		return ephport_tcp_held_but(slot, net, port, leaving);
	return ephport_tcp_held(slot, net, port);
}

/*
 * The one judgement of every release: under the port's chain or slot
 * lock (taken here, unless the caller holds it: @locked), the port's bit
 * goes if no socket of the namespace holds the port any more.
 */
static void ephport_release(struct ephport_net *en, enum ephport_proto proto,
			    u32 port, const void *leaving, bool locked)
{
	struct net *net = en->net;
	unsigned long flags;
	spinlock_t *lock;	/* the port's chain or slot lock */
	void *slot;

	if (port >= EPHPORT_NPORTS)
		return;
	if (proto == EPHPORT_TCP) {
		struct inet_bind_hashbucket *head = ephport_tcp_chain(net, port);

		slot = head;
		lock = &head->lock;
	} else {
		struct udp_hslot *hslot = ephport_udp_slot(net, port);

		slot = hslot;
		lock = &hslot->lock;
	}
	local_irq_save(flags);
	if (locked)
		lockdep_assert_held(lock);
	else
		spin_lock(lock);
	if (!ephport_held(net, proto, port, slot, leaving))
		ephport_net_unbind(en, proto, port);
	if (!locked)
		spin_unlock(lock);
	local_irq_restore(flags);
}

/*
 * A socket of the namespace gave up @port: its release function has
 * returned and the kernel dropped the chain lock; it is taken again here.
 */
void ephport_net_released(struct ephport_net *en, enum ephport_proto proto,
			  u32 port)
{
	ephport_release(en, proto, port, NULL, false);
}

/*
 * A TIME_WAIT socket of the namespace left the bind hash. Its callers
 * hold the chain lock of its port (inet_twsk_bind_unhash()'s contract,
 * checked by lockdep), so the chain is read here without taking it.
 */
void ephport_net_released_locked(struct ephport_net *en, u32 port)
{
	ephport_release(en, EPHPORT_TCP, port, NULL, true);
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
	ephport_release(en, EPHPORT_TCP, port, leaving, locked);
}

/* @sk is about to leave the UDP table, from udp_lib_unhash(). */
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk)
{
	ephport_release(en, EPHPORT_UDP, port, sk, false);
}
