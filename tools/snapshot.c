// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: one consistent read of /sys/kernel/ephport/.
 *
 * Every value is read before anything is printed, so an error (module not
 * loaded, a namespace the user may not read) never leaves half a table.
 *
 * The sysfs tree is root's (its namespace files are 0400). Who may not
 * read it, a user or a container's root, still has /proc/net/ephport:
 * the same values for the reader's own namespace, world-readable. So a
 * permission error in the tree, or a tree that is not there (a container
 * that does not see it) while /proc/net/ephport is, gives that namespace
 * alone instead of an error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

/* The contents of a file, NUL-terminated; its length or -errno. */
static int read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* The file that made read_opt() fail, and why, for the caller to say. */
static char failed_path[2048];
static int failed_errno;

/*
 * Read a file that may be absent: 0 with buf filled, 1 if absent (or, with
 * denied_absent, refused to us), -1 on any other error (noted in
 * failed_path and failed_errno).
 */
static int read_opt_as(const char *path, char *buf, size_t size,
		       bool denied_absent)
{
	int ret = read_text(path, buf, size);

	if (ret == -ENOENT ||
	    (denied_absent && (ret == -EACCES || ret == -EPERM)))
		return 1;
	if (ret < 0) {
		snprintf(failed_path, sizeof(failed_path), "%s", path);
		failed_errno = -ret;
		return -1;
	}
	return 0;
}

static int read_opt(const char *path, char *buf, size_t size)
{
	return read_opt_as(path, buf, size, false);
}

static void say_failed(void)
{
	ep_err("cannot read %s: %s", failed_path, strerror(failed_errno));
}

/* A non-negative decimal number, alone on its line, or EP_NONE. */
static long long parse_num(const char *s)
{
	unsigned long long v;
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return EP_NONE;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > 1ULL << 62)
		return EP_NONE;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? EP_NONE : (long long)v;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/*
 * search_ns, one bucket per line. Accepted: "<le> <count>", "le_<le>
 * <count>", "<= <le> ns: <count>"..., with "+Inf"/"inf" or a missing bound
 * for the open last bucket: the first number is the bound, the last the
 * count.
 */
static int parse_hist(struct ep_ns *ns, char *text)
{
	char *line, *save = NULL;

	if (strstr(text, "unsupported")) {
		ns->nhist = -1;
		return 0;
	}
	ns->nhist = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long nums[2];
		int n = 0;
		bool inf = strcasestr(line, "inf") != NULL;
		char *p = line;

		while (*p) {
			if (isdigit((unsigned char)*p)) {
				unsigned long long v = strtoull(p, &p, 10);

				if (n < 2)
					nums[n] = v;
				else
					nums[1] = v;
				n++;
			} else {
				p++;
			}
		}
		if (n == 0)
			continue;
		if (ns->nhist == EP_MAX_BUCKETS)
			return -1;
		if (n == 1 && !inf)
			return -1;	/* a bound without a count */
		ns->hist[ns->nhist].le = (inf || n == 1) ? 0 : nums[0];
		ns->hist[ns->nhist].count = nums[n == 1 ? 0 : 1];
		ns->nhist++;
	}
	return 0;
}

/* read_opt() on a file of /sys/kernel/ephport ("" + name: the top). */
static int read_sys(const char *name, char *buf, size_t size)
{
	char path[2048];

	if (ep_path(path, sizeof(path), EP_SYSFS "/%s", name))
		return -1;
	return read_opt(path, buf, size);
}

/*
 * A file about the whole host (netns, probes): the module refuses it
 * (EACCES) to any container's reader, with or without a user namespace.
 * Left out then, like a file that is not there.
 */
static int read_host(const char *name, char *buf, size_t size)
{
	char path[2048];

	if (ep_path(path, sizeof(path), EP_SYSFS "/%s", name))
		return -1;
	return read_opt_as(path, buf, size, true);
}

static int read_ns(struct ep_ns *ns)
{
	char name[64], buf[4096];
	long long lo, hi;
	int i, ret;

	for (i = 0; i < EP_NFIELDS; i++) {
		snprintf(name, sizeof(name), "net/%lu/%s", ns->inum,
			 ep_field_files[i]);
		ret = read_sys(name, buf, sizeof(buf));
		if (ret < 0)
			return -1;
		ns->val[i] = ret ? EP_NONE : parse_num(buf);
	}

	ns->lo = ns->hi = EP_NONE;
	snprintf(name, sizeof(name), "net/%lu/range", ns->inum);
	ret = read_sys(name, buf, sizeof(buf));
	if (ret < 0)
		return -1;
	if (!ret && sscanf(buf, "%lld %lld", &lo, &hi) == 2 &&
	    lo >= 0 && lo <= hi && hi <= 65535) {
		ns->lo = lo;
		ns->hi = hi;
	}

	ns->mode[0] = '\0';
	snprintf(name, sizeof(name), "net/%lu/mode", ns->inum);
	ret = read_sys(name, buf, sizeof(buf));
	if (ret < 0)
		return -1;
	if (!ret) {
		trim(buf);
		snprintf(ns->mode, sizeof(ns->mode), "%.*s",
			 (int)sizeof(ns->mode) - 1, buf);
	}

	ns->nhist = -1;
	snprintf(name, sizeof(name), "net/%lu/search_ns", ns->inum);
	ret = read_sys(name, buf, sizeof(buf));
	if (ret < 0)
		return -1;
	if (!ret && parse_hist(ns, buf)) {
		ep_path(failed_path, sizeof(failed_path), EP_SYSFS "/%s", name);
		failed_errno = EBADMSG;
		return -1;
	}

	snprintf(name, sizeof(name), "net/%lu/search_ns_sum", ns->inum);
	ret = read_sys(name, buf, sizeof(buf));
	if (ret < 0)
		return -1;
	ns->search_sum = ret ? EP_NONE : parse_num(buf);
	return 0;
}

/* A bare value from /proc/net/ephport into its field, if it is one. */
static bool proc_field(struct ep_ns *ns, const char *key, const char *val)
{
	int i;

	for (i = 0; i < EP_NFIELDS; i++) {
		if (strcmp(key, ep_field_files[i]))
			continue;
		ns->val[i] = parse_num(val);
		return true;
	}
	return false;
}

/*
 * The reader's own namespace from /proc/net/ephport ("name value" lines,
 * the sysfs files' names; search_ns as search_ns_le_<bound> lines). 0, or
 * -1 (noted in failed_path and failed_errno).
 */
static int read_proc(struct ep_snap *snap, struct ep_ns *ns)
{
	char path[2048], buf[8192], *line, *save = NULL;
	long long lo, hi;
	int i, ret;

	if (ep_path(path, sizeof(path), "/proc/self/ns/net"))
		return -1;
	ns->inum = ep_link_inum(path);
	if (!ns->inum) {
		snprintf(failed_path, sizeof(failed_path), "%s", path);
		failed_errno = errno;
		return -1;
	}
	if (ep_path(path, sizeof(path), EP_PROC))
		return -1;
	ret = read_opt(path, buf, sizeof(buf));
	if (ret > 0) {
		snprintf(failed_path, sizeof(failed_path), "%s", path);
		failed_errno = ENOENT;
	}
	if (ret)
		return -1;

	for (i = 0; i < EP_NFIELDS; i++)
		ns->val[i] = EP_NONE;
	ns->reserved = ns->dest_headroom = EP_NONE;
	ns->lo = ns->hi = EP_NONE;
	ns->mode[0] = '\0';
	ns->nhist = -1;
	ns->search_sum = EP_NONE;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *val = line + strcspn(line, " ");
		unsigned long long le, count;

		if (*val)
			*val++ = '\0';
		if (proc_field(ns, line, val))
			continue;
		if (!strcmp(line, "range")) {
			if (sscanf(val, "%lld %lld", &lo, &hi) == 2 &&
			    lo >= 0 && lo <= hi && hi <= 65535) {
				ns->lo = lo;
				ns->hi = hi;
			}
		} else if (!strcmp(line, "mode")) {
			trim(val);
			snprintf(ns->mode, sizeof(ns->mode), "%.*s",
				 (int)sizeof(ns->mode) - 1, val);
		} else if (!strcmp(line, "alarm_basis")) {
			trim(val);
			snprintf(snap->alarm_basis, sizeof(snap->alarm_basis),
				 "%.*s", (int)sizeof(snap->alarm_basis) - 1, val);
		} else if (!strcmp(line, "search_ns_sum")) {
			ns->search_sum = parse_num(val);
		} else if (sscanf(line, "search_ns_le_%llu", &le) == 1 &&
			   sscanf(val, "%llu", &count) == 1) {
			if (ns->nhist < 0)
				ns->nhist = 0;
			if (ns->nhist == EP_MAX_BUCKETS)
				continue;
			ns->hist[ns->nhist].le = le;
			ns->hist[ns->nhist].count = count;
			ns->nhist++;
		}
	}
	if (ns->lo == EP_NONE) {
		/* Empty: the namespace is leaving, or not ephport's file. */
		snprintf(failed_path, sizeof(failed_path), "%s", path);
		failed_errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* A namespace whose directory went away while we read it: it just died. */
static bool ns_gone(const struct ep_ns *ns)
{
	char path[2048];

	if (ep_path(path, sizeof(path), EP_SYSFS "/net/%lu", ns->inum))
		return false;
	return access(path, F_OK) && errno == ENOENT;
}

static long long field_num(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	char *end;

	if (!p || !isdigit((unsigned char)p[strlen(key)]))
		return EP_NONE;
	return strtoll(p + strlen(key), &end, 10);
}

/* probes: "<symbol> registered|unsupported hits=<n> nmissed=<n>" lines. */
static void parse_probes(struct ep_snap *snap, char *text)
{
	char *line, *save = NULL;

	snap->nprobes = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct ep_probe *p = &snap->probes[snap->nprobes];
		char state[32];

		if (snap->nprobes == EP_MAX_PROBES)
			break;
		if (sscanf(line, "%63s %31s", p->symbol, state) != 2)
			continue;
		p->registered = !strcmp(state, "registered");
		p->hits = field_num(line, "hits=");
		p->nmissed = field_num(line, "nmissed=");
		snap->nprobes++;
	}
}

/* Whether a file of ep_root is there: 1, 0 (ENOENT), or -1 (errno). */
static int exists(const char *name)
{
	char path[2048];

	if (ep_path(path, sizeof(path), "%s", name))
		return -1;
	if (!access(path, F_OK))
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Whether ephport is loaded (its sysfs tree or /proc/net/ephport is there); if not, says so. */
bool ep_loaded(void)
{
	int sys = exists(EP_SYSFS);
	int err = errno;

	if (sys > 0 || exists(EP_PROC) > 0)
		return true;
	if (sys == 0)
		ep_err("ephport is not loaded (no %s%s)", ep_root, EP_SYSFS);
	else
		ep_err("cannot read %s%s: %s", ep_root, EP_SYSFS, strerror(err));
	return false;
}

/* The global files; those that are not there (a container) are left out. */
static int read_global(struct ep_snap *snap)
{
	char buf[4096];
	int ret;

	if (!ep_loaded())
		return -1;

	strcpy(snap->version, "-");
	ret = read_sys("version", buf, sizeof(buf));
	if (ret < 0)
		goto err;
	if (!ret) {
		trim(buf);
		snprintf(snap->version, sizeof(snap->version), "%.*s",
			 (int)sizeof(snap->version) - 1, buf);
	}

	snap->netns = EP_NONE;
	ret = read_host("netns", buf, sizeof(buf));
	if (ret < 0)
		goto err;
	if (!ret)
		snap->netns = parse_num(buf);

	snap->alarm_pct = EP_NONE;
	ret = read_sys("alarm_pct", buf, sizeof(buf));
	if (ret < 0)
		goto err;
	if (!ret)
		snap->alarm_pct = parse_num(buf);

	snap->alarm_basis[0] = '\0';
	ret = read_sys("alarm_basis", buf, sizeof(buf));
	if (ret < 0)
		goto err;
	if (!ret) {
		trim(buf);
		snprintf(snap->alarm_basis, sizeof(snap->alarm_basis), "%.*s",
			 (int)sizeof(snap->alarm_basis) - 1, buf);
	}

	snap->nprobes = -1;
	ret = read_host("probes", buf, sizeof(buf));
	if (ret < 0)
		goto err;
	if (!ret)
		parse_probes(snap, buf);
	return 0;
err:
	say_failed();
	return -1;
}

/* Parse a directory name that is a decimal inode number. */
static bool parse_inum(const char *s, unsigned long *inum)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*inum = strtoul(s, &end, 10);
	return !errno && !*end;
}

/*
 * The reader's own namespace alone, from /proc/net/ephport, after the
 * sysfs tree could not be read (why in failed_path, failed_errno if
 * sys_failed). Fails if only_inum is another namespace, saying the sysfs
 * error that hid it.
 */
static int snapshot_proc(struct ep_snap *snap, unsigned long only_inum,
			 bool sys_failed)
{
	char sys_path[sizeof(failed_path)];
	int sys_errno = failed_errno;

	snprintf(sys_path, sizeof(sys_path), "%s", failed_path);
	ep_snap_free(snap);
	snap->ns = calloc(1, sizeof(*snap->ns));
	if (!snap->ns) {
		ep_err("out of memory");
		return -1;
	}
	snap->source = EP_PROC;
	if (read_proc(snap, &snap->ns[0])) {
		if (sys_failed)
			ep_err("cannot read %s: %s", sys_path, strerror(sys_errno));
		else
			say_failed();
		goto err;
	}
	snap->nr = 1;
	if (only_inum && snap->ns[0].inum != only_inum) {
		if (sys_failed)
			ep_err("cannot read %s: %s", sys_path, strerror(sys_errno));
		else
			ep_err("no namespace with inode %lu here: %s%s shows only this one",
			       only_inum, ep_root, EP_PROC);
		goto err;
	}
	return 0;
err:
	ep_snap_free(snap);
	return -1;
}

/* A read that failed for want of permission: the tree is not ours to read. */
static bool denied(int err)
{
	return err == EACCES || err == EPERM;
}

/*
 * Read every namespace (or only the one with inode only_inum, if not 0)
 * into snap. 0, or -1 after saying why in one line.
 */
int ep_snapshot(struct ep_snap *snap, unsigned long only_inum)
{
	char path[2048];
	struct dirent *de;
	DIR *dir;
	int i, alloc = 0;

	memset(snap, 0, sizeof(*snap));
	clock_gettime(CLOCK_REALTIME, &snap->when);
	snap->source = EP_SYSFS;
	if (read_global(snap))
		return -1;
	if (exists(EP_SYSFS) == 0)
		return snapshot_proc(snap, only_inum, false);

	if (ep_path(path, sizeof(path), EP_SYSFS "/net"))
		return -1;
	dir = opendir(path);
	if (!dir) {
		snprintf(failed_path, sizeof(failed_path), "%s", path);
		failed_errno = errno;
		if (denied(errno))
			return snapshot_proc(snap, only_inum, true);
		say_failed();
		return -1;
	}
	while ((de = readdir(dir))) {
		unsigned long inum;

		if (!parse_inum(de->d_name, &inum))
			continue;
		if (only_inum && inum != only_inum)
			continue;
		if (snap->nr == alloc) {
			struct ep_ns *ns;

			alloc = alloc ? 2 * alloc : 16;
			ns = realloc(snap->ns, alloc * sizeof(*ns));
			if (!ns) {
				ep_err("out of memory");
				goto err_close;
			}
			snap->ns = ns;
		}
		memset(&snap->ns[snap->nr], 0, sizeof(snap->ns[0]));
		snap->ns[snap->nr].reserved = EP_NONE;
		snap->ns[snap->nr].dest_headroom = EP_NONE;
		snap->ns[snap->nr++].inum = inum;
	}
	closedir(dir);

	for (i = 0; i < snap->nr; i++) {
		int ret = read_ns(&snap->ns[i]);

		if (ns_gone(&snap->ns[i])) {
			/* Destroyed while we read it: not part of the picture. */
			snap->ns[i--] = snap->ns[--snap->nr];
			continue;
		}
		if (ret && denied(failed_errno))
			return snapshot_proc(snap, only_inum, true);
		if (ret) {
			say_failed();
			goto err_free;
		}
	}
	if (only_inum && !snap->nr) {
		ep_err("no namespace with inode %lu in %s", only_inum, path);
		goto err_free;
	}
	return 0;

err_close:
	closedir(dir);
err_free:
	ep_snap_free(snap);
	return -1;
}

/* A value that says something: known and not 0. */
static bool nonzero(long long v)
{
	return v != EP_NONE && v != 0;
}

void ep_drop_idle(struct ep_snap *snap)
{
	static const enum ep_field busy[] = {
		EP_TCP_IN_USE, EP_UDP_IN_USE, EP_TCP_CONNECT_FAIL,
		EP_TCP_BIND_FAIL, EP_UDP_FAIL, EP_SELF_CONNECT, EP_ALARM,
	};
	int i, j, kept = 0;

	for (i = 0; i < snap->nr; i++) {
		struct ep_ns *ns = &snap->ns[i];
		bool keep = false;

		for (j = 0; j < (int)(sizeof(busy) / sizeof(busy[0])); j++)
			keep |= nonzero(ns->val[busy[j]]);
		if (keep) {
			snap->ns[kept++] = *ns;
		} else {
			free(ns->nsfs);
			free(ns->dests);
			snap->idle++;
		}
	}
	snap->nr = kept;
}

void ep_snap_free(struct ep_snap *snap)
{
	int i;

	for (i = 0; i < snap->nr; i++) {
		free(snap->ns[i].nsfs);
		free(snap->ns[i].dests);
	}
	free(snap->ns);
	snap->ns = NULL;
	snap->nr = 0;
}
