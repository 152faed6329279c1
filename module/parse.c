// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the parsing of every control, part of the pure core (core.h).
 * Each function accepts one value, with one trailing newline, and leaves
 * its result alone on anything else.
 */
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <kunit/visibility.h>

#include "core.h"

/* alarm_pct: a decimal integer 1..100. */
int ephport_parse_pct(const char *buf, u32 *pct)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(buf, 10, &v);
	if (ret)
		return -EINVAL;
	if (v < 1 || v > 100)
		return -EINVAL;
	*pct = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_pct);

/* *_peak: only "0" (resetting) is accepted. */
int ephport_parse_peak_reset(const char *buf)
{
	unsigned int v;

	if (kstrtouint(buf, 10, &v) || v)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_peak_reset);

static const char *const ephport_mode_names[] = {
	[EPHPORT_MODE_DEFAULT] = "default",
	[EPHPORT_MODE_OBSERVE] = "observe",
	[EPHPORT_MODE_RANDOM] = "random",
};

const char *ephport_mode_name(enum ephport_mode mode)
{
	if ((unsigned int)mode >= ARRAY_SIZE(ephport_mode_names))
		return "?";
	return ephport_mode_names[mode];
}
EXPORT_SYMBOL_IF_KUNIT(ephport_mode_name);

/* One of the words, exactly, with one trailing newline allowed. */
int ephport_parse_mode(const char *buf, bool allow_default,
		       enum ephport_mode *mode)
{
	int m;

	for (m = 0; m < ARRAY_SIZE(ephport_mode_names); m++) {
		if (m == EPHPORT_MODE_DEFAULT && !allow_default)
			continue;
		if (sysfs_streq(buf, ephport_mode_names[m])) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_mode);

/* A decimal 0..600000 (or -1 with @allow_follow), one newline allowed. */
int ephport_parse_delay(const char *buf, bool allow_follow, int *ms)
{
	int v;

	if (kstrtoint(buf, 10, &v))
		return -EINVAL;
	if (v == EPHPORT_DELAY_FOLLOW && allow_follow) {
		*ms = v;
		return 0;
	}
	if (v < 0 || v > EPHPORT_DELAY_MAX_MS)
		return -EINVAL;
	*ms = v;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_delay);

static const char *const ephport_basis_names[] = {
	[EPHPORT_BASIS_PORTS] = "ports",
	[EPHPORT_BASIS_DEST] = "dest",
};

const char *ephport_basis_name(enum ephport_basis basis)
{
	if ((unsigned int)basis >= ARRAY_SIZE(ephport_basis_names))
		return "?";
	return ephport_basis_names[basis];
}
EXPORT_SYMBOL_IF_KUNIT(ephport_basis_name);

/* "ports" or "dest", exactly, with one trailing newline allowed. */
int ephport_parse_basis(const char *buf, enum ephport_basis *basis)
{
	int b;

	for (b = 0; b < ARRAY_SIZE(ephport_basis_names); b++) {
		if (sysfs_streq(buf, ephport_basis_names[b])) {
			*basis = b;
			return 0;
		}
	}
	return -EINVAL;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_basis);

/* tenant_random: "0" or "1", exactly, with one trailing newline allowed. */
int ephport_parse_switch(const char *buf, bool *on)
{
	if (sysfs_streq(buf, "0"))
		*on = false;
	else if (sysfs_streq(buf, "1"))
		*on = true;
	else
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_switch);

/*
 * The offset in @buf, sprint_symbol()'s "name+0xoff/0xsize" for an
 * address in the kernel's own text, of a location in the function
 * @symbol: 0, else -EINVAL (another symbol, a part of it such as
 * "name.cold", a module's with " [module]" after it, an offset outside
 * the function, anything else).
 */
int ephport_parse_symbol_offset(const char *buf, const char *symbol,
				unsigned long *off)
{
	size_t len = strlen(symbol);
	unsigned long o, size;
	const char *slash;
	char num[24];

	if (strncmp(buf, symbol, len) || buf[len] != '+')
		return -EINVAL;
	buf += len + 1;
	slash = strchr(buf, '/');
	if (!slash || slash - buf >= sizeof(num))
		return -EINVAL;
	memcpy(num, buf, slash - buf);
	num[slash - buf] = '\0';
	if (kstrtoul(num, 16, &o) || kstrtoul(slash + 1, 16, &size) ||
	    o >= size)
		return -EINVAL;
	*off = o;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(ephport_parse_symbol_offset);
