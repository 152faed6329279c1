// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: Prometheus' text format (--prometheus, for
 * node_exporter's textfile collector); label values escaped, bytes that
 * are not UTF-8 as U+FFFD.
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

/* ---- Prometheus text format (node_exporter's textfile collector) ---- */

/*
 * A label value as the text format wants it: '\\', '"' and newlines
 * escaped, valid UTF-8 as it is, each byte that is not UTF-8 as U+FFFD
 * (the format is UTF-8: Prometheus drops a file that is not).
 */
static void prom_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;

	while (*p) {
		int n = utf8_seq(p, &cp);

		if (!n) {
			fputs("\xef\xbf\xbd", f);
			n = 1;
		} else if (*p == '\\' || *p == '"') {
			fprintf(f, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
}

static void prom_family(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP ephport_%s %s\n# TYPE ephport_%s %s\n",
		name, help, name, type);
}

/*
 * "ephport_NAME{netns="..."" with the brace left open. A namespace's
 * series carry only its inode, stable while it lives: its name, which can
 * change, is on ephport_netns_info alone.
 */
static void prom_start(FILE *f, const char *name, const struct ep_ns *ns)
{
	fprintf(f, "ephport_%s{netns=\"%lu\"", name, ns->inum);
}

/* The names, the info-metric way: join on netns to label a series. */
static void prom_info(FILE *f, const struct ep_snap *snap)
{
	int i;

	if (!snap->nr)
		return;
	prom_family(f, "netns_info", "gauge",
		    "A namespace's name (ip netns, mount, host or PID/comm) and workload (from its lowest PID's cgroup: pod:UID/ID, docker:ID, unit:NAME...); empty if none; 1.");
	for (i = 0; i < snap->nr; i++) {
		const struct ep_ns *ns = &snap->ns[i];

		prom_start(f, "netns_info", ns);
		fputs(",name=\"", f);
		if (ns->naming != EP_NAMED_NONE)
			prom_escaped(f, ns->name);
		fputs("\",workload=\"", f);
		prom_escaped(f, ns->workload);
		fputs("\"} 1\n", f);
	}
}

static void prom_ns_gauge(FILE *f, const struct ep_snap *snap,
			  const char *name, const char *help,
			  long long (*get)(const struct ep_ns *))
{
	int i;

	prom_family(f, name, "gauge", help);
	for (i = 0; i < snap->nr; i++) {
		long long v = get(&snap->ns[i]);

		if (v == EP_NONE)
			continue;
		prom_start(f, name, &snap->ns[i]);
		fprintf(f, "} %lld\n", v);
	}
}

static long long get_lo(const struct ep_ns *ns) { return ns->lo; }
static long long get_hi(const struct ep_ns *ns) { return ns->hi; }
static long long get_reserved(const struct ep_ns *ns) { return ns->reserved; }

static void prom_fields(FILE *f, const struct ep_snap *snap)
{
	int i, j, k;

	for (i = 0; i < NSHOWN; i++) {
		const struct ep_shown *d = &shown[i];
		bool first = true;

		for (j = 0; j < i; j++)
			if (!strcmp(shown[j].metric, d->metric))
				break;
		if (j < i)
			continue;	/* printed with its family */
		for (j = i; j < NSHOWN; j++) {
			const struct ep_shown *e = &shown[j];

			if (strcmp(e->metric, d->metric))
				continue;
			for (k = 0; k < snap->nr; k++) {
				long long v = snap->ns[k].val[e->field];

				if (v == EP_NONE)
					continue;
				if (first)
					prom_family(f, d->metric,
						    d->kind == EP_PROM_COUNTER ?
						    "counter" : "gauge", d->help);
				first = false;
				prom_start(f, d->metric, &snap->ns[k]);
				if (e->proto)
					fprintf(f, ",proto=\"%s\"", e->proto);
				if (e->field == EP_REUSE_DELAY_MS)
					fprintf(f, "} %lld.%03lld\n",
						v / 1000, v % 1000);
				else
					fprintf(f, "} %lld\n", v);
			}
		}
	}
}

/* The connect()s left toward each namespace's busiest destination. */
static void prom_headroom(FILE *f, const struct ep_snap *snap)
{
	bool first = true;
	int i;

	for (i = 0; i < snap->nr; i++) {
		if (snap->ns[i].dest_headroom == EP_NONE)
			continue;
		if (first)
			prom_family(f, "dest_headroom_ports", "gauge",
				    "Ports of the range still free toward the busiest TCP destination: range - reserved - held toward it.");
		first = false;
		prom_start(f, "dest_headroom_ports", &snap->ns[i]);
		fprintf(f, ",proto=\"tcp\"} %lld\n", snap->ns[i].dest_headroom);
	}
}

/* Each hook: registered or not, and its hits and misses. */
static void prom_probes(FILE *f, const struct ep_snap *snap)
{
	static const char *const help[] = {
		"1 if the hook's probe is registered, 0 if unsupported on this kernel.",
		"Times the hook's probe ran.",
		"Times the hook's probe was skipped (nmissed): values may miss events.",
	};
	static const char *const names[] = {
		"probe_registered", "probe_hits_total", "probe_missed_total",
	};
	int m, i;

	for (m = 0; m < 3 && snap->nprobes > 0; m++) {
		prom_family(f, names[m], m ? "counter" : "gauge", help[m]);
		for (i = 0; i < snap->nprobes; i++) {
			const struct ep_probe *p = &snap->probes[i];
			long long v = m == 0 ? p->registered :
				      m == 1 ? p->hits : p->nmissed;

			if (v == EP_NONE)
				continue;
			fprintf(f, "ephport_%s{symbol=\"", names[m]);
			prom_escaped(f, p->symbol);
			fprintf(f, "\"} %lld\n", v);
		}
	}
}

/* The effective mode, the info-metric way: value 1, the mode a label. */
static void prom_mode(FILE *f, const struct ep_snap *snap)
{
	bool first = true;
	int i;

	for (i = 0; i < snap->nr; i++) {
		if (!snap->ns[i].mode[0])
			continue;
		if (first)
			prom_family(f, "mode", "gauge",
				    "The namespace's effective port selection mode (the mode label).");
		first = false;
		prom_start(f, "mode", &snap->ns[i]);
		fputs(",mode=\"", f);
		prom_escaped(f, snap->ns[i].mode);
		fputs("\"} 1\n", f);
	}
}

/* whole + frac / 10^digits, exactly, without trailing zeros. */
static const char *decimal(char *buf, size_t size, unsigned long long whole,
			   unsigned long long frac, int digits)
{
	size_t n;

	snprintf(buf, size, "%llu.%0*llu", whole, digits, frac);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/* Nanoseconds as exact decimal seconds: 1024 -> "0.000001024". */
static const char *seconds(char *buf, size_t size, unsigned long long ns)
{
	return decimal(buf, size, ns / 1000000000, ns % 1000000000, 9);
}

/*
 * A bound the coarse histogram keeps: 1024 ns times a power of 16 (1 us,
 * 16 us, 262 us, 4 ms, 67 ms, 1 s).
 */
static bool coarse(unsigned long long le)
{
	int shift;

	if (le < 1024 || (le & (le - 1)))
		return false;
	shift = __builtin_ctzll(le) - 10;
	return shift % 4 == 0;
}

/* The log2 search-time buckets as a histogram in seconds. */
static void prom_hist(FILE *f, const struct ep_snap *snap)
{
	const char *name = "connect_search_seconds";
	char le[48];
	bool first = true;
	int i, k;

	for (k = 0; k < snap->nr; k++) {
		const struct ep_ns *ns = &snap->ns[k];
		unsigned long long cum = 0;

		if (ns->nhist < 0 || snap->hist == EP_HIST_NONE)
			continue;
		if (first)
			prom_family(f, name, "histogram",
				    "Time the kernel spent choosing a port for connect().");
		first = false;
		for (i = 0; i < ns->nhist; i++) {
			cum += ns->hist[i].count;
			/* The last bucket also holds everything longer. */
			if (!ns->hist[i].le || i == ns->nhist - 1)
				continue;
			if (snap->hist == EP_HIST_COARSE && !coarse(ns->hist[i].le))
				continue;
			prom_start(f, "connect_search_seconds_bucket", ns);
			fprintf(f, ",proto=\"tcp\",le=\"%s\"} %llu\n",
				seconds(le, sizeof(le), ns->hist[i].le), cum);
		}
		prom_start(f, "connect_search_seconds_bucket", ns);
		fprintf(f, ",proto=\"tcp\",le=\"+Inf\"} %llu\n", cum);
		if (ns->search_sum != EP_NONE) {
			prom_start(f, "connect_search_seconds_sum", ns);
			fprintf(f, ",proto=\"tcp\"} %s\n",
				seconds(le, sizeof(le), ns->search_sum));
		}
		prom_start(f, "connect_search_seconds_count", ns);
		fprintf(f, ",proto=\"tcp\"} %llu\n", cum);
	}
}

/* Whether the values were read, and when they last were. */
static void prom_up(FILE *f, int up, const char *last_success)
{
	prom_family(f, "up", "gauge",
		    "1 if ephportstat read ephport's values, 0 if it could not (module not loaded, files unreadable).");
	fprintf(f, "ephport_up %d\n", up);
	if (!last_success)
		return;
	prom_family(f, "last_success_timestamp_seconds", "gauge",
		    "When ephportstat last read ephport's values, in Unix seconds.");
	fprintf(f, "ephport_last_success_timestamp_seconds %s\n", last_success);
}

void ep_print_prometheus_down(FILE *f, double last_success)
{
	char when[48];

	snprintf(when, sizeof(when), "%.3f", last_success);
	prom_up(f, 0, last_success > 0 ? when : NULL);
}

void ep_print_prometheus(FILE *f, const struct ep_snap *snap)
{
	char when[48];

	snprintf(when, sizeof(when), "%lld.%03ld", (long long)snap->when.tv_sec,
		 snap->when.tv_nsec / 1000000);
	prom_up(f, 1, when);
	fprintf(f, "# HELP ephport_info The ephport module's version.\n"
		"# TYPE ephport_info gauge\nephport_info{version=\"");
	prom_escaped(f, snap->version);
	fprintf(f, "\"} 1\n");
	if (snap->netns != EP_NONE) {
		prom_family(f, "netns", "gauge",
			    "Network namespaces ephport tracks.");
		fprintf(f, "ephport_netns %lld\n", snap->netns);
	}
	if (snap->alarm_pct != EP_NONE) {
		char ratio[48];

		prom_family(f, "alarm_threshold_ratio", "gauge",
			    "Share of the range (0-1, alarm_pct / 100) above which a namespace's alarm is raised.");
		fprintf(f, "ephport_alarm_threshold_ratio %s\n",
			decimal(ratio, sizeof(ratio), snap->alarm_pct / 100,
				snap->alarm_pct % 100, 2));
	}
	if (snap->alarm_basis[0]) {
		prom_family(f, "alarm_basis", "gauge",
			    "What drives the TCP alarm (the basis label): ports (distinct ports in use) or dest (ports held toward the busiest destination), 1.");
		fputs("ephport_alarm_basis{basis=\"", f);
		prom_escaped(f, snap->alarm_basis);
		fputs("\"} 1\n", f);
	}
	prom_probes(f, snap);
	prom_info(f, snap);
	prom_ns_gauge(f, snap, "range_low", "Lowest port of the namespace's ip_local_port_range.", get_lo);
	prom_ns_gauge(f, snap, "range_high", "Highest port of the namespace's ip_local_port_range.", get_hi);
	prom_ns_gauge(f, snap, "range_ports", "Ports in the namespace's ip_local_port_range.", range_size);
	prom_ns_gauge(f, snap, "reserved_ports", "Ports of the range in ip_local_reserved_ports (never chosen by the kernel).", get_reserved);
	prom_fields(f, snap);
	prom_headroom(f, snap);
	prom_mode(f, snap);
	prom_hist(f, snap);
}
