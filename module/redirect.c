// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the redirects, the ftrace mechanism of random mode.
 *
 * An ftrace_ops on each function that chooses an ephemeral port
 * (inet_hash_connect and inet6_hash_connect for TCP connect(),
 * inet_csk_get_port for TCP bind(0) and listen(), udp_lib_get_port for
 * UDP autobind) sends an autobind call of a namespace in random mode to
 * a function of ours with the same arguments (steer.c). The ops declares
 * what it does, FTRACE_OPS_FL_IPMODIFY, as livepatch does: the kernel
 * refuses a second IP-modifying user of the same function (a livepatch,
 * another module) with -EBUSY instead of letting one of them be skipped,
 * and BPF trampolines attached there take the path that keeps both.
 *
 * Nothing is registered before the host first asks for random mode (a
 * switch to it, tenant_random=1, or mode=random at load): observe mode
 * alone does not pay for the ops on every bind and connect. Then every
 * redirect is registered, in one ops when it can be, and kept until
 * unload. It blocks livepatches of those functions: only a caller with
 * CAP_SYS_ADMIN in the initial user namespace registers them (checked
 * here, whoever calls); a tenant switches to random mode only once the
 * host has registered them and allowed it (tenant_random). A conflict then
 * fails the write with -EBUSY (redirects and the kernel log say why),
 * and what that write registered goes again; the next write tries again.
 * Observe mode is unaffected. Random mode asks for them through the
 * ops handed to it at init (ephport_redirect_init()).
 *
 * The ftrace handler never sleeps, and lets through any call whose
 * caller is this module: our functions' own calls to the kernel's.
 * Unload: the ops go first (ftrace waits for its handlers), then ephport
 * waits until every task sent to one of our functions has entered it,
 * for the calls in flight to end, and until no task can still be on
 * their last instructions (ephport_redirect_uninit()).
 */
#include <linux/capability.h>
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sysfs.h>
#include <linux/user_namespace.h>
#include <net/inet_sock.h>
#include <net/sock.h>

#include "hooks.h"
#include "random_mode.h"
#include "redirect.h"
#include "steer.h"

/* ---- the ftrace_ops ---- */

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

enum ephport_redirect_state {
	EPHPORT_REDIRECT_UNSUPPORTED,	/* no such function here */
	EPHPORT_REDIRECT_STANDBY,	/* not registered: random mode unused */
	EPHPORT_REDIRECT_UNAVAILABLE,	/* registering failed: err says why */
	EPHPORT_REDIRECT_REGISTERED,
};

static const char *const ephport_redirect_states[] = {
	[EPHPORT_REDIRECT_UNSUPPORTED] = "unsupported",
	[EPHPORT_REDIRECT_STANDBY] = "standby",
	[EPHPORT_REDIRECT_UNAVAILABLE] = "unavailable",
	[EPHPORT_REDIRECT_REGISTERED] = "registered",
};

struct ephport_redirect {
	const char *symbol;
	enum ephport_hook_id hook;	/* the observe hook on the same function */
	void *target;
	struct sock *(*sk)(struct pt_regs *regs);
	struct ftrace_ops ops;		/* its own, if the shared one failed */
	/* Under ephport_redirect_lock; read without it by redirects. */
	enum ephport_redirect_state state;
	int err;
	unsigned long ip;		/* its ftrace location, in the shared ops */
};

static struct ephport_redirect ephport_redirects[] = {
	{ "inet_hash_connect", EPHPORT_HOOK_CONNECT, ephport_hash_connect4,
	  ephport_connect_sk },
#if IS_ENABLED(CONFIG_IPV6)
	{ "inet6_hash_connect", EPHPORT_HOOK_CONNECT6, ephport_hash_connect6,
	  ephport_connect_sk },
#endif
	{ "inet_csk_get_port", EPHPORT_HOOK_TCP_BIND, ephport_tcp_get_port,
	  ephport_tcp_bind_sk },
	{ "udp_lib_get_port", EPHPORT_HOOK_UDP_BIND, ephport_udp_get_port,
	  ephport_udp_bind_sk },
};

#define EPHPORT_NREDIRECTS ARRAY_SIZE(ephport_redirects)

/*
 * One ftrace_ops for every redirect whose ftrace location is known (one
 * registration, one unregistration); a redirect left out, or all of them
 * if the shared ops cannot be registered (another IP-modifying user on
 * one of the functions), has an ops of its own.
 */
static struct ftrace_ops ephport_shared_ops;

/*
 * Serializes registering the redirects (a switch to random mode, of any
 * namespace, or tenant_random) with unload, and guards each redirect's
 * state and err and what follows (what is read without it: READ_ONCE).
 * Global: the redirects are the host's, registered once.
 */
static DEFINE_MUTEX(ephport_redirect_lock);
static bool ephport_shared_tried;	/* the shared ops was tried */
static bool ephport_shared_registered;
static bool ephport_redirect_closed;	/* unloading: no registering */
static bool ephport_redirect_armed;	/* every redirect registered */
static bool ephport_redirect_tenants;	/* tenant_random: set while armed */

/* Calls sent to each target, per CPU. */
static DEFINE_PER_CPU(unsigned long [EPHPORT_NREDIRECTS], ephport_steered);

static struct ephport_redirect *ephport_redirect_at(unsigned long ip)
{
	int i;

	for (i = 0; i < EPHPORT_NREDIRECTS; i++)
		if (READ_ONCE(ephport_redirects[i].ip) == ip)
			return &ephport_redirects[i];
	return NULL;
}

/*
 * At the entry of a redirected function, with preemption off (ftrace's
 * recursion guard around it). Our own calls to the function pass.
 */
static void notrace ephport_redirect_fn(unsigned long ip,
					unsigned long parent_ip,
					struct ftrace_ops *ops,
					struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ephport_redirect *r;
	struct ephport_net *en;
	struct sock *sk;
	bool steer;

	if (!regs || within_module(parent_ip, THIS_MODULE))
		return;
	if (ops == &ephport_shared_ops)
		r = ephport_redirect_at(ip);
	else
		r = container_of(ops, struct ephport_redirect, ops);
	if (!r)
		return;
	sk = r->sk(regs);
	if (!sk)
		return;
	rcu_read_lock();
	en = ephport_net_get(sock_net(sk));
	steer = en && ephport_random_active(en);
	rcu_read_unlock();
	if (!steer)
		return;
	this_cpu_inc(ephport_steered[r - ephport_redirects]);
	instruction_pointer_set(regs, (unsigned long)r->target);
}

static unsigned long ephport_redirect_steered(int i)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(ephport_steered, cpu)[i];
	return sum;
}

/* /sys/kernel/ephport/redirects */
int ephport_redirect_show(char *buf)
{
	int len = 0;
	int i;

	for (i = 0; i < EPHPORT_NREDIRECTS; i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		len += sysfs_emit_at(buf, len,
				     "%s ftrace_ipmodify %s err=%d steered=%lu\n",
				     r->symbol,
				     ephport_redirect_states[READ_ONCE(r->state)],
				     READ_ONCE(r->err),
				     ephport_redirect_steered(i));
	}
	return len;
}

static void ephport_redirect_set(struct ephport_redirect *r,
				 enum ephport_redirect_state state, int err)
{
	WRITE_ONCE(r->state, state);
	WRITE_ONCE(r->err, err);
}

static void ephport_ops_init(struct ftrace_ops *ops)
{
	ops->func = ephport_redirect_fn;
	ops->flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY;
}

/* Every redirect with a known ftrace location, in one ops. */
static void ephport_redirect_register_shared(void)
{
	unsigned long ips[EPHPORT_NREDIRECTS];
	int i, n = 0, ret;

	for (i = 0; i < EPHPORT_NREDIRECTS; i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		unsigned long ip = 0;

		if (r->state == EPHPORT_REDIRECT_STANDBY)
			ip = ephport_hook_ip(r->hook);
		WRITE_ONCE(r->ip, ip);
		if (ip)
			ips[n++] = ip;
	}
	/* Before the hooks have found them (at load), try again later. */
	if (!n)
		return;
	ephport_shared_tried = true;
	ephport_ops_init(&ephport_shared_ops);
	ret = ftrace_set_filter_ips(&ephport_shared_ops, ips, n, 0, 1);
	if (!ret)
		ret = register_ftrace_function(&ephport_shared_ops);
	if (ret) {
		/*
		 * A failed registration may have been seen by ftrace's list
		 * walkers (it is undone without waiting for them): the filter
		 * stays until unload, and no ip of ours matches any more.
		 */
		for (i = 0; i < EPHPORT_NREDIRECTS; i++)
			WRITE_ONCE(ephport_redirects[i].ip, 0);
		pr_warn("one ftrace_ops for %d redirects failed (%d): one each\n",
			n, ret);
		return;
	}
	ephport_shared_registered = true;
	for (i = 0; i < EPHPORT_NREDIRECTS; i++)
		if (ephport_redirects[i].ip)
			ephport_redirect_set(&ephport_redirects[i],
					     EPHPORT_REDIRECT_REGISTERED, 0);
}

/*
 * A redirect's own ops. A failure is logged when it is new: a tenant
 * asking for random mode again does not fill the log.
 */
static int ephport_redirect_register(struct ephport_redirect *r)
{
	int ret;

	ret = register_ftrace_function(&r->ops);
	if (ret) {
		if (r->state != EPHPORT_REDIRECT_UNAVAILABLE || r->err != ret)
			pr_err("%s: cannot steer it (%d%s): random mode unavailable\n",
			       r->symbol, ret,
			       ret == -EBUSY ? ", another IP-modifying user has it" : "");
		ephport_redirect_set(r, EPHPORT_REDIRECT_UNAVAILABLE, ret);
		return ret;
	}
	ephport_redirect_set(r, EPHPORT_REDIRECT_REGISTERED, 0);
	return 0;
}

/*
 * An arming that failed: what it registered goes again, so a refused
 * switch leaves no redirect on the path of every bind() and connect()
 * and no function held against a livepatch. Unregistering waits for the
 * handlers still running. No namespace is in random mode before the
 * first arming succeeds, but at load with mode=random: its failure
 * fails the load, whose unwinding waits for any call steered meanwhile
 * (ephport_steer_drain()). The shared ops keeps its filter until unload
 * (ftrace_free_filter() leaves a freed hash behind on these kernels: the
 * ops is never set up again), so later armings register one ops each.
 * Several ops, each waiting out RCU-tasks grace periods: this may take
 * seconds, on an error path.
 */
static void ephport_redirect_disarm(unsigned long mine, bool shared)
{
	int i;

	if (shared) {
		unregister_ftrace_function(&ephport_shared_ops);
		ephport_shared_registered = false;
	}
	for (i = 0; i < EPHPORT_NREDIRECTS; i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		if (!(mine & BIT(i)) || r->state != EPHPORT_REDIRECT_REGISTERED)
			continue;
		if (!r->ip)
			unregister_ftrace_function(&r->ops);
		WRITE_ONCE(r->ip, 0);
		ephport_redirect_set(r, EPHPORT_REDIRECT_STANDBY, 0);
	}
}

/*
 * Random mode is asked for (a switch to it, or mode=random at load):
 * registers every redirect not registered yet, the shared ops first.
 * Registered ones stay until unload, so no namespace can make the host
 * patch its text more than once; if one cannot be registered, none
 * stays. 0 once all are registered; -EPERM if they are not and the
 * caller lacks CAP_SYS_ADMIN in the initial user namespace; -EOPNOTSUPP
 * on a kernel where random mode cannot work (steer.c); else -EBUSY
 * (redirects and the kernel log say why). May sleep.
 */
static int ephport_redirect_arm(void)
{
	int i, ret, n = 0, err = 0;
	unsigned long mine = 0;
	bool shared;

	if (READ_ONCE(ephport_redirect_armed))
		return 0;
	/* Only the host registers them: no tenant blocks a livepatch. */
	if (!ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	/* A kernel whose own choice our functions cannot call: none. */
	ret = ephport_steer_prepare(ephport_hook_ip(EPHPORT_HOOK_CONNECT),
				    ephport_hook_ip(EPHPORT_HOOK_UDP_BIND));
	if (ret)
		return ret;
	mutex_lock(&ephport_redirect_lock);
	if (ephport_redirect_closed) {
		err = -ENODEV;
		goto out;
	}
	if (ephport_redirect_armed)	/* by another caller meanwhile */
		goto out;
	shared = !ephport_shared_tried;
	if (shared) {
		ephport_redirect_register_shared();
		shared = ephport_shared_registered;
	}
	for (i = 0; i < EPHPORT_NREDIRECTS; i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		if (r->state == EPHPORT_REDIRECT_UNSUPPORTED)
			continue;
		if (r->state != EPHPORT_REDIRECT_REGISTERED) {
			ret = ephport_redirect_register(r);
			if (ret) {
				err = ret;
				continue;
			}
			mine |= BIT(i);
		} else if (shared && r->ip) {
			mine |= BIT(i);
		}
		n++;
	}
	if (!n && !err)
		err = -ENOENT;
	if (err)
		ephport_redirect_disarm(mine, shared);
	if (!err) {
		WRITE_ONCE(ephport_redirect_armed, true);
		pr_info("random mode: %d of %zu port choices steered%s, until unload\n",
			n, EPHPORT_NREDIRECTS,
			ephport_shared_registered ? " (one ftrace_ops)" : "");
	}
out:
	mutex_unlock(&ephport_redirect_lock);
	return err && err != -EPERM ? -EBUSY : err;
}

/*
 * The host allows tenants random mode, or no longer does. Allowing
 * registers the redirects now (the caller needs CAP_SYS_ADMIN), or fails
 * changing nothing; disallowing refuses later switches only. May sleep.
 */
int ephport_redirect_set_tenants(bool allow)
{
	int ret = 0;

	if (allow)
		ret = ephport_redirect_arm();
	mutex_lock(&ephport_redirect_lock);
	if (allow && !ret && ephport_redirect_closed)	/* unload came */
		ret = -ENODEV;
	if (!ret)
		WRITE_ONCE(ephport_redirect_tenants, allow);
	mutex_unlock(&ephport_redirect_lock);
	return ret;
}

/* Whether a tenant may switch to random mode: allowed, and armed. */
bool ephport_redirect_tenants_allowed(void)
{
	return READ_ONCE(ephport_redirect_tenants) &&
	       READ_ONCE(ephport_redirect_armed);
}

static const struct ephport_steer_ops ephport_steer_ops = {
	.arm = ephport_redirect_arm,
};

/*
 * Finds which functions this kernel has; registers nothing: that waits
 * for the host's first switch to random mode, so that observe mode does
 * not pay for random mode's ftrace_ops on every bind and connect.
 */
int ephport_redirect_init(void)
{
	char name[KSYM_NAME_LEN];
	int i, ret, n = 0;

	for (i = 0; i < EPHPORT_NREDIRECTS; i++) {
		struct ephport_redirect *r = &ephport_redirects[i];

		ephport_ops_init(&r->ops);
		strscpy(name, r->symbol, sizeof(name));
		ret = ftrace_set_filter(&r->ops, name, strlen(name), 0);
		if (ret) {
			ephport_redirect_set(r, EPHPORT_REDIRECT_UNSUPPORTED, ret);
			ftrace_free_filter(&r->ops);
			pr_warn("%s: not on this kernel (%d): not steered\n",
				r->symbol, ret);
			continue;
		}
		ephport_redirect_set(r, EPHPORT_REDIRECT_STANDBY, 0);
		n++;
	}
	ephport_random_set_steer(&ephport_steer_ops);
	pr_info("random mode: %d of %zu port choices can be steered, from the host's first switch to random mode\n",
		n, EPHPORT_NREDIRECTS);
	return 0;
}

void ephport_redirect_uninit(void)
{
	int i;

	ephport_random_set_steer(NULL);
	mutex_lock(&ephport_redirect_lock);
	ephport_redirect_closed = true;
	WRITE_ONCE(ephport_redirect_armed, false);
	WRITE_ONCE(ephport_redirect_tenants, false);
	/* No new redirect once this returns (ftrace waits for handlers). */
	if (ephport_shared_registered)
		unregister_ftrace_function(&ephport_shared_ops);
	if (ephport_shared_tried)
		ftrace_free_filter(&ephport_shared_ops);
	ephport_shared_registered = false;
	ephport_shared_tried = false;
	for (i = EPHPORT_NREDIRECTS - 1; i >= 0; i--) {
		struct ephport_redirect *r = &ephport_redirects[i];

		if (r->state == EPHPORT_REDIRECT_REGISTERED && !r->ip)
			unregister_ftrace_function(&r->ops);
		if (r->state != EPHPORT_REDIRECT_UNSUPPORTED)
			ftrace_free_filter(&r->ops);
		ephport_redirect_set(r, EPHPORT_REDIRECT_UNSUPPORTED, 0);
		r->ip = 0;
	}
	mutex_unlock(&ephport_redirect_lock);
	ephport_steer_drain();
}
