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
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The 6.12 harness's TEST_F wrapper keeps a local across setjmp(), which
 * gcc -Wextra flags (-Wclobbered) for some test bodies: not this file's.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define SYSFS "/sys/kernel/ephport"
#define LO 40000		/* the pinned ranges start here */
#define SERVER_PORT 30000	/* listeners sit outside every range */
#define MAXFD 64

/* ---- helpers ---- */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int ephport_loaded(void)
{
	struct stat st;

	if (!stat(SYSFS "/version", &st))
		return 1;
	return !system("insmod /lib/modules/$(uname -r)/extra/ephport.ko 2>/dev/null") &&
	       !stat(SYSFS "/version", &st);
}

static unsigned long netns_inum(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}

/* A new namespace with lo up and the range pinned to [lo, hi]. */
static int new_netns(int lo, int hi)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	char range[32];
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr))) {
		close(fd);
		return -errno;
	}
	close(fd);
	snprintf(range, sizeof(range), "%d %d", lo, hi);
	return write_file("/proc/sys/net/ipv4/ip_local_port_range", range);
}

static int set_range(int lo, int hi)
{
	char range[32];

	snprintf(range, sizeof(range), "%d %d", lo, hi);
	return write_file("/proc/sys/net/ipv4/ip_local_port_range", range);
}

/* A value of this namespace's sysfs directory; -1 if unreadable. */
static long sysval(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), SYSFS "/net/%lu/%s", netns_inum(), name);
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

/* The same value from /proc/net/ephport; -1 if absent. */
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
		long s = sysval(values[i]), p = procval(values[i]);

		if (s != p || s < 0) {
			TH_LOG("%s: sysfs %ld, /proc/net/ephport %ld",
			       values[i], s, p);
			return 0;
		}
	}
	return 1;
}

static socklen_t loopback(int family, struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons(port);
	return sizeof(*a);
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int tcp_listener(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, port);
	int one = 1;
	int fd;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* connect() to loopback:port; returns the fd, or -errno. */
static int tcp_connect(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, port);
	int fd, err;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* bind() to loopback:port (0: the kernel chooses); fd or -errno. */
static int bound_socket(int family, int type, int port, int reuse)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, port);
	int one = 1;
	int fd, err;

	fd = socket(family, type, 0);
	if (fd < 0)
		return -errno;
	if (reuse)
		setsockopt(fd, SOL_SOCKET, reuse, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* UDP autobind: sendto() on an unbound socket; fd or -errno. */
static int udp_autobind(int family)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, &ss, SERVER_PORT);
	int fd, err;

	fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* close() with SO_LINGER 0: a TCP socket releases its port at once. */
static void close_now(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
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
	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, new_netns(LO, LO + 9)) TH_LOG("new namespace");
	self->n = 0;
	self->listener = -1;
	if (variant->type == SOCK_STREAM) {
		self->listener = tcp_listener(variant->family, SERVER_PORT);
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

	ASSERT_EQ(0, sysval(inuse)) TH_LOG("a new namespace uses no port");
	for (i = 0; i < 6; i++) {
		fd = tcp ? tcp_connect(variant->family, SERVER_PORT) :
			   udp_autobind(variant->family);
		ASSERT_GE(fd, 0) TH_LOG("operation %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
		ASSERT_EQ(i + 1, sysval(inuse)) TH_LOG("after %d operations", i + 1);
		ASSERT_GE(local_port(fd), LO);
		ASSERT_LE(local_port(fd), LO + 9);
	}
	ASSERT_EQ(6, sysval(ok)) TH_LOG("%s", ok);
	ASSERT_EQ(6, sysval(tcp ? "tcp_peak" : "udp_peak"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));

	/* Two released at once (RST for TCP). */
	close_now(self->fds[--self->n]);
	close_now(self->fds[--self->n]);
	ASSERT_EQ(4, sysval(inuse)) TH_LOG("after two releases");
	ASSERT_EQ(6, sysval(tcp ? "tcp_peak" : "udp_peak")) TH_LOG("peak stays");

	/* A normal TCP close leaves TIME_WAIT (or FIN_WAIT): still bound. */
	close(self->fds[--self->n]);
	ASSERT_EQ(tcp ? 4 : 3, sysval(inuse)) TH_LOG("after a close()");
	ASSERT_EQ(0, sysval(tcp ? "tcp_connect_fail" : "udp_fail"));
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
		fd = bound_socket(variant->family, variant->type, ports[i], 0);
		ASSERT_GE(fd, 0) TH_LOG("bind %d: %s", ports[i], strerror(-fd));
		self->fds[self->n++] = fd;
	}
	ASSERT_EQ(2, sysval(inuse)) TH_LOG("two of three ports in range");
	ASSERT_EQ(0, set_range(LO, LO + 30));
	ASSERT_EQ(3, sysval(inuse)) TH_LOG("the range grew over the third");
	ASSERT_EQ(0, set_range(LO + 1, LO + 4));
	ASSERT_EQ(0, sysval(inuse)) TH_LOG("the range left them all");
	ASSERT_EQ(0, set_range(LO, LO));
	ASSERT_EQ(1, sysval(inuse)) TH_LOG("lo == hi");
	ASSERT_EQ(0, sysval(variant->type == SOCK_STREAM ? "tcp_bind_ok" : "udp_ok"))
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
		fd = bound_socket(variant->family, variant->type, LO + 3,
				  tcp ? SO_REUSEADDR : SO_REUSEPORT);
		ASSERT_GE(fd, 0) TH_LOG("bind %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
	}
	ASSERT_EQ(1, sysval(inuse)) TH_LOG("three sockets, one port");
	close_now(self->fds[--self->n]);
	close_now(self->fds[--self->n]);
	ASSERT_EQ(1, sysval(inuse)) TH_LOG("one socket left on the port");
	close_now(self->fds[--self->n]);
	ASSERT_EQ(0, sysval(inuse)) TH_LOG("the port is free");
	ASSERT_EQ(1, sysval(tcp ? "tcp_peak" : "udp_peak"));
}

/* A range of a few ports fills up: exact failures, the alarm fires and clears. */
TEST_F(inuse, exhaustion_and_alarm)
{
	int tcp = variant->type == SOCK_STREAM;
	const char *inuse = tcp ? "tcp_in_use" : "udp_in_use";
	int i, fd;

	ASSERT_EQ(0, write_file(SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, set_range(LO, LO + 3));
	for (i = 0; i < 4; i++) {
		fd = tcp ? tcp_connect(variant->family, SERVER_PORT) :
			   udp_autobind(variant->family);
		ASSERT_GE(fd, 0) TH_LOG("operation %d: %s", i, strerror(-fd));
		self->fds[self->n++] = fd;
		ASSERT_EQ(i == 3, sysval("alarm")) TH_LOG("alarm at %d of 4", i + 1);
	}
	for (i = 0; i < 3; i++) {
		fd = tcp ? tcp_connect(variant->family, SERVER_PORT) :
			   udp_autobind(variant->family);
		ASSERT_LT(fd, 0) TH_LOG("the range is full");
	}
	ASSERT_EQ(4, sysval(inuse));
	ASSERT_EQ(4, sysval(tcp ? "tcp_connect_ok" : "udp_ok"));
	ASSERT_EQ(3, sysval(tcp ? "tcp_connect_fail" : "udp_fail"));

	/* Hysteresis: 3 of 4 (75%) is 15 points under 90: clears. */
	close_now(self->fds[--self->n]);
	ASSERT_EQ(3, sysval(inuse));
	ASSERT_EQ(0, sysval("alarm")) TH_LOG("75%% clears an alarm at 90%%");
	/* With alarm_pct 75 it is on again, and 72% would not clear it. */
	ASSERT_EQ(0, write_file(SYSFS "/alarm_pct", "75"));
	ASSERT_EQ(1, sysval("alarm"));
	ASSERT_EQ(0, write_file(SYSFS "/alarm_pct", "90"));
	ASSERT_EQ(0, sysval("alarm"));
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
	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, new_netns(LO, LO + 9)) TH_LOG("new namespace");
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
		fds[i] = bound_socket(variant->family, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0) TH_LOG("bind(0) %d: %s", i, strerror(-fds[i]));
	}
	fds[10] = bound_socket(variant->family, SOCK_STREAM, 0, 0);
	ASSERT_EQ(-EADDRINUSE, fds[10]) TH_LOG("the eleventh finds no port");
	ASSERT_EQ(10, sysval("tcp_bind_ok"));
	ASSERT_EQ(1, sysval("tcp_bind_fail"));
	ASSERT_EQ(10, sysval("tcp_in_use"));
	for (i = 0; i < 10; i++)
		close(fds[i]);
	ASSERT_EQ(0, sysval("tcp_in_use")) TH_LOG("unconnected sockets release at close");

	fds[0] = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_GE(fds[0], 0);
	ASSERT_EQ(0, listen(fds[0], 1));
	ASSERT_EQ(11, sysval("tcp_bind_ok")) TH_LOG("listen() without bind()");
	ASSERT_EQ(1, sysval("tcp_in_use"));
	close(fds[0]);
	ASSERT_EQ(0, sysval("tcp_in_use"));
	ASSERT_EQ(10, sysval("tcp_peak"));
	ASSERT_EQ(0, sysval("tcp_connect_ok")) TH_LOG("no connect() was made");
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* A connect() to a port of the range with no listener meets itself. */
TEST_F(tcp, self_connect)
{
	int fd;

	ASSERT_EQ(0, set_range(LO + 7, LO + 7));
	fd = tcp_connect(variant->family, LO + 7);
	ASSERT_GE(fd, 0) TH_LOG("connect to itself: %s", strerror(-fd));
	ASSERT_EQ(LO + 7, local_port(fd));
	ASSERT_EQ(1, sysval("self_connect"));
	ASSERT_EQ(1, sysval("tcp_connect_ok"));
	ASSERT_EQ(1, sysval("tcp_in_use"));
	close_now(fd);
	ASSERT_EQ(0, sysval("tcp_in_use"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
}

/* IP_BIND_ADDRESS_NO_PORT: bind() takes no port, connect() does. */
TEST_F(tcp, bind_address_no_port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(variant->family, &ss, 0);
	int one = 1;
	int lfd, fd;

	lfd = tcp_listener(variant->family, SERVER_PORT);
	ASSERT_GE(lfd, 0);
	fd = socket(variant->family, SOCK_STREAM, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, sysval("tcp_in_use")) TH_LOG("no port yet");
	ASSERT_EQ(0, sysval("tcp_bind_ok"));
	len = loopback(variant->family, &ss, SERVER_PORT);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(1, sysval("tcp_in_use"));
	ASSERT_EQ(1, sysval("tcp_connect_ok"));
	close_now(fd);
	close(lfd);
	ASSERT_EQ(0, sysval("tcp_in_use"));
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
		socklen_t len = loopback(family, &ss, 0);

		ASSERT_EQ(0, bind(fds[i], (struct sockaddr *)&ss, len));
		ASSERT_GE(local_port(fds[i]), LO + 6);
		ASSERT_LE(local_port(fds[i]), LO + 7);
	}
	{
		struct sockaddr_storage ss;
		socklen_t len = loopback(family, &ss, 0);

		ASSERT_NE(0, bind(fds[2], (struct sockaddr *)&ss, len))
			TH_LOG("two ports in the socket's range");
	}
	ASSERT_EQ(2, sysval("tcp_in_use"));
	ASSERT_EQ(2, sysval("tcp_bind_ok"));
	ASSERT_EQ(1, sysval("tcp_bind_fail"));
	for (i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_EQ(0, sysval("tcp_in_use"));
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

	lfd = tcp_listener(family, SERVER_PORT);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < 5; i++) {
		fds[i] = tcp_connect(family, SERVER_PORT);
		ASSERT_GE(fds[i], 0);
	}
	snprintf(path, sizeof(path), SYSFS "/net/%lu/search_ns", netns_inum());
	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long bound;
		long count;

		ASSERT_EQ(2, sscanf(line, "%llu %ld", &bound, &count)) TH_LOG("%s", line);
		total += count;
	}
	ASSERT_EQ(5, total);
	for (i = 0; i < 5; i++)
		close_now(fds[i]);
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
	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
}

FIXTURE_TEARDOWN(slow)
{
}


/*
 * Distinct local ports in [lo, hi] in /proc/net/<file> (ss's source):
 * every state, TIME_WAIT included.
 */
static int proc_net_ports(const char *file, int lo, int hi, unsigned char *seen)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/%s", file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon;
		int port;

		/* "  sl  local_address rem_address ...": addr:PORT in hex */
		colon = strchr(strchr(line, ':') + 1, ':');
		if (!colon)
			continue;
		port = strtol(colon + 1, NULL, 16);
		if (port < lo || port > hi || seen[port])
			continue;
		seen[port] = 1;
		n++;
	}
	fclose(f);
	return n;
}

static int kernel_in_use(int tcp, int lo, int hi)
{
	static unsigned char seen[65536];

	memset(seen, 0, sizeof(seen));
	return proc_net_ports(tcp ? "tcp" : "udp", lo, hi, seen) +
	       proc_net_ports(tcp ? "tcp6" : "udp6", lo, hi, seen);
}

/* Events the hooks missed, all hooks together; -1 if unreadable. */
static long probes_missed(void)
{
	char buf[4096], *line;
	long sum = 0;

	if (read_file(SYSFS "/probes", buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *m = strstr(line, "nmissed=");

		if (!m)
			return -1;
		sum += strtol(m + 8, NULL, 10);
	}
	return sum;
}

/*
 * Accepts connections and resets every other one (releases from
 * softirq); the others stay open until it is killed.
 */
static pid_t rst_server(int family)
{
	int lfd = tcp_listener(family, SERVER_PORT);
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
			close_now(fd);
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

	ASSERT_EQ(0, new_netns(LO, LO + 199));
	stats = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	missed = probes_missed();
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
			int fd = tcp_connect(AF_INET, SERVER_PORT);

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
					close_now(fd);
			}
			fd = udp_autobind(family);
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
	ASSERT_EQ(sum[0], sysval("tcp_connect_ok"));
	ASSERT_EQ(sum[1], sysval("tcp_connect_fail"));
	ASSERT_EQ(sum[2], sysval("udp_ok"));
	ASSERT_EQ(sum[3], sysval("udp_fail"));
	ASSERT_EQ(missed, probes_missed()) TH_LOG("no hook missed an event");

	/* A quiet moment: the kernel's tables and ephport agree. */
	for (k = 0; k < 2; k++) {
		int tcp = !k;
		int before, val, after;

		for (i = 0; i < 20; i++) {
			before = kernel_in_use(tcp, LO, LO + 199);
			val = sysval(tcp ? "tcp_in_use" : "udp_in_use");
			after = kernel_in_use(tcp, LO, LO + 199);
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

/* TIME_WAIT ports stay in use until the TIME_WAIT socket goes (60 s). */
TEST_F_TIMEOUT(slow, time_wait_expiry, 120)
{
	int lfd, fds[3], afds[3];
	int i;

	ASSERT_EQ(0, new_netns(LO, LO + 9));
	lfd = tcp_listener(AF_INET, SERVER_PORT);
	ASSERT_GE(lfd, 0);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_connect(AF_INET, SERVER_PORT);
		ASSERT_GE(fds[i], 0);
		afds[i] = accept(lfd, NULL, NULL);
		ASSERT_GE(afds[i], 0);
	}
	/* The clients close first: their ports go to TIME_WAIT. */
	for (i = 0; i < 3; i++)
		close(fds[i]);
	for (i = 0; i < 3; i++)
		close(afds[i]);
	close(lfd);
	usleep(200 * 1000);
	ASSERT_EQ(3, kernel_in_use(1, LO, LO + 9)) TH_LOG("3 in TIME_WAIT");
	ASSERT_EQ(3, sysval("tcp_in_use"));
	for (i = 0; i < 90 && kernel_in_use(1, LO, LO + 9); i++)
		sleep(1);
	TH_LOG("TIME_WAIT over after about %d s", i);
	ASSERT_EQ(0, kernel_in_use(1, LO, LO + 9));
	ASSERT_EQ(0, sysval("tcp_in_use"));
	ASSERT_EQ(3, sysval("tcp_peak"));
}

/* The alarm file wakes poll() when it changes. */
TEST(alarm_wakes_poll)
{
	struct pollfd pfd;
	char path[128], buf[8];
	int fds[4];
	int i;

	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, new_netns(LO, LO + 3));
	ASSERT_EQ(0, write_file(SYSFS "/alarm_pct", "90"));
	snprintf(path, sizeof(path), SYSFS "/net/%lu/alarm", netns_inum());
	pfd.fd = open(path, O_RDONLY);
	ASSERT_GE(pfd.fd, 0);
	pfd.events = POLLPRI | POLLERR;
	ASSERT_EQ(2, read(pfd.fd, buf, sizeof(buf)));
	ASSERT_EQ('0', buf[0]);
	for (i = 0; i < 4; i++) {
		fds[i] = udp_autobind(AF_INET);
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

	ASSERT_EQ(0, new_netns(LO, LO + 9));
	if (write_file("/proc/sys/net/ipv4/tcp_child_ehash_entries", "256"))
		SKIP(return, "no tcp_child_ehash_entries on this kernel");
	/* 6.1 has no per-namespace UDP table: UDP uses the global one. */
	if (write_file("/proc/sys/net/ipv4/udp_child_hash_entries", "256"))
		TH_LOG("no udp_child_hash_entries on this kernel");
	ASSERT_EQ(0, new_netns(LO, LO + 9));
	for (i = 0; i < 3; i++) {
		fds[i] = bound_socket(AF_INET, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0);
		fds[i + 3] = udp_autobind(AF_INET6);
		ASSERT_GE(fds[i + 3], 0);
	}
	ASSERT_EQ(3, sysval("tcp_in_use"));
	ASSERT_EQ(3, sysval("udp_in_use"));
	sleep(2);
	ASSERT_EQ(3, sysval("tcp_in_use")) TH_LOG("after a pass");
	ASSERT_EQ(3, sysval("udp_in_use")) TH_LOG("after a pass");
	close(fds[0]);
	close(fds[3]);
	ASSERT_EQ(2, sysval("tcp_in_use"));
	ASSERT_EQ(2, sysval("udp_in_use"));
	sleep(2);
	ASSERT_EQ(2, sysval("udp_in_use")) TH_LOG("after a pass");
	for (i = 1; i < 6; i++)
		if (i != 3)
			close(fds[i]);
	ASSERT_EQ(0, sysval("tcp_in_use"));
	ASSERT_EQ(0, sysval("udp_in_use"));
}

/* ---- writes ---- */

TEST(peak_reset_and_bad_writes)
{
	char path[128];
	int fds[3];
	int i;

	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, new_netns(LO, LO + 9));
	for (i = 0; i < 3; i++) {
		fds[i] = udp_autobind(AF_INET);
		ASSERT_GE(fds[i], 0);
	}
	close(fds[2]);
	ASSERT_EQ(3, sysval("udp_peak"));
	snprintf(path, sizeof(path), SYSFS "/net/%lu/udp_peak", netns_inum());
	ASSERT_EQ(-EINVAL, write_file(path, "1"));
	ASSERT_EQ(-EINVAL, write_file(path, "abc"));
	ASSERT_EQ(-EINVAL, write_file(path, "-1"));
	ASSERT_EQ(3, sysval("udp_peak")) TH_LOG("bad writes change nothing");
	ASSERT_EQ(0, write_file(path, "0"));
	ASSERT_EQ(2, sysval("udp_peak")) TH_LOG("the peak restarts from in_use");

	ASSERT_EQ(-EINVAL, write_file(SYSFS "/alarm_pct", "0"));
	ASSERT_EQ(-EINVAL, write_file(SYSFS "/alarm_pct", "101"));
	ASSERT_EQ(-EINVAL, write_file(SYSFS "/alarm_pct", "ninety"));
	ASSERT_EQ(-EINVAL, write_file(SYSFS "/alarm_pct", "\n"));
	ASSERT_EQ(-EINVAL, write_file(SYSFS "/alarm_pct", "50x"));
	snprintf(path, sizeof(path), SYSFS "/alarm_pct");
	{
		char buf[16];

		ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
		ASSERT_STREQ("90\n", buf);
	}
	close(fds[0]);
	close(fds[1]);
}

/* ---- namespaces come and go ---- */

static long netns_count(void)
{
	char buf[32];

	if (read_file(SYSFS "/netns", buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static int netns_dir_exists(unsigned long inum)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), SYSFS "/net/%lu", inum);
	return !stat(path, &st);
}

TEST(netns_appear_disappear)
{
	unsigned long inum;
	long with;
	int pipefd[2];
	pid_t pid;
	int i;

	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(pipefd[0]);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		inum = netns_inum();
		if (write(pipefd[1], &inum, sizeof(inum)) != sizeof(inum))
			_exit(1);
		/* Hold the namespace until the parent kills us. */
		for (;;)
			pause();
	}
	close(pipefd[1]);
	ASSERT_EQ((ssize_t)sizeof(inum), read(pipefd[0], &inum, sizeof(inum)));
	ASSERT_TRUE(netns_dir_exists(inum)) TH_LOG("net/%lu appears", inum);
	with = netns_count();
	ASSERT_GE(with, 2) TH_LOG("init_net and the new one at least");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pipefd[0]);
	/* The namespace is freed by a workqueue: poll for up to 10 s. */
	for (i = 0; i < 100 && netns_dir_exists(inum); i++)
		usleep(100 * 1000);
	ASSERT_FALSE(netns_dir_exists(inum)) TH_LOG("net/%lu disappears", inum);
	/* Others (earlier cases') may be going away at the same time. */
	ASSERT_LE(netns_count(), with - 1);
}

/* Sockets bound before ephport loads are counted once it has. */
TEST(bound_before_load)
{
	int fds[5];
	int i;

	if (system("test -f /lib/modules/$(uname -r)/extra/ephport.ko"))
		SKIP(return, "no ephport.ko to reload");
	ASSERT_EQ(0, new_netns(LO, LO + 9));
	if (netns_dir_exists(netns_inum()))
		ASSERT_EQ(0, system("rmmod ephport"));
	for (i = 0; i < 3; i++) {
		fds[i] = bound_socket(AF_INET, SOCK_STREAM, 0, 0);
		ASSERT_GE(fds[i], 0);
	}
	for (i = 3; i < 5; i++) {
		fds[i] = udp_autobind(AF_INET6);
		ASSERT_GE(fds[i], 0);
	}
	ASSERT_EQ(0, system("insmod /lib/modules/$(uname -r)/extra/ephport.ko"));
	ASSERT_EQ(3, sysval("tcp_in_use"));
	ASSERT_EQ(2, sysval("udp_in_use"));
	ASSERT_EQ(3, sysval("tcp_peak"));
	ASSERT_EQ(0, sysval("tcp_bind_ok")) TH_LOG("events before load are not counted");
	close(fds[0]);
	close(fds[3]);
	ASSERT_EQ(2, sysval("tcp_in_use"));
	ASSERT_EQ(1, sysval("udp_in_use"));
	ASSERT_TRUE(proc_matches_sysfs(_metadata));
	for (i = 1; i < 5; i++)
		if (i != 3)
			close(fds[i]);
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
	if (!ephport_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
}

FIXTURE_TEARDOWN(zz_final)
{
}

TEST_F(zz_final, probes_registered_no_misses)
{
	char buf[4096], *line;
	int lines = 0;

	ASSERT_EQ(0, read_file(SYSFS "/probes", buf, sizeof(buf)));
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

TEST_HARNESS_MAIN
