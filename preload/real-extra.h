/* Real Symbols of the larger modules: one list per module, kept by its owner */
#pragma once

#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>

/* spawn.c, shell.c */
#define DN_REAL_SPAWN(X)                                                                           \
	X(posix_spawn, int,                                                                        \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,  \
	   char *const[], char *const[]))                                                          \
	X(posix_spawnp, int,                                                                       \
	  (pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,  \
	   char *const[], char *const[]))                                                          \
	X(fexecve, int, (int, char *const[], char *const[]))                                      \
	X(execveat, int, (int, const char *, char *const[], char *const[], int))                  \
	X(posix_spawn_file_actions_init, int, (posix_spawn_file_actions_t *))                      \
	X(posix_spawn_file_actions_destroy, int, (posix_spawn_file_actions_t *))                   \
	X(posix_spawn_file_actions_addopen, int,                                                   \
	  (posix_spawn_file_actions_t *, int, const char *, int, mode_t))                          \
	X(posix_spawn_file_actions_addclose, int, (posix_spawn_file_actions_t *, int))             \
	X(posix_spawn_file_actions_adddup2, int, (posix_spawn_file_actions_t *, int, int))         \
	X(posix_spawn_file_actions_addchdir_np, int, (posix_spawn_file_actions_t *, const char *)) \
	X(posix_spawn_file_actions_addfchdir_np, int, (posix_spawn_file_actions_t *, int))         \
	X(posix_spawn_file_actions_addclosefrom_np, int, (posix_spawn_file_actions_t *, int))      \
	X(posix_spawn_file_actions_addtcsetpgrp_np, int, (posix_spawn_file_actions_t *, int))      \
	X(close_range, int, (unsigned, unsigned, int))                                             \
	X(closefrom, void, (int))                                                                  \
	X(system, int, (const char *))                                                             \
	X(popen, FILE *, (const char *, const char *))                                             \
	X(pclose, int, (FILE *))

/* identity.c */
#include <grp.h>
#include <linux/capability.h>
int capset(cap_user_header_t, const cap_user_data_t); /* glibc exports it, declares it nowhere */
#define DN_REAL_IDENTITY(X)                                                                        \
	X(setuid, int, (uid_t))                                                                    \
	X(setgid, int, (gid_t))                                                                    \
	X(seteuid, int, (uid_t))                                                                   \
	X(setegid, int, (gid_t))                                                                   \
	X(setreuid, int, (uid_t, uid_t))                                                           \
	X(setregid, int, (gid_t, gid_t))                                                           \
	X(setresuid, int, (uid_t, uid_t, uid_t))                                                   \
	X(setresgid, int, (gid_t, gid_t, gid_t))                                                   \
	X(setgroups, int, (size_t, const gid_t *))                                                 \
	X(initgroups, int, (const char *, gid_t))                                                  \
	X(capset, int, (cap_user_header_t, const cap_user_data_t))

/* syscall.c */
#define DN_REAL_SYSCALL(X) X(syscall, long, (long, ...))

/* rlimits.c */
#include <sys/resource.h>
#define DN_REAL_LIMITS(X)                                                                          \
	X(setrlimit, int, (__rlimit_resource_t, const struct rlimit *))                            \
	X(prlimit, int, (pid_t, __rlimit_resource_t, const struct rlimit *, struct rlimit *))

/* unix-sock.c */
#include <sys/socket.h>
#define DN_REAL_UNIX_SOCK(X)                                                                       \
	X(bind, int, (int, const struct sockaddr *, socklen_t))                                    \
	X(connect, int, (int, const struct sockaddr *, socklen_t))                                 \
	X(sendto, ssize_t, (int, const void *, size_t, int, const struct sockaddr *, socklen_t))   \
	X(sendmsg, ssize_t, (int, const struct msghdr *, int))                                     \
	X(getsockname, int, (int, struct sockaddr *, socklen_t *))                                 \
	X(getpeername, int, (int, struct sockaddr *, socklen_t *))                                 \
	X(accept, int, (int, struct sockaddr *, socklen_t *))                                      \
	X(accept4, int, (int, struct sockaddr *, socklen_t *, int))

/* inotify.c */
#define DN_REAL_INOTIFY(X) X(inotify_add_watch, int, (int, const char *, uint32_t))

/* pathconf.c */
#define DN_REAL_PATHCONF(X)                                                                        \
	X(pathconf, long, (const char *, int))                                                     \
	X(fpathconf, long, (int, int))

/* handles.c */
#include <fcntl.h>
#define DN_REAL_HANDLES(X)                                                                         \
	X(name_to_handle_at, int, (int, const char *, struct file_handle *, int *, int))          \
	X(open_by_handle_at, int, (int, struct file_handle *, int))

/* dlopen.c, pool-libs.c */
#include <dlfcn.h>
#define DN_REAL_DLOPEN(X)                                                                          \
	X(dlopen, void *, (const char *, int))                                                     \
	X(dlmopen, void *, (Lmid_t, const char *, int))                                            \
	X(dlerror, char *, (void))

/* mmap.c */
#define DN_REAL_MMAP(X)                                                                            \
	X(mmap, void *, (void *, size_t, int, int, int, off_t))                                    \
	X(munmap, int, (void *, size_t))                                                           \
	X(msync, int, (void *, size_t, int))                                                       \
	X(mprotect, int, (void *, size_t, int))                                                    \
	X(mremap, void *, (void *, size_t, size_t, int, ...))

/* walk.c: realpath, scandir, nftw, mkstemp, fileno, freopen, getdents64 */
#include <ftw.h>
#include <stdlib.h>
typedef int (*dn_scan_sel)(const struct dirent *);
typedef int (*dn_scan_cmp)(const struct dirent **, const struct dirent **);
typedef int (*dn_scan_sel64)(const struct dirent64 *);
typedef int (*dn_scan_cmp64)(const struct dirent64 **, const struct dirent64 **);
#define DN_REAL_WALK(X)                                                                            \
	X(glob, int, (const char *, int, int (*)(const char *, int), glob_t *))                    \
	X(realpath, char *, (const char *, char *))                                                \
	X(scandir, int, (const char *, struct dirent ***, dn_scan_sel, dn_scan_cmp))               \
	X(scandir64, int, (const char *, struct dirent64 ***, dn_scan_sel64, dn_scan_cmp64))       \
	X(scandirat, int, (int, const char *, struct dirent ***, dn_scan_sel, dn_scan_cmp))        \
	X(scandirat64, int,                                                                        \
	  (int, const char *, struct dirent64 ***, dn_scan_sel64, dn_scan_cmp64))                  \
	X(ftw, int, (const char *, __ftw_func_t, int))                                             \
	X(ftw64, int, (const char *, __ftw64_func_t, int))                                         \
	X(nftw, int, (const char *, __nftw_func_t, int, int))                                      \
	X(nftw64, int, (const char *, __nftw64_func_t, int, int))                                  \
	X(mkstemp, int, (char *))                                                                  \
	X(mkstemp64, int, (char *))                                                                \
	X(mkostemp, int, (char *, int))                                                            \
	X(mkostemp64, int, (char *, int))                                                          \
	X(mkstemps, int, (char *, int))                                                            \
	X(mkstemps64, int, (char *, int))                                                          \
	X(mkostemps, int, (char *, int, int))                                                      \
	X(mkostemps64, int, (char *, int, int))                                                    \
	X(mkdtemp, char *, (char *))                                                               \
	X(mktemp, char *, (char *))                                                                \
	X(getdents64, ssize_t, (int, void *, size_t))                                              \
	X(fileno, int, (FILE *))                                                                   \
	X(fileno_unlocked, int, (FILE *))                                                          \
	X(freopen, FILE *, (const char *, const char *, FILE *))                                   \
	X(freopen64, FILE *, (const char *, const char *, FILE *))

/* libc-internal.c */
#define DN_REAL_INTERNAL(X) X(lockf, int, (int, int, off_t))

/* fts.c */
#include <fts.h>
typedef int (*dn_fts_cmp)(const FTSENT **, const FTSENT **);
typedef int (*dn_fts64_cmp)(const FTSENT64 **, const FTSENT64 **);
#define DN_REAL_FTS(X)                                                                             \
	X(fts_open, FTS *, (char *const *, int, dn_fts_cmp))                                       \
	X(fts_read, FTSENT *, (FTS *))                                                             \
	X(fts_children, FTSENT *, (FTS *, int))                                                    \
	X(fts_set, int, (FTS *, FTSENT *, int))                                                    \
	X(fts_close, int, (FTS *))                                                                 \
	X(fts64_open, FTS64 *, (char *const *, int, dn_fts64_cmp))                                 \
	X(fts64_read, FTSENT64 *, (FTS64 *))                                                       \
	X(fts64_children, FTSENT64 *, (FTS64 *, int))                                              \
	X(fts64_set, int, (FTS64 *, FTSENT64 *, int))                                              \
	X(fts64_close, int, (FTS64 *))

/* poll.c */
#define DN_REAL_POLL(X)                                                                            \
	X(poll, int, (struct pollfd *, nfds_t, int))                                               \
	X(ppoll, int, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))        \
	X(select, int, (int, fd_set *, fd_set *, fd_set *, struct timeval *))                      \
	X(pselect, int,                                                                            \
	  (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))          \
	X(epoll_ctl, int, (int, int, int, struct epoll_event *))

/* fault.c: the program's own actions for SIGSEGV and SIGBUS, kept beside our handler */
#define DN_REAL_FAULT(X)                                                                           \
	X(sigaction, int, (int, const struct sigaction *, struct sigaction *))                     \
	X(signal, __sighandler_t, (int, __sighandler_t))                                           \
	X(sysv_signal, __sighandler_t, (int, __sighandler_t))                                      \
	X(sigset, __sighandler_t, (int, __sighandler_t))                                           \
	X(sigignore, int, (int))

/* wstdio.c, wscanf.c: wide-character stdio, which glibc's cookie streams (ours) lack; dprintf */
#include <stdarg.h>
#include <wchar.h>
#define DN_REAL_WSTDIO(X)                                                                          \
	X(fgetwc, wint_t, (FILE *))                                                                \
	X(getwc, wint_t, (FILE *))                                                                 \
	X(_IO_getwc, wint_t, (FILE *))                                                             \
	X(fgetwc_unlocked, wint_t, (FILE *))                                                       \
	X(getwc_unlocked, wint_t, (FILE *))                                                        \
	X(getwchar, wint_t, (void))                                                                \
	X(getwchar_unlocked, wint_t, (void))                                                       \
	X(fgetws, wchar_t *, (wchar_t *, int, FILE *))                                             \
	X(fgetws_unlocked, wchar_t *, (wchar_t *, int, FILE *))                                    \
	X(__fgetws_chk, wchar_t *, (wchar_t *, size_t, int, FILE *))                               \
	X(__fgetws_unlocked_chk, wchar_t *, (wchar_t *, size_t, int, FILE *))                      \
	X(ungetwc, wint_t, (wint_t, FILE *))                                                       \
	X(fputwc, wint_t, (wchar_t, FILE *))                                                       \
	X(putwc, wint_t, (wchar_t, FILE *))                                                        \
	X(_IO_putwc, wint_t, (wchar_t, FILE *))                                                    \
	X(fputwc_unlocked, wint_t, (wchar_t, FILE *))                                              \
	X(putwc_unlocked, wint_t, (wchar_t, FILE *))                                               \
	X(putwchar, wint_t, (wchar_t))                                                             \
	X(putwchar_unlocked, wint_t, (wchar_t))                                                    \
	X(fputws, int, (const wchar_t *, FILE *))                                                  \
	X(fputws_unlocked, int, (const wchar_t *, FILE *))                                         \
	X(vfwprintf, int, (FILE *, const wchar_t *, va_list))                                      \
	X(__vfwprintf_chk, int, (FILE *, int, const wchar_t *, va_list))                           \
	X(fwide, int, (FILE *, int))                                                               \
	X(vfwscanf, int, (FILE *, const wchar_t *, va_list))                                       \
	X(__isoc99_vfwscanf, int, (FILE *, const wchar_t *, va_list))                              \
	X(__isoc23_vfwscanf, int, (FILE *, const wchar_t *, va_list))                              \
	X(vdprintf, int, (int, const char *, va_list))                                             \
	X(__vdprintf_chk, int, (int, int, const char *, va_list))

/* ioctl.c: the terminal calls glibc makes with its internal ioctl */
#include <termios.h>
#define DN_REAL_TTY(X)                                                                             \
	X(isatty, int, (int))                                                                      \
	X(tcgetattr, int, (int, struct termios *))                                                 \
	X(tcsetattr, int, (int, int, const struct termios *))                                      \
	X(ttyname, char *, (int))                                                                  \
	X(ttyname_r, int, (int, char *, size_t))
