/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ephport_stress_cycles and ephport_stress_heavy share: traffic
 * workers, each in a namespace of its own, that connect(), bind(0) and
 * autobind UDP round after round (to a server that resets half of the
 * connections) and count what each call gave; in random mode they also
 * check that no port is handed out again before its reuse delay.
 *
 * Each program includes this once, after defining _GNU_SOURCE.
 */
#ifndef EPHPORT_STRESS_H
#define EPHPORT_STRESS_H

#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
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
	volatile int mode_err;	/* its switch to random mode: 0 or -errno */
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

static inline struct workers *workers_map(void)
{
	void *p = mmap(NULL, sizeof(struct workers), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* The server of a worker: accepts on both listeners, resets every other. */
static inline void *acceptor(void *arg)
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
static inline void reuse_check(struct workers *ws, int idx, int proto,
			       int port, double chosen_by,
			       const struct worker_cfg *cfg)
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
static inline void check_and_close(struct workers *ws, int idx, int proto,
				   int fd, const struct worker_cfg *cfg)
{
	int port = ep_local_port(fd);
	double t1;

	reuse_check(ws, idx, proto, port, ep_now(), cfg);
	t1 = ep_now();
	close(fd);
	if (port > 0)
		ws->freed[idx][proto][port] = t1;
}

static inline void note_op(struct worker *w, int op, int ret)
{
	if (ret >= 0) {
		w->ok[op]++;
	} else {
		w->fail[op]++;
		w->last_errno[op] = -ret;
	}
}

static inline void worker_run(struct workers *ws, int idx,
			      const struct worker_cfg *cfg)
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
		w->mode_err = ep_write(EP_SYSCTL "/mode", "random");
		if (w->mode_err || ep_write(EP_SYSCTL "/reuse_delay_ms", val))
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

/*
 * Forks the workers and waits until each is in its namespace; 0, or a
 * worker's failed switch to random mode (-errno), or -1.
 */
static inline int workers_start(struct workers *ws, const struct worker_cfg *cfg)
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
				return ws->w[i].mode_err ? ws->w[i].mode_err : -1;
			usleep(10000);
		}
		if (!ws->w[i].ready)
			return -1;
	}
	return 0;
}

static inline void workers_wait_done(struct workers *ws)
{
	int i;

	for (i = 0; i < NWORKERS; i++)
		while (!ws->w[i].done)
			usleep(10000);
}

static inline void workers_end(struct workers *ws)
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
static inline void workers_unmap(struct workers *ws)
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
static inline long workers_report(struct __test_metadata *_metadata,
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
static inline int workers_park(struct workers *ws)
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
static inline void workers_unpark(struct workers *ws, int rounds)
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
static inline int workers_park_timed(struct workers *ws, int quiesce,
				     double *t_wait)
{
	double t = ep_now();
	int err = quiesce ? workers_park(ws) : 0;

	*t_wait += ep_now() - t;
	return err;
}

#endif /* EPHPORT_STRESS_H */
