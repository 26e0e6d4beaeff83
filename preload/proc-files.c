/* Proc Files: a process's mount table and fdinfo as the kernel would show them with its Danaus mounts */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "client.h"
#include "memfd.h"
#include "ops.h"
#include "proc-files.h"
#include "proc-own.h"
#include "real.h"

/*
 * A mount whose files the pool shows on a device of their own (a union's,
 * a Ceph pool's), as overlayfs's or ceph-fuse's: the mount table of the
 * process shows it, so that df and findmnt name its type and mountpoint.
 * Numbered far past the kernel's mount ids (mountinfo's first field).
 */
#define MOUNT_ID_BASE 1000000

enum proc_kind { NOT_OURS, MOUNTINFO, MOUNTS, FDINFO };

/* What path names: this process's mountinfo, mounts or fdinfo/N (*fd). */
static enum proc_kind kind_of(const char *path, int *fd)
{
	if (strcmp(path, "/proc/mounts") == 0)
		return MOUNTS;
	static const char *const wanted[] = {"mountinfo", "mounts", "fdinfo/", NULL};
	const char *p = dn_proc_own(path, wanted);
	if (!p)
		return NOT_OURS;
	if (strcmp(p, "mountinfo") == 0)
		return MOUNTINFO;
	if (strcmp(p, "mounts") == 0)
		return MOUNTS;
	if (strncmp(p, "fdinfo/", 7) != 0)
		return NOT_OURS;
	p += 7;
	long n = 0;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return NOT_OURS;
	for (; *p >= '0' && *p <= '9' && n <= INT32_MAX; p++)
		n = n * 10 + (*p - '0');
	if (*p || n > INT32_MAX || dn_fdmap_get((int)n) < 0)
		return NOT_OURS;
	*fd = (int)n;
	return FDINFO;
}

/* A growing text: what the memfd will hold */
struct text {
	char *s;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *s2 = realloc(t->s, cap);
		if (!s2) {
			t->failed = true;
			return;
		}
		t->s = s2;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
}

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
	char line[DN_MOUNT_MAX * 4 + 256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		t->failed = true;
	else
		text_add(t, line, (size_t)n);
}

/* The kernel's own file, whole, from fd. */
static int kernel_text(int fd, struct text *t)
{
	char buf[4096];
	ssize_t n;
	while ((n = REAL(read)(fd, buf, sizeof(buf))) > 0)
		text_add(t, buf, (size_t)n);
	return n < 0 ? -errno : 0;
}

/* A mountpoint as the kernel writes it in a mount table (seq_path's escapes) */
static void mangle(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 5 < cap; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%03o", (unsigned char)*in);
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

/* The type a mount table names for a statfs type, as the kernel's would */
static const char *type_name(long type)
{
	switch ((unsigned long)type) {
	case 0x794c7630: /* OVERLAYFS_SUPER_MAGIC */
		return "overlay";
	case 0x00c36400: /* CEPH_SUPER_MAGIC */
		return "ceph";
	case 0x65735546: /* FUSE_SUPER_MAGIC */
		return "fuse.danaus";
	default:
		return "danaus";
	}
}

struct shown {
	dev_t dev;
	uint64_t parent; /* the kernel's mount the placeholder is on */
	const char *type;
};

/* Whether mount i has a device of its own (then *s says how to show it) */
static bool shown_mount(uint32_t i, struct shown *s)
{
	const struct dn_client_mount *m = &dn_client.mounts[i];
	if (!m->served)
		return false;
	struct dn_target t = {.mount = i, .path = "/"};
	struct stat in, host;
	struct statx x;
	struct statfs f;
	if (dn_op_stat(&t, false, &in) < 0 || REAL(fstatat)(AT_FDCWD, m->path, &host, 0) < 0 ||
	    in.st_dev == host.st_dev)
		return false;
	if (REAL(statx)(AT_FDCWD, m->path, 0, STATX_MNT_ID, &x) < 0 || !(x.stx_mask & STATX_MNT_ID))
		x.stx_mnt_id = 0;
	s->dev = in.st_dev;
	s->parent = x.stx_mnt_id;
	s->type = statfs(m->path, &f) == 0 ? type_name((long)f.f_type) : "danaus";
	return true;
}

static void mount_lines(struct text *t, bool info)
{
	for (uint32_t i = 0; i < dn_client.nmounts; i++) {
		struct shown s;
		if (!shown_mount(i, &s))
			continue;
		char mp[DN_MOUNT_MAX * 4];
		mangle(dn_client.mounts[i].path, mp, sizeof(mp));
		if (info)
			text_printf(t, "%u %llu %u:%u / %s rw,relatime - %s danaus-%s rw\n",
				    MOUNT_ID_BASE + i, (unsigned long long)s.parent, major(s.dev),
				    minor(s.dev), mp, s.type, dn_client.pool);
		else
			text_printf(t, "danaus-%s %s %s rw,relatime 0 0\n", dn_client.pool, mp, s.type);
	}
}

/*
 * fdinfo of a Danaus fd: its open file's offset and flags (close-on-exec
 * is the placeholder's, as the kernel adds O_CLOEXEC), the mount it is on,
 * its inode; the kernel's would describe the placeholder.
 */
static int fdinfo_text(int fd, struct text *t)
{
	struct dn_ofd *o = dn_fd_ofd(fd, NULL);
	struct stat st;
	if (!o)
		return -ENOENT;
	int fl = fcntl(fd, F_GETFL);
	int fdfl = REAL(fcntl)(fd, F_GETFD);
	int r = dn_op_fstat(fd, &st);
	if (fl < 0 || fdfl < 0 || r < 0)
		return r < 0 ? r : -errno;
	uint32_t m = o->mount;
	struct shown s;
	uint64_t mnt = 0;
	if (m < dn_client.nmounts && shown_mount(m, &s)) {
		mnt = MOUNT_ID_BASE + m;
	} else if (m < dn_client.nmounts) {
		struct statx x;
		if (REAL(statx)(AT_FDCWD, dn_client.mounts[m].path, 0, STATX_MNT_ID, &x) == 0)
			mnt = x.stx_mnt_id;
	}
	text_printf(t, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%llu\nino:\t%llu\n",
		    (long long)atomic_load(&o->offset),
		    (unsigned)fl | ((fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0), (unsigned long long)mnt,
		    (unsigned long long)st.st_ino);
	return 0;
}

/* The text for path, opened by the kernel as kfd, in a memfd; -1 when path is not ours. */
static int proc_text(int kfd, const char *path, int flags)
{
	int fd = -1;
	if (!dn_client.configured || !dn_client.nmounts || path[0] != '/' || path[1] != 'p' ||
	    (flags & O_ACCMODE) != O_RDONLY || (flags & (O_DIRECTORY | O_PATH)))
		return -1;
	enum proc_kind k = kind_of(path, &fd);
	if (k == NOT_OURS)
		return -1;
	struct text t = {0};
	int r = k == FDINFO ? fdinfo_text(fd, &t) : kernel_text(kfd, &t);
	if (r == 0 && k != FDINFO)
		mount_lines(&t, k == MOUNTINFO);
	int mfd = r < 0 || t.failed ? -1 : dn_memfd_create("danaus-proc", MFD_CLOEXEC);
	if (mfd >= 0 && t.len &&
	    (REAL(write)(mfd, t.s, t.len) != (ssize_t)t.len || REAL(lseek)(mfd, 0, SEEK_SET) != 0)) {
		REAL(close)(mfd);
		mfd = -1;
	}
	free(t.s);
	if (mfd < 0)
		return -1;
	/* read-only, as the kernel's file: writes get EBADF */
	char self[32];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
	int ro = REAL(open)(self, O_RDONLY | O_CLOEXEC);
	REAL(close)(mfd);
	return ro;
}

int dn_proc_opened(int kfd, const char *path, int flags)
{
	if (kfd < 0 || path[0] != '/' || path[1] != 'p')
		return kfd;
	int saved = errno;
	int mfd = proc_text(kfd, path, flags);
	if (mfd >= 0) {
		/* in the kernel's fd's place, with its flags (failing: the kernel's file stays) */
		REAL(dup3)(mfd, kfd, (flags & O_CLOEXEC) ? O_CLOEXEC : 0);
		REAL(close)(mfd);
	}
	errno = saved;
	return kfd;
}

FILE *dn_proc_fopened(FILE *kf, const char *path, const char *mode)
{
	if (!kf || path[0] != '/' || path[1] != 'p' || mode[0] != 'r' || strchr(mode, '+'))
		return kf;
	int saved = errno;
	int kfd = fileno(kf);
	int mfd = proc_text(kfd, path, O_RDONLY);
	if (mfd >= 0) {
		/* the stream has read nothing yet: its fd now holds our text */
		int cloexec = REAL(fcntl)(kfd, F_GETFD) & FD_CLOEXEC;
		REAL(dup3)(mfd, kfd, cloexec ? O_CLOEXEC : 0);
		REAL(close)(mfd);
	}
	errno = saved;
	return kf;
}
