// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: ephport's per-namespace ephemeral port usage, for people
 * (a table, one namespace in full) and for machines (JSON, Prometheus).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

#ifndef EPHPORTSTAT_VERSION
#define EPHPORTSTAT_VERSION "unknown"
#endif

enum ep_format { EP_TABLE, EP_ONE, EP_JSON, EP_PROMETHEUS };

static void usage(FILE *f)
{
	fprintf(f,
"usage: ephportstat [-w SECONDS] [-n NAME|INUM|PID] [--json | --prometheus]\n"
"                   [--root DIR]\n"
"       ephportstat --dests [-n NAME|INUM|PID]\n"
"\n"
"Shows ephport's view of every network namespace (from /sys/kernel/ephport):\n"
"ephemeral ports in use per protocol and their share of the namespace's\n"
"ip_local_port_range, peaks, failed port assignments, mode and alarm. The\n"
"fullest namespace comes first. A namespace is named by its ip netns name\n"
"(/run/netns), \"host\" for the namespace of PID 1, else \"PID/comm\" of the\n"
"lowest PID in it; the inode number (as in lsns -t net) is under the name.\n"
"\n"
"  -n, --netns X      only namespace X, in full (search-time histogram too):\n"
"                     an ip netns name, \"host\", an inode number or a PID\n"
"  -w, --watch S      refresh every S seconds, in place (table and -n)\n"
"  -j, --json         print JSON (keys are the sysfs file names)\n"
"  -p, --prometheus   print Prometheus' text format, for node_exporter's\n"
"                     textfile collector\n"
"  -d, --dests        the TCP destinations toward which the namespace (ours,\n"
"                     or -n's) holds the most ports, and the headroom left\n"
"                     toward each (/proc/net/ephport_dests)\n"
"      --root DIR     read DIR/sys, DIR/proc and DIR/run instead of /sys, /proc\n"
"                     and /run (a test tree); also $EPHPORTSTAT_ROOT\n"
"  -V, --version      print ephportstat's version\n"
"  -h, --help         this help\n"
"\n"
"A value the module does not give (\"unsupported\" on this kernel, or no file)\n"
"is shown as \"-\" (null in JSON, absent in Prometheus). Exits 1 if ephport is\n"
"not loaded or a namespace's files cannot be read (nothing else is printed\n"
"then), 2 on bad usage.\n");
}

/* Print one snapshot; 0, or 1 (said) if it could not be read. */
static int show(FILE *f, enum ep_format fmt, unsigned long inum)
{
	struct ep_snap snap;

	if (ep_snapshot(&snap, inum))
		return 1;
	ep_name_all(&snap);
	ep_sort(&snap);
	switch (fmt) {
	case EP_TABLE:
		ep_print_table(f, &snap);
		break;
	case EP_ONE:
		ep_print_one(f, &snap.ns[0]);
		break;
	case EP_JSON:
		ep_print_json(f, &snap);
		break;
	case EP_PROMETHEUS:
		ep_print_prometheus(f, &snap);
		break;
	}
	ep_snap_free(&snap);
	return 0;
}

/* Like watch(1): a header, the output, again every interval, in place. */
static int watch(enum ep_format fmt, unsigned long inum, double interval)
{
	struct timespec ts = {
		.tv_sec = (time_t)interval,
		.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
	};

	for (;;) {
		char *text = NULL, stamp[64];
		size_t len = 0;
		time_t now = time(NULL);
		FILE *f = open_memstream(&text, &len);

		if (!f) {
			ep_err("out of memory");
			return 1;
		}
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S",
			 localtime(&now));
		fprintf(f, "Every %gs: ephportstat%*s\n\n", interval,
			(int)(79 - 21 - 2), stamp);
		if (show(f, fmt, inum)) {
			fclose(f);
			free(text);
			return 1;
		}
		fclose(f);
		/* Home, the new text, then clear whatever the old one left. */
		printf("\033[H%s\033[J", text);
		fflush(stdout);
		free(text);
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "watch", required_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "dests", no_argument, NULL, 'd' },
		{ "root", required_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum ep_format fmt = EP_TABLE;
	const char *only = NULL;
	unsigned long inum = 0;
	double interval = 0;
	bool dests = false;
	char *end;
	int c;

	if (getenv("EPHPORTSTAT_ROOT"))
		ep_root = getenv("EPHPORTSTAT_ROOT");
	while ((c = getopt_long(argc, argv, "n:w:jpdVh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			only = optarg;
			break;
		case 'w':
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno || *end || !(interval >= 0.1 && interval <= 86400)) {
				ep_err("-w wants seconds, 0.1 to 86400: '%s'", optarg);
				return 2;
			}
			break;
		case 'j':
			fmt = EP_JSON;
			break;
		case 'p':
			fmt = EP_PROMETHEUS;
			break;
		case 'd':
			dests = true;
			break;
		case 'r':
			ep_root = optarg;
			break;
		case 'V':
			printf("ephportstat %s\n", EPHPORTSTAT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		ep_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (strlen(ep_root) > 1024) {
		ep_err("--root: path too long");
		return 2;
	}
	if (interval && (fmt == EP_JSON || fmt == EP_PROMETHEUS)) {
		ep_err("-w refreshes the table or -n, not --json or --prometheus");
		return 2;
	}

	if (dests && (interval || fmt != EP_TABLE)) {
		ep_err("--dests prints a table: not with -w, --json or --prometheus");
		return 2;
	}
	if (only) {
		if (!ep_loaded() || ep_resolve(only, &inum))
			return 1;
		if (fmt == EP_TABLE)
			fmt = EP_ONE;
	}
	if (dests)
		return ep_print_dests(stdout, inum);
	if (interval)
		return watch(fmt, inum, interval);
	return show(stdout, fmt, inum);
}
