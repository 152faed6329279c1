// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for counting bound ports (usage.c): a range that moves,
 * peaks, the per-CPU deltas, search_ns bucketing and the alarm's
 * hysteresis. With kunit_choose.c, kunit_rest.c and kunit_parse.c it
 * builds ephport_kunit.ko (this file holds the module's description).
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/limits.h>
#include <linux/string.h>

#include "core.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

static struct ephport_usage *usage_new(struct kunit *test, u32 lo, u32 hi)
{
	struct ephport_usage *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, u);
	u->bound = kunit_kzalloc(test, BITS_TO_LONGS(EPHPORT_NPORTS) *
				 sizeof(unsigned long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u->bound);
	u->spare = kunit_kmalloc(test, BITS_TO_LONGS(EPHPORT_NPORTS) *
				 sizeof(unsigned long), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u->spare);
	ephport_usage_count(u, lo, hi, 0);
	return u;
}

/* A read: in_use and the peak for the range the usage was counted for. */
static u32 usage_read(struct ephport_usage *u)
{
	ephport_usage_count(u, u->lo, u->hi, 0);
	return u->in_use;
}

/* ---- suite "ephport_stats": counting, peaks, histogram ---- */

static void ephport_bits_in_range_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1, 0);
	unsigned long *map = u->bound;

	KUNIT_EXPECT_EQ(test, 0, ephport_bits_in_range(map, 0, 65535));
	__set_bit(0, map);
	__set_bit(63, map);
	__set_bit(64, map);
	__set_bit(65535, map);
	KUNIT_EXPECT_EQ(test, 4, ephport_bits_in_range(map, 0, 65535));
	KUNIT_EXPECT_EQ(test, 3, ephport_bits_in_range(map, 1, 65535));
	KUNIT_EXPECT_EQ(test, 1, ephport_bits_in_range(map, 63, 63));
	KUNIT_EXPECT_EQ(test, 2, ephport_bits_in_range(map, 63, 64));
	KUNIT_EXPECT_EQ(test, 0, ephport_bits_in_range(map, 65, 65534));
	KUNIT_EXPECT_EQ(test, 1, ephport_bits_in_range(map, 65535, 65535));
	/* An empty or impossible range counts nothing. */
	KUNIT_EXPECT_EQ(test, 0, ephport_bits_in_range(map, 64, 63));
	KUNIT_EXPECT_EQ(test, 0, ephport_bits_in_range(map, 0, 65536));
}

static void ephport_usage_bind_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 32768, 60999);

	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 32768));
	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 60999));
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	/* A port bound twice (shared by sockets) counts once. */
	KUNIT_EXPECT_FALSE(test, ephport_usage_bind(u, 32768));
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	/* Outside the range: remembered, not counted. */
	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 32767));
	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 61000));
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	/* No such port. */
	KUNIT_EXPECT_FALSE(test, ephport_usage_bind(u, 65536));
	KUNIT_EXPECT_EQ(test, 2, u->peak);
}

static void ephport_usage_release_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 100, 199);

	ephport_usage_bind(u, 100);
	ephport_usage_bind(u, 150);
	ephport_usage_bind(u, 250);
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	KUNIT_EXPECT_TRUE(test, ephport_usage_release(u, 150));
	KUNIT_EXPECT_EQ(test, 1, usage_read(u));
	/* Releasing a free port changes nothing. */
	KUNIT_EXPECT_FALSE(test, ephport_usage_release(u, 150));
	KUNIT_EXPECT_FALSE(test, ephport_usage_release(u, 151));
	KUNIT_EXPECT_FALSE(test, ephport_usage_release(u, 70000));
	KUNIT_EXPECT_EQ(test, 1, usage_read(u));
	KUNIT_EXPECT_TRUE(test, ephport_usage_release(u, 250));
	KUNIT_EXPECT_EQ(test, 1, usage_read(u));
	KUNIT_EXPECT_TRUE(test, ephport_usage_release(u, 100));
	KUNIT_EXPECT_EQ(test, 0, usage_read(u));
	KUNIT_EXPECT_EQ(test, 2, u->peak);
}

/* The sysctl moves the range: counts follow, bound ports are not lost. */
static void ephport_usage_range_change_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1000, 1009);

	ephport_usage_bind(u, 1000);
	ephport_usage_bind(u, 1005);
	ephport_usage_bind(u, 2000);
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	ephport_usage_count(u, 1000, 2000, 0);
	KUNIT_EXPECT_EQ(test, 3, u->in_use);
	KUNIT_EXPECT_EQ(test, 3, u->peak);
	ephport_usage_count(u, 1001, 1004, 0);
	KUNIT_EXPECT_EQ(test, 0, u->in_use);
	/* Released while the range excludes the port. */
	ephport_usage_release(u, 1005);
	ephport_usage_count(u, 1000, 1009, 0);
	KUNIT_EXPECT_EQ(test, 1, u->in_use);
	/* lo == hi */
	ephport_usage_count(u, 2000, 2000, 0);
	KUNIT_EXPECT_EQ(test, 1, u->in_use);
	KUNIT_EXPECT_TRUE(test, ephport_usage_release(u, 2000));
	KUNIT_EXPECT_EQ(test, 0, usage_read(u));
	KUNIT_EXPECT_EQ(test, 3, u->peak);
}

/* The whole range 1..65535, every port bound; port 0 is never counted. */
static void ephport_usage_full_range_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1, 65535);
	u32 p;

	for (p = 0; p < EPHPORT_NPORTS; p++)
		ephport_usage_bind(u, p);
	KUNIT_EXPECT_EQ(test, 65535, usage_read(u));
	KUNIT_EXPECT_EQ(test, 65535, u->peak);
	for (p = 1; p < EPHPORT_NPORTS; p += 2)
		ephport_usage_release(u, p);
	KUNIT_EXPECT_EQ(test, 32767, usage_read(u));
	KUNIT_EXPECT_EQ(test, 65535, u->peak);
}

/*
 * ip_local_reserved_ports: the kernel never chooses them, but a socket
 * may bind one explicitly, and then it is in use like any other.
 */
static void ephport_usage_reserved_port_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 40000, 40009);

	/* Say 40005 is reserved: 9 ports can be chosen, 10 can be bound. */
	ephport_usage_bind(u, 40005);
	KUNIT_EXPECT_EQ(test, 1, usage_read(u));
	ephport_usage_release(u, 40005);
	KUNIT_EXPECT_EQ(test, 0, usage_read(u));
}

/*
 * The peak: the highest of the reads and of the CPUs' candidates; a
 * reset restarts it from in_use; a pass forgets the bits, not the peak.
 */
static void ephport_usage_peak_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1, 100);
	u32 p;

	for (p = 1; p <= 10; p++)
		ephport_usage_bind(u, p);
	KUNIT_EXPECT_EQ(test, 10, usage_read(u));
	for (p = 1; p <= 7; p++)
		ephport_usage_release(u, p);
	KUNIT_EXPECT_EQ(test, 3, usage_read(u));
	KUNIT_EXPECT_EQ(test, 10, u->peak);
	/* A candidate above every read (binds between two reads). */
	ephport_usage_count(u, 1, 100, 12);
	KUNIT_EXPECT_EQ(test, 12, u->peak);
	ephport_usage_reset_peak(u);
	KUNIT_EXPECT_EQ(test, 3, u->peak);
	ephport_usage_bind(u, 50);
	KUNIT_EXPECT_EQ(test, 4, usage_read(u));
	KUNIT_EXPECT_EQ(test, 4, u->peak);
	/* A negative candidate (deltas racing a read) counts for nothing. */
	ephport_usage_count(u, 1, 100, -3);
	KUNIT_EXPECT_EQ(test, 4, u->peak);
	/* A pass that finds one port keeps the peak. */
	ephport_usage_shadow(u);
	__set_bit(60, u->shadow);
	ephport_usage_publish(u);
	KUNIT_EXPECT_EQ(test, 1, usage_read(u));
	KUNIT_EXPECT_EQ(test, 4, u->peak);
}

/*
 * Whether a port is counted bound, as a judged release asks: in the
 * bitmap, or in a pass's shadow alone (the pass found an owner the
 * bitmap had lost); let go, in neither.
 */
static void ephport_usage_test_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1, 100);

	KUNIT_EXPECT_FALSE(test, ephport_usage_test(u, 7));
	ephport_usage_bind(u, 7);
	KUNIT_EXPECT_TRUE(test, ephport_usage_test(u, 7));
	ephport_usage_shadow(u);
	__set_bit(8, u->shadow);
	KUNIT_EXPECT_FALSE(test, test_bit(8, u->bound));
	KUNIT_EXPECT_TRUE(test, ephport_usage_test(u, 8));
	KUNIT_EXPECT_FALSE(test, ephport_usage_release(u, 8));
	KUNIT_EXPECT_FALSE(test, ephport_usage_test(u, 8));
	KUNIT_EXPECT_TRUE(test, ephport_usage_test(u, 7));
	ephport_usage_publish(u);
	/* The pass did not find 7: the published bitmap has it clear. */
	KUNIT_EXPECT_FALSE(test, ephport_usage_test(u, 7));
	KUNIT_EXPECT_FALSE(test, ephport_usage_test(u, EPHPORT_NPORTS));
}

/*
 * A pass builds a shadow: readers see the old bitmap until it is
 * published, and the events meanwhile land in both.
 */
static void ephport_usage_shadow_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 1, 100);
	unsigned long *old = u->bound, *spare = u->spare;

	ephport_usage_bind(u, 1);
	ephport_usage_bind(u, 2);
	ephport_usage_bind(u, 3);
	/* The spare starts empty, whatever it held. */
	__set_bit(99, spare);
	ephport_usage_shadow(u);
	KUNIT_EXPECT_PTR_EQ(test, spare, u->shadow);
	KUNIT_EXPECT_NULL(test, u->spare);
	KUNIT_EXPECT_FALSE(test, test_bit(99, u->shadow));
	/* The pass finds 1 and 2 in the tables (3 was a bit left wrong). */
	__set_bit(1, u->shadow);
	__set_bit(2, u->shadow);
	/* Events meanwhile: 2 let go, 4 bound; readers see them at once. */
	KUNIT_EXPECT_TRUE(test, ephport_usage_release(u, 2));
	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 4));
	KUNIT_EXPECT_EQ(test, 3, usage_read(u));
	KUNIT_EXPECT_TRUE(test, test_bit(3, u->bound));
	ephport_usage_publish(u);
	KUNIT_EXPECT_PTR_EQ(test, spare, u->bound);
	KUNIT_EXPECT_PTR_EQ(test, old, u->spare);
	KUNIT_EXPECT_NULL(test, u->shadow);
	/* 1 and 4: the pass's finding, and what events did during it. */
	KUNIT_EXPECT_EQ(test, 2, usage_read(u));
	KUNIT_EXPECT_TRUE(test, test_bit(1, u->bound));
	KUNIT_EXPECT_FALSE(test, test_bit(2, u->bound));
	KUNIT_EXPECT_FALSE(test, test_bit(3, u->bound));
	KUNIT_EXPECT_TRUE(test, test_bit(4, u->bound));
	/* After it, events change the published bitmap alone. */
	KUNIT_EXPECT_TRUE(test, ephport_usage_bind(u, 5));
	KUNIT_EXPECT_FALSE(test, test_bit(5, u->spare));
	KUNIT_EXPECT_EQ(test, 3, usage_read(u));
}

/* Simulated CPUs' shares of one namespace, as counting.c keeps them. */
struct ports_sim {
	struct ephport_cpu_ports cpu[4];
	int base, top, count, peak;
	unsigned int gen;
};

static void ports_sim_move(struct ports_sim *s, int cpu, int step)
{
	int now;

	s->count += step;
	s->peak = max(s->peak, s->count);
	if (ephport_ports_move(&s->cpu[cpu], s->base, s->gen, step, &now))
		ephport_ports_fold(&s->cpu[cpu], &s->base, &s->top, s->gen);
}

/* What a reader makes of it: the folded top and every CPU's candidate. */
static int ports_sim_peak(const struct ports_sim *s)
{
	int top = s->top, i;

	for (i = 0; i < ARRAY_SIZE(s->cpu); i++)
		if (s->cpu[i].gen == s->gen)
			top = max(top, s->cpu[i].top);
	return top;
}

static int ports_sim_sum(const struct ports_sim *s)
{
	int sum = s->base, i;

	for (i = 0; i < ARRAY_SIZE(s->cpu); i++)
		sum += s->cpu[i].delta;
	return sum;
}

/* One CPU at a time: the peak is exact, through folds either way. */
static void ephport_ports_one_cpu_test(struct kunit *test)
{
	struct ports_sim s = {};
	int i;

	for (i = 0; i < 50; i++)
		ports_sim_move(&s, 0, 1);
	for (i = 0; i < 47; i++)
		ports_sim_move(&s, 0, -1);
	KUNIT_EXPECT_EQ(test, 3, ports_sim_sum(&s));
	KUNIT_EXPECT_EQ(test, 50, ports_sim_peak(&s));
	/*
	 * Another CPU, later: off by what the first holds unfolded (-13
	 * here), within the bound.
	 */
	for (i = 0; i < 61; i++)
		ports_sim_move(&s, 2, 1);
	KUNIT_EXPECT_EQ(test, 64, ports_sim_sum(&s));
	KUNIT_EXPECT_EQ(test, -13, s.cpu[0].delta);
	KUNIT_EXPECT_EQ(test, 64 + 13, ports_sim_peak(&s));
	/* A reset of the peak: the candidates of before no longer count. */
	s.gen++;
	s.top = 0;
	for (i = 0; i < 5; i++)
		ports_sim_move(&s, 0, -1);
	KUNIT_EXPECT_EQ(test, 59, ports_sim_sum(&s));
	KUNIT_EXPECT_EQ(test, 0, ports_sim_peak(&s) > 64);
}

/*
 * CPUs interleaved at random: the sum is always the count, and the peak
 * is within EPHPORT_FOLD ports per other CPU of the true high-watermark.
 */
static void ephport_ports_many_cpus_test(struct kunit *test)
{
	const int slack = (ARRAY_SIZE(((struct ports_sim *)0)->cpu) - 1) *
			  EPHPORT_FOLD;
	struct ports_sim s = {};
	u32 x = 12345;
	int i;

	for (i = 0; i < 20000; i++) {
		int cpu, step;

		x = x * 1103515245 + 12345;
		cpu = (x >> 16) % ARRAY_SIZE(s.cpu);
		/* Drifts up for the first half, down for the second. */
		step = ((x >> 8) % 8) < (i < 10000 ? 5 : 3) ? 1 : -1;
		if (s.count + step < 0)
			step = 1;
		ports_sim_move(&s, cpu, step);
		KUNIT_ASSERT_EQ(test, s.count, ports_sim_sum(&s));
	}
	KUNIT_EXPECT_GT(test, s.peak, 1000);
	KUNIT_EXPECT_LE(test, ports_sim_peak(&s), s.peak + slack);
	KUNIT_EXPECT_GE(test, ports_sim_peak(&s), s.peak - slack);
}

static void ephport_hist_bucket_test(struct kunit *test)
{
	unsigned int last = EPHPORT_HIST_BUCKETS - 1;

	KUNIT_EXPECT_EQ(test, 0, ephport_hist_bucket(0));
	KUNIT_EXPECT_EQ(test, 0, ephport_hist_bucket(1));
	KUNIT_EXPECT_EQ(test, 0, ephport_hist_bucket(1024));
	KUNIT_EXPECT_EQ(test, 1, ephport_hist_bucket(1025));
	KUNIT_EXPECT_EQ(test, 1, ephport_hist_bucket(2048));
	KUNIT_EXPECT_EQ(test, 2, ephport_hist_bucket(2049));
	KUNIT_EXPECT_EQ(test, last, ephport_hist_bucket(1ULL << 32));
	KUNIT_EXPECT_EQ(test, last, ephport_hist_bucket((1ULL << 32) + 1));
	KUNIT_EXPECT_EQ(test, last, ephport_hist_bucket(U64_MAX));
	KUNIT_EXPECT_EQ(test, 1024ULL, ephport_hist_bound(0));
	KUNIT_EXPECT_EQ(test, 1ULL << 32, ephport_hist_bound(last));
}

/* Every duration lands in the bucket whose bounds hold it. */
static void ephport_hist_bounds_test(struct kunit *test)
{
	u64 ns;

	for (ns = 1; ns < (1ULL << 33); ns = ns * 3 + 1) {
		unsigned int b = ephport_hist_bucket(ns);

		if (b < EPHPORT_HIST_BUCKETS - 1)
			KUNIT_EXPECT_LE(test, ns, ephport_hist_bound(b));
		if (b > 0)
			KUNIT_EXPECT_GT(test, ns, ephport_hist_bound(b - 1));
	}
}

static struct kunit_case ephport_stats_test_cases[] = {
	KUNIT_CASE(ephport_bits_in_range_test),
	KUNIT_CASE(ephport_usage_bind_test),
	KUNIT_CASE(ephport_usage_shadow_test),
	KUNIT_CASE(ephport_usage_test_test),
	KUNIT_CASE(ephport_usage_release_test),
	KUNIT_CASE(ephport_usage_range_change_test),
	KUNIT_CASE(ephport_usage_full_range_test),
	KUNIT_CASE(ephport_usage_reserved_port_test),
	KUNIT_CASE(ephport_usage_peak_test),
	KUNIT_CASE(ephport_ports_one_cpu_test),
	KUNIT_CASE(ephport_ports_many_cpus_test),
	KUNIT_CASE(ephport_hist_bucket_test),
	KUNIT_CASE(ephport_hist_bounds_test),
	{}
};

static struct kunit_suite ephport_stats_test_suite = {
	.name = "ephport_stats",
	.test_cases = ephport_stats_test_cases,
};

/* ---- suite "ephport_alarm": threshold and hysteresis ---- */

static void ephport_alarm_hysteresis_test(struct kunit *test)
{
	bool alarm = false;

	/* 100 ports, alarm at 90%: on at 90, off at 85 or less. */
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 89, 1, 100, 90));
	KUNIT_EXPECT_FALSE(test, alarm);
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 90, 1, 100, 90));
	KUNIT_EXPECT_TRUE(test, alarm);
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 86, 1, 100, 90));
	KUNIT_EXPECT_TRUE(test, alarm);
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 85, 1, 100, 90));
	KUNIT_EXPECT_FALSE(test, alarm);
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 89, 1, 100, 90));
	KUNIT_EXPECT_FALSE(test, alarm);
}

static void ephport_alarm_edges_test(struct kunit *test)
{
	bool alarm = false;

	/* lo == hi: one port, in use is 100%. */
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 1, 7, 7, 90));
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 0, 7, 7, 90));
	/* alarm_pct 100: only a full range; clears at 95%. */
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 99, 1, 100, 100));
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 100, 1, 100, 100));
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 96, 1, 100, 100));
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 95, 1, 100, 100));
	/* alarm_pct 3: on at 3%, off only when nothing is in use. */
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 3, 1, 100, 3));
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 1, 1, 100, 3));
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 0, 1, 100, 3));
	/* No range at all: never on. */
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 5, 10, 9, 1));
	KUNIT_EXPECT_FALSE(test, alarm);
	/* The whole range: 65535 ports, no overflow. */
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 65535, 1, 65535, 90));
	KUNIT_EXPECT_FALSE(test, ephport_alarm_update(&alarm, 58982, 1, 65535, 90));
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, 55704, 1, 65535, 90));
}

/* A range change alone can raise or clear the alarm. */
static void ephport_alarm_range_change_test(struct kunit *test)
{
	struct ephport_usage *u = usage_new(test, 100, 109);
	bool alarm = false;
	u32 p;

	for (p = 100; p < 109; p++)
		ephport_usage_bind(u, p);
	usage_read(u);
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, u->in_use, u->lo,
						     u->hi, 90));
	ephport_usage_count(u, 100, 199, 0);
	KUNIT_EXPECT_TRUE(test, ephport_alarm_update(&alarm, u->in_use, u->lo,
						     u->hi, 90));
	KUNIT_EXPECT_FALSE(test, alarm);
}

static struct kunit_case ephport_alarm_test_cases[] = {
	KUNIT_CASE(ephport_alarm_hysteresis_test),
	KUNIT_CASE(ephport_alarm_edges_test),
	KUNIT_CASE(ephport_alarm_range_change_test),
	{}
};

static struct kunit_suite ephport_alarm_test_suite = {
	.name = "ephport_alarm",
	.test_cases = ephport_alarm_test_cases,
};

kunit_test_suites(&ephport_stats_test_suite, &ephport_alarm_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for ephport");
