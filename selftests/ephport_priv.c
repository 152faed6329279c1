// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_priv: who may change and read what.
 *
 *  - an unprivileged user (uid/gid 65534, no capabilities) gets EACCES or
 *    EPERM on every write, and cannot load or unload the module;
 *  - a process that made its own user and network namespace (as an
 *    unprivileged user: unshare(CLONE_NEWUSER | CLONE_NEWNET), mapped to
 *    root inside) can change its own namespace's net.ephport.* sysctls,
 *    cannot write the files of /sys/kernel/ephport, and cannot read another
 *    namespace's /sys/kernel/ephport/net/<inum>/ files;
 *  - a user namespace alone (still in the host's network namespace)
 *    cannot change the host's net.ephport.* sysctls;
 *  - from inside a user namespace, the host-wide files (probes,
 *    redirects, netns) cannot be read nor the list of namespaces in
 *    /sys/kernel/ephport/net listed; the host's unprivileged users read
 *    the three files;
 *  - the host's root reads every namespace's files.
 *
 * Each check runs in a forked child that drops its privileges; the
 * child's verdicts come back through shared memory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sys/mman.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define NOBODY EP_NOBODY
#define MAXCHECKS 64

/* One check made by the unprivileged child. */
struct check {
	char what[160];
	int ret;		/* 0 or -errno */
	int want;		/* 1: must succeed, 0: must be EACCES/EPERM */
};

struct report {
	int n;
	int setup_err;
	char setup_what[96];
	unsigned long inum;	/* the child's network namespace */
	struct check c[MAXCHECKS];
};

static void record(struct report *r, const char *what, const char *path,
		   int ret, int want)
{
	struct check *c;

	if (r->n >= MAXCHECKS)
		return;
	c = &r->c[r->n++];
	snprintf(c->what, sizeof(c->what), "%s %s", what, path);
	c->ret = ret;
	c->want = want;
}

static int try_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int try_read(const char *path)
{
	char buf[256];

	return ep_read(path, buf, sizeof(buf));
}

/* 0 if @path is a directory that lists, else -errno. */
static int try_list(const char *path)
{
	DIR *d = opendir(path);
	int ret = 0;

	if (!d)
		return -errno;
	errno = 0;
	if (!readdir(d) && errno)
		ret = -errno;
	closedir(d);
	return ret;
}

static struct report *report_map(void)
{
	void *p = mmap(NULL, sizeof(struct report), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Checks the child's verdicts; returns the number that are wrong. */
static int judge(struct __test_metadata *_metadata, struct report *r)
{
	int i, bad = 0;

	for (i = 0; i < r->n; i++) {
		struct check *c = &r->c[i];
		int ok;

		if (c->want)
			ok = c->ret == 0;
		else
			ok = c->ret == -EACCES || c->ret == -EPERM;
		TH_LOG("  %s %s: %s (want %s)", ok ? "ok  " : "BAD ", c->what,
		       c->ret ? strerror(-c->ret) : "allowed",
		       c->want ? "allowed" : "EACCES/EPERM");
		bad += !ok;
	}
	return bad;
}

static int run_child(struct report *r, void (*fn)(struct report *r))
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		fn(r);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? 0 : -1;
}

/* Paths of the host (initial) namespace, found by the parent. */
static unsigned long host_inum;

static const char *const global_files[] = {
	EP_SYSFS "/alarm_pct", EP_SYSFS "/mode", EP_SYSFS "/reuse_delay_ms",
};

/* What the whole host does: read on the host, never from a user namespace. */
static const char *const host_files[] = {
	EP_SYSFS "/probes", EP_SYSFS "/redirects", EP_SYSFS "/netns",
};

static const char *const ns_write_files[] = { "tcp_peak", "udp_peak" };
/* Every file of a namespace's directory in /sys/kernel/ephport/net. */
static const char *const ns_read_files[] = {
	"range", "tcp_in_use", "udp_in_use", "tcp_peak", "udp_peak",
#define EPHPORT_OBSERVE_COUNTER(id, name) #name,
#define EPHPORT_RANDOM_COUNTER(id, name) #name,
#include "../module/ephport_counters.h"
	"search_ns", "search_ns_sum", "alarm", "mode", "reuse_delay_ms", "resting",
};
static const char *const sysctls[] = { EP_SYSCTL "/mode", EP_SYSCTL "/reuse_delay_ms" };
static const char *const sysctl_vals[] = { "random", "1000" };

static void nsfile(char *buf, size_t len, unsigned long inum, const char *f)
{
	snprintf(buf, len, EP_SYSFS "/net/%lu/%s", inum, f);
}

static void nobody_child(struct report *r)
{
	char path[128];
	unsigned int i;
	int fd;

	r->setup_err = ep_drop_to_nobody();
	snprintf(r->setup_what, sizeof(r->setup_what), "setresuid(%d)", NOBODY);
	if (r->setup_err)
		return;
	for (i = 0; i < ARRAY_SIZE(global_files); i++)
		record(r, "write", global_files[i], try_write(global_files[i], "50"), 0);
	for (i = 0; i < ARRAY_SIZE(ns_write_files); i++) {
		nsfile(path, sizeof(path), host_inum, ns_write_files[i]);
		record(r, "write", path, try_write(path, "0"), 0);
	}
	for (i = 0; i < ARRAY_SIZE(sysctls); i++)
		record(r, "write", sysctls[i], try_write(sysctls[i], sysctl_vals[i]), 0);
	for (i = 0; i < ARRAY_SIZE(host_files); i++)
		record(r, "read", host_files[i], try_read(host_files[i]), 1);
	fd = open(ep_ko_path(), O_RDONLY);
	record(r, "finit_module", "ephport.ko",
	       fd < 0 ? -errno :
	       syscall(SYS_finit_module, fd, "", 0) ? -errno : 0, 0);
	if (fd >= 0)
		close(fd);
	record(r, "delete_module", "ephport",
	       syscall(SYS_delete_module, "ephport", O_NONBLOCK) ? -errno : 0, 0);
}

static void userns_netns_child(struct report *r)
{
	char path[128];
	unsigned int i;

	r->setup_err = ep_drop_to_nobody();
	snprintf(r->setup_what, sizeof(r->setup_what), "setresuid(%d)", NOBODY);
	if (r->setup_err)
		return;
	r->setup_err = ep_enter_userns(CLONE_NEWNET);
	snprintf(r->setup_what, sizeof(r->setup_what),
		 "unshare(CLONE_NEWUSER | CLONE_NEWNET) and the id maps");
	if (r->setup_err)
		return;
	r->inum = ep_inum();
	/* The kernel's own rule, as a baseline: its own port range. */
	record(r, "write", "/proc/sys/net/ipv4/ip_local_port_range",
	       ep_set_range(40000, 40999), 1);
	for (i = 0; i < ARRAY_SIZE(sysctls); i++)
		record(r, "write", sysctls[i], try_write(sysctls[i], sysctl_vals[i]), 1);
	for (i = 0; i < ARRAY_SIZE(global_files); i++)
		record(r, "write", global_files[i], try_write(global_files[i], "50"), 0);
	/* Its own directory in /sys/kernel/ephport is not its to write. */
	for (i = 0; i < ARRAY_SIZE(ns_write_files); i++) {
		nsfile(path, sizeof(path), r->inum, ns_write_files[i]);
		record(r, "write", path, try_write(path, "0"), 0);
	}
	/* Another namespace's values are not its to read or write. */
	for (i = 0; i < ARRAY_SIZE(ns_read_files); i++) {
		nsfile(path, sizeof(path), host_inum, ns_read_files[i]);
		record(r, "read", path, try_read(path), 0);
	}
	for (i = 0; i < ARRAY_SIZE(ns_write_files); i++) {
		nsfile(path, sizeof(path), host_inum, ns_write_files[i]);
		record(r, "write", path, try_write(path, "0"), 0);
	}
	/* What the host does is not its to read. */
	for (i = 0; i < ARRAY_SIZE(host_files); i++)
		record(r, "read", host_files[i], try_read(host_files[i]), 0);
	record(r, "list", EP_SYSFS "/net", try_list(EP_SYSFS "/net"), 0);
	/* Its own values, through /proc/net. */
	record(r, "read", "/proc/net/ephport", try_read("/proc/net/ephport"), 1);
}

static void userns_only_child(struct report *r)
{
	unsigned int i;

	r->setup_err = ep_drop_to_nobody();
	snprintf(r->setup_what, sizeof(r->setup_what), "setresuid(%d)", NOBODY);
	if (r->setup_err)
		return;
	r->setup_err = ep_enter_userns(0);
	snprintf(r->setup_what, sizeof(r->setup_what),
		 "unshare(CLONE_NEWUSER) and the id maps");
	if (r->setup_err)
		return;
	/* Root of a user namespace, but in the host's network namespace. */
	record(r, "write", "/proc/sys/net/ipv4/ip_local_port_range",
	       ep_set_range(40000, 40999), 0);
	for (i = 0; i < ARRAY_SIZE(sysctls); i++)
		record(r, "write", sysctls[i], try_write(sysctls[i], sysctl_vals[i]), 0);
	for (i = 0; i < ARRAY_SIZE(global_files); i++)
		record(r, "write", global_files[i], try_write(global_files[i], "50"), 0);
	for (i = 0; i < ARRAY_SIZE(host_files); i++)
		record(r, "read", host_files[i], try_read(host_files[i]), 0);
	record(r, "list", EP_SYSFS "/net", try_list(EP_SYSFS "/net"), 0);
}

FIXTURE(priv) {
	struct report *r;
	char alarm_pct[32];
	char range[64];
};

FIXTURE_SETUP(priv)
{
	ASSERT_EQ(0U, geteuid()) TH_LOG("runs as root, and drops privileges itself");
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	host_inum = ep_inum();
	self->r = report_map();
	ASSERT_NE(NULL, self->r);
	ep_read(EP_SYSFS "/alarm_pct", self->alarm_pct, sizeof(self->alarm_pct));
	ep_read("/proc/sys/net/ipv4/ip_local_port_range", self->range,
		sizeof(self->range));
	/* Debian's switch for unprivileged user namespaces, where it exists. */
	if (ep_exists("/proc/sys/kernel/unprivileged_userns_clone"))
		ep_write("/proc/sys/kernel/unprivileged_userns_clone", "1");
}

FIXTURE_TEARDOWN(priv)
{
	munmap(self->r, sizeof(*self->r));
}

/* Nothing the children tried changed the host's values. */
static void host_unchanged(struct __test_metadata *_metadata,
			   FIXTURE_DATA(priv) *self)
{
	char now[64];

	ep_read(EP_SYSFS "/alarm_pct", now, sizeof(now));
	ASSERT_STREQ(self->alarm_pct, now) TH_LOG("alarm_pct unchanged");
	ep_read("/proc/sys/net/ipv4/ip_local_port_range", now, sizeof(now));
	ASSERT_STREQ(self->range, now) TH_LOG("the host's port range unchanged");
	ASSERT_TRUE(ep_loaded()) TH_LOG("the module is still loaded");
	ASSERT_EQ(0, ep_read(EP_SYSCTL "/mode", now, sizeof(now)));
	ASSERT_NE(0, strncmp(now, "random", 6))
		TH_LOG("the host's net.ephport.mode unchanged");
}

TEST_F(priv, unprivileged_user_writes_nothing)
{
	ASSERT_EQ(0, run_child(self->r, nobody_child)) TH_LOG("the child ran");
	ASSERT_EQ(0, self->r->setup_err)
		TH_LOG("%s: %s", self->r->setup_what, strerror(-self->r->setup_err));
	TH_LOG("uid %d, %d checks:", NOBODY, self->r->n);
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");
	host_unchanged(_metadata, self);
}

TEST_F(priv, user_and_net_namespace)
{
	char path[128];
	unsigned int i;

	ASSERT_EQ(0, run_child(self->r, userns_netns_child)) TH_LOG("the child ran");
	if (self->r->setup_err == -EPERM || self->r->setup_err == -EINVAL)
		SKIP(return, "%s: %s: no unprivileged user namespaces here",
		     self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->setup_err)
		TH_LOG("%s: %s", self->r->setup_what, strerror(-self->r->setup_err));
	TH_LOG("uid %d in its own user and network namespace (%lu), %d checks:",
	       NOBODY, self->r->inum, self->r->n);
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");
	host_unchanged(_metadata, self);
	/* The host's root reads every namespace's files. */
	for (i = 0; i < ARRAY_SIZE(ns_read_files); i++) {
		nsfile(path, sizeof(path), host_inum, ns_read_files[i]);
		ASSERT_EQ(0, try_read(path)) TH_LOG("root reads %s", path);
	}
}

TEST_F(priv, user_namespace_alone)
{

	ASSERT_EQ(0, run_child(self->r, userns_only_child)) TH_LOG("the child ran");
	if (self->r->setup_err == -EPERM || self->r->setup_err == -EINVAL)
		SKIP(return, "%s: %s: no unprivileged user namespaces here",
		     self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->setup_err)
		TH_LOG("%s: %s", self->r->setup_what, strerror(-self->r->setup_err));
	TH_LOG("uid %d, root of its own user namespace in the host's network namespace, %d checks:",
	       NOBODY, self->r->n);
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");
	host_unchanged(_metadata, self);
}

TEST_HARNESS_MAIN
