/* Clients bench: N processes, each working on a file of its own in a loop of
 * small calls (stat, open, 4 KiB pwrite and pread, fstat, lseek, close) for
 * a fixed time; prints the aggregate calls per second. Processes, not
 * threads, as stress-ng and most services run: each one a client of its own.
 * Standalone (libc only), like thread-bench. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define FILE_BLOCKS 64
#define CALLS_PER_LOOP 7

struct shared {
	volatile int go, stop;
	unsigned long long calls[]; /* one per client */
};

/* One client's loop; its count goes to *calls. 0, or an errno. */
static int client_run(const char *dir, long id, struct shared *sh)
{
	char path[4096], buf[BLOCK];
	struct stat st;
	snprintf(path, sizeof(path), "%s/clients-bench.%ld", dir, id);
	memset(buf, 'c', sizeof(buf));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) < 0)
		return errno;
	while (!sh->go)
		usleep(1000); /* clients outnumber CPUs: let the others start */
	unsigned long long n = 0;
	off_t off = 0;
	while (!sh->stop) {
		if (stat(path, &st) < 0 || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			return errno;
		if (pwrite(fd, buf, BLOCK, off) != BLOCK || pread(fd, buf, BLOCK, off) != BLOCK ||
		    fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_END) < 0) {
			int e = errno ? errno : EIO;
			close(fd);
			return e;
		}
		if (close(fd) < 0)
			return errno;
		off = (off + BLOCK) % (FILE_BLOCKS * BLOCK);
		n += CALLS_PER_LOOP;
		sh->calls[id] = n;
	}
	return unlink(path) < 0 ? errno : 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "Usage: clients-bench DIR CLIENTS SECONDS\n"
				"Prints `clients=N calls_s=X` (aggregate over the processes).\n");
		return 2;
	}
	char *end;
	long clients = strtol(argv[2], &end, 10);
	double seconds = strtod(argv[3], NULL);
	if (*end || clients < 1 || clients > 1024 || !(seconds > 0)) {
		fprintf(stderr, "clients-bench: bad CLIENTS or SECONDS\n");
		return 2;
	}
	size_t size = sizeof(struct shared) + (size_t)clients * sizeof(unsigned long long);
	struct shared *sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("clients-bench: mmap");
		return 1;
	}
	pid_t *pids = calloc((size_t)clients, sizeof(*pids));
	if (!pids)
		return 1;
	for (long i = 0; i < clients; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(client_run(argv[1], i, sh));
		if (pids[i] < 0) {
			perror("clients-bench: fork");
			sh->stop = 1;
			return 1;
		}
	}
	usleep(100000);
	double t0 = now_s();
	sh->go = 1;
	struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	while (nanosleep(&nap, &nap) < 0 && errno == EINTR)
		;
	/* the count at the deadline, not what the clients do while they stop */
	unsigned long long total = 0;
	for (long i = 0; i < clients; i++)
		total += sh->calls[i];
	double t = now_s() - t0;
	sh->stop = 1;
	int err = 0;
	for (long i = 0; i < clients; i++) {
		int status;
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status))
			err = EIO;
		else if (WEXITSTATUS(status))
			err = WEXITSTATUS(status);
	}
	if (err) {
		fprintf(stderr, "clients-bench: a client failed in %s: %s\n", argv[1], strerror(err));
		return 1;
	}
	printf("clients=%ld calls_s=%.0f\n", clients, (double)total / t);
	return 0;
}
