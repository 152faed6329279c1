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
 * on the namespace's alarm file, and a kernel message within the
 * namespace's budget and the host's).
 *
 * What a user who makes many namespaces can cost the host is bounded by
 * the host, not by the number of namespaces: the messages by one budget
 * for all (EPHPORT_SAY_BURST), the destinations the work pulls by one
 * walk of the established hash a round, for EPHPORT_DEST_WALKS
 * namespaces at most, outside ephport_nets_lock; under that lock the
 * work does O(1) per namespace.
 */
#include <linux/bitops.h>
#include <linux/kernfs.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
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
	/*
	 * Below the threshold the last walk is stale: it must not raise
	 * the alarm again when the share next crosses, before a new walk.
	 */
	if (!on)
		en->dest_alarm = false;
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

/*
 * Every namespace's alarm judged again, after a new threshold or basis:
 * O(1) each, under the list's lock. The per-destination part is not
 * pulled here (a walk under that lock would hold back every namespace's
 * creation and teardown): the work pulls it, outside the lock, in its
 * next rounds, and a reader judges with it anyway.
 */
static void ephport_alarms_rejudge(void)
{
	struct ephport_net *en;

	lockdep_assert_held(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		ephport_alarm_judge(en);
		spin_unlock_irq(&en->lock);
	}
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
 * The host's budget of alarm messages, above each namespace's own
 * (en->alarm_rs, 10 in 5 s): however many namespaces a user makes and
 * toggles, the kernel log gets at most EPHPORT_SAY_BURST changes every
 * 5 s from all of them, each one or two lines (TCP, UDP), and the
 * ratelimit's own note of how many it suppressed ("ephport: alarm
 * messages: N callbacks suppressed"), at most one per 5 s. Only the work
 * speaks, and ___ratelimit() has its own lock.
 */
#define EPHPORT_SAY_BURST	20
static DEFINE_RATELIMIT_STATE(ephport_say_rs, 5 * HZ, EPHPORT_SAY_BURST);

/* What one message needs, taken under the namespace's lock. */
struct ephport_say {
	unsigned int inum;
	bool alarm[EPHPORT_NPROTO];
	u32 in_use[EPHPORT_NPROTO];
	u32 size[EPHPORT_NPROTO];
	u32 dest_max;
	bool dest_alarm;
};

/*
 * The messages of one round of the work, printed once it dropped
 * ephport_nets_lock (a console may be slow: namespaces are created and
 * torn down meanwhile). Only the work writes them: one work item, which
 * the workqueue never runs twice at once.
 */
static struct ephport_say ephport_says[EPHPORT_SAY_BURST];
static unsigned int ephport_nsays;

static bool ephport_alarm_says(const struct ephport_say *s);

/*
 * If @en's alarm changed since the last time: poll() wakes on its alarm
 * file now (kernfs_notify() takes a spinlock and defers the wake-up: no
 * sleep, cheap, so done under the list's lock, which keeps alarm_kn), and
 * its message is kept for later if both budgets allow it. O(1): the work
 * calls it once per namespace per round, so a round costs O(namespaces)
 * however many changed.
 */
static void ephport_alarm_notify(struct ephport_net *en)
{
	struct ephport_say say;
	bool changed;
	int p;

	lockdep_assert_held(&ephport_nets_lock);
	spin_lock_irq(&en->lock);
	changed = en->alarm_changed;
	en->alarm_changed = false;
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		say.alarm[p] = en->usage[p].alarm;
		say.in_use[p] = en->usage[p].in_use;
		say.size[p] = en->usage[p].hi - en->usage[p].lo + 1;
	}
	say.dest_max = en->dest_max;
	say.dest_alarm = en->dest_alarm;
	spin_unlock_irq(&en->lock);
	if (!changed || !en->alarm_kn)
		return;
	sysfs_notify_dirent(en->alarm_kn);
	/*
	 * Only a change that has something to say spends the budgets: the
	 * namespace's first, then the host's, which notes what it drops.
	 */
	if (!ephport_alarm_says(&say) || !__ratelimit(&en->alarm_rs) ||
	    !___ratelimit(&ephport_say_rs, "ephport: alarm messages"))
		return;
	/* At most the host's burst in a round, but across its interval. */
	if (ephport_nsays < EPHPORT_SAY_BURST) {
		say.inum = en->net->ns.inum;
		ephport_says[ephport_nsays++] = say;
	}
}

/* Whether @s has a line to log: a protocol in alarm, by the basis. */
static bool ephport_alarm_says(const struct ephport_say *s)
{
	if (s->alarm[EPHPORT_UDP])
		return true;
	if (READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST)
		return s->alarm[EPHPORT_TCP] && s->dest_alarm;
	return s->alarm[EPHPORT_TCP];
}

static void ephport_alarm_say(const struct ephport_say *s)
{
	bool dest = READ_ONCE(ephport_alarm_basis) == EPHPORT_BASIS_DEST;
	unsigned int pct = READ_ONCE(ephport_alarm_pct);
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		if (!s->alarm[p])
			continue;
		if (p == EPHPORT_TCP && dest) {
			if (s->dest_alarm)
				pr_warn("netns %u: tcp ephemeral ports %u of %u held toward one destination, alarm at %u%%\n",
					s->inum, s->dest_max, s->size[p], pct);
			continue;
		}
		pr_warn("netns %u: %s ephemeral ports %u of %u in use, alarm at %u%%\n",
			s->inum, ephport_proto_names[p], s->in_use[p],
			s->size[p], pct);
	}
}

/*
 * The most namespaces whose destinations the work pulls in a round
 * (rounds are a second apart while any namespace needs them), in one
 * walk of the host's established hash for all of them (dests.c). With
 * more namespaces in alarm than this, they take turns: each one's
 * per-destination part is pulled at least every
 * ceil(namespaces / EPHPORT_DEST_WALKS) rounds (its readers still walk it
 * themselves, at most once a second).
 */
#define EPHPORT_DEST_WALKS	EPHPORT_DESTS_BATCH

/*
 * Where the last round's turn ended: the next round starts with the
 * candidate after it (the work's own, like ephport_says).
 */
static unsigned int ephport_dest_turn;

/*
 * Whether the work pulls @en's destinations in its rounds: the
 * per-destination basis, and the distinct TCP ports above alarm_pct.
 */
static bool ephport_alarm_wants_dests(struct ephport_net *en)
{
	bool on;

	if (READ_ONCE(ephport_alarm_basis) != EPHPORT_BASIS_DEST)
		return false;
	spin_lock_irq(&en->lock);
	on = en->usage[EPHPORT_TCP].alarm;
	spin_unlock_irq(&en->lock);
	return on;
}

/*
 * Up to EPHPORT_DEST_WALKS of the @ncand namespaces that want their
 * destinations pulled, in turn (candidate i of this round's list is
 * taken if it is among the EPHPORT_DEST_WALKS from where the last turn
 * ended, wrapping), each with a reference on its network namespace: its
 * state lives until the reference goes (the state's pernet exit runs
 * only once no reference is left), so the walk needs no lock of the
 * list. A namespace whose last reference is gone already (its exit is
 * queued) is skipped. Returns how many are in @walk.
 */
static unsigned int ephport_alarm_turn(struct ephport_net **walk,
				       unsigned int ncand)
{
	unsigned int i = 0, n = 0, start;
	struct ephport_net *en;

	lockdep_assert_held(&ephport_nets_lock);
	if (!ncand)
		return 0;
	start = ephport_dest_turn % ncand;
	list_for_each_entry(en, &ephport_nets, node) {
		if (n == EPHPORT_DEST_WALKS)
			break;
		if (!ephport_alarm_wants_dests(en))
			continue;
		/* ncand was counted before: a new candidate may come late. */
		if ((i++ + ncand - start) % ncand >= EPHPORT_DEST_WALKS)
			continue;
		if (maybe_get_net(en->net))
			walk[n++] = en;
	}
	ephport_dest_turn = start + EPHPORT_DEST_WALKS;
	return n;
}

/*
 * Handed to the state at init (netns.c): the state's one work item.
 *
 * Under ephport_nets_lock, which namespace creation and teardown take,
 * it does O(1) per namespace: the pass's bookkeeping, the judgements the
 * hooks asked for, the notifications (one walk of the list, whatever
 * changed) and the choice of whose destinations to walk. The walk, one
 * of the established hash for up to EPHPORT_DEST_WALKS namespaces, and
 * the messages run after it dropped the lock; the walked namespaces'
 * notifications take it once more, briefly.
 */
void ephport_alarm_work(struct work_struct *work)
{
	struct ephport_net *walk[EPHPORT_DEST_WALKS];
	unsigned int i, n, ncand = 0;
	struct ephport_net *en;
	unsigned long delay;

	ephport_nsays = 0;
	mutex_lock(&ephport_nets_lock);
	ephport_pass_due(&delay);
	list_for_each_entry(en, &ephport_nets, node) {
		if (test_and_clear_bit(0, &en->judge)) {
			spin_lock_irq(&en->lock);
			ephport_alarm_judge(en);
			spin_unlock_irq(&en->lock);
		}
		/*
		 * With the per-destination basis, a namespace whose
		 * distinct TCP ports are above alarm_pct has its
		 * destinations walked in turn, once a second, so that its
		 * alarm moves (and poll() wakes) without a reader.
		 */
		if (ephport_alarm_wants_dests(en))
			ncand++;
		ephport_alarm_notify(en);
	}
	n = ephport_alarm_turn(walk, ncand);
	mutex_unlock(&ephport_nets_lock);

	/* No lock of the list: each holds a reference (above). */
	ephport_nets_dests_walk(walk, n);
	for (i = 0; i < n; i++) {
		ephport_alarm_dests(walk[i]);
		spin_lock_irq(&walk[i]->lock);
		ephport_alarm_judge(walk[i]);
		spin_unlock_irq(&walk[i]->lock);
		cond_resched();
	}
	if (n) {
		/* Still listed: the reference holds back their exit. */
		mutex_lock(&ephport_nets_lock);
		for (i = 0; i < n; i++)
			ephport_alarm_notify(walk[i]);
		mutex_unlock(&ephport_nets_lock);
		for (i = 0; i < n; i++)
			put_net(walk[i]->net);
	}

	for (i = 0; i < ephport_nsays; i++)
		ephport_alarm_say(&ephport_says[i]);
	if (delay)
		ephport_work_later(delay);
	else if (ncand)
		ephport_work_later(HZ);
}
