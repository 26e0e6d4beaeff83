/* Real Symbols of the larger modules: one list per module, kept by its owner */
#pragma once

#include <poll.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/select.h>

/* spawn.c */
#define DN_REAL_SPAWN(X)

/* mmap.c */
#define DN_REAL_MMAP(X)

/* walk.c: realpath, scandir, nftw, mkstemp, fileno, freopen, getdents64, copy_file_range */
#define DN_REAL_WALK(X)

/* poll.c */
#define DN_REAL_POLL(X)
