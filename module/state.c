// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the base of each namespace's state (state.h): the list of
 * namespaces, the memory they get, the settings, and the state's work
 * item, whose function is handed in at init (the alarm's, alarm.c).
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "state.h"

unsigned int ephport_net_id __read_mostly;

/* Protects the list and more: state.h says what. */
DEFINE_MUTEX(ephport_nets_lock);
LIST_HEAD(ephport_nets);
static atomic_t ephport_nets_tracked = ATOMIC_INIT(0);

int ephport_default_mode = EPHPORT_MODE_OBSERVE;
int ephport_default_delay_ms = EPHPORT_DELAY_DEFAULT_MS;
unsigned int ephport_alarm_pct = 90;
int ephport_alarm_basis = EPHPORT_BASIS_PORTS;

/*
 * Deferred passes and alarm notifications: one work item for the host,
 * since a pass walks the host's tables for every namespace at once. What
 * it does is handed in at init (ephport_state_init()); until then it
 * does nothing.
 */
static work_func_t ephport_work_func __read_mostly;

static void ephport_work_fn(struct work_struct *work)
{
	work_func_t fn = READ_ONCE(ephport_work_func);

	if (fn)
		fn(work);
}

static DECLARE_DELAYED_WORK(ephport_work, ephport_work_fn);

/*
 * kvzalloc() with EPHPORT_GFP, but without retrying hard for contiguous
 * pages (kvmalloc() would, given __GFP_RETRY_MAYFAIL): a large buffer
 * falls back to vmalloc at once rather than wait for compaction, which
 * callers may do under ephport_nets_lock. Freed with kvfree().
 */
void *ephport_kvzalloc(size_t size)
{
	void *p;

	if (size <= PAGE_SIZE)
		return kzalloc(size, EPHPORT_GFP);
	p = kzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN);
	return p ? p : __vmalloc(size, EPHPORT_GFP | __GFP_ZERO);
}

/*
 * A new namespace's state, its locks ready, charged to the memory
 * cgroup of the task that creates the namespace; NULL without memory.
 * Its owners then fill in their parts (netns.c).
 */
struct ephport_net *ephport_net_alloc(struct net *net)
{
	struct ephport_net *en;
	int i;

	en = kzalloc(sizeof(*en), EPHPORT_GFP);
	if (!en)
		return NULL;
	en->net = net;
	INIT_LIST_HEAD(&en->node);
	spin_lock_init(&en->lock);
	raw_spin_lock_init(&en->fold_lock);
	spin_lock_init(&en->rest_lock);
	raw_spin_lock_init(&en->steer_lock);
	for (i = 0; i < EPHPORT_STEER_BUCKETS; i++)
		INIT_HLIST_HEAD(&en->steering[i]);
	/*
	 * At most one alarm message every 5 s, with a burst of 10. What it
	 * suppresses is not noted per namespace (that would be a message
	 * per namespace again): the host's budget notes it (alarm.c).
	 */
	ratelimit_state_init(&en->alarm_rs, 5 * HZ, 10);
	ratelimit_set_flags(&en->alarm_rs, RATELIMIT_MSG_ON_RELEASE);
	en->mode = EPHPORT_MODE_DEFAULT;
	en->delay_ms = EPHPORT_DELAY_FOLLOW;
	return en;
}

/* Listed: the pass, the work and the switches see it from now. */
void ephport_net_track(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	list_add_tail(&en->node, &ephport_nets);
	en->tracked = true;
	atomic_inc(&ephport_nets_tracked);
}

void ephport_net_untrack(struct ephport_net *en)
{
	lockdep_assert_held(&ephport_nets_lock);
	en->tracked = false;
	list_del_init(&en->node);
	atomic_dec(&ephport_nets_tracked);
}

int ephport_nets_count(void)
{
	return atomic_read(&ephport_nets_tracked);
}

/* Soon, even if the work is due later. */
void ephport_netns_kick(void)
{
	mod_delayed_work(ephport_percpu_wq, &ephport_work, 1);
}

/* Soon, but not sooner than the work already plans. */
void ephport_work_soon(void)
{
	queue_delayed_work(ephport_percpu_wq, &ephport_work, 1);
}

void ephport_work_later(unsigned long delay)
{
	queue_delayed_work(ephport_percpu_wq, &ephport_work, delay);
}

/* What the work does, handed in by the layer that owns it. */
void ephport_state_init(work_func_t work)
{
	WRITE_ONCE(ephport_work_func, work);
}

/*
 * The work goes before the state it walks. Nothing queues it again once
 * the hooks and files are gone: a namespace's exit does not.
 */
void ephport_state_uninit(void)
{
	cancel_delayed_work_sync(&ephport_work);
	WRITE_ONCE(ephport_work_func, NULL);
}
