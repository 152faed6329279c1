// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: per-namespace state, and the pass over the kernel's tables.
 *
 * Each namespace has, per protocol, a bitmap of its bound ports (all
 * 65536 of them, so a range change only needs a recount). The bitmaps
 * are kept right in two ways:
 *
 * - Events, from the hooks: a successful bind sets the port's bit; a
 *   release checks the port's bind hash chain / UDP slot under its lock
 *   (after the release with fprobe/kretprobe return handlers, before it
 *   with ftrace entry hooks, leaving the departing socket out) and clears
 *   the bit only if no other socket of the namespace holds the port (so
 *   shared ports stay counted and TIME_WAIT ports stay in use). While a
 *   namespace is "exact", these keep in_use and the peaks right at every
 *   event.
 *
 * - Passes: one walk over the TCP bind hash and the UDP table(s) rebuilds
 *   the bitmaps of every tracked namespace at once. A pass runs at load
 *   (so sockets bound before ephport are counted), when events cannot be
 *   trusted (a hook missed one, or is unsupported), and on any read when
 *   the last pass is 1 s old or more, which bounds the effect of anything
 *   the hooks do not see. Events during a pass still update the bitmaps
 *   (bits set and cleared under the same chain locks the pass takes), so
 *   a pass leaves them exact. A namespace created after load starts empty.
 *
 * For random mode (issue 4) the bitmaps are the set of bound ports, and
 * the release paths (ephport_net_unbind()) are where a release time can
 * be recorded.
 */
#include <linux/jiffies.h>
#include <linux/kernfs.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "ephport.h"
#include "random.h"

static unsigned int ephport_net_id __read_mostly;

/*
 * Protects ephport_nets, each ephport_net's tracked flag and its place in
 * the list, ephport_last_pass and ephport_pass_missed, and serializes
 * passes (one at a time rebuilds the bitmaps).
 */
static DEFINE_MUTEX(ephport_pass_lock);
static LIST_HEAD(ephport_nets);
static unsigned long ephport_last_pass;		/* jiffies */
static unsigned long ephport_pass_missed;	/* probe misses seen by it */
static bool ephport_passed;			/* a pass has run at all */
static bool ephport_live;			/* hooks in place, load pass done */

atomic_t ephport_nets_count = ATOMIC_INIT(0);
unsigned int ephport_alarm_pct = 90;		/* READ_ONCE/WRITE_ONCE */

static void ephport_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ephport_work, ephport_work_fn);

/* The work does deferred passes and alarm notifications. */
static void ephport_kick(void)
{
	schedule_delayed_work(&ephport_work, 1);
}

/* Caller holds rcu_read_lock(). */
struct ephport_net *ephport_net_get(const struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);

	if (!en || !READ_ONCE(en->alive))
		return NULL;
	return en;
}

static void ephport_net_range(const struct net *net, u32 *lo, u32 *hi)
{
	int l, h;

	inet_get_local_port_range(net, &l, &h);
	*lo = l;
	*hi = h;
}

/* Whether events may update in_use and the peaks directly. */
static bool ephport_net_exact(struct ephport_net *en)
{
	lockdep_assert_held(&en->lock);
	if (ephport_probes_missed() != READ_ONCE(ephport_pass_missed)) {
		/* A hook missed an event: have a pass recount soon. */
		ephport_kick();
		return false;
	}
	return !en->passing && en->dirty_seq == en->clean_seq &&
	       ephport_probes_exact();
}

static bool ephport_net_alarm(struct ephport_net *en)
{
	unsigned int pct = READ_ONCE(ephport_alarm_pct);
	bool changed = false;
	int p;

	lockdep_assert_held(&en->lock);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		struct ephport_usage *u = &en->usage[p];

		changed |= ephport_alarm_update(&u->alarm, u->in_use, u->lo,
						u->hi, pct);
	}
	if (changed)
		en->alarm_changed = true;
	return changed;
}

void ephport_net_bound(struct ephport_net *en, enum ephport_proto proto,
		       u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	unsigned long flags;
	bool alarm = false;
	u32 lo, hi;

	if (port >= EPHPORT_NPORTS)
		return;
	ephport_net_range(en->net, &lo, &hi);
	spin_lock_irqsave(&en->lock, flags);
	if (ephport_net_exact(en)) {
		ephport_usage_set_range(u, lo, hi);
		ephport_usage_bind(u, port);
		alarm = ephport_net_alarm(en);
	} else {
		__set_bit(port, u->bound);
	}
	spin_unlock_irqrestore(&en->lock, flags);
	if (alarm)
		ephport_kick();
}

/* Called with the chain lock of @port held: nobody can bind it now. */
static bool ephport_net_unbind(struct ephport_net *en,
			       enum ephport_proto proto, u32 port)
{
	struct ephport_usage *u = &en->usage[proto];
	bool alarm = false;
	u32 lo, hi;

	ephport_net_range(en->net, &lo, &hi);
	spin_lock(&en->lock);
	if (ephport_net_exact(en)) {
		ephport_usage_set_range(u, lo, hi);
		ephport_usage_release(u, port);
		alarm = ephport_net_alarm(en);
	} else {
		__clear_bit(port, u->bound);
	}
	spin_unlock(&en->lock);
	/* Random mode: the port rests from now. */
	ephport_random_released(en->net, port);
	return alarm;
}

static bool ephport_tcp_port_bound(struct inet_bind_hashbucket *head,
				   const struct net *net, u32 port)
{
	struct inet_bind_bucket *tb;

	inet_bind_bucket_for_each(tb, &head->chain)
		if (net_eq(ib_net(tb), net) && tb->port == port)
			return true;
	return false;
}

static bool ephport_udp_port_bound(struct udp_hslot *hslot,
				   const struct net *net, u32 port)
{
	struct sock *sk;

	sk_for_each(sk, &hslot->head)
		if (net_eq(sock_net(sk), net) && udp_sk(sk)->udp_port_hash == port)
			return true;
	return false;
}

/*
 * A socket of the namespace gave up @port (its release function has returned).
 * Runs in a probe handler after the kernel dropped the chain lock; it
 * takes that lock again, with interrupts off so that no softirq runs
 * (and hits a probe) while it is held, like the kernel's own
 * inet_put_port()/udp_lib_unhash() do at the same place.
 */
void ephport_net_released(struct ephport_net *en, enum ephport_proto proto,
			  u32 port)
{
	struct net *net = en->net;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	local_irq_save(flags);
	if (proto == EPHPORT_TCP) {
		struct inet_hashinfo *h = ephport_tcp_hashinfo(net);
		struct inet_bind_hashbucket *head;

		head = &h->bhash[inet_bhashfn(net, port, h->bhash_size)];
		spin_lock(&head->lock);
		if (!ephport_tcp_port_bound(head, net, port))
			alarm = ephport_net_unbind(en, proto, port);
		spin_unlock(&head->lock);
	} else {
		struct udp_hslot *hslot;

		hslot = udp_hashslot(ephport_udp_table(net), net, port);
		spin_lock(&hslot->lock);
		if (!ephport_udp_port_bound(hslot, net, port))
			alarm = ephport_net_unbind(en, proto, port);
		spin_unlock(&hslot->lock);
	}
	local_irq_restore(flags);
	if (alarm)
		ephport_kick();
}

/*
 * A TIME_WAIT socket of the namespace left the bind hash. Its callers
 * hold the chain lock of its port (inet_twsk_bind_unhash()'s contract,
 * checked by lockdep), so the chain is read here without taking it.
 */
void ephport_net_released_locked(struct ephport_net *en, u32 port)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(en->net);
	struct inet_bind_hashbucket *head;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	head = &h->bhash[inet_bhashfn(en->net, port, h->bhash_size)];
	lockdep_assert_held(&head->lock);
	local_irq_save(flags);
	if (!ephport_tcp_port_bound(head, en->net, port))
		alarm = ephport_net_unbind(en, EPHPORT_TCP, port);
	local_irq_restore(flags);
	if (alarm)
		ephport_kick();
}

/*
 * Release at entry, for hooks that only see a function's entry (ftrace
 * on kernels without fprobe): the socket is about to leave, so the port
 * stays bound only if some other socket of the namespace holds it.
 */
#ifdef EPHPORT_HAVE_TB_OWNERS
static bool ephport_tcp_port_bound_but(struct inet_bind_hashbucket *head,
				       const struct net *net, u32 port,
				       const struct hlist_node *leaving)
{
	struct inet_bind_bucket *tb;
	struct hlist_node *n;

	inet_bind_bucket_for_each(tb, &head->chain) {
		if (!net_eq(ib_net(tb), net) || tb->port != port)
			continue;
		hlist_for_each(n, &tb->owners)
			if (n != leaving)
				return true;
	}
	return false;
}

/*
 * The owner @leaving (a socket's or a TIME_WAIT socket's bind node) is
 * about to leave @port's bind bucket. @locked: the caller holds the
 * chain lock (inet_twsk_bind_unhash()), else it is taken here, before
 * the kernel's own inet_put_port() takes it.
 */
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(en->net);
	struct inet_bind_hashbucket *head;
	unsigned long flags;
	bool alarm = false;

	if (port >= EPHPORT_NPORTS)
		return;
	head = &h->bhash[inet_bhashfn(en->net, port, h->bhash_size)];
	local_irq_save(flags);
	if (locked)
		lockdep_assert_held(&head->lock);
	else
		spin_lock(&head->lock);
	if (!ephport_tcp_port_bound_but(head, en->net, port, leaving))
		alarm = ephport_net_unbind(en, EPHPORT_TCP, port);
	if (!locked)
		spin_unlock(&head->lock);
	local_irq_restore(flags);
	if (alarm)
		ephport_kick();
}
#endif

/* @sk is about to leave the UDP table, from udp_lib_unhash(). */
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk)
{
	struct net *net = en->net;
	struct udp_hslot *hslot;
	unsigned long flags;
	bool alarm = false;
	struct sock *sk2;
	bool bound = false;

	if (port >= EPHPORT_NPORTS)
		return;
	hslot = udp_hashslot(ephport_udp_table(net), net, port);
	local_irq_save(flags);
	spin_lock(&hslot->lock);
	sk_for_each(sk2, &hslot->head) {
		if (sk2 != sk && net_eq(sock_net(sk2), net) &&
		    udp_sk(sk2)->udp_port_hash == port) {
			bound = true;
			break;
		}
	}
	if (!bound)
		alarm = ephport_net_unbind(en, EPHPORT_UDP, port);
	spin_unlock(&hslot->lock);
	local_irq_restore(flags);
	if (alarm)
		ephport_kick();
}

/* ---- the pass ---- */

/* The tracked state of @net, for the pass. */
static struct ephport_net *ephport_pass_net(const struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);

	lockdep_assert_held(&ephport_pass_lock);
	if (!en || !en->tracked)
		return NULL;
	return en;
}

static void ephport_pass_mark(const struct net *net, enum ephport_proto proto,
			      u32 port)
{
	struct ephport_net *en = ephport_pass_net(net);
	unsigned long flags;

	if (!en || port >= EPHPORT_NPORTS)
		return;
	spin_lock_irqsave(&en->lock, flags);
	__set_bit(port, en->usage[proto].bound);
	spin_unlock_irqrestore(&en->lock, flags);
}

static void ephport_walk_tcp(void)
{
	struct inet_hashinfo *h = ephport_tcp_hashinfo(&init_net);
	unsigned int i;

	for (i = 0; i < h->bhash_size; i++) {
		struct inet_bind_hashbucket *head = &h->bhash[i];
		struct inet_bind_bucket *tb;

		/*
		 * A chain that fills after this look is filled by a bind
		 * whose handler sets the bit itself.
		 */
		if (!READ_ONCE(head->chain.first))
			continue;
		spin_lock_bh(&head->lock);
		rcu_read_lock();
		inet_bind_bucket_for_each(tb, &head->chain)
			ephport_pass_mark(ib_net(tb), EPHPORT_TCP, tb->port);
		rcu_read_unlock();
		spin_unlock_bh(&head->lock);
		if (!(i & 1023))
			cond_resched();
	}
}

static void ephport_walk_udp_table(struct udp_table *t)
{
	unsigned int i;

	for (i = 0; i <= t->mask; i++) {
		struct udp_hslot *hslot = &t->hash[i];
		struct sock *sk;

		if (!READ_ONCE(hslot->head.first))
			continue;
		spin_lock_bh(&hslot->lock);
		rcu_read_lock();
		sk_for_each(sk, &hslot->head)
			ephport_pass_mark(sock_net(sk), EPHPORT_UDP,
					  udp_sk(sk)->udp_port_hash);
		rcu_read_unlock();
		spin_unlock_bh(&hslot->lock);
		if (!(i & 1023))
			cond_resched();
	}
}

static void ephport_walk_udp(void)
{
	struct udp_table *global = ephport_udp_table(&init_net);
	struct ephport_net *en;

	ephport_walk_udp_table(global);
	/* Namespaces with a table of their own (6.12). */
	list_for_each_entry(en, &ephport_nets, node) {
		struct udp_table *t = ephport_udp_table(en->net);

		if (t != global)
			ephport_walk_udp_table(t);
	}
}

/* One pass over the tables, for every tracked namespace at once. */
static void ephport_pass_locked(void)
{
	unsigned long missed = ephport_probes_missed();
	/* Only with every hook in place can events keep the result right. */
	bool trusted = ephport_probes_exact();
	struct ephport_net *en;
	bool alarm = false;
	int p;

	lockdep_assert_held(&ephport_pass_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		en->passing = true;
		en->pass_seq = en->dirty_seq;
		for (p = 0; p < EPHPORT_NPROTO; p++)
			ephport_usage_reset(&en->usage[p]);
		spin_unlock_irq(&en->lock);
	}

	ephport_walk_tcp();
	ephport_walk_udp();

	list_for_each_entry(en, &ephport_nets, node) {
		u32 lo, hi;

		ephport_net_range(en->net, &lo, &hi);
		spin_lock_irq(&en->lock);
		for (p = 0; p < EPHPORT_NPROTO; p++) {
			en->usage[p].lo = lo;
			en->usage[p].hi = hi;
			ephport_usage_recount(&en->usage[p]);
		}
		alarm |= ephport_net_alarm(en);
		en->passing = false;
		if (trusted)
			en->clean_seq = en->pass_seq;
		spin_unlock_irq(&en->lock);
	}
	ephport_last_pass = jiffies;
	ephport_passed = true;
	WRITE_ONCE(ephport_pass_missed, missed);
	if (alarm)
		ephport_kick();
}

static bool ephport_need_pass(void)
{
	struct ephport_net *en;
	bool dirty = false;

	lockdep_assert_held(&ephport_pass_lock);
	if (!ephport_passed || !ephport_probes_exact() ||
	    ephport_probes_missed() != ephport_pass_missed)
		return true;
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		dirty = en->dirty_seq != en->clean_seq;
		spin_unlock_irq(&en->lock);
		if (dirty)
			return true;
	}
	return false;
}

/*
 * The hooks are in place: count what was bound before them, in every
 * namespace, and trust new namespaces to start empty from now on.
 */
void ephport_netns_start(void)
{
	mutex_lock(&ephport_pass_lock);
	WRITE_ONCE(ephport_live, true);
	ephport_pass_locked();
	mutex_unlock(&ephport_pass_lock);
}

/*
 * The values of a namespace for a reader. A pass serves every namespace:
 * it runs only if something is dirty or the last one is 1 s old.
 */
void ephport_net_values(struct ephport_net *en, struct ephport_values *v)
{
	bool alarm;
	u32 lo, hi;
	int p;

	mutex_lock(&ephport_pass_lock);
	if (ephport_need_pass() ||
	    time_after_eq(jiffies, ephport_last_pass + HZ))
		ephport_pass_locked();
	mutex_unlock(&ephport_pass_lock);

	ephport_net_range(en->net, &lo, &hi);
	spin_lock_irq(&en->lock);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		ephport_usage_set_range(&en->usage[p], lo, hi);
		v->in_use[p] = en->usage[p].in_use;
		v->peak[p] = en->usage[p].peak;
	}
	alarm = ephport_net_alarm(en);
	v->alarm = en->usage[EPHPORT_TCP].alarm || en->usage[EPHPORT_UDP].alarm;
	spin_unlock_irq(&en->lock);
	v->lo = lo;
	v->hi = hi;
	if (alarm)
		ephport_kick();
}

void ephport_net_reset_peak(struct ephport_net *en, enum ephport_proto proto)
{
	struct ephport_values v;

	/* Bring in_use up to date first: the peak restarts from it. */
	ephport_net_values(en, &v);
	spin_lock_irq(&en->lock);
	ephport_usage_reset_peak(&en->usage[proto]);
	spin_unlock_irq(&en->lock);
}

/* alarm_pct changed: every namespace's alarm is judged again. */
void ephport_net_alarm_recheck_all(void)
{
	struct ephport_net *en;
	bool alarm = false;

	mutex_lock(&ephport_pass_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		spin_lock_irq(&en->lock);
		alarm |= ephport_net_alarm(en);
		spin_unlock_irq(&en->lock);
	}
	mutex_unlock(&ephport_pass_lock);
	if (alarm)
		ephport_kick();
}

static const char *const ephport_proto_names[EPHPORT_NPROTO] = {
	[EPHPORT_TCP] = "tcp",
	[EPHPORT_UDP] = "udp",
};

/*
 * Takes one namespace's pending alarm change, with what its message
 * needs; a reference on its alarm file keeps that alive without the lock.
 */
static struct kernfs_node *ephport_take_alarm(struct ephport_usage *u,
					      unsigned int *inum)
{
	struct kernfs_node *kn = NULL;
	struct ephport_net *en;

	lockdep_assert_held(&ephport_pass_lock);
	list_for_each_entry(en, &ephport_nets, node) {
		bool changed;

		spin_lock_irq(&en->lock);
		changed = en->alarm_changed;
		en->alarm_changed = false;
		memcpy(u, en->usage, sizeof(en->usage));
		spin_unlock_irq(&en->lock);
		if (!changed || !en->alarm_kn)
			continue;
		kn = en->alarm_kn;
		kernfs_get(kn);
		*inum = en->net->ns.inum;
		break;
	}
	return kn;
}

static void ephport_work_fn(struct work_struct *work)
{
	struct ephport_usage u[EPHPORT_NPROTO];
	struct kernfs_node *kn;
	unsigned int inum;
	int p;

	mutex_lock(&ephport_pass_lock);
	if (ephport_need_pass())
		ephport_pass_locked();
	mutex_unlock(&ephport_pass_lock);

	/* Notify outside the lock: sysfs readers take it. */
	for (;;) {
		mutex_lock(&ephport_pass_lock);
		kn = ephport_take_alarm(u, &inum);
		mutex_unlock(&ephport_pass_lock);
		if (!kn)
			break;
		for (p = 0; p < EPHPORT_NPROTO; p++) {
			if (!u[p].alarm)
				continue;
			pr_warn_ratelimited("netns %u: %s ephemeral ports %u of %u in use, alarm at %u%%\n",
					    inum, ephport_proto_names[p],
					    u[p].in_use, u[p].hi - u[p].lo + 1,
					    READ_ONCE(ephport_alarm_pct));
		}
		sysfs_notify_dirent(kn);
		kernfs_put(kn);
	}
}

/* ---- pernet_operations ---- */

static void ephport_net_free(struct ephport_net *en)
{
	int p;

	for (p = 0; p < EPHPORT_NPROTO; p++) {
		kfree(en->usage[p].bound);
		en->usage[p].bound = NULL;
	}
}

static int __net_init ephport_net_init(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);
	int ret = -ENOMEM;
	int p;

	en->net = net;
	spin_lock_init(&en->lock);
	INIT_LIST_HEAD(&en->node);
	for (p = 0; p < EPHPORT_NPROTO; p++) {
		en->usage[p].bound = kcalloc(BITS_TO_LONGS(EPHPORT_NPORTS),
					     sizeof(unsigned long), GFP_KERNEL);
		if (!en->usage[p].bound)
			goto err_free;
		en->usage[p].lo = 1;
		en->usage[p].hi = 0;
	}
	/*
	 * At load, sockets exist already: a pass must count them. A
	 * namespace created later starts empty; its sockets bind through
	 * the hooks (only a subsystem initialized before ephport could bind
	 * one unseen, and the next pass, 1 s at most after a read, finds it).
	 */
	if (!READ_ONCE(ephport_live))
		en->dirty_seq = 1;

	ret = ephport_sysfs_net_add(en, net->ns.inum);
	if (ret)
		goto err_free;
	ret = ephport_proc_net_add(net);
	if (ret)
		goto err_sysfs;

	mutex_lock(&ephport_pass_lock);
	list_add_tail(&en->node, &ephport_nets);
	en->tracked = true;
	mutex_unlock(&ephport_pass_lock);
	atomic_inc(&ephport_nets_count);
	WRITE_ONCE(en->alive, true);
	return 0;

err_sysfs:
	ephport_sysfs_net_del(en);
err_free:
	ephport_net_free(en);
	return ret;
}

/* Handlers stop using the state; the core's synchronize_rcu() follows. */
static void __net_exit ephport_net_pre_exit(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);

	WRITE_ONCE(en->alive, false);
}

static void __net_exit ephport_net_exit(struct net *net)
{
	struct ephport_net *en = net_generic(net, ephport_net_id);

	if (!en->tracked)
		return;
	/* Out of the list first: the work notifies listed namespaces only. */
	mutex_lock(&ephport_pass_lock);
	en->tracked = false;
	list_del_init(&en->node);
	mutex_unlock(&ephport_pass_lock);
	ephport_proc_net_del(net);
	ephport_sysfs_net_del(en);
	/* Counted out once its files are gone: netns never counts more dirs. */
	atomic_dec(&ephport_nets_count);
	ephport_net_free(en);
}

static struct pernet_operations ephport_net_ops = {
	.init = ephport_net_init,
	.pre_exit = ephport_net_pre_exit,
	.exit = ephport_net_exit,
	.id = &ephport_net_id,
	.size = sizeof(struct ephport_net),
};

int ephport_netns_init(void)
{
	return register_pernet_subsys(&ephport_net_ops);
}

void ephport_netns_uninit(void)
{
	/* No namespace left to kick the work for after this. */
	WRITE_ONCE(ephport_live, false);
	unregister_pernet_subsys(&ephport_net_ops);
	cancel_delayed_work_sync(&ephport_work);
}
