// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: random mode's controls and per-namespace state.
 *
 *   module parameters mode=, reuse_delay_ms=	the global defaults at load
 *   /sys/kernel/ephport/{mode,reuse_delay_ms}	the same, afterwards
 *   net.ephport.{mode,reuse_delay_ms}		per namespace (sysctls)
 *   /sys/kernel/ephport/net/<inum>/...	effective values and counters
 *
 * A namespace whose effective mode is random owns a struct ephport_rest
 * (its resting ports); it is allocated when the namespace enters random
 * mode and freed when it leaves it, always in process context under
 * ephport_ctl_lock.
 */
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "compat.h"
#include "random.h"

static unsigned int ephport_rnet_id __read_mostly;
static bool ephport_ctl_ready;	/* the pernet state exists: RCU-published */

/*
 * Protects ephport_rnets, and serializes mode changes with the
 * allocation and freeing of every namespace's rest.
 */
static DEFINE_MUTEX(ephport_ctl_lock);
static LIST_HEAD(ephport_rnets);

/* The global defaults (READ_ONCE/WRITE_ONCE; written under the mutex). */
static int ephport_global_mode = EPHPORT_MODE_OBSERVE;
static int ephport_global_delay_ms = EPHPORT_DELAY_DEFAULT_MS;

static void ephport_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ephport_sweep_work, ephport_sweep_fn);

/* ---- module parameters: read-only after load ---- */

static int ephport_param_mode_set(const char *val,
				  const struct kernel_param *kp)
{
	enum ephport_mode m;

	if (!val || ephport_parse_mode(val, false, &m))
		return -EINVAL;
	WRITE_ONCE(ephport_global_mode, m);
	return 0;
}

static int ephport_param_mode_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 ephport_mode_name(READ_ONCE(ephport_global_mode)));
}

static const struct kernel_param_ops ephport_mode_param_ops = {
	.set = ephport_param_mode_set,
	.get = ephport_param_mode_get,
};
module_param_cb(mode, &ephport_mode_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(mode, "string");
MODULE_PARM_DESC(mode, "Default port selection of every namespace: observe (the kernel chooses, default) or random (ephport chooses, with a reuse delay)");

static int ephport_param_delay_set(const char *val,
				   const struct kernel_param *kp)
{
	int ms;

	if (!val || ephport_parse_delay(val, false, &ms))
		return -EINVAL;
	WRITE_ONCE(ephport_global_delay_ms, ms);
	return 0;
}

static int ephport_param_delay_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n",
			 READ_ONCE(ephport_global_delay_ms));
}

static const struct kernel_param_ops ephport_delay_param_ops = {
	.set = ephport_param_delay_set,
	.get = ephport_param_delay_get,
};
module_param_cb(reuse_delay_ms, &ephport_delay_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(reuse_delay_ms, "uint");
MODULE_PARM_DESC(reuse_delay_ms, "Default time in ms a released port rests before random mode hands it out again: 0..600000, default 60000");

/* ---- the namespace's state ---- */

/* Caller holds rcu_read_lock(). */
struct ephport_rnet *ephport_rnet_get(const struct net *net)
{
	struct ephport_rnet *rn;

	if (!READ_ONCE(ephport_ctl_ready))
		return NULL;
	rn = net_generic(net, ephport_rnet_id);
	if (!rn || !READ_ONCE(rn->alive))
		return NULL;
	return rn;
}

static int ephport_rnet_mode(const struct ephport_rnet *rn)
{
	int m = READ_ONCE(rn->mode);

	return m == EPHPORT_MODE_DEFAULT ? READ_ONCE(ephport_global_mode) : m;
}

static u32 ephport_rnet_delay(const struct ephport_rnet *rn)
{
	int d = READ_ONCE(rn->delay_ms);

	return d < 0 ? READ_ONCE(ephport_global_delay_ms) : d;
}

/* Random mode, with its state in place. Caller holds rcu_read_lock(). */
bool ephport_rnet_random(struct ephport_rnet *rn)
{
	return ephport_rnet_mode(rn) == EPHPORT_MODE_RANDOM &&
	       rcu_access_pointer(rn->rest);
}

void ephport_rcount(struct ephport_rnet *rn, enum ephport_rcounter c)
{
	atomic_long_inc(&rn->counters[c]);
}

/* Gives @rn a rest if its mode is random, takes it away if not. */
static int ephport_rnet_update(struct ephport_rnet *rn)
{
	struct ephport_rest *rest;
	bool random = ephport_rnet_mode(rn) == EPHPORT_MODE_RANDOM;

	lockdep_assert_held(&ephport_ctl_lock);
	rest = rcu_dereference_protected(rn->rest,
					 lockdep_is_held(&ephport_ctl_lock));
	if (random && !rest) {
		rest = vzalloc(sizeof(*rest));
		if (!rest)
			return -ENOMEM;
		rcu_assign_pointer(rn->rest, rest);
	} else if (!random && rest) {
		RCU_INIT_POINTER(rn->rest, NULL);
		kvfree_rcu(rest, rcu);
	}
	return 0;
}

static u16 ephport_now(void)
{
	return ephport_rest_now(jiffies64_to_msecs(get_jiffies_64()));
}

/*
 * Sweeps @rest at @now. The namespace's bitmaps tell which handed-out
 * ports are still bound, unless a pass is rebuilding them.
 */
static void ephport_rnet_sweep(struct ephport_rnet *rn,
			       struct ephport_rest *rest,
			       struct ephport_net *en, u16 now)
{
	u32 delay = ephport_rnet_delay(rn);

	lockdep_assert_held(&rn->lock);
	if (!en) {
		ephport_rest_sweep(rest, now, delay, NULL, NULL);
		return;
	}
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
	struct ephport_rnet *rn;
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
	rn = ephport_rnet_get(net);
	en = ephport_net_get(net);
	if (!rn || !en || ephport_rnet_mode(rn) != EPHPORT_MODE_RANDOM) {
		ret = -ENOENT;
		goto out;
	}
	rest = rcu_dereference(rn->rest);
	if (!rest) {
		ret = -ENOENT;
		goto out;
	}
	now = ephport_now();
	c.resting = rest->resting;

	spin_lock_irqsave(&rn->lock, flags);
	if (!rest->swept_once || rest->swept != now)
		ephport_rnet_sweep(rn, rest, en, now);
	spin_lock(&en->lock);
	c.bound = en->usage[proto].bound;
	pick = ephport_choose(&c, ephport_below, port, &avoided);
	spin_unlock(&en->lock);
	spin_unlock_irqrestore(&rn->lock, flags);

	switch (pick) {
	case EPHPORT_PICK_OK:
		if (avoided)
			ephport_rcount(rn, EPHPORT_SELF_CONNECT_AVOIDED);
		break;
	case EPHPORT_PICK_RESTING:
		ephport_rcount(rn, EPHPORT_RANDOM_FALLBACK);
		ephport_rcount(rn, EPHPORT_RANDOM_FALLBACK_RESTING);
		ret = -EBUSY;
		break;
	default:
		ephport_rcount(rn, EPHPORT_RANDOM_FALLBACK);
		ephport_rcount(rn, EPHPORT_RANDOM_FALLBACK_FULL);
		ret = -ENOSPC;
		break;
	}
out:
	rcu_read_unlock();
	return ret;
}

/* The kernel accepted @port, chosen by ephport, for @sk. */
void ephport_random_chosen(struct sock *sk, enum ephport_proto proto,
			   u32 port)
{
	struct net *net = sock_net(sk);
	struct ephport_rest *rest;
	struct ephport_rnet *rn;
	struct ephport_net *en;
	unsigned long flags;

	rcu_read_lock();
	/* Bound first: a sweep must not take it for a release unseen. */
	en = ephport_net_get(net);
	if (en)
		ephport_net_bound(en, proto, port);
	rn = ephport_rnet_get(net);
	if (rn) {
		rest = rcu_dereference(rn->rest);
		if (rest) {
			spin_lock_irqsave(&rn->lock, flags);
			ephport_rest_handout(rest, port);
			spin_unlock_irqrestore(&rn->lock, flags);
		}
		ephport_rcount(rn, EPHPORT_RANDOM_OK);
	}
	rcu_read_unlock();
}

/*
 * The namespace let go of @port (no socket holds it any more). Called
 * from the release hooks, in atomic context, maybe under a bind hash
 * chain or UDP slot lock.
 */
void ephport_random_released(struct net *net, u32 port)
{
	struct ephport_rest *rest;
	struct ephport_rnet *rn;
	unsigned long flags;

	rcu_read_lock();
	rn = ephport_rnet_get(net);
	rest = rn ? rcu_dereference(rn->rest) : NULL;
	if (rest) {
		spin_lock_irqsave(&rn->lock, flags);
		ephport_rest_release(rest, port, ephport_now(),
				     ephport_rnet_delay(rn));
		spin_unlock_irqrestore(&rn->lock, flags);
	}
	rcu_read_unlock();
}

/* Ports of the namespace's range resting now. */
static u32 ephport_rnet_resting(struct ephport_rnet *rn)
{
	struct ephport_rest *rest;
	struct ephport_net *en;
	unsigned long flags;
	u32 n = 0;
	int lo, hi;

	inet_get_local_port_range(rn->net, &lo, &hi);
	rcu_read_lock();
	rest = rcu_dereference(rn->rest);
	en = ephport_net_get(rn->net);
	if (rest) {
		spin_lock_irqsave(&rn->lock, flags);
		ephport_rnet_sweep(rn, rest, en, ephport_now());
		n = ephport_bits_in_range(rest->resting, lo, hi);
		spin_unlock_irqrestore(&rn->lock, flags);
	}
	rcu_read_unlock();
	return n;
}

/* Every EPHPORT_SWEEP_SECS: no stamp lives long enough to wrap. */
static void ephport_sweep_fn(struct work_struct *work)
{
	struct ephport_rnet *rn;

	mutex_lock(&ephport_ctl_lock);
	list_for_each_entry(rn, &ephport_rnets, node) {
		if (rcu_access_pointer(rn->rest))
			ephport_rnet_resting(rn);
		cond_resched();
	}
	mutex_unlock(&ephport_ctl_lock);
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
}

/* ---- net.ephport.* sysctls ---- */

static int ephport_sysctl_mode(EPHPORT_CTL_TABLE *table, int write,
			       void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ephport_rnet *rn = table->data;
	char val[16];
	struct ctl_table tmp = { .data = val, .maxlen = sizeof(val) };
	enum ephport_mode m;
	int ret, old;

	if (!write) {
		strscpy(val, ephport_mode_name(READ_ONCE(rn->mode)), sizeof(val));
		return proc_dostring(&tmp, 0, buffer, lenp, ppos);
	}
	/* A value is one write() at offset 0; the rest of a write is ignored. */
	if (*ppos)
		return 0;
	if (ephport_parse_mode(buffer, true, &m))
		return -EINVAL;
	mutex_lock(&ephport_ctl_lock);
	old = rn->mode;
	WRITE_ONCE(rn->mode, m);
	ret = ephport_rnet_update(rn);
	if (ret)
		WRITE_ONCE(rn->mode, old);
	mutex_unlock(&ephport_ctl_lock);
	if (ret)
		return ret;
	*ppos += *lenp;
	return 0;
}

static int ephport_sysctl_delay(EPHPORT_CTL_TABLE *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ephport_rnet *rn = table->data;
	int val = READ_ONCE(rn->delay_ms);
	struct ctl_table tmp = { .data = &val, .maxlen = sizeof(val) };

	if (!write)
		return proc_dointvec(&tmp, 0, buffer, lenp, ppos);
	if (*ppos)
		return 0;
	if (ephport_parse_delay(buffer, true, &val))
		return -EINVAL;
	WRITE_ONCE(rn->delay_ms, val);
	*ppos += *lenp;
	return 0;
}

#define EPHPORT_NSYSCTL 2

static struct ctl_table ephport_sysctl_template[EPHPORT_NSYSCTL + 1] = {
	{
		.procname = "mode",
		.maxlen = 16,
		.mode = 0644,
		.proc_handler = ephport_sysctl_mode,
	},
	{
		.procname = "reuse_delay_ms",
		.maxlen = sizeof(int),
		.mode = 0644,
		.proc_handler = ephport_sysctl_delay,
	},
	{ }
};

/* ---- /sys/kernel/ephport/net/<inum>/: effective values, counters ---- */

static struct ephport_rnet *ephport_kobj_rnet(struct kobject *kobj)
{
	return net_generic(ephport_kobj_net(kobj)->net, ephport_rnet_id);
}

static ssize_t ephport_rnet_mode_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  ephport_mode_name(ephport_rnet_mode(ephport_kobj_rnet(kobj))));
}

static ssize_t ephport_rnet_delay_show(struct kobject *kobj,
				       struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", ephport_rnet_delay(ephport_kobj_rnet(kobj)));
}

static ssize_t resting_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n", ephport_rnet_resting(ephport_kobj_rnet(kobj)));
}

static struct kobj_attribute ephport_rnet_mode_attr =
	__ATTR(mode, 0400, ephport_rnet_mode_show, NULL);
static struct kobj_attribute ephport_rnet_delay_attr =
	__ATTR(reuse_delay_ms, 0400, ephport_rnet_delay_show, NULL);
static struct kobj_attribute resting_attr = __ATTR_RO_MODE(resting, 0400);

static const char *const ephport_rcounter_names[EPHPORT_NRCOUNTERS] = {
	[EPHPORT_RANDOM_OK] = "random_ok",
	[EPHPORT_RANDOM_FALLBACK] = "random_fallback",
	[EPHPORT_RANDOM_FALLBACK_FULL] = "random_fallback_full",
	[EPHPORT_RANDOM_FALLBACK_RESTING] = "random_fallback_resting",
	[EPHPORT_RANDOM_FALLBACK_REFUSED] = "random_fallback_refused",
	[EPHPORT_SELF_CONNECT_AVOIDED] = "self_connect_avoided",
};

struct ephport_rcounter_attr {
	struct kobj_attribute attr;
	enum ephport_rcounter counter;
};

static ssize_t ephport_rcounter_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	struct ephport_rcounter_attr *ca;

	ca = container_of(attr, struct ephport_rcounter_attr, attr);
	return sysfs_emit(buf, "%lu\n",
			  atomic_long_read(&ephport_kobj_rnet(kobj)->counters[ca->counter]));
}

#define EPHPORT_RCOUNTER_ATTR(_c, _name)				\
	static struct ephport_rcounter_attr _name##_attr = {		\
		.attr = __ATTR(_name, 0400, ephport_rcounter_show, NULL),\
		.counter = _c,						\
	}

EPHPORT_RCOUNTER_ATTR(EPHPORT_RANDOM_OK, random_ok);
EPHPORT_RCOUNTER_ATTR(EPHPORT_RANDOM_FALLBACK, random_fallback);
EPHPORT_RCOUNTER_ATTR(EPHPORT_RANDOM_FALLBACK_FULL, random_fallback_full);
EPHPORT_RCOUNTER_ATTR(EPHPORT_RANDOM_FALLBACK_RESTING, random_fallback_resting);
EPHPORT_RCOUNTER_ATTR(EPHPORT_RANDOM_FALLBACK_REFUSED, random_fallback_refused);
EPHPORT_RCOUNTER_ATTR(EPHPORT_SELF_CONNECT_AVOIDED, self_connect_avoided);

static struct attribute *ephport_rnet_attrs[] = {
	&ephport_rnet_mode_attr.attr,
	&ephport_rnet_delay_attr.attr,
	&random_ok_attr.attr.attr,
	&random_fallback_attr.attr.attr,
	&random_fallback_full_attr.attr.attr,
	&random_fallback_resting_attr.attr.attr,
	&random_fallback_refused_attr.attr.attr,
	&resting_attr.attr,
	&self_connect_avoided_attr.attr.attr,
	NULL,
};

static const struct attribute_group ephport_rnet_group = {
	.attrs = ephport_rnet_attrs,
};

/* /proc/net/ephport: the same, after the observe values. */
void ephport_random_proc_show(struct seq_file *seq, struct net *net)
{
	struct ephport_rnet *rn;
	int i;

	rcu_read_lock();
	rn = ephport_rnet_get(net);
	rcu_read_unlock();
	/* The file goes before the state does. */
	if (!rn)
		return;
	seq_printf(seq, "mode %s\n", ephport_mode_name(ephport_rnet_mode(rn)));
	seq_printf(seq, "reuse_delay_ms %u\n", ephport_rnet_delay(rn));
	for (i = 0; i < EPHPORT_NRCOUNTERS; i++)
		seq_printf(seq, "%s %lu\n", ephport_rcounter_names[i],
			   atomic_long_read(&rn->counters[i]));
	seq_printf(seq, "resting %u\n", ephport_rnet_resting(rn));
}

/* ---- /sys/kernel/ephport/{mode,reuse_delay_ms,redirects} ---- */

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  ephport_mode_name(READ_ONCE(ephport_global_mode)));
}

static ssize_t mode_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	struct ephport_rnet *rn;
	enum ephport_mode m;
	int ret = 0;

	if (ephport_parse_mode(buf, false, &m))
		return -EINVAL;
	mutex_lock(&ephport_ctl_lock);
	WRITE_ONCE(ephport_global_mode, m);
	list_for_each_entry(rn, &ephport_rnets, node) {
		if (ephport_rnet_update(rn))
			ret = -ENOMEM;
	}
	mutex_unlock(&ephport_ctl_lock);
	if (ret)
		pr_warn("random mode: no memory for some namespaces, they stay in observe mode\n");
	return ret ? ret : count;
}
static struct kobj_attribute mode_attr = __ATTR_RW(mode);

static ssize_t reuse_delay_ms_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(ephport_global_delay_ms));
}

static ssize_t reuse_delay_ms_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	int ms;

	if (ephport_parse_delay(buf, false, &ms))
		return -EINVAL;
	WRITE_ONCE(ephport_global_delay_ms, ms);
	return count;
}
static struct kobj_attribute reuse_delay_ms_attr = __ATTR_RW(reuse_delay_ms);

static ssize_t redirects_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return ephport_redirect_show(buf);
}
static struct kobj_attribute redirects_attr = __ATTR_RO(redirects);

static struct attribute *ephport_ctl_attrs[] = {
	&mode_attr.attr,
	&reuse_delay_ms_attr.attr,
	&redirects_attr.attr,
	NULL,
};

static const struct attribute_group ephport_ctl_group = {
	.attrs = ephport_ctl_attrs,
};

/* ---- pernet_operations ---- */

static int __net_init ephport_rnet_init(struct net *net)
{
	struct ephport_rnet *rn = net_generic(net, ephport_rnet_id);
	struct ephport_net *en;
	int i, ret;

	rn->net = net;
	spin_lock_init(&rn->lock);
	INIT_LIST_HEAD(&rn->node);
	rn->mode = EPHPORT_MODE_DEFAULT;
	rn->delay_ms = EPHPORT_DELAY_FOLLOW;

	rn->table = kmemdup(ephport_sysctl_template,
			    sizeof(ephport_sysctl_template), GFP_KERNEL);
	if (!rn->table)
		return -ENOMEM;
	for (i = 0; i < EPHPORT_NSYSCTL; i++)
		rn->table[i].data = rn;
	rn->sysctl = ephport_register_net_sysctl(net, "net/ephport", rn->table,
						 EPHPORT_NSYSCTL);
	if (!rn->sysctl) {
		ret = -ENOMEM;
		goto err_table;
	}

	/* The observe state's directory, made by its pernet init before. */
	rcu_read_lock();
	en = ephport_net_get(net);
	rcu_read_unlock();
	if (en && en->kobj) {
		ret = sysfs_create_group(en->kobj, &ephport_rnet_group);
		if (ret)
			goto err_sysctl;
		rn->kobj = en->kobj;
	}

	mutex_lock(&ephport_ctl_lock);
	ret = ephport_rnet_update(rn);
	if (!ret)
		list_add_tail(&rn->node, &ephport_rnets);
	mutex_unlock(&ephport_ctl_lock);
	if (ret)
		goto err_sysfs;
	WRITE_ONCE(rn->alive, true);
	return 0;

err_sysfs:
	if (rn->kobj)
		sysfs_remove_group(rn->kobj, &ephport_rnet_group);
	rn->kobj = NULL;
err_sysctl:
	unregister_net_sysctl_table(rn->sysctl);
err_table:
	kfree(rn->table);
	return ret;
}

/* Handlers stop using the state; the core's synchronize_rcu() follows. */
static void __net_exit ephport_rnet_pre_exit(struct net *net)
{
	struct ephport_rnet *rn = net_generic(net, ephport_rnet_id);

	WRITE_ONCE(rn->alive, false);
}

static void __net_exit ephport_rnet_exit(struct net *net)
{
	struct ephport_rnet *rn = net_generic(net, ephport_rnet_id);
	struct ephport_rest *rest;

	mutex_lock(&ephport_ctl_lock);
	list_del_init(&rn->node);
	rest = rcu_dereference_protected(rn->rest,
					 lockdep_is_held(&ephport_ctl_lock));
	RCU_INIT_POINTER(rn->rest, NULL);
	mutex_unlock(&ephport_ctl_lock);
	if (rn->kobj)
		sysfs_remove_group(rn->kobj, &ephport_rnet_group);
	rn->kobj = NULL;
	unregister_net_sysctl_table(rn->sysctl);
	kfree(rn->table);
	vfree(rest);
}

static struct pernet_operations ephport_rnet_ops = {
	.init = ephport_rnet_init,
	.pre_exit = ephport_rnet_pre_exit,
	.exit = ephport_rnet_exit,
	.id = &ephport_rnet_id,
	.size = sizeof(struct ephport_rnet),
};

int ephport_ctl_init(void)
{
	int ret;

	ret = register_pernet_subsys(&ephport_rnet_ops);
	if (ret)
		return ret;
	WRITE_ONCE(ephport_ctl_ready, true);
	ret = sysfs_create_group(ephport_kobj, &ephport_ctl_group);
	if (ret)
		goto err_pernet;
	schedule_delayed_work(&ephport_sweep_work, EPHPORT_SWEEP_SECS * HZ);
	return 0;

err_pernet:
	WRITE_ONCE(ephport_ctl_ready, false);
	synchronize_rcu();
	unregister_pernet_subsys(&ephport_rnet_ops);
	return ret;
}

void ephport_ctl_uninit(void)
{
	cancel_delayed_work_sync(&ephport_sweep_work);
	sysfs_remove_group(ephport_kobj, &ephport_ctl_group);
	/* No handler reaches the state from here on. */
	WRITE_ONCE(ephport_ctl_ready, false);
	synchronize_rcu();
	unregister_pernet_subsys(&ephport_rnet_ops);
}
