// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's choice, part of the pure core (core.h): a port
 * drawn uniformly among the free, non-resting ports of a range, or, when
 * every free port rests, the one released first; and the resting ports'
 * bookkeeping, sized to the range. Callers hold what protects the data
 * (struct ephport_net's rest_lock).
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "core.h"

/* Whole words: a rest covers [lo, hi] widened to them. */
static u32 ephport_rest_first(u32 lo)
{
	return round_down(lo, BITS_PER_LONG);
}

static u32 ephport_rest_last(u32 hi)
{
	return min_t(u32, round_down(hi, BITS_PER_LONG) + BITS_PER_LONG - 1,
		     EPHPORT_NPORTS - 1);
}

/* The bytes of a rest for [lo, hi]: about 2.25 per port, and a header. */
size_t ephport_rest_size(u32 lo, u32 hi)
{
	u32 n = ephport_rest_last(hi) - ephport_rest_first(lo) + 1;

	return sizeof(struct ephport_rest) +
	       2 * BITS_TO_LONGS(n) * sizeof(unsigned long) + n * sizeof(u16);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_size);

/* @r: ephport_rest_size(lo, hi) bytes, zeroed. Nothing rests. */
void ephport_rest_init(struct ephport_rest *r, u32 lo, u32 hi)
{
	u32 n;

	r->lo = ephport_rest_first(lo);
	r->hi = ephport_rest_last(hi);
	n = r->hi - r->lo + 1;
	r->resting = r->data;
	r->out = r->data + BITS_TO_LONGS(n);
	r->stamp = (u16 *)(r->data + 2 * BITS_TO_LONGS(n));
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_init);

bool ephport_rest_covers(const struct ephport_rest *r, u32 lo, u32 hi)
{
	return r && lo >= r->lo && hi <= r->hi && lo <= hi;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_covers);

/*
 * What @from knows of the ports both cover, and its releases' order, into
 * @to (made by ephport_rest_init()): a range change keeps what rests.
 */
void ephport_rest_copy(struct ephport_rest *to, const struct ephport_rest *from)
{
	u32 lo = max(to->lo, from->lo), hi = min(to->hi, from->hi), p;

	for (p = lo; p <= hi && lo <= hi; p++) {
		u32 i = p - from->lo, j = p - to->lo;

		if (test_bit(i, from->resting))
			__set_bit(j, to->resting);
		if (test_bit(i, from->out))
			__set_bit(j, to->out);
		to->stamp[j] = from->stamp[i];
	}
	to->swept = from->swept;
	to->swept_once = from->swept_once;
	to->recent_next = from->recent_next;
	to->recent_used = from->recent_used;
	memcpy(to->recent, from->recent, sizeof(to->recent));
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_copy);

static unsigned long ephport_rest_word(const struct ephport_rest *r,
				       const unsigned long *map, u32 w)
{
	return map[w - r->lo / BITS_PER_LONG];
}

bool ephport_rest_resting(const struct ephport_rest *r, u32 port)
{
	return r && port >= r->lo && port <= r->hi &&
	       test_bit(port - r->lo, r->resting);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_resting);

/* Ports of [lo, hi] resting (those the rest does not cover do not). */
u32 ephport_rest_count(const struct ephport_rest *r, u32 lo, u32 hi)
{
	u32 n = 0, p;

	if (!r)
		return 0;
	lo = max(lo, r->lo);
	hi = min(hi, r->hi);
	for (p = lo; p <= hi && lo <= hi; p++)
		n += test_bit(p - r->lo, r->resting);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_count);

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

static bool ephport_seen(const u16 *seen, u32 n, u16 port)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (seen[i] == port)
			return true;
	return false;
}

/*
 * Every free port rests: the one released first. The oldest stamp
 * decides; among ports released in the same unit, the ring of the last
 * releases gives their order (a port it no longer holds was released
 * before all it holds; among several such, the lowest goes first).
 * O(free ports + EPHPORT_REST_RECENT^2).
 */
static u32 ephport_choose_lru(const struct ephport_choice *c)
{
	struct ephport_rest *r = c->rest;
	u32 w, nmax = 0, first = 0, best = 0, nseen = 0, i;
	unsigned long resting;
	u16 age, oldest = 0;

	for (w = c->lo / BITS_PER_LONG; w <= c->hi / BITS_PER_LONG; w++) {
		ephport_choice_free(c, w, &resting);
		while (resting) {
			u32 p = w * BITS_PER_LONG + __ffs(resting);

			resting &= resting - 1;
			age = c->now - r->stamp[p - r->lo];
			if (!nmax || age > oldest) {
				oldest = age;
				first = p;
				nmax = 1;
			} else if (age == oldest) {
				nmax++;
			}
		}
	}
	if (nmax == 1)
		return first;

	/* Ties: walk the ring from the newest release to the oldest. */
	for (i = 0; i < r->recent_used; i++) {
		u16 p = r->recent[(r->recent_next + EPHPORT_REST_RECENT - 1 - i) %
				  EPHPORT_REST_RECENT];
		unsigned long dummy;

		if (ephport_seen(r->seen, nseen, p))
			continue;	/* an older release of a port seen */
		r->seen[nseen++] = p;
		if (p < c->lo || p > c->hi || p < r->lo || p > r->hi ||
		    (u16)(c->now - r->stamp[p - r->lo]) != oldest)
			continue;
		if (ephport_choice_free(c, p / BITS_PER_LONG, &dummy) &
		    BIT(p % BITS_PER_LONG))
			best = p;	/* released before those seen so far */
	}
	/* A tied port the ring does not hold is older than all it holds. */
	for (w = c->lo / BITS_PER_LONG; w <= c->hi / BITS_PER_LONG; w++) {
		ephport_choice_free(c, w, &resting);
		while (resting) {
			u32 p = w * BITS_PER_LONG + __ffs(resting);

			resting &= resting - 1;
			if ((u16)(c->now - r->stamp[p - r->lo]) == oldest &&
			    !ephport_seen(r->seen, nseen, p))
				return p;
		}
	}
	return best;
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
 * LRU choice reads the free ports' stamps. *avoided tells whether
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
		*port = ephport_choose_lru(c);
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

/* The resting clock: monotonic milliseconds in 16 ms units, wrapping. */
u16 ephport_rest_now(u64 msecs)
{
	return (u16)(msecs >> EPHPORT_REST_UNIT_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_now);

/*
 * A port released in unit @stamp has rested @delay_ms at unit @now once
 * more than ceil(delay / 16) units have passed: it rests at least
 * delay_ms, and at most 32 ms more. A delay of 0 rests nothing.
 */
bool ephport_rest_expired(u16 stamp, u16 now, u32 delay_ms)
{
	if (!delay_ms)
		return true;
	return (u16)(now - stamp) >
	       DIV_ROUND_UP(delay_ms, 1U << EPHPORT_REST_UNIT_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_expired);

/*
 * The namespace let go of @port (its last socket) in unit @now. With a
 * delay of 0 it does not rest at all (not even until the next sweep).
 * The release joins the ring of the last ones, for the LRU choice.
 */
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms)
{
	u32 i;

	if (port < r->lo || port > r->hi)
		return;
	i = port - r->lo;
	r->stamp[i] = now;
	__clear_bit(i, r->out);
	if (!delay_ms) {
		__clear_bit(i, r->resting);
		return;
	}
	__set_bit(i, r->resting);
	r->recent[r->recent_next] = port;
	r->recent_next = (r->recent_next + 1) % EPHPORT_REST_RECENT;
	if (r->recent_used < EPHPORT_REST_RECENT)
		r->recent_used++;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_release);

/* ephport gave @port to a socket: it rests until its release is seen. */
void ephport_rest_handout(struct ephport_rest *r, u32 port)
{
	if (port < r->lo || port > r->hi)
		return;
	__set_bit(port - r->lo, r->out);
	__set_bit(port - r->lo, r->resting);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_handout);

/*
 * Forgets the ports that have rested long enough. A handed-out port that
 * is no longer bound (@bound_a, @bound_b: the namespace's TCP and UDP
 * ports, or NULL when they cannot be trusted) was released unseen: it
 * rests from now. O(words + resting ports).
 */
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b)
{
	u32 w, n = r->hi - r->lo + 1;

	for (w = 0; w < BITS_TO_LONGS(n); w++) {
		unsigned long bits = r->resting[w];

		while (bits) {
			u32 i = w * BITS_PER_LONG + __ffs(bits);
			u32 p = r->lo + i;

			bits &= bits - 1;
			if (test_bit(i, r->out)) {
				if (!bound_a || !bound_b || test_bit(p, bound_a) ||
				    test_bit(p, bound_b))
					continue;
				__clear_bit(i, r->out);
				r->stamp[i] = now;
			}
			if (ephport_rest_expired(r->stamp[i], now, delay_ms))
				__clear_bit(i, r->resting);
		}
	}
	r->swept = now;
	r->swept_once = true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep);
