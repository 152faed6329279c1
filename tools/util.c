// SPDX-License-Identifier: GPL-2.0
/*
 * ephportstat: error messages, paths and the fields' file names, for every
 * other part.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

/* With quiet_repeats: the last message said, not to be said again. */
static bool quiet_repeats;
static char last_said[512];

void ep_err_quiet_repeats(bool on)
{
	quiet_repeats = on;
	last_said[0] = '\0';
}

unsigned long ep_pid_inum(int pid)
{
	char path[2048];

	if (ep_path(path, sizeof(path), "/proc/%d/ns/net", pid))
		return 0;
	return ep_link_inum(path);
}

void ep_err(const char *fmt, ...)
{
	char msg[sizeof(last_said)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (quiet_repeats && !strcmp(msg, last_said))
		return;
	snprintf(last_said, sizeof(last_said), "%s", msg);
	fflush(stdout);
	fprintf(stderr, "ephportstat: %s\n", msg);
}
