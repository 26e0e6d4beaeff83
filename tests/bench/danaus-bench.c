/* Danaus Bench: IPC round-trip and per-operation file latency, median and p99 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "samples.h"

#define FILE_SIZE (1u << 20)
#define BLOCK 4096u

/* Sorts the samples in place and prints one machine-readable line. */
static void report(const char *name, uint64_t *s, size_t n)
{
	uint64_t median, p99;
	bench_order(s, n, &median, &p99);
	printf("%s median_ns=%llu p99_ns=%llu\n", name, (unsigned long long)median,
	       (unsigned long long)p99);
	fflush(stdout);
}

static size_t warmup_of(size_t iters)
{
	return iters / 10 < 1000 ? 1000 : iters / 10;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64: a cheap, reproducible source of block offsets */
static off_t random_block(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (off_t)(rng_state % (FILE_SIZE / BLOCK)) * BLOCK;
}

static int bench_rtt(const char *sock, size_t iters, uint64_t *s)
{
	struct dn_chan c;
	char msg[256];
	int r = dn_chan_connect(&c, sock, msg, sizeof(msg));
	if (r < 0) {
		fprintf(stderr, "danaus-bench: %s\n", msg);
		return 1;
	}
	int buf = dn_chan_buf_claim(&c, (int32_t)getpid());
	if (buf < 0) {
		fprintf(stderr, "danaus-bench: no request buffer: %s\n", strerror(-buf));
		dn_chan_close(&c);
		return 1;
	}
	size_t warm = warmup_of(iters);
	for (size_t i = 0; i < warm + iters; i++) {
		struct dn_req req = {.op = DN_OP_NOP};
		struct dn_reply rep;
		dn_req_payload(&c, (uint32_t)buf, &req, NULL, NULL, NULL, 0);
		uint64_t t0 = bench_now_ns();
		int64_t res = dn_chan_call(&c, (uint32_t)buf, &req, &rep);
		uint64_t t1 = bench_now_ns();
		if (res < 0) {
			fprintf(stderr, "danaus-bench: nop: %s\n", strerror((int)-res));
			dn_chan_close(&c);
			return 1;
		}
		if (i >= warm)
			s[i - warm] = t1 - t0;
	}
	report("rtt_nop", s, iters);
	dn_chan_buf_release(&c, (uint32_t)buf);
	dn_chan_close(&c);

	for (size_t i = 0; i < warm + iters; i++) {
		uint64_t t0 = bench_now_ns();
		syscall(SYS_getppid);
		uint64_t t1 = bench_now_ns();
		if (i >= warm)
			s[i - warm] = t1 - t0;
	}
	report("syscall_getppid", s, iters);
	return 0;
}

static int make_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	static char block[BLOCK];
	memset(block, 'D', sizeof(block));
	for (off_t off = 0; off < FILE_SIZE; off += BLOCK) {
		if (pwrite(fd, block, BLOCK, off) != (ssize_t)BLOCK) {
			int r = -errno;
			close(fd);
			return r ? r : -EIO;
		}
	}
	return fd;
}

enum fileop { OP_STAT, OP_OPEN_CLOSE, OP_PREAD, OP_PWRITE, OP_N };
static const char *const op_names[OP_N] = {"stat", "open_close", "pread_4k", "pwrite_4k"};

/* One timed call; returns its duration or 0 with errno set on failure. */
static uint64_t fileop_once(enum fileop op, const char *path, int fd, char *block)
{
	struct stat st;
	off_t off = random_block();
	uint64_t t0 = bench_now_ns();
	ssize_t r = 0;
	switch (op) {
	case OP_STAT:
		r = stat(path, &st);
		break;
	case OP_OPEN_CLOSE: {
		int f = open(path, O_RDONLY);
		r = f < 0 ? -1 : close(f);
		break;
	}
	case OP_PREAD:
		r = pread(fd, block, BLOCK, off) == (ssize_t)BLOCK ? 0 : -1;
		break;
	case OP_PWRITE:
		r = pwrite(fd, block, BLOCK, off) == (ssize_t)BLOCK ? 0 : -1;
		break;
	default:
		break;
	}
	uint64_t t1 = bench_now_ns();
	if (r < 0) {
		if (!errno)
			errno = EIO;
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

static int bench_fileops(const char *dir, size_t iters, uint64_t *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench-file", dir);
	int fd = make_file(path);
	if (fd < 0) {
		fprintf(stderr, "danaus-bench: cannot create %s: %s\n", path, strerror(-fd));
		return 1;
	}
	static char block[BLOCK];
	int ret = 0;
	size_t warm = warmup_of(iters);
	for (int op = 0; op < OP_N && !ret; op++) {
		for (size_t i = 0; i < warm + iters; i++) {
			uint64_t d = fileop_once((enum fileop)op, path, fd, block);
			if (!d) {
				fprintf(stderr, "danaus-bench: %s on %s: %s\n", op_names[op], path,
					strerror(errno));
				ret = 1;
				break;
			}
			if (i >= warm)
				s[i - warm] = d;
		}
		if (!ret)
			report(op_names[op], s, iters);
	}
	close(fd);
	if (unlink(path) < 0) {
		fprintf(stderr, "danaus-bench: cannot remove %s: %s\n", path, strerror(errno));
		ret = 1;
	}
	return ret;
}

/*
 * Union mode (scripts/bench-union): lookups at two layer depths, a miss, two
 * listings and copy-ups under DIR, laid out by the script. An operation
 * whose target this tree lacks (a plain directory has no lower layers) is
 * left out, so the same binary measures every engine.
 */
enum uop { U_STAT, U_OPEN_CLOSE, U_MISS, U_READDIR };
static const struct {
	const char *name, *path;
	enum uop op;
} union_ops[] = {
	{"stat_top", "usr/lib/top", U_STAT},
	{"open_close_top", "usr/lib/top", U_OPEN_CLOSE},
	{"stat_deep", "usr/lib/deep", U_STAT},
	{"open_close_deep", "usr/lib/deep", U_OPEN_CLOSE},
	{"stat_miss", "usr/lib/miss", U_MISS},
	{"readdir_flat", "flat", U_READDIR},
	{"readdir_merged", "merged", U_READDIR},
};

/* One timed call as fileop_once; *entries gets a listing's length. */
static uint64_t union_once(enum uop op, const char *path, size_t *entries)
{
	struct stat st;
	uint64_t t0 = bench_now_ns();
	int r = 0;
	switch (op) {
	case U_STAT:
		r = stat(path, &st);
		break;
	case U_OPEN_CLOSE: {
		int f = open(path, O_RDONLY);
		r = f < 0 ? -1 : close(f);
		break;
	}
	case U_MISS:
		r = stat(path, &st) == 0 ? (errno = EEXIST, -1) : errno == ENOENT ? 0 : -1;
		break;
	case U_READDIR: {
		DIR *d = opendir(path);
		if (!d) {
			r = -1;
			break;
		}
		size_t n = 0;
		errno = 0;
		while (readdir(d))
			n++;
		r = errno ? -1 : 0;
		closedir(d);
		*entries = n;
		break;
	}
	}
	uint64_t t1 = bench_now_ns();
	if (r < 0) {
		if (!errno)
			errno = EIO;
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

/*
 * Copy-up: DIR/cu/0..n-1 (lower files), each appended one byte once. Each
 * starts with nothing dirty (sync, untimed): a copy-up that fsyncs its copy
 * (the union, overlayfs) would otherwise also write back the one before.
 */
static int union_copyups(const char *dir, size_t n, uint64_t *s)
{
	char path[4096];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/cu/%zu", dir, i);
		sync();
		uint64_t t0 = bench_now_ns();
		int f = open(path, O_WRONLY | O_APPEND);
		int r = f < 0 ? -1 : write(f, "x", 1) == 1 ? 0 : -1;
		if (f >= 0 && close(f) < 0)
			r = -1;
		uint64_t t1 = bench_now_ns();
		if (r < 0) {
			fprintf(stderr, "danaus-bench: copy-up of %s: %s\n", path, strerror(errno));
			return 1;
		}
		s[i] = t1 - t0;
	}
	report("copyup", s, n);
	return 0;
}

static int bench_union(const char *dir, size_t iters, size_t dir_iters, size_t copyups,
		       uint64_t *s)
{
	char path[4096];
	struct stat st;
	for (size_t k = 0; k < sizeof(union_ops) / sizeof(union_ops[0]); k++) {
		int readdir_ = union_ops[k].op == U_READDIR;
		size_t n = readdir_ ? dir_iters : iters, warm = readdir_ ? 2 : warmup_of(iters);
		snprintf(path, sizeof(path), "%s/%s", dir, union_ops[k].path);
		if (union_ops[k].op != U_MISS && stat(path, &st) < 0)
			continue; /* not in this tree */
		size_t entries = 0;
		for (size_t i = 0; i < warm + n; i++) {
			uint64_t d = union_once(union_ops[k].op, path, &entries);
			if (!d) {
				fprintf(stderr, "danaus-bench: %s on %s: %s\n", union_ops[k].name,
					path, strerror(errno));
				return 1;
			}
			if (i >= warm)
				s[i - warm] = d;
		}
		report(union_ops[k].name, s, n);
		if (readdir_)
			printf("%s_entries count=%zu\n", union_ops[k].name, entries);
	}
	snprintf(path, sizeof(path), "%s/cu/0", dir);
	return copyups && stat(path, &st) == 0 ? union_copyups(dir, copyups, s) : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: danaus-bench rtt --socket PATH [--iters N]\n"
		   "       danaus-bench fileops DIR [--iters N]\n"
		   "       danaus-bench union DIR [--iters N] [--dir-iters N] [--copyups N]\n"
		   "Prints `NAME median_ns=.. p99_ns=..` per measured operation.\n");
}

static int parse_count(const char *opt, const char *arg, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || v == 0 || v > 100000000ull) {
		fprintf(stderr, "danaus-bench: bad --%s %s\n", opt, arg);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	size_t iters = 0, dir_iters = 50, copyups = 0;
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"iters", required_argument, NULL, 'n'},
		{"dir-iters", required_argument, NULL, 'd'},
		{"copyups", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	for (int o; (o = getopt_long(argc, argv, "s:n:d:c:h", opts, NULL)) != -1;) {
		switch (o) {
		case 's': sock = optarg; break;
		case 'n':
			if (parse_count("iters", optarg, &iters) < 0)
				return 2;
			break;
		case 'd':
			if (parse_count("dir-iters", optarg, &dir_iters) < 0)
				return 2;
			break;
		case 'c':
			if (parse_count("copyups", optarg, &copyups) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *mode = argv[optind];
	int rtt = strcmp(mode, "rtt") == 0, un = strcmp(mode, "union") == 0;
	if (rtt ? (!sock || optind + 1 != argc)
		: ((!un && strcmp(mode, "fileops") != 0) || optind + 2 != argc)) {
		usage(stderr);
		return 2;
	}
	if (!iters)
		iters = rtt ? 200000 : 20000;
	size_t n = iters;
	if (n < dir_iters)
		n = dir_iters;
	if (n < copyups)
		n = copyups;
	uint64_t *s = calloc(n, sizeof(*s));
	if (!s) {
		fprintf(stderr, "danaus-bench: out of memory\n");
		return 1;
	}
	int r = rtt  ? bench_rtt(sock, iters, s)
		: un ? bench_union(argv[optind + 1], iters, dir_iters, copyups, s)
		     : bench_fileops(argv[optind + 1], iters, s);
	free(s);
	return r;
}
