// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat --dests: the TCP destinations toward which a namespace
 * holds the most local ports of its range, from its
 * /proc/net/ephport_dests. That file shows the reader's own namespace:
 * for another one, ephportstat enters it (setns(), as root) through
 * /run/netns/NAME or /proc/PID/ns/net of a process in it.
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

/* A file of namespace @inum, open (O_RDONLY); -1 if none is found. */
static int ns_open_in(const char *dir, const char *suffix, unsigned long inum)
{
	char path[1400];
	struct dirent *e;
	struct stat st;
	int fd = -1;
	DIR *d;

	if (ep_path(path, sizeof(path), "%s", dir))
		return -1;
	d = opendir(path);
	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (ep_path(path, sizeof(path), "%s/%s%s", dir, e->d_name, suffix))
			continue;
		if (stat(path, &st) || st.st_ino != inum)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/* Into namespace @inum; 0, or 1 (said). */
static int enter(unsigned long inum)
{
	int fd = ns_open_in("/run/netns", "", inum);

	if (fd < 0)
		fd = ns_open_in("/proc", "/ns/net", inum);
	if (fd < 0) {
		ep_err("namespace %lu: no /run/netns entry or process to enter it by", inum);
		return 1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ep_err("namespace %lu: setns: %s", inum, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/*
 * Prints the table, aligned; 0, or 1 (said). The module's file is the
 * reference for the columns: its header line is kept.
 */
int ep_print_dests(FILE *f, unsigned long inum)
{
	char path[1100], line[512], proto[16], addr[64];
	unsigned long dport, held, tw, headroom;
	FILE *in;
	int n = 0;

	if (inum && !*ep_root && enter(inum))
		return 1;
	if (ep_path(path, sizeof(path), "/proc/net/ephport_dests"))
		return 1;
	in = fopen(path, "r");
	if (!in) {
		ep_err("%s: %s%s", path, strerror(errno),
		       errno == ENOENT ? " (is ephport loaded?)" : "");
		return 1;
	}
	if (!fgets(line, sizeof(line), in)) {
		ep_err("%s: empty", path);
		fclose(in);
		return 1;
	}
	fprintf(f, "%-5s %-39s %5s %7s %9s %8s\n", "PROTO", "DESTINATION",
		"PORT", "HELD", "TIME_WAIT", "HEADROOM");
	while (fgets(line, sizeof(line), in)) {
		if (sscanf(line, "%15s %63s %lu %lu %lu %lu", proto, addr, &dport,
			   &held, &tw, &headroom) != 6)
			continue;
		fprintf(f, "%-5s %-39s %5lu %7lu %9lu %8lu\n", proto, addr,
			dport, held, tw, headroom);
		n++;
	}
	fclose(in);
	if (!n)
		fprintf(f, "(no TCP connection holds a port of the range)\n");
	return 0;
}
