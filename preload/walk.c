/* Walks and Names: libc calls whose internal syscalls a preload cannot see, redone on ours */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
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
#include "stdio-std.h"
#include "walk.h"

/*
 * glibc's realpath, scandir, nftw, mkstemp and freopen reach the kernel
 * through internal aliases (__readlink, __opendir, __open...) that no
 * preload can interpose, so on a Danaus path they would look at the empty
 * host mountpoint. Here they are rebuilt on the exported names, which
 * resolve to our own interposed calls; everything else goes to libc.
 */

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);

/* 1 when path names a Danaus file (the cheap test of dn_route), 0 not, -errno. */
static int ours(int dirfd, const char *path)
{
	struct dn_target t;
	return dn_route(dirfd, path, &t);
}

/* ---- realpath ---------------------------------------------------------- */

/* glibc's __eloop_threshold: at least 40 symlinks per resolution */
#define LINKS_MAX 40

/* glibc's rule: a trailing "/", "/." or "/.." needs the component to be a directory. */
static bool suffix_needs_dir(const char *end)
{
	while (*end == '/') {
		while (*end == '/')
			end++;
		if (!*end)
			return true;
		if (*end++ != '.')
			return false;
		if (!*end || *end == '/' || (*end == '.' && (!end[1] || end[1] == '/')))
			return true;
	}
	return false;
}

/* Back up dest over the last component of rname ("/a/b" to "/a/"); stays at the root. */
static char *parent(char *rname, char *dest)
{
	if (dest > rname + 1)
		for (--dest; dest > rname && dest[-1] != '/'; --dest)
			;
	return dest;
}

/*
 * glibc's algorithm (canonicalize.c) one component at a time, on our
 * readlink and stat: so symlinks inside the pool resolve through the pool
 * and those leading out of it through the kernel. rname gets the result,
 * or on error the prefix resolved so far.
 */
static int resolve(const char *name, char rname[PATH_MAX])
{
	char rest[PATH_MAX], link[PATH_MAX];
	rname[0] = 0;
	size_t n = strlen(name);
	if (n >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, name, n + 1);
	char *dest;
	if (rest[0] == '/') {
		rname[0] = '/';
		dest = rname + 1;
	} else {
		if (!getcwd(rname, PATH_MAX)) {
			rname[0] = 0;
			return -errno;
		}
		dest = rname + strlen(rname);
	}
	*dest = 0;
	int links = 0;
	for (char *start = rest, *end; *start; start = end) {
		while (*start == '/')
			start++;
		for (end = start; *end && *end != '/'; end++)
			;
		size_t len = (size_t)(end - start);
		if (len == 0)
			break;
		if (len == 1 && start[0] == '.')
			continue;
		if (len == 2 && start[0] == '.' && start[1] == '.') {
			dest = parent(rname, dest);
			*dest = 0;
			continue;
		}
		if (dest[-1] != '/')
			*dest++ = '/';
		if ((size_t)(dest - rname) + len >= PATH_MAX) {
			*dest = 0;
			return -ENAMETOOLONG;
		}
		memcpy(dest, start, len);
		dest += len;
		*dest = 0;
		ssize_t ln = readlink(rname, link, sizeof(link));
		if (ln >= 0) {
			if (++links > LINKS_MAX)
				return -ELOOP;
			size_t restlen = strlen(end);
			if ((size_t)ln >= sizeof(link) || (size_t)ln + restlen >= sizeof(rest))
				return -ENAMETOOLONG;
			/* the target takes the place of the component: target + what followed */
			memmove(rest + ln, end, restlen + 1);
			memcpy(rest, link, (size_t)ln);
			end = rest;
			dest = link[0] == '/' ? rname + 1 : parent(rname, dest);
			*dest = 0;
		} else if (suffix_needs_dir(end)) {
			struct stat st; /* glibc asks access("name/"); the routing drops a trailing slash */
			if (stat(rname, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if (errno != EINVAL) {
			return -errno;
		}
	}
	if (dest > rname + 1 && dest[-1] == '/')
		--dest;
	*dest = 0;
	return 0;
}

static char *realpath_ours(const char *path, char *resolved)
{
	char rname[PATH_MAX];
	int r = resolve(path, rname);
	if (r < 0) {
		/* glibc leaves the prefix it got to */
		if (resolved && dn_fault_copy_out(resolved, rname, strlen(rname) + 1) < 0)
			r = -EFAULT;
		errno = -r;
		return NULL;
	}
	if (resolved) {
		if (dn_fault_copy_out(resolved, rname, strlen(rname) + 1) < 0) {
			errno = EFAULT;
			return NULL;
		}
		return resolved;
	}
	char *p = strdup(rname);
	if (!p)
		errno = ENOMEM;
	return p;
}

DN_EXPORT char *realpath(const char *path, char *resolved)
{
	int r = path ? ours(AT_FDCWD, path) : 0;
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (r > 0)
		return realpath_ours(path, resolved);
	int e = errno;
	char *p = REAL(realpath)(path, resolved);
	/*
	 * A host path can lead into the mount through a symlink, which the
	 * kernel then finds missing: only a failing call pays for a second look.
	 */
	if (!p && path && (errno == ENOENT || errno == ENOTDIR) && dn_client.configured &&
	    path[0]) {
		errno = e;
		return realpath_ours(path, resolved);
	}
	return p;
}

DN_EXPORT char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		__chk_fail();
	return realpath(path, resolved);
}

DN_EXPORT char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}

/* ---- scandir ----------------------------------------------------------- */

/* glibc's scandir-tail-common.c over our stream; closes d. */
static int scan(DIR *d, struct dirent ***list, dn_scan_sel sel, dn_scan_cmp cmp)
{
	if (!d)
		return -1;
	int save = errno;
	struct dirent **v = NULL, *e;
	size_t cnt = 0, cap = 0;
	errno = 0;
	while ((e = readdir(d))) {
		if (sel) {
			int keep = sel(e);
			errno = 0; /* a selector may leave errno set on success */
			if (!keep)
				continue;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 10;
			struct dirent **nv = realloc(v, cap * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
		}
		/* as glibc: only as much of the record as the name needs */
		size_t size = offsetof(struct dirent, d_name) + strlen(e->d_name) + 1;
		size = (size + 7) & ~(size_t)7;
		struct dirent *copy = malloc(size);
		if (!copy)
			break;
		memcpy(copy, e, size);
		copy->d_reclen = (unsigned short)size;
		v[cnt++] = copy;
		errno = 0;
	}
	if (errno) {
		save = errno;
		while (cnt)
			free(v[--cnt]);
		free(v);
		closedir(d);
		errno = save;
		return -1;
	}
	if (cmp)
		qsort(v, cnt, sizeof(*v), (int (*)(const void *, const void *))(void (*)(void))cmp);
	closedir(d);
	if (dn_fault_copy_out(list, &v, sizeof(v)) < 0) {
		while (cnt)
			free(v[--cnt]);
		free(v);
		errno = EFAULT;
		return -1;
	}
	errno = save;
	return (int)cnt;
}

static DIR *open_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

DN_EXPORT int scandirat(int dirfd, const char *path, struct dirent ***list, dn_scan_sel sel,
			dn_scan_cmp cmp)
{
	int r = ours(dirfd, path);
	if (r == 0)
		return REAL(scandirat)(dirfd, path, list, sel, cmp);
	if (r < 0)
		DN_RETURN(r);
	return scan(open_at(dirfd, path), list, sel, cmp);
}

DN_EXPORT int scandir(const char *path, struct dirent ***list, dn_scan_sel sel, dn_scan_cmp cmp)
{
	int r = ours(AT_FDCWD, path);
	if (r == 0)
		return REAL(scandir)(path, list, sel, cmp);
	if (r < 0)
		DN_RETURN(r);
	return scan(opendir(path), list, sel, cmp);
}

/* struct dirent64 is struct dirent here (see export.h): the 64-bit names only cast. */
#define SEL(f) ((dn_scan_sel)(void (*)(void))(f))
#define CMP(f) ((dn_scan_cmp)(void (*)(void))(f))

DN_EXPORT int scandir64(const char *path, struct dirent64 ***list, dn_scan_sel64 sel,
			dn_scan_cmp64 cmp)
{
	if (ours(AT_FDCWD, path) == 0)
		return REAL(scandir64)(path, list, sel, cmp);
	return scandir(path, (struct dirent ***)list, SEL(sel), CMP(cmp));
}

DN_EXPORT int scandirat64(int dirfd, const char *path, struct dirent64 ***list,
			  dn_scan_sel64 sel, dn_scan_cmp64 cmp)
{
	if (ours(dirfd, path) == 0)
		return REAL(scandirat64)(dirfd, path, list, sel, cmp);
	return scandirat(dirfd, path, (struct dirent ***)list, SEL(sel), CMP(cmp));
}

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "64-bit dirent layout");

/* ---- ftw / nftw -------------------------------------------------------- */

/*
 * glibc's ftw.c, simplified: each directory is read to the end and closed
 * before its entries are visited, so no descriptor budget is needed and a
 * callback may remove what it is shown (FTW_DEPTH). The flags, the order of
 * the calls and the errors follow glibc.
 */
struct walk {
	int flags;
	bool nftw;
	__ftw_func_t fn;   /* ftw */
	__nftw_func_t nfn; /* nftw */
	dev_t dev;         /* FTW_MOUNT: of the start */
	void *seen;        /* tsearch tree of directories entered (without FTW_PHYS) */
	char *buf;         /* the path the callback gets */
	size_t cap;
	struct FTW ftw;
};

struct seen {
	dev_t dev;
	ino_t ino;
};

static int seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* 1 when (dev, ino) was entered before, 0 recorded now, -1 no memory. */
static int seen_add(struct walk *w, const struct stat *st)
{
	struct seen key = {st->st_dev, st->st_ino};
	if (tfind(&key, &w->seen, seen_cmp))
		return 1;
	struct seen *s = malloc(sizeof(*s));
	if (!s)
		return -1;
	*s = key;
	if (!tsearch(s, &w->seen, seen_cmp)) {
		free(s);
		return -1;
	}
	return 0;
}

/* ftw's callback sees symlinks as files and knows no FTW_DP/FTW_SLN (glibc's ftw_arr). */
static int call(struct walk *w, const struct stat *st, int flag)
{
	if (w->nftw)
		return w->nfn(w->buf, st, flag, &w->ftw);
	static const int ftw_flag[] = {[FTW_F] = FTW_F,   [FTW_D] = FTW_D,  [FTW_DNR] = FTW_DNR,
				       [FTW_NS] = FTW_NS, [FTW_SL] = FTW_F, [FTW_DP] = FTW_D,
				       [FTW_SLN] = FTW_NS};
	return w->fn(w->buf, st, ftw_flag[flag]);
}

static bool actionretval(const struct walk *w)
{
	return w->flags & FTW_ACTIONRETVAL;
}

/* Room for base + len more bytes (and a slash and NUL). */
static int reserve(struct walk *w, size_t len)
{
	size_t need = (size_t)w->ftw.base + len + 2;
	if (need <= w->cap)
		return 0;
	size_t cap = w->cap * 2 > need ? w->cap * 2 : need;
	char *b = realloc(w->buf, cap);
	if (!b)
		return -1;
	w->buf = b;
	w->cap = cap;
	return 0;
}

/* The names of a directory, NUL-separated, read to the end. */
struct names {
	char *v;
	size_t len, cap;
};

static int read_names(DIR *d, struct names *n)
{
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		const char *s = e->d_name;
		if (s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])))
			continue;
		size_t l = strlen(s) + 1;
		if (n->len + l > n->cap) {
			size_t cap = n->cap * 2 > n->len + l ? n->cap * 2 : n->len + l + 256;
			char *v = realloc(n->v, cap);
			if (!v)
				return -1;
			n->v = v;
			n->cap = cap;
		}
		memcpy(n->v + n->len, s, l);
		n->len += l;
		errno = 0;
	}
	return errno ? -1 : 0;
}

static int walk_dir(struct walk *w, const struct stat *st, int parent_fd);

/* glibc's process_entry: one name of the directory being walked (w->buf up to base). */
static int walk_entry(struct walk *w, const char *name, int dir_fd)
{
	size_t len = strlen(name);
	if (reserve(w, len) < 0)
		return -1;
	memcpy(w->buf + w->ftw.base, name, len + 1);
	/* With FTW_CHDIR the working directory is the one being walked. */
	const char *p = (w->flags & FTW_CHDIR) ? name : w->buf;
	bool phys = w->flags & FTW_PHYS;
	struct stat st;
	int flag, result = 0;
	if ((phys ? lstat(p, &st) : stat(p, &st)) < 0) {
		if (errno != EACCES && errno != ENOENT)
			return -1;
		if (phys)
			flag = FTW_NS;
		else /* a dangling symlink: tell what lstat knows */
			flag = lstat(p, &st) == 0 && S_ISLNK(st.st_mode) ? FTW_SLN : FTW_NS;
	} else {
		flag = S_ISDIR(st.st_mode) ? FTW_D : S_ISLNK(st.st_mode) ? FTW_SL : FTW_F;
	}
	if (flag != FTW_NS && (w->flags & FTW_MOUNT) && st.st_dev != w->dev)
		return 0;
	if (flag == FTW_D) {
		int s = phys ? 0 : seen_add(w, &st);
		if (s < 0)
			return -1;
		if (s == 0)
			result = walk_dir(w, &st, dir_fd);
	} else {
		result = call(w, &st, flag);
	}
	if (actionretval(w) && result == FTW_SKIP_SUBTREE)
		result = 0;
	return result;
}

/* glibc's ftw_dir: the directory in w->buf, whose stat is st. */
static int walk_dir(struct walk *w, const struct stat *st, int parent_fd)
{
	const char *name = w->buf;
	if (w->flags & FTW_CHDIR) {
		name = w->buf + w->ftw.base;
		if (!name[0])
			name = ".";
	}
	DIR *d = opendir(name);
	if (!d)
		return errno == EACCES ? call(w, st, FTW_DNR) : -1;
	int result = 0, fd = -1;
	struct names n = {NULL, 0, 0};
	if (!(w->flags & FTW_DEPTH))
		result = call(w, st, FTW_D);
	if (result == 0 && read_names(d, &n) < 0)
		result = -1;
	/* a descriptor of our own to come back to from the subdirectories */
	if (result == 0 && (w->flags & FTW_CHDIR) && (fd = dup(dirfd(d))) < 0)
		result = -1;
	int e = errno;
	closedir(d);
	errno = e;
	if (result == 0 && fd >= 0 && fchdir(fd) < 0)
		result = -1;
	if (result != 0) {
		e = errno;
		free(n.v);
		if (fd >= 0)
			close(fd);
		errno = e;
		return result;
	}

	int previous_base = w->ftw.base;
	w->ftw.level++;
	char *endp = strchr(w->buf, 0);
	bool slash = endp[-1] != '/'; /* not for "/" itself (glibc would leave "" there) */
	if (slash)
		*endp++ = '/';
	*endp = 0;
	w->ftw.base = (int)(endp - w->buf);
	for (size_t at = 0; at < n.len && result == 0; at += strlen(n.v + at) + 1)
		result = walk_entry(w, n.v + at, fd);
	free(n.v);
	if (actionretval(w) && result == FTW_SKIP_SIBLINGS)
		result = 0;
	w->buf[w->ftw.base - slash] = 0;
	w->ftw.level--;
	w->ftw.base = previous_base;

	if (result == 0 && (w->flags & FTW_DEPTH))
		result = call(w, st, FTW_DP);
	/* back to the parent, as glibc does unless the walk stops */
	if (parent_fd >= 0 &&
	    (result == 0 || (actionretval(w) && result != -1 && result != FTW_STOP)) &&
	    fchdir(parent_fd) < 0)
		result = -1;
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return result;
}

/* glibc's ftw_startup on our calls. */
static int walk(const char *dir, struct walk *w)
{
	if (!dir[0]) {
		errno = ENOENT;
		return -1;
	}
	size_t len = strlen(dir);
	w->cap = len + 2 > PATH_MAX ? len + 2 : PATH_MAX;
	w->buf = malloc(w->cap);
	if (!w->buf)
		return -1;
	memcpy(w->buf, dir, len + 1);
	char *cp = w->buf + len;
	while (cp > w->buf + 1 && cp[-1] == '/')
		--cp;
	*cp = 0;
	while (cp > w->buf && cp[-1] != '/')
		--cp;
	w->ftw.base = (int)(cp - w->buf);
	w->ftw.level = 0;

	int result = 0, cwd_fd = -1;
	char *cwd = NULL;
	if (w->flags & FTW_CHDIR) {
		cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cwd_fd < 0 && (errno != EACCES || !(cwd = getcwd(NULL, 0))))
			result = -1;
		else if (w->ftw.base == 1)
			result = chdir("/");
		else if (w->ftw.base > 1) {
			char c = w->buf[w->ftw.base - 1];
			w->buf[w->ftw.base - 1] = 0;
			result = chdir(w->buf);
			w->buf[w->ftw.base - 1] = c;
		}
	}
	if (result == 0) {
		const char *name = dir;
		if (w->flags & FTW_CHDIR) {
			name = w->buf + w->ftw.base;
			if (!name[0])
				name = ".";
		}
		struct stat st;
		bool phys = w->flags & FTW_PHYS;
		if ((phys ? lstat(name, &st) : stat(name, &st)) < 0) {
			if (!phys && errno == ENOENT && lstat(name, &st) == 0 && S_ISLNK(st.st_mode))
				result = call(w, &st, FTW_SLN);
			else
				result = -1;
		} else if (S_ISDIR(st.st_mode)) {
			w->dev = st.st_dev;
			if (!phys && seen_add(w, &st) < 0)
				result = -1;
			if (result == 0)
				result = walk_dir(w, &st, -1);
		} else {
			result = call(w, &st, S_ISLNK(st.st_mode) ? FTW_SL : FTW_F);
		}
		if (actionretval(w) && (result == FTW_SKIP_SUBTREE || result == FTW_SKIP_SIBLINGS))
			result = 0;
	}

	int e = errno;
	/* back where the caller was; a failure here cannot change the walk's result */
	if (cwd_fd >= 0 || cwd) {
		int r = cwd_fd >= 0 ? fchdir(cwd_fd) : chdir(cwd);
		(void)r;
	}
	if (cwd_fd >= 0)
		close(cwd_fd);
	free(cwd);
	tdestroy(w->seen, free);
	free(w->buf);
	errno = e;
	return result;
}

/*
 * Paths in the mount, and also its ancestors (a walk of "/" must not see
 * the empty host mountpoint): anything that could lead into the mount.
 */
int dn_walk_route(const char *dir)
{
	int r = ours(AT_FDCWD, dir);
	if (r != 0 || !dn_client.configured || !dir)
		return r;
	char abs[PATH_MAX];
	if (dir[0] == '/') {
		if (dn_path_normalize(dir, abs, sizeof(abs)) < 0)
			return 0;
	} else {
		char cwd[PATH_MAX];
		if (!REAL(getcwd)(cwd, sizeof(cwd)) || dn_path_join(cwd, dir, abs, sizeof(abs)) < 0)
			return 0;
	}
	return dn_mount_below(abs, strlen(abs)); /* "/" holds them all */
}

#define NFTW_FLAGS (FTW_PHYS | FTW_MOUNT | FTW_CHDIR | FTW_DEPTH | FTW_ACTIONRETVAL)

DN_EXPORT int nftw(const char *dir, __nftw_func_t fn, int fds, int flags)
{
	int r = dn_walk_route(dir);
	if (r == 0)
		return REAL(nftw)(dir, fn, fds, flags);
	if (r < 0)
		DN_RETURN(r);
	if (flags & ~NFTW_FLAGS)
		DN_RETURN(-EINVAL);
	struct walk w = {.flags = flags, .nftw = true, .nfn = fn};
	return walk(dir, &w);
}

DN_EXPORT int ftw(const char *dir, __ftw_func_t fn, int fds)
{
	int r = dn_walk_route(dir);
	if (r == 0)
		return REAL(ftw)(dir, fn, fds);
	if (r < 0)
		DN_RETURN(r);
	struct walk w = {.fn = fn};
	return walk(dir, &w);
}

/* struct stat64 is struct stat here (see export.h). */
DN_EXPORT int nftw64(const char *dir, __nftw64_func_t fn, int fds, int flags)
{
	if (dn_walk_route(dir) == 0)
		return REAL(nftw64)(dir, fn, fds, flags);
	return nftw(dir, (__nftw_func_t)(void (*)(void))fn, fds, flags);
}

DN_EXPORT int ftw64(const char *dir, __ftw64_func_t fn, int fds)
{
	if (dn_walk_route(dir) == 0)
		return REAL(ftw64)(dir, fn, fds);
	return ftw(dir, (__ftw_func_t)(void (*)(void))fn, fds);
}

/* ---- mkstemp and friends ----------------------------------------------- */

enum temp_kind { TEMP_FILE, TEMP_DIR, TEMP_NAME };

static uint64_t temp_random(void)
{
	uint64_t v;
	/* by its system call: glibc names getrandom only from 2.25 on (glibc-baseline.h) */
	if (syscall(SYS_getrandom, &v, sizeof(v), GRND_NONBLOCK) == (long)sizeof(v))
		return v;
	/* no entropy yet: the clock and a counter, mixed (splitmix64) */
	static _Atomic uint64_t counter;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid() << 48;
	v += atomic_fetch_add(&counter, 1) * 0x9e3779b97f4a7c15ull;
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ull;
	v = (v ^ (v >> 27)) * 0x94d049bb133111ebull;
	return v ^ (v >> 31);
}

/* glibc's __gen_tempname on our open/mkdir/lstat: the fd, 0, or -errno. */
static int temp_make(char *tmpl, int suffixlen, int flags, enum temp_kind kind)
{
	static const char letters[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t len = strlen(tmpl);
	if (dn_fault_writable(tmpl, len) < 0) /* a string literal, say */
		return -EFAULT;
	if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	    memcmp(tmpl + len - 6 - suffixlen, "XXXXXX", 6) != 0)
		return -EINVAL;
	char *x = tmpl + len - 6 - suffixlen;
	for (unsigned attempt = 0; attempt < TMP_MAX; attempt++) {
		uint64_t v = temp_random();
		for (int i = 0; i < 6; i++, v /= 62)
			x[i] = letters[v % 62];
		struct stat st;
		switch (kind) {
		case TEMP_FILE: {
			int fd = open(tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL,
				      S_IRUSR | S_IWUSR);
			if (fd >= 0)
				return fd;
			break;
		}
		case TEMP_DIR:
			if (mkdir(tmpl, S_IRWXU) == 0)
				return 0;
			break;
		case TEMP_NAME:
			if (lstat(tmpl, &st) < 0)
				return errno == ENOENT ? 0 : -errno;
			errno = EEXIST;
			break;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

DN_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
	int r = ours(AT_FDCWD, tmpl);
	if (r == 0)
		return REAL(mkostemps)(tmpl, suffixlen, flags);
	DN_RETURN(r < 0 ? r : temp_make(tmpl, suffixlen, flags, TEMP_FILE));
}

DN_EXPORT int mkstemp(char *tmpl)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkstemp)(tmpl);
	return mkostemps(tmpl, 0, 0);
}

DN_EXPORT int mkostemp(char *tmpl, int flags)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkostemp)(tmpl, flags);
	return mkostemps(tmpl, 0, flags);
}

DN_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkstemps)(tmpl, suffixlen);
	return mkostemps(tmpl, suffixlen, 0);
}

/* The 64 names: the same calls on a 64-bit target (O_LARGEFILE is implied). */
DN_EXPORT int mkstemp64(char *tmpl)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkstemp64)(tmpl);
	return mkostemps(tmpl, 0, 0);
}

DN_EXPORT int mkostemp64(char *tmpl, int flags)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkostemp64)(tmpl, flags);
	return mkostemps(tmpl, 0, flags);
}

DN_EXPORT int mkstemps64(char *tmpl, int suffixlen)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkstemps64)(tmpl, suffixlen);
	return mkostemps(tmpl, suffixlen, 0);
}

DN_EXPORT int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	if (ours(AT_FDCWD, tmpl) == 0)
		return REAL(mkostemps64)(tmpl, suffixlen, flags);
	return mkostemps(tmpl, suffixlen, flags);
}

DN_EXPORT char *mkdtemp(char *tmpl)
{
	int r = ours(AT_FDCWD, tmpl);
	if (r == 0)
		return REAL(mkdtemp)(tmpl);
	if (r == 1)
		r = temp_make(tmpl, 0, 0, TEMP_DIR);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return tmpl;
}

DN_EXPORT char *mktemp(char *tmpl)
{
	int r = ours(AT_FDCWD, tmpl);
	if (r == 0)
		return REAL(mktemp)(tmpl);
	if (r == 1)
		r = temp_make(tmpl, 0, 0, TEMP_NAME);
	if (r < 0) { /* glibc: an empty string, errno set */
		errno = -r;
		if (r != -EFAULT)
			tmpl[0] = 0;
	}
	return tmpl;
}

/* ---- getdents64 -------------------------------------------------------- */

/* The kernel's call on a Danaus directory: the OFD's offset is the readdir cookie. */
DN_EXPORT ssize_t getdents64(int fd, void *buf, size_t len)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	if (!o)
		return REAL(getdents64)(fd, buf, len);
	if (!o->is_dir) {
		/* opened without O_DIRECTORY (opendir uses it, open(dir, O_RDONLY) need not) */
		struct stat st;
		int r = dn_op_fstat(fd, &st);
		if (r < 0)
			DN_RETURN(r);
		if (!S_ISDIR(st.st_mode))
			DN_RETURN(-ENOTDIR);
		o->is_dir = true;
	}
	int64_t pos = atomic_load(&o->offset);
	uint64_t next = (uint64_t)pos;
	/* A buffer we cannot write: read into ours, and EFAULT if any of it was for the caller. */
	void *scratch = NULL;
	if (len && dn_fault_writable(buf, len) < 0) {
		len = len < 65536 ? len : 65536;
		if (!(scratch = malloc(len)))
			DN_RETURN(-ENOMEM);
	}
	ssize_t n = dn_op_readdir(fd, (uint64_t)pos, scratch ? scratch : buf, len, &next);
	if (n > 0 && scratch && dn_fault_copy_out(buf, scratch, (size_t)n) < 0)
		n = -EFAULT;
	free(scratch);
	/* A concurrent call on the same description moved on first: it keeps its offset. */
	if (n > 0) {
		bool held = dn_session_hold() == 0; /* as lseek's */
		atomic_compare_exchange_strong(&o->offset, &pos, (int64_t)next);
		if (held)
			dn_session_release();
	}
	DN_RETURN(n);
}

/* ---- fileno, freopen --------------------------------------------------- */

DN_EXPORT int fileno(FILE *f)
{
	int fd = dn_stdio_fileno(f);
	return fd >= 0 ? fd : REAL(fileno)(f);
}

DN_EXPORT int fileno_unlocked(FILE *f)
{
	int fd = dn_stdio_fileno(f);
	return fd >= 0 ? fd : REAL(fileno_unlocked)(f);
}

static FILE *std_stream(int fd)
{
	return fd == 0 ? stdin : fd == 1 ? stdout : fd == 2 ? stderr : NULL;
}

/*
 * glibc's freopen keeps the stream's fd number: it opens the new file and
 * dup3()s it onto the old one. We do the same with our open and dup3, which
 * serves the two kinds of stream that can carry a Danaus fd: ours (their
 * cookie reads whatever fd N now is) and stdin/stdout/stderr (stdio.c
 * switches the variable to one of ours when fd 0-2 becomes Danaus). A
 * glibc stream on any other fd cannot do I/O on a Danaus fd at all.
 */
DN_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	int fd = dn_stdio_fileno(stream);
	struct dn_target t;
	int r = path ? dn_route(AT_FDCWD, path, &t) : 0;
	if (r == 0 && fd < 0)
		return REAL(freopen)(path, mode, stream);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	bool mine = fd >= 0;
	if (!mine) /* a Danaus path for a glibc stream: only fd 0-2 can switch */
		fd = REAL(fileno)(stream);
	bool std = fd >= 0 && fd <= 2 && stream == std_stream(fd);
	int flags = dn_stdio_mode_flags(mode);
	if (flags < 0) {
		errno = -flags;
		return NULL;
	}
	bool rd = (flags & O_ACCMODE) != O_WRONLY, wr = (flags & O_ACCMODE) != O_RDONLY;
	/*
	 * Any other stream keeps its FILE: it must be ours, stay on a Danaus
	 * file and already read/write as the new mode asks.
	 */
	if (!std && (!mine || (path && r == 0) || (rd && !__freadable(stream)) ||
		     (wr && !__fwritable(stream)))) {
		errno = ENOTSUP;
		return NULL;
	}
	fflush(stream);
	int nfd;
	if (r > 0) {
		nfd = dn_op_open(&t, flags, 0666);
	} else if (path) {
		nfd = open(path, flags, 0666);
		nfd = nfd < 0 ? -errno : nfd;
	} else { /* reopen the same file in another mode: ours knows its pool path */
		t.handle = 0;
		struct dn_ofd *o = dn_fd_ofd(fd, NULL);
		t.mount = o ? o->mount : 0;
		ssize_t n = dn_op_fpath(fd, t.path, sizeof(t.path));
		nfd = n < 0 ? (int)n : dn_op_open(&t, flags & ~(O_CREAT | O_EXCL), 0);
	}
	if (nfd < 0) {
		errno = -nfd;
		return NULL;
	}
	r = dup3(nfd, fd, flags & O_CLOEXEC);
	int e = errno;
	close(nfd);
	if (r < 0) {
		errno = e;
		return NULL;
	}
	if (std)
		return std_stream(fd); /* maybe switched to (or back from) one of ours */
	clearerr(stream);
	return stream;
}
DN_ALIAS(freopen, freopen64);

/* glob's own directory walk uses internal calls: hand it the interposed ones. */
static void *glob_opendir(const char *path)
{
	return opendir(path);
}

static struct dirent *glob_readdir(void *dir)
{
	return readdir(dir);
}

static void glob_closedir(void *dir)
{
	closedir(dir);
}

DN_EXPORT int glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
		   glob_t *g)
{
	if (!dn_client.configured || (flags & GLOB_ALTDIRFUNC))
		return REAL(glob)(pattern, flags, errfunc, g);
	g->gl_opendir = glob_opendir;
	g->gl_readdir = glob_readdir;
	g->gl_closedir = glob_closedir;
	g->gl_stat = stat;
	g->gl_lstat = lstat;
	return REAL(glob)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}

DN_EXPORT int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int),
		     glob64_t *g)
{
	/* glob64_t is glob_t on 64-bit targets */
	_Static_assert(sizeof(glob64_t) == sizeof(glob_t), "64-bit glob layout");
	return glob(pattern, flags, errfunc, (glob_t *)g);
}
