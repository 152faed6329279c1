/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: what ephport reads of a socket's addresses, written once.
 */
#ifndef _EPHPORT_SK_H
#define _EPHPORT_SK_H

#include <net/ipv6.h>
#include <net/sock.h>

/* The socket's destination address; IPv4 as v4-mapped IPv6. */
static inline void ephport_sk_daddr(const struct sock *sk, struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		*a = sk->sk_v6_daddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(sk->sk_daddr, a);
}

/* Source and destination addresses are one: sport == dport would self-connect. */
static inline bool ephport_sk_to_itself(const struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		return ipv6_addr_equal(&sk->sk_v6_rcv_saddr, &sk->sk_v6_daddr);
#endif
	return sk->sk_rcv_saddr == sk->sk_daddr;
}

/* The connected socket's two ends are one address and port. */
static inline bool ephport_sk_self_connected(const struct sock *sk)
{
	return sk->sk_num == ntohs(sk->sk_dport) && ephport_sk_to_itself(sk);
}

#endif /* _EPHPORT_SK_H */
