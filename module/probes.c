// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the hooks. One table lists every probe; ephport_probes_init()
 * registers them all, and a symbol the running kernel lacks is reported
 * as unsupported instead of failing the load.
 *
 * Handlers run in atomic context: they never sleep, take no mutex and do
 * not allocate. The functions probed here are not called in hard
 * interrupt context.
 */
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <net/inet_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/udp.h>

#include "compat.h"
#include "ephport.h"

enum ephport_hook {
	EPHPORT_HOOK_CONNECT,		/* TCP connect() autobind, v4 and v6 */
	EPHPORT_HOOK_TCP_BIND,		/* TCP bind()/listen(), port 0 included */
	EPHPORT_HOOK_UDP_BIND,		/* UDP bind() and autobind, v4 and v6 */
	EPHPORT_HOOK_TCP_PUT,		/* a TCP socket lets go of its port */
	EPHPORT_HOOK_TW_UNHASH,		/* a TIME_WAIT socket leaves the bind hash */
	EPHPORT_HOOK_UDP_UNHASH,	/* a UDP socket lets go of its port */
	EPHPORT_NHOOKS,
};

/* What a kretprobe's entry handler leaves for its return handler. */
struct ephport_call {
	struct sock *sk;
	struct net *net;
	u64 start_ns;
	u32 port;
	bool autobind;
};

struct ephport_probe {
	const char *symbol;
	struct kretprobe krp;
	bool registered;	/* written only at init and exit */
};

static struct ephport_probe ephport_probes[EPHPORT_NHOOKS];

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

/* __inet_hash_connect(death_row, sk, port_offset, check_established) */
static int ephport_connect_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct sock *sk = (struct sock *)regs_get_kernel_argument(regs, 1);

	ephport_hit(EPHPORT_HOOK_CONNECT);
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return 1;
	c->sk = sk;
	c->autobind = !inet_sk(sk)->inet_num;
	c->start_ns = ktime_get_mono_fast_ns();
	return 0;
}

static int ephport_connect_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	int ret = (int)regs_return_value(regs);
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
	return 0;
}

/* inet_csk_get_port(sk, snum) and udp_lib_get_port(sk, snum, ...) */
static int ephport_bind_entry(struct kretprobe_instance *ri,
			      struct pt_regs *regs, enum ephport_hook hook,
			      int protocol)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct sock *sk = ephport_arg_sk(regs);

	ephport_hit(hook);
	if (!sk || sk->sk_protocol != protocol)
		return 1;
	c->sk = sk;
	c->autobind = !(u16)regs_get_kernel_argument(regs, 1);
	return 0;
}

/*
 * @no_port: the return value of a search that found no port; 0 when
 * the function does not tell (udp_lib_get_port returns 1 on 6.1).
 */
static void ephport_bind_ret(struct kretprobe_instance *ri,
			     struct pt_regs *regs, enum ephport_proto proto,
			     enum ephport_counter ok, enum ephport_counter fail,
			     int no_port)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	int ret = (int)regs_return_value(regs);
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

static int ephport_tcp_bind_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	return ephport_bind_entry(ri, regs, EPHPORT_HOOK_TCP_BIND,
				  IPPROTO_TCP);
}

static int ephport_tcp_bind_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	ephport_bind_ret(ri, regs, EPHPORT_TCP, EPHPORT_TCP_BIND_OK,
			 EPHPORT_TCP_BIND_FAIL, -EADDRINUSE);
	return 0;
}

static int ephport_udp_bind_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	return ephport_bind_entry(ri, regs, EPHPORT_HOOK_UDP_BIND,
				  IPPROTO_UDP);
}

static int ephport_udp_bind_ret(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	ephport_bind_ret(ri, regs, EPHPORT_UDP, EPHPORT_UDP_OK,
			 EPHPORT_UDP_FAIL, 0);
	return 0;
}

/*
 * inet_put_port(sk) and udp_lib_unhash(sk): the port is read on entry
 * (both functions zero inet_num), the release is judged on return.
 */
static int ephport_put_entry(struct kretprobe_instance *ri,
			     struct pt_regs *regs, enum ephport_hook hook,
			     int protocol)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct sock *sk = ephport_arg_sk(regs);

	ephport_hit(hook);
	if (!sk || sk->sk_protocol != protocol || !inet_sk(sk)->inet_num)
		return 1;
	c->net = sock_net(sk);
	c->port = inet_sk(sk)->inet_num;
	return 0;
}

static void ephport_put_ret(struct kretprobe_instance *ri,
			    enum ephport_proto proto)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(c->net);
	if (en)
		ephport_net_released(en, proto, c->port);
	rcu_read_unlock();
}

static int ephport_tcp_put_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	return ephport_put_entry(ri, regs, EPHPORT_HOOK_TCP_PUT, IPPROTO_TCP);
}

static int ephport_tcp_put_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	ephport_put_ret(ri, EPHPORT_TCP);
	return 0;
}

static int ephport_udp_put_entry(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	return ephport_put_entry(ri, regs, EPHPORT_HOOK_UDP_UNHASH,
				 IPPROTO_UDP);
}

static int ephport_udp_put_ret(struct kretprobe_instance *ri,
			       struct pt_regs *regs)
{
	ephport_put_ret(ri, EPHPORT_UDP);
	return 0;
}

/*
 * inet_twsk_bind_unhash(tw, hashinfo): a TIME_WAIT socket leaves the bind
 * hash (it expired, or connect() reused its 4-tuple). Its caller holds
 * the port's bind hash chain lock, before and after.
 */
static int ephport_tw_entry(struct kretprobe_instance *ri,
			    struct pt_regs *regs)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct inet_timewait_sock *tw;

	ephport_hit(EPHPORT_HOOK_TW_UNHASH);
	tw = (struct inet_timewait_sock *)regs_get_kernel_argument(regs, 0);
	if (!tw || !tw->tw_tb)
		return 1;
	c->net = twsk_net(tw);
	c->port = tw->tw_num;
	return 0;
}

static int ephport_tw_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ephport_call *c = (struct ephport_call *)ri->data;
	struct ephport_net *en;

	rcu_read_lock();
	en = ephport_net_get(c->net);
	if (en)
		ephport_net_released_locked(en, c->port);
	rcu_read_unlock();
	return 0;
}

#define EPHPORT_KRETPROBE(_hook, _sym, _entry, _ret)			\
	[_hook] = {							\
		.symbol = _sym,						\
		.krp = {						\
			.entry_handler = _entry,			\
			.handler = _ret,				\
			.data_size = sizeof(struct ephport_call),	\
		},							\
	}

static struct ephport_probe ephport_probes[EPHPORT_NHOOKS] = {
	EPHPORT_KRETPROBE(EPHPORT_HOOK_CONNECT, "__inet_hash_connect",
			  ephport_connect_entry, ephport_connect_ret),
	EPHPORT_KRETPROBE(EPHPORT_HOOK_TCP_BIND, "inet_csk_get_port",
			  ephport_tcp_bind_entry, ephport_tcp_bind_ret),
	EPHPORT_KRETPROBE(EPHPORT_HOOK_UDP_BIND, "udp_lib_get_port",
			  ephport_udp_bind_entry, ephport_udp_bind_ret),
	EPHPORT_KRETPROBE(EPHPORT_HOOK_TCP_PUT, "inet_put_port",
			  ephport_tcp_put_entry, ephport_tcp_put_ret),
	EPHPORT_KRETPROBE(EPHPORT_HOOK_TW_UNHASH, "inet_twsk_bind_unhash",
			  ephport_tw_entry, ephport_tw_ret),
	EPHPORT_KRETPROBE(EPHPORT_HOOK_UDP_UNHASH, "udp_lib_unhash",
			  ephport_udp_put_entry, ephport_udp_put_ret),
};

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

static unsigned long ephport_probe_missed(const struct ephport_probe *p)
{
	if (!p->registered)
		return 0;
	/* Entry hits skipped (recursion), and returns not seen (no slot). */
	return p->krp.kp.nmissed + p->krp.nmissed;
}

unsigned long ephport_probes_missed(void)
{
	unsigned long sum = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++)
		sum += ephport_probe_missed(&ephport_probes[i]);
	return sum;
}

/* /sys/kernel/ephport/probes */
int ephport_probes_show(char *buf)
{
	int len = 0;
	int i;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		const struct ephport_probe *p = &ephport_probes[i];

		len += sysfs_emit_at(buf, len, "%s %s hits=%lu nmissed=%lu\n",
				     p->symbol,
				     p->registered ? "registered" : "unsupported",
				     ephport_probe_hits(i),
				     ephport_probe_missed(p));
	}
	return len;
}

static int ephport_probe_register(struct ephport_probe *p)
{
	p->krp.kp.symbol_name = p->symbol;
	/* __inet_hash_connect and UDP autobind may sleep. */
	p->krp.maxactive = max_t(int, 64, 4 * num_possible_cpus());
	return register_kretprobe(&p->krp);
}

int ephport_probes_init(void)
{
	int registered = 0;
	int i, ret;

	for (i = 0; i < EPHPORT_NHOOKS; i++) {
		struct ephport_probe *p = &ephport_probes[i];

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
	return 0;
}

void ephport_probes_uninit(void)
{
	int i;

	for (i = EPHPORT_NHOOKS - 1; i >= 0; i--) {
		struct ephport_probe *p = &ephport_probes[i];

		if (!p->registered)
			continue;
		unregister_kretprobe(&p->krp);
		p->registered = false;
	}
}
