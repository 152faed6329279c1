// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: each namespace's TCP destinations, and the local ports of the
 * range held toward each (dests.h).
 *
 * For connect() a local port is shared between destinations: the kernel
 * needs a free 4-tuple, not a free port. So what runs out is the range
 * toward one destination (address and port): its headroom is the range
 * size, minus the reserved ports in the range, minus the ports held
 * toward it. A proxy talking to 200 backends may hold every port of its
 * range and still connect; a client of one database fails after one
 * range's worth of connections to it.
 *
 * Computed on demand from the kernel's established hash (sockets that
 * connected, were accepted, or are in TIME_WAIT; the namespace's own when
 * it has one, tcp_child_ehash_entries), at most once a second per
 * namespace: a read within a second of the last walk gets its result.
 * A walk visits every bucket of the hash, and in a shared hash every
 * namespace's sockets, each chain under its lock for the time of the
 * chain. Its table of destinations is allocated for the walk (charged to
 * the reader's memory cgroup) and freed; the namespace keeps the top
 * EPHPORT_DESTS_TOP entries. No host-wide limit: a read of the
 * namespace's /proc/net/tcp walks the same hash on every read, so a
 * tenant with many namespaces gets no more from ephport than from it.
 *
 * A port is counted once per socket: a namespace that connects from
 * several local addresses may hold a port twice toward one destination.
 *
 * This file only walks and returns what it found, with the walk's stamp:
 * the per-destination alarm (alarm.c) pulls the last walk's result. For
 * the alarm's work, one walk serves up to EPHPORT_DESTS_BATCH namespaces
 * (ephport_nets_dests_walk()): a socket goes to its namespace's table.
 */
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "dests.h"
#include "sk.h"

/* The table of one walk: open addressing, a power of two in size. */
struct ephport_dest_table {
	struct ephport_dest *slot;	/* held == 0: free */
	u32 size;
	u32 used;
	u32 dropped;			/* sockets that found no room */
};

#define EPHPORT_DESTS_MIN	256
#define EPHPORT_DESTS_MAX	BIT(20)
/* Room kept free before each chain is walked (a chain is short). */
#define EPHPORT_DESTS_SLACK	64

static u32 ephport_dest_hash(const struct ephport_dest *d)
{
	return jhash2((const u32 *)&d->addr, 4, (__force u32)d->port);
}

static bool ephport_dest_same(const struct ephport_dest *a,
			      const struct ephport_dest *b)
{
	return a->port == b->port && ipv6_addr_equal(&a->addr, &b->addr);
}

static struct ephport_dest *ephport_dest_find(struct ephport_dest_table *t,
					      const struct ephport_dest *key)
{
	u32 i = ephport_dest_hash(key) & (t->size - 1);

	while (t->slot[i].held && !ephport_dest_same(&t->slot[i], key))
		i = (i + 1) & (t->size - 1);
	return &t->slot[i];
}

/* Doubles the table when it is too full to take another chain. */
static int ephport_dests_room(struct ephport_dest_table *t)
{
	struct ephport_dest_table n = {};
	u32 i;

	if ((t->used + EPHPORT_DESTS_SLACK) * 2 <= t->size ||
	    t->size >= EPHPORT_DESTS_MAX)
		return 0;
	n.size = t->size * 2;
	n.slot = ephport_kvzalloc(array_size(n.size, sizeof(*n.slot)));
	if (!n.slot)
		return -ENOMEM;
	for (i = 0; i < t->size; i++)
		if (t->slot[i].held)
			*ephport_dest_find(&n, &t->slot[i]) = t->slot[i];
	n.used = t->used;
	n.dropped = t->dropped;
	kvfree(t->slot);
	*t = n;
	return 0;
}

/* One socket of the namespace (TIME_WAIT ones too): its destination. */
static void ephport_dests_add(struct ephport_dest_table *t,
			      const struct sock *sk)
{
	struct ephport_dest key = { .port = sk->sk_dport };
	struct ephport_dest *d;

	ephport_sk_daddr(sk, &key.addr);
	d = ephport_dest_find(t, &key);
	if (!d->held) {
		/* Keep a free slot: the probe ends there. */
		if ((t->used + 1) * 4 > t->size * 3) {
			t->dropped++;
			return;
		}
		*d = key;
		t->used++;
	}
	d->held++;
	if (sk->sk_state == TCP_TIME_WAIT)
		d->time_wait++;
}

static int ephport_dests_walk(struct net *net, u32 lo, u32 hi,
			      struct ephport_dest_table *t)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(net);
	unsigned int i;
	int ret;

	for (i = 0; i <= h->ehash_mask; i++) {
		struct inet_ehash_bucket *head = &h->ehash[i];
		spinlock_t *lock = inet_ehash_lockp(h, i);
		struct hlist_nulls_node *node;
		struct sock *sk;

		if (!(i & 1023))
			cond_resched();
		if (hlist_nulls_empty(&head->chain))
			continue;
		ret = ephport_dests_room(t);
		if (ret)
			return ret;
		spin_lock_bh(lock);
		sk_nulls_for_each(sk, node, &head->chain) {
			if (!net_eq(sock_net(sk), net) ||
			    sk->sk_state == TCP_NEW_SYN_RECV ||
			    sk->sk_num < lo || sk->sk_num > hi)
				continue;
			ephport_dests_add(t, sk);
		}
		spin_unlock_bh(lock);
	}
	return 0;
}

/* The most held first; among equals, by address and port (stable output). */
static bool ephport_dest_before(const struct ephport_dest *a,
				const struct ephport_dest *b)
{
	int c;

	if (a->held != b->held)
		return a->held > b->held;
	c = memcmp(&a->addr, &b->addr, sizeof(a->addr));
	if (c)
		return c < 0;
	return ntohs(a->port) < ntohs(b->port);
}

static void ephport_dests_top(const struct ephport_dest_table *t,
			      struct ephport_dests *d)
{
	u32 i, j;

	d->n = 0;
	d->max = 0;
	d->count = t->used;
	d->dropped = t->dropped;
	for (i = 0; i < t->size; i++) {
		const struct ephport_dest *e = &t->slot[i];

		if (!e->held)
			continue;
		d->max = max(d->max, e->held);
		if (d->n == EPHPORT_DESTS_TOP &&
		    !ephport_dest_before(e, &d->top[d->n - 1]))
			continue;
		j = d->n < EPHPORT_DESTS_TOP ? d->n++ : d->n - 1;
		for (; j > 0 && ephport_dest_before(e, &d->top[j - 1]); j--)
			d->top[j] = d->top[j - 1];
		d->top[j] = *e;
	}
}

static int ephport_dests_compute(struct net *net, struct ephport_dests *d)
{
	struct ephport_dest_table t = { .size = EPHPORT_DESTS_MIN };
	const unsigned long *reserved;
	int lo, hi, ret;

	inet_get_local_port_range(net, &lo, &hi);
	t.slot = ephport_kvzalloc(array_size(t.size, sizeof(*t.slot)));
	if (!t.slot)
		return -ENOMEM;
	ret = ephport_dests_walk(net, lo, hi, &t);
	if (!ret) {
		d->lo = lo;
		d->hi = hi;
		reserved = net->ipv4.sysctl_local_reserved_ports;
		d->reserved = reserved ?
			ephport_bits_in_range(reserved, lo, hi) : 0;
		ephport_dests_top(&t, d);
		d->stamp = jiffies;
		d->valid = true;
	}
	kvfree(t.slot);
	return ret;
}

/*
 * The namespace's destinations, at most 1 s old (walked now if the last
 * walk is older), copied into @out if not NULL and summed up in @b if
 * not NULL; 0 or -errno. Process context.
 */
static int ephport_net_dests_get(struct ephport_net *en,
				 struct ephport_dests *out,
				 struct ephport_dests_brief *b)
{
	struct ephport_dests *d;
	int ret = 0;

	mutex_lock(&en->dests_lock);
	d = en->dests;
	if (!d) {
		d = kzalloc(sizeof(*d), EPHPORT_GFP);
		if (!d) {
			ret = -ENOMEM;
			goto out;
		}
		en->dests = d;
	}
	if (!d->valid || time_after_eq(jiffies, d->stamp + HZ))
		ret = ephport_dests_compute(en->net, d);
	/* Without memory for a new walk, the last one stands. */
	if (!d->valid)
		goto out;
	if (!ret && out)
		*out = *d;
	if (b) {
		b->valid = true;
		b->stamp = d->stamp;
		b->lo = d->lo;
		b->hi = d->hi;
		b->reserved = d->reserved;
		b->max = d->max;
	}
out:
	mutex_unlock(&en->dests_lock);
	return ret;
}

/* One namespace of a batch: its range, its table, and whether it failed. */
struct ephport_dests_one {
	struct ephport_net *en;
	u32 lo, hi;
	struct ephport_dest_table t;
	int ret;
};

/* Whether @en's last walk is 1 s old or more (or there is none). */
static bool ephport_net_dests_due(struct ephport_net *en)
{
	bool due;

	mutex_lock(&en->dests_lock);
	due = !en->dests || !en->dests->valid ||
	      time_after_eq(jiffies, en->dests->stamp + HZ);
	mutex_unlock(&en->dests_lock);
	return due;
}

/*
 * One walk of the established hash for every namespace of @b: each
 * socket goes to the table of its namespace (a linear search among at
 * most EPHPORT_DESTS_BATCH). A table that cannot grow fails alone.
 */
static void ephport_dests_walk_batch(struct inet_hashinfo *h,
				     struct ephport_dests_one *b,
				     unsigned int n)
{
	unsigned int i, k;

	for (i = 0; i <= h->ehash_mask; i++) {
		struct inet_ehash_bucket *head = &h->ehash[i];
		spinlock_t *lock = inet_ehash_lockp(h, i);
		struct hlist_nulls_node *node;
		struct sock *sk;

		if (!(i & 1023))
			cond_resched();
		if (hlist_nulls_empty(&head->chain))
			continue;
		for (k = 0; k < n; k++)
			if (!b[k].ret)
				b[k].ret = ephport_dests_room(&b[k].t);
		spin_lock_bh(lock);
		sk_nulls_for_each(sk, node, &head->chain) {
			if (sk->sk_state == TCP_NEW_SYN_RECV)
				continue;
			for (k = 0; k < n; k++) {
				if (!net_eq(sock_net(sk), b[k].en->net))
					continue;
				if (!b[k].ret && sk->sk_num >= b[k].lo &&
				    sk->sk_num <= b[k].hi)
					ephport_dests_add(&b[k].t, sk);
				break;
			}
		}
		spin_unlock_bh(lock);
	}
}

/*
 * The destinations of the namespaces of @ens whose last walk is 1 s old
 * or more, in one walk of the established hash for all that share the
 * first one's (the host's, unless a namespace has its own: those are
 * walked one by one). Each result is stored as a walk of its own would
 * be. The caller keeps each namespace alive (a reference on its net).
 * At most EPHPORT_DESTS_BATCH. Process context, no lock held.
 */
void ephport_nets_dests_walk(struct ephport_net **ens, unsigned int n)
{
	struct ephport_dests_one *b;
	struct inet_hashinfo *h = NULL;
	struct ephport_dests *d;
	unsigned int i, nb = 0;
	int lo, hi;

	b = kcalloc(min_t(unsigned int, n, EPHPORT_DESTS_BATCH), sizeof(*b),
		    EPHPORT_GFP);
	d = kmalloc(sizeof(*d), EPHPORT_GFP);
	if (!b || !d)
		goto out;
	for (i = 0; i < n && nb < EPHPORT_DESTS_BATCH; i++) {
		struct net *net = ens[i]->net;

		if (!ephport_net_dests_due(ens[i]))
			continue;
		if (!h)
			h = ephport_tcp_hashinfo(net);
		if (ephport_tcp_hashinfo(net) != h) {
			/* A hash of its own: a walk of its own. */
			ephport_net_dest_max(ens[i], &d->max);
			continue;
		}
		inet_get_local_port_range(net, &lo, &hi);
		b[nb].en = ens[i];
		b[nb].lo = lo;
		b[nb].hi = hi;
		b[nb].t.size = EPHPORT_DESTS_MIN;
		b[nb].t.slot = ephport_kvzalloc(array_size(b[nb].t.size,
							   sizeof(*b[nb].t.slot)));
		if (b[nb].t.slot)
			nb++;
	}
	if (!nb)
		goto out;
	ephport_dests_walk_batch(h, b, nb);
	for (i = 0; i < nb; i++) {
		struct ephport_net *en = b[i].en;
		const unsigned long *reserved;

		if (b[i].ret)
			continue;
		memset(d, 0, sizeof(*d));
		d->lo = b[i].lo;
		d->hi = b[i].hi;
		reserved = en->net->ipv4.sysctl_local_reserved_ports;
		d->reserved = reserved ?
			ephport_bits_in_range(reserved, d->lo, d->hi) : 0;
		ephport_dests_top(&b[i].t, d);
		d->stamp = jiffies;
		d->valid = true;
		mutex_lock(&en->dests_lock);
		if (!en->dests)
			en->dests = kzalloc(sizeof(*en->dests), EPHPORT_GFP);
		if (en->dests)
			*en->dests = *d;
		mutex_unlock(&en->dests_lock);
	}
out:
	for (i = 0; b && i < nb; i++)
		kvfree(b[i].t.slot);
	kfree(b);
	kfree(d);
}

int ephport_net_dests(struct ephport_net *en, struct ephport_dests *out)
{
	return ephport_net_dests_get(en, out, NULL);
}

/*
 * The last walk, at most 1 s old: 0, or -errno if no new walk could be
 * made, with the last one in @b all the same if there was one
 * (b->valid). Its stamp tells a new walk from one seen before.
 */
int ephport_net_dests_brief(struct ephport_net *en,
			    struct ephport_dests_brief *b)
{
	b->valid = false;
	return ephport_net_dests_get(en, NULL, b);
}

/* tcp_dest_max: the most ports held toward one destination, 1 s old at most. */
int ephport_net_dest_max(struct ephport_net *en, u32 *max)
{
	struct ephport_dests_brief b;
	int ret = ephport_net_dests_brief(en, &b);

	if (!ret)
		*max = b.max;
	return ret;
}

/* Headroom toward @e: range, minus reserved ports, minus those held. */
u32 ephport_dest_headroom(const struct ephport_dests *d,
			  const struct ephport_dest *e)
{
	u32 size = d->hi >= d->lo ? d->hi - d->lo + 1 : 0;
	u32 used = d->reserved + e->held;

	return size > used ? size - used : 0;
}

void ephport_dests_init(struct ephport_net *en)
{
	mutex_init(&en->dests_lock);
	en->dests = NULL;
}

void ephport_dests_free(struct ephport_net *en)
{
	kfree(en->dests);
	en->dests = NULL;
	mutex_destroy(&en->dests_lock);
}
