// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's choice, part of the pure core (core.h): a port
 * drawn uniformly among the free, non-resting ports of a range, and the
 * resting ports' bookkeeping. Callers hold what protects the data
 * (struct ephport_net's rest_lock).
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/math.h>
#include <kunit/visibility.h>

#include "core.h"

/* The candidates of word @w: free (not bound, not reserved), not resting. */
static unsigned long ephport_choice_word(const struct ephport_choice *c,
					 u32 w, unsigned long *freep)
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
	*freep = free;
	return free & ~c->resting[w];
}

/*
 * Draws a port uniformly among the candidates of @c, with @below(n)
 * returning a uniform number in [0, n). Two passes over the range's
 * words, whatever the occupancy: O(range / BITS_PER_LONG). *avoided
 * tells whether c->avoid was a candidate (and was skipped).
 */
enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided)
{
	u32 nfree = 0, ncand = 0, k, w, wlo, whi;
	unsigned long cand, free;

	*avoided = false;
	if (c->lo > c->hi || c->hi >= EPHPORT_NPORTS)
		return EPHPORT_PICK_FULL;
	if (c->avoid >= (int)c->lo && c->avoid <= (int)c->hi &&
	    !test_bit(c->avoid, c->bound) && !test_bit(c->avoid, c->resting) &&
	    !(c->reserved && test_bit(c->avoid, c->reserved)))
		*avoided = true;

	wlo = c->lo / BITS_PER_LONG;
	whi = c->hi / BITS_PER_LONG;
	for (w = wlo; w <= whi; w++) {
		cand = ephport_choice_word(c, w, &free);
		nfree += hweight_long(free);
		ncand += hweight_long(cand);
	}
	if (!ncand) {
		*avoided = false;
		return nfree ? EPHPORT_PICK_RESTING : EPHPORT_PICK_FULL;
	}

	k = below(ncand);
	for (w = wlo; w <= whi; w++) {
		u32 n;

		cand = ephport_choice_word(c, w, &free);
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
 */
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms)
{
	if (port >= EPHPORT_NPORTS)
		return;
	r->stamp[port] = now;
	__clear_bit(port, r->out);
	if (delay_ms)
		__set_bit(port, r->resting);
	else
		__clear_bit(port, r->resting);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_release);

/* ephport gave @port to a socket: it rests until its release is seen. */
void ephport_rest_handout(struct ephport_rest *r, u32 port)
{
	if (port >= EPHPORT_NPORTS)
		return;
	__set_bit(port, r->out);
	__set_bit(port, r->resting);
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
	u32 w;

	for (w = 0; w < BITS_TO_LONGS(EPHPORT_NPORTS); w++) {
		unsigned long bits = r->resting[w];

		while (bits) {
			u32 p = w * BITS_PER_LONG + __ffs(bits);

			bits &= bits - 1;
			if (test_bit(p, r->out)) {
				if (!bound_a || !bound_b || test_bit(p, bound_a) ||
				    test_bit(p, bound_b))
					continue;
				__clear_bit(p, r->out);
				r->stamp[p] = now;
			}
			if (ephport_rest_expired(r->stamp[p], now, delay_ms))
				__clear_bit(p, r->resting);
		}
	}
	r->swept = now;
	r->swept_once = true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep);
