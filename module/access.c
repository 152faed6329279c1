// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: who may see and change what, for every interface (interfaces.h).
 *
 * A tenant is any task without CAP_SYS_ADMIN in the initial user
 * namespace: root of a user namespace (unshare -Urn), and also a
 * container as Docker and Kubernetes run them by default, without a user
 * namespace: uid 0 of the initial user namespace, CAP_DAC_OVERRIDE, no
 * CAP_SYS_ADMIN nor CAP_NET_ADMIN. Such a container passes every file
 * mode check of sysfs (its root is the files' owner), and current_user_ns()
 * is the host's: neither tells it from the host. What does is a
 * capability in the initial user namespace, or the reader's own network
 * namespace (current->nsproxy->net_ns).
 *
 * The checks are made on the task that reads or writes, at the read or
 * write: sysfs' kobj_attribute and a sysctl's proc_handler are not given
 * the file, so the opener's credentials are out of reach. A file opened
 * by the host and handed to a tenant is therefore of no use to it.
 *
 * Why CAP_SYS_ADMIN and not CAP_NET_ADMIN: containers are routinely given
 * CAP_NET_ADMIN (docker run --cap-add NET_ADMIN, for a VPN or their own
 * routes and firewall); without a user namespace that capability is held
 * in the initial user namespace, so accepting it would show every
 * neighbour to such a container. What it grants is meant for the
 * container's own network namespace, which it sees anyway. CAP_SYS_ADMIN
 * is what entering another namespace takes (setns()): a task that holds
 * it over a namespace's owner could read the namespace from inside.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>

#include "interfaces.h"

/* The current task's network namespace, or NULL (exiting). */
static struct net *ephport_reader_net(void)
{
	struct nsproxy *nsp = current->nsproxy;

	return nsp ? nsp->net_ns : NULL;
}

/*
 * May the current task change what holds for the whole host (the global
 * settings, the redirects)? CAP_SYS_ADMIN in the initial user namespace.
 * Not audited: a tenant's refused write is routine, not an incident.
 */
bool ephport_host_admin(void)
{
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

/*
 * May the current task see @net's values? If it is inside @net, or could
 * enter it with setns(), whose rule this is (netns_install()):
 * CAP_SYS_ADMIN over the user namespace that owns @net and over its own.
 * The second half matters: the creator of a user namespace holds every
 * capability in it without holding any itself, so uid 0 of a container
 * without a user namespace (no CAP_SYS_ADMIN) would otherwise see every
 * namespace owned by a user namespace that host root made (Kubernetes'
 * hostUsers: false pods, LXD, systemd-nspawn -U). For the host's
 * namespaces and a container's without a user namespace, this is
 * CAP_SYS_ADMIN in the initial user namespace. @net must stay alive
 * during the call (its files exist).
 */
bool ephport_may_see(const struct net *net)
{
	if (ephport_reader_net() == net)
		return true;
	return ns_capable_noaudit(net->user_ns, CAP_SYS_ADMIN) &&
	       ns_capable_noaudit(current_user_ns(), CAP_SYS_ADMIN);
}

/*
 * May the current task see what the whole host does (how many
 * namespaces, the hooks' and redirects' hits of every namespace)? The
 * host's own tasks, in the initial user and network namespaces (its
 * unprivileged users too), or CAP_SYS_ADMIN there; no task of a
 * container, with or without a user namespace of its own.
 */
bool ephport_may_see_host(void)
{
	if (current_user_ns() == &init_user_ns &&
	    ephport_reader_net() == &init_net)
		return true;
	return ephport_host_admin();
}
