/* Memory Maps: mmap of Danaus fds */
#pragma once

#include <stdint.h>

#include <stdbool.h>

/* Are there MAP_SHARED maps that are copies (Ceph pools)? A first test without the lock. */
bool dn_mmap_copies(void);

/*
 * This process changed bytes [off, off + len) of the file open as ofd
 * (len UINT64_MAX: to its end, after a truncate) through the pool: its
 * copied MAP_SHARED maps of that file, through any descriptor, read those
 * bytes again (zero past the file's end), as a kernel map shows a write at
 * once. Call it outside any dn_call. Other processes' writes stay unseen.
 */
void dn_mmap_changed(int32_t ofd, uint64_t off, uint64_t len);
/* The same, of the file st_dev/st_ino (a truncate by path) */
void dn_mmap_changed_file(uint64_t dev, uint64_t ino, uint64_t off, uint64_t len);

/* Writes back the MAP_SHARED maps of open file description ofd (its fd is being closed). */
void dn_mmap_flush_ofd(int32_t ofd);

/*
 * The process image ends (_exit, a successful exec): writes every MAP_SHARED
 * map back, drops the references the maps hold and forgets them. The maps
 * themselves stay; later stores to them reach nothing. Runs at exit by itself.
 */
void dn_mmap_release_all(void);

/*
 * Taken by a switch of the session (dn_switch_begin) once the calls in
 * flight are out: a thread writing maps back or refreshing them holds the
 * session as well as this lock across its calls, so the switch waits for
 * it, and a signal handler's munmap inside a call finds the lock free.
 */
void dn_mmap_lock(void);
void dn_mmap_unlock(void);

/*
 * A switch of the session (identity.c): each region's open file
 * description, and then each replaced by to(ofd) -- its index in the new
 * session's table, which already holds the reference the region had.
 */
void dn_mmap_each_ofd(void (*fn)(int32_t ofd, void *arg), void *arg);
void dn_mmap_rebase_ofds(int32_t (*to)(int32_t ofd, void *arg), void *arg);
