// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: /proc/net/ephport_dests, an interface to the state: the TCP
 * destinations toward which the reader's own namespace holds the most
 * local ports of its range (dests.c), world-readable like /proc/net/tcp.
 *
 *   proto daddr dport held time_wait headroom
 *   tcp 10.0.0.7 5432 27950 120 282
 *
 * proto is tcp (IPv4, v4-mapped IPv6 included) or tcp6; held counts the
 * ports of the range held toward the destination, TIME_WAIT included, of
 * which time_wait are in TIME_WAIT; headroom is the range's size minus
 * its reserved ports minus held: the connect()s to that destination that
 * can still get a port. At most EPHPORT_DESTS_TOP lines, the most held
 * first; at most 1 s old. Made and removed by its own pernet_operations,
 * registered after the state's.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uidgid.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "interfaces.h"
#include "netns.h"

static int ephport_dests_show(struct seq_file *seq, void *v)
{
	struct ephport_dests *d;
	struct ephport_net *en;
	u32 i;
	int ret;

	rcu_read_lock();
	en = ephport_net_get(seq_file_single_net(seq));
	rcu_read_unlock();
	/* Nothing once the namespace is leaving; the state outlives us. */
	if (!en)
		return 0;
	d = kmalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
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

static int __net_init ephport_dests_net_init(struct net *net)
{
	struct proc_dir_entry *pde;
	kuid_t uid;
	kgid_t gid;

	pde = proc_create_net_single("ephport_dests", 0444, net->proc_net,
				     ephport_dests_show, NULL);
	if (!pde)
		return -ENOMEM;
	/* Owned by the namespace's root, like the rest of /proc/net. */
	uid = make_kuid(net->user_ns, 0);
	gid = make_kgid(net->user_ns, 0);
	if (uid_valid(uid) && gid_valid(gid))
		proc_set_user(pde, uid, gid);
	return 0;
}

static void __net_exit ephport_dests_net_exit(struct net *net)
{
	remove_proc_entry("ephport_dests", net->proc_net);
}

static struct pernet_operations ephport_dests_net_ops = {
	.init = ephport_dests_net_init,
	.exit = ephport_dests_net_exit,
};

int ephport_procfs_dests_init(void)
{
	return register_pernet_subsys(&ephport_dests_net_ops);
}

void ephport_procfs_dests_uninit(void)
{
	unregister_pernet_subsys(&ephport_dests_net_ops);
}
