/* Working Directory: chdir into a Danaus mount, and getcwd that says where */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "mounts.h"
#include "ops.h"
#include "path.h"
#include "real.h"
#include "route.h"

/*
 * The name pool_path has resolved: without ".", "..", repeated or trailing
 * slashes, and symlinks, so that getcwd shows where a chdir through one led,
 * as the kernel's does: our realpath (readlink through the pool, component
 * by component). A ".." at the pool's top stays there, which realpath does
 * not know: then, and for paths too long for it, the directory is opened and
 * asked for its path ("." and ".." folded by the pool, symlinks as written).
 */
static int canonical(uint32_t mount, const char *pool_path, char *out, size_t len)
{
	char full[PATH_MAX], real[PATH_MAX];
	const struct dn_client_mount *mt = &dn_client.mounts[mount];
	size_t ml = mt->len;
	int m = snprintf(full, sizeof(full), "%s%s", mt->path, pool_path);
	if (m > 0 && (size_t)m < sizeof(full) && !strstr(pool_path, "..")) {
		int saved = errno;
		char *r = realpath(full, real);
		errno = saved;
		if (r && strncmp(real, mt->path, ml) == 0 && (!real[ml] || real[ml] == '/')) {
			int k = snprintf(out, len, "%s", real[ml] ? real + ml : "/");
			return k < 0 || (size_t)k >= len ? -ENAMETOOLONG : 0;
		}
	}
	struct dn_target t = {.mount = mount, .handle = 0};
	snprintf(t.path, sizeof(t.path), "%s", pool_path);
	int fd = dn_op_open(&t, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	ssize_t n = dn_op_fpath(fd, out, len);
	dn_op_close(fd);
	return n < 0 ? (int)n : 0;
}

/*
 * The kernel's working directory moves to the mountpoint's host directory;
 * ours remembers the pool path, so relative paths resolve inside the pool.
 */
static int enter(uint32_t mount, const char *pool_path)
{
	/* an absolute symlink on the way: -DN_OP_REDIRECTED, for chdir to go on (ops.h) */
	struct dn_target t = {.mount = mount, .handle = 0, .redirect = true};
	snprintf(t.path, sizeof(t.path), "%s", pool_path);
	struct stat st;
	int r = dn_op_stat(&t, false, &st);
	if (r < 0)
		return r;
	t.redirect = false;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	r = dn_op_path(DN_OP_ACCESS, &t, X_OK, DN_AT_EACCESS, 0);
	if (r < 0)
		return r;
	char canon[PATH_MAX];
	if ((r = canonical(mount, pool_path, canon, sizeof(canon))) < 0)
		return r;
	pool_path = canon;
	/*
	 * The kernel's working directory is only where calls that bypass us
	 * resolve relative paths: the mountpoint's placeholder, or "/" when it
	 * is gone, since the library resolves relative paths in the pool itself.
	 */
	if (REAL(chdir)(dn_client.mounts[mount].path) < 0 && REAL(chdir)("/") < 0)
		return -errno;
	pthread_mutex_lock(&dn_client.lock);
	snprintf(dn_client.cwd, sizeof(dn_client.cwd), "%s", pool_path);
	dn_client.cwd_mount = mount;
	atomic_store(&dn_client.cwd_in_mount, true);
	pthread_mutex_unlock(&dn_client.lock);
	return 0;
}

static void leave(void)
{
	dn_host_cwd_changed();
}

DN_EXPORT int chdir(const char *path)
{
	char next[PATH_MAX];
	for (int hops = 0;; hops++) {
		struct dn_target t;
		int r = dn_route(AT_FDCWD, path, &t);
		if (r < 0)
			DN_RETURN(r);
		if (r == 0) {
			r = REAL(chdir)(path);
			struct stat st;
			if (r == 0)
				leave();
			/* a host symlink on the way may lead into a mount (its placeholder answered) */
			if (r == 0 ? REAL(fstatat)(AT_FDCWD, ".", &st, 0) < 0 ||
					     !dn_route_placeholder(AT_FDCWD, path, &st, &t)
				   : !dn_route_after(AT_FDCWD, path, &t))
				return r;
		}
		if (t.handle) {
			/* /proc/self/fd/N/more: from the directory fd N is, as fchdir goes there */
			int fd = dn_op_open(&t, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
			if (fd < 0)
				DN_RETURN(fd);
			r = fchdir(fd);
			int e = errno;
			dn_op_close(fd);
			errno = e;
			return r;
		}
		r = enter(t.mount, t.path);
		if (r != -DN_OP_REDIRECTED)
			DN_RETURN(r);
		if (!dn_op_redirect_follow(&path, next, hops))
			DN_RETURN(-ELOOP);
	}
}

DN_EXPORT int fchdir(int fd)
{
	int32_t ofd = dn_fdmap_get(fd);
	if (ofd < 0) {
		int r = REAL(fchdir)(fd);
		if (r == 0)
			leave();
		return r;
	}
	char path[PATH_MAX];
	ssize_t n = dn_op_fpath(fd, path, sizeof(path));
	if (n < 0)
		DN_RETURN(n);
	int r = enter(dn_ofds()[ofd].mount, path);
	const char *to;
	if (r == -DN_OP_REDIRECTED && dn_op_redirect_follow(&to, path, 0))
		return chdir(to); /* its path meets an absolute symlink now: chdir goes on */
	DN_RETURN(r);
}

DN_EXPORT char *getcwd(char *buf, size_t size)
{
	if (!atomic_load(&dn_client.cwd_in_mount))
		return REAL(getcwd)(buf, size);
	char full[PATH_MAX + DN_MOUNT_MAX];
	pthread_mutex_lock(&dn_client.lock);
	int n = snprintf(full, sizeof(full), "%s%s", dn_client.mounts[dn_client.cwd_mount].path,
			 strcmp(dn_client.cwd, "/") ? dn_client.cwd : "");
	pthread_mutex_unlock(&dn_client.lock);
	if (!buf) {
		/* glibc's extension: allocate (at least size bytes when size is given) */
		size_t want = size > (size_t)n ? size : (size_t)n + 1;
		buf = malloc(want);
		if (!buf)
			return NULL;
		size = want;
	}
	if ((size_t)n + 1 > size) {
		errno = size ? ERANGE : EINVAL;
		return NULL;
	}
	if (dn_fault_copy_out(buf, full, (size_t)n + 1) < 0) {
		errno = EFAULT; /* the kernel's getcwd(2) */
		return NULL;
	}
	return buf;
}

DN_EXPORT char *__getcwd_chk(char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		__chk_fail();
	return getcwd(buf, size);
}

/* As glibc's: $PWD when it names the working directory (a path through symlinks), else getcwd. */
DN_EXPORT char *get_current_dir_name(void)
{
	const char *pwd = getenv("PWD");
	struct stat dot, at;
	if (pwd && stat(".", &dot) == 0 && stat(pwd, &at) == 0 && dot.st_dev == at.st_dev &&
	    dot.st_ino == at.st_ino)
		return strdup(pwd);
	return getcwd(NULL, 0);
}

/* glibc's getwd calls its internal getcwd, which knows no Danaus directory: as glibc, through ours. */
DN_EXPORT char *getwd(char *buf)
{
	char tmp[PATH_MAX];
	if (!dn_fault_opaque(buf)) { /* declared nonnull; glibc answers EINVAL */
		errno = EINVAL;
		return NULL;
	}
	if (!getcwd(tmp, sizeof(tmp))) {
		/* the message in buf, which is at least PATH_MAX (glibc writes up to 1024) */
		int e = errno;
		char *m = strerror_r(e, buf, 1024);
		if (m != buf)
			snprintf(buf, 1024, "%s", m);
		errno = e;
		return NULL;
	}
	return strcpy(buf, tmp);
}
