// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: names for network namespaces, the way an admin knows them.
 *
 * In order of preference: the ip netns name (a file in /run/netns that is
 * the namespace's nsfs file, bind-mounted: its inode is the namespace's),
 * "host" for the namespace of PID 1, else "PID/comm" of the lowest PID
 * living in it (from the /proc/PID/ns/net links, "net:[INUM]").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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

/* The inode of the namespace a /proc/PID/ns/net link names; 0 if none. */
static unsigned long link_inum(const char *path)
{
	char buf[64];
	unsigned long inum;
	ssize_t n;

	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "net:[%lu]", &inum) != 1)
		return 0;
	return inum;
}

static unsigned long pid_inum(int pid)
{
	char path[2048];

	if (ep_path(path, sizeof(path), "/proc/%d/ns/net", pid))
		return 0;
	return link_inum(path);
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

static void read_comm(int pid, char *comm, size_t size)
{
	char path[2048];
	FILE *f;

	comm[0] = '\0';
	if (ep_path(path, sizeof(path), "/proc/%d/comm", pid))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* ip netns names: the alphabetically first one wins. */
static void name_netns(struct ep_snap *snap)
{
	struct stat seen[2];
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
			ns->naming = EP_NAMED_NETNS;
			snprintf(ns->name, sizeof(ns->name), "%s", de->d_name);
		}
		closedir(dir);
	}
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
		ns = find_ns(snap, pid_inum(pid));
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
	ns = find_ns(snap, pid_inum(1));
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

/*
 * What -n names: an ip netns name, "host", a namespace inode number, a PID
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
	if (!strcmp(arg, "host")) {
		*inum = pid_inum(1);
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
		if (!access(path, F_OK)) {
			*inum = strtoul(pid, NULL, 10);
			return 0;
		}
	}
	if (ep_path(path, sizeof(path), "/proc/%s/ns/net", pid))
		return -1;
	*inum = link_inum(path);
	if (*inum)
		return 0;
	if (errno == ENOENT)
		ep_err("no namespace named '%s' (not an ip netns name, inode or PID)",
		       arg);
	else
		ep_err("cannot read %s: %s", path, strerror(errno));
	return -1;
}
