/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: a socket of the namespace lets go of a port (release.c).
 */
#ifndef _EPHPORT_RELEASE_H
#define _EPHPORT_RELEASE_H

#include "state.h"

struct hlist_node;
struct sock;

void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving, bool locked);
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *sk);

#endif /* _EPHPORT_RELEASE_H */
