/* fts: glibc's file hierarchy walk, redone on the library's own calls */
#include <dirent.h>
#include <errno.h>
#include <fts.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dn-errno.h"
#include "export.h"
#include "real.h"
#include "walk.h"

/*
 * glibc's fts_open/fts_read reach the kernel through internal aliases
 * (__opendir, __lstat64, __fchdir...) that no preload sees: on a pool path
 * they stat the empty host placeholder (FTS_NS, ENOENT). A stream whose
 * roots can lead into the mount is walked here instead, on the exported
 * calls, following glibc's io/fts.c: the same entries, order, fts_info
 * values and errors. One difference: it never changes the working
 * directory (as with FTS_NOCHDIR), so fts_accpath is always fts_path.
 * Any other stream is glibc's, untouched.
 */

/* In fts_options: a stream walked here (glibc's own flags use 0x3ff). */
#define OURS 0x40000000

/* fts_build's two ways besides fts_read's: fts_children with and without stat. */
enum build { BREAD, BCHILD, BNAMES };

static bool is_dot(const char *s)
{
	return s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2]));
}

static bool ours(const FTS *sp)
{
	return sp && (sp->fts_options & OURS);
}

/* An entry with its name and a stat buffer after it, as glibc's fts_alloc. */
static FTSENT *ent_new(const char *name, size_t len)
{
	size_t off = offsetof(FTSENT, fts_name) + len + 1;
	off = (off + alignof(struct stat) - 1) & ~(alignof(struct stat) - 1);
	FTSENT *p = calloc(1, off + sizeof(struct stat));
	if (!p)
		return NULL;
	memcpy((char *)p + offsetof(FTSENT, fts_name), name, len);
	p->fts_namelen = (unsigned short)len;
	p->fts_statp = (struct stat *)(void *)((char *)p + off);
	p->fts_instr = FTS_NOINSTR;
	return p;
}

static void list_free(FTSENT *p)
{
	while (p) {
		FTSENT *next = p->fts_link;
		free(p);
		p = next;
	}
}

/*
 * The stream's path buffer moved: every live entry points into it (glibc's
 * fts_padjust). An access path is the entry's path here, or a root's own
 * name before the root is loaded.
 */
static void path_adjust(FTS *sp, FTSENT *head)
{
#define ADJUST(p)                                                                                  \
	do {                                                                                       \
		if ((p)->fts_accpath != (p)->fts_name)                                             \
			(p)->fts_accpath = sp->fts_path;                                           \
		(p)->fts_path = sp->fts_path;                                                      \
	} while (0)
	for (FTSENT *p = sp->fts_child; p; p = p->fts_link)
		ADJUST(p);
	for (FTSENT *p = head; p && p->fts_level >= FTS_ROOTLEVEL;) {
		ADJUST(p);
		p = p->fts_link ? p->fts_link : p->fts_parent;
	}
#undef ADJUST
}

/* Room for size bytes in the path buffer; the caller adjusts the entries. */
static int path_room(FTS *sp, size_t size)
{
	if (size <= (size_t)sp->fts_pathlen)
		return 0;
	size += 256;
	if (size > INT_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *p = realloc(sp->fts_path, size);
	if (!p)
		return -1;
	sp->fts_path = p;
	sp->fts_pathlen = (int)size;
	return 0;
}

/* glibc's fts_stat: the entry's fts_info from stat or lstat of its access path. */
static unsigned short ent_stat(FTS *sp, FTSENT *p, bool follow)
{
	struct stat *sb = p->fts_statp;
	if ((sp->fts_options & FTS_LOGICAL) || follow) {
		if (stat(p->fts_accpath, sb) < 0) {
			int e = errno;
			if (e == ENOENT && lstat(p->fts_accpath, sb) == 0) {
				errno = 0;
				return FTS_SLNONE;
			}
			p->fts_errno = e;
			memset(sb, 0, sizeof(*sb));
			return FTS_NS;
		}
	} else if (lstat(p->fts_accpath, sb) < 0) {
		p->fts_errno = errno;
		memset(sb, 0, sizeof(*sb));
		return FTS_NS;
	}
	if (S_ISDIR(sb->st_mode)) {
		p->fts_dev = sb->st_dev;
		p->fts_ino = sb->st_ino;
		p->fts_nlink = sb->st_nlink;
		if (is_dot(p->fts_name))
			return FTS_DOT;
		/* a cycle: the same directory among the ancestors */
		for (FTSENT *t = p->fts_parent; t->fts_level >= FTS_ROOTLEVEL; t = t->fts_parent)
			if (t->fts_ino == p->fts_ino && t->fts_dev == p->fts_dev) {
				p->fts_cycle = t;
				return FTS_DC;
			}
		return FTS_D;
	}
	if (S_ISLNK(sb->st_mode))
		return FTS_SL;
	return S_ISREG(sb->st_mode) ? FTS_F : FTS_DEFAULT;
}

/* glibc's fts_sort: the list in the caller's order. */
static FTSENT *list_sort(FTS *sp, FTSENT *head, size_t n)
{
	if ((size_t)sp->fts_nitems < n) {
		FTSENT **a = realloc(sp->fts_array, (n + 40) * sizeof(*a));
		if (!a)
			return head; /* glibc walks unsorted then too */
		sp->fts_array = a;
		sp->fts_nitems = (int)(n + 40);
	}
	size_t i = 0;
	for (FTSENT *p = head; p; p = p->fts_link)
		sp->fts_array[i++] = p;
	qsort(sp->fts_array, n, sizeof(*sp->fts_array), sp->fts_compar);
	for (i = 0; i + 1 < n; i++)
		sp->fts_array[i]->fts_link = sp->fts_array[i + 1];
	sp->fts_array[n - 1]->fts_link = NULL;
	return sp->fts_array[0];
}

/* glibc's fts_build without chdir: the children of fts_cur, or NULL (errno says why). */
static FTSENT *build(FTS *sp, enum build type)
{
	FTSENT *cur = sp->fts_cur;
	DIR *d = opendir(cur->fts_accpath);
	if (!d) {
		if (type == BREAD) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	/* With FTS_NOSTAT on a physical walk, only as many stats as subdirectories. */
	long nlinks = -1;
	bool nostat = false;
	if (type == BNAMES) {
		nlinks = 0;
	} else if ((sp->fts_options & FTS_NOSTAT) && (sp->fts_options & FTS_PHYSICAL)) {
		nlinks = (long)cur->fts_nlink - ((sp->fts_options & FTS_SEEDOT) ? 0 : 2);
		nostat = true;
	}
	size_t len = cur->fts_pathlen;
	if (len && sp->fts_path[len - 1] == '/')
		len--;
	if (path_room(sp, len + 2) < 0) {
		closedir(d);
		return NULL;
	}
	char *start = sp->fts_path;
	sp->fts_path[len++] = '/';
	FTSENT *head = NULL, *tail = NULL;
	size_t n = 0;
	struct dirent *e;
	int err = 0;
	while ((e = readdir(d))) { /* a failing readdir ends the list, as glibc's */
		if (!(sp->fts_options & FTS_SEEDOT) && is_dot(e->d_name))
			continue;
		size_t nlen = strlen(e->d_name);
		FTSENT *p = ent_new(e->d_name, nlen);
		if (!p || path_room(sp, len + nlen + 1) < 0 || len + nlen >= USHRT_MAX) {
			err = p && len + nlen >= USHRT_MAX ? ENAMETOOLONG : errno;
			free(p);
			break;
		}
		p->fts_level = (short)(cur->fts_level + 1);
		p->fts_parent = cur;
		p->fts_pathlen = (unsigned short)(len + nlen);
		p->fts_path = p->fts_accpath = sp->fts_path;
		if (nlinks == 0 ||
		    (nostat && e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)) {
			p->fts_info = FTS_NSOK;
		} else {
			memcpy(sp->fts_path + len, e->d_name, nlen + 1);
			p->fts_info = ent_stat(sp, p, false);
			if (nlinks > 0 && (p->fts_info == FTS_D || p->fts_info == FTS_DC ||
					   p->fts_info == FTS_DOT))
				nlinks--;
		}
		if (head)
			tail->fts_link = p;
		else
			head = p;
		tail = p;
		n++;
	}
	closedir(d);
	if (sp->fts_path != start)
		path_adjust(sp, head ? head : cur);
	if (err) { /* glibc's: no memory, or a path fts_pathlen cannot hold */
		list_free(head);
		cur->fts_info = FTS_ERR;
		sp->fts_options |= FTS_STOP;
		errno = err;
		return NULL;
	}
	/* glibc leaves the directory's path with its slash when it has entries */
	sp->fts_path[n ? len : len - 1] = 0;
	if (!n) {
		if (type == BREAD)
			cur->fts_info = FTS_DP;
		return NULL;
	}
	if (sp->fts_compar && n > 1)
		head = list_sort(sp, head, n);
	return head;
}

/* glibc's fts_load: a root's path goes in the buffer, its name becomes the last component. */
static void root_load(FTS *sp, FTSENT *p)
{
	size_t len = p->fts_namelen;
	p->fts_pathlen = (unsigned short)len;
	memmove(sp->fts_path, p->fts_name, len + 1);
	char *cp = strrchr(p->fts_name, '/');
	if (cp && (cp != p->fts_name || cp[1])) {
		len = strlen(++cp);
		memmove(p->fts_name, cp, len + 1);
		p->fts_namelen = (unsigned short)len;
	}
	p->fts_accpath = p->fts_path = sp->fts_path;
	sp->fts_dev = p->fts_dev;
}

static FTS *ours_open(char *const *argv, int options, dn_fts_cmp compar)
{
	if (options & ~FTS_OPTIONMASK) {
		errno = EINVAL;
		return NULL;
	}
	FTS *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->fts_compar = (int (*)(const void *, const void *))(void (*)(void))compar;
	sp->fts_options = options | FTS_NOCHDIR | OURS;
	sp->fts_rfd = -1;
	size_t max = 0;
	for (char *const *a = argv; *a; a++)
		if (strlen(*a) > max)
			max = strlen(*a);
	FTSENT *parent = NULL, *root = NULL, *tail = NULL;
	size_t n = 0;
	if (path_room(sp, (max > 1024 ? max : 1024) + 1) < 0)
		goto fail;
	if (*argv && !(parent = ent_new("", 0)))
		goto fail;
	if (parent)
		parent->fts_level = FTS_ROOTPARENTLEVEL;
	for (; *argv; argv++, n++) {
		size_t len = strlen(*argv);
		if (len == 0 || len >= USHRT_MAX) {
			errno = len ? ENAMETOOLONG : ENOENT;
			goto fail;
		}
		FTSENT *p = ent_new(*argv, len);
		if (!p)
			goto fail;
		p->fts_level = FTS_ROOTLEVEL;
		p->fts_parent = parent;
		p->fts_accpath = p->fts_name;
		p->fts_path = sp->fts_path;
		p->fts_info = ent_stat(sp, p, options & FTS_COMFOLLOW);
		if (p->fts_info == FTS_DOT) /* "." and ".." given are real directories */
			p->fts_info = FTS_D;
		if (compar) { /* glibc: reversed, then sorted */
			p->fts_link = root;
			root = p;
		} else {
			if (tail)
				tail->fts_link = p;
			else
				root = p;
			tail = p;
		}
	}
	if (compar && n > 1)
		root = list_sort(sp, root, n);
	if (!(sp->fts_cur = ent_new("", 0)))
		goto fail;
	sp->fts_cur->fts_link = root;
	sp->fts_cur->fts_info = FTS_INIT;
	return sp;
fail:;
	int e = errno;
	list_free(root);
	free(parent);
	free(sp->fts_array);
	free(sp->fts_path);
	free(sp);
	errno = e;
	return NULL;
}

/* fts_read's visit of p as the next entry at its level (glibc's "name:" label). */
static FTSENT *visit(FTS *sp, FTSENT *p)
{
	FTSENT *parent = p->fts_parent;
	size_t len = parent->fts_pathlen;
	if (len && sp->fts_path[len - 1] == '/')
		len--;
	sp->fts_path[len] = '/';
	memmove(sp->fts_path + len + 1, p->fts_name, p->fts_namelen + 1u);
	return sp->fts_cur = p;
}

static FTSENT *ours_read(FTS *sp)
{
	if (!sp->fts_cur || (sp->fts_options & FTS_STOP))
		return NULL;
	FTSENT *p = sp->fts_cur;
	unsigned short instr = p->fts_instr;
	p->fts_instr = FTS_NOINSTR;
	if (instr == FTS_AGAIN) {
		p->fts_info = ent_stat(sp, p, false);
		return p;
	}
	if (instr == FTS_FOLLOW && (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) {
		p->fts_info = ent_stat(sp, p, true);
		return p;
	}
	if (p->fts_info == FTS_D) {
		/* skipped, or another device with FTS_XDEV: its post-order visit now */
		if (instr == FTS_SKIP ||
		    ((sp->fts_options & FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
			list_free(sp->fts_child);
			sp->fts_child = NULL;
			p->fts_info = FTS_DP;
			return p;
		}
		if (sp->fts_child && (sp->fts_options & FTS_NAMEONLY)) {
			sp->fts_options &= ~FTS_NAMEONLY;
			list_free(sp->fts_child);
			sp->fts_child = NULL;
		}
		if (!sp->fts_child && !(sp->fts_child = build(sp, BREAD)))
			return (sp->fts_options & FTS_STOP) ? NULL : p;
		p = sp->fts_child;
		sp->fts_child = NULL;
		return visit(sp, p);
	}
	for (;;) { /* the next entry at this level, or up to the parent */
		FTSENT *tmp = p;
		p = p->fts_link;
		if (!p)
			break;
		sp->fts_cur = p;
		free(tmp);
		if (p->fts_level == FTS_ROOTLEVEL) {
			root_load(sp, p);
			return sp->fts_cur = p;
		}
		if (p->fts_instr == FTS_SKIP)
			continue;
		if (p->fts_instr == FTS_FOLLOW) {
			p->fts_info = ent_stat(sp, p, true);
			p->fts_instr = FTS_NOINSTR;
		}
		return visit(sp, p);
	}
	FTSENT *tmp = sp->fts_cur;
	p = tmp->fts_parent;
	sp->fts_cur = p;
	free(tmp);
	if (p->fts_level == FTS_ROOTPARENTLEVEL) {
		free(p);
		errno = 0;
		return sp->fts_cur = NULL;
	}
	sp->fts_path[p->fts_pathlen] = 0;
	p->fts_info = p->fts_errno ? FTS_ERR : FTS_DP;
	return sp->fts_cur = p;
}

static FTSENT *ours_children(FTS *sp, int instr)
{
	if (instr != 0 && instr != FTS_NAMEONLY) {
		errno = EINVAL;
		return NULL;
	}
	FTSENT *p = sp->fts_cur;
	errno = 0;
	if (sp->fts_options & FTS_STOP)
		return NULL;
	if (p->fts_info == FTS_INIT)
		return p->fts_link;
	if (p->fts_info != FTS_D)
		return NULL;
	list_free(sp->fts_child);
	sp->fts_child = NULL;
	if (instr == FTS_NAMEONLY)
		sp->fts_options |= FTS_NAMEONLY;
	return sp->fts_child = build(sp, instr == FTS_NAMEONLY ? BNAMES : BCHILD);
}

static int ours_close(FTS *sp)
{
	if (sp->fts_cur) {
		FTSENT *p = sp->fts_cur;
		while (p->fts_level >= FTS_ROOTLEVEL) {
			FTSENT *next = p->fts_link ? p->fts_link : p->fts_parent;
			free(p);
			p = next;
		}
		free(p);
	}
	list_free(sp->fts_child);
	free(sp->fts_array);
	free(sp->fts_path);
	free(sp);
	return 0;
}

/* Any root that can lead into the mount makes the whole stream ours. */
static int route(char *const *argv)
{
	for (char *const *a = argv; a && *a; a++) {
		int r = dn_walk_route(*a);
		if (r != 0)
			return r;
	}
	return 0;
}

DN_EXPORT FTS *fts_open(char *const *argv, int options, dn_fts_cmp compar)
{
	int r = route(argv);
	if (r == 0)
		return REAL(fts_open)(argv, options, compar);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return ours_open(argv, options, compar);
}

DN_EXPORT FTSENT *fts_read(FTS *sp)
{
	return ours(sp) ? ours_read(sp) : REAL(fts_read)(sp);
}

DN_EXPORT FTSENT *fts_children(FTS *sp, int instr)
{
	return ours(sp) ? ours_children(sp, instr) : REAL(fts_children)(sp, instr);
}

DN_EXPORT int fts_set(FTS *sp, FTSENT *p, int instr)
{
	if (!ours(sp))
		return REAL(fts_set)(sp, p, instr);
	if (instr != 0 && instr != FTS_AGAIN && instr != FTS_FOLLOW && instr != FTS_NOINSTR &&
	    instr != FTS_SKIP) {
		errno = EINVAL;
		return 1;
	}
	p->fts_instr = (unsigned short)instr;
	return 0;
}

DN_EXPORT int fts_close(FTS *sp)
{
	return ours(sp) ? ours_close(sp) : REAL(fts_close)(sp);
}

/* The 64 names (glibc 2.23 on, what _FILE_OFFSET_BITS=64 programs call): the same layout here. */
_Static_assert(sizeof(FTS) == sizeof(FTS64) && sizeof(FTSENT) == sizeof(FTSENT64),
	       "64-bit fts layout");

DN_EXPORT FTS64 *fts64_open(char *const *argv, int options, dn_fts64_cmp compar)
{
	int r = route(argv);
	if (r == 0)
		return REAL(fts64_open)(argv, options, compar);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return (FTS64 *)ours_open(argv, options, (dn_fts_cmp)(void (*)(void))compar);
}

DN_EXPORT FTSENT64 *fts64_read(FTS64 *sp)
{
	return ours((FTS *)sp) ? (FTSENT64 *)ours_read((FTS *)sp) : REAL(fts64_read)(sp);
}

DN_EXPORT FTSENT64 *fts64_children(FTS64 *sp, int instr)
{
	return ours((FTS *)sp) ? (FTSENT64 *)ours_children((FTS *)sp, instr)
			       : REAL(fts64_children)(sp, instr);
}

DN_EXPORT int fts64_set(FTS64 *sp, FTSENT64 *p, int instr)
{
	if (!ours((FTS *)sp))
		return REAL(fts64_set)(sp, p, instr);
	return fts_set((FTS *)sp, (FTSENT *)p, instr);
}

DN_EXPORT int fts64_close(FTS64 *sp)
{
	return ours((FTS *)sp) ? ours_close((FTS *)sp) : REAL(fts64_close)(sp);
}
