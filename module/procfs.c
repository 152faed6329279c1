// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: /proc/net/ephport, the reader's own namespace's values, one
 * "name value" per line, world-readable like /proc/net/sockstat.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/uidgid.h>
#include <net/net_namespace.h>

#include "ephport.h"
#include "random.h"

static int ephport_proc_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct ephport_values val;
	struct ephport_net *en;
	int i;

	rcu_read_lock();
	en = ephport_net_get(net);
	rcu_read_unlock();
	/* The file exists only while the namespace is tracked. */
	if (!en)
		return 0;

	ephport_net_values(en, &val);
	seq_printf(seq, "range %u %u\n", val.lo, val.hi);
	seq_printf(seq, "tcp_in_use %u\n", val.in_use[EPHPORT_TCP]);
	seq_printf(seq, "udp_in_use %u\n", val.in_use[EPHPORT_UDP]);
	seq_printf(seq, "tcp_peak %u\n", val.peak[EPHPORT_TCP]);
	seq_printf(seq, "udp_peak %u\n", val.peak[EPHPORT_UDP]);
	for (i = 0; i < EPHPORT_NCOUNTERS; i++) {
		if (ephport_counter_supported(i))
			seq_printf(seq, "%s %lu\n", ephport_counter_names[i],
				   atomic_long_read(&en->counters[i]));
		else
			seq_printf(seq, "%s unsupported\n",
				   ephport_counter_names[i]);
	}
	for (i = 0; i < EPHPORT_HIST_BUCKETS; i++) {
		if (!ephport_search_supported())
			break;
		seq_printf(seq, "search_ns_le_%llu %lu\n", ephport_hist_bound(i),
			   atomic_long_read(&en->search_ns[i]));
	}
	seq_printf(seq, "alarm %d\n", val.alarm);
	ephport_random_proc_show(seq, net);
	return 0;
}

int ephport_proc_net_add(struct net *net)
{
	struct proc_dir_entry *pde;
	kuid_t uid;
	kgid_t gid;

	pde = proc_create_net_single("ephport", 0444, net->proc_net,
				     ephport_proc_show, NULL);
	if (!pde)
		return -ENOMEM;
	/* Owned by the namespace's root, like the rest of /proc/net. */
	uid = make_kuid(net->user_ns, 0);
	gid = make_kgid(net->user_ns, 0);
	if (uid_valid(uid) && gid_valid(gid))
		proc_set_user(pde, uid, gid);
	return 0;
}

void ephport_proc_net_del(struct net *net)
{
	remove_proc_entry("ephport", net->proc_net);
}
