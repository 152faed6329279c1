// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat --events: ephport's tracepoints (ephport_port_fail,
 * ephport_self_connect), followed live through a tracefs instance of our
 * own, so that no other user of the trace buffer is disturbed: its
 * events/ephport/ enabled, its trace_pipe read line by line, the
 * instance removed at the end.
 *
 * A line of trace_pipe, after the task, CPU, flags and timestamp:
 *   ephport_port_fail: netns=N op=connect proto=tcp family=inet
 *   daddr=10.0.0.7 dport=5432 pid=N comm=NAME cgroup=ID
 * (comm may hold spaces: it runs to " cgroup=").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

static const char *const tracefs_dirs[] = {
	"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
};

/* Write text to the instance's file rel; 0, or -1 (errno). */
static int put(const struct ep_trace *t, const char *rel, const char *text)
{
	char path[sizeof(t->dir) + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

int ep_trace_open(struct ep_trace *t)
{
	char path[sizeof(t->dir) + 64];
	struct stat st;
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	for (i = 0; i < sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0]); i++) {
		if (ep_path(path, sizeof(path), "%s/instances", tracefs_dirs[i]))
			return -1;
		if (!stat(path, &st))
			break;
	}
	if (i == sizeof(tracefs_dirs) / sizeof(tracefs_dirs[0])) {
		ep_err("no tracefs (mount -t tracefs tracefs /sys/kernel/tracing)");
		return -1;
	}
	/*
	 * Our own instance; in a test tree (--root) it is made beforehand,
	 * with a name that does not change from run to run.
	 */
	if (strlen(path) > sizeof(t->dir) - 32) {
		ep_err("path too long: %s", path);
		return -1;
	}
	if (*ep_root)
		snprintf(t->dir, sizeof(t->dir), "%.2100s/ephportstat", path);
	else
		snprintf(t->dir, sizeof(t->dir), "%.2100s/ephportstat.%d", path,
			 (int)getpid());
	if (mkdir(t->dir, 0700) && !(*ep_root && errno == EEXIST)) {
		ep_err("cannot make a tracefs instance %s: %s", t->dir,
		       strerror(errno));
		return -1;
	}
	t->made = true;
	if (put(t, "events/ephport/enable", "1")) {
		ep_err("cannot enable ephport's events in %s: %s%s", t->dir,
		       strerror(errno), errno == ENOENT ?
		       " (is ephport loaded, with its tracepoints?)" : "");
		ep_trace_close(t);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/trace_pipe", t->dir);
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) {
		ep_err("cannot read %s: %s", path, strerror(errno));
		ep_trace_close(t);
		return -1;
	}
	return 0;
}

void ep_trace_close(struct ep_trace *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (!t->made)
		return;
	put(t, "events/ephport/enable", "0");
	/*
	 * The kernel refuses (EBUSY) while the instance is still in use,
	 * for a moment after its last reader closed: retry for a second.
	 */
	if (!*ep_root) {
		int i;

		for (i = 0; i < 50 && rmdir(t->dir) && errno == EBUSY; i++)
			usleep(20000);
	}
	t->made = false;
}

/* The value of "key=" in s, up to the next space, into out. */
static bool field(const char *s, const char *key, char *out, size_t size)
{
	const char *p = s;
	size_t n = strlen(key);

	while ((p = strstr(p, key))) {
		if (p == s || p[-1] == ' ')
			break;
		p += n;
	}
	if (!p)
		return false;
	p += n;
	snprintf(out, size, "%.*s", (int)strcspn(p, " \n"), p);
	return true;
}

/* One trace_pipe line into ev; false if it is not an ephport event. */
static bool parse(const char *line, struct ep_event *ev)
{
	const char *p = strstr(line, ": ephport_"), *c, *g;
	char num[32];

	if (!p)
		return false;
	p += 2;
	snprintf(ev->event, sizeof(ev->event), "%.*s",
		 (int)strcspn(p + 8, ":"), p + 8);
	p += strcspn(p, ":");
	if (!field(p, "netns=", num, sizeof(num)))
		return false;
	ev->netns = strtoul(num, NULL, 10);
	field(p, "op=", ev->op, sizeof(ev->op));
	field(p, "proto=", ev->proto, sizeof(ev->proto));
	field(p, "family=", ev->family, sizeof(ev->family));
	field(p, "daddr=", ev->daddr, sizeof(ev->daddr));
	ev->dport = field(p, "dport=", num, sizeof(num)) ? atoi(num) : 0;
	ev->pid = field(p, "pid=", num, sizeof(num)) ? atoi(num) : 0;
	/* comm runs to the last " cgroup=": it may hold spaces. */
	c = strstr(p, " comm=");
	g = c ? strstr(c, " cgroup=") : NULL;
	while (g && strstr(g + 1, " cgroup="))
		g = strstr(g + 1, " cgroup=");
	ev->comm[0] = '\0';
	if (c && g)
		snprintf(ev->comm, sizeof(ev->comm), "%.*s",
			 (int)(g - c - 6), c + 6);
	ev->cgroup = g ? strtoull(g + 8, NULL, 10) : 0;
	return true;
}

int ep_trace_next(struct ep_trace *t, struct ep_event *ev)
{
	for (;;) {
		char *nl = memchr(t->buf, '\n', t->len);
		ssize_t n;

		if (nl) {
			bool ok;

			*nl = '\0';
			memset(ev, 0, sizeof(*ev));
			ok = parse(t->buf, ev);
			t->len -= nl + 1 - t->buf;
			memmove(t->buf, nl + 1, t->len);
			if (ok)
				return 1;
			continue;
		}
		if (t->len == sizeof(t->buf) - 1)
			t->len = 0;	/* a line longer than any event's */
		n = read(t->fd, t->buf + t->len, sizeof(t->buf) - 1 - t->len);
		if (n < 0 && errno == EINTR)
			return 0;
		if (n < 0) {
			ep_err("reading trace_pipe: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		t->len += n;
	}
}
