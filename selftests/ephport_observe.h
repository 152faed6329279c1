/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the ephport_observe_* tests share: the observe mode's values are
 * exact.
 *
 * Every case runs in a namespace of its own (unshare(CLONE_NEWNET), the
 * harness forks each case) with the port range pinned, makes a known
 * number of port operations and checks the namespace's values, in
 * /sys/kernel/ephport/net/<inum>/ and in /proc/net/ephport, to the unit.
 * No case needs another to have run: each fixture's setup loads ephport
 * if it is not loaded.
 *
 * Each program includes this once, after defining _GNU_SOURCE.
 */
#ifndef EPHPORT_OBSERVE_H
#define EPHPORT_OBSERVE_H

#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

/*
 * The 6.12 harness's TEST_F wrapper keeps a local across setjmp(), which
 * gcc -Wextra flags (-Wclobbered) for some test bodies: not these ones.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define LO 40000		/* the pinned ranges start here */
#define MAXFD 64

/* ---- helpers ---- */

/* The numbers both sysfs and /proc/net/ephport show. */
static const char *const values[] __attribute__((unused)) = {
	"tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
#define EPHPORT_OBSERVE_COUNTER(id, name) #name,
#define EPHPORT_RANDOM_COUNTER(id, name) #name,
#include "../module/ephport_counters.h"
	"alarm", "reuse_delay_ms", "resting",
};

/* Every value agrees between sysfs and /proc/net/ephport. */
static inline int proc_matches_sysfs(struct __test_metadata *_metadata)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		long s = ep_nsval(values[i]), p = ep_procval(values[i]);

		if (s != p || s < 0) {
			TH_LOG("%s: sysfs %ld, /proc/net/ephport %ld",
			       values[i], s, p);
			return 0;
		}
	}
	return 1;
}

/* ephport's directory of namespace @inum is there. */
static inline int netns_dir_exists(unsigned long inum)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu", inum);
	return !stat(path, &st);
}

/*
 * A fixture for cases that need ephport loaded and nothing else set up,
 * under the name @name (a name the cases' full names keep).
 */
#define EP_LOADED_FIXTURE(name)						\
	FIXTURE(name) {							\
		int dummy;						\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		if (ep_ensure_loaded())					\
			SKIP(return, "ephport is not loaded and cannot be"); \
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
	}

/*
 * The peaks asserted here are exact while one CPU does a namespace's
 * binds and releases; with several, the module documents a bound of
 * EPHPORT_FOLD - 1 ports per other CPU, which KUnit checks
 * (ephport_ports_many_cpus_test). So the suite runs on one CPU, its
 * forked tests included.
 */
static void __attribute__((constructor)) one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

#endif /* EPHPORT_OBSERVE_H */
