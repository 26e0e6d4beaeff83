/* Thread scaling bench: N threads each stat a file or pread 4 KiB from it in a
 * loop for a fixed time; prints the aggregate operations per second.
 * Standalone (libc and pthreads only) so scripts/bench-workloads can build it
 * beside a build directory that lacks it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_BYTES (1 << 20)
#define BLOCK 4096

struct worker {
	pthread_t tid;
	const char *path;
	int pread_op;
	unsigned long long ops;
	int err;
};

static atomic_int go, stop;

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	char buf[BLOCK];
	struct stat st;
	int fd = -1;
	if (w->pread_op && (fd = open(w->path, O_RDONLY | O_CLOEXEC)) < 0) {
		w->err = errno;
		return NULL;
	}
	while (!atomic_load_explicit(&go, memory_order_acquire))
		sched_yield(); /* threads outnumber CPUs: let the others start */
	/* each thread walks its own offsets, so they share the file, not the block */
	off_t off = (off_t)((uintptr_t)w % (FILE_BYTES / BLOCK)) * BLOCK;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (w->pread_op) {
			if (pread(fd, buf, BLOCK, off) != BLOCK) {
				w->err = errno ? errno : EIO;
				break;
			}
			off = (off + 7 * BLOCK) % FILE_BYTES;
		} else if (stat(w->path, &st) < 0) {
			w->err = errno;
			break;
		}
		w->ops++;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The file the threads share: FILE_BYTES of data, written once, read once so
 * every side starts from its cache. */
static int file_prepare(const char *path)
{
	static char block[BLOCK];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	memset(block, 'w', sizeof(block));
	for (off_t off = 0; off < FILE_BYTES; off += BLOCK) {
		if (pwrite(fd, block, BLOCK, off) != BLOCK || pread(fd, block, BLOCK, off) != BLOCK) {
			int r = errno ? -errno : -EIO;
			close(fd);
			return r;
		}
	}
	return close(fd) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[2], "stat") && strcmp(argv[2], "pread"))) {
		fprintf(stderr, "Usage: thread-bench DIR stat|pread THREADS SECONDS\n"
				"Prints `OP threads=N ops_s=X` (aggregate over the threads).\n");
		return 2;
	}
	char path[4096];
	char *end;
	long threads = strtol(argv[3], &end, 10);
	double seconds = strtod(argv[4], NULL);
	if (*end || threads < 1 || threads > 1024 || !(seconds > 0)) {
		fprintf(stderr, "thread-bench: bad THREADS or SECONDS\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/thread-bench.dat", argv[1]);
	int r = file_prepare(path);
	if (r < 0) {
		fprintf(stderr, "thread-bench: %s: %s\n", path, strerror(-r));
		return 1;
	}
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	if (!w) {
		fprintf(stderr, "thread-bench: out of memory\n");
		return 1;
	}
	for (long i = 0; i < threads; i++) {
		w[i].path = path;
		w[i].pread_op = argv[2][0] == 'p';
		if ((r = pthread_create(&w[i].tid, NULL, worker_run, &w[i]))) {
			fprintf(stderr, "thread-bench: pthread_create: %s\n", strerror(r));
			return 1;
		}
	}
	double t0 = now_s();
	atomic_store_explicit(&go, 1, memory_order_release);
	struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&nap, &nap) < 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	unsigned long long total = 0;
	int err = 0;
	for (long i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].ops;
		if (w[i].err)
			err = w[i].err;
	}
	double t = now_s() - t0;
	free(w);
	if (err) {
		fprintf(stderr, "thread-bench: %s on %s: %s\n", argv[2], path, strerror(err));
		return 1;
	}
	printf("%s threads=%ld ops_s=%.0f\n", argv[2], threads, (double)total / t);
	return 0;
}
