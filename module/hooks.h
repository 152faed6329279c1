/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephport: the hooks, the glue between the kernel's port functions and
 * each namespace's state.
 *
 *   hooks.c		the hook table: what each probed function means
 *			(this header)
 *   hooks_fprobe.c	registering them as fprobes (kernels with fprobe)
 *   hooks_kretprobe.c	as kretprobes and ftrace_ops (kernels without);
 *			the table's types and theirs: hooks_backend.h
 *   redirect.c		random mode's redirect of the port choice
 *			(redirect.h)
 */
#ifndef _EPHPORT_HOOKS_H
#define _EPHPORT_HOOKS_H

#include "hooks_backend.h"

struct ephport_netns_env;

/* ---- hooks.c ---- */

int ephport_hooks_init(void);
void ephport_hooks_uninit(void);
void ephport_hooks_env(struct ephport_netns_env *env);
int ephport_hooks_show(char *buf);
unsigned long ephport_hook_ip(enum ephport_hook_id id);

#endif /* _EPHPORT_HOOKS_H */
