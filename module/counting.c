// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: counting each namespace's bound ports (counting.h).
 *
 * Each namespace has, per protocol, a bitmap of its bound ports (all
 * 65536 of them, so a range change only needs a recount). The bitmaps
 * are kept right in two ways:
 *
 * - Events, from the hooks, without a lock: a successful bind sets the
 *   port's bit (an atomic bit operation, done only by the first socket
 *   of the namespace on the port); a release (release.c) clears it only
 *   if no other socket of the namespace holds the port. A bit that
 *   changes in the range moves a per-CPU delta (struct ephport_cpu);
 *   every EPHPORT_FOLD ports a CPU folds its delta into the namespace's
 *   base under a raw spinlock, the one shared write of the hot path
 *   besides the bit.
 *
 * - Passes (pass.c): one walk over the host's tables rebuilds the
 *   bitmaps of every namespace at once, when events cannot be trusted,
 *   each into a shadow that events change too, published when complete
 *   (core.h): readers never see a half-built bitmap.
 *
 * What readers see is made on read, from the namespace alone: in_use is
 * the bits set in the range (exact whenever the bitmaps are), and the
 * base is set again so that the deltas add up to it. The peak is the
 * highest of the reads and of the counts each CPU saw at its own events
 * (base + its delta): exact while one CPU does the namespace's binds and
 * releases, and otherwise off the true high-watermark (either way) by at
 * most what the other CPUs hold unfolded: EPHPORT_FOLD - 1 ports each,
 * and one more for an event racing with a read.
 *
 * The alarm is judged by alarm.c from what this file counts; the hooks'
 * events only ask the work to judge it when their count nears a
 * threshold (set_at, clear_at, set at each refresh).
 */
#include <linux/bitops.h>
#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stringify.h>

#include "counting.h"
#include "tables.h"

const char *const ephport_counter_names[EPHPORT_NCOUNTERS] = {
#define EPHPORT_OBSERVE_COUNTER(id, name) \
	[EPHPORT_##id] = __stringify(name),
#include "ephport_counters.h"
};

const char *const ephport_rcounter_names[EPHPORT_NRCOUNTERS] = {
#define EPHPORT_RANDOM_COUNTER(id, name) \
	[EPHPORT_##id] = __stringify(name),
#include "ephport_counters.h"
};

const char *const ephport_proto_names[EPHPORT_NPROTO] = {
	[EPHPORT_TCP] = "tcp",
	[EPHPORT_UDP] = "udp",
};

/* ---- events ---- */

/* The hooks ask the work to judge the namespace again (once). */
static void ephport_net_ask_judge(struct ephport_net *en)
{
	if (!test_bit(0, &en->judge) && !test_and_set_bit(0, &en->judge))
		ephport_netns_kick();
}

/* Folds this CPU's delta into the base. Interrupts are off. */
static void ephport_net_fold(struct ephport_net *en, enum ephport_proto p,
			     struct ephport_cpu_ports *c)
{
	raw_spin_lock(&en->fold_lock);
	ephport_ports_fold(c, &en->base[p], &en->top[p], en->gen[p]);
	raw_spin_unlock(&en->fold_lock);
}

/*
 * A port of the range became bound (@step 1) or free (-1) in the
 * namespace: this CPU's delta moves, and its peak candidate with it.
 */
static void ephport_net_moved(struct ephport_net *en, enum ephport_proto p,
			      int step)
{
	struct ephport_cpu_ports *c;
	unsigned long flags;
	bool judge;
	int now;

	local_irq_save(flags);
	c = &this_cpu_ptr(en->cpu)->ports[p];
	if (ephport_ports_move(c, READ_ONCE(en->base[p]),
			       READ_ONCE(en->gen[p]), step, &now))
		ephport_net_fold(en, p, c);
	local_irq_restore(flags);

	/* The work judges the alarm near its thresholds, exactly. */
	if (READ_ONCE(en->usage[p].alarm))
		judge = step < 0 && now <= (int)READ_ONCE(en->clear_at[p]);
	else
		judge = step > 0 && now >= (int)READ_ONCE(en->set_at[p]);
	if (judge)
		ephport_net_ask_judge(en);
}

/*
 * @port is bound in the namespace. Its bit is set without a lock: the
 * first socket to take the port moves the count.
 */
void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	bool first;
	u32 lo, hi;

	/* A pass reuses a bitmap only a grace period after it was left. */
	rcu_read_lock();
	first = ephport_usage_bind(u, port);
	rcu_read_unlock();
	if (!first)
		return;
	ephport_net_range(en->net, &lo, &hi);
	if (lo != READ_ONCE(u->lo) || hi != READ_ONCE(u->hi))
		ephport_net_ask_judge(en);
	if (port >= lo && port <= hi)
		ephport_net_moved(en, proto, 1);
}

/*
 * No socket of the namespace holds @port any more. Called with the
 * port's chain or slot lock held (release.c): nobody can bind it now.
 */
void ephport_net_unbind(struct ephport_net *en, enum ephport_proto proto,
			u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	bool last;
	u32 lo, hi;

	rcu_read_lock();
	last = ephport_usage_release(u, port);
	rcu_read_unlock();
	if (!last)
		return;
	ephport_net_range(en->net, &lo, &hi);
	if (port >= lo && port <= hi)
		ephport_net_moved(en, proto, -1);
}

/* Whether @port is counted bound now. Under its chain or slot lock. */
bool ephport_net_is_bound(struct ephport_net *en, enum ephport_proto proto,
			  u32 port)
{
	bool counted;

	rcu_read_lock();
	counted = ephport_usage_test(&en->usage[proto], port);
	rcu_read_unlock();
	return counted;
}

void ephport_net_search(struct ephport_net *en, u64 ns)
{
	this_cpu_inc(en->cpu->search_ns[ephport_hist_bucket(ns)]);
	this_cpu_add(en->cpu->search_ns_sum, ns);
}

/*
 * What readers see of one protocol, made exact from the bitmap: in_use
 * is the bits set in the range; the base is set so that the CPUs' deltas
 * add up to it; the peak takes every CPU's candidate. Caller holds lock.
 */
static void ephport_net_refresh(struct ephport_net *en, enum ephport_proto p,
				u32 lo, u32 hi)
{
	struct ephport_usage *u = &en->usage[p];
	unsigned int pct = READ_ONCE(ephport_alarm_pct);
	int sum = 0, top, cpu;
	u32 size, clear;

	lockdep_assert_held(&en->lock);
	raw_spin_lock(&en->fold_lock);
	top = en->top[p];
	for_each_possible_cpu(cpu) {
		struct ephport_cpu_ports *c = &per_cpu_ptr(en->cpu, cpu)->ports[p];

		sum += READ_ONCE(c->delta);
		if (READ_ONCE(c->gen) == en->gen[p])
			top = max(top, READ_ONCE(c->top));
	}
	ephport_usage_count(u, lo, hi, top);
	WRITE_ONCE(en->base[p], (int)u->in_use - sum);
	en->top[p] = top;
	raw_spin_unlock(&en->fold_lock);
	/* The counts at which the hooks ask for the alarm to be judged. */
	size = lo <= hi ? hi - lo + 1 : 0;
	clear = pct > EPHPORT_ALARM_HYST ? pct - EPHPORT_ALARM_HYST : 0;
	WRITE_ONCE(en->set_at[p], DIV_ROUND_UP(pct * size, 100));
	WRITE_ONCE(en->clear_at[p], clear * size / 100);
}

/*
 * Every protocol's count made exact from the bitmaps, for the range now
 * (a reader, a pass, the alarm). Caller holds en->lock.
 */
void ephport_counts_refresh(struct ephport_net *en)
{
	u32 lo, hi;
	int p;

	ephport_net_range(en->net, &lo, &hi);
	for (p = 0; p < EPHPORT_NPROTO; p++)
		ephport_net_refresh(en, p, lo, hi);
}

/*
 * The peak restarts from the current value; the CPUs' candidates go.
 * The alarm is judged again by the work.
 */
void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto)
{
	spin_lock_irq(&en->lock);
	ephport_counts_refresh(en);
	raw_spin_lock(&en->fold_lock);
	WRITE_ONCE(en->gen[proto], en->gen[proto] + 1);
	en->top[proto] = 0;
	raw_spin_unlock(&en->fold_lock);
	ephport_usage_reset_peak(&en->usage[proto]);
	spin_unlock_irq(&en->lock);
	ephport_net_ask_judge(en);
}

/* ---- a namespace's part ---- */

/* One bitmap of every port: the bound ports, or a pass's shadow. */
static unsigned long *ephport_counting_map(void)
{
	return kcalloc(BITS_TO_LONGS(EPHPORT_NPORTS), sizeof(unsigned long),
		       EPHPORT_GFP);
}

int ephport_counting_init(struct ephport_net *en)
{
	int p;

	en->cpu = alloc_percpu_gfp(struct ephport_cpu, EPHPORT_GFP);
	if (!en->cpu)
		return -ENOMEM;
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		en->usage[p].bound = ephport_counting_map();
		en->usage[p].spare = ephport_counting_map();
		if (!en->usage[p].bound || !en->usage[p].spare)
			goto err_free;
		en->usage[p].lo = 1;
		en->usage[p].hi = 0;
	}
	return 0;

err_free:
	ephport_counting_free(en);
	return -ENOMEM;
}

void ephport_counting_free(struct ephport_net *en)
{
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		/* No pass runs: the namespace left the list first. */
		WARN_ON_ONCE(en->usage[p].shadow);
		kfree(en->usage[p].bound);
		kfree(en->usage[p].spare);
		en->usage[p].bound = NULL;
		en->usage[p].spare = NULL;
	}
	free_percpu(en->cpu);
	en->cpu = NULL;
}
