// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_stress_heavy: 4 namespaces at full speed, the server resetting
 * half of the connections (releases from softirq): no hook misses an
 * event and every counter equals what the namespace did; in random mode
 * the reuse delay holds as well.
 *
 * Figures (Debian's kernels, then the KASAN kernel, where everything is
 * several times slower; the variable sets it):
 *   EPHPORT_OPS      rounds per heavy worker           400 (debug 60)
 * The test prints the figures it used.
 */
#define _GNU_SOURCE
#include "ephport_stress.h"

/* ---- heavy load: no misses, exact counters, reuse delay ---- */

FIXTURE(heavy) {
	struct workers *ws;
};

WORKERS_VARIANTS(heavy);

FIXTURE_SETUP(heavy)
{
	self->ws = NULL;
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	self->ws = workers_map();
	ASSERT_NE(NULL, self->ws);
}

FIXTURE_TEARDOWN(heavy)
{
	workers_unmap(self->ws);
}

TEST_F_TIMEOUT(heavy, counters_exact_no_misses, 240)
{
	struct worker_cfg cfg = {
		.lo = 40000, .hi = variant->random ? 40999 : 49999,
		.rounds = ep_figure("EPHPORT_OPS", 400, 60),
		.random = variant->random, .delay_ms = 500,
	};
	long missed0, missed, checked = 0, violations = 0;
	double t0 = ep_now();
	int i, err;

	missed0 = ep_probes_missed();
	ASSERT_LE(0, missed0) TH_LOG("read %s/probes", EP_SYSFS);
	TH_LOG("figures: %d namespaces x %ld rounds of connect + bind(0) + udp, range %d-%d%s",
	       NWORKERS, cfg.rounds, cfg.lo, cfg.hi,
	       variant->random ? ", random mode, reuse delay 500 ms" : "");
	err = workers_start(self->ws, &cfg);
	if (variant->random)
		EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("start the workers");
	workers_wait_done(self->ws);
	usleep(300000);	/* resets in flight land */
	missed = ep_probes_missed() - missed0;
	TH_LOG("%ld socket calls in %.1f s; hooks missed %ld events",
	       NWORKERS * cfg.rounds * NOPS, ep_now() - t0, missed);
	ASSERT_EQ(0, workers_report(_metadata, self->ws)) TH_LOG("failed socket calls");

	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &self->ws->w[i];
		unsigned long n = w->inum;
		int k;

		if (variant->random)
			TH_LOG("namespace %lu: random_ok %ld, random_fallback %ld, resting %ld",
			       n, ep_netval(n, "random_ok"),
			       ep_netval(n, "random_fallback"), ep_netval(n, "resting"));
		if (!missed) {
			/* EXPECT: every counter that is off is reported. */
			EXPECT_EQ(w->ok[OP_CONNECT], ep_netval(n, "tcp_connect_ok"))
				TH_LOG("namespace %lu: tcp_connect_ok", n);
			EXPECT_EQ(w->ok[OP_BIND], ep_netval(n, "tcp_bind_ok"))
				TH_LOG("namespace %lu: tcp_bind_ok", n);
			EXPECT_EQ(w->ok[OP_UDP], ep_netval(n, "udp_ok"))
				TH_LOG("namespace %lu: udp_ok", n);
		}
		ASSERT_EQ(0, ep_netval(n, "tcp_connect_fail")) TH_LOG("ns %lu", n);
		ASSERT_EQ(0, ep_netval(n, "tcp_bind_fail")) TH_LOG("ns %lu", n);
		ASSERT_EQ(0, ep_netval(n, "udp_fail")) TH_LOG("ns %lu", n);
		/* Exact at a quiet moment even if an event was missed. */
		for (k = 0; k < 2; k++) {
			int before, val, after, tries;

			for (tries = 0; tries < 20; tries++) {
				before = ep_kernel_in_use(w->pid, !k, cfg.lo, cfg.hi);
				val = ep_netval(n, k ? "udp_in_use" : "tcp_in_use");
				after = ep_kernel_in_use(w->pid, !k, cfg.lo, cfg.hi);
				if (before == after)
					break;
				usleep(100000);
			}
			ASSERT_EQ(before, val)
				TH_LOG("namespace %lu: %s in use: /proc/net %d, ephport %d",
				       n, k ? "udp" : "tcp", before, val);
		}
		checked += w->reuse_checked;
		violations += w->reuse_violations;
		if (w->reuse_violations)
			TH_LOG("namespace %lu: port %d handed out again %.0f ms after its release",
			       n, w->violation_port, w->violation_gap * 1000);
	}
	if (variant->random) {
		TH_LOG("reuse delay: %ld ports handed out again were checked, %ld too early",
		       checked, violations);
		ASSERT_EQ(0, violations) TH_LOG("no port before its reuse delay");
	}
	ASSERT_EQ(0, missed) TH_LOG("the hooks missed events under this load");
}

TEST_HARNESS_MAIN
