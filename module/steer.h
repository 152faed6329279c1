/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the steered call, our functions in place of the kernel's
 * port choice (steer.c), for the redirects (redirect.c) and the hooks.
 */
#ifndef _EPHPORT_STEER_H
#define _EPHPORT_STEER_H

#include "state.h"

struct inet_timewait_death_row;
struct sock;

bool ephport_net_steering(struct ephport_net *en, const struct sock *sk);

/* In place of inet_hash_connect(), inet6_hash_connect(), and the two binds. */
int ephport_hash_connect4(struct inet_timewait_death_row *death_row,
			  struct sock *sk);
int ephport_hash_connect6(struct inet_timewait_death_row *death_row,
			  struct sock *sk);
int ephport_tcp_get_port(struct sock *sk, unsigned short snum);
int ephport_udp_get_port(struct sock *sk, unsigned short snum,
			 unsigned int hash2_nulladdr);

int ephport_steer_prepare(unsigned long connect_ip, unsigned long udp_ip);
void ephport_steer_drain(void);

#endif /* _EPHPORT_STEER_H */
