// SPDX-License-Identifier: GPL-2.0
/*
 * ipmodify_user: another user of a function's IP-modifying ftrace slot,
 * for ephport's selftests.
 *
 * It registers an ftrace_ops with FTRACE_OPS_FL_SAVE_REGS and
 * FTRACE_OPS_FL_IPMODIFY on one function, as livepatch does, and its
 * callback changes nothing. The kernel allows one such ops per function:
 * loaded first, it makes ephport's redirect of that function fail to
 * register; loaded after ephport, its own registration fails (-EBUSY) and
 * so does its load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/string.h>

static char *func = "inet_csk_get_port";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "the function to hold (default inet_csk_get_port)");

static void ipmodify_user_call(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops ipmodify_user_ops = {
	.func = ipmodify_user_call,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static int __init ipmodify_user_init(void)
{
	int err;

	err = ftrace_set_filter(&ipmodify_user_ops, func, strlen(func), 0);
	if (err) {
		pr_err("no ftrace site for %s: %d\n", func, err);
		return err;
	}
	err = register_ftrace_function(&ipmodify_user_ops);
	if (err) {
		pr_err("cannot take %s: %d\n", func, err);
		ftrace_free_filter(&ipmodify_user_ops);
		return err;
	}
	pr_info("holds the IP-modifying slot of %s\n", func);
	return 0;
}

static void __exit ipmodify_user_exit(void)
{
	unregister_ftrace_function(&ipmodify_user_ops);
	ftrace_free_filter(&ipmodify_user_ops);
}

module_init(ipmodify_user_init);
module_exit(ipmodify_user_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("An IP-modifying ftrace_ops on one function, for ephport's selftests");
