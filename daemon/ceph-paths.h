/* Ceph Walked Paths: directories the ceph libservice walked to, by path, for a while */
#pragma once

#include <stdint.h>
#include <stddef.h>

#include <cephfs/libcephfs.h>

/*
 * What a walk from the pool's top found at "/a/b" (canonical: real names, no
 * symlinks, "." or ".." on the way), so that the next walk of "/a/b/..."
 * starts at b's inode instead of looking a and b up again. As FUSE's entry
 * timeout, an entry serves for timeout seconds at most; libcephfs's dentry
 * and inode-release callbacks and the pool's own removals and renames of
 * directories end it sooner. The cache never decides who may pass: a
 * walk that starts at an entry still checks search permission on every
 * directory above it, on the inodes' current attributes (libcephfs keeps
 * them coherent through its caps); only a rename or removal by another
 * client can be seen late, within the timeout.
 */
struct dn_ceph_paths;
struct dn_ceph_dir;

/* NULL when timeout_s is 0 (off) or on ENOMEM. root: the pool's top, borrowed. */
struct dn_ceph_paths *dn_ceph_paths_new(struct ceph_mount_info *cm, struct Inode *root,
					uint64_t root_ino, double timeout_s);
/* Drops every entry (their references) and stops adding; before ceph_unmount. */
void dn_ceph_paths_close(struct dn_ceph_paths *p);
/* After ceph_unmount, when no callback can come. Accepts NULL, returns NULL. */
struct dn_ceph_paths *dn_ceph_paths_free(struct dn_ceph_paths *p);

/*
 * The deepest live entry for a directory among path's leading plain
 * components ("/a/b" of "/a//b/c/../d"), with at least one component left
 * after it: *rest points into path at what is left ("/c/../d"), *depth
 * gets the entry's number of components. The entry stays valid (its inode
 * referenced) until dn_ceph_paths_release. NULL: none.
 */
struct dn_ceph_dir *dn_ceph_paths_find(struct dn_ceph_paths *p, const char *path,
				       const char **rest, unsigned *depth);
void dn_ceph_paths_release(struct dn_ceph_paths *p, struct dn_ceph_dir *d);
struct Inode *dn_ceph_dir_inode(const struct dn_ceph_dir *d);
/* The entry of the directory above d; NULL: it is the pool's top. */
struct dn_ceph_dir *dn_ceph_dir_parent(const struct dn_ceph_dir *d);

/* Taken before a walk from the top; entries it found are added only if unchanged since. */
uint64_t dn_ceph_paths_generation(struct dn_ceph_paths *p);

/*
 * A walk from the top went through n directories: ins[i] (one reference
 * each, taken over: kept or put), inode number inos[i], whose canonical
 * path is canon[0, ends[i]).
 */
void dn_ceph_paths_add_walk(struct dn_ceph_paths *p, uint64_t generation, const char *canon,
			    const size_t *ends, struct Inode **ins, const uint64_t *inos,
			    unsigned n);

/* Ends the entries of name in directory dir (and so all below them): a removal or rename. */
void dn_ceph_paths_forget_name(struct dn_ceph_paths *p, struct Inode *dir, const char *name);
/* libcephfs's callbacks: a dentry (dirino/name, or ino) went stale; ino's references wanted back. */
void dn_ceph_paths_forget_dentry(struct dn_ceph_paths *p, uint64_t dirino, uint64_t ino,
				 const char *name, size_t len);
void dn_ceph_paths_forget_ino(struct dn_ceph_paths *p, uint64_t ino);
