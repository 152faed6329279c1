/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the pure core. Plain data and functions on it: no locks, no
 * kernel state, nothing that sleeps, so KUnit drives every function
 * directly. Callers hold whatever protects the data (state.h says what).
 *
 *   usage.c	bound ports, in-use counts, peaks, the alarm, search_ns
 *   choose.c	random mode's choice
 *   rest.c	random mode's resting ports
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
void ephport_usage_count(struct ephport_usage *u, u32 lo, u32 hi, int top);
void ephport_usage_reset_peak(struct ephport_usage *u);
bool ephport_alarm_update(bool *alarm, u32 in_use, u32 lo, u32 hi, u32 pct);
unsigned int ephport_hist_bucket(u64 ns);
u64 ephport_hist_bound(unsigned int bucket);

/* ---- choose.c and rest.c ---- */

/*
 * Release times are kept in 16 ms units, as u16 (wrapping every 1048 s):
 * a sweep at least every EPHPORT_SWEEP_SECS forgets every expired port
 * long before its stamp can wrap (the longest delay is 600 s).
 */
#define EPHPORT_REST_UNIT_SHIFT	4
#define EPHPORT_SWEEP_SECS	30
/* Releases remembered in their order, to order those of one unit. */
#define EPHPORT_REST_RECENT	128
/*
 * The most words of a range (64 ports each) that one step of a sweep or
 * of an LRU choice looks at: callers hold a spinlock with interrupts off
 * for a step, and drop it between steps, so that no loop over a range of
 * up to 65,535 ports runs with interrupts off (1,024 ports, at most,
 * are looked at one by one in a step).
 */
#define EPHPORT_REST_STEP_WORDS	16

/*
 * A namespace's resting ports, shared by TCP and UDP, for the ports of
 * [lo, hi] only (the range when it was made, widened to whole words):
 * two bits and a u16 stamp per port, and the last releases in order.
 * Allocated only while the namespace is in random mode.
 */
struct ephport_rest {
	u32 lo, hi;		/* ports covered; lo % BITS_PER_LONG == 0 */
	u16 swept;		/* the unit of the last sweep's start */
	bool swept_once;
	u16 recent_next;	/* the slot of recent[] the next release takes */
	u16 recent_used;	/* slots of recent[] written so far */
	u16 recent[EPHPORT_REST_RECENT];	/* released ports, a ring */
	/* The sweep under way, made a step at a time. */
	bool sweeping;
	bool sweep_left;	/* it kept a released port resting */
	u16 sweep_now;		/* the unit it started at */
	u16 sweep_oldest;	/* the oldest stamp of those it kept */
	u32 sweep_w;		/* the next word it looks at */
	/* bit p - lo: released less than the delay ago, or handed out */
	unsigned long *resting;
	/* bit p - lo: chosen by ephport, release not seen yet */
	unsigned long *out;
	u16 *stamp;		/* [p - lo]: unit of the release */
	unsigned long data[];	/* resting, out, stamp */
};

/*
 * An LRU choice under way, made a step at a time (its caller's, on its
 * stack): the ring of the last releases, each port once with its place
 * (0: released last), sorted by port; the word it looks at next; the
 * best port so far and its release's unit (its age is taken at each
 * step's c->now: a caller that drops its lock between steps reads the
 * clock again under it, so that no stamp is later than c->now).
 */
struct ephport_lru {
	u16 nring;
	u16 ring[EPHPORT_REST_RECENT];
	u8 place[EPHPORT_REST_RECENT];
	u32 w;
	bool found;
	u32 port;
	u16 stamp;		/* its release's unit */
	int rank;		/* how far back its release is in the ring */
};

/* What a choice excludes; bound and reserved have EPHPORT_NPORTS bits. */
struct ephport_choice {
	const unsigned long *bound;	/* bound in the namespace */
	const unsigned long *reserved;	/* ip_local_reserved_ports, or NULL */
	struct ephport_rest *rest;	/* its resting ports */
	/* NULL: an LRU choice is made whole; else begun there (_LRU_STEP) */
	struct ephport_lru *lru;
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
	/* Not the core's: the bound ports cannot be trusted at the moment. */
	EPHPORT_PICK_UNTRUSTED,
};

/* Random mode's counters (ephport_counters.h). */
enum ephport_rcounter {
#define EPHPORT_RANDOM_COUNTER(id, ...) EPHPORT_##id,
#include "ephport_counters.h"
	EPHPORT_NRCOUNTERS,
};

size_t ephport_rest_size(u32 lo, u32 hi);
void ephport_rest_init(struct ephport_rest *r, u32 lo, u32 hi);
bool ephport_rest_covers(const struct ephport_rest *r, u32 lo, u32 hi);
void ephport_rest_copy(struct ephport_rest *to, const struct ephport_rest *from);
enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided);
unsigned long ephport_outcome(enum ephport_pick pick, bool accepted);
u16 ephport_rest_now(u64 msecs);
bool ephport_rest_expired(u16 stamp, u16 now, u32 delay_ms);
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms);
void ephport_rest_handout(struct ephport_rest *r, u32 port);
bool ephport_rest_resting(const struct ephport_rest *r, u32 port);
u32 ephport_rest_count(const struct ephport_rest *r, u32 lo, u32 hi);
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b);
bool ephport_rest_sweep_step(struct ephport_rest *r, u16 now, u32 delay_ms,
			     const unsigned long *bound_a,
			     const unsigned long *bound_b, u32 nwords);
u32 ephport_rest_next_ms(const struct ephport_rest *r, u16 now, u32 delay_ms);
bool ephport_lru_step(struct ephport_lru *l, const struct ephport_choice *c,
		      u32 nwords);

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
const char *ephport_mode_name(enum ephport_mode mode);

/* What drives the TCP part of a namespace's alarm (alarm_basis). */
enum ephport_basis {
	EPHPORT_BASIS_PORTS,	/* distinct local ports of the range bound */
	EPHPORT_BASIS_DEST,	/* local ports held toward one destination */
};

int ephport_parse_basis(const char *buf, enum ephport_basis *basis);
const char *ephport_basis_name(enum ephport_basis basis);

#endif /* _EPHPORT_CORE_H */
