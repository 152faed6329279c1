// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: names for network namespaces, the way an admin knows them.
 *
 * In order of preference, as lsns(8) finds them: the ip netns name (a file
 * in /run/netns that is the namespace's nsfs file, bind-mounted: its inode
 * is the namespace's), else the basename of another mount of its nsfs file
 * (Docker's /run/docker/netns/NAME: in /proc/self/mountinfo a mount of
 * type nsfs whose root is "net:[INUM]"), "host" for the namespace of PID
 * 1, else "PID/comm" of the lowest PID living in it (from the
 * /proc/PID/ns/net links, "net:[INUM]").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

/* ip netns keeps its names in /var/run/netns, which is /run/netns. */
static const char *const netns_dirs[] = { "/run/netns", "/var/run/netns" };

static struct ep_ns *find_ns(struct ep_snap *snap, unsigned long inum)
{
	int i;

	for (i = 0; i < snap->nr; i++)
		if (snap->ns[i].inum == inum)
			return &snap->ns[i];
	return NULL;
}


static bool is_pid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * A command name is any 15 bytes but NUL, newlines included (prctl
 * PR_SET_NAME): only the newline the kernel adds is dropped.
 */
static void read_comm(int pid, char *comm, size_t size)
{
	char path[2048];
	ssize_t n;
	int fd;

	comm[0] = '\0';
	if (ep_path(path, sizeof(path), "/proc/%d/comm", pid))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, size - 1);
	close(fd);
	if (n <= 0) {
		comm[0] = '\0';
		return;
	}
	comm[n] = '\0';
	if (comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

static void set_name(struct ep_ns *ns, enum ep_naming naming,
		     const char *name, const char *nsfs)
{
	ns->naming = naming;
	snprintf(ns->name, sizeof(ns->name), "%s", name);
	free(ns->nsfs);
	ns->nsfs = strdup(nsfs);
}

/* ip netns names: the alphabetically first one wins. */
static void name_netns(struct ep_snap *snap)
{
	struct stat seen[2] = { 0 };
	char path[2048];
	unsigned int d;

	for (d = 0; d < 2; d++) {
		struct dirent *de;
		DIR *dir;

		if (ep_path(path, sizeof(path), "%s", netns_dirs[d]) ||
		    stat(path, &seen[d]))
			continue;
		/* /var/run/netns is usually /run/netns: read it once. */
		if (d && seen[0].st_dev == seen[1].st_dev &&
		    seen[0].st_ino == seen[1].st_ino)
			continue;
		dir = opendir(path);
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			struct ep_ns *ns;
			struct stat st;

			if (de->d_name[0] == '.' ||
			    ep_path(path, sizeof(path), "%s/%s",
				    netns_dirs[d], de->d_name) ||
			    stat(path, &st))
				continue;
			ns = find_ns(snap, st.st_ino);
			if (!ns || (ns->naming == EP_NAMED_NETNS &&
				    strcmp(ns->name, de->d_name) <= 0))
				continue;
			set_name(ns, EP_NAMED_NETNS, de->d_name,
				 path + strlen(ep_root));
		}
		closedir(dir);
	}
}

/* Undo mountinfo's octal escapes ("\040" for a space), in place. */
static void unescape_mount(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * Call fn for each mount of a network namespace's nsfs file in
 * /proc/self/mountinfo, with the namespace's inode and the mount point:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - nsfs ...",
 * ROOT "net:[INUM]".
 */
static void each_nsfs_mount(void (*fn)(void *ctx, unsigned long inum,
				       const char *mountpoint), void *ctx)
{
	char path[2048], *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (ep_path(path, sizeof(path), "/proc/self/mountinfo"))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *field[6], *fstype = NULL, *tok, *save = NULL, c;
		unsigned long inum;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			if (n < 6) {
				field[n++] = tok;
			} else if (!strcmp(tok, "-")) {
				fstype = strtok_r(NULL, " ", &save);
				break;
			}
		}
		if (n < 6 || !fstype || strcmp(fstype, "nsfs") ||
		    sscanf(field[3], "net:[%lu]%c", &inum, &c) != 1)
			continue;
		unescape_mount(field[4]);
		fn(ctx, inum, field[4]);
	}
	free(line);
	fclose(f);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Whether a mount point is an ip netns name: in /run/netns. */
static bool in_netns_dir(const char *mountpoint)
{
	const char *base = basename_of(mountpoint);
	unsigned int d;

	for (d = 0; d < 2; d++)
		if (base - mountpoint == (long)strlen(netns_dirs[d]) + 1 &&
		    !strncmp(mountpoint, netns_dirs[d], base - mountpoint - 1))
			return true;
	return false;
}

/* A mounted nsfs file names its namespace, after an ip netns name. */
static void name_mount(void *ctx, unsigned long inum, const char *mountpoint)
{
	struct ep_ns *ns = find_ns(ctx, inum);
	const char *base = basename_of(mountpoint);
	enum ep_naming naming = in_netns_dir(mountpoint) ? EP_NAMED_NETNS :
				EP_NAMED_MOUNT;

	if (!ns || !*base || strlen(base) >= sizeof(ns->name))
		return;
	if (ns->naming == EP_NAMED_NETNS && naming != EP_NAMED_NETNS)
		return;
	if (ns->naming == naming && strcmp(ns->name, base) <= 0)
		return;
	set_name(ns, naming, base, mountpoint);
}

/* The lowest PID in each namespace, from /proc/PID/ns/net. */
static void find_pids(struct ep_snap *snap)
{
	char path[2048];
	struct dirent *de;
	DIR *dir;
	int i;

	if (ep_path(path, sizeof(path), "/proc"))
		return;
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct ep_ns *ns;
		int pid;

		if (!is_pid(de->d_name))
			continue;
		pid = atoi(de->d_name);
		ns = find_ns(snap, ep_pid_inum(pid));
		if (ns && (!ns->pid || pid < ns->pid))
			ns->pid = pid;
	}
	closedir(dir);

	for (i = 0; i < snap->nr; i++)
		if (snap->ns[i].pid)
			read_comm(snap->ns[i].pid, snap->ns[i].comm,
				  sizeof(snap->ns[i].comm));
}

void ep_name_all(struct ep_snap *snap)
{
	struct ep_ns *ns;
	int i;

	name_netns(snap);
	each_nsfs_mount(name_mount, snap);
	ns = find_ns(snap, ep_pid_inum(1));
	if (ns && ns->naming == EP_NAMED_NONE) {
		ns->naming = EP_NAMED_HOST;
		strcpy(ns->name, "host");
	}
	find_pids(snap);
	for (i = 0; i < snap->nr; i++) {
		ns = &snap->ns[i];
		if (ns->naming != EP_NAMED_NONE || !ns->pid)
			continue;
		ns->naming = EP_NAMED_PID;
		snprintf(ns->name, sizeof(ns->name), "%d/%s", ns->pid,
			 ns->comm[0] ? ns->comm : "?");
	}
	for (i = 0; i < snap->nr; i++)
		if (snap->ns[i].naming == EP_NAMED_NONE)
			strcpy(snap->ns[i].name, "-");
}

struct mount_lookup {
	const char *name;
	unsigned long inum;	/* 0 until found */
};

/* -n NAME: the namespace whose nsfs file is mounted as .../NAME. */
static void find_mount(void *ctx, unsigned long inum, const char *mountpoint)
{
	struct mount_lookup *look = ctx;

	if (!look->inum && !strcmp(basename_of(mountpoint), look->name))
		look->inum = inum;
}

/*
 * What -n names: an ip netns name, a mounted nsfs file's name, "host", a namespace inode number, a PID
 * (or "PID/comm" as the table shows it). 0 with *inum set, or -1 (said).
 */
int ep_resolve(const char *arg, unsigned long *inum)
{
	char path[2048], pid[16];
	struct stat st;
	unsigned int d;

	if (*arg && !strchr(arg, '/') && strcmp(arg, ".") && strcmp(arg, "..")) {
		for (d = 0; d < 2; d++) {
			if (ep_path(path, sizeof(path), "%s/%s",
				    netns_dirs[d], arg))
				return -1;
			if (!stat(path, &st)) {
				*inum = st.st_ino;
				return 0;
			}
		}
	}
	if (*arg && !strchr(arg, '/')) {
		struct mount_lookup look = { arg, 0 };

		each_nsfs_mount(find_mount, &look);
		if (look.inum) {
			*inum = look.inum;
			return 0;
		}
	}
	if (!strcmp(arg, "host")) {
		*inum = ep_pid_inum(1);
		if (*inum)
			return 0;
		ep_err("cannot tell the host namespace (/proc/1/ns/net: %s)",
		       strerror(errno));
		return -1;
	}

	/* "PID/comm": the PID. */
	snprintf(pid, sizeof(pid), "%.*s", (int)strcspn(arg, "/"), arg);
	if (!is_pid(pid) || strlen(pid) > 10) {
		ep_err("no namespace named '%s' (not an ip netns name, inode or PID)",
		       arg);
		return -1;
	}
	if (!strchr(arg, '/')) {
		if (ep_path(path, sizeof(path), EP_SYSFS "/net/%s", pid))
			return -1;
		/*
		 * A directory there, or one we may not look for (net/ is
		 * root's): the number is an inode, and reading it will say.
		 */
		if (!access(path, F_OK) || errno == EACCES) {
			*inum = strtoul(pid, NULL, 10);
			return 0;
		}
		/* Without the sysfs tree (a container): our own namespace. */
		if (ep_path(path, sizeof(path), "/proc/self/ns/net"))
			return -1;
		if (ep_link_inum(path) == strtoul(pid, NULL, 10)) {
			*inum = strtoul(pid, NULL, 10);
			return 0;
		}
	}
	if (ep_path(path, sizeof(path), "/proc/%s/ns/net", pid))
		return -1;
	*inum = ep_link_inum(path);
	if (*inum)
		return 0;
	if (errno == ENOENT)
		ep_err("no namespace named '%s' (not an ip netns name, inode or PID)",
		       arg);
	else
		ep_err("cannot read %s: %s", path, strerror(errno));
	return -1;
}
