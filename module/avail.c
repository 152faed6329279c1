// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the ports random mode draws from, part of the pure core
 * (core.h). Callers hold what protects the rest (struct ephport_net's
 * rest_lock).
 *
 * One set per protocol, over the rest's ports: the ports of [lo, hi]
 * that do not rest and were not found bound in that protocol. A bitmap
 * says which, and a Fenwick tree over its words (tree[i] sums the words
 * (i - (i & -i), i]) gives in O(log(words)) steps, eleven at most for
 * 65,536 ports, both how many lie below a port (ephport_avail_rank())
 * and the k-th of them (ephport_avail_select()): one uniform number in
 * [0, n) is then one uniform port, for the whole range or any part of
 * it, with no walk over the range.
 *
 * What the set holds, once built (the invariants choose.c relies on):
 *
 *   (1) no port in it rests: a release or a hand-out takes the port out
 *       of both sets as it starts to rest (rest.c);
 *   (2) every port of [lo, hi] that neither rests nor is bound in the
 *       protocol is in it: a port enters when its rest ends (rest.c's
 *       expiry, or a release with no delay), and leaves otherwise only
 *       when a choice finds it bound in the bitmap it was built from
 *       (choose.c). A port found bound comes back when it is let go:
 *       every release rests the port first, and its expiry adds it.
 *
 * Bound ports are not followed as they are bound (that would put this
 * lock on every bind): they stay in the set until a choice draws one,
 * which takes it out and draws again. A port is taken out at most once
 * per bind, so the draws a choice wastes on them are paid for by the
 * binds, one each at most. (2) needs every unbind seen: a missed one
 * leaves the bitmap wrong until a pass rebuilds it, and the pass is what
 * makes the set be built anew (the caller's mark, and the bitmap's
 * address, change; ephport_avail_ready()). Reserved ports are not taken
 * out (ip_local_reserved_ports may change at any time, unseen): a choice
 * draws again when it meets one.
 *
 * A build goes a few words at a time (ephport_avail_step()): words
 * below the build's cursor are kept by every change, those above are
 * left alone and read as they are when the cursor reaches them. Until
 * it is done the set is not used.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "core.h"

/* Adds @d to word @w's count. */
static void ephport_fen_add(const struct ephport_rest *r, u32 *tree, u32 w,
			    int d)
{
	u32 i;

	for (i = w + 1; i <= r->words; i += i & -i)
		tree[i] += d;
}

/* Bits set in words [0, w). */
static u32 ephport_fen_sum(const u32 *tree, u32 w)
{
	u32 s = 0;

	for (; w; w -= w & -w)
		s += tree[w];
	return s;
}

/* The position of the @k-th set bit of @x (from 0), k < hweight(x). */
static u32 ephport_select_bit(unsigned long x, u32 k)
{
	u32 width = BITS_PER_LONG / 2, base = 0;

	while (width) {
		unsigned long low = x & ((1UL << width) - 1);
		u32 n = hweight_long(low);

		if (k >= n) {
			k -= n;
			x >>= width;
			base += width;
		} else {
			x = low;
		}
		width /= 2;
	}
	return base;
}

/* Ports of word @w (of the rest) that lie in [lo, hi]. */
static unsigned long ephport_avail_mask(const struct ephport_rest *r, u32 w,
					u32 lo, u32 hi)
{
	u32 first = r->lo + w * BITS_PER_LONG;
	unsigned long mask = ~0UL;

	if (lo > first)
		mask &= ~0UL << (lo - first);
	if (hi < first + BITS_PER_LONG - 1)
		mask &= ~0UL >> (BITS_PER_LONG - 1 - (hi - first));
	return mask;
}

/*
 * Begins building @proto's set for [lo, hi] (covered by @r) from the
 * bitmap @bound (or NULL: none bound) and the caller's @mark of it. The
 * set is emptied: O(words), as a block.
 */
void ephport_avail_begin(struct ephport_rest *r, enum ephport_proto proto,
			 u32 lo, u32 hi, const unsigned long *bound,
			 unsigned long mark)
{
	struct ephport_avail *a = &r->avail[proto];

	memset(a->map, 0, r->words * sizeof(unsigned long));
	memset(a->tree, 0, (r->words + 1) * sizeof(u32));
	a->n = 0;
	a->lo = max(lo, r->lo);
	a->hi = min(hi, r->hi);
	a->w = (a->lo - r->lo) / BITS_PER_LONG;
	a->wend = a->lo <= a->hi ? (a->hi - r->lo) / BITS_PER_LONG + 1 : a->w;
	a->bound = bound;
	a->mark = mark;
	a->begun = true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_begin);

/*
 * The next @nwords words of the build: the ports of each that neither
 * rest nor are bound. Returns true once the set is built.
 * O(@nwords log(words)).
 */
bool ephport_avail_step(struct ephport_rest *r, enum ephport_proto proto,
			u32 nwords)
{
	struct ephport_avail *a = &r->avail[proto];
	u32 end = min(a->wend, a->w + nwords);

	for (; a->w < end; a->w++) {
		unsigned long bits = ~r->resting[a->w] &
				     ephport_avail_mask(r, a->w, a->lo, a->hi);
		u32 n;

		if (a->bound)
			bits &= ~a->bound[r->lo / BITS_PER_LONG + a->w];
		a->map[a->w] = bits;
		n = hweight_long(bits);
		if (n) {
			ephport_fen_add(r, a->tree, a->w, n);
			a->n += n;
		}
	}
	return a->w == a->wend;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_step);

/*
 * Whether @proto's set is built, from @bound and @mark, and holds every
 * port of [lo, hi] that it should.
 */
bool ephport_avail_ready(const struct ephport_rest *r,
			 enum ephport_proto proto, const unsigned long *bound,
			 unsigned long mark, u32 lo, u32 hi)
{
	const struct ephport_avail *a = &r->avail[proto];

	return a->begun && a->w == a->wend && a->bound == bound &&
	       a->mark == mark && lo >= a->lo && hi <= a->hi;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_ready);

/* @port no longer rests: into every set that holds its part of the range. */
void ephport_avail_add(struct ephport_rest *r, u32 port)
{
	u32 i = port - r->lo, w = i / BITS_PER_LONG;
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		struct ephport_avail *a = &r->avail[p];

		/* A word the build has not reached is read when it is. */
		if (!a->begun || port < a->lo || port > a->hi || w >= a->w ||
		    test_bit(i, a->map))
			continue;
		__set_bit(i, a->map);
		ephport_fen_add(r, a->tree, w, 1);
		a->n++;
	}
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_add);

/* @port out of @proto's set, if there. */
void ephport_avail_del(struct ephport_rest *r, enum ephport_proto proto,
		       u32 port)
{
	struct ephport_avail *a = &r->avail[proto];
	u32 i = port - r->lo;

	if (!a->begun || port < r->lo || port > r->hi ||
	    !test_bit(i, a->map))
		return;
	__clear_bit(i, a->map);
	ephport_fen_add(r, a->tree, i / BITS_PER_LONG, -1);
	a->n--;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_del);

bool ephport_avail_has(const struct ephport_rest *r, enum ephport_proto proto,
		       u32 port)
{
	const struct ephport_avail *a = &r->avail[proto];

	return a->begun && port >= r->lo && port <= r->hi &&
	       test_bit(port - r->lo, a->map);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_has);

/* How many ports of @proto's set lie below @port, in [r->lo, r->hi + 1]. */
u32 ephport_avail_rank(const struct ephport_rest *r, enum ephport_proto proto,
		       u32 port)
{
	const struct ephport_avail *a = &r->avail[proto];
	u32 i = port - r->lo, w = i / BITS_PER_LONG, b = i % BITS_PER_LONG;
	u32 s = ephport_fen_sum(a->tree, w);

	if (b)
		s += hweight_long(a->map[w] & ((1UL << b) - 1));
	return s;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_rank);

/* The port of @proto's set with @k ports below it (k < its size). */
u32 ephport_avail_select(const struct ephport_rest *r,
			 enum ephport_proto proto, u32 k)
{
	const struct ephport_avail *a = &r->avail[proto];
	u32 pos = 0, step;

	/* The last word whose words before hold at most k ports. */
	for (step = r->ftop; step; step /= 2) {
		if (pos + step <= r->words && a->tree[pos + step] <= k) {
			pos += step;
			k -= a->tree[pos];
		}
	}
	return r->lo + pos * BITS_PER_LONG + ephport_select_bit(a->map[pos], k);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_avail_select);
