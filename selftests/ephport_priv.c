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
 *  - the host's root reads every namespace's files;
 *  - only the host registers random mode's redirects: a user namespace's
 *    root that writes net.ephport.mode=random gets EPERM, its mode stays
 *    and redirects still shows nothing registered; once the host writes
 *    tenant_random=1 (which registers them) its switch works, and its
 *    binds are steered; after tenant_random=0 a new switch fails again;
 *  - a container without a user namespace, as Docker runs them (uid 0 of
 *    the host, in a network namespace of its own, without CAP_SYS_ADMIN
 *    and CAP_NET_ADMIN but with CAP_DAC_OVERRIDE and every other
 *    capability) reads every file of its own namespace, and no file of
 *    another's (sysfs nor /proc/<pid>/net), none of the host-wide ones,
 *    writes no global setting and cannot switch to random mode; the
 *    host reads its files meanwhile. The same holds for such a container
 *    that keeps CAP_NET_ADMIN (docker run --cap-add NET_ADMIN).
 *
 * Each check runs in a forked child that drops its privileges; the
 * child's verdicts come back through shared memory.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define NOBODY EP_NOBODY
#define MAXCHECKS 128

/* One check made by the unprivileged child. */
struct check {
	char what[160];
	int ret;		/* 0 or -errno */
	int want;		/* 1: must succeed, 0: must be EACCES/EPERM,
				 * SHOWN: not judged, only shown */
};

#define SHOWN	2

struct report {
	int n;
	int setup_err;
	char setup_what[96];
	unsigned long inum;	/* the child's network namespace */
	int mode_random;	/* its /proc/net/ephport read "mode random" */
	long bound;		/* random_steered's rise at one bind(0) */
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

		if (c->want == SHOWN)
			ok = 1;
		else if (c->want)
			ok = c->ret == 0;
		else
			ok = c->ret == -EACCES || c->ret == -EPERM;
		TH_LOG("  %s %s: %s (want %s)", ok ? "ok  " : "BAD ", c->what,
		       c->ret ? strerror(-c->ret) : "allowed",
		       c->want == SHOWN ? "either: documented" :
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
	EP_SYSFS "/alarm_basis", EP_SYSFS "/tenant_random",
};
/* A valid value of each: a refused write is refused for who writes. */
static const char *const global_vals[] = { "50", "random", "1000", "dest", "1" };

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
	"tcp_dest_max",
};
static const char *const sysctls[] = { EP_SYSCTL "/mode", EP_SYSCTL "/reuse_delay_ms" };
/* What a tenant may write to its own namespace's sysctls. */
static const char *const sysctl_vals[] = { "observe", "1000" };

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
		record(r, "write", global_files[i],
		       try_write(global_files[i], global_vals[i]), 0);
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
	/* Random mode is the host's to allow (tenant_random, 0 here). */
	record(r, "write random to", sysctls[0], try_write(sysctls[0], "random"), 0);
	for (i = 0; i < ARRAY_SIZE(global_files); i++)
		record(r, "write", global_files[i],
		       try_write(global_files[i], global_vals[i]), 0);
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
		record(r, "write", global_files[i],
		       try_write(global_files[i], global_vals[i]), 0);
	for (i = 0; i < ARRAY_SIZE(host_files); i++)
		record(r, "read", host_files[i], try_read(host_files[i]), 0);
	record(r, "list", EP_SYSFS "/net", try_list(EP_SYSFS "/net"), 0);
}

FIXTURE(priv) {
	struct report *r;
	char alarm_pct[32];
	char range[64];
	char globals[3][32];	/* mode, reuse_delay_ms, alarm_basis */
};

static const char *const saved_globals[] = {
	EP_SYSFS "/mode", EP_SYSFS "/reuse_delay_ms", EP_SYSFS "/alarm_basis",
};

FIXTURE_SETUP(priv)
{
	unsigned int i;

	ASSERT_EQ(0U, geteuid()) TH_LOG("runs as root, and drops privileges itself");
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	host_inum = ep_inum();
	self->r = report_map();
	ASSERT_NE(NULL, self->r);
	ep_read(EP_SYSFS "/alarm_pct", self->alarm_pct, sizeof(self->alarm_pct));
	ep_read("/proc/sys/net/ipv4/ip_local_port_range", self->range,
		sizeof(self->range));
	for (i = 0; i < ARRAY_SIZE(saved_globals); i++)
		ep_read(saved_globals[i], self->globals[i], sizeof(self->globals[i]));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/tenant_random", "0"))
		TH_LOG("tenants not allowed random mode to begin with");
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
	unsigned int i;

	ep_read(EP_SYSFS "/alarm_pct", now, sizeof(now));
	ASSERT_STREQ(self->alarm_pct, now) TH_LOG("alarm_pct unchanged");
	for (i = 0; i < ARRAY_SIZE(saved_globals); i++) {
		ep_read(saved_globals[i], now, sizeof(now));
		ASSERT_STREQ(self->globals[i], now)
			TH_LOG("%s unchanged", saved_globals[i]);
	}
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

/* ---- random mode's redirects: the host's ---- */

/* How many lines of redirects read @state. -1 if unreadable. */
static int redirects_in(const char *state)
{
	char buf[1024], *line, *save;
	char word[32];
	int n = 0;

	if (ep_read(EP_SYSFS "/redirects", buf, sizeof(buf)))
		return -1;
	snprintf(word, sizeof(word), " %s ", state);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		n += !!strstr(line, word);
	return n;
}

/* A line of this namespace's /proc/net/ephport, "mode random" say. */
static int proc_has(const char *line)
{
	char buf[4096], want[64];

	if (ep_read("/proc/net/ephport", buf, sizeof(buf)))
		return 0;
	snprintf(want, sizeof(want), "\n%s\n", line);
	return !!strstr(buf, want);
}

/* Root of its own user and network namespace: try random mode. */
static void tenant_random_child(struct report *r)
{
	long steered;

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
	r->setup_err = ep_lo_up();
	snprintf(r->setup_what, sizeof(r->setup_what), "lo up");
	if (r->setup_err)
		return;
	r->setup_err = try_write(EP_SYSCTL "/mode", "random");
	snprintf(r->setup_what, sizeof(r->setup_what), "net.ephport.mode=random");
	/* Whatever the write did, the mode in force and one steered bind. */
	r->mode_random = proc_has("mode random");
	steered = ep_procval("random_steered");
	if (ep_bind0_close(AF_INET, SOCK_DGRAM) < 0)
		r->bound = -1;
	else
		r->bound = ep_procval("random_steered") - steered;
	record(r, "write", EP_SYSFS "/tenant_random",
	       try_write(EP_SYSFS "/tenant_random", "1"), 0);
}

/*
 * Each case starts from a fresh load, so that nothing is registered: the
 * redirects stay until unload once they are. The host allows tenants,
 * or not, between the children.
 */
static void fresh_load(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, ep_reload(NULL)) TH_LOG("reload ephport");
	ASSERT_EQ(0, redirects_in("registered"))
		TH_LOG("nothing registered after a load");
	ASSERT_LT(0, redirects_in("standby"))
		TH_LOG("redirects read standby");
}

static void run_tenant(struct __test_metadata *_metadata,
		       struct report *r)
{
	memset(r, 0, sizeof(*r));
	ASSERT_EQ(0, run_child(r, tenant_random_child)) TH_LOG("the child ran");
}

TEST_F(priv, tenant_cannot_arm_redirects)
{
	char mode[32];

	fresh_load(_metadata);
	run_tenant(_metadata, self->r);
	if (self->r->inum == 0 &&
	    (self->r->setup_err == -EPERM || self->r->setup_err == -EINVAL))
		SKIP(return, "%s: %s: no unprivileged user namespaces here",
		     self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(-EPERM, self->r->setup_err)
		TH_LOG("%s in namespace %lu: %s, want EPERM", self->r->setup_what,
		       self->r->inum, strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->mode_random) TH_LOG("its mode did not change");
	ASSERT_EQ(0, self->r->bound) TH_LOG("its bind(0) was not steered");
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");
	ASSERT_EQ(0, redirects_in("registered"))
		TH_LOG("the tenant registered no redirect");
	ASSERT_EQ(0, ep_read(EP_SYSFS "/tenant_random", mode, sizeof(mode)));
	ASSERT_STREQ("0\n", mode);
	host_unchanged(_metadata, self);
}

TEST_F(priv, host_allows_tenant_random)
{
	char val[32];
	int reg, unsup;

	fresh_load(_metadata);
	/* Bad values change nothing and register nothing. */
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/tenant_random", "2"));
	ASSERT_EQ(-EINVAL, ep_write(EP_SYSFS "/tenant_random", "yes"));
	ASSERT_EQ(0, redirects_in("registered")) TH_LOG("bad writes register nothing");
	/* The host's decision registers them, now. */
	EP_ASSERT_RANDOM(ep_write(EP_SYSFS "/tenant_random", "1"));
	ASSERT_EQ(0, ep_read(EP_SYSFS "/tenant_random", val, sizeof(val)));
	ASSERT_STREQ("1\n", val);
	ASSERT_EQ(0, ep_read("/sys/module/ephport/parameters/tenant_random",
			     val, sizeof(val)));
	ASSERT_STREQ("1\n", val) TH_LOG("the parameter reads the setting");
	reg = redirects_in("registered");
	unsup = redirects_in("unsupported");
	ASSERT_LT(0, reg) TH_LOG("redirects registered by tenant_random=1");
	ASSERT_EQ(0, redirects_in("standby"));
	TH_LOG("redirects: %d registered, %d unsupported", reg, unsup);

	run_tenant(_metadata, self->r);
	if (self->r->inum == 0 &&
	    (self->r->setup_err == -EPERM || self->r->setup_err == -EINVAL))
		SKIP(return, "%s: %s: no unprivileged user namespaces here",
		     self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->setup_err)
		TH_LOG("%s: %s", self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(1, self->r->mode_random) TH_LOG("the tenant is in random mode");
	ASSERT_EQ(1, self->r->bound) TH_LOG("its bind(0) was steered");
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");

	/* No longer allowed: a new tenant's switch fails; nothing unregisters. */
	ASSERT_EQ(0, ep_write(EP_SYSFS "/tenant_random", "0\n"));
	run_tenant(_metadata, self->r);
	ASSERT_EQ(-EPERM, self->r->setup_err)
		TH_LOG("%s: %s, want EPERM", self->r->setup_what,
		       strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->mode_random);
	ASSERT_EQ(0, self->r->bound);
	ASSERT_EQ(reg, redirects_in("registered")) TH_LOG("kept until unload");
	host_unchanged(_metadata, self);
}

/* ---- a container without a user namespace ---- */

/* The container keeps CAP_NET_ADMIN (docker run --cap-add NET_ADMIN). */
static int keep_net_admin;

static int has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1U << (cap % 32)));
}

/*
 * The capabilities of a container as Docker runs it, and harsher: every
 * one but CAP_SYS_ADMIN and CAP_NET_ADMIN (or, with keep_net_admin, but
 * CAP_SYS_ADMIN), from every set, bounding set included, so that nothing
 * regains them. 0 or -errno.
 */
static int drop_admin_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	static const int drop[] = { CAP_SYS_ADMIN, CAP_NET_ADMIN };
	unsigned int i, ndrop = keep_net_admin ? 1 : 2;

	for (i = 0; i < ndrop; i++)
		if (prctl(PR_CAPBSET_DROP, drop[i], 0, 0, 0))
			return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -errno;
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < ndrop; i++) {
		__u32 bit = 1U << (drop[i] % 32);

		d[drop[i] / 32].effective &= ~bit;
		d[drop[i] / 32].permitted &= ~bit;
		d[drop[i] / 32].inheritable &= ~bit;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	/* What it is now: uid 0, DAC_OVERRIDE, no CAP_SYS_ADMIN. */
	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (geteuid() || !has_cap(d, CAP_DAC_OVERRIDE) ||
	    has_cap(d, CAP_SYS_ADMIN) ||
	    has_cap(d, CAP_NET_ADMIN) != keep_net_admin)
		return -EINVAL;
	return 0;
}

/* The container's own namespace, or another's. */
static void ns_files(struct report *r, unsigned long inum, int want)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ns_read_files); i++) {
		nsfile(path, sizeof(path), inum, ns_read_files[i]);
		record(r, "read", path, try_read(path), want);
	}
	for (i = 0; i < ARRAY_SIZE(ns_write_files); i++) {
		nsfile(path, sizeof(path), inum, ns_write_files[i]);
		record(r, "write", path, try_write(path, "0"), want);
	}
}

static pid_t host_pid;
/*
 * A tenant's namespace inside a user namespace that host root made
 * (Kubernetes' hostUsers: false, LXD, systemd-nspawn -U): host root owns
 * that user namespace, and so holds every capability in it without
 * holding any itself; a container's uid 0 must not see it either.
 */
static unsigned long userns_tenant_inum;

static void container_child(struct report *r)
{
	char path[128];
	unsigned int i;

	r->setup_err = ep_enter_netns();
	snprintf(r->setup_what, sizeof(r->setup_what),
		 "unshare(CLONE_NEWNET) as root, lo up");
	if (r->setup_err)
		return;
	r->inum = ep_inum();
	r->setup_err = drop_admin_caps();
	snprintf(r->setup_what, sizeof(r->setup_what),
		 "drop CAP_SYS_ADMIN%s, keep uid 0 and CAP_DAC_OVERRIDE",
		 keep_net_admin ? "" : " and CAP_NET_ADMIN");
	if (r->setup_err)
		return;
	ns_files(r, r->inum, 1);
	ns_files(r, host_inum, 0);
	if (userns_tenant_inum)
		ns_files(r, userns_tenant_inum, 0);
	record(r, "read", "/proc/net/ephport", try_read("/proc/net/ephport"), 1);
	record(r, "read", "/proc/net/ephport_dests",
	       try_read("/proc/net/ephport_dests"), 1);
	/* The host's namespace through a host task's /proc/<pid>/net. */
	snprintf(path, sizeof(path), "/proc/%d/net/ephport", host_pid);
	record(r, "read", path, try_read(path), 0);
	snprintf(path, sizeof(path), "/proc/%d/net/ephport_dests", host_pid);
	record(r, "read", path, try_read(path), 0);
	for (i = 0; i < ARRAY_SIZE(host_files); i++)
		record(r, "read", host_files[i], try_read(host_files[i]), 0);
	record(r, "read", EP_SYSFS "/passes", try_read(EP_SYSFS "/passes"), 0);
	record(r, "read", EP_SYSFS "/version", try_read(EP_SYSFS "/version"), 1);
	for (i = 0; i < ARRAY_SIZE(global_files); i++)
		record(r, "write", global_files[i],
		       try_write(global_files[i], global_vals[i]), 0);
	/* Its own sysctls are its own, random mode the host's to allow. */
	for (i = 0; i < ARRAY_SIZE(sysctls); i++)
		record(r, "write", sysctls[i], try_write(sysctls[i], sysctl_vals[i]), 1);
	record(r, "write random to", sysctls[0], try_write(sysctls[0], "random"), 0);
	/* uid 0 lists the directory's names; its files refuse (above). */
	record(r, "list", EP_SYSFS "/net", try_list(EP_SYSFS "/net"), SHOWN);
}

/*
 * The container's checks, in a child held in its namespace while the
 * host reads its files.
 */
static void container_case(struct __test_metadata *_metadata,
			   FIXTURE_DATA(priv) *self)
{
	int ready[2], go[2];
	char path[128], c;
	unsigned int i;
	pid_t pid, tenant;
	int status;

	host_pid = getpid();
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	/* The user namespace's tenant, held until the container is done. */
	userns_tenant_inum = 0;
	tenant = fork();
	ASSERT_LE(0, tenant);
	if (!tenant) {
		unsigned long inum = 0;

		if (!unshare(CLONE_NEWUSER | CLONE_NEWNET))
			inum = ep_inum();
		if (write(ready[1], &inum, sizeof(inum)) != sizeof(inum) ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(userns_tenant_inum),
		  read(ready[0], &userns_tenant_inum, sizeof(userns_tenant_inum)));
	if (!userns_tenant_inum)
		TH_LOG("no user namespace made by root: that check is left out");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		container_child(self->r);
		/* Held in its namespace while the host reads its files. */
		if (write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the container is ready");
	/* The host reads the container's files. */
	for (i = 0; !self->r->setup_err && i < ARRAY_SIZE(ns_read_files); i++) {
		nsfile(path, sizeof(path), self->r->inum, ns_read_files[i]);
		EXPECT_EQ(0, try_read(path)) TH_LOG("root reads %s", path);
	}
	snprintf(path, sizeof(path), "/proc/%d/net/ephport", pid);
	if (!self->r->setup_err)
		EXPECT_EQ(0, try_read(path)) TH_LOG("root reads %s", path);
	ASSERT_EQ(2, write(go[1], "xx", 2));
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("the child ran");
	waitpid(tenant, NULL, 0);
	if (!self->r->inum && self->r->setup_err == -EINVAL)
		SKIP(return, "%s: %s: no network namespaces in this kernel",
		     self->r->setup_what, strerror(-self->r->setup_err));
	ASSERT_EQ(0, self->r->setup_err)
		TH_LOG("%s: %s", self->r->setup_what, strerror(-self->r->setup_err));
	TH_LOG("uid 0 without CAP_SYS_ADMIN%s, in namespace %lu, %d checks:",
	       keep_net_admin ? " (with CAP_NET_ADMIN)" : " and CAP_NET_ADMIN",
	       self->r->inum, self->r->n);
	ASSERT_EQ(0, judge(_metadata, self->r)) TH_LOG("checks that went wrong");
	host_unchanged(_metadata, self);
}

TEST_F(priv, container_without_user_namespace)
{
	keep_net_admin = 0;
	container_case(_metadata, self);
}

/* CAP_NET_ADMIN, often given to containers, shows no neighbour either. */
TEST_F(priv, container_with_net_admin)
{
	keep_net_admin = 1;
	container_case(_metadata, self);
}

TEST_HARNESS_MAIN
