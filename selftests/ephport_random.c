// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_random: random mode.
 *
 * Every case runs in a namespace of its own (the harness forks each
 * case; unshare(CLONE_NEWNET)) with the range pinned and the namespace
 * put in random mode through net.ephport.mode: uniform ports, the reuse
 * delay, no self-connect, the same capacity as the kernel's algorithm
 * (fallback), every protocol path, the controls and module parameters,
 * and mode changes under traffic. No case needs another to have run:
 * each fixture's setup loads ephport if it is not loaded.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include <poll.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define LO 40000

/* ---- helpers ---- */

/*
 * connect() to loopback:port, then accept what @lfd has (waiting up to
 * 1 s, never forever: a connection reset before the server saw it leaves
 * nothing to accept); the local port or -errno.
 */
static int connect_once(int family, int lfd, int port)
{
	int fd = ep_connect(family, port), afd, p;
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (fd < 0)
		return fd;
	p = ep_local_port(fd);
	ep_close_now(fd);
	if (lfd < 0)
		return p;
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	if (poll(&pfd, 1, 1000) <= 0)
		return p;
	while ((afd = accept(lfd, NULL, NULL)) >= 0)
		close(afd);
	return p;
}

/* chi-square of @n draws over 10 equal bins of [lo, lo + 10 * width). */
static double chi_square(const int *ports, int n, int lo, int width)
{
	int bins[10] = {}, i;
	double e = n / 10.0, chi = 0;

	for (i = 0; i < n; i++)
		bins[(ports[i] - lo) / width]++;
	for (i = 0; i < 10; i++)
		chi += (bins[i] - e) * (bins[i] - e) / e;
	return chi;
}

/* Share of consecutive draws within 16 ports of each other. */
static double clustered(const int *ports, int n)
{
	int i, near = 0;

	for (i = 1; i < n; i++)
		near += abs(ports[i] - ports[i - 1]) <= 16;
	return n > 1 ? (double)near / (n - 1) : 0;
}

/* Cases that need ephport loaded and nothing else set up. */
FIXTURE(loaded) {
	int unused;
};

FIXTURE_SETUP(loaded)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(loaded)
{
}

/* The same, for cases longer than the harness's default 30 s under TCG. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
}

FIXTURE_TEARDOWN(slow)
{
}

/* ---- uniformity ---- */

/*
 * 1000 ports, N connects to one destination in random mode: a chi-square
 * over 10 bins below 27.88 (p > 0.001, 9 df), and no sequence (3.3% of
 * consecutive ports within 16 of each other for uniform draws). Observe
 * mode, on the same kernel and range, shows the kernel's sequence.
 */
TEST_F_TIMEOUT(slow, uniform_connect, 240)
{
	long n = ep_figure("EPHPORT_RANDOM_N", 2000, 600);
	int *ports = calloc(n, sizeof(int));
	long ok0, fb0, i;
	double chi, cl, cl_obs;
	int lfd, err;

	ASSERT_NE(NULL, ports);
	err = ep_setup_ns(LO, LO + 999, "random", 0);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("namespace in random mode: %s", strerror(-err));
	lfd = ep_listener(AF_INET, EP_SERVER_PORT);
	ASSERT_LE(0, lfd);
	ok0 = ep_nsval("random_ok");
	fb0 = ep_nsval("random_fallback");
	for (i = 0; i < n; i++) {
		ports[i] = connect_once(AF_INET, lfd, EP_SERVER_PORT);
		ASSERT_LE(LO, ports[i]) TH_LOG("connect %ld: %d", i, ports[i]);
		ASSERT_GE(LO + 999, ports[i]);
	}
	chi = chi_square(ports, n, LO, 100);
	cl = clustered(ports, n);
	ASSERT_EQ(n, ep_nsval("random_ok") - ok0) TH_LOG("every port chosen by ephport");
	ASSERT_EQ(0, ep_nsval("random_fallback") - fb0);

	ASSERT_EQ(0, ep_set_ns("observe", 0));
	for (i = 0; i < n; i++) {
		ports[i] = connect_once(AF_INET, lfd, EP_SERVER_PORT);
		ASSERT_LE(LO, ports[i]) TH_LOG("observe connect %ld: %d", i, ports[i]);
	}
	cl_obs = clustered(ports, n);
	TH_LOG("%ld connects over 1000 ports: random mode chi-square %.2f (p > 0.001 below 27.88), %.1f%% of consecutive ports within 16; observe mode %.1f%% (chi-square %.2f)",
	       n, chi, cl * 100, cl_obs * 100, chi_square(ports, n, LO, 100));
	ASSERT_GT(27.88, chi) TH_LOG("random mode is uniform");
	ASSERT_GT(0.15, cl) TH_LOG("random mode is not sequential");
	ASSERT_LT(0.5, cl_obs) TH_LOG("the kernel's own order is sequential");
	close(lfd);
	free(ports);
}

/* ---- reuse delay ---- */

/*
 * 10 ports, 1 s delay: nine bind(0)/close give nine distinct ports, the
 * tenth must be the one port left (a released port is never handed out
 * again while another is free); the eleventh, every port resting, is
 * the one released first, and so on; after the delay nothing rests and
 * ephport draws again.
 */
TEST_F(loaded, reuse_delay)
{
	int seen[10] = {}, order[10], p, i, err, delay = 1000;
	long ok0, lru0, fb0, n;
	double t0;

	err = ep_setup_ns(LO, LO + 9, "random", delay);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err);
	ASSERT_EQ(delay, ep_nsval("reuse_delay_ms"));
	ok0 = ep_nsval("random_ok");
	fb0 = ep_nsval("random_fallback");
	for (i = 0; i < 10; i++) {
		p = ep_bind0_close(AF_INET, SOCK_STREAM);
		ASSERT_LE(LO, p) TH_LOG("bind %d: %d", i, p);
		ASSERT_GE(LO + 9, p);
		ASSERT_EQ(0, seen[p - LO]) TH_LOG("port %d again within the delay", p);
		seen[p - LO] = 1;
		order[i] = p;
	}
	ASSERT_EQ(10, ep_nsval("random_ok") - ok0);
	ASSERT_EQ(10, ep_nsval("resting"));
	lru0 = ep_nsval("random_lru");
	p = ep_bind0_close(AF_INET, SOCK_STREAM);
	ASSERT_EQ(order[0], p) TH_LOG("everything rests: the port released first");
	ASSERT_EQ(1, ep_nsval("random_lru") - lru0);
	/* UDP shares the resting ports. */
	t0 = ep_now();
	p = ep_bind0_close(AF_INET, SOCK_DGRAM);
	ASSERT_EQ(order[1], p);
	ASSERT_EQ(2, ep_nsval("random_lru") - lru0);

	/*
	 * Still resting short of the delay, if this read ends before it (a
	 * loaded host can hold the VM up past it), and none rests once the
	 * delay is over: the work that sweeps them is due then, but it and
	 * this test may wake together after such a hold, in either order,
	 * so the test waits for it (up to 5 s more).
	 */
	usleep((delay - 300) * 1000);
	n = ep_nsval("resting");
	if (ep_now() - t0 < (delay - 50) / 1000.0)
		ASSERT_LE(1, n) TH_LOG("a port rests until its delay is over");
	while ((n = ep_nsval("resting")) && ep_now() - t0 < delay / 1000.0 + 5)
		usleep(50 * 1000);
	TH_LOG("nothing rests %.0f ms after the last release (delay %d ms)",
	       (ep_now() - t0) * 1000, delay);
	ASSERT_LE(delay / 1000.0, ep_now() - t0);
	ASSERT_EQ(0, n) TH_LOG("the delay is over");
	ok0 = ep_nsval("random_ok");
	p = ep_bind0_close(AF_INET, SOCK_STREAM);
	ASSERT_LE(LO, p);
	ASSERT_EQ(1, ep_nsval("random_ok") - ok0) TH_LOG("ephport chooses again");
	ASSERT_EQ(2, ep_nsval("random_lru") - lru0);
	ASSERT_EQ(0, ep_nsval("random_fallback") - fb0) TH_LOG("the kernel never chose");
	TH_LOG("10 ports, delay %d ms: 10 distinct ports, then the oldest, then random again after the delay",
	       delay);
}

/* ---- self-connect ---- */

/* connect() to 127.0.0.1:@dport (no listener): 1 if it connected to itself. */
static int self_connect_once(int dport, int *err)
{
	int fd = ep_connect(AF_INET, dport), self = 0;

	*err = fd < 0 ? -fd : 0;
	if (fd < 0)
		return 0;
	self = ep_local_port(fd) == dport;
	ep_close_now(fd);
	return self;
}

TEST_F_TIMEOUT(slow, self_connect, 120)
{
	long tries = ep_figure("EPHPORT_SELF_TRIES", 300, 150), i;
	int dport = LO + 4, err, nself = 0, self_obs = 0, refused = 0;
	long avoided0, fb0;

	/* Delay 0: no port rests, so ephport chooses every time. */
	err = ep_setup_ns(LO, LO + 9, "random", 0);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err);
	avoided0 = ep_nsval("self_connect_avoided");
	fb0 = ep_nsval("random_fallback");
	for (i = 0; i < tries; i++) {
		nself += self_connect_once(dport, &err);
		refused += err == ECONNREFUSED;
	}
	ASSERT_EQ(0, nself) TH_LOG("random mode never connects a socket to itself");
	ASSERT_EQ(tries, refused) TH_LOG("every connect() refused");
	ASSERT_EQ(0, ep_nsval("random_fallback") - fb0) TH_LOG("no fallback");
	ASSERT_EQ(tries, ep_nsval("self_connect_avoided") - avoided0)
		TH_LOG("the destination port was skipped every time");

	ASSERT_EQ(0, ep_set_ns("observe", 0));
	for (i = 0; i < tries; i++)
		self_obs += self_connect_once(dport, &err);
	TH_LOG("%ld connect()s to 127.0.0.1:%d from [%d, %d]: random mode %d self-connects, observe mode %d",
	       tries, dport, LO, LO + 9, nself, self_obs);
	ASSERT_LT(0, self_obs) TH_LOG("the kernel's order reaches the port");
}

/* ---- capacity: the fallback keeps everything the kernel allows ---- */

#define NDEST 3
#define CAP_RANGE 20

/* Connections to NDEST destinations until one fails; how many. */
static int fill(int *fds, int max, int *last_err)
{
	int n = 0, d, fd;

	*last_err = 0;
	for (d = 0; d < NDEST; d++) {
		for (;;) {
			if (n == max)
				return n;
			fd = ep_connect(AF_INET, EP_SERVER_PORT + d);
			if (fd < 0) {
				*last_err = -fd;
				break;
			}
			fds[n++] = fd;
		}
	}
	return n;
}

TEST_F_TIMEOUT(slow, capacity, 120)
{
	int fds[256], lfd[NDEST], n_obs, n_rand, err_obs, err_rand, i, err;
	long ok0, full0;

	err = ep_setup_ns(LO, LO + CAP_RANGE - 1, "observe", 60000);
	ASSERT_EQ(0, err);
	for (i = 0; i < NDEST; i++) {
		lfd[i] = ep_listener(AF_INET, EP_SERVER_PORT + i);
		ASSERT_LE(0, lfd[i]);
	}
	n_obs = fill(fds, 256, &err_obs);
	for (i = 0; i < n_obs; i++)
		ep_close_now(fds[i]);

	EP_ASSERT_RANDOM(ep_set_ns("random", 60000));
	ok0 = ep_nsval("random_ok");
	full0 = ep_nsval("random_fallback_full");
	n_rand = fill(fds, 256, &err_rand);
	for (i = 0; i < n_rand; i++)
		ep_close_now(fds[i]);
	TH_LOG("%d ports, %d destinations: %d connections in observe mode (then %s), %d in random mode (then %s); %ld chosen by ephport, %ld left to the kernel (range full)",
	       CAP_RANGE, NDEST, n_obs, strerror(err_obs), n_rand,
	       strerror(err_rand), ep_nsval("random_ok") - ok0,
	       ep_nsval("random_fallback_full") - full0);
	ASSERT_EQ(CAP_RANGE * NDEST, n_obs) TH_LOG("the kernel shares each port between destinations");
	ASSERT_EQ(n_obs, n_rand) TH_LOG("as many connections in random mode");
	ASSERT_EQ(err_obs, err_rand) TH_LOG("the same failure");
	ASSERT_EQ(EADDRNOTAVAIL, err_rand);
	ASSERT_EQ(CAP_RANGE, ep_nsval("random_ok") - ok0);
	/* The kernel's: the shared ports, and each destination's failure. */
	ASSERT_EQ(n_rand - CAP_RANGE + NDEST, ep_nsval("random_fallback_full") - full0);
}

/* ---- every path: TCP/UDP, IPv4/IPv6, bind(0), options ---- */

enum op {
	OP_CONNECT, OP_BIND0, OP_UDP_SENDTO, OP_UDP_CONNECT, OP_NO_PORT,
	OP_SOCK_RANGE,
};

FIXTURE(path) {
	int lfd;
};

FIXTURE_VARIANT(path) {
	int family;
	int type;
	enum op op;
};

FIXTURE_VARIANT_ADD(path, tcp4_connect) { AF_INET, SOCK_STREAM, OP_CONNECT };
FIXTURE_VARIANT_ADD(path, tcp6_connect) { AF_INET6, SOCK_STREAM, OP_CONNECT };
FIXTURE_VARIANT_ADD(path, tcp4_bind0) { AF_INET, SOCK_STREAM, OP_BIND0 };
FIXTURE_VARIANT_ADD(path, tcp6_bind0) { AF_INET6, SOCK_STREAM, OP_BIND0 };
FIXTURE_VARIANT_ADD(path, udp4_bind0) { AF_INET, SOCK_DGRAM, OP_BIND0 };
FIXTURE_VARIANT_ADD(path, udp6_bind0) { AF_INET6, SOCK_DGRAM, OP_BIND0 };
FIXTURE_VARIANT_ADD(path, udp4_sendto) { AF_INET, SOCK_DGRAM, OP_UDP_SENDTO };
FIXTURE_VARIANT_ADD(path, udp6_sendto) { AF_INET6, SOCK_DGRAM, OP_UDP_SENDTO };
FIXTURE_VARIANT_ADD(path, udp4_connect) { AF_INET, SOCK_DGRAM, OP_UDP_CONNECT };
FIXTURE_VARIANT_ADD(path, tcp4_bind_no_port) { AF_INET, SOCK_STREAM, OP_NO_PORT };
FIXTURE_VARIANT_ADD(path, tcp6_bind_no_port) { AF_INET6, SOCK_STREAM, OP_NO_PORT };
FIXTURE_VARIANT_ADD(path, tcp4_local_port_range) { AF_INET, SOCK_STREAM, OP_SOCK_RANGE };
FIXTURE_VARIANT_ADD(path, udp6_local_port_range) { AF_INET6, SOCK_DGRAM, OP_SOCK_RANGE };

FIXTURE_SETUP(path)
{
	self->lfd = -1;
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	EP_ASSERT_RANDOM(ep_setup_ns(LO, LO + 999, "random", 0));
	if (variant->type == SOCK_STREAM) {
		self->lfd = ep_listener(variant->family, EP_SERVER_PORT);
		ASSERT_LE(0, self->lfd);
	}
}

FIXTURE_TEARDOWN(path)
{
	if (self->lfd >= 0)
		close(self->lfd);
}

#define SK_LO (LO + 100)
#define SK_HI (LO + 109)

/* One operation that makes the kernel (or ephport) choose; the port. */
static int path_once(const FIXTURE_VARIANT(path) *v, int lfd, int *sk_range_ok)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, p, one = 1, err = 0;
	unsigned int range = (unsigned int)SK_HI << 16 | SK_LO, got = 0;
	socklen_t glen = sizeof(got);

	*sk_range_ok = 1;
	fd = socket(v->family, v->type, 0);
	if (fd < 0)
		return -errno;
	switch (v->op) {
	case OP_BIND0:
		len = ep_loopback(v->family, &ss, 0);
		if (bind(fd, (struct sockaddr *)&ss, len))
			err = -errno;
		break;
	case OP_NO_PORT:
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			       sizeof(one)))
			err = -errno;
		len = ep_loopback(v->family, &ss, 0);
		if (!err && bind(fd, (struct sockaddr *)&ss, len))
			err = -errno;
		if (!err && ep_local_port(fd) != 0)
			err = -EPROTO;	/* the port comes with connect() */
		/* fall through */
	case OP_CONNECT:
	case OP_UDP_CONNECT:
		len = ep_loopback(v->family, &ss, EP_SERVER_PORT);
		if (!err && connect(fd, (struct sockaddr *)&ss, len))
			err = -errno;
		break;
	case OP_SOCK_RANGE:
		if (setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range,
			       sizeof(range)))
			err = -errno;
		len = ep_loopback(v->family, &ss, EP_SERVER_PORT);
		if (!err && v->type == SOCK_DGRAM &&
		    sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0)
			err = -errno;
		if (!err && v->type == SOCK_STREAM &&
		    connect(fd, (struct sockaddr *)&ss, len))
			err = -errno;
		/* ephport gave the socket's own range back. */
		if (!err && (getsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
					&got, &glen) || got != range))
			*sk_range_ok = 0;
		break;
	case OP_UDP_SENDTO:
		len = ep_loopback(v->family, &ss, EP_SERVER_PORT);
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0)
			err = -errno;
		break;
	}
	p = err ? err : ep_local_port(fd);
	/*
	 * The listener takes the connection before the client resets it,
	 * and only one that was made: a blocking accept() would wait for
	 * ever after a failed connect(), or for a connection reset before
	 * the listener's side of the handshake ran.
	 */
	if (!err && lfd >= 0 && (v->op == OP_CONNECT || v->op == OP_NO_PORT ||
				 v->op == OP_SOCK_RANGE)) {
		int afd = accept(lfd, NULL, NULL);

		if (afd >= 0)
			close(afd);
	}
	if (v->type == SOCK_STREAM)
		ep_close_now(fd);
	else
		close(fd);
	return p;
}

TEST_F(path, ephport_chooses)
{
	int k = 40, i, p, lo, hi, sk_range_ok, distinct = 0;
	long ok0 = ep_nsval("random_ok"), fb0 = ep_nsval("random_fallback");
	const char *counter = variant->type == SOCK_DGRAM ? "udp_ok" :
			      variant->op == OP_BIND0 ? "tcp_bind_ok" :
			      "tcp_connect_ok";
	long c0 = ep_nsval(counter);
	char seen[1000] = {};

	lo = variant->op == OP_SOCK_RANGE ? SK_LO : LO;
	hi = variant->op == OP_SOCK_RANGE ? SK_HI : LO + 999;
	if (variant->op == OP_SOCK_RANGE)
		k = 8;	/* fewer than the 10 ports: no fallback, delay 0 */
	for (i = 0; i < k; i++) {
		p = path_once(variant, self->lfd, &sk_range_ok);
		ASSERT_LE(lo, p) TH_LOG("op %d: %s", i, p < 0 ? strerror(-p) : "below the range");
		ASSERT_GE(hi, p);
		ASSERT_TRUE(sk_range_ok) TH_LOG("IP_LOCAL_PORT_RANGE reads what was set");
		distinct += !seen[p - LO];
		seen[p - LO] = 1;
	}
	TH_LOG("%d operations, %d distinct ports in [%d, %d]", k, distinct, lo, hi);
	ASSERT_EQ(k, ep_nsval("random_ok") - ok0) TH_LOG("ephport chose every port");
	ASSERT_EQ(0, ep_nsval("random_fallback") - fb0);
	ASSERT_EQ(k, ep_nsval(counter) - c0)
		TH_LOG("observe's %s counts each call once", counter);
	ASSERT_EQ(0, ep_nsval("tcp_connect_fail") + ep_nsval("tcp_bind_fail") +
		     ep_nsval("udp_fail"));
}

/* ---- controls ---- */

static void read_trim(const char *path, char *buf, size_t len)
{
	if (ep_read(path, buf, len))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

TEST_F(loaded, controls)
{
	/* (A write of 0 bytes never reaches the module.) */
	static const char *const bad_mode[] = { "\n", "RANDOM", "rand", "randomx",
		" random", "random\n\n", "random observe", "1" };
	static const char *const bad_delay[] = { "\n", "-2", "600001", "5x", " 5",
		"0x10", "4294967296", "5 6" };
	char v[64], path[128];
	unsigned int i;
	int err;

	err = ep_setup_ns(LO, LO + 99, "default", -1);
	ASSERT_EQ(0, err);
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/mode", ep_inum());

	/* "default" and -1 follow the global values. */
	EP_ASSERT_RANDOM(ep_write(EP_SYSFS "/mode", "random"));
	read_trim(path, v, sizeof(v));
	ASSERT_STREQ("random", v);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "observe\n"));
	read_trim(path, v, sizeof(v));
	ASSERT_STREQ("observe", v);
	ASSERT_EQ(0, ep_write(EP_SYSFS "/reuse_delay_ms", "4321"));
	ASSERT_EQ(4321, ep_nsval("reuse_delay_ms"));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/reuse_delay_ms", "77"));
	ASSERT_EQ(77, ep_nsval("reuse_delay_ms"));
	EP_ASSERT_RANDOM(ep_write(EP_SYSCTL "/mode", "random"));
	read_trim(path, v, sizeof(v));
	ASSERT_STREQ("random", v) TH_LOG("the namespace's own mode wins");
	read_trim(EP_SYSFS "/mode", v, sizeof(v));
	ASSERT_STREQ("observe", v) TH_LOG("the global mode is untouched");

	for (i = 0; i < sizeof(bad_mode) / sizeof(bad_mode[0]); i++) {
		ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/mode", bad_mode[i]))
			TH_LOG("mode '%s'", bad_mode[i]);
		ASSERT_EQ(-EINVAL, ep_write(EP_SYSCTL "/mode", bad_mode[i]))
			TH_LOG("net.ephport.mode '%s'", bad_mode[i]);
	}
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/mode", "default"))
		TH_LOG("the global mode has no default");
	for (i = 0; i < sizeof(bad_delay) / sizeof(bad_delay[0]); i++) {
		ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/reuse_delay_ms", bad_delay[i]))
			TH_LOG("reuse_delay_ms '%s'", bad_delay[i]);
		ASSERT_EQ(-EINVAL, ep_write(EP_SYSCTL "/reuse_delay_ms", bad_delay[i]))
			TH_LOG("net.ephport.reuse_delay_ms '%s'", bad_delay[i]);
	}
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/reuse_delay_ms", "-1"));
	read_trim(EP_SYSFS "/mode", v, sizeof(v));
	ASSERT_STREQ("observe", v) TH_LOG("nothing changed");
	read_trim(EP_SYSCTL "/mode", v, sizeof(v));
	ASSERT_STREQ("random", v);
	ASSERT_EQ(4321, ep_readl(EP_SYSFS "/reuse_delay_ms"));
	ASSERT_EQ(77, ep_readl(EP_SYSCTL "/reuse_delay_ms"));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/reuse_delay_ms", "-1"));
	ASSERT_EQ(4321, ep_nsval("reuse_delay_ms"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/reuse_delay_ms", "60000"));
}

/* Module parameters: the global defaults at load, read-only afterwards. */
TEST_F_TIMEOUT(slow, module_params, 120)
{
	char v[64];
	struct stat st;
	int was = ep_loaded(), err;
	double t0;

	if (!ep_exists(ep_ko_path()))
		SKIP(return, "no %s", ep_ko_path());
	err = ep_reload("mode=random reuse_delay_ms=1234");
	if (err == -EOPNOTSUPP && was)
		ep_load(NULL);	/* as it was, for the skip below */
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("load with mode=random reuse_delay_ms=1234: %s",
				 strerror(-err));
	read_trim(EP_SYSFS "/mode", v, sizeof(v));
	ASSERT_STREQ("random", v);
	ASSERT_EQ(1234, ep_readl(EP_SYSFS "/reuse_delay_ms"));
	read_trim("/sys/module/ephport/parameters/mode", v, sizeof(v));
	ASSERT_STREQ("random", v);
	ASSERT_EQ(1234, ep_readl("/sys/module/ephport/parameters/reuse_delay_ms"));
	ASSERT_EQ(0, stat("/sys/module/ephport/parameters/mode", &st));
	ASSERT_EQ(0444U, st.st_mode & 0777);
	ASSERT_NE(0, ep_write("/sys/module/ephport/parameters/mode", "observe"))
		TH_LOG("read-only after load");
	ASSERT_NE(0, ep_write("/sys/module/ephport/parameters/reuse_delay_ms", "5"));
	/* A new namespace follows: random mode from its first connect. */
	ASSERT_EQ(0, ep_new_netns(LO, LO + 99));
	read_trim(EP_SYSCTL "/mode", v, sizeof(v));
	ASSERT_STREQ("default", v);
	ASSERT_EQ(0, ep_bind0(AF_INET, SOCK_DGRAM) < 0);
	ASSERT_EQ(1, ep_nsval("random_ok"));
	ASSERT_EQ(1234, ep_nsval("reuse_delay_ms"));

	/* Unload after steered calls: it waits for an RCU-tasks grace period. */
	t0 = ep_now();
	ASSERT_EQ(0, ep_unload());
	TH_LOG("unload after random-mode traffic: %.3f s", ep_now() - t0);
	ASSERT_EQ(-EINVAL, ep_load("mode=default"));
	ASSERT_FALSE(ep_loaded());
	ASSERT_EQ(-EINVAL, ep_reload("reuse_delay_ms=600001"));
	ASSERT_EQ(-EINVAL, ep_reload("mode=RANDOM"));
	ASSERT_FALSE(ep_loaded()) TH_LOG("a bad value fails the load");
	if (was)
		ASSERT_EQ(0, ep_load(NULL));
}

/* ---- changes under traffic ---- */

/* Connects, binds and UDP autobinds until told to stop; failures. */
static long traffic(volatile int *stop, int lfd4, int lfd6)
{
	long fails = 0, ops = 0;
	int p, fd, v6;

	while (!*stop) {
		v6 = ops % 2;
		p = connect_once(v6 ? AF_INET6 : AF_INET, v6 ? lfd6 : lfd4,
				 EP_SERVER_PORT);
		fails += p < 0;
		p = ep_bind0_close(AF_INET, SOCK_STREAM);
		fails += p < 0;
		fd = ep_udp_autobind(AF_INET6, EP_SERVER_PORT);
		fails += fd < 0;
		if (fd >= 0)
			close(fd);
		ops += 3;
	}
	return fails * 1000000 + ops;
}

TEST_F_TIMEOUT(slow, toggle_under_traffic, 120)
{
	static const char *const modes[] = { "random", "observe", "default" };
	volatile int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long rounds = ep_figure("EPHPORT_TOGGLES", 200, 60), r, res;
	int lfd4, lfd6, pipefd[2], status, err;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, (void *)stop);
	err = ep_setup_ns(LO, LO + 999, "random", 100);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err);
	lfd4 = ep_listener(AF_INET, EP_SERVER_PORT);
	lfd6 = ep_listener(AF_INET6, EP_SERVER_PORT);
	ASSERT_LE(0, lfd4);
	ASSERT_LE(0, lfd6);
	ASSERT_EQ(0, pipe(pipefd));
	*stop = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		long v;

		close(pipefd[0]);
		v = traffic(stop, lfd4, lfd6);
		if (write(pipefd[1], &v, sizeof(v)) != sizeof(v))
			_exit(2);
		_exit(0);
	}
	close(pipefd[1]);
	for (r = 0; r < rounds; r++) {
		char d[16];

		ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", modes[r % 3]));
		snprintf(d, sizeof(d), "%ld", (r * 37) % 300);
		ASSERT_EQ(0, ep_write(EP_SYSCTL "/reuse_delay_ms", r % 5 ? d : "-1"));
		ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", r % 2 ? "random" : "observe"));
		usleep(5000);
	}
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "observe"));
	*stop = 1;
	ASSERT_EQ((ssize_t)sizeof(res), read(pipefd[0], &res, sizeof(res)));
	waitpid(pid, &status, 0);
	TH_LOG("%ld mode/delay changes under %ld socket calls, %ld failed",
	       rounds, res % 1000000, res / 1000000);
	ASSERT_EQ(0, res / 1000000) TH_LOG("no socket call fails");
	ASSERT_LT(0, res % 1000000);
	close(lfd4);
	close(lfd6);
}

TEST_HARNESS_MAIN
