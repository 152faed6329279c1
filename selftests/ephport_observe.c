// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe: the observe mode's values are exact.
 *
 * Every case runs in a namespace of its own (unshare(CLONE_NEWNET), the
 * harness forks each case) with the port range pinned, makes a known
 * number of port operations and checks the namespace's values, in
 * /sys/kernel/ephport/net/<inum>/ and in /proc/net/ephport, to the unit.
 * No case needs another to have run: each fixture's setup loads ephport
 * if it is not loaded.
 */
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
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

/* The numbers both sysfs and /proc/net/ephport show. */
static const char *const values[] = {
	"tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
#define EPHPORT_OBSERVE_COUNTER(id, name) #name,
#define EPHPORT_RANDOM_COUNTER(id, name) #name,
#include "../module/ephport_counters.h"
	"alarm", "reuse_delay_ms", "resting",
};

/* Every value agrees between sysfs and /proc/net/ephport. */
static int proc_matches_sysfs(struct __test_metadata *_metadata)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		long s = ep_nsval(values[i]), p = ep_procval(values[i]);

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

/*
 * bind() to @port on the @i-th local address: 127.0.0.<i + 1>, or for
 * IPv6 ::1 then v4-mapped 127.0.0.<i + 1>. The fd, or -errno.
 */
static int bind_nth_address(int family, int type, int i, int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(*sin);
	int fd, err;

	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK + i);
	} else {
		len = sizeof(*sin6);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (!i) {
			sin6->sin6_addr = in6addr_loopback;
		} else {
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			sin6->sin6_addr.s6_addr32[3] = htonl(INADDR_LOOPBACK + i);
		}
	}
	fd = socket(family, type, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * One port on three local addresses, no SO_REUSE*: the kernel keeps one
 * bucket per address under the port's (tb->bhash2 on 6.12), and the port
 * is in use until the last of them lets go, whichever order they close in.
 */
TEST_F(inuse, port_on_three_addresses)
{
	int tcp = variant->type == SOCK_STREAM;
	const char *inuse = tcp ? "tcp_in_use" : "udp_in_use";
	int fds[3];
	int i;

	for (i = 0; i < 3; i++) {
		fds[i] = bind_nth_address(variant->family, variant->type, i,
					  LO + 4);
		ASSERT_GE(fds[i], 0) TH_LOG("address %d: %s", i,
					    strerror(-fds[i]));
		self->fds[self->n++] = fds[i];
	}
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("three addresses, one port");
	if (tcp)
		ASSERT_EQ(0, listen(fds[1], 8));
	ep_close_now(fds[0]);
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("the first address let go");
	ep_close_now(fds[2]);
	ASSERT_EQ(1, ep_nsval(inuse)) TH_LOG("the last address let go");
	ep_close_now(fds[1]);
	ASSERT_EQ(0, ep_nsval(inuse)) TH_LOG("every address let go");
	ASSERT_EQ(1, ep_nsval(tcp ? "tcp_peak" : "udp_peak"));
	self->n = 0;
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
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
		ASSERT_EQ(before, ep_procval(tcp ? "tcp_in_use" : "udp_in_use"));
	}
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* ---- TIME_WAIT: in use while it lasts, released when it ends ---- */

/*
 * A TIME_WAIT socket keeps its port for TCP_TIMEWAIT_LEN (60 s, not
 * tunable), and ephport counts the port in use until the socket leaves
 * the bind hash in inet_twsk_bind_unhash(), where its hook releases it.
 * The kernel gets there from inet_twsk_kill(): when the socket's timer
 * fires, or at once when the peer resets the connection at the sequence
 * number TIME_WAIT expects (the "assassination" of RFC 1337, which Linux
 * allows while the namespace's tcp_rfc1337 is 0). time_wait.reset sends
 * such resets through a raw socket instead of waiting 60 s;
 * time_wait.fin_wait2_timer has a timewait socket's own timer end it, in
 * the FIN_WAIT2 state, whose length is the namespace's tcp_fin_timeout.
 * A pass (on a read 1 s or more after the last) recounts from the
 * kernel's tables and would hide a release the hook missed: both cases
 * see the release before any pass could run.
 */
#define TW_MAX 3

/* One line of /sys/kernel/ephport/probes. */
struct hook {
	char symbol[64];
	char state[32];
	unsigned long hits, missed;
};

/* The hooks, into @h (up to @max); how many, or -1 if unreadable. */
static int read_hooks(struct hook *h, int max)
{
	char buf[4096], *line, *save;
	int n = 0;

	if (ep_read(EP_SYSFS "/probes", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %31s hits=%lu nmissed=%lu", h[n].symbol,
			   h[n].state, &h[n].hits, &h[n].missed) != 4)
			return -1;
		n++;
	}
	return n;
}

/* The calls the hook on @symbol has seen; -1 if there is none. */
static long hook_hits(const char *symbol)
{
	struct hook h[16];
	int n = read_hooks(h, 16), i;

	for (i = 0; i < n; i++)
		if (!strcmp(h[i].symbol, symbol))
			return h[i].hits;
	return -1;
}

/*
 * Timewait sockets of this namespace (timer 3 in /proc/net/tcp{,6}) in
 * @state (TCP_TIME_WAIT, or TCP_FIN_WAIT2) on a port of [LO, LO + 9].
 */
static int timewait_sockets(int state)
{
	static const char *const files[] = {
		"/proc/self/net/tcp", "/proc/self/net/tcp6",
	};
	char line[512];
	unsigned int i, port, st, tr;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		/* "sl: local:port remote:port st tx:rx tr:when ..." in hex */
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %x:",
				   &port, &st, &tr) == 3 &&
			    port >= LO && port <= LO + 9 &&
			    st == (unsigned int)state && tr == 3)
				n++;
		fclose(f);
	}
	return n;
}

/* Polls until timewait_sockets(@state) is @want, up to @secs; the count. */
static int wait_timewait(int state, int want, double secs)
{
	double until = ep_now() + secs;
	int n;

	while ((n = timewait_sockets(state)) != want && ep_now() < until)
		usleep(10 * 1000);
	return n;
}

/*
 * From the copies of TCP segments @raw received: for each of @ports, the
 * sequence number after the server's FIN to it (what its TIME_WAIT socket
 * expects next) into @next. 0, or -ENOENT if a FIN was not seen.
 */
static int tw_fins(int family, int raw, int n, const int *ports,
		   uint32_t *next)
{
	uint32_t buf[512];
	unsigned int found = 0;
	ssize_t len;
	int i;

	while ((len = recv(raw, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		const unsigned char *seg = (const unsigned char *)buf;
		const struct tcphdr *th;
		size_t seglen = len;

		/* IPv4 raw sockets receive the IP header as well. */
		if (family == AF_INET) {
			size_t ihl = (seg[0] & 0xf) * 4;

			if (seglen < ihl)
				continue;
			seg += ihl;
			seglen -= ihl;
		}
		th = (const struct tcphdr *)seg;
		if (seglen < sizeof(*th) || seglen < th->doff * 4U ||
		    !th->fin || ntohs(th->source) != EP_SERVER_PORT)
			continue;
		for (i = 0; i < n; i++) {
			if (ntohs(th->dest) != ports[i])
				continue;
			next[i] = ntohl(th->seq) + (seglen - th->doff * 4) + 1;
			found |= 1U << i;
		}
	}
	return found == (1U << n) - 1 ? 0 : -ENOENT;
}

/*
 * @n connections to @lfd whose client ends go to TIME_WAIT: each client
 * closes first, its server once it has read the client's FIN. The client
 * ports into @ports, what each TIME_WAIT socket expects next into @next
 * (@raw must have been open before). 0, or a negative errno.
 */
static int tw_make(int family, int lfd, int raw, int n, int *ports,
		   uint32_t *next)
{
	int c[TW_MAX], a[TW_MAX], i;
	char byte;

	for (i = 0; i < n; i++) {
		c[i] = ep_connect(family, EP_SERVER_PORT);
		if (c[i] < 0)
			return c[i];
		a[i] = accept(lfd, NULL, NULL);
		if (a[i] < 0)
			return -errno;
		ports[i] = ep_local_port(c[i]);
	}
	for (i = 0; i < n; i++)
		close(c[i]);
	for (i = 0; i < n; i++) {
		if (read(a[i], &byte, 1) != 0)
			return -EPROTO;		/* not the client's FIN */
		close(a[i]);
	}
	if (wait_timewait(TCP_TIME_WAIT, n, 5) != n)
		return -ETIMEDOUT;
	return tw_fins(family, raw, n, ports, next);
}

/* The peer's reset (from the server's port) to @port at @seq, through @raw. */
static int tw_reset(int family, int raw, int port, uint32_t seq)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(family, &ss, 0);
	struct tcphdr th;
	uint16_t w[sizeof(th) / 2];
	uint32_t sum;
	unsigned int i;

	memset(&th, 0, sizeof(th));
	th.source = htons(EP_SERVER_PORT);
	th.dest = htons(port);
	th.seq = htonl(seq);
	th.doff = sizeof(th) / 4;
	th.rst = 1;
	/*
	 * The checksum over the pseudo-header (loopback to loopback:
	 * 127.0.0.1 or ::1 twice, TCP, 20 bytes) and the header.
	 */
	sum = family == AF_INET ? 2 * (0x7f00 + 0x0001) : 2 * 0x0001;
	sum += IPPROTO_TCP + sizeof(th);
	memcpy(w, &th, sizeof(th));
	for (i = 0; i < ARRAY_SIZE(w); i++)
		sum += ntohs(w[i]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	th.check = htons(~sum & 0xffff);
	if (sendto(raw, &th, sizeof(th), 0, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	return 0;
}

FIXTURE(time_wait) {
	int lfd;	/* the server's listener */
	int raw;	/* sees every TCP segment, sends the resets */
};

FIXTURE_VARIANT(time_wait) {
	int family;
};

FIXTURE_VARIANT_ADD(time_wait, ip4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(time_wait, ip6) { .family = AF_INET6 };

FIXTURE_SETUP(time_wait)
{
	self->lfd = -1;
	self->raw = -1;
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9)) TH_LOG("new namespace");
	ASSERT_EQ(0, ep_write("/proc/sys/net/ipv4/tcp_rfc1337", "0"));
	self->raw = socket(variant->family, SOCK_RAW, IPPROTO_TCP);
	ASSERT_GE(self->raw, 0) TH_LOG("raw TCP socket: %s", strerror(errno));
	self->lfd = ep_listener(variant->family, EP_SERVER_PORT);
	ASSERT_GE(self->lfd, 0) TH_LOG("listener");
}

FIXTURE_TEARDOWN(time_wait)
{
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->raw >= 0)
		close(self->raw);
}

/* Polls until @name reads @want, up to @secs; what it read last. */
static long wait_nsval(const char *name, long want, double secs)
{
	double until = ep_now() + secs;
	long v;

	while ((v = ep_nsval(name)) != want && ep_now() < until)
		usleep(1000);
	return v;
}

/*
 * Three ports in TIME_WAIT are in use, and stay so after a reset out of
 * the window. Each reset at the expected sequence number ends one, and
 * its port is released at once: read within 1 s of the pass that the
 * first read makes, every value is the hooks' (no pass recounted it).
 */
TEST_F(time_wait, reset)
{
	int ports[TW_MAX], i, err;
	uint32_t next[TW_MAX];
	long hits0;
	double t0, took;

	err = tw_make(variant->family, self->lfd, self->raw, TW_MAX, ports, next);
	ASSERT_EQ(0, err) TH_LOG("three ports into TIME_WAIT: %s", strerror(-err));
	ASSERT_EQ(TW_MAX, ep_kernel_in_use(getpid(), 1, LO, LO + 9));
	ASSERT_EQ(TW_MAX, ep_nsval("tcp_in_use")) TH_LOG("TIME_WAIT ports are in use");

	ASSERT_EQ(0, tw_reset(variant->family, self->raw, ports[0], next[0] + 1));
	usleep(100 * 1000);
	ASSERT_EQ(TW_MAX, timewait_sockets(TCP_TIME_WAIT))
		TH_LOG("a reset out of the window ends nothing");
	ASSERT_EQ(TW_MAX, ep_nsval("tcp_in_use"));

	/* A pass runs on a read 1 s after the last: this read makes one. */
	hits0 = hook_hits("inet_twsk_bind_unhash");
	ASSERT_LE(0, hits0) TH_LOG("the hook on inet_twsk_bind_unhash");
	usleep(1100 * 1000);
	ASSERT_EQ(TW_MAX, ep_nsval("tcp_in_use"));
	t0 = ep_now();
	for (i = 0; i < TW_MAX; i++) {
		ASSERT_EQ(0, tw_reset(variant->family, self->raw, ports[i], next[i]));
		ASSERT_EQ(TW_MAX - 1 - i, wait_nsval("tcp_in_use", TW_MAX - 1 - i, 0.3))
			TH_LOG("port %d released by its reset", ports[i]);
	}
	took = ep_now() - t0;
	TH_LOG("three TIME_WAIT sockets reset and released in %.3f s", took);
	ASSERT_GT(0.95, took) TH_LOG("within 1 s of the last pass: the hook released them");
	ASSERT_EQ(0, timewait_sockets(TCP_TIME_WAIT)) TH_LOG("the resets ended TIME_WAIT");
	ASSERT_EQ(0, ep_kernel_in_use(getpid(), 1, LO, LO + 9));
	ASSERT_LE(hits0 + TW_MAX, hook_hits("inet_twsk_bind_unhash"))
		TH_LOG("the hook saw each TIME_WAIT socket leave");
	ASSERT_EQ(TW_MAX, ep_nsval("tcp_peak")) TH_LOG("the peak stays");
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/*
 * A timewait socket's own timer: the client closes once the server has
 * acknowledged its FIN, the server stays open, and the client's end waits
 * in FIN_WAIT2 for tcp_fin_timeout (1 s here, 3.5 RTOs if longer). Its
 * port, the only one of the range, is in use until the timer ends it; the
 * release then clears the alarm, which wakes a poll() on its file. Nothing
 * reads ephport's values meanwhile, so no pass recounts them: the wake-up
 * is the hook's.
 */
TEST_F(time_wait, fin_wait2_timer)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof(ti);
	struct pollfd pfd;
	char path[128], buf[8];
	int c, a, i, woken;
	double t0, waited;
	long hits0;

	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, ep_set_range(LO, LO));
	ASSERT_EQ(0, ep_write("/proc/sys/net/ipv4/tcp_fin_timeout", "1"));
	c = ep_connect(variant->family, EP_SERVER_PORT);
	ASSERT_GE(c, 0) TH_LOG("connect: %s", strerror(-c));
	a = accept(self->lfd, NULL, NULL);
	ASSERT_GE(a, 0);
	ASSERT_EQ(LO, ep_local_port(c));
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len));
		if (ti.tcpi_state == TCP_FIN_WAIT2)
			break;
		usleep(10 * 1000);
	}
	ASSERT_EQ(TCP_FIN_WAIT2, ti.tcpi_state) TH_LOG("the server acknowledged the FIN");
	hits0 = hook_hits("inet_twsk_bind_unhash");
	ASSERT_LE(0, hits0) TH_LOG("the hook on inet_twsk_bind_unhash");

	close(c);
	t0 = ep_now();
	ASSERT_EQ(1, timewait_sockets(TCP_FIN_WAIT2))
		TH_LOG("a timewait socket in FIN_WAIT2 holds port %d", LO);
	ASSERT_EQ(1, ep_nsval("tcp_in_use")) TH_LOG("its port is in use");
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/alarm", ep_inum());
	pfd.fd = open(path, O_RDONLY);
	ASSERT_GE(pfd.fd, 0);
	pfd.events = POLLPRI | POLLERR;
	ASSERT_EQ(2, read(pfd.fd, buf, sizeof(buf)));
	ASSERT_EQ('1', buf[0]) TH_LOG("1 of 1 port in use: the alarm is on");

	woken = poll(&pfd, 1, 10 * 1000);
	waited = ep_now() - t0;
	TH_LOG("poll() on the alarm %s %.2f s after close()",
	       woken == 1 ? "woken" : "not woken", waited);
	ASSERT_EQ(1, woken) TH_LOG("the release clears the alarm");
	ASSERT_EQ(0, timewait_sockets(TCP_FIN_WAIT2)) TH_LOG("the timer ended it");
	ASSERT_EQ(2, pread(pfd.fd, buf, sizeof(buf), 0));
	ASSERT_EQ('0', buf[0]);
	ASSERT_EQ(0, ep_nsval("tcp_in_use")) TH_LOG("port %d released", LO);
	ASSERT_EQ(0, ep_kernel_in_use(getpid(), 1, LO, LO));
	ASSERT_LT(hits0, hook_hits("inet_twsk_bind_unhash"))
		TH_LOG("through the hook on inet_twsk_bind_unhash");
	ASSERT_EQ(1, ep_nsval("tcp_peak"));
	close(pfd.fd);
	close(a);
}

/* ---- the module's files ---- */

/* Cases that need ephport loaded and nothing else set up. */
FIXTURE(loaded) {
	int dummy;
};

FIXTURE_SETUP(loaded)
{
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
}

FIXTURE_TEARDOWN(loaded)
{
}

/* The alarm file wakes poll() when it changes. */
TEST_F(loaded, alarm_wakes_poll)
{
	struct pollfd pfd;
	char path[128], buf[8];
	int fds[4];
	int i;

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

TEST_F(loaded, peak_reset_and_bad_writes)
{
	char path[128];
	int fds[3];
	int i;

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

	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_pct", "90"));
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

TEST_F(loaded, netns_appear_disappear)
{
	unsigned long inum;
	long with;
	int pipefd[2];
	pid_t pid;
	int i;

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

/*
 * Every hook is registered and sees calls: this case makes one of each in
 * a namespace of its own (a TIME_WAIT socket ended by the peer's reset
 * for inet_twsk_bind_unhash). And no hook has missed an event since
 * ephport was loaded.
 */
TEST_F(loaded, probes_registered_no_misses)
{
	struct hook before[16], after[16];
	int n, i, lfd, lfd6, raw, fd, port;
	uint32_t next;

	n = read_hooks(before, 16);
	ASSERT_EQ(7, n) TH_LOG("seven hooks in %s/probes", EP_SYSFS);
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9));
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
	ASSERT_GE(raw, 0) TH_LOG("raw TCP socket: %s", strerror(errno));
	lfd = ep_listener(AF_INET, EP_SERVER_PORT);
	ASSERT_GE(lfd, 0);
	ASSERT_EQ(0, tw_make(AF_INET, lfd, raw, 1, &port, &next));
	ASSERT_EQ(0, tw_reset(AF_INET, raw, port, next));
	ASSERT_EQ(0, wait_timewait(TCP_TIME_WAIT, 0, 2)) TH_LOG("TIME_WAIT reset");
	fd = ep_bind0(AF_INET, SOCK_STREAM);
	ASSERT_GE(fd, 0);
	close(fd);
	fd = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
	ASSERT_GE(fd, 0);
	close(fd);
	/* IPv6 connect() has a function of its own. */
	lfd6 = ep_listener(AF_INET6, EP_SERVER_PORT + 1);
	ASSERT_GE(lfd6, 0);
	fd = ep_connect(AF_INET6, EP_SERVER_PORT + 1);
	ASSERT_GE(fd, 0);
	close(fd);
	close(lfd6);
	close(lfd);
	close(raw);

	ASSERT_EQ(n, read_hooks(after, 16));
	for (i = 0; i < n; i++) {
		TH_LOG("%s %s hits=%lu (+%lu) nmissed=%lu", after[i].symbol,
		       after[i].state, after[i].hits,
		       after[i].hits - before[i].hits, after[i].missed);
		EXPECT_STREQ("registered", after[i].state) TH_LOG("%s", after[i].symbol);
		EXPECT_LT(before[i].hits, after[i].hits)
			TH_LOG("%s saw this case's call", after[i].symbol);
		EXPECT_EQ(0UL, after[i].missed) TH_LOG("%s missed events", after[i].symbol);
	}
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

/*
 * The peaks asserted here are exact while one CPU does a namespace's
 * binds and releases; with several, the module documents a bound of
 * EPHPORT_FOLD - 1 ports per other CPU, which KUnit checks
 * (ephport_ports_many_cpus_test). So the suite runs on one CPU, its
 * forked tests included.
 */
static void __attribute__((constructor)) one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

TEST_HARNESS_MAIN
