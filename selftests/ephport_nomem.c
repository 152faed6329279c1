// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_nomem: a namespace whose state cannot get memory is made all
 * the same.
 *
 * The kernel's fault injection fails the n-th allocation that ephport's
 * code makes in the task creating a namespace: failslab, its stack-trace
 * filter set to the module's addresses, and /proc/thread-self/fail-nth.
 * For n = 1, 2, ... until creating a namespace makes no allocation fail,
 * each allocation of the namespace's state and of its files (sysfs
 * directory, net.ephport sysctls, /proc/net/ephport) fails in turn, and
 * each time:
 *  - unshare(CLONE_NEWNET) succeeds and the namespace works: lo comes up,
 *    two connect()s fill a 2-port range (the third fails as it would
 *    without ephport), a UDP autobind succeeds;
 *  - ephport counts it exactly (tcp_in_use 2, udp_in_use 1, 2 connects
 *    and 1 failure, alarm on at 90 %) in whichever of its files exist,
 *    or has no files for it;
 *  - some failure leaves the namespace without ephport's state (no files
 *    at all) and some with part of its files: the hard cases are met,
 *    not assumed;
 *  - once the namespaces are gone, the count of tracked namespaces is
 *    no higher than before: nothing was counted twice or left behind.
 * On the KASAN/kmemleak kernel each unwinding path is checked as it runs,
 * and the end-of-run scan finds any leak.
 *
 * Needs CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_STACKTRACE_FILTER (the
 * debug kernel of make check); without them the case reports SKIP.
 */
#define _GNU_SOURCE
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define FAILSLAB "/sys/kernel/debug/failslab"
#define FAIL_NTH "/proc/thread-self/fail-nth"
#define MAX_NTH 400		/* far more than a namespace's allocations */
#define LO 40000

/* What a child saw in the namespace it created with the n-th failing. */
struct outcome {
	int unshare_err;	/* 0 or errno */
	int injected;		/* the n-th allocation was reached and failed */
	int traffic_err;	/* 0, or what failed: see child() */
	int proc;		/* /proc/net/ephport exists */
	int sysfs;		/* its sysfs directory exists */
	long proc_tcp, proc_udp, proc_alarm, proc_ok, proc_fail;
	long sysfs_tcp, sysfs_udp;
};

static const char *const knobs[] = {
	"ignore-gfp-wait", "verbose", "require-start", "require-end",
};

struct saved {
	char val[ARRAY_SIZE(knobs)][64];
	int n;
};

static int knob_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAILSLAB "/%s", name);
	return ep_write(path, val);
}

static void knobs_restore(struct saved *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		knob_write(knobs[i], s->val[i]);
}

/* ephport's module image, [start, end): from /proc/modules. */
static int module_range(unsigned long *start, unsigned long *end)
{
	char line[512];
	unsigned long size, addr;
	FILE *f = fopen("/proc/modules", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "ephport ", 8))
			continue;
		if (sscanf(line, "ephport %lu %*d %*s %*s %lx", &size, &addr) == 2 &&
		    addr) {
			*start = addr;
			*end = addr + size;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

/*
 * Create a namespace with ephport's @nth allocation failing, use it, and
 * write what was seen to @out. traffic_err: 1 lo, 2 range, 3 listener,
 * 4/5 the two connect()s, 6 the third did not fail with EADDRNOTAVAIL,
 * 7 UDP autobind.
 */
static void child(int nth, struct outcome *out)
{
	char buf[32];
	int fds[3], lst, u, left;

	snprintf(buf, sizeof(buf), "%d", nth);
	if (ep_write(FAIL_NTH, buf)) {
		out->unshare_err = -1;
		return;
	}
	out->unshare_err = unshare(CLONE_NEWNET) ? errno : 0;
	/* Counts down on each allocation it may fail; 0 once one failed. */
	left = ep_readl(FAIL_NTH);
	ep_write(FAIL_NTH, "0");
	out->injected = left == 0;
	if (out->unshare_err)
		return;

	if (ep_lo_up()) {
		out->traffic_err = 1;
		return;
	}
	if (ep_set_range(LO, LO + 1)) {
		out->traffic_err = 2;
		return;
	}
	lst = ep_listener(AF_INET, EP_SERVER_PORT);
	if (lst < 0) {
		out->traffic_err = 3;
		return;
	}
	fds[0] = ep_connect(AF_INET, EP_SERVER_PORT);
	if (fds[0] < 0) {
		out->traffic_err = 4;
		return;
	}
	fds[1] = ep_connect(AF_INET, EP_SERVER_PORT);
	if (fds[1] < 0) {
		out->traffic_err = 5;
		return;
	}
	fds[2] = ep_connect(AF_INET, EP_SERVER_PORT);
	if (fds[2] != -EADDRNOTAVAIL) {
		out->traffic_err = 6;
		return;
	}
	u = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
	if (u < 0) {
		out->traffic_err = 7;
		return;
	}
	out->proc = ep_exists("/proc/net/ephport");
	out->sysfs = ep_exists(EP_SYSFS "/net") &&
		     ep_nsval("tcp_in_use") >= 0;
	out->proc_tcp = ep_procval("tcp_in_use");
	out->proc_udp = ep_procval("udp_in_use");
	out->proc_alarm = ep_procval("alarm");
	out->proc_ok = ep_procval("tcp_connect_ok");
	out->proc_fail = ep_procval("tcp_connect_fail");
	out->sysfs_tcp = ep_nsval("tcp_in_use");
	out->sysfs_udp = ep_nsval("udp_in_use");
}

/* Run child() in a process of its own; 0, or -1 if it died. */
static int run_child(int nth, struct outcome *out)
{
	struct outcome *shared;
	int status;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	memset(shared, 0, sizeof(*shared));
	pid = fork();
	if (pid < 0) {
		munmap(shared, sizeof(*shared));
		return -1;
	}
	if (!pid) {
		child(nth, shared);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		munmap(shared, sizeof(*shared));
		return -1;
	}
	*out = *shared;
	munmap(shared, sizeof(*shared));
	return 0;
}

FIXTURE(nomem) {
	struct saved saved;
};

FIXTURE_SETUP(nomem)
{
	char start[32], end[32];
	unsigned long a = 0, b = 0;
	int i;

	self->saved.n = 0;
	if (!ep_exists(FAILSLAB))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (!ep_exists(FAILSLAB "/require-start") || !ep_exists(FAIL_NTH))
		SKIP(return,
		     "no failslab with a stack-trace filter (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)");
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, module_range(&a, &b)) TH_LOG("ephport's address in /proc/modules");
	for (i = 0; i < (int)ARRAY_SIZE(knobs); i++) {
		char path[128];

		snprintf(path, sizeof(path), FAILSLAB "/%s", knobs[i]);
		ASSERT_EQ(0, ep_read(path, self->saved.val[i],
				     sizeof(self->saved.val[i])))
			TH_LOG("read %s", path);
		self->saved.n++;
	}
	snprintf(start, sizeof(start), "%lu", a);
	snprintf(end, sizeof(end), "%lu", b);
	/* ephport sleeps to allocate; quiet, the failures are expected. */
	ASSERT_EQ(0, knob_write("ignore-gfp-wait", "N"));
	ASSERT_EQ(0, knob_write("verbose", "0"));
	ASSERT_EQ(0, knob_write("require-start", start));
	ASSERT_EQ(0, knob_write("require-end", end));
}

FIXTURE_TEARDOWN(nomem)
{
	knobs_restore(&self->saved);
}

TEST_F_TIMEOUT(nomem, every_allocation_of_a_new_namespace, 600)
{
	int nth, injected = 0, bare = 0, partial = 0, i;
	struct outcome o;
	long base, now;

	/* Namespaces an earlier test left are still going: wait for them. */
	base = ep_readl(EP_SYSFS "/netns");
	for (i = 0; i < 40; i++) {
		usleep(500000);
		now = ep_readl(EP_SYSFS "/netns");
		if (now == base)
			break;
		base = now;
	}
	ASSERT_LT(0, base) TH_LOG("netns count");
	for (nth = 1; nth <= MAX_NTH; nth++) {
		memset(&o, 0, sizeof(o));
		ASSERT_EQ(0, run_child(nth, &o)) TH_LOG("n=%d: the child died", nth);
		ASSERT_EQ(0, o.unshare_err)
			TH_LOG("n=%d: unshare(CLONE_NEWNET): %s", nth,
			       o.unshare_err < 0 ? "cannot arm fail-nth" :
			       strerror(o.unshare_err));
		ASSERT_EQ(0, o.traffic_err)
			TH_LOG("n=%d: the namespace does not work (step %d)",
			       nth, o.traffic_err);
		if (o.proc) {
			ASSERT_EQ(2, o.proc_tcp) TH_LOG("n=%d: tcp_in_use", nth);
			ASSERT_EQ(1, o.proc_udp) TH_LOG("n=%d: udp_in_use", nth);
			ASSERT_EQ(1, o.proc_alarm) TH_LOG("n=%d: alarm", nth);
			ASSERT_EQ(2, o.proc_ok) TH_LOG("n=%d: tcp_connect_ok", nth);
			ASSERT_EQ(1, o.proc_fail) TH_LOG("n=%d: tcp_connect_fail", nth);
		}
		if (o.sysfs) {
			ASSERT_EQ(2, o.sysfs_tcp) TH_LOG("n=%d: sysfs tcp_in_use", nth);
			ASSERT_EQ(1, o.sysfs_udp) TH_LOG("n=%d: sysfs udp_in_use", nth);
		}
		if (!o.injected)
			break;
		injected++;
		if (!o.proc && !o.sysfs)
			bare++;
		else if (!o.proc || !o.sysfs)
			partial++;
	}
	TH_LOG("%d allocations of ephport's failed in turn: %d namespaces without its state or files, %d with some of its files",
	       injected, bare, partial);
	ASSERT_GE(MAX_NTH, nth) TH_LOG("a namespace made no allocation succeed");
	ASSERT_TRUE(o.proc && o.sysfs)
		TH_LOG("nothing failed, yet files are missing");
	ASSERT_LT(0, bare) TH_LOG("no failure left a namespace without state");
	ASSERT_LT(0, partial) TH_LOG("no failure hit a file's allocation");

	/* The namespaces leave asynchronously (KASAN: slowly). */
	for (i = 0; i < 1200 && ep_readl(EP_SYSFS "/netns") > base; i++)
		usleep(50000);
	ASSERT_GE(base, ep_readl(EP_SYSFS "/netns"))
		TH_LOG("namespaces tracked after they are gone (%ld before)", base);
}

TEST_HARNESS_MAIN
