// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's resting ports, part of the pure core (core.h):
 * which ports of a range were released less than reuse_delay_ms ago, in
 * a bitmap and 16 ms stamps sized to the range, and the most recent
 * releases for the LRU choice (choose.c). Callers hold what protects the
 * data (struct ephport_net's rest_lock).
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
