// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_dests: who runs out of ports toward where.
 *
 * - /proc/net/ephport_dests lists the destinations toward which the
 *   namespace holds the most ports of its range, with TIME_WAIT and
 *   headroom; tcp_dest_max is the most held toward one.
 * - alarm_basis "dest": the alarm follows the fullest destination, not
 *   the share of distinct ports (every port bound, no connect() failing).
 *
 * The tracepoints that name who failed are ephport_dests_trace's; what
 * both use is in ephport_dests.h.
 */
#define _GNU_SOURCE
#include "ephport_dests.h"

/* ---- /proc/net/ephport_dests, tcp_dest_max, the alarm's basis ---- */

#define NDEST 10

struct dest_line {
	char proto[8], addr[64];
	int dport;
	long held, tw, headroom;
};

/* The lines of /proc/net/ephport_dests; their number, or -1. */
static int read_dests(struct dest_line *d, int max)
{
	char line[256];
	int n = 0;
	FILE *f;

	f = fopen("/proc/net/ephport_dests", "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) ||
	    strcmp(line, "proto daddr dport held time_wait headroom\n")) {
		fclose(f);
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %63s %d %ld %ld %ld", d[n].proto,
			   d[n].addr, &d[n].dport, &d[n].held, &d[n].tw,
			   &d[n].headroom) != 6)
			break;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * What the kernel itself shows toward port @port (ss's source): the
 * sockets of the range by state (TIME_WAIT 06, FIN_WAIT2 05, ...), and
 * TcpExt's counters of sockets ended early, to tell a miscount from a
 * socket that is gone.
 */
static void log_kernel_view(struct __test_metadata *_metadata, int family,
			    int port)
{
	static const char *const ext[] = {
		"TW", "TWKilled", "TCPTimeWaitOverflow", "TCPAbortOnClose",
		"TCPAbortOnData", "TCPAbortOnMemory", "TCPAbortOnTimeout",
	};
	char line[512], names[8192], vals[8192], *n, *v, *sn, *sv;
	int states[16] = {}, lport, rport, st, k;
	unsigned int i;
	FILE *f;

	f = fopen(family == AF_INET6 ? "/proc/self/net/tcp6" :
		  "/proc/self/net/tcp", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %x",
			   &lport, &rport, &st) == 3 && rport == port &&
		    lport >= LO && lport < LO + 100 && st < 16)
			states[st]++;
	if (f)
		fclose(f);
	for (k = 0; k < 16; k++)
		if (states[k])
			TH_LOG("kernel: %d sockets toward :%d in state %02X",
			       states[k], port, k);
	f = fopen("/proc/self/net/netstat", "r");
	while (f && fgets(names, sizeof(names), f) &&
	       fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names + 7, " \n", &sn);
		v = strtok_r(vals + 7, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn),
		     v = strtok_r(NULL, " \n", &sv))
			for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
				if (!strcmp(n, ext[i]) && strcmp(v, "0"))
					TH_LOG("kernel: TcpExt %s %s", n, v);
	}
	if (f)
		fclose(f);
}

/*
 * Waits up to @secs (the table may be up to 1 s old) until destination
 * @i:@port has the values given (-1: any); the line's index, or -1 with
 * the last table logged.
 */
static int wait_dest_for(struct __test_metadata *_metadata, double secs,
			 int family, int i, int port, long held, long tw,
			 long headroom)
{
	struct dest_line d[40];
	char addr[64];
	double end = ep_now() + secs;
	int n, k;

	dest_text(family, i, addr, sizeof(addr));
	do {
		n = read_dests(d, 40);
		for (k = 0; k < n; k++)
			if (!strcmp(d[k].addr, addr) && d[k].dport == port &&
			    (held < 0 || d[k].held == held) &&
			    (tw < 0 || d[k].tw == tw) &&
			    (headroom < 0 || d[k].headroom == headroom))
				return k;
		usleep(100000);
	} while (ep_now() < end);
	TH_LOG("no line %s %d %ld %ld %ld among %d:", addr, port, held, tw,
	       headroom, n);
	for (k = 0; k < n; k++)
		TH_LOG("  %s %s %d %ld %ld %ld", d[k].proto, d[k].addr,
		       d[k].dport, d[k].held, d[k].tw, d[k].headroom);
	log_kernel_view(_metadata, family, port);
	return -1;
}

#define wait_dest(...) wait_dest_for(_metadata, 3, __VA_ARGS__)

/* Waits until @name of this namespace (sysfs) is @want; the last value. */
static long wait_nsval(const char *name, long want)
{
	double end = ep_now() + 3;
	long v;

	do {
		v = ep_nsval(name);
		if (v == want)
			break;
		usleep(100000);
	} while (ep_now() < end);
	return v;
}

FIXTURE(dests) {
	char basis[16];
	int listener[NDEST];
	int fds[320];
	int nfds;
};

FIXTURE_VARIANT(dests) {
	int family;
};

FIXTURE_VARIANT_ADD(dests, ip4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(dests, ip6) { .family = AF_INET6 };

FIXTURE_SETUP(dests)
{
	int i;

	self->nfds = 0;
	self->basis[0] = 0;
	for (i = 0; i < NDEST; i++)
		self->listener[i] = -1;
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	ASSERT_EQ(0, ep_read(EP_SYSFS "/alarm_basis", self->basis,
			     sizeof(self->basis)));
	ASSERT_EQ(0, ep_new_netns(LO, LO + 99)) TH_LOG("new namespace");
	i = ip_addrs(variant->family, NDEST);
	ASSERT_EQ(0, i) TH_LOG("fd00::2... on lo: %s", strerror(-i));
}

FIXTURE_TEARDOWN(dests)
{
	if (self->basis[0])
		ep_write(EP_SYSFS "/alarm_basis", self->basis);
}

static void add_fd(FIXTURE_DATA(dests) *self, int fd)
{
	self->fds[self->nfds++] = fd;
}

/* Marks (@n > 0) or unmarks (@n < 0) @fd's local port in @ports. */
static void count_port(int *ports, int fd, int n)
{
	ports[ep_local_port(fd) - LO] += n;
}

/* The ports of the range marked in @ports: what tcp_in_use must say. */
static long distinct(const int *ports)
{
	long n = 0;
	int i;

	for (i = 0; i < 100; i++)
		n += ports[i] > 0;
	return n;
}

/* Waits until @fd's connection is in FIN_WAIT2 (its FIN acknowledged). */
static int wait_fin_wait2(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	double end = ep_now() + 3;

	do {
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -errno;
		if (ti.tcpi_state == TCP_FIN_WAIT2)
			return 0;
		usleep(10000);
	} while (ep_now() < end);
	return -ETIMEDOUT;
}

/*
 * 60 connections to A:5000 and 30 to B:5001 in a 100-port range: two
 * lines, held 60 and 30, headroom 40 and 70. Then some of A's end in the
 * kernel's timewait state and the values follow its timer:
 *
 * - 20 close first, their peers next: TIME_WAIT proper. The column moves
 *   to 20; their 60 s are not waited for here.
 * - 10 close with TCP_LINGER2 of 3 s while their peers stay open. Each
 *   shuts down its side first and closes once the peer has acknowledged
 *   the FIN (FIN_WAIT2): then close() turns it into a timewait socket
 *   (the same object as a TIME_WAIT one, sk_state TCP_TIME_WAIT, its
 *   substate FIN_WAIT2) and arms the timewait timer for 3 s instead of
 *   60. (Closed before that acknowledgement, a socket may stay a full
 *   one in FIN_WAIT2 whose own timer resets it: not a timewait socket.) The column counts them (30), and when that
 *   timer fires (tw_timer_handler, inet_twsk_kill: the path every
 *   TIME_WAIT expiry takes, with inet_twsk_bind_unhash) held, time_wait,
 *   headroom, tcp_dest_max and tcp_in_use all follow, without a reset or
 *   any segment on the wire, and not before the 3 s are up. What this
 *   does not show is the 60 s TIME_WAIT substate itself expiring: only
 *   the timer's length differs.
 * - 10 more are reset: no timewait, the ports are free toward A at once.
 */
TEST_F_TIMEOUT(dests, two_destinations, 300)
{
	int client[60], server[60], closed[100] = {}, ports[100] = {};
	int linger2 = 3;
	double t0, t1;
	int i, fd, k;

	self->listener[0] = listen_on(variant->family, 0, PORT_A);
	self->listener[1] = listen_on(variant->family, 1, PORT_B);
	ASSERT_GE(self->listener[0], 0);
	ASSERT_GE(self->listener[1], 0);
	for (i = 0; i < 60; i++) {
		client[i] = connect_to(variant->family, 0, PORT_A, 0);
		ASSERT_GE(client[i], 0) TH_LOG("connect A %d: %s", i, strerror(-client[i]));
		count_port(ports, client[i], 1);
	}
	for (i = 0; i < 30; i++) {
		fd = connect_to(variant->family, 1, PORT_B, 0);
		ASSERT_GE(fd, 0) TH_LOG("connect B %d: %s", i, strerror(-fd));
		count_port(ports, fd, 1);
		add_fd(self, fd);
	}
	ASSERT_EQ(0, wait_dest(variant->family, 0, PORT_A, 60, 0, 40));
	ASSERT_EQ(1, wait_dest(variant->family, 1, PORT_B, 30, 0, 70));
	ASSERT_EQ(2, read_dests((struct dest_line[4]){}, 4)) TH_LOG("two lines");
	ASSERT_EQ(60, ep_nsval("tcp_dest_max"));
	ASSERT_EQ(60, ep_procval("tcp_dest_max"));
	/* B's connections share ports with A's: 60 to 90 distinct ports. */
	ASSERT_EQ(distinct(ports), wait_nsval("tcp_in_use", distinct(ports)));

	/* 20 of A's close first, their peers next: TIME_WAIT on our side. */
	for (i = 0; i < 60; i++) {
		server[i] = accept(self->listener[0], NULL, NULL);
		ASSERT_GE(server[i], 0);
	}
	for (i = 0; i < 20; i++) {
		closed[ep_local_port(client[i]) - LO] = 1;
		close(client[i]);
	}
	for (i = 0; i < 60; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int port;

		ASSERT_EQ(0, getpeername(server[i], (struct sockaddr *)&ss, &len));
		port = ntohs(ss.ss_family == AF_INET6 ?
			     ((struct sockaddr_in6 *)&ss)->sin6_port :
			     ((struct sockaddr_in *)&ss)->sin_port);
		if (closed[port - LO])
			close(server[i]);
		else
			add_fd(self, server[i]);
	}
	k = wait_dest(variant->family, 0, PORT_A, 60, 20, 40);
	ASSERT_EQ(0, k) TH_LOG("20 of A's 60 in TIME_WAIT");

	/* 10 end in timewait sockets whose timer is 3 s, peers left open. */
	for (i = 20; i < 30; i++) {
		ASSERT_EQ(0, setsockopt(client[i], IPPROTO_TCP, TCP_LINGER2,
					&linger2, sizeof(linger2)));
		ASSERT_EQ(0, shutdown(client[i], SHUT_WR));
	}
	for (i = 20; i < 30; i++)
		ASSERT_EQ(0, wait_fin_wait2(client[i])) TH_LOG("FIN_WAIT2 %d", i);
	t0 = ep_now();
	for (i = 20; i < 30; i++) {
		count_port(ports, client[i], -1);
		close(client[i]);
	}
	k = wait_dest(variant->family, 0, PORT_A, 60, 30, 40);
	ASSERT_EQ(0, k) TH_LOG("10 more in timewait: 30 of A's 60");
	k = wait_dest_for(_metadata, linger2 + 5, variant->family, 0, PORT_A,
			  50, 20, 50);
	t1 = ep_now();
	ASSERT_EQ(0, k) TH_LOG("their timer ended them: 50 held, 20 in TIME_WAIT");
	ASSERT_TRUE(t1 - t0 >= linger2 - 0.05)
		TH_LOG("gone %.2f s after the close, before their timer", t1 - t0);
	ASSERT_EQ(1, wait_dest(variant->family, 1, PORT_B, 30, 0, 70));
	ASSERT_EQ(50, ep_nsval("tcp_dest_max"));
	ASSERT_EQ(distinct(ports), wait_nsval("tcp_in_use", distinct(ports)))
		TH_LOG("the expired ports left the distinct count");

	/* Reset: no timewait, the ports are free toward A at once. */
	for (i = 30; i < 40; i++) {
		count_port(ports, client[i], -1);
		ep_close_now(client[i]);
	}
	ASSERT_EQ(0, wait_dest(variant->family, 0, PORT_A, 40, 20, 60));
	ASSERT_EQ(40, ep_nsval("tcp_dest_max"));
	ASSERT_EQ(distinct(ports), wait_nsval("tcp_in_use", distinct(ports)));
	for (i = 40; i < 60; i++)
		add_fd(self, client[i]);
}

/*
 * 300 connections to 10 destinations, each port of the 100-port range
 * bound 3 times (an explicit bind() per connection makes it exact): no
 * connect() fails, and only the distinct-port basis raises the alarm.
 */
TEST_F_TIMEOUT(dests, spread_alarm_basis, 300)
{
	struct dest_line d[40];
	int i, k, fd;

	for (i = 0; i < NDEST; i++) {
		self->listener[i] = listen_on(variant->family, i, PORT_A);
		ASSERT_GE(self->listener[i], 0);
	}
	for (k = 0; k < 300; k++) {
		fd = connect_to(variant->family, k / 30, PORT_A, LO + k % 100);
		ASSERT_GE(fd, 0) TH_LOG("connect %d: %s", k, strerror(-fd));
		add_fd(self, fd);
	}
	ASSERT_EQ(100, ep_nsval("tcp_in_use")) TH_LOG("every port in use");
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", "ports"));
	ASSERT_EQ(1, wait_nsval("alarm", 1)) TH_LOG("ports: 100 %% of the range");
	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", "dest"));
	ASSERT_EQ(0, wait_nsval("alarm", 0)) TH_LOG("dest: 30 %% toward each");
	ASSERT_EQ(30, ep_nsval("tcp_dest_max"));
	ASSERT_EQ(NDEST, read_dests(d, 40));
	for (i = 0; i < NDEST; i++)
		ASSERT_LE(0, wait_dest(variant->family, i, PORT_A,
				       30, 0, 70));
	ASSERT_EQ(0, ep_nsval("tcp_connect_fail"));
}

/*
 * 100 connections to one destination fill its range: the dest alarm is
 * on, and the 101st connect() fails, with an event naming this process,
 * its cgroup and the destination.
 */
TEST_F_TIMEOUT(dests, one_destination_full, 300)
{
	char comm[32], want_pid[32], want_comm[48], want_cg[48], want_dst[96];
	char dst[64], why[700];
	const char *want[6];
	long long cg;
	int i, fd, traced;

	ASSERT_EQ(0, ep_write(EP_SYSFS "/alarm_basis", "dest"));
	self->listener[0] = listen_on(variant->family, 0, PORT_A);
	ASSERT_GE(self->listener[0], 0);
	traced = tracefs();
	if (traced) {
		ASSERT_EQ(0, trace_event("ephport_port_fail", 1));
		ASSERT_EQ(0, trace_clear());
	}
	for (i = 0; i < 100; i++) {
		fd = connect_to(variant->family, 0, PORT_A, 0);
		ASSERT_GE(fd, 0) TH_LOG("connect %d: %s", i, strerror(-fd));
		add_fd(self, fd);
		if (i == 79)
			ASSERT_EQ(0, wait_nsval("alarm", 0)) TH_LOG("80 %%: off");
	}
	ASSERT_EQ(0, wait_dest(variant->family, 0, PORT_A, 100, 0, 0));
	ASSERT_EQ(1, wait_nsval("alarm", 1)) TH_LOG("100 %% toward one: on");
	ASSERT_EQ(100, ep_nsval("tcp_dest_max"));
	fd = connect_to(variant->family, 0, PORT_A, 0);
	ASSERT_EQ(-EADDRNOTAVAIL, fd) TH_LOG("the 101st connect() finds no port");
	ASSERT_EQ(1, ep_nsval("tcp_connect_fail"));
	if (traced) {
		trace_event("ephport_port_fail", 0);
		cg = my_cgroup(why, sizeof(why));
		ASSERT_LE(0, cg) TH_LOG("this process's cgroup id: %s", why);
		my_comm(comm, sizeof(comm));
		dest_text(variant->family, 0, dst, sizeof(dst));
		snprintf(want_pid, sizeof(want_pid), " pid=%d ", getpid());
		snprintf(want_comm, sizeof(want_comm), " comm=%s ", comm);
		snprintf(want_cg, sizeof(want_cg), " cgroup=%lld", cg);
		snprintf(want_dst, sizeof(want_dst), " daddr=%s dport=%d ", dst,
			 PORT_A);
		want[0] = " op=connect proto=tcp ";
		want[1] = want_dst;
		want[2] = want_pid;
		want[3] = want_comm;
		want[4] = want_cg;
		want[5] = NULL;
		ASSERT_EQ(1, trace_count("ephport_port_fail", want, NULL, 0))
			TH_LOG("one event naming%s%s%s%s", want_dst, want_pid,
			       want_comm, want_cg);
	}
}

TEST_HARNESS_MAIN
