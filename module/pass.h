/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the pass over the host's tables of bound ports (pass.c), and
 * what the hooks can see, which tells when one is needed.
 */
#ifndef _EPHPORT_PASS_H
#define _EPHPORT_PASS_H

#include "counting.h"
#include "state.h"

/*
 * What the hooks tell the state, handed to it once they are in place:
 * which counters and whether search_ns are fed, whether every bind and
 * release is seen (events may then keep the counts exact), and how many
 * events the hooks have missed so far.
 */
struct ephport_netns_env {
	unsigned long supported;	/* bit c: counter c has its hook */
	bool search_supported;
	bool exact;
	unsigned long (*missed)(void);
};

void ephport_pass_start(const struct ephport_netns_env *env);
void ephport_pass_stop(void);
void ephport_pass_join(struct ephport_net *en);
bool ephport_pass_due(unsigned long *delay);
bool ephport_pass_wanted(struct ephport_net *en);
void ephport_pass_request(void);
bool ephport_net_settled(struct ephport_net *en);
unsigned long ephport_nets_passes(void);
bool ephport_counter_supported(enum ephport_counter c);
bool ephport_search_supported(void);

#endif /* _EPHPORT_PASS_H */
