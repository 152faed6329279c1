/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: a socket of the namespace lets go of a port (release.c).
 */
#ifndef _EPHPORT_RELEASE_H
#define _EPHPORT_RELEASE_H

#include "state.h"

struct hlist_node;
struct sock;

void ephport_net_tcp_left(struct ephport_net *en, u32 port);
void ephport_net_tw_leaving(struct ephport_net *en, u32 port,
			    const struct hlist_node *leaving);
void ephport_net_udp_left(struct ephport_net *en, u32 port);
void ephport_net_tcp_leaving(struct ephport_net *en, u32 port,
			     const struct hlist_node *leaving);
void ephport_net_udp_leaving(struct ephport_net *en, u32 port,
			     const struct sock *leaving);

#endif /* _EPHPORT_RELEASE_H */
