/* Source: an image to import, from an OCI layout or a docker/oci archive */
#include "source.h"

#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "layer.h"

static void json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static struct json_object *read_json(const char *path, char *why, size_t why_len)
{
	struct json_object *o = json_object_from_file(path);
	if (!o)
		snprintf(why, why_len, "%s: not JSON (%s)", path, json_util_get_last_err());
	return o;
}

/* PATH's digest must be WANT; for a layer DIFF also gets its uncompressed digest. */
static int check_blob(const char *path, const char *want, char *diff, char *why, size_t why_len)
{
	char got[DN_DIGEST_LEN];
	int r = dn_digest_file(path, got, diff, why, why_len);
	if (r < 0)
		return r;
	if (want && strcmp(got, want) != 0) {
		snprintf(why, why_len, "%s: its digest is %s, the image names %s: refused", path,
			 got, want);
		return -EBADMSG;
	}
	return 0;
}

/* DIR/blobs/sha256/HEX for DIGEST; -EINVAL if DIGEST is not a sha256 digest. */
static int blob_path(const char *dir, const char *digest, char *out, size_t len, char *why,
		     size_t why_len)
{
	if (!digest || !dn_digest_valid(digest)) {
		snprintf(why, why_len, "%s: '%s' is not a sha256 digest", dir, digest ? digest : "");
		return -EINVAL;
	}
	if ((size_t)snprintf(out, len, "%s/blobs/sha256/%s", dir, digest + 7) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* The config's rootfs.diff_ids, one per layer, into the layers. */
static int take_diff_ids(struct dn_image_source *s, char *why, size_t why_len)
{
	_cleanup_(json_putp) struct json_object *cfg = read_json(s->config, why, why_len);
	struct json_object *ids = jget(jget(cfg, "rootfs", json_type_object), "diff_ids",
				       json_type_array);
	if (!ids) {
		if (cfg)
			snprintf(why, why_len, "%s: no rootfs.diff_ids", s->config);
		return -EBADMSG;
	}
	if (json_object_array_length(ids) != s->nlayers) {
		snprintf(why, why_len, "%s: %zu diff_ids for %zu layers", s->config,
			 json_object_array_length(ids), s->nlayers);
		return -EBADMSG;
	}
	for (size_t i = 0; i < s->nlayers; i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		if (!id || !dn_digest_valid(id)) {
			snprintf(why, why_len, "%s: diff_id %zu is not a sha256 digest", s->config, i);
			return -EBADMSG;
		}
		snprintf(s->layers[i].diff_id, DN_DIGEST_LEN, "%s", id);
	}
	return 0;
}

/* Every layer against its blob digest (if named) and its diff_id. */
static int check_layers(struct dn_image_source *s, char *why, size_t why_len)
{
	for (size_t i = 0; i < s->nlayers; i++) {
		struct dn_image_layer *l = &s->layers[i];
		char diff[DN_DIGEST_LEN];
		int r = check_blob(l->path, l->blob[0] ? l->blob : NULL, diff, why, why_len);
		if (r < 0)
			return r;
		if (strcmp(diff, l->diff_id) != 0) {
			snprintf(why, why_len, "%s: its content's digest is %s, the config names %s: "
					       "refused", l->path, diff, l->diff_id);
			return -EBADMSG;
		}
	}
	return 0;
}

static bool is_index(const char *media)
{
	return media && (strcmp(media, "application/vnd.oci.image.index.v1+json") == 0 ||
			 strcmp(media, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

/* The manifest an index names: for this machine's platform, or the only one. */
static struct json_object *pick_manifest(struct json_object *index)
{
	struct json_object *ms = jget(index, "manifests", json_type_array);
	size_t n = ms ? json_object_array_length(ms) : 0;
#if defined(__x86_64__)
	const char *arch = "amd64";
#elif defined(__aarch64__)
	const char *arch = "arm64";
#else
	const char *arch = "";
#endif
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(ms, i);
		const char *a = jstr(jget(m, "platform", json_type_object), "architecture");
		if (n == 1 || !a || strcmp(a, arch) == 0)
			return m;
	}
	return NULL;
}

static int open_oci_layout(struct dn_image_source *s, char *why, size_t why_len)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/index.json", s->dir);
	_cleanup_(json_putp) struct json_object *index = read_json(path, why, why_len);
	if (!index)
		return -EBADMSG;
	struct json_object *desc = pick_manifest(index);
	_cleanup_(json_putp) struct json_object *nested = NULL;
	for (int depth = 0; desc && is_index(jstr(desc, "mediaType")) && depth < 2; depth++) {
		/* an index of indexes (multi-platform): one level down */
		char p[PATH_MAX];
		int r = blob_path(s->dir, jstr(desc, "digest"), p, sizeof(p), why, why_len);
		if (r < 0 || (r = check_blob(p, jstr(desc, "digest"), NULL, why, why_len)) < 0)
			return r;
		json_putp(&nested);
		if (!(nested = read_json(p, why, why_len)))
			return -EBADMSG;
		desc = pick_manifest(nested);
	}
	if (!desc) {
		snprintf(why, why_len, "%s: names no image manifest for this platform", path);
		return -ENOENT;
	}
	const char *mdigest = jstr(desc, "digest");
	int r = blob_path(s->dir, mdigest, s->manifest, sizeof(s->manifest), why, why_len);
	if (r < 0 || (r = check_blob(s->manifest, mdigest, NULL, why, why_len)) < 0)
		return r;
	snprintf(s->manifest_digest, sizeof(s->manifest_digest), "%s", mdigest);
	_cleanup_(json_putp) struct json_object *m = read_json(s->manifest, why, why_len);
	if (!m)
		return -EBADMSG;
	const char *cdigest = jstr(jget(m, "config", json_type_object), "digest");
	r = blob_path(s->dir, cdigest, s->config, sizeof(s->config), why, why_len);
	if (r < 0 || (r = check_blob(s->config, cdigest, NULL, why, why_len)) < 0)
		return r;
	snprintf(s->config_digest, sizeof(s->config_digest), "%s", cdigest);
	struct json_object *layers = jget(m, "layers", json_type_array);
	s->nlayers = layers ? json_object_array_length(layers) : 0;
	if (!layers || s->nlayers > DN_IMAGE_LAYERS_MAX) {
		snprintf(why, why_len, "%s: %s", s->manifest,
			 layers ? "more than 256 layers" : "no layers");
		return -EBADMSG;
	}
	for (size_t i = 0; i < s->nlayers; i++) {
		const char *d = jstr(json_object_array_get_idx(layers, i), "digest");
		struct dn_image_layer *l = &s->layers[i];
		if ((r = blob_path(s->dir, d, l->path, sizeof(l->path), why, why_len)) < 0)
			return r;
		snprintf(l->blob, sizeof(l->blob), "%s", d);
	}
	if ((r = take_diff_ids(s, why, why_len)) < 0)
		return r;
	return check_layers(s, why, why_len);
}

/* A name inside the archive's directory: relative, no "..". */
static int inside(const char *dir, const char *name, char *out, size_t len, char *why,
		  size_t why_len)
{
	if (!name || name[0] == '/' || strstr(name, "..")) {
		snprintf(why, why_len, "%s/manifest.json: '%s' is outside the archive", dir,
			 name ? name : "");
		return -EBADMSG;
	}
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int open_docker_archive(struct dn_image_source *s, char *why, size_t why_len)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/manifest.json", s->dir);
	_cleanup_(json_putp) struct json_object *list = read_json(path, why, why_len);
	if (!list)
		return -EBADMSG;
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) != 1) {
		snprintf(why, why_len, "%s: not one image (archives of several are not supported)",
			 path);
		return -EBADMSG;
	}
	struct json_object *img = json_object_array_get_idx(list, 0);
	const char *cname = jstr(img, "Config");
	int r = inside(s->dir, cname, s->config, sizeof(s->config), why, why_len);
	if (r < 0 || (r = dn_digest_file(s->config, s->config_digest, NULL, why, why_len)) < 0)
		return r;
	/* named by its digest ("HEX.json", or "blobs/sha256/HEX"): it must be that */
	const char *base = strrchr(cname, '/') ? strrchr(cname, '/') + 1 : cname;
	if (strspn(base, "0123456789abcdef") == 64 &&
	    strncmp(base, s->config_digest + 7, 64) != 0) {
		snprintf(why, why_len, "%s: its digest is %s: refused", s->config, s->config_digest);
		return -EBADMSG;
	}
	struct json_object *layers = jget(img, "Layers", json_type_array);
	s->nlayers = layers ? json_object_array_length(layers) : 0;
	if (!layers || s->nlayers > DN_IMAGE_LAYERS_MAX) {
		snprintf(why, why_len, "%s: %s", path, layers ? "more than 256 layers" : "no Layers");
		return -EBADMSG;
	}
	for (size_t i = 0; i < s->nlayers; i++) {
		struct dn_image_layer *l = &s->layers[i];
		r = inside(s->dir, json_object_get_string(json_object_array_get_idx(layers, i)),
			   l->path, sizeof(l->path), why, why_len);
		if (r < 0)
			return r;
		l->blob[0] = 0;
	}
	if ((r = take_diff_ids(s, why, why_len)) < 0)
		return r;
	return check_layers(s, why, why_len);
}

int dn_image_source_open(struct dn_image_source *s, const char *source, char *why,
			 size_t why_len)
{
	memset(s, 0, sizeof(*s));
	struct stat st;
	if (stat(source, &st) < 0) {
		snprintf(why, why_len, "%s: %s", source, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		if (!realpath(source, s->dir)) {
			snprintf(why, why_len, "%s: %s", source, strerror(errno));
			return -errno;
		}
	} else {
		/* an archive: unpacked aside, with the same care as a layer */
		const char *tmp = getenv("TMPDIR");
		snprintf(s->dir, sizeof(s->dir), "%s/danaus-image.XXXXXX",
			 tmp && *tmp ? tmp : "/var/tmp");
		if (!mkdtemp(s->dir)) {
			snprintf(why, why_len, "%s: %s", s->dir, strerror(errno));
			return -errno;
		}
		s->temporary = true;
		int r = dn_layer_unpack(source, s->dir, why, why_len);
		if (r < 0)
			return r;
	}
	char probe[PATH_MAX + 16];
	snprintf(probe, sizeof(probe), "%s/index.json", s->dir);
	if (access(probe, F_OK) == 0)
		return open_oci_layout(s, why, why_len);
	snprintf(probe, sizeof(probe), "%s/manifest.json", s->dir);
	if (access(probe, F_OK) == 0)
		return open_docker_archive(s, why, why_len);
	snprintf(why, why_len, "%s: neither an OCI layout (index.json) nor a docker archive "
			       "(manifest.json)", source);
	return -EINVAL;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void dn_image_source_close(struct dn_image_source *s)
{
	if (s->temporary)
		nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	s->temporary = false;
}
