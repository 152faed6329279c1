/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: what differs between the kernels ephport builds for (Debian
 * 12's 6.1 and 6.12, Debian 13 backports' 7.x). Features are detected
 * from the target's headers by Kbuild (EPHPORT_HAVE_*); code outside this
 * file and kernel_fn.c does not look at kernel versions.
 */
#ifndef _EPHPORT_COMPAT_H
#define _EPHPORT_COMPAT_H

#include <net/inet_hashtables.h>
#include <net/net_namespace.h>
#include <net/udp.h>

/* The oldest kernel supported is 6.1: the first with this field. */
#ifndef EPHPORT_HAVE_DEATH_ROW_HASHINFO
#error "ephport needs Linux 6.1 or later (net->ipv4.tcp_death_row.hashinfo)"
#endif

#if !IS_ENABLED(CONFIG_KPROBES) || !IS_ENABLED(CONFIG_KRETPROBES)
#error "ephport needs CONFIG_KPROBES and CONFIG_KRETPROBES"
#endif

/*
 * Not PREEMPT_RT (Debian's linux-image-rt-amd64): spinlock_t sleeps there,
 * and the probe handlers take the namespaces' spinlocks.
 */
#if IS_ENABLED(CONFIG_PREEMPT_RT)
#error "ephport does not support PREEMPT_RT kernels: its probe handlers take spinlocks"
#endif

/* Random mode's redirect: an ftrace_ops that sets the instruction pointer. */
#if !IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_REGS)
#error "ephport needs CONFIG_DYNAMIC_FTRACE_WITH_REGS"
#endif

/*
 * A bind bucket lists its sockets in tb->owners up to 6.1; later kernels
 * list them per address (tb->bhash2, tb2->owners).
 */
#ifndef EPHPORT_HAVE_TB_BHASH2
#define EPHPORT_HAVE_TB_OWNERS 1
#endif

/*
 * The TCP bind hash. Namespaces may have their own established hash
 * (tcp_child_ehash_entries) but always share the bind hash, through
 * tcp_death_row.hashinfo on both kernels.
 */
static inline struct inet_hashinfo *ephport_tcp_hashinfo(const struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/*
 * The UDP table: one global table on 6.1; on 6.12 a namespace may have
 * its own (udp_child_hash_entries), found through net->ipv4.udp_table.
 */
static inline struct udp_table *ephport_udp_table(const struct net *net)
{
#ifdef EPHPORT_HAVE_NETNS_UDP_TABLE
	return net->ipv4.udp_table;
#else
	return &udp_table;
#endif
}

/*
 * Random mode: the socket's IP_LOCAL_PORT_RANGE, "hi << 16 | lo", 0 when
 * unset. A u32 on 6.12, two u16 on Debian's 6.1 (backported).
 */
static inline u32 ephport_sk_port_range(const struct sock *sk)
{
#ifdef EPHPORT_HAVE_SK_PORT_RANGE_U32
	return READ_ONCE(inet_sk(sk)->local_port_range);
#else
	return READ_ONCE(inet_sk(sk)->local_port_range.lo) |
	       (u32)READ_ONCE(inet_sk(sk)->local_port_range.hi) << 16;
#endif
}

static inline void ephport_sk_set_port_range(struct sock *sk, u32 range)
{
#ifdef EPHPORT_HAVE_SK_PORT_RANGE_U32
	WRITE_ONCE(inet_sk(sk)->local_port_range, range);
#else
	WRITE_ONCE(inet_sk(sk)->local_port_range.lo, range & 0xffff);
	WRITE_ONCE(inet_sk(sk)->local_port_range.hi, range >> 16);
#endif
}

/*
 * Puts @saved back in the socket's range if it still holds @ours; false
 * if something else (setsockopt()) changed it meanwhile. 6.12 changes it
 * without the socket lock: compare and exchange. Debian's 6.1 changes it
 * under the socket lock, which the caller holds.
 */
static inline bool ephport_sk_restore_port_range(struct sock *sk, u32 ours,
						 u32 saved)
{
#ifdef EPHPORT_HAVE_SK_PORT_RANGE_U32
	return cmpxchg(&inet_sk(sk)->local_port_range, ours, saved) == ours;
#else
	if (ephport_sk_port_range(sk) != ours)
		return false;
	ephport_sk_set_port_range(sk, saved);
	return true;
#endif
}

/* proc_handler takes a const table from 6.11 on. */
#ifdef EPHPORT_HAVE_CONST_CTL_TABLE
#define EPHPORT_CTL_TABLE const struct ctl_table
#else
#define EPHPORT_CTL_TABLE struct ctl_table
#endif

/*
 * register_net_sysctl() of an allocated table: 6.12 wants its size (and
 * no sentinel), 6.1 the sentinel.
 */
#ifdef EPHPORT_HAVE_REGISTER_NET_SYSCTL_SZ
#define ephport_register_net_sysctl(net, path, table, n) \
	register_net_sysctl_sz(net, path, table, n)
#else
static inline struct ctl_table_header *
ephport_register_net_sysctl(struct net *net, const char *path,
			    struct ctl_table *table, size_t n)
{
	return register_net_sysctl(net, path, table);
}
#endif

/*
 * The per-CPU system workqueue: system_percpu_wq where the kernel names
 * it so (7.x warns on system_wq, kept as its old name; Debian's 6.12.118
 * has both, as two queues), system_wq before. Every work of ephport goes
 * there, never through schedule_*(), so that no work is queued on two
 * queues. Per-CPU, not the unbound system_dfl_wq: steer.c's
 * queue_work_on() must run its item on that very CPU (that CPU has then
 * scheduled).
 */
#ifdef EPHPORT_HAVE_SYSTEM_PERCPU_WQ
#define ephport_percpu_wq system_percpu_wq
#else
#define ephport_percpu_wq system_wq
#endif

/*
 * Random mode's steered call asks the kernel's own port choice again
 * (steer.c): inet_hash_connect() and udp_lib_get_port(). Debian's 6.1
 * and 6.12 export both to modules; its 7.3 exports neither (Kbuild reads
 * the target's Module.symvers). There they are called at their address,
 * found when random mode is first asked for, by static calls (direct
 * calls on x86-64; random mode is refused elsewhere: kernel_fn.c). make
 * EPHPORT_BY_ADDRESS=1 takes that way on any kernel, to test it.
 */
#if defined(EPHPORT_HAVE_EXPORT_INET_HASH_CONNECT) && \
	defined(EPHPORT_HAVE_EXPORT_UDP_LIB_GET_PORT)
static inline int
ephport_kernel_hash_connect4(struct inet_timewait_death_row *death_row,
			     struct sock *sk)
{
	return inet_hash_connect(death_row, sk);
}

static inline int ephport_kernel_udp_get_port(struct sock *sk,
					      unsigned int hash2_nulladdr)
{
	return udp_lib_get_port(sk, 0, hash2_nulladdr);
}

static inline int ephport_kernel_fn_find(unsigned long connect_ip,
					 unsigned long udp_ip)
{
	return 0;
}
#else
#include <linux/static_call.h>

/* Set once by ephport_kernel_fn_find(), before any call can come. */
DECLARE_STATIC_CALL(ephport_inet_hash_connect, inet_hash_connect);
DECLARE_STATIC_CALL(ephport_udp_lib_get_port, udp_lib_get_port);

static inline int
ephport_kernel_hash_connect4(struct inet_timewait_death_row *death_row,
			     struct sock *sk)
{
	return static_call(ephport_inet_hash_connect)(death_row, sk);
}

static inline int ephport_kernel_udp_get_port(struct sock *sk,
					      unsigned int hash2_nulladdr)
{
	return static_call(ephport_udp_lib_get_port)(sk, 0, hash2_nulladdr);
}

int ephport_kernel_fn_find(unsigned long connect_ip, unsigned long udp_ip);
#endif

/*
 * The fprobe backend (hooks_fprobe.c). Up to 6.13 its handlers are given
 * the pt_regs of the call. From 6.14 fprobe runs on the function graph
 * tracer: they are given ftrace_regs, which hold the argument registers
 * at entry and the return value at exit, and a call's entry data lives
 * on the task's shadow stack (no nr_maxactive: no call is missed for
 * want of one).
 */
#if defined(EPHPORT_HAVE_FPROBE_FTRACE_REGS)
#include <linux/fprobe.h>
#include <linux/ftrace.h>

#define EPHPORT_FPROBE_REGS struct ftrace_regs

/* The arguments, as pt_regs (@buf where they cannot be had in place). */
static __always_inline struct pt_regs *
ephport_fprobe_args(struct ftrace_regs *fregs, struct pt_regs *buf)
{
	return ftrace_partial_regs(fregs, buf);
}

static __always_inline unsigned long
ephport_fprobe_retval(struct ftrace_regs *fregs)
{
	return ftrace_regs_get_return_value(fregs);
}

static inline void ephport_fprobe_set_maxactive(struct fprobe *fp, int n)
{
}
#elif defined(EPHPORT_HAVE_FPROBE_PT_REGS)
#include <linux/fprobe.h>
#include <linux/ptrace.h>

#define EPHPORT_FPROBE_REGS struct pt_regs

static __always_inline struct pt_regs *
ephport_fprobe_args(struct pt_regs *regs, struct pt_regs *buf)
{
	return regs;
}

static __always_inline unsigned long ephport_fprobe_retval(struct pt_regs *regs)
{
	return regs_return_value(regs);
}

static inline void ephport_fprobe_set_maxactive(struct fprobe *fp, int n)
{
	fp->nr_maxactive = n;
}
#endif

#endif /* _EPHPORT_COMPAT_H */
