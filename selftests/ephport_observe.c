// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe: the observe mode's values are exact (issue 3).
 *
 * Every case runs in a namespace of its own (unshare(CLONE_NEWNET), the
 * harness forks each case) with the port range pinned, makes a known
 * number of port operations and checks the namespace's values, in
 * /sys/kernel/ephport/net/<inum>/ and in /proc/net/ephport, to the unit.
 * Loads ephport if it is not loaded.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

/*
 * The 6.12 harness's TEST_F wrapper keeps a local across setjmp(), which
 * gcc -Wextra flags (-Wclobbered) for some test bodies: not this file's.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define LO 40000		/* the pinned ranges start here */
#define MAXFD 64

/* ---- helpers ---- */

/* The same value as ep_nsval() from /proc/net/ephport; -1 if absent. */
static long procval(const char *name)
{
	char line[128];
	size_t len = strlen(name);
	long v = -1;
	FILE *f;

	f = fopen("/proc/net/ephport", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ' ') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static const char *const values[] = {
	"tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
	"tcp_connect_ok", "tcp_connect_fail", "tcp_bind_ok", "tcp_bind_fail",
	"udp_ok", "udp_fail", "self_connect", "alarm",
};

/* Every value agrees between sysfs and /proc/net/ephport. */
static int proc_matches_sysfs(struct __test_metadata *_metadata)
{
	unsigned int i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		long s = ep_nsval(values[i]), p = procval(values[i]);

		if (s != p || s < 0) {
			TH_LOG("%s: sysfs %ld, /proc/net/ephport %ld",
			       values[i], s, p);
			return 0;
		}
	}
	return 1;
}

/* ---- in_use, IPv4 and IPv6, TCP and UDP ---- */

FIXTURE(inuse) {
	int fds[MAXFD];
	int n;
	int listener;
};

FIXTURE_VARIANT(inuse) {
	int family;
	int type;
};

FIXTURE_VARIANT_ADD(inuse, ip4_tcp) { .family = AF_INET, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(inuse, ip6_tcp) { .family = AF_INET6, .type = SOCK_STREAM };
FIXTURE_VARIANT_ADD(inuse, ip4_udp) { .family = AF_INET, .type = SOCK_DGRAM };
FIXTURE_VARIANT_ADD(inuse, ip6_udp) { .family = AF_INET6, .type = SOCK_DGRAM };

FIXTURE_SETUP(inuse)
{
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9)) TH_LOG("new namespace");
	self->n = 0;
	self->listener = -1;
	if (variant->type == SOCK_STREAM) {
		self->listener = ep_listener(variant->family, EP_SERVER_PORT);
		ASSERT_GE(self->listener, 0) TH_LOG("listener");
	}
}

FIXTURE_TEARDOWN(inuse)
{
	int i;

	for (i = 0; i < self->n; i++)
		close(self->fds[i]);
	if (self->listener >= 0)
		close(self->listener);
}

/* Kernel-chosen ports: counted at once, released at once, TIME_WAIT kept. */
TEST_F(inuse, autobind)
{
	int tcp = variant->type == SOCK_STREAM;
	const char *inuse = tcp ? "tcp_in_use" : "udp_in_use";
	const char *ok = tcp ? "tcp_connect_ok" : "udp_ok";
	int i, fd;

	ASSERT_EQ(0, ep_nsval(inuse)) TH_LOG("a new namespace uses no port");
	for (i = 0; i < 6; i++) {
		fd = tcp ? ep_connect(variant->family, EP_SERVER_PORT) :
			   ep_udp_autobind(variant->family, EP_SERVER_PORT);
		ASSERT_GE(fd, 0) TH_LOG("operation %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
		ASSERT_EQ(i + 1, ep_nsval(inuse)) TH_LOG("after %d operations", i + 1);
		ASSERT_GE(ep_local_port(fd), LO);
		ASSERT_LE(ep_local_port(fd), LO + 9);
	}
	ASSERT_EQ(6, ep_nsval(ok)) TH_LOG("%s", ok);
	ASSERT_EQ(6, ep_nsval(tcp ? "tcp_peak" : "udp_peak"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));

	/* Two released at once (RST for TCP). */
	ep_close_now(self->fds[--self->n]);
	ep_close_now(self->fds[--self->n]);
	ASSERT_EQ(4, ep_nsval(inuse)) TH_LOG("after two releases");
	ASSERT_EQ(6, ep_nsval(tcp ? "tcp_peak" : "udp_peak")) TH_LOG("peak stays");

	/* A normal TCP close leaves TIME_WAIT (or FIN_WAIT): still bound. */
	close(self->fds[--self->n]);
	ASSERT_EQ(tcp ? 4 : 3, ep_nsval(inuse)) TH_LOG("after a close()");
	ASSERT_EQ(0, ep_nsval(tcp ? "tcp_connect_fail" : "udp_fail"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* Explicit binds in and out of the range; the range moves. */
TEST_F(inuse, explicit_and_range_change)
{
	const char *inuse = variant->type == SOCK_STREAM ? "tcp_in_use" : "udp_in_use";
	int ports[] = { LO, LO + 5, LO + 20 };
	unsigned int i;
	int fd;

	for (i = 0; i < 3; i++) {
		fd = ep_bind(variant->family, variant->type, ports[i], 0);
		ASSERT_GE(fd, 0) TH_LOG("bind %d: %s", ports[i], strerror(-fd));
		self->fds[self->n++] = fd;
	}
	ASSERT_EQ(2, ep_nsval(inuse)) TH_LOG("two of three ports in range");
	ASSERT_EQ(0, ep_set_range(LO, LO + 30));
	ASSERT_EQ(3, ep_nsval(inuse)) TH_LOG("the range grew over the third");
	ASSERT_EQ(0, ep_set_range(LO + 1, LO + 4));
	ASSERT_EQ(0, ep_nsval(inuse)) TH_LOG("the range left them all");
	ASSERT_EQ(0, ep_set_range(LO, LO));
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("lo == hi");
	ASSERT_EQ(0, ep_nsval(variant->type == SOCK_STREAM ? "tcp_bind_ok" : "udp_ok"))
		TH_LOG("explicit ports are not kernel-chosen");
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* Shared ports (SO_REUSEADDR for TCP, SO_REUSEPORT for UDP) count once. */
TEST_F(inuse, shared_port)
{
	int tcp = variant->type == SOCK_STREAM;
	const char *inuse = tcp ? "tcp_in_use" : "udp_in_use";
	int i, fd;

	for (i = 0; i < 3; i++) {
		fd = ep_bind(variant->family, variant->type, LO + 3,
			     tcp ? SO_REUSEADDR : SO_REUSEPORT);
		ASSERT_GE(fd, 0) TH_LOG("bind %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
	}
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("three sockets, one port");
	ep_close_now(self->fds[--self->n]);
	ep_close_now(self->fds[--self->n]);
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("one socket left on the port");
	ep_close_now(self->fds[--self->n]);
	ASSERT_EQ(0, ep_nsval(inuse)) TH_LOG("the port is free");
	ASSERT_EQ(1, ep_nsval(tcp ? "tcp_peak" : "udp_peak"));
}

/* A range of a few ports fills up: exact failures, the alarm fires and clears. */
TEST_F(inuse, exhaustion_and_alarm)
{
	int tcp = variant->type == SOCK_STREAM;
	const char *inuse = tcp ? "tcp_in_use" : "udp_in_use";
	int i, fd;

	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, ep_set_range(LO, LO + 3));
	for (i = 0; i < 4; i++) {
		fd = tcp ? ep_connect(variant->family, EP_SERVER_PORT) :
			   ep_udp_autobind(variant->family, EP_SERVER_PORT);
		ASSERT_GE(fd, 0) TH_LOG("operation %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
		ASSERT_EQ(i == 3, ep_nsval("alarm")) TH_LOG("alarm at %d of 4", i + 1);
	}
	for (i = 0; i < 3; i++) {
		fd = tcp ? ep_connect(variant->family, EP_SERVER_PORT) :
			   ep_udp_autobind(variant->family, EP_SERVER_PORT);
		ASSERT_LT(fd, 0) TH_LOG("the range is full");
	}
	ASSERT_EQ(4, ep_nsval(inuse));
	ASSERT_EQ(4, ep_nsval(tcp ? "tcp_connect_ok" : "udp_ok"));
	ASSERT_EQ(3, ep_nsval(tcp ? "tcp_connect_fail" : "udp_fail"));

	/* Hysteresis: 3 of 4 (75%) is 15 points under 90: clears. */
	ep_close_now(self->fds[--self->n]);
	ASSERT_EQ(3, ep_nsval(inuse));
	ASSERT_EQ(0, ep_nsval("alarm")) TH_LOG("75%% clears an alarm at 90%%");
	/* With alarm_pct 75 it is on again, and 72% would not clear it. */
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "75"));
	ASSERT_EQ(1, ep_nsval("alarm"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, ep_nsval("alarm"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* ---- TCP only ---- */

FIXTURE(tcp) {
	int dummy;
};

FIXTURE_VARIANT(tcp) {
	int family;
};

FIXTURE_VARIANT_ADD(tcp, ip4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(tcp, ip6) { .family = AF_INET6 };

FIXTURE_SETUP(tcp)
{
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9)) TH_LOG("new namespace");
}

FIXTURE_TEARDOWN(tcp)
{
}

/* bind(0) and listen() without bind() are kernel-chosen TCP ports. */
TEST_F(tcp, bind0)
{
	int fds[12];
	int i;

	for (i = 0; i < 10; i++) {
		fds[i] = ep_bind(variant->family, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0) TH_LOG("bind(0) %d: %s", i, strerror(-fds[i]));
	}
	fds[10] = ep_bind(variant->family, SOCK_STREAM, 0, 0);
	ASSERT_EQ(-EADDRINUSE, fds[10]) TH_LOG("the eleventh finds no port");
	ASSERT_EQ(10, ep_nsval("tcp_bind_ok"));
	ASSERT_EQ(1, ep_nsval("tcp_bind_fail"));
	ASSERT_EQ(10, ep_nsval("tcp_in_use"));
	for (i = 0; i < 10; i++)
		close(fds[i]);
	ASSERT_EQ(0, ep_nsval("tcp_in_use")) TH_LOG("unconnected sockets release at close");

	fds[0] = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_GE(fds[0], 0);
	ASSERT_EQ(0, listen(fds[0], 1));
	ASSERT_EQ(11, ep_nsval("tcp_bind_ok")) TH_LOG("listen() without bind()");
	ASSERT_EQ(1, ep_nsval("tcp_in_use"));
	close(fds[0]);
	ASSERT_EQ(0, ep_nsval("tcp_in_use"));
	ASSERT_EQ(10, ep_nsval("tcp_peak"));
	ASSERT_EQ(0, ep_nsval("tcp_connect_ok")) TH_LOG("no connect() was made");
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* A connect() to a port of the range with no listener meets itself. */
TEST_F(tcp, self_connect)
{
	int fd;

	ASSERT_EQ(0, ep_set_range(LO + 7, LO + 7));
	fd = ep_connect(variant->family, LO + 7);
	ASSERT_GE(fd, 0) TH_LOG("connect to itself: %s", strerror(-fd));
	ASSERT_EQ(LO + 7, ep_local_port(fd));
	ASSERT_EQ(1, ep_nsval("self_connect"));
	ASSERT_EQ(1, ep_nsval("tcp_connect_ok"));
	ASSERT_EQ(1, ep_nsval("tcp_in_use"));
	ep_close_now(fd);
	ASSERT_EQ(0, ep_nsval("tcp_in_use"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* IP_BIND_ADDRESS_NO_PORT: bind() takes no port, connect() does. */
TEST_F(tcp, bind_address_no_port)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(variant->family, &ss, 0);
	int one = 1;
	int lfd, fd;

	lfd = ep_listener(variant->family, EP_SERVER_PORT);
	ASSERT_GE(lfd, 0);
	fd = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, ep_nsval("tcp_in_use")) TH_LOG("no port yet");
	ASSERT_EQ(0, ep_nsval("tcp_bind_ok"));
	len = ep_loopback(variant->family, &ss, EP_SERVER_PORT);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(1, ep_nsval("tcp_in_use"));
	ASSERT_EQ(1, ep_nsval("tcp_connect_ok"));
	ep_close_now(fd);
	close(lfd);
	ASSERT_EQ(0, ep_nsval("tcp_in_use"));
}

static int socket_with_range(int family, unsigned int range)
{
	int fd = socket(family, SOCK_STREAM, 0);
	int err;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* The per-socket IP_LOCAL_PORT_RANGE narrows the choice; counted the same. */
static void __attribute__((noinline))
check_ip_local_port_range(struct __test_metadata *_metadata, int family)
{
	unsigned int r = (LO + 6) | ((unsigned int)(LO + 7) << 16);
	int fds[3];
	int i;

	for (i = 0; i < 3; i++)
		fds[i] = socket_with_range(family, r);
	if (fds[0] == -ENOPROTOOPT)
		SKIP(return, "this kernel has no IP_LOCAL_PORT_RANGE");
	for (i = 0; i < 3; i++)
		ASSERT_GE(fds[i], 0);
	for (i = 0; i < 2; i++) {
		struct sockaddr_storage ss;
		socklen_t len = ep_loopback(family, &ss, 0);

		ASSERT_EQ(0, bind(fds[i], (struct sockaddr *)&ss, len));
		ASSERT_GE(ep_local_port(fds[i]), LO + 6);
		ASSERT_LE(ep_local_port(fds[i]), LO + 7);
	}
	{
		struct sockaddr_storage ss;
		socklen_t len = ep_loopback(family, &ss, 0);

		ASSERT_NE(0, bind(fds[2], (struct sockaddr *)&ss, len))
			TH_LOG("two ports in the socket's range");
	}
	ASSERT_EQ(2, ep_nsval("tcp_in_use"));
	ASSERT_EQ(2, ep_nsval("tcp_bind_ok"));
	ASSERT_EQ(1, ep_nsval("tcp_bind_fail"));
	for (i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_EQ(0, ep_nsval("tcp_in_use"));
}

TEST_F(tcp, ip_local_port_range)
{
	check_ip_local_port_range(_metadata, variant->family);
}

/* search_ns: one sample per kernel-chosen connect() port. */
static void __attribute__((noinline))
check_search_ns(struct __test_metadata *_metadata, int family)
{
	char path[128], buf[4096], *line;
	long total = 0;
	int lfd, fds[5];
	int i;

	lfd = ep_listener(family, EP_SERVER_PORT);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < 5; i++) {
		fds[i] = ep_connect(family, EP_SERVER_PORT);
		ASSERT_GE(fds[i], 0);
	}
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/search_ns", ep_inum());
	ASSERT_EQ(0, ep_read(path, buf, sizeof(buf)));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long bound;
		long count;

		ASSERT_EQ(2, sscanf(line, "%llu %ld", &bound, &count)) TH_LOG("%s", line);
		total += count;
	}
	ASSERT_EQ(5, total);
	for (i = 0; i < 5; i++)
		ep_close_now(fds[i]);
	close(lfd);
}

TEST_F(tcp, search_ns)
{
	check_search_ns(_metadata, variant->family);
}

/* ---- against the kernel's own socket tables ---- */

FIXTURE(slow) {
	int dummy;
};

FIXTURE_SETUP(slow)
{
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
}

FIXTURE_TEARDOWN(slow)
{
}


/*
 * Accepts connections and resets every other one (releases from
 * softirq); the others stay open until it is killed.
 */
static pid_t rst_server(int family)
{
	int lfd = ep_listener(family, EP_SERVER_PORT);
	pid_t pid;
	int n;

	if (lfd < 0)
		return -1;
	pid = fork();
	if (pid) {
		close(lfd);
		return pid;
	}
	for (n = 0;; n++) {
		int fd = accept(lfd, NULL, NULL);

		/* Every other one stays open: its client's close() waits. */
		if (fd >= 0 && n % 2)
			ep_close_now(fd);
	}
}

/*
 * Four clients connect and close (RST from the server, TIME_WAIT, or a
 * reset of their own) and autobind UDP, in parallel, over a range that
 * fills up. Afterwards the values equal what /proc/net shows, and the
 * counters equal what the clients saw.
 */
TEST_F_TIMEOUT(slow, parallel_churn_matches_proc_net, 200)
{
	long *stats;	/* per client: connect ok, connect fail, udp ok, udp fail */
	long sum[4] = { 0 };
	pid_t server, pids[4];
	long missed;
	int i, j, k;

	ASSERT_EQ(0, ep_new_netns(LO, LO + 199));
	stats = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	missed = ep_probes_missed();
	ASSERT_GE(missed, 0);
	server = rst_server(AF_INET);
	ASSERT_GT(server, 0);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i])
			continue;
		for (j = 0; j < 60; j++) {
			int family = (i + j) & 1 ? AF_INET6 : AF_INET;
			int fd = ep_connect(AF_INET, EP_SERVER_PORT);

			/*
			 * The server's resets make some connect()s fail
			 * after the port was chosen: those count as ok.
			 */
			if (fd == -EADDRNOTAVAIL)
				stats[i * 4 + 1]++;
			else if (fd != -EMFILE && fd != -ENFILE)
				stats[i * 4]++;
			if (fd >= 0) {
				if (j % 3)
					close(fd);
				else
					ep_close_now(fd);
			}
			fd = ep_udp_autobind(family, EP_SERVER_PORT);
			if (fd >= 0) {
				stats[i * 4 + 2]++;
				close(fd);
			} else {
				stats[i * 4 + 3]++;
			}
		}
		_exit(0);
	}
	for (i = 0; i < 4; i++)
		waitpid(pids[i], NULL, 0);
	/* Its open connections close: their clients go to TIME_WAIT. */
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	usleep(200 * 1000);
	for (i = 0; i < 4; i++)
		for (k = 0; k < 4; k++)
			sum[k] += stats[i * 4 + k];
	TH_LOG("connect ok %ld fail %ld, udp ok %ld fail %ld",
	       sum[0], sum[1], sum[2], sum[3]);
	ASSERT_EQ(sum[0], ep_nsval("tcp_connect_ok"));
	ASSERT_EQ(sum[1], ep_nsval("tcp_connect_fail"));
	ASSERT_EQ(sum[2], ep_nsval("udp_ok"));
	ASSERT_EQ(sum[3], ep_nsval("udp_fail"));
	ASSERT_EQ(missed, ep_probes_missed()) TH_LOG("no hook missed an event");

	/* A quiet moment: the kernel's tables and ephport agree. */
	for (k = 0; k < 2; k++) {
		int tcp = !k;
		int before, val, after;

		for (i = 0; i < 20; i++) {
			before = ep_kernel_in_use(getpid(), tcp, LO, LO + 199);
			val = ep_nsval(tcp ? "tcp_in_use" : "udp_in_use");
			after = ep_kernel_in_use(getpid(), tcp, LO, LO + 199);
			if (before == after)
				break;
		}
		TH_LOG("%s: /proc/net %d, ephport %d", tcp ? "tcp" : "udp",
		       before, val);
		ASSERT_EQ(before, val);
		ASSERT_EQ(before, procval(tcp ? "tcp_in_use" : "udp_in_use"));
	}
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/*
 * TIME_WAIT ports stay in use until the TIME_WAIT socket goes, 60 s later
 * (TCP_TIMEWAIT_LEN, not tunable). So that the other cases run meanwhile,
 * global.time_wait_begin leaves three ports in TIME_WAIT in a namespace a
 * child process keeps (after bound_before_load, the last case to reload
 * the module) and slow.time_wait_expiry checks them once they have gone.
 * Run without time_wait_begin (a harness filter), time_wait_expiry makes
 * them itself and waits the whole 60 s.
 */
struct tw_keeper {
	pid_t pid;		/* keeps the namespace; 0: not made yet */
	unsigned long inum;	/* the namespace */
	double since;		/* when the ports went to TIME_WAIT */
	int err;		/* the keeper's, if it failed */
};

static struct tw_keeper *tw;	/* shared by every case (see main()) */

/* The keeper: three client ports in TIME_WAIT, then wait to be killed. */
static void tw_keep(void)
{
	int null = open("/dev/null", O_RDWR);
	int lfd, fds[3], afds[3], i, err;

	/* Not holding the runner's pipe; gone by itself if the harness died. */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	alarm(300);
	err = ep_new_netns(LO, LO + 9);
	lfd = err ? -1 : ep_listener(AF_INET, EP_SERVER_PORT);
	if (!err && lfd < 0)
		err = lfd;
	for (i = 0; !err && i < 3; i++) {
		fds[i] = ep_connect(AF_INET, EP_SERVER_PORT);
		afds[i] = fds[i] < 0 ? -1 : accept(lfd, NULL, NULL);
		if (fds[i] < 0 || afds[i] < 0)
			err = fds[i] < 0 ? fds[i] : -errno;
	}
	if (!err) {
		/* The clients close first: their ports go to TIME_WAIT. */
		for (i = 0; i < 3; i++)
			close(fds[i]);
		for (i = 0; i < 3; i++)
			close(afds[i]);
		close(lfd);
		tw->since = ep_now();
		usleep(200 * 1000);
		tw->inum = ep_inum();
	}
	tw->err = err;
	__atomic_store_n(&tw->pid, getpid(), __ATOMIC_RELEASE);
	if (err)
		_exit(1);
	for (;;)
		pause();
}

/* Starts the keeper; 0, or -errno. */
static int tw_start(void)
{
	pid_t pid;
	int i;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		tw_keep();
	for (i = 0; i < 600 && !__atomic_load_n(&tw->pid, __ATOMIC_ACQUIRE); i++)
		usleep(50 * 1000);
	if (!tw->pid) {
		kill(pid, SIGKILL);
		return -ETIMEDOUT;
	}
	return tw->err;
}

/* Whether the keeper still holds its namespace. */
static int tw_alive(void)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", tw->pid);
	return !stat(path, &st) && st.st_ino == tw->inum;
}

TEST_F_TIMEOUT(slow, time_wait_expiry, 150)
{
	int i, err;

	ASSERT_NE(NULL, tw);
	if (!tw->pid) {
		err = tw_start();
		ASSERT_EQ(0, err) TH_LOG("the keeper: %s", strerror(-err));
		ASSERT_EQ(3, ep_kernel_in_use(tw->pid, 1, LO, LO + 9));
		ASSERT_EQ(3, ep_netval(tw->inum, "tcp_in_use"));
	}
	ASSERT_EQ(0, tw->err);
	for (i = 0; i < 900 && tw_alive() &&
	     ep_kernel_in_use(tw->pid, 1, LO, LO + 9); i++)
		usleep(100 * 1000);
	ASSERT_TRUE(tw_alive()) TH_LOG("the keeper of the TIME_WAIT namespace died");
	TH_LOG("TIME_WAIT over about %.0f s after it began (%.0f s waited here)",
	       ep_now() - tw->since, i / 10.0);
	EXPECT_EQ(0, ep_kernel_in_use(tw->pid, 1, LO, LO + 9));
	EXPECT_EQ(0, ep_netval(tw->inum, "tcp_in_use"));
	EXPECT_EQ(3, ep_netval(tw->inum, "tcp_peak"));
	kill(tw->pid, SIGKILL);
}

/* The alarm file wakes poll() when it changes. */
TEST(alarm_wakes_poll)
{
	struct pollfd pfd;
	char path[128], buf[8];
	int fds[4];
	int i;

	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 3));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/alarm", ep_inum());
	pfd.fd = open(path, O_RDONLY);
	ASSERT_GE(pfd.fd, 0);
	pfd.events = POLLPRI | POLLERR;
	ASSERT_EQ(2, read(pfd.fd, buf, sizeof(buf)));
	ASSERT_EQ('0', buf[0]);
	for (i = 0; i < 4; i++) {
		fds[i] = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
		ASSERT_GE(fds[i], 0);
	}
	ASSERT_EQ(1, poll(&pfd, 1, 5000)) TH_LOG("woken when the alarm fires");
	ASSERT_EQ(2, pread(pfd.fd, buf, sizeof(buf), 0));
	ASSERT_EQ('1', buf[0]);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	ASSERT_EQ(1, poll(&pfd, 1, 5000)) TH_LOG("woken when it clears");
	ASSERT_EQ(2, pread(pfd.fd, buf, sizeof(buf), 0));
	ASSERT_EQ('0', buf[0]);
	close(pfd.fd);
}

/*
 * A namespace with hash tables of its own (tcp_child_ehash_entries,
 * udp_child_hash_entries, set in its parent): counted the same, by the
 * hooks and by a pass (a read 1 s after the last pass makes one).
 */
TEST_F_TIMEOUT(slow, child_hash_tables, 60)
{
	int fds[6];
	int i;

	ASSERT_EQ(0, ep_new_netns(LO, LO + 9));
	if (ep_write("/proc/sys/net/ipv4/tcp_child_ehash_entries", "256"))
		SKIP(return, "no tcp_child_ehash_entries on this kernel");
	/* 6.1 has no per-namespace UDP table: UDP uses the global one. */
	if (ep_write("/proc/sys/net/ipv4/udp_child_hash_entries", "256"))
		TH_LOG("no udp_child_hash_entries on this kernel");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9));
	for (i = 0; i < 3; i++) {
		fds[i] = ep_bind(AF_INET, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0);
		fds[i + 3] = ep_udp_autobind(AF_INET6, EP_SERVER_PORT);
		ASSERT_GE(fds[i + 3], 0);
	}
	ASSERT_EQ(3, ep_nsval("tcp_in_use"));
	ASSERT_EQ(3, ep_nsval("udp_in_use"));
	sleep(2);
	ASSERT_EQ(3, ep_nsval("tcp_in_use")) TH_LOG("after a pass");
	ASSERT_EQ(3, ep_nsval("udp_in_use")) TH_LOG("after a pass");
	close(fds[0]);
	close(fds[3]);
	ASSERT_EQ(2, ep_nsval("tcp_in_use"));
	ASSERT_EQ(2, ep_nsval("udp_in_use"));
	sleep(2);
	ASSERT_EQ(2, ep_nsval("udp_in_use")) TH_LOG("after a pass");
	for (i = 1; i < 6; i++)
		if (i != 3)
			close(fds[i]);
	ASSERT_EQ(0, ep_nsval("tcp_in_use"));
	ASSERT_EQ(0, ep_nsval("udp_in_use"));
}

/* ---- writes ---- */

TEST(peak_reset_and_bad_writes)
{
	char path[128];
	int fds[3];
	int i;

	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9));
	for (i = 0; i < 3; i++) {
		fds[i] = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
		ASSERT_GE(fds[i], 0);
	}
	close(fds[2]);
	ASSERT_EQ(3, ep_nsval("udp_peak"));
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/udp_peak", ep_inum());
	ASSERT_EQ(-EINVAL, ep_write(path, "1"));
	ASSERT_EQ(-EINVAL, ep_write(path, "abc"));
	ASSERT_EQ(-EINVAL, ep_write(path, "-1"));
	ASSERT_EQ(3, ep_nsval("udp_peak")) TH_LOG("bad writes change nothing");
	ASSERT_EQ(0, ep_write(path, "0"));
	ASSERT_EQ(2, ep_nsval("udp_peak")) TH_LOG("the peak restarts from in_use");

	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/alarm_pct", "0"));
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/alarm_pct", "101"));
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/alarm_pct", "ninety"));
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/alarm_pct", "\n"));
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/alarm_pct", "50x"));
	snprintf(path, sizeof(path), EP_SYSFS "/alarm_pct");
	{
		char buf[16];

		ASSERT_EQ(0, ep_read(path, buf, sizeof(buf)));
		ASSERT_STREQ("90\n", buf);
	}
	close(fds[0]);
	close(fds[1]);
}

/* ---- namespaces come and go ---- */

static int netns_dir_exists(unsigned long inum)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu", inum);
	return !stat(path, &st);
}

TEST(netns_appear_disappear)
{
	unsigned long inum;
	long with;
	int pipefd[2];
	pid_t pid;
	int i;

	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(pipefd[0]);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		inum = ep_inum();
		if (write(pipefd[1], &inum, sizeof(inum)) != sizeof(inum))
			_exit(1);
		/* Hold the namespace until the parent kills us. */
		for (;;)
			pause();
	}
	close(pipefd[1]);
	ASSERT_EQ((ssize_t)sizeof(inum), read(pipefd[0], &inum, sizeof(inum)));
	ASSERT_TRUE(netns_dir_exists(inum)) TH_LOG("net/%lu appears", inum);
	with = ep_readl(EP_SYSFS "/netns");
	ASSERT_GE(with, 2) TH_LOG("init_net and the new one at least");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pipefd[0]);
	/* The namespace is freed by a workqueue: poll for up to 10 s. */
	for (i = 0; i < 100 && netns_dir_exists(inum); i++)
		usleep(100 * 1000);
	ASSERT_FALSE(netns_dir_exists(inum)) TH_LOG("net/%lu disappears", inum);
	/* Others (earlier cases') may be going away at the same time. */
	ASSERT_LE(ep_readl(EP_SYSFS "/netns"), with - 1);
}

/* Sockets bound before ephport loads are counted once it has. */
TEST(bound_before_load)
{
	int fds[5];
	int i;

	if (system("test -f /lib/modules/$(uname -r)/extra/ephport.ko"))
		SKIP(return, "no ephport.ko to reload");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9));
	if (netns_dir_exists(ep_inum()))
		ASSERT_EQ(0, system("rmmod ephport"));
	for (i = 0; i < 3; i++) {
		fds[i] = ep_bind(AF_INET, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0);
	}
	for (i = 3; i < 5; i++) {
		fds[i] = ep_udp_autobind(AF_INET6, EP_SERVER_PORT);
		ASSERT_GE(fds[i], 0);
	}
	ASSERT_EQ(0, system("insmod /lib/modules/$(uname -r)/extra/ephport.ko"));
	ASSERT_EQ(3, ep_nsval("tcp_in_use"));
	ASSERT_EQ(2, ep_nsval("udp_in_use"));
	ASSERT_EQ(3, ep_nsval("tcp_peak"));
	ASSERT_EQ(0, ep_nsval("tcp_bind_ok")) TH_LOG("events before load are not counted");
	close(fds[0]);
	close(fds[3]);
	ASSERT_EQ(2, ep_nsval("tcp_in_use"));
	ASSERT_EQ(1, ep_nsval("udp_in_use"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
	for (i = 1; i < 5; i++)
		if (i != 3)
			close(fds[i]);
}

/* After bound_before_load: the harness runs global cases in their order. */
TEST(time_wait_begin)
{
	int err;

	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_NE(NULL, tw);
	err = tw_start();
	ASSERT_EQ(0, err) TH_LOG("the keeper: %s", strerror(-err));
	ASSERT_EQ(3, ep_kernel_in_use(tw->pid, 1, LO, LO + 9)) TH_LOG("3 in TIME_WAIT");
	ASSERT_EQ(3, ep_netval(tw->inum, "tcp_in_use"));
}

/*
 * Last (the harness runs fixtures in the order they are declared): every
 * hook registered, none missed an event under this load.
 */
FIXTURE(zz_final) {
	int dummy;
};

FIXTURE_SETUP(zz_final)
{
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
}

FIXTURE_TEARDOWN(zz_final)
{
}

TEST_F(zz_final, probes_registered_no_misses)
{
	char buf[4096], *line;
	int lines = 0;

	ASSERT_EQ(0, ep_read(EP_SYSFS "/probes", buf, sizeof(buf)));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char sym[64], state[32];
		unsigned long hits, missed;

		ASSERT_EQ(4, sscanf(line, "%63s %31s hits=%lu nmissed=%lu",
				    sym, state, &hits, &missed)) TH_LOG("%s", line);
		TH_LOG("%s", line);
		EXPECT_STREQ("registered", state) TH_LOG("%s", sym);
		EXPECT_EQ(0UL, missed) TH_LOG("%s missed events", sym);
		lines++;
	}
	ASSERT_EQ(6, lines);
}

int main(int argc, char **argv)
{
	int ret;

	/* The harness forks every case: the keeper's state outlives them. */
	tw = mmap(NULL, sizeof(*tw), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tw == MAP_FAILED)
		tw = NULL;
	ret = test_harness_run(argc, argv);
	if (tw && tw->pid > 0)
		kill(tw->pid, SIGKILL);
	return ret;
}
