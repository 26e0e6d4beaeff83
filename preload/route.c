/* Path Routing: does a path name a file of one of this process's Danaus mounts */
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "client.h"
#include "fault.h"
#include "mounts.h"
#include "path.h"
#include "proc-own.h"
#include "ops.h"
#include "real.h"
#include "reopen.h"

/*
 * Where a path lies is decided lexically (one compare for paths outside the
 * mount); what it names is not: the pool gets the path as written below the
 * mount, with its ".", ".." and trailing slashes, and resolves it component
 * by component with the caller's rights, as the kernel would. Folding
 * "sub/.." here would skip the search permission sub needs and the symlink
 * sub may be; folding "f/" would lose the ENOTDIR it asks for.
 */

/*
 * A kernel directory fd of one of a mount's ancestors leads into the mount
 * with the right relative path: rsync's receiver opens "/" with O_PATH, then
 * "danaus" relative to it, then "p". The ancestors ("/", "/danaus" and the
 * mountpoint itself) are known by device and inode, read once; a dirfd is
 * looked at (one fstat) only for a path that starts with one of a mount's
 * own components or holds "..", so other *at calls pay a string compare.
 */
#define ANCESTORS_MAX 64
struct ancestor {
	dev_t dev;
	ino_t ino;
	uint32_t mount; /* its path: a prefix of that mount's */
	size_t len;     /* ("/" for 1) */
};
static struct ancestor ancestors[ANCESTORS_MAX];
static int nancestors;
static pthread_once_t ancestors_once = PTHREAD_ONCE_INIT;

static void ancestors_read(void)
{
	char p[DN_MOUNT_MAX];
	for (uint32_t m = 0; m < dn_client.nmounts; m++) {
		const struct dn_client_mount *mt = &dn_client.mounts[m];
		for (size_t i = 0; mt->len && i <= mt->len && nancestors < ANCESTORS_MAX; i++) {
			if (i < mt->len && mt->path[i] != '/')
				continue;
			size_t len = i ? i : 1;
			memcpy(p, mt->path, len);
			p[len] = 0;
			struct stat st;
			if (REAL(fstatat)(AT_FDCWD, p, &st, 0) == 0 && S_ISDIR(st.st_mode))
				ancestors[nancestors++] = (struct ancestor){st.st_dev, st.st_ino, m, len};
		}
	}
}

static bool may_lead_in(const char *path)
{
	if (strstr(path, ".."))
		return true;
	for (;;) { /* "./" and extra slashes before the first name */
		if (*path == '/')
			path++;
		else if (path[0] == '.' && path[1] == '/')
			path += 2;
		else
			break;
	}
	size_t n = strcspn(path, "/");
	for (uint32_t i = 0; i < dn_client.nmounts; i++) {
		for (const char *m = dn_client.mounts[i].path; *m;) {
			while (*m == '/')
				m++;
			size_t k = strcspn(m, "/");
			if (k && k == n && memcmp(m, path, n) == 0)
				return true;
			m += k;
		}
	}
	return false;
}

static int route(int dirfd, const char *path, struct dn_target *t);

/* A relative path from a kernel directory fd: the mount's, when the fd is an ancestor's. */
static int route_from_kernel_dir(int dirfd, const char *path, struct dn_target *t)
{
	if (!may_lead_in(path))
		return 0;
	pthread_once(&ancestors_once, ancestors_read);
	struct stat st;
	if (REAL(fstat)(dirfd, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	for (int k = 0; k < nancestors; k++) {
		if (ancestors[k].dev != st.st_dev || ancestors[k].ino != st.st_ino)
			continue;
		char base[DN_MOUNT_MAX], full[DN_PATH_MAX];
		memcpy(base, dn_client.mounts[ancestors[k].mount].path, ancestors[k].len);
		base[ancestors[k].len] = 0;
		if (dn_path_concat(base, path, full, sizeof(full)) < 0)
			return 0; /* the kernel answers ENAMETOOLONG */
		return route(AT_FDCWD, full, t);
	}
	return 0;
}

/*
 * The kernel's names of a process's own descriptors: /dev/fd/N (and
 * /dev/stdin, /dev/stdout, /dev/stderr), /proc/self/fd/N,
 * /proc/thread-self/fd/N and /proc/PID/fd/N of this process, each perhaps
 * followed by more of a path. N, with *rest what follows it; OWN_CWD for
 * the working directory's (/proc/self/cwd...); -1 for any other path.
 */
#define OWN_CWD (-2)
static int own_fd_name(const char *path, const char **rest)
{
	const char *p;
	if (strncmp(path, "/dev/", 5) == 0) {
		static const char *const std[] = {"stdin", "stdout", "stderr"};
		for (int i = 0; i < 3; i++) {
			size_t n = strlen(std[i]);
			if (strncmp(path + 5, std[i], n) == 0 && (path[5 + n] == '/' || !path[5 + n])) {
				*rest = path + 5 + n;
				return i;
			}
		}
		if (strncmp(path + 5, "fd/", 3) != 0)
			return -1;
		p = path + 8;
	} else {
		static const char *const wanted[] = {"fd/", "cwd", NULL};
		p = dn_proc_own(path, wanted);
		if (!p)
			return -1;
		if (strncmp(p, "cwd", 3) == 0) {
			if (p[3] != '/' && p[3])
				return -1;
			*rest = p + 3;
			return OWN_CWD;
		}
		p += 3;
	}
	long n = 0;
	/* as procfs reads a number: no leading zero ("03" names nothing) */
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (*p - '0')) > INT32_MAX)
			return -1;
	if (*p && *p != '/')
		return -1;
	*rest = p;
	return (int)n;
}

/*
 * A Danaus fd by its kernel name: the kernel would follow the magic link
 * to our placeholder (/dev/null) and answer for it. The file is found
 * again by the name it was opened by (the pool has no other way in);
 * dn_route_strict checks that name still leads to the same file.
 */
static int route_own_fd(int fd, const char *rest, struct dn_target *t)
{
	int32_t i = dn_fdmap_get(fd);
	if (rest[0]) {
		/*
		 * More of a path: the kernel goes on from the directory the fd
		 * is, wherever it now lies, as openat(fd, rest) does ("" is ".").
		 */
		while (*rest == '/')
			rest++;
		size_t n = strlen(rest);
		if (n >= PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(t->path, n ? rest : ".", n ? n + 1 : 2);
		t->handle = dn_ofds()[i].handle;
		t->dir_ofd = i;
		t->mount = dn_ofds()[i].mount;
		return 1;
	}
	struct dn_reopen_info info;
	if (!dn_reopen_get(i, dn_ofds()[i].handle, &info))
		return -ENOENT; /* an anonymous file (O_TMPFILE): no name leads to it */
	if (strlen(info.path) >= sizeof(t->path))
		return -ENAMETOOLONG;
	strcpy(t->path, info.path);
	t->handle = 0;
	t->mount = dn_ofds()[i].mount;
	t->redirect = info.redirect;
	return 1;
}

/* dn_route on a path that can be read. */
static int route(int dirfd, const char *path, struct dn_target *t)
{
	const char *rest;
	int own = -1;
	if (path[0] == '/' && (path[1] == 'd' || path[1] == 'p') && (own = own_fd_name(path, &rest)) == OWN_CWD) {
		/*
		 * The working directory's magic link: the kernel's leads to the
		 * placeholder of a directory in a mount; ours is the pool's, and
		 * from a host one the rest may lead in as a relative path does.
		 */
		while (*rest == '/')
			rest++;
		if (*rest)
			return route(AT_FDCWD, rest, t);
		return atomic_load_explicit(&dn_client.cwd_in_mount, memory_order_relaxed)
			       ? route(AT_FDCWD, ".", t)
			       : 0;
	}
	if (path[0] == '/' && (path[1] == 'd' || path[1] == 'p') && own >= 0) {
		if (dn_fdmap_get(own) >= 0)
			return route_own_fd(own, rest, t);
		/* a kernel directory fd of an ancestor of a mount may lead in, as openat(fd, rest) */
		while (*rest == '/')
			rest++;
		if (*rest)
			return route_from_kernel_dir(own, rest, t);
	}
	if (path[0] != '/' && dirfd == AT_FDCWD) {
		if (!atomic_load_explicit(&dn_client.cwd_in_mount, memory_order_relaxed)) {
			/* From an ancestor of the mount (or via "..") a relative path may lead in. */
			if (!atomic_load_explicit(&dn_client.cwd_above_mount, memory_order_relaxed) &&
			    !strstr(path, ".."))
				return 0;
			if (!dn_client.host_cwd[0])
				return 0;
			char full[DN_PATH_MAX];
			if (dn_path_concat(dn_client.host_cwd, path, full, sizeof(full)) < 0)
				return 0;
			return route(AT_FDCWD, full, t);
		}
		if (!path[0])
			return -ENOENT;
		/*
		 * Inside the mount a relative path stays there: the working
		 * directory is a pool path, and ".." stops at the pool's top. The
		 * pool resolves the two joined, up to DN_PATH_MAX (PATH_MAX is the
		 * kernel's limit for the relative path alone: dn_route_strict).
		 */
		int r = dn_path_concat(dn_client.cwd, path, t->path, sizeof(t->path));
		t->handle = 0;
		t->mount = dn_client.cwd_mount;
		return r < 0 ? r : 1;
	}
	if (path[0] != '/') {
		int32_t i = dn_fdmap_get(dirfd);
		if (i < 0)
			return route_from_kernel_dir(dirfd, path, t);
		if (!path[0])
			return -ENOENT;
		size_t n = strlen(path);
		if (n >= PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(t->path, path, n + 1);
		t->handle = dn_ofds()[i].handle;
		t->dir_ofd = i;
		t->mount = dn_ofds()[i].mount;
		return 1;
	}
	/* Fast path: a path no mount's first byte starts is none of theirs, nor leads in. */
	bool odd = false;
	if (dn_mount_may_start((unsigned char)path[1]) || (odd = dn_path_oddities(path))) {
		for (uint32_t m = 0; !odd && m < dn_client.nmounts; m++) {
			const char *mp = dn_client.mounts[m].path;
			size_t ml = dn_client.mounts[m].len;
			/* (the second byte inline: most paths differ there, a call costs more) */
			if (!ml || path[1] != mp[1] || (ml > 2 && path[2] != mp[2]) ||
			    strncmp(path, mp, ml) != 0 || (path[ml] != '/' && path[ml]))
				continue;
			/* below the mount, with no ".." that could lead out */
			const char *below = path[ml] ? path + ml : "/";
			if (dn_path_oddities(below) & DN_PATH_DOTDOT)
				break;
			size_t n = strlen(below);
			if (n >= sizeof(t->path))
				return -ENAMETOOLONG;
			memcpy(t->path, below, n + 1);
			t->handle = 0;
			t->mount = m;
			return 1;
		}
		if (!odd && !dn_path_oddities(path))
			return 0; /* outside, and nothing that could lead in ("..", "//", "/./") */
	} else {
		return 0;
	}
	for (uint32_t m = 0; m < dn_client.nmounts; m++) {
		const struct dn_client_mount *mt = &dn_client.mounts[m];
		int r = mt->len ? dn_path_under(path, mt->path, mt->len, t->path, sizeof(t->path)) : 0;
		if (r < 0)
			return r;
		if (r > 0) {
			t->handle = 0;
			t->mount = m;
			return 1;
		}
	}
	return 0;
}

/*
 * The path is read under a fault guard (fault.h: 4 ns more per call than
 * the bare check, where copying it with process_vm_readv costs more than
 * the stat(2) it precedes). A path that cannot be read names no Danaus
 * file: the kernel answers it (EFAULT), or glibc does what it does.
 */
int dn_route_strict(int dirfd, const char *path, struct dn_target *t)
{
	if (!dn_client.configured)
		return 0;
	if (dn_fault_low(path))
		return -EFAULT;
	t->redirect = false;
	struct dn_fault_frame f;
	dn_fault_push(&f, path, DN_FAULT_STRING);
	if (sigsetjmp(f.env, 0))
		return -EFAULT;
	int r = route(dirfd, path, t);
	/*
	 * PATH_MAX counts the NUL: a longer name is the kernel's to refuse
	 * (ENAMETOOLONG), wherever it leads, after its own argument checks.
	 * Only names route() claims are measured: others pay one compare.
	 */
	if (r != 0 && strnlen(path, PATH_MAX) == PATH_MAX)
		r = 0;
	const char *rest;
	int own = r == 1 && path[0] == '/' ? own_fd_name(path, &rest) : -1;
	dn_fault_pop(&f);
	if (own >= 0 && !rest[0]) {
		/* the name it was opened by must still be that file, else no wrong one */
		struct stat a, b, c;
		struct dn_target at = *t;
		if (dn_op_fstat(own, &a) < 0)
			return -ENOENT;
		bool same = dn_op_stat(&at, false, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
		at = *t;
		/* or the name is a symlink the description was opened on (O_PATH|O_NOFOLLOW) */
		if (!same && (dn_op_stat(&at, true, &c) < 0 || a.st_ino != c.st_ino || a.st_dev != c.st_dev))
			return -ENOENT;
	}
	return r;
}

/* Whether st is a mountpoint's host directory (its placeholder); which mount in *m. */
static bool placeholder_of(const struct stat *st, uint32_t *m)
{
	pthread_once(&ancestors_once, ancestors_read);
	for (int k = 0; k < nancestors; k++)
		if (ancestors[k].dev == st->st_dev && ancestors[k].ino == st->st_ino &&
		    ancestors[k].len == dn_client.mounts[ancestors[k].mount].len) {
			*m = ancestors[k].mount;
			return true;
		}
	return false;
}

/* struct open_how and RESOLVE_NO_SYMLINKS of openat2(2), which older headers lack */
struct host_open_how {
	uint64_t flags, mode, resolve;
};
#define HOST_RESOLVE_NO_MAGICLINKS 0x02
#define HOST_RESOLVE_NO_SYMLINKS 0x04

/*
 * Whether the kernel resolves (dirfd, path) through a /proc magic link (a
 * process's cwd or fd): it leads to the placeholder of a process working
 * in a mount, whose place there no name tells; errno is kept.
 */
static bool via_magic_link(int dirfd, const char *path)
{
	int saved = errno;
	struct host_open_how how = {.flags = O_PATH | O_CLOEXEC,
				    .resolve = HOST_RESOLVE_NO_MAGICLINKS};
	long fd = REAL(syscall)(SYS_openat2, dirfd, path, &how, sizeof(how));
	bool magic = fd < 0 && errno == ELOOP;
	if (fd >= 0)
		REAL(close)((int)fd);
	errno = saved;
	return magic;
}

/* The mount's top joined to what follows it in the walk (rest: "" or "/..."). */
static int route_into(uint32_t m, const char *rest, struct dn_target *t)
{
	char full[DN_PATH_MAX];
	int k = snprintf(full, sizeof(full), "%s%s", dn_client.mounts[m].path, rest);
	return k >= 0 && (size_t)k < sizeof(full) && route(AT_FDCWD, full, t) == 1;
}

/*
 * (dirfd, p) got ENOENT or EACCES (whole: p itself may be found) from the
 * kernel. A mountpoint's placeholder is empty and search-only, so if a
 * symlink led the kernel into a mount, it met that placeholder: the
 * deepest ancestor of p that exists is the placeholder, or the name after
 * it is the placeholder or a symlink leading on. Each step is a lookup as
 * the caller (what the kernel showed it); no recursion, three PATH_MAX
 * buffers (p is one), for small thread stacks. p is rewritten.
 */
static int lead_in(int dirfd, char *p, bool whole, struct dn_target *t)
{
	char link[PATH_MAX], next[PATH_MAX];
	struct stat st;
	uint32_t m;
	for (int links = 0; links <= 40; links++, whole = false) {
		size_t e = strlen(p);
		/* the deepest ancestor that stat finds (symlinks followed), p[0, e) */
		for (bool first = true;; first = false) {
			if (!first || !whole) {
				while (e > 1 && p[e - 1] == '/')
					e--;
				while (e > 0 && p[e - 1] != '/')
					e--;
				while (e > 1 && p[e - 1] == '/')
					e--;
			}
			if (e == 0)
				break; /* relative: dirfd itself */
			char c = p[e];
			p[e] = 0;
			int r = REAL(fstatat)(dirfd, p, &st, 0);
			p[e] = c;
			if (r == 0)
				break;
			if (errno != ENOENT || (e == 1 && p[0] == '/'))
				return 0;
		}
		if (e == 0 && REAL(fstatat)(dirfd, ".", &st, 0) < 0)
			return 0;
		if (placeholder_of(&st, &m))
			return route_into(m, p + e, t);
		if (!p[e] || !S_ISDIR(st.st_mode))
			return 0;
		/* the name after it: missing, the mountpoint itself, or a symlink */
		size_t s = e;
		while (p[s] == '/')
			s++;
		size_t ne = s + strcspn(p + s, "/");
		int k = snprintf(next, sizeof(next), "%.*s", (int)ne, p);
		if (k < 0 || (size_t)k >= sizeof(next) ||
		    REAL(fstatat)(dirfd, next, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 0;
		if (placeholder_of(&st, &m))
			return route_into(m, p + ne, t);
		if (!S_ISLNK(st.st_mode))
			return 0;
		ssize_t len = REAL(readlinkat)(dirfd, next, link, sizeof(link) - 1);
		if (len <= 0)
			return 0;
		link[len] = 0;
		/* the target, from the directory holding the link, and what followed its name */
		k = link[0] == '/' ? snprintf(next, sizeof(next), "%s%s", link, p + ne)
				   : snprintf(next, sizeof(next), "%.*s%s%s%s", (int)e, p,
					      e ? "/" : "", link, p + ne);
		if (k < 0 || (size_t)k >= sizeof(next))
			return 0;
		memcpy(p, next, (size_t)k + 1);
	}
	return 0;
}

int dn_route_after(int dirfd, const char *path, struct dn_target *t)
{
	return (errno == ENOENT || errno == EACCES) && dn_route_host_link(dirfd, path, t);
}

int dn_route_placeholder(int dirfd, const char *path, const struct stat *st,
			 struct dn_target *t)
{
	uint32_t m;
	if (!dn_client.configured || !dn_client.nmounts || !placeholder_of(st, &m) ||
	    via_magic_link(dirfd, path))
		return 0;
	*t = (struct dn_target){.mount = m, .path = "/"};
	return 1;
}

int dn_route_host_link(int dirfd, const char *path, struct dn_target *t)
{
	if (!dn_client.configured || !dn_client.nmounts || dn_fault_low(path))
		return 0;
	int saved = errno;
	char rest[PATH_MAX];
	if (dn_fault_strcpy_in(rest, path, sizeof(rest)) <= 0)
		return 0;
	int r = 0;
	/* a symlink on the way, or the kernel cannot say: the one call other paths pay */
	struct host_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = HOST_RESOLVE_NO_SYMLINKS};
	long fd = REAL(syscall)(SYS_openat2, dirfd, rest, &how, sizeof(how));
	if (fd >= 0)
		REAL(close)((int)fd);
	if (fd >= 0 || errno == ENOENT || errno == ENOTDIR || errno == EACCES ||
	    via_magic_link(dirfd, rest))
		goto out;
	t->redirect = false;
	r = lead_in(dirfd, rest, saved == EACCES, t);
out:
	errno = saved;
	return r;
}

int dn_route_self(int fd, struct dn_target *t, bool *nofollow)
{
	struct stat st;
	int r = dn_op_fstat(fd, &st);
	if (r < 0)
		return r;
	*nofollow = S_ISLNK(st.st_mode);
	char own[32];
	snprintf(own, sizeof(own), "/proc/self/fd/%d", fd);
	r = dn_route_strict(AT_FDCWD, own, t);
	return r == 1 ? 0 : r < 0 ? r : -EBADF;
}

/* CAP_DAC_OVERRIDE, the one right that writes in a placeholder (mode 0111) */
static bool may_write_placeholder(void)
{
	enum { DAC_OVERRIDE = 1 };
	if (atomic_load_explicit(&dn_client.attached, memory_order_relaxed))
		return dn_client.ident.caps & (1ull << DAC_OVERRIDE);
	/* not attached yet: asked once (an identity change attaches anew) */
	static _Atomic int known; /* 0 not asked, 1 no, 2 yes */
	int k = atomic_load_explicit(&known, memory_order_relaxed);
	if (!k) {
		int saved = errno;
		struct dn_ident id;
		dn_ident_read(&id);
		errno = saved;
		k = id.caps & (1ull << DAC_OVERRIDE) ? 2 : 1;
		atomic_store_explicit(&known, k, memory_order_relaxed);
	}
	return k == 2;
}

int dn_route_create(int dirfd, const char *path, struct dn_target *t)
{
	if (!dn_client.configured || !dn_client.nmounts || dn_fault_low(path) ||
	    !may_write_placeholder())
		return 0;
	char p[PATH_MAX];
	if (dn_fault_strcpy_in(p, path, sizeof(p)) <= 0)
		return 0;
	/* the last name (mkdir's may end in slashes) and the directory before it */
	size_t e = strlen(p);
	while (e > 1 && p[e - 1] == '/')
		e--;
	size_t s = e;
	while (s > 0 && p[s - 1] != '/')
		s--;
	char rest[NAME_MAX + 2];
	if (e == s || e - s > NAME_MAX)
		return 0;
	snprintf(rest, sizeof(rest), "/%.*s", (int)(e - s), p + s);
	if (s == 0 && dirfd == AT_FDCWD)
		return 0; /* the working directory: never a placeholder (chdir goes in) */
	p[s] = 0;
	int saved = errno;
	struct stat st;
	uint32_t m;
	bool in = (s ? REAL(fstatat)(dirfd, p, &st, 0) : REAL(fstat)(dirfd, &st)) == 0 &&
		  placeholder_of(&st, &m) && !(s && via_magic_link(dirfd, p));
	errno = saved;
	if (!in)
		return 0;
	t->redirect = false;
	return route_into(m, rest, t);
}

int dn_route_own_fd(const char *path)
{
	if (!dn_client.configured || dn_fault_low(path))
		return -1;
	struct dn_fault_frame f;
	dn_fault_push(&f, path, DN_FAULT_STRING);
	if (sigsetjmp(f.env, 0))
		return -1;
	const char *rest;
	int fd = path[0] == '/' ? own_fd_name(path, &rest) : -1;
	bool whole = fd >= 0 && !rest[0];
	dn_fault_pop(&f);
	return whole && dn_fdmap_get(fd) >= 0 ? fd : -1;
}

/* The working directory's link, when it is in a mount: its path there, as getcwd's. */
static int own_cwd_link(char *out, size_t cap)
{
	if (!atomic_load(&dn_client.cwd_in_mount))
		return 0;
	pthread_mutex_lock(&dn_client.lock);
	const struct dn_client_mount *m = &dn_client.mounts[dn_client.cwd_mount];
	int n = snprintf(out, cap, "%.*s%s", (int)m->len, m->path,
			 strcmp(dn_client.cwd, "/") ? dn_client.cwd : "");
	pthread_mutex_unlock(&dn_client.lock);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

int dn_route_own_link(const char *path, char *out, size_t cap)
{
	if (!dn_client.configured || dn_fault_low(path))
		return 0;
	struct dn_fault_frame f;
	dn_fault_push(&f, path, DN_FAULT_STRING);
	if (sigsetjmp(f.env, 0))
		return 0;
	const char *rest;
	int fd = path[0] == '/' ? own_fd_name(path, &rest) : -1;
	bool whole = fd != -1 && !rest[0];
	dn_fault_pop(&f);
	if (whole && fd == OWN_CWD)
		return own_cwd_link(out, cap);
	int32_t i = whole ? dn_fdmap_get(fd) : -1;
	struct dn_reopen_info info;
	if (i < 0 || !dn_reopen_get(i, dn_ofds()[i].handle, &info))
		return 0;
	const struct dn_client_mount *m = &dn_client.mounts[dn_ofds()[i].mount];
	/* the mountpoint and the path below it; the top of the mount is the mountpoint */
	int n = snprintf(out, cap, "%.*s%s", (int)m->len, m->path,
			 strcmp(info.path, "/") == 0 ? "" : info.path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : n;
}

bool dn_path_too_long(const char *path)
{
	if (dn_fault_low(path))
		return false;
	struct dn_fault_frame f;
	dn_fault_push(&f, path, DN_FAULT_STRING);
	if (sigsetjmp(f.env, 0))
		return false;
	bool r = strnlen(path, PATH_MAX) == PATH_MAX;
	dn_fault_pop(&f);
	return r;
}

int dn_route(int dirfd, const char *path, struct dn_target *t)
{
	int r = dn_route_strict(dirfd, path, t);
	if (r != -EFAULT)
		return r;
	/*
	 * Relative to a Danaus fd the kernel would see our placeholder (with a
	 * NULL path and AT_EMPTY_PATH, newer kernels act on the fd itself):
	 * we answer for it.
	 */
	return dirfd != AT_FDCWD && dn_fdmap_get(dirfd) >= 0 ? -EFAULT : 0;
}

const char *dn_route_empty_cwd(int dirfd, const char *path, int flags)
{
	char c;
	if (!(flags & AT_EMPTY_PATH) || dirfd != AT_FDCWD ||
	    !atomic_load_explicit(&dn_client.cwd_in_mount, memory_order_relaxed) ||
	    dn_fault_copy_in(&c, path, 1) < 0 || c)
		return path;
	return ".";
}

/* The last answer's statx extras on this thread (dn_stat_more) */
static _Thread_local struct dn_stat last_more;

bool dn_stat_more(const struct stat *st, struct dn_stat *more)
{
	if (!last_more.more || last_more.dev != (uint64_t)st->st_dev ||
	    last_more.ino != (uint64_t)st->st_ino)
		return false;
	*more = last_more;
	return true;
}

void dn_stat_from_wire(const struct dn_stat *w, struct stat *st)
{
	last_more.more = 0;
	if (w->more) {
		last_more = *w;
		last_more.dev = w->dev;
		last_more.ino = w->ino;
	}
	memset(st, 0, sizeof(*st));
	st->st_dev = w->dev;
	st->st_ino = w->ino;
	st->st_nlink = w->nlink;
	st->st_mode = w->mode;
	st->st_uid = w->uid;
	st->st_gid = w->gid;
	st->st_rdev = w->rdev;
	st->st_size = (off_t)w->size;
	st->st_blksize = w->blksize;
	st->st_blocks = (blkcnt_t)w->blocks;
	st->st_atim.tv_sec = w->atime_sec;
	st->st_atim.tv_nsec = w->atime_nsec;
	st->st_mtim.tv_sec = w->mtime_sec;
	st->st_mtim.tv_nsec = w->mtime_nsec;
	st->st_ctim.tv_sec = w->ctime_sec;
	st->st_ctim.tv_nsec = w->ctime_nsec;
}
