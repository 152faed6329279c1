// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for ephport's core logic.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "ephport.h"

static void ephport_version_test(struct kunit *test)
{
	KUNIT_EXPECT_GT(test, strlen(EPHPORT_VERSION), 0);
}

static struct kunit_case ephport_test_cases[] = {
	KUNIT_CASE(ephport_version_test),
	{}
};

static struct kunit_suite ephport_test_suite = {
	.name = "ephport",
	.test_cases = ephport_test_cases,
};
kunit_test_suite(ephport_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for ephport");
