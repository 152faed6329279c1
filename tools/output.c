// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: the four ways of showing a snapshot: a table that fits 80
 * columns, one namespace in full, JSON, and Prometheus' text format.
 */
#include <stdlib.h>
#include <string.h>

#include "ephportstat.h"

static const char *const naming_names[] = {
	[EP_NAMED_NONE] = NULL,
	[EP_NAMED_NETNS] = "netns",
	[EP_NAMED_HOST] = "host",
	[EP_NAMED_PID] = "pid",
};

enum ep_kind { EP_PROM_GAUGE, EP_PROM_COUNTER };

/*
 * The fields --json and --prometheus show, in this order. JSON's key is the
 * field's file name; the Prometheus metric (after "ephport_"), its proto
 * label, type and help are ephportstat's own. The fields of one metric are
 * printed together, under the help of the first. The module's other
 * counters (random_fallback by cause) are read but not shown.
 */
static const struct ep_shown {
	enum ep_field field;
	const char *metric;
	const char *proto;	/* or NULL */
	enum ep_kind kind;
	const char *help;
} shown[] = {
	{ EP_TCP_IN_USE, "ports_in_use", "tcp", EP_PROM_GAUGE,
		"Distinct ports of the ephemeral range bound in the namespace (TIME_WAIT included)." },
	{ EP_UDP_IN_USE, "ports_in_use", "udp", EP_PROM_GAUGE, NULL },
	{ EP_TCP_PEAK, "ports_peak", "tcp", EP_PROM_GAUGE,
		"High-watermark of ports_in_use since the module loaded or the peak was reset." },
	{ EP_UDP_PEAK, "ports_peak", "udp", EP_PROM_GAUGE, NULL },
	{ EP_TCP_CONNECT_OK, "connect_ok_total", "tcp", EP_PROM_COUNTER,
		"connect() calls that got an ephemeral port from the kernel." },
	{ EP_TCP_CONNECT_FAIL, "connect_fail_total", "tcp", EP_PROM_COUNTER,
		"connect() calls that found no free ephemeral port (EADDRNOTAVAIL)." },
	{ EP_TCP_BIND_OK, "bind_ok_total", "tcp", EP_PROM_COUNTER,
		"Kernel-chosen port assignments that succeeded (TCP: bind() to port 0; UDP: autobind)." },
	{ EP_TCP_BIND_FAIL, "bind_fail_total", "tcp", EP_PROM_COUNTER,
		"Kernel-chosen port assignments that failed for lack of a port (TCP: bind() to port 0; UDP: autobind)." },
	{ EP_UDP_OK, "bind_ok_total", "udp", EP_PROM_COUNTER, NULL },
	{ EP_UDP_FAIL, "bind_fail_total", "udp", EP_PROM_COUNTER, NULL },
	{ EP_SELF_CONNECT, "self_connect_total", "tcp", EP_PROM_COUNTER,
		"TCP connections connected to themselves (same address and port on both ends)." },
	{ EP_TCP_DEST_MAX, "dest_ports_held_max", "tcp", EP_PROM_GAUGE,
		"The most ports of the range held toward one destination (address and port), TIME_WAIT included." },
	{ EP_ALARM, "alarm", NULL, EP_PROM_GAUGE,
		"1 while a protocol's share of the range is above alarm_pct." },
	{ EP_REUSE_DELAY_MS, "reuse_delay_seconds", NULL, EP_PROM_GAUGE,
		"How long a released port rests before ephport hands it out again." },
	{ EP_RANDOM_OK, "random_ok_total", NULL, EP_PROM_COUNTER,
		"Ports ephport chose at random." },
	{ EP_RANDOM_FALLBACK, "random_fallback_total", NULL, EP_PROM_COUNTER,
		"Random mode choices left to the kernel's algorithm (range full or all resting)." },
	{ EP_RESTING, "resting_ports", NULL, EP_PROM_GAUGE,
		"Released ports resting for reuse_delay before they can be chosen again." },
	{ EP_SELF_CONNECT_AVOIDED, "self_connect_avoided_total", NULL, EP_PROM_COUNTER,
		"TCP connects for which random mode avoided source port == destination port." },
};

#define NSHOWN	((int)(sizeof(shown) / sizeof(shown[0])))

/* A count in at most 5 characters: 12345, 1234k, 1234M. */
static const char *num5(char *buf, size_t size, long long v)
{
	if (v == EP_NONE)
		snprintf(buf, size, "-");
	else if (v < 100000)
		snprintf(buf, size, "%lld", v);
	else if (v < 10000000)
		snprintf(buf, size, "%lldk", v / 1000);
	else if (v < 10000000000LL)
		snprintf(buf, size, "%lldM", v / 1000000);
	else
		snprintf(buf, size, "%lldG", v / 1000000000);
	return buf;
}

static long long sum(long long a, long long b)
{
	if (a == EP_NONE)
		return b;
	if (b == EP_NONE)
		return a;
	return a + b;
}

static long long range_size(const struct ep_ns *ns)
{
	return ns->lo == EP_NONE ? EP_NONE : ns->hi - ns->lo + 1;
}

/* Share of the range in use, in 1/1000, or -1 if unknown. */
static int share_permille(const struct ep_ns *ns, enum ep_field in_use)
{
	long long size = range_size(ns);

	if (size <= 0 || ns->val[in_use] == EP_NONE)
		return -1;
	return ns->val[in_use] * 1000 / size;
}

/* ---- the table ---- */

#define BAR_WIDTH	10

static int fullness(const struct ep_ns *ns)
{
	int t = share_permille(ns, EP_TCP_IN_USE);
	int u = share_permille(ns, EP_UDP_IN_USE);

	return t > u ? t : u;
}

static int by_fullness(const void *a, const void *b)
{
	const struct ep_ns *x = a, *y = b;
	long long xu, yu;

	if (fullness(x) != fullness(y))
		return fullness(y) - fullness(x);
	xu = sum(x->val[EP_TCP_IN_USE], x->val[EP_UDP_IN_USE]);
	yu = sum(y->val[EP_TCP_IN_USE], y->val[EP_UDP_IN_USE]);
	if (xu != yu)
		return yu > xu ? 1 : -1;
	return x->inum < y->inum ? -1 : x->inum > y->inum;
}

/* Fullest first: by the larger share of TCP and UDP, then ports in use. */
void ep_sort(struct ep_snap *snap)
{
	qsort(snap->ns, snap->nr, sizeof(snap->ns[0]), by_fullness);
}

static void share(char *pct, char *bar, size_t size, const struct ep_ns *ns,
		  enum ep_field in_use)
{
	int pm = share_permille(ns, in_use);
	int i, fill;

	if (pm < 0) {
		snprintf(pct, size, "-");
		snprintf(bar, size, "-");
		return;
	}
	snprintf(pct, size, "%d%%", pm / 10);
	fill = pm / (1000 / BAR_WIDTH);
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
}

/*
 * Two lines per namespace, one per protocol: the name and the range on the
 * first, the inode number and the range's size under them.
 */
static void table_row(FILE *f, const struct ep_ns *ns, bool tcp)
{
	char col1[32], col2[32], used[24], pct[16], bar[16], peak[24], fail[24];
	enum ep_field in_use = tcp ? EP_TCP_IN_USE : EP_UDP_IN_USE;
	long long failed;

	if (tcp) {
		if (strlen(ns->name) > 13)
			snprintf(col1, sizeof(col1), "%.12s~", ns->name);
		else
			snprintf(col1, sizeof(col1), "%.13s", ns->name);
		if (ns->lo == EP_NONE)
			snprintf(col2, sizeof(col2), "-");
		else
			snprintf(col2, sizeof(col2), "%lld-%lld", ns->lo, ns->hi);
		failed = sum(ns->val[EP_TCP_CONNECT_FAIL],
			     ns->val[EP_TCP_BIND_FAIL]);
	} else {
		snprintf(col1, sizeof(col1), "%lu", ns->inum);
		if (ns->lo == EP_NONE)
			col2[0] = '\0';
		else
			snprintf(col2, sizeof(col2), "%5lld ports",
				 range_size(ns));
		failed = ns->val[EP_UDP_FAIL];
	}
	share(pct, bar, sizeof(pct), ns, in_use);
	fprintf(f, "%-13s %-11s %-5s %5s %4s %-10s %5s %5s",
		col1, col2, tcp ? "tcp" : "udp",
		num5(used, sizeof(used), ns->val[in_use]), pct, bar,
		num5(peak, sizeof(peak), ns->val[tcp ? EP_TCP_PEAK : EP_UDP_PEAK]),
		num5(fail, sizeof(fail), failed));
	if (tcp)
		fprintf(f, " %-7.7s %s", ns->mode[0] ? ns->mode : "-",
			ns->val[EP_ALARM] == EP_NONE ? "-" :
			ns->val[EP_ALARM] ? "ON" : "off");
	fputc('\n', f);
}

void ep_print_table(FILE *f, const struct ep_snap *snap)
{
	int i;

	fprintf(f, "ephport %s, %d namespace%s", snap->version, snap->nr,
		snap->nr == 1 ? "" : "s");
	if (snap->alarm_pct != EP_NONE)
		fprintf(f, ", alarm at %lld%%", snap->alarm_pct);
	if (snap->nprobes >= 0) {
		int reg = 0;
		long long missed = 0;

		for (i = 0; i < snap->nprobes; i++) {
			reg += snap->probes[i].registered;
			missed = sum(missed, snap->probes[i].nmissed);
		}
		fprintf(f, ", probes %d/%d, missed %lld", reg, snap->nprobes,
			missed);
	}
	fputc('\n', f);
	fprintf(f, "%-13s %-11s %-5s %5s %4s %-10s %5s %5s %-7s %s\n",
		"NETNS", "RANGE", "PROTO", "USED", "USE%", "", "PEAK", "FAIL",
		"MODE", "ALARM");
	for (i = 0; i < snap->nr; i++) {
		table_row(f, &snap->ns[i], true);
		table_row(f, &snap->ns[i], false);
	}
}

/* ---- one namespace in full ---- */

static void one_value(FILE *f, const char *label, long long v)
{
	if (v == EP_NONE)
		fprintf(f, "  %-18s -\n", label);
	else
		fprintf(f, "  %-18s %lld\n", label, v);
}

static void one_row(FILE *f, const char *label, long long tcp, long long udp)
{
	char t[24] = "", u[24] = "";

	if (tcp != EP_NONE || udp != EP_NONE) {
		snprintf(t, sizeof(t), tcp == EP_NONE ? "-" : "%lld", tcp);
		snprintf(u, sizeof(u), udp == EP_NONE ? "-" : "%lld", udp);
	}
	fprintf(f, "  %-18s %12s %12s\n", label, t[0] ? t : "-", u[0] ? u : "-");
}

void ep_print_one(FILE *f, const struct ep_ns *ns)
{
	const long long *v = ns->val;
	unsigned long long max = 0, total = 0;
	char pct[16], bar[16];
	int i;

	fprintf(f, "netns %lu", ns->inum);
	if (ns->naming != EP_NAMED_NONE)
		fprintf(f, " (%s)", ns->name);
	fputc('\n', f);
	if (ns->pid)
		fprintf(f, "  %-18s %d (%s)\n", "lowest pid", ns->pid,
			ns->comm[0] ? ns->comm : "?");
	if (ns->lo == EP_NONE)
		fprintf(f, "  %-18s -\n", "range");
	else
		fprintf(f, "  %-18s %lld-%lld (%lld ports)\n", "range",
			ns->lo, ns->hi, range_size(ns));
	fprintf(f, "  %-18s %s\n", "mode", ns->mode[0] ? ns->mode : "-");
	if (v[EP_REUSE_DELAY_MS] == EP_NONE)
		fprintf(f, "  %-18s -\n", "reuse delay");
	else
		fprintf(f, "  %-18s %lld ms\n", "reuse delay", v[EP_REUSE_DELAY_MS]);
	fprintf(f, "  %-18s %s\n", "alarm", v[EP_ALARM] == EP_NONE ? "-" :
		v[EP_ALARM] ? "ON" : "off");
	one_value(f, "random ok", v[EP_RANDOM_OK]);
	one_value(f, "random fallback", v[EP_RANDOM_FALLBACK]);
	one_value(f, "resting ports", v[EP_RESTING]);
	one_value(f, "self-conn avoided", v[EP_SELF_CONNECT_AVOIDED]);
	fprintf(f, "  %-18s %12s %12s\n", "", "tcp", "udp");
	one_row(f, "in use", v[EP_TCP_IN_USE], v[EP_UDP_IN_USE]);
	share(pct, bar, sizeof(pct), ns, EP_TCP_IN_USE);
	fprintf(f, "  %-18s %12s", "share", pct);
	share(pct, bar, sizeof(pct), ns, EP_UDP_IN_USE);
	fprintf(f, " %12s\n", pct);
	one_row(f, "peak", v[EP_TCP_PEAK], v[EP_UDP_PEAK]);
	one_row(f, "connect ok", v[EP_TCP_CONNECT_OK], EP_NONE);
	one_row(f, "connect fail", v[EP_TCP_CONNECT_FAIL], EP_NONE);
	one_row(f, "bind/autobind ok", v[EP_TCP_BIND_OK], v[EP_UDP_OK]);
	one_row(f, "bind/autobind fail", v[EP_TCP_BIND_FAIL], v[EP_UDP_FAIL]);
	one_row(f, "self connect", v[EP_SELF_CONNECT], EP_NONE);

	if (ns->nhist < 0) {
		fprintf(f, "connect() port search time: -\n");
		return;
	}
	for (i = 0; i < ns->nhist; i++) {
		total += ns->hist[i].count;
		if (ns->hist[i].count > max)
			max = ns->hist[i].count;
	}
	fprintf(f, "connect() port search time (%llu searches):\n", total);
	for (i = 0; i < ns->nhist; i++) {
		int len = max ? (int)(ns->hist[i].count * 40 / max) : 0;

		if (!ns->hist[i].count && !len && (i == 0 ||
		    !ns->hist[i - 1].count) && (i == ns->nhist - 1 ||
		    !ns->hist[i + 1].count))
			continue;	/* skip empty runs, keep their edges */
		if (i == ns->nhist - 1 && i > 0 && ns->hist[i - 1].le)
			/* The last bucket also holds everything longer. */
			fprintf(f, "  >  %10llu ns", ns->hist[i - 1].le);
		else if (ns->hist[i].le)
			fprintf(f, "  <= %10llu ns", ns->hist[i].le);
		else
			fprintf(f, "  %16s", "longer");
		fprintf(f, " %10llu%s%.*s\n", ns->hist[i].count, len ? " " : "",
			len, "########################################");
	}
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, long long v)
{
	if (v == EP_NONE)
		fputs("null", f);
	else
		fprintf(f, "%lld", v);
}

static void json_ns(FILE *f, const struct ep_ns *ns)
{
	int i;

	fprintf(f, "    {\n      \"inum\": %lu,\n      \"name\": ", ns->inum);
	if (ns->naming == EP_NAMED_NONE)
		fputs("null", f);
	else
		json_str(f, ns->name);
	fputs(",\n      \"named_by\": ", f);
	if (ns->naming == EP_NAMED_NONE)
		fputs("null", f);
	else
		json_str(f, naming_names[ns->naming]);
	fputs(",\n      \"pid\": ", f);
	json_num(f, ns->pid ? ns->pid : EP_NONE);
	fputs(",\n      \"comm\": ", f);
	if (ns->pid)
		json_str(f, ns->comm);
	else
		fputs("null", f);
	if (ns->lo == EP_NONE)
		fputs(",\n      \"range\": null", f);
	else
		fprintf(f, ",\n      \"range\": {\"lo\": %lld, \"hi\": %lld, \"size\": %lld}",
			ns->lo, ns->hi, range_size(ns));
	fputs(",\n      \"mode\": ", f);
	if (ns->mode[0])
		json_str(f, ns->mode);
	else
		fputs("null", f);
	for (i = 0; i < NSHOWN; i++) {
		fprintf(f, ",\n      \"%s\": ", ep_field_files[shown[i].field]);
		json_num(f, ns->val[shown[i].field]);
	}
	fputs(",\n      \"search_ns\": ", f);
	if (ns->nhist < 0) {
		fputs("null\n    }", f);
		return;
	}
	fputc('[', f);
	for (i = 0; i < ns->nhist; i++) {
		fprintf(f, "%s\n        {\"le\": ", i ? "," : "");
		if (ns->hist[i].le)
			fprintf(f, "%llu", ns->hist[i].le);
		else
			fputs("null", f);
		fprintf(f, ", \"count\": %llu}", ns->hist[i].count);
	}
	fputs(ns->nhist ? "\n      ]\n    }" : "]\n    }", f);
}

void ep_print_json(FILE *f, const struct ep_snap *snap)
{
	int i;

	fputs("{\n  \"version\": ", f);
	json_str(f, snap->version);
	fputs(",\n  \"netns\": ", f);
	json_num(f, snap->netns);
	fputs(",\n  \"alarm_pct\": ", f);
	json_num(f, snap->alarm_pct);
	fputs(",\n  \"probes\": ", f);
	if (snap->nprobes < 0) {
		fputs("null", f);
	} else {
		fputc('[', f);
		for (i = 0; i < snap->nprobes; i++) {
			const struct ep_probe *p = &snap->probes[i];

			fprintf(f, "%s\n    {\"symbol\": ", i ? "," : "");
			json_str(f, p->symbol);
			fprintf(f, ", \"registered\": %s, \"hits\": ",
				p->registered ? "true" : "false");
			json_num(f, p->hits);
			fputs(", \"nmissed\": ", f);
			json_num(f, p->nmissed);
			fputc('}', f);
		}
		fputs(snap->nprobes ? "\n  ]" : "]", f);
	}
	fputs(",\n  \"namespaces\": [", f);
	for (i = 0; i < snap->nr; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_ns(f, &snap->ns[i]);
	}
	fputs(snap->nr ? "\n  ]\n}\n" : "]\n}\n", f);
}

/* ---- Prometheus text format (node_exporter's textfile collector) ---- */

static void prom_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void prom_family(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP ephport_%s %s\n# TYPE ephport_%s %s\n",
		name, help, name, type);
}

/* "ephport_NAME{netns="...",name="..."" with the brace left open. */
static void prom_start(FILE *f, const char *name, const struct ep_ns *ns)
{
	fprintf(f, "ephport_%s{netns=\"%lu\",name=\"", name, ns->inum);
	if (ns->naming != EP_NAMED_NONE)
		prom_escaped(f, ns->name);
	fputc('"', f);
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

/* Nanoseconds as exact decimal seconds: 1024 -> "0.000001024". */
static const char *seconds(char *buf, size_t size, unsigned long long ns)
{
	size_t n;

	snprintf(buf, size, "%llu.%09llu", ns / 1000000000, ns % 1000000000);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
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

		if (ns->nhist < 0)
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
			prom_start(f, "connect_search_seconds_bucket", ns);
			fprintf(f, ",proto=\"tcp\",le=\"%s\"} %llu\n",
				seconds(le, sizeof(le), ns->hist[i].le), cum);
		}
		prom_start(f, "connect_search_seconds_bucket", ns);
		fprintf(f, ",proto=\"tcp\",le=\"+Inf\"} %llu\n", cum);
		prom_start(f, "connect_search_seconds_count", ns);
		fprintf(f, ",proto=\"tcp\"} %llu\n", cum);
	}
}

void ep_print_prometheus(FILE *f, const struct ep_snap *snap)
{
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
		prom_family(f, "alarm_pct", "gauge",
			    "Share of the range (percent) above which a namespace's alarm is raised.");
		fprintf(f, "ephport_alarm_pct %lld\n", snap->alarm_pct);
	}
	prom_probes(f, snap);
	prom_ns_gauge(f, snap, "range_low", "Lowest port of the namespace's ip_local_port_range.", get_lo);
	prom_ns_gauge(f, snap, "range_high", "Highest port of the namespace's ip_local_port_range.", get_hi);
	prom_ns_gauge(f, snap, "range_ports", "Ports in the namespace's ip_local_port_range.", range_size);
	prom_fields(f, snap);
	prom_mode(f, snap);
	prom_hist(f, snap);
}
