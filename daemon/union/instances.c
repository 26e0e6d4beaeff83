/* Container Instances: unions made on demand, shared by a container's processes, reaped when idle */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gens.h"
#include "../cred.h"
#include "../log.h"
#include "../no-symlinks.h"
#include "cleanup.h"
#include "futex.h"
#include "image-ref.h"
#include "instances.h"
#include "union.h"
#include "wire.h"

#define GRACE_NS 2000000000ull
/*
 * Unions one uid may have open at once: each holds a lookup cache of up to a
 * few MiB, and no tenant's user may grow the pool without bound.
 */
#define CONTAINERS_PER_UID 32
#define REMOVE_DEPTH_MAX 512
/* in the writable layer, hidden by the union: who made it, and of what image */
#define OWNER_MARK UN_WH UN_WH "owner"
#define IMAGE_MARK UN_WH UN_WH "image"

struct instance {
	char name[DN_CONTAINER_NAME_MAX + 1];
	char image[DN_IMAGE_REF_MAX];
	struct dn_svc *svc;
	unsigned users;
	uint64_t idle_since;
	bool rm;
	uid_t uid; /* whose processes opened it (the cap's count) */
};

struct dn_instances {
	struct dn_svc *below;
	char *containers;
	struct dn_cred priv;
	struct instance **v;
	size_t n;
};

struct dn_instances *dn_instances_new(struct dn_svc *below, const char *containers)
{
	struct dn_instances *t = calloc(1, sizeof(*t));
	if (!t || !(t->containers = strdup(containers))) {
		free(t);
		return NULL;
	}
	t->below = below;
	t->priv = (struct dn_cred){.uid = 0, .gid = 0, .caps = dn_cred_pool_caps()};
	return t;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n <= DN_CONTAINER_NAME_MAX && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int layer_path(const struct dn_instances *t, const char *name, const char *leaf, char *buf)
{
	int n = snprintf(buf, UN_PATH_MAX, "%s/%s%s%s", t->containers, name, leaf ? "/" : "",
			 leaf ? leaf : "");
	return n < 0 || n >= UN_PATH_MAX ? -ENAMETOOLONG : 0;
}

/*
 * The writable layer of name, when a run before made it, checked against
 * its marks (whose it is, which image): 0, 1 when there is none yet, or
 * -errno and why.
 */
static int check_layer(struct dn_instances *t, const struct dn_cred *c, const char *name,
		       const char *image, char *why, size_t whylen)
{
	char owner[UN_PATH_MAX], img[UN_PATH_MAX];
	int r;
	if ((r = layer_path(t, name, OWNER_MARK, owner)) < 0 ||
	    (r = layer_path(t, name, IMAGE_MARK, img)) < 0)
		return r;
	struct stat st;
	r = t->below->ops->stat(t->below, &t->priv, owner, true, &st);
	if (r == 0) {
		char had[DN_IMAGE_REF_MAX];
		bool root = c->uid == 0 && dn_cred_capable(c, CAP_DAC_OVERRIDE);
		if (st.st_uid != c->uid && !root) {
			snprintf(why, whylen, "container %s belongs to uid %u", name,
				 (unsigned)st.st_uid);
			return -EACCES;
		}
		if ((r = un_small_read(t->below, &t->priv, img, had, sizeof(had))) < 0)
			return r;
		if (strcmp(had, image) != 0) {
			snprintf(why, whylen, "container %s runs %s, not %s", name, had, image);
			return -EEXIST;
		}
		return 0;
	}
	return r == -ENOENT ? 1 : r;
}

/* The marks of a new writable layer (the union made it): c's, of image. */
static int mark_layer(struct dn_instances *t, const struct dn_cred *c, const char *name,
		      const char *image)
{
	char owner[UN_PATH_MAX], img[UN_PATH_MAX];
	int r;
	if ((r = layer_path(t, name, OWNER_MARK, owner)) < 0 ||
	    (r = layer_path(t, name, IMAGE_MARK, img)) < 0 ||
	    (r = un_small_write(t->below, &t->priv, img, image)) < 0 ||
	    (r = un_small_write(t->below, &t->priv, owner, "")) < 0)
		return r;
	return t->below->ops->chown(t->below, &t->priv, NULL, owner, true, c->uid, (gid_t)-1);
}

int dn_instances_acquire(struct dn_instances *t, const struct dn_cred *c, const char *name,
			 const char *image, bool rm, struct dn_svc **svc, char *why, size_t whylen)
{
	char ref[DN_IMAGE_REF_MAX];
	if (!name_ok(name)) {
		snprintf(why, whylen, "'%.64s' is not a container name ([A-Za-z0-9_.-], 1 to %d, "
			 "not starting with '.')", name, DN_CONTAINER_NAME_MAX);
		return -EINVAL;
	}
	if (dn_image_ref(image, ref, sizeof(ref)) < 0) {
		snprintf(why, whylen, "container %s: '%.64s' is not an image name", name, image);
		return -EINVAL;
	}
	struct instance *in = NULL;
	for (size_t i = 0; i < t->n && !in; i++)
		if (strcmp(t->v[i]->name, name) == 0)
			in = t->v[i];
	/* (the marks decide, also for a union already running) */
	dn_walk_refuse_symlinks(true);
	int r = check_layer(t, c, name, ref, why, whylen);
	bool fresh = r == 1;
	dn_walk_refuse_symlinks(false);
	if (r < 0) {
		if (!*why)
			snprintf(why, whylen, "container %s: its writable layer: %s", name,
				 strerror(-r));
		return r;
	}
	if (!in) {
		size_t mine = 0;
		for (size_t i = 0; i < t->n; i++)
			mine += t->v[i]->uid == c->uid;
		if (mine >= CONTAINERS_PER_UID) {
			snprintf(why, whylen, "uid %u has %d containers open already", (unsigned)c->uid,
				 CONTAINERS_PER_UID);
			return -EMFILE;
		}
		struct instance **v = realloc(t->v, (t->n + 1) * sizeof(*v));
		if (!v || !(in = calloc(1, sizeof(*in)))) {
			if (v)
				t->v = v;
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		t->v = v;
		snprintf(in->name, sizeof(in->name), "%s", name);
		snprintf(in->image, sizeof(in->image), "%s", ref);
		in->uid = c->uid;
		char upper[UN_PATH_MAX];
		struct dn_union_spec spec = {.image = ref, .upper = upper};
		r = layer_path(t, name, NULL, upper);
		if (r == 0)
			r = dn_svc_union_new(&spec, t->below, false, &in->svc, why, whylen);
		if (r == 0 && fresh) {
			dn_walk_refuse_symlinks(true);
			r = mark_layer(t, c, name, ref);
			dn_walk_refuse_symlinks(false);
			if (r < 0) {
				snprintf(why, whylen, "container %s: cannot mark its writable layer: %s",
					 name, strerror(-r));
				in->svc->ops->destroy(in->svc);
			}
		}
		if (r < 0) {
			free(in);
			return r;
		}
		t->v[t->n++] = in;
		dn_log_info("container %s: %s under %s", name, ref, upper);
	}
	in->users++;
	in->rm |= rm;
	*svc = in->svc;
	return 0;
}

void dn_instances_release(struct dn_instances *t, struct dn_svc *svc)
{
	for (size_t i = 0; t && i < t->n; i++) {
		struct instance *in = t->v[i];
		if (in->svc == svc && in->users > 0 && --in->users == 0)
			in->idle_since = dn_now_ns();
	}
}

/* Removes what path holds, then path; depth bounds the recursion. */
static int remove_tree(struct dn_instances *t, const char *path, unsigned depth)
{
	const struct dn_svc_ops *ops = t->below->ops;
	int r = ops->unlink(t->below, &t->priv, path);
	if (r != -EISDIR && r != -EPERM)
		return r == -ENOENT ? 0 : r;
	if (depth > REMOVE_DEPTH_MAX)
		return -ELOOP;
	struct dn_file *f;
	int handover = -1;
	if ((r = ops->open(t->below, &t->priv, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, &f,
			   &handover)) != 0)
		return r < 0 ? r : -EIO;
	_cleanup_free_ char *buf = malloc(16384);
	uint64_t cookie = 0;
	r = buf ? 0 : -ENOMEM;
	/* every round lists from the start again: removal moves the others' cookies */
	for (bool removed = true; r == 0 && removed;) {
		removed = false;
		uint64_t next;
		ssize_t got = ops->readdir(t->below, f, cookie, buf, 16384, &next);
		if (got <= 0) {
			r = (int)got;
			break;
		}
		for (ssize_t at = 0; at < got && r == 0;) {
			struct dirent64 *d = (struct dirent64 *)(buf + at);
			at += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			_cleanup_free_ char *sub = NULL;
			if (asprintf(&sub, "%s/%s", path, d->d_name) < 0) {
				r = -ENOMEM;
				break;
			}
			r = remove_tree(t, sub, depth + 1);
			removed = true;
		}
		cookie = removed ? 0 : next;
	}
	ops->close(t->below, f);
	return r < 0 ? r : ops->rmdir(t->below, &t->priv, path);
}

static void instance_end(struct dn_instances *t, struct instance *in)
{
	in->svc->ops->destroy(in->svc);
	if (in->rm) {
		char dir[UN_PATH_MAX];
		dn_walk_refuse_symlinks(true);
		int r = layer_path(t, in->name, NULL, dir);
		if (r == 0)
			r = remove_tree(t, dir, 0);
		if (r == 0)
			un_image_unuse(t->below, &t->priv, dir);
		dn_gens_after(DN_OP_RMDIR, 0, 0); /* a removal no request made (gens.h) */
		dn_walk_refuse_symlinks(false);
		if (r < 0)
			dn_log_warning("container %s: its writable layer %s stays: %s", in->name,
				       dir, strerror(-r));
		else
			dn_log_info("container %s: removed with its writable layer", in->name);
	}
	free(in);
}

bool dn_instances_reap(struct dn_instances *t, uint64_t now_ns)
{
	bool waiting = false;
	for (size_t i = 0; t && i < t->n;) {
		struct instance *in = t->v[i];
		if (in->users > 0) {
			i++;
			continue;
		}
		if (now_ns - in->idle_since < GRACE_NS) {
			waiting = true;
			i++;
			continue;
		}
		t->v[i] = t->v[--t->n];
		instance_end(t, in);
	}
	return waiting;
}

void dn_instances_free(struct dn_instances *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		instance_end(t, t->v[i]);
	free(t->v);
	free(t->containers);
	free(t);
}
