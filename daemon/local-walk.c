/* Local Walk: the absolute symlink a path's walk would follow, for the local backend */
#include "local-walk.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"
#include "redirect.h"

#define SYMLINKS_MAX 40 /* as Linux: ELOOP after 40, which openat2 then answers */

int dn_local_abs_link(int root_fd, const char *path, bool follow_last,
		      const struct dn_protect *protect, uid_t fsuid)
{
	char rest[PATH_MAX * 2], link[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(rest))
		return 0;
	memcpy(rest, path, n + 1);
	int cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return 0;
	unsigned depth = 0, links = 0;
	int r = 0;
	for (const char *at = rest;;) {
		char name[NAME_MAX + 1];
		bool last, must_dir;
		if (dn_path_next(&at, name, &last, &must_dir) <= 0)
			break; /* the end, or ENAMETOOLONG for openat2 to answer */
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth == 0)
				continue; /* the top's ".." is the top (RESOLVE_IN_ROOT) */
			int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (up < 0)
				break;
			close(cur);
			cur = up;
			depth--;
			continue;
		}
		struct stat st;
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		if (S_ISLNK(st.st_mode) && (must_dir || follow_last)) {
			struct stat dir;
			if (++links > SYMLINKS_MAX || fstat(cur, &dir) < 0 ||
			    dn_protect_follow(protect, dir.st_mode, dir.st_uid, st.st_uid, fsuid) < 0)
				break;
			ssize_t k = readlinkat(cur, name, link, sizeof(link) - 1);
			if (k <= 0)
				break;
			link[k] = 0;
			if (link[0] == '/') {
				r = dn_redirect_to(link, at);
				break;
			}
			/* a relative target takes the link's place, from the same directory */
			if (dn_path_splice(rest, sizeof(rest), link, at) < 0)
				break;
			at = rest;
			continue;
		}
		if (last || !S_ISDIR(st.st_mode))
			break; /* the end, or ENOTDIR for openat2 to answer */
		int down = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (down < 0)
			break;
		close(cur);
		cur = down;
		depth++;
	}
	close(cur);
	return r;
}
