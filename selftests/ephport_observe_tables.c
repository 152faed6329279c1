// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe_tables: the values agree with the kernel's own socket
 * tables: parallel churn against /proc/net, namespaces with hash tables
 * of their own, sockets bound before ephport loads.
 *
 * Shared with the other ephport_observe_* programs: ephport_observe.h.
 */
#define _GNU_SOURCE
#include "ephport_observe.h"

/* ---- against the kernel's own socket tables ---- */

EP_LOADED_FIXTURE(slow)

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

TEST_HARNESS_MAIN
