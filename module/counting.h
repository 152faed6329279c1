/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: counting each namespace's bound ports and events (counting.c).
 */
#ifndef _EPHPORT_COUNTING_H
#define _EPHPORT_COUNTING_H

#include <linux/percpu.h>

#include "state.h"

enum ephport_counter {
#define EPHPORT_OBSERVE_COUNTER(id, ...) EPHPORT_##id,
#include "ephport_counters.h"
	EPHPORT_NCOUNTERS,
};

extern const char *const ephport_counter_names[EPHPORT_NCOUNTERS];
extern const char *const ephport_rcounter_names[EPHPORT_NRCOUNTERS];
extern const char *const ephport_proto_names[EPHPORT_NPROTO];

/*
 * What the hot path writes: per CPU, like the kernel's own SNMP MIBs.
 * Written with interrupts off or with this_cpu ops; readers add up the
 * CPUs without a lock.
 */
struct ephport_cpu {
	unsigned long counters[EPHPORT_NCOUNTERS];
	unsigned long rcounters[EPHPORT_NRCOUNTERS];
	unsigned long search_ns[EPHPORT_HIST_BUCKETS];
	u64 search_ns_sum;
	struct ephport_cpu_ports ports[EPHPORT_NPROTO];
};

static inline void ephport_net_count(struct ephport_net *en,
				     enum ephport_counter c)
{
	this_cpu_inc(en->cpu->counters[c]);
}

static inline void ephport_net_rcount(struct ephport_net *en,
				      enum ephport_rcounter c)
{
	this_cpu_inc(en->cpu->rcounters[c]);
}

/* A counter for readers: the CPUs' shares added up, at @off in each. */
static inline unsigned long ephport_net_sum(struct ephport_net *en,
					    size_t off)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*(unsigned long *)((char *)per_cpu_ptr(en->cpu, cpu) + off));
	return sum;
}

static inline unsigned long
ephport_net_counter(struct ephport_net *en, enum ephport_counter c)
{
	return ephport_net_sum(en, offsetof(struct ephport_cpu, counters[c]));
}

static inline unsigned long
ephport_net_searches(struct ephport_net *en, unsigned int bucket)
{
	return ephport_net_sum(en,
			       offsetof(struct ephport_cpu, search_ns[bucket]));
}

static inline u64 ephport_net_search_sum(struct ephport_net *en)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(en->cpu, cpu)->search_ns_sum);
	return sum;
}

static inline unsigned long
ephport_net_rcounter(struct ephport_net *en, enum ephport_rcounter c)
{
	return ephport_net_sum(en, offsetof(struct ephport_cpu, rcounters[c]));
}

int ephport_counting_init(struct ephport_net *en);
void ephport_counting_free(struct ephport_net *en);

/* Events, from the hooks and releases (atomic context). */
void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port);
void ephport_net_unbind(struct ephport_net *en, enum ephport_proto proto,
			u32 port);
bool ephport_net_is_bound(struct ephport_net *en, enum ephport_proto proto,
			  u32 port);
void ephport_net_search(struct ephport_net *en, u64 ns);

/* For readers, passes and the alarm (process context). */
void ephport_counts_refresh(struct ephport_net *en);
void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto);

#endif /* _EPHPORT_COUNTING_H */
