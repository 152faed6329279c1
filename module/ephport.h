/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: ephemeral port visibility and randomized allocation.
 */
#ifndef _EPHPORT_H
#define _EPHPORT_H

#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/atomic.h>

#ifndef EPHPORT_VERSION
#error "EPHPORT_VERSION comes from dkms.conf through Kbuild"
#endif

struct net;
struct sock;

/* ---- stats.c: pure accounting logic, no locking, no kernel state ---- */

enum ephport_proto {
	EPHPORT_TCP,
	EPHPORT_UDP,
	EPHPORT_NPROTO,
};

#define EPHPORT_NPORTS		65536
#define EPHPORT_ALARM_HYST	5	/* points below alarm_pct to clear */

/*
 * One protocol's ports in one namespace: which ports are bound, how many
 * of them lie in the range [lo, hi] the count was made for, and the
 * high-watermark of that count.
 */
struct ephport_usage {
	unsigned long *bound;	/* EPHPORT_NPORTS bits */
	u32 lo, hi;		/* range in_use counts; lo > hi: none yet */
	u32 in_use;		/* bits set in bound[lo..hi] */
	u32 peak;		/* max in_use seen since load or reset */
	bool alarm;		/* share of the range above alarm_pct */
};

/* search_ns: bucket i counts searches of (2^(i+S-1), 2^(i+S)] ns, S below */
#define EPHPORT_HIST_MIN_SHIFT	10	/* first bucket: up to 1024 ns */
#define EPHPORT_HIST_BUCKETS	23	/* last bucket: up to 2^32 ns, and more */

u32 ephport_bits_in_range(const unsigned long *map, u32 lo, u32 hi);
void ephport_usage_reset(struct ephport_usage *u);
void ephport_usage_set_range(struct ephport_usage *u, u32 lo, u32 hi);
bool ephport_usage_bind(struct ephport_usage *u, u32 port);
bool ephport_usage_release(struct ephport_usage *u, u32 port);
void ephport_usage_recount(struct ephport_usage *u);
void ephport_usage_reset_peak(struct ephport_usage *u);
bool ephport_alarm_update(bool *alarm, u32 in_use, u32 lo, u32 hi, u32 pct);
unsigned int ephport_hist_bucket(u64 ns);
u64 ephport_hist_bound(unsigned int bucket);
int ephport_parse_pct(const char *buf, u32 *pct);
int ephport_parse_peak_reset(const char *buf);

/* ---- netns.c: per-namespace state ---- */

enum ephport_counter {
	EPHPORT_TCP_CONNECT_OK,
	EPHPORT_TCP_CONNECT_FAIL,
	EPHPORT_TCP_BIND_OK,
	EPHPORT_TCP_BIND_FAIL,
	EPHPORT_UDP_OK,
	EPHPORT_UDP_FAIL,
	EPHPORT_SELF_CONNECT,
	EPHPORT_NCOUNTERS,
};

struct ephport_net {
	struct net *net;		/* owner; valid while tracked */
	struct list_head node;		/* in ephport_nets, under ephport_pass_lock */
	struct kobject *kobj;		/* /sys/kernel/ephport/net/<inum>/ */
	struct kernfs_node *alarm_kn;	/* its alarm file, for poll() wakeups */
	bool tracked;			/* in ephport_nets, under ephport_pass_lock */
	bool alive;			/* handlers may use it (RCU-published) */

	/*
	 * Protects usage[] (bitmaps included), passing, pass_seq, dirty_seq,
	 * clean_seq and alarm_changed. A leaf lock: taken in probe handlers, inside bind
	 * hash and UDP slot locks, never the other way round.
	 */
	spinlock_t lock;
	struct ephport_usage usage[EPHPORT_NPROTO];
	bool passing;			/* a pass is rebuilding the bitmaps */
	unsigned long pass_seq;		/* dirty_seq when that pass began */
	unsigned long dirty_seq;	/* bumped when the bitmaps may be wrong */
	unsigned long clean_seq;	/* dirty_seq a pass last made right */
	bool alarm_changed;		/* the work has to notify alarm readers */

	atomic_long_t counters[EPHPORT_NCOUNTERS];
	atomic_long_t search_ns[EPHPORT_HIST_BUCKETS];
};

struct ephport_values {
	u32 lo, hi;
	u32 in_use[EPHPORT_NPROTO];
	u32 peak[EPHPORT_NPROTO];
	bool alarm;
};

extern unsigned int ephport_alarm_pct;	/* /sys/kernel/ephport/alarm_pct */
extern atomic_t ephport_nets_count;

int ephport_netns_init(void);
void ephport_netns_uninit(void);
struct ephport_net *ephport_net_get(const struct net *net);
void ephport_net_values(struct ephport_net *en, struct ephport_values *v);
void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto);
void ephport_net_alarm_recheck_all(void);
void ephport_netns_start(void);

/* Event hooks, called from probe handlers (atomic context). */
void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port);
void ephport_net_released(struct ephport_net *en, enum ephport_proto proto,
			  u32 port);
void ephport_net_released_locked(struct ephport_net *en, u32 port);
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked);
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk);

/* ---- probes.c: the hook table ---- */

int ephport_probes_init(void);
void ephport_probes_uninit(void);
bool ephport_counter_supported(enum ephport_counter c);
bool ephport_search_supported(void);
bool ephport_probes_exact(void);
unsigned long ephport_probes_missed(void);
int ephport_probes_show(char *buf);

/* ---- procfs.c / sysfs.c ---- */

extern struct kobject *ephport_kobj;

int ephport_sysfs_init(void);
void ephport_sysfs_uninit(void);
int ephport_sysfs_net_add(struct ephport_net *en, unsigned int inum);
void ephport_sysfs_net_del(struct ephport_net *en);
struct ephport_net *ephport_kobj_net(struct kobject *kobj);
int ephport_proc_net_add(struct net *net);
void ephport_proc_net_del(struct net *net);

extern const char *const ephport_counter_names[EPHPORT_NCOUNTERS];

#endif /* _EPHPORT_H */
