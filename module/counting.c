// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: counting each namespace's bound ports (netns.h).
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
 * - Passes: one walk over the TCP bind hash and the UDP table(s)
 *   (tables.c) rebuilds the bitmaps of every tracked namespace at once.
 *   A pass runs at start (so sockets bound before ephport are counted)
 *   and, from the work, when events cannot be trusted (a hook missed
 *   one, or is unsupported): at most once a second, whoever asks. A
 *   reader never walks the tables. A namespace created after start
 *   begins empty.
 *
 * What readers see is made on read, from the namespace alone: in_use is
 * the bits set in the range (exact whenever the bitmaps are), and the
 * base is set again so that the deltas add up to it. The peak is the
 * highest of the reads and of the counts each CPU saw at its own events
 * (base + its delta): exact while one CPU does the namespace's binds and
 * releases, and otherwise off the true high-watermark (either way) by at
 * most what the other CPUs hold unfolded: EPHPORT_FOLD - 1 ports each,
 * and one more for an event racing with a read. The alarm is judged exactly by readers and
 * by the work, which the hooks wake when their count nears a threshold.
 *
 * Random mode (random_mode.c) uses the same bitmaps as the set of bound
 * ports, and hears of every release from here.
 *
 * The TCP alarm may follow the fullest destination instead
 * (alarm_basis): this file asks dests.c to walk them when a reader or
 * the work needs the alarm up to date, and dests.c hands the result back
 * to ephport_net_alarm(). The two call each other for that one alarm.
 */
#include <linux/bitops.h>
#include <linux/jiffies.h>
#include <linux/kernfs.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "compat.h"
#include "netns.h"
#include "tables.h"

/* The pass's bookkeeping, under ephport_nets_lock. */
static unsigned long ephport_last_pass;		/* jiffies */
static unsigned long ephport_pass_missed;	/* hook misses seen by it */
static bool ephport_passed;			/* a pass has run at all */
static unsigned long ephport_passes;		/* passes so far: READ_ONCE */

/*
 * Set by ephport_counting_start() once the hooks are in place, cleared by
 * ephport_counting_stop() before they go (READ_ONCE/WRITE_ONCE).
 */
static bool ephport_live;
static struct ephport_netns_env ephport_env;	/* valid while live */

unsigned int ephport_alarm_pct = 90;
int ephport_alarm_basis = EPHPORT_BASIS_PORTS;

const char *const ephport_proto_names[EPHPORT_NPROTO] = {
	[EPHPORT_TCP] = "tcp",
	[EPHPORT_UDP] = "udp",
};

static void ephport_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ephport_work, ephport_work_fn);

/*
 * The work does deferred passes and alarm notifications (soon, even if
 * it is due later: the per-destination alarm's rounds, below).
 */
void ephport_netns_kick(void)
{
	mod_delayed_work(system_wq, &ephport_work, 1);
}

static bool ephport_hooks_exact(void)
{
	return READ_ONCE(ephport_live) && ephport_env.exact;
}

static unsigned long ephport_hooks_missed(void)
{
	return READ_ONCE(ephport_live) ? ephport_env.missed() : 0;
}

/*
 * Whether the bitmaps hold every bound port: no pass is rebuilding them,
 * and a pass has counted what was bound before ephport. Missed events
 * may still leave a bit wrong either way (the kernel checks random
 * mode's choice). Caller holds en->lock.
 */
bool ephport_net_settled(struct ephport_net *en)
{
	lockdep_assert_held(&en->lock);
	return !en->passing && en->dirty_seq == en->clean_seq;
}

/*
 * The alarm readers see. TCP's part depends on alarm_basis: the share of
 * distinct ports of the range bound ("ports"), or the share held toward
 * the fullest destination ("dest"), which only the last walk of the
 * destinations (dests.c) knows; a destination cannot hold more ports
 * than are bound, so the first gates the second. UDP's part is always
 * its share of distinct ports.
 */
static bool ephport_net_alarm_now(struct ephport_net *en)
{
	bool tcp = en->usage[EPHPORT_TCP].alarm;

	if (READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST)
		tcp = tcp && en->dest_alarm;
	return tcp || en->usage[EPHPORT_UDP].alarm;
}

/* Judges the alarm again; true if it changed. Caller holds en->lock. */
bool ephport_net_alarm(struct ephport_net *en)
{
	unsigned int pct = READ_ONCE(ephport_alarm_pct);
	bool changed = false;
	bool now;
	int p;

	lockdep_assert_held(&en->lock);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		struct ephport_usage *u = &en->usage[p];

		changed |= ephport_alarm_update(&u->alarm, u->in_use, u->lo,
						u->hi, pct);
	}
	now = ephport_net_alarm_now(en);
	changed |= now != en->alarm_on;
	en->alarm_on = now;
	if (changed)
		en->alarm_changed = true;
	return changed;
}

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
	u32 lo, hi;

	if (!ephport_usage_bind(u, port))
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
	bool was = ephport_usage_release(u, port);
	u32 lo, hi;

	/* Random mode: the port rests from now. */
	ephport_random_released(en, port);
	if (!was)
		return;
	ephport_net_range(en->net, &lo, &hi);
	if (port >= lo && port <= hi)
		ephport_net_moved(en, proto, -1);
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

/* Every protocol refreshed; true if the alarm changed. Caller holds lock. */
static bool ephport_net_refresh_all(struct ephport_net *en)
{
	u32 lo, hi;
	int p;

	ephport_net_range(en->net, &lo, &hi);
	for (p = 0; p < EPHPORT_NPROTO; p++)
		ephport_net_refresh(en, p, lo, hi);
	return ephport_net_alarm(en);
}

/* ---- the pass ---- */

static void ephport_pass_mark(const struct net *net, enum ephport_proto proto,
			      u32 port)
{
	struct ephport_net *en = ephport_net_of(net);

	lockdep_assert_held(&ephport_nets_lock);
	if (!en || !en->tracked || port >= EPHPORT_NPORTS)
		return;
	set_bit(port, en->usage[proto].bound);
}

/*
 * One pass over the tables, for every tracked namespace at once. Events
 * go on setting and clearing bits meanwhile: a bind sets its bit after
 * the socket is in the table the pass walks, a release clears it under
 * the lock the pass takes to read the port's chain or slot, so the
 * bitmaps are right when the pass ends.
 */
static void ephport_pass_locked(void)
{
	unsigned long missed = ephport_hooks_missed();
	/* Only with every hook in place can events keep the result right. */
	bool trusted = ephport_hooks_exact();
	struct udp_table *global = ephport_udp_table(&init_net);
	struct ephport_net *en;
	bool alarm = false;
	int p;

	lockdep_assert_held(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		en->passing = true;
		en->pass_seq = en->dirty_seq;
		for (p = 0; p < EPHPORT_NPROTO; p++)
			ephport_usage_reset(&en->usage[p]);
		spin_unlock_irq(&en->lock);
	}

	ephport_walk_tcp(ephport_pass_mark);
	ephport_walk_udp(global, ephport_pass_mark);
	/* Namespaces with a UDP table of their own (6.12). */
	list_for_each_entry(en, &ephport_nets, node) {
		struct udp_table *t = ephport_udp_table(en->net);

		if (t != global)
			ephport_walk_udp(t, ephport_pass_mark);
	}

	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		alarm |= ephport_net_refresh_all(en);
		en->passing = false;
		if (trusted)
			en->clean_seq = en->pass_seq;
		spin_unlock_irq(&en->lock);
	}
	ephport_last_pass = jiffies;
	ephport_passed = true;
	WRITE_ONCE(ephport_passes, ephport_passes + 1);
	WRITE_ONCE(ephport_pass_missed, missed);
	if (alarm)
		ephport_netns_kick();
}

static bool ephport_need_pass(void)
{
	struct ephport_net *en;
	bool dirty = false;

	lockdep_assert_held(&ephport_nets_lock);
	if (!ephport_passed || !ephport_hooks_exact() ||
	    ephport_hooks_missed() != ephport_pass_missed)
		return true;
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		dirty = en->dirty_seq != en->clean_seq;
		spin_unlock_irq(&en->lock);
		if (dirty)
			return true;
	}
	return false;
}

/*
 * Whether a reader of @en should have the work pass: the hooks cannot
 * keep the bitmaps exact, missed an event, or the namespace has not been
 * counted yet. Lockless: a reader never walks the tables itself.
 */
static bool ephport_pass_wanted(struct ephport_net *en)
{
	return !ephport_hooks_exact() ||
	       ephport_hooks_missed() != READ_ONCE(ephport_pass_missed) ||
	       READ_ONCE(en->dirty_seq) != READ_ONCE(en->clean_seq);
}

/* ---- readers ---- */

/* How many times the host's tables were walked since load. */
unsigned long ephport_nets_passes(void)
{
	return READ_ONCE(ephport_passes);
}

bool ephport_counter_supported(enum ephport_counter c)
{
	return READ_ONCE(ephport_live) && (ephport_env.supported & BIT(c));
}

bool ephport_search_supported(void)
{
	return READ_ONCE(ephport_live) && ephport_env.search_supported;
}

/*
 * The values of a namespace for a reader: work on this namespace only
 * (its bitmaps' words of the range, one entry per CPU), under its own
 * lock. When the bitmaps need a pass, the work does it, at most once a
 * second however many read.
 */
void ephport_net_values(struct ephport_net *en, struct ephport_values *v)
{
	bool alarm;
	int p;

	/* Not sooner than the work already plans: one pass a second. */
	if (ephport_pass_wanted(en))
		schedule_delayed_work(&ephport_work, 1);
	/* At most one walk a second; without memory, the last one stands. */
	ephport_net_dests_alarm(en);

	spin_lock_irq(&en->lock);
	alarm = ephport_net_refresh_all(en);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		v->in_use[p] = en->usage[p].in_use;
		v->peak[p] = en->usage[p].peak;
	}
	v->lo = en->usage[EPHPORT_TCP].lo;
	v->hi = en->usage[EPHPORT_TCP].hi;
	v->alarm = en->alarm_on;
	spin_unlock_irq(&en->lock);
	if (alarm)
		ephport_netns_kick();
}

/* The peak restarts from the current value; the CPUs' candidates go. */
void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto)
{
	bool alarm;

	spin_lock_irq(&en->lock);
	alarm = ephport_net_refresh_all(en);
	raw_spin_lock(&en->fold_lock);
	WRITE_ONCE(en->gen[proto], en->gen[proto] + 1);
	en->top[proto] = 0;
	raw_spin_unlock(&en->fold_lock);
	ephport_usage_reset_peak(&en->usage[proto]);
	spin_unlock_irq(&en->lock);
	if (alarm)
		ephport_netns_kick();
}

/* ---- settings ---- */

/*
 * Every namespace's alarm judged again, its per-destination part
 * included, after a new threshold or basis. Caller holds
 * ephport_nets_lock.
 */
void ephport_alarms_rejudge(void)
{
	struct ephport_net *en;
	bool alarm = false;

	lockdep_assert_held(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		ephport_net_dests_alarm(en);
		spin_lock_irq(&en->lock);
		alarm |= ephport_net_refresh_all(en);
		spin_unlock_irq(&en->lock);
	}
	if (alarm)
		ephport_netns_kick();
}

void ephport_set_alarm_pct(unsigned int pct)
{
	mutex_lock(&ephport_nets_lock);
	WRITE_ONCE(ephport_alarm_pct, pct);
	ephport_alarms_rejudge();
	mutex_unlock(&ephport_nets_lock);
}

/* ---- the work: deferred passes, alarm notifications, sweeps ---- */

/*
 * Takes one namespace's pending alarm change, with what its message
 * needs; a reference on its alarm file keeps that alive without the lock.
 */
static struct kernfs_node *ephport_take_alarm(struct ephport_usage *u,
					      unsigned int *inum, u32 *dest_max,
					      bool *dest_alarm, bool *speak)
{
	struct kernfs_node *kn = NULL;
	struct ephport_net *en;

	lockdep_assert_held(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		bool changed;

		spin_lock_irq(&en->lock);
		changed = en->alarm_changed;
		en->alarm_changed = false;
		memcpy(u, en->usage, sizeof(en->usage));
		*dest_max = en->dest_max;
		*dest_alarm = en->dest_alarm;
		spin_unlock_irq(&en->lock);
		if (!changed || !en->alarm_kn)
			continue;
		kn = en->alarm_kn;
		kernfs_get(kn);
		*inum = en->net->ns.inum;
		/* Each namespace has its own budget of messages. */
		*speak = __ratelimit(&en->alarm_rs);
		break;
	}
	return kn;
}

static void ephport_work_fn(struct work_struct *work)
{
	struct ephport_usage u[EPHPORT_NPROTO];
	struct kernfs_node *kn;
	struct ephport_net *en;
	unsigned long delay = 0;
	unsigned int inum;
	bool dest_alarm, dest, again, speak;
	u32 dest_max;
	int p;

	mutex_lock(&ephport_nets_lock);
	if (ephport_need_pass()) {
		/* However many ask, the tables are walked once a second. */
		if (time_before(jiffies, ephport_last_pass + HZ))
			delay = ephport_last_pass + HZ - jiffies;
		else
			ephport_pass_locked();
	}
	/* The namespaces whose hooks asked for their alarm to be judged. */
	list_for_each_entry(en, &ephport_nets, node) {
		if (!test_bit(0, &en->judge))
			continue;
		clear_bit(0, &en->judge);
		spin_lock_irq(&en->lock);
		ephport_net_refresh_all(en);
		spin_unlock_irq(&en->lock);
	}
	again = ephport_dests_round();
	mutex_unlock(&ephport_nets_lock);

	/* Notify outside the lock. */
	for (;;) {
		mutex_lock(&ephport_nets_lock);
		kn = ephport_take_alarm(u, &inum, &dest_max, &dest_alarm,
					&speak);
		mutex_unlock(&ephport_nets_lock);
		if (!kn)
			break;
		dest = READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST;
		for (p = 0; p < EPHPORT_NPROTO && speak; p++) {
			if (!u[p].alarm)
				continue;
			if (p == EPHPORT_TCP && dest) {
				if (dest_alarm)
					pr_warn("netns %u: tcp ephemeral ports %u of %u held toward one destination, alarm at %u%%\n",
						inum, dest_max,
						u[p].hi - u[p].lo + 1,
						READ_ONCE(ephport_alarm_pct));
				continue;
			}
			pr_warn("netns %u: %s ephemeral ports %u of %u in use, alarm at %u%%\n",
				inum, ephport_proto_names[p], u[p].in_use,
				u[p].hi - u[p].lo + 1,
				READ_ONCE(ephport_alarm_pct));
		}
		sysfs_notify_dirent(kn);
		kernfs_put(kn);
	}
	if (delay)
		schedule_delayed_work(&ephport_work, delay);
	else if (again)
		schedule_delayed_work(&ephport_work, HZ);
}

/* ---- start and stop: the hooks are in place, or about to go ---- */

/*
 * Counts what was bound before the hooks were in place, in every
 * namespace, and trusts new namespaces to start empty from now on.
 */
void ephport_counting_start(const struct ephport_netns_env *env)
{
	mutex_lock(&ephport_nets_lock);
	ephport_env = *env;
	WRITE_ONCE(ephport_live, true);
	ephport_pass_locked();
	mutex_unlock(&ephport_nets_lock);
}

void ephport_counting_stop(void)
{
	mutex_lock(&ephport_nets_lock);
	WRITE_ONCE(ephport_live, false);
	mutex_unlock(&ephport_nets_lock);
}

/*
 * A new namespace. Before start, sockets exist already: a pass must
 * count them. A namespace created later starts empty; its sockets bind
 * through the hooks.
 */
void ephport_counting_join(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	if (!ephport_live)
		en->dirty_seq = 1;
}

/* Nothing can kick the work any more: hooks and files are gone. */
void ephport_counting_uninit(void)
{
	cancel_delayed_work_sync(&ephport_work);
}
