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
 *
 * Each format has a file of its own (output_*.c); this one holds what more
 * than one of them uses (declared in output.h).
 */
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

/*
 * The length of the well-formed UTF-8 sequence at s (1 to 4 bytes, the
 * code point in *cp), or 0 if s does not start one: a stray byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, or a sequence
 * cut short (the string's NUL included).
 */
int utf8_seq(const unsigned char *s, unsigned int *cp)
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
const char *term(char *out, size_t size, const char *s, int width,
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

/* The fields --json and --prometheus show, in this order (output.h). */
const struct ep_shown shown[] = {
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
	{ EP_SELF_CONNECT_REFUSED, "self_connect_refused_total", NULL, EP_PROM_COUNTER,
		"TCP connects random mode failed because the kernel's fallback choice was the destination port." },
};

const int nshown = sizeof(shown) / sizeof(shown[0]);

/* The namespace of the previous screen's snapshot with ns's inode. */
const struct ep_ns *prev_of(const struct ep_snap *prev,
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
long long delta(long long now, const struct ep_ns *old,
		enum ep_field field)
{
	long long then = old ? old->val[field] : EP_NONE;

	if (now == EP_NONE || then == EP_NONE || now < then)
		return now;
	return now - then;
}

long long range_size(const struct ep_ns *ns)
{
	return ns->lo == EP_NONE ? EP_NONE : ns->hi - ns->lo + 1;
}

/* Share of the range in use, in 1/1000, or -1 if unknown. */
int share_permille(const struct ep_ns *ns, enum ep_field in_use)
{
	long long size = range_size(ns);

	if (size <= 0 || ns->val[in_use] == EP_NONE)
		return -1;
	return ns->val[in_use] * 1000 / size;
}

int dest_permille(const struct ep_ns *ns)
{
	long long size = range_size(ns);

	if (size <= 0 || ns->dest_headroom == EP_NONE)
		return -1;
	return (size - ns->dest_headroom) * 1000 / size;
}

void share(char *pct, char *bar, size_t size, const struct ep_ns *ns,
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
