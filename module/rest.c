// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's resting ports, part of the pure core (core.h):
 * which ports of a range were released less than reuse_delay_ms ago, in
 * a bitmap and 16 ms stamps sized to the range, and the list of them in
 * the order of their releases, for the expiry and the LRU choice
 * (choose.c). Callers hold what protects the data (struct ephport_net's
 * rest_lock).
 *
 * The list is what makes both O(1): a port released joins its end (a
 * port released again while it rests moves there), so its head is the
 * port released first. Stamps never go down along it (callers read the
 * clock under their lock; a stamp earlier than the last is taken as the
 * last), so the ports whose delay is over are a prefix of it: the expiry
 * takes them from the head, each in O(log(words)) with its entry into
 * the sets of ports to draw from (avail.c), however many rest.
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
#include <linux/log2.h>
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

/*
 * The bytes of a rest for [lo, hi]: per port, two bits, a stamp and two
 * links (6.25 bytes), and per protocol a bit and a half more (the set
 * to draw from and its tree); and a header.
 */
size_t ephport_rest_size(u32 lo, u32 hi)
{
	u32 n = ephport_rest_last(hi) - ephport_rest_first(lo) + 1;
	u32 words = BITS_TO_LONGS(n);

	return sizeof(struct ephport_rest) +
	       (2 + EPHPORT_NPROTO) * words * sizeof(unsigned long) +
	       EPHPORT_NPROTO * (words + 1) * sizeof(u32) +
	       3 * n * sizeof(u16);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_size);

/* @r: ephport_rest_size(lo, hi) bytes, zeroed. Nothing rests. */
void ephport_rest_init(struct ephport_rest *r, u32 lo, u32 hi)
{
	unsigned long *longs = r->data;
	u32 *trees;
	u16 *shorts;
	u32 n;
	int p;

	r->lo = ephport_rest_first(lo);
	r->hi = ephport_rest_last(hi);
	n = r->hi - r->lo + 1;
	r->words = BITS_TO_LONGS(n);
	r->ftop = rounddown_pow_of_two(r->words);
	r->resting = longs;
	r->out = longs + r->words;
	trees = (u32 *)(longs + (2 + EPHPORT_NPROTO) * r->words);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		r->avail[p].map = longs + (2 + p) * r->words;
		r->avail[p].tree = trees + p * (r->words + 1);
	}
	shorts = (u16 *)(trees + EPHPORT_NPROTO * (r->words + 1));
	r->stamp = shorts;
	r->next = shorts + n;
	r->prev = shorts + 2 * n;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_init);

bool ephport_rest_covers(const struct ephport_rest *r, u32 lo, u32 hi)
{
	return r && lo >= r->lo && hi <= r->hi && lo <= hi;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_covers);

/* ---- the list of releases ---- */

static u32 ephport_rest_i(const struct ephport_rest *r, u32 port)
{
	return port - r->lo;
}

/* In the list: resting and not handed out (the list holds exactly those). */
bool ephport_rest_listed(const struct ephport_rest *r, u32 port)
{
	return r && port >= r->lo && port <= r->hi &&
	       test_bit(port - r->lo, r->resting) &&
	       !test_bit(port - r->lo, r->out);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_listed);

static void ephport_list_append(struct ephport_rest *r, u32 port)
{
	u32 i = ephport_rest_i(r, port);

	r->prev[i] = r->tail;
	r->next[i] = 0;
	if (r->tail)
		r->next[ephport_rest_i(r, r->tail)] = port;
	else
		r->head = port;
	r->tail = port;
	r->listed++;
}

static void ephport_list_unlink(struct ephport_rest *r, u32 port)
{
	u32 i = ephport_rest_i(r, port);
	u16 prev = r->prev[i], next = r->next[i];

	if (prev)
		r->next[ephport_rest_i(r, prev)] = next;
	else
		r->head = next;
	if (next)
		r->prev[ephport_rest_i(r, next)] = prev;
	else
		r->tail = prev;
	/* A walk of the list from a port after it may have to start again. */
	if (prev)
		r->reorders++;
	r->listed--;
}

/*
 * What @from knows of the ports both cover, and its releases' order, into
 * @to (made by ephport_rest_init()): a range change keeps what rests.
 * Both start and end on whole words, so the bitmaps and the stamps of
 * the ports both cover are copied as blocks, and so is the list when @to
 * covers all of @from (its links are ports); else the ports of it that
 * @to covers are linked again in their order. A sweep under way in
 * @from is not copied, nor are the sets to draw from: @to's are built
 * anew.
 */
void ephport_rest_copy(struct ephport_rest *to, const struct ephport_rest *from)
{
	u32 lo = max(to->lo, from->lo), hi = min(to->hi, from->hi);
	u32 i = lo - from->lo, j = lo - to->lo;
	u16 p;

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
	to->reorders = from->reorders;
	if (lo == from->lo && hi == from->hi) {
		memcpy(to->next + j, from->next, (hi - lo + 1) * sizeof(u16));
		memcpy(to->prev + j, from->prev, (hi - lo + 1) * sizeof(u16));
		to->head = from->head;
		to->tail = from->tail;
		to->listed = from->listed;
		return;
	}
	for (p = from->head; p; p = from->next[p - from->lo])
		if (p >= to->lo && p <= to->hi)
			ephport_list_append(to, p);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_copy);

/*
 * The namespace's bit for @port is clear now. A port released without a
 * delay went back into the sets at its release, while its bit was still
 * set: a choice in between may have drawn it, found it bound and taken
 * it out. Back it goes, unless it rests or was handed out since.
 */
void ephport_rest_freed(struct ephport_rest *r, u32 port)
{
	u32 i;

	if (!port || port < r->lo || port > r->hi)
		return;
	i = ephport_rest_i(r, port);
	if (!test_bit(i, r->resting) && !test_bit(i, r->out))
		ephport_avail_add(r, port);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_freed);

bool ephport_rest_resting(const struct ephport_rest *r, u32 port)
{
	return r && port >= r->lo && port <= r->hi &&
	       test_bit(port - r->lo, r->resting);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_resting);

/*
 * Ports of [lo, hi] resting (those the rest does not cover do not): a
 * word at a time, O(range / BITS_PER_LONG).
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
 * Callers read the clock (jiffies) under rest_lock, so a release is
 * never stamped before the list's last and the list stays in stamp
 * order. As a guard, a clock up to this many units behind the last stamp
 * takes that stamp; one further behind is not behind at all: the last
 * stamp aged past half the stamps' wrap (delays over 524 s), and a
 * signed comparison would stamp the new release in the past.
 */
#define EPHPORT_REST_SKEW	64

/* @port rests from unit @now, at the list's end (no stamp before the last). */
static void ephport_rest_start(struct ephport_rest *r, u32 port, u16 now)
{
	u16 behind;

	if (r->tail) {
		behind = r->stamp[ephport_rest_i(r, r->tail)] - now;
		if (behind && behind <= EPHPORT_REST_SKEW)
			now += behind;
	}
	r->stamp[ephport_rest_i(r, port)] = now;
	ephport_list_append(r, port);
}

/*
 * The namespace let go of @port (its last socket) in unit @now. With a
 * delay of 0 it does not rest at all (not even until the next sweep):
 * it can be drawn at once. Else it rests, out of the sets to draw from,
 * at the end of the list. O(log(words)).
 */
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms)
{
	u32 i;
	int p;

	if (!port || port < r->lo || port > r->hi)
		return;
	i = ephport_rest_i(r, port);
	if (ephport_rest_listed(r, port))
		ephport_list_unlink(r, port);
	__clear_bit(i, r->out);
	if (!delay_ms) {
		r->stamp[i] = now;
		__clear_bit(i, r->resting);
		ephport_avail_add(r, port);
		return;
	}
	__set_bit(i, r->resting);
	ephport_rest_start(r, port, now);
	for (p = 0; p < EPHPORT_NPROTO; p++)
		ephport_avail_del(r, p, port);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_release);

/* ephport gave @port to a socket: it rests until its release is seen. */
void ephport_rest_handout(struct ephport_rest *r, u32 port)
{
	int p;

	if (!port || port < r->lo || port > r->hi)
		return;
	if (ephport_rest_listed(r, port))
		ephport_list_unlink(r, port);
	__set_bit(port - r->lo, r->out);
	__set_bit(port - r->lo, r->resting);
	for (p = 0; p < EPHPORT_NPROTO; p++)
		ephport_avail_del(r, p, port);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_handout);

/*
 * Forgets at most @max of the ports whose delay is over at unit @now,
 * from the head of the list: they can be drawn again. Returns whether
 * more are over. O(@max log(words)).
 */
bool ephport_rest_expire(struct ephport_rest *r, u16 now, u32 delay_ms,
			 u32 max)
{
	while (r->head &&
	       ephport_rest_expired(r->stamp[ephport_rest_i(r, r->head)], now,
				    delay_ms)) {
		u32 port = r->head;

		if (!max--)
			return true;
		ephport_list_unlink(r, port);
		__clear_bit(ephport_rest_i(r, port), r->resting);
		ephport_avail_add(r, port);
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_expire);

/*
 * One step of a sweep of the handed-out ports: the next @nwords words of
 * the sweep under way, or of a new one. A handed-out port that is no
 * longer bound (@bound_a, @bound_b: the namespace's TCP and UDP ports,
 * or NULL when they cannot be trusted) was released unseen: it rests
 * from @now (a caller that drops its lock between steps reads the clock
 * again under it). O(@nwords + the handed-out ports in them). Returns
 * true when the sweep is done.
 */
bool ephport_rest_sweep_step(struct ephport_rest *r, u16 now,
			     const unsigned long *bound_a,
			     const unsigned long *bound_b, u32 nwords)
{
	u32 w, end;

	if (!r->sweeping) {
		r->sweeping = true;
		r->sweep_w = 0;
	}
	end = min(r->words, r->sweep_w + nwords);
	for (w = r->sweep_w; w < end; w++) {
		unsigned long bits = bound_a && bound_b ? r->out[w] : 0;

		while (bits) {
			u32 i = w * BITS_PER_LONG + __ffs(bits);
			u32 p = r->lo + i;

			bits &= bits - 1;
			if (test_bit(p, bound_a) || test_bit(p, bound_b))
				continue;
			__clear_bit(i, r->out);
			ephport_rest_start(r, p, now);
		}
	}
	r->sweep_w = end;
	if (end < r->words)
		return false;
	r->sweeping = false;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep_step);

/* A whole sweep at @now, and the expiry of all that is over (KUnit). */
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b)
{
	r->sweeping = false;
	while (!ephport_rest_sweep_step(r, now, bound_a, bound_b,
					EPHPORT_REST_STEP_WORDS))
		;
	ephport_rest_expire(r, now, delay_ms, U32_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_sweep);

/*
 * In how many ms (at least one unit) the first port of the list expires
 * at @delay_ms, seen from unit @now; 0 if none is listed. Every other
 * one expires later.
 */
u32 ephport_rest_next_ms(const struct ephport_rest *r, u16 now, u32 delay_ms)
{
	u32 due, age;

	if (!r->head || !delay_ms)
		return 0;
	/*
	 * Expired at the first unit more than ceil(delay / 16) after it: at
	 * most 37,501 units for 600 s, within the stamps' wrap, so the age
	 * is exact as an unsigned difference. Already due: the next unit.
	 */
	due = DIV_ROUND_UP(delay_ms, 1U << EPHPORT_REST_UNIT_SHIFT) + 1;
	age = (u16)(now - r->stamp[ephport_rest_i(r, r->head)]);
	return (due - min(age, due - 1)) << EPHPORT_REST_UNIT_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_rest_next_ms);
