// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks. One table lists every hook (a kernel function with
 * an entry and a return handler; for a release under its caller's lock
 * an entry-only handler; for the other releases both, and an entry-only
 * handler too, for a backend that can miss returns) and what each call
 * means for the namespace's state;
 * ephport_hooks_init() has a backend register them all: fprobes where
 * the kernel has them (hooks_fprobe.c), kretprobes and ftrace_ops
 * otherwise (hooks_kretprobe.c). A symbol the running kernel lacks is
 * reported as unsupported instead of failing the load.
 *
 * Handlers run in atomic context: they never sleep, take no mutex and do
 * not allocate. The functions probed here are not called in hard
 * interrupt context.
 */
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>

#include "counting.h"
#include "ephport_trace.h"
#include "hooks.h"
#include "pass.h"
#include "release.h"
#include "sk.h"
#include "steer.h"

/* Calls seen by each hook (struct ephport_hook's hits point here). */
static DEFINE_PER_CPU(unsigned long [EPHPORT_NHOOKS], ephport_hits);

static unsigned long ephport_hook_hits(int hook)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(ephport_hits, cpu)[hook];
	return sum;
}

static struct sock *ephport_arg_sk(struct pt_regs *regs)
{
	return (struct sock *)regs_get_kernel_argument(regs, 0);
}

/*
 * The handlers. An entry handler returns true if the call matters, and
 * leaves in *c what its return handler needs.
 */

/*
 * Random mode's own calls to the kernel's function, inside the one it
 * steers: the outer call is the one counted.
 */
static bool ephport_inner(const struct sock *sk)
{
	struct ephport_net *en;
	bool inner;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	inner = en && ephport_net_steering(en, sk);
	rcu_read_unlock();
	return inner;
}

/* inet_hash_connect(death_row, sk) and inet6_hash_connect(death_row, sk) */
static bool ephport_connect_entry(struct ephport_call *c, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 1);

	if (!sk || sk->sk_protocol != IPPROTO_TCP || ephport_inner(sk))
		return false;
	c->sk = sk;
	c->autobind = !inet_sk(sk)->inet_num;
	c->start_ns = ktime_get_mono_fast_ns();
	return true;
}

static void ephport_connect_ret(struct ephport_call *c, int ret)
{
	struct sock *sk = c->sk;
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (!en)
		goto out;
	if (c->autobind) {
		u64 ns = ktime_get_mono_fast_ns() - c->start_ns;

		ephport_net_search(en, ns);
		if (!ret) {
			ephport_net_count(en, EPHPORT_TCP_CONNECT_OK);
			ephport_net_bound(en, EPHPORT_TCP, inet_sk(sk)->inet_num);
		} else if (ret == -EADDRNOTAVAIL &&
			   !ephport_sk_self_connected(sk)) {
			/*
			 * Not when random mode refused the kernel's choice
			 * of the destination's own port (steer.c): no lack
			 * of ports, and self_connect_refused counts it.
			 */
			ephport_net_count(en, EPHPORT_TCP_CONNECT_FAIL);
			trace_ephport_port_fail(sk, EPHPORT_TRACE_CONNECT);
		}
	}
	if (!ret && ephport_sk_self_connected(sk)) {
		ephport_net_count(en, EPHPORT_SELF_CONNECT);
		trace_ephport_self_connect(sk, EPHPORT_TRACE_CONNECT);
	}
out:
	rcu_read_unlock();
}

/* inet_csk_get_port(sk, snum) and udp_lib_get_port(sk, snum, ...) */
static bool ephport_bind_entry(struct ephport_call *c, struct pt_regs *regs,
			       int protocol)
{
	struct sock *sk = ephport_arg_sk(regs);

	if (!sk || sk->sk_protocol != protocol || ephport_inner(sk))
		return false;
	c->sk = sk;
	c->autobind = !(u16)regs_get_kernel_argument(regs, 1);
	return true;
}

/*
 * @no_port: the return value of a search that found no port; 0 when
 * the function does not tell (udp_lib_get_port returns 1 on 6.1).
 */
static void ephport_bind_ret(struct ephport_call *c, int ret,
			     enum ephport_proto proto, enum ephport_counter ok,
			     enum ephport_counter fail, int no_port)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(c->sk));
	if (!en)
		goto out;
	if (!ret)
		ephport_net_bound(en, proto, inet_sk(c->sk)->inet_num);
	if (c->autobind && !ret) {
		ephport_net_count(en, ok);
	} else if (c->autobind && (!no_port || ret == no_port)) {
		ephport_net_count(en, fail);
		trace_ephport_port_fail(c->sk, EPHPORT_TRACE_BIND);
	}
out:
	rcu_read_unlock();
}

static bool ephport_tcp_bind_entry(struct ephport_call *c,
				   struct pt_regs *regs)
{
	return ephport_bind_entry(c, regs, IPPROTO_TCP);
}

static void ephport_tcp_bind_ret(struct ephport_call *c, int ret)
{
	ephport_bind_ret(c, ret, EPHPORT_TCP, EPHPORT_TCP_BIND_OK,
			 EPHPORT_TCP_BIND_FAIL, -EADDRINUSE);
}

static bool ephport_udp_bind_entry(struct ephport_call *c,
				   struct pt_regs *regs)
{
	return ephport_bind_entry(c, regs, IPPROTO_UDP);
}

static void ephport_udp_bind_ret(struct ephport_call *c, int ret)
{
	ephport_bind_ret(c, ret, EPHPORT_UDP, EPHPORT_UDP_OK,
			 EPHPORT_UDP_FAIL, 0);
}

/*
 * Releases: the port stays bound only if another owner in the namespace
 * holds it, judged where the kernel's unlink is visible (release.c).
 */

/* The namespace a release matters for: tracked now. */
static bool ephport_release_entry(struct ephport_call *c, struct sock *sk,
				  u32 port)
{
	bool tracked;

	rcu_read_lock();
	tracked = ephport_net_get(sock_net(sk));
	rcu_read_unlock();
	c->sk = sk;
	c->port = port;
	return tracked;
}

/* inet_put_port(sk): the port, read before the kernel clears it. */
static bool ephport_tcp_put_entry(struct ephport_call *c,
				  struct pt_regs *regs)
{
	struct sock *sk = ephport_arg_sk(regs);

	if (!sk || sk->sk_protocol != IPPROTO_TCP || !inet_sk(sk)->inet_num ||
	    !inet_csk(sk)->icsk_bind_hash)
		return false;
	return ephport_release_entry(c, sk, inet_sk(sk)->inet_num);
}

/* The socket is out of the bind hash: judged under the chain lock. */
static void ephport_tcp_put_ret(struct ephport_call *c, int ret)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(c->sk));
	if (en)
		ephport_net_tcp_left(en, c->port);
	rcu_read_unlock();
}

/* inet_put_port(sk), judged at its entry as well (release.c says when). */
static void ephport_tcp_put_leave(struct pt_regs *regs)
{
	struct sock *sk = ephport_arg_sk(regs);
	struct ephport_net *en;

	if (!sk || sk->sk_protocol != IPPROTO_TCP || !inet_sk(sk)->inet_num ||
	    !inet_csk(sk)->icsk_bind_hash)
		return;
	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (en)
		ephport_net_tcp_leaving(en, inet_sk(sk)->inet_num,
					&sk->sk_bind_node);
	rcu_read_unlock();
}

/*
 * inet_twsk_bind_unhash(tw, hashinfo): a TIME_WAIT socket leaves the bind
 * hash (it expired, or connect() reused its 4-tuple). Its caller holds
 * the port's bind hash chain lock, before and after.
 */
static void ephport_tw_leave(struct pt_regs *regs)
{
	struct inet_timewait_sock *tw;
	struct ephport_net *en;

	tw = (struct inet_timewait_sock *)regs_get_kernel_argument(regs, 0);
	if (!tw || !tw->tw_tb)
		return;
	rcu_read_lock();
	en = ephport_net_get(twsk_net(tw));
	if (en)
		ephport_net_tw_leaving(en, tw->tw_num, &tw->tw_bind_node);
	rcu_read_unlock();
}

/* udp_lib_unhash(sk) */
static bool ephport_udp_put_entry(struct ephport_call *c,
				  struct pt_regs *regs)
{
	struct sock *sk = ephport_arg_sk(regs);

	if (!sk || sk->sk_protocol != IPPROTO_UDP || !sk_hashed(sk))
		return false;
	return ephport_release_entry(c, sk, udp_sk(sk)->udp_port_hash);
}

/* udp_lib_unhash(sk), judged at its entry as well (release.c says when). */
static void ephport_udp_put_leave(struct pt_regs *regs)
{
	struct sock *sk = ephport_arg_sk(regs);
	struct ephport_net *en;

	if (!sk || sk->sk_protocol != IPPROTO_UDP || !sk_hashed(sk))
		return;
	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (en)
		ephport_net_udp_leaving(en, udp_sk(sk)->udp_port_hash, sk);
	rcu_read_unlock();
}

/* The socket is out of the UDP table: judged under the slot lock. */
static void ephport_udp_put_ret(struct ephport_call *c, int ret)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(c->sk));
	if (en)
		ephport_net_udp_left(en, c->port);
	rcu_read_unlock();
}

#define EPHPORT_HOOK(_hook, _sym, _name)				\
	[_hook] = {							\
		.symbol = _sym,						\
		.entry = _name##_entry,					\
		.ret = _name##_ret,					\
	}

/* Judged at return, and at entry too by a backend that can miss returns. */
#define EPHPORT_RELEASE_HOOK(_hook, _sym, _name)			\
	[_hook] = {							\
		.symbol = _sym,						\
		.entry = _name##_entry,					\
		.ret = _name##_ret,					\
		.leave = _name##_leave,					\
	}

#define EPHPORT_LEAVE_HOOK(_hook, _sym, _leave)				\
	[_hook] = {							\
		.symbol = _sym,						\
		.leave = _leave,					\
	}

static struct ephport_hook ephport_hooks[EPHPORT_NHOOKS] = {
	EPHPORT_HOOK(EPHPORT_HOOK_CONNECT, "inet_hash_connect",
		     ephport_connect),
	EPHPORT_HOOK(EPHPORT_HOOK_CONNECT6, "inet6_hash_connect",
		     ephport_connect),
	EPHPORT_HOOK(EPHPORT_HOOK_TCP_BIND, "inet_csk_get_port",
		     ephport_tcp_bind),
	EPHPORT_HOOK(EPHPORT_HOOK_UDP_BIND, "udp_lib_get_port",
		     ephport_udp_bind),
	EPHPORT_RELEASE_HOOK(EPHPORT_HOOK_TCP_PUT, "inet_put_port",
			     ephport_tcp_put),
	EPHPORT_LEAVE_HOOK(EPHPORT_HOOK_TW_UNHASH, "inet_twsk_bind_unhash",
			   ephport_tw_leave),
	EPHPORT_RELEASE_HOOK(EPHPORT_HOOK_UDP_UNHASH, "udp_lib_unhash",
			     ephport_udp_put),
};

/*
 * Each hook's ftrace location, without arming anything: register_kprobe()
 * on the symbol looks it up, moves past ENDBR on IBT kernels
 * (arch_adjust_kprobe_addr()), and flags a probe that sits on the
 * function's ftrace location (KPROBE_FLAG_FTRACE). A disabled kprobe is
 * never armed, and none of its handlers run. One unregister_kprobes()
 * removes them all, at the cost of one RCU grace period. A hook whose
 * address is not found this way keeps a probe of its own.
 */
static void ephport_hooks_resolve(void)
{
	struct kprobe *kps[EPHPORT_NHOOKS];
	struct kprobe *kp;
	int i, n = 0;

	kp = kcalloc(EPHPORT_NHOOKS, sizeof(*kp), GFP_KERNEL);
	if (!kp)
		return;
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		kp[i].symbol_name = ephport_hooks[i].symbol;
		kp[i].flags = KPROBE_FLAG_DISABLED;
		if (register_kprobe(&kp[i]))
			continue;
		if (kprobe_ftrace(&kp[i]))
			ephport_hooks[i].ip = (unsigned long)kp[i].addr;
		kps[n++] = &kp[i];
	}
	if (n)
		unregister_kprobes(kps, n);
	kfree(kp);
}

/* A hook's ftrace location, 0 if unknown (before ephport_hooks_init()). */
unsigned long ephport_hook_ip(enum ephport_hook_id id)
{
	return ephport_hooks[id].ip;
}

/* Which hook feeds a counter. */
static const enum ephport_hook_id ephport_counter_hook[EPHPORT_NCOUNTERS] = {
	[EPHPORT_TCP_CONNECT_OK] = EPHPORT_HOOK_CONNECT,
	[EPHPORT_TCP_CONNECT_FAIL] = EPHPORT_HOOK_CONNECT,
	[EPHPORT_TCP_BIND_OK] = EPHPORT_HOOK_TCP_BIND,
	[EPHPORT_TCP_BIND_FAIL] = EPHPORT_HOOK_TCP_BIND,
	[EPHPORT_UDP_OK] = EPHPORT_HOOK_UDP_BIND,
	[EPHPORT_UDP_FAIL] = EPHPORT_HOOK_UDP_BIND,
	[EPHPORT_SELF_CONNECT] = EPHPORT_HOOK_CONNECT,
};

/*
 * What the state needs to know of the hooks: which counters are fed,
 * whether every bind and release hook is in place (events can then keep
 * the counts), and where to read the events missed.
 */
void ephport_hooks_env(struct ephport_netns_env *env)
{
	int i;

	env->supported = 0;
	for (i = 0; i < EPHPORT_NCOUNTERS; i++)
		if (ephport_hooks[ephport_counter_hook[i]].registered)
			env->supported |= BIT(i);
	/* search_ns comes from the connect hooks. */
	env->search_supported = ephport_hooks[EPHPORT_HOOK_CONNECT].registered;
	env->exact = true;
	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (!ephport_hooks[i].registered)
			env->exact = false;
	env->missed = ephport_backend_missed;
}

/* /sys/kernel/ephport/probes */
int ephport_hooks_show(char *buf)
{
	int len = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		const struct ephport_hook *h = &ephport_hooks[i];

		len += sysfs_emit_at(buf, len, "%s %s hits=%lu nmissed=%lu via=%s\n",
				     h->symbol,
				     h->registered ? "registered" : "unsupported",
				     ephport_hook_hits(i),
				     ephport_backend_hook_missed(h),
				     ephport_backend_kind(h));
	}
	return len;
}

int ephport_hooks_init(void)
{
	int registered = 0, shared = 0;
	int i, ret;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		ephport_hooks[i].hits = &ephport_hits[i];
	ephport_hooks_resolve();
	ephport_backend_register_shared(ephport_hooks);
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_hook *h = &ephport_hooks[i];

		if (h->registered) {
			registered++;
			shared++;
			continue;
		}
		ret = ephport_backend_register(h);
		if (ret) {
			pr_warn("%s: unsupported on this kernel (%d)\n",
				h->symbol, ret);
			continue;
		}
		h->registered = true;
		registered++;
	}
	if (!registered) {
		/* A part of a hook may be in a shared probe all the same. */
		ephport_backend_unregister_shared();
		pr_err("no hook could be registered\n");
		return -ENOENT;
	}
	pr_info("%d of %d hooks registered, %d of them in shared probes\n",
		registered, EPHPORT_NHOOKS, shared);
	return 0;
}

void ephport_hooks_uninit(void)
{
	int i;

	ephport_backend_unregister_shared();
	for (i = EPHPORT_NHOOKS - 1; i >= 0; i--) {
		struct ephport_hook *h = &ephport_hooks[i];

		if (h->registered && !h->shared)
			ephport_backend_unregister(h);
		h->registered = false;
		h->shared = false;
	}
}
