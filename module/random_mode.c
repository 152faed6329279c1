// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's part of each namespace's state (random_mode.h).
 *
 * ephport chooses the ephemeral port: uniformly among the ports of the
 * socket's range that are neither reserved, nor bound in the namespace,
 * nor resting (released less than reuse_delay_ms ago); when every free
 * port rests, the one that has rested longest. The kernel still checks
 * the port it is given (steer.c).
 *
 * A namespace in random mode owns a struct ephport_rest (its resting
 * ports) sized to its range, charged to the memory cgroup of the task
 * that caused it. Until a pass has counted the ports bound before
 * ephport, the kernel chooses (random_fallback_untrusted).
 *
 * The choice itself is random_choose.c's. Resting ports are forgotten
 * off the path of bind() and connect() too: each namespace's work
 * (rest_work) takes those whose delay is over from the head of the list
 * of releases when the first of them expires (a release queues it; a
 * choice takes a few itself), and every EPHPORT_SWEEP_SECS it also looks
 * at the handed-out ports for releases unseen. Both go in steps under
 * rest_lock, dropped between steps: no loop runs over a range of 1-65535
 * with interrupts off. A reader sweeps nothing.
 */
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "counting.h"
#include "pass.h"
#include "random_mode.h"
#include "tables.h"

/*
 * How random mode gets its redirects: a function of the hooks, given at
 * load (NULL before and at unload), that registers them on the first
 * switch to random mode and keeps them until unload. Observe mode alone
 * never has them on its path.
 */
static const struct ephport_steer_ops *ephport_random_steer_ops;

void ephport_random_set_steer(const struct ephport_steer_ops *ops)
{
	WRITE_ONCE(ephport_random_steer_ops, ops);
}

/* 0 if random mode can steer (from now until unload), else why not. */
int ephport_random_steer(void)
{
	const struct ephport_steer_ops *ops = READ_ONCE(ephport_random_steer_ops);

	return ops ? ops->arm() : -ENODEV;
}

/* Random mode, with its state in place. */
bool ephport_random_active(struct ephport_net *en)
{
	return ephport_net_mode(en) == EPHPORT_MODE_RANDOM &&
	       READ_ONCE(en->rest);
}

static void ephport_rest_work_fn(struct work_struct *work);

/* A rest for [lo, hi], charged to the current task's memory cgroup. */
static struct ephport_rest *ephport_rest_alloc(u32 lo, u32 hi)
{
	struct ephport_rest *rest;

	rest = ephport_kvzalloc(ephport_rest_size(lo, hi));
	if (rest)
		ephport_rest_init(rest, lo, hi);
	return rest;
}

/*
 * Makes @en's rest ahead of a switch to random mode that must not fail
 * half-way (the global mode): ephport_random_update() then uses it.
 */
int ephport_random_prepare(struct ephport_net *en)
{
	u32 lo, hi;

	lockdep_assert_held(&ephport_nets_lock);
	if (READ_ONCE(en->rest) || en->spare)
		return 0;
	ephport_net_range(en->net, &lo, &hi);
	en->spare = ephport_rest_alloc(lo, hi);
	return en->spare ? 0 : -ENOMEM;
}

/* A switch given up: the rests made ahead of it go. */
void ephport_random_unprepare(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	kvfree(en->spare);
	en->spare = NULL;
}

/* Builds a caller begins at most (two choices may disagree on the range). */
#define EPHPORT_BUILD_BEGINS	4

/*
 * Builds @proto's set to draw from (avail.c) for [lo, hi] in @en's rest
 * @gen, a step at a time, the locks dropped between steps: at the switch
 * to random mode, and by a choice that finds it not built from the
 * bitmaps and range in force. Process context. Returns whether it is
 * built; false: the rest or the mode changed, the bitmaps cannot be
 * trusted, or the build kept being begun again.
 */
bool ephport_random_build(struct ephport_net *en, enum ephport_proto proto,
			  unsigned long gen, u32 lo, u32 hi)
{
	unsigned int begins = 0;
	unsigned long flags;
	bool done = false, ok = true;

	while (!done && ok) {
		const unsigned long *bound;
		struct ephport_avail *a;
		struct ephport_rest *r;
		unsigned long mark;

		cond_resched();
		spin_lock_irqsave(&en->rest_lock, flags);
		r = en->rest;
		if (en->rest_gen != gen ||
		    ephport_net_mode(en) != EPHPORT_MODE_RANDOM) {
			ok = false;
			goto unlock;
		}
		a = &r->avail[proto];
		lo = max(lo, r->lo);
		hi = min(hi, r->hi);
		spin_lock(&en->lock);
		bound = en->usage[proto].bound;
		mark = ephport_nets_passes();
		if (!ephport_net_settled(en)) {
			ok = false;
		} else if (!a->begun || a->bound != bound || a->mark != mark ||
			   a->lo != lo || a->hi != hi) {
			/* Not built, nor being built, from what is in force. */
			ok = ++begins <= EPHPORT_BUILD_BEGINS;
			if (ok)
				ephport_avail_begin(r, proto, lo, hi, bound, mark);
		}
		if (ok)
			done = ephport_avail_step(r, proto,
						  EPHPORT_REST_STEP_WORDS);
		spin_unlock(&en->lock);
unlock:
		spin_unlock_irqrestore(&en->rest_lock, flags);
	}
	return ok;
}

/* Gives @en a rest if its mode is random, takes it away if not. */
int ephport_random_update(struct ephport_net *en)
{
	bool random = ephport_net_mode(en) == EPHPORT_MODE_RANDOM;
	struct ephport_rest *rest = NULL;
	unsigned long flags, gen;
	u32 lo, hi;
	int p;

	lockdep_assert_held(&ephport_nets_lock);
	if (random == !!READ_ONCE(en->rest)) {
		ephport_random_unprepare(en);
		return 0;
	}
	if (random) {
		swap(rest, en->spare);
		if (!rest) {
			ephport_net_range(en->net, &lo, &hi);
			rest = ephport_rest_alloc(lo, hi);
		}
		if (!rest)
			return -ENOMEM;
	}
	/* No rest before: its sweeping work is idle (cancelled, or new). */
	if (random)
		INIT_DELAYED_WORK(&en->rest_work, ephport_rest_work_fn);
	spin_lock_irqsave(&en->rest_lock, flags);
	swap(rest, en->rest);
	gen = ++en->rest_gen;
	spin_unlock_irqrestore(&en->rest_lock, flags);
	/*
	 * The rest went: a release sees none under rest_lock from now, so
	 * nothing queues the work again once it is cancelled.
	 */
	if (!random)
		cancel_delayed_work_sync(&en->rest_work);
	kvfree(rest);
	/* The sets to draw from, now rather than at the first choices. */
	if (random) {
		ephport_net_range(en->net, &lo, &hi);
		for (p = 0; p < EPHPORT_NPROTO; p++)
			ephport_random_build(en, p, gen, lo, hi);
	}
	return 0;
}

/* The namespace is going: no handler reaches it any more. */
void ephport_random_free(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	ephport_random_unprepare(en);
	/* A rest means an initialized work (ephport_random_update()). */
	if (en->rest)
		cancel_delayed_work_sync(&en->rest_work);
	kvfree(en->rest);
	en->rest = NULL;
}

/*
 * The range no longer fits in the rest (it changed): a rest for the new
 * one and the old one's ports, with what the old one knew (so that its
 * list is copied as a block). Process context, may sleep.
 */
void ephport_random_refit(struct ephport_net *en, u32 lo, u32 hi)
{
	struct ephport_rest *rest, *old;
	unsigned long flags;
	u32 nlo, nhi;

	ephport_net_range(en->net, &nlo, &nhi);
	nlo = min(lo, nlo);
	nhi = max(hi, nhi);
	spin_lock_irqsave(&en->rest_lock, flags);
	if (en->rest) {
		nlo = min(nlo, en->rest->lo);
		nhi = max(nhi, en->rest->hi);
	}
	spin_unlock_irqrestore(&en->rest_lock, flags);
	rest = ephport_rest_alloc(nlo, nhi);
	if (!rest)
		return;
	spin_lock_irqsave(&en->rest_lock, flags);
	old = en->rest;
	if (old && !ephport_rest_covers(old, lo, hi)) {
		ephport_rest_copy(rest, old);
		en->rest = rest;
		en->rest_gen++;
		rest = old;
	}
	spin_unlock_irqrestore(&en->rest_lock, flags);
	kvfree(rest);
}

/*
 * The namespace's rest brought up to date, a step at a time: the ports
 * whose delay is over leave the list (EPHPORT_LRU_STEP_PORTS a step),
 * and when the periodic sweep asked for it (sweep_due), the handed-out
 * ports are looked at for releases unseen (EPHPORT_REST_STEP_WORDS
 * words a step). Each step holds rest_lock, interrupts off; between
 * steps a release, a choice or a refit may run (a new rest: the loop
 * goes on with it). The namespace's bitmaps tell which handed-out ports
 * are still bound, once a pass has counted what ephport found. Returns
 * in how many ms the first resting port expires, 0 if none is listed.
 * Process context.
 */
static u32 ephport_random_sweep(struct ephport_net *en)
{
	unsigned long flags;
	bool more = true;
	u32 next = 0;

	while (more) {
		struct ephport_rest *rest;
		u32 delay = ephport_net_delay(en);
		u16 now;

		spin_lock_irqsave(&en->rest_lock, flags);
		rest = en->rest;
		if (!rest) {
			spin_unlock_irqrestore(&en->rest_lock, flags);
			return 0;
		}
		/* Read under the lock: no release here is later (rest.c). */
		now = ephport_random_now();
		more = ephport_rest_expire(rest, now, delay,
					   EPHPORT_LRU_STEP_PORTS);
		if (!more && rest->sweep_due) {
			bool settled;

			spin_lock(&en->lock);
			settled = ephport_net_settled(en);
			if (ephport_rest_sweep_step(rest, now,
						    settled ? en->usage[EPHPORT_TCP].bound : NULL,
						    settled ? en->usage[EPHPORT_UDP].bound : NULL,
						    EPHPORT_REST_STEP_WORDS))
				rest->sweep_due = false;
			spin_unlock(&en->lock);
			/* Then the expiry of what it found (a delay of 0). */
			more = true;
		}
		if (!more)
			next = ephport_rest_next_ms(rest, now, delay);
		spin_unlock_irqrestore(&en->rest_lock, flags);
		cond_resched();
	}
	return next;
}

/*
 * The namespace's sweeping work: the expiry, then again when the first
 * port left resting expires. A release queues it when it is not queued
 * (once per expiry at most, however many release); cancelled before the
 * rest goes (ephport_random_update(), ephport_random_free()).
 */
static void ephport_rest_work_fn(struct work_struct *work)
{
	struct ephport_net *en = container_of(to_delayed_work(work),
					      struct ephport_net, rest_work);
	u32 next = ephport_random_sweep(en);

	if (next)
		mod_delayed_work(ephport_percpu_wq, &en->rest_work,
				 msecs_to_jiffies(next) + 1);
}

/*
 * A steered call ended: if the kernel accepted ephport's choice
 * (@accepted), the port is recorded as bound and handed out, and the
 * call's counters move (ephport_outcome(), and self_connect_avoided or
 * self_connect_refused as @self says).
 *
 * Bound before handed out, here rather than at the observe hook's return
 * from the outer call: until its bit is set, a handed-out port looks
 * free to the next choice (still in the set to draw from, or for the LRU
 * one still in the list of releases), and a sweep would take it for a
 * release unseen.
 * The outer call's return then finds the bit set and moves nothing.
 */
void ephport_random_done(struct ephport_net *en, enum ephport_proto proto,
			 enum ephport_pick pick, u32 port, bool accepted,
			 enum ephport_self self)
{
	unsigned long mask = ephport_outcome(pick, accepted);
	unsigned long flags;
	unsigned int c;

	if (accepted) {
		ephport_net_bound(en, proto, port);
		spin_lock_irqsave(&en->rest_lock, flags);
		if (en->rest)
			ephport_rest_handout(en->rest, port);
		spin_unlock_irqrestore(&en->rest_lock, flags);
	}
	for_each_set_bit(c, &mask, EPHPORT_NRCOUNTERS)
		ephport_net_rcount(en, c);
	if (self == EPHPORT_SELF_AVOIDED)
		ephport_net_rcount(en, EPHPORT_SELF_CONNECT_AVOIDED);
	else if (self == EPHPORT_SELF_REFUSED)
		ephport_net_rcount(en, EPHPORT_SELF_CONNECT_REFUSED);
}

/*
 * The namespace let go of @port (no socket holds it any more). Called
 * on release, in atomic context, maybe under a bind hash chain or UDP
 * slot lock; before the counting clears the port's bit (release.c), so
 * that a choice that finds the bit set, and takes the port out of the
 * set to draw from, finds it resting after this, and its expiry puts it
 * back (avail.c, invariant 2). O(log(range / 64)).
 */
void ephport_random_released(struct ephport_net *en, u32 port)
{
	unsigned long flags;

	u32 delay = ephport_net_delay(en);

	if (!READ_ONCE(en->rest))
		return;
	spin_lock_irqsave(&en->rest_lock, flags);
	if (en->rest) {
		ephport_rest_release(en->rest, port, ephport_random_now(), delay);
		/*
		 * The work sweeps the port when its delay is over. Queued
		 * or running, it is due by then already: it sweeps at the
		 * first expiry it knows of, and a release expires after
		 * every earlier one. Arming a timer takes no sleep; under
		 * rest_lock, cancel_delayed_work_sync() after the rest went
		 * cannot miss it.
		 */
		if (delay && !delayed_work_pending(&en->rest_work))
			queue_delayed_work(ephport_percpu_wq, &en->rest_work,
					   msecs_to_jiffies(delay) + 2);
	}
	spin_unlock_irqrestore(&en->rest_lock, flags);
}

/*
 * The counting cleared @port's bit (after ephport_random_released()):
 * a port released without a delay, drawn by a choice on another CPU
 * while its bit was still set and so taken out of the sets, goes back
 * (rest.c). Whatever the delay now: one changed in between must not
 * leave the port out for good.
 */
void ephport_random_freed(struct ephport_net *en, u32 port)
{
	unsigned long flags;

	if (!READ_ONCE(en->rest))
		return;
	spin_lock_irqsave(&en->rest_lock, flags);
	if (en->rest)
		ephport_rest_freed(en->rest, port);
	spin_unlock_irqrestore(&en->rest_lock, flags);
}

/*
 * Ports of the namespace's range resting, as its work last swept them
 * (within a few ms of a port's delay ending): a count a word at a time,
 * no sweep.
 */
u32 ephport_random_resting(struct ephport_net *en)
{
	unsigned long flags;
	u32 n = 0, lo, hi;

	ephport_net_range(en->net, &lo, &hi);
	spin_lock_irqsave(&en->rest_lock, flags);
	if (en->rest)
		n = ephport_rest_count(en->rest, lo, hi);
	spin_unlock_irqrestore(&en->rest_lock, flags);
	return n;
}

/*
 * Every EPHPORT_SWEEP_SECS: each namespace in random mode has its work
 * sweep now (O(1) each under ephport_nets_lock; the sweeps run in their
 * own works, outside it), so that no resting stamp lives long enough to
 * wrap and handed-out ports released unseen are found.
 */
static void ephport_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ephport_sweep_work, ephport_sweep_fn);

static void ephport_sweep_fn(struct work_struct *work)
{
	struct ephport_net *en;

	unsigned long flags;

	mutex_lock(&ephport_nets_lock);
	/* A rest means an initialized work; both change under this lock. */
	list_for_each_entry(en, &ephport_nets, node) {
		if (!en->rest)
			continue;
		spin_lock_irqsave(&en->rest_lock, flags);
		en->rest->sweep_due = true;
		spin_unlock_irqrestore(&en->rest_lock, flags);
		mod_delayed_work(ephport_percpu_wq, &en->rest_work, 0);
	}
	mutex_unlock(&ephport_nets_lock);
	queue_delayed_work(ephport_percpu_wq, &ephport_sweep_work,
			   EPHPORT_SWEEP_SECS * HZ);
}

void ephport_random_start(void)
{
	queue_delayed_work(ephport_percpu_wq, &ephport_sweep_work,
			   EPHPORT_SWEEP_SECS * HZ);
}

void ephport_random_stop(void)
{
	cancel_delayed_work_sync(&ephport_sweep_work);
}
