// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: one namespace in full (-n), every value with its
 * change since the previous screen in watch mode.
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

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
	if (ns->workload[0])
		fprintf(f, "  %-18s %s\n", "workload",
			term(text, sizeof(text), ns->workload, 0, false));
	if (ns->pid)
		fprintf(f, "  %-18s %d (%s)\n", "lowest pid", ns->pid,
			ns->comm[0] ? term(text, sizeof(text), ns->comm, 0, false) :
			"?");
	if (ns->lo == EP_NONE)
		fprintf(f, "  %-18s -\n", "range");
	else
		fprintf(f, "  %-18s %lld-%lld (%lld ports)\n", "range",
			ns->lo, ns->hi, range_size(ns));
	fprintf(f, "  %-18s %s\n", "reserved ports",
		num(text, sizeof(text), ns->reserved));
	fprintf(f, "  %-18s %s", "dest headroom",
		num(text, sizeof(text), ns->dest_headroom));
	if (v[EP_TCP_DEST_MAX] != EP_NONE)
		fprintf(f, " (%lld held toward the busiest destination)",
			v[EP_TCP_DEST_MAX]);
	fputc('\n', f);
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
	one_value(&o, "self-conn refused", EP_SELF_CONNECT_REFUSED);
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
