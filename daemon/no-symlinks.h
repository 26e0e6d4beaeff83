/* Symlink-free Walks: a stacked libservice hands its backend paths without symlinks */
#pragma once

#include <stdbool.h>

/*
 * The union walks the merged tree itself and gives its backend real paths
 * that had no symlink in them when it looked. A symlink a backend meets in
 * one was put there since (a rename race by a client), and following it
 * would lead the pool's rights to any file of the backend. While refused
 * (on this thread: the dispatcher sets it for each request of a libservice
 * that hands real paths, dn_svc_ops.real_paths), every backend walk answers
 * ELOOP where it would follow a symlink, the last component included.
 */
void dn_walk_refuse_symlinks(bool on);
bool dn_walk_symlinks_refused(void);
