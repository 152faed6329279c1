// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: the table, every namespace in a row for TCP and one
 * for UDP, the fullest first, within 80 columns; names as the terminal
 * shows them (term()).
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

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

/* ---- the table ---- */

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

		if (snap->fit && i == snap->fit) {
			fprintf(f, "(%d more namespaces: a taller terminal, or -n NAME)\n",
				snap->nr - i);
			break;
		}
		table_row(f, &snap->ns[i], true, watch, old);
		table_row(f, &snap->ns[i], false, watch, old);
	}
}
