/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: random mode's part of each namespace's state (random_mode.c).
 */
#ifndef _EPHPORT_RANDOM_MODE_H
#define _EPHPORT_RANDOM_MODE_H

#include <linux/jiffies.h>

#include "state.h"

struct sock;

/*
 * What the redirects offer random mode, handed to it at init
 * (redirect.c): random mode can only be switched on once they steer.
 */
struct ephport_steer_ops {
	int (*arm)(void);	/* have the redirects in place; may sleep */
};

void ephport_random_set_steer(const struct ephport_steer_ops *ops);
int ephport_random_steer(void);
bool ephport_random_active(struct ephport_net *en);
enum ephport_pick ephport_random_choose(struct ephport_net *en,
					struct sock *sk,
					enum ephport_proto proto, int avoid,
					u32 *port, bool *avoided);
/* What a steered connect() to its own address came to, if anything. */
enum ephport_self {
	EPHPORT_SELF_NONE,
	EPHPORT_SELF_AVOIDED,	/* no port but the destination's: failed */
	EPHPORT_SELF_REFUSED,	/* the kernel gave it that port: failed */
};

void ephport_random_done(struct ephport_net *en, enum ephport_proto proto,
			 enum ephport_pick pick, u32 port, bool accepted,
			 enum ephport_self self);
void ephport_random_refit(struct ephport_net *en, u32 lo, u32 hi);
bool ephport_random_build(struct ephport_net *en, enum ephport_proto proto,
			  unsigned long gen, u32 lo, u32 hi);

/* The resting clock's unit now (rest.c); read under rest_lock. */
static inline u16 ephport_random_now(void)
{
	return ephport_rest_now(jiffies64_to_msecs(get_jiffies_64()));
}

void ephport_random_released(struct ephport_net *en, u32 port);
void ephport_random_freed(struct ephport_net *en, u32 port);
u32 ephport_random_resting(struct ephport_net *en);
int ephport_random_prepare(struct ephport_net *en);
void ephport_random_unprepare(struct ephport_net *en);
int ephport_random_update(struct ephport_net *en);
void ephport_random_free(struct ephport_net *en);
void ephport_random_start(void);
void ephport_random_stop(void);

#endif /* _EPHPORT_RANDOM_MODE_H */
