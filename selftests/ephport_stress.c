// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_stress: ephport under load.
 *
 *  - load/unload under traffic: cycles of load (observe, and random
 *    mode), unload, while 4 namespaces connect(),
 *    bind(0) and autobind UDP without pause: no socket call fails, and
 *    nothing of ephport remains after the last unload;
 *  - namespace churn: namespaces created and destroyed with traffic while
 *    readers read every per-namespace file, and files of namespaces that
 *    are going away: ephport forgets every namespace and its memory;
 *  - unload with readers: readers of /proc/net/ephport (random mode's
 *    part included) and of the sysfs files, freshly opened and held
 *    open, while the module loads and unloads: every read gives values
 *    or an error, never freed memory (the KASAN kernel would say), and
 *    a file held open across an unload reads as an error;
 *  - heavy load: 4 namespaces at full speed, the server resetting half of
 *    the connections (releases from softirq): no hook misses an event and
 *    every counter equals what the namespace did; in random mode the
 *    reuse delay holds as well.
 *
 * Figures (Debian's kernels, then the KASAN kernel, where everything is
 * several times slower; each can be set by its variable):
 *   EPHPORT_CYCLES   load/unload cycles, random mode   200 (debug 10)
 *                    the same in observe mode           20 (debug 5)
 *   EPHPORT_UNLOAD_CYCLES  the same with readers        20 (debug 5)
 *   EPHPORT_NETNS    namespaces of the churn           500 (debug 20)
 *   EPHPORT_OPS      rounds per heavy worker           400 (debug 60)
 * A cycle costs about 0.5 s under TCG on Debian's kernels and 2 s on the
 * KASAN kernel (most of it the kernel's grace periods at unload), a
 * namespace 1.8 s on the KASAN kernel. Every test prints the figures it
 * used.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include <cpuid.h>
#include "kselftest_harness.h"
#include "ephport_test.h"

#define NWORKERS	4
#define NPORTS		65536

enum { OP_CONNECT, OP_BIND, OP_UDP, NOPS };
static const char *const op_names[NOPS] = { "connect", "bind(0)", "udp autobind" };

/* One traffic worker, in a namespace of its own; shared with the parent. */
struct worker {
	volatile int ready, done, stop, release;
	volatile int pause, parked;	/* quiesce: wait between rounds */
	volatile long rounds;
	pid_t pid;
	unsigned long inum;
	long ok[NOPS], fail[NOPS];
	int last_errno[NOPS];
	long resets;		/* connect()s reset by the server first */
	long reuse_checked, reuse_violations;
	int violation_port;
	double violation_gap;
};

struct workers {
	struct worker w[NWORKERS];
	/* random mode: per worker, per protocol, when a port was last freed */
	double freed[NWORKERS][2][NPORTS];
};

struct worker_cfg {
	int lo, hi;		/* the namespace's range */
	long rounds;		/* 0: until told to stop */
	int random;		/* net.ephport.mode=random in the namespace */
	int delay_ms;		/* its reuse delay (random mode) */
};

static struct workers *workers_map(void)
{
	void *p = mmap(NULL, sizeof(struct workers), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The server of a worker: accepts on both listeners, resets every other. */
static void *acceptor(void *arg)
{
	int *lfd = arg;
	struct pollfd pfd[2] = {
		{ .fd = lfd[0], .events = POLLIN },
		{ .fd = lfd[1], .events = POLLIN },
	};
	unsigned long n = 0;
	int i;

	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		for (i = 0; i < 2; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept(lfd[i], NULL, NULL);
			if (fd < 0)
				continue;
			if (n++ % 2)
				ep_close_now(fd);
			else
				close(fd);
		}
	}
	return NULL;
}

/*
 * Random mode: a port handed out again must have rested delay_ms since
 * this worker freed it. Only a certain violation counts: the widest
 * possible interval (from before the free to after the new choice) is
 * still shorter than the delay.
 */
static void reuse_check(struct workers *ws, int idx, int proto, int port,
			double chosen_by, const struct worker_cfg *cfg)
{
	struct worker *w = &ws->w[idx];
	double freed = ws->freed[idx][proto][port];

	if (!cfg->random || port <= 0 || freed == 0)
		return;
	w->reuse_checked++;
	if ((chosen_by - freed) * 1000 < cfg->delay_ms) {
		w->reuse_violations++;
		w->violation_port = port;
		w->violation_gap = chosen_by - freed;
	}
}

/* @fd's port of @proto (0 TCP, 1 UDP): checked, then freed by close(). */
static void check_and_close(struct workers *ws, int idx, int proto, int fd,
			    const struct worker_cfg *cfg)
{
	int port = ep_local_port(fd);
	double t1;

	reuse_check(ws, idx, proto, port, ep_now(), cfg);
	t1 = ep_now();
	close(fd);
	if (port > 0)
		ws->freed[idx][proto][port] = t1;
}

static void note_op(struct worker *w, int op, int ret)
{
	if (ret >= 0) {
		w->ok[op]++;
	} else {
		w->fail[op]++;
		w->last_errno[op] = -ret;
	}
}

static void worker_run(struct workers *ws, int idx, const struct worker_cfg *cfg)
{
	struct worker *w = &ws->w[idx];
	pthread_t thr;
	int lfd[2];
	long round;
	char val[32];

	if (ep_new_netns(cfg->lo, cfg->hi))
		_exit(2);
	/* The loader and the readers come first; traffic fills the rest. */
	if (nice(19) < 0)
		_exit(6);
	if (cfg->random) {
		snprintf(val, sizeof(val), "%d", cfg->delay_ms);
		if (ep_write(EP_SYSCTL "/mode", "random") ||
		    ep_write(EP_SYSCTL "/reuse_delay_ms", val))
			_exit(3);
	}
	lfd[0] = ep_listener(AF_INET, EP_SERVER_PORT);
	lfd[1] = ep_listener(AF_INET6, EP_SERVER_PORT);
	if (lfd[0] < 0 || lfd[1] < 0)
		_exit(4);
	if (pthread_create(&thr, NULL, acceptor, lfd))
		_exit(5);
	w->pid = getpid();
	w->inum = ep_inum();
	w->ready = 1;

	for (round = 0; !w->stop && (!cfg->rounds || round < cfg->rounds); round++) {
		int family = round % 2 ? AF_INET6 : AF_INET;
		double t0, t1;
		int fd, port;

		while (w->pause && !w->stop) {
			w->parked = 1;
			usleep(1000);
		}
		w->parked = 0;
		w->rounds = round;

		t0 = ep_now();
		fd = ep_connect(family, EP_SERVER_PORT);
		/*
		 * The server resets every other connection, sometimes before
		 * connect() returns: the port was chosen, the call is fine.
		 */
		if (fd == -ECONNRESET) {
			w->resets++;
			fd = INT_MAX;
		}
		note_op(w, OP_CONNECT, fd);
		if (fd == INT_MAX)
			fd = -1;
		if (fd >= 0) {
			port = ep_local_port(fd);
			reuse_check(ws, idx, 0, port, ep_now(), cfg);
			if (round % 4 == 3) {
				close(fd);	/* TIME_WAIT: not freed now */
			} else {
				t1 = ep_now();
				ep_close_now(fd);
				if (port > 0)
					ws->freed[idx][0][port] = t1;
			}
		}
		(void)t0;

		fd = ep_bind0(family, SOCK_STREAM);
		note_op(w, OP_BIND, fd);
		if (fd >= 0)
			check_and_close(ws, idx, 0, fd, cfg);

		fd = ep_udp_autobind(family, EP_SERVER_PORT);
		note_op(w, OP_UDP, fd);
		if (fd >= 0)
			check_and_close(ws, idx, 1, fd, cfg);
	}
	w->done = 1;
	/* The namespace lives until the parent has read its values. */
	while (!w->release)
		usleep(10000);
	_exit(0);
}

/* Forks the workers and waits until each is in its namespace; 0 or -1. */
static int workers_start(struct workers *ws, const struct worker_cfg *cfg)
{
	double until = ep_now() + 60;
	int i;

	for (i = 0; i < NWORKERS; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (!pid)
			worker_run(ws, i, cfg);
		ws->w[i].pid = pid;
	}
	for (i = 0; i < NWORKERS; i++) {
		while (!ws->w[i].ready && ep_now() < until) {
			int status;

			if (waitpid(ws->w[i].pid, &status, WNOHANG) > 0)
				return -1;
			usleep(10000);
		}
		if (!ws->w[i].ready)
			return -1;
	}
	return 0;
}

static void workers_wait_done(struct workers *ws)
{
	int i;

	for (i = 0; i < NWORKERS; i++)
		while (!ws->w[i].done)
			usleep(10000);
}

static void workers_end(struct workers *ws)
{
	int i;

	for (i = 0; i < NWORKERS; i++) {
		ws->w[i].stop = 1;
		ws->w[i].release = 1;
	}
	for (i = 0; i < NWORKERS; i++)
		waitpid(ws->w[i].pid, NULL, 0);
}

/* A fixture's teardown: the workers end, their memory goes (NULL: none). */
static void workers_unmap(struct workers *ws)
{
	if (!ws)
		return;
	workers_end(ws);
	munmap(ws, sizeof(*ws));
}

/* The variants of a fixture of workers: observe mode and random mode. */
#define WORKERS_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) {					\
		int random;						\
	};								\
	FIXTURE_VARIANT_ADD(fixture, observe) { .random = 0 };		\
	FIXTURE_VARIANT_ADD(fixture, random) { .random = 1 }

/* Sums and prints what the workers did; returns the failed calls. */
static long workers_report(struct __test_metadata *_metadata,
			   struct workers *ws)
{
	long failed = 0;
	int i, op;

	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &ws->w[i];

		TH_LOG("namespace %lu: connect %ld ok (%ld reset early) %ld failed, bind(0) %ld/%ld, udp %ld/%ld",
		       w->inum, w->ok[OP_CONNECT], w->resets, w->fail[OP_CONNECT],
		       w->ok[OP_BIND], w->fail[OP_BIND], w->ok[OP_UDP],
		       w->fail[OP_UDP]);
		for (op = 0; op < NOPS; op++) {
			if (w->fail[op])
				TH_LOG("  %s failed %ld times, last with %s",
				       op_names[op], w->fail[op],
				       strerror(w->last_errno[op]));
			failed += w->fail[op];
		}
	}
	return failed;
}

/* Quiesce mode: every worker waits between two rounds; 0 or -1. */
static int workers_park(struct workers *ws)
{
	double until = ep_now() + 30;
	int i;

	for (i = 0; i < NWORKERS; i++)
		ws->w[i].pause = 1;
	for (i = 0; i < NWORKERS; i++)
		while (!ws->w[i].parked && ep_now() < until)
			usleep(1000);
	for (i = 0; i < NWORKERS; i++)
		if (!ws->w[i].parked)
			return -1;
	return 0;
}

/* Lets them go, and waits until each has made @rounds whole rounds. */
static void workers_unpark(struct workers *ws, int rounds)
{
	long start[NWORKERS];
	double until = ep_now() + 30;
	int i;

	for (i = 0; i < NWORKERS; i++) {
		start[i] = ws->w[i].rounds;
		ws->w[i].pause = 0;
	}
	for (i = 0; i < NWORKERS; i++)
		/* rounds is the round begun: +1 for a parked one's next */
		while (ws->w[i].rounds < start[i] + rounds + 1 && !ws->w[i].done &&
		       ep_now() < until)
			usleep(1000);
}

/* workers_park() if @quiesce (else nothing: 0), its time added to *@t_wait. */
static int workers_park_timed(struct workers *ws, int quiesce, double *t_wait)
{
	double t = ep_now();
	int err = quiesce ? workers_park(ws) : 0;

	*t_wait += ep_now() - t;
	return err;
}

/* ---- 2. load/unload under traffic ---- */

FIXTURE(cycles) {
	int was_loaded;
	struct workers *ws;
};

WORKERS_VARIANTS(cycles);

FIXTURE_SETUP(cycles)
{
	self->ws = NULL;
	self->was_loaded = ep_loaded();
	if (!ep_exists(ep_ko_path()))
		SKIP(return, "no %s", ep_ko_path());
	ASSERT_EQ(0, ep_loaded() ? ep_unload() : 0) TH_LOG("unload ephport first");
	self->ws = workers_map();
	ASSERT_NE(NULL, self->ws) TH_LOG("shared memory for the workers");
}

FIXTURE_TEARDOWN(cycles)
{
	workers_unmap(self->ws);
	if (self->was_loaded && !ep_loaded())
		ep_load(NULL);
}

/*
 * How the loads and unloads meet the traffic (EPHPORT_CYCLE_MODE):
 *  free     the traffic never stops: loads, unloads and mode switches land
 *           in the middle of connect(), bind() and close() calls;
 *  quiesce  the workers wait between two rounds while the module is loaded
 *           or unloaded, and run while it is loaded (the mode switch
 *           included): under QEMU TCG with a host thread per vCPU, a
 *           vCPU that runs a function while another live-patches its
 *           ftrace site hangs or kills the guest, with or without ephport
 *           (F1 in Documentation/hardening-test-findings.md);
 *  pinned   everything on CPU 0, the workers at nice 19.
 * The default is free, except under TCG with several CPUs online: quiesce.
 * make check runs this test in a one-vCPU VM, in free mode; two vCPUs that
 * one host thread emulates in turn (vm.sh --one-thread) run it in free
 * mode too, F1 not occurring there.
 */
static const char *cycle_mode(void)
{
	const char *how = getenv("EPHPORT_CYCLE_MODE");
	unsigned int eax, ebx, ecx, edx;
	char vendor[13] = "";

	if (how && *how)
		return how;
#if defined(__x86_64__) || defined(__i386__)
	/* The hypervisor's CPUID leaf names QEMU's emulator "TCGTCGTCGTCG". */
	__cpuid(0x40000000, eax, ebx, ecx, edx);
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &ecx, 4);
	memcpy(vendor + 8, &edx, 4);
#endif
	if (!strcmp(vendor, "TCGTCGTCGTCG") && sysconf(_SC_NPROCESSORS_ONLN) > 1)
		return "quiesce";
	return "free";
}

#define CYCLES_BUDGET 840	/* seconds: the harness kills the test at 900 */

TEST_F_TIMEOUT(cycles, load_unload_under_traffic, 900)
{
	struct worker_cfg cfg = { .lo = 20000, .hi = 59999 };
	long cycles = variant->random ? ep_figure("EPHPORT_CYCLES", 200, 10) :
					ep_figure("EPHPORT_CYCLES", 20, 5);
	const char *how = cycle_mode();
	char left[2048];
	double t0 = ep_now();
	double t_load = 0, t_unload = 0, t_wait = 0, t;
	long c, switched = 0;
	int i, err, quiesce;

	quiesce = !strcmp(how, "quiesce");
	TH_LOG("figures: %ld cycles, %d namespaces of traffic, %s, %s",
	       cycles, NWORKERS, variant->random ?
	       "random mode (mode=random at load, or written after it)" :
	       "observe mode", how);
	if (!strcmp(how, "pinned")) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one))
			TH_LOG("pin to CPU 0");
	}
	ASSERT_EQ(0, workers_start(self->ws, &cfg)) TH_LOG("start the workers");

	for (c = 0; c < cycles && ep_now() - t0 < CYCLES_BUDGET; c++) {
		const char *params = variant->random && c % 2 ? "mode=random" : NULL;
		char mode[32] = "";

		ASSERT_EQ(0, workers_park_timed(self->ws, quiesce, &t_wait))
			TH_LOG("cycle %ld: the workers pause", c);
		t = ep_now();
		err = ep_load(params);
		t_load += ep_now() - t;
		ASSERT_EQ(0, err) TH_LOG("cycle %ld: load: %s", c, strerror(-err));
		if (quiesce)
			workers_unpark(self->ws, 0);
		if (variant->random) {
			if (!params)
				ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "random"))
					TH_LOG("cycle %ld: write random to mode", c);
			ep_read(EP_SYSFS "/mode", mode, sizeof(mode));
			ASSERT_EQ(0, strncmp(mode, "random", 6))
				TH_LOG("cycle %ld: mode reads '%s'", c, mode);
			switched++;
		}
		/* Traffic through the loaded module (and its new mode). */
		t = ep_now();
		if (quiesce)
			workers_unpark(self->ws, 1);
		t_wait += ep_now() - t;
		ASSERT_GE(ep_readl(EP_SYSFS "/netns"), NWORKERS + 1)
			TH_LOG("cycle %ld: every namespace is tracked", c);
		ASSERT_EQ(0, workers_park_timed(self->ws, quiesce, &t_wait))
			TH_LOG("cycle %ld: the workers pause", c);
		t = ep_now();
		err = ep_unload();
		t_unload += ep_now() - t;
		ASSERT_EQ(0, err) TH_LOG("cycle %ld: unload: %s", c, strerror(-err));
		ASSERT_FALSE(ep_exists(EP_SYSFS)) TH_LOG("cycle %ld: sysfs stays", c);
		if (quiesce)
			workers_unpark(self->ws, 0);
	}

	for (i = 0; i < NWORKERS; i++)
		self->ws->w[i].stop = 1;
	workers_wait_done(self->ws);
	TH_LOG("%ld cycles in %.1f s (%ld switched to random mode): loads %.0f ms, unloads %.0f ms, traffic pauses %.0f ms on average",
	       c, ep_now() - t0, switched, c ? t_load * 1000 / c : 0,
	       c ? t_unload * 1000 / c : 0, c ? t_wait * 1000 / c : 0);
	ASSERT_EQ(0, workers_report(_metadata, self->ws))
		TH_LOG("no socket call may fail: the range never fills up");
	ASSERT_EQ(cycles, c) TH_LOG("only %ld of %ld cycles in %d s", c, cycles,
				    CYCLES_BUDGET);

	/* Nothing remains: here, and in every worker's namespace. */
	ep_leftovers(left, sizeof(left));
	ASSERT_STREQ("", left) TH_LOG("left behind after the last unload");
	for (i = 0; i < NWORKERS; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/net/ephport",
			 self->ws->w[i].pid);
		ASSERT_FALSE(ep_exists(path)) TH_LOG("%s stays", path);
	}
}

/* ---- 2b. unload with readers ---- */

#define UNLOAD_READERS	2

struct unload_readers {
	volatile int stop;
	unsigned long inum;		/* the readers' namespace */
	long ok[UNLOAD_READERS], err[UNLOAD_READERS];
	long held_err[UNLOAD_READERS];	/* held-open files read after unload */
	long bad[UNLOAD_READERS];	/* values that were not values */
};

/* Reads @path opened now, and @held again; counts what each gave. */
static void unload_read(struct unload_readers *ur, int idx, const char *path,
			int *held)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			ur->ok[idx]++;
			if (!strchr(buf, '\n'))
				ur->bad[idx]++;
		} else {
			ur->err[idx]++;
		}
		if (*held < 0)
			*held = fd;
		else
			close(fd);
	} else {
		ur->err[idx]++;
	}
	if (*held >= 0 && pread(*held, buf, sizeof(buf), 0) < 0) {
		ur->held_err[idx]++;
		close(*held);
		*held = -1;
	}
}

static void unload_reader(struct unload_readers *ur, int idx)
{
	static const char *const files[] = {
		"tcp_in_use", "resting", "random_ok", "mode", "search_ns",
	};
	int held[ARRAY_SIZE(files) + 1];
	char path[128];
	unsigned int i;

	for (i = 0; i <= ARRAY_SIZE(files); i++)
		held[i] = -1;
	/* Below the loader: they read whenever it waits. */
	if (nice(10) < 0)
		_exit(1);
	/* Never outlive the test, nor hold the runner's output open. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1 ||
	    !freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		_exit(1);
	while (!ur->stop) {
		unload_read(ur, idx, "/proc/self/net/ephport",
			    &held[ARRAY_SIZE(files)]);
		for (i = 0; i < ARRAY_SIZE(files); i++) {
			snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/%s",
				 ur->inum, files[i]);
			unload_read(ur, idx, path, &held[i]);
		}
	}
	_exit(0);
}

#define UNLOAD_BUDGET	240	/* seconds; the harness's timeout is 300 */

FIXTURE(unload) {
	int dummy;
};

FIXTURE_SETUP(unload)
{
}

FIXTURE_TEARDOWN(unload)
{
}

TEST_F_TIMEOUT(unload, with_readers, 300)
{
	long cycles = ep_figure("EPHPORT_UNLOAD_CYCLES", 20, 5), c, ok = 0, err = 0;
	double t0 = ep_now();
	long held_err = 0, bad = 0;
	struct unload_readers *ur;
	pid_t pid[UNLOAD_READERS];
	char left[2048];
	int i, fd;

	if (!ep_exists(ep_ko_path()))
		SKIP(return, "no %s", ep_ko_path());
	/*
	 * Under TCG with several vCPUs, text patched while another vCPU
	 * runs kills the guest (F1 in
	 * Documentation/hardening-test-findings.md): everything on one CPU
	 * there.
	 */
	if (!strcmp(cycle_mode(), "quiesce")) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	}
	ur = mmap(NULL, sizeof(*ur), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ur);
	memset(ur, 0, sizeof(*ur));
	ASSERT_EQ(0, ep_loaded() ? ep_unload() : 0) TH_LOG("unload ephport first");
	ASSERT_EQ(0, ep_new_netns(40000, 40099)) TH_LOG("the readers' namespace");
	ur->inum = ep_inum();
	/* A port or two bound, and resting once random mode is on. */
	fd = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
	ASSERT_LE(0, fd);
	for (i = 0; i < UNLOAD_READERS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			unload_reader(ur, i);
	}
	for (c = 0; c < cycles && ep_now() - t0 < UNLOAD_BUDGET; c++) {
		ASSERT_EQ(0, ep_load("mode=random")) TH_LOG("cycle %ld: load", c);
		close(fd);
		fd = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
		ASSERT_LE(0, fd) TH_LOG("cycle %ld: UDP autobind", c);
		usleep(20000);
		ASSERT_EQ(0, ep_unload()) TH_LOG("cycle %ld: unload", c);
		usleep(5000);
	}
	ur->stop = 1;
	for (i = 0; i < UNLOAD_READERS; i++) {
		waitpid(pid[i], NULL, 0);
		ok += ur->ok[i];
		err += ur->err[i];
		held_err += ur->held_err[i];
		bad += ur->bad[i];
	}
	close(fd);
	TH_LOG("%ld load/unload cycles in random mode in %.1f s: %ld reads gave values, %ld errors, %ld held-open files failed after an unload",
	       c, ep_now() - t0, ok, err, held_err);
	ASSERT_EQ(cycles, c) TH_LOG("only %ld of %ld cycles in %d s", c, cycles,
				    UNLOAD_BUDGET);
	ASSERT_LT(0, ok) TH_LOG("readers read values while loaded");
	ASSERT_LT(0, held_err) TH_LOG("a file held across an unload reads as an error");
	ASSERT_EQ(0, bad) TH_LOG("every read that gave something gave lines");
	ep_leftovers(left, sizeof(left));
	ASSERT_STREQ("", left) TH_LOG("left behind after the last unload");
	munmap(ur, sizeof(*ur));
}

/* ---- 3. namespace churn with readers ---- */

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

static long count_dirs(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	long n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
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
	dirs = count_dirs(EP_SYSFS "/net");
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

/* ---- 4. heavy load: no misses, exact counters, reuse delay ---- */

FIXTURE(heavy) {
	struct workers *ws;
};

WORKERS_VARIANTS(heavy);

FIXTURE_SETUP(heavy)
{
	self->ws = NULL;
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	self->ws = workers_map();
	ASSERT_NE(NULL, self->ws);
}

FIXTURE_TEARDOWN(heavy)
{
	workers_unmap(self->ws);
}

TEST_F_TIMEOUT(heavy, counters_exact_no_misses, 240)
{
	struct worker_cfg cfg = {
		.lo = 40000, .hi = variant->random ? 40999 : 49999,
		.rounds = ep_figure("EPHPORT_OPS", 400, 60),
		.random = variant->random, .delay_ms = 500,
	};
	long missed0, missed, checked = 0, violations = 0;
	double t0 = ep_now();
	int i;

	missed0 = ep_probes_missed();
	ASSERT_LE(0, missed0) TH_LOG("read %s/probes", EP_SYSFS);
	TH_LOG("figures: %d namespaces x %ld rounds of connect + bind(0) + udp, range %d-%d%s",
	       NWORKERS, cfg.rounds, cfg.lo, cfg.hi,
	       variant->random ? ", random mode, reuse delay 500 ms" : "");
	ASSERT_EQ(0, workers_start(self->ws, &cfg)) TH_LOG("start the workers");
	workers_wait_done(self->ws);
	usleep(300000);	/* resets in flight land */
	missed = ep_probes_missed() - missed0;
	TH_LOG("%ld socket calls in %.1f s; hooks missed %ld events",
	       NWORKERS * cfg.rounds * NOPS, ep_now() - t0, missed);
	ASSERT_EQ(0, workers_report(_metadata, self->ws)) TH_LOG("failed socket calls");

	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &self->ws->w[i];
		unsigned long n = w->inum;
		int k;

		if (variant->random)
			TH_LOG("namespace %lu: random_ok %ld, random_fallback %ld, resting %ld",
			       n, ep_netval(n, "random_ok"),
			       ep_netval(n, "random_fallback"), ep_netval(n, "resting"));
		if (!missed) {
			/* EXPECT: every counter that is off is reported. */
			EXPECT_EQ(w->ok[OP_CONNECT], ep_netval(n, "tcp_connect_ok"))
				TH_LOG("namespace %lu: tcp_connect_ok", n);
			EXPECT_EQ(w->ok[OP_BIND], ep_netval(n, "tcp_bind_ok"))
				TH_LOG("namespace %lu: tcp_bind_ok", n);
			EXPECT_EQ(w->ok[OP_UDP], ep_netval(n, "udp_ok"))
				TH_LOG("namespace %lu: udp_ok", n);
		}
		ASSERT_EQ(0, ep_netval(n, "tcp_connect_fail")) TH_LOG("ns %lu", n);
		ASSERT_EQ(0, ep_netval(n, "tcp_bind_fail")) TH_LOG("ns %lu", n);
		ASSERT_EQ(0, ep_netval(n, "udp_fail")) TH_LOG("ns %lu", n);
		/* Exact at a quiet moment even if an event was missed. */
		for (k = 0; k < 2; k++) {
			int before, val, after, tries;

			for (tries = 0; tries < 20; tries++) {
				before = ep_kernel_in_use(w->pid, !k, cfg.lo, cfg.hi);
				val = ep_netval(n, k ? "udp_in_use" : "tcp_in_use");
				after = ep_kernel_in_use(w->pid, !k, cfg.lo, cfg.hi);
				if (before == after)
					break;
				usleep(100000);
			}
			ASSERT_EQ(before, val)
				TH_LOG("namespace %lu: %s in use: /proc/net %d, ephport %d",
				       n, k ? "udp" : "tcp", before, val);
		}
		checked += w->reuse_checked;
		violations += w->reuse_violations;
		if (w->reuse_violations)
			TH_LOG("namespace %lu: port %d handed out again %.0f ms after its release",
			       n, w->violation_port, w->violation_gap * 1000);
	}
	if (variant->random) {
		TH_LOG("reuse delay: %ld ports handed out again were checked, %ld too early",
		       checked, violations);
		ASSERT_EQ(0, violations) TH_LOG("no port before its reuse delay");
	}
	ASSERT_EQ(0, missed) TH_LOG("the hooks missed events under this load");
}

TEST_HARNESS_MAIN
