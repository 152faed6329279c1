// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_dests_trace: the tracepoints ephport:ephport_port_fail and
 * ephport:ephport_self_connect name the namespace, the process (pid,
 * comm, cgroup) and the destination of every failure for lack of a port,
 * read back from tracefs; disabled, they record nothing.
 *
 * What it shares with ephport_dests is in ephport_dests.h.
 */
#define _GNU_SOURCE
#include "ephport_dests.h"

/* ---- the tracepoints ---- */

FIXTURE(trace) {
	int listener;
};

FIXTURE_VARIANT(trace) {
	int family;
};

FIXTURE_VARIANT_ADD(trace, ip4) { .family = AF_INET };
FIXTURE_VARIANT_ADD(trace, ip6) { .family = AF_INET6 };

FIXTURE_SETUP(trace)
{
	int i;

	self->listener = -1;
	if (ep_ensure_loaded())
		SKIP(return, "ephport is not loaded and cannot be");
	if (!tracefs())
		SKIP(return, "kernel without tracefs (CONFIG_EVENT_TRACING)");
	ASSERT_EQ(0, ep_new_netns(LO, LO + 9)) TH_LOG("new namespace");
	i = ip_addrs(variant->family, 1);
	ASSERT_EQ(0, i) TH_LOG("fd00::2 on lo: %s", strerror(-i));
	self->listener = listen_on(variant->family, 0, PORT_A);
	ASSERT_GE(self->listener, 0) TH_LOG("listener: %s", strerror(-self->listener));
	ASSERT_EQ(0, trace_event("ephport_port_fail", 1))
		TH_LOG("events/ephport/ephport_port_fail/enable");
	ASSERT_EQ(0, trace_event("ephport_self_connect", 1));
	ASSERT_EQ(0, trace_clear());
}

FIXTURE_TEARDOWN(trace)
{
	if (tracing[0]) {
		trace_event("ephport_port_fail", 0);
		trace_event("ephport_self_connect", 0);
	}
}

/*
 * The 11th connect() in a 10-port range finds no port: one event, with
 * the destination, this process and its cgroup. bind(0) and UDP
 * autobind failures are named too, without a destination.
 */
TEST_F(trace, port_fail)
{
	char comm[32], want_pid[32], want_comm[48], want_cg[48], want_dst[96];
	char dst[64], line[1024], why[700];
	const char *want[6];
	long long cg = my_cgroup(why, sizeof(why));
	int fds[10], fd, i;

	ASSERT_LE(0, cg) TH_LOG("this process's cgroup id: %s", why);
	my_comm(comm, sizeof(comm));
	dest_text(variant->family, 0, dst, sizeof(dst));
	snprintf(want_pid, sizeof(want_pid), " pid=%d ", getpid());
	snprintf(want_comm, sizeof(want_comm), " comm=%s ", comm);
	snprintf(want_cg, sizeof(want_cg), " cgroup=%lld", cg);
	snprintf(want_dst, sizeof(want_dst), " daddr=%s dport=%d ", dst, PORT_A);

	for (i = 0; i < 10; i++) {
		fds[i] = connect_to(variant->family, 0, PORT_A, 0);
		ASSERT_GE(fds[i], 0) TH_LOG("connect %d: %s", i, strerror(-fds[i]));
	}
	fd = connect_to(variant->family, 0, PORT_A, 0);
	ASSERT_EQ(-EADDRNOTAVAIL, fd) TH_LOG("the 11th connect() finds no port");
	ASSERT_EQ(1, ep_nsval("tcp_connect_fail"));

	want[0] = " op=connect proto=tcp ";
	want[1] = want_dst;
	want[2] = want_pid;
	want[3] = want_comm;
	want[4] = want_cg;
	want[5] = NULL;
	i = trace_count("ephport_port_fail", want, line, sizeof(line));
	if (i != 1) {
		const char *any[] = { NULL };

		trace_count("ephport_port_fail", any, line, sizeof(line));
		TH_LOG("want%s%s%s%s%s; first event: %s", want[0], want_dst,
		       want_pid, want_comm, want_cg, line);
	}
	ASSERT_EQ(1, i) TH_LOG("one port_fail event for the connect()");
	ASSERT_NE(NULL, strstr(line, variant->family == AF_INET6 ?
				       " family=inet6 " : " family=inet "));

	/* bind(0) and UDP autobind: the range is full for them too. */
	ASSERT_EQ(0, ep_set_range(LO, LO));
	fd = ep_bind(variant->family, SOCK_STREAM, LO, 0);
	ASSERT_EQ(-EADDRINUSE, ep_bind0(variant->family, SOCK_STREAM));
	ASSERT_EQ(-EADDRINUSE, ep_bind0(variant->family, SOCK_STREAM));
	if (fd >= 0)
		close(fd);
	fd = ep_bind(variant->family, SOCK_DGRAM, LO, 0);
	ASSERT_GE(fd, 0);
	ASSERT_GT(0, ep_udp_autobind(variant->family, PORT_A))
		TH_LOG("UDP autobind finds no port");
	close(fd);
	want[0] = " op=bind proto=tcp ";
	want[1] = want_pid;
	want[2] = want_comm;
	want[3] = NULL;
	ASSERT_EQ(2, trace_count("ephport_port_fail", want, NULL, 0))
		TH_LOG("two events for the two bind(0)");
	want[0] = " op=bind proto=udp ";
	ASSERT_EQ(1, trace_count("ephport_port_fail", want, NULL, 0))
		TH_LOG("one event for the UDP autobind");
	for (i = 0; i < 10; i++)
		close(fds[i]);
}

/* A connect() to a port of the range with no listener meets itself. */
TEST_F(trace, self_connect)
{
	char want_port[32], want_pid[32];
	const char *want[3] = { want_port, want_pid, NULL };
	int fd;

	ASSERT_EQ(0, ep_set_range(LO + 7, LO + 7));
	fd = ep_connect(variant->family, LO + 7);
	ASSERT_GE(fd, 0) TH_LOG("connect to itself: %s", strerror(-fd));
	ASSERT_EQ(1, ep_nsval("self_connect"));
	snprintf(want_port, sizeof(want_port), " dport=%d ", LO + 7);
	snprintf(want_pid, sizeof(want_pid), " pid=%d ", getpid());
	ASSERT_EQ(1, trace_count("ephport_self_connect", want, NULL, 0))
		TH_LOG("one self_connect event");
	ep_close_now(fd);
}

/* Disabled, the events leave the buffer alone. */
TEST_F(trace, disabled)
{
	const char *any[] = { NULL };
	int fd;

	ASSERT_EQ(0, trace_event("ephport_port_fail", 0));
	ASSERT_EQ(0, ep_set_range(LO, LO));
	fd = ep_bind(variant->family, SOCK_STREAM, LO, 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-EADDRINUSE, ep_bind0(variant->family, SOCK_STREAM));
	ASSERT_EQ(1, ep_nsval("tcp_bind_fail"));
	ASSERT_EQ(0, trace_count("ephport_port_fail", any, NULL, 0));
	close(fd);
}

TEST_HARNESS_MAIN
