// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_icount: the instruction counts behind "make bench" and
 * "bench/bench.sh --check", run inside a VM booted with vm.sh --icount
 * (QEMU's -icount shift=0,sleep=off, one vCPU). There the guest's clock
 * advances one nanosecond per instruction executed: the nanoseconds an
 * operation takes are the instructions the vCPU ran for it (the kernel's
 * and this program's, interrupts and kernel threads included), whatever
 * the host's load. icount.sh loads and unloads ephport between runs.
 *
 *   ephport_icount calib
 *	2 x 10^8 instructions of a known loop, timed: 1.00 ns each under
 *	-icount, a fraction of that (the host's speed) without it.
 *
 *   ephport_icount count OP SECONDS DELAY_MS
 *	OP (connect, bind or udp, below) in a new namespace with the
 *	kernel's default range, 200 untimed, then for SECONDS of guest
 *	time. DELAY_MS: the namespace's net.ephport.reuse_delay_ms, where
 *	the sysctl exists (random mode), "-" for none.
 *
 *   ephport_icount rest OP LO HI PCT OPS DELAY_MS
 *	In a new namespace with the range [LO, HI] and the delay DELAY_MS:
 *	16 operations held (their ports bound, so warm, not resting), then
 *	PCT % of the range's ports released (bound and closed one by one,
 *	the same ports in every mode and run, spread over the range), then
 *	OPS operations timed. In random mode every port released rests for
 *	the delay, so PCT % of the range rests when the timed operations
 *	start and (PCT % + OPS) ports after them; the delay is set far
 *	longer than the run takes, so none stops resting meanwhile. The
 *	module's own count (the namespace's "resting") is printed before
 *	and after.
 *
 *   ephport_icount bound OP LO HI PCT[,PCT...] OPS
 *	In a new namespace with the range [LO, HI] and a delay of 0 (no
 *	port rests): for each PCT in turn, the operation's sockets held
 *	open until PCT % of the range is bound, then OPS operations timed.
 *
 * The operations: "connect", TCP connect() to a listener on 127.0.0.1,
 * accept(), close with SO_LINGER 0 (an RST: no TIME_WAIT), close the
 * accepted socket; "bind", TCP bind() to 0.0.0.0:0, close; "udp",
 * sendto() on an unbound UDP socket (autobind) to a local sink whose
 * full buffer drops what arrives, close.
 *
 * Results are lines "R case=icount kind=... key=value ..."; the
 * counters are what the namespace's ephport counters moved by over the
 * timed operations (-1 without ephport).
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "ephport_test.h"	/* the selftests' helpers */

#define LISTEN_PORT	5000	/* below every range used here */
#define SINK_PORT	5001
#define WARMUP_OPS	200	/* count: untimed operations first */
#define HELD_WARMUP	16	/* rest: operations held before the timing */
#define BATCH		16	/* count: operations between clock reads */
#define MAX_RANGE	65536
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define QUIESCE_US	500000	/* guest idle before a rest or bound timing */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ephport_icount: ");
	vfprintf(stderr, fmt, ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* The guest's clock in ns: under -icount, instructions executed. */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

enum op { OP_CONNECT, OP_BIND, OP_UDP };

static const char *const op_names[] = { "connect", "bind", "udp" };

/* The namespace's counter of the operations ephport saw succeed. */
static const char *const op_counters[] = {
	"tcp_connect_ok", "tcp_bind_ok", "udp_ok",
};

static enum op parse_op(const char *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(op_names); i++)
		if (!strcmp(s, op_names[i]))
			return i;
	errno = 0;
	die("unknown operation '%s' (connect, bind, udp)", s);
	return OP_CONNECT;
}

/* What the operations need in the namespace: a listener or a sink. */
struct target {
	enum op op;
	int lfd;	/* connect: the listener */
	int sfd;	/* udp: the sink */
};

static void target_open(struct target *t, enum op op)
{
	int rcvbuf = 4096;

	t->op = op;
	t->lfd = -1;
	t->sfd = -1;
	if (op == OP_CONNECT) {
		t->lfd = ep_listener(AF_INET, LISTEN_PORT);
		if (t->lfd < 0) {
			errno = -t->lfd;
			die("listener on port %d", LISTEN_PORT);
		}
	} else if (op == OP_UDP) {
		/* A small buffer: full, it drops what comes. */
		t->sfd = ep_bind(AF_INET, SOCK_DGRAM, SINK_PORT, SO_REUSEADDR);
		if (t->sfd < 0) {
			errno = -t->sfd;
			die("sink on port %d", SINK_PORT);
		}
		setsockopt(t->sfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
	}
}

/*
 * One operation, its sockets left open in *fd and *afd (the accepted
 * one, or -1): 0, or -1 if it failed.
 */
static int op_open(const struct target *t, int *fd, int *afd)
{
	struct sockaddr_storage ss;
	struct sockaddr_in a;
	socklen_t len;

	*afd = -1;
	switch (t->op) {
	case OP_CONNECT:
		len = ep_loopback(AF_INET, &ss, LISTEN_PORT);
		*fd = socket(AF_INET, SOCK_STREAM, 0);
		if (*fd < 0)
			return -1;
		if (connect(*fd, (struct sockaddr *)&ss, len)) {
			close(*fd);
			return -1;
		}
		*afd = accept(t->lfd, NULL, NULL);
		return 0;
	case OP_BIND:
		*fd = socket(AF_INET, SOCK_STREAM, 0);
		if (*fd < 0)
			return -1;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		if (bind(*fd, (struct sockaddr *)&a, sizeof(a))) {
			close(*fd);
			return -1;
		}
		return 0;
	case OP_UDP:
		*fd = ep_udp_autobind(AF_INET, SINK_PORT);
		return *fd < 0 ? -1 : 0;
	}
	return -1;
}

static void op_close(int fd, int afd)
{
	if (afd >= 0) {
		ep_close_now(fd);
		close(afd);
	} else {
		close(fd);
	}
}

/* One whole operation: open, then close. 0, or -1 if it failed. */
static int op_run(const struct target *t)
{
	int fd, afd;

	if (op_open(t, &fd, &afd))
		return -1;
	op_close(fd, afd);
	return 0;
}

/* The namespace's ephport counters, before and after the timing. */
struct counters {
	long hooked, random_ok, random_lru, random_fallback;
};

static void counters_read(struct counters *c, enum op op)
{
	c->hooked = ep_nsval(op_counters[op]);
	c->random_ok = ep_nsval("random_ok");
	c->random_lru = ep_nsval("random_lru");
	c->random_fallback = ep_nsval("random_fallback");
}

static long delta(long before, long after)
{
	return before < 0 || after < 0 ? -1 : after - before;
}

/* The timed operations' result line, less its newline. */
static void print_result(const char *kind, enum op op, long ops, long fails,
			 long long ns, const struct counters *c0,
			 const struct counters *c1)
{
	printf("R case=icount kind=%s op=%s ops=%ld fail=%ld ns=%lld insn_op=%.1f hooked=%ld random_ok=%ld random_lru=%ld random_fallback=%ld",
	       kind, op_names[op], ops, fails, ns,
	       ops ? (double)ns / ops : 0, delta(c0->hooked, c1->hooked),
	       delta(c0->random_ok, c1->random_ok),
	       delta(c0->random_lru, c1->random_lru),
	       delta(c0->random_fallback, c1->random_fallback));
}

/* @ops operations timed together: their ns, failures in *fails. */
static long long time_ops(const struct target *t, long ops, long *fails)
{
	long long t0 = now_ns();
	long i;

	*fails = 0;
	for (i = 0; i < ops; i++)
		if (op_run(t))
			(*fails)++;
	return now_ns() - t0;
}

/*
 * The namespace's reuse_delay_ms, where the sysctl exists (ephport
 * loaded); "-" leaves it. Which one took it, for the result line.
 */
static const char *set_delay(const char *delay)
{
	if (!strcmp(delay, "-"))
		return "none";
	if (!ep_exists(EP_SYSCTL "/reuse_delay_ms"))
		return "absent";
	if (ep_write(EP_SYSCTL "/reuse_delay_ms", delay))
		die("net.ephport.reuse_delay_ms = %s", delay);
	return "netns";
}

static void new_netns(int lo, int hi)
{
	int err = ep_enter_netns();

	if (!err && lo)
		err = ep_set_range(lo, hi);
	if (err) {
		errno = -err;
		die("a new namespace (range %d-%d)", lo, hi);
	}
}

/*
 * Sockets just closed (the preparation's) are freed after an RCU grace
 * period, UDP's among them, in softirq on the one vCPU: the guest idles
 * a moment first, so that this work is not counted with the timed
 * operations. Under sleep=off an idle guest's clock jumps ahead: the
 * pause costs the host nothing.
 */
static void quiesce(void)
{
	usleep(QUIESCE_US);
}

static void raise_nofile(rlim_t n)
{
	struct rlimit rl = { .rlim_cur = n, .rlim_max = n };

	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit(RLIMIT_NOFILE, %lu)", (unsigned long)n);
}

/* A loop of exactly 2 * @n instructions. */
static void spin(long n)
{
	__asm__ volatile("1:\n\tdec %0\n\tjnz 1b" : "+r"(n));
}

static int cmd_calib(void)
{
	const long n = 100000000;
	long long ns;

	spin(n / 100);
	ns = now_ns();
	spin(n);
	ns = now_ns() - ns;
	printf("R case=calib insns=%ld ns=%lld ns_per_insn=%.4f\n", 2 * n,
	       ns, (double)ns / (2 * n));
	return 0;
}

static int cmd_count(int argc, char **argv)
{
	struct counters c0, c1;
	struct target t;
	long long limit, t0, ns;
	long ops = 0, fails = 0, i;
	const char *delay;
	enum op op;

	if (argc != 3)
		die("usage: count OP SECONDS DELAY_MS");
	op = parse_op(argv[0]);
	limit = (long long)(atof(argv[1]) * 1e9);
	new_netns(0, 0);
	delay = set_delay(argv[2]);
	target_open(&t, op);
	for (i = 0; i < WARMUP_OPS; i++)
		op_run(&t);
	counters_read(&c0, op);
	t0 = now_ns();
	do {
		for (i = 0; i < BATCH; i++)
			if (op_run(&t))
				fails++;
		ops += BATCH;
		ns = now_ns() - t0;
	} while (ns < limit);
	counters_read(&c1, op);
	print_result("count", op, ops - fails, fails, ns, &c0, &c1);
	printf(" delay=%s delay_ms=%s\n", delay, argv[2]);
	return fails ? 1 : 0;
}

/*
 * The order the "rest" case releases ports in: a permutation of the
 * range from a fixed seed (the same ports in every mode and run),
 * spread over the range as the ports of a busy host are.
 */
static void shuffle(int *v, int n)
{
	unsigned long long x = 0x9e3779b97f4a7c15ull;
	int i, j, tmp;

	for (i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (unsigned long long)(i + 1);
		tmp = v[i];
		v[i] = v[j];
		v[j] = tmp;
	}
}

/* Bind @port with the operation's protocol, then close it: released. */
static int release_port(enum op op, int port)
{
	int fd = ep_bind(AF_INET, op == OP_UDP ? SOCK_DGRAM : SOCK_STREAM,
			 port, 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int cmd_rest(int argc, char **argv)
{
	int lo, hi, n, pct, target, released = 0, i, *ports, *port_used;
	int fds[HELD_WARMUP], afds[HELD_WARMUP];
	struct counters c0, c1;
	struct target t;
	long ops, fails, resting0, resting1;
	const char *delay;
	long long ns;
	enum op op;

	if (argc != 6)
		die("usage: rest OP LO HI PCT OPS DELAY_MS");
	op = parse_op(argv[0]);
	lo = atoi(argv[1]);
	hi = atoi(argv[2]);
	pct = atoi(argv[3]);
	ops = atol(argv[4]);
	n = hi - lo + 1;
	target = (int)((long)n * pct / 100);
	if (lo <= SINK_PORT || n < 1 || hi >= MAX_RANGE || pct < 0 ||
	    pct > 100 || ops < 1 || target + HELD_WARMUP + ops > n)
		die("bad rest arguments");
	ports = calloc(n, sizeof(*ports));
	port_used = calloc(MAX_RANGE, sizeof(*port_used));
	if (!ports || !port_used)
		die("calloc");
	new_netns(lo, hi);
	delay = set_delay(argv[5]);
	target_open(&t, op);

	/* Warm: the operation's paths, ephport's first choices. */
	for (i = 0; i < HELD_WARMUP; i++) {
		if (op_open(&t, &fds[i], &afds[i]))
			die("operation %d of the warm-up", i + 1);
		port_used[ep_local_port(fds[i])] = 1;
	}
	/* PCT % of the range released now, none of them held. */
	for (i = 0; i < n; i++)
		ports[i] = lo + i;
	shuffle(ports, n);
	for (i = 0; i < n && released < target; i++) {
		if (port_used[ports[i]])
			continue;
		if (release_port(op, ports[i]))
			die("releasing port %d", ports[i]);
		released++;
	}
	if (released < target)
		die("released %d ports of %d", released, target);
	quiesce();

	resting0 = ep_nsval("resting");
	counters_read(&c0, op);
	ns = time_ops(&t, ops, &fails);
	counters_read(&c1, op);
	resting1 = ep_nsval("resting");
	print_result("rest", op, ops - fails, fails, ns, &c0, &c1);
	printf(" pct=%d range=%d released=%d held=%d resting0=%ld resting1=%ld delay=%s delay_ms=%s\n",
	       pct, n, released, HELD_WARMUP, resting0, resting1, delay,
	       argv[5]);
	for (i = 0; i < HELD_WARMUP; i++)
		op_close(fds[i], afds[i]);
	free(ports);
	free(port_used);
	return fails ? 1 : 0;
}

static int cmd_bound(int argc, char **argv)
{
	int lo, hi, n, held = 0, *fds, *afds, i, rc = 0;
	struct counters c0, c1;
	struct target t;
	long ops, fails;
	const char *delay;
	char *p;
	long long ns;
	enum op op;

	if (argc != 5)
		die("usage: bound OP LO HI PCT[,PCT...] OPS");
	op = parse_op(argv[0]);
	lo = atoi(argv[1]);
	hi = atoi(argv[2]);
	ops = atol(argv[4]);
	n = hi - lo + 1;
	if (lo <= SINK_PORT || n < 1 || hi >= MAX_RANGE || ops < 1)
		die("bad bound arguments");
	raise_nofile(2 * n + 64);
	fds = calloc(n, sizeof(*fds));
	afds = calloc(n, sizeof(*afds));
	if (!fds || !afds)
		die("calloc");
	new_netns(lo, hi);
	delay = set_delay("0");
	target_open(&t, op);

	for (p = strtok(argv[3], ","); p; p = strtok(NULL, ",")) {
		int pct = atoi(p), target = (int)((long)n * pct / 100);

		if (pct < 0 || target >= n)
			die("bad occupancy %s %%", p);
		while (held < target) {
			if (op_open(&t, &fds[held], &afds[held]))
				die("binding %d %% of the range (%d held)",
				    pct, held);
			held++;
		}
		/* Warm: at this occupancy, untimed. */
		for (i = 0; i < BATCH; i++)
			op_run(&t);
		quiesce();
		counters_read(&c0, op);
		ns = time_ops(&t, ops, &fails);
		counters_read(&c1, op);
		print_result("bound", op, ops - fails, fails, ns, &c0, &c1);
		printf(" pct=%d range=%d held=%d delay=%s delay_ms=0\n", pct,
		       n, held, delay);
		if (fails)
			rc = 1;
	}
	for (i = 0; i < held; i++)
		op_close(fds[i], afds[i]);
	free(fds);
	free(afds);
	return rc;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "calib"))
		return cmd_calib();
	if (argc >= 2 && !strcmp(argv[1], "count"))
		return cmd_count(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "rest"))
		return cmd_rest(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "bound"))
		return cmd_bound(argc - 2, argv + 2);
	fprintf(stderr,
		"usage: ephport_icount calib\n"
		"       ephport_icount count connect|bind|udp SECONDS DELAY_MS|-\n"
		"       ephport_icount rest OP LO HI PCT OPS DELAY_MS|-\n"
		"       ephport_icount bound OP LO HI PCT[,PCT...] OPS\n");
	return 2;
}
