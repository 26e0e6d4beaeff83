/* Standard Streams: stdin, stdout and stderr follow fds 0-2 onto Danaus files */
#pragma once

#include <stdio.h>

/*
 * glibc's own FILEs write with an internal write(2) that no preload can
 * interpose, so a stdout whose fd 1 was redirected to a Danaus file would hit
 * the placeholder. When fd 0, 1 or 2 becomes (or stops being) a Danaus fd,
 * the matching stream is switched to (or back from) one of ours.
 */
void dn_std_stream_update(int fd);

/* Flushes our stream of fd 0-2 before the fd is closed or replaced. */
void dn_std_stream_flush(int fd);

/* A FILE over a Danaus fd (fopencookie); owns fd when owned. */
FILE *dn_stdio_open_fd(int fd, const char *mode, int owned);

/* The fd behind one of our streams, or -1 for any other FILE. */
int dn_stdio_fileno(FILE *f);

/*
 * The orientation of one of our streams after fwide(f, mode) (mode 0
 * asks, 1 wide, -1 byte: the first one set stays, as glibc's); for any
 * other FILE DN_STDIO_NOT_OURS.
 */
#define DN_STDIO_NOT_OURS (-2)
int dn_stdio_orient(FILE *f, int mode);

/* open(2) flags of an fopen mode string; -EINVAL for a bad one. */
int dn_stdio_mode_flags(const char *mode);
