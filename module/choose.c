// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's choice, part of the pure core (core.h): a port
 * drawn uniformly among the free, non-resting ports of a range, or, when
 * every free port rests, the one released first. Callers hold what
 * protects the data (struct ephport_net's rest_lock).
 *
 * A free port is one in the range, not bound in the protocol, not
 * reserved, and not the port to avoid; the candidates C are the free
 * ports that do not rest. How the choice stays O(1) (at most tens of
 * steps), however many ports rest or are bound:
 *
 * - The uniform draw (ephport_choose_draw()): the protocol's set S of
 *   ports to draw from (avail.c) holds every candidate and no resting
 *   port. One uniform number k in [0, |S'|), S' being S within the
 *   range less the port to avoid, is the k-th port of S' (a rank and a
 *   select in O(log(words)), the port to avoid skipped by its rank). If
 *   it is a candidate, it is the choice; if it is bound it leaves S (it
 *   comes back with its release), if reserved it stays, and either way
 *   the draw is made again. Each draw is uniform over S', so the port
 *   accepted is uniform over C: what a rejection depends on is not
 *   which candidate would have been drawn (a socket's own range costs
 *   no miss: the draw ranks within it). After EPHPORT_TRIES draws that
 *   all missed (most of S reserved) the candidates are counted and one
 *   drawn among them, exactly, word by word (ephport_choose_count()):
 *   the bounded fallback, uniform too.
 * - S' empty: no candidate, so every free port rests (or is the one to
 *   avoid). The LRU choice (ephport_lru_step()) takes the first port of
 *   the list of releases (rest.c) that is free: the head, unless ports
 *   released first are bound again, reserved or outside a socket's own
 *   range; EPHPORT_LRU_STEP_PORTS ports a step, the caller's lock
 *   dropped between steps when one does not do.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "core.h"

/*
 * Draws over the set before the candidates are counted: each misses only
 * on a reserved port, or a bound one, which then leaves the set.
 */
#define EPHPORT_TRIES	8
/* An LRU choice whose list kept moving under it begins again this often. */
#define EPHPORT_LRU_RESTARTS	4

static unsigned long ephport_rest_word(const struct ephport_rest *r,
				       const unsigned long *map, u32 w)
{
	return map[w - r->lo / BITS_PER_LONG];
}

/*
 * The free ports of word @w (not bound, not reserved, not c->avoid, in
 * [lo, hi]); *restingp: those of them resting.
 */
static unsigned long ephport_choice_free(const struct ephport_choice *c, u32 w,
					 unsigned long *restingp)
{
	u32 first = w * BITS_PER_LONG;
	unsigned long mask = ~0UL;
	unsigned long free;

	if (c->lo > first)
		mask &= ~0UL << (c->lo - first);
	if (c->hi < first + BITS_PER_LONG - 1)
		mask &= ~0UL >> (BITS_PER_LONG - 1 - (c->hi - first));
	free = ~c->bound[w] & mask;
	if (c->reserved)
		free &= ~c->reserved[w];
	if (c->avoid >= 0 && (u32)c->avoid / BITS_PER_LONG == w)
		free &= ~BIT((u32)c->avoid % BITS_PER_LONG);
	*restingp = free & ephport_rest_word(c->rest, c->rest->resting, w);
	return free;
}

/* @p is free for the choice @c (resting or not). */
static bool ephport_choice_takes(const struct ephport_choice *c, u32 p)
{
	return p >= c->lo && p <= c->hi && !test_bit(p, c->bound) &&
	       !(c->reserved && test_bit(p, c->reserved)) &&
	       (int)p != c->avoid;
}

static void ephport_lru_begin(struct ephport_lru *l,
			      const struct ephport_rest *r)
{
	l->at = 0;
	l->reorders = r->reorders;
	l->restarts = 0;
	l->found = false;
	l->lost = false;
}

/*
 * One step of an LRU choice (every free port rests): the next @nports
 * ports of the list of releases, from its head. The first that is free
 * is the one released first: l->port. Returns true once done, with
 * l->found, or at the list's end without. A caller that drops its lock
 * between steps finds the walk begun again if the port it stopped at
 * left the list or was released again, or any port after the head left
 * it (the order after it may have changed); after EPHPORT_LRU_RESTARTS
 * of those it gives up (l->lost).
 */
bool ephport_lru_step(struct ephport_lru *l, const struct ephport_choice *c,
		      u32 nports)
{
	const struct ephport_rest *r = c->rest;
	u32 p;

	if (l->at && (!ephport_rest_listed(r, l->at) ||
		      r->stamp[l->at - r->lo] != l->at_stamp ||
		      r->reorders != l->reorders)) {
		if (++l->restarts > EPHPORT_LRU_RESTARTS) {
			l->lost = true;
			return true;
		}
		l->at = 0;
		l->reorders = r->reorders;
	}
	p = l->at ? r->next[l->at - r->lo] : r->head;
	for (; p && nports--; p = r->next[p - r->lo]) {
		if (ephport_choice_takes(c, p)) {
			l->found = true;
			l->port = p;
			l->stamp = r->stamp[p - r->lo];
			return true;
		}
		l->at = p;
		l->at_stamp = r->stamp[p - r->lo];
	}
	return !p;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_lru_step);

/*
 * Every free port rests (or is c->avoid): the LRU choice, begun and made
 * here if one step does it (or whole without c->lru), else left to the
 * caller (_LRU_STEP).
 */
static enum ephport_pick ephport_choose_lru(const struct ephport_choice *c,
					    u32 *port, bool avoided)
{
	struct ephport_lru whole, *l = c->lru ? c->lru : &whole;
	bool done;

	ephport_lru_begin(l, c->rest);
	do {
		done = ephport_lru_step(l, c, EPHPORT_LRU_STEP_PORTS);
	} while (!done && !c->lru);
	if (!done)
		return EPHPORT_PICK_LRU_STEP;
	if (l->found) {
		*port = l->port;
		return EPHPORT_PICK_LRU;
	}
	if (l->lost)
		return EPHPORT_PICK_UNTRUSTED;
	return avoided ? EPHPORT_PICK_AVOIDED : EPHPORT_PICK_FULL;
}

/*
 * The bounded fallback: the candidates counted word by word, and one
 * drawn among them, O(range / BITS_PER_LONG).
 */
static enum ephport_pick ephport_choose_count(const struct ephport_choice *c,
					      u32 (*below)(u32 ceil),
					      u32 *port, bool *avoided)
{
	u32 nfree = 0, ncand = 0, k, w, wlo, whi;
	unsigned long free, resting, cand;

	wlo = c->lo / BITS_PER_LONG;
	whi = c->hi / BITS_PER_LONG;
	for (w = wlo; w <= whi; w++) {
		free = ephport_choice_free(c, w, &resting);
		nfree += hweight_long(free);
		ncand += hweight_long(free & ~resting);
	}
	if (!nfree)
		return *avoided ? EPHPORT_PICK_AVOIDED : EPHPORT_PICK_FULL;
	if (!ncand)
		return ephport_choose_lru(c, port, *avoided);
	/* The avoided port was a candidate only if it was not resting. */
	if (*avoided && ephport_rest_resting(c->rest, c->avoid))
		*avoided = false;

	k = below(ncand);
	for (w = wlo; w <= whi; w++) {
		u32 n;

		free = ephport_choice_free(c, w, &resting);
		cand = free & ~resting;
		n = hweight_long(cand);
		if (k >= n) {
			k -= n;
			continue;
		}
		while (k--)
			cand &= cand - 1;	/* drop the lowest candidate */
		*port = w * BITS_PER_LONG + __ffs(cand);
		return EPHPORT_PICK_OK;
	}
	/* below() returned more than asked: no port rather than a wrong one. */
	return EPHPORT_PICK_FULL;
}

/* The uniform draw over the protocol's set (see the top of this file). */
static enum ephport_pick ephport_choose_draw(const struct ephport_choice *c,
					     u32 (*below)(u32 ceil),
					     u32 *port, bool *avoided)
{
	struct ephport_rest *r = c->rest;
	const struct ephport_avail *a = &r->avail[c->proto];
	u32 base, n, k, p, skip, i;

	for (i = 0; i < EPHPORT_TRIES; i++) {
		base = c->lo == a->lo ? 0 : ephport_avail_rank(r, c->proto, c->lo);
		n = (c->hi == a->hi ? a->n :
		     ephport_avail_rank(r, c->proto, c->hi + 1)) - base;
		skip = U32_MAX;
		if (c->avoid >= (int)c->lo && c->avoid <= (int)c->hi &&
		    ephport_avail_has(r, c->proto, c->avoid)) {
			skip = ephport_avail_rank(r, c->proto, c->avoid);
			n--;
		}
		if (!n)
			return ephport_choose_lru(c, port, *avoided);
		k = below(n);
		if (k >= n)
			return EPHPORT_PICK_FULL;	/* a broken source */
		k += base;
		if (k >= skip)
			k++;
		p = ephport_avail_select(r, c->proto, k);
		if (test_bit(p, c->bound)) {
			/* Back in the set when it is let go (avail.c). */
			ephport_avail_del(r, c->proto, p);
			continue;
		}
		if (c->reserved && test_bit(p, c->reserved))
			continue;
		*port = p;
		/* The avoided port was a candidate only if it was not resting. */
		if (*avoided && ephport_rest_resting(r, c->avoid))
			*avoided = false;
		return EPHPORT_PICK_OK;
	}
	return ephport_choose_count(c, below, port, avoided);
}

/*
 * Chooses a port among the free ports of @c, with @below(n) returning a
 * uniform number in [0, n): uniformly among those not resting, else the
 * one released first (see the top of this file). The protocol's set to
 * draw from must be built for c->bound and c->mark: with c->lru the
 * caller builds it (EPHPORT_PICK_BUILD) and makes an LRU choice that one
 * step does not finish (EPHPORT_PICK_LRU_STEP); without, both are made
 * here whole (KUnit). *avoided tells whether c->avoid was free, and
 * left out. It changes the set (bound ports found leave it), nothing
 * else.
 */
enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided)
{
	struct ephport_rest *r = c->rest;

	*avoided = false;
	if (c->lo > c->hi || c->hi >= EPHPORT_NPORTS)
		return EPHPORT_PICK_FULL;
	if (!ephport_rest_covers(r, c->lo, c->hi))
		return EPHPORT_PICK_RANGE;
	if (!ephport_avail_ready(r, c->proto, c->bound, c->mark, c->lo,
				 c->hi)) {
		if (c->lru)
			return EPHPORT_PICK_BUILD;
		ephport_avail_begin(r, c->proto, c->lo, c->hi, c->bound,
				    c->mark);
		while (!ephport_avail_step(r, c->proto, r->words))
			;
	}
	if (c->avoid >= (int)c->lo && c->avoid <= (int)c->hi &&
	    !test_bit(c->avoid, c->bound) &&
	    !(c->reserved && test_bit(c->avoid, c->reserved)))
		*avoided = true;
	return ephport_choose_draw(c, below, port, avoided);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_choose);

/*
 * The counters a steered call moves (a bit per enum ephport_rcounter):
 * random_steered, and exactly one of random_ok, random_lru and
 * random_fallback, the last with exactly one reason. @pick: ephport's
 * choice; @accepted: the kernel bound the socket to the port chosen.
 */
unsigned long ephport_outcome(enum ephport_pick pick, bool accepted)
{
	unsigned long fallback = BIT(EPHPORT_RANDOM_STEERED) |
				 BIT(EPHPORT_RANDOM_FALLBACK);

	switch (pick) {
	case EPHPORT_PICK_OK:
	case EPHPORT_PICK_LRU:
		if (!accepted)
			return fallback | BIT(EPHPORT_RANDOM_FALLBACK_REFUSED);
		return BIT(EPHPORT_RANDOM_STEERED) |
		       BIT(pick == EPHPORT_PICK_OK ? EPHPORT_RANDOM_OK :
						     EPHPORT_RANDOM_LRU);
	case EPHPORT_PICK_UNTRUSTED:
	case EPHPORT_PICK_RANGE:
		return fallback | BIT(EPHPORT_RANDOM_FALLBACK_UNTRUSTED);
	default:
		return fallback | BIT(EPHPORT_RANDOM_FALLBACK_FULL);
	}
}
EXPORT_SYMBOL_IF_KUNIT(ephport_outcome);
