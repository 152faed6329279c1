/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit helpers shared by the tests of random mode's choice (kunit_choose.c)
 * and of its resting ports (kunit_rest.c).
 */
#ifndef _EPHPORT_KUNIT_CORE_H
#define _EPHPORT_KUNIT_CORE_H

#include <kunit/test.h>
#include <linux/bitmap.h>

#include "core.h"

static inline unsigned long *bitmap_new(struct kunit *test)
{
	unsigned long *map = kunit_kzalloc(test, BITS_TO_LONGS(EPHPORT_NPORTS) *
					   sizeof(unsigned long), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	return map;
}

/* A rest for [lo, hi], as random mode makes one. */
static inline struct ephport_rest *rest_new(struct kunit *test, u32 lo, u32 hi)
{
	struct ephport_rest *r;

	r = kunit_kzalloc(test, ephport_rest_size(lo, hi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	ephport_rest_init(r, lo, hi);
	KUNIT_ASSERT_TRUE(test, ephport_rest_covers(r, lo, hi));
	return r;
}

/* @port rests from unit @now on (released with a long delay). */
static inline void rest_port(struct ephport_rest *r, u32 port, u16 now)
{
	ephport_rest_release(r, port, now, 600000);
}

/* A "random" source that returns what the test says. */
static u32 fixed_k;

static inline u32 fixed_below(u32 ceil)
{
	return fixed_k % ceil;
}

#endif /* _EPHPORT_KUNIT_CORE_H */
