/* Store: image layers stored once, by content, and the names that lead to them */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "image-ref.h"
#include "source.h"

/*
 * Under a store directory (a pool's "images/"):
 *   layers/sha256/HEX/      a layer unpacked, HEX its uncompressed digest
 *                           (diff_id); it appears whole (renamed into place)
 *   blobs/sha256/HEX        configs and OCI manifests, as imported
 *   repositories.json       {"NAME:TAG": {"config": D, "manifest": D|null,
 *                           "layers": [diff_id, ...]}}, replaced whole
 *   .lock                   held (flock) by whoever changes the store
 */

/* What an import did, for its report. */
struct dn_import_report {
	size_t layers;  /* the image's */
	size_t stored;  /* of them unpacked now; the rest were there already */
};

/* Stores the image S under REF (NAME:TAG, replacing what it named). */
int dn_store_import(const char *store, const struct dn_image_source *s, const char *ref,
		    struct dn_import_report *rep, char *why, size_t why_len);

/* Prints the store's images, one per line: NAME:TAG, image id, layers. */
int dn_store_list(const char *store, FILE *out, char *why, size_t why_len);

/* Forgets REF and removes the layers and blobs no other image uses. */
int dn_store_remove(const char *store, const char *ref, size_t *freed, char *why,
		    size_t why_len);
