/* Switch Signal: a signal handler's call interrupts its thread's first call while a switch waits */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * switch-signal FILE [POOL_PID], as root: with the pool stopped (SIGSTOP)
 * one thread's pwrite is in flight; another thread's seteuid(65534) waits
 * for it (the library's switch of session holds its list of threads
 * meanwhile); a third thread makes its first call (a pread) and, while that
 * waits, a signal handler on it preads. Then the pool goes on (SIGCONT).
 * The kernel fails none of these calls: each must succeed, with the
 * file's bytes. Without POOL_PID (a kernel file) nothing is stopped.
 * Prints what went wrong, one line each, then "done".
 */

static int fd;
static pid_t pool;
static char want[16];
static _Atomic int handler_rc = 1, handler_errno;

static void check_read(const char *who, ssize_t n, int err)
{
	if (n < 0)
		printf("%s: pread failed: %s\n", who, strerror(err));
}

static void on_usr1(int sig)
{
	(void)sig;
	int e = errno;
	char b[16];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	atomic_store(&handler_errno, n < 0 ? errno : 0);
	atomic_store(&handler_rc, n == (ssize_t)sizeof(b) && memcmp(b, want, sizeof(b)) == 0 ? 0
											    : -1);
	errno = e;
}

/* a pwrite of the bytes already there: never served by the library's read cache */
static void *in_flight(void *arg)
{
	(void)arg;
	if (pwrite(fd, want, sizeof(want), 0) != (ssize_t)sizeof(want))
		printf("the call in flight: pwrite failed: %s\n", strerror(errno));
	return NULL;
}

static void *changer(void *arg)
{
	(void)arg;
	if (seteuid(65534) != 0)
		printf("seteuid: %s\n", strerror(errno));
	return NULL;
}

static void *first_call(void *arg)
{
	(void)arg;
	char b[16];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	check_read("the thread's first call", n, errno);
	/* alive until its handler has run (on a kernel file the pread is long done) */
	for (int i = 0; i < 500 && atomic_load(&handler_rc) > 0; i++)
		usleep(10000);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: switch-signal FILE [POOL_PID]\n");
		return 2;
	}
	pool = argc > 2 ? (pid_t)atoi(argv[2]) : 0;
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || pread(fd, want, sizeof(want), 0) != (ssize_t)sizeof(want)) {
		perror(argv[1]);
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	if (pool && kill(pool, SIGSTOP) != 0) {
		perror("SIGSTOP");
		return 2;
	}
	pthread_t a, b, c;
	pthread_create(&a, NULL, in_flight, NULL);
	usleep(200000);
	pthread_create(&b, NULL, changer, NULL);
	usleep(200000);
	pthread_create(&c, NULL, first_call, NULL);
	usleep(200000);
	pthread_kill(c, SIGUSR1);
	usleep(200000);
	if (pool)
		kill(pool, SIGCONT);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(c, NULL);
	if (atomic_load(&handler_rc) > 0)
		printf("the signal handler did not run\n");
	else if (atomic_load(&handler_rc) < 0)
		printf("the signal handler's pread failed: %s\n",
		       atomic_load(&handler_errno) ? strerror(atomic_load(&handler_errno))
						   : "wrong bytes");
	printf("done\n");
	return 0;
}
