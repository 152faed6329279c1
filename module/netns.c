// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: each namespace's state (netns.h): its life, from one
 * pernet_operations, the list of namespaces, and the settings.
 *
 * The interfaces register their own pernet_operations after these, so a
 * namespace's files are made after its state and removed before it
 * (pernet exits run in reverse order); at unload they go first too.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/kernfs.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stringify.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "netns.h"

unsigned int ephport_net_id __read_mostly;

/* Protects the list and more: netns.h says what. */
DEFINE_MUTEX(ephport_nets_lock);
LIST_HEAD(ephport_nets);
static atomic_t ephport_nets_tracked = ATOMIC_INIT(0);

int ephport_default_mode = EPHPORT_MODE_OBSERVE;
int ephport_default_delay_ms = EPHPORT_DELAY_DEFAULT_MS;

const char *const ephport_counter_names[EPHPORT_NCOUNTERS] = {
#define EPHPORT_OBSERVE_COUNTER(id, name) \
	[EPHPORT_##id] = __stringify(name),
#include "ephport_counters.h"
};

const char *const ephport_rcounter_names[EPHPORT_NRCOUNTERS] = {
#define EPHPORT_RANDOM_COUNTER(id, name) \
	[EPHPORT_##id] = __stringify(name),
#include "ephport_counters.h"
};

static void ephport_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ephport_sweep_work, ephport_sweep_fn);

int ephport_nets_count(void)
{
	return atomic_read(&ephport_nets_tracked);
}

/*
 * No task holds the namespace any more (its exits are queued) or they
 * have begun: still listed, but no longer worth random mode's memory.
 */
static bool ephport_net_leaving(struct ephport_net *en)
{
	return !READ_ONCE(en->alive) || !check_net(en->net);
}

/*
 * The mode of every namespace that follows the default: all of them, or
 * (-ENOMEM, a namespace could not get random mode's memory) none, the
 * default unchanged. -EBUSY, nothing changed, if random mode cannot
 * steer (redirects says why).
 */
int ephport_set_default_mode(enum ephport_mode mode)
{
	struct ephport_net *en;
	int ret = 0;

	if (mode == EPHPORT_MODE_RANDOM && ephport_random_steer())
		return -EBUSY;
	mutex_lock(&ephport_nets_lock);
	/*
	 * First the memory every follower needs, then the switch. A
	 * namespace on its way out gets none (and changes nothing): after
	 * many namespaces went, the writer does not pay for them.
	 */
	list_for_each_entry(en, &ephport_nets, node) {
		if (mode != EPHPORT_MODE_RANDOM || ephport_net_leaving(en) ||
		    READ_ONCE(en->mode) != EPHPORT_MODE_DEFAULT)
			continue;
		ret = ephport_random_prepare(en);
		if (ret)
			break;
	}
	if (ret) {
		list_for_each_entry(en, &ephport_nets, node)
			ephport_random_unprepare(en);
		goto out;
	}
	WRITE_ONCE(ephport_default_mode, mode);
	/* Followers have their memory; a namespace of its own keeps its. */
	list_for_each_entry(en, &ephport_nets, node)
		if (!ephport_net_leaving(en))
			ephport_random_update(en);
out:
	mutex_unlock(&ephport_nets_lock);
	return ret;
}

void ephport_set_default_delay(int ms)
{
	WRITE_ONCE(ephport_default_delay_ms, ms);
}

/*
 * Where to notify a change of the namespace's alarm (NULL: nowhere),
 * with a reference the state holds from now on. Returns the previous
 * one, whose reference passes to the caller.
 */
struct kernfs_node *ephport_net_watch_alarm(struct ephport_net *en,
					    struct kernfs_node *kn)
{
	struct kernfs_node *old;

	mutex_lock(&ephport_nets_lock);
	old = en->alarm_kn;
	en->alarm_kn = kn;
	mutex_unlock(&ephport_nets_lock);
	return old;
}

/*
 * A namespace's own mode; unchanged if random mode's memory is lacking,
 * or (-EBUSY) if random mode cannot steer.
 */
int ephport_net_set_mode(struct ephport_net *en, enum ephport_mode mode)
{
	int ret, old;

	if (mode == EPHPORT_MODE_RANDOM && ephport_random_steer())
		return -EBUSY;
	mutex_lock(&ephport_nets_lock);
	old = en->mode;
	WRITE_ONCE(en->mode, mode);
	ret = ephport_random_update(en);
	if (ret)
		WRITE_ONCE(en->mode, old);
	mutex_unlock(&ephport_nets_lock);
	return ret;
}

void ephport_net_set_delay(struct ephport_net *en, int ms)
{
	WRITE_ONCE(en->delay_ms, ms);
}

/* Every EPHPORT_SWEEP_SECS: no resting stamp lives long enough to wrap. */
static void ephport_sweep_fn(struct work_struct *work)
{
	struct ephport_net *en;

	mutex_lock(&ephport_nets_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		ephport_random_resting(en);
		cond_resched();
	}
	mutex_unlock(&ephport_nets_lock);
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
}

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

/* ---- pernet_operations ---- */

static void ephport_net_free(struct ephport_net *en)
{
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		kfree(en->usage[p].bound);
		en->usage[p].bound = NULL;
	}
	free_percpu(en->cpu);
	en->cpu = NULL;
	ephport_dests_free(en);
}

/*
 * A new namespace's state, charged to the memory cgroup of the task
 * that creates it. Without memory the namespace is made all the same,
 * only not counted: no files, the hooks leave it alone.
 */
static int __net_init ephport_net_init(struct net *net)
{
	struct ephport_net **slot = net_generic(net, ephport_net_id);
	struct ephport_net *en;
	int p;

	en = kzalloc(sizeof(*en), EPHPORT_GFP);
	if (!en)
		goto err_warn;
	en->net = net;
	spin_lock_init(&en->lock);
	raw_spin_lock_init(&en->fold_lock);
	spin_lock_init(&en->rest_lock);
	raw_spin_lock_init(&en->steer_lock);
	for (p = 0; p < EPHPORT_STEER_BUCKETS; p++)
		INIT_HLIST_HEAD(&en->steering[p]);
	/* At most one alarm message every 5 s, with a burst of 10. */
	ratelimit_state_init(&en->alarm_rs, 5 * HZ, 10);
	ephport_dests_init(en);
	INIT_LIST_HEAD(&en->node);
	en->mode = EPHPORT_MODE_DEFAULT;
	en->delay_ms = EPHPORT_DELAY_FOLLOW;
	en->cpu = alloc_percpu_gfp(struct ephport_cpu, EPHPORT_GFP);
	if (!en->cpu)
		goto err_free;
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		en->usage[p].bound = kcalloc(BITS_TO_LONGS(EPHPORT_NPORTS),
					     sizeof(unsigned long),
					     EPHPORT_GFP);
		if (!en->usage[p].bound)
			goto err_free;
		en->usage[p].lo = 1;
		en->usage[p].hi = 0;
	}

	/* Initialized before it can be seen (ephport_net_of()). */
	smp_store_release(slot, en);
	mutex_lock(&ephport_nets_lock);
	ephport_counting_join(en);
	/* Without random mode's memory, the kernel chooses (counted). */
	ephport_random_update(en);
	list_add_tail(&en->node, &ephport_nets);
	en->tracked = true;
	en->counted = true;
	/* Listed and not alive: leaving (pre_exit has run). */
	WRITE_ONCE(en->alive, true);
	mutex_unlock(&ephport_nets_lock);
	atomic_inc(&ephport_nets_tracked);
	return 0;

err_free:
	ephport_net_free(en);
	kfree(en);
err_warn:
	pr_warn_ratelimited("netns %u: no memory for its state, not counted\n",
			    net->ns.inum);
	return 0;
}

/* Handlers stop using the state; the core's synchronize_rcu() follows. */
static void __net_exit ephport_net_pre_exit(struct net *net)
{
	struct ephport_net *en = ephport_net_of(net);

	if (en)
		WRITE_ONCE(en->alive, false);
}

/*
 * The interfaces' files are gone by now (their pernet_operations come
 * after these, and exits run in reverse order).
 */
static void __net_exit ephport_net_exit(struct net *net)
{
	struct ephport_net **slot = net_generic(net, ephport_net_id);
	struct ephport_net *en = *slot;

	if (!en)
		return;
	WRITE_ONCE(*slot, NULL);
	/* Out of the list first: the work notifies listed namespaces only. */
	mutex_lock(&ephport_nets_lock);
	en->tracked = false;
	list_del_init(&en->node);
	ephport_random_free(en);
	mutex_unlock(&ephport_nets_lock);
	atomic_dec(&ephport_nets_tracked);
	ephport_net_free(en);
	kfree(en);
}

static struct pernet_operations ephport_net_ops = {
	.init = ephport_net_init,
	.pre_exit = ephport_net_pre_exit,
	.exit = ephport_net_exit,
	.id = &ephport_net_id,
	.size = sizeof(struct ephport_net *),
};

int ephport_netns_init(void)
{
	return register_pernet_subsys(&ephport_net_ops);
}

/*
 * The work goes before the state it walks: a pass still pending would
 * otherwise read the namespaces' state after unregistering freed it.
 * Nothing queues it again: the hooks and files are gone, and a
 * namespace's exit does not.
 */
void ephport_netns_uninit(void)
{
	ephport_counting_uninit();
	unregister_pernet_subsys(&ephport_net_ops);
}

/* The hooks are in place: count, and sweep resting ports from now on. */
void ephport_netns_start(const struct ephport_netns_env *env)
{
	ephport_counting_start(env);
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
}

/* The hooks are about to go. */
void ephport_netns_stop(void)
{
	cancel_delayed_work_sync(&ephport_sweep_work);
	ephport_counting_stop();
}
