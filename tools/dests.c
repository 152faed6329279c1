// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: what a namespace shows only to its own processes, read from
 * outside it: the TCP destinations toward which it holds the most local
 * ports of its range (its /proc/net/ephport_dests), and its
 * ip_local_reserved_ports, for the headroom connect() has left.
 *
 * A file of /proc/net/ is also /proc/PID/net/ of any process in the
 * namespace: no need to enter it. A sysctl (/proc/sys/net/) is the
 * reader's namespace's only: ephportstat enters the namespace (setns(),
 * which needs CAP_SYS_ADMIN) through its /run/netns file or a process in
 * it, and comes back. Who may not enter it (the exporter's service, under
 * RestrictNamespaces) counts the reserved ports from ephport_dests
 * instead, where the module gives headroom = range - reserved - held.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

/* Our own namespace's inode, 0 if unknown. */
static unsigned long own_inum(void)
{
	char path[2048];

	if (ep_path(path, sizeof(path), "/proc/self/ns/net"))
		return 0;
	return ep_link_inum(path);
}

/* ns's nsfs file, open: its mounted file, or a process's link to it. */
static int ns_fd(const struct ep_ns *ns)
{
	char path[64];
	struct stat st;
	int fd = -1;

	if (ns->nsfs)
		fd = open(ns->nsfs, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && ns->pid) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", ns->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* The process may have gone, and its PID been taken. */
	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != ns->inum)) {
		close(fd);
		fd = -1;
		errno = ESRCH;
	}
	return fd;
}

/*
 * /proc/REL as a process of namespace ns sees it, open: our own /proc in
 * our own namespace; /proc/PID/REL (REL under net/) of a process in it;
 * else, on a real system, entered with setns(). -1 with errno if none
 * can be had.
 */
static int ns_open(const struct ep_ns *ns, const char *rel)
{
	char path[2048];
	int back, target, fd, err;

	if (ns->inum == own_inum()) {
		if (ep_path(path, sizeof(path), "/proc/%s", rel))
			return -1;
		return open(path, O_RDONLY | O_CLOEXEC);
	}
	if (ns->pid && !strncmp(rel, "net/", 4)) {
		if (ep_path(path, sizeof(path), "/proc/%d/%s", ns->pid, rel))
			return -1;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && ep_pid_inum(ns->pid) == ns->inum)
			return fd;
		if (fd >= 0)
			close(fd);
	}
	if (*ep_root) {
		/* A test tree has no namespaces to enter. */
		errno = ENOENT;
		return -1;
	}
	back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (back < 0)
		return -1;
	target = ns_fd(ns);
	if (target < 0 || setns(target, CLONE_NEWNET)) {
		err = errno;
		if (target >= 0)
			close(target);
		close(back);
		errno = err;
		return -1;
	}
	close(target);
	snprintf(path, sizeof(path), "/proc/%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	err = errno;
	if (setns(back, CLONE_NEWNET)) {
		/* Never go on reading in another namespace than ours. */
		ep_err("cannot return to our network namespace: %s",
		       strerror(errno));
		exit(1);
	}
	close(back);
	errno = err;
	return fd;
}

/* The file's text, at most size - 1 bytes; its length, or -1 (errno). */
static ssize_t read_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/*
 * ip_local_reserved_ports ("8080,9000-9100", or empty) counted within
 * [lo, hi]; EP_NONE if it does not parse.
 */
static long long count_reserved(const char *s, long long lo, long long hi)
{
	long long n = 0;

	while (*s && *s != '\n') {
		char *end;
		long a, b;

		a = strtol(s, &end, 10);
		if (end == s)
			return EP_NONE;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s)
				return EP_NONE;
		}
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (b >= a)
			n += b - a + 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return EP_NONE;
	}
	return n;
}

/* ns->dests from the namespace's ephport_dests; 0, or 1 (said if say). */
static int dests_of(struct ep_ns *ns, bool say)
{
	char buf[8192], *line, *save = NULL;
	struct ep_dests *d;
	int fd;

	fd = ns_open(ns, "net/ephport_dests");
	if (fd < 0 || read_fd(fd, buf, sizeof(buf)) < 0) {
		if (say)
				ep_err("netns %lu: /proc/net/ephport_dests: %s%s",
			       ns->inum, strerror(errno), errno == ENOENT ?
			       " (is ephport loaded? no process or /run/netns file to enter it by?)" :
			       "");
		return 1;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		ep_err("out of memory");
		return 1;
	}
	/* The first line names the columns. */
	line = strtok_r(buf, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save)) && d->nr < EP_MAX_DESTS) {
		struct ep_dest *e = &d->d[d->nr];
		unsigned long long held, tw, room;

		if (sscanf(line, "%7s %47s %u %llu %llu %llu", e->proto,
			   e->addr, &e->port, &held, &tw, &room) != 6)
			continue;
		e->held = held;
		e->time_wait = tw;
		e->headroom = room;
		d->nr++;
	}
	free(ns->dests);
	ns->dests = d;
	return 0;
}

int ep_read_dests(struct ep_ns *ns)
{
	return dests_of(ns, true);
}

/* ns's reserved ports of the range, from its sysctl; EP_NONE if unread. */
static long long sysctl_reserved(const struct ep_ns *ns)
{
	char buf[8192];
	int fd;

	fd = ns_open(ns, "sys/net/ipv4/ip_local_reserved_ports");
	if (fd < 0 || read_fd(fd, buf, sizeof(buf)) < 0)
		return EP_NONE;
	return count_reserved(buf, ns->lo, ns->hi);
}

/*
 * A namespace's reserved ports and headroom: from its sysctl where it can
 * be read, else from the busiest destination's line of ephport_dests
 * (reserved = range - held - headroom, when headroom is above 0; a
 * headroom of 0 is known without it).
 */
static void headroom(struct ep_ns *ns)
{
	long long max = ns->val[EP_TCP_DEST_MAX], size;

	ns->reserved = ns->dest_headroom = EP_NONE;
	if (ns->lo == EP_NONE)
		return;
	size = ns->hi - ns->lo + 1;
	ns->reserved = sysctl_reserved(ns);
	if (ns->reserved == EP_NONE && max > 0 && !dests_of(ns, false) &&
	    ns->dests->nr) {
		const struct ep_dest *top = &ns->dests->d[0];

		if (top->headroom > 0)
			ns->reserved = size - top->held - top->headroom;
		else
			ns->dest_headroom = 0;
	}
	if (ns->reserved != EP_NONE && max != EP_NONE)
		ns->dest_headroom = size - ns->reserved - max > 0 ?
				    size - ns->reserved - max : 0;
}

void ep_headroom_all(struct ep_snap *snap)
{
	int i;

	for (i = 0; i < snap->nr; i++)
		headroom(&snap->ns[i]);
}
