// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_stress_cycles: ephport loaded and unloaded under load.
 *
 *  - load/unload under traffic: cycles of load (observe, and random
 *    mode), unload, while 4 namespaces connect(),
 *    bind(0) and autobind UDP without pause: no socket call fails, and
 *    nothing of ephport remains after the last unload;
 *  - unload with readers: readers of /proc/net/ephport (random mode's
 *    part included) and of the sysfs files, freshly opened and held
 *    open, while the module loads and unloads: every read gives values
 *    or an error, never freed memory (the KASAN kernel would say), and
 *    a file held open across an unload reads as an error.
 *
 * Each case leaves ephport loaded if it found it loaded.
 *
 * Figures (Debian's kernels, then the KASAN kernel, where everything is
 * several times slower; each can be set by its variable):
 *   EPHPORT_CYCLES   load/unload cycles, random mode   200 (debug 10)
 *                    the same in observe mode           20 (debug 5)
 *   EPHPORT_UNLOAD_CYCLES  the same with readers        20 (debug 5)
 * A cycle costs about 0.5 s under TCG on Debian's kernels and 2 s on the
 * KASAN kernel (most of it the kernel's grace periods at unload). Every
 * test prints the figures it used.
 */
#define _GNU_SOURCE
#include "ephport_stress.h"

/* ---- load/unload under traffic ---- */

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

	if (how && *how)
		return how;
	return ep_tcg_smp() ? "quiesce" : "free";
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
		if (params)
			EP_SKIP_IF_NO_RANDOM(err);
		ASSERT_EQ(0, err) TH_LOG("cycle %ld: load: %s", c, strerror(-err));
		if (quiesce)
			workers_unpark(self->ws, 0);
		if (variant->random) {
			if (!params)
				EP_ASSERT_RANDOM(ep_write(EP_SYSFS "/mode", "random"));
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

/* ---- unload with readers ---- */

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
	int was_loaded;
};

FIXTURE_SETUP(unload)
{
	self->was_loaded = ep_loaded();
}

/* Loaded again (in observe mode) if it was before the case. */
FIXTURE_TEARDOWN(unload)
{
	if (self->was_loaded && !ep_loaded())
		ep_load(NULL);
}

TEST_F_TIMEOUT(unload, with_readers, 300)
{
	long cycles = ep_figure("EPHPORT_UNLOAD_CYCLES", 20, 5), c, ok = 0, err = 0;
	double t0 = ep_now();
	long held_err = 0, bad = 0;
	struct unload_readers *ur;
	pid_t pid[UNLOAD_READERS];
	char left[2048];
	int i, fd, ret;

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
		ret = ep_load("mode=random");
		if (ret == -EOPNOTSUPP) {
			ur->stop = 1;	/* the readers end before a skip */
			for (i = 0; i < UNLOAD_READERS; i++)
				waitpid(pid[i], NULL, 0);
		}
		EP_SKIP_IF_NO_RANDOM(ret);
		ASSERT_EQ(0, ret) TH_LOG("cycle %ld: load: %s", c, strerror(-ret));
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

TEST_HARNESS_MAIN
