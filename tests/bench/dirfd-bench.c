/* Dirfd Bench: calls relative to an open directory next to the same calls by path, median ns */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "samples.h"

static void report(const char *name, uint64_t *s, size_t n)
{
	uint64_t median, p99;
	bench_order(s, n, &median, &p99);
	printf("%s median_ns=%llu\n", name, (unsigned long long)median);
}

static void die(const char *what)
{
	fprintf(stderr, "dirfd-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* one call, by the open directory d (at) or by the paths p (file f) and m (dir m) */
static int call(int op, int d, const char *p, const char *m, bool at)
{
	struct stat st;
	int fd;
	switch (op) {
	case 0:
		return at ? fstatat(d, "f", &st, 0) : stat(p, &st);
	case 1:
		fd = at ? openat(d, "f", O_RDONLY) : open(p, O_RDONLY);
		return fd < 0 ? -1 : close(fd);
	case 2:
		return at ? fchmodat(d, "f", 0644, 0) : chmod(p, 0644);
	default:
		if ((at ? mkdirat(d, "m", 0755) : mkdir(m, 0755)) < 0)
			return -1;
		return at ? unlinkat(d, "m", AT_REMOVEDIR) : rmdir(m);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: dirfd-bench DIR ITERS\n");
		return 2;
	}
	const char *top = argv[1];
	size_t iters = strtoul(argv[2], NULL, 10);
	if (strlen(top) > 1000 || iters == 0) {
		fprintf(stderr, "dirfd-bench: a shorter DIR, more ITERS\n");
		return 2;
	}
	char dir[1100], p[1100], m[1100];
	snprintf(p, sizeof(p), "%s/a", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/a/b", top);
	mkdir(p, 0755);
	snprintf(dir, sizeof(dir), "%s/a/b/c", top);
	mkdir(dir, 0755);
	snprintf(p, sizeof(p), "%s/a/b/c/f", top);
	snprintf(m, sizeof(m), "%s/a/b/c/m", top);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		die(p);
	close(fd);
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	if (d < 0)
		die(dir);
	uint64_t *s = calloc(iters, sizeof(*s));
	if (!s)
		die("calloc");
	static const char *const names[] = {"stat", "open_close", "chmod", "mkdir_rmdir"};
	for (int op = 0; op < 4; op++)
		for (int at = 1; at >= 0; at--) {
			for (size_t i = 0; i < iters + iters / 10; i++) {
				uint64_t t0 = bench_now_ns();
				if (call(op, d, p, m, at) < 0)
					die(names[op]);
				uint64_t t1 = bench_now_ns();
				if (i >= iters / 10)
					s[i - iters / 10] = t1 - t0;
			}
			char name[64];
			snprintf(name, sizeof(name), "%s_%s", names[op], at ? "at" : "path");
			report(name, s, iters);
		}
	return 0;
}
