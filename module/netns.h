/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: each namespace's state, with one owner.
 *
 *   netns.c		the state's life (one pernet_operations), the
 *			list of namespaces, the settings
 *   counting.c	bound ports from events and passes, what readers
 *			see, the alarm and its notification
 *   release.c		releases: is the port still held in the namespace?
 *   random_mode.c	random mode's part: choosing, resting ports
 *   tables.c		the kernel's bind hash and UDP tables
 *
 * This layer calls the pure core (core.h) and the kernel, nothing above
 * it: the hooks (hooks.c, redirect.c) and the interfaces (sysfs.c,
 * procfs.c, sysctl.c, params.c) call into it. What it needs to know of
 * the hooks is handed to it by ephport_netns_start().
 */
#ifndef _EPHPORT_NETNS_H
#define _EPHPORT_NETNS_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
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

struct kernfs_node;
struct net;
struct sock;
struct hlist_node;

enum ephport_counter {
#define EPHPORT_OBSERVE_COUNTER(id, ...) EPHPORT_##id,
#include "ephport_counters.h"
	EPHPORT_NCOUNTERS,
};

extern const char *const ephport_counter_names[EPHPORT_NCOUNTERS];
extern const char *const ephport_rcounter_names[EPHPORT_NRCOUNTERS];
extern const char *const ephport_proto_names[EPHPORT_NPROTO];

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

#define EPHPORT_STEER_BITS	4
#define EPHPORT_STEER_BUCKETS	BIT(EPHPORT_STEER_BITS)

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
	 * lock protects usage[] (but the bitmaps), passing, pass_seq,
	 * dirty_seq, clean_seq, alarm_changed, alarm_on, dest_max and
	 * dest_alarm. Readers, passes, random mode and the work take it,
	 * never the bind and release hooks of observe mode. Taken outside
	 * fold_lock.
	 */
	spinlock_t lock;
	struct ephport_usage usage[EPHPORT_NPROTO];
	bool passing;			/* a pass is rebuilding the bitmaps */
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

	struct ephport_cpu __percpu *cpu;

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
	/* Made ahead of a global switch to random mode; ephport_nets_lock. */
	struct ephport_rest *spare;

	/*
	 * Protects steering[] and nsteering: the sockets random mode is
	 * steering a call for (struct ephport_steering). A leaf lock, taken
	 * in probe handlers: raw, for PREEMPT_RT.
	 */
	raw_spinlock_t steer_lock;
	unsigned int nsteering;		/* entries; READ_ONCE without the lock */
	struct hlist_head steering[EPHPORT_STEER_BUCKETS];
};

/* A socket random mode steers a call for: on the steering task's stack. */
struct ephport_steering {
	struct hlist_node node;		/* in its namespace's steering[] */
	const struct sock *sk;
	struct ephport_net *en;
};

/*
 * Protects the list of namespaces (ephport_nets), each one's tracked
 * flag and alarm_kn, the pass's bookkeeping in netns.c, and every
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

	/* Published by ephport_net_init() with smp_store_release(). */
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

/* What a reader sees of a namespace's usage. */
struct ephport_values {
	u32 lo, hi;
	u32 in_use[EPHPORT_NPROTO];
	u32 peak[EPHPORT_NPROTO];
	bool alarm;
};

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

/* ---- netns.c ---- */

int ephport_netns_init(void);
void ephport_netns_uninit(void);
void ephport_netns_start(const struct ephport_netns_env *env);
void ephport_netns_stop(void);
int ephport_nets_count(void);
int ephport_set_default_mode(enum ephport_mode mode);
void ephport_set_default_delay(int ms);
int ephport_net_set_mode(struct ephport_net *en, enum ephport_mode mode);
void ephport_net_set_delay(struct ephport_net *en, int ms);

/* ---- counting.c ---- */

void ephport_counting_start(const struct ephport_netns_env *env);
void ephport_counting_stop(void);
void ephport_counting_join(struct ephport_net *en);
void ephport_counting_uninit(void);
void ephport_netns_kick(void);
unsigned long ephport_nets_passes(void);

/* Events, from the hooks (atomic context). */
void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port);
void ephport_net_unbind(struct ephport_net *en, enum ephport_proto proto,
			u32 port);
void ephport_net_search(struct ephport_net *en, u64 ns);
bool ephport_net_settled(struct ephport_net *en);

/* Readers and writers, from the interfaces (process context). */
bool ephport_counter_supported(enum ephport_counter c);
bool ephport_search_supported(void);
void ephport_net_values(struct ephport_net *en, struct ephport_values *v);
void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto);
struct kernfs_node *ephport_net_watch_alarm(struct ephport_net *en,
					    struct kernfs_node *kn);
void ephport_set_alarm_pct(unsigned int pct);
void ephport_alarms_rejudge(void);
bool ephport_net_alarm(struct ephport_net *en);

/* ---- dests.c: the TCP destinations, from the established hash ---- */

void ephport_dests_init(struct ephport_net *en);
void ephport_dests_free(struct ephport_net *en);
int ephport_net_dests(struct ephport_net *en, struct ephport_dests *out);
int ephport_net_dest_max(struct ephport_net *en, u32 *max);
u32 ephport_dest_headroom(const struct ephport_dests *d,
			  const struct ephport_dest *e);
bool ephport_net_dests_alarm(struct ephport_net *en);
void ephport_net_dests_seen(struct ephport_net *en, u32 max, u32 lo, u32 hi,
			    u32 reserved);
void ephport_set_alarm_basis(enum ephport_basis basis);
bool ephport_dests_round(void);

/* ---- release.c: a socket of the namespace lets go of a port ---- */

void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked);
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk);

/* ---- random_mode.c ---- */

/* What the hooks do for random mode. */
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
void ephport_random_chosen(struct ephport_net *en, enum ephport_proto proto,
			   u32 port);
void ephport_random_count(struct ephport_net *en, enum ephport_pick pick,
			  bool accepted);
void ephport_random_released(struct ephport_net *en, u32 port);
u32 ephport_random_resting(struct ephport_net *en);
int ephport_random_prepare(struct ephport_net *en);
void ephport_random_unprepare(struct ephport_net *en);
int ephport_random_update(struct ephport_net *en);
void ephport_random_free(struct ephport_net *en);
void ephport_steer_begin(struct ephport_net *en, struct ephport_steering *st,
			 const struct sock *sk);
void ephport_steer_end(struct ephport_steering *st);
bool ephport_net_steering(struct ephport_net *en, const struct sock *sk);

#endif /* _EPHPORT_NETNS_H */
