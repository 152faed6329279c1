// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the parsing of every control (parse.c), and the module
 * as a whole.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "core.h"

/* ---- suite "ephport": the module as a whole, and the writes ---- */

static void ephport_version_test(struct kunit *test)
{
	KUNIT_EXPECT_GT(test, strlen(EPHPORT_VERSION), 0);
}

static void ephport_parse_pct_test(struct kunit *test)
{
	static const char *const bad[] = {
		"0", "101", "", "\n", "abc", "-5", "5 5", "90x", "1000000000000",
	};
	u32 pct = 42;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_pct("90", &pct));
	KUNIT_EXPECT_EQ(test, 90, pct);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_pct("1\n", &pct));
	KUNIT_EXPECT_EQ(test, 1, pct);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_pct("100", &pct));
	KUNIT_EXPECT_EQ(test, 100, pct);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL, ephport_parse_pct(bad[i], &pct),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, 100, pct, "\"%s\" changed it", bad[i]);
	}
}

static void ephport_parse_peak_reset_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_peak_reset("0"));
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_peak_reset("0\n"));
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_peak_reset("1"));
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_peak_reset(""));
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_peak_reset("zero"));
	KUNIT_EXPECT_EQ(test, -EINVAL, ephport_parse_peak_reset("-0x"));
}

static void ephport_parse_basis_test(struct kunit *test)
{
	static const char *const bad[] = {
		"", "\n", "PORTS", "Dest", "port", "dests", " dest", "dest ",
		"dest\n\n", "ports dest", "0", "1", "-dest",
	};
	enum ephport_basis b = EPHPORT_BASIS_PORTS;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_basis("dest", &b));
	KUNIT_EXPECT_EQ(test, EPHPORT_BASIS_DEST, b);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_basis("ports\n", &b));
	KUNIT_EXPECT_EQ(test, EPHPORT_BASIS_PORTS, b);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_basis("dest\n", &b));
	KUNIT_EXPECT_EQ(test, EPHPORT_BASIS_DEST, b);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL, ephport_parse_basis(bad[i], &b),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, EPHPORT_BASIS_DEST, b,
				    "\"%s\" changed it", bad[i]);
	}
	/* What sysfs shows reads back as the same basis. */
	for (i = EPHPORT_BASIS_PORTS; i <= EPHPORT_BASIS_DEST; i++) {
		KUNIT_EXPECT_EQ(test, 0, ephport_parse_basis(ephport_basis_name(i), &b));
		KUNIT_EXPECT_EQ(test, i, b);
	}
	KUNIT_EXPECT_STREQ(test, "ports", ephport_basis_name(EPHPORT_BASIS_PORTS));
	KUNIT_EXPECT_STREQ(test, "dest", ephport_basis_name(EPHPORT_BASIS_DEST));
	KUNIT_EXPECT_STREQ(test, "?", ephport_basis_name(EPHPORT_BASIS_DEST + 1));
	KUNIT_EXPECT_STREQ(test, "?", ephport_basis_name((enum ephport_basis)-1));
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

static void ephport_parse_switch_test(struct kunit *test)
{
	static const char *const bad[] = {
		"", "\n", "2", "-1", "01", "+1", " 1", "1 ", "1\n\n", "true",
		"on", "yes", "0x1", "10",
	};
	bool on = false;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_switch("1", &on));
	KUNIT_EXPECT_TRUE(test, on);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_switch("0\n", &on));
	KUNIT_EXPECT_FALSE(test, on);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_switch("1\n", &on));
	KUNIT_EXPECT_TRUE(test, on);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL, ephport_parse_switch(bad[i], &on),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_TRUE_MSG(test, on, "\"%s\" changed it", bad[i]);
	}
}

static void ephport_parse_symbol_offset_test(struct kunit *test)
{
	static const char *const bad[] = {
		"", "inet_hash_connect", "inet_hash_connect+", "0xffffffff81000000",
		"inet_hash_connect.cold+0x0/0x20",
		"inet_hash_connect_x+0x4/0x40", "inet6_hash_connect+0x4/0x40",
		"inet_hash_connect+0x4/0x40 [ephport]",
		"inet_hash_connect+0x40/0x40", "inet_hash_connect+0x4",
		"inet_hash_connect+0x4/", "inet_hash_connect+/0x40",
		"inet_hash_connect+0x4/0x40x", "inet_hash_connect+-4/0x40",
		"inet_hash_connect+0x1111111111111111111111/0x40",
	};
	unsigned long off = 42;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, 0, ephport_parse_symbol_offset("inet_hash_connect+0x4/0x40",
							     "inet_hash_connect", &off));
	KUNIT_EXPECT_EQ(test, 4, off);
	KUNIT_EXPECT_EQ(test, 0, ephport_parse_symbol_offset("udp_lib_get_port+0x0/0x2f0",
							     "udp_lib_get_port", &off));
	KUNIT_EXPECT_EQ(test, 0, off);
	off = 42;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ_MSG(test, -EINVAL,
				    ephport_parse_symbol_offset(bad[i], "inet_hash_connect",
								&off),
				    "\"%s\"", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, 42, off, "\"%s\" changed it", bad[i]);
	}
}

static struct kunit_case ephport_test_cases[] = {
	KUNIT_CASE(ephport_version_test),
	KUNIT_CASE(ephport_parse_pct_test),
	KUNIT_CASE(ephport_parse_peak_reset_test),
	KUNIT_CASE(ephport_parse_basis_test),
	KUNIT_CASE(ephport_parse_mode_test),
	KUNIT_CASE(ephport_parse_delay_test),
	KUNIT_CASE(ephport_parse_switch_test),
	KUNIT_CASE(ephport_parse_symbol_offset_test),
	{}
};

static struct kunit_suite ephport_test_suite = {
	.name = "ephport",
	.test_cases = ephport_test_cases,
};

kunit_test_suite(ephport_test_suite);
