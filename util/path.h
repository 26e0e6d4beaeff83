/* Path Normalization: lexical "." and ".." folding shared by both sides */
#pragma once

#include <stddef.h>

/*
 * Folds repeated slashes, "." and ".." of an absolute path lexically. ".."
 * at the top stays at the top. Result is "/" or "/a/b" (no trailing slash).
 * Returns the length, or -ENAMETOOLONG / -EINVAL (not absolute).
 */
int dn_path_normalize(const char *in, char *out, size_t outlen);

/*
 * Joins base (absolute, normalized) and rel, then normalizes. A rel that is
 * absolute replaces base.
 */
int dn_path_join(const char *base, const char *rel, char *out, size_t outlen);

/*
 * If path (absolute, normalized) lies at or below prefix (normalized, not
 * "/"), returns the part below it ("/" for the prefix itself) else NULL.
 */
const char *dn_path_below(const char *path, const char *prefix, size_t prefix_len);
