/* Union Images: an image's layers, read from the pool's image store through the backend */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "image-ref.h"
#include "union.h"

#define REPOS_MAX (16 << 20)
#define DIGEST_PREFIX "sha256:"

static void json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* store/repositories.json, whole */
static int read_repos(struct dn_svc *below, const struct dn_cred *priv, char **out)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/repositories.json", DN_IMAGE_STORE);
	struct dn_file *f;
	int handover = -1;
	int r = below->ops->open(below, priv, p, O_RDONLY | O_NOFOLLOW, 0, &f, &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	r = buf ? 0 : -ENOMEM;
	while (r == 0) {
		if (len == cap) {
			char *grown = cap < REPOS_MAX ? realloc(buf, cap * 2 + 1) : NULL;
			if (!grown) {
				r = cap < REPOS_MAX ? -ENOMEM : -EFBIG;
				break;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t got = below->ops->pread(below, f, buf + len, cap - len, (off_t)len);
		if (got < 0)
			r = (int)got;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	below->ops->close(below, f);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* path's contents, at most len - 1 bytes, NUL-terminated */
int un_small_read(struct dn_svc *b, const struct dn_cred *c, const char *path, char *buf,
		      size_t len)
{
	struct dn_file *f;
	int handover = -1;
	int r = b->ops->open(b, c, path, O_RDONLY | O_NOFOLLOW, 0, &f, &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	ssize_t got = b->ops->pread(b, f, buf, len - 1, 0);
	b->ops->close(b, f);
	if (got < 0)
		return (int)got;
	buf[got] = '\0';
	return 0;
}

int un_small_write(struct dn_svc *b, const struct dn_cred *c, const char *path,
		       const char *text)
{
	struct dn_file *f;
	int handover = -1;
	int r = b->ops->open(b, c, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600, &f,
			     &handover);
	if (r != 0)
		return r < 0 ? r : -EIO;
	uint64_t end;
	ssize_t put = *text ? b->ops->pwrite(b, f, text, strlen(text), 0, &end) : 0;
	b->ops->close(b, f);
	return put < 0 ? (int)put : put == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* a layer's digest as the store names it: sha256: and 64 hex digits */
static bool digest_ok(const char *d)
{
	size_t pl = strlen(DIGEST_PREFIX);
	return strncmp(d, DIGEST_PREFIX, pl) == 0 && strlen(d + pl) == 64 &&
	       strspn(d + pl, "0123456789abcdef") == 64;
}

int un_image_layers(struct dn_svc *below, const struct dn_cred *priv, const char *ref,
		    char ***layers, size_t *n, char *err, size_t errlen)
{
	_cleanup_free_ char *text = NULL;
	int r = read_repos(below, priv, &text);
	if (r < 0) {
		snprintf(err, errlen, "[union] image: %s/repositories.json: %s%s", DN_IMAGE_STORE,
			 strerror(-r), r == -ENOENT ? " (no image imported: danaus-image import)" : "");
		return r;
	}
	_cleanup_(json_putp) struct json_object *repos = json_tokener_parse(text);
	struct json_object *img, *list;
	if (!repos || !json_object_is_type(repos, json_type_object)) {
		snprintf(err, errlen, "[union] image: %s/repositories.json is not a JSON object",
			 DN_IMAGE_STORE);
		return -EBADMSG;
	}
	if (!json_object_object_get_ex(repos, ref, &img)) {
		snprintf(err, errlen, "[union] image: no image %s in %s (danaus-image list)", ref,
			 DN_IMAGE_STORE);
		return -ENOENT;
	}
	if (!json_object_object_get_ex(img, "layers", &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0 ||
	    json_object_array_length(list) >= UN_LAYERS_MAX) {
		snprintf(err, errlen, "[union] image: %s has no layer list (or over %d layers)", ref,
			 UN_LAYERS_MAX - 1);
		return -EBADMSG;
	}
	size_t count = json_object_array_length(list);
	char **out = calloc(count, sizeof(*out));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* the store lists them base first; a union wants the top first */
	for (size_t i = 0; i < count; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(list, i));
		if (!d || !digest_ok(d)) {
			snprintf(err, errlen, "[union] image: %s: layer %zu is no sha256 digest", ref, i);
			r = -EBADMSG;
			break;
		}
		if (asprintf(&out[count - 1 - i], "%s/layers/sha256/%s", DN_IMAGE_STORE,
			     d + strlen(DIGEST_PREFIX)) < 0) {
			out[count - 1 - i] = NULL;
			snprintf(err, errlen, "out of memory");
			r = -ENOMEM;
			break;
		}
	}
	if (r < 0) {
		for (size_t i = 0; i < count; i++)
			free(out[i]);
		free(out);
		return r;
	}
	*layers = out;
	*n = count;
	return 0;
}

/* users/ record of upper: path into buf */
static int user_path(const char *upper, char *buf)
{
	char name[NAME_MAX + 1];
	int r = dn_image_user_name(upper, name, sizeof(name));
	if (r < 0)
		return r;
	int n = snprintf(buf, PATH_MAX, "%s/%s/%s", DN_IMAGE_STORE, DN_IMAGE_USERS, name);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int un_image_use(struct dn_svc *below, const struct dn_cred *priv, const char *ref,
		 const char *upper)
{
	char dir[PATH_MAX], p[PATH_MAX], text[DN_IMAGE_REF_MAX + 2];
	snprintf(dir, sizeof(dir), "%s/%s", DN_IMAGE_STORE, DN_IMAGE_USERS);
	int r = below->ops->mkdir(below, priv, dir, 0755);
	if (r < 0 && r != -EEXIST)
		return r;
	if ((r = user_path(upper, p)) < 0)
		return r;
	snprintf(text, sizeof(text), "%s\n", ref);
	return un_small_write(below, priv, p, text);
}

void un_image_unuse(struct dn_svc *below, const struct dn_cred *priv, const char *upper)
{
	char p[PATH_MAX];
	if (user_path(upper, p) == 0)
		below->ops->unlink(below, priv, p);
}
