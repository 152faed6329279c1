// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks as fprobes, on kernels that have them with entry
 * data (6.12, and on the function graph tracer from 6.14: compat.h has
 * what differs). One fprobe serves every hook whose
 * ftrace location is known; a hook left out gets a fprobe of its own.
 * ftrace's recursion guard is per context, so a softirq that releases a
 * port while a handler runs in process context on the same CPU is seen.
 *
 * The hooks share their probes where they can. Every ftrace_ops of a
 * module is FTRACE_OPS_FL_DYNAMIC: removing one waits for two RCU-tasks
 * grace periods, and each batch of kprobes removed for one RCU grace
 * period, however many functions they cover. One probe per hook made
 * loading and unloading cost six times that (over a second under
 * emulation). A shared probe's handlers find the hook by the address
 * they are called at (ephport_hook_at()).
 */
#include <linux/cpumask.h>
#include <linux/fprobe.h>
#include <linux/minmax.h>
#include <linux/ptrace.h>
#include <linux/string.h>

#include "compat.h"
#include "hooks_backend.h"

/* The hook table, handed in by hooks.c at init (before any handler runs). */
static struct ephport_hook *ephport_hooks;

static __always_inline unsigned int ephport_index(const struct ephport_hook *h)
{
	return ephport_hook_index(ephport_hooks, h);
}

/*
 * One fprobe for every hook whose ftrace location is known; its handlers
 * find the hook by @ip. A hook left out has a fprobe of its own.
 */
static struct fprobe ephport_fprobe;
static bool ephport_fprobe_registered;	/* written only at init and exit */
static struct fprobe ephport_own_fprobe[EPHPORT_NHOOKS];

const char *ephport_backend_kind(const struct ephport_hook *h)
{
	return "fprobe";
}

static struct ephport_hook *ephport_fprobe_hook(struct fprobe *fp,
						unsigned long ip)
{
	if (fp == &ephport_fprobe)
		return ephport_hook_at(ephport_hooks, ip);
	return &ephport_hooks[fp - ephport_own_fprobe];
}

static int ephport_fprobe_entry(struct fprobe *fp, unsigned long ip,
				unsigned long ret_ip, EPHPORT_FPROBE_REGS *fregs,
				void *data)
{
	struct ephport_hook *h = ephport_fprobe_hook(fp, ip);
	struct pt_regs buf, *regs;

	if (WARN_ON_ONCE(!h))
		return 1;
	ephport_hit(h);
	regs = ephport_fprobe_args(fregs, &buf);
	/* Entry-only where the hook has no return handler to follow. */
	if (!h->ret) {
		h->leave(regs);
		return 1;
	}
	return h->entry(data, regs) ? 0 : 1;
}

/* Called only after ephport_fprobe_entry() returned 0, with its @ip. */
static void ephport_fprobe_exit(struct fprobe *fp, unsigned long ip,
				unsigned long ret_ip, EPHPORT_FPROBE_REGS *fregs,
				void *data)
{
	struct ephport_hook *h = ephport_fprobe_hook(fp, ip);

	if (h)
		h->ret(data, (int)ephport_fprobe_retval(fregs));
}

/*
 * @nhooks: the hooks @fp serves; @ret: one of them has a return handler.
 * A fprobe without one takes no rethook node on entry.
 */
static void ephport_fprobe_setup(struct fprobe *fp, int nhooks, bool ret)
{
	fp->entry_handler = ephport_fprobe_entry;
	if (!ret)
		return;
	fp->exit_handler = ephport_fprobe_exit;
	fp->entry_data_size = sizeof(struct ephport_call);
	/*
	 * Calls in flight: as many per hook as one fprobe per hook had
	 * (where the kernel keeps a pool of them).
	 */
	ephport_fprobe_set_maxactive(fp, nhooks *
				     max_t(int, EPHPORT_MAXACTIVE,
					   4 * num_possible_cpus()));
}

void ephport_backend_register_shared(struct ephport_hook *table)
{
	unsigned long ips[EPHPORT_NHOOKS];
	int i, n = 0, ret;

	ephport_hooks = table;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (ephport_hooks[i].ip)
			ips[n++] = ephport_hooks[i].ip;
	if (!n)
		return;
	ephport_fprobe_setup(&ephport_fprobe, n, true);
	ret = register_fprobe_ips(&ephport_fprobe, ips, n);
	if (ret) {
		pr_warn("one fprobe for %d hooks failed (%d): one each\n",
			n, ret);
		return;
	}
	ephport_fprobe_registered = true;
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		if (!ephport_hooks[i].ip)
			continue;
		ephport_hooks[i].shared = true;
		ephport_hooks[i].registered = true;
	}
}

void ephport_backend_unregister_shared(void)
{
	if (ephport_fprobe_registered)
		unregister_fprobe(&ephport_fprobe);
	ephport_fprobe_registered = false;
}

int ephport_backend_register(struct ephport_hook *h)
{
	struct fprobe *fp = &ephport_own_fprobe[ephport_index(h)];

	memset(fp, 0, sizeof(*fp));
	ephport_fprobe_setup(fp, 1, !!h->ret);
	return register_fprobe_syms(fp, &h->symbol, 1);
}

void ephport_backend_unregister(struct ephport_hook *h)
{
	unregister_fprobe(&ephport_own_fprobe[ephport_index(h)]);
}

/* Misses of the shared fprobe, which cannot tell which hook missed. */
static unsigned long ephport_shared_missed(void)
{
	return ephport_fprobe_registered ? READ_ONCE(ephport_fprobe.nmissed) : 0;
}

/* Misses of a hook's own fprobe. */
static unsigned long ephport_own_missed(const struct ephport_hook *h)
{
	if (!h->registered || h->shared)
		return 0;
	return READ_ONCE(ephport_own_fprobe[ephport_index(h)].nmissed);
}

/* Every miss once. */
unsigned long ephport_backend_missed(void)
{
	unsigned long sum = ephport_shared_missed();
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		sum += ephport_own_missed(&ephport_hooks[i]);
	return sum;
}

/*
 * The shared fprobe's misses all show on the first hook it serves, so
 * that the lines of the probes file add up to the total.
 */
unsigned long ephport_backend_hook_missed(const struct ephport_hook *h)
{
	const struct ephport_hook *q = ephport_hooks;

	if (!h->shared)
		return ephport_own_missed(h);
	while (!q->shared)
		q++;
	return h == q ? ephport_shared_missed() : 0;
}
