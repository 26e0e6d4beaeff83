/* EFAULT test: every interposed call with bad pointers, each in a child, its answer printed */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

/*
 * Usage: efault DIR HOST. DIR is the directory under test (a Danaus mount
 * when run through danaus-run, a kernel directory for the oracle), HOST a
 * kernel directory in both runs. Each call runs in a child of its own; a
 * line says what it answered ("ok", "-1 EFAULT") or the signal that killed
 * it, so the run without the library is the oracle for the run with it.
 * Paths never appear in the output.
 *
 * Sections: "path" (a bad path pointer: no file named, so the same in both
 * directories), "DIR"/"HOST" (a good path or fd and a bad buffer, name or
 * times; kind "part": a buffer that stops being accessible part way, and
 * the bytes that moved), "sig" (the program's own SIGSEGV/SIGBUS handlers).
 */

static const char *dir, *host;
static char *none_page;     /* PROT_NONE */
static char *page_end;      /* the last byte before a PROT_NONE page */
static char *ro_zero;       /* a read-only page of zeros */
static const char *P;       /* the bad pointer of the case being run */
static const char *volatile null_v; /* NULL, where the compiler must not see one */
static char xdir[4096];     /* the directory of the section: dir or host */
static int xfd_file, xfd_dir, xfd_out; /* opened in X before the children fork */
static int show_count; /* a call's result itself, not just "ok" */

static char *at(const char *name)
{
	static char bufs[4][4096];
	static int n;
	char *b = bufs[n++ % 4];
	snprintf(b, 4096, "%s/%s", xdir, name);
	return b;
}

/* s without its NUL, ending at the last readable byte. */
static const char *edge_string(const char *s)
{
	size_t n = strlen(s);
	memcpy(page_end + 1 - n, s, n);
	return page_end + 1 - n;
}

static void say(const char *section, const char *kind, const char *name, const char *what)
{
	printf("%s/%s/%s: %s\n", section, kind, name, what);
	fflush(stdout);
}

/* Runs f in a child: its result and errno, or the signal that ended it. */
static void run(const char *section, const char *kind, const char *name, long (*f)(void))
{
	int pfd[2];
	if (pipe(pfd) < 0)
		exit(2);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		alarm(20); /* a call that hangs is killed by SIGALRM */
		errno = 0;
		long r = f();
		int e = errno;
		char out[64];
		if (r < 0)
			snprintf(out, sizeof(out), "%ld %s", r, strerrorname_np(e) ? strerrorname_np(e) : "?");
		else if (show_count)
			snprintf(out, sizeof(out), "%ld", r);
		else
			snprintf(out, sizeof(out), "ok");
		if (write(pfd[1], out, strlen(out)) < 0)
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	char buf[64] = "";
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	int st;
	waitpid(pid, &st, 0);
	char what[96];
	if (WIFSIGNALED(st))
		snprintf(what, sizeof(what), "killed by %s", sigabbrev_np(WTERMSIG(st)));
	else if (n > 0)
		snprintf(what, sizeof(what), "%.*s", (int)n, buf);
	else
		snprintf(what, sizeof(what), "exit %d", WEXITSTATUS(st));
	say(section, kind, name, what);
}

#define PTR(e) ((e) ? 0L : -1L)

/* ---- a bad path pointer ---------------------------------------------- */

static struct stat st;
static struct statx stx;
static struct statvfs svfs;
static struct statfs sfs;
static char lbuf[256];

#define PATH_CASES(X)                                                                              \
	X(open, open(P, O_RDONLY))                                                                 \
	X(open_creat, open(P, O_CREAT | O_WRONLY, 0644))                                           \
	X(openat, openat(AT_FDCWD, P, O_RDONLY))                                                   \
	X(openat_dirfd, openat(xfd_dir, P, O_RDONLY))                                              \
	X(creat, creat(P, 0644))                                                                   \
	X(stat, stat(P, &st))                                                                      \
	X(lstat, lstat(P, &st))                                                                    \
	X(fstatat, fstatat(AT_FDCWD, P, &st, 0))                                                   \
	X(fstatat_dirfd, fstatat(xfd_dir, P, &st, 0))                                              \
	X(fstatat_empty, fstatat(xfd_dir, P, &st, AT_EMPTY_PATH))                                  \
	X(statx, statx(AT_FDCWD, P, 0, STATX_BASIC_STATS, &stx))                                   \
	X(statx_empty, statx(xfd_dir, P, AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))                  \
	X(access, access(P, F_OK))                                                                 \
	X(faccessat, faccessat(xfd_dir, P, R_OK, 0))                                               \
	X(euidaccess, euidaccess(P, R_OK))                                                         \
	X(mkdir, mkdir(P, 0755))                                                                   \
	X(mkdirat, mkdirat(xfd_dir, P, 0755))                                                      \
	X(mknod, mknod(P, S_IFREG | 0644, 0))                                                      \
	X(mkfifo, mkfifo(P, 0644))                                                                 \
	X(unlink, unlink(P))                                                                       \
	X(unlinkat, unlinkat(xfd_dir, P, 0))                                                       \
	X(rmdir, rmdir(P))                                                                         \
	X(rename_from, rename(P, at("renamed")))                                                   \
	X(rename_to, rename(at("file"), P))                                                        \
	X(renameat2, renameat2(xfd_dir, P, AT_FDCWD, at("renamed"), 0))                            \
	X(link_from, link(P, at("linked")))                                                        \
	X(link_to, link(at("file"), P))                                                            \
	X(linkat_empty, linkat(xfd_file, P, AT_FDCWD, at("linked"), AT_EMPTY_PATH))                \
	X(symlink_target, symlink(P, at("sym")))                                                   \
	X(symlink_path, symlink("file", P))                                                        \
	X(symlinkat, symlinkat("file", xfd_dir, P))                                                \
	X(truncate, truncate(P, 0))                                                                \
	X(chmod, chmod(P, 0644))                                                                   \
	X(fchmodat, fchmodat(xfd_dir, P, 0644, 0))                                                 \
	X(chown, chown(P, (uid_t)-1, (gid_t)-1))                                                   \
	X(lchown, lchown(P, (uid_t)-1, (gid_t)-1))                                                 \
	X(fchownat_empty, fchownat(xfd_dir, P, (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH))               \
	X(readlink, readlink(P, lbuf, sizeof(lbuf)))                                               \
	X(readlinkat, readlinkat(xfd_dir, P, lbuf, sizeof(lbuf)))                                  \
	X(utimensat, utimensat(AT_FDCWD, P, NULL, 0))                                              \
	X(utimensat_dirfd, utimensat(xfd_dir, P, NULL, 0))                                         \
	X(utimes, utimes(P, NULL))                                                                 \
	X(lutimes, lutimes(P, NULL))                                                               \
	X(utime, utime(P, NULL))                                                                   \
	X(futimesat, futimesat(xfd_dir, P, NULL))                                                  \
	X(statvfs, statvfs(P, &svfs))                                                              \
	X(statfs, statfs(P, &sfs))                                                                 \
	X(getxattr, getxattr(P, "user.a", lbuf, sizeof(lbuf)))                                     \
	X(lgetxattr, lgetxattr(P, "user.a", lbuf, sizeof(lbuf)))                                   \
	X(listxattr, listxattr(P, lbuf, sizeof(lbuf)))                                             \
	X(setxattr, setxattr(P, "user.b", "v", 1, 0))                                              \
	X(removexattr, removexattr(P, "user.a"))                                                   \
	X(chdir, chdir(P))                                                                         \
	X(opendir, PTR(opendir(P)))                                                                \
	X(fopen, PTR(fopen(P, "r")))                                                               \
	X(freopen, PTR(freopen(P, "r", stdin)))                                                    \
	X(realpath, PTR(realpath(P, NULL)))                                                        \
	X(scandir, scandir(P, &(struct dirent **){0}, NULL, NULL))                                 \
	X(mkstemp, mkstemp((char *)P))                                                             \
	X(nftw, nftw(P, walk_fn, 4, FTW_PHYS))

static int walk_fn(const char *p, const struct stat *s, int flag, struct FTW *f)
{
	(void)p, (void)s, (void)flag, (void)f;
	return 0;
}

#define PATH_FN(name, expr)                                                                        \
	static long path_##name(void)                                                              \
	{                                                                                          \
		return (long)(expr);                                                               \
	}
PATH_CASES(PATH_FN)

static void path_cases(void)
{
	struct {
		const char *kind;
		const char *p;
	} kinds[] = {
		{"null", NULL},
		{"wild", (const char *)0xdeadc0de},
		{"none", none_page},
		{"edge-dir", NULL},
		{"edge-host", NULL},
	};
	char full[4096];
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
#define PATH_RUN(name, expr)                                                                       \
	snprintf(xdir, sizeof(xdir), "%s", dir);                                                         \
	if (k == 3 || k == 4) {                                                                    \
		snprintf(full, sizeof(full), "%s/file", k == 3 ? dir : host);                      \
		P = edge_string(full);                                                             \
	} else {                                                                                   \
		P = kinds[k].p;                                                                    \
	}                                                                                          \
	run("path", kinds[k].kind, #name, path_##name);
		PATH_CASES(PATH_RUN)
	}
	/* relative, from a working directory in the directory under test */
	if (chdir(dir) < 0)
		exit(2);
	P = (const char *)0xdeadc0de;
	run("path", "wild-cwd-inside", "stat", path_stat);
	run("path", "wild-cwd-inside", "open", path_open);
	P = NULL;
	run("path", "null-cwd-inside", "mkdir", path_mkdir);
	if (chdir("/") < 0)
		exit(2);
}

/* ---- a good path or fd, a bad buffer, name or times -------------------- */

static char *tmpl_ro; /* a template in a read-only page: set up per section */

#define BUF_CASES(X)                                                                               \
	X(stat, stat(at("file"), (struct stat *)P))                                                \
	X(lstat, lstat(at("link"), (struct stat *)P))                                              \
	X(fstatat, fstatat(xfd_dir, "file", (struct stat *)P, 0))                                  \
	X(fstatat_empty, fstatat(xfd_file, "", (struct stat *)P, AT_EMPTY_PATH))                   \
	X(statx, statx(AT_FDCWD, at("file"), 0, STATX_BASIC_STATS, (struct statx *)P))             \
	X(statvfs, statvfs(at("file"), (struct statvfs *)P))                                       \
	X(statfs, statfs(at("file"), (struct statfs *)P))                                          \
	X(readlink, readlink(at("link"), (char *)P, 100))                                          \
	X(readlink_missing, readlink(at("missing"), (char *)P, 100))                               \
	X(getxattr, getxattr(at("file"), "user.a", (void *)P, 100))                                \
	X(getxattr_name, getxattr(at("file"), P, lbuf, sizeof(lbuf)))                              \
	X(getxattr_name_missing, getxattr(at("missing"), P, lbuf, sizeof(lbuf)))                   \
	X(listxattr, listxattr(at("file"), (char *)P, 100))                                        \
	X(setxattr_value, setxattr(at("file"), "user.b", P, 10, 0))                                \
	X(setxattr_name, setxattr(at("file"), P, "v", 1, 0))                                       \
	X(removexattr_name, removexattr(at("file"), P))                                            \
	X(symlink_target_dir, symlink(P, at("sym")))                                               \
	X(utimensat_times, utimensat(AT_FDCWD, at("file"), (const struct timespec *)P, 0))         \
	X(utimes_tv, utimes(at("file"), (const struct timeval *)P))                                \
	X(lutimes_tv, lutimes(at("file"), (const struct timeval *)P))                              \
	X(futimesat_tv, futimesat(xfd_dir, "file", (const struct timeval *)P))                     \
	X(utime_buf, utime(at("file"), (const struct utimbuf *)P))                                 \
	X(getcwd, getcwd_in_x((char *)P))                                                          \
	X(realpath_resolved, PTR(realpath(at("file"), (char *)P)))                                 \
	X(scandir_list, scandir(xdir, (struct dirent ***)P, NULL, NULL))                              \
	X(mkstemp_ro, mkstemp(tmpl_ro))                                                            \
	X(fopen_mode, PTR(fopen(at("file"), P)))                                                   \
	X(fdopen_mode, PTR(fdopen(dup(xfd_file), P)))                                              \
	X(getdents64, getdents64_fresh((void *)P))                                                 \
	X(fstatvfs, fstatvfs(xfd_file, (struct statvfs *)P))                                       \
	X(fstatfs, fstatfs(xfd_file, (struct statfs *)P))                                          \
	X(fgetxattr, fgetxattr(xfd_file, "user.a", (void *)P, 100))                                \
	X(fgetxattr_name, fgetxattr(xfd_file, P, lbuf, sizeof(lbuf)))                              \
	X(flistxattr, flistxattr(xfd_file, (char *)P, 100))                                        \
	X(fsetxattr_value, fsetxattr(xfd_file, "user.b", P, 10, 0))                                \
	X(fremovexattr_name, fremovexattr(xfd_file, P))                                            \
	X(futimens, futimens(xfd_file, (const struct timespec *)P))                                \
	X(futimes, futimes(xfd_file, (const struct timeval *)P))                                   \
	X(fchownat_empty_null, fchownat(xfd_file, null_v, (uid_t)-1, (gid_t)-1, AT_EMPTY_PATH))      \
	X(fstatat_empty_null, fstatat(xfd_file, null_v, &st, AT_EMPTY_PATH))                         \
	X(statx_empty_null, statx(xfd_file, null_v, AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))         \
	X(utimensat_null, utimensat(xfd_file, null_v, NULL, 0))                                      \
	FD_CASES(X)

/* Descriptor calls served in io.c/ops.c. */
#define FD_CASES(X)                                                                                \
	X(fstat, fstat(xfd_file, (struct stat *)P))                                                \
	X(read, read(xfd_file, (void *)P, 100))                                                    \
	X(pread, pread(xfd_file, (void *)P, 100, 0))                                               \
	X(pread_eof, pread(xfd_file, (void *)P, 100, 1 << 20))                                     \
	X(pread_big, pread(xfd_file, (void *)P, 1 << 20, 0))                                       \
	X(pread_big_eof, pread(xfd_file, (void *)P, 1 << 20, 1 << 20))                             \
	X(write, write(xfd_file, P, 10))                                                           \
	X(pwrite, pwrite(xfd_file, P, 10, 0))                                                      \
	X(readv_iov, readv(xfd_file, (const struct iovec *)P, 1))                                  \
	X(readv_base, readv(xfd_file, &(struct iovec){(void *)P, 100}, 1))                         \
	X(writev_iov, writev(xfd_file, (const struct iovec *)P, 1))                                \
	X(writev_base, writev(xfd_file, &(struct iovec){(void *)P, 10}, 1))                        \
	X(preadv_base, preadv(xfd_file, &(struct iovec){(void *)P, 100}, 1, 0))                    \
	X(preadv_eof_base, preadv(xfd_file, &(struct iovec){(void *)P, 100}, 1, 1 << 20))          \
	X(preadv_eof_iov, preadv(xfd_file, (const struct iovec *)P, 1, 1 << 20))                   \
	X(pwritev_base, pwritev(xfd_file, &(struct iovec){(void *)P, 10}, 1, 0))                   \
	X(fcntl_getlk, fcntl(xfd_file, F_GETLK, (struct flock *)P))                                \
	X(fcntl_setlk, fcntl(xfd_file, F_SETLK, (struct flock *)P))                                \
	X(fcntl_ofd_getlk, fcntl(xfd_file, F_OFD_GETLK, (struct flock *)P))                        \
	X(copy_file_range_in, copy_file_range(xfd_file, off_p(), xfd_out, NULL, 4, 0))             \
	X(copy_file_range_out, copy_file_range(xfd_file, NULL, xfd_out, off_p(), 4, 0))            \
	X(sendfile_off, sendfile(xfd_out, xfd_file, off_p(), 4))

/*
 * P as an offset; at the edge, an offset cut off by the page like the
 * strings (the whole eight bytes before it, "uuuuuuuu", are an offset past
 * any file system's limit: EFBIG and EOVERFLOW, which is another test).
 */
static off_t *off_p(void)
{
	return (off_t *)(P == page_end - 7 ? P + 1 : P);
}

static long getcwd_in_x(char *buf)
{
	if (chdir(xdir) < 0)
		return -2;
	return PTR(getcwd(buf, 4096));
}

static long getdents64_fresh(void *buf)
{
	int fd = open(xdir, O_RDONLY | O_DIRECTORY);
	return fd < 0 ? -2 : (long)getdents64(fd, buf, 4096);
}

#define BUF_FN(name, expr)                                                                         \
	static long buf_##name(void)                                                               \
	{                                                                                          \
		return (long)(expr);                                                               \
	}
BUF_CASES(BUF_FN)

static void buf_cases(const char *section, const char *d)
{
	snprintf(xdir, sizeof(xdir), "%s", d);
	xfd_file = open(at("file"), O_RDWR);
	xfd_dir = open(xdir, O_RDONLY | O_DIRECTORY);
	xfd_out = open(at("out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (xfd_file < 0 || xfd_dir < 0 || xfd_out < 0)
		exit(2);
	/* a template the program cannot write: a page made read-only */
	char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(ro, 4096, "%s/tmpXXXXXX", d);
	mprotect(ro, 4096, PROT_READ);
	tmpl_ro = ro;
	struct {
		const char *kind;
		const char *p;
	} kinds[] = {
		{"null", NULL},
		{"wild", (const char *)0xdeadc0de},
		{"none", none_page},
		{"edge", page_end - 7},
	};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		P = kinds[k].p;
		/* the edge of a page is also a string cut off by it */
		if (k == 3)
			memset(page_end - 7, 'u', 8);
#define BUF_RUN(name, expr) run(section, kinds[k].kind, #name, buf_##name);
		BUF_CASES(BUF_RUN)
	}
	/* a buffer the kernel can read but not write: read, fstat, F_GETLK, offsets written back */
	P = ro_zero;
#define FD_RUN(name, expr) run(section, "ro", #name, buf_##name);
	FD_CASES(FD_RUN)
	close(xfd_file);
	close(xfd_dir);
	close(xfd_out);
}

/* ---- a buffer accessible in part: the bytes that move, as the kernel counts them ---- */

static char *part; /* two pages to read and write, then a PROT_NONE one */
static int xfd_big; /* 2 MiB */

#define IOV2(a, an, b, bn) ((const struct iovec[]){{(void *)(a), (an)}, {(void *)(b), (bn)}})
#define PART_CASES(X)                                                                              \
	X(pread, pread(xfd_big, part, 16384, 0))                                                   \
	X(pread_unaligned, pread(xfd_big, part + 4086, 16384, 0))                                  \
	X(pread_tail, pread(xfd_big, part + 8000, 16384, (2 << 20) - 100))                         \
	X(pread_stream, pread(xfd_big, part + 100, 1 << 20, 0))                                    \
	X(read, read(xfd_big, part + 4086, 16384))                                                 \
	X(read_offset, lseek(xfd_big, 0, SEEK_CUR)) /* moved by what was read */                   \
	X(preadv, preadv(xfd_big, IOV2(part, 100, part + 4096, 8192), 2, 0))                       \
	X(pwrite, pwrite(xfd_out, part, 16384, 0))                                                 \
	X(pwrite_unaligned, pwrite(xfd_out, part + 4086, 16384, 0))                                \
	X(write, write(xfd_out, part + 4086, 16384))                                               \
	X(write_offset, lseek(xfd_out, 0, SEEK_CUR))                                               \
	X(pwritev, pwritev(xfd_out, IOV2(part, 100, part + 4096, 8192), 2, 0))                     \
	X(pwritev_big, pwritev(xfd_out, IOV2(part, 100, part + 4096, 2 << 20), 2, 0))              \
	X(pwritev_second, pwritev(xfd_out, IOV2(part, 100, part + 8192, 10), 2, 0))

#define PART_FN(name, expr)                                                                        \
	static long part_##name(void)                                                              \
	{                                                                                          \
		return (long)(expr);                                                               \
	}
PART_CASES(PART_FN)

static void part_cases(const char *section, const char *d)
{
	snprintf(xdir, sizeof(xdir), "%s", d);
	xfd_big = open(at("big"), O_RDONLY);
	xfd_out = open(at("out"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (xfd_big < 0 || xfd_out < 0)
		exit(2);
	show_count = 1;
#define PART_RUN(name, expr) run(section, "part", #name, part_##name);
	PART_CASES(PART_RUN)
	show_count = 0;
	close(xfd_big);
	close(xfd_out);
}

/* ---- the program's own SIGSEGV/SIGBUS handlers -------------------------- */

static volatile sig_atomic_t calls, masked_self, masked_usr1;
static sigjmp_buf back;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	calls++;
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	masked_self = sigismember(&now, sig);
	masked_usr1 = sigismember(&now, SIGUSR1);
	if (si->si_addr == (void *)0xdeadc0de)
		siglongjmp(back, 1);
	signal(sig, SIG_DFL); /* not the fault it expects: die of it, do not loop */
}

static void on_bus(int sig)
{
	(void)sig;
}

static void fault(void)
{
	*(volatile int *)0xdeadc0de = 1;
}

static long sig_default_fault(void)
{
	fault();
	return 0;
}

static long sig_ignored_fault(void)
{
	signal(SIGSEGV, SIG_IGN);
	fault();
	return 0;
}

static long sig_ignored_kill(void)
{
	signal(SIGSEGV, SIG_IGN);
	kill(getpid(), SIGSEGV);
	return 0;
}

static long sig_default_kill(void)
{
	kill(getpid(), SIGSEGV);
	return 0;
}

static long sig_resethand(void)
{
	struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_RESETHAND};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	if (sigsetjmp(back, 1) == 0)
		fault();
	struct sigaction q;
	sigaction(SIGSEGV, NULL, &q);
	printf("sig/resethand: after one: %s calls=%d\n",
	       q.sa_handler == SIG_DFL ? "SIG_DFL" : "other", (int)calls);
	fflush(stdout);
	fault(); /* the default now */
	return 0;
}

static long sig_bad_stat_with_handler(void)
{
	/* A bad pointer to a Danaus path call: EFAULT, the program's handler untouched. */
	struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	char full[4096];
	snprintf(full, sizeof(full), "%s/file", dir);
	int r = stat(edge_string(full), &st);
	int e = errno;
	r += stat(full, (struct stat *)none_page);
	printf("sig/bad-stat: r=%d %s calls=%d\n", r, strerrorname_np(e), (int)calls);
	fflush(stdout);
	return 0;
}

static void show_action(const char *what, int sig, uintptr_t mine)
{
	struct sigaction q;
	sigaction(sig, NULL, &q);
	printf("sig/%s: handler=%s flags=%#x usr1-masked=%d self-masked=%d\n", what,
	       (uintptr_t)q.sa_handler == mine    ? "mine"
	       : q.sa_handler == SIG_DFL          ? "SIG_DFL"
	       : q.sa_handler == SIG_IGN          ? "SIG_IGN"
						  : "other",
	       (unsigned)q.sa_flags, sigismember(&q.sa_mask, SIGUSR1), sigismember(&q.sa_mask, sig));
}

/* A handler set before the library's first guarded call (main, first thing), queried after. */
static void set_early_handler(void)
{
	struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	sigaction(SIGSEGV, &sa, NULL);
}

static void sig_cases(void)
{
	struct sigaction sa;
	show_action("set-before", SIGSEGV, (uintptr_t)on_segv);
	show_action("bus-initial", SIGBUS, 0);
	if (sigsetjmp(back, 1) == 0)
		fault();
	printf("sig/fault: calls=%d self-masked=%d usr1-masked=%d\n", (int)calls, (int)masked_self,
	       (int)masked_usr1);
	/* signal() answers the previous handler, both ways */
	printf("sig/signal: first=%s\n", signal(SIGBUS, on_bus) == SIG_DFL ? "SIG_DFL" : "other");
	printf("sig/signal: second=%s\n", signal(SIGBUS, SIG_DFL) == on_bus ? "mine" : "other");
	show_action("bus-after-signal", SIGBUS, (uintptr_t)on_bus);
	printf("sig/sysv_signal: %s\n", sysv_signal(SIGBUS, on_bus) == SIG_DFL ? "SIG_DFL" : "other");
	show_action("bus-after-sysv", SIGBUS, (uintptr_t)on_bus);
	printf("sig/sigignore: %d\n", sigignore(SIGBUS));
	show_action("bus-after-sigignore", SIGBUS, 0);
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigaction(SIGBUS, &dfl, NULL);
	show_action("bus-after-dfl", SIGBUS, 0);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGSEGV, &sa, NULL);
	fflush(stdout);
	run("sig", "segv", "default-fault", sig_default_fault);
	run("sig", "segv", "default-kill", sig_default_kill);
	run("sig", "segv", "ignored-fault", sig_ignored_fault);
	run("sig", "segv", "ignored-kill", sig_ignored_kill);
	run("sig", "segv", "resethand", sig_resethand);
	run("sig", "segv", "bad-stat-with-handler", sig_bad_stat_with_handler);
}

/* ---- the files each directory holds ---------------------------------- */

static void setup(const char *d)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/file", d);
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || write(fd, "hello, world\n", 13) != 13)
		exit(2);
	close(fd);
	setxattr(p, "user.a", "value", 5, 0); /* both sides answer alike without xattrs */
	char l[4096];
	snprintf(l, sizeof(l), "%s/link", d);
	unlink(l);
	if (symlink("file", l) < 0)
		exit(2);
	snprintf(p, sizeof(p), "%s/sub", d);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/big", d);
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	static char block[65536];
	memset(block, 'b', sizeof(block));
	for (int i = 0; i < 32; i++)
		if (fd < 0 || write(fd, block, sizeof(block)) != sizeof(block))
			exit(2);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: efault DIR HOST\n");
		return 2;
	}
	dir = argv[1];
	host = argv[2];
	set_early_handler();
	setup(dir);
	setup(host);
	none_page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none_page == MAP_FAILED)
		return 2;
	page_end = none_page + 4095;
	none_page += 4096;
	mprotect(none_page, 4096, PROT_NONE);
	ro_zero = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	part = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_zero == MAP_FAILED || part == MAP_FAILED)
		return 2;
	memset(part, 'p', 2 * 4096);
	mprotect(part + 2 * 4096, 4096, PROT_NONE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sig_cases();
	path_cases();
	buf_cases("DIR", dir);
	buf_cases("HOST", host);
	part_cases("DIR", dir);
	part_cases("HOST", host);
	printf("done\n");
	return 0;
}
