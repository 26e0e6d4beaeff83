/* Restart Handles: threads use several open files while their pool is restarted under them */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * restart-handles DIR NFILES SYNC: opens DIR and NFILES files in it, each
 * SIZE bytes of a pattern its own, creates SYNC/ready, and until SYNC/stop
 * exists has two threads per file fstat it, read a block of it and check the
 * bytes, fstatat it through the directory's descriptor, pwrite its last
 * block (the same bytes) and posix_fadvise it. The kernel never fails any
 * of these on a file it keeps open, whatever happens to the server behind
 * it: a pool restarted meanwhile (restart-handles.sh) must not either.
 * Prints what went wrong, one line each, then "done".
 */

#define SIZE 65536
#define BLOCK 4096
#define FILES_MAX 16

static int dirfd_, fds[FILES_MAX];
static const char *sync_dir;
static _Atomic int stop;
static _Atomic unsigned errors[5], first_errno[5], calls;
static const char *what[5] = {"fstat", "pread", "fstatat", "pwrite", "posix_fadvise"};

static unsigned char byte_at(int file, size_t i)
{
	return (unsigned char)(file * 37 + i * 7 + (i >> 12));
}

static void failed(int kind, int err)
{
	unsigned zero = 0;
	atomic_compare_exchange_strong(&first_errno[kind], &zero, (unsigned)(err ? err : -1));
	atomic_fetch_add(&errors[kind], 1);
}

/*
 * Thread 2i works without pause; thread 2i + 1 pauses 250 ms and more
 * between rounds: longer than the library takes to find its pool gone
 * (ipc/chan.c, SLEEP_SLICE_NS), so that it begins calls while the pool is
 * being waited for.
 */
static void *user(void *arg)
{
	int i = (int)(intptr_t)arg / 2, fd = fds[i];
	bool pauses = (intptr_t)arg % 2;
	char name[32];
	snprintf(name, sizeof(name), "h.%d", i);
	unsigned char b[BLOCK], last[BLOCK];
	for (size_t k = 0; k < BLOCK; k++)
		last[k] = byte_at(i, SIZE - BLOCK + k);
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		/* first after a pause: a call that reads its handle before it waits */
		int e = posix_fadvise(fd, 0, SIZE, POSIX_FADV_NORMAL);
		if (e)
			failed(4, e);
		struct stat st;
		errno = 0;
		if (fstatat(dirfd_, name, &st, 0) != 0 || st.st_size != SIZE)
			failed(2, errno);
		errno = 0;
		if (fstat(fd, &st) != 0 || st.st_size != SIZE)
			failed(0, errno);
		size_t at = (size_t)(n % (SIZE / BLOCK)) * BLOCK;
		errno = 0;
		if (pread(fd, b, BLOCK, (off_t)at) != BLOCK)
			failed(1, errno);
		else
			for (size_t k = 0; k < BLOCK; k++)
				if (b[k] != byte_at(i, at + k)) {
					failed(1, 0);
					break;
				}
		errno = 0;
		if (pwrite(fd, last, BLOCK, SIZE - BLOCK) != BLOCK)
			failed(3, errno);
		atomic_fetch_add(&calls, 1);
		if (pauses)
			usleep(250000 + (useconds_t)i * 40000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: restart-handles DIR NFILES SYNC\n");
		return 2;
	}
	int nfiles = atoi(argv[2]);
	sync_dir = argv[3];
	if (nfiles < 1 || nfiles > FILES_MAX) {
		fprintf(stderr, "restart-handles: 1 to %d files\n", FILES_MAX);
		return 2;
	}
	dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (dirfd_ < 0) {
		perror(argv[1]);
		return 2;
	}
	for (int i = 0; i < nfiles; i++) {
		char name[32];
		unsigned char b[SIZE];
		snprintf(name, sizeof(name), "h.%d", i);
		for (size_t k = 0; k < SIZE; k++)
			b[k] = byte_at(i, k);
		fds[i] = openat(dirfd_, name, O_RDWR | O_CREAT | O_TRUNC, 0644);
		/* synced: a Ceph pool's cache dies with it (what it held unsynced is lost) */
		if (fds[i] < 0 || pwrite(fds[i], b, SIZE, 0) != SIZE || fsync(fds[i]) != 0) {
			perror(name);
			return 2;
		}
	}
	pthread_t t[2 * FILES_MAX];
	for (int i = 0; i < 2 * nfiles; i++)
		pthread_create(&t[i], NULL, user, (void *)(intptr_t)i);
	char path[4096];
	snprintf(path, sizeof(path), "%s/ready", sync_dir);
	close(open(path, O_WRONLY | O_CREAT, 0644));
	snprintf(path, sizeof(path), "%s/stop", sync_dir);
	while (access(path, F_OK) != 0)
		usleep(10000);
	unsigned before = atomic_load(&calls);
	usleep(200000); /* still working after the last restart */
	atomic_store(&stop, 1);
	for (int i = 0; i < 2 * nfiles; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&calls) == before)
		printf("no call done after the last restart\n");
	for (int k = 0; k < 5; k++)
		if (errors[k]) {
			int e = (int)first_errno[k];
			printf("%s failed %u times (first: %s)\n", what[k], errors[k],
			       e > 0 ? strerror(e) : "wrong answer");
		}
	printf("done\n");
	return 0;
}
