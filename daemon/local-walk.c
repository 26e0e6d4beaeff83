/* Local Walk: a local pool's walk done in user space, for what openat2 cannot do alone */
#include "local-walk.h"
#include "no-symlinks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "path.h"
#include "redirect.h"

#define SYMLINKS_MAX 40 /* as Linux: ELOOP after 40 */

/* Replaces *cur by the directory openat(*cur, name) opens. */
static int step(int *cur, const char *name)
{
	int next = openat(*cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (next < 0)
		return -errno;
	close(*cur);
	*cur = next;
	return 0;
}

/*
 * The one walk of both entry points: below root_fd, one component at a
 * time, with the thread's rights. It stops at the first absolute symlink it
 * would follow when redirect (dn_redirect_to's answer; else the target
 * starts again at the top), or before the last component: *dir_fd
 * (when asked for) gets the directory it is in and last the component as
 * written with a trailing slash, "." when the path ends in "." or "..".
 */
static int walk(int root_fd, const char *path, bool follow_last, const struct dn_protect *protect,
		uid_t fsuid, bool redirect, int *dir_fd, char last_name[NAME_MAX + 2])
{
	char rest[DN_PATH_MAX + PATH_MAX], link[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, path, n + 1);
	_cleanup_close_ int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	unsigned depth = 0, links = 0;
	const char *at = rest;
	char name[NAME_MAX + 1] = ".";
	bool must_dir = false;
	for (;;) {
		bool last;
		int r = dn_path_next(&at, name, &last, &must_dir);
		if (r < 0)
			return r;
		if (r == 0) { /* "/" or a path that ended in "." or ".." */
			strcpy(name, ".");
			break;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
			/* the top's ".." is the top (RESOLVE_IN_ROOT); both need search permission */
			bool up = name[1] == '.' && depth > 0;
			if ((r = step(&cur, up ? ".." : ".")) < 0)
				return r;
			depth -= up;
			if (last) {
				strcpy(name, ".");
				break;
			}
			continue;
		}
		struct stat st;
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT && last)
				break; /* a name to create, or ENOENT for openat2 to answer */
			return -errno;
		}
		if (S_ISLNK(st.st_mode) && (!last || must_dir || follow_last)) {
			struct stat dir;
			if (++links > SYMLINKS_MAX || dn_walk_symlinks_refused())
				return -ELOOP;
			if (fstat(cur, &dir) < 0)
				return -errno;
			if ((r = dn_protect_follow(protect, dir.st_mode, dir.st_uid, st.st_uid, fsuid)) < 0)
				return r;
			ssize_t k = readlinkat(cur, name, link, sizeof(link) - 1);
			if (k < 0)
				return -errno;
			if (k == 0)
				return -ENOENT; /* as the kernel: an empty target names nothing */
			link[k] = 0;
			if (link[0] == '/') {
				if (redirect)
					return dn_redirect_to(link, at);
				int top = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
				if (top < 0)
					return -errno;
				close(cur);
				cur = top;
				depth = 0;
			}
			/* the target takes the link's place, from the same directory */
			if ((r = dn_path_splice(rest, sizeof(rest), link, at)) < 0)
				return r;
			at = rest;
			continue;
		}
		if (last)
			break;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		if ((r = step(&cur, name)) < 0)
			return r;
		depth++;
	}
	if (!dir_fd)
		return 0;
	size_t len = strlen(name);
	memcpy(last_name, name, len);
	if (must_dir)
		last_name[len++] = '/';
	last_name[len] = 0;
	*dir_fd = TAKE_FD(cur);
	return 0;
}

int dn_local_abs_link(int root_fd, const char *path, bool follow_last,
		      const struct dn_protect *protect, uid_t fsuid)
{
	int r = walk(root_fd, path, follow_last, protect, fsuid, true, NULL, NULL);
	/* a failure is openat2's to answer; a redirect that does not fit is ours */
	return r == -DN_EREDIRECT || r == -ENAMETOOLONG ? r : 0;
}

int dn_local_walk_long(int root_fd, const char *path, bool follow_last,
		       const struct dn_protect *protect, uid_t fsuid, int *dir_fd,
		       char last[NAME_MAX + 2])
{
	return walk(root_fd, path, follow_last, protect, fsuid, dn_redirect_allowed(), dir_fd,
		    last);
}
