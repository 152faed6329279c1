// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_badinput: hostile input to every writable file, sysctl and
 * module parameter.
 *
 * A table of inputs per kind of value (empty, whitespace, signs, overflow,
 * huge strings, non-numeric, trailing garbage, several values, a write in
 * pieces, a write at an offset) goes to every writable file. Each one is
 * rejected with EINVAL and changes nothing, or is accepted exactly as the
 * ABI document says. Then random bytes (EPHPORT_WRITES writes: 10000, or
 * 1000 on the KASAN kernel, where one takes 25 ms) across all of them, and
 * the module must still count. The module parameters get the same treatment at load.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

enum kind {
	K_INT,		/* a decimal integer in [min, max] */
	K_PEAK,		/* only 0 (reset) */
	K_MODE,		/* one of the words in words[] */
};

struct target {
	const char *name;	/* for messages */
	const char *path;	/* %lu: this namespace's inode number */
	enum kind kind;
	long min, max;
	const char *words[4];
	const char *good;	/* a valid value other than the default */
	int sysctl;		/* a /proc/sys file (else sysfs) */
};

static const struct target targets[] = {
	{ "alarm_pct", EP_SYSFS "/alarm_pct", K_INT, 1, 100, {}, "50", 0 },
	{ "tcp_peak", EP_SYSFS "/net/%lu/tcp_peak", K_PEAK, 0, 0, {}, "0", 0 },
	{ "udp_peak", EP_SYSFS "/net/%lu/udp_peak", K_PEAK, 0, 0, {}, "0", 0 },
	{ "mode", EP_SYSFS "/mode", K_MODE, 0, 0, { "observe", "random" },
	  "random", 0 },
	{ "reuse_delay_ms", EP_SYSFS "/reuse_delay_ms", K_INT, 0, 600000, {},
	  "1234", 0 },
	{ "net.ephport.mode", EP_SYSCTL "/mode", K_MODE, 0, 0,
	  { "default", "observe", "random" }, "random", 1 },
	{ "net.ephport.reuse_delay_ms", EP_SYSCTL "/reuse_delay_ms", K_INT, -1,
	  600000, {}, "1234", 1 },
	/* 0 or 1, exactly: a number's table, but no sign nor zeros pass. */
	{ "tenant_random", EP_SYSFS "/tenant_random", K_INT, 0, 1, {}, "1", 0 },
};
#define NTARGETS ARRAY_SIZE(targets)

/*
 * A write of @value to @name, or a load with name=value, asks for random
 * mode (any value, if NULL): a kernel without it answers EOPNOTSUPP.
 */
static int asks_random(const char *name, const char *value)
{
	if (!strcmp(name, "tenant_random"))
		return !value || !strcmp(value, "1");
	return strstr(name, "mode") && (!value || !strcmp(value, "random"));
}

/* This test's network namespace, once it is in its own. */
static unsigned long cur_inum;

static void target_path(const struct target *t, char *buf, size_t len)
{
	snprintf(buf, len, t->path, cur_inum);
}

/* The value as read back, trailing newline removed; "" if unreadable. */
static void target_value(const struct target *t, char *buf, size_t len)
{
	char path[128];

	target_path(t, path, sizeof(path));
	if (ep_read(path, buf, len))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

/* A value read back that the ABI allows. */
static int value_valid(const struct target *t, const char *v)
{
	char *end;
	long n;
	int i;

	if (t->kind == K_MODE) {
		for (i = 0; i < 4 && t->words[i]; i++)
			if (!strcmp(v, t->words[i]))
				return 1;
		return 0;
	}
	n = strtol(v, &end, 10);
	if (end == v || *end)
		return 0;
	if (t->kind == K_PEAK)
		return n >= 0;
	return n >= t->min && n <= t->max;
}

/* Every target's value, to see that a rejected write changed nothing. */
struct snapshot {
	char v[NTARGETS][64];
};

static void snap(struct snapshot *s)
{
	unsigned int i;

	for (i = 0; i < NTARGETS; i++)
		target_value(&targets[i], s->v[i], sizeof(s->v[i]));
}

static int snap_diff(const struct snapshot *a, const struct snapshot *b)
{
	unsigned int i;

	for (i = 0; i < NTARGETS; i++)
		if (strcmp(a->v[i], b->v[i]))
			return i;
	return -1;
}

/* An input and what it must do: rejected, or (lenient) maybe accepted. */
struct input {
	const char *desc;
	char buf[8192];
	size_t len;
	const char *accept_as;	/* if accepted, must read back as this */
};

static void set_input(struct input *in, const char *desc, const void *buf,
		      size_t len, const char *accept_as)
{
	in->desc = desc;
	memcpy(in->buf, buf, len);
	in->len = len;
	in->accept_as = accept_as;
}

static void long_input(struct input *in, const char *desc, char c, size_t len)
{
	in->desc = desc;
	memset(in->buf, c, len);
	in->len = len;
	in->accept_as = NULL;
}

#define STR(in, desc, s, acc) set_input(in, desc, s, sizeof(s) - 1, acc)

/* The hostile inputs for one kind; returns how many. */
static int bad_inputs(const struct target *t, struct input *in)
{
	static char lo1[32], hi1[32];
	int n = 0;

	/* Common to every kind. */
	STR(&in[n++], "empty", "", NULL);
	STR(&in[n++], "a newline", "\n", NULL);
	STR(&in[n++], "a space", " ", NULL);
	STR(&in[n++], "a tab and a newline", "\t\n", NULL);
	STR(&in[n++], "a NUL byte", "\0", NULL);
	STR(&in[n++], "non-numeric", "abc", NULL);
	STR(&in[n++], "control bytes", "\x01\x02\xff\xfe", NULL);
	long_input(&in[n++], "4000 digits", '9', 4000);
	long_input(&in[n++], "4095 letters", 'x', 4095);
	/* More than a page: sysfs itself refuses it (E2BIG), see below. */
	long_input(&in[n++], "8000 digits (over a page)", '1', 8000);

	if (t->kind == K_MODE) {
		STR(&in[n++], "upper case", "RANDOM", NULL);
		STR(&in[n++], "a prefix", "rand", NULL);
		STR(&in[n++], "trailing garbage", "randomx", NULL);
		STR(&in[n++], "a leading space", " random", NULL);
		STR(&in[n++], "a trailing space", "random ", NULL);
		STR(&in[n++], "two newlines", "random\n\n", NULL);
		STR(&in[n++], "two values", "random observe", NULL);
		STR(&in[n++], "two lines", "random\nobserve", NULL);
		STR(&in[n++], "a number", "1", NULL);
		STR(&in[n++], "a sign", "-random", NULL);
		STR(&in[n++], "NUL then garbage", "random\0xyz", "random");
		return n;
	}
	STR(&in[n++], "a minus sign", "-5", NULL);
	STR(&in[n++], "two signs", "+-5", NULL);
	STR(&in[n++], "a lone sign", "-", NULL);
	STR(&in[n++], "trailing garbage", "5abc", NULL);
	STR(&in[n++], "a leading space", " 5", NULL);
	STR(&in[n++], "a trailing space", "5 ", NULL);
	STR(&in[n++], "two newlines", "5\n\n", NULL);
	STR(&in[n++], "two values", "5 6", NULL);
	STR(&in[n++], "two lines", "5\n6", NULL);
	STR(&in[n++], "hexadecimal", "0x10", NULL);
	STR(&in[n++], "a decimal point", "5.0", NULL);
	STR(&in[n++], "an exponent", "1e3", NULL);
	STR(&in[n++], "2^32", "4294967296", NULL);
	STR(&in[n++], "2^32 + 5", "4294967301", NULL);
	STR(&in[n++], "2^64", "18446744073709551616", NULL);
	STR(&in[n++], "2^64 + 5", "18446744073709551621", NULL);
	STR(&in[n++], "-2^63", "-9223372036854775808", NULL);
	if (t->kind == K_PEAK) {
		STR(&in[n++], "a non-zero value", "1", NULL);
		STR(&in[n++], "a plus sign", "+0", "keep");
		STR(&in[n++], "leading zeros", "00", "keep");
		STR(&in[n++], "NUL then garbage", "0\0xyz", "keep");
		return n;
	}
	snprintf(lo1, sizeof(lo1), "%ld", t->min - 1);
	snprintf(hi1, sizeof(hi1), "%ld", t->max + 1);
	set_input(&in[n++], "below the minimum", lo1, strlen(lo1), NULL);
	set_input(&in[n++], "above the maximum", hi1, strlen(hi1), NULL);
	/* kstrto*() and proc_dointvec() take these; the ABI says "decimal". */
	STR(&in[n++], "a plus sign", "+5", "5");
	STR(&in[n++], "leading zeros", "005", "5");
	STR(&in[n++], "NUL then garbage", "5\0xyz", "5");
	return n;
}

FIXTURE(table) {
	int skip;
	struct snapshot saved;
};

FIXTURE_VARIANT(table) {
	int target;
};

FIXTURE_VARIANT_ADD(table, alarm_pct) { .target = 0 };
FIXTURE_VARIANT_ADD(table, tcp_peak) { .target = 1 };
FIXTURE_VARIANT_ADD(table, udp_peak) { .target = 2 };
FIXTURE_VARIANT_ADD(table, mode) { .target = 3 };
FIXTURE_VARIANT_ADD(table, reuse_delay_ms) { .target = 4 };
FIXTURE_VARIANT_ADD(table, sysctl_mode) { .target = 5 };
FIXTURE_VARIANT_ADD(table, sysctl_reuse_delay_ms) { .target = 6 };
FIXTURE_VARIANT_ADD(table, tenant_random) { .target = 7 };

FIXTURE_SETUP(table)
{
	const struct target *t = &targets[variant->target];
	char path[128];

	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	/* Per-namespace files and sysctls: this test's own namespace. */
	ASSERT_EQ(0, ep_new_netns(40000, 40099)) TH_LOG("new namespace");
	cur_inum = ep_inum();
	target_path(t, path, sizeof(path));
	ASSERT_TRUE(ep_exists(path)) TH_LOG("%s: no %s", t->name, path);
	snap(&self->saved);
}

static void restore(const struct snapshot *s)
{
	unsigned int i;

	for (i = 0; i < NTARGETS; i++) {
		char path[128];

		if (targets[i].kind == K_PEAK || !s->v[i][0])
			continue;
		target_path(&targets[i], path, sizeof(path));
		ep_write(path, s->v[i]);
	}
}

FIXTURE_TEARDOWN(table)
{
	restore(&self->saved);
}

/* Writes @len bytes of @buf in one write() at @off; 0 or -errno. */
static int put(const struct target *t, const void *buf, size_t len, off_t off)
{
	char path[128];

	target_path(t, path, sizeof(path));
	return ep_write_at(path, buf, len, off);
}

TEST_F(table, rejects_bad_input)
{
	const struct target *t = &targets[variant->target];
	static struct input in[64];
	struct snapshot before, after;
	char v[64];
	int i, n, d, ret, rejected = 0, lenient = 0, no_random = 0;

	n = bad_inputs(t, in);
	TH_LOG("%s: %d hostile inputs", t->name, n);
	for (i = 0; i < n; i++) {
		snap(&before);
		ret = put(t, in[i].buf, in[i].len, 0);
		snap(&after);
		target_value(t, v, sizeof(v));
		if (!ret && !in[i].len) {
			/* write(fd, "", 0) never reaches the module. */
			d = snap_diff(&before, &after);
			ASSERT_EQ(-1, d) TH_LOG("%s: an empty write changed %s",
						t->name, d >= 0 ? targets[d].name : "");
			TH_LOG("%s: empty: a no-op (0 bytes never reach ephport)", t->name);
			continue;
		}
		if (ret == -E2BIG && in[i].len >= 4096 && !t->sysctl) {
			/* kernfs refuses writes over a page before ephport runs. */
			ret = -EINVAL;
		}
		if (ret == -EOPNOTSUPP && in[i].accept_as &&
		    asks_random(t->name, in[i].accept_as)) {
			/* Taken as random mode, which this kernel lacks. */
			no_random++;
		} else if (ret && in[i].accept_as) {
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("%s: %s: %s", t->name, in[i].desc, strerror(-ret));
		} else if (!ret && in[i].accept_as) {
			/* Lenient: accepted with the value it spells. */
			if (strcmp(in[i].accept_as, "keep"))
				ASSERT_STREQ(in[i].accept_as, v)
					TH_LOG("%s: %s accepted as '%s'", t->name,
					       in[i].desc, v);
			lenient++;
			TH_LOG("%s: %s: accepted (reads '%s')", t->name, in[i].desc, v);
			restore(&self->saved);
			continue;
		} else {
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("%s: %s: %s, value now '%s'", t->name,
				       in[i].desc, ret ? strerror(-ret) : "accepted", v);
		}
		d = snap_diff(&before, &after);
		ASSERT_EQ(-1, d)
			TH_LOG("%s: %s was rejected but %s changed", t->name,
			       in[i].desc, d >= 0 ? targets[d].name : "");
		rejected++;
	}
	TH_LOG("%s: %d rejected with EINVAL, %d accepted as the number they spell, %d as random mode (EOPNOTSUPP)",
	       t->name, rejected, lenient, no_random);

	/* The good value and the default stay accepted. */
	ret = put(t, t->good, strlen(t->good), 0);
	if (asks_random(t->name, t->good))
		EP_SKIP_IF_NO_RANDOM(ret);
	ASSERT_EQ(0, no_random) TH_LOG("EOPNOTSUPP, yet random mode works");
	ASSERT_EQ(0, ret) TH_LOG("%s: '%s' is valid", t->name, t->good);
	target_value(t, v, sizeof(v));
	ASSERT_TRUE(value_valid(t, v)) TH_LOG("%s reads '%s'", t->name, v);
	if (t->kind != K_PEAK)
		ASSERT_STREQ(t->good, v) TH_LOG("%s reads what was written", t->name);
}

/* A value in pieces: each write() is judged alone, never joined. */
TEST_F(table, partial_and_offset_writes)
{
	const struct target *t = &targets[variant->target];
	const char *pieces[3];
	char path[128], v[64], start[64];
	int fd, i, ret[3];
	ssize_t n;

	if (t->kind == K_MODE) {
		pieces[0] = "ran";
		pieces[1] = "do";
		pieces[2] = "m";
	} else if (t->kind == K_PEAK) {
		pieces[0] = "0";
		pieces[1] = "0";
		pieces[2] = "\n";
	} else {
		pieces[0] = "1";
		pieces[1] = "0";
		pieces[2] = "0";
	}
	target_value(t, start, sizeof(start));
	target_path(t, path, sizeof(path));
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd) TH_LOG("open %s", path);
	for (i = 0; i < 3; i++) {
		n = write(fd, pieces[i], strlen(pieces[i]));
		ret[i] = n < 0 ? -errno : 0;
		if (asks_random(t->name, pieces[i]))
			EP_SKIP_IF_NO_RANDOM(ret[i]);
		ASSERT_TRUE(ret[i] == 0 || ret[i] == -EINVAL)
			TH_LOG("%s: piece '%s': %s", t->name, pieces[i],
			       strerror(-ret[i]));
	}
	close(fd);
	target_value(t, v, sizeof(v));
	TH_LOG("%s: pieces '%s' '%s' '%s': %s %s %s, reads '%s'", t->name,
	       pieces[0], pieces[1], pieces[2], ret[0] ? "EINVAL" : "ok",
	       ret[1] ? "EINVAL" : "ok", ret[2] ? "EINVAL" : "ok", v);
	ASSERT_TRUE(value_valid(t, v)) TH_LOG("%s reads '%s'", t->name, v);
	if (t->kind == K_MODE)
		ASSERT_STREQ(start, v) TH_LOG("no piece is a mode: nothing changes");
	if (t->kind == K_INT && !t->sysctl && t->min > 0)
		ASSERT_STREQ("1", v) TH_LOG("sysfs: '1' alone, then two rejected zeros");
	if (t->kind == K_INT && !t->sysctl && t->min == 0)
		ASSERT_STREQ("0", v) TH_LOG("sysfs: '1', then '0' twice, each alone");

	/* At an offset: sysfs ignores it; a sysctl ignores or takes it whole. */
	restore(&self->saved);
	target_value(t, start, sizeof(start));
	n = put(t, t->good, strlen(t->good), 3);
	target_value(t, v, sizeof(v));
	TH_LOG("%s: '%s' at offset 3: %s, reads '%s'", t->name, t->good,
	       n ? strerror((int)-n) : "ok", v);
	ASSERT_TRUE(value_valid(t, v)) TH_LOG("%s reads '%s'", t->name, v);
	if (t->kind != K_PEAK)
		ASSERT_TRUE(!strcmp(v, start) || !strcmp(v, t->good))
			TH_LOG("%s: at offset 3 gives '%s' (was '%s')", t->name, v, start);
}

/* ---- random bytes across every file ---- */

static unsigned long long rng_state = 88172645463325252ULL;

static unsigned long long rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes; often a number or a word with something around it. */
static size_t random_input(char *buf)
{
	static const char *const seeds[] = {
		"0", "1", "50", "100", "101", "600000", "600001", "-1",
		"random", "observe", "default", "4294967296", "",
	};
	size_t len = 0, i, extra;

	if (rng() % 2) {
		const char *s = seeds[rng() % (sizeof(seeds) / sizeof(seeds[0]))];

		len = strlen(s);
		memcpy(buf, s, len);
	}
	extra = rng() % 12;
	for (i = 0; i < extra; i++) {
		unsigned char c = rng() % 4 ? " \n\t+-0123456789xyz\0"[rng() % 19] :
					      (unsigned char)rng();
		size_t at = len ? rng() % (len + 1) : 0;

		memmove(buf + at + 1, buf + at, len - at);
		buf[at] = c;
		len++;
	}
	return len;
}

FIXTURE(fuzz) {
	struct snapshot saved;
};

FIXTURE_SETUP(fuzz)
{
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	ASSERT_EQ(0, ep_new_netns(40000, 40099)) TH_LOG("new namespace");
	cur_inum = ep_inum();
	snap(&self->saved);
}

FIXTURE_TEARDOWN(fuzz)
{
	restore(&self->saved);
}

TEST_F_TIMEOUT(fuzz, random_writes, 250)
{
	long writes = ep_figure("EPHPORT_WRITES", 10000, 1000);
	unsigned int i;
	long accepted = 0, rejected = 0, no_random = 0, w;
	char buf[64], v[64], path[128], why[512] = "";
	struct snapshot before, after;
	double t0 = ep_now();
	int fd, d;

	for (i = 0; i < NTARGETS; i++) {
		target_path(&targets[i], path, sizeof(path));
		ASSERT_TRUE(ep_exists(path)) TH_LOG("%s: no %s", targets[i].name, path);
	}
	TH_LOG("figures: %ld random writes over %zu files", writes, NTARGETS);
	snap(&before);
	for (w = 0; w < writes; w++) {
		unsigned int ti = rng() % NTARGETS;
		const struct target *t = &targets[ti];
		size_t len = random_input(buf);
		int ret;

		ret = put(t, buf, len, 0);
		target_value(t, v, sizeof(v));
		/* Random mode asked for, on a kernel that says it lacks it. */
		if (ret == -EOPNOTSUPP && asks_random(t->name, NULL) &&
		    ep_random_unsupported(ret, why, sizeof(why)) && why[0]) {
			ASSERT_STREQ(before.v[ti], v)
				TH_LOG("write %ld to %s refused, yet it changed", w,
				       t->name);
			no_random++;
		} else if (ret) {
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("write %ld to %s (%zu bytes): %s", w, t->name,
				       len, strerror(-ret));
			ASSERT_STREQ(before.v[ti], v)
				TH_LOG("write %ld to %s rejected, yet it changed", w,
				       t->name);
			rejected++;
		} else {
			ASSERT_TRUE(value_valid(t, v))
				TH_LOG("write %ld to %s accepted: reads '%s'", w,
				       t->name, v);
			strcpy(before.v[ti], v);
			accepted++;
		}
		/* Now and then: no write touched another file. */
		if (w % 50 == 49) {
			snap(&after);
			d = snap_diff(&before, &after);
			ASSERT_EQ(-1, d)
				TH_LOG("by write %ld, %s changed unasked", w,
				       d >= 0 ? targets[d].name : "");
		}
	}
	TH_LOG("%ld writes in %.1f s: %ld rejected with EINVAL, %ld accepted as valid values, %ld asked for random mode and were refused (%s)",
	       writes, ep_now() - t0, rejected, accepted, no_random,
	       no_random ? why : "it works here");

	/* The module still works: it counts in this namespace. */
	restore(&self->saved);
	fd = ep_udp_autobind(AF_INET, EP_SERVER_PORT);
	ASSERT_LE(0, fd) TH_LOG("UDP autobind after the writes");
	ASSERT_EQ(1, ep_netval(ep_inum(), "udp_ok")) TH_LOG("counted");
	ASSERT_EQ(1, ep_netval(ep_inum(), "udp_in_use")) TH_LOG("in use");
	close(fd);
}

/* ---- module parameters ---- */

/* Parameter names from the module's .modinfo ("parmtype=NAME:TYPE"). */
static int module_params(char names[][32], char types[][16], int max)
{
	static char ko[4 << 20];
	int fd = open(ep_ko_path(), O_RDONLY);
	ssize_t len;
	char *p;
	int n = 0;

	if (fd < 0)
		return -errno;
	len = read(fd, ko, sizeof(ko) - 1);
	close(fd);
	if (len <= 0)
		return -EIO;
	for (p = ko; p < ko + len - 9 && n < max; p++) {
		if (memcmp(p, "parmtype=", 9))
			continue;
		if (sscanf(p + 9, "%31[^:]:%15s", names[n], types[n]) == 2)
			n++;
	}
	return n;
}

struct param_case {
	const char *value;	/* after NAME= ; NULL: NAME alone */
	int ok;			/* loads */
	const char *reads;	/* what the global file reads then */
};

static const struct param_case mode_cases[] = {
	{ "random", 1, "random" }, { "observe", 1, "observe" },
	{ "", 0, NULL }, { NULL, 0, NULL }, { "RANDOM", 0, NULL }, { "rand", 0, NULL },
	{ "randomx", 0, NULL }, { "\"random observe\"", 0, NULL }, { "1", 0, NULL },
	{ "default", 0, NULL },
};

static const struct param_case delay_cases[] = {
	{ "0", 1, "0" }, { "600000", 1, "600000" }, { "1234", 1, "1234" },
	{ "", 0, NULL }, { NULL, 0, NULL }, { "-1", 0, NULL }, { "600001", 0, NULL },
	{ "4294967296", 0, NULL }, { "18446744073709551616", 0, NULL }, { "abc", 0, NULL },
	{ "5abc", 0, NULL }, { "0x10", 0, NULL }, { "\"5 6\"", 0, NULL },
};

static const struct param_case pct_cases[] = {
	{ "1", 1, "1" }, { "100", 1, "100" }, { "50", 1, "50" },
	{ "", 0, NULL }, { NULL, 0, NULL }, { "0", 0, NULL }, { "101", 0, NULL },
	{ "-1", 0, NULL }, { "4294967346", 0, NULL }, { "abc", 0, NULL },
	{ "50%", 0, NULL }, { "0x50", 0, NULL }, { "\"5 6\"", 0, NULL },
};

/* 1 registers random mode's redirects at load (they stay until unload). */
static const struct param_case tenant_cases[] = {
	{ "1", 1, "1" }, { "0", 1, "0" },
	{ "", 0, NULL }, { NULL, 0, NULL }, { "2", 0, NULL }, { "-1", 0, NULL },
	{ "01", 0, NULL }, { "yes", 0, NULL }, { "true", 0, NULL }, { "Y", 0, NULL },
	{ "\"1 0\"", 0, NULL },
};

FIXTURE(params) {
	int was_loaded;
};

FIXTURE_SETUP(params)
{
	self->was_loaded = ep_loaded();
	if (!ep_exists(ep_ko_path()))
		SKIP(return, "no %s", ep_ko_path());
}

FIXTURE_TEARDOWN(params)
{
	if (ep_loaded())
		ep_unload();
	if (self->was_loaded)
		ep_load(NULL);
}

TEST_F_TIMEOUT(params, load_with_bad_values, 250)
{
	char names[8][32], types[8][16], params[320], got[64], path[320];
	char left[2048], why[512] = "";
	int n, i, c, ret, tested = 0, loads = 0, no_random = 0;

	n = module_params(names, types, 8);
	ASSERT_LE(0, n) TH_LOG("read %s", ep_ko_path());
	for (i = 0; i < n; i++)
		TH_LOG("parameter %s (%s)", names[i], types[i]);
	if (ep_loaded())
		ASSERT_EQ(0, ep_unload());
	for (i = 0; i < n; i++) {
		const struct param_case *pc;
		int ncases;

		if (!strcmp(names[i], "mode")) {
			pc = mode_cases;
			ncases = sizeof(mode_cases) / sizeof(mode_cases[0]);
		} else if (!strcmp(names[i], "reuse_delay_ms")) {
			pc = delay_cases;
			ncases = sizeof(delay_cases) / sizeof(delay_cases[0]);
		} else if (!strcmp(names[i], "alarm_pct")) {
			pc = pct_cases;
			ncases = sizeof(pct_cases) / sizeof(pct_cases[0]);
		} else if (!strcmp(names[i], "tenant_random")) {
			pc = tenant_cases;
			ncases = sizeof(tenant_cases) / sizeof(tenant_cases[0]);
		} else {
			/* A parameter nobody tries bad values on is a gap. */
			ASSERT_TRUE(0) TH_LOG("parameter %s: no table of values for it here",
					      names[i]);
		}
		tested++;
		snprintf(path, sizeof(path), EP_SYSFS "/%s", names[i]);
		for (c = 0; c < ncases; c++) {
			if (pc[c].value)
				snprintf(params, sizeof(params), "%s=%s", names[i],
					 pc[c].value);
			else
				snprintf(params, sizeof(params), "%s", names[i]);
			ret = ep_load(params);
			loads++;
			if (pc[c].ok && asks_random(names[i], pc[c].value) &&
			    ep_random_unsupported(ret, why, sizeof(why))) {
				/* Refused as the kernel lacks random mode. */
				ASSERT_NE(0, why[0]) TH_LOG("'%s': no reason given", params);
				ep_leftovers(left, sizeof(left));
				ASSERT_STREQ("", left) TH_LOG("a refused load left things behind");
				no_random++;
				continue;
			}
			if (pc[c].ok) {
				ASSERT_EQ(0, ret) TH_LOG("load with '%s': %s", params,
							 strerror(-ret));
				ASSERT_EQ(0, ep_read(path, got, sizeof(got)));
				got[strcspn(got, "\n")] = 0;
				ASSERT_STREQ(pc[c].reads, got)
					TH_LOG("after '%s', %s reads '%s'", params, path, got);
				ASSERT_EQ(0, ep_unload());
				continue;
			}
			if (!ret)
				ep_unload();
			ASSERT_EQ(-EINVAL, ret)
				TH_LOG("load with '%s': %s", params,
				       ret ? strerror(-ret) : "loaded");
			ep_leftovers(left, sizeof(left));
			ASSERT_STREQ("", left) TH_LOG("a refused load left things behind");
		}
	}
	TH_LOG("figures: %d parameters tested, %d loads", tested, loads);
	ASSERT_EQ(4, tested)
		TH_LOG("the module's mode=, reuse_delay_ms=, alarm_pct= and tenant_random=");
	if (no_random)
		SKIP(return, "%d loads asking for random mode refused: random mode unsupported on this kernel: %s",
		     no_random, why);
}

TEST_HARNESS_MAIN
