// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: /sys/kernel/ephport/net/<inum>/, one directory per namespace,
 * an interface to its state. The directories come and go with their own
 * pernet_operations, registered after the state's: a namespace's
 * directory is removed before its state. Their parent is made, and
 * handed in, by sysfs.c.
 */
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "alarm.h"
#include "counting.h"
#include "dests.h"
#include "interfaces.h"
#include "pass.h"
#include "random_mode.h"

static struct kobject *ephport_net_kobj;	/* /sys/kernel/ephport/net/ */

/*
 * Each tenant sees only itself. The files are the host's root's (0400,
 * peaks 0600), which keeps out unprivileged users and the root of a user
 * namespace, but not a container without a user namespace: its root is
 * uid 0 of the host. So every show and store also asks access.c whether
 * the reader may see the namespace (it is inside it, or holds
 * CAP_SYS_ADMIN over it), and refuses it with -EACCES otherwise, before
 * the file's own function runs: one check for every file, new ones too.
 * Everyone reads their own namespace's values in /proc/net/ephport.
 */

struct ephport_net_kobj {
	struct kobject kobj;
	struct ephport_net *en;	/* valid until kobject_del() returns */
	const struct net *net;	/* its namespace, alive as long */
};

static struct ephport_net *ephport_kobj_net(struct kobject *kobj)
{
	return container_of(kobj, struct ephport_net_kobj, kobj)->en;
}

static bool ephport_kobj_visible(struct kobject *kobj)
{
	return ephport_may_see(container_of(kobj, struct ephport_net_kobj,
					    kobj)->net);
}

static ssize_t ephport_net_attr_show(struct kobject *kobj,
				     struct attribute *attr, char *buf)
{
	if (!ephport_kobj_visible(kobj))
		return -EACCES;
	return kobj_sysfs_ops.show(kobj, attr, buf);
}

static ssize_t ephport_net_attr_store(struct kobject *kobj,
				      struct attribute *attr, const char *buf,
				      size_t count)
{
	if (!ephport_kobj_visible(kobj))
		return -EACCES;
	return kobj_sysfs_ops.store(kobj, attr, buf, count);
}

/* kobj_sysfs_ops, behind the check. */
static const struct sysfs_ops ephport_net_sysfs_ops = {
	.show = ephport_net_attr_show,
	.store = ephport_net_attr_store,
};

static ssize_t range_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct ephport_values v;

	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%u %u\n", v.lo, v.hi);
}

static struct kobj_attribute range_attr = __ATTR_RO_MODE(range, 0400);

/* tcp_in_use, udp_in_use, tcp_peak, udp_peak: one show, one store. */
struct ephport_usage_attr {
	struct kobj_attribute attr;
	enum ephport_proto proto;
	bool peak;
};

static ssize_t ephport_usage_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct ephport_usage_attr *ua;
	struct ephport_values v;

	ua = container_of(attr, struct ephport_usage_attr, attr);
	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%u\n",
			  ua->peak ? v.peak[ua->proto] : v.in_use[ua->proto]);
}

/* Writing 0 to a peak: the watermark restarts from the current value. */
static ssize_t ephport_peak_store(struct kobject *kobj,
				  struct kobj_attribute *attr, const char *buf,
				  size_t count)
{
	struct ephport_usage_attr *ua;

	ua = container_of(attr, struct ephport_usage_attr, attr);
	if (ephport_parse_peak_reset(buf))
		return -EINVAL;
	ephport_net_reset_peak(ephport_kobj_net(kobj), ua->proto);
	return count;
}

static struct ephport_usage_attr ephport_usage_attrs[] = {
	{ __ATTR(tcp_in_use, 0400, ephport_usage_show, NULL), EPHPORT_TCP, false },
	{ __ATTR(udp_in_use, 0400, ephport_usage_show, NULL), EPHPORT_UDP, false },
	{ __ATTR(tcp_peak, 0600, ephport_usage_show, ephport_peak_store),
	  EPHPORT_TCP, true },
	{ __ATTR(udp_peak, 0600, ephport_usage_show, ephport_peak_store),
	  EPHPORT_UDP, true },
};

static ssize_t alarm_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct ephport_values v;

	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%d\n", v.alarm);
}

static struct kobj_attribute alarm_attr = __ATTR_RO_MODE(alarm, 0400);

/* At most 1 s old: a walk of the namespace's sockets (dests.c). */
static ssize_t tcp_dest_max_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	u32 max;
	int ret;

	ret = ephport_net_dest_max(ephport_kobj_net(kobj), &max);
	if (ret)
		return ret;
	return sysfs_emit(buf, "%u\n", max);
}

static struct kobj_attribute tcp_dest_max_attr =
	__ATTR_RO_MODE(tcp_dest_max, 0400);

static ssize_t search_ns_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	struct ephport_net *en = ephport_kobj_net(kobj);
	int len = 0;
	int i;

	if (!ephport_search_supported())
		return sysfs_emit(buf, "unsupported\n");
	for (i = 0; i < EPHPORT_HIST_BUCKETS; i++)
		len += sysfs_emit_at(buf, len, "%llu %lu\n",
				     ephport_hist_bound(i),
				     ephport_net_searches(en, i));
	return len;
}

static struct kobj_attribute search_ns_attr = __ATTR_RO_MODE(search_ns, 0400);

static ssize_t search_ns_sum_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	if (!ephport_search_supported())
		return sysfs_emit(buf, "unsupported\n");
	return sysfs_emit(buf, "%llu\n",
			  ephport_net_search_sum(ephport_kobj_net(kobj)));
}

static struct kobj_attribute search_ns_sum_attr =
	__ATTR_RO_MODE(search_ns_sum, 0400);

static ssize_t ephport_net_mode_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  ephport_mode_name(ephport_net_mode(ephport_kobj_net(kobj))));
}

static struct kobj_attribute ephport_net_mode_attr =
	__ATTR(mode, 0400, ephport_net_mode_show, NULL);

static ssize_t ephport_net_delay_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", ephport_net_delay(ephport_kobj_net(kobj)));
}

static struct kobj_attribute ephport_net_delay_attr =
	__ATTR(reuse_delay_ms, 0400, ephport_net_delay_show, NULL);

static ssize_t resting_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  ephport_random_resting(ephport_kobj_net(kobj)));
}

static struct kobj_attribute resting_attr = __ATTR_RO_MODE(resting, 0400);

/* The counters share two show functions, finding theirs by the attribute. */
struct ephport_counter_attr {
	struct kobj_attribute attr;
	int counter;
};

static ssize_t ephport_counter_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	struct ephport_counter_attr *ca;

	ca = container_of(attr, struct ephport_counter_attr, attr);
	if (!ephport_counter_supported(ca->counter))
		return sysfs_emit(buf, "unsupported\n");
	return sysfs_emit(buf, "%lu\n",
			  ephport_net_counter(ephport_kobj_net(kobj), ca->counter));
}

static ssize_t ephport_rcounter_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	struct ephport_counter_attr *ca;

	ca = container_of(attr, struct ephport_counter_attr, attr);
	return sysfs_emit(buf, "%lu\n",
			  ephport_net_rcounter(ephport_kobj_net(kobj), ca->counter));
}

#define EPHPORT_COUNTER_ATTR(_name, _show, _c)				\
	{ .attr = __ATTR(_name, 0400, _show, NULL), .counter = (_c) }

/* Observe's counters, then random mode's: the list's order. */
static struct ephport_counter_attr
ephport_counter_attrs[EPHPORT_NCOUNTERS + EPHPORT_NRCOUNTERS] = {
#define EPHPORT_OBSERVE_COUNTER(id, name) \
	EPHPORT_COUNTER_ATTR(name, ephport_counter_show, EPHPORT_##id),
#define EPHPORT_RANDOM_COUNTER(id, name) \
	EPHPORT_COUNTER_ATTR(name, ephport_rcounter_show, EPHPORT_##id),
#include "ephport_counters.h"
};

static struct attribute *ephport_net_attrs[] = {
	&range_attr.attr,
	&ephport_usage_attrs[0].attr.attr,
	&ephport_usage_attrs[1].attr.attr,
	&ephport_usage_attrs[2].attr.attr,
	&ephport_usage_attrs[3].attr.attr,
	&search_ns_attr.attr,
	&search_ns_sum_attr.attr,
	&alarm_attr.attr,
	&ephport_net_mode_attr.attr,
	&ephport_net_delay_attr.attr,
	&resting_attr.attr,
	&tcp_dest_max_attr.attr,
#define EPHPORT_OBSERVE_COUNTER(id, ...) \
	(&ephport_counter_attrs[EPHPORT_##id].attr.attr),
#define EPHPORT_RANDOM_COUNTER(id, ...) \
	(&ephport_counter_attrs[EPHPORT_NCOUNTERS + EPHPORT_##id].attr.attr),
#include "ephport_counters.h"
	NULL,
};

ATTRIBUTE_GROUPS(ephport_net);

static void ephport_net_kobj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct ephport_net_kobj, kobj));
}

static const struct kobj_type ephport_net_ktype = {
	.release = ephport_net_kobj_release,
	.sysfs_ops = &ephport_net_sysfs_ops,
	.default_groups = ephport_net_groups,
};

/* Each namespace's directory (a struct kobject *), for its removal. */
static unsigned int ephport_sysfs_net_id __read_mostly;

static int __net_init ephport_sysfs_net_init(struct net *net)
{
	struct kobject **dir = net_generic(net, ephport_sysfs_net_id);
	struct ephport_net *en = ephport_net_of(net);
	struct ephport_net_kobj *nk;
	int ret;

	/* The namespace is made even if its files cannot be. */
	*dir = NULL;
	if (!ephport_net_counted(net))
		return 0;
	nk = kzalloc(sizeof(*nk), EPHPORT_GFP);
	if (!nk)
		goto err_warn;
	nk->en = en;
	nk->net = net;
	ret = kobject_init_and_add(&nk->kobj, &ephport_net_ktype,
				   ephport_net_kobj, "%u", net->ns.inum);
	if (ret) {
		kobject_put(&nk->kobj);
		goto err_warn;
	}
	*dir = &nk->kobj;
	/* The state notifies alarm changes there; the reference is its. */
	ephport_net_watch_alarm(en, sysfs_get_dirent(nk->kobj.sd, "alarm"));
	return 0;

err_warn:
	pr_warn_ratelimited("netns %u: no sysfs directory\n", net->ns.inum);
	return 0;
}

static void __net_exit ephport_sysfs_net_exit(struct net *net)
{
	struct kobject **dir = net_generic(net, ephport_sysfs_net_id);

	if (!*dir)
		return;
	sysfs_put(ephport_net_watch_alarm(ephport_net_of(net), NULL));
	/* Waits for running show/store calls: none uses the state after. */
	kobject_del(*dir);
	kobject_put(*dir);
	*dir = NULL;
}

static struct pernet_operations ephport_sysfs_net_ops = {
	.init = ephport_sysfs_net_init,
	.exit = ephport_sysfs_net_exit,
	.id = &ephport_sysfs_net_id,
	.size = sizeof(struct kobject *),
};

int ephport_sysfs_net_register(struct kobject *parent)
{
	ephport_net_kobj = parent;
	return register_pernet_subsys(&ephport_sysfs_net_ops);
}

void ephport_sysfs_net_unregister(void)
{
	unregister_pernet_subsys(&ephport_sysfs_net_ops);
	ephport_net_kobj = NULL;
}
