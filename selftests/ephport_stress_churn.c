// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_stress_churn: namespaces created and destroyed with traffic
 * while readers read every per-namespace file, and files of namespaces
 * that are going away: ephport forgets every namespace and its memory.
 *
 * Figures (Debian's kernels, then the KASAN kernel, where everything is
 * several times slower; the variable sets it):
 *   EPHPORT_NETNS    namespaces of the churn           500 (debug 20)
 * A namespace costs 1.8 s on the KASAN kernel. The test prints the
 * figures it used.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

/* ---- namespace churn with readers ---- */

#define RING 64

struct churn {
	volatile int stop;
	volatile unsigned long ring[RING];	/* recent namespaces' inums */
	volatile unsigned long head;
	long made[2];
	long reads_ok[2], reads_err[2];
	long dead_ok, dead_err;		/* files read after their namespace went */
	int last_err;
	long failed_ops;
};

/* Every file of a namespace's directory in /sys/kernel/ephport/net. */
static const char *const ns_files[] = {
	"range", "tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
#define EPHPORT_OBSERVE_COUNTER(id, name) #name,
#define EPHPORT_RANDOM_COUNTER(id, name) #name,
#include "../module/ephport_counters.h"
	"search_ns", "search_ns_sum", "alarm", "mode", "reuse_delay_ms", "resting",
};
#define NS_NFILES ARRAY_SIZE(ns_files)

static int read_fd_again(int fd)
{
	char buf[2048];

	return pread(fd, buf, sizeof(buf), 0) < 0 ? -errno : 0;
}

/* Makes @count namespaces one after another, each with a little traffic. */
static void churner(struct churn *ch, int idx, long count)
{
	int held[NS_NFILES + 1];
	long n;
	unsigned int i;

	for (i = 0; i <= NS_NFILES; i++)
		held[i] = -1;
	for (n = 0; n < count; n++) {
		char path[128];
		int lfd, fd;

		if (ep_new_netns(40000, 40099)) {
			ch->failed_ops++;
			continue;
		}
		/* The previous namespace is going away: read its files. */
		for (i = 0; i <= NS_NFILES; i++) {
			if (held[i] < 0)
				continue;
			if (read_fd_again(held[i]))
				ch->dead_err++;
			else
				ch->dead_ok++;
			close(held[i]);
			held[i] = -1;
		}
		ch->ring[__atomic_fetch_add(&ch->head, 1, __ATOMIC_RELAXED) % RING] =
			ep_inum();
		lfd = ep_listener(AF_INET, EP_SERVER_PORT);
		fd = ep_connect(AF_INET, EP_SERVER_PORT);
		if (lfd < 0 || fd < 0)
			ch->failed_ops++;
		if (fd >= 0)
			ep_close_now(fd);
		if (lfd >= 0)
			close(lfd);
		fd = ep_udp_autobind(AF_INET6, EP_SERVER_PORT);
		if (fd < 0)
			ch->failed_ops++;
		else
			close(fd);
		for (i = 0; i < NS_NFILES; i++) {
			snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/%s",
				 ep_inum(), ns_files[i]);
			held[i] = open(path, O_RDONLY);
		}
		held[NS_NFILES] = open("/proc/self/net/ephport", O_RDONLY);
		ch->made[idx]++;
	}
	for (i = 0; i <= NS_NFILES; i++)
		if (held[i] >= 0)
			close(held[i]);
	_exit(0);
}

static void read_one(struct churn *ch, int idx, const char *path)
{
	char buf[2048];
	int err = ep_read(path, buf, sizeof(buf));

	if (err) {
		ch->reads_err[idx]++;
		ch->last_err = -err;
	} else {
		ch->reads_ok[idx]++;
	}
}

/* Reads every file of every namespace directory, and recent ones by name. */
static void reader(struct churn *ch, int idx)
{
	char path[320];
	unsigned int i, r;

	while (!ch->stop) {
		DIR *d = opendir(EP_SYSFS "/net");
		struct dirent *de;

		while (d && (de = readdir(d)) && !ch->stop) {
			if (de->d_name[0] == '.')
				continue;
			for (i = 0; i < NS_NFILES; i++) {
				snprintf(path, sizeof(path), EP_SYSFS "/net/%s/%s",
					 de->d_name, ns_files[i]);
				read_one(ch, idx, path);
			}
		}
		if (d)
			closedir(d);
		for (r = 0; r < RING; r++) {
			snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/tcp_in_use",
				 ch->ring[r]);
			read_one(ch, idx, path);
		}
		read_one(ch, idx, EP_SYSFS "/netns");
		read_one(ch, idx, EP_SYSFS "/probes");
	}
	_exit(0);
}


/* Waits until ephport tracks @want namespaces again; the count it saw. */
static long wait_netns(long want, double seconds)
{
	double until = ep_now() + seconds;
	long n;

	while ((n = ep_readl(EP_SYSFS "/netns")) != want && ep_now() < until)
		usleep(50000);
	return n;
}

FIXTURE(churn) {
	struct churn *ch;
};

FIXTURE_SETUP(churn)
{
	void *p;

	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	p = mmap(NULL, sizeof(struct churn), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->ch = p;
}

FIXTURE_TEARDOWN(churn)
{
	munmap(self->ch, sizeof(*self->ch));
}

TEST_F_TIMEOUT(churn, namespaces_with_readers, 280)
{
	long count = ep_figure("EPHPORT_NETNS", 500, 20);
	struct churn *ch = self->ch;
	long base, after, dirs, slab0, slab1, slab_final;
	pid_t pids[4];
	double t0;
	int i;

	/* Start from a quiet point: earlier tests' namespaces are gone. */
	base = ep_readl(EP_SYSFS "/netns");
	for (i = 0; i < 50; i++) {
		usleep(200000);
		after = ep_readl(EP_SYSFS "/netns");
		if (after == base)
			break;
		base = after;
	}
	slab0 = ep_slab_active("kmalloc-8k");
	TH_LOG("figures: %ld namespaces by 2 creators, 2 readers; %ld tracked before, kmalloc-8k %ld objects",
	       count, base, slab0);

	t0 = ep_now();
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i])
			continue;
		if (i < 2)
			churner(ch, i, count / 2 + (i ? count % 2 : 0));
		reader(ch, i - 2);
	}
	for (i = 0; i < 2; i++)
		waitpid(pids[i], NULL, 0);
	ch->stop = 1;
	for (i = 2; i < 4; i++)
		waitpid(pids[i], NULL, 0);
	TH_LOG("%ld namespaces made in %.1f s; readers: %ld reads ok, %ld errors (last: %s)",
	       ch->made[0] + ch->made[1], ep_now() - t0,
	       ch->reads_ok[0] + ch->reads_ok[1],
	       ch->reads_err[0] + ch->reads_err[1],
	       ch->last_err ? strerror(ch->last_err) : "none");
	TH_LOG("files kept open across their namespace's end: %ld read, %ld errors",
	       ch->dead_ok, ch->dead_err);
	ASSERT_EQ(count, ch->made[0] + ch->made[1]) TH_LOG("every namespace made");
	ASSERT_EQ(0, ch->failed_ops) TH_LOG("socket calls that failed");
	ASSERT_LT(0, ch->reads_ok[0] + ch->reads_ok[1]) TH_LOG("readers read");

	after = wait_netns(base, 120);
	dirs = ep_dir_entries(EP_SYSFS "/net");
	TH_LOG("tracked after: %ld (before %ld), directories %ld, %.1f s in all",
	       after, base, dirs, ep_now() - t0);
	ASSERT_EQ(base, after) TH_LOG("every namespace forgotten");
	ASSERT_EQ(base, dirs) TH_LOG("every directory removed");

	/* Per-namespace memory: two 8 KiB bitmaps each, in kmalloc-8k. */
	slab1 = ep_slab_active("kmalloc-8k");
	for (i = 0; i < 20 && slab1 > slab0 + 16; i++) {
		usleep(250000);
		slab1 = ep_slab_active("kmalloc-8k");
	}
	slab_final = slab1 - slab0;
	TH_LOG("kmalloc-8k: %ld objects before, %ld after (%+ld; a leak would be about %ld)",
	       slab0, slab1, slab_final, 2 * count);
	if (ep_debug_kernel()) {
		/* KASAN's quarantine holds freed objects for a while. */
		TH_LOG("KASAN kernel: the quarantine keeps freed objects, so the count is only shown; kmemleak's end-of-run scan judges leaks");
	} else {
		ASSERT_LE(slab_final, 16 + count / 50)
			TH_LOG("per-namespace memory comes back");
	}
}

TEST_HARNESS_MAIN
