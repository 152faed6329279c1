// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the module parameters, an interface to the state: the global
 * settings at load (read-only afterwards; /sys/kernel/ephport/ changes
 * them).
 *
 *   mode=observe|random	the default of every namespace
 *   reuse_delay_ms=0..600000	how long a released port rests
 *   alarm_pct=1..100		the share of a range in use that sets alarm
 *   tenant_random=0|1		tenants may switch their namespaces to
 *				random mode (main.c registers the
 *				redirects for it at load)
 */
#include <linux/moduleparam.h>
#include <linux/kernel.h>

#include "alarm.h"
#include "interfaces.h"
#include "netns.h"
#include "redirect.h"

static int ephport_param_mode_set(const char *val,
				  const struct kernel_param *kp)
{
	enum ephport_mode m;

	if (!val || ephport_parse_mode(val, false, &m))
		return -EINVAL;
	/*
	 * Only at load (the parameter is read-only), before the module's
	 * init: no namespace to update yet, and init asks for random
	 * mode's redirects if it is the default.
	 */
	WRITE_ONCE(ephport_default_mode, m);
	return 0;
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

static int ephport_param_pct_set(const char *val,
				 const struct kernel_param *kp)
{
	u32 pct;

	if (!val || ephport_parse_pct(val, &pct))
		return -EINVAL;
	ephport_set_alarm_pct(pct);
	return 0;
}

static int ephport_param_pct_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%u\n", READ_ONCE(ephport_alarm_pct));
}

static const struct kernel_param_ops ephport_pct_param_ops = {
	.set = ephport_param_pct_set,
	.get = ephport_param_pct_get,
};

module_param_cb(alarm_pct, &ephport_pct_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(alarm_pct, "uint");
MODULE_PARM_DESC(alarm_pct, "Share of a namespace's port range in use, in percent, at which its alarm is set: 1..100, default 90");

/* Read by main.c's init only, after the parameters are set. */
bool ephport_param_tenant_random;

static int ephport_param_tenants_set(const char *val,
				     const struct kernel_param *kp)
{
	bool on;

	if (!val || ephport_parse_switch(val, &on))
		return -EINVAL;
	/*
	 * Only at load, before the module's init: the redirects cannot be
	 * registered yet (the hooks find their functions first), so init
	 * registers them and allows tenants, or fails the load.
	 */
	ephport_param_tenant_random = on;
	return 0;
}

static int ephport_param_tenants_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n",
			 ephport_redirect_tenants_allowed());
}

static const struct kernel_param_ops ephport_tenants_param_ops = {
	.set = ephport_param_tenants_set,
	.get = ephport_param_tenants_get,
};

module_param_cb(tenant_random, &ephport_tenants_param_ops, NULL, 0444);
__MODULE_PARM_TYPE(tenant_random, "bool");
MODULE_PARM_DESC(tenant_random, "Let tenants (without CAP_SYS_ADMIN in the initial user namespace) switch their own namespace to random mode: 0 (default) or 1, which registers random mode's redirects at load");
