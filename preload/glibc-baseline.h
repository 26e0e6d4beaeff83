/*
 * Glibc Baseline: the library must load into programs of older images (a
 * container's glibc is its own). glibc 2.34 moved these functions from
 * libpthread and libdl into libc under new versions; binding them to their
 * first versions keeps the library's needs at glibc 2.17 (2.2.5 on x86-64).
 * Newer glibc keeps those versions as compatibility symbols; older glibc
 * exports them from libpthread.so.0 and libdl.so.2, which the library names
 * as needed (preload/meson.build). tests/glibc-baseline.sh checks the result.
 * Included into every file of the library by the build (-include).
 */
#pragma once

#if defined(__x86_64__)
#define DN_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define DN_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef DN_GLIBC_BASE
__asm__(".symver dlsym, dlsym@" DN_GLIBC_BASE);
__asm__(".symver dladdr, dladdr@" DN_GLIBC_BASE);
__asm__(".symver pthread_key_create, pthread_key_create@" DN_GLIBC_BASE);
__asm__(".symver pthread_create, pthread_create@" DN_GLIBC_BASE);
__asm__(".symver pthread_once, pthread_once@" DN_GLIBC_BASE);
__asm__(".symver pthread_setspecific, pthread_setspecific@" DN_GLIBC_BASE);
__asm__(".symver pthread_sigmask, pthread_sigmask@" DN_GLIBC_BASE);
#endif
