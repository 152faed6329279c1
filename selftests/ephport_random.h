/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ephport_random_busy and ephport_random_ipmodify share: the
 * random-mode counters of the test's namespace and the sums they must
 * keep, and two socket helpers.
 *
 * Every case runs in a namespace of its own with the range pinned, loads
 * ephport itself if needed, and checks that the random-mode counters add
 * up: random_ok + random_lru + random_fallback == random_steered, and the
 * fallback is the sum of its reasons.
 *
 * Each program includes this once, after defining _GNU_SOURCE.
 */
#ifndef EPHPORT_RANDOM_H
#define EPHPORT_RANDOM_H

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define LO 40000

/* The random-mode counters of this process's namespace. */
struct rnd {
	long steered, ok, lru, fallback, full, refused, untrusted, avoided;
};

static inline void rnd_read(struct rnd *r)
{
	r->steered = ep_nsval("random_steered");
	r->ok = ep_nsval("random_ok");
	r->lru = ep_nsval("random_lru");
	r->fallback = ep_nsval("random_fallback");
	r->full = ep_nsval("random_fallback_full");
	r->refused = ep_nsval("random_fallback_refused");
	r->untrusted = ep_nsval("random_fallback_untrusted");
	r->avoided = ep_nsval("self_connect_avoided");
}

/* The counters add up (at a quiet moment); 0, or which sum is off. */
static inline const char *rnd_sums(const struct rnd *r)
{
	if (r->steered < 0 || r->ok < 0 || r->lru < 0 || r->fallback < 0 ||
	    r->full < 0 || r->refused < 0 || r->untrusted < 0)
		return "a counter is missing";
	if (r->ok + r->lru + r->fallback != r->steered)
		return "random_ok + random_lru + random_fallback != random_steered";
	if (r->full + r->refused + r->untrusted != r->fallback)
		return "full + refused + untrusted != random_fallback";
	return NULL;
}

#define ASSERT_SUMS(r) do {						\
	const char *_why = rnd_sums(r);					\
	ASSERT_EQ(NULL, _why) TH_LOG("%s: steered %ld ok %ld lru %ld fallback %ld (full %ld refused %ld untrusted %ld)", \
				     _why, (r)->steered, (r)->ok, (r)->lru, \
				     (r)->fallback, (r)->full, (r)->refused, \
				     (r)->untrusted);			\
} while (0)

/* connect() to loopback:@dport; 0 with *@local, or -errno. */
static inline int connect_to(int family, int dport, int *local)
{
	int fd = ep_connect(family, dport);

	*local = -1;
	if (fd < 0)
		return fd;
	*local = ep_local_port(fd);
	ep_close_now(fd);
	return 0;
}

#endif /* EPHPORT_RANDOM_H */
