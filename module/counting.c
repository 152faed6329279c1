// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: counting each namespace's bound ports (netns.h).
 *
 * Each namespace has, per protocol, a bitmap of its bound ports (all
 * 65536 of them, so a range change only needs a recount). The bitmaps
 * are kept right in two ways:
 *
 * - Events, from the hooks: a successful bind sets the port's bit; a
 *   release (release.c) clears it only if no other socket of the
 *   namespace holds the port. While a namespace is "exact", these keep
 *   in_use and the peaks right at every event.
 *
 * - Passes: one walk over the TCP bind hash and the UDP table(s)
 *   (tables.c) rebuilds the bitmaps of every tracked namespace at once.
 *   A pass runs at start (so sockets bound before ephport are counted),
 *   when events cannot be trusted (a hook missed one, or is unsupported),
 *   and on any read when the last pass is 1 s old or more, which bounds
 *   the effect of anything the hooks do not see. Events during a pass
 *   still update the bitmaps (bits set and cleared under the same chain
 *   locks the pass takes), so a pass leaves them exact. A namespace
 *   created after start begins empty.
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

/* Whether events may update in_use and the peaks directly. */
static bool ephport_net_exact(struct ephport_net *en)
{
	lockdep_assert_held(&en->lock);
	if (!ephport_hooks_exact())
		return false;
	if (ephport_hooks_missed() != READ_ONCE(ephport_pass_missed)) {
		/* A hook missed an event: have a pass recount soon. */
		ephport_netns_kick();
		return false;
	}
	return ephport_net_settled(en);
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

void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	unsigned long flags;
	bool alarm = false;
	u32 lo, hi;

	if (port >= EPHPORT_NPORTS)
		return;
	ephport_net_range(en->net, &lo, &hi);
	spin_lock_irqsave(&en->lock, flags);
	if (ephport_net_exact(en)) {
		ephport_usage_set_range(u, lo, hi);
		ephport_usage_bind(u, port);
		alarm = ephport_net_alarm(en);
	} else {
		__set_bit(port, u->bound);
	}
	spin_unlock_irqrestore(&en->lock, flags);
	if (alarm)
		ephport_netns_kick();
}

/*
 * No socket of the namespace holds @port any more. Called with the
 * port's chain or slot lock held (release.c): nobody can bind it now.
 * Returns true if the alarm changed (the caller kicks the work).
 */
bool ephport_net_unbind(struct ephport_net *en, enum ephport_proto proto,
			u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	bool alarm = false;
	u32 lo, hi;

	ephport_net_range(en->net, &lo, &hi);
	spin_lock(&en->lock);
	if (ephport_net_exact(en)) {
		ephport_usage_set_range(u, lo, hi);
		ephport_usage_release(u, port);
		alarm = ephport_net_alarm(en);
	} else {
		__clear_bit(port, u->bound);
	}
	spin_unlock(&en->lock);
	/* Random mode: the port rests from now. */
	ephport_random_released(en, port);
	return alarm;
}

void ephport_net_search(struct ephport_net *en, u64 ns)
{
	atomic_long_inc(&en->search_ns[ephport_hist_bucket(ns)]);
	atomic64_add(ns, &en->search_ns_sum);
}

/* ---- the pass ---- */

static void ephport_pass_mark(const struct net *net, enum ephport_proto proto,
			      u32 port)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);
	unsigned long flags;

	lockdep_assert_held(&ephport_nets_lock);
	if (!en || !en->tracked || port >= EPHPORT_NPORTS)
		return;
	spin_lock_irqsave(&en->lock, flags);
	__set_bit(port, en->usage[proto].bound);
	spin_unlock_irqrestore(&en->lock, flags);
}

/* One pass over the tables, for every tracked namespace at once. */
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
		u32 lo, hi;

		ephport_net_range(en->net, &lo, &hi);
		spin_lock_irq(&en->lock);
		for (p = 0; p < EPHPORT_NPROTO; p++) {
			en->usage[p].lo = lo;
			en->usage[p].hi = hi;
			ephport_usage_recount(&en->usage[p]);
		}
		alarm |= ephport_net_alarm(en);
		en->passing = false;
		if (trusted)
			en->clean_seq = en->pass_seq;
		spin_unlock_irq(&en->lock);
	}
	ephport_last_pass = jiffies;
	ephport_passed = true;
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

/* ---- readers ---- */

bool ephport_counter_supported(enum ephport_counter c)
{
	return READ_ONCE(ephport_live) && (ephport_env.supported & BIT(c));
}

bool ephport_search_supported(void)
{
	return READ_ONCE(ephport_live) && ephport_env.search_supported;
}

/*
 * The values of a namespace for a reader. A pass serves every namespace:
 * it runs only if something is dirty or the last one is 1 s old.
 */
void ephport_net_values(struct ephport_net *en, struct ephport_values *v)
{
	bool alarm;
	u32 lo, hi;
	int p;

	mutex_lock(&ephport_nets_lock);
	if (ephport_need_pass() ||
	    time_after_eq(jiffies, ephport_last_pass + HZ))
		ephport_pass_locked();
	mutex_unlock(&ephport_nets_lock);
	/* At most one walk a second; without memory, the last one stands. */
	ephport_net_dests_alarm(en);

	ephport_net_range(en->net, &lo, &hi);
	spin_lock_irq(&en->lock);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		ephport_usage_set_range(&en->usage[p], lo, hi);
		v->in_use[p] = en->usage[p].in_use;
		v->peak[p] = en->usage[p].peak;
	}
	alarm = ephport_net_alarm(en);
	v->alarm = en->alarm_on;
	spin_unlock_irq(&en->lock);
	v->lo = lo;
	v->hi = hi;
	if (alarm)
		ephport_netns_kick();
}

void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto)
{
	struct ephport_values v;

	/* Bring in_use up to date first: the peak restarts from it. */
	ephport_net_values(en, &v);
	spin_lock_irq(&en->lock);
	ephport_usage_reset_peak(&en->usage[proto]);
	spin_unlock_irq(&en->lock);
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
		alarm |= ephport_net_alarm(en);
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
					      bool *dest_alarm)
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
		break;
	}
	return kn;
}

static void ephport_work_fn(struct work_struct *work)
{
	struct ephport_usage u[EPHPORT_NPROTO];
	struct kernfs_node *kn;
	unsigned int inum;
	bool dest_alarm, dest, again;
	u32 dest_max;
	int p;

	mutex_lock(&ephport_nets_lock);
	if (ephport_need_pass())
		ephport_pass_locked();
	again = ephport_dests_round();
	mutex_unlock(&ephport_nets_lock);

	/* Notify outside the lock: sysfs readers take it. */
	for (;;) {
		mutex_lock(&ephport_nets_lock);
		kn = ephport_take_alarm(u, &inum, &dest_max, &dest_alarm);
		mutex_unlock(&ephport_nets_lock);
		if (!kn)
			break;
		dest = READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST;
		for (p = 0; p < EPHPORT_NPROTO; p++) {
			if (!u[p].alarm)
				continue;
			if (p == EPHPORT_TCP && dest) {
				if (dest_alarm)
					pr_warn_ratelimited("netns %u: tcp ephemeral ports %u of %u held toward one destination, alarm at %u%%\n",
							    inum, dest_max,
							    u[p].hi - u[p].lo + 1,
							    READ_ONCE(ephport_alarm_pct));
				continue;
			}
			pr_warn_ratelimited("netns %u: %s ephemeral ports %u of %u in use, alarm at %u%%\n",
					    inum, ephport_proto_names[p],
					    u[p].in_use, u[p].hi - u[p].lo + 1,
					    READ_ONCE(ephport_alarm_pct));
		}
		sysfs_notify_dirent(kn);
		kernfs_put(kn);
	}
	if (again)
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
 * through the hooks (only a subsystem initialized before ephport could
 * bind one unseen, and the next pass, 1 s at most after a read, finds it).
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
