/* Proc Files: a process's mount table and fdinfo as the kernel would show them with its Danaus mounts */
#pragma once

#include <stdio.h>

/*
 * After the kernel opened path (kfd >= 0) for reading: /proc/self/mountinfo,
 * /proc/self/mounts (/proc/mounts, /proc/PID/... of this process) come back
 * as a memfd with the kernel's text plus the mounts whose files the pool
 * shows on a device of their own (unions, Ceph: overlayfs and ceph-fuse
 * mounts would be there); /proc/self/fdinfo/N of a Danaus fd as the kernel
 * would describe N's open file. Every other open is kfd, unchanged (one
 * test of two characters for a path outside /proc).
 */
int dn_proc_opened(int kfd, const char *path, int flags);

/* The same for fopen's stream */
FILE *dn_proc_fopened(FILE *kf, const char *path, const char *mode);
