// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's resting ports, part of the pure core (core.h):
 * which ports of a range were released less than reuse_delay_ms ago, in
 * a bitmap and 16 ms stamps sized to the range, and the most recent
 * releases for the LRU choice (choose.c). Callers hold what protects the
 * data (struct ephport_net's rest_lock).
 *
 * Nothing here loops over a range port by port in one call but a sweep's
 * step (EPHPORT_REST_STEP_WORDS words, callers drop their lock between
 * steps) and ephport_rest_sweep(), the steps in a row, for callers that
 * hold no lock with interrupts off (KUnit). Counting and copying go a
 * word or a block at a time.
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
 * Both start and end on whole words, so the bitmaps and the stamps of
 * the ports both cover are copied as blocks. A sweep under way in @from
 * is not: @to's first sweep starts anew.
 */
void ephport_rest_copy(struct ephport_rest *to, const struct ephport_rest *from)
{
	u32 lo = max(to->lo, from->lo), hi = min(to->hi, from->hi);
	u32 i = lo - from->lo, j = lo - to->lo;

	if (lo <= hi) {
		memcpy(to->resting + j / BITS_PER_LONG,
		       from->resting + i / BITS_PER_LONG,
		       BITS_TO_LONGS(hi - lo + 1) * sizeof(unsigned long));
		memcpy(to->out + j / BITS_PER_LONG,
		       from->out + i / BITS_PER_LONG,
		       BITS_TO_LONGS(hi - lo + 1) * sizeof(unsigned long));
		memcpy(to->stamp + j, from->stamp + i,
		       (hi - lo + 1) * sizeof(u16));
	}
	to->swept = from->swept;
	to->swept_once = from->swept_once;
	to->recent_next = from->recent_next;
	to->recent_used = from->recent_used;
	memcpy(to->recent, from->recent, sizeof(to->recent));
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_copy);

bool ephport_rest_resting(const struct ephport_rest *r, u32 port)
{
	return r && port >= r->lo && port <= r->hi &&
	       test_bit(port - r->lo, r->resting);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_resting);

/*
 * Ports of [lo, hi] resting as of the last sweep (those the rest does not
 * cover do not): a word at a time, O(range / BITS_PER_LONG).
 */
u32 ephport_rest_count(const struct ephport_rest *r, u32 lo, u32 hi)
{
	if (!r)
		return 0;
	lo = max(lo, r->lo);
	hi = min(hi, r->hi);
	if (lo > hi)
		return 0;
	return ephport_bits_in_range(r->resting, lo - r->lo, hi - r->lo);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_count);

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
 * One step of a sweep, which forgets the ports that have rested long
 * enough: the next @nwords words of the sweep under way, or of a new
 * one. @now is the unit of this step: a caller that drops its lock
 * between steps reads the clock again under it, so that no stamp it
 * meets is later than @now (a release between two steps would otherwise
 * look 65,535 units old, and be forgotten). A handed-out port that is no
 * longer bound (@bound_a, @bound_b: the namespace's TCP and UDP ports,
 * or NULL when they cannot be trusted) was released unseen: it rests
 * from @now. O(@nwords + the resting ports in them). Returns true when
 * the sweep is done; it then counts as made at the unit it started
 * (swept).
 */
bool ephport_rest_sweep_step(struct ephport_rest *r, u16 now, u32 delay_ms,
			     const unsigned long *bound_a,
			     const unsigned long *bound_b, u32 nwords)
{
	u32 w, end, words = BITS_TO_LONGS(r->hi - r->lo + 1);

	if (!r->sweeping) {
		r->sweeping = true;
		r->sweep_left = false;
		r->sweep_now = now;
		r->sweep_w = 0;
	}
	end = min(words, r->sweep_w + nwords);
	for (w = r->sweep_w; w < end; w++) {
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
			if (ephport_rest_expired(r->stamp[i], now, delay_ms)) {
				__clear_bit(i, r->resting);
				continue;
			}
			/* Still resting: the oldest of them expires first. */
			if (!r->sweep_left ||
			    (u16)(now - r->stamp[i]) > (u16)(now - r->sweep_oldest))
				r->sweep_oldest = r->stamp[i];
			r->sweep_left = true;
		}
	}
	r->sweep_w = end;
	if (end < words)
		return false;
	r->sweeping = false;
	r->swept = r->sweep_now;
	r->swept_once = true;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep_step);

/* A whole sweep at @now, its steps in a row (see the step). */
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b)
{
	r->sweeping = false;
	while (!ephport_rest_sweep_step(r, now, delay_ms, bound_a, bound_b,
					EPHPORT_REST_STEP_WORDS))
		;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep);

/*
 * After a whole sweep: in how many ms (at least one unit) the first port
 * it kept resting (released, not handed out) expires at @delay_ms, seen
 * from unit @now; 0 if it kept none. A later release expires later.
 */
u32 ephport_rest_next_ms(const struct ephport_rest *r, u16 now, u32 delay_ms)
{
	u16 at, left;

	if (r->sweeping || !r->sweep_left || !delay_ms)
		return 0;
	/* Expired at the first unit more than ceil(delay / 16) after it. */
	at = r->sweep_oldest +
	     DIV_ROUND_UP(delay_ms, 1U << EPHPORT_REST_UNIT_SHIFT) + 1;
	left = at - now;
	/* Already due (or wrapped past): at the next unit. */
	if (!left || left > 0x8000)
		left = 1;
	return (u32)left << EPHPORT_REST_UNIT_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_next_ms);
