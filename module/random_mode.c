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
 * Sweeps forget resting ports, off the path of bind() and connect():
 * each namespace's work (rest_work) sweeps when its first resting port
 * expires (a release queues it), and every EPHPORT_SWEEP_SECS all the
 * same (stamps never wrap; handed-out ports released unseen are found).
 * A sweep, and an LRU choice, go EPHPORT_REST_STEP_WORDS words at a time
 * under rest_lock, dropped between steps: no loop runs over a range of
 * 1-65535 with interrupts off. A reader sweeps nothing.
 */
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>

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

/* Gives @en a rest if its mode is random, takes it away if not. */
int ephport_random_update(struct ephport_net *en)
{
	bool random = ephport_net_mode(en) == EPHPORT_MODE_RANDOM;
	struct ephport_rest *rest = NULL;
	unsigned long flags;
	u32 lo, hi;

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
	en->rest_gen++;
	spin_unlock_irqrestore(&en->rest_lock, flags);
	/*
	 * The rest went: a release sees none under rest_lock from now, so
	 * nothing queues the work again once it is cancelled.
	 */
	if (!random)
		cancel_delayed_work_sync(&en->rest_work);
	kvfree(rest);
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
 * one, with what the old one knew. Process context, may sleep.
 */
static void ephport_random_refit(struct ephport_net *en, u32 lo, u32 hi)
{
	struct ephport_rest *rest, *old;
	unsigned long flags;
	u32 nlo, nhi;

	ephport_net_range(en->net, &nlo, &nhi);
	rest = ephport_rest_alloc(min(lo, nlo), max(hi, nhi));
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

static u16 ephport_now(void)
{
	return ephport_rest_now(jiffies64_to_msecs(get_jiffies_64()));
}

/*
 * A whole sweep of @en's rest at the unit it starts, a step at a time:
 * each step holds rest_lock, interrupts off, for EPHPORT_REST_STEP_WORDS
 * words; between steps a release, a choice or a refit may run (a new
 * rest starts its own sweep: the loop goes on with it). The namespace's
 * bitmaps tell which handed-out ports are still bound, once a pass has
 * counted what ephport found. Returns in how many ms its first resting
 * port expires, 0 if none rests. Process context.
 */
static u32 ephport_random_sweep(struct ephport_net *en)
{
	unsigned long flags;
	bool done = false;
	u32 next = 0;

	while (!done) {
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
		now = ephport_now();
		spin_lock(&en->lock);
		if (ephport_net_settled(en))
			done = ephport_rest_sweep_step(rest, now, delay,
						       en->usage[EPHPORT_TCP].bound,
						       en->usage[EPHPORT_UDP].bound,
						       EPHPORT_REST_STEP_WORDS);
		else
			done = ephport_rest_sweep_step(rest, now, delay, NULL,
						       NULL,
						       EPHPORT_REST_STEP_WORDS);
		spin_unlock(&en->lock);
		if (done)
			next = ephport_rest_next_ms(rest, now, delay);
		spin_unlock_irqrestore(&en->rest_lock, flags);
		cond_resched();
	}
	return next;
}

/*
 * The namespace's sweeping work: a whole sweep, then again when the
 * first port it left resting expires. A release queues it when it is not
 * queued (once per expiry at most, however many release); cancelled
 * before the rest goes (ephport_random_update(), ephport_random_free()).
 */
static void ephport_rest_work_fn(struct work_struct *work)
{
	struct ephport_net *en = container_of(to_delayed_work(work),
					      struct ephport_net, rest_work);
	u32 next = ephport_random_sweep(en);

	if (next)
		mod_delayed_work(system_wq, &en->rest_work,
				 msecs_to_jiffies(next) + 1);
}

static u32 ephport_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * Every free port rests: the LRU choice begun in c->lru, made a step at
 * a time, rest_lock dropped between steps. If the rest (@gen) or the
 * mode changed, or the port found is no longer right, the kernel
 * chooses (_UNTRUSTED).
 */
static enum ephport_pick ephport_random_lru(struct ephport_net *en,
					    struct ephport_choice *c,
					    enum ephport_proto proto,
					    unsigned long gen, u32 *port)
{
	enum ephport_pick pick = EPHPORT_PICK_LRU;
	unsigned long flags;
	bool done = false;

	while (!done) {
		cond_resched();
		spin_lock_irqsave(&en->rest_lock, flags);
		/* The same rest, not one made since at the same address. */
		if (en->rest_gen != gen ||
		    ephport_net_mode(en) != EPHPORT_MODE_RANDOM) {
			pick = EPHPORT_PICK_UNTRUSTED;
			goto unlock;
		}
		/* Read under the lock: no stamp is later (choose.c). */
		c->now = ephport_now();
		spin_lock(&en->lock);
		if (ephport_net_settled(en)) {
			c->bound = en->usage[proto].bound;
			done = ephport_lru_step(c->lru, c,
						EPHPORT_REST_STEP_WORDS);
		} else {
			pick = EPHPORT_PICK_UNTRUSTED;
		}
		spin_unlock(&en->lock);
unlock:
		spin_unlock_irqrestore(&en->rest_lock, flags);
		if (pick != EPHPORT_PICK_LRU)
			return pick;
	}
	if (!c->lru->found)
		return EPHPORT_PICK_FULL;
	/*
	 * Bound or released again since it was found (connect() shares
	 * bound ports, the kernel would not refuse it)? Not handed out.
	 */
	spin_lock_irqsave(&en->rest_lock, flags);
	spin_lock(&en->lock);
	if (en->rest_gen != gen || !ephport_net_settled(en) ||
	    test_bit(c->lru->port, en->usage[proto].bound) ||
	    !ephport_rest_resting(c->rest, c->lru->port) ||
	    c->rest->stamp[c->lru->port - c->rest->lo] != c->lru->stamp)
		pick = EPHPORT_PICK_UNTRUSTED;
	spin_unlock(&en->lock);
	spin_unlock_irqrestore(&en->rest_lock, flags);
	if (pick != EPHPORT_PICK_LRU)
		return pick;
	*port = c->lru->port;
	return EPHPORT_PICK_LRU;
}

/*
 * Chooses a port for @sk in *port, never @avoid (or -1). Returns
 * EPHPORT_PICK_OK or _LRU with a port, or why there is none: _FULL,
 * _AVOIDED, or _UNTRUSTED (the bound ports cannot be trusted now, or
 * the namespace left random mode). *avoided: @avoid was free and left
 * out. Counts nothing. Process context: after a range change it makes
 * the namespace's rest anew, which may sleep.
 *
 * Under rest_lock, interrupts off, it draws (O(1)) or counts the
 * candidates (O(range / BITS_PER_LONG), 1,024 words at most); an LRU
 * choice goes on in steps (ephport_random_lru()). It sweeps nothing:
 * a resting port whose delay ran out rests until its namespace's work
 * sweeps, which it does when the port's delay ends.
 */
enum ephport_pick ephport_random_choose(struct ephport_net *en,
					struct sock *sk,
					enum ephport_proto proto, int avoid,
					u32 *port, bool *avoided)
{
	struct ephport_lru lru;
	struct ephport_choice c = { .avoid = avoid, .lru = &lru };
	struct net *net = sock_net(sk);
	enum ephport_pick pick;
	unsigned long flags;
	bool refitted = false;
	unsigned long gen;
	int lo, hi;

	*avoided = false;
	inet_sk_get_local_port_range(sk, &lo, &hi);
	if (lo < 1 || hi >= EPHPORT_NPORTS || lo > hi)
		return EPHPORT_PICK_FULL;
	c.lo = lo;
	c.hi = hi;
	c.reserved = net->ipv4.sysctl_local_reserved_ports;
again:
	spin_lock_irqsave(&en->rest_lock, flags);
	c.rest = en->rest;
	gen = en->rest_gen;
	if (!c.rest || ephport_net_mode(en) != EPHPORT_MODE_RANDOM) {
		spin_unlock_irqrestore(&en->rest_lock, flags);
		return EPHPORT_PICK_UNTRUSTED;
	}
	c.now = ephport_now();
	spin_lock(&en->lock);
	if (ephport_net_settled(en)) {
		c.bound = en->usage[proto].bound;
		pick = ephport_choose(&c, ephport_below, port, avoided);
	} else {
		pick = EPHPORT_PICK_UNTRUSTED;
	}
	spin_unlock(&en->lock);
	spin_unlock_irqrestore(&en->rest_lock, flags);

	if (pick == EPHPORT_PICK_LRU_STEP)
		return ephport_random_lru(en, &c, proto, gen, port);
	if (pick == EPHPORT_PICK_RANGE) {
		if (refitted)
			return EPHPORT_PICK_UNTRUSTED;
		ephport_random_refit(en, lo, hi);
		refitted = true;
		goto again;
	}
	return pick;
}

/*
 * A steered call ended: if the kernel accepted ephport's choice
 * (@accepted), the port is recorded as bound and handed out, and the
 * call's counters move (ephport_outcome(), and self_connect_avoided or
 * self_connect_refused as @self says).
 *
 * Bound before handed out, here rather than at the observe hook's return
 * from the outer call: until its bit is set, a handed-out port looks
 * free to the next choice (and, still carrying its old stamp, first in
 * line for the LRU one), and a sweep would take it for a release unseen.
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
 * slot lock.
 */
void ephport_random_released(struct ephport_net *en, u32 port)
{
	unsigned long flags;

	u32 delay = ephport_net_delay(en);

	if (!READ_ONCE(en->rest))
		return;
	spin_lock_irqsave(&en->rest_lock, flags);
	if (en->rest) {
		ephport_rest_release(en->rest, port, ephport_now(), delay);
		/*
		 * The work sweeps the port when its delay is over. Queued
		 * or running, it is due by then already: it sweeps at the
		 * first expiry it knows of, and a release expires after
		 * every earlier one. Arming a timer takes no sleep; under
		 * rest_lock, cancel_delayed_work_sync() after the rest went
		 * cannot miss it.
		 */
		if (delay && !delayed_work_pending(&en->rest_work))
			queue_delayed_work(system_wq, &en->rest_work,
					   msecs_to_jiffies(delay) + 2);
	}
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

	mutex_lock(&ephport_nets_lock);
	/* A rest means an initialized work; both change under this lock. */
	list_for_each_entry(en, &ephport_nets, node)
		if (en->rest)
			mod_delayed_work(system_wq, &en->rest_work, 0);
	mutex_unlock(&ephport_nets_lock);
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
}

void ephport_random_start(void)
{
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
}

void ephport_random_stop(void)
{
	cancel_delayed_work_sync(&ephport_sweep_work);
}
