// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: /sys/kernel/debug/ephport/, for tests and debugging (not ABI).
 *
 *   pass	write-only, root's (debugfs' own rules): any write asks the
 *		work for a pass over the host's tables, as a missed event
 *		would. Passes still come at most once a second.
 *
 * A pass is otherwise rare where every hook is in place and none missed
 * an event; this lets a test read a namespace's values while passes run
 * (a pass must not show readers a half-made count). Without debugfs the
 * directory is simply not there.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>

#include "interfaces.h"
#include "netns.h"
#include "pass.h"

static struct dentry *ephport_debugfs_dir;	/* /sys/kernel/debug/ephport/ */

static ssize_t ephport_debugfs_pass_write(struct file *file,
					  const char __user *buf, size_t len,
					  loff_t *ppos)
{
	ephport_pass_request();
	ephport_netns_kick();
	return len;
}

static const struct file_operations ephport_debugfs_pass_fops = {
	.owner = THIS_MODULE,
	.write = ephport_debugfs_pass_write,
	.llseek = noop_llseek,
};

/* Failures are not errors: debugfs is optional (as its API expects). */
void ephport_debugfs_init(void)
{
	ephport_debugfs_dir = debugfs_create_dir("ephport", NULL);
	debugfs_create_file("pass", 0200, ephport_debugfs_dir, NULL,
			    &ephport_debugfs_pass_fops);
}

void ephport_debugfs_uninit(void)
{
	debugfs_remove_recursive(ephport_debugfs_dir);
	ephport_debugfs_dir = NULL;
}
