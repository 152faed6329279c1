/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What ephport_dests and ephport_dests_trace share: local destinations
 * (addresses added to lo, listeners, connect()s from a chosen port), the
 * tracepoints read back from tracefs, and the process as a tracepoint
 * names it.
 *
 * Every case runs in a namespace of its own with the port range pinned,
 * IPv4 and IPv6. Loads ephport if it is not loaded.
 *
 * Each program includes this once, after defining _GNU_SOURCE.
 */
#ifndef EPHPORT_DESTS_H
#define EPHPORT_DESTS_H

#include <fcntl.h>
#include <mntent.h>
#include <netinet/tcp.h>
#include <sys/mount.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define LO 40000		/* the pinned ranges start here */
#define PORT_A 5000		/* the listeners, below every range */
#define PORT_B 5001

/* ---- addresses ---- */

/*
 * Local destination number @i (0, 1, ...) of @family: 127.0.0.(2+i), or
 * fd00::(2+i), added to lo by ip_addrs().
 */
static inline socklen_t dest_addr(int family, int i, int port,
				  struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "fd00::", &a->sin6_addr);
		a->sin6_addr.s6_addr[15] = 2 + i;
		a->sin6_port = htons(port);
		return sizeof(*a);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_addr.s_addr = htonl(0x7f000002 + i);
	((struct sockaddr_in *)ss)->sin_port = htons(port);
	return sizeof(struct sockaddr_in);
}

/* The text the module prints for destination @i. */
static inline void dest_text(int family, int i, char *buf, size_t len)
{
	struct sockaddr_storage ss;

	dest_addr(family, i, 0, &ss);
	if (family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  buf, len);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr,
			  buf, len);
}

/* fd00::2 ... on lo (IPv4's 127/8 is there already); 0 or -errno. */
static inline int ip_addrs(int family, int n)
{
	struct {
		struct in6_addr addr;
		unsigned int prefixlen;
		int ifindex;
	} ifr6 = { .prefixlen = 128, .ifindex = if_nametoindex("lo") };
	struct sockaddr_storage ss;
	int fd, i, err = 0;

	if (family != AF_INET6)
		return 0;
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	for (i = 0; i < n && !err; i++) {
		dest_addr(family, i, 0, &ss);
		ifr6.addr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (ioctl(fd, SIOCSIFADDR, &ifr6))
			err = -errno;
	}
	close(fd);
	return err;
}

static inline int listen_on(int family, int i, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = dest_addr(family, i, port, &ss);
	int one = 1;
	int fd;

	double end = ep_now() + 3;
	int err;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A new IPv6 address is tentative until addrconf's work has run. */
	do {
		err = bind(fd, (struct sockaddr *)&ss, len) ? errno : 0;
		if (err == EADDRNOTAVAIL)
			usleep(20000);
	} while (err == EADDRNOTAVAIL && ep_now() < end);
	if (err || listen(fd, 1024)) {
		one = -errno;
		close(fd);
		return one;
	}
	return fd;
}

/*
 * connect() to destination @i, from local port @bind_port first (with
 * SO_REUSEADDR) unless 0; the fd, or -errno.
 */
static inline int connect_to(int family, int i, int port, int bind_port)
{
	struct sockaddr_storage ss, local;
	socklen_t len = dest_addr(family, i, port, &ss);
	int one = 1;
	int fd, err;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (bind_port) {
		socklen_t llen = ep_loopback(family, &local, bind_port);

		/* The destination's own address: loopback routes it. */
		if (family == AF_INET6)
			((struct sockaddr_in6 *)&local)->sin6_addr =
				((struct sockaddr_in6 *)&ss)->sin6_addr;
		else
			((struct sockaddr_in *)&local)->sin_addr.s_addr =
				htonl(INADDR_LOOPBACK);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&local, llen)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* ---- tracefs ---- */

static char tracing[64];

/* Where tracefs is, mounting it if needed; 0 if the kernel has none. */
static inline int tracefs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", dirs[i]);
		if (!ep_exists(path) && i == 0)
			mount("nodev", dirs[i], "tracefs", 0, NULL);
		if (ep_exists(path)) {
			snprintf(tracing, sizeof(tracing), "%s", dirs[i]);
			/*
			 * The events carry their own comm: no cmdline cache.
			 * With record-cmd on, enabling an event also hooks
			 * sched_switch and sched_wakeup, patching the text of
			 * the scheduler while the other CPU runs it, which
			 * QEMU's TCG with two vCPUs mis-executes (finding F1
			 * in Documentation/hardening-test-findings.md):
			 * ephport's own sites are all that change.
			 */
			snprintf(path, sizeof(path), "%s/options/record-cmd",
				 tracing);
			ep_write(path, "0");
			return 1;
		}
	}
	return 0;
}

static inline int trace_event(const char *event, int on)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/events/ephport/%s/enable", tracing,
		 event);
	return ep_write(path, on ? "1" : "0");
}

/* Empties the trace buffer. */
static inline int trace_clear(void)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "%s/trace", tracing);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * The number of @event lines of the trace buffer in this namespace that
 * contain every one of @want (NULL-terminated); the first in @line.
 */
static inline int trace_count(const char *event, const char *const *want,
			      char *line, size_t len)
{
	char path[96], buf[1024], tag[64], ns[32];
	const char *const *w;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", tracing);
	snprintf(tag, sizeof(tag), " %s: ", event);
	snprintf(ns, sizeof(ns), "netns=%lu ", ep_inum());
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		if (!strstr(buf, tag) || !strstr(buf, ns))
			continue;
		for (w = want; *w && strstr(buf, *w); w++)
			;
		if (*w)
			continue;
		if (!n++ && line)
			snprintf(line, len, "%s", buf);
	}
	fclose(f);
	return n;
}

/* ---- who we are, as the tracepoint says it ---- */

static inline void my_comm(char *buf, size_t len)
{
	char *nl;

	if (ep_read("/proc/self/comm", buf, len))
		buf[0] = 0;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
}

/*
 * This process's cgroup v2 id (the inode of its cgroup directory): 0
 * without cgroups, -1 if it cannot be found (why: in @why).
 */
static inline long long my_cgroup(char *why, size_t wlen)
{
	char buf[512], dir[] = "/tmp/ephport-cg.XXXXXX", path[700];
	struct {
		struct file_handle fh;
		unsigned long long id;
	} h = { .fh.handle_bytes = 8 };
	const char *mnt = NULL;
	struct mntent *m;
	long long id = -1;
	char *rel, *nl;
	int mounted = 0;
	FILE *f;
	int mid;

	if (!ep_exists("/proc/self/cgroup"))
		return 0;
	f = setmntent("/proc/self/mounts", "r");
	while (f && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(path, sizeof(path), "%s", m->mnt_dir);
			mnt = path;
			break;
		}
	if (f)
		endmntent(f);
	if (!mnt) {
		if (!mkdtemp(dir) || mount("none", dir, "cgroup2", 0, NULL)) {
			snprintf(why, wlen, "mounting cgroup2 on %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		mounted = 1;
		snprintf(path, sizeof(path), "%s", dir);
	}
	/* Its "0::" line shows once cgroup2 has been mounted. */
	snprintf(why, wlen, "reading /proc/self/cgroup");
	if (ep_read("/proc/self/cgroup", buf, sizeof(buf)))
		goto out;
	snprintf(why, wlen, "no cgroup v2 line in: %s", buf);
	rel = strstr(buf, "0::");
	if (!rel)
		goto out;
	rel += 3;
	nl = strchr(rel, '\n');
	if (nl)
		*nl = 0;
	strncat(path, rel, sizeof(path) - strlen(path) - 1);
	if (!name_to_handle_at(AT_FDCWD, path, &h.fh, &mid, 0))
		id = h.id;
	else
		snprintf(why, wlen, "name_to_handle_at(%s): %s", path,
			 strerror(errno));
out:
	if (mounted) {
		umount(dir);
		rmdir(dir);
	}
	return id;
}

#endif /* EPHPORT_DESTS_H */
