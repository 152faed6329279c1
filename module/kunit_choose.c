// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for random mode's choice (choose.c): uniform draws, the
 * exclusions, the fallbacks, and what each outcome counts (the LRU
 * choice's own are kunit_lru.c's).
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/limits.h>
#include <linux/random.h>
#include <linux/string.h>

#include "kunit_core.h"

/* ---- suite "ephport_random": the chooser ---- */

/* A broken source: more than asked. */
static u32 broken_below(u32 ceil)
{
	return ceil;
}

static u32 kernel_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * The draw maps 0..n-1 onto the n candidates one to one, so a uniform
 * source gives a uniform port. Checked over ranges inside one word,
 * across words, and at both ends of the port space.
 */
static void ephport_choose_bijective_test(struct kunit *test)
{
	static const u32 ranges[][2] = {
		{ 100, 109 }, { 60, 200 }, { 1, 64 }, { 65472, 65535 },
		{ 32768, 60999 }, { 7, 7 },
	};
	unsigned long *bound = bitmap_new(test), *seen = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .avoid = -1 };
	unsigned int i;
	bool avoided;
	u32 port, n;

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		c.lo = ranges[i][0];
		c.hi = ranges[i][1];
		c.rest = rest_new(test, c.lo, c.hi);
		n = c.hi - c.lo + 1;
		bitmap_zero(seen, EPHPORT_NPORTS);
		for (fixed_k = 0; fixed_k < n; fixed_k++) {
			KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
					ephport_choose(&c, fixed_below, &port, &avoided));
			KUNIT_EXPECT_GE(test, port, c.lo);
			KUNIT_EXPECT_LE(test, port, c.hi);
			KUNIT_EXPECT_FALSE(test, test_bit(port, seen));
			__set_bit(port, seen);
		}
		KUNIT_EXPECT_EQ(test, n, bitmap_weight(seen, EPHPORT_NPORTS));
	}
}

/* With the kernel's CSPRNG: 10 ports, 20000 draws, chi-square, 9 df. */
static void ephport_choose_uniform_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 40000, .hi = 40019,
				    .avoid = -1 };
	u32 count[20] = {}, port, i, draws = 20000, expect;
	u64 chi2 = 0;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	/* Half the range bound: the other half must share the draws. */
	for (i = 40000; i <= 40019; i += 2)
		__set_bit(i, bound);
	for (i = 0; i < draws; i++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, kernel_below, &port, &avoided));
		KUNIT_ASSERT_TRUE(test, port % 2 == 1);
		count[port - 40000]++;
	}
	expect = draws / 10;
	for (i = 1; i < 20; i += 2) {
		s64 d = (s64)count[i] - expect;

		chi2 += d * d;
	}
	/* chi2 / expect < 27.88 (p = 0.001 for 9 degrees of freedom) */
	KUNIT_EXPECT_LT_MSG(test, chi2, 27880ULL * expect / 1000,
			    "chi-square %llu/%u", chi2, expect);
}

/* The kernel's CSPRNG, counting its calls. */
static u32 below_calls;

static u32 counting_below(u32 ceil)
{
	below_calls++;
	return get_random_u32_below(ceil);
}

/*
 * The cost and the fairness at both ends of occupancy: an empty range
 * takes one draw per choice; at 99 % of 1,000 ports the draws mostly
 * miss, the exact count decides, and the 10 free ports still share the
 * choices evenly (chi-square, 9 df, 20000 choices).
 */
static void ephport_choose_occupancy_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 40000, .hi = 40999,
				    .avoid = -1 };
	u32 count[10] = {}, port, i, draws = 20000, expect = draws / 10;
	u64 chi2 = 0;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	below_calls = 0;
	for (i = 0; i < 1000; i++)
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, counting_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 1000, below_calls);

	/* Free: 40000, 40100, ..., 40900. */
	for (i = 40000; i <= 40999; i++)
		if (i % 100)
			__set_bit(i, bound);
	for (i = 0; i < draws; i++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, kernel_below, &port, &avoided));
		KUNIT_ASSERT_EQ(test, 0, port % 100);
		count[(port - 40000) / 100]++;
	}
	for (i = 0; i < 10; i++) {
		s64 d = (s64)count[i] - expect;

		chi2 += d * d;
	}
	KUNIT_EXPECT_LT_MSG(test, chi2, 27880ULL * expect / 1000,
			    "chi-square %llu/%u", chi2, expect);
}

/* Bound, reserved and resting ports are never drawn. */
static void ephport_choose_excludes_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test), *reserved = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .reserved = reserved,
				    .lo = 1000, .hi = 1199, .avoid = -1 };
	u32 port, p, n = 0;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	for (p = 1000; p <= 1199; p++) {
		if (p % 3 == 0)
			__set_bit(p, bound);
		else if (p % 7 == 0)
			__set_bit(p, reserved);
		else if (p % 5 == 0)
			rest_port(c.rest, p, 0);
		else
			n++;
	}
	for (fixed_k = 0; fixed_k < 3 * n; fixed_k++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_FALSE(test, test_bit(port, bound));
		KUNIT_EXPECT_FALSE(test, test_bit(port, reserved));
		KUNIT_EXPECT_FALSE(test, ephport_rest_resting(c.rest, port));
	}
	/* Without the reserved map (a kernel without the sysctl). */
	c.reserved = NULL;
	fixed_k = 0;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 1001, port);
}

/*
 * Every free port rests: the one released first, not the kernel's
 * choice. No free port at all: the kernel's algorithm runs.
 */
static void ephport_choose_fallback_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 500, .hi = 563,
				    .avoid = -1, .now = 10 };
	u32 port = 12345, p;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	/* 547 released first, then the others in their order. */
	rest_port(c.rest, 547, 3);
	for (p = 500; p <= 563; p++) {
		if (p < 530)
			__set_bit(p, bound);
		else if (p != 547)
			rest_port(c.rest, p, 5);
	}
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 547, port);
	for (p = 530; p <= 563; p++)
		__set_bit(p, bound);
	port = 12345;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_FULL,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 12345, port);
	/* One port left, found wherever it is. */
	__clear_bit(563, bound);
	ephport_rest_sweep(c.rest, 60000, 0, NULL, NULL);
	for (fixed_k = 0; fixed_k < 5; fixed_k++) {
		KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_EQ(test, 563, port);
	}
	/* Empty and impossible ranges. */
	c.lo = 600;
	c.hi = 599;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_FULL,
			ephport_choose(&c, fixed_below, &port, &avoided));
	c.lo = 1;
	c.hi = 65536;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_FULL,
			ephport_choose(&c, fixed_below, &port, &avoided));
	/* A range the rest does not cover: told, not guessed. */
	c.lo = 400;
	c.hi = 520;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_RANGE,
			ephport_choose(&c, fixed_below, &port, &avoided));
	/* A source that misbehaves gives no port, not a wrong one. */
	c.lo = 500;
	c.hi = 563;
	bitmap_zero(bound, EPHPORT_NPORTS);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_FULL,
			ephport_choose(&c, broken_below, &port, &avoided));
}

/* TCP to a local address: never source port == destination port. */
static void ephport_choose_self_connect_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 2000, .hi = 2001,
				    .avoid = 2000, .now = 1 };
	u32 port;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	for (fixed_k = 0; fixed_k < 10; fixed_k++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_EQ(test, 2001, port);
		KUNIT_EXPECT_TRUE(test, avoided);
	}
	/* The avoided port already bound: nothing was avoided. */
	__set_bit(2000, bound);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_FALSE(test, avoided);
	/* lo == hi == the destination port: no port for it, and told why. */
	__clear_bit(2000, bound);
	c.hi = 2000;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_AVOIDED,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_TRUE(test, avoided);
	/* The same while it rests: the LRU choice does not take it either. */
	rest_port(c.rest, 2000, 0);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_AVOIDED,
			ephport_choose(&c, fixed_below, &port, &avoided));
	/* lo == hi, another destination: that port, resting or not. */
	c.avoid = 80;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 2000, port);
	KUNIT_EXPECT_FALSE(test, avoided);
}

/*
 * Every steered call moves random_steered and exactly one of random_ok,
 * random_lru and random_fallback; a fallback has exactly one reason.
 */
static void ephport_outcome_test(struct kunit *test)
{
	static const enum ephport_pick picks[] = {
		EPHPORT_PICK_OK, EPHPORT_PICK_LRU, EPHPORT_PICK_FULL,
		EPHPORT_PICK_AVOIDED, EPHPORT_PICK_RANGE, EPHPORT_PICK_UNTRUSTED,
	};
	const unsigned long ends = BIT(EPHPORT_RANDOM_OK) |
				   BIT(EPHPORT_RANDOM_LRU) |
				   BIT(EPHPORT_RANDOM_FALLBACK);
	const unsigned long reasons = BIT(EPHPORT_RANDOM_FALLBACK_FULL) |
				      BIT(EPHPORT_RANDOM_FALLBACK_REFUSED) |
				      BIT(EPHPORT_RANDOM_FALLBACK_UNTRUSTED);
	unsigned int i, a;

	for (i = 0; i < ARRAY_SIZE(picks); i++) {
		for (a = 0; a < 2; a++) {
			unsigned long m = ephport_outcome(picks[i], a);

			KUNIT_EXPECT_TRUE(test, m & BIT(EPHPORT_RANDOM_STEERED));
			KUNIT_EXPECT_EQ(test, 1, hweight_long(m & ends));
			KUNIT_EXPECT_EQ(test, !!(m & BIT(EPHPORT_RANDOM_FALLBACK)),
					hweight_long(m & reasons));
			KUNIT_EXPECT_FALSE(test,
					   m & BIT(EPHPORT_SELF_CONNECT_AVOIDED));
		}
	}
	KUNIT_EXPECT_TRUE(test, ephport_outcome(EPHPORT_PICK_OK, true) &
			  BIT(EPHPORT_RANDOM_OK));
	KUNIT_EXPECT_TRUE(test, ephport_outcome(EPHPORT_PICK_LRU, true) &
			  BIT(EPHPORT_RANDOM_LRU));
	KUNIT_EXPECT_TRUE(test, ephport_outcome(EPHPORT_PICK_LRU, false) &
			  BIT(EPHPORT_RANDOM_FALLBACK_REFUSED));
	KUNIT_EXPECT_TRUE(test, ephport_outcome(EPHPORT_PICK_UNTRUSTED, false) &
			  BIT(EPHPORT_RANDOM_FALLBACK_UNTRUSTED));
	KUNIT_EXPECT_TRUE(test, ephport_outcome(EPHPORT_PICK_AVOIDED, false) &
			  BIT(EPHPORT_RANDOM_FALLBACK_FULL));
}

static struct kunit_case ephport_random_test_cases[] = {
	KUNIT_CASE(ephport_choose_bijective_test),
	KUNIT_CASE(ephport_choose_uniform_test),
	KUNIT_CASE(ephport_choose_occupancy_test),
	KUNIT_CASE(ephport_choose_excludes_test),
	KUNIT_CASE(ephport_choose_fallback_test),
	KUNIT_CASE(ephport_choose_self_connect_test),
	KUNIT_CASE(ephport_outcome_test),
	{}
};

static struct kunit_suite ephport_random_test_suite = {
	.name = "ephport_random",
	.test_cases = ephport_random_test_cases,
};

kunit_test_suite(ephport_random_test_suite);
