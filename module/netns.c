// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: each namespace's state, composed (netns.h): its life, from one
 * pernet_operations whose init and exit call each part's, and the mode
 * switches, which need random mode's memory and its redirects.
 *
 * The interfaces register their own pernet_operations after these, so a
 * namespace's files are made after its state and removed before it
 * (pernet exits run in reverse order); at unload they go first too.
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "alarm.h"
#include "counting.h"
#include "dests.h"
#include "netns.h"
#include "random_mode.h"

/*
 * The mode of every namespace that follows the default: all of them, or
 * (-ENOMEM, a namespace could not get random mode's memory) none, the
 * default unchanged. -EBUSY, nothing changed, if random mode cannot
 * steer (redirects says why); -EPERM if the redirects are not registered
 * yet and the caller may not register them (redirect.c: the host only).
 */
int ephport_set_default_mode(enum ephport_mode mode)
{
	struct ephport_net *en;
	int ret;

	ret = mode == EPHPORT_MODE_RANDOM ? ephport_random_steer() : 0;
	if (ret)
		return ret;
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
 * A namespace's own mode; unchanged if random mode's memory is lacking,
 * (-EBUSY) if random mode cannot steer, or (-EPERM) if the redirects are
 * not registered and the caller may not register them. Whether a tenant
 * may ask at all is the interface's to judge (sysctl.c).
 */
int ephport_net_set_mode(struct ephport_net *en, enum ephport_mode mode)
{
	int ret, old;

	ret = mode == EPHPORT_MODE_RANDOM ? ephport_random_steer() : 0;
	if (ret)
		return ret;
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

/* ---- pernet_operations ---- */

static void ephport_net_free(struct ephport_net *en)
{
	ephport_dests_free(en);
	ephport_counting_free(en);
	kfree(en);
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

	en = ephport_net_alloc(net);
	if (!en)
		goto err_warn;
	if (ephport_counting_init(en))
		goto err_free;
	ephport_dests_init(en);

	/* Initialized before it can be seen (ephport_net_of()). */
	smp_store_release(slot, en);
	mutex_lock(&ephport_nets_lock);
	ephport_pass_join(en);
	/* Without random mode's memory, the kernel chooses (counted). */
	ephport_random_update(en);
	ephport_net_track(en);
	en->counted = true;
	/* Listed and not alive: leaving (pre_exit has run). */
	WRITE_ONCE(en->alive, true);
	mutex_unlock(&ephport_nets_lock);
	return 0;

err_free:
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
	ephport_net_untrack(en);
	ephport_random_free(en);
	mutex_unlock(&ephport_nets_lock);
	ephport_net_free(en);
}

static struct pernet_operations ephport_net_ops = {
	.init = ephport_net_init,
	.pre_exit = ephport_net_pre_exit,
	.exit = ephport_net_exit,
	.id = &ephport_net_id,
	.size = sizeof(struct ephport_net *),
};

/* The state's work is the alarm's: passes, judgements, notifications. */
int ephport_netns_init(void)
{
	ephport_state_init(ephport_alarm_work);
	return register_pernet_subsys(&ephport_net_ops);
}

/*
 * The work goes before the state it walks: a pass still pending would
 * otherwise read the namespaces' state after unregistering freed it.
 */
void ephport_netns_uninit(void)
{
	ephport_state_uninit();
	unregister_pernet_subsys(&ephport_net_ops);
}

/*
 * The hooks are in place: count what was bound before them (and judge
 * every alarm), and sweep resting ports from now on.
 */
void ephport_netns_start(const struct ephport_netns_env *env)
{
	ephport_pass_start(env);
	ephport_random_start();
}

/* The hooks are about to go. */
void ephport_netns_stop(void)
{
	ephport_random_stop();
	ephport_pass_stop();
}
