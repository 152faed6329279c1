// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's choice, part of the pure core (core.h): a port
 * drawn uniformly among the free, non-resting ports of a range, or, when
 * every free port rests, the one released first (the resting ports are
 * rest.c's). Callers hold what protects the data (struct ephport_net's
 * rest_lock).
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "core.h"

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

/* Where @port sits in l->ring (sorted), or where it would go. */
static u32 ephport_lru_find(const struct ephport_lru *l, u16 port)
{
	u32 a = 0, b = l->nring;

	while (a < b) {
		u32 m = (a + b) / 2;

		if (l->ring[m] < port)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/*
 * Begins an LRU choice: the ring of the last releases, walked from the
 * newest, gives each port it holds its place (that of its last
 * release). O(EPHPORT_REST_RECENT^2) at most, whatever the range.
 */
static void ephport_lru_begin(struct ephport_lru *l,
			      const struct ephport_choice *c)
{
	const struct ephport_rest *r = c->rest;
	u32 i, k;

	l->nring = 0;
	for (i = 0; i < r->recent_used; i++) {
		u16 p = r->recent[(r->recent_next + EPHPORT_REST_RECENT - 1 - i) %
				  EPHPORT_REST_RECENT];

		k = ephport_lru_find(l, p);
		if (k < l->nring && l->ring[k] == p)
			continue;	/* an older release of a port seen */
		memmove(&l->ring[k + 1], &l->ring[k],
			(l->nring - k) * sizeof(l->ring[0]));
		memmove(&l->place[k + 1], &l->place[k],
			(l->nring - k) * sizeof(l->place[0]));
		l->ring[k] = p;
		l->place[k] = i;
		l->nring++;
	}
	l->w = c->lo / BITS_PER_LONG;
	l->found = false;
}

/*
 * How far back @p's last release is in the ring: its place, or
 * EPHPORT_REST_RECENT if the ring no longer holds it (before them all).
 */
static int ephport_lru_rank(const struct ephport_lru *l, u32 p)
{
	u32 k = ephport_lru_find(l, p);

	return k < l->nring && l->ring[k] == p ? l->place[k] :
						 EPHPORT_REST_RECENT;
}

/*
 * One step of an LRU choice (every free port rests): the next @nwords
 * words of the range. The port released first wins: the oldest stamp;
 * among ports released in the same unit, one the ring no longer holds
 * (released before all it holds; among several such, the lowest), else
 * the one whose last release is furthest back in the ring. Returns true
 * once the range is done: l->port is the choice if l->found. A caller
 * that drops its lock between steps gets the LRU port of what it saw.
 */
bool ephport_lru_step(struct ephport_lru *l, const struct ephport_choice *c,
		      u32 nwords)
{
	const struct ephport_rest *r = c->rest;
	u32 whi = c->hi / BITS_PER_LONG, end;
	u16 best = c->now - l->stamp;
	unsigned long resting;

	end = min(whi + 1, l->w + nwords);
	for (; l->w < end; l->w++) {
		ephport_choice_free(c, l->w, &resting);
		while (resting) {
			u32 p = l->w * BITS_PER_LONG + __ffs(resting);
			u16 age = c->now - r->stamp[p - r->lo];
			int rank;

			resting &= resting - 1;
			if (l->found && age < best)
				continue;
			rank = ephport_lru_rank(l, p);
			/*
			 * Same unit: the release furthest back; among those
			 * the ring no longer holds, the lowest (seen first).
			 */
			if (l->found && age == best && rank <= l->rank)
				continue;
			l->found = true;
			l->port = p;
			l->stamp = r->stamp[p - r->lo];
			l->rank = rank;
			best = age;
		}
	}
	return l->w > whi;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_lru_step);

/* The LRU choice at once, its state in a frame of its own (KUnit's path). */
static noinline u32 ephport_lru_whole(const struct ephport_choice *c)
{
	struct ephport_lru l;

	ephport_lru_begin(&l, c);
	while (!ephport_lru_step(&l, c, EPHPORT_NPORTS / BITS_PER_LONG))
		;
	return l.port;
}

/*
 * Uniform draws over the range tried before counting the candidates:
 * one that lands on a candidate is a uniform choice among them. At an
 * occupancy x, all of them miss with probability x^EPHPORT_DRAWS.
 */
#define EPHPORT_DRAWS	4

/* A draw that lands on a candidate (free, not resting), or false. */
static bool ephport_draw(const struct ephport_choice *c,
			 u32 (*below)(u32 ceil), u32 *port)
{
	u32 size = c->hi - c->lo + 1, p, i;
	unsigned long free, resting;

	for (i = 0; i < EPHPORT_DRAWS; i++) {
		p = below(size);
		if (p >= size)
			return false;	/* a broken source: count instead */
		p += c->lo;
		free = ephport_choice_free(c, p / BITS_PER_LONG, &resting);
		if ((free & ~resting) & BIT(p % BITS_PER_LONG)) {
			*port = p;
			return true;
		}
	}
	return false;
}

/*
 * Chooses a port among the free ports of @c, with @below(n) returning a
 * uniform number in [0, n): uniformly among those not resting, else the
 * one that has rested longest. The uniform choice first draws over the
 * range (EPHPORT_DRAWS tries, O(1) each), and only if every draw misses
 * counts the candidates and draws among them, O(range / BITS_PER_LONG)
 * whatever the occupancy: either way every candidate is as likely. The
 * LRU choice reads the free ports' stamps: with c->lru, it is only
 * begun (EPHPORT_PICK_LRU_STEP) and the caller makes it with
 * ephport_lru_step(), EPHPORT_REST_STEP_WORDS at a time. Without, the
 * whole range is looked at here (KUnit). *avoided tells whether
 * c->avoid was free, and left out.
 */
enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided)
{
	u32 nfree = 0, ncand = 0, k, w, wlo, whi;
	unsigned long free, resting, cand;

	*avoided = false;
	if (c->lo > c->hi || c->hi >= EPHPORT_NPORTS)
		return EPHPORT_PICK_FULL;
	if (!ephport_rest_covers(c->rest, c->lo, c->hi))
		return EPHPORT_PICK_RANGE;
	if (c->avoid >= (int)c->lo && c->avoid <= (int)c->hi &&
	    !test_bit(c->avoid, c->bound) &&
	    !(c->reserved && test_bit(c->avoid, c->reserved)))
		*avoided = true;

	if (ephport_draw(c, below, port)) {
		/* The avoided port was a candidate only if it was not resting. */
		if (*avoided && ephport_rest_resting(c->rest, c->avoid))
			*avoided = false;
		return EPHPORT_PICK_OK;
	}

	wlo = c->lo / BITS_PER_LONG;
	whi = c->hi / BITS_PER_LONG;
	for (w = wlo; w <= whi; w++) {
		free = ephport_choice_free(c, w, &resting);
		nfree += hweight_long(free);
		ncand += hweight_long(free & ~resting);
	}
	if (!nfree)
		return *avoided ? EPHPORT_PICK_AVOIDED : EPHPORT_PICK_FULL;
	if (!ncand) {
		/* The caller makes the choice a step at a time. */
		if (c->lru) {
			ephport_lru_begin(c->lru, c);
			return EPHPORT_PICK_LRU_STEP;
		}
		*port = ephport_lru_whole(c);
		return EPHPORT_PICK_LRU;
	}
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
