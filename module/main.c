// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: make ephemeral ports visible and safer.
 *
 * Set up from the bottom: each namespace's state (netns.h), then the
 * interfaces that show and set it (interfaces.h), then the hooks that
 * feed it (hooks.h); and last the state is told what the hooks can see,
 * and counts what was bound before them. Exit is the mirror. The layers
 * and what each may call: module/layers, checked by make style.
 */
#include <linux/module.h>

#include "hooks.h"
#include "interfaces.h"
#include "netns.h"
#include "random_mode.h"
#include "redirect.h"

static int __init ephport_init(void)
{
	struct ephport_netns_env env;
	int ret;

	ret = ephport_netns_init();
	if (ret) {
		pr_err("cannot register the per-namespace state: %d\n", ret);
		return ret;
	}
	ret = ephport_sysfs_init();
	if (ret) {
		pr_err("cannot create /sys/kernel/ephport: %d\n", ret);
		goto err_netns;
	}
	ret = ephport_procfs_init();
	if (ret) {
		pr_err("cannot create /proc/net/ephport: %d\n", ret);
		goto err_sysfs;
	}
	ret = ephport_sysctl_init();
	if (ret) {
		pr_err("cannot register net.ephport: %d\n", ret);
		goto err_procfs;
	}
	ret = ephport_redirect_init();
	if (ret)
		goto err_sysctl;
	ret = ephport_hooks_init();
	if (ret)
		goto err_redirect;
	/* mode=random given at load: its redirects now, or no load. */
	if (ephport_default_mode == EPHPORT_MODE_RANDOM) {
		ret = ephport_random_steer();
		if (ret) {
			pr_err("mode=random: random mode is unavailable (%d), see /sys/kernel/ephport/redirects\n",
			       ret);
			goto err_hooks;
		}
	}
	/* tenant_random=1 given at load: the redirects now, or no load. */
	if (ephport_param_tenant_random) {
		ret = ephport_redirect_set_tenants(true);
		if (ret) {
			pr_err("tenant_random=1: random mode is unavailable (%d), see /sys/kernel/ephport/redirects\n",
			       ret);
			goto err_hooks;
		}
	}
	ephport_hooks_env(&env);
	ephport_netns_start(&env);
	/* Its writes kick the state's work: after start, gone before stop. */
	ephport_debugfs_init();
	pr_info("version %s loaded\n", EPHPORT_VERSION);
	return 0;

err_hooks:
	ephport_hooks_uninit();
err_redirect:
	ephport_redirect_uninit();
err_sysctl:
	ephport_sysctl_uninit();
err_procfs:
	ephport_procfs_uninit();
err_sysfs:
	ephport_sysfs_uninit();
err_netns:
	ephport_netns_uninit();
	return ret;
}

static void __exit ephport_exit(void)
{
	ephport_debugfs_uninit();
	ephport_netns_stop();
	ephport_hooks_uninit();
	ephport_redirect_uninit();
	ephport_sysctl_uninit();
	ephport_procfs_uninit();
	ephport_sysfs_uninit();
	ephport_netns_uninit();
	pr_info("unloaded\n");
}

module_init(ephport_init);
module_exit(ephport_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Ephemeral port usage per network namespace, and randomized port allocation with reuse delay");
MODULE_AUTHOR("The ephport developers");
MODULE_VERSION(EPHPORT_VERSION);
