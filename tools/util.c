// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: error messages, paths and the fields' file names, for every
 * other part.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "ephportstat.h"
#include "util.h"

const char *ep_root = "";

#define EP_FIELD_FILE(id, file)	[EP_##id] = #file,
const char *const ep_field_files[EP_NFIELDS] = {
	EP_STATE_FIELDS(EP_FIELD_FILE)
#define EPHPORT_OBSERVE_COUNTER(id, name)	EP_FIELD_FILE(id, name)
#define EPHPORT_RANDOM_COUNTER(id, name)	EP_FIELD_FILE(id, name)
#include "../module/ephport_counters.h"
};

int ep_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, size, "%s", ep_root);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= size) {
		ep_err("path too long: %s", buf);
		return -1;
	}
	return 0;
}

unsigned long ep_link_inum(const char *path)
{
	char buf[64], c;
	unsigned long inum;
	ssize_t n;

	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "net:[%lu]%c", &inum, &c) != 1) {
		errno = EINVAL;
		return 0;
	}
	return inum;
}

void ep_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ephportstat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
