/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: random mode's redirects of the kernel's port choice
 * (redirect.c), for the module's init and exit, the redirects file, and
 * the host's permission for tenants to use random mode (tenant_random).
 */
#ifndef _EPHPORT_REDIRECT_H
#define _EPHPORT_REDIRECT_H

#include <linux/types.h>

int ephport_redirect_init(void);
void ephport_redirect_uninit(void);
int ephport_redirect_show(char *buf);
int ephport_redirect_set_tenants(bool allow);
bool ephport_redirect_tenants_allowed(void);

#endif /* _EPHPORT_REDIRECT_H */
