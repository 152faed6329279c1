// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the alarm (alarm.h), its one owner: judging it, what readers
 * see with it, its settings, and the work that notifies it.
 *
 * A namespace's alarm is judged from what counting.c counts: the share
 * of the range each protocol has in use, against alarm_pct, with
 * EPHPORT_ALARM_HYST points of hysteresis. TCP's part may follow the
 * fullest destination instead (alarm_basis "dest"): the share of the
 * range held toward it, reserved ports counted as held, from the last
 * walk of the destinations (dests.c, at most 1 s old), pulled here. A
 * destination cannot hold more ports than are bound, so the first gates
 * the second: only a namespace whose distinct TCP ports are above
 * alarm_pct has its destinations walked.
 *
 * It is judged exactly by readers and by the work, which the hooks wake
 * when their count nears a threshold (the judge bit), a pass after it
 * rebuilt the bitmaps, and, with the per-destination basis, once a
 * second while a namespace needs it. The work notifies a change (poll()
 * on the namespace's alarm file, and a rate-limited kernel message).
 */
#include <linux/bitops.h>
#include <linux/kernfs.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "alarm.h"
#include "counting.h"
#include "dests.h"
#include "pass.h"

/* The alarm readers see. Caller holds en->lock. */
static bool ephport_net_alarm_now(struct ephport_net *en)
{
	bool tcp = en->usage[EPHPORT_TCP].alarm;

	if (READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST)
		tcp = tcp && en->dest_alarm;
	return tcp || en->usage[EPHPORT_UDP].alarm;
}

/*
 * The counts made exact and the alarm judged again; true if it changed
 * (the work then notifies it). Caller holds en->lock.
 */
static bool ephport_alarm_judge(struct ephport_net *en)
{
	unsigned int pct = READ_ONCE(ephport_alarm_pct);
	bool changed = false;
	bool now;
	int p;

	lockdep_assert_held(&en->lock);
	ephport_counts_refresh(en);
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

/*
 * With the per-destination basis, and the namespace's distinct TCP ports
 * above alarm_pct: its destinations' last walk (at most 1 s old) is taken
 * into its alarm (judged against alarm_pct now: a new threshold applies
 * to the last walk too). Returns whether the namespace needs such walks.
 */
static bool ephport_alarm_dests(struct ephport_net *en)
{
	struct ephport_dests_brief b;
	bool on;

	if (READ_ONCE(ephport_alarm_basis) != EPHPORT_BASIS_DEST)
		return false;
	spin_lock_irq(&en->lock);
	on = en->usage[EPHPORT_TCP].alarm;
	spin_unlock_irq(&en->lock);
	if (!on)
		return false;
	/* Without memory for a new walk, the last one stands. */
	ephport_net_dests_brief(en, &b);
	if (!b.valid)
		return true;
	spin_lock_irq(&en->lock);
	en->dest_max = b.max;
	ephport_alarm_update(&en->dest_alarm, b.max + b.reserved, b.lo, b.hi,
			     READ_ONCE(ephport_alarm_pct));
	spin_unlock_irq(&en->lock);
	return true;
}

/*
 * Judged again, the per-destination part too (pulled if the judgement
 * found the distinct TCP ports above alarm_pct); true if it changed.
 */
static bool ephport_alarm_rejudge(struct ephport_net *en)
{
	bool changed;

	spin_lock_irq(&en->lock);
	changed = ephport_alarm_judge(en);
	spin_unlock_irq(&en->lock);
	if (ephport_alarm_dests(en)) {
		spin_lock_irq(&en->lock);
		changed |= ephport_alarm_judge(en);
		spin_unlock_irq(&en->lock);
	}
	return changed;
}

/*
 * The values of a namespace for a reader: work on this namespace only
 * (its bitmaps' words of the range, one entry per CPU), under its own
 * lock. When the bitmaps need a pass, the work does it, at most once a
 * second however many read.
 */
void ephport_net_values(struct ephport_net *en, struct ephport_values *v)
{
	bool changed;
	int p;

	if (ephport_pass_wanted(en))
		ephport_work_soon();
	/*
	 * The per-destination part, if the last judgement found the
	 * distinct TCP ports above alarm_pct (one that finds them so now
	 * kicks the work, which pulls it).
	 */
	ephport_alarm_dests(en);

	spin_lock_irq(&en->lock);
	changed = ephport_alarm_judge(en);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		v->in_use[p] = en->usage[p].in_use;
		v->peak[p] = en->usage[p].peak;
	}
	v->lo = en->usage[EPHPORT_TCP].lo;
	v->hi = en->usage[EPHPORT_TCP].hi;
	v->alarm = en->alarm_on;
	spin_unlock_irq(&en->lock);
	if (changed)
		ephport_netns_kick();
}

/*
 * Where to notify a change of the namespace's alarm (NULL: nowhere),
 * with a reference the state holds from now on. Returns the previous
 * one, whose reference passes to the caller.
 */
struct kernfs_node *ephport_net_watch_alarm(struct ephport_net *en,
					    struct kernfs_node *kn)
{
	struct kernfs_node *old;

	mutex_lock(&ephport_nets_lock);
	old = en->alarm_kn;
	en->alarm_kn = kn;
	mutex_unlock(&ephport_nets_lock);
	return old;
}

/* Every namespace's alarm judged again, after a new threshold or basis. */
static void ephport_alarms_rejudge(void)
{
	struct ephport_net *en;
	bool changed = false;

	lockdep_assert_held(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node)
		changed |= ephport_alarm_rejudge(en);
	if (changed)
		ephport_netns_kick();
}

void ephport_set_alarm_pct(unsigned int pct)
{
	mutex_lock(&ephport_nets_lock);
	WRITE_ONCE(ephport_alarm_pct, pct);
	ephport_alarms_rejudge();
	mutex_unlock(&ephport_nets_lock);
}

/* The alarm's basis for TCP: every namespace's alarm is judged again. */
void ephport_set_alarm_basis(enum ephport_basis basis)
{
	mutex_lock(&ephport_nets_lock);
	WRITE_ONCE(ephport_alarm_basis, basis);
	ephport_alarms_rejudge();
	mutex_unlock(&ephport_nets_lock);
}

/* ---- the work: deferred passes, judgements, notifications ---- */

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

static void ephport_alarm_say(const struct ephport_usage *u, unsigned int inum,
			      u32 dest_max, bool dest_alarm)
{
	bool dest = READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST;
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		if (!u[p].alarm)
			continue;
		if (p == EPHPORT_TCP && dest) {
			if (dest_alarm)
				pr_warn("netns %u: tcp ephemeral ports %u of %u held toward one destination, alarm at %u%%\n",
					inum, dest_max, u[p].hi - u[p].lo + 1,
					READ_ONCE(ephport_alarm_pct));
			continue;
		}
		pr_warn("netns %u: %s ephemeral ports %u of %u in use, alarm at %u%%\n",
			inum, ephport_proto_names[p], u[p].in_use,
			u[p].hi - u[p].lo + 1, READ_ONCE(ephport_alarm_pct));
	}
}

/* Handed to the state at init (netns.c): the state's one work item. */
void ephport_alarm_work(struct work_struct *work)
{
	struct ephport_usage u[EPHPORT_NPROTO];
	struct kernfs_node *kn;
	struct ephport_net *en;
	unsigned long delay;
	unsigned int inum;
	bool dest_alarm, speak, again = false;
	u32 dest_max;

	mutex_lock(&ephport_nets_lock);
	ephport_pass_due(&delay);
	/*
	 * The namespaces whose hooks or pass asked for their alarm to be
	 * judged; with the per-destination basis, those whose
	 * destinations need a walk a second, so that their alarm moves
	 * (and poll() wakes) without a reader.
	 */
	list_for_each_entry(en, &ephport_nets, node) {
		/*
		 * Judged first: the per-destination part is pulled only
		 * while the distinct TCP ports are above alarm_pct, which
		 * this judgement may just have found; then judged again
		 * with it.
		 */
		if (test_and_clear_bit(0, &en->judge)) {
			spin_lock_irq(&en->lock);
			ephport_alarm_judge(en);
			spin_unlock_irq(&en->lock);
		}
		if (!ephport_alarm_dests(en))
			continue;
		again = true;
		spin_lock_irq(&en->lock);
		ephport_alarm_judge(en);
		spin_unlock_irq(&en->lock);
	}
	mutex_unlock(&ephport_nets_lock);

	/* Notify outside the lock. */
	for (;;) {
		mutex_lock(&ephport_nets_lock);
		kn = ephport_take_alarm(u, &inum, &dest_max, &dest_alarm,
					&speak);
		mutex_unlock(&ephport_nets_lock);
		if (!kn)
			break;
		if (speak)
			ephport_alarm_say(u, inum, dest_max, dest_alarm);
		sysfs_notify_dirent(kn);
		kernfs_put(kn);
	}
	if (delay)
		ephport_work_later(delay);
	else if (again)
		ephport_work_later(HZ);
}
