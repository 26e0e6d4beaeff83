/* Identity Race: threads use open files while another changes the process's identity */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * identity-race DIR MODE SWITCHES [map]: as root, opens DIR/data, then
 * changes the process's identity SWITCHES times there and back (MODE:
 * euid, egid, groups, resuid) while other threads
 *  - pwrite the file (two threads): the kernel never fails a pwrite
 *    because another thread changed who the process is;
 *  - lseek, fcntl(F_SETFL) and fstat another descriptor of it: an offset
 *    or flags set just before a switch stay set;
 *  - open DIR/secret (root's, mode 0600), with the identity read just
 *    before and after, and a count of the changes begun and done around
 *    it: when neither moved, the open ran as that identity and must answer
 *    as it (euid, resuid).
 * With "map", a shared map of the file is open meanwhile, and a thread
 * reading the file (pread) is interrupted by a signal whose handler unmaps
 * one of many small shared maps of it: on a Ceph pool those are copies,
 * whose munmap writes back through the pool from inside the handler, while
 * the interrupted read is in flight and a switch waits for it. Prints what
 * went wrong, one line each, and "done": a kernel directory prints nothing
 * else; a hang is a failure too.
 */

#define SIZE 65536
#define NOBODY 65534
#define SMALL_MAPS 256

static _Atomic int stop;
static _Atomic unsigned changes; /* odd while a change is under way */
static int fd_write, fd_seek;
static const char *secret;
static _Atomic unsigned write_errors, seek_lost, flags_lost, fstat_errors, opens_checked,
	opens_wrong;
static _Atomic int first_write_errno, first_fstat_errno, first_read_errno, wrong_as;
static void *small_maps[SMALL_MAPS];
static volatile sig_atomic_t unmapped;
static _Atomic unsigned read_errors, munmap_errors;
static pthread_t reader_thread;

static void *writer(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg * 4096;
	while (!atomic_load(&stop)) {
		char b[8];
		memcpy(b, &i, sizeof(i));
		memcpy(b + 4, &i, sizeof(i));
		if (pwrite(fd_write, b, sizeof(b), (off_t)((i * 8u) % SIZE)) != (ssize_t)sizeof(b)) {
			int zero = 0;
			atomic_compare_exchange_strong(&first_write_errno, &zero, errno);
			atomic_fetch_add(&write_errors, 1);
		}
		i++;
	}
	return NULL;
}

static void *seeker(void *arg)
{
	(void)arg;
	for (off_t k = 1; !atomic_load(&stop); k++) {
		off_t at = (k * 24) % SIZE;
		if (lseek(fd_seek, at, SEEK_SET) != at || lseek(fd_seek, 0, SEEK_CUR) != at)
			atomic_fetch_add(&seek_lost, 1);
		int want = (k & 1) ? O_APPEND : 0;
		if (fcntl(fd_seek, F_SETFL, want) != 0 ||
		    (fcntl(fd_seek, F_GETFL) & O_APPEND) != want)
			atomic_fetch_add(&flags_lost, 1);
		struct stat st;
		if (fstat(fd_seek, &st) != 0 || st.st_size != SIZE) {
			int zero = 0;
			atomic_compare_exchange_strong(&first_fstat_errno, &zero, errno ? errno : -1);
			atomic_fetch_add(&fstat_errors, 1);
		}
	}
	return NULL;
}

static void *opener(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		unsigned c1 = atomic_load(&changes);
		/* the calling thread's own credentials, as the kernel checks them */
		long e1 = syscall(SYS_geteuid);
		int fd = open(secret, O_RDONLY);
		if (fd >= 0)
			close(fd);
		long e2 = syscall(SYS_geteuid);
		unsigned c2 = atomic_load(&changes);
		if (e1 != e2 || c2 - c1 > 1)
			continue; /* it may have changed while the open ran: either answer is right */
		atomic_fetch_add(&opens_checked, 1);
		if ((e1 == 0) != (fd >= 0)) {
			atomic_fetch_add(&opens_wrong, 1);
			atomic_store(&wrong_as, (int)e1);
		}
	}
	return NULL;
}

/* SIGUSR1: the next small map goes, stored to first so it has something to write back. */
static void unmap_one(int sig)
{
	(void)sig;
	int e = errno;
	if (unmapped < SMALL_MAPS) {
		char *m = small_maps[unmapped++];
		m[0]++;
		if (munmap(m, 4096) != 0)
			atomic_fetch_add(&munmap_errors, 1);
	}
	errno = e;
}

static void *reader(void *arg)
{
	(void)arg;
	char b[4096];
	while (!atomic_load(&stop))
		if (pread(fd_seek, b, sizeof(b), 8192) != (ssize_t)sizeof(b) && errno != EINTR) {
			int zero = 0;
			atomic_compare_exchange_strong(&first_read_errno, &zero, errno);
			atomic_fetch_add(&read_errors, 1);
		}
	return NULL;
}

static void *signaller(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop) && unmapped < SMALL_MAPS) {
		pthread_kill(reader_thread, SIGUSR1);
		usleep(300);
	}
	return NULL;
}

static int change(const char *mode, int away)
{
	atomic_fetch_add(&changes, 1);
	int r;
	gid_t one = NOBODY;
	if (strcmp(mode, "euid") == 0)
		r = seteuid(away ? NOBODY : 0);
	else if (strcmp(mode, "egid") == 0)
		r = setegid(away ? NOBODY : 0);
	else if (strcmp(mode, "groups") == 0)
		r = setgroups(away ? 1 : 0, &one);
	else
		r = setresuid(0, away ? NOBODY : 0, 0);
	atomic_fetch_add(&changes, 1);
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: identity-race DIR euid|egid|groups|resuid SWITCHES [map]\n");
		return 2;
	}
	const char *mode = argv[2];
	int switches = atoi(argv[3]);
	bool map = argc > 4 && strcmp(argv[4], "map") == 0;
	char data[4096], sec[4096];
	snprintf(data, sizeof(data), "%s/data", argv[1]);
	snprintf(sec, sizeof(sec), "%s/secret", argv[1]);
	secret = sec;
	fd_write = open(data, O_RDWR | O_CREAT | O_TRUNC, 0644);
	fd_seek = open(data, O_RDWR);
	if (fd_write < 0 || fd_seek < 0 || ftruncate(fd_write, SIZE) != 0) {
		perror(data);
		return 2;
	}
	void *m = map ? mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd_write, 0) : NULL;
	if (m == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (int i = 0; map && i < SMALL_MAPS; i++) {
		small_maps[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_write, 4096);
		if (small_maps[i] == MAP_FAILED) {
			perror("mmap");
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = unmap_one, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	bool check_opens = strcmp(mode, "euid") == 0 || strcmp(mode, "resuid") == 0;
	pthread_t t[6];
	int nt = 0;
	if (map) {
		pthread_create(&reader_thread, NULL, reader, NULL);
		t[nt++] = reader_thread;
		pthread_create(&t[nt++], NULL, signaller, NULL);
	}
	pthread_create(&t[nt++], NULL, writer, (void *)1);
	pthread_create(&t[nt++], NULL, writer, (void *)2);
	pthread_create(&t[nt++], NULL, seeker, NULL);
	if (check_opens)
		pthread_create(&t[nt++], NULL, opener, NULL);
	for (int i = 0; i < switches; i++)
		if (change(mode, 1) != 0 || change(mode, 0) != 0) {
			perror(mode);
			break;
		}
	atomic_store(&stop, 1);
	for (int i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	if (write_errors)
		printf("pwrite failed %u times (first: %s)\n", write_errors,
		       strerror(first_write_errno));
	if (seek_lost)
		printf("lseek lost its offset %u times\n", seek_lost);
	if (flags_lost)
		printf("F_SETFL lost its flags %u times\n", flags_lost);
	if (fstat_errors)
		printf("fstat failed %u times (first: %s)\n", fstat_errors,
		       first_fstat_errno > 0 ? strerror(first_fstat_errno) : "wrong size");
	if (read_errors)
		printf("pread failed %u times (first: %s)\n", read_errors,
		       strerror(first_read_errno));
	if (munmap_errors)
		printf("munmap failed %u times in a signal handler\n", munmap_errors);
	if (opens_wrong)
		printf("open answered as the other identity %u times of %u (euid %d)\n", opens_wrong,
		       opens_checked, wrong_as);
	if (m && munmap(m, SIZE) != 0)
		perror("munmap");
	printf("done\n");
	return 0;
}
