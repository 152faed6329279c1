// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the kernel's tables of bound ports, read for the state.
 *
 * Every namespace shares the TCP bind hash (net->ipv4.tcp_death_row
 * .hashinfo); UDP has one global table on 6.1 and may have one per
 * namespace on 6.12 (compat.h). A port is held in a namespace while a
 * bind bucket of the namespace (TCP: its sockets and TIME_WAIT sockets)
 * or a socket of the namespace (UDP) has it. Callers hold the chain or
 * slot lock of the port, or, for the walks, nothing: each chain is
 * locked while it is read.
 */
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "tables.h"

/* The namespace's ephemeral range, ip_local_port_range. */
void ephport_net_range(const struct net *net, u32 *lo, u32 *hi)
{
	int l, h;

	inet_get_local_port_range(net, &l, &h);
	*lo = l;
	*hi = h;
}

struct inet_bind_hashbucket *ephport_tcp_chain(const struct net *net, u32 port)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(net);

	return &h->bhash[inet_bhashfn(net, port, h->bhash_size)];
}

/*
 * Whether an owner of @port in @net other than @leaving (a TIME_WAIT
 * socket's bind node, about to leave; NULL: any owner) holds it. The
 * owners hang from the bucket (tb->owners)
 * up to 6.1, from its per-address buckets (tb->bhash2, tb2->owners)
 * after. Every change to either list is made under the chain lock the
 * caller holds.
 */
bool ephport_tcp_held_but(struct inet_bind_hashbucket *head,
			  const struct net *net, u32 port,
			  const struct hlist_node *leaving)
{
	struct inet_bind_bucket *tb;
	struct hlist_node *n;

	inet_bind_bucket_for_each(tb, &head->chain) {
#ifndef EPHPORT_HAVE_TB_OWNERS
		struct inet_bind2_bucket *tb2;
#endif

		if (!net_eq(ib_net(tb), net) || tb->port != port)
			continue;
#ifdef EPHPORT_HAVE_TB_OWNERS
		hlist_for_each(n, &tb->owners)
			if (n != leaving)
				return true;
#else
		hlist_for_each_entry(tb2, &tb->bhash2, bhash_node)
			hlist_for_each(n, &tb2->owners)
				if (n != leaving)
					return true;
#endif
	}
	return false;
}

struct udp_hslot *ephport_udp_slot(struct net *net, u32 port)
{
	return udp_hashslot(ephport_udp_table(net), net, port);
}

/*
 * A socket of @net other than @leaving (NULL: any) has @port. Caller
 * holds @hslot's lock.
 */
bool ephport_udp_held(struct udp_hslot *hslot, const struct net *net,
		      u32 port, const struct sock *leaving)
{
	struct sock *sk;

	sk_for_each(sk, &hslot->head)
		if (sk != leaving && net_eq(sock_net(sk), net) &&
		    udp_sk(sk)->udp_port_hash == port)
			return true;
	return false;
}

/* Every TCP port bound in any namespace, once. */
void ephport_walk_tcp(ephport_mark_fn mark)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(&init_net);
	unsigned int i;

	for (i = 0; i < h->bhash_size; i++) {
		struct inet_bind_hashbucket *head = &h->bhash[i];
		struct inet_bind_bucket *tb;

		/*
		 * A chain that fills after this look is filled by a bind
		 * whose handler sets the bit itself.
		 */
		if (!READ_ONCE(head->chain.first))
			continue;
		spin_lock_bh(&head->lock);
		rcu_read_lock();
		inet_bind_bucket_for_each(tb, &head->chain)
			mark(ib_net(tb), EPHPORT_TCP, tb->port);
		rcu_read_unlock();
		spin_unlock_bh(&head->lock);
		if (!(i & 1023))
			cond_resched();
	}
}

/* Every UDP port bound in table @t. */
void ephport_walk_udp(struct udp_table *t, ephport_mark_fn mark)
{
	unsigned int i;

	for (i = 0; i <= t->mask; i++) {
		struct udp_hslot *hslot = &t->hash[i];
		struct sock *sk;

		if (!READ_ONCE(hslot->head.first))
			continue;
		spin_lock_bh(&hslot->lock);
		rcu_read_lock();
		sk_for_each(sk, &hslot->head)
			mark(sock_net(sk), EPHPORT_UDP,
			     udp_sk(sk)->udp_port_hash);
		rcu_read_unlock();
		spin_unlock_bh(&hslot->lock);
		if (!(i & 1023))
			cond_resched();
	}
}
