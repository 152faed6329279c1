/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the interfaces to each namespace's state.
 *
 *   sysfs.c	/sys/kernel/ephport/: the host's files, global settings
 *   sysfs_net.c	/sys/kernel/ephport/net/<inum>/: a directory per
 *		namespace
 *   procfs.c	/proc/net/ephport, /proc/net/ephport_dests: the
 *		reader's own namespace
 *   sysctl.c	net.ephport.*: a namespace's own settings
 *   params.c	the module parameters: the settings at load
 *   access.c	who may see and change what: the reader's namespace,
 *		CAP_SYS_ADMIN in the initial user namespace
 *   debugfs.c	/sys/kernel/debug/ephport/: a pass on demand, for tests
 *
 * Each per-namespace one registers its own pernet_operations after the
 * state's, so its files are made after a namespace's state and removed
 * before it.
 */
#ifndef _EPHPORT_INTERFACES_H
#define _EPHPORT_INTERFACES_H

struct kobject;
struct net;

int ephport_sysfs_init(void);
void ephport_sysfs_uninit(void);
int ephport_sysfs_net_register(struct kobject *parent);
void ephport_sysfs_net_unregister(void);
int ephport_procfs_init(void);
void ephport_procfs_uninit(void);
int ephport_sysctl_init(void);
void ephport_sysctl_uninit(void);
void ephport_debugfs_init(void);
void ephport_debugfs_uninit(void);
bool ephport_host_admin(void);
bool ephport_may_see(const struct net *net);
bool ephport_may_see_host(void);

/* tenant_random= given at load (params.c); main.c applies it. */
extern bool ephport_param_tenant_random;

#endif /* _EPHPORT_INTERFACES_H */
