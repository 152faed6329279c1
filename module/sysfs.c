// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the /sys/kernel/ephport/ tree, an interface to the state.
 *
 *   version, netns, passes, probes,
 *   redirects				read-only (but version: the
 *					host's readers only)
 *   alarm_pct, alarm_basis, mode,
 *   reuse_delay_ms, tenant_random	the global settings: anyone
 *					reads them, the host writes
 *   net/<inum>/...			one directory per namespace
 *					(sysfs_net.c)
 *
 * Who may do what is access.c's: the file modes alone do not tell a
 * container without a user namespace (uid 0) from the host. The probes
 * and redirects files print the hooks' own tables (hooks.c, redirect.c);
 * nothing there calls back.
 */
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "alarm.h"
#include "hooks.h"
#include "interfaces.h"
#include "netns.h"
#include "redirect.h"

static struct kobject *ephport_kobj;		/* /sys/kernel/ephport/ */
static struct kobject *ephport_net_kobj;	/* /sys/kernel/ephport/net/ */

/* ---- /sys/kernel/ephport/ ---- */

/*
 * What the whole host does (the hooks' hits, the namespaces) is for the
 * host's readers only: no container's, with or without a user namespace.
 */
static bool ephport_host_reader(void)
{
	return ephport_may_see_host();
}

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", EPHPORT_VERSION);
}

static struct kobj_attribute version_attr = __ATTR_RO(version);

static ssize_t netns_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	if (!ephport_host_reader())
		return -EACCES;
	return sysfs_emit(buf, "%d\n", ephport_nets_count());
}

static struct kobj_attribute netns_attr = __ATTR_RO(netns);

static ssize_t passes_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	if (!ephport_host_reader())
		return -EACCES;
	return sysfs_emit(buf, "%lu\n", ephport_nets_passes());
}

static struct kobj_attribute passes_attr = __ATTR_RO(passes);

static ssize_t probes_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	if (!ephport_host_reader())
		return -EACCES;
	return ephport_hooks_show(buf);
}

static struct kobj_attribute probes_attr = __ATTR_RO(probes);

static ssize_t redirects_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	if (!ephport_host_reader())
		return -EACCES;
	return ephport_redirect_show(buf);
}

static struct kobj_attribute redirects_attr = __ATTR_RO(redirects);

/*
 * The global settings, below: anyone reads them. A write changes every
 * namespace that follows them, which is the host's decision: it needs
 * CAP_SYS_ADMIN in the initial user namespace, beside the file's mode
 * (0644, root's), which a container without a user namespace passes.
 */
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

	if (!ephport_host_admin())
		return -EPERM;

	if (ephport_parse_pct(buf, &pct))
		return -EINVAL;
	ephport_set_alarm_pct(pct);
	return count;
}

static struct kobj_attribute alarm_pct_attr = __ATTR_RW(alarm_pct);

static ssize_t alarm_basis_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  ephport_basis_name(READ_ONCE(ephport_alarm_basis)));
}

static ssize_t alarm_basis_store(struct kobject *kobj,
				 struct kobj_attribute *attr, const char *buf,
				 size_t count)
{
	enum ephport_basis b;

	if (!ephport_host_admin())
		return -EPERM;

	if (ephport_parse_basis(buf, &b))
		return -EINVAL;
	ephport_set_alarm_basis(b);
	return count;
}

static struct kobj_attribute alarm_basis_attr = __ATTR_RW(alarm_basis);

static ssize_t mode_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  ephport_mode_name(READ_ONCE(ephport_default_mode)));
}

static ssize_t mode_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	enum ephport_mode m;
	int ret;

	if (!ephport_host_admin())
		return -EPERM;

	if (ephport_parse_mode(buf, false, &m))
		return -EINVAL;
	ret = ephport_set_default_mode(m);
	if (ret == -ENOMEM)
		pr_warn_ratelimited("mode: no memory for random mode in every namespace that follows it, unchanged\n");
	return ret ? ret : count;
}

static struct kobj_attribute mode_attr = __ATTR_RW(mode);

static ssize_t reuse_delay_ms_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(ephport_default_delay_ms));
}

static ssize_t reuse_delay_ms_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	int ms;

	if (!ephport_host_admin())
		return -EPERM;

	if (ephport_parse_delay(buf, false, &ms))
		return -EINVAL;
	ephport_set_default_delay(ms);
	return count;
}

static struct kobj_attribute reuse_delay_ms_attr = __ATTR_RW(reuse_delay_ms);

/*
 * tenant_random: 1 lets tenants switch their own namespaces to random
 * mode; writing it registers the redirects (redirect.c), as the host's
 * own switch to random mode does.
 */
static ssize_t tenant_random_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", ephport_redirect_tenants_allowed());
}

static ssize_t tenant_random_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	bool on;
	int ret;

	if (!ephport_host_admin())
		return -EPERM;
	if (ephport_parse_switch(buf, &on))
		return -EINVAL;
	ret = ephport_redirect_set_tenants(on);
	return ret ? ret : count;
}

static struct kobj_attribute tenant_random_attr = __ATTR_RW(tenant_random);

static struct attribute *ephport_attrs[] = {
	&version_attr.attr,
	&netns_attr.attr,
	&passes_attr.attr,
	&probes_attr.attr,
	&alarm_pct_attr.attr,
	&mode_attr.attr,
	&reuse_delay_ms_attr.attr,
	&redirects_attr.attr,
	&alarm_basis_attr.attr,
	&tenant_random_attr.attr,
	NULL,
};

static const struct attribute_group ephport_group = {
	.attrs = ephport_attrs,
};

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
	/*
	 * The list of namespaces is the host's: the directory is root's
	 * alone (0700), so neither an unprivileged user nor a user
	 * namespace's root can list it. A container without a user
	 * namespace is uid 0 and can: sysfs cannot hide a directory's
	 * entries from one reader and show them to another (its namespace
	 * tags follow the netns of the sysfs mount, which would hide every
	 * other namespace from the host's tools too). The names it lists are
	 * inode numbers; every file in them refuses it (sysfs_net.c). The
	 * directory is found by its name, as a file would be.
	 */
	ret = sysfs_chmod_file(ephport_kobj,
			       &(const struct attribute){ .name = "net" },
			       0700);
	if (ret)
		goto err_net;
	ret = ephport_sysfs_net_register(ephport_net_kobj);
	if (ret)
		goto err_net;
	return 0;

err_net:
	kobject_put(ephport_net_kobj);
	ephport_net_kobj = NULL;
err_group:
	sysfs_remove_group(ephport_kobj, &ephport_group);
err_put:
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
	return ret;
}

void ephport_sysfs_uninit(void)
{
	ephport_sysfs_net_unregister();
	kobject_put(ephport_net_kobj);
	ephport_net_kobj = NULL;
	sysfs_remove_group(ephport_kobj, &ephport_group);
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
}
