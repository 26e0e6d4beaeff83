/* Ceph Bench: the same file operations through POSIX calls (kernel fs,
 * ceph-fuse, Danaus) and in-process libcephfs, interleaved in one process,
 * for scripts/bench-ceph.
 *
 * Why interleaved: a throwaway cluster's speed drifts over minutes (the
 * memstore OSD fills, the MDS's state grows), so clients measured one after
 * another were measured on different clusters, and their ratios moved by
 * tens of percent between runs. Here each phase runs in R rounds; in every
 * round each engine does one batch, in an order that starts at a different
 * engine each round and reverses direction every other round. All engines
 * see the same cluster, and none is always first or last.
 *
 *   ceph-bench [--iters N] [--files F] [--seq-mib M] [--rounds R]
 *              [--cold NAME [--cached-mib C]] [--conf C] [--id ID] [--keyring K]
 *              [--ceph-opt KEY=VALUE]... [--mds-asok PATH] NAME=KIND:DIR...
 *
 * Sequential reads need a file the reading client has never seen: read back
 * right after writing, a 256 MiB file is partly in libcephfs's 200 MiB object
 * cache, and the read measures cache-trimming luck. So with --cold NAME every
 * engine reads DIR/NAME, written beforehand by another client (at least M MiB):
 * seq_read reads M MiB cold (in shares taken from the end backwards, see
 * turn_seq_read), then seq_reread reads its last C MiB (default 64) again,
 * from cache. Without --cold both are skipped.
 *
 * KIND is posix (plain POSIX calls on DIR; run under danaus-run, a path under
 * the pool's mountpoint goes through Danaus) or libcephfs (a mount of "/" in
 * this process; DIR is a path inside CephFS). Output, one line per engine
 * and measure: "NAME OP median_ns=X p99_ns=Y" or "NAME OP mib_s=X". With
 * --mds-asok (the MDS's admin socket), also "NAME OP mds_caps=N": the cap
 * messages the MDS handled during that engine's turns of the phase (one sent
 * as a turn ends may count towards the next turn's engine).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cephfs/libcephfs.h>

#include "cleanup.h"
#include "mds-caps.h"
#include "samples.h"

#define BLOCK 4096u
#define MIB (1u << 20)
#define RAND_FILE_SIZE (64u * MIB)
#define STAT_WARMUP 100
#define MAX_ENGINES 16
#define MAX_CEPH_OPTS 64

struct options {
	size_t iters, files, seq_mib, rounds;
	const char *cold; /* --cold NAME: the file the read phases read, in each DIR */
	size_t cached_mib;
	const char *conf, *id, *keyring;
	const char *mds_asok; /* --mds-asok: count the MDS's cap messages per turn */
	const char *ceph_opts[MAX_CEPH_OPTS]; /* KEY=VALUE */
	size_t n_ceph_opts;
};

/* One client under test: POSIX calls on a directory, or a libcephfs mount. */
struct engine {
	const char *name, *dir;
	bool libcephfs;             /* else POSIX */
	struct ceph_mount_info *cm; /* NULL: POSIX, or libcephfs not mounted yet */
	const UserPerm *perm;
	struct Inode *root;
	char stat_path[PATH_MAX], rand_path[PATH_MAX], seq_path[PATH_MAX], cold_path[PATH_MAX];
	int rand_fd, seq_fd, cold_fd;
	size_t cold_mib, cached_mib; /* the read phases' extent: --seq-mib, --cached-mib */
	uint64_t rng;
	uint64_t *samples; /* latencies of the current phase */
	size_t n_samples;
	uint64_t busy_ns; /* sequential phases: time spent in this engine's turns */
	int64_t mds_caps; /* cap messages the MDS handled during this engine's turns; < 0: unknown */
	size_t done_mib;
	char failed_step[PATH_MAX + 64]; /* what the last failing call did */
};

static char block_buf[BLOCK], mib_buf[MIB];

/* Records what failed, for the one message the caller prints; returns r. */
__attribute__((format(printf, 3, 4))) static int fail(struct engine *e, int r, const char *fmt,
						       ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->failed_step, sizeof(e->failed_step), fmt, ap);
	va_end(ap);
	return r;
}

/* File calls on either kind of engine: 0 (or an fd) or a negative errno. */

static int e_open(struct engine *e, const char *p, int flags, mode_t mode)
{
	if (e->cm)
		return ceph_open(e->cm, p, flags, mode);
	int fd = open(p, flags, mode);
	return fd < 0 ? -errno : fd;
}

static int e_close(struct engine *e, int fd)
{
	if (e->cm)
		return ceph_close(e->cm, fd);
	return close(fd) < 0 ? -errno : 0;
}

static int e_stat(struct engine *e, const char *p)
{
	if (e->cm) {
		struct ceph_statx x;
		return ceph_statx(e->cm, p, &x, CEPH_STATX_BASIC_STATS, 0);
	}
	struct stat st;
	return stat(p, &st) < 0 ? -errno : 0;
}

/* A short transfer of a regular file is a failure here: -EIO. */
static int e_pwrite(struct engine *e, int fd, const void *b, size_t n, off_t off)
{
	ssize_t r = e->cm ? ceph_write(e->cm, fd, b, (int64_t)n, off) : pwrite(fd, b, n, off);
	if (r < 0)
		return e->cm ? (int)r : -errno;
	return (size_t)r == n ? 0 : -EIO;
}

static int e_pread(struct engine *e, int fd, void *b, size_t n, off_t off)
{
	ssize_t r = e->cm ? ceph_read(e->cm, fd, b, (int64_t)n, off) : pread(fd, b, n, off);
	if (r < 0)
		return e->cm ? (int)r : -errno;
	return (size_t)r == n ? 0 : -EIO;
}

static int e_fsync(struct engine *e, int fd)
{
	if (e->cm)
		return ceph_fsync(e->cm, fd, 0);
	return fsync(fd) < 0 ? -errno : 0;
}

static int e_fsize(struct engine *e, int fd, off_t *size)
{
	if (e->cm) {
		struct ceph_statx x;
		int r = ceph_fstatx(e->cm, fd, &x, CEPH_STATX_SIZE, 0);
		if (r == 0)
			*size = (off_t)x.stx_size;
		return r;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*size = st.st_size;
	return 0;
}

static int e_unlink(struct engine *e, const char *p)
{
	if (e->cm)
		return ceph_unlink(e->cm, p);
	return unlink(p) < 0 ? -errno : 0;
}

/* xorshift64: the same reproducible block offsets for every engine */
static off_t random_block(struct engine *e)
{
	e->rng ^= e->rng << 13;
	e->rng ^= e->rng >> 7;
	e->rng ^= e->rng << 17;
	return (off_t)(e->rng % (RAND_FILE_SIZE / BLOCK)) * BLOCK;
}

static void record(struct engine *e, uint64_t t0)
{
	e->samples[e->n_samples++] = bench_now_ns() - t0;
}

/* ---- untimed steps, once per engine ---- */

static int ceph_opt_set(struct engine *e, const char *key_value)
{
	char key[256];
	const char *eq = strchr(key_value, '=');
	if (!eq || eq == key_value || (size_t)(eq - key_value) >= sizeof(key))
		return fail(e, -EINVAL, "--ceph-opt %s: not KEY=VALUE", key_value);
	memcpy(key, key_value, (size_t)(eq - key_value));
	key[eq - key_value] = '\0';
	int r = ceph_conf_set(e->cm, key, eq + 1);
	return r < 0 ? fail(e, r, "ceph_conf_set %s", key_value) : 0;
}

/* The mount's identity: this process's euid, egid and groups (libcephfs copies them). */
static int mount_perms_name(struct engine *e)
{
	int n = getgroups(0, NULL);
	_cleanup_free_ gid_t *groups = n > 0 ? calloc((size_t)n, sizeof(gid_t)) : NULL;
	if (n < 0 || (n > 0 && !groups))
		return fail(e, n < 0 ? -errno : -ENOMEM, "getgroups");
	if (n > 0 && (n = getgroups(n, groups)) < 0)
		return fail(e, -errno, "getgroups");
	UserPerm *perm = ceph_userperm_new(geteuid(), getegid(), n, groups);
	if (!perm)
		return fail(e, -ENOMEM, "ceph_userperm_new");
	int r = ceph_mount_perms_set(e->cm, perm);
	ceph_userperm_destroy(perm);
	return r < 0 ? fail(e, r, "ceph_mount_perms_set") : 0;
}

static int ceph_engine_mount(struct engine *e, const struct options *o)
{
	int r = ceph_create(&e->cm, o->id);
	if (r < 0)
		return fail(e, r, "ceph_create --id %s", o->id);
	if ((r = ceph_conf_read_file(e->cm, o->conf)) < 0)
		return fail(e, r, "ceph_conf_read_file %s", o->conf);
	if (o->keyring && (r = ceph_conf_set(e->cm, "keyring", o->keyring)) < 0)
		return fail(e, r, "ceph_conf_set keyring=%s", o->keyring);
	for (size_t i = 0; i < o->n_ceph_opts; i++)
		if ((r = ceph_opt_set(e, o->ceph_opts[i])) < 0)
			return r;
	/*
	 * libcephfs's default identity is uid -1, which it resolves with geteuid()
	 * at every permission check: a system call per path component (~1.1 us on
	 * some of our VMs, measured). An in-process program at its best names its
	 * identity before mounting, as the pool does for each request.
	 */
	if ((r = ceph_init(e->cm)) < 0)
		return fail(e, r, "ceph_init");
	if ((r = mount_perms_name(e)) < 0)
		return r;
	if ((r = ceph_mount(e->cm, "/")) < 0)
		return fail(e, r, "ceph_mount /");
	e->perm = ceph_mount_perms(e->cm);
	if ((r = ceph_ll_lookup_root(e->cm, &e->root)) < 0)
		return fail(e, r, "ceph_ll_lookup_root");
	r = ceph_mkdirs(e->cm, e->dir, 0755);
	return r < 0 && r != -EEXIST ? fail(e, r, "ceph_mkdirs %s", e->dir) : 0;
}

static int engine_open(struct engine *e, const struct options *o)
{
	snprintf(e->stat_path, sizeof(e->stat_path), "%s/stat-me", e->dir);
	snprintf(e->rand_path, sizeof(e->rand_path), "%s/rand", e->dir);
	snprintf(e->seq_path, sizeof(e->seq_path), "%s/seq", e->dir);
	if (o->cold)
		snprintf(e->cold_path, sizeof(e->cold_path), "%s/%s", e->dir, o->cold);
	if (e->libcephfs)
		return ceph_engine_mount(e, o);
	return mkdir(e->dir, 0755) < 0 && errno != EEXIST ? fail(e, -errno, "mkdir %s", e->dir)
							    : 0;
}

static int engine_close(struct engine *e, const struct options *o)
{
	if (!e->cm)
		return 0;
	ceph_ll_put(e->cm, e->root);
	int r = ceph_unmount(e->cm);
	if (r < 0)
		return fail(e, r, "ceph_unmount");
	ceph_release(e->cm);
	e->cm = NULL;
	return 0;
}

/* A 4 KiB file, stat'ed a few times so it is cached. */
static int stat_file_create(struct engine *e, const struct options *o)
{
	int fd = e_open(e, e->stat_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return fail(e, fd, "create %s", e->stat_path);
	int r = e_pwrite(e, fd, block_buf, BLOCK, 0);
	int rc = e_close(e, fd);
	if (r < 0 || (r = rc) < 0)
		return fail(e, r, "write %s", e->stat_path);
	for (int i = 0; i < STAT_WARMUP; i++)
		if ((r = e_stat(e, e->stat_path)) < 0)
			return fail(e, r, "stat %s", e->stat_path);
	return 0;
}

static int stat_file_remove(struct engine *e, const struct options *o)
{
	int r = e_unlink(e, e->stat_path);
	return r < 0 ? fail(e, r, "unlink %s", e->stat_path) : 0;
}

/* The file of the random-I/O phases: RAND_FILE_SIZE bytes, on stable storage. */
static int rand_file_fill(struct engine *e, const struct options *o)
{
	e->rand_fd = e_open(e, e->rand_path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (e->rand_fd < 0)
		return fail(e, e->rand_fd, "create %s", e->rand_path);
	int r;
	for (size_t off = 0; off < RAND_FILE_SIZE; off += MIB)
		if ((r = e_pwrite(e, e->rand_fd, mib_buf, MIB, (off_t)off)) < 0)
			return fail(e, r, "fill %s", e->rand_path);
	if ((r = e_fsync(e, e->rand_fd)) < 0)
		return fail(e, r, "fsync %s", e->rand_path);
	e->rng = 0x9e3779b97f4a7c15ull;
	return 0;
}

/* Closes *fd (then -1) and removes path: the end of a phase's file. */
static int file_close_remove(struct engine *e, int *fd, const char *path)
{
	int r = e_close(e, *fd);
	*fd = -1;
	if (r < 0 || (r = e_unlink(e, path)) < 0)
		return fail(e, r, "close/unlink %s", path);
	return 0;
}

static int rand_file_remove(struct engine *e, const struct options *o)
{
	return file_close_remove(e, &e->rand_fd, e->rand_path);
}

/*
 * seq_write_fsync writes a new file per engine in consecutive chunks, one
 * chunk per turn, each followed by fsync. It is not read back: the writer's
 * cache holds an unknown part of it (see the read phases below).
 */
static int seq_file_create(struct engine *e, const struct options *o)
{
	e->seq_fd = e_open(e, e->seq_path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	return e->seq_fd < 0 ? fail(e, e->seq_fd, "create %s", e->seq_path) : 0;
}

static int seq_file_remove(struct engine *e, const struct options *o)
{
	return file_close_remove(e, &e->seq_fd, e->seq_path);
}

/*
 * The read phases read the --cold file, which another client wrote, so
 * none of it is in this engine's cache: first MiB [0, M) cold, then the last
 * C MiB of that range again, cached. Opening reads no data: it is opened
 * first thing, so a missing or short file fails the run before it starts.
 */
static int cold_file_open(struct engine *e, const struct options *o)
{
	e->cold_mib = o->seq_mib;
	e->cached_mib = o->cached_mib;
	e->cold_fd = e_open(e, e->cold_path, O_RDONLY, 0);
	if (e->cold_fd < 0)
		return fail(e, e->cold_fd, "open %s (--cold: written beforehand by another client)",
			    e->cold_path);
	off_t size;
	int r = e_fsize(e, e->cold_fd, &size);
	if (r < 0)
		return fail(e, r, "fstat %s", e->cold_path);
	if ((uint64_t)size < (uint64_t)e->cold_mib * MIB)
		return fail(e, -EINVAL, "%s holds %lld bytes, less than --seq-mib %zu MiB",
			    e->cold_path, (long long)size, e->cold_mib);
	return 0;
}

/* MiB i of the cached phase: the window of the last C MiB, wrapping if C < rounds. */
static off_t cached_offset(const struct engine *e, size_t i)
{
	return (off_t)(e->cold_mib - e->cached_mib + i % e->cached_mib) * MIB;
}


static int cold_file_close(struct engine *e, const struct options *o)
{
	int r = e_close(e, e->cold_fd);
	e->cold_fd = -1;
	return r < 0 ? fail(e, r, "close %s", e->cold_path) : 0;
}

/* ---- timed turns: items [first, first + n) of the phase ---- */

static int turn_stat(struct engine *e, size_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int r = e_stat(e, e->stat_path);
		if (r < 0)
			return fail(e, r, "stat %s", e->stat_path);
		record(e, t0);
	}
	return 0;
}

/* The same stat as Danaus' ceph backend does it: an ll_lookup walk from the root. */
static int stat_ll_walk(struct engine *e)
{
	char comp[PATH_MAX], *save = NULL;
	struct Inode *cur = e->root, *next;
	struct ceph_statx x;
	int r = 0;
	snprintf(comp, sizeof(comp), "%s", e->stat_path);
	for (char *c = strtok_r(comp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		r = ceph_ll_lookup(e->cm, cur, c, &next, &x, CEPH_STATX_BASIC_STATS,
				   AT_SYMLINK_NOFOLLOW, e->perm);
		if (cur != e->root)
			ceph_ll_put(e->cm, cur);
		if (r < 0)
			return r;
		cur = next;
	}
	if (cur != e->root)
		ceph_ll_put(e->cm, cur);
	return 0;
}

static int turn_stat_ll(struct engine *e, size_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int r = stat_ll_walk(e);
		if (r < 0)
			return fail(e, r, "ll_lookup walk to %s", e->stat_path);
		record(e, t0);
	}
	return 0;
}

static int turn_open_close(struct engine *e, size_t first, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int fd = e_open(e, e->stat_path, O_RDONLY, 0);
		if (fd < 0)
			return fail(e, fd, "open %s", e->stat_path);
		int r = e_close(e, fd);
		if (r < 0)
			return fail(e, r, "close %s", e->stat_path);
		record(e, t0);
	}
	return 0;
}

static void small_file_path(const struct engine *e, size_t i, char *p, size_t size)
{
	snprintf(p, size, "%s/c%zu", e->dir, i);
}

static int turn_create(struct engine *e, size_t first, size_t n)
{
	char p[PATH_MAX];
	for (size_t i = first; i < first + n; i++) {
		small_file_path(e, i, p, sizeof(p));
		uint64_t t0 = bench_now_ns();
		int fd = e_open(e, p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			return fail(e, fd, "create %s", p);
		int r = e_pwrite(e, fd, block_buf, BLOCK, 0);
		int rc = e_close(e, fd);
		if (r < 0 || (r = rc) < 0)
			return fail(e, r, "write/close %s", p);
		record(e, t0);
	}
	return 0;
}

static int turn_unlink(struct engine *e, size_t first, size_t n)
{
	char p[PATH_MAX];
	for (size_t i = first; i < first + n; i++) {
		small_file_path(e, i, p, sizeof(p));
		uint64_t t0 = bench_now_ns();
		int r = e_unlink(e, p);
		if (r < 0)
			return fail(e, r, "unlink %s", p);
		record(e, t0);
	}
	return 0;
}

/* n random 4 KiB reads or writes in the engine's random-I/O file */
static int random_io(struct engine *e, size_t n, bool write)
{
	for (size_t i = 0; i < n; i++) {
		off_t off = random_block(e);
		uint64_t t0 = bench_now_ns();
		int r = write ? e_pwrite(e, e->rand_fd, block_buf, BLOCK, off)
			      : e_pread(e, e->rand_fd, block_buf, BLOCK, off);
		if (r < 0)
			return fail(e, r, "%s %s at %lld", write ? "pwrite" : "pread", e->rand_path,
				    (long long)off);
		record(e, t0);
	}
	return 0;
}

static int turn_pread(struct engine *e, size_t first, size_t n)
{
	(void)first;
	return random_io(e, n, false);
}

static int turn_pwrite(struct engine *e, size_t first, size_t n)
{
	(void)first;
	return random_io(e, n, true);
}

/* A sequential turn's share of its phase's throughput: n MiB since t0. */
static void count_mib(struct engine *e, uint64_t t0, size_t n)
{
	e->busy_ns += bench_now_ns() - t0;
	e->done_mib += n;
}

/* MiB [first, first + n) of the engine's sequential file, then fsync. */
static int turn_seq_write(struct engine *e, size_t first, size_t n)
{
	uint64_t t0 = bench_now_ns();
	int r;
	for (size_t i = first; i < first + n; i++)
		if ((r = e_pwrite(e, e->seq_fd, mib_buf, MIB, (off_t)i * MIB)) < 0)
			return fail(e, r, "write %s MiB %zu", e->seq_path, i);
	if ((r = e_fsync(e, e->seq_fd)) < 0)
		return fail(e, r, "fsync %s", e->seq_path);
	count_mib(e, t0, n);
	return 0;
}

/*
 * Share [first, first + n) of the cold file, counted from its end: turns take
 * the shares in descending order, each read forwards. In ascending order a
 * client's readahead past its share would run on during the other clients'
 * turns, and its next turn would find data fetched in time nobody measured.
 * Descending, that readahead lands in the share just read. With fewer MiB
 * than rounds, turns of one MiB would run past M: they stop there instead.
 */
static int turn_seq_read(struct engine *e, size_t first, size_t n)
{
	size_t end = first + n < e->cold_mib ? first + n : e->cold_mib;
	if (first >= end)
		return 0;
	size_t start = e->cold_mib - end;
	uint64_t t0 = bench_now_ns();
	for (size_t i = start; i < start + (end - first); i++) {
		int r = e_pread(e, e->cold_fd, mib_buf, MIB, (off_t)i * MIB);
		if (r < 0)
			return fail(e, r, "read %s MiB %zu", e->cold_path, i);
	}
	count_mib(e, t0, end - first);
	return 0;
}

static int turn_seq_reread(struct engine *e, size_t first, size_t n)
{
	uint64_t t0 = bench_now_ns();
	for (size_t i = first; i < first + n; i++) {
		int r = e_pread(e, e->cold_fd, mib_buf, MIB, cached_offset(e, i));
		if (r < 0)
			return fail(e, r, "reread %s at MiB %lld", e->cold_path,
				    (long long)(cached_offset(e, i) / MIB));
	}
	count_mib(e, t0, n);
	return 0;
}

/*
 * Reads the cached window once, untimed (run_phase resets the counts), so
 * seq_reread starts with it in cache.
 */
static int cached_warmup(struct engine *e, const struct options *o)
{
	return turn_seq_reread(e, 0, e->cached_mib);
}

/* ---- the schedule ---- */

enum unit { UNIT_NONE, UNIT_ITERS, UNIT_FILES, UNIT_SEQ_MIB, UNIT_CACHED_MIB };

/*
 * A step is either untimed work done once per engine (`each`) or a measured
 * phase (`turn`, run in rounds); `unit` says which option sizes the phase.
 * Steps marked `cold` run only with --cold.
 */
struct step {
	const char *op;
	int (*each)(struct engine *e, const struct options *o);
	int (*turn)(struct engine *e, size_t first, size_t n);
	enum unit unit;
	bool libcephfs_only, cold;
};

static const struct step schedule[] = {
	{"mount", .each = engine_open},
	{"setup", .each = cold_file_open, .cold = true}, /* a missing file fails here, not later */
	{"setup", .each = stat_file_create},
	{"stat", .turn = turn_stat, .unit = UNIT_ITERS},
	{"stat_ll", .turn = turn_stat_ll, .unit = UNIT_ITERS, .libcephfs_only = true},
	{"open_close", .turn = turn_open_close, .unit = UNIT_ITERS},
	{"create_4k", .turn = turn_create, .unit = UNIT_FILES},
	{"unlink", .turn = turn_unlink, .unit = UNIT_FILES},
	{"setup", .each = rand_file_fill},
	{"pread_4k", .turn = turn_pread, .unit = UNIT_ITERS},
	{"pwrite_4k", .turn = turn_pwrite, .unit = UNIT_ITERS},
	{"cleanup", .each = rand_file_remove},
	{"setup", .each = seq_file_create},
	{"seq_write_fsync", .turn = turn_seq_write, .unit = UNIT_SEQ_MIB},
	{"cleanup", .each = seq_file_remove},
	{"seq_read", .turn = turn_seq_read, .unit = UNIT_SEQ_MIB, .cold = true},
	{"warmup", .each = cached_warmup, .cold = true},
	{"seq_reread", .turn = turn_seq_reread, .unit = UNIT_CACHED_MIB, .cold = true},
	{"cleanup", .each = cold_file_close, .cold = true},
	{"cleanup", .each = stat_file_remove},
	{"unmount", .each = engine_close},
};

struct bench {
	struct options opt;
	struct engine engines[MAX_ENGINES];
	size_t n_engines;
};

static int report_failure(const struct engine *e, const char *op, int r)
{
	fprintf(stderr, "ceph-bench: %s: %s: %s: %s\n", e->name, op, e->failed_step,
		strerror(-r));
	return r;
}

/* Items per turn: an equal share of the phase's total, at least 1. */
static size_t batch_size(const struct options *o, enum unit unit)
{
	size_t total;
	switch (unit) {
	case UNIT_FILES: total = o->files; break;
	case UNIT_SEQ_MIB: total = o->seq_mib; break;
	case UNIT_CACHED_MIB: total = o->cached_mib; break;
	default: total = o->iters; break;
	}
	return total / o->rounds ? total / o->rounds : 1;
}

static bool unit_is_mib(enum unit unit)
{
	return unit == UNIT_SEQ_MIB || unit == UNIT_CACHED_MIB;
}

/*
 * Whose turn is the k-th of round r: round r starts at engine r % n and goes
 * forwards in even rounds, backwards in odd ones.
 */
static size_t turn_owner(size_t round, size_t k, size_t n)
{
	size_t start = round % n;
	return round % 2 ? (start + n - k) % n : (start + k) % n;
}

static void report_latency(const struct engine *e, const char *op)
{
	uint64_t median, p99;
	bench_order(e->samples, e->n_samples, &median, &p99);
	printf("%s %s median_ns=%llu p99_ns=%llu\n", e->name, op, (unsigned long long)median,
	       (unsigned long long)p99);
}

static void report_throughput(const struct engine *e, const char *op)
{
	printf("%s %s mib_s=%.1f\n", e->name, op, (double)e->done_mib * 1e9 / (double)e->busy_ns);
}

static void report_mds_caps(const struct engine *e, const char *op)
{
	if (e->mds_caps >= 0)
		printf("%s %s mds_caps=%lld\n", e->name, op, (long long)e->mds_caps);
}

/* One turn of e, counting the MDS's cap messages meanwhile when asked to. */
static int take_turn(struct bench *b, const struct step *s, struct engine *e, size_t first,
		     size_t n)
{
	const char *asok = b->opt.mds_asok;
	if (!asok || e->mds_caps < 0)
		return s->turn(e, first, n);
	int64_t before = mds_caps_read(asok);
	int r = s->turn(e, first, n);
	int64_t after = before < 0 ? before : mds_caps_read(asok);
	if (after >= before && after >= 0) {
		e->mds_caps += after - before;
		return r;
	}
	if (after < 0)
		fprintf(stderr, "ceph-bench: %s: %s: cannot count the MDS's cap messages at %s: %s\n",
			e->name, s->op, asok, strerror((int)-after));
	else
		fprintf(stderr, "ceph-bench: %s: %s: the MDS's cap count went back from %lld to %lld\n",
			e->name, s->op, (long long)before, (long long)after);
	e->mds_caps = -1; /* not for the rest of this phase */
	return r;
}

static bool takes_part(const struct step *s, const struct engine *e)
{
	return !s->libcephfs_only || e->libcephfs;
}

static int run_phase(struct bench *b, const struct step *s)
{
	size_t n = b->n_engines, batch = batch_size(&b->opt, s->unit);
	for (size_t i = 0; i < n; i++) {
		b->engines[i].n_samples = 0;
		b->engines[i].busy_ns = 0;
		b->engines[i].done_mib = 0;
		b->engines[i].mds_caps = b->opt.mds_asok ? 0 : -1;
	}
	for (size_t round = 0; round < b->opt.rounds; round++) {
		for (size_t k = 0; k < n; k++) {
			struct engine *e = &b->engines[turn_owner(round, k, n)];
			if (!takes_part(s, e))
				continue;
			int r = take_turn(b, s, e, round * batch, batch);
			if (r < 0)
				return report_failure(e, s->op, r);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct engine *e = &b->engines[i];
		if (!takes_part(s, e))
			continue;
		if (unit_is_mib(s->unit))
			report_throughput(e, s->op);
		else
			report_latency(e, s->op);
		report_mds_caps(e, s->op);
	}
	fflush(stdout);
	return 0;
}

static int run_each(struct bench *b, const struct step *s)
{
	for (size_t i = 0; i < b->n_engines; i++) {
		int r = s->each(&b->engines[i], &b->opt);
		if (r < 0)
			return report_failure(&b->engines[i], s->op, r);
	}
	return 0;
}

static int run_schedule(struct bench *b)
{
	if (!b->opt.cold)
		fprintf(stderr, "ceph-bench: no --cold file: skipping seq_read and seq_reread\n");
	for (size_t i = 0; i < sizeof(schedule) / sizeof(*schedule); i++) {
		const struct step *s = &schedule[i];
		if (s->cold && !b->opt.cold)
			continue;
		int r = s->each ? run_each(b, s) : run_phase(b, s);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- command line ---- */

/* NAME=KIND:DIR */
static int engine_parse(struct engine *e, char *spec)
{
	char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || eq == spec || !colon || !colon[1])
		return -EINVAL;
	*eq = *colon = '\0';
	const char *kind = eq + 1;
	*e = (struct engine){
		.name = spec, .dir = colon + 1, .rand_fd = -1, .seq_fd = -1, .cold_fd = -1};
	e->libcephfs = strcmp(kind, "libcephfs") == 0;
	return e->libcephfs || strcmp(kind, "posix") == 0 ? 0 : -EINVAL;
}

static int size_parse(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > SIZE_MAX / MIB)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int options_parse(struct bench *b, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"iters", required_argument, NULL, 'n'},  {"files", required_argument, NULL, 'f'},
		{"seq-mib", required_argument, NULL, 'm'}, {"rounds", required_argument, NULL, 'r'},
		{"conf", required_argument, NULL, 'c'},    {"id", required_argument, NULL, 'i'},
		{"keyring", required_argument, NULL, 'k'}, {"ceph-opt", required_argument, NULL, 'o'},
		{"cold", required_argument, NULL, 'C'},   {"cached-mib", required_argument, NULL, 'M'},
		{"mds-asok", required_argument, NULL, 'A'},
		{0},
	};
	struct options *o = &b->opt;
	*o = (struct options){.iters = 2000, .files = 300, .seq_mib = 256, .rounds = 10,
			      .cached_mib = 64, .id = "admin"};
	for (int c; (c = getopt_long(argc, argv, "n:f:m:r:c:i:k:o:C:M:A:", longopts, NULL)) != -1;) {
		int r = 0;
		switch (c) {
		case 'n': r = size_parse(optarg, &o->iters); break;
		case 'f': r = size_parse(optarg, &o->files); break;
		case 'm': r = size_parse(optarg, &o->seq_mib); break;
		case 'r': r = size_parse(optarg, &o->rounds); break;
		case 'c': o->conf = optarg; break;
		case 'i': o->id = optarg; break;
		case 'k': o->keyring = optarg; break;
		case 'C': o->cold = optarg; break;
		case 'M': r = size_parse(optarg, &o->cached_mib); break;
		case 'A': o->mds_asok = optarg; break;
		case 'o':
			if (o->n_ceph_opts == MAX_CEPH_OPTS)
				return -E2BIG;
			o->ceph_opts[o->n_ceph_opts++] = optarg;
			break;
		default: return -EINVAL;
		}
		if (r < 0)
			return r;
	}
	if (optind == argc || argc - optind > MAX_ENGINES)
		return -EINVAL;
	if (o->cold && !*o->cold)
		return -EINVAL;
	if (o->cached_mib > o->seq_mib) {
		fprintf(stderr, "ceph-bench: --cached-mib %zu is more than --seq-mib %zu\n",
			o->cached_mib, o->seq_mib);
		return -EINVAL;
	}
	for (int i = optind; i < argc; i++) {
		struct engine *e = &b->engines[b->n_engines++];
		if (engine_parse(e, argv[i]) < 0)
			return -EINVAL;
		if (e->libcephfs && !o->conf)
			return -EINVAL;
	}
	return 0;
}

static int samples_alloc(struct bench *b)
{
	const struct options *o = &b->opt;
	size_t iters = batch_size(o, UNIT_ITERS), files = batch_size(o, UNIT_FILES);
	size_t cap = (iters > files ? iters : files) * o->rounds;
	for (size_t i = 0; i < b->n_engines; i++)
		if (!(b->engines[i].samples = calloc(cap, sizeof(uint64_t))))
			return -ENOMEM;
	return 0;
}

static void samples_free(struct bench *b)
{
	for (size_t i = 0; i < b->n_engines; i++)
		free(b->engines[i].samples);
}

int main(int argc, char **argv)
{
	static struct bench b;
	if (options_parse(&b, argc, argv) < 0) {
		fprintf(stderr,
			"Usage: ceph-bench [--iters N] [--files F] [--seq-mib M] [--rounds R]\n"
			"                  [--cold NAME [--cached-mib C]] [--conf C] [--id ID]\n"
			"                  [--keyring K] [--ceph-opt KEY=VALUE]... [--mds-asok PATH]\n"
			"                  NAME=KIND:DIR...   (KIND: posix or libcephfs; "
			"libcephfs needs --conf)\n"
			"--cold NAME: every engine reads DIR/NAME (at least M MiB, written by\n"
			"another client) cold, then its last C MiB (default 64, <= M) cached.\n"
			"--mds-asok PATH: count the MDS's cap messages during each turn.\n");
		return 2;
	}
	memset(block_buf, 'x', sizeof(block_buf));
	memset(mib_buf, 'y', sizeof(mib_buf));
	int r = samples_alloc(&b);
	if (r < 0)
		fprintf(stderr, "ceph-bench: %s\n", strerror(-r));
	else
		r = run_schedule(&b);
	samples_free(&b);
	return r < 0 ? 1 : 0;
}
