// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: steering the kernel's port choice, for namespaces in random
 * mode.
 *
 * A kprobe on each port-choosing function (__inet_hash_connect for TCP
 * connect(), inet_csk_get_port for TCP bind(0) and listen(),
 * udp_lib_get_port for UDP autobind) sends an autobind call of a
 * namespace in random mode to a function of ours with the same arguments
 * (the pre-handler sets regs->ip and returns 1, the documented way). It
 * chooses a port, narrows the socket's IP_LOCAL_PORT_RANGE to that one
 * port and calls the kernel's own exported entry point (inet_hash_connect
 * or inet6_hash_connect, inet_csk_get_port, udp_lib_get_port) again:
 * the kernel makes every check, and if it refuses the port the range is
 * given back and the kernel chooses, unchanged. Calling exported
 * functions directly (not the probed symbol through a pointer) keeps
 * clear of IBT's ENDBR rules.
 *
 * Those inner calls are recognised by their socket, in a small table of
 * the sockets being steered: the redirect lets them through, and the
 * observe hooks count only the outer call (which returns what the inner
 * ones did).
 *
 * The kprobe handlers never sleep. Our functions run after the kprobe
 * has returned, in the caller's context, and may sleep like the kernel's
 * (cond_resched() in the searches). Unload: the kprobes go first, then
 * ephport waits for the calls in flight (ephport_inflight), then until
 * no task can still be on the last instructions of one of our functions
 * (ephport_redirect_uninit()).
 */
#include <linux/cpu.h>
#include <linux/hash.h>
#include <linux/percpu.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "hooks.h"
#include "netns.h"

/* ---- the sockets being steered ---- */

#define EPHPORT_STEER_BITS	8
#define EPHPORT_STEER_SLOTS	BIT(EPHPORT_STEER_BITS)
#define EPHPORT_STEER_INNER	BIT(0)	/* our function runs: inner calls */

/*
 * A slot holds a socket pointer (with EPHPORT_STEER_INNER once our
 * function runs), or 0. Only the task steering the socket changes it
 * after taking it.
 */
static unsigned long ephport_steer[EPHPORT_STEER_SLOTS];
static atomic_t ephport_steer_used = ATOMIC_INIT(0);

static int ephport_steer_find(const struct sock *sk)
{
	unsigned int start, i;

	if (!atomic_read(&ephport_steer_used))
		return -1;
	start = hash_ptr(sk, EPHPORT_STEER_BITS);
	for (i = 0; i < EPHPORT_STEER_SLOTS; i++) {
		unsigned int s = (start + i) & (EPHPORT_STEER_SLOTS - 1);

		if ((READ_ONCE(ephport_steer[s]) & ~EPHPORT_STEER_INNER) ==
		    (unsigned long)sk)
			return s;
	}
	return -1;
}

static bool ephport_steer_begin(const struct sock *sk)
{
	unsigned int start, i;

	atomic_inc(&ephport_steer_used);
	start = hash_ptr(sk, EPHPORT_STEER_BITS);
	for (i = 0; i < EPHPORT_STEER_SLOTS; i++) {
		unsigned int s = (start + i) & (EPHPORT_STEER_SLOTS - 1);

		if (!cmpxchg(&ephport_steer[s], 0, (unsigned long)sk))
			return true;
	}
	atomic_dec(&ephport_steer_used);
	return false;
}

static void ephport_steer_mark_inner(const struct sock *sk)
{
	int s = ephport_steer_find(sk);

	if (s >= 0)
		WRITE_ONCE(ephport_steer[s],
			   (unsigned long)sk | EPHPORT_STEER_INNER);
}

static void ephport_steer_end(const struct sock *sk)
{
	int s = ephport_steer_find(sk);

	if (s < 0)
		return;
	WRITE_ONCE(ephport_steer[s], 0);
	atomic_dec(&ephport_steer_used);
}

/* A call ephport makes for @sk: the observe hooks leave it alone. */
bool ephport_steer_inner(const struct sock *sk)
{
	int s = ephport_steer_find(sk);

	return s >= 0 && (READ_ONCE(ephport_steer[s]) & EPHPORT_STEER_INNER);
}

/* ---- our functions, in place of the kernel's ---- */

/* Calls in our functions, between the pre-handler and their return. */
static atomic_t ephport_inflight = ATOMIC_INIT(0);
static bool ephport_redirected;	/* any call was steered since load */

static void ephport_redirect_done(const struct sock *sk)
{
	ephport_steer_end(sk);
	if (atomic_dec_and_test(&ephport_inflight))
		wake_up_var(&ephport_inflight);
}

/*
 * The kernel accepted @port, chosen by ephport. Counted as bound first:
 * a sweep must not take the handed-out port for a release unseen.
 */
static void ephport_chosen(struct sock *sk, enum ephport_proto proto, u32 port)
{
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	if (en)
		ephport_net_bound(en, proto, port);
	rcu_read_unlock();
	ephport_random_chosen(sk, port);
}

static bool ephport_sk_v6(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	return sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr);
#else
	return false;
#endif
}

/* The exported caller of __inet_hash_connect() the kernel used. */
static int ephport_connect_kernel(struct inet_timewait_death_row *death_row,
				  struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (ephport_sk_v6(sk))
		return inet6_hash_connect(death_row, sk);
#endif
	return inet_hash_connect(death_row, sk);
}

/* Source and destination addresses are one: sport == dport would self-connect. */
static bool ephport_to_itself(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (ephport_sk_v6(sk))
		return ipv6_addr_equal(&sk->sk_v6_rcv_saddr, &sk->sk_v6_daddr);
#endif
	return sk->sk_rcv_saddr == sk->sk_daddr;
}

/* The port's socket range, for one call. The caller holds the socket lock. */
static u32 ephport_force_port(struct sock *sk, u32 port)
{
	u32 saved = ephport_sk_port_range(sk);

	ephport_sk_set_port_range(sk, port << 16 | port);
	return saved;
}

/* In place of __inet_hash_connect(): TCP connect() without a port. */
static int ephport_hash_connect(struct inet_timewait_death_row *death_row,
				struct sock *sk, u64 port_offset,
				int (*check_established)(struct inet_timewait_death_row *,
							 struct sock *, __u16,
							 struct inet_timewait_sock **))
{
	int avoid = -1, ret;
	u32 port, saved;

	ephport_steer_mark_inner(sk);
	if (ephport_to_itself(sk))
		avoid = ntohs(inet_sk(sk)->inet_dport);
	if (!ephport_random_choose(sk, EPHPORT_TCP, avoid, &port)) {
		saved = ephport_force_port(sk, port);
		ret = ephport_connect_kernel(death_row, sk);
		ephport_sk_set_port_range(sk, saved);
		if (!ret && inet_sk(sk)->inet_num == port)
			ephport_chosen(sk, EPHPORT_TCP, port);
		if (ret != -EADDRNOTAVAIL)
			goto out;
		ephport_random_refused(sk);
	}
	ret = ephport_connect_kernel(death_row, sk);
out:
	ephport_redirect_done(sk);
	return ret;
}

/* In place of inet_csk_get_port(sk, 0): TCP bind(0), listen() unbound. */
static int ephport_tcp_get_port(struct sock *sk, unsigned short snum)
{
	u32 port, saved;
	int ret;

	ephport_steer_mark_inner(sk);
	if (!ephport_random_choose(sk, EPHPORT_TCP, -1, &port)) {
		saved = ephport_force_port(sk, port);
		ret = inet_csk_get_port(sk, 0);
		ephport_sk_set_port_range(sk, saved);
		if (!ret) {
			if (inet_sk(sk)->inet_num == port)
				ephport_chosen(sk, EPHPORT_TCP, port);
			goto out;
		}
		ephport_random_refused(sk);
	}
	ret = inet_csk_get_port(sk, 0);
out:
	ephport_redirect_done(sk);
	return ret;
}

/* In place of udp_lib_get_port(sk, 0, ...): UDP bind(0) and autobind. */
static int ephport_udp_get_port(struct sock *sk, unsigned short snum,
				unsigned int hash2_nulladdr)
{
	u32 port, saved;
	int ret;

	ephport_steer_mark_inner(sk);
	if (!ephport_random_choose(sk, EPHPORT_UDP, -1, &port)) {
		saved = ephport_force_port(sk, port);
		ret = udp_lib_get_port(sk, 0, hash2_nulladdr);
		ephport_sk_set_port_range(sk, saved);
		if (!ret) {
			if (inet_sk(sk)->inet_num == port)
				ephport_chosen(sk, EPHPORT_UDP, port);
			goto out;
		}
		ephport_random_refused(sk);
	}
	ret = udp_lib_get_port(sk, 0, hash2_nulladdr);
out:
	ephport_redirect_done(sk);
	return ret;
}

/* ---- the kprobes ---- */

/* The socket of a call ephport may steer: an autobind, else NULL. */
static struct sock *ephport_connect_sk(struct pt_regs *regs)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 1);

	if (!sk || sk->sk_protocol != IPPROTO_TCP || inet_sk(sk)->inet_num)
		return NULL;
	return sk;
}

static struct sock *ephport_bind_sk(struct pt_regs *regs, int protocol)
{
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 0);

	if (!sk || sk->sk_protocol != protocol ||
	    (u16)regs_get_kernel_argument(regs, 1))
		return NULL;
	return sk;
}

static struct sock *ephport_tcp_bind_sk(struct pt_regs *regs)
{
	return ephport_bind_sk(regs, IPPROTO_TCP);
}

static struct sock *ephport_udp_bind_sk(struct pt_regs *regs)
{
	return ephport_bind_sk(regs, IPPROTO_UDP);
}

struct ephport_redirect {
	const char *symbol;
	void *target;
	struct sock *(*sk)(struct pt_regs *regs);
	struct kprobe kp;
	atomic_long_t steered;	/* calls sent to target */
	bool registered;	/* written only at init and exit */
};

static struct ephport_redirect ephport_redirects[] = {
	{ "__inet_hash_connect", ephport_hash_connect, ephport_connect_sk },
	{ "inet_csk_get_port", ephport_tcp_get_port, ephport_tcp_bind_sk },
	{ "udp_lib_get_port", ephport_udp_get_port, ephport_udp_bind_sk },
};

static int ephport_redirect_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct ephport_redirect *r = container_of(kp, struct ephport_redirect, kp);
	struct sock *sk = r->sk(regs);
	struct ephport_net *en;
	bool steer;

	/* Not an autobind, or our own inner call. */
	if (!sk || ephport_steer_find(sk) >= 0)
		return 0;
	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	steer = en && ephport_random_active(en);
	if (steer && !ephport_steer_begin(sk)) {
		/* More calls in flight than slots: the kernel chooses. */
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK);
		ephport_net_rcount(en, EPHPORT_RANDOM_FALLBACK_REFUSED);
		steer = false;
	}
	rcu_read_unlock();
	if (!steer)
		return 0;
	atomic_inc(&ephport_inflight);
	WRITE_ONCE(ephport_redirected, true);
	atomic_long_inc(&r->steered);
	instruction_pointer_set(regs, (unsigned long)r->target);
	return 1;
}

int ephport_redirect_show(char *buf)
{
	int len = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(ephport_redirects); i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		len += sysfs_emit_at(buf, len, "%s %s steered=%lu nmissed=%lu\n",
				     r->symbol,
				     r->registered ? "registered" : "unsupported",
				     atomic_long_read(&r->steered),
				     r->registered ? r->kp.nmissed : 0);
	}
	return len;
}

int ephport_redirect_init(void)
{
	int i, ret, n = 0;

	for (i = 0; i < ARRAY_SIZE(ephport_redirects); i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		r->kp.symbol_name = r->symbol;
		/*
		 * No post_handler: on 6.1 the observe hooks are kretprobes
		 * on the same functions, and a post_handler on a kprobe
		 * aggregated with their ftrace kprobe makes the kernel
		 * disarm it with the wrong ftrace_ops (a WARN at unload,
		 * seen on 6.1.192).
		 * The ftrace kprobe honours the new regs->ip without it.
		 */
		r->kp.pre_handler = ephport_redirect_pre;
		ret = register_kprobe(&r->kp);
		if (ret) {
			pr_warn("%s: random mode cannot steer it (%d): the kernel chooses\n",
				r->symbol, ret);
			continue;
		}
		r->registered = true;
		n++;
	}
	pr_info("random mode: %d of %zu port choices can be steered\n", n,
		ARRAY_SIZE(ephport_redirects));
	return 0;
}

static void ephport_redirect_nop(struct work_struct *work)
{
}

static DEFINE_PER_CPU(struct work_struct, ephport_nop_work);

/* Returns once every online CPU has run a work item of ours. */
static void ephport_on_each_cpu(void)
{
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct work_struct *w = per_cpu_ptr(&ephport_nop_work, cpu);

		INIT_WORK(w, ephport_redirect_nop);
		queue_work_on(cpu, system_wq, w);
	}
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(&ephport_nop_work, cpu));
	cpus_read_unlock();
}

void ephport_redirect_uninit(void)
{
	struct kprobe *kps[ARRAY_SIZE(ephport_redirects)];
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(ephport_redirects); i++)
		if (ephport_redirects[i].registered)
			kps[n++] = &ephport_redirects[i].kp;
	/* No new redirect once this returns (it waits for the handlers). */
	if (n)
		unregister_kprobes(kps, n);
	for (i = 0; i < ARRAY_SIZE(ephport_redirects); i++)
		ephport_redirects[i].registered = false;
	/* Calls already sent to our functions finish... */
	wait_var_event(&ephport_inflight, !atomic_read(&ephport_inflight));
	/*
	 * ...and leave them: after the last decrement a task still runs a
	 * few instructions of ours, which never sleep. Where the kernel may
	 * preempt it there (preempt=full), an RCU-tasks grace period ends
	 * only once every task has since switched voluntarily or gone to
	 * user space (about 1 s). Otherwise (Debian's default, voluntary)
	 * nothing can run on a CPU before such a task has left: a work item
	 * run on every CPU is enough (milliseconds).
	 */
	if (!READ_ONCE(ephport_redirected))
		return;
	if (preempt_model_preemptible())
		synchronize_rcu_tasks();
	else
		ephport_on_each_cpu();
}
