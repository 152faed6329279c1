// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks. One table lists every hook (a kernel function with
 * an entry and a return handler); ephport_probes_init() registers them
 * all, as fprobes where the kernel has them, kretprobes otherwise (see
 * compat.h). A symbol the running kernel lacks is reported as
 * unsupported instead of failing the load.
 *
 * The hooks share their probes where they can: one fprobe for them all
 * (6.12), or one batch of kretprobes and one ftrace_ops for the releases
 * (6.1). Every ftrace_ops of a module is FTRACE_OPS_FL_DYNAMIC: removing
 * one waits for two RCU-tasks grace periods, and each batch of kprobes
 * removed for one RCU grace period, however many functions they cover.
 * One probe per hook made loading and unloading cost six times that
 * (over a second under emulation). A shared probe's handlers find the
 * hook by the address they are called at.
 *
 * Handlers run in atomic context: they never sleep, take no mutex and do
 * not allocate. The functions probed here are not called in hard
 * interrupt context.
 */
#include <linux/fprobe.h>
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/trace_recursion.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "ephport.h"
#include "random.h"

enum ephport_hook {
	EPHPORT_HOOK_CONNECT,		/* TCP connect() autobind, v4 and v6 */
	EPHPORT_HOOK_TCP_BIND,		/* TCP bind()/listen(), port 0 included */
	EPHPORT_HOOK_UDP_BIND,		/* UDP bind() and autobind, v4 and v6 */
	EPHPORT_HOOK_TCP_PUT,		/* a TCP socket lets go of its port */
	EPHPORT_HOOK_TW_UNHASH,		/* a TIME_WAIT socket leaves the bind hash */
	EPHPORT_HOOK_UDP_UNHASH,	/* a UDP socket lets go of its port */
	EPHPORT_NHOOKS,
};

/* What an entry handler leaves for its return handler. */
struct ephport_call {
	struct sock *sk;
	struct net *net;
	u64 start_ns;
	u32 port;
	bool autobind;
};

/* One hook: a kernel function, with a handler at entry and at return. */
struct ephport_probe {
	const char *symbol;
	bool (*entry)(struct ephport_call *c, struct pt_regs *regs);
	void (*ret)(struct ephport_call *c, int ret);
	/* Kernels without fprobe: an entry-only release handler, via ftrace */
	void (*leave)(struct pt_regs *regs);
	/*
	 * The function's ftrace location, the address an ftrace handler is
	 * called with; 0 if unknown: the hook then has a probe of its own.
	 */
	unsigned long ip;
#ifdef EPHPORT_HAVE_FPROBE
	struct fprobe fp;	/* its own, if not in ephport_fprobe */
#else
	struct kretprobe krp;
	struct ftrace_ops ops;	/* for leave, if not in ephport_leave_ops */
	atomic_long_t ftrace_missed;
#endif
	bool registered;	/* written only at init and exit */
	bool shared;		/* in a shared probe; the same */
};

/* Calls seen by each hook, before any filtering; per CPU, no sharing. */
static DEFINE_PER_CPU(unsigned long [EPHPORT_NHOOKS], ephport_hits);

static void ephport_hit(enum ephport_hook hook)
{
	this_cpu_inc(ephport_hits[hook]);
}

static unsigned long ephport_probe_hits(enum ephport_hook hook)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(ephport_hits, cpu)[hook];
	return sum;
}

static void ephport_count(struct ephport_net *en, enum ephport_counter c)
{
	atomic_long_inc(&en->counters[c]);
}

static struct sock *ephport_arg_sk(struct pt_regs *regs)
{
	return (struct sock *)regs_get_kernel_argument(regs, 0);
}

/* The connected socket's two ends are one address and port. */
static bool ephport_self_connected(const struct sock *sk)
{
	if (sk->sk_num != ntohs(sk->sk_dport))
		return false;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		return ipv6_addr_equal(&sk->sk_v6_rcv_saddr, &sk->sk_v6_daddr);
#endif
	return sk->sk_rcv_saddr == sk->sk_daddr;
}

/*
 * The handlers. An entry handler returns true if the call matters, and
 * leaves in *c what its return handler needs.
 */

/* __inet_hash_connect(death_row, sk, port_offset, check_established) */
static bool ephport_connect_entry(struct ephport_call *c, struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 1);

	/* Random mode's own inner calls: the outer one is counted. */
	if (!sk || sk->sk_protocol != IPPROTO_TCP || ephport_steer_inner(sk))
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

		atomic_long_inc(&en->search_ns[ephport_hist_bucket(ns)]);
		if (!ret) {
			ephport_count(en, EPHPORT_TCP_CONNECT_OK);
			ephport_net_bound(en, EPHPORT_TCP, inet_sk(sk)->inet_num);
		} else if (ret == -EADDRNOTAVAIL) {
			ephport_count(en, EPHPORT_TCP_CONNECT_FAIL);
		}
	}
	if (!ret && ephport_self_connected(sk))
		ephport_count(en, EPHPORT_SELF_CONNECT);
out:
	rcu_read_unlock();
}

/* inet_csk_get_port(sk, snum) and udp_lib_get_port(sk, snum, ...) */
static bool ephport_bind_entry(struct ephport_call *c, struct pt_regs *regs,
			       int protocol)
{
	struct sock *sk = ephport_arg_sk(regs);

	if (!sk || sk->sk_protocol != protocol || ephport_steer_inner(sk))
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
	if (c->autobind && !ret)
		ephport_count(en, ok);
	else if (c->autobind && (!no_port || ret == no_port))
		ephport_count(en, fail);
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
 * inet_put_port(sk) and udp_lib_unhash(sk): the port is read on entry
 * (both functions zero inet_num), the release is judged on return.
 */
static bool ephport_put_entry(struct ephport_call *c, struct pt_regs *regs,
			      int protocol)
{
	struct sock *sk = ephport_arg_sk(regs);

	if (!sk || sk->sk_protocol != protocol || !inet_sk(sk)->inet_num)
		return false;
	c->net = sock_net(sk);
	c->port = inet_sk(sk)->inet_num;
	return true;
}

static void ephport_put_ret(struct ephport_call *c, enum ephport_proto proto)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(c->net);
	if (en)
		ephport_net_released(en, proto, c->port);
	rcu_read_unlock();
}

static bool ephport_tcp_put_entry(struct ephport_call *c,
				  struct pt_regs *regs)
{
	return ephport_put_entry(c, regs, IPPROTO_TCP);
}

static void ephport_tcp_put_ret(struct ephport_call *c, int ret)
{
	ephport_put_ret(c, EPHPORT_TCP);
}

static bool ephport_udp_put_entry(struct ephport_call *c,
				  struct pt_regs *regs)
{
	return ephport_put_entry(c, regs, IPPROTO_UDP);
}

static void ephport_udp_put_ret(struct ephport_call *c, int ret)
{
	ephport_put_ret(c, EPHPORT_UDP);
}

/*
 * inet_twsk_bind_unhash(tw, hashinfo): a TIME_WAIT socket leaves the bind
 * hash (it expired, or connect() reused its 4-tuple). Its caller holds
 * the port's bind hash chain lock, before and after.
 */
static bool ephport_tw_entry(struct ephport_call *c, struct pt_regs *regs)
{
	struct inet_timewait_sock *tw;

	tw = (struct inet_timewait_sock *)regs_get_kernel_argument(regs, 0);
	if (!tw || !tw->tw_tb)
		return false;
	c->net = twsk_net(tw);
	c->port = tw->tw_num;
	return true;
}

static void ephport_tw_ret(struct ephport_call *c, int ret)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(c->net);
	if (en)
		ephport_net_released_locked(en, c->port);
	rcu_read_unlock();
}

#ifndef EPHPORT_HAVE_FPROBE
/*
 * Without fprobe, a return handler needs a kretprobe, and a kprobe that
 * fires while another kprobe handler runs on the same CPU is skipped: a
 * softirq releasing ports would miss events. The releases are therefore
 * judged at entry, through ftrace (its recursion guard is per context):
 * the port stays bound only if another socket of the namespace holds it.
 */
#ifdef EPHPORT_HAVE_TB_OWNERS
/* inet_put_port(sk) */
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
					&sk->sk_bind_node, false);
	rcu_read_unlock();
}

/* inet_twsk_bind_unhash(tw, hashinfo), chain lock held by the caller */
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
		ephport_net_tcp_leaving(en, tw->tw_num, &tw->tw_bind_node, true);
	rcu_read_unlock();
}
#define EPHPORT_TCP_PUT_LEAVE	ephport_tcp_put_leave
#define EPHPORT_TW_LEAVE	ephport_tw_leave
#else
#define EPHPORT_TCP_PUT_LEAVE	NULL
#define EPHPORT_TW_LEAVE	NULL
#endif

/* udp_lib_unhash(sk) */
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
#define EPHPORT_UDP_PUT_LEAVE	ephport_udp_put_leave
#else
#define EPHPORT_TCP_PUT_LEAVE	NULL
#define EPHPORT_TW_LEAVE	NULL
#define EPHPORT_UDP_PUT_LEAVE	NULL
#endif

#define EPHPORT_HOOK(_hook, _sym, _name, _leave)			\
	[_hook] = {							\
		.symbol = _sym,						\
		.entry = _name##_entry,					\
		.ret = _name##_ret,					\
		.leave = _leave,					\
	}

static struct ephport_probe ephport_probes[EPHPORT_NHOOKS] = {
	EPHPORT_HOOK(EPHPORT_HOOK_CONNECT, "__inet_hash_connect",
		     ephport_connect, NULL),
	EPHPORT_HOOK(EPHPORT_HOOK_TCP_BIND, "inet_csk_get_port",
		     ephport_tcp_bind, NULL),
	EPHPORT_HOOK(EPHPORT_HOOK_UDP_BIND, "udp_lib_get_port",
		     ephport_udp_bind, NULL),
	EPHPORT_HOOK(EPHPORT_HOOK_TCP_PUT, "inet_put_port", ephport_tcp_put,
		     EPHPORT_TCP_PUT_LEAVE),
	EPHPORT_HOOK(EPHPORT_HOOK_TW_UNHASH, "inet_twsk_bind_unhash",
		     ephport_tw, EPHPORT_TW_LEAVE),
	EPHPORT_HOOK(EPHPORT_HOOK_UDP_UNHASH, "udp_lib_unhash",
		     ephport_udp_put, EPHPORT_UDP_PUT_LEAVE),
};

static enum ephport_hook ephport_probe_hook(const struct ephport_probe *p)
{
	return p - ephport_probes;
}

/*
 * The hook a shared probe's handler was called for: @ip is the ftrace
 * location of the function entered. Inlined, so that the ftrace handler
 * below calls nothing traceable before its recursion guard.
 */
static __always_inline struct ephport_probe *ephport_probe_at(unsigned long ip)
{
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (ephport_probes[i].ip == ip)
			return &ephport_probes[i];
	return NULL;
}

/*
 * Each hook's ftrace location, without arming anything: register_kprobe()
 * on the symbol looks it up, moves past ENDBR on IBT kernels
 * (arch_adjust_kprobe_addr()), and flags a probe that sits on the
 * function's ftrace location (KPROBE_FLAG_FTRACE). A disabled kprobe is
 * never armed, and none of its handlers run. One unregister_kprobes()
 * removes them all, at the cost of one RCU grace period. A hook whose
 * address is not found this way keeps a probe of its own.
 */
static void ephport_probes_resolve(void)
{
	struct kprobe *kps[EPHPORT_NHOOKS];
	struct kprobe *kp;
	int i, n = 0;

	kp = kcalloc(EPHPORT_NHOOKS, sizeof(*kp), GFP_KERNEL);
	if (!kp)
		return;
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		kp[i].symbol_name = ephport_probes[i].symbol;
		kp[i].flags = KPROBE_FLAG_DISABLED;
		if (register_kprobe(&kp[i]))
			continue;
		if (kprobe_ftrace(&kp[i]))
			ephport_probes[i].ip = (unsigned long)kp[i].addr;
		kps[n++] = &kp[i];
	}
	if (n)
		unregister_kprobes(kps, n);
	kfree(kp);
}

#ifdef EPHPORT_HAVE_FPROBE
/*
 * One fprobe for every hook whose ftrace location is known; its handlers
 * find the hook by @ip. A hook left out has a struct fprobe of its own.
 */
static struct fprobe ephport_fprobe;
static bool ephport_fprobe_registered;	/* written only at init and exit */

static const char *ephport_probe_kind(const struct ephport_probe *p)
{
	return "fprobe";
}

static struct ephport_probe *ephport_fprobe_probe(struct fprobe *fp,
						  unsigned long ip)
{
	if (fp == &ephport_fprobe)
		return ephport_probe_at(ip);
	return container_of(fp, struct ephport_probe, fp);
}

/*
 * fprobe: ftrace's recursion guard is per context, so a softirq that
 * releases a port while a handler runs in process context on the same
 * CPU is seen (a kprobe would skip it: one current_kprobe per CPU).
 */
static int ephport_fprobe_entry(struct fprobe *fp, unsigned long ip,
				unsigned long ret_ip, struct pt_regs *regs,
				void *data)
{
	struct ephport_probe *p = ephport_fprobe_probe(fp, ip);

	if (WARN_ON_ONCE(!p))
		return 1;
	ephport_hit(ephport_probe_hook(p));
	return p->entry(data, regs) ? 0 : 1;
}

/* Called only after ephport_fprobe_entry() returned 0, with its @ip. */
static void ephport_fprobe_exit(struct fprobe *fp, unsigned long ip,
				unsigned long ret_ip, struct pt_regs *regs,
				void *data)
{
	struct ephport_probe *p = ephport_fprobe_probe(fp, ip);

	if (p)
		p->ret(data, (int)regs_return_value(regs));
}

static void ephport_fprobe_setup(struct fprobe *fp, int nhooks)
{
	fp->entry_handler = ephport_fprobe_entry;
	fp->exit_handler = ephport_fprobe_exit;
	fp->entry_data_size = sizeof(struct ephport_call);
	/* Calls in flight: as many per hook as one fprobe per hook had. */
	fp->nr_maxactive = nhooks * max_t(int, 64, 4 * num_possible_cpus());
}

static void ephport_shared_register(void)
{
	unsigned long ips[EPHPORT_NHOOKS];
	int i, n = 0, ret;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (ephport_probes[i].ip)
			ips[n++] = ephport_probes[i].ip;
	if (!n)
		return;
	ephport_fprobe_setup(&ephport_fprobe, n);
	ret = register_fprobe_ips(&ephport_fprobe, ips, n);
	if (ret) {
		pr_warn("one fprobe for %d hooks failed (%d): one each\n",
			n, ret);
		return;
	}
	ephport_fprobe_registered = true;
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		if (!ephport_probes[i].ip)
			continue;
		ephport_probes[i].shared = true;
		ephport_probes[i].registered = true;
	}
}

static void ephport_shared_unregister(void)
{
	if (ephport_fprobe_registered)
		unregister_fprobe(&ephport_fprobe);
	ephport_fprobe_registered = false;
}

static int ephport_probe_register(struct ephport_probe *p)
{
	ephport_fprobe_setup(&p->fp, 1);
	return register_fprobe_syms(&p->fp, &p->symbol, 1);
}

static void ephport_probe_unregister(struct ephport_probe *p)
{
	unregister_fprobe(&p->fp);
}

/* Misses of the shared fprobe, which cannot tell which hook missed. */
static unsigned long ephport_shared_missed(void)
{
	return ephport_fprobe_registered ? READ_ONCE(ephport_fprobe.nmissed) : 0;
}

/* Misses of a hook's own probe. */
static unsigned long ephport_probe_own_missed(const struct ephport_probe *p)
{
	return p->registered && !p->shared ? READ_ONCE(p->fp.nmissed) : 0;
}

/*
 * The shared fprobe's misses all show on the first hook it serves, so
 * that the lines of the probes file add up to the total.
 */
static unsigned long ephport_probe_missed(const struct ephport_probe *p)
{
	const struct ephport_probe *q = ephport_probes;

	if (!p->shared)
		return ephport_probe_own_missed(p);
	while (!q->shared)
		q++;
	return p == q ? ephport_shared_missed() : 0;
}
#else
/* One ftrace_ops for the leave hooks whose ftrace location is known. */
static struct ftrace_ops ephport_leave_ops;
static bool ephport_leave_registered;	/* written only at init and exit */
/* The kretprobes registered in one batch. */
static struct kretprobe *ephport_krps[EPHPORT_NHOOKS];
static int ephport_nkrps;

static const char *ephport_probe_kind(const struct ephport_probe *p)
{
	return p->leave ? "ftrace" : "kretprobe";
}

static int ephport_kretprobe_entry(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct ephport_probe *p;

	p = container_of(get_kretprobe(ri), struct ephport_probe, krp);
	ephport_hit(ephport_probe_hook(p));
	return p->entry((struct ephport_call *)ri->data, regs) ? 0 : 1;
}

static int ephport_kretprobe_ret(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct ephport_probe *p;

	p = container_of(get_kretprobe(ri), struct ephport_probe, krp);
	p->ret((struct ephport_call *)ri->data, (int)regs_return_value(regs));
	return 0;
}

static void notrace ephport_ftrace_entry(unsigned long ip,
					 unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ephport_probe *p;
	int bit;

	if (ops == &ephport_leave_ops)
		p = ephport_probe_at(ip);
	else
		p = container_of(ops, struct ephport_probe, ops);
	bit = ftrace_test_recursion_trylock(ip, parent_ip);
	if (bit < 0) {
		if (p)
			atomic_long_inc(&p->ftrace_missed);
		return;
	}
	if (!WARN_ON_ONCE(!p)) {
		ephport_hit(ephport_probe_hook(p));
		if (regs)
			p->leave(regs);
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
static void ephport_kretprobe_setup(struct ephport_probe *p)
{
	memset(&p->krp, 0, sizeof(p->krp));
	p->krp.kp.symbol_name = p->symbol;
	p->krp.entry_handler = ephport_kretprobe_entry;
	p->krp.handler = ephport_kretprobe_ret;
	p->krp.data_size = sizeof(struct ephport_call);
	/* __inet_hash_connect and UDP autobind may sleep. */
	p->krp.maxactive = max_t(int, 64, 4 * num_possible_cpus());
}

/* The kretprobes in one batch, the leave hooks on one ftrace_ops. */
static void ephport_shared_register(void)
{
	unsigned long ips[EPHPORT_NHOOKS];
	int i, n = 0, ret;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_probe *p = &ephport_probes[i];

		if (!p->ip)
			continue;
		if (p->leave) {
			ips[n++] = p->ip;
			continue;
		}
		ephport_kretprobe_setup(p);
		ephport_krps[ephport_nkrps++] = &p->krp;
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
		struct ephport_probe *p;

		p = container_of(ephport_krps[i], struct ephport_probe, krp);
		p->shared = true;
		p->registered = true;
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
		struct ephport_probe *p = &ephport_probes[i];

		if (p->ip && p->leave) {
			p->shared = true;
			p->registered = true;
		}
	}
}

static void ephport_shared_unregister(void)
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

static int ephport_ftrace_register(struct ephport_probe *p)
{
	int ret;

	ephport_ftrace_setup(&p->ops);
	ret = ftrace_set_filter(&p->ops, (unsigned char *)p->symbol,
				strlen(p->symbol), 0);
	if (ret)
		return ret;
	ret = register_ftrace_function(&p->ops);
	if (ret)
		ftrace_free_filter(&p->ops);
	return ret;
}

static int ephport_probe_register(struct ephport_probe *p)
{
	if (p->leave)
		return ephport_ftrace_register(p);
	ephport_kretprobe_setup(p);
	return register_kretprobe(&p->krp);
}

static void ephport_probe_unregister(struct ephport_probe *p)
{
	if (p->leave) {
		unregister_ftrace_function(&p->ops);
		ftrace_free_filter(&p->ops);
		return;
	}
	unregister_kretprobe(&p->krp);
}

/* Every hook counts its own misses, shared probe or not. */
static unsigned long ephport_shared_missed(void)
{
	return 0;
}

/*
 * Entry hits skipped (another kprobe handler was running on the CPU) and
 * returns not seen (no free instance, or the same at return).
 */
static unsigned long ephport_probe_own_missed(const struct ephport_probe *p)
{
	if (!p->registered)
		return 0;
	if (p->leave)
		return atomic_long_read(&p->ftrace_missed);
	return p->krp.kp.nmissed + p->krp.nmissed;
}

static unsigned long ephport_probe_missed(const struct ephport_probe *p)
{
	return ephport_probe_own_missed(p);
}
#endif

/* Which hook feeds a counter. */
static const enum ephport_hook ephport_counter_hook[EPHPORT_NCOUNTERS] = {
	[EPHPORT_TCP_CONNECT_OK] = EPHPORT_HOOK_CONNECT,
	[EPHPORT_TCP_CONNECT_FAIL] = EPHPORT_HOOK_CONNECT,
	[EPHPORT_TCP_BIND_OK] = EPHPORT_HOOK_TCP_BIND,
	[EPHPORT_TCP_BIND_FAIL] = EPHPORT_HOOK_TCP_BIND,
	[EPHPORT_UDP_OK] = EPHPORT_HOOK_UDP_BIND,
	[EPHPORT_UDP_FAIL] = EPHPORT_HOOK_UDP_BIND,
	[EPHPORT_SELF_CONNECT] = EPHPORT_HOOK_CONNECT,
};

bool ephport_counter_supported(enum ephport_counter c)
{
	return ephport_probes[ephport_counter_hook[c]].registered;
}

/* search_ns comes from the connect hook. */
bool ephport_search_supported(void)
{
	return ephport_probes[EPHPORT_HOOK_CONNECT].registered;
}

/* Every bind and release hook is in place: events can keep counts. */
bool ephport_probes_exact(void)
{
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		if (!ephport_probes[i].registered)
			return false;
	return true;
}

/* Every miss once, though a shared fprobe shows its misses on each hook. */
unsigned long ephport_probes_missed(void)
{
	unsigned long sum = ephport_shared_missed();
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		sum += ephport_probe_own_missed(&ephport_probes[i]);
	return sum;
}

/* /sys/kernel/ephport/probes */
int ephport_probes_show(char *buf)
{
	int len = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		const struct ephport_probe *p = &ephport_probes[i];

		len += sysfs_emit_at(buf, len, "%s %s hits=%lu nmissed=%lu via=%s\n",
				     p->symbol,
				     p->registered ? "registered" : "unsupported",
				     ephport_probe_hits(i),
				     ephport_probe_missed(p),
				     ephport_probe_kind(p));
	}
	return len;
}

int ephport_probes_init(void)
{
	int registered = 0, shared = 0;
	int i, ret;

	ephport_probes_resolve();
	ephport_shared_register();
	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_probe *p = &ephport_probes[i];

		if (p->registered) {
			registered++;
			shared++;
			continue;
		}
		ret = ephport_probe_register(p);
		if (ret) {
			pr_warn("%s: unsupported on this kernel (%d)\n",
				p->symbol, ret);
			continue;
		}
		p->registered = true;
		registered++;
	}
	if (!registered) {
		pr_err("no hook could be registered\n");
		return -ENOENT;
	}
	pr_info("%d of %d hooks registered, %d of them in shared probes\n",
		registered, EPHPORT_NHOOKS, shared);
	return 0;
}

void ephport_probes_uninit(void)
{
	int i;

	ephport_shared_unregister();
	for (i = EPHPORT_NHOOKS - 1; i >= 0; i--) {
		struct ephport_probe *p = &ephport_probes[i];

		if (p->registered && !p->shared)
			ephport_probe_unregister(p);
		p->registered = false;
		p->shared = false;
	}
}
