// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: the workload a namespace serves, from the cgroup (v2) of
 * a process in it, the way the container runtimes and systemd name their
 * cgroups:
 *
 *   .../kubepods-besteffort-pod<UID>.slice/cri-containerd-<ID>.scope
 *   .../kubepods/burstable/pod<UID>/<ID>     a Kubernetes pod (cgroupfs)
 *   .../docker-<ID>.scope, /docker/<ID>      Docker
 *   .../libpod-<ID>.scope                    Podman
 *   .../cri-containerd-<ID>.scope            containerd
 *   .../crio-<ID>.scope                      CRI-O
 *   /system.slice/<NAME>.service             a systemd unit
 *
 * and names it "pod:<UID>/<ID>", "docker:<ID>", "podman:<ID>",
 * "containerd:<ID>", "crio:<ID>" or "unit:<NAME>", container IDs cut to
 * their first 12 characters as the runtimes show them. A pod's namespace
 * is its pause container's, so <ID> is usually that one's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

/* Whether s is n hex digits at least (a container ID). */
static bool hex_id(const char *s, size_t n)
{
	size_t i;

	for (i = 0; s[i] && strchr("0123456789abcdef", s[i]); i++)
		;
	return i >= n;
}

/* The container ID in a path component: "<prefix><ID>.scope" or "<ID>". */
static bool container_id(const char *comp, size_t len, char *id, size_t size)
{
	static const char *const prefixes[] = {
		"cri-containerd-", "crio-", "docker-", "libpod-", "",
	};
	unsigned int i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t p = strlen(prefixes[i]);

		if (len < p + 12 || strncmp(comp, prefixes[i], p) ||
		    !hex_id(comp + p, 12))
			continue;
		snprintf(id, size, "%.12s", comp + p);
		return true;
	}
	return false;
}

/* A pod's UID in "...pod<UID>.slice" (its '-' as '_') or "pod<UID>". */
static bool pod_uid(const char *comp, size_t len, char *uid, size_t size)
{
	const char *p = NULL, *s;
	size_t n, i;

	for (s = comp; s + 3 <= comp + len; s++)
		if (!strncmp(s, "pod", 3) && (s == comp || s[-1] == '-'))
			p = s + 3;
	if (!p)
		return false;
	n = comp + len - p;
	if (n > 6 && !strncmp(p + n - 6, ".slice", 6))
		n -= 6;
	if (n < 32 || n + 1 > size)
		return false;
	for (i = 0; i < n; i++)
		uid[i] = p[i] == '_' ? '-' : p[i];
	uid[n] = '\0';
	return true;
}

void ep_workload_of(const char *path, char *out, size_t size)
{
	char id[16] = "", uid[64] = "", unit[256] = "";
	const char *runtime = NULL, *comp = path;
	bool kube = strstr(path, "kubepods") != NULL;

	out[0] = '\0';
	while (*comp) {
		size_t len = strcspn(comp, "/");

		if (kube && pod_uid(comp, len, uid, sizeof(uid)))
			;
		else if (container_id(comp, len, id, sizeof(id)))
			runtime = !strncmp(comp, "cri-containerd-", 15) ? "containerd" :
				  !strncmp(comp, "crio-", 5) ? "crio" :
				  !strncmp(comp, "libpod-", 7) ? "podman" :
				  !strncmp(comp, "docker-", 7) ? "docker" : runtime;
		else if (len > 8 && len < sizeof(unit) &&
			 !strncmp(comp + len - 8, ".service", 8))
			snprintf(unit, sizeof(unit), "%.*s", (int)len, comp);
		else if (!strncmp(comp, "docker", len) && len == 6)
			runtime = "docker";
		comp += len;
		while (*comp == '/')
			comp++;
	}
	if (uid[0])
		snprintf(out, size, "pod:%s%s%s", uid, id[0] ? "/" : "", id);
	else if (id[0])
		snprintf(out, size, "%s:%s", runtime ? runtime : "container", id);
	else if (unit[0])
		snprintf(out, size, "unit:%s", unit);
}

/* Process pid's cgroup v2 path ("0::PATH"), "" if none. */
static void pid_cgroup(int pid, char *path, size_t size)
{
	char file[2048], buf[8192], *line, *save = NULL;
	ssize_t n;
	int fd;

	path[0] = '\0';
	if (ep_path(file, sizeof(file), "/proc/%d/cgroup", pid))
		return;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "0::", 3))
			snprintf(path, size, "%s", line + 3);
}

void ep_workload_all(struct ep_snap *snap)
{
	char path[4096];
	int i;

	for (i = 0; i < snap->nr; i++) {
		struct ep_ns *ns = &snap->ns[i];

		ns->workload[0] = '\0';
		if (!ns->pid)
			continue;
		pid_cgroup(ns->pid, path, sizeof(path));
		ep_workload_of(path, ns->workload, sizeof(ns->workload));
	}
}

/* Look for the directory of inode id under dir (depth-first); 0 if found. */
static int find_ino(char *dir, size_t size, unsigned long long id, int depth)
{
	size_t len = strlen(dir);
	struct dirent *e;
	DIR *d;

	if (depth > 16)
		return -1;
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (len + strlen(e->d_name) + 2 > size)
			continue;
		snprintf(dir + len, size - len, "/%s", e->d_name);
		if (e->d_ino == id || !find_ino(dir, size, id, depth + 1)) {
			closedir(d);
			return 0;
		}
		dir[len] = '\0';
	}
	closedir(d);
	return -1;
}

int ep_cgroup_path(unsigned long long id, char *path, size_t size)
{
	char dir[4096];
	size_t base;

	if (ep_path(dir, sizeof(dir), "/sys/fs/cgroup"))
		return -1;
	base = strlen(dir);
	if (id == 1) {
		/* The root: its inode is 1. */
		snprintf(path, size, "/");
		return 0;
	}
	if (find_ino(dir, sizeof(dir), id, 0))
		return -1;
	snprintf(path, size, "%s", dir + base);
	return 0;
}
