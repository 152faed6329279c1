// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks as kretprobes and ftrace_ops, on kernels without
 * fprobe (Debian's 6.1 has no CONFIG_FPROBE). A hook with an entry-only
 * release handler has it on one ftrace_ops (its recursion guard is per
 * context; a kprobe that fires while another kprobe handler runs on the
 * same CPU is skipped, and a softirq releasing ports would miss events);
 * a hook with a return handler has a kretprobe, and the kretprobes are
 * registered in one batch. A release with both has both: judged at its
 * entry, which nothing misses, and again at its return (release.c).
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

/* Each hook's kretprobe, and its own ftrace_ops for leave if not shared. */
static struct kretprobe ephport_krp[EPHPORT_NHOOKS];
static struct ftrace_ops ephport_own_ops[EPHPORT_NHOOKS];
static atomic_long_t ephport_ftrace_missed[EPHPORT_NHOOKS];

/* One ftrace_ops for the leave hooks whose ftrace location is known. */
static struct ftrace_ops ephport_leave_ops;
static bool ephport_leave_registered;	/* written only at init and exit */
/* The kretprobes registered in one batch. */
static struct kretprobe *ephport_krps[EPHPORT_NHOOKS];
static int ephport_nkrps;

/*
 * Which parts of each hook are registered, and where: in the batch or
 * the shared ftrace_ops, or on their own. Written only at init and exit.
 */
#define EPHPORT_KRP_SHARED	BIT(0)
#define EPHPORT_KRP_OWN		BIT(1)
#define EPHPORT_LEAVE_SHARED	BIT(2)
#define EPHPORT_LEAVE_OWN	BIT(3)
static u8 ephport_parts[EPHPORT_NHOOKS];

static bool ephport_needs_krp(const struct ephport_hook *h)
{
	return !!h->ret;
}

static bool ephport_has_krp(const struct ephport_hook *h)
{
	return ephport_parts[ephport_index(h)] &
	       (EPHPORT_KRP_SHARED | EPHPORT_KRP_OWN);
}

static bool ephport_has_leave(const struct ephport_hook *h)
{
	return ephport_parts[ephport_index(h)] &
	       (EPHPORT_LEAVE_SHARED | EPHPORT_LEAVE_OWN);
}

const char *ephport_backend_kind(const struct ephport_hook *h)
{
	if (ephport_has_leave(h) && ephport_has_krp(h))
		return "ftrace+kretprobe";
	return ephport_has_leave(h) ? "ftrace" : "kretprobe";
}

static struct ephport_hook *ephport_krp_hook(struct kretprobe_instance *ri)
{
	return &ephport_hooks[get_kretprobe(ri) - ephport_krp];
}

static int ephport_kretprobe_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct ephport_hook *h = ephport_krp_hook(ri);

	/* A release's ftrace_ops counts its calls. */
	if (!h->leave)
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
	/*
	 * connect() and UDP autobind may sleep in the kernel's search; a
	 * release does not (a softirq's may come over a task's).
	 */
	if (h->leave)
		krp->maxactive = max_t(int, 16, 4 * num_possible_cpus());
	else
		krp->maxactive = max_t(int, EPHPORT_MAXACTIVE,
				       4 * num_possible_cpus());
	return krp;
}

/* Every part a hook needs is registered in the shared probes. */
static bool ephport_all_shared(const struct ephport_hook *h)
{
	unsigned int i = ephport_index(h);

	if (ephport_needs_krp(h) && !(ephport_parts[i] & EPHPORT_KRP_SHARED))
		return false;
	return !h->leave || (ephport_parts[i] & EPHPORT_LEAVE_SHARED);
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
		if (h->leave)
			ips[n++] = h->ip;
		if (ephport_needs_krp(h))
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
	for (i = 0; i < ephport_nkrps; i++)
		ephport_parts[ephport_krps[i] - ephport_krp] |= EPHPORT_KRP_SHARED;
	if (n) {
		ephport_ftrace_setup(&ephport_leave_ops);
		ret = ftrace_set_filter_ips(&ephport_leave_ops, ips, n, 0, 1);
		if (!ret) {
			ret = register_ftrace_function(&ephport_leave_ops);
			if (ret)
				ftrace_free_filter(&ephport_leave_ops);
		}
		if (ret)
			pr_warn("one ftrace_ops for %d hooks failed (%d): one each\n",
				n, ret);
		else
			ephport_leave_registered = true;
	}
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_hook *h = &ephport_hooks[i];

		if (!h->ip)
			continue;
		if (ephport_leave_registered && h->leave)
			ephport_parts[i] |= EPHPORT_LEAVE_SHARED;
		if (ephport_all_shared(h)) {
			h->shared = true;
			h->registered = true;
		}
	}
}

void ephport_backend_unregister_shared(void)
{
	int i;

	if (ephport_leave_registered) {
		unregister_ftrace_function(&ephport_leave_ops);
		ftrace_free_filter(&ephport_leave_ops);
	}
	ephport_leave_registered = false;
	if (ephport_nkrps)
		unregister_kretprobes(ephport_krps, ephport_nkrps);
	ephport_nkrps = 0;
	for (i = 0; i < EPHPORT_NHOOKS; i++)
		ephport_parts[i] &= ~(EPHPORT_KRP_SHARED | EPHPORT_LEAVE_SHARED);
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

static void ephport_ftrace_unregister(struct ephport_hook *h)
{
	struct ftrace_ops *ops = &ephport_own_ops[ephport_index(h)];

	unregister_ftrace_function(ops);
	ftrace_free_filter(ops);
}

/*
 * The parts of @h the shared probes do not cover, each on its own. A
 * release with both parts works on either alone (release.c: judged at
 * entry only, or at return only), so it stays registered if one of them
 * is; otherwise a part registered here is unregistered again.
 */
int ephport_backend_register(struct ephport_hook *h)
{
	unsigned int i = ephport_index(h);
	int ret = 0, err;

	if (h->leave && !ephport_has_leave(h)) {
		ret = ephport_ftrace_register(h);
		if (!ret)
			ephport_parts[i] |= EPHPORT_LEAVE_OWN;
	}
	if (ephport_needs_krp(h) && !ephport_has_krp(h)) {
		err = register_kretprobe(ephport_kretprobe_setup(h));
		if (!err)
			ephport_parts[i] |= EPHPORT_KRP_OWN;
		ret = ret ?: err;
	}
	if (!ret)
		return 0;
	if (h->leave && ephport_needs_krp(h) &&
	    (ephport_has_leave(h) || ephport_has_krp(h))) {
		pr_warn("%s: judged at %s only (%d)\n", h->symbol,
			ephport_has_leave(h) ? "entry" : "return", ret);
		return 0;
	}
	ephport_backend_unregister(h);
	return ret;
}

/* The parts ephport_backend_register() registered, in reverse. */
void ephport_backend_unregister(struct ephport_hook *h)
{
	unsigned int i = ephport_index(h);

	if (ephport_parts[i] & EPHPORT_KRP_OWN)
		unregister_kretprobe(&ephport_krp[i]);
	if (ephport_parts[i] & EPHPORT_LEAVE_OWN)
		ephport_ftrace_unregister(h);
	ephport_parts[i] &= ~(EPHPORT_KRP_OWN | EPHPORT_LEAVE_OWN);
}

/*
 * Misses, shared probe or not: entry hits skipped (another kprobe
 * handler was running on the CPU) and returns not seen (no free
 * instance); each has a pass run. A release's kretprobe skipped beside
 * its entry judgement is not one: that judgement missed nothing, and a
 * skip costs exactness only where it meets two owners leaving at once
 * (release.c); the softirq releases of a busy host that land in another
 * probe's handler would otherwise have a pass run every second. A
 * return lost for want of a free instance, after the entry, is one.
 */
unsigned long ephport_backend_hook_missed(const struct ephport_hook *h)
{
	unsigned long missed = 0;
	unsigned int i;

	if (!h->registered)
		return 0;
	i = ephport_index(h);
	if (ephport_has_leave(h))
		missed += atomic_long_read(&ephport_ftrace_missed[i]);
	if (ephport_has_krp(h)) {
		missed += ephport_krp[i].nmissed;
		if (!ephport_has_leave(h))
			missed += ephport_krp[i].kp.nmissed;
	}
	return missed;
}

unsigned long ephport_backend_missed(void)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		sum += ephport_backend_hook_missed(&ephport_hooks[i]);
	return sum;
}
