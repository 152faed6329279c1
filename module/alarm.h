/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the alarm, what readers see with it, and the work that
 * notifies it (alarm.c).
 */
#ifndef _EPHPORT_ALARM_H
#define _EPHPORT_ALARM_H

#include "state.h"

struct work_struct;

/* What a reader sees of a namespace's usage. */
struct ephport_values {
	u32 lo, hi;
	u32 in_use[EPHPORT_NPROTO];
	u32 peak[EPHPORT_NPROTO];
	bool alarm;
};

void ephport_net_values(struct ephport_net *en, struct ephport_values *v);
struct kernfs_node *ephport_net_watch_alarm(struct ephport_net *en,
					    struct kernfs_node *kn);
void ephport_set_alarm_pct(unsigned int pct);
void ephport_set_alarm_basis(enum ephport_basis basis);
void ephport_alarm_work(struct work_struct *work);

#endif /* _EPHPORT_ALARM_H */
