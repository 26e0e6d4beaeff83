/* Ceph Bench: the same file operations through POSIX calls (kernel fs,
 * ceph-fuse, Danaus) or in-process libcephfs, for scripts/bench-ceph */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cephfs/libcephfs.h>

/* One engine: POSIX on a directory, or libcephfs' path API on a mount. */
struct eng {
	struct ceph_mount_info *cm; /* NULL: POSIX */
	const UserPerm *perm;
	struct Inode *root;
};

static int e_open(struct eng *e, const char *p, int fl, mode_t m)
{
	if (e->cm)
		return ceph_open(e->cm, p, fl, m);
	int fd = open(p, fl, m);
	return fd < 0 ? -errno : fd;
}
static int e_close(struct eng *e, int fd)
{
	return e->cm ? ceph_close(e->cm, fd) : close(fd);
}
static int e_stat(struct eng *e, const char *p)
{
	if (e->cm) {
		struct ceph_statx x;
		return ceph_statx(e->cm, p, &x, CEPH_STATX_BASIC_STATS, 0);
	}
	struct stat st;
	return stat(p, &st) < 0 ? -errno : 0;
}
static ssize_t e_pwrite(struct eng *e, int fd, const void *b, size_t n, off_t off)
{
	if (e->cm)
		return ceph_write(e->cm, fd, b, (int64_t)n, off);
	ssize_t r = pwrite(fd, b, n, off);
	return r < 0 ? -errno : r;
}
static ssize_t e_pread(struct eng *e, int fd, void *b, size_t n, off_t off)
{
	if (e->cm)
		return ceph_read(e->cm, fd, b, (int64_t)n, off);
	ssize_t r = pread(fd, b, n, off);
	return r < 0 ? -errno : r;
}
static int e_fsync(struct eng *e, int fd)
{
	if (e->cm)
		return ceph_fsync(e->cm, fd, 0);
	return fsync(fd) < 0 ? -errno : 0;
}
static int e_unlink(struct eng *e, const char *p)
{
	if (e->cm)
		return ceph_unlink(e->cm, p);
	return unlink(p) < 0 ? -errno : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *name, uint64_t *s, size_t n)
{
	qsort(s, n, sizeof(*s), cmp_u64);
	size_t p99 = n * 99 / 100;
	printf("%s median_ns=%llu p99_ns=%llu\n", name, (unsigned long long)s[n / 2],
	       (unsigned long long)s[p99 < n ? p99 : n - 1]);
	fflush(stdout);
}

#define CHECK(x, what)                                                                             \
	do {                                                                                       \
		long long r_ = (long long)(x);                                                     \
		if (r_ < 0) {                                                                      \
			fprintf(stderr, "ceph-bench: %s: %s\n", what, strerror((int)-r_));         \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static void run(struct eng *e, const char *dir, size_t iters, size_t files, size_t seq_mib)
{
	char p[4096], q[4096];
	uint64_t *s = calloc(iters > files ? iters : files, sizeof(uint64_t));
	static char blk[4096], big[1 << 20];
	memset(blk, 'x', sizeof(blk));
	memset(big, 'y', sizeof(big));

	/* a cached file */
	snprintf(p, sizeof(p), "%s/stat-me", dir);
	int fd = e_open(e, p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd, "create stat-me");
	CHECK(e_pwrite(e, fd, blk, sizeof(blk), 0), "write stat-me");
	e_close(e, fd);
	for (size_t i = 0; i < 100; i++)
		e_stat(e, p);
	for (size_t i = 0; i < iters; i++) {
		uint64_t t = now_ns();
		CHECK(e_stat(e, p), "stat");
		s[i] = now_ns() - t;
	}
	report("stat", s, iters);
	if (e->cm && e->root) {
		/* the same stat as the ceph backend does it: ll_lookup walk + attrs */
		const char *rel = p + 1;
		char comp[4096];
		for (size_t i = 0; i < iters; i++) {
			uint64_t t = now_ns();
			struct Inode *cur = e->root, *next;
			struct ceph_statx x;
			snprintf(comp, sizeof(comp), "%s", rel);
			char *save = NULL;
			int depth = 0;
			for (char *c = strtok_r(comp, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
				CHECK(ceph_ll_lookup(e->cm, cur, c, &next, &x, CEPH_STATX_BASIC_STATS,
						     AT_SYMLINK_NOFOLLOW, e->perm), "ll_lookup");
				if (depth++)
					ceph_ll_put(e->cm, cur);
				cur = next;
			}
			if (depth)
				ceph_ll_put(e->cm, cur);
			s[i] = now_ns() - t;
		}
		report("stat_ll", s, iters);
	}
	for (size_t i = 0; i < iters; i++) {
		uint64_t t = now_ns();
		int f = e_open(e, p, O_RDONLY, 0);
		CHECK(f, "open");
		e_close(e, f);
		s[i] = now_ns() - t;
	}
	report("open_close", s, iters);

	for (size_t i = 0; i < files; i++) {
		snprintf(q, sizeof(q), "%s/c%zu", dir, i);
		uint64_t t = now_ns();
		int f = e_open(e, q, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		CHECK(f, "create");
		CHECK(e_pwrite(e, f, blk, sizeof(blk), 0), "write 4k");
		e_close(e, f);
		s[i] = now_ns() - t;
	}
	report("create_4k", s, files);
	for (size_t i = 0; i < files; i++) {
		snprintf(q, sizeof(q), "%s/c%zu", dir, i);
		uint64_t t = now_ns();
		CHECK(e_unlink(e, q), "unlink");
		s[i] = now_ns() - t;
	}
	report("unlink", s, files);

	/* random 4 KiB I/O in a 64 MiB file */
	const size_t rsize = 64u << 20;
	snprintf(q, sizeof(q), "%s/rand", dir);
	fd = e_open(e, q, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd, "create rand");
	for (size_t o = 0; o < rsize; o += sizeof(big))
		CHECK(e_pwrite(e, fd, big, sizeof(big), (off_t)o), "fill rand");
	CHECK(e_fsync(e, fd), "fsync rand");
	srand(42);
	for (size_t i = 0; i < iters; i++) {
		off_t off = (off_t)((size_t)rand() % (rsize / 4096)) * 4096;
		uint64_t t = now_ns();
		CHECK(e_pread(e, fd, blk, 4096, off), "pread");
		s[i] = now_ns() - t;
	}
	report("pread_4k", s, iters);
	for (size_t i = 0; i < iters; i++) {
		off_t off = (off_t)((size_t)rand() % (rsize / 4096)) * 4096;
		uint64_t t = now_ns();
		CHECK(e_pwrite(e, fd, blk, 4096, off), "pwrite");
		s[i] = now_ns() - t;
	}
	report("pwrite_4k", s, iters);
	e_close(e, fd);
	e_unlink(e, q);

	/* sequential 1 MiB: write + fsync, then read back */
	snprintf(q, sizeof(q), "%s/seq", dir);
	fd = e_open(e, q, O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(fd, "create seq");
	uint64_t t = now_ns();
	for (size_t i = 0; i < seq_mib; i++)
		CHECK(e_pwrite(e, fd, big, sizeof(big), (off_t)(i << 20)), "seq write");
	CHECK(e_fsync(e, fd), "seq fsync");
	uint64_t dt = now_ns() - t;
	printf("seq_write_fsync mib_s=%.1f\n", (double)seq_mib * 1e9 / (double)dt);
	t = now_ns();
	for (size_t i = 0; i < seq_mib; i++)
		CHECK(e_pread(e, fd, big, sizeof(big), (off_t)(i << 20)), "seq read");
	dt = now_ns() - t;
	printf("seq_read mib_s=%.1f\n", (double)seq_mib * 1e9 / (double)dt);
	e_close(e, fd);
	e_unlink(e, q);
	e_unlink(e, p);
	free(s);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *id = "admin", *keyring = NULL;
	size_t iters = 2000, files = 300, seq_mib = 256;
	static const struct option opts[] = {
		{"conf", required_argument, NULL, 'c'}, {"id", required_argument, NULL, 'i'},
		{"keyring", required_argument, NULL, 'k'}, {"iters", required_argument, NULL, 'n'},
		{"files", required_argument, NULL, 'f'}, {"seq-mib", required_argument, NULL, 'm'},
		{0},
	};
	for (int o; (o = getopt_long(argc, argv, "c:i:k:n:f:m:", opts, NULL)) != -1;) {
		switch (o) {
		case 'c': conf = optarg; break;
		case 'i': id = optarg; break;
		case 'k': keyring = optarg; break;
		case 'n': iters = strtoul(optarg, NULL, 10); break;
		case 'f': files = strtoul(optarg, NULL, 10); break;
		case 'm': seq_mib = strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind + 2 != argc || !iters || !files || !seq_mib)
		goto usage;
	const char *mode = argv[optind], *dir = argv[optind + 1];
	struct eng e = {0};
	if (strcmp(mode, "libcephfs") == 0) {
		if (!conf)
			goto usage;
		CHECK(ceph_create(&e.cm, id), "ceph_create");
		CHECK(ceph_conf_read_file(e.cm, conf), "conf");
		if (keyring)
			CHECK(ceph_conf_set(e.cm, "keyring", keyring), "keyring");
		CHECK(ceph_mount(e.cm, "/"), "ceph_mount");
		e.perm = ceph_mount_perms(e.cm);
		CHECK(ceph_ll_lookup_root(e.cm, &e.root), "root");
	} else if (strcmp(mode, "posix") != 0) {
		goto usage;
	}
	run(&e, dir, iters, files, seq_mib);
	if (e.cm) {
		ceph_ll_put(e.cm, e.root);
		ceph_unmount(e.cm);
		ceph_release(e.cm);
	}
	return 0;
usage:
	fprintf(stderr, "Usage: ceph-bench posix DIR [--iters N] [--files N] [--seq-mib N]\n"
			"       ceph-bench libcephfs DIR-IN-CEPHFS --conf F [--id I] [--keyring K] ...\n");
	return 2;
}
