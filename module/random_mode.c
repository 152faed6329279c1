// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's part of each namespace's state (netns.h).
 *
 * ephport chooses the ephemeral port, uniformly among the ports of the
 * socket's range that are neither reserved, nor bound in the namespace,
 * nor resting (released less than reuse_delay_ms ago); the kernel still
 * checks the port it is given (redirect.c). A namespace whose effective
 * mode is random owns a struct ephport_rest (its resting ports): it is
 * allocated when the namespace enters random mode and freed when it
 * leaves it, in process context under ephport_nets_lock.
 */
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "netns.h"

/* Random mode, with its state in place. Caller holds rcu_read_lock(). */
bool ephport_random_active(struct ephport_net *en)
{
	return ephport_net_mode(en) == EPHPORT_MODE_RANDOM &&
	       rcu_access_pointer(en->rest);
}

/* Gives @en a rest if its mode is random, takes it away if not. */
int ephport_random_update(struct ephport_net *en)
{
	struct ephport_rest *rest;
	bool random = ephport_net_mode(en) == EPHPORT_MODE_RANDOM;

	lockdep_assert_held(&ephport_nets_lock);
	rest = rcu_dereference_protected(en->rest,
					 lockdep_is_held(&ephport_nets_lock));
	if (random && !rest) {
		rest = vzalloc(sizeof(*rest));
		if (!rest)
			return -ENOMEM;
		rcu_assign_pointer(en->rest, rest);
	} else if (!random && rest) {
		RCU_INIT_POINTER(en->rest, NULL);
		kvfree_rcu(rest, rcu);
	}
	return 0;
}

/* The namespace is going: no handler reaches it any more. */
void ephport_random_free(struct ephport_net *en)
{
	struct ephport_rest *rest;

	lockdep_assert_held(&ephport_nets_lock);
	rest = rcu_dereference_protected(en->rest,
					 lockdep_is_held(&ephport_nets_lock));
	RCU_INIT_POINTER(en->rest, NULL);
	vfree(rest);
}

static u16 ephport_now(void)
{
	return ephport_rest_now(jiffies64_to_msecs(get_jiffies_64()));
}

/*
 * Sweeps @rest at @now. The namespace's bitmaps tell which handed-out
 * ports are still bound, unless a pass is rebuilding them.
 */
static void ephport_random_sweep(struct ephport_net *en,
				 struct ephport_rest *rest, u16 now)
{
	u32 delay = ephport_net_delay(en);

	lockdep_assert_held(&en->rest_lock);
	spin_lock(&en->lock);
	if (en->passing)
		ephport_rest_sweep(rest, now, delay, NULL, NULL);
	else
		ephport_rest_sweep(rest, now, delay,
				   en->usage[EPHPORT_TCP].bound,
				   en->usage[EPHPORT_UDP].bound);
	spin_unlock(&en->lock);
}

static u32 ephport_below(u32 ceil)
{
	return get_random_u32_below(ceil);
}

/*
 * Chooses a port for @sk: 0 and *port, or an error when ephport leaves
 * the choice to the kernel (counted as a fallback, with its reason).
 * Never sleeps.
 */
int ephport_random_choose(struct sock *sk, enum ephport_proto proto,
			  int avoid, u32 *port)
{
	struct ephport_choice c = { .avoid = avoid };
	struct net *net = sock_net(sk);
	struct ephport_rest *rest;
	struct ephport_net *en;
	enum ephport_pick pick;
	unsigned long flags;
	bool avoided;
	int lo, hi, ret = 0;
	u16 now;

	inet_sk_get_local_port_range(sk, &lo, &hi);
	if (lo < 1 || hi >= EPHPORT_NPORTS)
		return -ERANGE;
	c.lo = lo;
	c.hi = hi;
	c.reserved = net->ipv4.sysctl_local_reserved_ports;

	rcu_read_lock();
	en = ephport_net_get(net);
	if (!en || ephport_net_mode(en) != EPHPORT_MODE_RANDOM) {
		ret = -ENOENT;
		goto out;
	}
	rest = rcu_dereference(en->rest);
	if (!rest) {
		ret = -ENOENT;
		goto out;
	}
	now = ephport_now();
	c.resting = rest->resting;

	spin_lock_irqsave(&en->rest_lock, flags);
	if (!rest->swept_once || rest->swept != now)
		ephport_random_sweep(en, rest, now);
	spin_lock(&en->lock);
	c.bound = en->usage[proto].bound;
	pick = ephport_choose(&c, ephport_below, port, &avoided);
	spin_unlock(&en->lock);
	spin_unlock_irqrestore(&en->rest_lock, flags);

	switch (pick) {
	case EPHPORT_PICK_OK:
		if (avoided)
			ephport_net_rcount(en, EPHPORT_SELF_CONNECT_AVOIDED);
		break;
	case EPHPORT_PICK_RESTING:
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK);
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK_RESTING);
		ret = -EBUSY;
		break;
	default:
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK);
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK_FULL);
		ret = -ENOSPC;
		break;
	}
out:
	rcu_read_unlock();
	return ret;
}

/*
 * The kernel accepted @port, chosen by ephport, for @sk (whose bind the
 * caller has counted first: a sweep must not take it for a release
 * unseen).
 */
void ephport_random_chosen(struct sock *sk, u32 port)
{
	struct ephport_rest *rest;
	struct ephport_net *en;
	unsigned long flags;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (en) {
		rest = rcu_dereference(en->rest);
		if (rest) {
			spin_lock_irqsave(&en->rest_lock, flags);
			ephport_rest_handout(rest, port);
			spin_unlock_irqrestore(&en->rest_lock, flags);
		}
		ephport_net_rcount(en, EPHPORT_RANDOM_OK);
	}
	rcu_read_unlock();
}

/* The kernel refused the port ephport chose, or ephport could not steer. */
void ephport_random_refused(struct sock *sk)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (en) {
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK);
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK_REFUSED);
	}
	rcu_read_unlock();
}

/*
 * The namespace let go of @port (no socket holds it any more). Called
 * on release, in atomic context, maybe under a bind hash chain or UDP
 * slot lock.
 */
void ephport_random_released(struct ephport_net *en, u32 port)
{
	struct ephport_rest *rest;
	unsigned long flags;

	rcu_read_lock();
	rest = rcu_dereference(en->rest);
	if (rest) {
		spin_lock_irqsave(&en->rest_lock, flags);
		ephport_rest_release(rest, port, ephport_now(),
				     ephport_net_delay(en));
		spin_unlock_irqrestore(&en->rest_lock, flags);
	}
	rcu_read_unlock();
}

/* Ports of the namespace's range resting now, after a sweep. */
u32 ephport_random_resting(struct ephport_net *en)
{
	struct ephport_rest *rest;
	unsigned long flags;
	u32 n = 0;
	int lo, hi;

	inet_get_local_port_range(en->net, &lo, &hi);
	rcu_read_lock();
	rest = rcu_dereference(en->rest);
	if (rest) {
		spin_lock_irqsave(&en->rest_lock, flags);
		ephport_random_sweep(en, rest, ephport_now());
		n = ephport_bits_in_range(rest->resting, lo, hi);
		spin_unlock_irqrestore(&en->rest_lock, flags);
	}
	rcu_read_unlock();
	return n;
}
