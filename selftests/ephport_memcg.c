// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_memcg: what ephport allocates for a namespace is charged to the
 * memory cgroup of the task that causes it, and a switch to random mode
 * that runs out of memory there fails whole, without an OOM kill.
 *
 *  - charged: a task in a cgroup of its own writes "random" to the global
 *    mode: every namespace that follows it gets random mode's memory
 *    (about 64 KiB for the kernel's default range), and the cgroup's
 *    memory.current rises by at least that much per namespace;
 *  - enomem: the same in a cgroup whose memory.max leaves room for two
 *    namespaces' memory and not for the rest: the
 *    write fails with ENOMEM, the global mode and every namespace's mode
 *    still read observe, the cgroup gets its memory back (one namespace
 *    can then switch under the same limit), and nothing
 *    was OOM-killed (memory.events: oom_kill 0). A namespace's own
 *    switch, in a cgroup with less room than it needs, fails the same
 *    way. With the limits lifted, both succeed;
 *  - uncharged: what is not charged, ephport's kernfs nodes and proc
 *    entries, measured per namespace and held to what its files come to
 *    in the running kernel (below).
 *
 * A limit is set before the process enters its cgroup: memory charged
 * ahead (the kernel keeps a per-CPU stock of pages charged to the last
 * cgroup that charged) would otherwise let an allocation through.
 *
 * Needs cgroup v2 with the memory controller (mounted here if it is not
 * yet); without it the cases report SKIP, saying so.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <mntent.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "ephport_test.h"

#define NNS 24			/* namespaces following the global mode */
/* Charged ahead and kept per CPU by the kernel: 64 pages on each of two. */
#define STOCK_MAX (2 * 64 * 4096L)
#define REST_MIN 180000		/* random mode's bytes, default range, at least */

/* The cgroup2 mount (mounted on a new directory if none): 0, or -errno. */
static int cg_root(char *root, size_t len)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "r");
	char dir[] = "/tmp/ephport-cg-XXXXXX";

	while (f && (m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(root, len, "%s", m->mnt_dir);
			endmntent(f);
			return 0;
		}
	}
	if (f)
		endmntent(f);
	if (!mkdtemp(dir))
		return -errno;
	if (mount("none", dir, "cgroup2", 0, NULL))
		return -errno;
	snprintf(root, len, "%s", dir);
	return 0;
}

static long cg_val(const char *cg, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return ep_readl(path);
}

/* A "key value" line of a flat-keyed cgroup file, or -1. */
static long cg_key(const char *cg, const char *file, const char *key)
{
	char path[256], buf[4096], *p;
	size_t n = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (ep_read(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, n) && p[n] == ' ')
			return atol(p + n + 1);
	}
	return -1;
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return ep_write(path, val);
}

/* A namespace's ephport mode, from its sysfs file: "observe", "random". */
static int ns_mode_is(unsigned long inum, const char *mode)
{
	char path[128], v[32];

	snprintf(path, sizeof(path), EP_SYSFS "/net/%lu/mode", inum);
	if (ep_read(path, v, sizeof(v)))
		return 0;
	return !strncmp(v, mode, strlen(mode));
}

FIXTURE(memcg) {
	char root[128];
	char cg[192];		/* the switches' cgroup */
	char cg2[200];		/* a second one, for one namespace's own switch */
	int home;		/* this process's network namespace */
	int ns[NNS];		/* the namespaces following the global mode */
	unsigned long inum[NNS];
};

FIXTURE_SETUP(memcg)
{
	char why[160] = "";
	int i, err;

	self->home = -1;
	self->cg[0] = 0;
	self->cg2[0] = 0;
	for (i = 0; i < NNS; i++)
		self->ns[i] = -1;
	ASSERT_EQ(0, ep_ensure_loaded()) TH_LOG("load ephport");
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "observe"));

	err = cg_root(self->root, sizeof(self->root));
	if (err)
		snprintf(why, sizeof(why), "no cgroup2: %s", strerror(-err));
	else if (cg_write(self->root, "cgroup.subtree_control", "+memory"))
		snprintf(why, sizeof(why), "no memory controller in %s",
			 self->root);
	if (why[0])
		SKIP(return, "%s", why);
	snprintf(self->cg, sizeof(self->cg), "%s/ephport-memcg-%d", self->root,
		 getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755)) TH_LOG("mkdir %s", self->cg);
	snprintf(self->cg2, sizeof(self->cg2), "%s-2", self->cg);
	ASSERT_EQ(0, mkdir(self->cg2, 0755)) TH_LOG("mkdir %s", self->cg2);

	/* The namespaces are made outside the cgroup: only the switch is in it. */
	self->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->home);
	for (i = 0; i < NNS; i++) {
		ASSERT_EQ(0, unshare(CLONE_NEWNET));
		self->inum[i] = ep_inum();
		self->ns[i] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, self->ns[i]);
		ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	}
}

FIXTURE_TEARDOWN(memcg)
{
	int i;

	if (self->home >= 0)
		setns(self->home, CLONE_NEWNET);
	ep_write(EP_SYSFS "/mode", "observe");
	for (i = 0; i < NNS; i++)
		if (self->ns[i] >= 0)
			close(self->ns[i]);
	if (self->home >= 0)
		close(self->home);
	if (self->cg[0]) {
		cg_write(self->root, "cgroup.procs", "0");
		rmdir(self->cg);
		rmdir(self->cg2);
	}
}

/* The global switch charges random mode's memory to the writer's cgroup. */
TEST_F(memcg, charged)
{
	long before, after;
	int i;

	ASSERT_EQ(0, cg_write(self->cg, "cgroup.procs", "0"));
	before = cg_val(self->cg, "memory.current");
	ASSERT_LE(0, before);
	EP_ASSERT_RANDOM(ep_write(EP_SYSFS "/mode", "random"));
	after = cg_val(self->cg, "memory.current");
	TH_LOG("memory.current %ld -> %ld bytes for %d namespaces (and any other that follows)",
	       before, after, NNS);
	for (i = 0; i < NNS; i++)
		ASSERT_TRUE(ns_mode_is(self->inum[i], "random"));
	/* Less what the per-CPU stock charged ahead held, if the switch used it. */
	ASSERT_LE((long)NNS * REST_MIN - STOCK_MAX, after - before)
		TH_LOG("random mode's memory is charged to the cgroup that switched");
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "observe"));
	ASSERT_GT(after - (long)NNS * REST_MIN / 2,
		  cg_val(self->cg, "memory.current"))
		TH_LOG("observe mode gives it back");
}

/*
 * At the cgroup's limit a switch to random mode fails with ENOMEM and
 * leaves every namespace as it was; nothing is OOM-killed for it.
 */
TEST_F(memcg, enomem)
{
	long before, after;
	char max[32], v[32];
	int i, err;

	/*
	 * A cgroup new to this process, its limit set before it enters:
	 * nothing is charged there ahead (no per-CPU stock of pages).
	 * Room for two namespaces' memory, not for all of them.
	 */
	snprintf(max, sizeof(max), "%d", 5 * REST_MIN / 2);
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", max));
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.procs", "0"));
	before = cg_val(self->cg, "memory.current");
	ASSERT_LE(0, before);

	err = ep_write(EP_SYSFS "/mode", "random");
	after = cg_val(self->cg, "memory.current");
	TH_LOG("global switch at the limit: %s; memory.current %ld -> %ld, max %s",
	       err ? strerror(-err) : "done", before, after, max);
	EP_SKIP_IF_NO_RANDOM(err);
	ASSERT_EQ(-ENOMEM, err);
	for (i = 0; i < NNS; i++) {
		unsigned long inum = self->inum[i];

		ASSERT_TRUE(ns_mode_is(inum, "observe"))
			TH_LOG("namespace %lu changed", inum);
	}
	ASSERT_EQ(0, ep_read(EP_SYSFS "/mode", v, sizeof(v)));
	ASSERT_EQ(0, strncmp(v, "observe", 7)) TH_LOG("global mode '%s'", v);
	ASSERT_LT(0, cg_key(self->cg, "memory.events", "max"))
		TH_LOG("the limit was reached");
	ASSERT_EQ(0, cg_key(self->cg, "memory.events", "oom_kill"));
	/*
	 * What the switch had prepared is given back: one namespace's own
	 * switch fits again under the same limit. (memory.current may still
	 * count freed pages: the kernel keeps up to 64 per CPU charged ahead,
	 * and gives them up when a charge would fail.)
	 */
	ASSERT_EQ(0, setns(self->ns[1], CLONE_NEWNET));
	err = ep_write(EP_SYSCTL "/mode", "random");
	ASSERT_EQ(0, err) TH_LOG("one namespace after the failure: %s",
				 strerror(-err));
	ASSERT_TRUE(ns_mode_is(self->inum[1], "random"));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "default"));
	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	ASSERT_EQ(0, cg_key(self->cg, "memory.events", "oom_kill"));

	/* One namespace's own switch, with less room than it needs. */
	snprintf(max, sizeof(max), "%d", REST_MIN * 3 / 4);
	ASSERT_EQ(0, cg_write(self->cg2, "memory.max", max));
	ASSERT_EQ(0, cg_write(self->cg2, "cgroup.procs", "0"));
	ASSERT_EQ(0, setns(self->ns[0], CLONE_NEWNET));
	err = ep_write(EP_SYSCTL "/mode", "random");
	/*
	 * Out of the cgroup at its limit before anything else is read: a
	 * read's buffers would be charged there too, and the kernel would
	 * kill this process for them. What was charged stays its cgroup's.
	 */
	ASSERT_EQ(0, cg_write(self->root, "cgroup.procs", "0"));
	TH_LOG("namespace switch at the limit: %s; memory.current %ld, max %s",
	       err ? strerror(-err) : "done", cg_val(self->cg2, "memory.current"),
	       max);
	ASSERT_EQ(-ENOMEM, err);
	ASSERT_TRUE(ns_mode_is(self->inum[0], "observe"));
	ASSERT_EQ(0, cg_key(self->cg2, "memory.events", "oom_kill"));

	/* With the limits lifted, both succeed. */
	ASSERT_EQ(0, cg_write(self->cg2, "memory.max", "max"));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "random"));
	ASSERT_TRUE(ns_mode_is(self->inum[0], "random"));
	ASSERT_EQ(0, ep_write(EP_SYSCTL "/mode", "default"));
	ASSERT_EQ(0, setns(self->home, CLONE_NEWNET));
	ASSERT_EQ(0, cg_write(self->cg, "memory.max", "max"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "random"));
	for (i = 0; i < NNS; i++)
		ASSERT_TRUE(ns_mode_is(self->inum[i], "random"));
	ASSERT_EQ(0, ep_write(EP_SYSFS "/mode", "observe"));
}

/* ---- what is not charged ---- */

#define NCACHES	400

/* Bytes in the objects of each slab cache (/proc/slabinfo). */
struct slabs {
	int n;
	char name[NCACHES][48];
	long bytes[NCACHES];
};

/* Every cache's bytes into @sl; their sum, or -1. */
static long slab_bytes(struct slabs *sl)
{
	char line[512], name[64];
	long active, total = 0, num, objsize;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	sl->n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num,
			   &objsize) != 4)
			continue;
		total += active * objsize;
		if (sl->n < NCACHES) {
			snprintf(sl->name[sl->n], sizeof(sl->name[0]), "%s", name);
			sl->bytes[sl->n++] = active * objsize;
		}
	}
	fclose(f);
	return total;
}

/* The bytes of cache @name in @sl, 0 if it has none. */
static long slab_of(const struct slabs *sl, const char *name)
{
	int i;

	for (i = 0; i < sl->n; i++)
		if (!strcmp(sl->name[i], name))
			return sl->bytes[i];
	return 0;
}

/* A number of /sys/kernel/slab/<cache>/ (SLUB's), or -1. */
static long slab_attr(const char *cache, const char *attr)
{
	char path[192];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", cache, attr);
	return ep_readl(path);
}

/*
 * Every cache gives what its CPUs hold back to its slabs: /proc/slabinfo
 * counts as active an object a CPU keeps free for its next allocation
 * (a CPU slab, or on 7.x a sheaf of freed objects), whole slabs and
 * sheaves at a time. After a shrink, active objects are those in
 * use. 0, or -1 if a cache could not be shrunk.
 */
static int slab_shrink(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;
	char path[320];
	int ret = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		/* A merged cache is a link to the one it shares. */
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		if (ep_write(path, "1"))
			ret = -1;
	}
	closedir(d);
	return ret;
}

/*
 * Namespaces torn down earlier (this test's, or a previous test's) are
 * freed in the background: wait until the caches they use stop moving
 * (three reads 300 ms apart alike, 30 s at most), counting objects in
 * use (slab_shrink()).
 */
static void settle(void)
{
	long ns, kn, last_ns = -1, last_kn = -1;
	int same = 0, i;

	for (i = 0; i < 100 && same < 3; i++) {
		usleep(300000);
		slab_shrink();
		ns = ep_slab_active("net_namespace");
		kn = ep_slab_active("kernfs_node_cache");
		same = ns == last_ns && kn == last_kn ? same + 1 : 0;
		last_ns = ns;
		last_kn = kn;
	}
}

/* What one measure saw: before and after @n namespaces were made. */
struct ns_measure {
	struct slabs before, after;
	double host, charged;	/* bytes per namespace */
};

/*
 * Per namespace, made by a task of @cg: slab bytes the host gained
 * (m->host) and those charged to @cg (m->charged), over @n namespaces.
 * Objects, not pages, on both sides. Per-CPU memory is left out: the
 * host's count (Percpu) moves by whole chunks, far more than a
 * namespace's share (ephport's per-CPU counters are charged).
 */
static int ns_memory(const char *cg, int home, int n, struct ns_measure *m)
{
	long g0, c0, g1, c1;
	int *keep = calloc(n, sizeof(*keep)), i;

	if (!keep)
		return -1;
	settle();
	if (slab_shrink())
		return -1;
	g0 = slab_bytes(&m->before);
	c0 = cg_key(cg, "memory.stat", "slab");
	for (i = 0; i < n; i++) {
		if (unshare(CLONE_NEWNET))
			return -1;
		keep[i] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	}
	if (setns(home, CLONE_NEWNET))
		return -1;
	if (slab_shrink())
		return -1;
	g1 = slab_bytes(&m->after);
	c1 = cg_key(cg, "memory.stat", "slab");
	for (i = 0; i < n; i++)
		close(keep[i]);
	free(keep);
	m->host = (double)(g1 - g0) / n;
	m->charged = (double)(c1 - c0) / n;
	return 0;
}

/* Entries of /proc/net in namespace @ns, or -1. */
static int proc_net_entries(int home, int ns)
{
	int n;

	if (setns(ns, CLONE_NEWNET))
		return -1;
	n = ep_dir_entries("/proc/self/net");
	if (setns(home, CLONE_NEWNET))
		return -1;
	return n;
}

/*
 * What ephport allocates for a namespace and cannot charge: the nodes
 * of its sysfs directory and the two /proc/net entries, which kernfs
 * and procfs allocate from caches without accounting. Measured as the
 * host's slab bytes per namespace that its maker's cgroup was not
 * charged, with ephport loaded, less the same without it, objects in
 * use alone (slab_shrink()), each measure once earlier teardowns are
 * done (settle()).
 *
 * The kernfs nodes and proc entries (kernfs_node_cache and
 * proc_dir_entry, never accounted) must come to what ephport makes:
 * one kernfs node per file of a namespace's directory and one for the
 * directory, one proc entry per file it adds to /proc/net, each the
 * size of its cache's slot (slab_size: the object, aligned, with the
 * allocator's metadata), as counted in this very kernel, within one
 * object of each cache a namespace (the kernel's own per-namespace
 * nodes come and go alike on both sides, but not to the object); the
 * figure per kernel line is the README's. The whole uncharged part, a
 * noisier measure (the kernel's own caches move between runs), must
 * stay within 24 KiB, and ephport's own memory must be charged (the
 * charged part grows with ephport by more than 4 KiB).
 */
#define UNCHARGED_MAX	(24 * 1024)
#define NMEASURE	100

TEST_F(memcg, uncharged)
{
	static struct ns_measure m[2];
	double own, unch, d, nodes = 0, expect;
	long kn_size, pde_size;
	int run, i, kn_files, proc_with, proc_without;
	char dir[128];

	kn_size = slab_attr("kernfs_node_cache", "slab_size");
	pde_size = slab_attr("proc_dir_entry", "slab_size");
	if (kn_size <= 0 || pde_size <= 0 || slab_shrink())
		SKIP(return, "no SLUB sizes or shrink in /sys/kernel/slab (kernfs_node_cache %ld, proc_dir_entry %ld)",
		     kn_size, pde_size);
	/* ephport's files for one namespace, in this kernel. */
	snprintf(dir, sizeof(dir), EP_SYSFS "/net/%lu", self->inum[0]);
	kn_files = ep_dir_entries(dir);
	ASSERT_LT(0, kn_files) TH_LOG("%s", dir);
	proc_with = proc_net_entries(self->home, self->ns[0]);
	ASSERT_LE(0, proc_with);

	ASSERT_EQ(0, cg_write(self->cg, "cgroup.procs", "0"));
	for (run = 1; run >= 0; run--) {
		if (!run)
			ASSERT_EQ(0, ep_unload()) TH_LOG("unload ephport");
		ASSERT_EQ(0, ns_memory(self->cg, self->home, NMEASURE, &m[run]));
		TH_LOG("ephport %s: per namespace %.0f bytes of slab, %.0f of them charged",
		       run ? "loaded" : "unloaded", m[run].host, m[run].charged);
	}
	proc_without = proc_net_entries(self->home, self->ns[0]);
	ASSERT_EQ(0, ep_load(NULL)) TH_LOG("load ephport again");
	ASSERT_LE(0, proc_without);
	/* The caches that grew by 64 bytes a namespace more with ephport. */
	for (i = 0; i < m[1].after.n; i++) {
		const char *c = m[1].after.name[i];

		d = (double)(m[1].after.bytes[i] - slab_of(&m[1].before, c) -
			     slab_of(&m[0].after, c) + slab_of(&m[0].before, c)) /
		    NMEASURE;
		if (d >= 64 || d <= -64)
			TH_LOG("  %s: %+.0f bytes a namespace with ephport", c, d);
		if (!strcmp(c, "kernfs_node_cache") || !strcmp(c, "proc_dir_entry"))
			nodes += d;
	}
	expect = (double)(kn_files + 1) * kn_size +
		 (double)(proc_with - proc_without) * pde_size;
	own = m[1].charged - m[0].charged;
	unch = (m[1].host - m[1].charged) - (m[0].host - m[0].charged);
	TH_LOG("ephport's part per namespace: %.0f bytes charged, %.0f not (at most %d)",
	       own, unch, UNCHARGED_MAX);
	TH_LOG("its kernfs nodes and proc entries: %.0f bytes; it makes %d kernfs nodes of %ld bytes and %d proc entries of %ld: %.0f",
	       nodes, kn_files + 1, kn_size, proc_with - proc_without,
	       pde_size, expect);
	ASSERT_LT(4096, own) TH_LOG("its state is charged");
	ASSERT_LT(0, proc_with - proc_without) TH_LOG("its /proc/net entries");
	ASSERT_GE(expect + kn_size + pde_size, nodes)
		TH_LOG("no more nodes than the files it makes");
	ASSERT_LE(expect - kn_size - pde_size, nodes)
		TH_LOG("the measure sees its files' nodes");
	ASSERT_GE(UNCHARGED_MAX, unch) TH_LOG("what is not charged is as documented");
}

TEST_HARNESS_MAIN
