// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_bench: the measurements behind "make bench", run inside the VM
 * by bench/run.sh (which loads and unloads ephport between them).
 *
 *   ephport_bench tput connect|connfail|bind|udp SECONDS
 *	Operations per second in a new network namespace: TCP connect() to
 *	a loopback listener then close with RST (SO_LINGER 0, no
 *	TIME_WAIT), a TCP connect() that finds no port (a one-port range
 *	held toward the listener: EADDRNOTAVAIL) then close, TCP bind() to
 *	port 0 then close, or sendto() on an unbound UDP socket (autobind)
 *	then close.
 *
 *   ephport_bench sweep LO HI PCT[,PCT...] SAMPLES
 *	In a new namespace with ip_local_port_range "LO HI", hold PCT % of
 *	the range with connections to one listener, then time SAMPLES more
 *	connect()s to that listener (each closed again with RST), and read
 *	the time ephport saw their port searches take (search_ns).
 *
 *   ephport_bench netns COUNT LOAD RANDOM UNLOAD
 *	Memory and reading cost with COUNT namespaces: /proc/meminfo
 *	snapshots with and without the module (LOAD and UNLOAD are shell
 *	commands), then in random mode (RANDOM, skipped if empty), and the
 *	time to read one namespace's sysfs directory and /proc/net/ephport.
 *
 *   ephport_bench dests CONNS DESTS
 *	The time to read /proc/net/ephport_dests in a namespace holding
 *	CONNS connections (client and accepted sides both in it) spread
 *	over DESTS listeners, and from an empty namespace beside it that
 *	shares the kernel's established hash.
 *
 * Results are lines "R case=... key=value ..."; anything else is a note.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#include "ephport_test.h"	/* the selftests' helpers */

#define LISTEN_PORT	5000	/* below every range the benchmark uses */
#define SINK_PORT	5001
#define FAIL_PORT	40000	/* connfail's one-port range */
#define MAX_SAMPLES	100000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ephport_bench: ");
	vfprintf(stderr, fmt, ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* A new network namespace for this process, loopback up. */
static void new_netns(void)
{
	int err = ep_enter_netns();

	if (err) {
		errno = -err;
		die("a new network namespace with lo up");
	}
}

/* A listener (TCP) or a sink (UDP) on 127.0.0.1:@port. */
static int make_listener(int type, int port)
{
	int fd = type == SOCK_STREAM ? ep_listener(AF_INET, port) :
		 ep_bind(AF_INET, type, port, SO_REUSEADDR);

	if (fd < 0) {
		errno = -fd;
		die("listener on port %d", port);
	}
	return fd;
}

/* One more connection to the listener; 0 and both fds, or -1. */
static int connect_one(int lfd, int *cfd, int *afd, double *secs)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(AF_INET, &ss, LISTEN_PORT);
	double t0;
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	t0 = ep_now();
	r = connect(fd, (struct sockaddr *)&ss, len);
	if (secs)
		*secs = ep_now() - t0;
	if (r) {
		close(fd);
		return -1;
	}
	*cfd = fd;
	*afd = accept(lfd, NULL, NULL);
	return 0;
}

static void hang_up(int cfd, int afd)
{
	ep_close_now(cfd);
	if (afd >= 0)
		close(afd);
}

static int op_connect(int lfd)
{
	int cfd, afd;

	if (connect_one(lfd, &cfd, &afd, NULL))
		return -1;
	hang_up(cfd, afd);
	return 0;
}

/* A connect() that must find no port: EADDRNOTAVAIL is success here. */
static int op_connfail(void)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(AF_INET, &ss, LISTEN_PORT);
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	if (fd < 0)
		return -1;
	r = connect(fd, (struct sockaddr *)&ss, len) ? errno : 0;
	close(fd);
	return r == EADDRNOTAVAIL ? 0 : -1;
}

static int op_bind(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return r;
}

static int op_udp(void)
{
	int fd = ep_udp_autobind(AF_INET, SINK_PORT);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Operations are timed in batches of TPUT_BATCH. Besides the plain rate
 * (all operations over all the time), the rate of the median batch: on a
 * busy host the VM's CPUs stall now and then, the batches they stall in
 * are the slow ones, and the median leaves them out.
 */
#define TPUT_BATCH	16
#define TPUT_MAX_BATCHES	(1 << 20)

/* What one process of a throughput case measured. */
struct tput_result {
	long ops, fails;
	double secs, ops_s_med;
};

/*
 * @secs of operations in batches: the plain count and the rate of the
 * median batch, into *res.
 */
static void tput_run(int (*op)(void), int lfd, double secs, double *batch,
		     struct tput_result *res)
{
	double t0, tb, t;
	long nb = 0, i;

	res->ops = 0;
	res->fails = 0;
	t0 = ep_now();
	tb = t0;
	do {
		for (i = 0; i < TPUT_BATCH; i++) {
			if (op ? op() : op_connect(lfd))
				res->fails++;
			else
				res->ops++;
		}
		t = ep_now();
		batch[nb++] = t - tb;
		tb = t;
		t -= t0;
	} while (t < secs && nb < TPUT_MAX_BATCHES);
	qsort(batch, nb, sizeof(*batch), cmp_double);
	res->secs = t;
	res->ops_s_med = TPUT_BATCH / batch[nb / 2];
}

/*
 * @nproc processes in the namespace, each pinned to its own CPU, started
 * together: their results in res[].
 */
static void tput_parallel(int nproc, int (*op)(void), int lfd, double secs,
			  double *batch, struct tput_result *res)
{
	int ready[2], go[2], i;
	char c;

	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();
		cpu_set_t set;
		long k;

		if (pid < 0)
			die("fork");
		if (pid)
			continue;
		CPU_ZERO(&set);
		CPU_SET(i % get_nprocs(), &set);
		sched_setaffinity(0, sizeof(set), &set);
		for (k = 0; k < 200 / nproc; k++)
			op ? op() : op_connect(lfd);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		tput_run(op, lfd, secs, batch, &res[i]);
		_exit(0);
	}
	for (i = 0; i < nproc; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a process did not start");
	for (i = 0; i < nproc; i++)
		if (write(go[1], "g", 1) != 1)
			die("start");
	for (i = 0; i < nproc; i++)
		wait(NULL);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * tput CASE SECONDS: one process. CASE2 (connect2, bind2, udp2): two
 * processes on two CPUs in one namespace, where a lock they share shows.
 */
static int cmd_tput(int argc, char **argv)
{
	const char *counter;
	char what[32];
	struct tput_result *res;
	double secs, *batch, rate_med = 0, t = 0;
	long ops = 0, fails = 0, i;
	int lfd = -1, sfd = -1, cfd = -1, afd = -1, rcvbuf = 4096, nproc = 1;
	int (*op)(void) = NULL;
	size_t len;

	if (argc != 2)
		die("usage: tput connect|connfail|bind|udp[2] SECONDS");
	snprintf(what, sizeof(what), "%s", argv[0]);
	len = strlen(what);
	if (len > 1 && what[len - 1] == '2') {
		what[len - 1] = '\0';
		nproc = 2;
	}
	secs = atof(argv[1]);
	res = mmap(NULL, nproc * sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	batch = calloc(TPUT_MAX_BATCHES, sizeof(*batch));
	if (res == MAP_FAILED || !batch)
		die("memory");
	new_netns();
	if (!strcmp(what, "connect")) {
		lfd = make_listener(SOCK_STREAM, LISTEN_PORT);
		counter = "tcp_connect_ok";
	} else if (!strcmp(what, "connfail") && nproc == 1) {
		/* One port, held toward the listener: every connect() fails. */
		if (ep_set_range(FAIL_PORT, FAIL_PORT))
			die("ip_local_port_range %d %d", FAIL_PORT, FAIL_PORT);
		lfd = make_listener(SOCK_STREAM, LISTEN_PORT);
		if (connect_one(lfd, &cfd, &afd, NULL))
			die("the connection that holds port %d", FAIL_PORT);
		op = op_connfail;
		counter = "tcp_connect_fail";
	} else if (!strcmp(what, "bind")) {
		op = op_bind;
		counter = "tcp_bind_ok";
	} else if (!strcmp(what, "udp")) {
		/* A sink with a small buffer: full, it drops what comes. */
		sfd = make_listener(SOCK_DGRAM, SINK_PORT);
		setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		op = op_udp;
		counter = "udp_ok";
	} else {
		errno = 0;
		die("unknown tput case '%s'", argv[0]);
	}

	if (nproc == 1) {
		/* Warm up: caches, slabs, the hooks' first events. */
		for (i = 0; i < 200; i++)
			op ? op() : op_connect(lfd);
		tput_run(op, lfd, secs, batch, &res[0]);
	} else {
		tput_parallel(nproc, op, lfd, secs, batch, res);
	}
	for (i = 0; i < nproc; i++) {
		ops += res[i].ops;
		fails += res[i].fails;
		t = res[i].secs > t ? res[i].secs : t;
		rate_med += res[i].ops_s_med;
	}

	printf("R case=%s ops=%ld fail=%ld secs=%.3f ops_s=%.1f procs=%d ops_s_med=%.1f hooked=%ld random_ok=%ld random_fallback=%ld\n",
	       argv[0], ops, fails, t, ops / t, nproc, rate_med,
	       ep_nsval(counter), ep_nsval("random_ok"),
	       ep_nsval("random_fallback"));
	free(batch);
	munmap(res, nproc * sizeof(*res));
	if (cfd >= 0)
		hang_up(cfd, afd);
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0)
		close(sfd);
	return fails ? 1 : 0;
}

/* Quantile q (0..1) of n sorted values, nearest rank. */
static double quantile(const double *v, int n, double q)
{
	int k = (int)(q * n + 0.999999) - 1;

	if (n == 0)
		return 0;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k];
}

static void raise_nofile(rlim_t n)
{
	struct rlimit rl = { .rlim_cur = n, .rlim_max = n };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, %lu)", (unsigned long)n);
}

/*
 * The namespace's connect() searches so far (the total of its search_ns
 * histogram), or -1 without ephport.
 */
static long search_count(void)
{
	char path[128], line[128];
	long total = 0, bound, n;
	FILE *f;

	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/search_ns", ep_inum());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%ld %ld", &bound, &n) == 2)
			total += n;
	fclose(f);
	return total;
}

static int cmd_sweep(int argc, char **argv)
{
	int lo, hi, size, nsamples, held = 0, lfd, i, fails = 0;
	int *cfds, *afds;
	double *samples, *sorted;
	char *pcts, *p;
	const char *delay;

	if (argc != 4)
		die("usage: sweep LO HI PCT[,PCT...] SAMPLES");
	lo = atoi(argv[0]);
	hi = atoi(argv[1]);
	pcts = argv[2];
	nsamples = atoi(argv[3]);
	size = hi - lo + 1;
	if (lo <= LISTEN_PORT || size < 1 || nsamples < 1 ||
	    nsamples > MAX_SAMPLES)
		die("bad sweep arguments");
	raise_nofile(2 * size + 64);
	cfds = calloc(size, sizeof(*cfds));
	afds = calloc(size, sizeof(*afds));
	samples = calloc(nsamples, sizeof(*samples));
	sorted = calloc(nsamples, sizeof(*sorted));
	if (!cfds || !afds || !samples || !sorted)
		die("calloc");

	new_netns();
	if (ep_set_range(lo, hi))
		die("ip_local_port_range %d %d", lo, hi);
	/*
	 * Random mode rests a released port for reuse_delay_ms: with the
	 * default delay, a few samples would leave every free port resting
	 * and measure the kernel's fallback. This namespace's delay goes to
	 * 0 where the per-namespace sysctl exists (run.sh sets the global
	 * one otherwise).
	 */
	delay = ep_write("/proc/sys/net/ephport/reuse_delay_ms", "0") ?
		"global" : "netns";
	lfd = make_listener(SOCK_STREAM, LISTEN_PORT);

	for (p = strtok(pcts, ","); p; p = strtok(NULL, ",")) {
		int pct = atoi(p), target = (long)size * pct / 100, n = 0;
		double sum = 0;
		long ok0, sn0, ss0, sn = -1, ss = -1;

		while (held < target) {
			if (connect_one(lfd, &cfds[held], &afds[held], NULL))
				die("filling the range to %d %% (%d held)",
				    pct, held);
			held++;
		}
		/* Ports ephport chose for the samples, not for the fill. */
		ok0 = ep_nsval("random_ok");
		/* The samples' searches (search_ns): the kernel's in observe. */
		sn0 = search_count();
		ss0 = ep_nsval("search_ns_sum");
		fails = 0;
		for (i = 0; i < nsamples; i++) {
			int cfd, afd;
			double s;

			if (connect_one(lfd, &cfd, &afd, &s)) {
				fails++;
				continue;
			}
			samples[n++] = s * 1e6;
			sum += s * 1e6;
			hang_up(cfd, afd);
		}
		if (sn0 >= 0 && ss0 >= 0) {
			sn = search_count() - sn0;
			ss = ep_nsval("search_ns_sum") - ss0;
		}
		memcpy(sorted, samples, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_double);
		printf("R case=sweep pct=%d held=%d n=%d fail=%d delay=%s med_us=%.1f p99_us=%.1f mean_us=%.1f random_ok_samples=%ld search_n=%ld search_sum_ns=%ld samples=",
		       pct, held, n, fails, delay, quantile(sorted, n, 0.5),
		       quantile(sorted, n, 0.99), n ? sum / n : 0,
		       ok0 < 0 ? -1 : ep_nsval("random_ok") - ok0, sn, ss);
		for (i = 0; i < n; i++)
			printf("%s%.1f", i ? "," : "", samples[i]);
		printf("\n");
		fflush(stdout);
	}
	for (i = 0; i < held; i++)
		hang_up(cfds[i], afds[i]);
	close(lfd);
	free(cfds);
	free(afds);
	free(samples);
	free(sorted);
	return 0;
}

/* ---- netns: memory and reading with many namespaces ---- */

static void snap_meminfo(const char *phase, int nr)
{
	static const char *const keys[] = {
		"MemFree", "Slab", "SUnreclaim", "Percpu", "VmallocUsed",
		"KernelStack", "PageTables",
	};
	char line[256], key[64];
	long val;
	unsigned int i;
	FILE *f;

	/* Let RCU-deferred frees and the module's work finish. */
	sync();
	ep_write("/proc/sys/vm/drop_caches", "3");
	sleep(2);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	printf("R case=mem phase=%s netns=%d", phase, nr);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %ld", key, &val) != 2)
			continue;
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(key, keys[i]))
				printf(" %s=%ld", key, val);
	}
	printf("\n");
	fflush(stdout);
	fclose(f);
}

/* Read every readable file of @dir; the seconds it took. */
static double read_dir(const char *dir)
{
	char path[512], buf[8192];
	struct dirent *de;
	double t0 = ep_now();
	DIR *d = opendir(dir);
	int fd;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_type != DT_REG)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	closedir(d);
	return ep_now() - t0;
}

static double read_file(const char *path)
{
	char buf[8192];
	double t0 = ep_now();
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	return ep_now() - t0;
}

#define COLD_READS	3
#define WARM_READS	21

/*
 * Time reading namespace @nsfd's sysfs directory, its /proc/net/ephport
 * and, for scale, the kernel's own /proc/net/sockstat (a few counters,
 * nothing of ephport): "cold" after 1.1 s idle, "warm" right after
 * another read. What the idle vCPU costs the first read after it shows
 * in the kernel's file as much as in ephport's. Medians, in microseconds.
 */
static void time_reads(const char *phase, int nr, int nsfd, int homefd)
{
	static const char *const files[] = {
		NULL, "/proc/self/net/ephport", "/proc/self/net/sockstat",
	};
	double cold[3][COLD_READS], warm[3][WARM_READS];
	char dir[128];
	struct stat st;
	int i, k;

	if (fstat(nsfd, &st))
		die("fstat netns");
	snprintf(dir, sizeof(dir), "/sys/kernel/ephport/net/%lu",
		 (unsigned long)st.st_ino);
	if (setns(nsfd, CLONE_NEWNET))
		die("setns");
	for (k = 0; k < 3; k++) {
		for (i = 0; i < COLD_READS; i++) {
			usleep(1100000);
			cold[k][i] = files[k] ? read_file(files[k]) :
						read_dir(dir);
		}
		for (i = 0; i < WARM_READS; i++)
			warm[k][i] = files[k] ? read_file(files[k]) :
						read_dir(dir);
		qsort(cold[k], COLD_READS, sizeof(double), cmp_double);
		qsort(warm[k], WARM_READS, sizeof(double), cmp_double);
	}
	if (setns(homefd, CLONE_NEWNET))
		die("setns home");
	printf("R case=read phase=%s netns=%d sysfs_cold_us=%.1f sysfs_warm_us=%.1f proc_cold_us=%.1f proc_warm_us=%.1f sockstat_cold_us=%.1f sockstat_warm_us=%.1f\n",
	       phase, nr, cold[0][COLD_READS / 2] * 1e6,
	       warm[0][WARM_READS / 2] * 1e6, cold[1][COLD_READS / 2] * 1e6,
	       warm[1][WARM_READS / 2] * 1e6, cold[2][COLD_READS / 2] * 1e6,
	       warm[2][WARM_READS / 2] * 1e6);
	fflush(stdout);
}

/* One TCP bind(0) and one UDP autobind in namespace @nsfd. */
static void touch_netns(int nsfd)
{
	if (setns(nsfd, CLONE_NEWNET))
		die("setns");
	if (op_bind() || op_udp())
		die("bind/autobind in a new namespace");
}

static void run(const char *cmd)
{
	errno = 0;
	if (system(cmd))
		die("'%s' failed", cmd);
}

static int cmd_netns(int argc, char **argv)
{
	const char *load, *random, *unload;
	int nr, i, homefd, *fds;
	double t0;

	if (argc != 4)
		die("usage: netns COUNT LOAD RANDOM UNLOAD");
	nr = atoi(argv[0]);
	load = argv[1];
	random = argv[2];
	unload = argv[3];
	if (nr < 1)
		die("bad count");
	raise_nofile(nr + 64);
	fds = calloc(nr, sizeof(*fds));
	homefd = open("/proc/self/ns/net", O_RDONLY);
	if (!fds || homefd < 0)
		die("setup");

	/* The module's own cost, with no namespace but this one. */
	snap_meminfo("pre", 0);
	run(load);
	snap_meminfo("load0", 0);
	time_reads("observe", 1, homefd, homefd);
	run(unload);

	t0 = ep_now();
	for (i = 0; i < nr; i++) {
		new_netns();
		fds[i] = open("/proc/self/ns/net", O_RDONLY);
		if (fds[i] < 0)
			die("open netns");
		touch_netns(fds[i]);
	}
	if (setns(homefd, CLONE_NEWNET))
		die("setns home");
	printf("R case=netns_create netns=%d secs=%.2f\n", nr, ep_now() - t0);
	snap_meminfo("netns", nr);

	t0 = ep_now();
	run(load);
	printf("R case=load netns=%d secs=%.2f\n", nr, ep_now() - t0);
	for (i = 0; i < nr; i++)
		touch_netns(fds[i]);
	if (setns(homefd, CLONE_NEWNET))
		die("setns home");
	snap_meminfo("observe", nr);
	time_reads("observe", nr + 1, fds[nr / 2], homefd);

	if (*random) {
		run(random);
		for (i = 0; i < nr; i++)
			touch_netns(fds[i]);
		if (setns(homefd, CLONE_NEWNET))
			die("setns home");
		snap_meminfo("random", nr);
		time_reads("random", nr + 1, fds[nr / 2], homefd);
	}
	for (i = 0; i < nr; i++)
		close(fds[i]);
	close(homefd);
	free(fds);
	return 0;
}

#define DESTS_READS	9
#define DESTS_LISTEN	10000	/* listeners from here up, below the range */
#define DESTS_LO	20000
#define DESTS_HI	60999

/*
 * @n reads of /proc/self/net/ephport_dests, each after 1.1 s idle (cold:
 * the read walks the hash) or right after another (warm: the last walk's
 * result), sorted, in microseconds; the number of lines in @lines.
 */
static void time_dests(double *us, int n, int cold, int *lines)
{
	char buf[8192];
	double t0;
	int i, fd, k;
	ssize_t r;

	for (i = 0; i < n; i++) {
		if (cold)
			usleep(1100000);
		*lines = 0;
		t0 = ep_now();
		fd = open("/proc/self/net/ephport_dests", O_RDONLY);
		if (fd < 0)
			die("/proc/self/net/ephport_dests");
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			for (k = 0; k < r; k++)
				*lines += buf[k] == '\n';
		close(fd);
		us[i] = (ep_now() - t0) * 1e6;
	}
	qsort(us, n, sizeof(*us), cmp_double);
}

static void print_reads(const char *what, const double *us, int n)
{
	printf(" %s_med_us=%.1f %s_min_us=%.1f %s_max_us=%.1f", what,
	       us[n / 2], what, us[0], what, us[n - 1]);
}

static int cmd_dests(int argc, char **argv)
{
	double cold[DESTS_READS], warm[2 * DESTS_READS + 3];
	double empty_cold[DESTS_READS], t0, setup;
	int conns, dests, i, lines, empty_lines = 0, *lfd, cfd, afd;
	struct sockaddr_storage ss;
	int pipefd[2];
	pid_t pid;

	if (argc != 2)
		die("usage: dests CONNS DESTS");
	conns = atoi(argv[0]);
	dests = atoi(argv[1]);
	if (conns < 1 || dests < 1 || dests > conns ||
	    conns > DESTS_HI - DESTS_LO + 1 || dests > DESTS_LO - DESTS_LISTEN)
		die("dests: 1 <= DESTS <= CONNS <= %d, DESTS <= %d",
		    DESTS_HI - DESTS_LO + 1, DESTS_LO - DESTS_LISTEN);
	raise_nofile(2 * conns + dests + 64);
	lfd = calloc(dests, sizeof(*lfd));
	if (!lfd)
		die("calloc");
	new_netns();
	if (ep_set_range(DESTS_LO, DESTS_HI))
		die("ip_local_port_range");
	t0 = ep_now();
	for (i = 0; i < dests; i++)
		lfd[i] = make_listener(SOCK_STREAM, DESTS_LISTEN + i);
	for (i = 0; i < conns; i++) {
		socklen_t len = ep_loopback(AF_INET, &ss, DESTS_LISTEN + i % dests);

		cfd = socket(AF_INET, SOCK_STREAM, 0);
		if (cfd < 0 || connect(cfd, (struct sockaddr *)&ss, len))
			die("connection %d of %d", i + 1, conns);
		afd = accept(lfd[i % dests], NULL, NULL);
		if (afd < 0)
			die("accept %d", i + 1);
	}
	setup = ep_now() - t0;

	/*
	 * An empty namespace beside it, reading its own (empty) table: the
	 * walk still visits every bucket of the shared hash, and every
	 * socket of this namespace in it.
	 */
	if (pipe(pipefd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(pipefd[0]);
		new_netns();
		time_dests(empty_cold, DESTS_READS, 1, &empty_lines);
		if (write(pipefd[1], empty_cold, sizeof(empty_cold)) !=
		    sizeof(empty_cold) ||
		    write(pipefd[1], &empty_lines, sizeof(empty_lines)) !=
		    sizeof(empty_lines))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], empty_cold, sizeof(empty_cold)) != sizeof(empty_cold) ||
	    read(pipefd[0], &empty_lines, sizeof(empty_lines)) != sizeof(empty_lines))
		die("the empty namespace's reads");
	close(pipefd[0]);
	waitpid(pid, NULL, 0);

	time_dests(cold, DESTS_READS, 1, &lines);
	time_dests(warm, ARRAY_SIZE(warm), 0, &lines);
	printf("R case=dests conns=%d dests=%d setup_s=%.1f reads=%d lines=%d tcp_dest_max=%ld tcp_in_use=%ld",
	       conns, dests, setup, DESTS_READS, lines - 1, ep_nsval("tcp_dest_max"),
	       ep_nsval("tcp_in_use"));
	print_reads("cold", cold, DESTS_READS);
	print_reads("warm", warm, ARRAY_SIZE(warm));
	print_reads("empty_cold", empty_cold, DESTS_READS);
	printf(" empty_lines=%d\n", empty_lines - 1);
	fflush(stdout);
	/* Leaving closes them all, with the namespace. */
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "tput"))
		return cmd_tput(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "sweep"))
		return cmd_sweep(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "dests"))
		return cmd_dests(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "netns"))
		return cmd_netns(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: ephport_bench tput connect|connfail|bind|udp SECONDS\n"
		"       ephport_bench sweep LO HI PCT[,PCT...] SAMPLES\n"
		"       ephport_bench dests CONNS DESTS\n"
		"       ephport_bench netns COUNT LOAD RANDOM UNLOAD\n");
	return 2;
}
