/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: random mode's redirects of the kernel's port choice
 * (redirect.c), for the module's init and exit and the redirects file.
 */
#ifndef _EPHPORT_REDIRECT_H
#define _EPHPORT_REDIRECT_H

int ephport_redirect_init(void);
void ephport_redirect_uninit(void);
int ephport_redirect_show(char *buf);

#endif /* _EPHPORT_REDIRECT_H */
