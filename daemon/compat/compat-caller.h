/* Compat Caller: the identity of a process whose call reached the pool through its FUSE mount */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "svc.h"

/*
 * Fills c for a FUSE request from thread pid (0: not visible from the
 * pool's pid namespace) made as fsuid uid, fsgid gid (the kernel's request
 * header). Groups and capabilities come from the thread's /proc status,
 * which is its own while it waits for our answer; they count only when
 * that status still shows the ids the request carries: the filesystem
 * ones, or the real ones, which access(2) acts as (the kernel's
 * access_override_creds) for every request of its walk: then with the
 * permitted capabilities for root and none otherwise, as for FUSE_ACCESS
 * (access) when both are alike. Capabilities of another user namespace count
 * for nothing. What cannot be proven is left out: no groups, no
 * capabilities. 0, or -EACCES for ids the pool cannot act as (unmapped,
 * or more supplementary groups than it can hold: leaving one out could
 * grant what a group entry denies).
 */
int dn_compat_caller(pid_t pid, uid_t uid, gid_t gid, bool access, struct dn_cred *c);

/*
 * The supplementary groups of a /proc status text ("Groups:" line) into
 * groups (at most max): their number, or -E2BIG when there are more, or
 * -ENOENT without the line.
 */
int dn_proc_status_groups(const char *text, gid_t *groups, size_t max);
