// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: usage accounting, part of the pure core (core.h): which ports
 * are bound, how many of them lie in the range, their peak, each CPU's
 * share of the count, the alarm's hysteresis and the search_ns buckets.
 * Callers hold what protects the data (state.h says what); the bound
 * bitmaps alone are changed with atomic bit operations.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <asm/barrier.h>
#include <kunit/visibility.h>

#include "core.h"

/* Number of bits set in map[lo..hi], both ends included. */
u32 ephport_bits_in_range(const unsigned long *map, u32 lo, u32 hi)
{
	if (lo > hi || hi >= EPHPORT_NPORTS)
		return 0;
	return bitmap_weight(map, hi + 1) - bitmap_weight(map, lo);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_bits_in_range);

/*
 * A pass begins to rebuild the bitmap: from now on every event changes
 * the shadow as well, and the pass adds what it finds in the kernel's
 * tables. The spare must be written by nobody: the caller waited for a
 * grace period since it was the bitmap or a shadow (events run under
 * RCU, see ephport_usage_bind()).
 */
void ephport_usage_shadow(struct ephport_usage *u)
{
	bitmap_zero(u->spare, EPHPORT_NPORTS);
	/* Pairs with the acquire in ephport_usage_bind()/_release(). */
	smp_store_release(&u->shadow, u->spare);
	u->spare = NULL;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_shadow);

/*
 * The shadow is complete: it becomes the bitmap readers see, and the old
 * bitmap the next spare (still written by events that read the pointers
 * before this: the caller waits for a grace period before reusing it).
 */
void ephport_usage_publish(struct ephport_usage *u)
{
	u->spare = u->bound;
	WRITE_ONCE(u->bound, u->shadow);
	/*
	 * An event that reads shadow as NULL reads the new bound after it;
	 * one that reads the shadow changes both bitmaps.
	 */
	smp_store_release(&u->shadow, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_publish);

/*
 * @port is bound now. Returns true if it was not bound before: the
 * namespace's first socket on the port. Atomic, without a lock: bind
 * and release hooks on several CPUs meet here. The shadow, if a pass
 * builds one, is read first: if it is already gone, the bitmap read
 * after it is the one it became (ephport_usage_publish()). Callers are
 * in an RCU read-side section, which the pass waits for before it
 * reuses a bitmap.
 */
bool ephport_usage_bind(struct ephport_usage *u, u32 port)
{
	unsigned long *shadow, *bound;

	if (port >= EPHPORT_NPORTS)
		return false;
	/* Pairs with the release in ephport_usage_publish(). */
	shadow = smp_load_acquire(&u->shadow);
	bound = READ_ONCE(u->bound);
	/* Read between publish's two stores, the shadow is the bitmap. */
	if (shadow && shadow != bound)
		set_bit(port, shadow);
	if (test_bit(port, bound))
		return false;
	return !test_and_set_bit(port, bound);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_bind);

/*
 * @port is no longer bound. Returns true if it was bound before. The
 * same rules as ephport_usage_bind().
 */
bool ephport_usage_release(struct ephport_usage *u, u32 port)
{
	unsigned long *shadow, *bound;

	if (port >= EPHPORT_NPORTS)
		return false;
	/* Pairs with the release in ephport_usage_publish(). */
	shadow = smp_load_acquire(&u->shadow);
	bound = READ_ONCE(u->bound);
	if (shadow && shadow != bound)
		clear_bit(port, shadow);
	return test_and_clear_bit(port, bound);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_release);

/*
 * Whether @port is counted bound: in the bitmap readers see, or in the
 * shadow a pass builds (both change together, but a pass may have set
 * the shadow's bit alone). The same rules as ephport_usage_bind().
 */
bool ephport_usage_test(struct ephport_usage *u, u32 port)
{
	unsigned long *shadow;

	if (port >= EPHPORT_NPORTS)
		return false;
	/* Pairs with the release in ephport_usage_publish(). */
	shadow = smp_load_acquire(&u->shadow);
	return test_bit(port, READ_ONCE(u->bound)) ||
	       (shadow && test_bit(port, shadow));
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_test);

/*
 * What a reader sees for the range [lo, hi]: in_use is the bits set in
 * it, the peak takes in_use and @top (the highest count the CPUs saw at
 * their events, or less).
 */
void ephport_usage_count(struct ephport_usage *u, u32 lo, u32 hi, int top)
{
	/* The hooks read the range they were counted for (READ_ONCE). */
	WRITE_ONCE(u->lo, lo);
	WRITE_ONCE(u->hi, hi);
	u->in_use = ephport_bits_in_range(u->bound, lo, hi);
	u->peak = max3(u->peak, u->in_use, (u32)max(top, 0));
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_count);

/*
 * A port of the range became bound (@step 1) or free (-1), seen by the
 * CPU whose share is @c; @base and @gen are the namespace's. *@now: the
 * count as this CPU sees it. Returns true when the CPU must fold.
 */
bool ephport_ports_move(struct ephport_cpu_ports *c, int base,
			unsigned int gen, int step, int *now)
{
	if (c->gen != gen) {
		c->gen = gen;
		c->top = 0;
	}
	c->delta += step;
	*now = base + c->delta;
	c->top = max(c->top, *now);
	return c->delta >= EPHPORT_FOLD || c->delta <= -EPHPORT_FOLD;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_ports_move);

/* The CPU's delta goes into *@base, its candidate into *@top. */
void ephport_ports_fold(struct ephport_cpu_ports *c, int *base, int *top,
			unsigned int gen)
{
	*base += c->delta;
	if (c->gen == gen)
		*top = max(*top, c->top);
	c->delta = 0;
	c->top = 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_ports_fold);

/* Writing 0 to *_peak: the watermark restarts from the current value. */
void ephport_usage_reset_peak(struct ephport_usage *u)
{
	u->peak = u->in_use;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_usage_reset_peak);

/*
 * The alarm for @in_use ports of [lo, hi] with threshold @pct percent:
 * it goes on when the share reaches pct and off when it has fallen to
 * pct - EPHPORT_ALARM_HYST points or less (to 0 ports for pct <= 5).
 * Returns true if *alarm changed.
 */
bool ephport_alarm_update(bool *alarm, u32 in_use, u32 lo, u32 hi, u32 pct)
{
	u64 size = lo <= hi ? (u64)hi - lo + 1 : 0;
	u64 share = (u64)in_use * 100;
	u32 clear = pct > EPHPORT_ALARM_HYST ? pct - EPHPORT_ALARM_HYST : 0;
	bool next = *alarm;

	if (!size)
		next = false;
	else if (!*alarm && share >= (u64)pct * size)
		next = true;
	else if (*alarm && share <= (u64)clear * size)
		next = false;

	if (next == *alarm)
		return false;
	*alarm = next;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_alarm_update);

/* The search_ns bucket of a duration: the smallest 2^k >= ns, k >= 10. */
unsigned int ephport_hist_bucket(u64 ns)
{
	unsigned int b;

	if (ns <= (1ULL << EPHPORT_HIST_MIN_SHIFT))
		return 0;
	b = fls64(ns - 1) - EPHPORT_HIST_MIN_SHIFT;
	return min_t(unsigned int, b, EPHPORT_HIST_BUCKETS - 1);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_hist_bucket);

/* Upper bound, in ns, of a search_ns bucket. */
u64 ephport_hist_bound(unsigned int bucket)
{
	return 1ULL << (bucket + EPHPORT_HIST_MIN_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(ephport_hist_bound);
