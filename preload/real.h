/* Real Symbols: the libc functions behind every interposed one, resolved once */
#pragma once

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct aiocb;
struct sigevent;
struct statx;
struct statvfs;
struct statfs;
struct timeval;
struct utimbuf;

/* name, return type, parameter list: one line per libc function we pass through to. */
#define DN_REAL_SYMBOLS(X)                                                                         \
	X(open, int, (const char *, int, ...))                                                     \
	X(openat, int, (int, const char *, int, ...))                                              \
	X(close, int, (int))                                                                       \
	X(read, ssize_t, (int, void *, size_t))                                                    \
	X(write, ssize_t, (int, const void *, size_t))                                             \
	X(pread, ssize_t, (int, void *, size_t, off_t))                                            \
	X(pwrite, ssize_t, (int, const void *, size_t, off_t))                                     \
	X(readv, ssize_t, (int, const struct iovec *, int))                                        \
	X(writev, ssize_t, (int, const struct iovec *, int))                                       \
	X(preadv, ssize_t, (int, const struct iovec *, int, off_t))                                \
	X(pwritev, ssize_t, (int, const struct iovec *, int, off_t))                               \
	X(preadv2, ssize_t, (int, const struct iovec *, int, off_t, int))                          \
	X(pwritev2, ssize_t, (int, const struct iovec *, int, off_t, int))                         \
	X(splice, ssize_t, (int, off_t *, int, off_t *, size_t, unsigned))                         \
	X(tee, ssize_t, (int, int, size_t, unsigned))                                              \
	X(ioctl, int, (int, unsigned long, ...))                                                   \
	X(aio_read, int, (struct aiocb *))                                                         \
	X(aio_write, int, (struct aiocb *))                                                        \
	X(aio_fsync, int, (int, struct aiocb *))                                                   \
	X(lio_listio, int, (int, struct aiocb *const[], int, struct sigevent *))                   \
	X(lseek, off_t, (int, off_t, int))                                                         \
	X(fstat, int, (int, struct stat *))                                                        \
	X(fstatat, int, (int, const char *, struct stat *, int))                                   \
	X(statx, int, (int, const char *, int, unsigned, struct statx *))                          \
	X(faccessat, int, (int, const char *, int, int))                                           \
	X(mkdirat, int, (int, const char *, mode_t))                                               \
	X(unlinkat, int, (int, const char *, int))                                                 \
	X(renameat2, int, (int, const char *, int, const char *, unsigned))                        \
	X(opendir, DIR *, (const char *))                                                          \
	X(fdopendir, DIR *, (int))                                                                 \
	X(readdir, struct dirent *, (DIR *))                                                       \
	X(readdir_r, int, (DIR *, struct dirent *, struct dirent **))                              \
	X(readdir64_r, int, (DIR *, struct dirent64 *, struct dirent64 **))                        \
	X(closedir, int, (DIR *))                                                                  \
	X(rewinddir, void, (DIR *))                                                                \
	X(dirfd, int, (DIR *))                                                                     \
	X(telldir, long, (DIR *))                                                                  \
	X(seekdir, void, (DIR *, long))                                                            \
	X(fsync, int, (int))                                                                       \
	X(fdatasync, int, (int))                                                                   \
	X(syncfs, int, (int))                                                                      \
	X(truncate, int, (const char *, off_t))                                                    \
	X(ftruncate, int, (int, off_t))                                                            \
	X(fchmodat, int, (int, const char *, mode_t, int))                                         \
	X(fchmod, int, (int, mode_t))                                                              \
	X(dup, int, (int))                                                                         \
	X(dup3, int, (int, int, int))                                                              \
	X(fcntl, int, (int, int, ...))                                                             \
	X(fopen, FILE *, (const char *, const char *))                                             \
	X(fdopen, FILE *, (int, const char *))                                                     \
	X(execve, int, (const char *, char *const[], char *const[]))                               \
	X(execvpe, int, (const char *, char *const[], char *const[]))                              \
	X(fork, pid_t, (void))                                                                     \
	X(_exit, void, (int))                                                                      \
	X(copy_file_range, ssize_t, (int, off_t *, int, off_t *, size_t, unsigned))                \
	X(sendfile, ssize_t, (int, int, off_t *, size_t))                                          \
	X(posix_fadvise, int, (int, off_t, off_t, int))                                            \
	X(fgetxattr, ssize_t, (int, const char *, void *, size_t))                                 \
	X(getxattr, ssize_t, (const char *, const char *, void *, size_t))                         \
	X(lgetxattr, ssize_t, (const char *, const char *, void *, size_t))                        \
	X(flistxattr, ssize_t, (int, char *, size_t))                                              \
	X(listxattr, ssize_t, (const char *, char *, size_t))                                      \
	X(llistxattr, ssize_t, (const char *, char *, size_t))                                     \
	X(readlinkat, ssize_t, (int, const char *, char *, size_t))                                \
	X(umask, mode_t, (mode_t))                                                                 \
	X(chdir, int, (const char *))                                                              \
	X(fchdir, int, (int))                                                                      \
	X(getcwd, char *, (char *, size_t))                                                        \
	X(utimensat, int, (int, const char *, const struct timespec[2], int))                      \
	X(futimens, int, (int, const struct timespec[2]))                                          \
	X(utimes, int, (const char *, const struct timeval[2]))                                    \
	X(lutimes, int, (const char *, const struct timeval[2]))                                   \
	X(futimes, int, (int, const struct timeval[2]))                                            \
	X(futimesat, int, (int, const char *, const struct timeval[2]))                            \
	X(utime, int, (const char *, const struct utimbuf *))                                      \
	X(fchownat, int, (int, const char *, uid_t, gid_t, int))                                   \
	X(fchown, int, (int, uid_t, gid_t))                                                        \
	X(symlinkat, int, (const char *, int, const char *))                                       \
	X(linkat, int, (int, const char *, int, const char *, int))                                \
	X(statvfs, int, (const char *, struct statvfs *))                                          \
	X(fstatvfs, int, (int, struct statvfs *))                                                  \
	X(statfs, int, (const char *, struct statfs *))                                            \
	X(fstatfs, int, (int, struct statfs *))                                                    \
	X(setxattr, int, (const char *, const char *, const void *, size_t, int))                  \
	X(lsetxattr, int, (const char *, const char *, const void *, size_t, int))                 \
	X(fsetxattr, int, (int, const char *, const void *, size_t, int))                          \
	X(removexattr, int, (const char *, const char *))                                          \
	X(lremovexattr, int, (const char *, const char *))                                         \
	X(fremovexattr, int, (int, const char *))                                                  \
	X(fallocate, int, (int, int, off_t, off_t))                                                \
	X(posix_fallocate, int, (int, off_t, off_t))                                               \
	X(flock, int, (int, int))                                                                  \
	X(sync_file_range, int, (int, off_t, off_t, unsigned))                                     \
	X(mknodat, int, (int, const char *, mode_t, dev_t))                                        \
	X(readahead, ssize_t, (int, off64_t, size_t))

/* Each module's own list (spawn.c, mmap.c, walk.c, poll.c, fault.c) lives beside it. */
#include "real-extra.h"

#define DN_REAL_ALL(X)                                                                             \
	DN_REAL_SYMBOLS(X)                                                                         \
	DN_REAL_SPAWN(X)                                                                           \
	DN_REAL_LIMITS(X)                                                                          \
	DN_REAL_IDENTITY(X)                                                                        \
	DN_REAL_SYSCALL(X)                                                                         \
	DN_REAL_MMAP(X)                                                                            \
	DN_REAL_UNIX_SOCK(X)                                                                       \
	DN_REAL_INOTIFY(X)                                                                         \
	DN_REAL_PATHCONF(X)                                                                        \
	DN_REAL_HANDLES(X)                                                                         \
	DN_REAL_DLOPEN(X)                                                                          \
	DN_REAL_WALK(X)                                                                            \
	DN_REAL_FTS(X)                                                                             \
	DN_REAL_INTERNAL(X)                                                                        \
	DN_REAL_POLL(X)                                                                            \
	DN_REAL_FAULT(X)                                                                           \
	DN_REAL_WSTDIO(X)                                                                          \
	DN_REAL_TTY(X)

#define DN_REAL_MEMBER(name, ret, args) ret(*name) args;
struct dn_real_table {
	DN_REAL_ALL(DN_REAL_MEMBER)
};
#undef DN_REAL_MEMBER

extern struct dn_real_table dn_real;

/* Resolves every symbol with dlsym(RTLD_NEXT); safe to call more than once. */
void dn_real_init(void);

/* Gives the functions an older libc lacks their system calls (real-fallback.c). */
void dn_real_fill_missing(struct dn_real_table *t);

/* The libc function, resolved on first use even before our constructor ran. */
#define REAL(name) (dn_real.name ? dn_real.name : (dn_real_init(), dn_real.name))
