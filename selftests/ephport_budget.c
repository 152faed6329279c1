// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_budget: what a user who makes many namespaces can cost the
 * host is bounded by the host, not by the number of namespaces.
 *
 *  - messages: many namespaces (1,000; 60 on the debug kernel), each
 *    with a one-port range and one UDP socket, toggle their alarm twice
 *    (autobind the port: 100 % in use; disconnect: 0 %). Every alarm
 *    moves (a sample of them reads 1, then 0), yet the kernel log gets
 *    at most the host's budget: 20 changes every 5 s from all
 *    namespaces together (each one or two lines), plus the ratelimit's
 *    note of what it suppressed, counted in /dev/kmsg over the window.
 *    Each namespace alone may log 10 in 5 s: without the host's budget
 *    the window holds thousands.
 *  - dest_creation: namespaces in alarm with alarm_basis=dest, whose
 *    destinations the module walks once a second (over the host's whole
 *    established hash, here with thousands of connections), do not slow
 *    the creation nor the teardown of other namespaces: both are timed
 *    with alarm_basis=ports and dest, interleaved, three rounds each,
 *    and the dest rounds' median must stay within twice the ports
 *    rounds' plus 0.25 s (the emulator's noise). Walks made under the
 *    lock that creation and teardown take (200 walks of 15-30 ms
 *    each round here) hold them back for seconds.
 *  - wide_range: random mode over 1-65535 works (2,000 distinct ports
 *    within the delay, and with 1-65400 reserved, once each free port
 *    rests, the LRU choice over the whole range gives the one released
 *    first), and a read of /proc/net/ephport there costs about what it
 *    costs in a 64-port namespace: at most twice the median, plus
 *    0.5 ms (medians of 15 batches of 10 reads, interleaved).
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <poll.h>

#include "kselftest_harness.h"
#include "ephport_test.h"

/* The host's budget: ABI's alarm_pct, "20 changes in 5 s". */
#define SAY_BURST	20
#define SAY_SECS	5

/* /dev/kmsg, past what is in it now: the records written from now on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The records since kmsg_open() that hold @what and those that hold
 * @note; *lost: records overwritten before they were read (EPIPE).
 */
static void kmsg_count(int fd, const char *what, const char *note,
		       long *n_what, long *n_note, long *lost)
{
	char rec[8192];
	ssize_t r;

	*n_what = *n_note = *lost = 0;
	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE) {
			(*lost)++;
			continue;
		}
		if (r <= 0)
			break;
		rec[r] = '\0';
		*n_what += !!strstr(rec, what);
		*n_note += !!strstr(rec, note);
	}
}

/* A namespace's alarm file, 0 or 1; -1 if it cannot be read. */
static long ns_alarm(unsigned long inum)
{
	return ep_netval(inum, "alarm");
}

/* Waits up to 5 s for @n sampled namespaces' alarms to read @want. */
static int alarms_read(const unsigned long *inum, int n, int step, long want)
{
	int i, tries;

	for (i = 0; i < n; i += step) {
		for (tries = 0; tries < 500 && ns_alarm(inum[i]) != want;
		     tries++)
			usleep(10000);
		if (ns_alarm(inum[i]) != want)
			return -1;
	}
	return 0;
}

/* connect(): the UDP socket autobinds its namespace's one port. */
static int udp_take(int fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(9),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	/* With lo down the route fails, after the autobind. */
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	return ep_local_port(fd);
}

/* connect(AF_UNSPEC): an autobound UDP socket lets go of its port. */
static int udp_drop(int fd)
{
	struct sockaddr a = { .sa_family = AF_UNSPEC };

	connect(fd, &a, sizeof(a));
	return ep_local_port(fd);
}

/* The namespaces' count back to @n (teardowns done); seconds, or -1. */
static double netns_back_to(long n, double t0)
{
	int i;

	for (i = 0; i < 6000; i++) {
		if (ep_readl(EP_SYSFS "/netns") <= n)
			return ep_now() - t0;
		usleep(5000);
	}
	return -1;
}

FIXTURE(budget) {
	int home;
	long netns0;
	char pct[16], basis[16];
};

FIXTURE_SETUP(budget)
{
	struct rlimit nofile = { 16384, 16384 };

	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &nofile)) TH_LOG("16384 files");
	self->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->home);
	ASSERT_EQ(0, ep_read(EP_SYSFS "/alarm_pct", self->pct,
			     sizeof(self->pct)));
	ASSERT_EQ(0, ep_read(EP_SYSFS "/alarm_basis", self->basis,
			     sizeof(self->basis)));
	self->netns0 = ep_readl(EP_SYSFS "/netns");
}

FIXTURE_TEARDOWN(budget)
{
	if (self->home >= 0) {
		setns(self->home, CLONE_NEWNET);
		close(self->home);
	}
	ep_write(EP_SYSFS "/alarm_pct", self->pct);
	ep_write(EP_SYSFS "/alarm_basis", self->basis);
	ep_write(EP_SYSFS "/mode", "observe");
}

TEST_F_TIMEOUT(budget, messages, 600)
{
	long n = ep_figure("EPHPORT_BUDGET_NS", 1000, 60);
	long msgs, notes, lost, bound, msgs0 = 0, notes0 = 0, lost0 = 0;
	unsigned long *inum;
	int *fd, kfd, i, round, tries, step = n / 20;
	double t0, t_made, w;

	fd = calloc(n, sizeof(*fd));
	inum = calloc(n, sizeof(*inum));
	ASSERT_TRUE(fd && inum);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	t0 = ep_now();
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("namespace %d", i);
		ASSERT_EQ(0, ep_set_range(40000, 40000)) TH_LOG("one port");
		inum[i] = ep_inum();
		/* The socket keeps its namespace. */
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_LE(0, fd[i]) TH_LOG("socket %d", i);
	}
	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	t_made = ep_now();
	TH_LOG("%ld namespaces made in %.1f s", n, t_made - t0);

	kfd = kmsg_open();
	ASSERT_LE(0, kfd) TH_LOG("/dev/kmsg");
	t0 = ep_now();
	for (round = 0; round < 2; round++) {
		for (i = 0; i < n; i++)
			ASSERT_EQ(40000, udp_take(fd[i])) TH_LOG("autobind %d", i);
		ASSERT_EQ(0, alarms_read(inum, n, step, 1))
			TH_LOG("round %d: every alarm on (a sample of 20)", round);
		/*
		 * The work speaks only of an alarm it finds on: once, wait
		 * (up to 10 s) until it did, so that some alarm is seen on
		 * however fast the namespaces toggle.
		 */
		for (tries = 0; !round && !msgs0 && tries < 100; tries++) {
			usleep(100000);
			kmsg_count(kfd, "ephemeral ports", "callbacks suppressed",
				   &msgs, &notes, &lost);
			msgs0 += msgs;
			notes0 += notes;
			lost0 += lost;
		}
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, udp_drop(fd[i])) TH_LOG("disconnect %d", i);
		ASSERT_EQ(0, alarms_read(inum, n, step, 0))
			TH_LOG("round %d: every alarm off (a sample of 20)", round);
	}
	/* The work's last round has spoken. */
	usleep(500000);
	kmsg_count(kfd, "ephemeral ports", "callbacks suppressed", &msgs,
		   &notes, &lost);
	msgs += msgs0;
	notes += notes0;
	lost += lost0;
	w = ep_now() - t0;
	close(kfd);
	/* Intervals the window touches, each with a burst of 1-2 lines. */
	bound = 2 * SAY_BURST * ((long)(w / SAY_SECS) + 2);
	TH_LOG("%ld namespaces toggled their alarm 4 times (%ld changes) in %.1f s: %ld messages, %ld suppression notes, %ld lost; host budget %ld lines",
	       n, 4 * n, w, msgs, notes, lost, bound);
	ASSERT_EQ(0, lost) TH_LOG("the log did not overflow");
	ASSERT_LT(0, msgs) TH_LOG("alarm changes are logged");
	ASSERT_GE(bound, msgs) TH_LOG("within the host's budget");
	ASSERT_GE((long)(w / SAY_SECS) + 2, notes)
		TH_LOG("one suppression note per interval at most");

	t0 = ep_now();
	for (i = 0; i < n; i++)
		close(fd[i]);
	ASSERT_LE(0, netns_back_to(self->netns0, t0)) TH_LOG("torn down");
	TH_LOG("torn down in %.1f s", ep_now() - t0);
	free(fd);
	free(inum);
}

/* ---- dest_creation ---- */

#define CONN_LO		40000		/* the crowd's range */
#define CONN_HI		47999

/* @n loopback connections in this namespace; their fds in @fds (3 each). */
static int connections(int *fds, int n, int lo, int port)
{
	int lfd, i;

	lfd = ep_listener(AF_INET, port);
	if (lfd < 0)
		return lfd;
	fds[0] = lfd;
	for (i = 0; i < n; i++) {
		fds[1 + 2 * i] = ep_connect(AF_INET, port);
		if (fds[1 + 2 * i] < 0)
			return -1;
		fds[2 + 2 * i] = accept(lfd, NULL, NULL);
		if (fds[2 + 2 * i] < 0)
			return -1;
	}
	return 0;
}

/*
 * @n namespaces made (each kept by an open file) and closed again:
 * seconds to make them in *made, to see their teardown done in *gone.
 */
static int make_and_drop(int home, int n, long netns0, double *made,
			 double *gone)
{
	int *keep = calloc(n, sizeof(*keep)), i;
	double t0 = ep_now();

	if (!keep)
		return -1;
	for (i = 0; i < n; i++) {
		if (unshare(CLONE_NEWNET))
			return -1;
		keep[i] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (keep[i] < 0)
			return -1;
	}
	*made = ep_now() - t0;
	if (setns(home, CLONE_NEWNET))
		return -1;
	t0 = ep_now();
	for (i = 0; i < n; i++)
		close(keep[i]);
	free(keep);
	*gone = netns_back_to(netns0, t0);
	return *gone < 0 ? -1 : 0;
}

/* A read of /proc/net/ephport_dests in namespace @ns: seconds, or -1. */
static double dests_read(int ns, int home)
{
	char buf[8192];
	double t;
	int fd;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	t = ep_now();
	fd = open("/proc/self/net/ephport_dests", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		t = -1;
	else
		t = ep_now() - t;
	if (fd >= 0)
		close(fd);
	return setns(home, CLONE_NEWNET) ? -1 : t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define ROUNDS	3	/* of each basis, interleaved */

TEST_F_TIMEOUT(budget, dest_creation, 900)
{
	long conns = ep_figure("EPHPORT_BUDGET_CONNS", 4000, 500);
	long nalarm = ep_figure("EPHPORT_BUDGET_ALARM", 200, 40);
	long nmake = ep_figure("EPHPORT_BUDGET_MAKE", 60, 10);
	double made[2][ROUNDS], gone[2][ROUNDS], walk;
	const char *bases[2] = { "ports", "dest" };
	int *crowd, *alarmed, i, round, b, crowd_ns;
	unsigned long *inum;
	long netns_base;

	crowd = calloc(1 + 2 * conns, sizeof(*crowd));
	alarmed = calloc(3 * nalarm, sizeof(*alarmed));
	inum = calloc(nalarm, sizeof(*inum));
	ASSERT_TRUE(crowd && alarmed && inum);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", "ports"));

	/* Thousands of sockets in the host's established hash. */
	ASSERT_EQ(0, ep_new_netns(CONN_LO, CONN_HI));
	crowd_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, crowd_ns);
	ASSERT_EQ(0, connections(crowd, conns, CONN_LO, EP_SERVER_PORT))
		TH_LOG("%ld connections", conns);
	/* Namespaces in alarm: one port, held by one connection. */
	for (i = 0; i < nalarm; i++) {
		ASSERT_EQ(0, ep_new_netns(40000, 40000)) TH_LOG("namespace %d", i);
		inum[i] = ep_inum();
		ASSERT_EQ(0, connections(alarmed + 3 * i, 1, 40000,
					 EP_SERVER_PORT));
	}
	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	netns_base = ep_readl(EP_SYSFS "/netns");
	ASSERT_EQ(1, ns_alarm(inum[0])) TH_LOG("in alarm by its ports");
	walk = dests_read(crowd_ns, self->home);
	ASSERT_LT(0, walk) TH_LOG("a walk of the destinations");

	for (round = 0; round < 2 * ROUNDS; round++) {
		b = round % 2;
		ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", bases[b]));
		/* In alarm by their destination too: walked. */
		if (b)
			ASSERT_EQ(0, alarms_read(inum, nalarm, 1, 1));
		/* The work's rounds (or none) are under way. */
		sleep(1);
		ASSERT_EQ(0, make_and_drop(self->home, nmake, netns_base,
					   &made[b][round / 2],
					   &gone[b][round / 2]))
			TH_LOG("round %d", round);
		TH_LOG("alarm_basis %s: %ld namespaces made in %.3f s, torn down in %.3f s",
		       bases[b], nmake, made[b][round / 2], gone[b][round / 2]);
	}
	for (b = 0; b < 2; b++) {
		qsort(made[b], ROUNDS, sizeof(double), cmp_double);
		qsort(gone[b], ROUNDS, sizeof(double), cmp_double);
	}
	TH_LOG("%ld namespaces in alarm, %ld connections (one walk %.1f ms): medians made in %.3f s (ports) / %.3f s (dest), torn down in %.3f / %.3f s",
	       nalarm, conns, walk * 1e3, made[0][ROUNDS / 2],
	       made[1][ROUNDS / 2], gone[0][ROUNDS / 2], gone[1][ROUNDS / 2]);
	ASSERT_GE(2 * made[0][ROUNDS / 2] + 0.25, made[1][ROUNDS / 2])
		TH_LOG("the walks do not slow a namespace's creation");
	ASSERT_GE(2 * gone[0][ROUNDS / 2] + 0.25, gone[1][ROUNDS / 2])
		TH_LOG("nor its teardown");

	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", "ports"));
	for (i = 0; i < 3 * nalarm; i++)
		ep_close_now(alarmed[i]);
	for (i = 0; i < 1 + 2 * conns; i++)
		ep_close_now(crowd[i]);
	close(crowd_ns);
	free(crowd);
	free(alarmed);
	free(inum);
}

/* ---- wide_range ---- */

#define WIDE_FIRST	2000	/* ports bound and released over 1-65535 */
#define WIDE_FREE_LO	65401	/* with 1-65400 reserved: 135 free ports */
#define READS		15

#define BATCH		10	/* reads timed together: coarse clocks */

/* @BATCH reads of /proc/net/ephport in namespace @ns: seconds each, or -1. */
static double proc_read(int ns, int home)
{
	char buf[8192];
	double t;
	int fd, i;
	ssize_t len = 1;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	t = ep_now();
	for (i = 0; i < BATCH && len > 0; i++) {
		fd = open("/proc/self/net/ephport", O_RDONLY | O_CLOEXEC);
		len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		if (fd >= 0)
			close(fd);
	}
	t = len > 0 ? (ep_now() - t) / BATCH : -1;
	return setns(home, CLONE_NEWNET) ? -1 : t;
}

TEST_F_TIMEOUT(budget, wide_range, 600)
{
	double small_t[READS], wide_t[READS], small, wide;
	unsigned char *seen = calloc(65536, 1);
	int *order = calloc(WIDE_FIRST + 200, sizeof(int));
	int small_ns, wide_ns, i, p, n = 0, lru_port = -1, want = -1;
	long lru0;

	ASSERT_TRUE(seen && order);
	/* A namespace in random mode with 64 ports, 20 of them resting. */
	EP_ASSERT_RANDOM(ep_setup_ns(40000, 40063, "random", 600000));
	small_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, small_ns);
	for (i = 0; i < 20; i++)
		ASSERT_LE(40000, ep_bind0_close(AF_INET, SOCK_STREAM));

	/* One with 1-65535. */
	ASSERT_EQ(0, ep_enter_netns());
	wide_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, wide_ns);
	ASSERT_EQ(0, ep_write("/proc/sys/net/ipv4/ip_unprivileged_port_start",
			      "1"));
	ASSERT_EQ(0, ep_set_range(1, 65535)) TH_LOG("range 1-65535");
	EP_ASSERT_RANDOM(ep_set_ns("random", 600000));
	for (i = 0; i < WIDE_FIRST; i++) {
		p = ep_bind0_close(AF_INET, SOCK_STREAM);
		ASSERT_LE(1, p) TH_LOG("bind %d", i);
		ASSERT_EQ(0, seen[p]) TH_LOG("port %d again within the delay", p);
		seen[p] = 1;
		order[n++] = p;
	}
	ASSERT_EQ(WIDE_FIRST, ep_nsval("resting"));
	ASSERT_EQ(WIDE_FIRST, ep_nsval("random_ok"));

	/* Reads there cost what they cost in 64 ports. */
	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	for (i = 0; i < READS; i++) {
		small_t[i] = proc_read(small_ns, self->home);
		wide_t[i] = proc_read(wide_ns, self->home);
		ASSERT_LE(0, small_t[i]);
		ASSERT_LE(0, wide_t[i]);
	}
	qsort(small_t, READS, sizeof(double), cmp_double);
	qsort(wide_t, READS, sizeof(double), cmp_double);
	small = small_t[READS / 2];
	wide = wide_t[READS / 2];
	TH_LOG("/proc/net/ephport, median of %d batches of %d reads: %.0f us a read with 64 ports, %.0f us with 1-65535 and %d resting",
	       READS, BATCH, small * 1e6, wide * 1e6, WIDE_FIRST);
	ASSERT_GE(2 * small + 0.5e-3, wide) TH_LOG("a read does not sweep the range");

	/*
	 * Only 65401-65535 free: once each rests, the LRU choice looks at
	 * every word of the range and gives the one released first.
	 */
	ASSERT_EQ(0, setns(wide_ns, CLONE_NEWNET));
	ASSERT_EQ(0, ep_write("/proc/sys/net/ipv4/ip_local_reserved_ports",
			      "1-65400"));
	lru0 = ep_nsval("random_lru");
	for (i = 0; i < 200 && lru_port < 0; i++) {
		p = ep_bind0_close(AF_INET, SOCK_STREAM);
		ASSERT_LE(WIDE_FREE_LO, p) TH_LOG("bind %d: %d", i, p);
		if (ep_nsval("random_lru") > lru0) {
			lru_port = p;
			break;
		}
		ASSERT_EQ(0, seen[p]) TH_LOG("port %d again before the LRU", p);
		seen[p] = 1;
		order[n++] = p;
	}
	for (i = 0; i < n && want < 0; i++)
		if (order[i] >= WIDE_FREE_LO)
			want = order[i];
	TH_LOG("every free port of 65401-65535 rests after %d binds: the LRU choice gives %d, released first %d",
	       n - WIDE_FIRST, lru_port, want);
	ASSERT_LE(0, lru_port) TH_LOG("the LRU choice came");
	ASSERT_EQ(want, lru_port) TH_LOG("the port released first");
	ASSERT_EQ(0, ep_nsval("random_fallback")) TH_LOG("the kernel never chose");

	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	close(small_ns);
	close(wide_ns);
	free(seen);
	free(order);
}

TEST_HARNESS_MAIN
