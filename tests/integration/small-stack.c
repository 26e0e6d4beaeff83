/* Calls that move file data, made from a thread with a small stack (libc-calls.sh) */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Usage: test-small-stack DIR STACK_KIB LIB PROG. A thread with a stack of
 * STACK_KIB (musl gives 128 KiB; programs make smaller ones) splices 64 KiB
 * out of and into DIR/data, copies 64 KiB of it to DIR/copy with sendfile
 * and with copy_file_range, dlopens DIR's copy of LIB and runs DIR's copy
 * of PROG from a child forked there, then a shell handed 400 more of
 * DIR's files (which reads one): calls the library serves with a
 * buffer of its own. A buffer on that stack overflows it into the guard
 * below (SIGSEGV).
 */

static const char *dir;
static char lib[4096], prog[4096];

static int copy(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (in < 0 || out < 0)
		return -1;
	char buf[4096];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	close(in);
	return close(out);
}

static void *work(void *arg)
{
	(void)arg;
	char path[4096];
	snprintf(path, sizeof(path), "%s/data", dir);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int p[2];
	if (fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return "open";
	fcntl(p[1], F_SETPIPE_SZ, 1 << 17);
	loff_t off = 0;
	ssize_t n = splice(fd, &off, p[1], NULL, 65536, 0);
	printf("splice file->pipe: %zd\n", n);
	off = 100000;
	n = splice(p[0], NULL, fd, &off, 65536, 0);
	printf("splice pipe->file: %zd\n", n);
	struct stat st;
	fstat(fd, &st);
	printf("size: %lld\n", (long long)st.st_size);
	/* between two files of DIR: the library copies through a buffer of its own */
	snprintf(path, sizeof(path), "%s/copy", dir);
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return "open copy";
	off_t from = 0;
	n = sendfile(out, fd, &from, 65536);
	printf("sendfile: %zd, offset %lld\n", n, (long long)from);
	loff_t in_at = 4096, out_at = 65536;
	n = copy_file_range(fd, &in_at, out, &out_at, 65536, 0);
	printf("copy_file_range: %zd, offsets %lld %lld\n", n, (long long)in_at, (long long)out_at);
	char got[5] = "";
	fstat(out, &st);
	printf("copy size: %lld, at 100000: %.4s\n", (long long)st.st_size,
	       pread(out, got, 4, 100000) == 4 ? got : "none");
	close(out);
	close(fd);
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	printf("dlopen: %s\n", h ? "ok" : "failed");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {prog, NULL};
		execv(prog, argv);
		_exit(127);
	}
	int status = -1;
	waitpid(pid, &status, 0);
	printf("exec: status %d\n", status);

	/* with 400 more files to hand on: the new environment outgrows a small stack */
	int last = -1;
	for (int i = 0; i < 400; i++)
		if ((last = open(path, O_RDONLY)) < 0)
			return "open 400";
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "head -c 4 /dev/fd/%d && echo", last);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exec with 400 files: status %d\n", status);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR STACK_KIB LIB PROG\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	char path[4096];
	snprintf(path, sizeof(path), "%s/data", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	static char block[100000];
	memset(block, 'd', sizeof(block));
	if (fd < 0 || write(fd, block, sizeof(block)) != (ssize_t)sizeof(block) || close(fd) < 0)
		return perror("data"), 1;
	snprintf(lib, sizeof(lib), "%s/%s", dir, strrchr(argv[3], '/') + 1);
	snprintf(prog, sizeof(prog), "%s/prog", dir);
	if (copy(argv[3], lib, 0755) < 0 || copy(argv[4], prog, 0755) < 0)
		return perror("copy"), 1;
	pthread_attr_t a;
	pthread_attr_init(&a);
	/* a guard wider than any buffer that lands below the stack: SIGSEGV, not a silent overwrite */
	if (pthread_attr_setstacksize(&a, (size_t)atoi(argv[2]) << 10) != 0 ||
	    pthread_attr_setguardsize(&a, 1 << 20) != 0)
		return fprintf(stderr, "bad stack size\n"), 1;
	pthread_t t;
	if (pthread_create(&t, &a, work, NULL) != 0)
		return perror("pthread_create"), 1;
	void *r;
	pthread_join(t, &r);
	printf("%s\n", r ? (char *)r : "done");
	return 0;
}
