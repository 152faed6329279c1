/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by ephport's C selftests and bench/ephport_bench.c:
 * files, the per-namespace values, the module, namespaces, sockets, and
 * the figures each test scales. Plain C without the kselftest harness
 * (but the two macros for its cases, EP_SKIP_IF_NO_RANDOM and
 * EP_ASSERT_RANDOM), header-only (static functions): each program is one
 * static binary.
 */
#ifndef EPHPORT_TEST_H
#define EPHPORT_TEST_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif


#define EP_SYSFS	"/sys/kernel/ephport"
#define EP_SYSCTL	"/proc/sys/net/ephport"
#define EP_SERVER_PORT	30000	/* listeners sit below every pinned range */

/* ---- files ---- */

/* Writes @len bytes of @buf at @off in one write(); 0 or -errno. */
static inline int ep_write_at(const char *path, const void *buf, size_t len,
			      off_t off)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = off ? pwrite(fd, buf, len, off) : write(fd, buf, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

static inline int ep_write(const char *path, const char *val)
{
	return ep_write_at(path, val, strlen(val), 0);
}

/* Reads the file into @buf (NUL-terminated); 0 or -errno. */
static inline int ep_read(const char *path, char *buf, size_t len)
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

static inline int ep_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* A decimal value of a file; -1 if unreadable or not a number. */
static inline long ep_readl(const char *path)
{
	char buf[64], *end;
	long v;

	if (ep_read(path, buf, sizeof(buf)))
		return -1;
	v = strtol(buf, &end, 10);
	if (end == buf)
		return -1;
	return v;
}

/* This process's network namespace (its inode number); 0 if unknown. */
static inline unsigned long ep_inum(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return 0;
	return st.st_ino;
}

/* A value of namespace @inum's sysfs directory; -1 if unreadable. */
static inline long ep_netval(unsigned long inum, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/%s", inum, name);
	return ep_readl(path);
}

/* A value of this process's namespace's sysfs directory; -1 if unreadable. */
static inline long ep_nsval(const char *name)
{
	return ep_netval(ep_inum(), name);
}

/*
 * The value @name of this process's namespace in /proc/net/ephport, the
 * same as ep_nsval() gives from sysfs; -1 if absent or not a number.
 */
static inline long ep_procval(const char *name)
{
	char line[128], *end;
	size_t len = strlen(name);
	long v = -1;
	FILE *f;

	f = fopen("/proc/net/ephport", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ' ') {
			v = strtol(line + len + 1, &end, 10);
			if (end == line + len + 1)
				v = -1;
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * The names of every per-namespace counter come from the module's own
 * list: in an initializer,
 *	#define EPHPORT_OBSERVE_COUNTER(id, name) #name,
 *	#define EPHPORT_RANDOM_COUNTER(id, name) #name,
 *	#include "../module/ephport_counters.h"
 */

/* ---- the module ---- */

static inline const char *ep_ko_path(void)
{
	static char path[256];
	struct utsname u;

	if (getenv("EPHPORT_KO"))
		return getenv("EPHPORT_KO");
	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/ephport.ko",
		 u.release);
	return path;
}

static inline int ep_loaded(void)
{
	return ep_exists("/sys/module/ephport");
}

/*
 * Waits (at most 30 s for each of two namespaces) until the kernel has
 * torn down every network namespace released before the call, for as long
 * as ephport is loaded.
 *
 * Teardown runs in one ordered work item (cleanup_net()), a batch of
 * namespaces at a time, and ephport's directory of each namespace goes
 * early in it. A namespace released now is torn down in the batch under
 * way or the next; a second one, released once the first's directory has
 * gone, waits for the end of that batch: its directory going is the sign.
 *
 * Why: a teardown purges the namespace's TIME_WAIT sockets through
 * inet_twsk_bind_unhash(), which ephport hooks, on whichever CPU the work
 * runs. Under QEMU TCG with several vCPUs, live-patching a function that
 * another vCPU is running can hang or kill the guest, with or without
 * ephport (Documentation/hardening-test-findings.md, F1). An unload
 * rewrites every hooked function's ftrace site, that one included. (A
 * load does too, but it registers its per-namespace part first, which
 * waits for teardowns under way; a switch of random mode rewrites only
 * functions that a teardown does not run.) Under KASAN a wait costs a
 * second or two, the two namespaces' making and teardown: only
 * ep_unload() waits, and only with two CPUs or more.
 *
 * The one copy of this wait: the shell tests (lib.sh's ephport_unload)
 * and the benchmark (bench/run.sh) run it as the program ephport_settle
 * (ephport_settle.c).
 */
static inline void ep_settle_netns(void)
{
	char path[128];
	unsigned long inum;
	int round, i, p[2];
	pid_t pid;

	/* On one CPU nothing runs while the unload patches. */
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	for (round = 0; round < 2; round++) {
		if (!ep_exists(EP_SYSFS "/net") || pipe(p))
			return;
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			inum = unshare(CLONE_NEWNET) ? 0 : ep_inum();
			_exit(write(p[1], &inum, sizeof(inum)) != sizeof(inum));
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &inum, sizeof(inum)) != sizeof(inum))
			inum = 0;
		close(p[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		if (!inum)
			return;
		snprintf(path, sizeof(path), EP_SYSFS "/net/%lu", inum);
		for (i = 0; i < 3000 && ep_exists(path); i++)
			usleep(10000);
	}
}

/* finit_module() with @params; 0 or -errno. */
static inline int ep_load(const char *params)
{
	int fd = open(ep_ko_path(), O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ? params : "", 0))
		err = -errno;
	close(fd);
	return err;
}

/* delete_module(); 0 or -errno. Waits while something holds it. */
static inline int ep_unload(void)
{
	int i;

	ep_settle_netns();
	for (i = 0; i < 500; i++) {
		if (!syscall(SYS_delete_module, "ephport", O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EBUSY)
			return -errno;
		usleep(10000);
	}
	return -EBUSY;
}

/* Loaded, unloading first if it was (so that @params apply). */
static inline int ep_reload(const char *params)
{
	int err;

	if (ep_loaded()) {
		err = ep_unload();
		if (err)
			return err;
	}
	return ep_load(params);
}

/* Loaded and live; a module half-way out (a test killed) is waited for. */
static inline int ep_ensure_loaded(void)
{
	int i;

	if (ep_exists(EP_SYSFS "/version"))
		return 0;
	for (i = 0; i < 500 && ep_loaded(); i++)
		usleep(10000);
	return ep_load(NULL);
}

/*
 * Something ephport made that outlived it: written into @buf (empty if
 * none). Checks sysfs, /proc/net (of this process's namespace), sysctl,
 * the module list, kprobes and ftrace's attached functions.
 */
static inline void ep_leftovers(char *buf, size_t len)
{
	static const char *const paths[] = {
		EP_SYSFS, "/sys/module/ephport", "/proc/net/ephport",
		EP_SYSCTL,
	};
	static const char *const lists[] = {
		"/sys/kernel/debug/kprobes/list",
		"/sys/kernel/debug/tracing/enabled_functions",
		"/sys/kernel/tracing/enabled_functions",
		"/proc/modules",
	};
	char line[512];
	size_t used = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (ep_exists(paths[i]))
			used += snprintf(buf + used, len - used, "%s ", paths[i]);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]) && used < len; i++) {
		FILE *f = fopen(lists[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && used < len) {
			/* kprobes/modules name the module; ftrace the symbol */
			if (strstr(line, "ephport") ||
			    (i > 0 && i < 3 &&
			     (strstr(line, "inet_csk_get_port") ||
			      strstr(line, "inet_hash_connect") ||
			      strstr(line, "inet6_hash_connect") ||
			      strstr(line, "udp_lib_get_port") ||
			      strstr(line, "inet_put_port") ||
			      strstr(line, "udp_lib_unhash") ||
			      strstr(line, "inet_twsk_bind_unhash"))))
				used += snprintf(buf + used, len - used,
						 "%s: %s", lists[i], line);
		}
		fclose(f);
	}
}

/* All hooks' nmissed together; -1 if unreadable. */
static inline long ep_probes_missed(void)
{
	char buf[4096], *line, *save;
	long sum = 0;

	if (ep_read(EP_SYSFS "/probes", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *m = strstr(line, "nmissed=");

		if (m)
			sum += strtol(m + 8, NULL, 10);
	}
	return sum;
}

/* ---- a kernel without random mode ---- */

/*
 * The last line of the kernel log that holds @needle, from @needle on,
 * into @buf (empty if none or the log is unreadable).
 */
static inline void ep_klog_last(const char *needle, char *buf, size_t len)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n;
	char *log, *p, *end;

	buf[0] = 0;
	log = size > 0 ? malloc(size + 1) : NULL;
	if (!log)
		return;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	log[n > 0 ? n : 0] = 0;
	for (p = log; (p = strstr(p, needle)); p = end) {
		end = p + strcspn(p, "\n");
		snprintf(buf, len, "%.*s", (int)(end - p), p);
	}
	free(log);
}

/*
 * Whether @err, what a switch to random mode gave (a write of "random",
 * of tenant_random=1, a load with mode=random or tenant_random=1), says
 * that this kernel has no random mode: -EOPNOTSUPP, and nothing else
 * (EBUSY, EPERM, ENOMEM... are failures). Then @why is the kernel's
 * reason, ephport's last kernel message about random mode (kernel_fn.c
 * logs why it cannot work); empty if the kernel gives none.
 */
static inline int ep_random_unsupported(int err, char *why, size_t len)
{
	why[0] = 0;
	if (err != -EOPNOTSUPP)
		return 0;
	ep_klog_last("ephport: random mode", why, len);
	return 1;
}

/*
 * In a case of the kselftest harness, after a switch to random mode that
 * gave @err: skips the case, with the kernel's reason, if this kernel has
 * no random mode (ep_random_unsupported()), and fails it if the kernel
 * refused so without a reason. Any other @err is the caller's to judge.
 */
#define EP_SKIP_IF_NO_RANDOM(err) do {					\
	char _why[512];							\
									\
	if (ep_random_unsupported((err), _why, sizeof(_why))) {		\
		ASSERT_NE(0, _why[0])					\
			TH_LOG("EOPNOTSUPP, and the kernel says nothing unsupported"); \
		SKIP(return, "random mode unsupported on this kernel: %s", _why); \
	}								\
} while (0)

/* A switch to random mode, @expr: it succeeds, or the case is skipped. */
#define EP_ASSERT_RANDOM(expr) do {					\
	int _err = (expr);						\
									\
	EP_SKIP_IF_NO_RANDOM(_err);					\
	ASSERT_EQ(0, _err) TH_LOG("%s: %s", #expr, strerror(-_err));	\
} while (0)

/* ---- figures: full on Debian's kernels, scaled on the debug kernel ---- */

/* The KASAN + lockdep kernel (CONFIG_KASAN=y in /proc/config.gz). */
static inline int ep_debug_kernel(void)
{
	static int cached = -1;
	FILE *p;

	if (cached >= 0)
		return cached;
	cached = 0;
	p = popen("zcat /proc/config.gz 2>/dev/null | grep -qx CONFIG_KASAN=y && echo y",
		  "r");
	if (p) {
		cached = fgetc(p) == 'y';
		pclose(p);
	}
	return cached;
}

/* Environment @env if set, else @full, or @debug on the debug kernel. */
static inline long ep_figure(const char *env, long full, long debug)
{
	const char *v = getenv(env);

	if (v && *v)
		return strtol(v, NULL, 10);
	return ep_debug_kernel() ? debug : full;
}

/* Entries of directory @path but those named with a leading '.'; -1 if unreadable. */
static inline int ep_dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static inline double ep_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- an unprivileged user ---- */

#define EP_NOBODY	65534

/* To uid and gid 65534, no supplementary groups. 0 or -errno. */
static inline int ep_drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(EP_NOBODY, EP_NOBODY, EP_NOBODY) ||
	    setresuid(EP_NOBODY, EP_NOBODY, EP_NOBODY))
		return -errno;
	/* Changing ids made us non-dumpable: /proc/self/uid_map root's. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	return 0;
}

/*
 * As an unprivileged user: a user namespace of its own, root in it, and
 * the namespaces of @flags (CLONE_NEWNET...) with it. 0 or -errno.
 */
static inline int ep_enter_userns(int flags)
{
	char map[32];
	int err;

	if (unshare(CLONE_NEWUSER | flags))
		return -errno;
	snprintf(map, sizeof(map), "0 %d 1", EP_NOBODY);
	err = ep_write("/proc/self/setgroups", "deny");
	if (!err)
		err = ep_write("/proc/self/uid_map", map);
	if (!err)
		err = ep_write("/proc/self/gid_map", map);
	return err;
}

/* ---- namespaces and sockets ---- */

static inline int ep_set_range(int lo, int hi)
{
	char range[32];

	snprintf(range, sizeof(range), "%d %d", lo, hi);
	return ep_write("/proc/sys/net/ipv4/ip_local_port_range", range);
}

/* This namespace's loopback up; 0 or -errno. */
static inline int ep_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/* Into a new network namespace with lo up (and the kernel's default range). */
static inline int ep_enter_netns(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	return ep_lo_up();
}

/* Into a new network namespace with lo up and the range [lo, hi]. */
static inline int ep_new_netns(int lo, int hi)
{
	int err = ep_enter_netns();

	return err ? err : ep_set_range(lo, hi);
}

/* This namespace's net.ephport.mode and reuse_delay_ms. */
static inline int ep_set_ns(const char *mode, int delay_ms)
{
	char v[32];
	int err;

	err = ep_write(EP_SYSCTL "/mode", mode);
	if (err)
		return err;
	snprintf(v, sizeof(v), "%d", delay_ms);
	return ep_write(EP_SYSCTL "/reuse_delay_ms", v);
}

/* A new namespace with [lo, hi], in @mode with @delay_ms. */
static inline int ep_setup_ns(int lo, int hi, const char *mode, int delay_ms)
{
	int err = ep_new_netns(lo, hi);

	return err ? err : ep_set_ns(mode, delay_ms);
}

static inline socklen_t ep_loopback(int family, struct sockaddr_storage *ss,
				    int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_addr = in6addr_loopback;
		a6->sin6_port = htons(port);
		return sizeof(*a6);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	((struct sockaddr_in *)ss)->sin_port = htons(port);
	return sizeof(struct sockaddr_in);
}

static inline int ep_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A listener on loopback:port of @family (IPv6 only: no v4-mapped). */
static inline int ep_listener(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(family, &ss, port);
	int one = 1;
	int fd;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 512)) {
		one = -errno;
		close(fd);
		return one;
	}
	return fd;
}

/* connect() to loopback:port; the fd, or -errno. */
static inline int ep_connect(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(family, &ss, port);
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

/*
 * bind() to loopback:port (0: the kernel chooses), with the socket option
 * @reuse (SO_REUSEADDR, SO_REUSEPORT) set first unless 0; the fd, or -errno.
 */
static inline int ep_bind(int family, int type, int port, int reuse)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(family, &ss, port);
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

/* bind() to loopback port 0; the fd, or -errno. */
static inline int ep_bind0(int family, int type)
{
	return ep_bind(family, type, 0, 0);
}

/*
 * Under QEMU's emulator (TCG, whose hypervisor CPUID leaf reads
 * "TCGTCGTCGTCG") with several CPUs online: patching kernel text that
 * another vCPU runs can crash the guest there, with or without ephport
 * (F1 in Documentation/hardening-test-findings.md).
 */
static inline int ep_tcg_smp(void)
{
	char vendor[13] = "";
#if defined(__x86_64__) || defined(__i386__)
	unsigned int eax, ebx, ecx, edx;

	__cpuid(0x40000000, eax, ebx, ecx, edx);
	(void)eax;
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &ecx, 4);
	memcpy(vendor + 8, &edx, 4);
#endif
	return !strcmp(vendor, "TCGTCGTCGTCG") &&
	       sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* bind(0) and close: the port the kernel (or random mode) gave, or -errno. */
static inline int ep_bind0_close(int family, int type)
{
	int fd = ep_bind0(family, type), p;

	if (fd < 0)
		return fd;
	p = ep_local_port(fd);
	close(fd);
	return p;
}

/* UDP autobind: sendto() from an unbound socket; the fd, or -errno. */
static inline int ep_udp_autobind(int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = ep_loopback(family, &ss, port);
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

/* close() with SO_LINGER 0: a TCP socket lets go of its port at once. */
static inline void ep_close_now(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Active objects of a slab cache in /proc/slabinfo; -1 if not there. */
static inline long ep_slab_active(const char *cache)
{
	char line[512], name[64];
	long active = -1, n;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", name, &n) == 2 &&
		    !strcmp(name, cache)) {
			active = n;
			break;
		}
	}
	fclose(f);
	return active;
}

/*
 * Distinct local ports in [lo, hi] in /proc/<pid>/net/<file> (ss's
 * source), every state, TIME_WAIT included; @seen marks the ports
 * counted, across calls.
 */
static inline int ep_kernel_ports(pid_t pid, const char *file, int lo, int hi,
				  unsigned char *seen)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, file);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* "   0: 0100007F:9C40 ...": the port in hex (no ':' in the heading) */
		char *colon = strchr(line, ':');
		int port;

		if (colon)
			colon = strchr(colon + 1, ':');
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

/* Ports in [lo, hi] the kernel's TCP (or UDP) tables of @pid's namespace hold. */
static inline int ep_kernel_in_use(pid_t pid, int tcp, int lo, int hi)
{
	static unsigned char seen[65536];

	memset(seen, 0, sizeof(seen));
	return ep_kernel_ports(pid, tcp ? "tcp" : "udp", lo, hi, seen) +
	       ep_kernel_ports(pid, tcp ? "tcp6" : "udp6", lo, hi, seen);
}

#endif /* EPHPORT_TEST_H */
