// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the module parameters, an interface to the state: the global
 * settings at load (read-only afterwards; /sys/kernel/ephport/ changes
 * them).
 *
 *   mode=observe|random	the default of every namespace
 *   reuse_delay_ms=0..600000	how long a released port rests
 */
#include <linux/moduleparam.h>
#include <linux/kernel.h>

#include "netns.h"

static int ephport_param_mode_set(const char *val,
				  const struct kernel_param *kp)
{
	enum ephport_mode m;

	if (!val || ephport_parse_mode(val, false, &m))
		return -EINVAL;
	/* Before the module's init: no namespace to update yet. */
	return ephport_set_default_mode(m);
}

static int ephport_param_mode_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 ephport_mode_name(READ_ONCE(ephport_default_mode)));
}

static const struct kernel_param_ops ephport_mode_param_ops = {
	.set = ephport_param_mode_set,
	.get = ephport_param_mode_get,
};

module_param_cb(mode, &ephport_mode_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(mode, "string");
MODULE_PARM_DESC(mode, "Default port selection of every namespace: observe (the kernel chooses, default) or random (ephport chooses, with a reuse delay)");

static int ephport_param_delay_set(const char *val,
				   const struct kernel_param *kp)
{
	int ms;

	if (!val || ephport_parse_delay(val, false, &ms))
		return -EINVAL;
	ephport_set_default_delay(ms);
	return 0;
}

static int ephport_param_delay_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n",
			 READ_ONCE(ephport_default_delay_ms));
}

static const struct kernel_param_ops ephport_delay_param_ops = {
	.set = ephport_param_delay_set,
	.get = ephport_param_delay_get,
};

module_param_cb(reuse_delay_ms, &ephport_delay_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(reuse_delay_ms, "uint");
MODULE_PARM_DESC(reuse_delay_ms, "Default time in ms a released port rests before random mode hands it out again: 0..600000, default 60000");
