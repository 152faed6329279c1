// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks as kretprobes and ftrace_ops, on kernels without
 * fprobe (Debian's 6.1 has no CONFIG_FPROBE). Hooks with an entry-only
 * release handler go on one ftrace_ops (its recursion guard is per
 * context: a kprobe that fires while another kprobe handler runs on the
 * same CPU is skipped, and a softirq releasing ports would miss events);
 * the others are kretprobes, registered in one batch.
 *
 * The hooks share their probes where they can. Every ftrace_ops of a
 * module is FTRACE_OPS_FL_DYNAMIC: removing one waits for two RCU-tasks
 * grace periods, and each batch of kprobes removed for one RCU grace
 * period, however many functions they cover. One probe per hook made
 * loading and unloading cost six times that (over a second under
 * emulation). A shared probe's handlers find the hook by the address
 * they are called at (ephport_hook_at()).
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/minmax.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/trace_recursion.h>

#include "hooks_backend.h"

/* The hook table, handed in by hooks.c at init (before any handler runs). */
static struct ephport_hook *ephport_hooks;

static __always_inline unsigned int ephport_index(const struct ephport_hook *h)
{
	return ephport_hook_index(ephport_hooks, h);
}

/* Each hook's kretprobe, or its own ftrace_ops if it has leave. */
static struct kretprobe ephport_krp[EPHPORT_NHOOKS];
static struct ftrace_ops ephport_own_ops[EPHPORT_NHOOKS];
static atomic_long_t ephport_ftrace_missed[EPHPORT_NHOOKS];

/* One ftrace_ops for the leave hooks whose ftrace location is known. */
static struct ftrace_ops ephport_leave_ops;
static bool ephport_leave_registered;	/* written only at init and exit */
/* The kretprobes registered in one batch. */
static struct kretprobe *ephport_krps[EPHPORT_NHOOKS];
static int ephport_nkrps;

const char *ephport_backend_kind(const struct ephport_hook *h)
{
	return h->leave ? "ftrace" : "kretprobe";
}

static struct ephport_hook *ephport_krp_hook(struct kretprobe_instance *ri)
{
	return &ephport_hooks[get_kretprobe(ri) - ephport_krp];
}

static int ephport_kretprobe_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct ephport_hook *h = ephport_krp_hook(ri);

	ephport_hit(h);
	return h->entry((struct ephport_call *)ri->data, regs) ? 0 : 1;
}

static int ephport_kretprobe_ret(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct ephport_hook *h = ephport_krp_hook(ri);

	h->ret((struct ephport_call *)ri->data, (int)regs_return_value(regs));
	return 0;
}

static void notrace ephport_ftrace_entry(unsigned long ip,
					 unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ephport_hook *h;
	int bit;

	if (ops == &ephport_leave_ops)
		h = ephport_hook_at(ephport_hooks, ip);
	else
		h = &ephport_hooks[ops - ephport_own_ops];
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0) {
		if (h)
			atomic_long_inc(&ephport_ftrace_missed[ephport_index(h)]);
		return;
	}
	if (!WARN_ON_ONCE(!h)) {
		ephport_hit(h);
		if (regs)
			h->leave(regs);
	}
	ftrace_test_recursion_unlock(bit);
}

static void ephport_ftrace_setup(struct ftrace_ops *ops)
{
	ops->func = ephport_ftrace_entry;
	ops->flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION;
}

/*
 * A kretprobe's fields, set afresh: registration writes kp.addr, and a
 * kprobe with both an address and a symbol is refused.
 */
static struct kretprobe *ephport_kretprobe_setup(struct ephport_hook *h)
{
	struct kretprobe *krp = &ephport_krp[ephport_index(h)];

	memset(krp, 0, sizeof(*krp));
	krp->kp.symbol_name = h->symbol;
	krp->entry_handler = ephport_kretprobe_entry;
	krp->handler = ephport_kretprobe_ret;
	krp->data_size = sizeof(struct ephport_call);
	/* connect() and UDP autobind may sleep in the kernel's search. */
	krp->maxactive = max_t(int, EPHPORT_MAXACTIVE, 4 * num_possible_cpus());
	return krp;
}

/* The kretprobes in one batch, the leave hooks on one ftrace_ops. */
void ephport_backend_register_shared(struct ephport_hook *table)
{
	unsigned long ips[EPHPORT_NHOOKS];
	int i, n = 0, ret;

	ephport_hooks = table;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_hook *h = &ephport_hooks[i];

		if (!h->ip)
			continue;
		if (h->leave) {
			ips[n++] = h->ip;
			continue;
		}
		ephport_krps[ephport_nkrps++] = ephport_kretprobe_setup(h);
	}
	if (ephport_nkrps) {
		ret = register_kretprobes(ephport_krps, ephport_nkrps);
		if (ret) {
			pr_warn("%d kretprobes in one batch failed (%d): one by one\n",
				ephport_nkrps, ret);
			ephport_nkrps = 0;
		}
	}
	for (i = 0; i < ephport_nkrps; i++) {
		struct ephport_hook *h = &ephport_hooks[ephport_krps[i] - ephport_krp];

		h->shared = true;
		h->registered = true;
	}
	if (!n)
		return;
	ephport_ftrace_setup(&ephport_leave_ops);
	ret = ftrace_set_filter_ips(&ephport_leave_ops, ips, n, 0, 1);
	if (!ret) {
		ret = register_ftrace_function(&ephport_leave_ops);
		if (ret)
			ftrace_free_filter(&ephport_leave_ops);
	}
	if (ret) {
		pr_warn("one ftrace_ops for %d hooks failed (%d): one each\n",
			n, ret);
		return;
	}
	ephport_leave_registered = true;
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_hook *h = &ephport_hooks[i];

		if (h->ip && h->leave) {
			h->shared = true;
			h->registered = true;
		}
	}
}

void ephport_backend_unregister_shared(void)
{
	if (ephport_leave_registered) {
		unregister_ftrace_function(&ephport_leave_ops);
		ftrace_free_filter(&ephport_leave_ops);
	}
	ephport_leave_registered = false;
	if (ephport_nkrps)
		unregister_kretprobes(ephport_krps, ephport_nkrps);
	ephport_nkrps = 0;
}

static int ephport_ftrace_register(struct ephport_hook *h)
{
	struct ftrace_ops *ops = &ephport_own_ops[ephport_index(h)];
	int ret;

	ephport_ftrace_setup(ops);
	ret = ftrace_set_filter(ops, (unsigned char *)h->symbol,
				strlen(h->symbol), 0);
	if (ret)
		return ret;
	ret = register_ftrace_function(ops);
	if (ret)
		ftrace_free_filter(ops);
	return ret;
}

int ephport_backend_register(struct ephport_hook *h)
{
	if (h->leave)
		return ephport_ftrace_register(h);
	return register_kretprobe(ephport_kretprobe_setup(h));
}

void ephport_backend_unregister(struct ephport_hook *h)
{
	unsigned int i = ephport_index(h);

	if (h->leave) {
		unregister_ftrace_function(&ephport_own_ops[i]);
		ftrace_free_filter(&ephport_own_ops[i]);
		return;
	}
	unregister_kretprobe(&ephport_krp[i]);
}

/*
 * Every hook counts its own misses, shared probe or not: entry hits
 * skipped (another kprobe handler was running on the CPU) and returns
 * not seen (no free instance, or the same at return).
 */
unsigned long ephport_backend_hook_missed(const struct ephport_hook *h)
{
	unsigned int i;

	if (!h->registered)
		return 0;
	i = ephport_index(h);
	if (h->leave)
		return atomic_long_read(&ephport_ftrace_missed[i]);
	return ephport_krp[i].kp.nmissed + ephport_krp[i].nmissed;
}

unsigned long ephport_backend_missed(void)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		sum += ephport_backend_hook_missed(&ephport_hooks[i]);
	return sum;
}
