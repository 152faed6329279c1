// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the /sys/kernel/ephport/ tree.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "ephport.h"

struct kobject *ephport_kobj;

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", EPHPORT_VERSION);
}
static struct kobj_attribute version_attr = __ATTR_RO(version);

static struct attribute *ephport_attrs[] = {
	&version_attr.attr,
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
	return 0;

err_put:
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
	return ret;
}

void ephport_sysfs_uninit(void)
{
	sysfs_remove_group(ephport_kobj, &ephport_group);
	kobject_put(ephport_kobj);
	ephport_kobj = NULL;
}
