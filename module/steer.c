// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the steered call (steer.h). The redirects (redirect.c) send an
 * autobind call of a namespace in random mode here, to a function of ours
 * with the kernel function's arguments. It chooses a port
 * (random_mode.c), narrows the socket's IP_LOCAL_PORT_RANGE to it and
 * calls the kernel's function again, which makes every check; if it
 * refuses the port, the kernel chooses, with the socket's own range.
 *
 * Those inner calls come from this file: the redirect lets through any
 * call whose caller is this module (no sibling call optimization here,
 * see Kbuild, so the caller is always us), and the observe hooks know
 * them by the namespace's list of sockets being steered, which our
 * functions fill and empty themselves: nothing exists for a call before
 * our function runs. The entries of that list live on the steering
 * task's stack.
 *
 * A TCP connect() whose source and destination addresses are one never
 * gets the destination's port (it would connect to itself): ephport's
 * choice leaves it out, and the kernel's is made around it (two calls,
 * below and above it). If no other port can be had, connect() fails
 * with EADDRNOTAVAIL, counted in self_connect_avoided. Should the
 * kernel's choice still be that port (the range changed between our
 * look at it and the kernel's, which then searches the whole new range),
 * the call fails with EADDRNOTAVAIL all the same, counted in
 * self_connect_refused: the socket is bound and hashed by then, and the
 * caller's error path (tcp_v4_connect()'s and tcp_v6_connect()'s
 * failure: tcp_set_state(TCP_CLOSE)) unhashes it and lets the port go.
 *
 * Our functions run in the caller's context, in place of the kernel's,
 * and may sleep like them. Each counts itself in flight, so that unload
 * can wait for them (ephport_steer_drain()).
 */
#include <linux/cpu.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <net/inet6_hashtables.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "random_mode.h"
#include "sk.h"
#include "steer.h"

/* A socket random mode steers a call for: on the steering task's stack. */
struct ephport_steering {
	struct hlist_node node;		/* in its namespace's steering[] */
	const struct sock *sk;
	struct ephport_net *en;
};

/* ---- the sockets being steered ---- */

static struct hlist_head *ephport_steer_head(struct ephport_net *en,
					     const struct sock *sk)
{
	return &en->steering[hash_ptr(sk, EPHPORT_STEER_BITS)];
}

/*
 * @st, on the caller's stack, lists @sk as steered in @en until
 * ephport_steer_end(@st). The caller owns the socket (its lock).
 */
static void ephport_steer_begin(struct ephport_net *en,
				struct ephport_steering *st,
				const struct sock *sk)
{
	unsigned long flags;

	st->en = en;
	st->sk = sk;
	raw_spin_lock_irqsave(&en->steer_lock, flags);
	hlist_add_head(&st->node, ephport_steer_head(en, sk));
	WRITE_ONCE(en->nsteering, en->nsteering + 1);
	raw_spin_unlock_irqrestore(&en->steer_lock, flags);
}

static void ephport_steer_end(struct ephport_steering *st)
{
	struct ephport_net *en = st->en;
	unsigned long flags;

	raw_spin_lock_irqsave(&en->steer_lock, flags);
	hlist_del(&st->node);
	WRITE_ONCE(en->nsteering, en->nsteering - 1);
	raw_spin_unlock_irqrestore(&en->steer_lock, flags);
}

/* Whether ephport is steering a call for @sk: its calls are inner ones. */
bool ephport_net_steering(struct ephport_net *en, const struct sock *sk)
{
	struct ephport_steering *st;
	unsigned long flags;
	bool found = false;

	if (!READ_ONCE(en->nsteering))
		return false;
	raw_spin_lock_irqsave(&en->steer_lock, flags);
	hlist_for_each_entry(st, ephport_steer_head(en, sk), node) {
		if (st->sk == sk) {
			found = true;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&en->steer_lock, flags);
	return found;
}

/* Calls in our functions; summed over CPUs only at unload. */
static DEFINE_PER_CPU(long, ephport_inflight);
static bool ephport_redirected;	/* any call was steered since load */

/* One call steered: the socket, and how to call the kernel's function. */
struct ephport_steer_call {
	struct sock *sk;
	enum ephport_proto proto;
	int (*kernel)(struct ephport_steer_call *sc);
	struct inet_timewait_death_row *death_row;
	unsigned int hash2_nulladdr;
};

/*
 * The kernel's function, with the socket's range narrowed to [lo, hi]
 * for the call; the socket's own range is put back only if the call left
 * ours in place (6.12 lets setsockopt() change it without the socket
 * lock: an application's new value is never undone). *lost: it was not.
 */
static int ephport_kernel_in(struct ephport_steer_call *sc, u32 lo, u32 hi,
			     bool *lost)
{
	u32 ours = hi << 16 | lo;
	u32 saved = ephport_sk_port_range(sc->sk);
	int ret;

	ephport_sk_set_port_range(sc->sk, ours);
	ret = sc->kernel(sc);
	*lost = !ephport_sk_restore_port_range(sc->sk, ours, saved);
	return ret;
}

/*
 * The kernel chooses, never @avoid (or -1): around it, below and then
 * above. *avoided: no port was found and @avoid was in the range.
 */
static int ephport_kernel_avoiding(struct ephport_steer_call *sc, int avoid,
				   bool *avoided)
{
	int lo, hi, ret = -EADDRNOTAVAIL;
	bool lost = false;

	*avoided = false;
	if (avoid < 0)
		return sc->kernel(sc);
	inet_sk_get_local_port_range(sc->sk, &lo, &hi);
	if (avoid < lo || avoid > hi)
		return sc->kernel(sc);
	if (avoid > lo)
		ret = ephport_kernel_in(sc, lo, avoid - 1, &lost);
	if (ret == -EADDRNOTAVAIL && !lost && avoid < hi)
		ret = ephport_kernel_in(sc, avoid + 1, hi, &lost);
	*avoided = ret == -EADDRNOTAVAIL;
	return ret;
}

/*
 * One steered call, from start to end: ephport's choice, the kernel's
 * check of it, the kernel's own choice when needed. Each call ends as
 * exactly one of random_ok, random_lru and random_fallback.
 */
static int ephport_steer(struct ephport_steer_call *sc, int avoid)
{
	struct ephport_steering st;
	struct ephport_net *en;
	enum ephport_pick pick;
	bool avoided = false, kernel_avoided, accepted = false, lost;
	enum ephport_self self = EPHPORT_SELF_NONE;
	u32 port = 0;
	int ret;

	rcu_read_lock();
	en = ephport_net_get(sock_net(sc->sk));
	rcu_read_unlock();
	/* The namespace is leaving: nothing to count, the kernel chooses. */
	if (!en)
		return sc->kernel(sc);
	ephport_steer_begin(en, &st, sc->sk);

	pick = ephport_random_choose(en, sc->sk, sc->proto, avoid, &port,
				     &avoided);
	if (pick == EPHPORT_PICK_OK || pick == EPHPORT_PICK_LRU) {
		ret = ephport_kernel_in(sc, port, port, &lost);
		accepted = !ret && inet_sk(sc->sk)->inet_num == port;
		/* Refused, unless bound elsewhere (the range changed under it). */
		if (!ret)
			goto out;
	}
	ret = ephport_kernel_avoiding(sc, avoid, &kernel_avoided);
	avoided |= kernel_avoided;
out:
	if (avoided)
		self = EPHPORT_SELF_AVOIDED;
	/* A connect() to itself is no success: no call of ours makes one. */
	if (!ret && sc->death_row && ephport_sk_self_connected(sc->sk)) {
		ret = -EADDRNOTAVAIL;
		accepted = false;
		self = EPHPORT_SELF_REFUSED;
	}
	ephport_random_done(en, sc->proto, pick, port, accepted, self);
	ephport_steer_end(&st);
	return ret;
}

/* Every function of ours starts and ends with these. */
static void ephport_enter(void)
{
	this_cpu_inc(ephport_inflight);
	if (!READ_ONCE(ephport_redirected))
		WRITE_ONCE(ephport_redirected, true);
}

static void ephport_leave(void)
{
	this_cpu_dec(ephport_inflight);
}

/* ---- our functions, in place of the kernel's ---- */

/*
 * A redirect hands our function the registers of the kernel's call: each
 * takes the arguments of the function it stands in for, as the target's
 * headers declare it (a kernel that changed one fails to build here).
 */
static_assert(__same_type(&ephport_hash_connect4, &inet_hash_connect));
#if IS_ENABLED(CONFIG_IPV6)
static_assert(__same_type(&ephport_hash_connect6, &inet6_hash_connect));
#endif
static_assert(__same_type(&ephport_tcp_get_port, &inet_csk_get_port));
static_assert(__same_type(&ephport_udp_get_port, &udp_lib_get_port));

static int ephport_connect4_kernel(struct ephport_steer_call *sc)
{
	return ephport_kernel_hash_connect4(sc->death_row, sc->sk);
}

static int ephport_connect_steer(struct inet_timewait_death_row *death_row,
				 struct sock *sk,
				 int (*kernel)(struct ephport_steer_call *sc))
{
	struct ephport_steer_call sc = {
		.sk = sk, .proto = EPHPORT_TCP, .kernel = kernel,
		.death_row = death_row,
	};

	return ephport_steer(&sc, ephport_sk_to_itself(sk) ?
			     ntohs(inet_sk(sk)->inet_dport) : -1);
}

/* In place of inet_hash_connect(): TCP connect() without a port. */
int ephport_hash_connect4(struct inet_timewait_death_row *death_row,
			  struct sock *sk)
{
	int ret;

	ephport_enter();
	ret = ephport_connect_steer(death_row, sk, ephport_connect4_kernel);
	ephport_leave();
	return ret;
}

#if IS_ENABLED(CONFIG_IPV6)
static int ephport_connect6_kernel(struct ephport_steer_call *sc)
{
	return inet6_hash_connect(sc->death_row, sc->sk);
}

/* In place of inet6_hash_connect(). */
int ephport_hash_connect6(struct inet_timewait_death_row *death_row,
			  struct sock *sk)
{
	int ret;

	ephport_enter();
	ret = ephport_connect_steer(death_row, sk, ephport_connect6_kernel);
	ephport_leave();
	return ret;
}
#endif

static int ephport_tcp_bind_kernel(struct ephport_steer_call *sc)
{
	return inet_csk_get_port(sc->sk, 0);
}

/* In place of inet_csk_get_port(sk, 0): TCP bind(0), listen() unbound. */
int ephport_tcp_get_port(struct sock *sk, unsigned short snum)
{
	struct ephport_steer_call sc = {
		.sk = sk, .proto = EPHPORT_TCP, .kernel = ephport_tcp_bind_kernel,
	};
	int ret;

	ephport_enter();
	ret = ephport_steer(&sc, -1);
	ephport_leave();
	return ret;
}

static int ephport_udp_bind_kernel(struct ephport_steer_call *sc)
{
	return ephport_kernel_udp_get_port(sc->sk, sc->hash2_nulladdr);
}

/* In place of udp_lib_get_port(sk, 0, ...): UDP bind(0) and autobind. */
int ephport_udp_get_port(struct sock *sk, unsigned short snum,
			 unsigned int hash2_nulladdr)
{
	struct ephport_steer_call sc = {
		.sk = sk, .proto = EPHPORT_UDP, .kernel = ephport_udp_bind_kernel,
		.hash2_nulladdr = hash2_nulladdr,
	};
	int ret;

	ephport_enter();
	ret = ephport_steer(&sc, -1);
	ephport_leave();
	return ret;
}

/*
 * Whether our functions can ask the kernel's own choice on this kernel,
 * given the ftrace locations of inet_hash_connect() (@connect_ip) and
 * udp_lib_get_port() (@udp_ip): 0, or -EOPNOTSUPP and random mode is
 * refused (compat.h). May sleep.
 */
int ephport_steer_prepare(unsigned long connect_ip, unsigned long udp_ip)
{
	return ephport_kernel_fn_find(connect_ip, udp_ip);
}

/* Calls in our functions now; summed over CPUs only at unload. */
static long ephport_steer_inflight(void)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(ephport_inflight, cpu);
	return sum;
}

static void ephport_steer_nop(struct work_struct *work)
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

		INIT_WORK(w, ephport_steer_nop);
		queue_work_on(cpu, ephport_percpu_wq, w);
	}
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(&ephport_nop_work, cpu));
	cpus_read_unlock();
}

/*
 * Returns once no task can be between two points of our code that do not
 * sleep: the entry of one of our functions and its first instruction, or
 * its last decrement and its return. Where the kernel may preempt a task
 * there (full or lazy: Debian's 7.x default, CONFIG_PREEMPT_LAZY), an
 * RCU-tasks grace period ends only once every task has since switched
 * voluntarily or gone to user space (about 1 s). Otherwise (voluntary:
 * Debian's 6.1 and 6.12 default) nothing runs on a CPU before such a
 * task has left: a work item run on every CPU is enough. All three are
 * PREEMPT_DYNAMIC: preempt= at boot may change the model, and
 * preempt_model_preemptible() reads the one in force.
 */
static void ephport_steer_settle(void)
{
	if (preempt_model_preemptible())
		synchronize_rcu_tasks();
	else
		ephport_on_each_cpu();
}

/*
 * At unload, once no call is sent here any more (the redirects are
 * unregistered): returns when no task is in our functions nor can still
 * be on their first or last instructions. Every task sent to them has
 * entered them (and counted itself): the calls in flight end, each in
 * the time the kernel's own function takes; then they leave our code.
 * May sleep.
 */
void ephport_steer_drain(void)
{
	if (!READ_ONCE(ephport_redirected))
		return;
	ephport_steer_settle();
	while (ephport_steer_inflight())
		usleep_range(1000, 2000);
	ephport_steer_settle();
}
