/* Store: image layers stored once, by content, and the names that lead to them */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cleanup.h"
#include "layer.h"


static void json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* The store's lock, made if missing; -1 with WHY on failure. */
static int lock_store(const char *store, char *why, size_t why_len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/.lock", store);
	int r = dn_mkdirs(store);
	int fd = r < 0 ? -1 : open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		snprintf(why, why_len, "%s: %s", p, strerror(r < 0 ? -r : errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* repositories.json, or an empty object when there is none yet. */
static struct json_object *repos_read(const char *store, char *why, size_t why_len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/repositories.json", store);
	if (access(p, F_OK) < 0 && errno == ENOENT)
		return json_object_new_object();
	struct json_object *o = json_object_from_file(p);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(why, why_len, "%s: not a JSON object (%s)", p, json_util_get_last_err());
		json_putp(&o);
		return NULL;
	}
	return o;
}

/* TEXT into PATH, old or new, never half; WHY says what failed. */
static int replace_file(const char *path, const char *text, size_t len, char *why, size_t why_len)
{
	int r = dn_file_replace(path, text, len, 0644);
	if (r < 0)
		snprintf(why, why_len, "%s: %s", path, strerror(-r));
	return r;
}

static int repos_write(const char *store, struct json_object *repos, char *why, size_t why_len)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/repositories.json", store);
	const char *text = json_object_to_json_string_ext(repos, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	return text ? replace_file(p, text, strlen(text), why, why_len) : -ENOMEM;
}

/* Copies the blob at FROM to STORE/blobs/sha256/HEX of DIGEST, unless it is there. */
static int blob_keep(const char *store, const char *from, const char *digest, char *why,
		     size_t why_len)
{
	char dir[PATH_MAX], to[PATH_MAX + 80];
	snprintf(dir, sizeof(dir), "%s/blobs/sha256", store);
	snprintf(to, sizeof(to), "%s/%s", dir, digest + 7);
	if (access(to, F_OK) == 0)
		return 0;
	int r = dn_mkdirs(dir);
	if (r < 0) {
		snprintf(why, why_len, "%s: %s", dir, strerror(-r));
		return r;
	}
	FILE *f = fopen(from, "re");
	if (!f) {
		snprintf(why, why_len, "%s: %s", from, strerror(errno));
		return -errno;
	}
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char buf[1 << 14];
	for (size_t n; m && (n = fread(buf, 1, sizeof(buf), f)) > 0;)
		fwrite(buf, 1, n, m);
	bool bad = ferror(f);
	fclose(f);
	if (!m || fclose(m) != 0 || bad) {
		free(text);
		snprintf(why, why_len, "reading %s failed", from);
		return -EIO;
	}
	r = replace_file(to, text, len, why, why_len);
	free(text);
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	/* a layer may hold read-only or closed directories: open each before emptying it */
	if ((type == FTW_D || type == FTW_DNR) && (st->st_mode & S_IRWXU) != S_IRWXU)
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

static int remove_entry_post(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_PHYS) < 0 ||
	    nftw(path, remove_entry_post, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* The layer DIFF_ID unpacked from PATH, unless the store has it: 1 if unpacked now. */
static int layer_keep(const char *store, const char *path, const char *diff_id, char *why,
		      size_t why_len)
{
	char dir[PATH_MAX], final[PATH_MAX + 80], tmp[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s/layers/sha256", store);
	snprintf(final, sizeof(final), "%s/%s", dir, diff_id + 7);
	if (access(final, F_OK) == 0)
		return 0; /* stored once: the deduplication */
	int r = dn_mkdirs(dir);
	if (r < 0) {
		snprintf(why, why_len, "%s: %s", dir, strerror(-r));
		return r;
	}
	/* unpacked aside (".HEX.tmp", never a layer's name), then renamed into place */
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, diff_id + 7);
	if (access(tmp, F_OK) == 0)
		remove_tree(tmp); /* an import that died: we hold the lock now */
	if (mkdir(tmp, 0755) < 0) {
		snprintf(why, why_len, "%s: %s", tmp, strerror(errno));
		return -errno;
	}
	r = dn_layer_unpack(path, tmp, why, why_len);
	if (r == 0 && rename(tmp, final) < 0) {
		r = -errno;
		snprintf(why, why_len, "%s: %s", final, strerror(errno));
	}
	if (r < 0) {
		remove_tree(tmp);
		return r;
	}
	return 1;
}

int dn_store_import(const char *store, const struct dn_image_source *s, const char *ref,
		    struct dn_import_report *rep, char *why, size_t why_len)
{
	_cleanup_close_ int lock = lock_store(store, why, why_len);
	if (lock < 0)
		return -EIO;
	rep->layers = s->nlayers;
	rep->stored = 0;
	for (size_t i = 0; i < s->nlayers; i++) {
		int r = layer_keep(store, s->layers[i].path, s->layers[i].diff_id, why, why_len);
		if (r < 0)
			return r;
		rep->stored += (size_t)r;
	}
	int r = blob_keep(store, s->config, s->config_digest, why, why_len);
	if (r == 0 && s->manifest[0])
		r = blob_keep(store, s->manifest, s->manifest_digest, why, why_len);
	if (r < 0)
		return r;
	_cleanup_(json_putp) struct json_object *repos = repos_read(store, why, why_len);
	struct json_object *img = json_object_new_object();
	struct json_object *layers = json_object_new_array();
	if (!repos || !img || !layers) {
		json_putp(&img);
		json_putp(&layers);
		return repos ? -ENOMEM : -EBADMSG;
	}
	json_object_object_add(img, "config", json_object_new_string(s->config_digest));
	json_object_object_add(img, "manifest", s->manifest[0] ? json_object_new_string(
								     s->manifest_digest)
							       : NULL);
	for (size_t i = 0; i < s->nlayers; i++)
		json_object_array_add(layers, json_object_new_string(s->layers[i].diff_id));
	json_object_object_add(img, "layers", layers);
	json_object_object_add(repos, ref, img);
	return repos_write(store, repos, why, why_len);
}

int dn_store_list(const char *store, FILE *out, char *why, size_t why_len)
{
	_cleanup_(json_putp) struct json_object *repos = repos_read(store, why, why_len);
	if (!repos)
		return -EBADMSG;
	fprintf(out, "%-40s %-12s %s\n", "IMAGE", "ID", "LAYERS");
	/* the C form of the iteration: the other one is a GNU statement expression */
	struct json_object_iter it;
	json_object_object_foreachC(repos, it)
	{
		const char *ref = it.key;
		struct json_object *img = it.val, *cfg, *layers;
		const char *id = json_object_object_get_ex(img, "config", &cfg)
					 ? json_object_get_string(cfg)
					 : NULL;
		size_t n = json_object_object_get_ex(img, "layers", &layers)
				   ? json_object_array_length(layers)
				   : 0;
		fprintf(out, "%-40s %-12.12s %zu\n", ref, id && strlen(id) > 7 ? id + 7 : "?", n);
	}
	return 0;
}

/* True when some image of REPOS names DIGEST as its config, manifest or a layer. */
static bool in_use(struct json_object *repos, const char *digest)
{
	struct json_object_iter it;
	json_object_object_foreachC(repos, it)
	{
		struct json_object *img = it.val, *v;
		if (json_object_object_get_ex(img, "config", &v) &&
		    strcmp(json_object_get_string(v), digest) == 0)
			return true;
		if (json_object_object_get_ex(img, "manifest", &v) && v &&
		    strcmp(json_object_get_string(v), digest) == 0)
			return true;
		if (json_object_object_get_ex(img, "layers", &v))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				if (strcmp(json_object_get_string(json_object_array_get_idx(v, i)),
					   digest) == 0)
					return true;
	}
	return false;
}

/*
 * A writable layer a union stacks on ref (the pool's record in users/, see
 * image-ref.h): its path into layer, 1; 0 when none does.
 */
static int used_by(const char *store, const char *ref, char *layer, size_t len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/%s", store, DN_IMAGE_USERS);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int found = 0;
	for (struct dirent *e; !found && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char p[PATH_MAX + NAME_MAX + 2], text[DN_IMAGE_REF_MAX + 2] = "";
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		FILE *f = fopen(p, "re");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f))
			text[strcspn(text, "\n")] = '\0';
		fclose(f);
		if (strcmp(text, ref) != 0)
			continue;
		snprintf(layer, len, "%s", e->d_name); /* (the record's name; '%' for '/') */
		found = 1;
	}
	closedir(d);
	return found;
}

int dn_store_remove(const char *store, const char *ref, size_t *freed, char *why,
		    size_t why_len)
{
	_cleanup_close_ int lock = lock_store(store, why, why_len);
	if (lock < 0)
		return -EIO;
	_cleanup_(json_putp) struct json_object *repos = repos_read(store, why, why_len);
	if (!repos)
		return -EBADMSG;
	struct json_object *img;
	if (!json_object_object_get_ex(repos, ref, &img)) {
		snprintf(why, why_len, "no image %s in %s", ref, store);
		return -ENOENT;
	}
	char record[NAME_MAX + 1], layer[NAME_MAX + 1];
	int used = used_by(store, ref, record, sizeof(record));
	if (used != 0) {
		if (used < 0) {
			snprintf(why, why_len, "%s/%s: %s", store, DN_IMAGE_USERS, strerror(-used));
			return used;
		}
		for (size_t i = 0; i < sizeof(layer); i++)
			layer[i] = record[i] == '%' ? '/' : record[i];
		snprintf(why, why_len, "%s is in use: the writable layer %s stacks on it (remove "
			 "that layer and its record %s/%s/%s first)", ref, layer, store,
			 DN_IMAGE_USERS, record);
		return -EBUSY;
	}
	_cleanup_(json_putp) struct json_object *gone = json_object_get(img);
	json_object_object_del(repos, ref);
	int r = repos_write(store, repos, why, why_len);
	if (r < 0)
		return r;
	/* what only this image used goes: its layers, its config and manifest */
	*freed = 0;
	struct json_object *v;
	if (json_object_object_get_ex(gone, "layers", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			const char *d = json_object_get_string(json_object_array_get_idx(v, i));
			char p[PATH_MAX];
			if (!d || strlen(d) != 71 || in_use(repos, d))
				continue;
			snprintf(p, sizeof(p), "%s/layers/sha256/%s", store, d + 7);
			if (remove_tree(p) == 0)
				(*freed)++;
		}
	const char *keys[] = {"config", "manifest"};
	for (size_t k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(gone, keys[k], &v) || !v)
			continue;
		const char *d = json_object_get_string(v);
		char p[PATH_MAX];
		if (d && strlen(d) == 71 && !in_use(repos, d)) {
			snprintf(p, sizeof(p), "%s/blobs/sha256/%s", store, d + 7);
			unlink(p);
		}
	}
	return 0;
}
