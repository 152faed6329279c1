// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the /sys/kernel/ephport/ tree.
 *
 *   version, netns, probes, alarm_pct
 *   net/<inum>/{range,tcp_in_use,...}	one directory per namespace
 */
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "ephport.h"

struct kobject *ephport_kobj;
static struct kobject *ephport_net_kobj;	/* /sys/kernel/ephport/net/ */

const char *const ephport_counter_names[EPHPORT_NCOUNTERS] = {
	[EPHPORT_TCP_CONNECT_OK] = "tcp_connect_ok",
	[EPHPORT_TCP_CONNECT_FAIL] = "tcp_connect_fail",
	[EPHPORT_TCP_BIND_OK] = "tcp_bind_ok",
	[EPHPORT_TCP_BIND_FAIL] = "tcp_bind_fail",
	[EPHPORT_UDP_OK] = "udp_ok",
	[EPHPORT_UDP_FAIL] = "udp_fail",
	[EPHPORT_SELF_CONNECT] = "self_connect",
};

/* ---- /sys/kernel/ephport/ ---- */

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", EPHPORT_VERSION);
}
static struct kobj_attribute version_attr = __ATTR_RO(version);

static ssize_t netns_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&ephport_nets_count));
}
static struct kobj_attribute netns_attr = __ATTR_RO(netns);

static ssize_t probes_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	return ephport_probes_show(buf);
}
static struct kobj_attribute probes_attr = __ATTR_RO(probes);

static ssize_t alarm_pct_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ephport_alarm_pct));
}

static ssize_t alarm_pct_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	u32 pct;

	if (ephport_parse_pct(buf, &pct))
		return -EINVAL;
	WRITE_ONCE(ephport_alarm_pct, pct);
	ephport_net_alarm_recheck_all();
	return count;
}
static struct kobj_attribute alarm_pct_attr = __ATTR_RW(alarm_pct);

static struct attribute *ephport_attrs[] = {
	&version_attr.attr,
	&netns_attr.attr,
	&probes_attr.attr,
	&alarm_pct_attr.attr,
	NULL,
};

static const struct attribute_group ephport_group = {
	.attrs = ephport_attrs,
};

/*
 * ---- /sys/kernel/ephport/net/<inum>/ ----
 *
 * Readable by the host's root only (0400, peaks 0600): a namespace's
 * values are not shown to other namespaces' users. Everyone reads their
 * own namespace's values in /proc/net/ephport.
 */

struct ephport_net_kobj {
	struct kobject kobj;
	struct ephport_net *en;	/* valid until kobject_del() returns */
};

struct ephport_net *ephport_kobj_net(struct kobject *kobj)
{
	return container_of(kobj, struct ephport_net_kobj, kobj)->en;
}

static ssize_t range_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct ephport_values v;

	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%u %u\n", v.lo, v.hi);
}
static struct kobj_attribute range_attr = __ATTR_RO_MODE(range, 0400);

static ssize_t ephport_usage_show(struct kobject *kobj, char *buf,
				  enum ephport_proto proto, bool peak)
{
	struct ephport_values v;

	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%u\n", peak ? v.peak[proto] : v.in_use[proto]);
}

static ssize_t ephport_peak_store(struct kobject *kobj, const char *buf,
				  size_t count, enum ephport_proto proto)
{
	if (ephport_parse_peak_reset(buf))
		return -EINVAL;
	ephport_net_reset_peak(ephport_kobj_net(kobj), proto);
	return count;
}

static ssize_t tcp_in_use_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return ephport_usage_show(kobj, buf, EPHPORT_TCP, false);
}
static struct kobj_attribute tcp_in_use_attr = __ATTR_RO_MODE(tcp_in_use, 0400);

static ssize_t udp_in_use_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	return ephport_usage_show(kobj, buf, EPHPORT_UDP, false);
}
static struct kobj_attribute udp_in_use_attr = __ATTR_RO_MODE(udp_in_use, 0400);

static ssize_t tcp_peak_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return ephport_usage_show(kobj, buf, EPHPORT_TCP, true);
}

static ssize_t tcp_peak_store(struct kobject *kobj,
			      struct kobj_attribute *attr, const char *buf,
			      size_t count)
{
	return ephport_peak_store(kobj, buf, count, EPHPORT_TCP);
}
static struct kobj_attribute tcp_peak_attr = __ATTR_RW_MODE(tcp_peak, 0600);

static ssize_t udp_peak_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return ephport_usage_show(kobj, buf, EPHPORT_UDP, true);
}

static ssize_t udp_peak_store(struct kobject *kobj,
			      struct kobj_attribute *attr, const char *buf,
			      size_t count)
{
	return ephport_peak_store(kobj, buf, count, EPHPORT_UDP);
}
static struct kobj_attribute udp_peak_attr = __ATTR_RW_MODE(udp_peak, 0600);

static ssize_t alarm_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	struct ephport_values v;

	ephport_net_values(ephport_kobj_net(kobj), &v);
	return sysfs_emit(buf, "%d\n", v.alarm);
}
static struct kobj_attribute alarm_attr = __ATTR_RO_MODE(alarm, 0400);

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
				     atomic_long_read(&en->search_ns[i]));
	return len;
}
static struct kobj_attribute search_ns_attr = __ATTR_RO_MODE(search_ns, 0400);

/* The event counters share one show function, found by the attribute. */
struct ephport_counter_attr {
	struct kobj_attribute attr;
	enum ephport_counter counter;
};

static ssize_t ephport_counter_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	struct ephport_counter_attr *ca;

	ca = container_of(attr, struct ephport_counter_attr, attr);
	if (!ephport_counter_supported(ca->counter))
		return sysfs_emit(buf, "unsupported\n");
	return sysfs_emit(buf, "%lu\n",
			  atomic_long_read(&ephport_kobj_net(kobj)->counters[ca->counter]));
}

#define EPHPORT_COUNTER_ATTR(_c, _name)					\
	static struct ephport_counter_attr _name##_attr = {		\
		.attr = __ATTR(_name, 0400, ephport_counter_show, NULL),\
		.counter = _c,						\
	}

EPHPORT_COUNTER_ATTR(EPHPORT_TCP_CONNECT_OK, tcp_connect_ok);
EPHPORT_COUNTER_ATTR(EPHPORT_TCP_CONNECT_FAIL, tcp_connect_fail);
EPHPORT_COUNTER_ATTR(EPHPORT_TCP_BIND_OK, tcp_bind_ok);
EPHPORT_COUNTER_ATTR(EPHPORT_TCP_BIND_FAIL, tcp_bind_fail);
EPHPORT_COUNTER_ATTR(EPHPORT_UDP_OK, udp_ok);
EPHPORT_COUNTER_ATTR(EPHPORT_UDP_FAIL, udp_fail);
EPHPORT_COUNTER_ATTR(EPHPORT_SELF_CONNECT, self_connect);

static struct attribute *ephport_net_attrs[] = {
	&range_attr.attr,
	&tcp_in_use_attr.attr,
	&udp_in_use_attr.attr,
	&tcp_peak_attr.attr,
	&udp_peak_attr.attr,
	&tcp_connect_ok_attr.attr.attr,
	&tcp_connect_fail_attr.attr.attr,
	&tcp_bind_ok_attr.attr.attr,
	&tcp_bind_fail_attr.attr.attr,
	&udp_ok_attr.attr.attr,
	&udp_fail_attr.attr.attr,
	&self_connect_attr.attr.attr,
	&search_ns_attr.attr,
	&alarm_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ephport_net);

static void ephport_net_kobj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct ephport_net_kobj, kobj));
}

static const struct kobj_type ephport_net_ktype = {
	.release = ephport_net_kobj_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = ephport_net_groups,
};

int ephport_sysfs_net_add(struct ephport_net *en, unsigned int inum)
{
	struct ephport_net_kobj *nk;
	int ret;

	nk = kzalloc(sizeof(*nk), GFP_KERNEL);
	if (!nk)
		return -ENOMEM;
	nk->en = en;
	ret = kobject_init_and_add(&nk->kobj, &ephport_net_ktype,
				   ephport_net_kobj, "%u", inum);
	if (ret) {
		kobject_put(&nk->kobj);
		return ret;
	}
	en->alarm_kn = sysfs_get_dirent(nk->kobj.sd, "alarm");
	en->kobj = &nk->kobj;
	return 0;
}

void ephport_sysfs_net_del(struct ephport_net *en)
{
	if (!en->kobj)
		return;
	sysfs_put(en->alarm_kn);
	en->alarm_kn = NULL;
	/* Waits for running show/store calls: none uses en afterwards. */
	kobject_del(en->kobj);
	kobject_put(en->kobj);
	en->kobj = NULL;
}

int ephport_sysfs_init(void)
{
	int ret;

	ephport_kobj = kobject_create_and_add("ephport", kernel_kobj);
	if (!ephport_kobj)
		return -ENOMEM;

	ret = sysfs_create_group(ephport_kobj, &ephport_group);
	if (ret)
		goto err_put;

	ephport_net_kobj = kobject_create_and_add("net", ephport_kobj);
	if (!ephport_net_kobj) {
		ret = -ENOMEM;
		goto err_group;
	}
	return 0;

err_group:
	sysfs_remove_group(ephport_kobj, &ephport_group);
err_put:
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
	return ret;
}

void ephport_sysfs_uninit(void)
{
	kobject_put(ephport_net_kobj);
	ephport_net_kobj = NULL;
	sysfs_remove_group(ephport_kobj, &ephport_group);
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
}
