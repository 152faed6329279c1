// SPDX-License-Identifier: GPL-2.0
/*
 * ephport: the kernel's own port choice where the kernel does not export
 * it (compat.h). Random mode's steered call (steer.c) calls
 * inet_hash_connect() and udp_lib_get_port() again; Debian's 7.3 exports
 * neither, so ephport calls them at their address.
 *
 * Each is found from the ftrace location the hooks resolved for it
 * (kprobes' lookup of the symbol, hooks.c): sprint_symbol() names the
 * function a location is in and the location's offset there. It must be
 * that very symbol, in the kernel's own text, at the offset of an ftrace
 * location (0, or past the ENDBR on IBT kernels); the function starts at
 * the location less the offset. The headers still declare both, so the
 * calls are checked against their prototypes when ephport builds.
 *
 * The calls are static calls: on x86-64 each call site is patched into a
 * direct call to the function. No indirect branch is taken, so neither
 * indirect branch tracking (the kernel seals the ENDBR of functions whose
 * address it never takes, as these two are once unexported) nor kCFI nor
 * retpolines are involved, and the call returns to this module as any
 * direct call does (the redirects let it through). Where static calls are
 * indirect calls (other architectures, whose landing pads are untried
 * here), random mode is refused: the switch fails with EOPNOTSUPP and the
 * log says why.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/static_call.h>
#ifdef CONFIG_X86
#include <asm/ibt.h>
#endif

#include "compat.h"
#include "core.h"

#if !defined(EPHPORT_HAVE_EXPORT_INET_HASH_CONNECT) || \
	!defined(EPHPORT_HAVE_EXPORT_UDP_LIB_GET_PORT)

DEFINE_STATIC_CALL_NULL(ephport_inet_hash_connect, inet_hash_connect);
DEFINE_STATIC_CALL_NULL(ephport_udp_lib_get_port, udp_lib_get_port);

/*
 * Serializes the search and guards its result and ephport_kernel_fn_buf.
 * The static calls are updated (their sites patched, every CPU synced)
 * before the search returns 0; the only calls through them come from
 * calls the redirects send, and the redirects are registered after.
 */
static DEFINE_MUTEX(ephport_kernel_fn_lock);
static bool ephport_kernel_fn_done;	/* searched: the result is final */
static int ephport_kernel_fn_err;
static char ephport_kernel_fn_buf[KSYM_SYMBOL_LEN];

/* The start of the kernel function @symbol from its ftrace location @ip. */
static unsigned long ephport_kernel_fn_start(const char *symbol,
					     unsigned long ip)
{
	unsigned long off;

	sprint_symbol(ephport_kernel_fn_buf, ip);
	if (ephport_parse_symbol_offset(ephport_kernel_fn_buf, symbol, &off) ||
	    (off && off != ENDBR_INSN_SIZE)) {
		pr_err("random mode: %s is not exported, and its ftrace location is %pS\n",
		       symbol, (void *)ip);
		return 0;
	}
	return ip - off;
}

/*
 * Finds both functions from their ftrace locations, @connect_ip and
 * @udp_ip (0: not found yet, try again later), once per load: 0 if
 * random mode can call them, else -EOPNOTSUPP (the log says why, once).
 * May sleep.
 */
int ephport_kernel_fn_find(unsigned long connect_ip, unsigned long udp_ip)
{
	unsigned long hc, gp;
	int err = -EOPNOTSUPP;

	if (!IS_ENABLED(CONFIG_X86_64) || !IS_ENABLED(CONFIG_HAVE_STATIC_CALL)) {
		pr_err_once("random mode: inet_hash_connect and udp_lib_get_port are not exported, and calls at their address are untried on this architecture\n");
		return -EOPNOTSUPP;
	}
	if (!connect_ip || !udp_ip) {
		pr_err_once("random mode: inet_hash_connect or udp_lib_get_port is not exported, and has no ftrace location\n");
		return -EOPNOTSUPP;
	}
	mutex_lock(&ephport_kernel_fn_lock);
	if (ephport_kernel_fn_done) {
		err = ephport_kernel_fn_err;
		goto out;
	}
	hc = ephport_kernel_fn_start("inet_hash_connect", connect_ip);
	gp = ephport_kernel_fn_start("udp_lib_get_port", udp_ip);
	if (hc && gp) {
		typeof(inet_hash_connect) *hash_connect = (void *)hc;
		typeof(udp_lib_get_port) *get_port = (void *)gp;

		static_call_update(ephport_inet_hash_connect, hash_connect);
		static_call_update(ephport_udp_lib_get_port, get_port);
		pr_info("random mode: calls the unexported %ps and %ps at their address\n",
			(void *)hc, (void *)gp);
		err = 0;
	}
	ephport_kernel_fn_err = err;
	ephport_kernel_fn_done = true;
out:
	mutex_unlock(&ephport_kernel_fn_lock);
	return err;
}

#endif
