/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the base of each namespace's state (state.c).
 *
 * struct ephport_net, the list of namespaces and its lock, the memory
 * they get, the settings, and the state's one work item. This layer calls
 * the pure core (core.h) and the kernel, nothing of ephport above it:
 * what the work does is handed to it at init (ephport_state_init()).
 *
 * Each part of struct ephport_net has one owner, the file that keeps it
 * right (module/layers lists the files and what each may call):
 *
 *   state.c	node, tracked (the list), the locks' set-up
 *   counting.c	usage[] (counts, peaks), base/top/gen, cpu,
 *		set_at/clear_at; the bitmaps with the pass
 *   pass.c	pass_seq, dirty_seq, clean_seq; the shadows of the
 *		bitmaps, which it builds and publishes
 *   alarm.c	usage[].alarm, alarm_on, alarm_changed, dest_max,
 *		dest_alarm, alarm_kn, alarm_rs; it clears judge, which
 *		the counting's events and the pass set
 *   dests.c	dests, dests_lock
 *   random_mode.c	rest, spare, rest_work
 *   steer.c	steering[], nsteering
 *   netns.c	net, alive, counted, mode, delay_ms (the switches)
 */
#ifndef _EPHPORT_STATE_H
#define _EPHPORT_STATE_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "core.h"

/*
 * Every allocation made for a namespace or its readers: charged to the
 * memory cgroup of the task that causes it, and when that cgroup is at
 * its limit, failed (ephport then does without, or the write returns
 * ENOMEM with nothing changed) instead of OOM-killing one of its tasks
 * for ephport's sake. A failure is expected there and handled: no
 * allocation warning (ephport says what it did without).
 */
#define EPHPORT_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

void *ephport_kvzalloc(size_t size);

struct ephport_cpu;
struct ephport_dests;
struct kernfs_node;

/* The sockets being steered, hashed by address (steer.c). */
#define EPHPORT_STEER_BITS	4
#define EPHPORT_STEER_BUCKETS	BIT(EPHPORT_STEER_BITS)

struct ephport_net {
	struct net *net;		/* owner; valid while tracked */
	struct list_head node;		/* in ephport_nets */
	bool tracked;			/* in ephport_nets */
	bool alive;			/* handlers may use it (RCU-published) */
	bool counted;			/* had its memory: set once, at init */
	/* The sysfs alarm file, for poll() wakeups; set by the interface. */
	struct kernfs_node *alarm_kn;

	/*
	 * The bound ports, one bitmap per protocol (usage[p].bound): set and
	 * cleared by the hooks with atomic bit operations, no lock. The rest
	 * of usage[], what readers see, is under lock.
	 *
	 * lock protects usage[] (but the bits of the bitmaps; the
	 * pointers to them change under it), pass_seq,
	 * dirty_seq, clean_seq, alarm_changed, alarm_on, dest_max and
	 * dest_alarm. Readers, passes, random mode and the work take it,
	 * never the bind and release hooks of observe mode. Taken outside
	 * fold_lock.
	 */
	spinlock_t lock;
	struct ephport_usage usage[EPHPORT_NPROTO];
	unsigned long pass_seq;		/* dirty_seq when that pass began */
	unsigned long dirty_seq;	/* bumped when the bitmaps may be wrong */
	unsigned long clean_seq;	/* dirty_seq a pass last made right */
	bool alarm_changed;		/* the work has to notify alarm readers */
	bool alarm_on;			/* the alarm readers see (alarm_basis) */
	u32 dest_max;			/* the last walk's tcp_dest_max */
	bool dest_alarm;		/* dest_max's share above alarm_pct */
	/* The alarm's kernel messages: this namespace's own budget. */
	struct ratelimit_state alarm_rs;

	/*
	 * Protects base[], top[] and gen[]: the in-use count the CPUs'
	 * deltas add to, the highest count folded so far, and the peak's
	 * generation. A leaf lock, raw: taken with interrupts off in probe
	 * handlers, once per EPHPORT_FOLD ports a CPU binds or frees, and by
	 * readers. base[] and gen[] are also read without it (READ_ONCE).
	 */
	raw_spinlock_t fold_lock;
	int base[EPHPORT_NPROTO];
	int top[EPHPORT_NPROTO];
	unsigned int gen[EPHPORT_NPROTO];
	/*
	 * When the count may have crossed the alarm's thresholds (set_at,
	 * clear_at: ports of the range, READ_ONCE) or the range moved, the
	 * hooks ask the work to judge again: bit 0 of judge, set once.
	 */
	unsigned long judge;
	u32 set_at[EPHPORT_NPROTO];
	u32 clear_at[EPHPORT_NPROTO];

	/* The destinations' last walk (dests.c); taken outside lock. */
	struct mutex dests_lock;
	struct ephport_dests *dests;	/* under dests_lock; NULL until read */

	struct ephport_cpu __percpu *cpu;	/* counting.h */

	/* Random mode. */
	int mode;			/* net.ephport.mode: READ_ONCE/WRITE_ONCE */
	int delay_ms;			/* net.ephport.reuse_delay_ms: the same */
	/*
	 * Protects rest (the pointer and what it points to: present while
	 * in random mode, sized to the range). Taken outside lock (a sweep
	 * reads the bitmaps), never inside it; taken inside bind hash and
	 * UDP slot locks on release. READ_ONCE(rest) without it only tells
	 * whether there is one.
	 */
	spinlock_t rest_lock;
	struct ephport_rest *rest;
	/*
	 * Under rest_lock: moves whenever rest is replaced, so that a
	 * choice made in steps knows it is still on the rest it began on
	 * (a new one may have the old one's address).
	 */
	unsigned long rest_gen;
	/* Sweeps rest when a resting port's delay ends (random_mode.c). */
	struct delayed_work rest_work;
	/* Made ahead of a global switch to random mode; ephport_nets_lock. */
	struct ephport_rest *spare;

	/*
	 * Protects steering[] and nsteering: the sockets random mode is
	 * steering a call for (struct ephport_steering, steer.h). A leaf
	 * lock, taken in probe handlers: raw, for PREEMPT_RT.
	 */
	raw_spinlock_t steer_lock;
	unsigned int nsteering;		/* entries; READ_ONCE without the lock */
	struct hlist_head steering[EPHPORT_STEER_BUCKETS];
};

/*
 * Protects the list of namespaces (ephport_nets), each one's tracked
 * flag and alarm_kn, the pass's bookkeeping (pass.c), and every
 * namespace's rest pointer (allocated and freed under it). Serializes
 * passes and mode changes. Process context only.
 */
extern struct mutex ephport_nets_lock;
extern struct list_head ephport_nets;
extern unsigned int ephport_net_id;

/* The settings (READ_ONCE/WRITE_ONCE; written under ephport_nets_lock). */
extern unsigned int ephport_alarm_pct;
extern int ephport_alarm_basis;		/* enum ephport_basis */
extern int ephport_default_mode;
extern int ephport_default_delay_ms;

/*
 * A namespace's state: NULL if it got no memory. The kernel's pernet
 * storage (net_generic()) holds only the pointer, so that the state
 * itself is allocated, and charged, by ephport. For an interface's
 * pernet init and exit (theirs run after the state's init and before its
 * exit), the pass, and the hooks through ephport_net_get().
 */
static inline struct ephport_net *ephport_net_of(const struct net *net)
{
	struct ephport_net **slot = net_generic(net, ephport_net_id);

	/* Published by the state's pernet init with smp_store_release(). */
	return slot ? READ_ONCE(*slot) : NULL;
}

/*
 * Whether the namespace got the memory for its state: an interface
 * makes no files for it otherwise.
 */
static inline bool ephport_net_counted(const struct net *net)
{
	struct ephport_net *en = ephport_net_of(net);

	return en && en->counted;
}

/* Caller holds rcu_read_lock(). NULL once the namespace is leaving. */
static inline struct ephport_net *ephport_net_get(const struct net *net)
{
	struct ephport_net *en = ephport_net_of(net);

	if (!en || !READ_ONCE(en->alive))
		return NULL;
	return en;
}

/*
 * No task holds the namespace any more (its exits are queued) or they
 * have begun: still listed, but no longer worth random mode's memory.
 */
static inline bool ephport_net_leaving(struct ephport_net *en)
{
	return !READ_ONCE(en->alive) || !check_net(en->net);
}

/* The effective mode: the namespace's own, or the default. */
static inline enum ephport_mode ephport_net_mode(const struct ephport_net *en)
{
	int m = READ_ONCE(en->mode);

	return m == EPHPORT_MODE_DEFAULT ? READ_ONCE(ephport_default_mode) : m;
}

static inline u32 ephport_net_delay(const struct ephport_net *en)
{
	int d = READ_ONCE(en->delay_ms);

	return d < 0 ? READ_ONCE(ephport_default_delay_ms) : d;
}

void ephport_state_init(work_func_t work);
void ephport_state_uninit(void);
struct ephport_net *ephport_net_alloc(struct net *net);
void ephport_net_track(struct ephport_net *en);
void ephport_net_untrack(struct ephport_net *en);
int ephport_nets_count(void);
void ephport_netns_kick(void);
void ephport_work_soon(void);
void ephport_work_later(unsigned long delay);

#endif /* _EPHPORT_STATE_H */
