// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_random_ipmodify: random mode's redirect among other
 * IP-modifying users.
 *
 *  - ipmodify: another IP-modifying ftrace_ops (selftests/ipmodify) on a
 *    hooked function, before and after ephport: observe mode registers
 *    nothing; a switch to random mode fails loudly while the other user
 *    holds the function, leaving no redirect registered, and succeeds
 *    once it has gone; observe exact, unload prompt.
 *
 * Every case checks that the random-mode counters add up
 * (ephport_random.h).
 */
#define _GNU_SOURCE
#include <sys/klog.h>
#include "ephport_random.h"

#define IPMOD_NAME "ipmodify_user"

/* ---- another IP-modifying user of a hooked function ---- */

static const char *ipmod_ko_path(void)
{
	static char path[256];
	struct utsname u;

	if (getenv("EPHPORT_IPMODIFY_KO"))
		return getenv("EPHPORT_IPMODIFY_KO");
	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/" IPMOD_NAME ".ko",
		 u.release);
	return path;
}

/* The test module holding @func's IP-modifying slot; 0 or -errno. */
static int ipmod_load(const char *func)
{
	int fd = open(ipmod_ko_path(), O_RDONLY | O_CLOEXEC);
	char params[96];
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(params, sizeof(params), "func=%s", func);
	if (syscall(SYS_finit_module, fd, params, 0))
		err = -errno;
	close(fd);
	return err;
}

static int ipmod_unload(void)
{
	if (!ep_exists("/sys/module/" IPMOD_NAME))
		return 0;
	return syscall(SYS_delete_module, IPMOD_NAME, O_NONBLOCK) ? -errno : 0;
}

/* @func's line of /sys/kernel/ephport/redirects, without its newline. */
static int redirect_line(const char *func, char *line, size_t len)
{
	char buf[4096], *l, *save;
	size_t n = strlen(func);

	line[0] = 0;
	if (ep_read(EP_SYSFS "/redirects", buf, sizeof(buf)))
		return -1;
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, func, n) && l[n] == ' ') {
			snprintf(line, len, "%s", l);
			return 0;
		}
	}
	return -1;
}

/*
 * A line of the kernel log, after the line @mark, that names ephport,
 * @func and the reason it could not be redirected (EBUSY); NULL if none.
 */
static const char *klog_conflict(const char *mark, const char *func)
{
	static char buf[1 << 20];
	char *from, *line, *save;
	int len = klogctl(3, buf, sizeof(buf) - 1);

	if (len < 0)
		return NULL;
	buf[len] = 0;
	from = strstr(buf, mark);
	if (!from)
		return NULL;
	for (line = strtok_r(from, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "ephport") && strstr(line, func) &&
		    (strstr(line, "-16") || strstr(line, "EBUSY") ||
		     strstr(line, "busy")))
			return line;
	}
	return NULL;
}

static const char *const redirected[] = {
	"inet_hash_connect", "inet6_hash_connect", "inet_csk_get_port",
	"udp_lib_get_port",
};

/*
 * Every redirected function but @held has its line in @state (or
 * unsupported where the kernel lacks it); the function without, or NULL.
 */
static const char *redirects_others(const char *held, const char *state)
{
	char line[256], want[128], absent[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(redirected); i++) {
		if (!strcmp(redirected[i], held))
			continue;
		snprintf(want, sizeof(want), "%s ftrace_ipmodify %s err=0 ",
			 redirected[i], state);
		snprintf(absent, sizeof(absent), "%s ftrace_ipmodify unsupported ",
			 redirected[i]);
		if (redirect_line(redirected[i], line, sizeof(line)) ||
		    (strncmp(line, want, strlen(want)) &&
		     strncmp(line, absent, strlen(absent))))
			return redirected[i];
	}
	return NULL;
}

/* @func's line starts with "<func> ftrace_ipmodify <state> err=<err> ". */
static int redirect_is(const char *func, const char *state, int err)
{
	char line[256], want[128];

	if (redirect_line(func, line, sizeof(line)))
		return 0;
	snprintf(want, sizeof(want), "%s ftrace_ipmodify %s err=%d ", func,
		 state, err);
	return !strncmp(line, want, strlen(want));
}

/*
 * @func's redirect is not registered before any switch to random mode:
 * standby, or, on a kernel without random mode, unsupported with
 * EOPNOTSUPP (the switch then fails so, and the case is skipped).
 */
static int redirect_idle(const char *func)
{
	return redirect_is(func, "standby", 0) ||
	       redirect_is(func, "unsupported", -EOPNOTSUPP);
}

FIXTURE(ipmodify) {
	int was_loaded;
};

/* The held function, and a socket call that goes through it. */
FIXTURE_VARIANT(ipmodify) {
	const char *func;
	int family;
	int type;
	int connect;	/* connect(), else bind(0) */
};

FIXTURE_VARIANT_ADD(ipmodify, inet_csk_get_port) {
	"inet_csk_get_port", AF_INET, SOCK_STREAM, 0 };
FIXTURE_VARIANT_ADD(ipmodify, inet_hash_connect) {
	"inet_hash_connect", AF_INET, SOCK_STREAM, 1 };
FIXTURE_VARIANT_ADD(ipmodify, inet6_hash_connect) {
	"inet6_hash_connect", AF_INET6, SOCK_STREAM, 1 };
FIXTURE_VARIANT_ADD(ipmodify, udp_lib_get_port) {
	"udp_lib_get_port", AF_INET, SOCK_DGRAM, 0 };

FIXTURE_SETUP(ipmodify)
{
	self->was_loaded = ep_loaded();
	ASSERT_TRUE(ep_exists(ipmod_ko_path()))
		TH_LOG("no %s (selftests/ipmodify, built with ephport)",
		       ipmod_ko_path());
	ASSERT_EQ(0, ipmod_unload());
}

FIXTURE_TEARDOWN(ipmodify)
{
	/* An ephport loaded beside the other user goes too: no case inherits it. */
	if (ep_exists("/sys/module/" IPMOD_NAME)) {
		if (ep_loaded())
			ep_unload();
		ipmod_unload();
	}
	if (self->was_loaded && !ep_exists(EP_SYSFS "/version"))
		ep_ensure_loaded();
}

/* @n calls of the variant's kind: how many succeeded. */
static int ipmod_calls(const FIXTURE_VARIANT(ipmodify) *v, int lfd, int n)
{
	int i, ok = 0, local;

	for (i = 0; i < n; i++) {
		if (v->connect) {
			int afd;

			if (connect_to(v->family, EP_SERVER_PORT, &local))
				continue;
			afd = accept(lfd, NULL, NULL);
			if (afd >= 0)
				close(afd);
		} else if (ep_bind0_close(v->family, v->type) < 0) {
			continue;
		}
		ok++;
	}
	return ok;
}

static const char *ipmod_counter(const FIXTURE_VARIANT(ipmodify) *v)
{
	if (v->type == SOCK_DGRAM)
		return "udp_ok";
	return v->connect ? "tcp_connect_ok" : "tcp_bind_ok";
}

#define IPMOD_CALLS 50
#define PROMPT_S 10.0	/* an unload that takes longer is not prompt */

/*
 * The other user first: ephport still loads, in observe mode with
 * nothing registered; asking for random mode fails, every way, with
 * EBUSY, and redirects and the kernel log say which function and why;
 * observe mode counts exactly and both unload at once. Once the other
 * user has gone, the next switch to random mode takes the function.
 */
TEST_F_TIMEOUT(ipmodify, before_ephport, 180)
{
	const char *counter = ipmod_counter(variant);
	char line[256], path[128], v[32];
	int err, lfd = -1, n;
	struct rnd r0, r1;
	long c0;
	double t;

	const char *logged;
	char mark[64];

	if (ep_loaded())
		ASSERT_EQ(0, ep_unload());
	snprintf(mark, sizeof(mark), "ephport-test-mark ipmodify %d", getpid());
	ASSERT_EQ(0, ep_write("/dev/kmsg", mark));
	err = ipmod_load(variant->func);
	ASSERT_EQ(0, err) TH_LOG("load %s func=%s: %s", IPMOD_NAME,
				 variant->func, strerror(-err));
	err = ep_load(NULL);
	ASSERT_EQ(0, err) TH_LOG("ephport loads beside it: %s", strerror(-err));
	ASSERT_TRUE(redirect_idle(variant->func))
		TH_LOG("observe mode registers nothing");
	ASSERT_EQ(NULL, redirects_others(variant->func, "standby"));

	/* Random mode, every way: EBUSY, and nothing changes. */
	ASSERT_EQ(0, ep_new_netns(LO, LO + 999));
	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/mode", ep_inum());
	err = ep_write(EP_SYSCTL "/mode", "random");
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(-EBUSY, err);
	ASSERT_EQ(0, redirect_line(variant->func, line, sizeof(line)))
		TH_LOG("no line for %s in redirects", variant->func);
	TH_LOG("redirects: %s", line);
	ASSERT_TRUE(redirect_is(variant->func, "unavailable", -16))
		TH_LOG("'%s': not unavailable err=-16", line);
	ASSERT_EQ(NULL, redirects_others(variant->func, "standby"))
		TH_LOG("a refused switch left another function redirected");
	logged = klog_conflict(mark, variant->func);
	ASSERT_NE(NULL, logged)
		TH_LOG("the kernel log says why %s is not redirected", variant->func);
	TH_LOG("kernel log: %s", logged);
	ASSERT_EQ(-EBUSY, ep_write(EP_SYSFS "/mode", "random"));
	ASSERT_NE(0, ep_write(path, "random")) TH_LOG("%s is read-only", path);
	ASSERT_EQ(0, ep_read(path, v, sizeof(v)));
	ASSERT_EQ(0, strncmp(v, "observe", 7)) TH_LOG("mode reads '%s'", v);
	ASSERT_EQ(0, ep_read(EP_SYSFS "/mode", v, sizeof(v)));
	ASSERT_EQ(0, strncmp(v, "observe", 7)) TH_LOG("global mode reads '%s'", v);

	/* Observe mode is exact through the held function. */
	if (variant->connect) {
		lfd = ep_listener(variant->family, EP_SERVER_PORT);
		ASSERT_LE(0, lfd);
	}
	c0 = ep_nsval(counter);
	n = ipmod_calls(variant, lfd, IPMOD_CALLS);
	ASSERT_EQ(IPMOD_CALLS, n);
	ASSERT_EQ(IPMOD_CALLS, ep_nsval(counter) - c0)
		TH_LOG("%s counts each call once", counter);
	ASSERT_EQ(0, ep_nsval("random_steered"));

	/* The other user leaves: the next switch takes the function. */
	t = ep_now();
	ASSERT_EQ(0, ipmod_unload());
	ASSERT_GT(PROMPT_S, ep_now() - t);
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "random"))
		TH_LOG("random mode once the function is free");
	ASSERT_TRUE(redirect_is(variant->func, "registered", 0));
	rnd_read(&r0);
	n = ipmod_calls(variant, lfd, IPMOD_CALLS);
	rnd_read(&r1);
	ASSERT_EQ(IPMOD_CALLS, n);
	ASSERT_EQ(IPMOD_CALLS, r1.steered - r0.steered)
		TH_LOG("every call steered through %s", variant->func);
	ASSERT_SUMS(&r1);
	if (lfd >= 0)
		close(lfd);
	/* Now ephport holds it: the other user cannot come back. */
	ASSERT_EQ(-EBUSY, ipmod_load(variant->func));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "observe"));

	t = ep_now();
	ASSERT_EQ(0, ep_unload());
	t = ep_now() - t;
	TH_LOG("ephport unloaded in %.3f s", t);
	ASSERT_GT(PROMPT_S, t);

	/* Nor can ephport load straight into random mode beside it. */
	ASSERT_EQ(0, ipmod_load(variant->func));
	ASSERT_EQ(-EBUSY, ep_load("mode=random"));
	ASSERT_FALSE(ep_loaded());
	t = ep_now();
	ASSERT_EQ(0, ipmod_unload());
	ASSERT_GT(PROMPT_S, ep_now() - t);
}

/*
 * ephport first, in observe mode: nothing registered yet. A namespace
 * switched to random mode registers the redirects; from then on the
 * other user's registration fails, so its load does (EBUSY); ephport's
 * random mode goes on choosing every port and unloads at once.
 */
TEST_F_TIMEOUT(ipmodify, after_ephport, 120)
{
	char line[256];
	struct rnd r0, r1;
	int err, lfd = -1, n;
	double t;

	err = ep_reload(NULL);
	ASSERT_EQ(0, err) TH_LOG("load ephport: %s", strerror(-err));
	ASSERT_TRUE(redirect_idle(variant->func))
		TH_LOG("observe mode registers nothing");
	err = ep_setup_ns(LO, LO + 999, "random", 0);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(0, err) TH_LOG("namespace in random mode: %s", strerror(-err));
	err = ipmod_load(variant->func);
	ASSERT_EQ(-EBUSY, err) TH_LOG("load %s func=%s: %s", IPMOD_NAME,
				      variant->func, strerror(-err));
	ASSERT_FALSE(ep_exists("/sys/module/" IPMOD_NAME));
	ASSERT_EQ(0, redirect_line(variant->func, line, sizeof(line)));
	ASSERT_TRUE(redirect_is(variant->func, "registered", 0))
		TH_LOG("'%s' is not registered err=0", line);
	ASSERT_EQ(NULL, redirects_others(variant->func, "registered"));

	if (variant->connect) {
		lfd = ep_listener(variant->family, EP_SERVER_PORT);
		ASSERT_LE(0, lfd);
	}
	rnd_read(&r0);
	n = ipmod_calls(variant, lfd, IPMOD_CALLS);
	rnd_read(&r1);
	ASSERT_EQ(IPMOD_CALLS, n);
	ASSERT_EQ(IPMOD_CALLS, r1.ok - r0.ok) TH_LOG("ephport chose every port");
	ASSERT_EQ(0, r1.fallback - r0.fallback);
	ASSERT_SUMS(&r1);
	if (lfd >= 0)
		close(lfd);

	/* Back to observe mode: the redirects stay until unload. */
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "observe"));
	ASSERT_EQ(-EBUSY, ipmod_load(variant->func));
	ASSERT_TRUE(redirect_is(variant->func, "registered", 0));

	t = ep_now();
	ASSERT_EQ(0, ep_unload());
	t = ep_now() - t;
	TH_LOG("ephport unloaded after random-mode traffic in %.3f s", t);
	ASSERT_GT(PROMPT_S, t);
}

TEST_HARNESS_MAIN
