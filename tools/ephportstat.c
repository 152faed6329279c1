// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: ephport's per-namespace ephemeral port usage, for people
 * (a table, one namespace in full) and for machines (JSON, Prometheus).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
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
"usage: ephportstat [-n NAME|INUM|PID] [--json | --prometheus | --textfile PATH]\n"
"                   [-w SECONDS [-c COUNT]] [--skip-idle]\n"
"                   [--histogram full|coarse|none] [--root DIR]\n"
"       ephportstat --dests [-n NAME|INUM|PID | --all] [--json]\n"
"       ephportstat --events [-n NAME|INUM|PID] [--json] [-c COUNT]\n"
"\n"
"Shows ephport's view of every network namespace (from /sys/kernel/ephport):\n"
"ephemeral ports in use per protocol and their share of the namespace's\n"
"ip_local_port_range, the headroom connect() has left toward the busiest TCP\n"
"destination (range - reserved ports - ports held toward it), peaks, failed\n"
"port assignments, mode and alarm. What runs out first comes first: the\n"
"largest share in use, of either protocol or toward one destination. A\n"
"namespace is named by its ip netns name (/run/netns), else the name of\n"
"another mount of it (/run/docker/netns/NAME),\n"
"\"host\" for the namespace of PID 1, else \"PID/comm\" of the lowest PID in it;\n"
"the inode number (as in lsns -t net) is under the name. Who may not read\n"
"/sys/kernel/ephport (a user, a container) sees its own namespace, from\n"
"/proc/net/ephport.\n"
"\n"
"  -n, --netns X      only namespace X, in full (search-time histogram too):\n"
"                     an ip netns or mount name, \"host\", an inode or a PID\n"
"  -w, --watch S      again every S seconds: the table and -n with the\n"
"                     counters' changes since the previous screen (the first:\n"
"                     since load), in place and fitted on a terminal, one\n"
"                     after the other elsewhere; --json one object per line;\n"
"                     --textfile rewrites the file\n"
"  -c, --count N      with -w: stop after N times\n"
"  -j, --json         print JSON (keys are the sysfs file names)\n"
"  -p, --prometheus   print Prometheus' text format\n"
"      --textfile P   write it to file P for node_exporter's textfile\n"
"                     collector, atomically (a temporary file in P's\n"
"                     directory, fsync, rename), mode 0644; when ephport\n"
"                     cannot be read, P says ephport_up 0\n"
"      --skip-idle    leave out the namespaces with no port in use, no failed\n"
"                     port assignment, no self-connect and no alarm\n"
"      --histogram H  the search-time histogram in Prometheus' output: full\n"
"                     (23 buckets), coarse (every fourth: 6) or none\n"
"  -d, --dests        the TCP destinations toward which the namespace (ours,\n"
"                     or -n's) holds the most ports, and the headroom left\n"
"                     toward each (/proc/net/ephport_dests); a table or --json\n"
"  -a, --all          with --dests: every namespace\n"
"  -e, --events       follow ephport's tracepoints live: each port assignment\n"
"                     that found no port, each TCP self-connect, one a line\n"
"                     (--json: JSON lines) with the namespace's name and the\n"
"                     workload of the process's cgroup; -c COUNT events\n"
"      --root DIR     read DIR/sys, DIR/proc and DIR/run instead of /sys, /proc\n"
"                     and /run (a test tree); also $EPHPORTSTAT_ROOT\n"
"  -V, --version      print ephportstat's version\n"
"  -h, --help         this help\n"
"\n"
"A value the module does not give (\"unsupported\" on this kernel, or no file)\n"
"is shown as \"-\" (null in JSON, absent in Prometheus). Exits 1 if ephport is\n"
"not loaded, a namespace's files cannot be read (nothing else is printed; the\n"
"textfile says ephport_up 0) or the output cannot be written, 2 on bad usage.\n");
}

/* What to show and how often. */
struct ep_run {
	enum ep_format fmt;
	unsigned long inum;	/* -n's namespace, 0: all */
	const char *textfile;	/* --textfile, or NULL */
	double interval;	/* -w, 0: once */
	long count;		/* -c, 0: for ever */
	double last_success;	/* --textfile: the last good collection, 0: none yet */
	bool skip_idle;		/* --skip-idle */
	enum ep_hist hist;	/* --histogram */
};

/* Print one snapshot (prev: the last screen's in watch mode, or NULL). */
static void print(FILE *f, const struct ep_run *run, const struct ep_snap *snap,
		  const struct ep_snap *prev)
{
	bool watch = run->interval > 0;

	switch (run->fmt) {
	case EP_TABLE:
		ep_print_table(f, snap, watch, prev);
		break;
	case EP_ONE:
		ep_print_one(f, &snap->ns[0], watch, prev);
		break;
	case EP_JSON:
		ep_print_json(f, snap, watch);
		break;
	case EP_PROMETHEUS:
		ep_print_prometheus(f, snap);
		break;
	}
}

/* A snapshot, named, with its headroom, sorted; 0, or 1 (said). */
static int take(struct ep_snap *snap, unsigned long inum,
		const struct ep_run *run)
{
	if (ep_snapshot(snap, inum))
		return 1;
	if (run->skip_idle && !inum)
		ep_drop_idle(snap);
	snap->hist = run->hist;
	ep_name_all(snap);
	ep_workload_all(snap);
	ep_headroom_all(snap);
	ep_sort(snap);
	return 0;
}

/* The directory of path, for a temporary file beside it. */
static void dir_of(char *dir, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * Replace path with text so that a reader (node_exporter) sees the old
 * file or the new one, whole, never a part: a temporary file in the same
 * directory (a name node_exporter ignores: hidden, not *.prom), written,
 * fsync()ed and renamed over path, then the directory fsync()ed so the
 * rename survives a crash. 0, or 1 (said, the temporary file removed).
 */
static int write_textfile(const char *path, const char *text, size_t len)
{
	char dir[4096], tmp[4096 + 32];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *what = "write";
	size_t done = 0;
	int fd, dfd;

	if (!*base || strlen(path) >= sizeof(dir)) {
		ep_err("--textfile: not a file name: '%s'", path);
		return 1;
	}
	dir_of(dir, sizeof(dir), path);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ep_err("cannot create a file in %s: %s", dir, strerror(errno));
		return 1;
	}
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto err;
		done += n;
	}
	what = "fsync";
	if (fsync(fd))
		goto err;
	/* As any file node_exporter reads, whoever writes it (umask aside). */
	what = "chmod";
	if (fchmod(fd, 0644))
		goto err;
	what = "close";
	if (close(fd)) {
		fd = -1;
		goto err;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path))
		goto err;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err:
	ep_err("cannot write %s (%s %s): %s", path, what, tmp,
	       errno ? strerror(errno) : "short write");
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return 1;
}

/*
 * What was printed reached standard output: 0, or 1 (said). A full disk
 * or a closed pipe must not look like a success to whoever runs us.
 */
static int flush_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	ep_err("cannot write to standard output: %s",
	       errno ? strerror(errno) : "error");
	clearerr(stdout);
	return 1;
}

/*
 * The time of the last collection that succeeded, from a textfile written
 * before: 0 if there is none.
 */
static double last_success_in(const char *path)
{
	static const char key[] = "ephport_last_success_timestamp_seconds ";
	char *line = NULL;
	size_t cap = 0;
	double t = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (!strncmp(line, key, sizeof(key) - 1))
			t = strtod(line + sizeof(key) - 1, NULL);
	free(line);
	fclose(f);
	return t;
}

/* What f (an open_memstream() of text) holds, to the textfile; 0 or 1 (said). */
static int write_memstream(const struct ep_run *run, FILE *f, char **text,
			   size_t *len)
{
	int ret;

	if (fclose(f)) {
		free(*text);
		ep_err("out of memory");
		return 1;
	}
	ret = write_textfile(run->textfile, *text, *len);
	free(*text);
	return ret;
}

/*
 * A collection failed: the textfile says so (ephport_up 0, and when the
 * last one succeeded) instead of keeping values that are no longer
 * current. Returns 1, the collection's failure.
 */
static int write_down(struct ep_run *run)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!run->last_success)
		run->last_success = last_success_in(run->textfile);
	f = open_memstream(&text, &len);
	if (!f) {
		ep_err("out of memory");
		return 1;
	}
	ep_print_prometheus_down(f, run->last_success);
	write_memstream(run, f, &text, &len);
	return 1;
}

/* One snapshot printed to stdout, or written to the textfile. */
static int once(struct ep_run *run)
{
	struct ep_snap snap;
	char *text = NULL;
	size_t len = 0;
	double when;
	FILE *f;
	int ret;

	if (take(&snap, run->inum, run))
		return run->textfile ? write_down(run) : 1;
	if (!run->textfile) {
		print(stdout, run, &snap, NULL);
		ep_snap_free(&snap);
		return flush_stdout();
	}
	f = open_memstream(&text, &len);
	if (!f) {
		ep_snap_free(&snap);
		ep_err("out of memory");
		return 1;
	}
	print(f, run, &snap, NULL);
	when = snap.when.tv_sec + snap.when.tv_nsec / 1e9;
	ep_snap_free(&snap);
	ret = write_memstream(run, f, &text, &len);
	if (!ret)
		run->last_success = when;
	return ret;
}

static void pause_for(double interval)
{
	struct timespec ts = {
		.tv_sec = (time_t)interval,
		.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The terminal's rows and columns (24 x 80 if it does not say), or 0 x 0
 * if standard output is not a terminal.
 */
static void terminal_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = *cols = 0;
	if (!isatty(STDOUT_FILENO))
		return;
	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* The bytes of the first cols characters of line (UTF-8), at most len. */
static size_t first_columns(const char *line, size_t len, int cols)
{
	size_t i;
	int chars = 0;

	for (i = 0; i < len; i++) {
		/* A byte that starts a character, not one that continues one. */
		if (((unsigned char)line[i] & 0xc0) != 0x80 && chars++ == cols)
			break;
	}
	return i;
}

/*
 * One screen on a terminal of rows x cols: from its top, each line cut to
 * the width and cleared to its end, what is below cleared too, so nothing
 * of a longer screen stays (no "ONf" where "off" became "ON"). At most
 * rows - 1 lines, the last of them saying what did not fit.
 */
static void draw(const char *text, int rows, int cols)
{
	const char *line, *nl;
	int n = 0, total = 0;

	for (line = text; *line; line = nl + 1, total++)
		if (!(nl = strchr(line, '\n')))
			break;
	fputs("\033[H", stdout);
	for (line = text; *line && n < rows - 1; line = nl + 1, n++) {
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (n == rows - 2 && total > rows - 1) {
			char more[80];

			snprintf(more, sizeof(more),
				 "(%d more lines: a taller terminal shows them)",
				 total - n);
			fwrite(more, 1, first_columns(more, strlen(more), cols),
			       stdout);
			fputs("\033[K\n", stdout);
			break;
		}
		fwrite(line, 1, first_columns(line, len, cols), stdout);
		fputs("\033[K\n", stdout);
		if (!nl)
			break;
	}
	fputs("\033[J", stdout);
}

/*
 * Like watch(1): a header and the table (or -n), again every interval,
 * redrawn in place on a terminal (fitted to its size: the table shows the
 * namespaces that fit, the fullest), one screen after the other,
 * without escape sequences, in a pipe or a file. The counters' columns
 * count since the previous screen, like vmstat.
 */
static int watch_screen(struct ep_run *run)
{
	struct ep_snap prev = { 0 }, snap;
	bool have_prev = false;
	int rows, cols;
	long n;

	for (n = 0; !run->count || n < run->count; n++) {
		char *text = NULL, stamp[64], head[80];
		size_t len = 0;
		time_t now = time(NULL);
		FILE *f;

		if (n)
			pause_for(run->interval);
		if (take(&snap, run->inum, run))
			goto err;
		f = open_memstream(&text, &len);
		if (!f) {
			ep_err("out of memory");
			ep_snap_free(&snap);
			goto err;
		}
		terminal_size(&rows, &cols);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S",
			 localtime(&now));
		snprintf(head, sizeof(head),
			 "Every %gs: ephportstat, counts since the %s",
			 run->interval,
			 have_prev ? "last screen" : "module loaded");
		fprintf(f, "%s%*s\n\n", head, 79 - (int)strlen(head), stamp);
		/*
		 * The namespaces that fit, if not all do: rows less the
		 * header's 2 lines, the table's 2, the cursor's line and
		 * one to say what is left out; 2 lines a namespace.
		 */
		snap.fit = 0;
		if (rows && snap.nr * 2 > rows - 5)
			snap.fit = rows > 7 ? (rows - 6) / 2 : 1;
		print(f, run, &snap, have_prev ? &prev : NULL);
		fclose(f);
		if (rows) {
			draw(text, rows, cols);
		} else {
			if (n)
				putchar('\n');
			fputs(text, stdout);
		}
		free(text);
		if (flush_stdout()) {
			ep_snap_free(&snap);
			goto err;
		}
		if (have_prev)
			ep_snap_free(&prev);
		prev = snap;
		have_prev = true;
	}
	if (have_prev)
		ep_snap_free(&prev);
	return 0;
err:
	if (have_prev)
		ep_snap_free(&prev);
	return 1;
}

/*
 * JSON: one object per line, as a stream. The textfile: rewritten every
 * interval; a round that fails (ephport unloaded for a while) writes
 * ephport_up 0 and goes on: the next may succeed. A trouble is said once,
 * when it starts, not every round, and its end too.
 */
static int watch_lines(struct ep_run *run)
{
	bool failing = false;
	int ret = 0;
	long n;

	if (run->textfile)
		ep_err_quiet_repeats(true);
	for (n = 0; !run->count || n < run->count; n++) {
		if (n)
			pause_for(run->interval);
		ret = once(run);
		if (ret && !run->textfile)
			return ret;
		if (!ret && failing) {
			ep_err_quiet_repeats(false);
			ep_err("%s is written again", run->textfile);
			ep_err_quiet_repeats(true);
		}
		failing = ret;
	}
	return ret;
}

/*
 * --dests: the destinations of -n's namespace, of every one (all), or of
 * our own; 0, or 1 (said).
 */
static int print_dests(const struct ep_run *run, bool all)
{
	unsigned long own = 0;
	struct ep_snap snap;
	char path[2048];
	int i, kept = 0, ret = 0;

	if (!run->inum && !all &&
	    !ep_path(path, sizeof(path), "/proc/self/ns/net"))
		own = ep_link_inum(path);
	if (take(&snap, run->inum ? run->inum : own, run))
		return 1;
	for (i = 0; i < snap.nr; i++) {
		struct ep_ns *ns = &snap.ns[i];

		if (ep_read_dests(ns) && !all)
			ret = 1;
		snap.ns[kept++] = *ns;
	}
	snap.nr = kept;
	if (!ret) {
		if (run->fmt == EP_JSON)
			ep_print_dests_json(stdout, &snap);
		else
			ep_print_dests_table(stdout, &snap);
		ret = flush_stdout();
	}
	ep_snap_free(&snap);
	return ret;
}

static volatile sig_atomic_t stopped;

static void stop(int sig)
{
	(void)sig;
	stopped = 1;
}

/*
 * The namespace's name and workload for an event: from the last
 * snapshot, taken again (at most once a second) for a namespace it does
 * not have yet.
 */
static const struct ep_ns *event_ns(struct ep_snap *snap, bool *have,
				    time_t *when, unsigned long inum,
				    const struct ep_run *run)
{
	int i;

	for (i = 0; *have && i < snap->nr; i++)
		if (snap->ns[i].inum == inum)
			return &snap->ns[i];
	if (*have && time(NULL) == *when)
		return NULL;
	if (*have)
		ep_snap_free(snap);
	*have = !take(snap, 0, run);
	*when = time(NULL);
	for (i = 0; *have && i < snap->nr; i++)
		if (snap->ns[i].inum == inum)
			return &snap->ns[i];
	return NULL;
}

/*
 * --events: each failure and self-connect as it happens, with its
 * namespace's name and its process's workload (from the event's cgroup,
 * else the namespace's), until a signal or -c COUNT events. 0, or 1.
 */
static int follow_events(const struct ep_run *run)
{
	struct sigaction sa = { .sa_handler = stop };
	char cgpath[4096], workload[96];
	struct ep_snap snap = { 0 };
	struct ep_trace *t;
	struct ep_event ev;
	bool have = false;
	time_t when = 0;
	int ret = 0, r;
	long n = 0;

	/* No SA_RESTART: a signal ends the read of trace_pipe. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	t = malloc(sizeof(*t));
	if (!t) {
		ep_err("out of memory");
		return 1;
	}
	if (!ep_loaded() || ep_trace_open(t)) {
		free(t);
		return 1;
	}
	if (run->fmt != EP_JSON)
		ep_print_event_header(stdout);
	ret = flush_stdout();
	while (!ret && !stopped && (!run->count || n < run->count)) {
		const struct ep_ns *ns;

		r = ep_trace_next(t, &ev);
		if (r <= 0) {
			ret = r < 0;
			break;
		}
		if (run->inum && ev.netns != run->inum)
			continue;
		ns = event_ns(&snap, &have, &when, ev.netns, run);
		cgpath[0] = workload[0] = '\0';
		if (ev.cgroup && !ep_cgroup_path(ev.cgroup, cgpath, sizeof(cgpath)))
			ep_workload_of(cgpath, workload, sizeof(workload));
		if (!workload[0] && ns)
			snprintf(workload, sizeof(workload), "%s", ns->workload);
		if (run->fmt == EP_JSON)
			ep_print_event_json(stdout, &ev, ns && ns->naming != EP_NAMED_NONE ?
					    ns->name : NULL, workload, cgpath);
		else
			ep_print_event(stdout, &ev, ns && ns->naming != EP_NAMED_NONE ?
				       ns->name : NULL, workload);
		ret = flush_stdout();
		n++;
	}
	ep_trace_close(t);
	free(t);
	if (have)
		ep_snap_free(&snap);
	return ret;
}

/* A number option: 0, or 2 (said) if arg is not in [min, max]. */
static int number(const char *opt, const char *arg, double min, double max,
		  double *v)
{
	char *end;

	errno = 0;
	*v = strtod(arg, &end);
	if (errno || end == arg || *end || !(*v >= min && *v <= max)) {
		ep_err("%s wants %g to %g: '%s'", opt, min, max, arg);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_TEXTFILE, OPT_SKIP_IDLE, OPT_HISTOGRAM };
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "skip-idle", no_argument, NULL, OPT_SKIP_IDLE },
		{ "histogram", required_argument, NULL, OPT_HISTOGRAM },
		{ "dests", no_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ "events", no_argument, NULL, 'e' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ep_run run = { .fmt = EP_TABLE };
	const char *only = NULL;
	double v;
	bool dests = false, all = false, events = false;
	int c;

	if (getenv("EPHPORTSTAT_ROOT"))
		ep_root = getenv("EPHPORTSTAT_ROOT");
	while ((c = getopt_long(argc, argv, "n:w:c:jpdaeVh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			only = optarg;
			break;
		case 'w':
			if (number("-w", optarg, 0.1, 86400, &run.interval))
				return 2;
			break;
		case 'c':
			if (number("-c", optarg, 1, 1e9, &v))
				return 2;
			run.count = (long)v;
			if (run.count != v) {
				ep_err("-c wants a whole number: '%s'", optarg);
				return 2;
			}
			break;
		case 'j':
		case 'p':
		case OPT_TEXTFILE:
			if (run.fmt != EP_TABLE) {
				ep_err("one of --json, --prometheus and --textfile");
				return 2;
			}
			run.fmt = c == 'j' ? EP_JSON : EP_PROMETHEUS;
			if (c == OPT_TEXTFILE)
				run.textfile = optarg;
			break;
		case 'd':
			dests = true;
			break;
		case 'a':
			all = true;
			break;
		case 'e':
			events = true;
			break;
		case OPT_ROOT:
			ep_root = optarg;
			break;
		case OPT_SKIP_IDLE:
			run.skip_idle = true;
			break;
		case OPT_HISTOGRAM:
			if (!strcmp(optarg, "full")) {
				run.hist = EP_HIST_FULL;
			} else if (!strcmp(optarg, "coarse")) {
				run.hist = EP_HIST_COARSE;
			} else if (!strcmp(optarg, "none")) {
				run.hist = EP_HIST_NONE;
			} else {
				ep_err("--histogram wants full, coarse or none: '%s'", optarg);
				return 2;
			}
			break;
		case 'V':
			printf("ephportstat %s\n", EPHPORTSTAT_VERSION);
			return flush_stdout();
		case 'h':
			usage(stdout);
			return flush_stdout();
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
	if (run.count && !run.interval && !events) {
		ep_err("-c counts the times of -w, or the events of --events");
		return 2;
	}
	if (events && (run.interval || dests || run.fmt == EP_PROMETHEUS)) {
		ep_err("--events prints lines, or JSON lines: not with -w, --dests, --prometheus or --textfile");
		return 2;
	}
	if (run.interval && run.fmt == EP_PROMETHEUS && !run.textfile) {
		ep_err("-w refreshes the table, -n, --json or --textfile, not --prometheus");
		return 2;
	}

	if (dests && (run.interval || run.fmt == EP_PROMETHEUS)) {
		ep_err("--dests prints a table or --json: not with -w, --prometheus or --textfile");
		return 2;
	}
	if (all && (!dests || only)) {
		ep_err("--all goes with --dests, without -n");
		return 2;
	}
	if (only) {
		if (!ep_loaded() || ep_resolve(only, &run.inum))
			return 1;
		if (run.fmt == EP_TABLE && !dests && !events)
			run.fmt = EP_ONE;
	}
	if (dests)
		return print_dests(&run, all);
	if (events)
		return follow_events(&run);
	if (!run.interval)
		return once(&run);
	if (run.fmt == EP_TABLE || run.fmt == EP_ONE)
		return watch_screen(&run);
	return watch_lines(&run);
}
