// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's choice for a socket (random_mode.h), made by the
 * pure core (choose.c) under the namespace's rest_lock and lock.
 *
 * What one choice costs: under the locks, interrupts off, the ports
 * whose delay is over at the head of the list of releases (at most
 * EPHPORT_CHOICE_EXPIRE; the namespace's work takes the others), then a
 * draw over the protocol's set of ports to draw from, O(log(words)), or
 * the head of the list. No loop over the range runs on this path but in
 * two cases, each made in steps with the locks dropped between them and
 * cond_resched() (the steered call runs in process context and may
 * sleep):
 *
 * - the set is built anew (avail.c, ephport_random_build()): after a
 *   range change that the set does not cover (the switch to random
 *   mode builds it for the namespace's range, off this path), and after
 *   a pass published bitmaps (the mark is the number of passes, and the
 *   bitmap's address is kept too: a choice between a pass's publication
 *   and its count sees the address change). A build goes
 *   EPHPORT_REST_STEP_WORDS words a step; the other choices of the
 *   namespace help it on, since they wait for it the same way.
 * - an LRU choice whose list begins with ports it cannot take (bound
 *   again, reserved, outside a socket's own range), when one step of
 *   EPHPORT_LRU_STEP_PORTS does not reach a free one.
 *
 * And the exact count of the candidates in the core (O(range / 64),
 * under the locks) when EPHPORT_TRIES draws all missed: only when most
 * of the set is reserved.
 *
 * Across the dropped locks, rest_gen says whether the rest is the one
 * the steps began on; the core's set says (ephport_avail_ready())
 * whether it is still built from the bitmaps and range now in force.
 */
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "pass.h"
#include "random_mode.h"
#include "tables.h"

/* Ports forgotten at most per choice, from the head of the list. */
#define EPHPORT_CHOICE_EXPIRE	8

static u32 ephport_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * Every free port rests: the LRU choice begun in c->lru, made a step at
 * a time, rest_lock dropped between steps. If the rest (@gen) or the
 * mode changed, the list kept moving, or the port found is no longer
 * right, the kernel chooses (_UNTRUSTED).
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
		spin_lock(&en->lock);
		if (ephport_net_settled(en)) {
			c->bound = en->usage[proto].bound;
			done = ephport_lru_step(c->lru, c,
						EPHPORT_LRU_STEP_PORTS);
		} else {
			pick = EPHPORT_PICK_UNTRUSTED;
		}
		spin_unlock(&en->lock);
unlock:
		spin_unlock_irqrestore(&en->rest_lock, flags);
		if (pick != EPHPORT_PICK_LRU)
			return pick;
	}
	if (c->lru->lost)
		return EPHPORT_PICK_UNTRUSTED;
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
	    !ephport_rest_listed(c->rest, c->lru->port) ||
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
 * out. Counts nothing. Process context: it may build the set to draw
 * from, or make the namespace's rest anew after a range change, in
 * steps, and sleep between them.
 */
enum ephport_pick ephport_random_choose(struct ephport_net *en,
					struct sock *sk,
					enum ephport_proto proto, int avoid,
					u32 *port, bool *avoided)
{
	struct ephport_lru lru;
	struct ephport_choice c = { .avoid = avoid, .lru = &lru,
				    .proto = proto };
	struct net *net = sock_net(sk);
	bool refitted = false, built = false;
	enum ephport_pick pick;
	unsigned long flags;
	unsigned long gen;
	u32 nlo, nhi;
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
	/* Read under the lock: no stamp is later (rest.c). */
	c.now = ephport_random_now();
	ephport_rest_expire(c.rest, c.now, ephport_net_delay(en),
			    EPHPORT_CHOICE_EXPIRE);
	spin_lock(&en->lock);
	if (ephport_net_settled(en)) {
		c.bound = en->usage[proto].bound;
		c.mark = ephport_nets_passes();
		pick = ephport_choose(&c, ephport_below, port, avoided);
	} else {
		pick = EPHPORT_PICK_UNTRUSTED;
	}
	spin_unlock(&en->lock);
	spin_unlock_irqrestore(&en->rest_lock, flags);

	switch (pick) {
	case EPHPORT_PICK_LRU_STEP:
		return ephport_random_lru(en, &c, proto, gen, port);
	case EPHPORT_PICK_BUILD:
		if (built)
			return EPHPORT_PICK_UNTRUSTED;
		/* The namespace's whole range: a socket's own is within it. */
		ephport_net_range(net, &nlo, &nhi);
		if (!ephport_random_build(en, proto, gen, min_t(u32, lo, nlo),
					  max_t(u32, hi, nhi)))
			return EPHPORT_PICK_UNTRUSTED;
		built = true;
		goto again;
	case EPHPORT_PICK_RANGE:
		if (refitted)
			return EPHPORT_PICK_UNTRUSTED;
		ephport_random_refit(en, lo, hi);
		refitted = true;
		goto again;
	default:
		return pick;
	}
}
