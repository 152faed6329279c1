/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: each namespace's TCP destinations, and the local ports of the
 * range held toward each (dests.c).
 */
#ifndef _EPHPORT_DESTS_H
#define _EPHPORT_DESTS_H

#include <linux/in6.h>

#include "state.h"

/* Local ports of the range held toward one TCP destination. */
struct ephport_dest {
	struct in6_addr addr;		/* IPv4: v4-mapped */
	__be16 port;
	u32 held;			/* sockets, TIME_WAIT included */
	u32 time_wait;			/* of which in TIME_WAIT */
};

#define EPHPORT_DESTS_TOP	32

/* A walk's result: the EPHPORT_DESTS_TOP destinations holding the most. */
struct ephport_dests {
	bool valid;
	unsigned long stamp;		/* jiffies of the walk */
	u32 lo, hi;			/* the range then */
	u32 reserved;			/* reserved ports in it */
	u32 max;			/* the most held toward one destination */
	u32 count;			/* destinations seen */
	u32 dropped;			/* sockets left out: no memory */
	u32 n;				/* entries in top[] */
	struct ephport_dest top[EPHPORT_DESTS_TOP];
};

/* What the alarm needs of a walk. */
struct ephport_dests_brief {
	bool valid;			/* a walk was made */
	unsigned long stamp;		/* jiffies of the walk */
	u32 lo, hi;
	u32 reserved;
	u32 max;
};

void ephport_dests_init(struct ephport_net *en);
void ephport_dests_free(struct ephport_net *en);
int ephport_net_dests(struct ephport_net *en, struct ephport_dests *out);
int ephport_net_dests_brief(struct ephport_net *en,
			    struct ephport_dests_brief *b);
int ephport_net_dest_max(struct ephport_net *en, u32 *max);

/* The most namespaces one walk of the established hash serves at once. */
#define EPHPORT_DESTS_BATCH	32

void ephport_nets_dests_walk(struct ephport_net **ens, unsigned int n);
u32 ephport_dest_headroom(const struct ephport_dests *d,
			  const struct ephport_dest *e);

#endif /* _EPHPORT_DESTS_H */
