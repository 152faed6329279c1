// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the pass (pass.h). One walk over the TCP bind hash and the UDP
 * table(s) (tables.c) rebuilds the bitmaps of every tracked namespace at
 * once. A pass runs at start (so sockets bound before ephport are
 * counted) and, from the work (alarm.c), when events cannot be trusted
 * (a hook missed one, or is unsupported): at most once a second, whoever
 * asks. A reader never walks the tables. A namespace created after start
 * begins empty.
 */
#include <linux/bitops.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "pass.h"
#include "tables.h"

/* The pass's bookkeeping, under ephport_nets_lock. */
static unsigned long ephport_last_pass;		/* jiffies */
/*
 * The RCU state when the last pass published its bitmaps: the bitmaps
 * it left as spares may be written by events that read the pointers
 * before, until a grace period has elapsed since.
 */
static unsigned long ephport_pass_rcu;
static unsigned long ephport_pass_missed;	/* hook misses seen by it */
static bool ephport_passed;			/* a pass has run at all */
/* ephport_pass_request(): READ_ONCE/WRITE_ONCE, no lock */
static bool ephport_pass_asked;
static unsigned long ephport_passes;		/* passes so far: READ_ONCE */

/*
 * Set by ephport_pass_start() once the hooks are in place, cleared by
 * ephport_pass_stop() before they go (READ_ONCE/WRITE_ONCE).
 */
static bool ephport_live;
static struct ephport_netns_env ephport_env;	/* valid while live */

static bool ephport_hooks_exact(void)
{
	return READ_ONCE(ephport_live) && ephport_env.exact;
}

static unsigned long ephport_hooks_missed(void)
{
	return READ_ONCE(ephport_live) ? ephport_env.missed() : 0;
}

/*
 * Whether the bitmaps hold every bound port: a pass has counted what was
 * bound before ephport. A pass under way does not change that: it
 * builds a shadow, and the bitmaps stay what events made them until it
 * is published. Missed events may still leave a bit wrong either way
 * (the kernel checks random mode's choice). Caller holds en->lock.
 */
bool ephport_net_settled(struct ephport_net *en)
{
	lockdep_assert_held(&en->lock);
	return en->dirty_seq == en->clean_seq;
}

static void ephport_pass_mark(const struct net *net, enum ephport_proto proto,
			      u32 port)
{
	struct ephport_net *en = ephport_net_of(net);

	lockdep_assert_held(&ephport_nets_lock);
	if (!en || !en->tracked || port >= EPHPORT_NPORTS)
		return;
	set_bit(port, en->usage[proto].shadow);
}

/*
 * One pass over the tables, for every tracked namespace at once, into
 * shadows (core.h): readers and random mode go on with the bitmaps as
 * they were until the pass publishes the new ones, each namespace's
 * under its lock, all protocols at once.
 *
 * Why the shadow is right when published: events go on meanwhile, on
 * the bitmap and the shadow both. A bind's handler runs after the kernel
 * put the socket in the chain or slot the pass walks (and unlocked it);
 * a release is judged after the kernel took the socket out, under that
 * chain's or slot's lock (release.c); the pass reads a chain and marks
 * what it found under that lock too. So for each port, either the pass
 * read its chain before the kernel's change, and the event, ordered
 * after it by the lock, finds the shadow and changes it; or after, and
 * the pass found the chain as the event left it. An event that found no
 * shadow, not yet made, happened before the pass read the chain: by the
 * lock, or for a chain the walk skips as empty, by the grace period
 * below.
 *
 * Each namespace's alarm is then to be judged again: the judge bit,
 * which the work (running this pass, or kicked by ephport_pass_start())
 * reads right after.
 */
static void ephport_pass_locked(void)
{
	unsigned long missed = ephport_hooks_missed();
	/* Only with every hook in place can events keep the result right. */
	bool trusted = ephport_hooks_exact();
	struct udp_table *global = ephport_udp_table(&init_net);
	struct ephport_net *en;
	int p;

	lockdep_assert_held(&ephport_nets_lock);
	/* Asked for from now: a pass after this one. */
	WRITE_ONCE(ephport_pass_asked, false);
	/*
	 * The spares the last pass left may still be written by events
	 * that read the pointers before it published: wait them out. A
	 * second later, as passes come, this rarely waits.
	 */
	if (ephport_passed)
		cond_synchronize_rcu(ephport_pass_rcu);
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		en->pass_seq = en->dirty_seq;
		for (p = 0; p < EPHPORT_NPROTO; p++)
			ephport_usage_shadow(&en->usage[p]);
		spin_unlock_irq(&en->lock);
	}
	/*
	 * The walks skip an empty chain or slot without its lock. A bind
	 * that filled it and then found no shadow ran its handler (an RCU
	 * reader: the hooks run with preemption off, the steered calls
	 * under rcu_read_lock()) before this grace period ended, and its
	 * link, made before, is seen by the walks after it.
	 */
	synchronize_rcu();

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
		for (p = 0; p < EPHPORT_NPROTO; p++)
			ephport_usage_publish(&en->usage[p]);
		ephport_counts_refresh(en);
		if (trusted)
			en->clean_seq = en->pass_seq;
		spin_unlock_irq(&en->lock);
		set_bit(0, &en->judge);
	}
	ephport_pass_rcu = get_state_synchronize_rcu();
	ephport_last_pass = jiffies;
	ephport_passed = true;
	WRITE_ONCE(ephport_passes, ephport_passes + 1);
	WRITE_ONCE(ephport_pass_missed, missed);
}

static bool ephport_need_pass(void)
{
	struct ephport_net *en;
	bool dirty = false;

	lockdep_assert_held(&ephport_nets_lock);
	if (!ephport_passed || !ephport_hooks_exact() ||
	    READ_ONCE(ephport_pass_asked) ||
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
 * For the work: a pass if one is needed and the last is a second old;
 * if it must wait, *delay is how long. Returns whether it passed.
 * Caller holds ephport_nets_lock.
 */
bool ephport_pass_due(unsigned long *delay)
{
	*delay = 0;
	if (!ephport_need_pass())
		return false;
	/* However many ask, the tables are walked once a second. */
	if (time_before(jiffies, ephport_last_pass + HZ)) {
		*delay = ephport_last_pass + HZ - jiffies;
		return false;
	}
	ephport_pass_locked();
	return true;
}

/*
 * Whether a reader of @en should have the work pass: the hooks cannot
 * keep the bitmaps exact, missed an event, or the namespace has not been
 * counted yet. Lockless: a reader never walks the tables itself.
 */
bool ephport_pass_wanted(struct ephport_net *en)
{
	return !ephport_hooks_exact() ||
	       ephport_hooks_missed() != READ_ONCE(ephport_pass_missed) ||
	       READ_ONCE(en->dirty_seq) != READ_ONCE(en->clean_seq);
}

/*
 * A pass asked for from outside (debugfs.c): the work's next run makes
 * one, at most a second after the last as any.
 */
void ephport_pass_request(void)
{
	WRITE_ONCE(ephport_pass_asked, true);
}

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
 * Counts what was bound before the hooks were in place, in every
 * namespace, and trusts new namespaces to start empty from now on. The
 * work judges every alarm then (the pass set their judge bits).
 */
void ephport_pass_start(const struct ephport_netns_env *env)
{
	mutex_lock(&ephport_nets_lock);
	ephport_env = *env;
	WRITE_ONCE(ephport_live, true);
	ephport_pass_locked();
	mutex_unlock(&ephport_nets_lock);
	ephport_netns_kick();
}

void ephport_pass_stop(void)
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
void ephport_pass_join(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	if (!ephport_live)
		en->dirty_seq = 1;
}
