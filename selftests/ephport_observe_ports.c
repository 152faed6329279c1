// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe_ports: the values after known port operations: in_use
 * and peaks for TCP and UDP over IPv4 and IPv6, bind(0), connect(),
 * IP_LOCAL_PORT_RANGE, the search time.
 *
 * Shared with the other ephport_observe_* programs: ephport_observe.h.
 */
#define _GNU_SOURCE
#include "ephport_observe.h"

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

TEST_HARNESS_MAIN
