// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_settle: waits until the kernel has torn down every network
 * namespace released before it started, while ephport is loaded; at most
 * 30 s for each of the two namespaces it releases to find out. The shell
 * tests (lib.sh, before an rmmod) and the benchmark (bench/run.sh) run it;
 * the C tests call the same function, ep_settle_netns() in ephport_test.h,
 * which says why an unload waits for it.
 *
 * Exits 0 whether or not the wait ended before its time limit, as the
 * function returns nothing: an unload goes ahead either way.
 */
#define _GNU_SOURCE
#include "ephport_test.h"

int main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", argv[0]);
		return 2;
	}
	ep_settle_netns();
	return 0;
}
