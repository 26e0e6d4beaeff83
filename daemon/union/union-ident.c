/* Union Identity: st_dev and st_ino of the merged view, stable across copy-up as overlayfs keeps them */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "../cred.h"
#include "union.h"

/*
 * A major number no device of this kernel can have (its dev_t holds 12 bits
 * of major): an instance's st_dev never equals a real filesystem's, so no
 * program takes a union's file for a host file with the same number.
 */
#define UN_DEV_MAJOR 0x1000u

/* An origin attribute's room: two numbers, a colon and a NUL */
#define ORIGIN_LEN 48

/*
 * The instance is its writable layer: the dev and inode of that layer's top
 * name it, the same across pool restarts and different for every union.
 */
int un_ident_init(struct union_svc *u)
{
	struct stat st;
	int r = u->below->ops->stat(u->below, &u->priv, u->layer[0], true, &st);
	if (r < 0)
		return r;
	uint64_t h = 1469598103934665603ull; /* FNV-1a over both */
	uint64_t key[2] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino};
	const unsigned char *b = (const unsigned char *)key;
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	/* a minor of 20 bits, as the kernel's: programs read it as an int (CPython's makedev) */
	u->dev = makedev(UN_DEV_MAJOR, (unsigned)(h ^ h >> 32) & 0xfffffu);
	return 0;
}

const char *un_origin_name(mode_t m)
{
	if (S_ISDIR(m))
		return NULL; /* (a merged directory's number comes from its lower copy) */
	return S_ISREG(m) ? UN_ORIGIN : UN_ORIGIN_TRUSTED;
}

bool un_origin_xattr(const char *name)
{
	return strcmp(name, UN_ORIGIN) == 0 || strcmp(name, UN_ORIGIN_TRUSTED) == 0;
}

void un_origin_set(struct union_svc *u, const char *real, const struct stat *lower)
{
	const char *name = un_origin_name(lower->st_mode);
	/*
	 * Lower hard links are copied up apart, each its own inode: one number
	 * for several would lie (overlayfs, without its index, keeps the
	 * origin's st_ino only for a lower file of one link too).
	 */
	struct stat self;
	if (!name || lower->st_nlink != 1 || !u->below->ops->setxattr ||
	    u->below->ops->stat(u->below, &u->priv, real, true, &self) < 0)
		return;
	char v[ORIGIN_LEN];
	int n = snprintf(v, sizeof(v), "%" PRIu64 ":%" PRIu64, (uint64_t)lower->st_ino,
			 (uint64_t)self.st_ino);
	/* (without it, the copy has its own number: the pool may not write trusted.*) */
	u->below->ops->setxattr(u->below, &u->priv, NULL, real, true, name, v, (size_t)n, 0);
}

/*
 * An origin attribute's value (got bytes of v, which has room for a NUL),
 * on a file whose own number is self: the origin's number, 0 when none.
 * The value names the copy it was written on too ("ORIGIN:SELF"): the
 * attribute copied onto another file (cp -a or rsync -X through a direct
 * instance over the writable layer), or written by a tenant there, names
 * no origin, else two files would show one number through the union.
 */
static uint64_t origin_parse(char *v, ssize_t got, uint64_t self)
{
	if (got <= 0)
		return 0;
	v[got] = '\0';
	char *end, *own;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *end != ':')
		return 0;
	own = end + 1;
	unsigned long long ino = strtoull(own, &end, 10);
	return errno || *end || end == own || ino != self ? 0 : (uint64_t)n;
}

int dn_union_fd_origin(int fd, uint64_t *ino)
{
	*ino = 0;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	const char *name = un_origin_name(st.st_mode);
	if (!name)
		return 0;
	char v[ORIGIN_LEN];
	ssize_t got = fgetxattr(fd, name, v, sizeof(v) - 1);
	if (got < 0)
		return errno == ENODATA || errno == ENOTSUP || errno == ERANGE ? 0 : -errno;
	*ino = origin_parse(v, got, (uint64_t)st.st_ino);
	return 0; /* (a value that names nothing: no origin) */
}

uint64_t dn_union_file_origin(struct dn_svc *s, struct dn_file *f)
{
	struct stat st;
	if (!s->ops->getxattr || !s->ops->fstat || s->ops->fstat(s, f, &st) < 0)
		return 0;
	/* the pool's own bookkeeping, whoever writes: read as the pool */
	struct dn_cred priv = {.uid = 0, .gid = 0, .caps = dn_cred_pool_caps()};
	char v[ORIGIN_LEN];
	return origin_parse(v, s->ops->getxattr(s, &priv, f, NULL, true, UN_ORIGIN, v, sizeof(v) - 1),
			    (uint64_t)st.st_ino);
}

ino_t un_origin_get(struct union_svc *u, const char *real, mode_t m, uint64_t self)
{
	const char *name = un_origin_name(m);
	char v[ORIGIN_LEN];
	if (!name || !u->below->ops->getxattr)
		return 0;
	return (ino_t)origin_parse(v, u->below->ops->getxattr(u->below, &u->priv, NULL, real, true,
							      name, v, sizeof(v) - 1),
				   self);
}

/* the origin recorded on n, a non-directory of the writable layer: 0 when none */
static ino_t origin(struct union_svc *u, const struct un_node *n)
{
	char real[UN_PATH_MAX];
	return un_real(u, 0, n->path, real) < 0 ? 0
						 : un_origin_get(u, real, n->st.st_mode, (uint64_t)n->st.st_ino);
}

void un_ident(struct union_svc *u, struct un_node *n, ino_t lower_ino)
{
	if (n->layer < 0)
		return;
	n->st.st_dev = u->dev;
	if (n->layer != 0)
		return; /* a lower layer's own file or directory: its own number */
	if (S_ISDIR(n->st.st_mode)) {
		/* merging lower copies: the top lower one's, as overlayfs says of
		 * every directory but its root (there: the upper one's) */
		if (lower_ino && strcmp(n->path, "/") != 0)
			n->st.st_ino = lower_ino;
		return;
	}
	ino_t o = origin(u, n);
	if (o)
		n->st.st_ino = o;
}
