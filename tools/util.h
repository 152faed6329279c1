/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephportstat: what every part uses and that calls no part: error messages
 * and the paths of the files read (the fields' file names, ep_field_files,
 * are declared with the fields in ephportstat.h).
 */
#ifndef _EPHPORTSTAT_UTIL_H
#define _EPHPORTSTAT_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* ephport's tree, under ep_root, and the reader's own namespace's file. */
#define EP_SYSFS	"/sys/kernel/ephport"
#define EP_PROC		"/proc/net/ephport"

/* Prefix of every path read, for a fake tree in tests ("" normally). */
extern const char *ep_root;

/* path = ep_root + fmt...; 0, or -1 if it does not fit (said). */
int ep_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The namespace inode a /proc/PID/ns/net link (path, under ep_root)
 * names; 0 if none (errno says why).
 */
unsigned long ep_link_inum(const char *path);

/* The namespace inode of process pid (/proc/PID/ns/net); 0 if none. */
unsigned long ep_pid_inum(int pid);

/* "ephportstat: <message>" on stderr, after whatever stdout holds. */
void ep_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * on: a message the same as the last one said is not said again (a
 * long-running writer's journal gets each trouble once); either way the
 * memory of the last one is cleared.
 */
void ep_err_quiet_repeats(bool on);

#endif /* _EPHPORTSTAT_UTIL_H */
