/* Exports: the only symbols libdanaus.so shows are the ones it interposes */
#pragma once

#define DN_EXPORT __attribute__((visibility("default")))
/* Another name for the same function (open64 for open, ...): glibc's own aliasing. */
#define DN_ALIAS(name, other)                                                                      \
	__typeof__(name) other __attribute__((alias(#name), visibility("default")))

/*
 * Entry points glibc exports without declaring them in its headers: the
 * _FORTIFY_SOURCE checks and the stat calls of programs built before 2.33.
 */
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
int __xmknod(int ver, const char *path, mode_t mode, dev_t *dev);
int __xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev);
char *__getcwd_chk(char *buf, size_t size, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen);
extern void __chk_fail(void) __attribute__((noreturn));

/* struct stat64 is struct stat on the 64-bit targets we build for. */
#include <sys/statfs.h>
#include <sys/statvfs.h>
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "64-bit stat layout");
_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "64-bit statfs layout");
_Static_assert(sizeof(struct statvfs) == sizeof(struct statvfs64), "64-bit statvfs layout");
