/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the pure core. Plain data and functions on it: no locks, no
 * kernel state, nothing that sleeps, so KUnit drives every function
 * directly. Callers hold whatever protects the data (state.h says what).
 *
 *   usage.c	bound ports, in-use counts, peaks, the alarm, search_ns
 *   choose.c	random mode's choice
 *   rest.c	random mode's resting ports, in the order of their release
 *   avail.c	the ports random mode draws from, per protocol
 *   parse.c	the parsing of every control
 */
#ifndef _EPHPORT_CORE_H
#define _EPHPORT_CORE_H

#include <linux/bitops.h>
#include <linux/types.h>

#ifndef EPHPORT_VERSION
#error "EPHPORT_VERSION comes from dkms.conf through Kbuild"
#endif

enum ephport_proto {
	EPHPORT_TCP,
	EPHPORT_UDP,
	EPHPORT_NPROTO,
};

#define EPHPORT_NPORTS		65536

/* ---- usage.c ---- */

#define EPHPORT_ALARM_HYST	5	/* points below alarm_pct to clear */

/*
 * One protocol's ports in one namespace: which ports are bound, how many
 * of them lie in the range [lo, hi] the count was made for, and the
 * high-watermark of that count.
 *
 * A pass rebuilds the bitmap in a shadow, which every event changes too
 * while it is built, and then publishes it: readers see the bitmap they
 * had until the new one is complete. The three pointers change only with
 * ephport_usage_shadow() and ephport_usage_publish(), under what the
 * caller holds for usage (state.h); events read them with
 * ephport_usage_bind() and ephport_usage_release() only.
 */
struct ephport_usage {
	unsigned long *bound;	/* EPHPORT_NPORTS bits: what readers see */
	unsigned long *shadow;	/* the bitmap a pass builds, or NULL */
	unsigned long *spare;	/* the next shadow, while no pass builds */
	u32 lo, hi;		/* range in_use counts; lo > hi: none yet */
	u32 in_use;		/* bits set in bound[lo..hi] */
	u32 peak;		/* max in_use seen since load or reset */
	bool alarm;		/* share of the range above alarm_pct */
};

/*
 * One CPU's share of a namespace's bound ports of one protocol: ports of
 * the range this CPU saw become bound (+1) or free (-1) since it last
 * folded them into the namespace's base, and the highest base + delta it
 * saw since then (a candidate for the peak). @gen: the peak's generation
 * @top belongs to (a reset of the peak starts a new one).
 */
struct ephport_cpu_ports {
	int delta;
	int top;
	unsigned int gen;
};

/* A CPU folds its delta into the base when it reaches this, either way. */
#define EPHPORT_FOLD		16

bool ephport_ports_move(struct ephport_cpu_ports *c, int base,
			unsigned int gen, int step, int *now);
void ephport_ports_fold(struct ephport_cpu_ports *c, int *base, int *top,
			unsigned int gen);

/* search_ns: bucket i counts searches of (2^(i+S-1), 2^(i+S)] ns, S below */
#define EPHPORT_HIST_MIN_SHIFT	10	/* first bucket: up to 1024 ns */
#define EPHPORT_HIST_BUCKETS	23	/* last bucket: up to 2^32 ns, and more */

u32 ephport_bits_in_range(const unsigned long *map, u32 lo, u32 hi);
void ephport_usage_shadow(struct ephport_usage *u);
void ephport_usage_publish(struct ephport_usage *u);
bool ephport_usage_bind(struct ephport_usage *u, u32 port);
bool ephport_usage_release(struct ephport_usage *u, u32 port);
bool ephport_usage_test(struct ephport_usage *u, u32 port);
void ephport_usage_count(struct ephport_usage *u, u32 lo, u32 hi, int top);
void ephport_usage_reset_peak(struct ephport_usage *u);
bool ephport_alarm_update(bool *alarm, u32 in_use, u32 lo, u32 hi, u32 pct);
unsigned int ephport_hist_bucket(u64 ns);
u64 ephport_hist_bound(unsigned int bucket);

/* ---- choose.c, rest.c and avail.c ---- */

/*
 * Release times are kept in 16 ms units, as u16 (wrapping every 1048 s):
 * the ports resting expire in the order they were released, and are
 * forgotten when they expire, at the latest at a sweep, which comes at
 * least every EPHPORT_SWEEP_SECS: long before a stamp can wrap (the
 * longest delay is 600 s).
 */
#define EPHPORT_REST_UNIT_SHIFT	4
#define EPHPORT_SWEEP_SECS	30
/*
 * The most words of a range (64 ports each) that one step of a sweep or
 * of a build looks at, and the most resting ports one step of an LRU
 * choice looks at: callers hold a spinlock with interrupts off for a
 * step, and drop it between steps, so that no loop over a range of up to
 * 65,535 ports runs with interrupts off.
 */
#define EPHPORT_REST_STEP_WORDS	16
#define EPHPORT_LRU_STEP_PORTS	256

/*
 * The ports of one protocol that a uniform choice draws from (avail.c):
 * those of [lo, hi] that do not rest and were not found bound, as a
 * bitmap over the rest's ports and a Fenwick tree of its words' counts,
 * so that the k-th port, and how many lie below a port, take
 * O(log(words)) steps (eleven at most). Built a few words at a time
 * (ephport_avail_step()), then kept by every change of the rest.
 */
struct ephport_avail {
	unsigned long *map;	/* bit p - rest->lo: p can be drawn */
	u32 *tree;		/* [1..words]: Fenwick sums of map's words */
	u32 n;			/* bits set in map */
	u32 lo, hi;		/* the ports it holds, of the rest's */
	u32 w, wend;		/* next word to build; built when w == wend */
	bool begun;
	/* What it was built from: the caller's bitmap and mark. */
	const unsigned long *bound;
	unsigned long mark;
};

/*
 * A namespace's resting ports, shared by TCP and UDP, for the ports of
 * [lo, hi] only (the range when it was made, widened to whole words):
 * two bits, a u16 stamp and the links of the list of releases per port,
 * and the ports each protocol draws from. Allocated only while the
 * namespace is in random mode. Ports are never 0 here: 0 ends a list.
 */
struct ephport_rest {
	u32 lo, hi;		/* ports covered; lo % BITS_PER_LONG == 0 */
	u32 words;		/* (hi - lo + 1) / BITS_PER_LONG */
	u32 ftop;		/* the highest power of 2 <= words */
	/*
	 * The list of the resting ports that were released, in the order
	 * of their releases (their stamps never go down along it): a port
	 * released again moves to its end. Those it holds are exactly the
	 * resting ports not handed out.
	 */
	u16 head, tail;		/* first and last port, or 0 */
	u32 listed;		/* ports in the list */
	u32 reorders;		/* a port left the list elsewhere than its head */
	/* The sweep of handed-out ports under way, made a step at a time. */
	bool sweep_due;		/* the caller wants one */
	bool sweeping;
	u32 sweep_w;		/* the next word it looks at */
	/* bit p - lo: released less than the delay ago, or handed out */
	unsigned long *resting;
	/* bit p - lo: chosen by ephport, release not seen yet */
	unsigned long *out;
	u16 *stamp;		/* [p - lo]: unit of the release */
	u16 *next, *prev;	/* [p - lo]: the list's links, ports or 0 */
	struct ephport_avail avail[EPHPORT_NPROTO];
	unsigned long data[];	/* the arrays above */
};

/*
 * An LRU choice under way, made a step at a time (its caller's, on its
 * stack): the last port it looked at in the list (0: none yet) and what
 * tells that the list did not move under it since (the port's stamp and
 * the rest's reorders), how often it began again, and the port found.
 */
struct ephport_lru {
	u32 at;
	u16 at_stamp;
	u32 reorders;
	u32 restarts;
	bool found;
	bool lost;		/* the list kept moving: gave up */
	u32 port;
	u16 stamp;		/* its release's unit */
};

/* What a choice excludes; bound and reserved have EPHPORT_NPORTS bits. */
struct ephport_choice {
	const unsigned long *bound;	/* bound in the namespace */
	const unsigned long *reserved;	/* ip_local_reserved_ports, or NULL */
	struct ephport_rest *rest;	/* its resting ports */
	enum ephport_proto proto;	/* whose ports are drawn from */
	/*
	 * NULL: a build and an LRU choice are made whole; else a build is
	 * left to the caller (_BUILD) and an LRU choice begun here, and
	 * made by the caller if one step does not do (_LRU_STEP).
	 */
	struct ephport_lru *lru;
	unsigned long mark;		/* the caller's mark of bound (avail) */
	u16 now;			/* the resting clock's unit */
	u32 lo, hi;			/* the effective range, both included */
	int avoid;			/* a port never to choose, or -1 */
};

enum ephport_pick {
	EPHPORT_PICK_OK,	/* uniform among the free ports not resting */
	EPHPORT_PICK_LRU,	/* every free port rests: the one released first */
	EPHPORT_PICK_FULL,	/* no free port at all: bound or reserved */
	EPHPORT_PICK_AVOIDED,	/* the only free port is the one to avoid */
	EPHPORT_PICK_RANGE,	/* the rest does not cover the range */
	/* Every free port rests: c->lru begun, for ephport_lru_step(). */
	EPHPORT_PICK_LRU_STEP,
	/* The ports to draw from are to be built first (c->lru set). */
	EPHPORT_PICK_BUILD,
	/* Not the core's: the bound ports cannot be trusted at the moment. */
	EPHPORT_PICK_UNTRUSTED,
};

/* Random mode's counters (ephport_counters.h). */
enum ephport_rcounter {
#define EPHPORT_RANDOM_COUNTER(id, ...) EPHPORT_##id,
#include "ephport_counters.h"
	EPHPORT_NRCOUNTERS,
};

/* avail.c */
void ephport_avail_begin(struct ephport_rest *r, enum ephport_proto proto,
			 u32 lo, u32 hi, const unsigned long *bound,
			 unsigned long mark);
bool ephport_avail_step(struct ephport_rest *r, enum ephport_proto proto,
			u32 nwords);
bool ephport_avail_ready(const struct ephport_rest *r,
			 enum ephport_proto proto, const unsigned long *bound,
			 unsigned long mark, u32 lo, u32 hi);
void ephport_avail_add(struct ephport_rest *r, u32 port);
void ephport_avail_del(struct ephport_rest *r, enum ephport_proto proto,
		       u32 port);
bool ephport_avail_has(const struct ephport_rest *r, enum ephport_proto proto,
		       u32 port);
u32 ephport_avail_rank(const struct ephport_rest *r, enum ephport_proto proto,
		       u32 port);
u32 ephport_avail_select(const struct ephport_rest *r,
			 enum ephport_proto proto, u32 k);

/* rest.c */
size_t ephport_rest_size(u32 lo, u32 hi);
void ephport_rest_init(struct ephport_rest *r, u32 lo, u32 hi);
bool ephport_rest_covers(const struct ephport_rest *r, u32 lo, u32 hi);
void ephport_rest_copy(struct ephport_rest *to, const struct ephport_rest *from);
u16 ephport_rest_now(u64 msecs);
bool ephport_rest_expired(u16 stamp, u16 now, u32 delay_ms);
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms);
void ephport_rest_handout(struct ephport_rest *r, u32 port);
void ephport_rest_freed(struct ephport_rest *r, u32 port);
bool ephport_rest_resting(const struct ephport_rest *r, u32 port);
bool ephport_rest_listed(const struct ephport_rest *r, u32 port);
u32 ephport_rest_count(const struct ephport_rest *r, u32 lo, u32 hi);
bool ephport_rest_expire(struct ephport_rest *r, u16 now, u32 delay_ms,
			 u32 max);
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b);
bool ephport_rest_sweep_step(struct ephport_rest *r, u16 now,
			     const unsigned long *bound_a,
			     const unsigned long *bound_b, u32 nwords);
u32 ephport_rest_next_ms(const struct ephport_rest *r, u16 now, u32 delay_ms);

/* choose.c */
enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided);
unsigned long ephport_outcome(enum ephport_pick pick, bool accepted);
bool ephport_lru_step(struct ephport_lru *l, const struct ephport_choice *c,
		      u32 nports);

/* ---- parse.c ---- */

enum ephport_mode {
	EPHPORT_MODE_DEFAULT,	/* net.ephport.mode only: follow the global mode */
	EPHPORT_MODE_OBSERVE,
	EPHPORT_MODE_RANDOM,
};

#define EPHPORT_DELAY_DEFAULT_MS	60000
#define EPHPORT_DELAY_MAX_MS		600000
#define EPHPORT_DELAY_FOLLOW		(-1)	/* net.ephport.reuse_delay_ms */

int ephport_parse_pct(const char *buf, u32 *pct);
int ephport_parse_peak_reset(const char *buf);
int ephport_parse_mode(const char *buf, bool allow_default,
		       enum ephport_mode *mode);
int ephport_parse_delay(const char *buf, bool allow_follow, int *ms);
int ephport_parse_switch(const char *buf, bool *on);
int ephport_parse_symbol_offset(const char *buf, const char *symbol,
				unsigned long *off);
const char *ephport_mode_name(enum ephport_mode mode);

/* What drives the TCP part of a namespace's alarm (alarm_basis). */
enum ephport_basis {
	EPHPORT_BASIS_PORTS,	/* distinct local ports of the range bound */
	EPHPORT_BASIS_DEST,	/* local ports held toward one destination */
};

int ephport_parse_basis(const char *buf, enum ephport_basis *basis);
const char *ephport_basis_name(enum ephport_basis basis);

#endif /* _EPHPORT_CORE_H */
