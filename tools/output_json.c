// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: JSON (--json), one snapshot pretty or on one line;
 * names escaped as RFC 8259 wants them, bytes that are not UTF-8 as
 * U+FFFD.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "util.h"

static const char *const naming_names[] = {
	[EP_NAMED_NONE] = NULL,
	[EP_NAMED_NETNS] = "netns",
	[EP_NAMED_MOUNT] = "mount",
	[EP_NAMED_HOST] = "host",
	[EP_NAMED_PID] = "pid",
};

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
	jkey(f, 3, false, "workload");
	json_str_or_null(f, ns->workload[0] ? ns->workload : NULL);
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
	jkey(f, 3, false, "reserved");
	json_num(f, ns->reserved);
	jkey(f, 3, false, "dest_headroom");
	json_num(f, ns->dest_headroom);
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
	jkey(f, 1, false, "alarm_basis");
	json_str_or_null(f, snap->alarm_basis[0] ? snap->alarm_basis : NULL);
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

/* --dests --json: each namespace asked for, its destinations (or null). */
void ep_print_dests_json(FILE *f, const struct ep_snap *snap)
{
	int i, j;

	json_one_line = false;
	fputc('{', f);
	jkey(f, 1, true, "version");
	json_str(f, snap->version);
	jkey(f, 1, false, "time");
	fprintf(f, "%lld.%03ld", (long long)snap->when.tv_sec,
		snap->when.tv_nsec / 1000000);
	jkey(f, 1, false, "namespaces");
	fputc('[', f);
	for (i = 0; i < snap->nr; i++) {
		const struct ep_ns *ns = &snap->ns[i];
		bool named = ns->naming != EP_NAMED_NONE;

		if (i)
			fputc(',', f);
		json_nl(f, 2);
		fputc('{', f);
		jkey(f, 3, true, "inum");
		fprintf(f, "%lu", ns->inum);
		jkey(f, 3, false, "name");
		json_str_or_null(f, named ? ns->name : NULL);
		jkey(f, 3, false, "range");
		if (ns->lo == EP_NONE)
			fputs("null", f);
		else
			fprintf(f, "{\"lo\": %lld, \"hi\": %lld, \"size\": %lld}",
				ns->lo, ns->hi, range_size(ns));
		jkey(f, 3, false, "reserved");
		json_num(f, ns->reserved);
		jkey(f, 3, false, "dests");
		if (!ns->dests) {
			fputs("null", f);
		} else {
			fputc('[', f);
			for (j = 0; j < ns->dests->nr; j++) {
				const struct ep_dest *d = &ns->dests->d[j];

				if (j)
					fputc(',', f);
				json_nl(f, 4);
				fputs("{\"proto\": ", f);
				json_str(f, d->proto);
				fputs(", \"daddr\": ", f);
				json_str(f, d->addr);
				fprintf(f, ", \"dport\": %u, \"held\": %lld, \"time_wait\": %lld, \"headroom\": %lld}",
					d->port, d->held, d->time_wait,
					d->headroom);
			}
			if (ns->dests->nr)
				json_nl(f, 3);
			fputc(']', f);
		}
		json_nl(f, 2);
		fputc('}', f);
	}
	if (snap->nr)
		json_nl(f, 1);
	fputs("]\n}\n", f);
}

/* --events --json: one object a line. */
void ep_print_event_json(FILE *f, const struct ep_event *ev, const char *name,
			 const char *workload, const char *cgroup_path)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "{\"time\": %lld.%03ld, \"event\": ", (long long)now.tv_sec,
		now.tv_nsec / 1000000);
	json_str(f, ev->event);
	fprintf(f, ", \"netns\": %lu, \"name\": ", ev->netns);
	json_str_or_null(f, name);
	fputs(", \"workload\": ", f);
	json_str_or_null(f, workload[0] ? workload : NULL);
	fprintf(f, ", \"cgroup\": %llu, \"cgroup_path\": ", ev->cgroup);
	json_str_or_null(f, cgroup_path[0] ? cgroup_path : NULL);
	fprintf(f, ", \"pid\": %d, \"comm\": ", ev->pid);
	json_str(f, ev->comm);
	fputs(", \"op\": ", f);
	json_str(f, ev->op);
	fputs(", \"proto\": ", f);
	json_str(f, ev->proto);
	fputs(", \"family\": ", f);
	json_str(f, ev->family);
	fputs(", \"daddr\": ", f);
	json_str_or_null(f, ev->daddr[0] ? ev->daddr : NULL);
	fprintf(f, ", \"dport\": %d}\n", ev->dport);
}
