/* Subtree Libservice: a directory of the backend as an instance's whole tree, confined as the pool's top is */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "no-symlinks.h"
#include "path.h"
#include "redirect.h"
#include "svc.h"

/*
 * The backend resolves a path inside the pool's top, not inside the
 * subtree: a ".." at the subtree's top, or a symlink, would lead out of it.
 * So the subtree hands the backend paths with no ".." above its top and
 * symlinks refused (real_paths, no-symlinks.h). A path without symlinks
 * then costs one backend call, as on the pool's top; one the backend
 * answers ELOOP for is walked here a component at a time, each link read
 * through the backend and put in its place (an absolute one from the
 * subtree's top, or handed to the client: redirect.h), and handed over
 * again without any. A link swapped in meanwhile is ELOOP, never followed.
 */

#define SYMLINKS_MAX 40
#define FOLLOW 1 /* a symlink as the last component is followed */
#define NAME 2   /* the call acts on the name: a trailing slash does not follow it */

struct subtree_svc {
	struct dn_svc base;
	struct dn_svc_ops ops;
	struct dn_svc *below;
	char *top; /* the subtree's backend path: "" for the backend's "/", else "/a/b" */
	size_t top_len;
};

static struct subtree_svc *to_subtree(struct dn_svc *s)
{
	return (struct subtree_svc *)s;
}

/* Appends len bytes of s at out[*n]: 0 or -ENAMETOOLONG. */
static int put(char *out, size_t *n, const char *s, size_t len)
{
	if (*n + len + 1 > DN_PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = 0;
	return 0;
}

/*
 * p's backend path as written, but for each ".." that would climb above
 * the top: the kernel's ".." at a root stays there (a last one becomes
 * "." of the top). Exact as long as p holds no symlink, which the backend
 * then refuses.
 */
static int lexical(const struct subtree_svc *t, const char *p, char *out)
{
	size_t n = 0, depth = 0;
	int r = put(out, &n, t->top, t->top_len);
	for (const char *at = p; r == 0 && *at;) {
		size_t slashes = strspn(at, "/");
		at += slashes;
		size_t len = strcspn(at, "/");
		if (len == 0) {
			if (slashes && n > t->top_len)
				r = put(out, &n, "/", 1); /* a trailing slash, as written */
			break;
		}
		const char *name = at;
		at += len;
		bool last = !at[strspn(at, "/")];
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			if (depth == 0 && !last)
				continue;
			if (depth == 0) {
				name = ".";
				len = 1;
			} else {
				depth--;
			}
		} else if (!(len == 1 && name[0] == '.')) {
			depth++;
		}
		if ((r = put(out, &n, "/", 1)) == 0)
			r = put(out, &n, name, len);
	}
	if (r == 0 && n == 0)
		r = put(out, &n, "/", 1);
	return r;
}

/* out = top + dir + "/" + name (+ "/"): a name the backend looks at itself. */
static int join(const struct subtree_svc *t, const char *dir, const char *name, bool slash,
		char *out)
{
	size_t n = 0;
	int r = put(out, &n, t->top, t->top_len);
	if (r == 0)
		r = put(out, &n, dir, strlen(dir));
	if (r == 0 && *name && (r = put(out, &n, "/", 1)) == 0)
		r = put(out, &n, name, strlen(name));
	if (r == 0 && slash)
		r = put(out, &n, "/", 1);
	if (r == 0 && n == 0)
		r = put(out, &n, "/", 1);
	return r;
}

/*
 * p resolved inside the subtree with c's rights, its symlinks followed here
 * (the last one as how says), into a backend path without any: 0, -errno,
 * or -DN_EREDIRECT for an absolute one the client follows.
 */
static int walk(struct subtree_svc *t, const struct dn_cred *c, const char *p, int how, char *out)
{
	char rest[DN_PATH_MAX], cur[DN_PATH_MAX] = "", name[NAME_MAX + 1], link[PATH_MAX];
	if (strlen(p) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(rest, p);
	const char *at = rest;
	for (int links = 0;;) {
		bool last, must_dir;
		int r = dn_path_next(&at, name, &last, &must_dir);
		if (r <= 0)
			return r < 0 ? r : join(t, cur, "", false, out); /* the top, or a trail of ".." */
		bool dots = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
		if (dots && last) /* the backend gives it the kernel's meaning for the call */
			return join(t, cur, *cur || name[1] != '.' ? name : ".", must_dir, out);
		if (dots) {
			char *up = strrchr(cur, '/');
			if (name[1] == '.' && up)
				*up = 0;
			continue;
		}
		if (last && !(how & FOLLOW) && !(must_dir && !(how & NAME)))
			return join(t, cur, name, must_dir, out);
		char real[DN_PATH_MAX];
		struct stat st;
		if ((r = join(t, cur, name, false, real)) < 0)
			return r;
		r = t->below->ops->stat(t->below, c, real, true, &st);
		if (r == -ENOENT && last)
			return join(t, cur, name, must_dir, out); /* to create, or the backend's ENOENT */
		if (r < 0)
			return r;
		if (S_ISLNK(st.st_mode)) {
			if (++links > SYMLINKS_MAX)
				return -ELOOP;
			ssize_t k = t->below->ops->readlink(t->below, c, real, link, sizeof(link) - 1);
			if (k <= 0)
				return k < 0 ? (int)k : -ENOENT; /* an empty target names nothing */
			link[k] = 0;
			if (link[0] == '/' && dn_redirect_allowed())
				return dn_redirect_to(link, at);
			if (link[0] == '/')
				cur[0] = 0;
			if ((r = dn_path_splice(rest, sizeof(rest), link, at)) < 0)
				return r;
			at = rest;
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
		size_t n = strlen(cur);
		if ((r = put(cur, &n, "/", 1)) < 0 || (r = put(cur, &n, name, strlen(name))) < 0)
			return r;
		if (last)
			return join(t, cur, "", must_dir, out);
	}
}

/*
 * Runs call, which reads real, on path's backend path: as written first,
 * then, when the backend met a symlink, walked here.
 */
#define ON_PATH(t, c, path, how, real, call)                                                    \
	__extension__({                                                                         \
		int64_t r_ = lexical(t, path, real);                                            \
		if (r_ == 0 && (r_ = (call)) == -ELOOP && (r_ = walk(t, c, path, how, real)) == 0) \
			r_ = (call);                                                            \
		r_;                                                                             \
	})

/* The subtree's top is its mountpoint's root: it cannot be removed or renamed, as a mount's. */
static bool is_top(const struct subtree_svc *t, const char *real)
{
	return t->top_len && strcmp(real, t->top) == 0;
}

static int sub_open(struct dn_svc *s, const struct dn_cred *c, const char *path, int oflags,
		    mode_t mode, struct dn_file **out, int *handover)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	bool follow = !(oflags & O_NOFOLLOW) && !((oflags & O_CREAT) && (oflags & O_EXCL));
	return (int)ON_PATH(t, c, path, follow ? FOLLOW : 0, real,
			    t->below->ops->open(t->below, c, real, oflags, mode, out, handover));
}

static int sub_fpath(struct dn_svc *s, struct dn_file *f, char *buf, size_t len)
{
	struct subtree_svc *t = to_subtree(s);
	int r = t->below->ops->fpath(t->below, f, buf, len);
	if (r < 0 || !t->top_len)
		return r;
	const char *in = dn_path_below(buf, t->top, t->top_len);
	if (!in)
		return -ENOENT; /* moved out of the subtree: the core folds the path itself */
	memmove(buf, *in ? in : "/", strlen(*in ? in : "/") + 1);
	return (int)strlen(buf);
}

static int sub_stat(struct dn_svc *s, const struct dn_cred *c, const char *path, bool nofollow,
		    struct stat *st)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->stat(t->below, c, real, nofollow, st));
}

static int sub_access(struct dn_svc *s, const struct dn_cred *c, const char *path, int mode,
		      bool nofollow)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->access(t->below, c, real, mode, nofollow));
}

static int sub_mkdir(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, NAME, real, t->below->ops->mkdir(t->below, c, real, mode));
}

static int sub_mknod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode,
		     dev_t dev)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, NAME, real,
			    t->below->ops->mknod(t->below, c, real, mode, dev));
}

static int sub_rmdir(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, NAME, real,
			    is_top(t, real) ? -EBUSY : t->below->ops->rmdir(t->below, c, real));
}

static int sub_unlink(struct dn_svc *s, const struct dn_cred *c, const char *path)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, NAME, real, t->below->ops->unlink(t->below, c, real));
}

/*
 * A plain name in an open directory of the subtree stays in it: the
 * backend looks it up beneath that directory, symlinks refused (-EAGAIN:
 * the path's way, walked here).
 */
static int sub_stat_at(struct dn_svc *s, struct dn_file *dir, const char *name, bool nofollow,
		       struct stat *st)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->stat_at(t->below, dir, name, nofollow, st);
}

static int sub_unlink_at(struct dn_svc *s, struct dn_file *dir, const char *name, int flags)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->unlink_at(t->below, dir, name, flags);
}

static int sub_open_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
		       const char *name, int oflags, mode_t mode, struct dn_file **out,
		       int *handover)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->open_at(t->below, c, dir, name, oflags, mode, out, handover);
}

static int sub_mkdir_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, mode_t mode)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->mkdir_at(t->below, c, dir, name, mode);
}

static int sub_rename_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *from_dir,
			 const char *from, struct dn_file *to_dir, const char *to, unsigned flags)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->rename_at(t->below, c, from_dir, from, to_dir, to, flags);
}

static int sub_chmod_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, mode_t mode)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->chmod_at(t->below, c, dir, name, mode);
}

static int sub_utimens_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			  const char *name, bool nofollow, const struct timespec times[2])
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->utimens_at(t->below, c, dir, name, nofollow, times);
}

static int sub_chown_at(struct dn_svc *s, const struct dn_cred *c, struct dn_file *dir,
			const char *name, bool nofollow, uid_t uid, gid_t gid)
{
	struct subtree_svc *t = to_subtree(s);
	return t->below->ops->chown_at(t->below, c, dir, name, nofollow, uid, gid);
}

static int sub_truncate(struct dn_svc *s, const struct dn_cred *c, const char *path, off_t len)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, FOLLOW, real,
			    t->below->ops->truncate(t->below, c, real, len));
}

static int sub_chmod(struct dn_svc *s, const struct dn_cred *c, const char *path, mode_t mode)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, FOLLOW, real, t->below->ops->chmod(t->below, c, real, mode));
}

static ssize_t sub_readlink(struct dn_svc *s, const struct dn_cred *c, const char *path,
			    char *buf, size_t len)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return ON_PATH(t, c, path, 0, real, t->below->ops->readlink(t->below, c, real, buf, len));
}

static int sub_utimens(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		       const char *path, bool nofollow, const struct timespec times[2])
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->utimens(t->below, c, f, path, nofollow, times);
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->utimens(t->below, c, NULL, real, nofollow, times));
}

static int sub_chown(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		     const char *path, bool nofollow, uid_t uid, gid_t gid)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->chown(t->below, c, f, path, nofollow, uid, gid);
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->chown(t->below, c, NULL, real, nofollow, uid, gid));
}

static int sub_symlink(struct dn_svc *s, const struct dn_cred *c, const char *target,
		       const char *path)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	return (int)ON_PATH(t, c, path, NAME, real,
			    t->below->ops->symlink(t->below, c, target, real));
}

static int sub_statfs(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
		      const char *path, struct statvfs *st, uint64_t *type)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->statfs(t->below, c, f, path, st, type);
	return (int)ON_PATH(t, c, path, FOLLOW, real,
			    t->below->ops->statfs(t->below, c, NULL, real, st, type));
}

static ssize_t sub_getxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			    const char *path, bool nofollow, const char *name, void *buf,
			    size_t len)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->getxattr(t->below, c, f, path, nofollow, name, buf, len);
	return ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
		       t->below->ops->getxattr(t->below, c, NULL, real, nofollow, name, buf, len));
}

static int sub_setxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			const char *path, bool nofollow, const char *name, const void *value,
			size_t len, int flags)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->setxattr(t->below, c, f, path, nofollow, name, value, len,
					       flags);
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->setxattr(t->below, c, NULL, real, nofollow, name, value,
						    len, flags));
}

static ssize_t sub_listxattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			     const char *path, bool nofollow, char *buf, size_t len)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->listxattr(t->below, c, f, path, nofollow, buf, len);
	return ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
		       t->below->ops->listxattr(t->below, c, NULL, real, nofollow, buf, len));
}

static int sub_removexattr(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			   const char *path, bool nofollow, const char *name)
{
	struct subtree_svc *t = to_subtree(s);
	char real[DN_PATH_MAX];
	if (f)
		return t->below->ops->removexattr(t->below, c, f, path, nofollow, name);
	return (int)ON_PATH(t, c, path, nofollow ? 0 : FOLLOW, real,
			    t->below->ops->removexattr(t->below, c, NULL, real, nofollow, name));
}

/* Two names: each resolved inside the subtree, walked again when the backend met a link. */
static int two_paths(struct subtree_svc *t, const struct dn_cred *c, const char *from, int how,
		     const char *to, char *a, char *b, bool slow)
{
	int r = slow ? walk(t, c, from, how, a) : lexical(t, from, a);
	if (r == 0)
		r = slow ? walk(t, c, to, NAME, b) : lexical(t, to, b);
	return r;
}

static int sub_rename(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		      unsigned flags)
{
	struct subtree_svc *t = to_subtree(s);
	char a[DN_PATH_MAX], b[DN_PATH_MAX];
	int r = -ELOOP;
	for (int slow = 0; slow < 2 && r == -ELOOP; slow++) {
		if ((r = two_paths(t, c, from, NAME, to, a, b, slow)) < 0)
			break;
		r = is_top(t, a) || is_top(t, b) ? -EBUSY
						 : t->below->ops->rename(t->below, c, a, b, flags);
	}
	return r;
}

static int sub_link_file(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 const char *to)
{
	struct subtree_svc *t = to_subtree(s);
	char b[DN_PATH_MAX];
	int r = -ELOOP;
	for (int slow = 0; slow < 2 && r == -ELOOP; slow++) {
		if ((r = slow ? walk(t, c, to, NAME, b) : lexical(t, to, b)) < 0)
			break;
		r = t->below->ops->link_file(t->below, c, f, b);
	}
	return r;
}

static int sub_link(struct dn_svc *s, const struct dn_cred *c, const char *from, const char *to,
		    bool follow)
{
	struct subtree_svc *t = to_subtree(s);
	char a[DN_PATH_MAX], b[DN_PATH_MAX];
	int r = -ELOOP;
	for (int slow = 0; slow < 2 && r == -ELOOP; slow++) {
		if ((r = two_paths(t, c, from, follow ? FOLLOW : NAME, to, a, b, slow)) < 0)
			break;
		r = t->below->ops->link(t->below, c, a, b, follow);
	}
	return r;
}

/* Open files are the backend's own: every call on one goes straight down. */
#define BELOW(s) (to_subtree(s)->below)

static void sub_close(struct dn_svc *s, struct dn_file *f)
{
	BELOW(s)->ops->close(BELOW(s), f);
}

static int sub_mapfd(struct dn_svc *s, struct dn_file *f, bool writable)
{
	return BELOW(s)->ops->mapfd(BELOW(s), f, writable);
}

static int sub_set_direct(struct dn_svc *s, struct dn_file *f, bool on, uint32_t lens)
{
	return BELOW(s)->ops->set_direct(BELOW(s), f, on, lens);
}

static ssize_t sub_pread(struct dn_svc *s, struct dn_file *f, void *buf, size_t len, off_t off)
{
	return BELOW(s)->ops->pread(BELOW(s), f, buf, len, off);
}

static ssize_t sub_pwrite(struct dn_svc *s, struct dn_file *f, const void *buf, size_t len,
			  off_t off, uint64_t *end)
{
	return BELOW(s)->ops->pwrite(BELOW(s), f, buf, len, off, end);
}

static int sub_fstat(struct dn_svc *s, struct dn_file *f, struct stat *st)
{
	return BELOW(s)->ops->fstat(BELOW(s), f, st);
}

static ssize_t sub_readdir(struct dn_svc *s, struct dn_file *f, uint64_t cookie, void *buf,
			   size_t len, uint64_t *next)
{
	return BELOW(s)->ops->readdir(BELOW(s), f, cookie, buf, len, next);
}

static int sub_fsync(struct dn_svc *s, struct dn_file *f, bool datasync)
{
	return BELOW(s)->ops->fsync(BELOW(s), f, datasync);
}

static int sub_syncfs(struct dn_svc *s, struct dn_file *f)
{
	return BELOW(s)->ops->syncfs(BELOW(s), f);
}

static int sub_ftruncate(struct dn_svc *s, struct dn_file *f, off_t len)
{
	return BELOW(s)->ops->ftruncate(BELOW(s), f, len);
}

static int sub_fchmod(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f, mode_t mode)
{
	return BELOW(s)->ops->fchmod(BELOW(s), c, f, mode);
}

static int sub_fallocate(struct dn_svc *s, struct dn_file *f, int mode, off_t off, off_t len)
{
	return BELOW(s)->ops->fallocate(BELOW(s), f, mode, off, len);
}

static off_t sub_seek(struct dn_svc *s, struct dn_file *f, off_t off, int whence)
{
	return BELOW(s)->ops->seek(BELOW(s), f, off, whence);
}

static int sub_ioctl_set(struct dn_svc *s, const struct dn_cred *c, struct dn_file *f,
			 unsigned int req, const void *arg)
{
	return BELOW(s)->ops->ioctl_set(BELOW(s), c, f, req, arg);
}

static int sub_ioctl_get(struct dn_svc *s, struct dn_file *f, unsigned int req, void *arg)
{
	return BELOW(s)->ops->ioctl_get(BELOW(s), f, req, arg);
}

static int sub_fadvise(struct dn_svc *s, struct dn_file *f, off_t off, off_t len, int advice)
{
	return BELOW(s)->ops->fadvise(BELOW(s), f, off, len, advice);
}

static int sub_lock(struct dn_svc *s, struct dn_file *f, int cmd, struct flock *fl,
		    uint64_t owner)
{
	return BELOW(s)->ops->lock(BELOW(s), f, cmd, fl, owner);
}

static int sub_flock(struct dn_svc *s, struct dn_file *f, int op, uint64_t owner)
{
	return BELOW(s)->ops->flock(BELOW(s), f, op, owner);
}

static void sub_forget_owners(struct dn_svc *s, uint64_t session_bits)
{
	BELOW(s)->ops->forget_owners(BELOW(s), session_bits);
}

static void sub_destroy(struct dn_svc *s)
{
	struct subtree_svc *t = to_subtree(s);
	free(t->top);
	free(t);
}

/* Each op the backend has, through the subtree; what it leaves NULL stays NULL (ENOSYS). */
static void ops_fill(struct dn_svc_ops *o, const struct dn_svc_ops *b)
{
#define PICK(op, fn) o->op = b->op ? fn : NULL
	*o = (struct dn_svc_ops){.name = "subtree", .real_paths = true,
				 .cache_dies = b->cache_dies, .close = sub_close,
				 .destroy = sub_destroy};
	PICK(fpath, sub_fpath);
	PICK(mapfd, sub_mapfd);
	PICK(open, sub_open);
	PICK(set_direct, sub_set_direct);
	PICK(pread, sub_pread);
	PICK(pwrite, sub_pwrite);
	PICK(fstat, sub_fstat);
	PICK(stat, sub_stat);
	PICK(access, sub_access);
	PICK(mkdir, sub_mkdir);
	PICK(mknod, sub_mknod);
	PICK(rmdir, sub_rmdir);
	PICK(unlink, sub_unlink);
	PICK(stat_at, sub_stat_at);
	PICK(unlink_at, sub_unlink_at);
	PICK(open_at, sub_open_at);
	PICK(mkdir_at, sub_mkdir_at);
	PICK(rename_at, sub_rename_at);
	PICK(chmod_at, sub_chmod_at);
	PICK(utimens_at, sub_utimens_at);
	PICK(chown_at, sub_chown_at);
	PICK(rename, sub_rename);
	PICK(readdir, sub_readdir);
	PICK(fsync, sub_fsync);
	PICK(syncfs, sub_syncfs);
	PICK(truncate, sub_truncate);
	PICK(ftruncate, sub_ftruncate);
	PICK(chmod, sub_chmod);
	PICK(fchmod, sub_fchmod);
	PICK(readlink, sub_readlink);
	PICK(utimens, sub_utimens);
	PICK(chown, sub_chown);
	PICK(symlink, sub_symlink);
	PICK(link, sub_link);
	PICK(link_file, sub_link_file);
	PICK(statfs, sub_statfs);
	PICK(fallocate, sub_fallocate);
	PICK(seek, sub_seek);
	PICK(ioctl_get, sub_ioctl_get);
	PICK(ioctl_set, sub_ioctl_set);
	PICK(fadvise, sub_fadvise);
	PICK(getxattr, sub_getxattr);
	PICK(setxattr, sub_setxattr);
	PICK(listxattr, sub_listxattr);
	PICK(removexattr, sub_removexattr);
	PICK(lock, sub_lock);
	PICK(flock, sub_flock);
	PICK(forget_owners, sub_forget_owners);
#undef PICK
}

int dn_svc_subtree_new(struct dn_svc *below, const char *path, struct dn_svc **out, char *err,
		       size_t errlen)
{
	if (!below->ops->stat || !below->ops->readlink) {
		snprintf(err, errlen, "the %s backend cannot serve a subtree", below->ops->name);
		return -ENOSYS;
	}
	/* the top itself must hold no symlink: every walk would stop at it */
	struct dn_cred priv = {.uid = 0, .gid = 0, .caps = dn_cred_pool_caps()};
	struct stat st;
	dn_walk_refuse_symlinks(true);
	int r = below->ops->stat(below, &priv, path, false, &st);
	dn_walk_refuse_symlinks(false);
	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r < 0) {
		snprintf(err, errlen, "subtree %s of the backend: %s", path,
			 r == -ELOOP ? "it holds a symlink" : strerror(-r));
		return r;
	}
	struct subtree_svc *t = calloc(1, sizeof(*t));
	if (!t || !(t->top = strdup(strcmp(path, "/") == 0 ? "" : path))) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->top_len = strlen(t->top);
	t->below = below;
	ops_fill(&t->ops, below->ops);
	t->base.ops = &t->ops;
	*out = &t->base;
	return 0;
}
