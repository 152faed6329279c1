/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephportstat: ephport's sysfs tree, per network namespace, by name.
 *
 * main (ephportstat.c) reads a snapshot (snapshot.c), names its namespaces
 * (names.c) and prints it (output*.c). These parts share the types below
 * and use only util.c (errors, paths, the fields' file names), never each
 * other.
 */
#ifndef _EPHPORTSTAT_H
#define _EPHPORTSTAT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/*
 * No value: the file says "unsupported" (the kernel lacks what the module
 * needs to count it), holds no number, or is not there (a namespace read
 * while ephport adds or removes its files).
 */
#define EP_NONE		(-1LL)

/*
 * The per-namespace files that hold one number, X(ID, file) like the
 * module's counter lists: what a namespace is at (ports in use, peaks,
 * alarm, reuse delay, resting ports), then the module's event counters,
 * named once in module/ephport_counters.h.
 */
#define EP_STATE_FIELDS(X)			\
	X(TCP_IN_USE, tcp_in_use)		\
	X(UDP_IN_USE, udp_in_use)		\
	X(TCP_PEAK, tcp_peak)			\
	X(UDP_PEAK, udp_peak)			\
	X(ALARM, alarm)				\
	X(REUSE_DELAY_MS, reuse_delay_ms)	\
	X(RESTING, resting)			\
	X(TCP_DEST_MAX, tcp_dest_max)

/* The tool's own fields, then the module's counters, in this order. */
#define EP_FIELD_ID(id, file)	EP_##id,
enum ep_field {
	EP_STATE_FIELDS(EP_FIELD_ID)
#define EPHPORT_OBSERVE_COUNTER(id, name)	EP_##id,
#define EPHPORT_RANDOM_COUNTER(id, name)	EP_##id,
#include "../module/ephport_counters.h"
	EP_NFIELDS,
};
#undef EP_FIELD_ID

/* util.c: each field's file in /sys/kernel/ephport/net/<inum>/ */
extern const char *const ep_field_files[EP_NFIELDS];

/* One line of search_ns: connect() port searches that took <= le ns. */
struct ep_bucket {
	unsigned long long le;	/* upper bound in ns; 0: no bound (+Inf) */
	unsigned long long count;
};

#define EP_MAX_BUCKETS	64

/* One line of /proc/net/ephport_dests: a TCP destination. */
struct ep_dest {
	char proto[8];		/* tcp or tcp6 */
	char addr[48];
	unsigned int port;
	long long held, time_wait, headroom;
};

/* What /proc/net/ephport_dests shows of a namespace: at most 32 lines. */
#define EP_MAX_DESTS	32
struct ep_dests {
	int nr;
	struct ep_dest d[EP_MAX_DESTS];
};

/* How a namespace got its name. */
enum ep_naming {
	EP_NAMED_NONE,		/* no name, no process: shown by inode */
	EP_NAMED_NETNS,		/* ip netns (/run/netns/NAME) */
	EP_NAMED_MOUNT,		/* its nsfs file mounted elsewhere (Docker's
				 * /run/docker/netns/NAME): the basename */
	EP_NAMED_HOST,		/* the namespace of PID 1 */
	EP_NAMED_PID,		/* the lowest PID in it, "PID/comm" */
};

/*
 * Names and commands are any bytes but NUL and '/' (a file name) or any
 * but NUL (a comm, a mount point): every output escapes or replaces what
 * its format cannot hold.
 */
struct ep_ns {
	unsigned long inum;
	enum ep_naming naming;
	char name[272];		/* what the table shows */
	char *nsfs;		/* the mounted nsfs file that named it, or NULL */
	int pid;		/* lowest PID in it, 0 if unknown */
	char comm[32];		/* that PID's command name */
	char workload[96];	/* from that PID's cgroup (workload.c), or "" */

	long long lo, hi;	/* range; EP_NONE if absent */
	char mode[32];		/* "" if absent */
	long long val[EP_NFIELDS];
	struct ep_bucket hist[EP_MAX_BUCKETS];
	int nhist;		/* -1: no search_ns file */
	long long search_sum;	/* search_ns_sum, in ns; EP_NONE if absent */

	/*
	 * Ports of the range in ip_local_reserved_ports, and the connect()s
	 * left toward the busiest destination: range - reserved -
	 * tcp_dest_max (0 at least), as the module counts headroom.
	 * EP_NONE while unknown (dests.c says how they are found).
	 */
	long long reserved, dest_headroom;
	struct ep_dests *dests;	/* --dests: the namespace's lines, or NULL */
};

/*
 * How much of the search-time histogram Prometheus gets: every bucket (23
 * and +Inf), every fourth (a factor of 16 apart: 6 and +Inf), or none.
 */
enum ep_hist { EP_HIST_FULL, EP_HIST_COARSE, EP_HIST_NONE };

/* One line of /sys/kernel/ephport/probes. */
struct ep_probe {
	char symbol[64];
	bool registered;
	long long hits, nmissed;	/* EP_NONE if not given */
};

#define EP_MAX_PROBES	32

struct ep_snap {
	struct timespec when;	/* CLOCK_REALTIME, as it was read */
	/*
	 * EP_SYSFS: every namespace. EP_PROC: only the reader's own, from
	 * the world-readable /proc/net/ephport, for a user who may not read
	 * the sysfs tree or a container that does not see it.
	 */
	const char *source;
	char version[64];
	long long netns;	/* /sys/kernel/ephport/netns */
	long long alarm_pct;
	char alarm_basis[16];	/* ports or dest; "" if not given */
	struct ep_probe probes[EP_MAX_PROBES];
	int nprobes;		/* -1: no probes file */
	struct ep_ns *ns;
	int nr;
	int fit;	/* the table's namespaces that fit the terminal, 0: all */
	int idle;	/* namespaces left out as idle (--skip-idle) */
	enum ep_hist hist;	/* the Prometheus histogram's buckets */
};

/* snapshot.c: reads the tree, names nothing */
bool ep_loaded(void);
int ep_snapshot(struct ep_snap *snap, unsigned long only_inum);
void ep_snap_free(struct ep_snap *snap);
/*
 * Leave out the namespaces with nothing to say: no port in use, no port
 * assignment ever failed, no self-connect, no alarm (counted in idle).
 */
void ep_drop_idle(struct ep_snap *snap);

/* names.c: names the namespaces of a snapshot */
void ep_name_all(struct ep_snap *snap);
int ep_resolve(const char *arg, unsigned long *inum);

/*
 * workload.c: the workload of a cgroup v2 path ("pod:UID/ID", "docker:ID",
 * "unit:NAME"...; "" if none) into out; every namespace's, from its lowest
 * PID; the path of cgroup id (as the tracepoints give it): 0, or -1.
 */
void ep_workload_of(const char *path, char *out, size_t size);
void ep_workload_all(struct ep_snap *snap);
int ep_cgroup_path(unsigned long long id, char *path, size_t size);

/* One event of ephport's tracepoints (events.c). */
struct ep_event {
	char event[24];		/* port_fail or self_connect */
	unsigned long netns;
	char op[16], proto[8], family[8];
	char daddr[64];
	int dport, pid;
	char comm[64];
	unsigned long long cgroup;	/* cgroup v2 id, 0 without */
};

/* A tracefs instance of our own, following ephport's events. */
struct ep_trace {
	char dir[2200];
	bool made;
	int fd;
	char buf[8192];
	size_t len;
};

/*
 * events.c: open (make the instance, enable the events; 0, or -1 said),
 * the next event (1; 0 at the end or on a signal; -1 said), close (the
 * events disabled, the instance removed).
 */
int ep_trace_open(struct ep_trace *t);
int ep_trace_next(struct ep_trace *t, struct ep_event *ev);
void ep_trace_close(struct ep_trace *t);

/*
 * dests.c: what a namespace's own /proc shows (its reserved ports, its
 * /proc/net/ephport_dests), read from outside it. ep_headroom_all() fills
 * every namespace's reserved and dest_headroom; ep_read_dests() one
 * namespace's dests (0, or 1 said).
 */
void ep_headroom_all(struct ep_snap *snap);
int ep_read_dests(struct ep_ns *ns);

/*
 * output_*.c: print a named snapshot, a file per format (output.h). In
 * watch mode (watch true) the table and -n show the counters' changes since prev, the previous screen's
 * snapshot (NULL on the first: since the module loaded, like vmstat).
 */
void ep_sort(struct ep_snap *snap);
void ep_print_table(FILE *f, const struct ep_snap *snap, bool watch,
		    const struct ep_snap *prev);
void ep_print_one(FILE *f, const struct ep_ns *ns, bool watch,
		  const struct ep_snap *prev);
void ep_print_json(FILE *f, const struct ep_snap *snap, bool one_line);
/*
 * --events: one event a line, with the names of its namespace (name, or
 * NULL if not known) and workload ("" if none), its cgroup's path ("" if
 * not found); the table's header.
 */
void ep_print_event_header(FILE *f);
void ep_print_event(FILE *f, const struct ep_event *ev, const char *name,
		    const char *workload);
void ep_print_event_json(FILE *f, const struct ep_event *ev, const char *name,
			 const char *workload, const char *cgroup_path);

/* --dests: the namespaces of snap, with their dests (NULL: unreadable). */
void ep_print_dests_table(FILE *f, const struct ep_snap *snap);
void ep_print_dests_json(FILE *f, const struct ep_snap *snap);
void ep_print_prometheus(FILE *f, const struct ep_snap *snap);
/* What a collection that failed leaves: ephport_up 0, and the last good one (0: none). */
void ep_print_prometheus_down(FILE *f, double last_success);

#endif /* _EPHPORTSTAT_H */
