/* Path Strings: the lexical work on paths both sides share (routing, splitting) */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The longest pool path a client sends and a pool resolves: a working
 * directory's (below PATH_MAX) joined to a relative path, which the kernel
 * takes up to PATH_MAX - 1 bytes long whatever the directory's depth.
 */
#define DN_PATH_MAX (2 * PATH_MAX)

/*
 * Folds repeated slashes, "." and ".." of an absolute path lexically. ".."
 * at the top stays at the top. Result is "/" or "/a/b" (no trailing slash).
 * Returns the length, or -ENAMETOOLONG / -EINVAL (not absolute).
 *
 * Only for names already resolved, or to decide where a name belongs: a
 * ".." after a symlink or an unsearchable directory means something else to
 * the kernel, so a path handed on to be resolved keeps its components.
 */
int dn_path_normalize(const char *in, char *out, size_t outlen);

/*
 * Joins base (absolute, normalized) and rel, then normalizes. A rel that is
 * absolute replaces base.
 */
int dn_path_join(const char *base, const char *rel, char *out, size_t outlen);

/*
 * base + "/" + rel, nothing folded (rel absolute: rel alone). Returns the
 * length, or -ENAMETOOLONG.
 */
int dn_path_concat(const char *base, const char *rel, char *out, size_t outlen);

/*
 * If path (absolute, normalized) lies at or below prefix (normalized, not
 * "/"), returns the part below it ("/" for the prefix itself) else NULL.
 */
const char *dn_path_below(const char *path, const char *prefix, size_t prefix_len);

/*
 * Whether path (absolute, as written) lies lexically at or below prefix
 * (normalized, not "/"): 1, and out gets path as written from where it last
 * enters prefix, "." and ".." components and trailing slashes kept ("/" for
 * the prefix itself, "/a/../b/" for "/p/a/../b/" below "/p"); 0 when it
 * does not; -ENAMETOOLONG.
 */
int dn_path_under(const char *path, const char *prefix, size_t prefix_len, char *out,
		  size_t outlen);

/* What dn_path_oddities finds: components whose lexical folding changes a path. */
#define DN_PATH_DOTDOT 0x1u /* a ".." component */
#define DN_PATH_DOT 0x2u    /* a "." component */
#define DN_PATH_SLASHES 0x4u /* an empty one: "//" */

/* DN_PATH_* of path, in one pass; 0 for a plain "a/b" or "/a/b" (trailing slash or not). */
unsigned dn_path_oddities(const char *path);

/* The kind of a path's last component, as the kernel's namei tells them apart. */
enum dn_path_last_type {
	DN_LAST_NORM,   /* a name */
	DN_LAST_DOT,    /* "." */
	DN_LAST_DOTDOT, /* ".." */
	DN_LAST_ROOT,   /* none: the path is slashes only */
};

struct dn_path_last {
	size_t dir_len;   /* path[0, dir_len) holds the directories before it */
	const char *name; /* the last component, its trailing slashes after it ("" for ROOT) */
	size_t name_len;  /* without the trailing slashes */
	bool slash;       /* trailing slashes follow it: it must be a directory */
	enum dn_path_last_type type;
};

/* Splits off path's last component without folding anything. */
void dn_path_last(const char *path, struct dn_path_last *l);

/*
 * A walk's next component: skips the slashes at *at, copies the name into
 * name (NAME_MAX + 1 bytes) and leaves *at just after it (on its trailing
 * slashes, or the end). *last: no other component follows; *must_dir: a
 * slash or another component does ("name/" asks for a directory). 1, 0
 * at the end of the path, or -ENAMETOOLONG for a name too long.
 */
int dn_path_next(const char **at, char *name, bool *last, bool *must_dir);

/*
 * A symlink met in a walk takes its place: buf (size bytes) becomes target
 * followed by rest, which may lie in buf itself (target may not). 0 or
 * -ENAMETOOLONG.
 */
int dn_path_splice(char *buf, size_t size, const char *target, const char *rest);

/*
 * The metrics socket beside a pool's socket: NAME.sock -> NAME.metrics,
 * any other PATH -> PATH.metrics. Returns the length, or -ENAMETOOLONG.
 */
int dn_path_metrics_socket(const char *sock, char *out, size_t len);
