/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: ephemeral port visibility and randomized allocation.
 */
#ifndef _EPHPORT_H
#define _EPHPORT_H

#include <linux/kobject.h>

#ifndef EPHPORT_VERSION
#error "EPHPORT_VERSION comes from dkms.conf through Kbuild"
#endif

/* /sys/kernel/ephport/ */
extern struct kobject *ephport_kobj;

int ephport_sysfs_init(void);
void ephport_sysfs_uninit(void);

#endif /* _EPHPORT_H */
