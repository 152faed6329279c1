/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the hook table's types, and the backend that registers the
 * hooks (hooks_fprobe.c or hooks_kretprobe.c; Kbuild builds one, per the
 * target kernel). The backend calls nothing of hooks.c: it is handed the
 * table at init (ephport_backend_register_shared()) and finds the
 * handlers in it.
 */
#ifndef _EPHPORT_HOOKS_BACKEND_H
#define _EPHPORT_HOOKS_BACKEND_H

#include <linux/compiler.h>
#include <linux/percpu.h>
#include <linux/types.h>

struct pt_regs;
struct sock;

enum ephport_hook_id {
	EPHPORT_HOOK_CONNECT,		/* TCP connect(), IPv4 (v4-mapped too) */
	EPHPORT_HOOK_CONNECT6,		/* TCP connect(), IPv6 */
	EPHPORT_HOOK_TCP_BIND,		/* TCP bind()/listen(), port 0 included */
	EPHPORT_HOOK_UDP_BIND,		/* UDP bind() and autobind, v4 and v6 */
	EPHPORT_HOOK_TCP_PUT,		/* a TCP socket let go of its port */
	EPHPORT_HOOK_TW_UNHASH,		/* a TIME_WAIT socket leaves the bind hash */
	EPHPORT_HOOK_UDP_UNHASH,	/* a UDP socket let go of its port */
	EPHPORT_NHOOKS,
};

/*
 * Calls of one function a return handler can follow at once, at least:
 * a call beyond them is missed. connect() sleeps in the kernel's search
 * of a full range, so every thread connecting there holds one.
 */
#define EPHPORT_MAXACTIVE	1024

/* What an entry handler leaves for its return handler. */
struct ephport_call {
	struct sock *sk;
	u64 start_ns;
	u16 port;		/* a release's port, read at entry */
	bool autobind;
};

/*
 * One hook: a kernel function, with a handler at entry and at return, or
 * (a release its caller's lock covers from entry to return) with an
 * entry-only handler.
 */
struct ephport_hook {
	const char *symbol;
	bool (*entry)(struct ephport_call *c, struct pt_regs *regs);
	void (*ret)(struct ephport_call *c, int ret);
	/*
	 * An entry-only release handler: alone, where the caller holds the
	 * lock the kernel unlinks under from before the entry until after
	 * the return; beside entry and ret, for a backend whose return
	 * handlers can be missed (kretprobes, whose re-entry guard is per
	 * CPU), which then runs it as well, on a probe that misses nothing
	 * (release.c). No return trampoline.
	 */
	void (*leave)(struct pt_regs *regs);
	/*
	 * The function's ftrace location, the address an ftrace handler is
	 * called with; 0 if unknown: the hook then has a probe of its own.
	 */
	unsigned long ip;
	bool registered;	/* written only at init and exit */
	bool shared;		/* in a shared probe; the same */
	/* Calls seen, before any filtering; per CPU, no sharing. */
	unsigned long __percpu *hits;
};

static __always_inline unsigned int
ephport_hook_index(const struct ephport_hook *table,
		   const struct ephport_hook *h)
{
	return h - table;
}

static inline void ephport_hit(const struct ephport_hook *h)
{
	this_cpu_inc(*h->hits);
}

/*
 * The hook a shared probe's handler was called for: @ip is the ftrace
 * location of the function entered. Inlined, so that an ftrace handler
 * calls nothing traceable before its recursion guard.
 */
static __always_inline struct ephport_hook *
ephport_hook_at(struct ephport_hook *table, unsigned long ip)
{
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (table[i].ip == ip)
			return &table[i];
	return NULL;
}

/* ---- hooks_fprobe.c or hooks_kretprobe.c ---- */

void ephport_backend_register_shared(struct ephport_hook *table);
void ephport_backend_unregister_shared(void);
int ephport_backend_register(struct ephport_hook *h);
void ephport_backend_unregister(struct ephport_hook *h);
unsigned long ephport_backend_missed(void);
unsigned long ephport_backend_hook_missed(const struct ephport_hook *h);
const char *ephport_backend_kind(const struct ephport_hook *h);

#endif /* _EPHPORT_HOOKS_BACKEND_H */
