// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_observe_files: the module's files: the alarm wakes poll(), the
 * peaks reset and refuse bad writes, namespaces' directories come and go.
 *
 * Shared with the other ephport_observe_* programs: ephport_observe.h.
 */
#define _GNU_SOURCE
#include "ephport_observe.h"

/* ---- the module's files ---- */

EP_LOADED_FIXTURE(loaded)

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

TEST_HARNESS_MAIN
