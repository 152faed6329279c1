/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: reading the kernel's tables of bound ports (tables.c), for the
 * per-namespace state: the TCP bind hash, shared by every namespace, and
 * the UDP tables.
 */
#ifndef _EPHPORT_TABLES_H
#define _EPHPORT_TABLES_H

#include <net/inet_hashtables.h>
#include <net/udp.h>

#include "core.h"

/* Called for every port found bound, with the port's chain lock held. */
typedef void (*ephport_mark_fn)(const struct net *net,
				enum ephport_proto proto, u32 port);

void ephport_net_range(const struct net *net, u32 *lo, u32 *hi);
struct inet_bind_hashbucket *ephport_tcp_chain(const struct net *net,
					       u32 port);
bool ephport_tcp_held_but(struct inet_bind_hashbucket *head,
			  const struct net *net, u32 port,
			  const struct hlist_node *leaving);
struct udp_hslot *ephport_udp_slot(struct net *net, u32 port);
bool ephport_udp_held(struct udp_hslot *hslot, const struct net *net,
		      u32 port, const struct sock *leaving);
void ephport_walk_tcp(ephport_mark_fn mark);
void ephport_walk_udp(struct udp_table *t, ephport_mark_fn mark);

#endif /* _EPHPORT_TABLES_H */
