// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: make ephemeral ports visible and safer.
 */
#include <linux/module.h>

#include "ephport.h"
#include "random.h"

static int __init ephport_init(void)
{
	int ret;

	ret = ephport_sysfs_init();
	if (ret) {
		pr_err("cannot create /sys/kernel/ephport: %d\n", ret);
		return ret;
	}
	ret = ephport_netns_init();
	if (ret) {
		pr_err("cannot register the per-namespace state: %d\n", ret);
		goto err_sysfs;
	}
	ret = ephport_ctl_init();
	if (ret) {
		pr_err("cannot set up random mode's controls: %d\n", ret);
		goto err_netns;
	}
	/*
	 * Random mode's kprobes before the observe hooks: where those are
	 * kretprobes on the same functions (6.1), the kernel puts a kprobe
	 * that joins an existing one first in line, and the observe hook
	 * must see a call before the redirect ends the line.
	 */
	ephport_redirect_init();
	ret = ephport_probes_init();
	if (ret)
		goto err_redirect;
	/* Count what was bound before the hooks were in place. */
	ephport_netns_start();
	pr_info("version %s loaded\n", EPHPORT_VERSION);
	return 0;

err_redirect:
	ephport_redirect_uninit();
	ephport_ctl_uninit();
err_netns:
	ephport_netns_uninit();
err_sysfs:
	ephport_sysfs_uninit();
	return ret;
}

static void __exit ephport_exit(void)
{
	ephport_redirect_uninit();
	ephport_probes_uninit();
	ephport_ctl_uninit();
	ephport_netns_uninit();
	ephport_sysfs_uninit();
	pr_info("unloaded\n");
}

module_init(ephport_init);
module_exit(ephport_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Ephemeral port usage per network namespace, and randomized port allocation with reuse delay");
MODULE_AUTHOR("The ephport developers");
MODULE_VERSION(EPHPORT_VERSION);
