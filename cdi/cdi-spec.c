/* CDI Spec: a pool as a Container Device Interface device (danaus.io/pool=NAME) */
#include "cdi-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "cdi-mark.h"
#include "cleanup.h"

/* CDI 0.5.0 has everything used here (env, mounts) and podman 4.3 reads it. */
#define CDI_VERSION "0.5.0"

static const char placeholder_text[] =
	"This directory is a Danaus mountpoint, and this process is not served by\n"
	"the pool: libdanaus.so was not preloaded (see LD_PRELOAD, and the loader's\n"
	"message when the process started). The pool's files are reachable only\n"
	"through the library; this directory is read-only.\n";

static void json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/*
 * Adds CHILD to PARENT (under KEY, or at the end of an array when KEY is
 * NULL) and returns it, now owned by PARENT; NULL when CHILD is NULL or
 * cannot be added (then it is freed). Each object is attached before it is
 * filled, so the spec owns everything and one put frees it all.
 */
static struct json_object *attach(struct json_object *parent, const char *key,
				  struct json_object *child)
{
	if (!child)
		return NULL;
	int r = key ? json_object_object_add(parent, key, child)
		    : json_object_array_add(parent, child);
	if (r == 0)
		return child;
	json_object_put(child);
	return NULL;
}

static bool add_string(struct json_object *parent, const char *key, const char *value)
{
	return attach(parent, key, json_object_new_string(value)) != NULL;
}

static bool append_env(struct json_object *env, const char *key, const char *value)
{
	char line[2 * PATH_MAX];
	if ((size_t)snprintf(line, sizeof(line), "%s=%s", key, value) >= sizeof(line))
		return false;
	return add_string(env, NULL, line);
}

/* A bind mount of HOST at CONTAINER with OPTIONS (NULL-terminated), added to MOUNTS. */
static bool append_mount(struct json_object *mounts, const char *host, const char *container,
			 const char *const *options)
{
	struct json_object *m = attach(mounts, NULL, json_object_new_object());
	struct json_object *opts = m ? attach(m, "options", json_object_new_array()) : NULL;
	if (!opts || !add_string(m, "hostPath", host) ||
	    !add_string(m, "containerPath", container) || !add_string(m, "type", "bind"))
		return false;
	for (const char *const *o = options; *o; o++)
		if (!add_string(opts, NULL, *o))
			return false;
	return true;
}

/* The pool's own variable (cdi-mark.h): NAME:MOUNTPOINT[:MORE], under a name no other pool sets. */
static bool append_mark(struct json_object *env, const struct dn_cdi_pool *p)
{
	char key[128], value[PATH_MAX + 512];
	bool more = p->more && *p->more;
	if (dn_cdi_mark_key(p->name, key, sizeof(key)) < 0 ||
	    (size_t)snprintf(value, sizeof(value), "%s:%s%s%s", p->name, p->mountpoint,
			     more ? ":" : "", more ? p->more : "") >= sizeof(value))
		return false;
	return append_env(env, key, value);
}

static bool valid(const struct dn_cdi_pool *p)
{
	return p->name && *p->name && p->socket && p->socket[0] == '/' && p->mountpoint &&
	       p->mountpoint[0] == '/' && p->mountpoint[1] && p->library && p->library[0] == '/' &&
	       p->placeholder && p->placeholder[0] == '/';
}

char *dn_cdi_spec_json(const struct dn_cdi_pool *p)
{
	if (!valid(p)) {
		errno = EINVAL;
		return NULL;
	}
	char lib[PATH_MAX], sock[PATH_MAX];
	snprintf(lib, sizeof(lib), "%s/libdanaus.so", DN_CDI_CONTAINER_DIR);
	if ((size_t)snprintf(sock, sizeof(sock), "%s/%s.sock", DN_CDI_CONTAINER_DIR, p->name) >=
	    sizeof(sock)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	_cleanup_(json_putp) struct json_object *spec = json_object_new_object();
	bool ok = spec && add_string(spec, "cdiVersion", CDI_VERSION) &&
		  add_string(spec, "kind", DN_CDI_KIND);
	struct json_object *devices = ok ? attach(spec, "devices", json_object_new_array()) : NULL;
	struct json_object *device = devices ? attach(devices, NULL, json_object_new_object()) : NULL;
	struct json_object *edits = NULL, *env = NULL, *mounts = NULL;
	if (device && add_string(device, "name", p->name))
		edits = attach(device, "containerEdits", json_object_new_object());
	if (edits) {
		env = attach(edits, "env", json_object_new_array());
		mounts = attach(edits, "mounts", json_object_new_array());
	}
	/* the library must stay mappable executable: no noexec on it */
	static const char *const lib_opts[] = {"ro", "nosuid", "nodev", "bind", NULL};
	static const char *const sock_opts[] = {"nosuid", "nodev", "noexec", "bind", NULL};
	static const char *const ph_opts[] = {"ro", "nosuid", "nodev", "noexec", "bind", NULL};
	/* the compat mount: programs the library misses (static ones) reach the pool through it */
	static const char *const compat_opts[] = {"nosuid", "nodev", "rbind", NULL};
	ok = env && mounts && append_env(env, "LD_PRELOAD", lib) &&
	     append_env(env, "DANAUS_POOL", p->name) && append_env(env, "DANAUS_SOCKET", sock) &&
	     append_env(env, "DANAUS_MOUNTPOINT", p->mountpoint) &&
	     append_mount(mounts, p->library, lib, lib_opts) &&
	     append_mount(mounts, p->socket, sock, sock_opts) &&
	     (p->compat_mount ? append_mount(mounts, p->mountpoint, p->mountpoint, compat_opts)
			      : append_mount(mounts, p->placeholder, p->mountpoint, ph_opts)) &&
	     (!p->more || !*p->more || append_env(env, "DANAUS_MOUNTS", p->more)) &&
	     append_mark(env, p);
	/* every other instance's mountpoint too: its compat mount, or a placeholder */
	for (const char *m = p->more ? p->more : ""; ok && *m;) {
		size_t n = strcspn(m, ":");
		char one[PATH_MAX];
		if (n >= sizeof(one) || m[0] != '/')
			break;
		memcpy(one, m, n);
		one[n] = 0;
		ok = p->compat_mount ? append_mount(mounts, one, one, compat_opts)
				     : append_mount(mounts, p->placeholder, one, ph_opts);
		m += n + (m[n] == ':');
	}
	if (!ok) {
		errno = ENOMEM;
		return NULL;
	}
	const char *text = json_object_to_json_string_ext(
		spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = text ? strdup(text) : NULL;
	if (!out)
		errno = ENOMEM;
	return out;
}

int dn_cdi_spec_path(const char *dir, const char *name, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/danaus-pool-%s.json", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int dn_cdi_spec_write(const char *dir, const struct dn_cdi_pool *p)
{
	char path[PATH_MAX];
	int r = p->name ? dn_cdi_spec_path(dir, p->name, path, sizeof(path)) : -EINVAL;
	if (r < 0)
		return r;
	_cleanup_free_ char *json = dn_cdi_spec_json(p);
	if (!json)
		return -errno;
	if ((r = dn_mkdirs(dir)) < 0)
		return r;
	return dn_file_replace(path, json, strlen(json), 0644);
}

int dn_cdi_spec_load(const char *path, char **text)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size > 1 << 20)
		return -EFBIG;
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break; /* shrank meanwhile: what is there */
		done += (size_t)n;
	}
	buf[done] = 0;
	*text = TAKE_PTR(buf);
	return 0;
}

/* O's member KEY when it is a string, else NULL. */
static const char *member_string(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *member_array(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

int dn_cdi_spec_socket(const char *text, const char *name, char *out, size_t len)
{
	char want[PATH_MAX];
	if ((size_t)snprintf(want, sizeof(want), "%s/%s.sock", DN_CDI_CONTAINER_DIR, name) >=
	    sizeof(want))
		return -EINVAL;
	_cleanup_(json_putp) struct json_object *spec = json_tokener_parse(text);
	if (!spec || !json_object_is_type(spec, json_type_object))
		return -EINVAL;
	const char *kind = member_string(spec, "kind");
	struct json_object *devices = member_array(spec, "devices");
	if (!kind || strcmp(kind, DN_CDI_KIND) != 0 || !devices ||
	    json_object_array_length(devices) != 1)
		return -EINVAL;
	struct json_object *device = json_object_array_get_idx(devices, 0);
	const char *dev_name = member_string(device, "name");
	struct json_object *edits = NULL;
	if (!dev_name || strcmp(dev_name, name) != 0 ||
	    !json_object_object_get_ex(device, "containerEdits", &edits))
		return -EINVAL;
	struct json_object *mounts = member_array(edits, "mounts");
	for (size_t i = 0; mounts && i < json_object_array_length(mounts); i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		const char *at = member_string(m, "containerPath");
		const char *host = member_string(m, "hostPath");
		if (at && host && strcmp(at, want) == 0)
			return (size_t)snprintf(out, len, "%s", host) < len ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int dn_cdi_spec_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int r = dn_cdi_spec_path(dir, name, path, sizeof(path));
	if (r < 0)
		return r;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int dn_cdi_placeholder_ensure(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -EEXIST;
	char tmp[PATH_MAX], note[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	const char *slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	int r = dir[0] ? dn_mkdirs(dir) : 0;
	if (r < 0)
		return r;
	/* made aside and renamed into place: two pools starting at once agree */
	if (!mkdtemp(tmp))
		return -errno;
	if ((size_t)snprintf(note, sizeof(note), "%s/%s", tmp, DN_CDI_PLACEHOLDER_NOTE) >=
	    sizeof(note))
		r = -ENAMETOOLONG;
	else
		r = dn_file_replace(note, placeholder_text, sizeof(placeholder_text) - 1, 0444);
	if (r == 0 && chmod(tmp, 0555) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0 && errno != EEXIST && errno != ENOTEMPTY)
		r = -errno;
	if (access(tmp, F_OK) == 0) { /* not renamed: another pool's won, or a failure */
		chmod(tmp, 0700);
		unlink(note);
		rmdir(tmp);
	}
	return r;
}
