/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephportstat's output formats, one file each: the table (output_table.c),
 * one namespace in full (output_one.c), JSON (output_json.c) and
 * Prometheus' text format (output_prometheus.c). What more than one of
 * them uses is in output.c and declared here; their entry points are in
 * ephportstat.h.
 */
#ifndef _EPHPORTSTAT_OUTPUT_H
#define _EPHPORTSTAT_OUTPUT_H

#include "ephportstat.h"

/*
 * The length of the well-formed UTF-8 sequence at s (1 to 4 bytes, the
 * code point in *cp), or 0 if s does not start one: a stray byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a sequence
 * cut short (the string's NUL included).
 */
int utf8_seq(const unsigned char *s, unsigned int *cp);

/*
 * s for a terminal, at most width characters (0: any), padded with spaces
 * to width if pad: controls (C0, DEL, C1: a name could move the cursor or
 * retitle the terminal) and bytes that are not UTF-8 as '?', a longer
 * text cut to width - 1 characters and '~'. Characters are counted as
 * one column each.
 */
const char *term(char *out, size_t size, const char *s, int width, bool pad);

enum ep_kind { EP_PROM_GAUGE, EP_PROM_COUNTER };

/*
 * The fields --json and --prometheus show, in this order. JSON's key is the
 * field's file name; the Prometheus metric (after "ephport_"), its proto
 * label, type and help are ephportstat's own. The fields of one metric are
 * printed together, under the help of the first. The module's other
 * counters (random_fallback by cause) are read but not shown.
 */
struct ep_shown {
	enum ep_field field;
	const char *metric;
	const char *proto;	/* or NULL */
	enum ep_kind kind;
	const char *help;
};
extern const struct ep_shown shown[];
extern const int nshown;
#define NSHOWN	nshown

/* The namespace of the previous screen's snapshot with ns's inode. */
const struct ep_ns *prev_of(const struct ep_snap *prev, const struct ep_ns *ns);

/*
 * How much a counter grew since the previous screen: all of it if there
 * was none (the first screen, a new namespace) or it went down (the
 * module was loaded again).
 */
long long delta(long long now, const struct ep_ns *old, enum ep_field field);

/* The size of the namespace's port range, or EP_NONE if unknown. */
long long range_size(const struct ep_ns *ns);

/* Share of the range in use, in 1/1000, or -1 if unknown. */
int share_permille(const struct ep_ns *ns, enum ep_field in_use);

/*
 * Share of the range no longer free toward TCP's busiest destination
 * (reserved, or held toward it), in 1/1000, or -1 if unknown.
 */
int dest_permille(const struct ep_ns *ns);

/*
 * The share of the range in_use holds, as a percentage in pct and a bar
 * of BAR_WIDTH characters in bar ("-" in both if unknown); size is the
 * size of each, BAR_WIDTH + 1 at least.
 */
#define BAR_WIDTH	10
void share(char *pct, char *bar, size_t size, const struct ep_ns *ns,
	   enum ep_field in_use);

#endif /* _EPHPORTSTAT_OUTPUT_H */
