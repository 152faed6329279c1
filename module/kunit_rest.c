// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for random mode's resting ports (rest.c): the 16 ms clock,
 * sweeps, ports handed out, and a range that changes.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/limits.h>
#include <linux/random.h>
#include <linux/string.h>

#include "kunit_core.h"

/* ---- suite "ephport_rest": the resting ports ---- */

/* 16 ms units: a port rests at least the delay, never 32 ms more. */
static void ephport_rest_expired_test(struct kunit *test)
{
	static const struct {
		u16 stamp, now;
		u32 delay_ms;
		bool expired;
	} cases[] = {
		/* 100 ms = 6.25 units: resting through age 7, free at age 8. */
		{ 1000, 1000, 100, false }, { 1000, 1007, 100, false },
		{ 1000, 1008, 100, true },
		/* 16 ms exactly one unit: resting through age 1; 0 rests nothing. */
		{ 5, 6, 16, false }, { 5, 7, 16, true }, { 5, 5, 0, true },
		/* The longest delay, 600 s = 37500 units. */
		{ 0, 37500, 600000, false }, { 0, 37501, 600000, true },
		/* The clock wraps (u16 units) and the age stays right. */
		{ 65530, 1, 100, false }, { 65530, 2, 100, true },
		{ 30000, 1964, 600000, false }, { 30000, 1965, 600000, true },
	};
	static const struct {
		u64 msecs;
		u16 unit;
	} units[] = {
		/* Milliseconds to units, and the wrap of jiffies-based time. */
		{ 15, 0 }, { 16, 1 }, { (1ULL << 20) - 1, 65535 },
		{ 1ULL << 20, 0 }, { U64_MAX - 15 + 48, 2 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, cases[i].expired,
				    ephport_rest_expired(cases[i].stamp,
							 cases[i].now,
							 cases[i].delay_ms),
				    "released at %u, now %u, delay %u ms",
				    cases[i].stamp, cases[i].now,
				    cases[i].delay_ms);
	for (i = 0; i < ARRAY_SIZE(units); i++)
		KUNIT_EXPECT_EQ_MSG(test, units[i].unit,
				    ephport_rest_now(units[i].msecs),
				    "%llu ms", units[i].msecs);
}

/* Released ports rest exactly the delay, then are chosen again. */
static void ephport_rest_sweep_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test), *udp = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 3000, .hi = 3003,
				    .avoid = -1 };
	struct ephport_rest *r = rest_new(test, c.lo, c.hi);
	u32 port;
	bool avoided;

	c.rest = r;
	ephport_rest_release(r, 3000, 100, 100);
	ephport_rest_release(r, 3001, 104, 100);
	ephport_rest_sweep(r, 107, 100, bound, udp);
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 3000));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 3001));
	/* Only 3002 and 3003 can be drawn. */
	for (fixed_k = 0; fixed_k < 8; fixed_k++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_GE(test, port, 3002);
	}
	ephport_rest_sweep(r, 108, 100, bound, udp);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3000));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 3001));
	ephport_rest_sweep(r, 112, 100, bound, udp);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3001));
	KUNIT_EXPECT_EQ(test, 0, r->listed);
	/* Released again while resting: the delay starts over. */
	ephport_rest_release(r, 3002, 200, 100);
	ephport_rest_release(r, 3002, 206, 100);
	ephport_rest_sweep(r, 209, 100, bound, udp);
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 3002));
	ephport_rest_sweep(r, 214, 100, bound, udp);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3002));
	/* A shorter delay takes effect at once, a longer one too. */
	ephport_rest_release(r, 3003, 300, 100);
	ephport_rest_sweep(r, 302, 0, bound, udp);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3003));
	/* Released with a delay of 0: never rests, not even until a sweep. */
	ephport_rest_release(r, 3003, 303, 0);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3003));
	ephport_rest_release(r, 3003, 400, 100);
	ephport_rest_sweep(r, 420, 600000, bound, udp);
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 3003));
}

/* Sweeps @r at @now (delay 100 ms) and checks whether @port rests. */
static void sweep_expect(struct kunit *test, struct ephport_rest *r, u16 now,
			 const unsigned long *tcp, const unsigned long *udp,
			 u32 port, bool resting)
{
	ephport_rest_sweep(r, now, 100, tcp, udp);
	KUNIT_EXPECT_EQ_MSG(test, resting, ephport_rest_resting(r, port),
			    "port %u at unit %u", port, now);
}

/* A port ephport handed out rests until its release is seen, or missed. */
static void ephport_rest_handout_test(struct kunit *test)
{
	struct ephport_rest *r = rest_new(test, 4000, 4001);
	unsigned long *tcp = bitmap_new(test), *udp = bitmap_new(test);

	ephport_rest_handout(r, 4000);
	__set_bit(4000, tcp);
	/* Bound for a long time: never expires. */
	ephport_rest_sweep(r, 60000, 100, tcp, udp);
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 4000));
	KUNIT_EXPECT_TRUE(test, test_bit(4000 - r->lo, r->out));
	/* Unbound but the bitmaps cannot be trusted (a pass runs): kept. */
	__clear_bit(4000, tcp);
	ephport_rest_sweep(r, 60001, 100, NULL, NULL);
	KUNIT_EXPECT_TRUE(test, test_bit(4000 - r->lo, r->out));
	/* Unbound, release not seen: rests from now, the whole delay. */
	ephport_rest_sweep(r, 60002, 100, tcp, udp);
	KUNIT_EXPECT_FALSE(test, test_bit(4000 - r->lo, r->out));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 4000));
	sweep_expect(test, r, 60009, tcp, udp, 4000, true);
	sweep_expect(test, r, 60010, tcp, udp, 4000, false);
	/* Seen released: rests from the release. */
	ephport_rest_handout(r, 4001);
	__set_bit(4001, udp);
	ephport_rest_release(r, 4001, 61000, 100);
	__clear_bit(4001, udp);
	KUNIT_EXPECT_FALSE(test, test_bit(4001 - r->lo, r->out));
	sweep_expect(test, r, 61007, tcp, udp, 4001, true);
	sweep_expect(test, r, 61008, tcp, udp, 4001, false);
	/* Ports it does not cover, and no port at all: nothing happens. */
	ephport_rest_handout(r, 65536);
	ephport_rest_release(r, 70000, 5, 100);
	ephport_rest_release(r, 3000, 5, 100);
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 3000));
}

/*
 * The range shrinks and grows while ports rest: resting is per port.
 * Memory follows the range: a range the rest does not cover gets a new
 * rest, with what the old one knew.
 */
static void ephport_rest_range_change_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .avoid = -1, .now = 11 };
	struct ephport_rest *r = rest_new(test, 4990, 5020), *big;
	u32 port;
	bool avoided;

	/* 6.25 bytes a port, 3/8 more for the sets, and a header. */
	KUNIT_EXPECT_LT(test, ephport_rest_size(4990, 5020),
			256 + 128 * 25 / 4 + 128 * 3 / 8 + 16);
	KUNIT_EXPECT_LT(test, ephport_rest_size(32768, 60999),
			256 + 28288 * 25 / 4 + 28288 * 3 / 8 + 16);
	c.rest = r;
	ephport_rest_release(r, 5000, 10, 1000);
	ephport_rest_release(r, 5010, 10, 1000);
	ephport_rest_sweep(r, 11, 1000, bound, bound);
	/* Shrunk to one resting port and one free one. */
	c.lo = 5009;
	c.hi = 5010;
	fixed_k = 1;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 5009, port);
	/* Shrunk to the resting port alone: it, as the oldest. */
	c.lo = 5010;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 5010, port);
	/* Grown beyond the rest: told, for the caller to make a new one. */
	c.lo = 4000;
	c.hi = 6000;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_RANGE,
			ephport_choose(&c, fixed_below, &port, &avoided));
	big = rest_new(test, 4000, 6000);
	ephport_rest_copy(big, r);
	c.rest = big;
	/* Both resting ports still excluded, the rest free. */
	for (fixed_k = 0; fixed_k < 2001; fixed_k++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_NE(test, 5000, port);
		KUNIT_EXPECT_NE(test, 5010, port);
	}
	KUNIT_EXPECT_EQ(test, 2, ephport_rest_count(big, 4000, 6000));
	/* They expire whatever the range is. */
	ephport_rest_sweep(big, 10 + 64, 1000, bound, bound);
	c.lo = 5010;
	c.hi = 5010;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
}

/*
 * A sweep of the handed-out ports in steps of one word: done only after
 * the last word; a port released unseen rests from then. The expiry
 * takes the list's head first, at most as many as asked, and says when
 * the next one is due.
 */
static void ephport_rest_steps_test(struct kunit *test)
{
	struct ephport_rest *r = rest_new(test, 5000, 5999);
	unsigned long *tcp = bitmap_new(test), *udp = bitmap_new(test);
	u32 i;

	/* 100 ms: 7 units; released at 100, expired from unit 108. */
	ephport_rest_release(r, 5003, 100, 100);
	ephport_rest_release(r, 5900, 101, 100);
	ephport_rest_handout(r, 5500);
	ephport_rest_handout(r, 5501);
	__set_bit(5500, tcp);
	for (i = 1; i < r->words; i++)
		KUNIT_ASSERT_FALSE(test, ephport_rest_sweep_step(r, 101, tcp,
								 udp, 1));
	KUNIT_ASSERT_TRUE(test, ephport_rest_sweep_step(r, 101, tcp, udp, 1));
	/* 5501 was let go unseen: listed last, from unit 101. */
	KUNIT_EXPECT_EQ(test, 3, r->listed);
	KUNIT_EXPECT_EQ(test, 5501, r->tail);
	KUNIT_EXPECT_EQ(test, 7 * 16, ephport_rest_next_ms(r, 101, 100));
	/* Due already: the next unit. */
	KUNIT_EXPECT_EQ(test, 16, ephport_rest_next_ms(r, 110, 100));
	KUNIT_EXPECT_FALSE(test, ephport_rest_expire(r, 107, 100, 8));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 5003));
	KUNIT_EXPECT_FALSE(test, ephport_rest_expire(r, 108, 100, 8));
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 5003));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 5900));
	KUNIT_EXPECT_EQ(test, 16, ephport_rest_next_ms(r, 108, 100));
	/* Two due, one asked: one, and told that more are due. */
	KUNIT_EXPECT_TRUE(test, ephport_rest_expire(r, 109, 100, 1));
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 5900));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 5501));
	KUNIT_EXPECT_FALSE(test, ephport_rest_expire(r, 109, 100, 1));
	KUNIT_EXPECT_EQ(test, 0, ephport_rest_next_ms(r, 109, 100));
	KUNIT_EXPECT_EQ(test, 0, r->listed);
	/* Only the handed-out port is left: counted a word at a time. */
	KUNIT_EXPECT_EQ(test, 1, ephport_rest_count(r, 5000, 5999));
	/* A release stamped before the last keeps the list in order. */
	ephport_rest_release(r, 5010, 200, 100);
	ephport_rest_release(r, 5011, 150, 100);
	KUNIT_EXPECT_EQ(test, 200, r->stamp[5011 - r->lo]);
	KUNIT_EXPECT_EQ(test, 5010, r->head);
}

/*
 * The longest delay, 600 s: 37,501 units, past half the stamps' wrap. A
 * release 33,000 units after the list's head keeps its own stamp, and
 * the work is told the head's true time left.
 */
static void ephport_rest_long_delay_test(struct kunit *test)
{
	struct ephport_rest *r = rest_new(test, 6000, 6999);

	ephport_rest_release(r, 6000, 0, 600000);
	KUNIT_EXPECT_EQ(test, (37501 - 100) * 16,
			ephport_rest_next_ms(r, 100, 600000));
	ephport_rest_release(r, 6001, 33000, 600000);
	KUNIT_EXPECT_EQ(test, 33000, r->stamp[6001 - r->lo]);
	KUNIT_EXPECT_EQ(test, (37501 - 33000) * 16,
			ephport_rest_next_ms(r, 33000, 600000));
	KUNIT_EXPECT_FALSE(test, ephport_rest_expire(r, 37500, 600000, 8));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 6000));
	KUNIT_EXPECT_FALSE(test, ephport_rest_expire(r, 37501, 600000, 8));
	KUNIT_EXPECT_FALSE(test, ephport_rest_resting(r, 6000));
	KUNIT_EXPECT_TRUE(test, ephport_rest_resting(r, 6001));
	KUNIT_EXPECT_EQ(test, 6001, r->head);
}

static struct kunit_case ephport_rest_test_cases[] = {
	KUNIT_CASE(ephport_rest_expired_test),
	KUNIT_CASE(ephport_rest_sweep_test),
	KUNIT_CASE(ephport_rest_handout_test),
	KUNIT_CASE(ephport_rest_range_change_test),
	KUNIT_CASE(ephport_rest_steps_test),
	KUNIT_CASE(ephport_rest_long_delay_test),
	{}
};

static struct kunit_suite ephport_rest_test_suite = {
	.name = "ephport_rest",
	.test_cases = ephport_rest_test_cases,
};

kunit_test_suite(ephport_rest_test_suite);
