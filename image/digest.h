/* Digest: sha256 of a blob as stored, and of the tar stream inside it */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* "sha256:" and 64 hex digits, with the NUL. */
#define DN_DIGEST_LEN (7 + 64 + 1)

/*
 * The sha256 of PATH's bytes into BLOB (as "sha256:HEX"), and, when DIFF is
 * not NULL, of the bytes PATH decompresses to (gzip, zstd, xz or none: the
 * layer's diff_id) into DIFF. 0 or negative errno; WHY says what failed.
 */
int dn_digest_file(const char *path, char *blob, char *diff, char *why, size_t why_len);

/* True when S is "sha256:" and 64 lowercase hex digits. */
bool dn_digest_valid(const char *s);
