/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the module's tracepoints, in tracefs as events/ephport/ and in
 * perf and bpftrace as ephport:<name>. Disabled, each costs a static
 * branch at its call site (hooks.c) and nothing else: the fields are
 * read only while the event is enabled.
 *
 *   ephport_port_fail	a connect(), bind() to port 0, listen() on an
 *			unbound socket or UDP autobind found no free port
 *   ephport_self_connect	a TCP connect() ended up connected to itself
 *
 * Both name the namespace (its inode number), the calling process (pid,
 * comm, cgroup v2 id, 0 without cgroups) and the socket's destination,
 * when it has one (connect(): the others leave it zero).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ephport

#ifndef _EPHPORT_TRACE_HELPERS
#define _EPHPORT_TRACE_HELPERS

#include <linux/cgroup.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/sched.h>
#include <net/ipv6.h>
#include <net/sock.h>

/* What port_fail was doing. */
enum ephport_trace_op {
	EPHPORT_TRACE_CONNECT,
	EPHPORT_TRACE_BIND,	/* bind(0), listen() unbound, UDP autobind */
};

/* The socket's destination as a sockaddr (IPv4 for a v4-mapped one). */
static inline void ephport_trace_daddr(void *buf, const struct sock *sk)
{
	struct sockaddr_in6 *v6 = buf;
	struct sockaddr_in *v4 = buf;

	memset(buf, 0, sizeof(*v6));
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = sk->sk_v6_daddr;
		v6->sin6_port = sk->sk_dport;
		return;
	}
#endif
	v4->sin_family = AF_INET;
	v4->sin_addr.s_addr = sk->sk_daddr;
	v4->sin_port = sk->sk_dport;
}

/* The calling task's cgroup v2 id, as bpf_get_current_cgroup_id() has it. */
static inline u64 ephport_trace_cgroup(void)
{
#ifdef CONFIG_CGROUPS
	u64 id;

	rcu_read_lock();
	id = cgroup_id(task_dfl_cgroup(current));
	rcu_read_unlock();
	return id;
#else
	return 0;
#endif
}

/* What the events record of the socket and the calling task. */
static inline void ephport_trace_fill(const struct sock *sk, u32 *netns,
				      u16 *family, void *daddr, s32 *pid,
				      char *comm, u64 *cgroup)
{
	*netns = sock_net(sk)->ns.inum;
	*family = sk->sk_family;
	ephport_trace_daddr(daddr, sk);
	*pid = task_tgid_nr(current);
	memcpy(comm, current->comm, TASK_COMM_LEN);
	*cgroup = ephport_trace_cgroup();
}

#endif /* _EPHPORT_TRACE_HELPERS */

#ifdef EPHPORT_NO_TRACE
#ifndef _EPHPORT_TRACE_H
#define _EPHPORT_TRACE_H
/*
 * Built without its tracepoints (make EPHPORT_NO_TRACE=1, Kbuild): the
 * calls compile to nothing, as the kernel's own do without
 * CONFIG_TRACEPOINTS. Only to measure what the tracepoints cost.
 */
static inline void trace_ephport_port_fail(const struct sock *sk, int op)
{
}

static inline void trace_ephport_self_connect(const struct sock *sk, int op)
{
}
#endif /* _EPHPORT_TRACE_H */
#else

#if !defined(_EPHPORT_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _EPHPORT_TRACE_H

#include <linux/tracepoint.h>

/* Both events record the same: the socket, its destination, the task. */
DECLARE_EVENT_CLASS(ephport_sock,
		    TP_PROTO(const struct sock *sk, int op),
		    TP_ARGS(sk, op),
		    TP_STRUCT__entry(__field(u32, netns)
				     __field(u8, op)
				     __field(u8, protocol)
				     __field(u16, family)
				     __array(u8, daddr, sizeof(struct sockaddr_in6))
				     __field(u16, dport)
				     __field(s32, pid)
				     __array(char, comm, TASK_COMM_LEN)
				     __field(u64, cgroup)),
		    TP_fast_assign(ephport_trace_fill(sk, &__entry->netns,
						      &__entry->family, __entry->daddr,
						      &__entry->pid, __entry->comm,
						      &__entry->cgroup);
				   __entry->op = op;
				   __entry->protocol = sk->sk_protocol;
				   __entry->dport = ntohs(sk->sk_dport);),
		    TP_printk("netns=%u op=%s proto=%s family=%s daddr=%pISc dport=%u pid=%d comm=%s cgroup=%llu",
			      __entry->netns,
			      __print_symbolic(__entry->op,
					       { EPHPORT_TRACE_CONNECT, "connect" },
					       { EPHPORT_TRACE_BIND, "bind" }),
			      __print_symbolic(__entry->protocol,
					       { IPPROTO_TCP, "tcp" },
					       { IPPROTO_UDP, "udp" }),
			      __print_symbolic(__entry->family,
					       { AF_INET, "inet" },
					       { AF_INET6, "inet6" }),
			      __entry->daddr, __entry->dport, __entry->pid,
			      __entry->comm, __entry->cgroup)
);

/* No free port for a connect(), bind(0), listen() or UDP autobind. */
DEFINE_EVENT(ephport_sock, ephport_port_fail,
	     TP_PROTO(const struct sock *sk, int op),
	     TP_ARGS(sk, op)
);

/* A TCP connect() connected to itself: daddr and dport are its own. */
DEFINE_EVENT(ephport_sock, ephport_self_connect,
	     TP_PROTO(const struct sock *sk, int op),
	     TP_ARGS(sk, op)
);

#endif /* _EPHPORT_TRACE_H */

/* Out of tree: the header is found through -I (Kbuild, trace.o). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ephport_trace
#include <trace/define_trace.h>

#endif /* EPHPORT_NO_TRACE */
