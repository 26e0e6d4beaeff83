/* Source: an image to import, from an OCI layout or a docker/oci archive */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "digest.h"

#define DN_IMAGE_LAYERS_MAX 256

struct dn_image_layer {
	char path[PATH_MAX];          /* the layer's tar in the source */
	char blob[DN_DIGEST_LEN];     /* its digest as the manifest names it; "" if none does */
	char diff_id[DN_DIGEST_LEN];  /* its uncompressed digest, from the config */
};

/* An image, every digest checked against the bytes it names. */
struct dn_image_source {
	char dir[PATH_MAX];               /* the layout (an archive's unpacked copy) */
	bool temporary;                   /* dir is ours: removed by dn_image_source_close */
	char config[PATH_MAX];            /* the config blob */
	char config_digest[DN_DIGEST_LEN];
	char manifest[PATH_MAX];          /* the OCI manifest blob; "" from a docker archive */
	char manifest_digest[DN_DIGEST_LEN];
	size_t nlayers;
	struct dn_image_layer layers[DN_IMAGE_LAYERS_MAX];
};

/*
 * Opens SOURCE: an OCI image layout directory, or a tarball of one
 * (oci-archive) or a docker-archive (what `podman save`, `docker save` and
 * `skopeo copy` write), unpacked into a temporary directory under TMPDIR.
 * Verifies the manifest, config and every layer against their digests
 * (blob digests where a manifest names them, and each layer's uncompressed
 * digest against the config's diff_ids). 0 or negative errno with WHY.
 */
int dn_image_source_open(struct dn_image_source *s, const char *source, char *why,
			 size_t why_len);

/* Removes the temporary copy, if any. */
void dn_image_source_close(struct dn_image_source *s);
