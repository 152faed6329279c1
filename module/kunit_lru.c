// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for random mode's LRU choice (choose.c) and the list of
 * releases it reads (rest.c): release order whatever the clock, the
 * port to avoid, and the choice made in steps.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/string.h>

#include "kunit_core.h"

/* ---- suite "ephport_lru": the port released first ---- */

static u32 kernel_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * Takes ephport's choice in [lo, hi] as a bind(0) then close() would: it
 * is handed out, bound, then released at @now.
 */
static u32 bind_close(struct kunit *test, struct ephport_choice *c,
		      unsigned long *bound, enum ephport_pick expect)
{
	u32 port = 0;
	bool avoided;

	KUNIT_EXPECT_EQ(test, expect,
			ephport_choose(c, kernel_below, &port, &avoided));
	ephport_rest_handout(c->rest, port);
	__set_bit(port, bound);
	__clear_bit(port, bound);
	ephport_rest_release(c->rest, port, c->now, 600000);
	return port;
}

/*
 * 20 ports, a long delay: 20 bind(0)+close give 20 distinct ports, and
 * the next 20 the same ones in the order they were released, all within
 * one unit of the resting clock (the ring orders them) or over several.
 */
static void ephport_lru_order_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 40000, .hi = 40019,
				    .avoid = -1, .now = 100 };
	u32 order[20], port, i, round;

	c.rest = rest_new(test, c.lo, c.hi);
	for (i = 0; i < 20; i++) {
		order[i] = bind_close(test, &c, bound, EPHPORT_PICK_OK);
		KUNIT_EXPECT_EQ(test, i + 1,
				ephport_rest_count(c.rest, c.lo, c.hi));
	}
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 20; i++) {
			/* The second round crosses units, the others not. */
			if (round == 1)
				c.now++;
			port = bind_close(test, &c, bound, EPHPORT_PICK_LRU);
			KUNIT_EXPECT_EQ_MSG(test, order[i], port,
					    "round %u, release %u", round, i);
		}
	}
	/* One port bound meanwhile: the others keep their order. */
	__set_bit(order[0], bound);
	for (i = 1; i < 20; i++)
		KUNIT_EXPECT_EQ(test, order[i],
				bind_close(test, &c, bound, EPHPORT_PICK_LRU));
}

/* The LRU choice never takes the destination's port of a self-connect. */
static void ephport_lru_avoid_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 3000, .hi = 3004,
				    .avoid = 3000, .now = 50 };
	u32 port;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	/* 3000 released first: the oldest, but the destination's. */
	rest_port(c.rest, 3000, 10);
	rest_port(c.rest, 3003, 11);
	rest_port(c.rest, 3001, 11);
	rest_port(c.rest, 3004, 12);
	rest_port(c.rest, 3002, 12);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 3003, port);
	KUNIT_EXPECT_TRUE(test, avoided);
	__set_bit(3003, bound);
	__set_bit(3001, bound);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 3004, port);
	__set_bit(3004, bound);
	__set_bit(3002, bound);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_AVOIDED,
			ephport_choose(&c, fixed_below, &port, &avoided));
	/* Without a self-connect, the destination's port is the oldest. */
	c.avoid = -1;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 3000, port);
}

/*
 * 1,000 ports released within one unit of the clock, in a random order
 * (many more than any ring of recent releases holds): when all rest,
 * the LRU choices give them back in exactly that order, not by port.
 */
static void ephport_lru_same_unit_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 10000, .hi = 10999,
				    .avoid = -1, .now = 7 };
	u32 *order = kunit_kcalloc(test, 1000, sizeof(u32), GFP_KERNEL);
	u32 i, j, port, near = 0;
	bool avoided;

	KUNIT_ASSERT_NOT_NULL(test, order);
	c.rest = rest_new(test, c.lo, c.hi);
	for (i = 0; i < 1000; i++)
		order[i] = c.lo + i;
	for (i = 999; i > 0; i--) {
		j = get_random_u32_below(i + 1);
		swap(order[i], order[j]);
	}
	for (i = 0; i < 1000; i++)
		rest_port(c.rest, order[i], 7);
	for (i = 0; i < 1000; i++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU,
				ephport_choose(&c, kernel_below, &port, &avoided));
		KUNIT_ASSERT_EQ_MSG(test, order[i], port, "choice %u", i);
		ephport_rest_handout(c.rest, port);
		if (i && abs((int)port - (int)order[i - 1]) <= 16)
			near++;
	}
	/* A random order: about 3 % of neighbours within 16, not 10 % or more. */
	KUNIT_EXPECT_LT(test, near, 80);
}

/*
 * The LRU choice made in steps over 1-65535 (what random mode does, its
 * lock dropped between steps) gives the port the whole choice gives:
 * the first free port of the list of releases, EPHPORT_LRU_STEP_PORTS
 * of it a step. A port that leaves the list behind the head between two
 * steps has the walk begin again, with the same result.
 */
static void ephport_lru_steps_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 1, .hi = 65535,
				    .avoid = -1, .now = 1200 };
	/* Where 65408 is in the list: after 2, 5, ..., 65405. */
	const u32 at = (65408 - 2) / 3;
	struct ephport_lru lru;
	u32 p, port, whole, steps;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	/* Every port rests; those with p % 3 == 2 were released first. */
	for (p = c.lo; p <= c.hi; p++)
		if (p % 3 == 2)
			rest_port(c.rest, p, 1000);
	for (p = c.lo; p <= c.hi; p++)
		if (p % 3 != 2)
			rest_port(c.rest, p, 1001);
	KUNIT_EXPECT_EQ(test, 65535, c.rest->listed);
	/* The set to draw from, built (empty: every port rests). */
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	/* The head is free: one step, within the choice. */
	c.lru = &lru;
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 2, port);

	/* The first free one far down the list. */
	for (p = c.lo; p < 65408; p++)
		__set_bit(p, bound);
	c.lru = NULL;
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &whole, &avoided));
	KUNIT_EXPECT_EQ(test, 65408, whole);
	c.lru = &lru;
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU_STEP,
			ephport_choose(&c, fixed_below, &port, &avoided));
	for (steps = 1; !ephport_lru_step(&lru, &c, EPHPORT_LRU_STEP_PORTS);
	     steps++)
		KUNIT_ASSERT_LT(test, steps, 1024);
	KUNIT_EXPECT_TRUE(test, lru.found);
	KUNIT_EXPECT_EQ(test, 65408, lru.port);
	KUNIT_EXPECT_EQ(test, DIV_ROUND_UP(at + 1, EPHPORT_LRU_STEP_PORTS),
			steps + 1);
	KUNIT_EXPECT_EQ(test, 0, lru.restarts);

	/* The head released again between steps: the walk goes on. */
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU_STEP,
			ephport_choose(&c, fixed_below, &port, &avoided));
	rest_port(c.rest, 2, 1002);
	KUNIT_EXPECT_FALSE(test, ephport_lru_step(&lru, &c,
						  EPHPORT_LRU_STEP_PORTS));
	KUNIT_EXPECT_EQ(test, 0, lru.restarts);
	/* A port behind it: begun again, the same port found. */
	rest_port(c.rest, 8, 1002);
	while (!ephport_lru_step(&lru, &c, EPHPORT_LRU_STEP_PORTS))
		;
	KUNIT_EXPECT_EQ(test, 1, lru.restarts);
	KUNIT_EXPECT_TRUE(test, lru.found);
	KUNIT_EXPECT_EQ(test, 65408, lru.port);

	/* A list that keeps moving: given up, not guessed. */
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_LRU_STEP,
			ephport_choose(&c, fixed_below, &port, &avoided));
	for (p = 0; p <= 4 && !lru.lost; p++) {
		rest_port(c.rest, 11 + 3 * p, 1003);
		KUNIT_EXPECT_FALSE(test, lru.found);
		ephport_lru_step(&lru, &c, EPHPORT_LRU_STEP_PORTS);
	}
	KUNIT_EXPECT_TRUE(test, lru.lost);
}

static struct kunit_case ephport_lru_test_cases[] = {
	KUNIT_CASE(ephport_lru_order_test),
	KUNIT_CASE(ephport_lru_avoid_test),
	KUNIT_CASE(ephport_lru_same_unit_test),
	KUNIT_CASE(ephport_lru_steps_test),
	{}
};

static struct kunit_suite ephport_lru_test_suite = {
	.name = "ephport_lru",
	.test_cases = ephport_lru_test_cases,
};

kunit_test_suite(ephport_lru_test_suite);
