/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: each namespace's state, composed (netns.c): its life from one
 * pernet_operations, start and stop around the hooks, the mode switches.
 *
 * The parts and their owners, from the bottom (module/layers):
 *
 *   state.c		the base: struct ephport_net, the list, the settings
 *   tables.c		the kernel's bind hash and UDP tables
 *   counting.c		bound ports from events, what the hooks count
 *   dests.c		the TCP destinations' walk
 *   pass.c		the pass over the host's tables
 *   alarm.c		the alarm, what readers see, the work
 *   random_mode.c	random mode's part: choosing, resting ports
 *   release.c		releases, judged in one place
 *   steer.c		the steered call
 *
 * netns.c composes the first of them (their parts of a namespace's
 * life, the switches); none calls it, nor anything above it: what they
 * need from above is handed to them at init, here (the work's function)
 * or by the hooks (random mode's steer ops).
 */
#ifndef _EPHPORT_NETNS_H
#define _EPHPORT_NETNS_H

#include "pass.h"
#include "state.h"

int ephport_netns_init(void);
void ephport_netns_uninit(void);
void ephport_netns_start(const struct ephport_netns_env *env);
void ephport_netns_stop(void);
int ephport_set_default_mode(enum ephport_mode mode);
void ephport_set_default_delay(int ms);
int ephport_net_set_mode(struct ephport_net *en, enum ephport_mode mode);
void ephport_net_set_delay(struct ephport_net *en, int ms);

#endif /* _EPHPORT_NETNS_H */
