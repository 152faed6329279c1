/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the per-namespace event counters, each named once.
 *
 * The one list: the module builds its enums, names and files from it, and
 * tools/ and the C selftests include it to know the same names. It holds
 * nothing but macros, so that both kernel and user space can include it.
 *
 * X(ID, name): ID becomes EPHPORT_<ID> in the module; name is the file in
 * /sys/kernel/ephport/net/<inum>/ and the key in /proc/net/ephport, in
 * this order.
 */
#ifndef _EPHPORT_COUNTERS_H
#define _EPHPORT_COUNTERS_H

/* Observe mode: what the hooks see, in every namespace. */
#define EPHPORT_OBSERVE_COUNTERS(X)				\
	X(TCP_CONNECT_OK, tcp_connect_ok)			\
	X(TCP_CONNECT_FAIL, tcp_connect_fail)			\
	X(TCP_BIND_OK, tcp_bind_ok)				\
	X(TCP_BIND_FAIL, tcp_bind_fail)				\
	X(UDP_OK, udp_ok)					\
	X(UDP_FAIL, udp_fail)					\
	X(SELF_CONNECT, self_connect)

/* Random mode: what ephport's own choices came to. */
#define EPHPORT_RANDOM_COUNTERS(X)				\
	X(RANDOM_OK, random_ok)					\
	X(RANDOM_FALLBACK, random_fallback)			\
	X(RANDOM_FALLBACK_FULL, random_fallback_full)		\
	X(RANDOM_FALLBACK_RESTING, random_fallback_resting)	\
	X(RANDOM_FALLBACK_REFUSED, random_fallback_refused)	\
	X(SELF_CONNECT_AVOIDED, self_connect_avoided)

#endif /* _EPHPORT_COUNTERS_H */
