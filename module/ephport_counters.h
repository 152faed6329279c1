/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the per-namespace event counters, each named once.
 *
 * The one list: the module builds its enums, names and files from it, and
 * tools/ and the C selftests include it to know the same names. It holds
 * nothing but the list, so that kernel and user space can both include it.
 *
 * Define EPHPORT_OBSERVE_COUNTER(ID, name) and/or
 * EPHPORT_RANDOM_COUNTER(ID, name), then include this file; it may be
 * included any number of times, and undefines both at its end. ID becomes
 * EPHPORT_<ID> in the module; name is the file in
 * /sys/kernel/ephport/net/<inum>/ and the key in /proc/net/ephport, whose
 * lines come in this order.
 */
#ifndef EPHPORT_OBSERVE_COUNTER
#define EPHPORT_OBSERVE_COUNTER(...)
#endif
#ifndef EPHPORT_RANDOM_COUNTER
#define EPHPORT_RANDOM_COUNTER(...)
#endif

/* Observe mode: what the hooks see, in every namespace. */
EPHPORT_OBSERVE_COUNTER(TCP_CONNECT_OK, tcp_connect_ok)
EPHPORT_OBSERVE_COUNTER(TCP_CONNECT_FAIL, tcp_connect_fail)
EPHPORT_OBSERVE_COUNTER(TCP_BIND_OK, tcp_bind_ok)
EPHPORT_OBSERVE_COUNTER(TCP_BIND_FAIL, tcp_bind_fail)
EPHPORT_OBSERVE_COUNTER(UDP_OK, udp_ok)
EPHPORT_OBSERVE_COUNTER(UDP_FAIL, udp_fail)
EPHPORT_OBSERVE_COUNTER(SELF_CONNECT, self_connect)

/*
 * Random mode: what ephport's own choices came to. Every call steered
 * ends as exactly one of random_ok, random_lru and random_fallback, and
 * every fallback has exactly one of the three reasons that follow it.
 */
EPHPORT_RANDOM_COUNTER(RANDOM_STEERED, random_steered)
EPHPORT_RANDOM_COUNTER(RANDOM_OK, random_ok)
EPHPORT_RANDOM_COUNTER(RANDOM_LRU, random_lru)
EPHPORT_RANDOM_COUNTER(RANDOM_FALLBACK, random_fallback)
EPHPORT_RANDOM_COUNTER(RANDOM_FALLBACK_FULL, random_fallback_full)
EPHPORT_RANDOM_COUNTER(RANDOM_FALLBACK_REFUSED, random_fallback_refused)
EPHPORT_RANDOM_COUNTER(RANDOM_FALLBACK_UNTRUSTED, random_fallback_untrusted)
EPHPORT_RANDOM_COUNTER(SELF_CONNECT_AVOIDED, self_connect_avoided)
EPHPORT_RANDOM_COUNTER(SELF_CONNECT_REFUSED, self_connect_refused)

#undef EPHPORT_OBSERVE_COUNTER
#undef EPHPORT_RANDOM_COUNTER
