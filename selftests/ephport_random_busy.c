// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_random_busy: the promises random mode keeps when the range is
 * busy.
 *
 *  - self_loop: the classic self-connect loop (connect() to a port of the
 *    range with nothing listening) fast enough that every port rests: no
 *    connect() ever ends connected to itself, the least recently used
 *    port is handed out (random_lru), never the kernel's choice;
 *  - lru: a range of 20 ports (and of 500, many released within one
 *    16 ms unit), a long delay: the second round of bind(0)+close gives
 *    the first round's ports in the order they were released;
 *  - only_port: the range is one port, the destination's own: connect()
 *    fails with EADDRNOTAVAIL instead of connecting to itself;
 *  - load_random: ephport loaded with mode=random while a mostly bound
 *    range sees bind(0)+close: no call fails, no held port is handed out;
 *  - busy: 500 threads connecting into one namespace's full 1,000-port
 *    range leave another namespace's random mode untouched.
 *
 * Every case checks that the random-mode counters add up
 * (ephport_random.h).
 *
 * Figures (Debian's kernels, then the KASAN kernel; each can be set by
 * its variable):
 *   EPHPORT_SELF_LOOP      connects of the self-connect loop  3000 (debug 1200)
 *   EPHPORT_LOAD_CYCLES    loads with mode=random             3 (debug 2)
 *   EPHPORT_BUSY_CONNECTS  the neighbour's connects           200 (debug 50)
 *   EPHPORT_BUSY_THREADS   threads of the busy namespace      500 (debug 200)
 *   EPHPORT_BUSY_PORTS     its range, every port connected    1000 (debug 400)
 * With ephport_random_ipmodify, about 2 minutes under TCG on Debian's
 * kernels, 5 on the KASAN kernel.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/resource.h>
#include "ephport_random.h"

/* ---- helpers ---- */

static int raise_nofile(rlim_t n)
{
	struct rlimit rl = { n, n };

	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/* ---- the self-connect loop ---- */

FIXTURE(self_loop) {
	int unused;
};

FIXTURE_VARIANT(self_loop) {
	int delay_ms;
	int free_every;	/* all but every n-th port held (0: none) */
};

/*
 * Under emulation a refused connect() takes milliseconds: 1000 ports
 * never all rest within 200 ms. With every port held but one in 100
 * (40500 among the free ones), all free ports rest at that rate.
 */
FIXTURE_VARIANT_ADD(self_loop, delay_200ms) { .delay_ms = 200, .free_every = 100 };
FIXTURE_VARIANT_ADD(self_loop, delay_60s) { .delay_ms = 60000 };

FIXTURE_SETUP(self_loop)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(self_loop)
{
}

/*
 * 1000 ports, connect() to 127.0.0.1:40500 (in the range, nothing
 * listening) as fast as possible: each refusal releases its port at once,
 * so once every free port has been used, all of them rest and the least
 * recently used one is handed out. The destination's own port never is.
 */
TEST_F_TIMEOUT(self_loop, never_itself, 300)
{
	long n = ep_figure("EPHPORT_SELF_LOOP", 3000, 1200), i;
	long refused = 0, other = 0, self_conn = 0, self0;
	int dport = LO + 500, local, err, last_err = 0, nheld = 0, p;
	static int held[1000];
	struct rnd r;
	double t0;

	ASSERT_EQ(0, raise_nofile(1000 + 256));
	err = ep_setup_ns(LO, LO + 999, "random", variant->delay_ms);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("namespace in random mode: %s", strerror(-err));
	for (p = LO; variant->free_every && p <= LO + 999; p++) {
		if ((p - LO) % variant->free_every == 0)
			continue;
		held[nheld] = ep_bind(AF_INET, SOCK_STREAM, p, 0);
		ASSERT_LE(0, held[nheld]) TH_LOG("hold port %d", p);
		nheld++;
	}
	self0 = ep_nsval("self_connect");
	t0 = ep_now();
	for (i = 0; i < n; i++) {
		err = connect_to(AF_INET, dport, &local);
		if (!err) {
			self_conn += local == dport;
		} else if (err == -ECONNREFUSED) {
			refused++;
		} else {
			other++;
			last_err = -err;
		}
	}
	t0 = ep_now() - t0;
	rnd_read(&r);
	TH_LOG("%ld connects to 127.0.0.1:%d in %.2f s, delay %d ms, %d of 1000 ports held: %ld refused, %ld self-connects, %ld other errors (last %s); ok %ld lru %ld fallback %ld, avoided %ld",
	       n, dport, t0, variant->delay_ms, nheld, refused, self_conn,
	       other, strerror(last_err), r.ok, r.lru, r.fallback, r.avoided);
	ASSERT_EQ(0, self_conn) TH_LOG("a connect() ended connected to itself");
	ASSERT_EQ(0, ep_nsval("self_connect") - self0)
		TH_LOG("the self_connect counter saw one");
	ASSERT_EQ(n, refused) TH_LOG("every connect() is refused");
	ASSERT_LT(0, r.lru) TH_LOG("every port rested: LRU must have chosen");
	ASSERT_EQ(0, r.fallback) TH_LOG("the kernel's choice never saved it");
	ASSERT_EQ(n, r.steered);
	ASSERT_SUMS(&r);
	while (nheld--)
		close(held[nheld]);
}

/* ---- least recently used ---- */

FIXTURE(lru) {
	int unused;
};

FIXTURE_VARIANT(lru) {
	int family;
	int type;
	int ports;
};

FIXTURE_VARIANT_ADD(lru, tcp4) { AF_INET, SOCK_STREAM, 20 };
FIXTURE_VARIANT_ADD(lru, udp6) { AF_INET6, SOCK_DGRAM, 20 };
/* Many releases within each 16 ms unit of the resting clock. */
FIXTURE_VARIANT_ADD(lru, tcp4_500) { AF_INET, SOCK_STREAM, 500 };

FIXTURE_SETUP(lru)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(lru)
{
}

#define LRU_PORTS_MAX 500

/*
 * 20 (or 500) ports, a delay far longer than the test: as many
 * bind(0)+close give as many distinct ports (uniform picks); every port
 * rests, so the next ones give the same ports in the order they were
 * released, also those released within one unit of the resting clock.
 */
TEST_F_TIMEOUT(lru, release_order, 300)
{
	static int first[LRU_PORTS_MAX], seen[LRU_PORTS_MAX];
	int n = variant->ports, p, i, err;
	struct rnd r0, r1, r2;

	memset(seen, 0, sizeof(seen));
	err = ep_setup_ns(LO, LO + n - 1, "random", 60000);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("namespace in random mode: %s", strerror(-err));
	rnd_read(&r0);
	for (i = 0; i < n; i++) {
		p = ep_bind0_close(variant->family, variant->type);
		ASSERT_LE(LO, p) TH_LOG("bind %d: %d", i, p);
		ASSERT_GE(LO + n - 1, p);
		ASSERT_EQ(0, seen[p - LO]) TH_LOG("port %d again within the delay", p);
		seen[p - LO] = 1;
		first[i] = p;
	}
	rnd_read(&r1);
	ASSERT_EQ(n, r1.ok - r0.ok) TH_LOG("uniform picks first");
	ASSERT_EQ(0, r1.lru - r0.lru);
	ASSERT_EQ(n, ep_nsval("resting"));
	for (i = 0; i < n; i++) {
		p = ep_bind0_close(variant->family, variant->type);
		ASSERT_EQ(first[i], p)
			TH_LOG("round 2, bind %d: port %d, the least recently used is %d",
			       i, p, first[i]);
	}
	rnd_read(&r2);
	ASSERT_EQ(n, r2.lru - r1.lru) TH_LOG("random_lru counts each");
	ASSERT_EQ(0, r2.ok - r1.ok);
	ASSERT_EQ(0, r2.fallback - r0.fallback) TH_LOG("never the kernel's choice");
	ASSERT_EQ(2 * n, r2.steered - r0.steered);
	ASSERT_SUMS(&r2);
}

/* ---- the only port is the destination's ---- */

FIXTURE(only_port) {
	int unused;
};

FIXTURE_VARIANT(only_port) {
	int family;
};

FIXTURE_VARIANT_ADD(only_port, ip4) { AF_INET };
FIXTURE_VARIANT_ADD(only_port, ip6) { AF_INET6 };

FIXTURE_SETUP(only_port)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(only_port)
{
}

/*
 * lo == hi == the destination port, nothing listening: the kernel's own
 * choice (observe mode) connects the socket to itself; random mode fails
 * the connect() with EADDRNOTAVAIL and counts it.
 */
TEST_F_TIMEOUT(only_port, unavailable, 300)
{
	int local = -1, err;
	struct rnd r0, r1;

	err = ep_setup_ns(LO, LO, "observe", 0);
	ASSERT_EQ(0, err) TH_LOG("namespace: %s", strerror(-err));
	err = connect_to(variant->family, LO, &local);
	TH_LOG("observe mode: connect() to its own only port: %s, local port %d",
	       err ? strerror(-err) : "connected", local);
	ASSERT_EQ(0, err) TH_LOG("the kernel's choice connects to itself");
	ASSERT_EQ(LO, local);

	EP_ASSERT_RANDOM(ep_set_ns("random", 0));
	rnd_read(&r0);
	err = connect_to(variant->family, LO, &local);
	rnd_read(&r1);
	ASSERT_EQ(-EADDRNOTAVAIL, err)
		TH_LOG("random mode: %s, local port %d", err ? strerror(-err) : "connected",
		       local);
	ASSERT_EQ(1, r1.avoided - r0.avoided) TH_LOG("self_connect_avoided counts it");
	ASSERT_EQ(1, r1.fallback - r0.fallback);
	ASSERT_EQ(1, r1.full - r0.full);
	ASSERT_EQ(1, r1.steered - r0.steered);
	ASSERT_EQ(0, r1.ok - r0.ok);
	ASSERT_EQ(0, r1.lru - r0.lru);
	ASSERT_SUMS(&r1);

	/* A second try, and a bind(0) that may have the port. */
	err = connect_to(variant->family, LO, &local);
	ASSERT_EQ(-EADDRNOTAVAIL, err);
	ASSERT_EQ(LO, ep_bind0_close(variant->family, SOCK_STREAM))
		TH_LOG("bind(0) has no destination: the port is free");
	rnd_read(&r1);
	ASSERT_EQ(2, r1.avoided - r0.avoided);
	ASSERT_SUMS(&r1);
}

/* ---- load with mode=random under traffic ---- */

#define LD_PORTS 2000
#define LD_FREE_EVERY 20	/* one port in 20 left free: 100 free ports */

struct ld_shared {
	volatile int stop, ready;
	volatile long ops, fails, held_hits;
	volatile int last_errno, held_port;
};

FIXTURE(load_random) {
	struct ld_shared *sh;
	pid_t pid;
};

FIXTURE_VARIANT(load_random) {
	int reuse;	/* SO_REUSEADDR on every socket */
};

/*
 * Without SO_REUSEADDR a pick of a held port is refused by the kernel
 * (random_fallback_refused); with it on both sides, the kernel lets a
 * non-listening port be shared, so a pick from a half-built set would
 * hand out a port that is in use: only the set ephport trusts stops it.
 */
FIXTURE_VARIANT_ADD(load_random, plain) { .reuse = 0 };
FIXTURE_VARIANT_ADD(load_random, reuseaddr) { .reuse = 1 };

FIXTURE_SETUP(load_random)
{
	self->pid = -1;
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)self->sh);
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(load_random)
{
	if (self->pid > 0) {
		self->sh->stop = 1;
		waitpid(self->pid, NULL, 0);
	}
	/* The next case finds the global mode at its default. */
	ep_reload(NULL);
}

static int is_held(int port)
{
	return port >= LO && port < LO + LD_PORTS && (port - LO) % LD_FREE_EVERY;
}

static void ld_traffic(struct ld_shared *sh, int reuse)
{
	while (!sh->stop) {
		int fd = ep_bind(AF_INET, SOCK_STREAM, 0, reuse ? SO_REUSEADDR : 0);
		int p;

		sh->ready = 1;
		if (fd < 0) {
			sh->fails++;
			sh->last_errno = -fd;
			continue;
		}
		p = ep_local_port(fd);
		close(fd);
		if (is_held(p)) {
			sh->held_hits++;
			sh->held_port = p;
		}
		sh->ops++;
	}
}

/*
 * 1900 of 2000 ports held by bound sockets, bind(0)+close without pause,
 * and ephport loaded with mode=random again and again: while the load
 * builds the namespace's set of bound ports, random mode must not choose
 * from it. No bind(0) fails (100 ports are always free), none hands out
 * a held port, the kernel refuses no choice of ephport's, and once the
 * set is built ephport chooses again.
 */
TEST_F_TIMEOUT(load_random, under_traffic, 300)
{
	long cycles = ep_figure("EPHPORT_LOAD_CYCLES", 3, 2), c, ops0;
	int held[LD_PORTS], nheld = 0, p, err, pinned = ep_tcg_smp();
	long untrusted = 0, steered = 0, refused = 0;
	struct rnd r;
	double t0;

	if (pinned) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	}
	ASSERT_EQ(0, raise_nofile(LD_PORTS + 256));
	err = ep_setup_ns(LO, LO + LD_PORTS - 1, "default", -1);
	ASSERT_EQ(0, err) TH_LOG("namespace: %s", strerror(-err));
	for (p = LO; p < LO + LD_PORTS; p++) {
		if (!is_held(p))
			continue;
		held[nheld] = ep_bind(AF_INET, SOCK_STREAM, p,
				      variant->reuse ? SO_REUSEADDR : 0);
		ASSERT_LE(0, held[nheld]) TH_LOG("hold port %d: %s", p,
						 strerror(-held[nheld]));
		nheld++;
	}
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid) {
		ld_traffic(self->sh, variant->reuse);
		_exit(0);
	}
	while (!self->sh->ready)
		usleep(1000);

	t0 = ep_now();
	for (c = 0; c < cycles; c++) {
		err = ep_reload("mode=random");
		EP_SKIP_IF_NO_RANDOM(err);
		ASSERT_EQ(0, err) TH_LOG("cycle %ld: load with mode=random: %s",
					 c, strerror(-err));
		ops0 = self->sh->ops;
		while (self->sh->ops - ops0 < 100 && ep_now() - t0 < 200)
			usleep(2000);
		rnd_read(&r);
		untrusted += r.untrusted;
		steered += r.steered;
		refused += r.refused;
		ASSERT_EQ(0, self->sh->held_hits)
			TH_LOG("cycle %ld: bind(0) handed out port %d, which a socket holds",
			       c, self->sh->held_port);
		ASSERT_EQ(0, r.refused)
			TH_LOG("cycle %ld: the kernel refused %ld of ephport's picks: chosen from an untrusted set",
			       c, r.refused);
	}
	self->sh->stop = 1;
	waitpid(self->pid, NULL, 0);
	self->pid = -1;
	TH_LOG("%ld loads with mode=random in %.1f s (%s), %d ports held%s: %ld bind(0), %ld failed (last %s); steered %ld, untrusted %ld, refused %ld",
	       cycles, ep_now() - t0, pinned ? "pinned to CPU 0" : "free",
	       nheld, variant->reuse ? " with SO_REUSEADDR" : "",
	       self->sh->ops, self->sh->fails, strerror(self->sh->last_errno),
	       steered, untrusted, refused);
	ASSERT_EQ(0, self->sh->fails) TH_LOG("a bind(0) failed with free ports");
	ASSERT_EQ(0, self->sh->held_hits);

	/* Quiet now: the set is built, ephport chooses, the sums hold. */
	for (c = 0; c < 500; c++) {
		p = ep_bind0_close(AF_INET, SOCK_STREAM);
		ASSERT_LE(0, p);
		ASSERT_FALSE(is_held(p)) TH_LOG("port %d is held", p);
		if (ep_nsval("random_ok") > 0)
			break;
		usleep(10000);
	}
	ASSERT_LT(0, ep_nsval("random_ok")) TH_LOG("ephport chooses once the set is built");
	rnd_read(&r);
	ASSERT_SUMS(&r);
	ASSERT_EQ(0, r.refused);
	while (nheld--)
		close(held[nheld]);
}

/* ---- one namespace's load leaves another's random mode alone ---- */

/* At most; busy_threads() and busy_ports() give this run's figures. */
#define BUSY_THREADS_MAX 500

static long busy_threads(void)
{
	long n = ep_figure("EPHPORT_BUSY_THREADS", BUSY_THREADS_MAX, 200);

	return n < 1 || n > BUSY_THREADS_MAX ? BUSY_THREADS_MAX : n;
}

/* A long scan: most threads are preempted inside the kernel's search. */
static long busy_ports(void)
{
	return ep_figure("EPHPORT_BUSY_PORTS", 1000, 400);
}

struct busy_shared {
	volatile int stop, ready, started;
	int gate[2];	/* a pipe: the threads start when it closes */
	volatile long attempts, unavailable, other;
	volatile long inflight;	/* threads inside a connect() now */
	volatile int setup_err;	/* its switch to random mode: 0 or -errno */
};

static void *busy_thread(void *arg)
{
	struct busy_shared *sh = arg;
	int local, err;
	char c;

	__sync_fetch_and_add(&sh->started, 1);
	if (read(sh->gate[0], &c, 1) != 0)
		return NULL;
	while (!sh->stop) {
		__sync_fetch_and_add(&sh->inflight, 1);
		err = connect_to(AF_INET, EP_SERVER_PORT, &local);
		__sync_fetch_and_sub(&sh->inflight, 1);
		__sync_fetch_and_add(&sh->attempts, 1);
		if (err == -EADDRNOTAVAIL)
			__sync_fetch_and_add(&sh->unavailable, 1);
		else
			__sync_fetch_and_add(&sh->other, 1);
	}
	return NULL;
}

/* A namespace whose range is full, and busy_threads() connecting into it. */
static void busy_namespace(struct busy_shared *sh)
{
	static pthread_t thr[BUSY_THREADS_MAX];
	long nthreads = busy_threads(), nports = busy_ports();
	pthread_attr_t attr;
	int lfd, fd, i, n = 0;

	sh->setup_err = ep_setup_ns(LO, LO + nports - 1, "random", 0);
	if (sh->setup_err || nice(19) < 0)
		_exit(2);
	lfd = ep_listener(AF_INET, EP_SERVER_PORT);
	if (lfd < 0)
		_exit(3);
	/* Every port of the range connected to the one destination. */
	while ((fd = ep_connect(AF_INET, EP_SERVER_PORT)) >= 0) {
		if (accept(lfd, NULL, NULL) < 0)	/* room in the backlog */
			_exit(6);
		n++;
	}
	if (n != nports || fd != -EADDRNOTAVAIL)
		_exit(4);
	/* The threads wait, blocked, until every one exists. */
	if (pipe(sh->gate))
		_exit(7);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&thr[i], &attr, busy_thread, sh))
			_exit(5);
	close(sh->gate[1]);
	sh->ready = 1;
	for (i = 0; i < nthreads; i++)
		pthread_join(thr[i], NULL);
	_exit(0);
}

FIXTURE(busy) {
	struct busy_shared *sh;
	pid_t pid;
};

FIXTURE_SETUP(busy)
{
	self->pid = -1;
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, (void *)self->sh);
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(busy)
{
	/* Its threads must not outlive the case, whatever failed. */
	if (self->pid > 0) {
		self->sh->stop = 1;
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
}

/*
 * One namespace in random mode with its range full (every port connected
 * to the one destination), 500 threads connecting there again and again:
 * each call goes to the kernel's fallback and fails. Another namespace in
 * random mode meanwhile gets ephport's choice for every connect().
 */
TEST_F_TIMEOUT(busy, neighbour_keeps_random, 300)
{
	struct busy_shared *sh = self->sh;
	long n = ep_figure("EPHPORT_BUSY_CONNECTS", 200, 50), i, a0, busy_ok;
	long nthreads = busy_threads(), nports = busy_ports();
	long busy_min = nthreads, busy_sum = 0, b;
	int lfd, err, local, status = 0;
	struct rnd r0, r1;
	double t0;

	ASSERT_EQ(0, raise_nofile(4 * nports + 256));
	self->pid = fork();
	ASSERT_LE(0, self->pid);
	if (!self->pid)
		busy_namespace(sh);
	t0 = ep_now();
	while (!sh->ready && ep_now() - t0 < 180) {
		if (waitpid(self->pid, &status, WNOHANG) == self->pid) {
			self->pid = -1;
			break;
		}
		usleep(10000);
	}
	if (!sh->ready)
		EP_SKIP_IF_NO_RANDOM(sh->setup_err);
	ASSERT_TRUE(sh->ready) TH_LOG("the busy namespace did not start (%d threads, exit status %d)",
				      sh->started, status);

	err = ep_setup_ns(LO, LO + 999, "random", 0);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("namespace in random mode: %s", strerror(-err));
	lfd = ep_listener(AF_INET, EP_SERVER_PORT);
	ASSERT_LE(0, lfd);
	/* Every busy thread under way first (they have just been let go). */
	for (i = 0; i < 3000 && sh->inflight < nthreads * 9 / 10; i++)
		usleep(10000);
	a0 = sh->attempts;
	rnd_read(&r0);
	t0 = ep_now();
	for (i = 0; i < n; i++) {
		int afd;

		b = sh->inflight;
		busy_sum += b;
		if (b < busy_min)
			busy_min = b;
		err = connect_to(AF_INET, EP_SERVER_PORT, &local);
		ASSERT_EQ(0, err) TH_LOG("connect %ld: %s", i, strerror(-err));
		afd = accept(lfd, NULL, NULL);
		if (afd >= 0)
			close(afd);
	}
	rnd_read(&r1);
	busy_ok = sh->attempts - a0;
	sh->stop = 1;
	waitpid(self->pid, &status, 0);
	self->pid = -1;
	TH_LOG("%ld connects in %.1f s beside %ld threads, %ld to %.0f of them in connect() at each (min to mean), that made %ld connects into a full range of %ld ports (%ld unavailable, %ld otherwise)",
	       n, ep_now() - t0, nthreads, busy_min, (double)busy_sum / n,
	       busy_ok, nports, sh->unavailable, sh->other);
	ASSERT_EQ(n, r1.ok - r0.ok) TH_LOG("ephport chose every port here");
	ASSERT_EQ(0, r1.fallback - r0.fallback);
	ASSERT_LE(nthreads / 2, busy_min)
		TH_LOG("most of the busy threads were in connect() all along");
	ASSERT_LT(0, busy_ok) TH_LOG("the busy namespace's calls go through");
	ASSERT_EQ(0, sh->other) TH_LOG("the busy namespace's calls fail with EADDRNOTAVAIL only");
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_SUMS(&r1);
	close(lfd);
}

TEST_HARNESS_MAIN
