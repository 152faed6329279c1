// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe_hooks: the hooks see every release, TIME_WAIT's included
 * (ended by a reset or by its own timer), and every hook is registered
 * and sees calls without missing one.
 *
 * Shared with the other ephport_observe_* programs: ephport_observe.h.
 */
#define _GNU_SOURCE
#include "ephport_observe.h"

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

/* ---- every hook ---- */

EP_LOADED_FIXTURE(loaded)

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

TEST_HARNESS_MAIN
