// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: /proc/net/ephport and /proc/net/ephport_dests, an interface to
 * the state: the reader's own namespace's values, world-readable like
 * /proc/net/sockstat and /proc/net/tcp. Made and removed by their own
 * pernet_operations, registered after the state's.
 *
 * /proc/net is /proc/self/net: the reader's own namespace. But
 * /proc/<pid>/net/ephport is another task's, and a file stays open
 * across setns() and unshare(): a read shows the file's namespace, not
 * the reader's. Each tenant sees only itself, so a read checks, as the
 * files of /sys/kernel/ephport/net/ do (access.c), that the reader is in
 * that namespace or holds CAP_SYS_ADMIN over it (-EACCES otherwise).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "alarm.h"
#include "counting.h"
#include "dests.h"
#include "interfaces.h"
#include "pass.h"
#include "random_mode.h"

static void ephport_proc_observe(struct seq_file *seq, struct ephport_net *en)
{
	struct ephport_values val;
	int i;

	ephport_net_values(en, &val);
	seq_printf(seq, "range %u %u\n", val.lo, val.hi);
	seq_printf(seq, "tcp_in_use %u\n", val.in_use[EPHPORT_TCP]);
	seq_printf(seq, "udp_in_use %u\n", val.in_use[EPHPORT_UDP]);
	seq_printf(seq, "tcp_peak %u\n", val.peak[EPHPORT_TCP]);
	seq_printf(seq, "udp_peak %u\n", val.peak[EPHPORT_UDP]);
	for (i = 0; i < EPHPORT_NCOUNTERS; i++) {
		if (ephport_counter_supported(i))
			seq_printf(seq, "%s %lu\n", ephport_counter_names[i],
				   ephport_net_counter(en, i));
		else
			seq_printf(seq, "%s unsupported\n",
				   ephport_counter_names[i]);
	}
	for (i = 0; i < EPHPORT_HIST_BUCKETS; i++) {
		if (!ephport_search_supported())
			break;
		seq_printf(seq, "search_ns_le_%llu %lu\n", ephport_hist_bound(i),
			   ephport_net_searches(en, i));
	}
	if (ephport_search_supported())
		seq_printf(seq, "search_ns_sum %llu\n",
			   ephport_net_search_sum(en));
	seq_printf(seq, "alarm %d\n", val.alarm);
}

static void ephport_proc_random(struct seq_file *seq, struct ephport_net *en)
{
	int i;

	seq_printf(seq, "mode %s\n", ephport_mode_name(ephport_net_mode(en)));
	seq_printf(seq, "reuse_delay_ms %u\n", ephport_net_delay(en));
	for (i = 0; i < EPHPORT_NRCOUNTERS; i++)
		seq_printf(seq, "%s %lu\n", ephport_rcounter_names[i],
			   ephport_net_rcounter(en, i));
	seq_printf(seq, "resting %u\n", ephport_random_resting(en));
}

/* The fullest destination (/proc/net/ephport_dests) and what the alarm follows. */
static void ephport_proc_dests(struct seq_file *seq, struct ephport_net *en)
{
	u32 max;

	if (!ephport_net_dest_max(en, &max))
		seq_printf(seq, "tcp_dest_max %u\n", max);
	seq_printf(seq, "alarm_basis %s\n",
		   ephport_basis_name(READ_ONCE(ephport_alarm_basis)));
}

static int ephport_proc_show(struct seq_file *seq, void *v)
{
	struct ephport_net *en;

	if (!ephport_may_see(seq_file_single_net(seq)))
		return -EACCES;
	rcu_read_lock();
	en = ephport_net_get(seq_file_single_net(seq));
	rcu_read_unlock();
	/* Nothing once the namespace is leaving; the state outlives us. */
	if (!en)
		return 0;
	ephport_proc_observe(seq, en);
	ephport_proc_random(seq, en);
	ephport_proc_dests(seq, en);
	return 0;
}

/*
 * /proc/net/ephport_dests: the TCP destinations toward which the reader's
 * own namespace holds the most local ports of its range (dests.c):
 *
 *   proto daddr dport held time_wait headroom
 *   tcp 10.0.0.7 5432 27950 120 282
 *
 * proto is tcp (IPv4, v4-mapped IPv6 included) or tcp6; held counts the
 * ports of the range held toward the destination, TIME_WAIT included, of
 * which time_wait are in TIME_WAIT; headroom is the range's size minus
 * its reserved ports minus held: the connect()s to that destination that
 * can still get a port. At most EPHPORT_DESTS_TOP lines, the most held
 * first; at most 1 s old.
 */
static int ephport_dests_show(struct seq_file *seq, void *v)
{
	struct ephport_dests *d;
	struct ephport_net *en;
	u32 i;
	int ret;

	if (!ephport_may_see(seq_file_single_net(seq)))
		return -EACCES;
	rcu_read_lock();
	en = ephport_net_get(seq_file_single_net(seq));
	rcu_read_unlock();
	/* Nothing once the namespace is leaving; the state outlives us. */
	if (!en)
		return 0;
	d = kmalloc(sizeof(*d), EPHPORT_GFP);
	if (!d)
		return -ENOMEM;
	ret = ephport_net_dests(en, d);
	if (ret)
		goto out;
	seq_puts(seq, "proto daddr dport held time_wait headroom\n");
	for (i = 0; i < d->n; i++) {
		const struct ephport_dest *e = &d->top[i];

		if (ipv6_addr_v4mapped(&e->addr))
			seq_printf(seq, "tcp %pI4", &e->addr.s6_addr32[3]);
		else
			seq_printf(seq, "tcp6 %pI6c", &e->addr);
		seq_printf(seq, " %u %u %u %u\n", ntohs(e->port), e->held,
			   e->time_wait, ephport_dest_headroom(d, e));
	}
out:
	kfree(d);
	return ret;
}

/* A file of /proc/net, owned by the namespace's root like the rest. */
static int ephport_proc_create(struct net *net, const char *name,
			       int (*show)(struct seq_file *, void *))
{
	struct proc_dir_entry *pde;
	kuid_t uid;
	kgid_t gid;

	pde = proc_create_net_single(name, 0444, net->proc_net, show, NULL);
	if (!pde)
		return -ENOMEM;
	uid = make_kuid(net->user_ns, 0);
	gid = make_kgid(net->user_ns, 0);
	if (uid_valid(uid) && gid_valid(gid))
		proc_set_user(pde, uid, gid);
	return 0;
}

/* The namespace is made even if its files cannot be. */
static int __net_init ephport_proc_net_init(struct net *net)
{
	if (!ephport_net_counted(net))
		return 0;
	if (ephport_proc_create(net, "ephport", ephport_proc_show))
		goto err_warn;
	if (ephport_proc_create(net, "ephport_dests", ephport_dests_show))
		goto err_ephport;
	return 0;

err_ephport:
	remove_proc_entry("ephport", net->proc_net);
err_warn:
	pr_warn_ratelimited("netns %u: no /proc/net/ephport\n", net->ns.inum);
	return 0;
}

/* Either file may be missing (above): remove_proc_subtree() says nothing. */
static void __net_exit ephport_proc_net_exit(struct net *net)
{
	remove_proc_subtree("ephport_dests", net->proc_net);
	remove_proc_subtree("ephport", net->proc_net);
}

static struct pernet_operations ephport_proc_net_ops = {
	.init = ephport_proc_net_init,
	.exit = ephport_proc_net_exit,
};

int ephport_procfs_init(void)
{
	return register_pernet_subsys(&ephport_proc_net_ops);
}

void ephport_procfs_uninit(void)
{
	unregister_pernet_subsys(&ephport_proc_net_ops);
}
