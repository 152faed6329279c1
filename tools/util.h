/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ephportstat: what every part uses and that calls no part: error messages
 * and the paths of the files read (the fields' file names, ep_field_files,
 * are declared with the fields in ephportstat.h).
 */
#ifndef _EPHPORTSTAT_UTIL_H
#define _EPHPORTSTAT_UTIL_H

#include <stddef.h>

/* ephport's tree, under ep_root. */
#define EP_SYSFS	"/sys/kernel/ephport"

/* Prefix of every path read, for a fake tree in tests ("" normally). */
extern const char *ep_root;

/* path = ep_root + fmt...; 0, or -1 if it does not fit (said). */
int ep_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "ephportstat: <message>" on stderr, after whatever stdout holds. */
void ep_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* _EPHPORTSTAT_UTIL_H */
