/* Layer: one image layer's tar unpacked into a directory, nothing outside it */
#pragma once

#include <stddef.h>

/*
 * Unpacks the layer tar at PATH (gzip, zstd, xz or none) into the empty
 * directory DIR as an OCI layer unpacks: whiteouts (.wh.NAME, .wh..wh..opq)
 * stay the plain files they are. An entry whose name or hardlink target is
 * absolute or climbs with "..", or that would be written through a symlink,
 * is refused and the unpacking stops. Owners, modes, times and xattrs are
 * kept when the caller is root (else the caller owns everything). 0 or
 * negative errno; WHY says which entry and why.
 */
int dn_layer_unpack(const char *path, const char *dir, char *why, size_t why_len);
