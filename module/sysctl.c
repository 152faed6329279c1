// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: net.ephport.{mode,reuse_delay_ms}, an interface to the state:
 * a namespace's own settings, written by its root. "default" and -1
 * follow the global settings (/sys/kernel/ephport/). Registered and
 * unregistered by its own pernet_operations, after the state's.
 *
 * The kernel lets a namespace's own root write them (a container's root,
 * with or without a user namespace). Random mode is the exception: it
 * needs the redirects, which are the host's (redirect.c), so a writer
 * without CAP_SYS_ADMIN in the initial user namespace gets it only while
 * the host allows tenants random mode (tenant_random), and otherwise
 * EPERM with nothing changed.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "compat.h"
#include "interfaces.h"
#include "netns.h"
#include "redirect.h"

/*
 * May the writer switch its namespace to random mode? The host may; a
 * tenant only while tenant_random holds (which means the redirects are
 * registered: its switch registers nothing, and redirect.c refuses to
 * register them for it anyway). "default" is always allowed: following
 * the global mode, which only the host sets, is the host's decision.
 */
static int ephport_sysctl_may_switch(enum ephport_mode m)
{
	if (m != EPHPORT_MODE_RANDOM || ephport_host_admin() ||
	    ephport_redirect_tenants_allowed())
		return 0;
	return -EPERM;
}

static int ephport_sysctl_mode(EPHPORT_CTL_TABLE *table, int write,
			       void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ephport_net *en = table->data;
	char val[16];
	struct ctl_table tmp = { .data = val, .maxlen = sizeof(val) };
	enum ephport_mode m;
	int ret;

	if (!write) {
		strscpy(val, ephport_mode_name(READ_ONCE(en->mode)), sizeof(val));
		return proc_dostring(&tmp, 0, buffer, lenp, ppos);
	}
	/* A value is one write() at offset 0; the rest of a write is ignored. */
	if (*ppos)
		return 0;
	if (ephport_parse_mode(buffer, true, &m))
		return -EINVAL;
	ret = ephport_sysctl_may_switch(m);
	if (ret)
		return ret;
	ret = ephport_net_set_mode(en, m);
	if (ret)
		return ret;
	*ppos += *lenp;
	return 0;
}

static int ephport_sysctl_delay(EPHPORT_CTL_TABLE *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ephport_net *en = table->data;
	int val = READ_ONCE(en->delay_ms);
	struct ctl_table tmp = { .data = &val, .maxlen = sizeof(val) };

	if (!write)
		return proc_dointvec(&tmp, 0, buffer, lenp, ppos);
	if (*ppos)
		return 0;
	if (ephport_parse_delay(buffer, true, &val))
		return -EINVAL;
	ephport_net_set_delay(en, val);
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

/* A namespace's registration and its copy of the table. */
struct ephport_sysctl_net {
	struct ctl_table_header *header;
	struct ctl_table *table;
};

static unsigned int ephport_sysctl_net_id __read_mostly;

static int __net_init ephport_sysctl_net_init(struct net *net)
{
	struct ephport_sysctl_net *sn = net_generic(net, ephport_sysctl_net_id);
	int i;

	/* The namespace is made even if its sysctls cannot be. */
	if (!ephport_net_counted(net))
		return 0;
	sn->table = kmemdup(ephport_sysctl_template,
			    sizeof(ephport_sysctl_template), EPHPORT_GFP);
	if (!sn->table)
		goto err_warn;
	for (i = 0; i < EPHPORT_NSYSCTL; i++)
		sn->table[i].data = ephport_net_of(net);
	sn->header = ephport_register_net_sysctl(net, "net/ephport", sn->table,
						 EPHPORT_NSYSCTL);
	if (!sn->header) {
		kfree(sn->table);
		sn->table = NULL;
		goto err_warn;
	}
	return 0;

err_warn:
	pr_warn_ratelimited("netns %u: no net.ephport sysctls\n", net->ns.inum);
	return 0;
}

static void __net_exit ephport_sysctl_net_exit(struct net *net)
{
	struct ephport_sysctl_net *sn = net_generic(net, ephport_sysctl_net_id);

	/* Waits for running handlers: none uses the state after. */
	unregister_net_sysctl_table(sn->header);
	kfree(sn->table);
	sn->header = NULL;
	sn->table = NULL;
}

static struct pernet_operations ephport_sysctl_net_ops = {
	.init = ephport_sysctl_net_init,
	.exit = ephport_sysctl_net_exit,
	.id = &ephport_sysctl_net_id,
	.size = sizeof(struct ephport_sysctl_net),
};

int ephport_sysctl_init(void)
{
	return register_pernet_subsys(&ephport_sysctl_net_ops);
}

void ephport_sysctl_uninit(void)
{
	unregister_pernet_subsys(&ephport_sysctl_net_ops);
}
