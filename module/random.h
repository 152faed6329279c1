/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: random mode (issue 4). ephport chooses the ephemeral port,
 * uniformly among the ports of the socket's range that are neither
 * reserved, nor bound in the namespace, nor resting (released less than
 * reuse_delay_ms ago); the kernel still checks the port it is given.
 */
#ifndef _EPHPORT_RANDOM_H
#define _EPHPORT_RANDOM_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "ephport.h"

struct ctl_table;
struct kobject;
struct ctl_table_header;
struct seq_file;

enum ephport_mode {
	EPHPORT_MODE_DEFAULT,	/* net.ephport.mode only: follow the global mode */
	EPHPORT_MODE_OBSERVE,
	EPHPORT_MODE_RANDOM,
};

#define EPHPORT_DELAY_DEFAULT_MS	60000
#define EPHPORT_DELAY_MAX_MS		600000
#define EPHPORT_DELAY_FOLLOW		(-1)	/* net.ephport.reuse_delay_ms */

/*
 * Release times are kept in 16 ms units, as u16 (wrapping every 1048 s):
 * a sweep at least every EPHPORT_SWEEP_SECS forgets every expired port
 * long before its stamp can wrap (the longest delay is 600 s).
 */
#define EPHPORT_REST_UNIT_SHIFT	4
#define EPHPORT_SWEEP_SECS	30

/* ---- random.c: the pure logic, driven by KUnit ---- */

/*
 * A namespace's resting ports, shared by TCP and UDP. Allocated only
 * while the namespace is in random mode: 8 KiB + 8 KiB + 128 KiB.
 */
struct ephport_rest {
	struct rcu_head rcu;
	u16 swept;		/* the unit of the last sweep */
	bool swept_once;
	/* released less than the delay ago, or handed out (below) */
	unsigned long resting[BITS_TO_LONGS(EPHPORT_NPORTS)];
	/* chosen by ephport, release not seen yet: rests until it is */
	unsigned long out[BITS_TO_LONGS(EPHPORT_NPORTS)];
	u16 stamp[EPHPORT_NPORTS];	/* unit of the release */
};

/* What a choice excludes; all bitmaps have EPHPORT_NPORTS bits. */
struct ephport_choice {
	const unsigned long *bound;	/* bound in the namespace */
	const unsigned long *resting;	/* swept: no expired port left */
	const unsigned long *reserved;	/* ip_local_reserved_ports, or NULL */
	u32 lo, hi;			/* the effective range, both included */
	int avoid;			/* a port never to choose, or -1 */
};

enum ephport_pick {
	EPHPORT_PICK_OK,
	EPHPORT_PICK_FULL,	/* no free port at all: bound or reserved */
	EPHPORT_PICK_RESTING,	/* free ports, but every one of them rests */
};

enum ephport_pick ephport_choose(const struct ephport_choice *c,
				 u32 (*below)(u32 ceil), u32 *port,
				 bool *avoided);
u16 ephport_rest_now(u64 msecs);
bool ephport_rest_expired(u16 stamp, u16 now, u32 delay_ms);
void ephport_rest_release(struct ephport_rest *r, u32 port, u16 now,
			  u32 delay_ms);
void ephport_rest_handout(struct ephport_rest *r, u32 port);
void ephport_rest_sweep(struct ephport_rest *r, u16 now, u32 delay_ms,
			const unsigned long *bound_a,
			const unsigned long *bound_b);
int ephport_parse_mode(const char *buf, bool allow_default,
		       enum ephport_mode *mode);
int ephport_parse_delay(const char *buf, bool allow_follow, int *ms);
const char *ephport_mode_name(enum ephport_mode mode);

/* ---- ctl.c: controls and per-namespace random state ---- */

enum ephport_rcounter {
	EPHPORT_RANDOM_OK,
	EPHPORT_RANDOM_FALLBACK,
	EPHPORT_RANDOM_FALLBACK_FULL,
	EPHPORT_RANDOM_FALLBACK_RESTING,
	EPHPORT_RANDOM_FALLBACK_REFUSED,
	EPHPORT_SELF_CONNECT_AVOIDED,
	EPHPORT_NRCOUNTERS,
};

struct ephport_rnet {
	struct net *net;
	struct list_head node;		/* ephport_rnets, under ephport_ctl_lock */
	struct ctl_table_header *sysctl;
	struct ctl_table *table;	/* this namespace's copy */
	struct kobject *kobj;		/* net/<inum>/, which has our group */
	bool alive;			/* handlers may use it (RCU-published) */
	int mode;			/* net.ephport.mode: READ_ONCE/WRITE_ONCE */
	int delay_ms;			/* net.ephport.reuse_delay_ms: the same */
	/* Present while in random mode; replaced under ephport_ctl_lock. */
	struct ephport_rest __rcu *rest;
	/*
	 * Protects *rest. A leaf lock but for the ephport_net lock, taken
	 * inside it; taken inside bind hash / UDP slot locks on release.
	 */
	spinlock_t lock;
	atomic_long_t counters[EPHPORT_NRCOUNTERS];
};

int ephport_ctl_init(void);
void ephport_ctl_uninit(void);
struct ephport_rnet *ephport_rnet_get(const struct net *net);
bool ephport_rnet_random(struct ephport_rnet *rn);
void ephport_rcount(struct ephport_rnet *rn, enum ephport_rcounter c);
int ephport_random_choose(struct sock *sk, enum ephport_proto proto,
			  int avoid, u32 *port);
void ephport_random_chosen(struct sock *sk, enum ephport_proto proto,
			   u32 port);
void ephport_random_released(struct net *net, u32 port);
void ephport_random_proc_show(struct seq_file *seq, struct net *net);

/* ---- redirect.c: steering the kernel's port choice ---- */

int ephport_redirect_init(void);
void ephport_redirect_uninit(void);
bool ephport_steer_inner(const struct sock *sk);
int ephport_redirect_show(char *buf);

#endif /* _EPHPORT_RANDOM_H */
