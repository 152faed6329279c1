// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: the table, every namespace in a row for TCP and one
 * for UDP, the fullest first, within 80 columns; names as the terminal
 * shows them (term()).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/*
 * What runs out first, in 1/1000 of the range: the larger share of TCP
 * and UDP ports in use, or of the range no longer free toward TCP's
 * busiest destination (reserved ports and those held toward it).
 */
static int pressure(const struct ep_ns *ns)
{
	int t = share_permille(ns, EP_TCP_IN_USE);
	int u = share_permille(ns, EP_UDP_IN_USE);
	int d = dest_permille(ns);
	int m = t > u ? t : u;

	return d > m ? d : m;
}

static int by_pressure(const void *a, const void *b)
{
	const struct ep_ns *x = a, *y = b;
	long long xu, yu;

	if (pressure(x) != pressure(y))
		return pressure(y) - pressure(x);
	xu = sum(x->val[EP_TCP_IN_USE], x->val[EP_UDP_IN_USE]);
	yu = sum(y->val[EP_TCP_IN_USE], y->val[EP_UDP_IN_USE]);
	if (xu != yu)
		return yu > xu ? 1 : -1;
	return x->inum < y->inum ? -1 : x->inum > y->inum;
}

/* What runs out first comes first, then the most ports in use. */
void ep_sort(struct ep_snap *snap)
{
	qsort(snap->ns, snap->nr, sizeof(snap->ns[0]), by_pressure);
}

/*
 * Two lines per namespace, one per protocol: the name and the range on the
 * first, the inode number and the range's size under them. HEADROOM, on
 * TCP's line: the connect()s left toward the busiest destination. In
 * watch mode the peak gives way to the port assignments that succeeded
 * (OK) and failed (FAIL) since the previous screen (old: its namespace,
 * if any).
 */
static void table_row(FILE *f, const struct ep_ns *ns, bool tcp, bool watch,
		      const struct ep_ns *old)
{
	char col1[64], col2[32], used[24], pct[16], bar[16], peak[24], fail[24];
	char ok[24], room[24];
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
		num5(room, sizeof(room), ns->dest_headroom);
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
		snprintf(room, sizeof(room), " ");
	}
	share(pct, bar, sizeof(pct), ns, in_use);
	num5(peak, sizeof(peak), ns->val[tcp ? EP_TCP_PEAK : EP_UDP_PEAK]);
	if (watch)
		fprintf(f, "%s %-11s %-5s %5s %4s %8s %6s %7s",
			col1, col2, tcp ? "tcp" : "udp",
			num5(used, sizeof(used), ns->val[in_use]), pct, room,
			num5(ok, sizeof(ok), oks),
			num5(fail, sizeof(fail), failed));
	else
		fprintf(f, "%s %-11s %-5s %5s %4s %8s %5s %5s",
			col1, col2, tcp ? "tcp" : "udp",
			num5(used, sizeof(used), ns->val[in_use]), pct, room,
			peak, num5(fail, sizeof(fail), failed));
	if (tcp)
		fprintf(f, " %-7.7s %s", ns->mode[0] ? ns->mode : "-",
			ns->val[EP_ALARM] == EP_NONE ? "-" :
			ns->val[EP_ALARM] ? "ON" : "off");
	else if (ns->workload[0])
		/* Under MODE and ALARM, which are TCP's line's. */
		fprintf(f, " %s", term(col1, sizeof(col1), ns->workload,
				       watch ? 13 : 16, false));
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
	if (snap->idle)
		fprintf(f, " (%d idle not shown)", snap->idle);
	if (snap->alarm_pct != EP_NONE)
		fprintf(f, ", alarm at %lld%%", snap->alarm_pct);
	if (snap->alarm_basis[0])
		fprintf(f, "%s %s", snap->alarm_pct != EP_NONE ? " of" :
			", alarm on", !strcmp(snap->alarm_basis, "dest") ?
			"a destination's" : "ports");
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
		fprintf(f, "%-13s %-11s %-5s %5s %4s %8s %6s %7s %-7s %s\n",
			"NETNS", "RANGE", "PROTO", "USED", "USE%", "HEADROOM",
			"OK", "FAIL", "MODE", "ALARM");
	else
		fprintf(f, "%-13s %-11s %-5s %5s %4s %8s %5s %5s %-7s %s\n",
			"NETNS", "RANGE", "PROTO", "USED", "USE%", "HEADROOM",
			"PEAK", "FAIL", "MODE", "ALARM");
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

/* ---- --dests ---- */

/*
 * Each namespace of snap (those --dests asked for): which one, its range
 * and reserved ports, then its busiest destinations, one a line, as the
 * module lists them (the most ports held first), or why there are none.
 */
void ep_print_dests_table(FILE *f, const struct ep_snap *snap)
{
	char name[64], num[24];
	int i, j;

	for (i = 0; i < snap->nr; i++) {
		const struct ep_ns *ns = &snap->ns[i];

		if (i)
			fputc('\n', f);
		fprintf(f, "netns %lu (%s)", ns->inum,
			term(name, sizeof(name), ns->name, 40, false));
		if (ns->lo != EP_NONE)
			fprintf(f, ", range %lld-%lld (%lld ports), %s reserved",
				ns->lo, ns->hi, range_size(ns),
				num5(num, sizeof(num), ns->reserved));
		fputc('\n', f);
		if (!ns->dests) {
			fprintf(f, "(cannot be read: no process or /run/netns file to enter it by, or not root)\n");
			continue;
		}
		fprintf(f, "%-5s %-39s %5s %7s %9s %8s\n", "PROTO",
			"DESTINATION", "PORT", "HELD", "TIME_WAIT", "HEADROOM");
		for (j = 0; j < ns->dests->nr; j++) {
			const struct ep_dest *d = &ns->dests->d[j];

			fprintf(f, "%-5s %-39s %5u %7lld %9lld %8lld\n",
				d->proto, d->addr, d->port, d->held,
				d->time_wait, d->headroom);
		}
		if (!ns->dests->nr)
			fprintf(f, "(no TCP connection holds a port of the range)\n");
	}
}

/* ---- --events ---- */

void ep_print_event_header(FILE *f)
{
	fprintf(f, "%-8s %-12s %-16s %7s %-15s %-7s %-5s %-21s %s\n", "TIME",
		"EVENT", "NETNS", "PID", "COMM", "OP", "PROTO", "DESTINATION",
		"WORKLOAD");
}

/*
 * Like bcc's tools: the time it was seen, then one field a column, the
 * workload last, whole (a pod's is 53 characters).
 */
void ep_print_event(FILE *f, const struct ep_event *ev, const char *name,
		    const char *workload)
{
	char stamp[16], ns[64], wl[128], comm[64], dest[96];
	time_t now = time(NULL);

	strftime(stamp, sizeof(stamp), "%H:%M:%S", localtime(&now));
	if (name)
		term(ns, sizeof(ns), name, 16, false);
	else
		snprintf(ns, sizeof(ns), "%lu", ev->netns);
	if (!strcmp(ev->op, "connect") && ev->daddr[0])
		snprintf(dest, sizeof(dest), strchr(ev->daddr, ':') ?
			 "[%s]:%d" : "%s:%d", ev->daddr, ev->dport);
	else
		snprintf(dest, sizeof(dest), "-");
	fprintf(f, "%-8s %-12s %-16s %7d %-15s %-7s %-5s %-21s %s\n", stamp,
		ev->event, ns, ev->pid,
		term(comm, sizeof(comm), ev->comm, 15, false), ev->op,
		ev->proto, dest, workload[0] ?
		term(wl, sizeof(wl), workload, 0, false) : "-");
}
