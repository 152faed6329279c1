// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for ephport's pure core (core.h), part two: random mode's
 * chooser and resting ports (choose.c), and the parsing of its controls
 * (parse.c). Part one is kunit_usage.c.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/limits.h>
#include <linux/random.h>
#include <linux/string.h>

#include "core.h"

/* ---- suite "ephport_random": the chooser and the resting ports ---- */

static unsigned long *bitmap_new(struct kunit *test)
{
	unsigned long *map = kunit_kzalloc(test, BITS_TO_LONGS(EPHPORT_NPORTS) *
					   sizeof(unsigned long), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	return map;
}

/* A rest for [lo, hi], as random mode makes one. */
static struct ephport_rest *rest_new(struct kunit *test, u32 lo, u32 hi)
{
	struct ephport_rest *r;

	r = kunit_kzalloc(test, ephport_rest_size(lo, hi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	ephport_rest_init(r, lo, hi);
	KUNIT_ASSERT_TRUE(test, ephport_rest_covers(r, lo, hi));
	return r;
}

/* @port rests from unit @now on (released with a long delay). */
static void rest_port(struct ephport_rest *r, u32 port, u16 now)
{
	ephport_rest_release(r, port, now, 600000);
}

/* A "random" source that returns what the test says. */
static u32 fixed_k;

static u32 fixed_below(u32 ceil)
{
	return fixed_k % ceil;
}

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
	for (p = 500; p <= 563; p++) {
		if (p < 530)
			__set_bit(p, bound);
		else
			rest_port(c.rest, p, p == 547 ? 3 : 5);
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
	KUNIT_EXPECT_EQ(test, 112, r->swept);
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

	KUNIT_EXPECT_LT(test, ephport_rest_size(4990, 5020), 1024 + 2 * 64 + 64 / 4);
	KUNIT_EXPECT_LT(test, ephport_rest_size(32768, 60999),
			1024 + 2 * 28232 + 28232 / 4 + 64);
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

static void ephport_parse_mode_test(struct kunit *test)
{
	static const char *const bad[] = {
		"", "\n", "RANDOM", "rand", "randomx", " random", "random ",
		"random\n\n", "random observe", "1", "-random",
	};
	enum ephport_mode m = EPHPORT_MODE_OBSERVE;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_mode("random\n", false, &m));
	KUNIT_EXPECT_EQ(test, EPHPORT_MODE_RANDOM, m);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_mode("observe", false, &m));
	KUNIT_EXPECT_EQ(test, EPHPORT_MODE_OBSERVE, m);
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_mode("default", false, &m));
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_mode("default", true, &m));
	KUNIT_EXPECT_EQ(test, EPHPORT_MODE_DEFAULT, m);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL, ephport_parse_mode(bad[i], true, &m),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ(test, EPHPORT_MODE_DEFAULT, m);
	}
	KUNIT_EXPECT_STREQ(test, "random", ephport_mode_name(EPHPORT_MODE_RANDOM));
	KUNIT_EXPECT_STREQ(test, "default", ephport_mode_name(EPHPORT_MODE_DEFAULT));
}

static void ephport_parse_delay_test(struct kunit *test)
{
	static const char *const bad[] = {
		"", "\n", " 5", "5 ", "5\n\n", "5 6", "0x10", "5.0", "1e3",
		"600001", "-2", "4294967296", "abc", "+-5",
	};
	unsigned int i;
	int ms = 7;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_delay("0", false, &ms));
	KUNIT_EXPECT_EQ(test, 0, ms);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_delay("600000\n", false, &ms));
	KUNIT_EXPECT_EQ(test, 600000, ms);
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_delay("-1", false, &ms));
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_delay("-1", true, &ms));
	KUNIT_EXPECT_EQ(test, -1, ms);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL, ephport_parse_delay(bad[i], true, &ms),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ(test, -1, ms);
	}
}

static struct kunit_case ephport_random_test_cases[] = {
	KUNIT_CASE(ephport_choose_bijective_test),
	KUNIT_CASE(ephport_choose_uniform_test),
	KUNIT_CASE(ephport_choose_occupancy_test),
	KUNIT_CASE(ephport_choose_excludes_test),
	KUNIT_CASE(ephport_choose_fallback_test),
	KUNIT_CASE(ephport_choose_self_connect_test),
	KUNIT_CASE(ephport_lru_order_test),
	KUNIT_CASE(ephport_lru_avoid_test),
	KUNIT_CASE(ephport_rest_expired_test),
	KUNIT_CASE(ephport_rest_sweep_test),
	KUNIT_CASE(ephport_rest_handout_test),
	KUNIT_CASE(ephport_rest_range_change_test),
	KUNIT_CASE(ephport_outcome_test),
	KUNIT_CASE(ephport_parse_mode_test),
	KUNIT_CASE(ephport_parse_delay_test),
	{}
};

static struct kunit_suite ephport_random_test_suite = {
	.name = "ephport_random",
	.test_cases = ephport_random_test_cases,
};

kunit_test_suite(ephport_random_test_suite);
