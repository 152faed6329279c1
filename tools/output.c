// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: the four ways of showing a snapshot: a table that fits 80
 * columns, one namespace in full, JSON, and Prometheus' text format.
 *
 * Names come from tenants (an ip netns name, a mount point, a command
 * name: any bytes), so each format gets them in a form it can hold: the
 * terminal printable characters, JSON escaped valid UTF-8, Prometheus
 * label values escaped valid UTF-8. Bytes that are not UTF-8 become
 * U+FFFD (JSON, Prometheus) or '?' (the terminal).
 */
#include <stdlib.h>
#include <string.h>

#include "ephportstat.h"
#include "util.h"

static const char *const naming_names[] = {
	[EP_NAMED_NONE] = NULL,
	[EP_NAMED_NETNS] = "netns",
	[EP_NAMED_MOUNT] = "mount",
	[EP_NAMED_HOST] = "host",
	[EP_NAMED_PID] = "pid",
};

/*
 * The length of the well-formed UTF-8 sequence at s (1 to 4 bytes, the
 * code point in *cp), or 0 if s does not start one: a stray byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a sequence
 * cut short (the string's NUL included).
 */
static int utf8_seq(const unsigned char *s, unsigned int *cp)
{
	unsigned int c = s[0], n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		*cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * s for a terminal, at most width characters (0: any), padded with spaces
 * to width if pad: controls (C0, DEL, C1: a name could move the cursor or
 * retitle the terminal) and bytes that are not UTF-8 as '?', a longer
 * text cut to width - 1 characters and '~'. Characters are counted as
 * one column each.
 */
static const char *term(char *out, size_t size, const char *s, int width,
			bool pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0;
	int chars = 0, total = 0;
	unsigned int cp;
	int n;

	for (; *p; p += n ? n : 1, total++)
		n = utf8_seq(p, &cp);
	p = (const unsigned char *)s;
	while (*p && (!width || chars < (total > width ? width - 1 : width))) {
		n = utf8_seq(p, &cp);
		if (!n || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			if (len + 1 < size)
				out[len++] = '?';
			p += n ? n : 1;
		} else {
			if (len + n < size) {
				memcpy(out + len, p, n);
				len += n;
			}
			p += n;
		}
		chars++;
	}
	if (width && total > width && len + 1 < size) {
		out[len++] = '~';
		chars++;
	}
	while (pad && chars < width && len + 1 < size) {
		out[len++] = ' ';
		chars++;
	}
	out[len] = '\0';
	return out;
}

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
	{ EP_RANDOM_LRU, "random_lru_total", NULL, EP_PROM_COUNTER,
		"Ports ephport handed out because they had rested longest (every free port was resting)." },
	{ EP_RANDOM_FALLBACK, "random_fallback_total", NULL, EP_PROM_COUNTER,
		"Random mode choices left to the kernel's algorithm (range full, port refused, or bound ports being recounted)." },
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

/* The namespace of the previous screen's snapshot with ns's inode. */
static const struct ep_ns *prev_of(const struct ep_snap *prev,
				   const struct ep_ns *ns)
{
	int i;

	for (i = 0; prev && i < prev->nr; i++)
		if (prev->ns[i].inum == ns->inum)
			return &prev->ns[i];
	return NULL;
}

/*
 * How much a counter grew since the previous screen: all of it if there
 * was none (the first screen, a new namespace) or it went down (the
 * module was loaded again).
 */
static long long delta(long long now, const struct ep_ns *old,
		       enum ep_field field)
{
	long long then = old ? old->val[field] : EP_NONE;

	if (now == EP_NONE || then == EP_NONE || now < then)
		return now;
	return now - then;
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
 * first, the inode number and the range's size under them. In watch mode
 * the bar gives way to the port assignments that succeeded (OK) and
 * failed (FAIL) since the previous screen (old: its namespace, if any).
 */
static void table_row(FILE *f, const struct ep_ns *ns, bool tcp, bool watch,
		      const struct ep_ns *old)
{
	char col1[64], col2[32], used[24], pct[16], bar[16], peak[24], fail[24];
	char ok[24];
	enum ep_field in_use = tcp ? EP_TCP_IN_USE : EP_UDP_IN_USE;
	long long failed, oks;

	if (tcp) {
		term(col1, sizeof(col1), ns->name, 13, true);
		if (ns->lo == EP_NONE)
			snprintf(col2, sizeof(col2), "-");
		else
			snprintf(col2, sizeof(col2), "%lld-%lld", ns->lo, ns->hi);
		if (watch) {
			failed = sum(delta(ns->val[EP_TCP_CONNECT_FAIL], old,
					   EP_TCP_CONNECT_FAIL),
				     delta(ns->val[EP_TCP_BIND_FAIL], old,
					   EP_TCP_BIND_FAIL));
			oks = sum(delta(ns->val[EP_TCP_CONNECT_OK], old,
					EP_TCP_CONNECT_OK),
				  delta(ns->val[EP_TCP_BIND_OK], old,
					EP_TCP_BIND_OK));
		} else {
			failed = sum(ns->val[EP_TCP_CONNECT_FAIL],
				     ns->val[EP_TCP_BIND_FAIL]);
			oks = EP_NONE;
		}
	} else {
		snprintf(col1, sizeof(col1), "%-13lu", ns->inum);
		if (ns->lo == EP_NONE)
			col2[0] = '\0';
		else
			snprintf(col2, sizeof(col2), "%5lld ports",
				 range_size(ns));
		failed = watch ? delta(ns->val[EP_UDP_FAIL], old, EP_UDP_FAIL) :
			 ns->val[EP_UDP_FAIL];
		oks = watch ? delta(ns->val[EP_UDP_OK], old, EP_UDP_OK) :
		      EP_NONE;
	}
	share(pct, bar, sizeof(pct), ns, in_use);
	num5(peak, sizeof(peak), ns->val[tcp ? EP_TCP_PEAK : EP_UDP_PEAK]);
	if (watch)
		fprintf(f, "%s %-11s %-5s %5s %4s %5s %8s %7s",
			col1, col2, tcp ? "tcp" : "udp",
			num5(used, sizeof(used), ns->val[in_use]), pct, peak,
			num5(ok, sizeof(ok), oks),
			num5(fail, sizeof(fail), failed));
	else
		fprintf(f, "%s %-11s %-5s %5s %4s %-10s %5s %5s",
			col1, col2, tcp ? "tcp" : "udp",
			num5(used, sizeof(used), ns->val[in_use]), pct, bar,
			peak, num5(fail, sizeof(fail), failed));
	if (tcp)
		fprintf(f, " %-7.7s %s", ns->mode[0] ? ns->mode : "-",
			ns->val[EP_ALARM] == EP_NONE ? "-" :
			ns->val[EP_ALARM] ? "ON" : "off");
	fputc('\n', f);
}

void ep_print_table(FILE *f, const struct ep_snap *snap, bool watch,
		    const struct ep_snap *prev)
{
	char version[64];
	int i;

	term(version, sizeof(version), snap->version, 20, false);
	if (!strcmp(snap->source, EP_PROC))
		fprintf(f, "ephport %s, this namespace only", version);
	else
		fprintf(f, "ephport %s, %d namespace%s", version, snap->nr,
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
	if (watch)
		fprintf(f, "%-13s %-11s %-5s %5s %4s %5s %8s %7s %-7s %s\n",
			"NETNS", "RANGE", "PROTO", "USED", "USE%", "PEAK", "OK",
			"FAIL", "MODE", "ALARM");
	else
		fprintf(f, "%-13s %-11s %-5s %5s %4s %-10s %5s %5s %-7s %s\n",
			"NETNS", "RANGE", "PROTO", "USED", "USE%", "", "PEAK",
			"FAIL", "MODE", "ALARM");
	for (i = 0; i < snap->nr; i++) {
		const struct ep_ns *old = prev_of(prev, &snap->ns[i]);

		table_row(f, &snap->ns[i], true, watch, old);
		table_row(f, &snap->ns[i], false, watch, old);
	}
}

/* ---- one namespace in full ---- */

/* What -n shows: a namespace, and in watch mode the previous screen's. */
struct one {
	FILE *f;
	const struct ep_ns *ns;
	bool watch;
	const struct ep_ns *old;
};

static const char *num(char *buf, size_t size, long long v)
{
	snprintf(buf, size, v == EP_NONE ? "-" : "%lld", v);
	return buf;
}

/* A counter, and in watch mode its change since the previous screen. */
static void one_value(const struct one *o, const char *label,
		      enum ep_field field)
{
	char v[24], d[24];

	fprintf(o->f, "  %-18s %s", label,
		num(v, sizeof(v), o->ns->val[field]));
	if (o->watch && o->ns->val[field] != EP_NONE)
		fprintf(o->f, " (+%s)",
			num(d, sizeof(d), delta(o->ns->val[field], o->old, field)));
	fputc('\n', o->f);
}

/*
 * A row of TCP and UDP values (a field of -1: none); counters in watch
 * mode have their changes since the previous screen in two more columns.
 */
static void one_row(const struct one *o, const char *label, int tcp, int udp,
		    bool counter)
{
	const long long *v = o->ns->val;
	char t[24], u[24], dt[24], du[24];

	fprintf(o->f, "  %-18s %12s %12s", label,
		num(t, sizeof(t), tcp < 0 ? EP_NONE : v[tcp]),
		num(u, sizeof(u), udp < 0 ? EP_NONE : v[udp]));
	if (o->watch && counter)
		fprintf(o->f, " %12s %12s",
			num(dt, sizeof(dt), tcp < 0 ? EP_NONE :
			    delta(v[tcp], o->old, tcp)),
			num(du, sizeof(du), udp < 0 ? EP_NONE :
			    delta(v[udp], o->old, udp)));
	fputc('\n', o->f);
}

void ep_print_one(FILE *f, const struct ep_ns *ns, bool watch,
		  const struct ep_snap *prev)
{
	const struct one o = { f, ns, watch, prev_of(prev, ns) };
	const long long *v = ns->val;
	unsigned long long max = 0, total = 0;
	char pct[16], bar[16], text[1024];
	int i;

	fprintf(f, "netns %lu", ns->inum);
	if (ns->naming != EP_NAMED_NONE)
		fprintf(f, " (%s)", term(text, sizeof(text), ns->name, 0, false));
	fputc('\n', f);
	if (ns->nsfs)
		fprintf(f, "  %-18s %s\n", "mounted at",
			term(text, sizeof(text), ns->nsfs, 0, false));
	if (ns->pid)
		fprintf(f, "  %-18s %d (%s)\n", "lowest pid", ns->pid,
			ns->comm[0] ? term(text, sizeof(text), ns->comm, 0, false) :
			"?");
	if (ns->lo == EP_NONE)
		fprintf(f, "  %-18s -\n", "range");
	else
		fprintf(f, "  %-18s %lld-%lld (%lld ports)\n", "range",
			ns->lo, ns->hi, range_size(ns));
	fprintf(f, "  %-18s %s\n", "mode",
		ns->mode[0] ? term(text, sizeof(text), ns->mode, 0, false) : "-");
	if (v[EP_REUSE_DELAY_MS] == EP_NONE)
		fprintf(f, "  %-18s -\n", "reuse delay");
	else
		fprintf(f, "  %-18s %lld ms\n", "reuse delay", v[EP_REUSE_DELAY_MS]);
	fprintf(f, "  %-18s %s\n", "alarm", v[EP_ALARM] == EP_NONE ? "-" :
		v[EP_ALARM] ? "ON" : "off");
	one_value(&o, "random ok", EP_RANDOM_OK);
	one_value(&o, "random lru", EP_RANDOM_LRU);
	one_value(&o, "random fallback", EP_RANDOM_FALLBACK);
	fprintf(f, "  %-18s %s\n", "resting ports",
		num(text, sizeof(text), v[EP_RESTING]));
	one_value(&o, "self-conn avoided", EP_SELF_CONNECT_AVOIDED);
	fprintf(f, "  %-18s %12s %12s", "", "tcp", "udp");
	if (watch)
		fprintf(f, " %12s %12s", "tcp +", "udp +");
	fputc('\n', f);
	one_row(&o, "in use", EP_TCP_IN_USE, EP_UDP_IN_USE, false);
	share(pct, bar, sizeof(pct), ns, EP_TCP_IN_USE);
	fprintf(f, "  %-18s %12s", "share", pct);
	share(pct, bar, sizeof(pct), ns, EP_UDP_IN_USE);
	fprintf(f, " %12s\n", pct);
	one_row(&o, "peak", EP_TCP_PEAK, EP_UDP_PEAK, false);
	one_row(&o, "connect ok", EP_TCP_CONNECT_OK, -1, true);
	one_row(&o, "connect fail", EP_TCP_CONNECT_FAIL, -1, true);
	one_row(&o, "bind/autobind ok", EP_TCP_BIND_OK, EP_UDP_OK, true);
	one_row(&o, "bind/autobind fail", EP_TCP_BIND_FAIL, EP_UDP_FAIL, true);
	one_row(&o, "self connect", EP_SELF_CONNECT, -1, true);

	if (ns->nhist < 0) {
		fprintf(f, "connect() port search time: -\n");
		return;
	}
	for (i = 0; i < ns->nhist; i++) {
		total += ns->hist[i].count;
		if (ns->hist[i].count > max)
			max = ns->hist[i].count;
	}
	fprintf(f, "connect() port search time (%llu searches", total);
	if (ns->search_sum != EP_NONE && total)
		fprintf(f, ", mean %llu ns",
			(unsigned long long)ns->search_sum / total);
	fputs("):\n", f);
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

/*
 * A string as RFC 8259 wants it: '"', '\\' and controls escaped (DEL too),
 * valid UTF-8 as it is, each byte that is not UTF-8 as U+FFFD.
 */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;

	fputc('"', f);
	while (*p) {
		int n = utf8_seq(p, &cp);

		if (!n) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
	}
	fputc('"', f);
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		json_str(f, s);
	else
		fputs("null", f);
}

static void json_num(FILE *f, long long v)
{
	if (v == EP_NONE)
		fputs("null", f);
	else
		fprintf(f, "%lld", v);
}

/* Pretty JSON, or all on one line (a stream of snapshots, one per line). */
static bool json_one_line;

/* Before a value of an object or array at depth: a new line, indented. */
static void json_nl(FILE *f, int depth)
{
	if (json_one_line)
		fputc(' ', f);
	else
		fprintf(f, "\n%*s", 2 * depth, "");
}

/* A key of an object at depth, after a comma unless it is the first. */
static void jkey(FILE *f, int depth, bool first, const char *key)
{
	if (!first)
		fputc(',', f);
	json_nl(f, depth);
	fprintf(f, "\"%s\": ", key);
}

static void json_ns(FILE *f, const struct ep_ns *ns)
{
	bool named = ns->naming != EP_NAMED_NONE;
	int i;

	fputc('{', f);
	jkey(f, 3, true, "inum");
	fprintf(f, "%lu", ns->inum);
	jkey(f, 3, false, "name");
	json_str_or_null(f, named ? ns->name : NULL);
	jkey(f, 3, false, "named_by");
	json_str_or_null(f, naming_names[ns->naming]);
	jkey(f, 3, false, "nsfs");
	json_str_or_null(f, ns->nsfs);
	jkey(f, 3, false, "pid");
	json_num(f, ns->pid ? ns->pid : EP_NONE);
	jkey(f, 3, false, "comm");
	json_str_or_null(f, ns->pid ? ns->comm : NULL);
	jkey(f, 3, false, "range");
	if (ns->lo == EP_NONE)
		fputs("null", f);
	else
		fprintf(f, "{\"lo\": %lld, \"hi\": %lld, \"size\": %lld}",
			ns->lo, ns->hi, range_size(ns));
	jkey(f, 3, false, "mode");
	json_str_or_null(f, ns->mode[0] ? ns->mode : NULL);
	for (i = 0; i < NSHOWN; i++) {
		jkey(f, 3, false, ep_field_files[shown[i].field]);
		json_num(f, ns->val[shown[i].field]);
	}
	jkey(f, 3, false, "search_ns_sum");
	json_num(f, ns->search_sum);
	jkey(f, 3, false, "search_ns");
	if (ns->nhist < 0) {
		fputs("null", f);
	} else {
		fputc('[', f);
		for (i = 0; i < ns->nhist; i++) {
			if (i)
				fputc(',', f);
			json_nl(f, 4);
			fputs("{\"le\": ", f);
			if (ns->hist[i].le)
				fprintf(f, "%llu", ns->hist[i].le);
			else
				fputs("null", f);
			fprintf(f, ", \"count\": %llu}", ns->hist[i].count);
		}
		if (ns->nhist)
			json_nl(f, 3);
		fputc(']', f);
	}
	json_nl(f, 2);
	fputc('}', f);
}

void ep_print_json(FILE *f, const struct ep_snap *snap, bool one_line)
{
	int i;

	json_one_line = one_line;
	fputc('{', f);
	jkey(f, 1, true, "version");
	json_str(f, snap->version);
	jkey(f, 1, false, "time");
	fprintf(f, "%lld.%03ld", (long long)snap->when.tv_sec,
		snap->when.tv_nsec / 1000000);
	jkey(f, 1, false, "source");
	json_str(f, snap->source);
	jkey(f, 1, false, "netns");
	json_num(f, snap->netns);
	jkey(f, 1, false, "alarm_pct");
	json_num(f, snap->alarm_pct);
	jkey(f, 1, false, "probes");
	if (snap->nprobes < 0) {
		fputs("null", f);
	} else {
		fputc('[', f);
		for (i = 0; i < snap->nprobes; i++) {
			const struct ep_probe *p = &snap->probes[i];

			if (i)
				fputc(',', f);
			json_nl(f, 2);
			fputs("{\"symbol\": ", f);
			json_str(f, p->symbol);
			fprintf(f, ", \"registered\": %s, \"hits\": ",
				p->registered ? "true" : "false");
			json_num(f, p->hits);
			fputs(", \"nmissed\": ", f);
			json_num(f, p->nmissed);
			fputc('}', f);
		}
		if (snap->nprobes)
			json_nl(f, 1);
		fputc(']', f);
	}
	jkey(f, 1, false, "namespaces");
	fputc('[', f);
	for (i = 0; i < snap->nr; i++) {
		if (i)
			fputc(',', f);
		json_nl(f, 2);
		json_ns(f, &snap->ns[i]);
	}
	if (snap->nr)
		json_nl(f, 1);
	fputs("]", f);
	if (!one_line)
		fputc('\n', f);
	fputs("}\n", f);
}

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
		    "A namespace's name (ip netns, mount, host or PID/comm; empty if none), 1.");
	for (i = 0; i < snap->nr; i++) {
		const struct ep_ns *ns = &snap->ns[i];

		prom_start(f, "netns_info", ns);
		fputs(",name=\"", f);
		if (ns->naming != EP_NAMED_NONE)
			prom_escaped(f, ns->name);
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
		if (ns->search_sum != EP_NONE) {
			prom_start(f, "connect_search_seconds_sum", ns);
			fprintf(f, ",proto=\"tcp\"} %s\n",
				seconds(le, sizeof(le), ns->search_sum));
		}
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
		char ratio[48];

		prom_family(f, "alarm_threshold_ratio", "gauge",
			    "Share of the range (0-1, alarm_pct / 100) above which a namespace's alarm is raised.");
		fprintf(f, "ephport_alarm_threshold_ratio %s\n",
			decimal(ratio, sizeof(ratio), snap->alarm_pct / 100,
				snap->alarm_pct % 100, 2));
	}
	prom_probes(f, snap);
	prom_info(f, snap);
	prom_ns_gauge(f, snap, "range_low", "Lowest port of the namespace's ip_local_port_range.", get_lo);
	prom_ns_gauge(f, snap, "range_high", "Highest port of the namespace's ip_local_port_range.", get_hi);
	prom_ns_gauge(f, snap, "range_ports", "Ports in the namespace's ip_local_port_range.", range_size);
	prom_fields(f, snap);
	prom_mode(f, snap);
	prom_hist(f, snap);
}
