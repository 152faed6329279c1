// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the ports random mode draws from (avail.c) and the
 * draw over them (choose.c): rank and select against a plain count,
 * exact uniformity with most of the range resting, bound, reserved and
 * a port to avoid, a socket's own range, the expiry, and a build made
 * anew after a pass.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/minmax.h>
#include <linux/random.h>
#include <linux/string.h>

#include "kunit_core.h"

/* ---- suite "ephport_avail": the sets to draw from ---- */

static u32 below_calls;

static u32 counting_below(u32 ceil)
{
	below_calls++;
	return get_random_u32_below(ceil);
}

/* Builds @proto's set of @r for [lo, hi] at once. */
static void avail_build(struct ephport_rest *r, enum ephport_proto proto,
			u32 lo, u32 hi, const unsigned long *bound,
			unsigned long mark)
{
	ephport_avail_begin(r, proto, lo, hi, bound, mark);
	while (!ephport_avail_step(r, proto, 3))
		;
}

/*
 * Over 1-65535, about half the ports resting and a quarter bound: the
 * set holds exactly the others; select(k) is the k-th of them and rank
 * its inverse, before and after ports leave and come back.
 */
static void ephport_avail_rank_select_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_rest *r = rest_new(test, 1, 65535);
	u32 *ports = kunit_kcalloc(test, EPHPORT_NPORTS, sizeof(u32),
				   GFP_KERNEL);
	u32 p, n, i, k, round;

	KUNIT_ASSERT_NOT_NULL(test, ports);
	for (p = 1; p < EPHPORT_NPORTS; p++) {
		u32 x = get_random_u32_below(4);

		if (x < 2)
			ephport_rest_release(r, p, 5, 1000);
		else if (x == 2)
			__set_bit(p, bound);
	}
	avail_build(r, EPHPORT_UDP, 1, 65535, bound, 0);
	for (round = 0; round < 2; round++) {
		n = 0;
		for (p = 1; p < EPHPORT_NPORTS; p++) {
			bool want = !ephport_rest_resting(r, p) &&
				    !test_bit(p, bound);

			KUNIT_ASSERT_EQ_MSG(test, want,
					    ephport_avail_has(r, EPHPORT_UDP, p),
					    "port %u, round %u", p, round);
			if (want)
				ports[n++] = p;
		}
		KUNIT_ASSERT_EQ(test, n, r->avail[EPHPORT_UDP].n);
		for (i = 0; i < 4000; i++) {
			k = i < 2 ? i * (n - 1) : get_random_u32_below(n);
			KUNIT_ASSERT_EQ_MSG(test, ports[k],
					    ephport_avail_select(r, EPHPORT_UDP, k),
					    "k %u of %u", k, n);
			KUNIT_ASSERT_EQ(test, k,
					ephport_avail_rank(r, EPHPORT_UDP,
							   ports[k]));
		}
		KUNIT_EXPECT_EQ(test, n, ephport_avail_rank(r, EPHPORT_UDP,
							    65536));
		/* A quarter of them rest, and those resting come back. */
		for (i = 0; i < n; i += 4)
			ephport_rest_release(r, ports[i], 10, 1000);
		ephport_rest_expire(r, 80, 1000, U32_MAX);
		KUNIT_EXPECT_EQ(test, 0, r->head);
	}
	/* The TCP set was never built: nothing goes in it. */
	KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, EPHPORT_TCP, ports[1]));
}

/*
 * 1,000 ports, 900 resting, of the other 100: 10 bound before the set is
 * built, 10 after, 5 reserved, 1 to avoid. The 74 candidates share
 * 74 x 300 choices evenly (chi-square, 73 df, p = 0.001), no other port
 * is chosen, and the draws stay about one per choice.
 */
static void ephport_avail_uniform_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test), *reserved = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .reserved = reserved,
				    .lo = 20000, .hi = 20999, .now = 3,
				    .proto = EPHPORT_TCP };
	u32 *count = kunit_kcalloc(test, 1000, sizeof(u32), GFP_KERNEL);
	u32 free[100], i, j, port, draws = 74 * 300, expect = 300;
	u64 chi2 = 0;
	bool avoided;

	KUNIT_ASSERT_NOT_NULL(test, count);
	c.rest = rest_new(test, c.lo, c.hi);
	/* The ports that do not rest: 100 of them, anywhere. */
	for (i = 0; i < 1000; i++)
		count[i] = c.lo + i;
	for (i = 999; i > 0; i--) {
		j = get_random_u32_below(i + 1);
		swap(count[i], count[j]);
	}
	for (i = 0; i < 100; i++)
		free[i] = count[i];
	for (i = 100; i < 1000; i++)
		rest_port(c.rest, count[i], 1);
	memset(count, 0, 1000 * sizeof(u32));
	for (i = 0; i < 10; i++)
		__set_bit(free[i], bound);
	for (i = 10; i < 15; i++)
		__set_bit(free[i], reserved);
	c.avoid = free[15];
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, counting_below, &port, &avoided));
	KUNIT_EXPECT_TRUE(test, avoided);
	for (i = 16; i < 26; i++)
		__set_bit(free[i], bound);
	below_calls = 0;
	for (i = 0; i < draws; i++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, counting_below, &port, &avoided));
		KUNIT_ASSERT_FALSE(test, test_bit(port, bound));
		KUNIT_ASSERT_FALSE(test, test_bit(port, reserved));
		KUNIT_ASSERT_FALSE(test, ephport_rest_resting(c.rest, port));
		KUNIT_ASSERT_NE(test, c.avoid, (int)port);
		count[port - c.lo]++;
	}
	for (i = 26; i < 100; i++) {
		s64 d = (s64)count[free[i] - c.lo] - expect;

		chi2 += d * d;
	}
	/* chi2 / expect < 116.2 (p = 0.001 for 73 degrees of freedom) */
	KUNIT_EXPECT_LT_MSG(test, chi2, 116200ULL * expect / 1000,
			    "chi-square %llu/%u", chi2, expect);
	/* 5 reserved in 80: about 1.07 draws a choice, and 10 bound once. */
	KUNIT_EXPECT_LT_MSG(test, below_calls, draws + draws / 5,
			    "%u draws for %u choices", below_calls, draws);
}

/*
 * A socket's own range inside the namespace's, with the port to avoid
 * in it: k = 0..n-1 give each candidate of that range once, and no other
 * port. With none left but resting ones there, the one of them released
 * first.
 */
static void ephport_avail_subrange_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test), *seen = bitmap_new(test);
	struct ephport_choice c = { .bound = bound, .lo = 30000, .hi = 30999,
				    .avoid = -1, .now = 9 };
	u32 p, n = 0, port;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	for (p = c.lo; p <= c.hi; p++)
		if (p % 2 || p % 5 == 0)
			rest_port(c.rest, p, 9);
	fixed_k = 0;
	KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	c.lo = 30101;
	c.hi = 30199;
	c.avoid = 30102;
	for (p = c.lo; p <= c.hi; p++)
		n += !(p % 2 || p % 5 == 0) && p != 30102;
	for (fixed_k = 0; fixed_k < n; fixed_k++) {
		KUNIT_ASSERT_EQ(test, EPHPORT_PICK_OK,
				ephport_choose(&c, fixed_below, &port, &avoided));
		KUNIT_EXPECT_TRUE(test, avoided);
		KUNIT_ASSERT_GE(test, port, c.lo);
		KUNIT_ASSERT_LE(test, port, c.hi);
		KUNIT_EXPECT_FALSE(test, port % 2 || port % 5 == 0);
		KUNIT_EXPECT_FALSE(test, test_bit(port, seen));
		__set_bit(port, seen);
	}
	KUNIT_EXPECT_EQ(test, n, bitmap_weight(seen, EPHPORT_NPORTS));
	/* Only resting ports left in it: the first of them released. */
	for (p = c.lo; p <= c.hi; p++)
		if (!(p % 2 || p % 5 == 0))
			__set_bit(p, bound);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_LRU,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 30101, port);
}

/*
 * Ports come back to both protocols' sets when their rest ends, or at
 * once with no delay; a hand-out and a release take them out of both. A
 * word the build has not reached yet is read when it is.
 */
static void ephport_avail_expiry_test(struct kunit *test)
{
	unsigned long *bound = bitmap_new(test);
	struct ephport_rest *r = rest_new(test, 6000, 6999);
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++)
		avail_build(r, p, 6000, 6999, bound, 0);
	ephport_rest_handout(r, 6100);
	ephport_rest_release(r, 6200, 50, 100);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, p, 6100));
		KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, p, 6200));
		KUNIT_EXPECT_EQ(test, 998, r->avail[p].n);
	}
	ephport_rest_release(r, 6100, 51, 100);
	ephport_rest_expire(r, 58, 100, U32_MAX);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		KUNIT_EXPECT_TRUE(test, ephport_avail_has(r, p, 6200));
		KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, p, 6100));
	}
	ephport_rest_release(r, 6100, 52, 0);
	KUNIT_EXPECT_TRUE(test, ephport_avail_has(r, EPHPORT_UDP, 6100));
	/*
	 * Without a delay the port is back before its bit is cleared: a
	 * choice that drew it then found it bound and took it out. Once
	 * the bit is clear it is back for good; a resting or handed-out
	 * port is not.
	 */
	ephport_avail_del(r, EPHPORT_UDP, 6100);
	ephport_rest_freed(r, 6100);
	KUNIT_EXPECT_TRUE(test, ephport_avail_has(r, EPHPORT_UDP, 6100));
	ephport_rest_freed(r, 6200);
	KUNIT_EXPECT_TRUE(test, ephport_avail_has(r, EPHPORT_UDP, 6200));
	ephport_rest_release(r, 6300, 53, 100);
	ephport_rest_freed(r, 6300);
	KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, EPHPORT_UDP, 6300));
	ephport_rest_handout(r, 6301);
	ephport_rest_freed(r, 6301);
	KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, EPHPORT_UDP, 6301));
	ephport_rest_release(r, 6300, 54, 0);
	ephport_rest_release(r, 6301, 54, 0);
	/* A build half done: the word of 6900 is not read yet. */
	ephport_rest_release(r, 6900, 60, 100);
	ephport_avail_begin(r, EPHPORT_TCP, 6000, 6999, bound, 1);
	ephport_avail_step(r, EPHPORT_TCP, 2);
	ephport_rest_expire(r, 200, 100, U32_MAX);
	KUNIT_EXPECT_FALSE(test, ephport_avail_has(r, EPHPORT_TCP, 6900));
	KUNIT_EXPECT_FALSE(test, ephport_avail_ready(r, EPHPORT_TCP, bound, 1,
						     6000, 6999));
	while (!ephport_avail_step(r, EPHPORT_TCP, 1))
		;
	KUNIT_EXPECT_TRUE(test, ephport_avail_has(r, EPHPORT_TCP, 6900));
	KUNIT_EXPECT_EQ(test, 1000, r->avail[EPHPORT_TCP].n);
}

/*
 * A port found bound leaves the set; a pass then finds it free (its
 * release was missed): the set must be built anew from the new bitmap,
 * and the port is drawn again. A reserved port is never drawn, and is
 * drawn as soon as it is no longer reserved.
 */
static void ephport_avail_pass_test(struct kunit *test)
{
	unsigned long *b1 = bitmap_new(test), *b2 = bitmap_new(test);
	unsigned long *reserved = bitmap_new(test);
	struct ephport_lru lru;
	struct ephport_choice c = { .bound = b1, .reserved = reserved,
				    .lo = 7000, .hi = 7003, .avoid = -1,
				    .lru = &lru, .mark = 1 };
	u32 port;
	bool avoided;

	c.rest = rest_new(test, c.lo, c.hi);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_BUILD,
			ephport_choose(&c, fixed_below, &port, &avoided));
	avail_build(c.rest, EPHPORT_TCP, c.lo, c.hi, b1, 1);
	__set_bit(7000, b1);
	__set_bit(7001, reserved);
	fixed_k = 0;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 7002, port);
	KUNIT_EXPECT_FALSE(test, ephport_avail_has(c.rest, EPHPORT_TCP, 7000));
	KUNIT_EXPECT_TRUE(test, ephport_avail_has(c.rest, EPHPORT_TCP, 7001));
	/* Unreserved: drawn at once. */
	__clear_bit(7001, reserved);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 7001, port);
	/* A pass publishes b2, where 7000 is free: not ready, whichever. */
	c.bound = b2;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_BUILD,
			ephport_choose(&c, fixed_below, &port, &avoided));
	c.bound = b1;
	c.mark = 2;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_BUILD,
			ephport_choose(&c, fixed_below, &port, &avoided));
	c.bound = b2;
	avail_build(c.rest, EPHPORT_TCP, c.lo, c.hi, b2, 2);
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_OK,
			ephport_choose(&c, fixed_below, &port, &avoided));
	KUNIT_EXPECT_EQ(test, 7000, port);
	/* A range wider than the set was built for: built anew too. */
	c.hi = 7010;
	KUNIT_EXPECT_EQ(test, EPHPORT_PICK_BUILD,
			ephport_choose(&c, fixed_below, &port, &avoided));
}

static struct kunit_case ephport_avail_test_cases[] = {
	KUNIT_CASE(ephport_avail_rank_select_test),
	KUNIT_CASE(ephport_avail_uniform_test),
	KUNIT_CASE(ephport_avail_subrange_test),
	KUNIT_CASE(ephport_avail_expiry_test),
	KUNIT_CASE(ephport_avail_pass_test),
	{}
};

static struct kunit_suite ephport_avail_test_suite = {
	.name = "ephport_avail",
	.test_cases = ephport_avail_test_cases,
};

kunit_test_suite(ephport_avail_test_suite);
