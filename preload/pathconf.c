/* File Limits: pathconf(3) and fpathconf(3) of a file in a mount */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "export.h"
#include "fdtable.h"
#include "real.h"
#include "route.h"

/*
 * glibc answers the file-dependent names from statfs, statvfs and stat of
 * the file, which it calls internally: on a pool path they met the empty
 * host directory behind the mountpoint (ENOENT), on a Danaus fd the
 * placeholder's filesystem. Here the same answers come from the file
 * through the library's own statfs, statvfs and stat: the backing
 * filesystem's type (a local pool's host filesystem, CephFS for a Ceph
 * pool), as glibc 2.36 maps it. Names that do not depend on the file are
 * glibc's own constants.
 */

/* Filesystem magics glibc's table knows (its linux_fsinfo.h): not all are in <linux/magic.h>. */
#define FS_ADFS 0xadf5U
#define FS_BFS 0x1badfaceU
#define FS_BTRFS 0x9123683eU
#define FS_CGROUP 0x27e0ebU
#define FS_COH 0x012ff7b7U
#define FS_CRAMFS 0x28cd3d45U
#define FS_DEVPTS 0x1cd1U
#define FS_EFS 0x414a53U
#define FS_EFS_OLD 0x072959U
#define FS_EXT2 0xef53U
#define FS_F2FS 0xf2f52010U
#define FS_JFFS 0x07c0U
#define FS_JFFS2 0x72b6U
#define FS_JFS 0x3153464aU
#define FS_LUSTRE 0x0bd00bd0U
#define FS_MINIX 0x137fU
#define FS_MINIX_B 0x138fU
#define FS_MINIX2 0x2468U
#define FS_MINIX2_B 0x2478U
#define FS_MSDOS 0x4d44U
#define FS_NCP 0x564cU
#define FS_NTFS 0x5346544eU
#define FS_QNX4 0x002fU
#define FS_REISERFS 0x52654973U
#define FS_ROMFS 0x7275U
#define FS_SMB 0x517bU
#define FS_SYSV2 0x012ff7b6U
#define FS_SYSV4 0x012ff7b5U
#define FS_UDF 0x15013346U
#define FS_UFS 0x00011954U
#define FS_UFS_SWAPPED 0x54190100U
#define FS_VXFS 0xa501fcf5U
#define FS_XENIX 0x012ff7b4U
#define FS_XFS 0x58465342U

/* The file asked about: a path (fd -1) or a Danaus fd (path NULL). */
struct file_ref {
	const char *path;
	int fd;
};

static int file_statfs(const struct file_ref *f, struct statfs *sf)
{
	return f->path ? statfs(f->path, sf) : fstatfs(f->fd, sf);
}

static int file_statvfs(const struct file_ref *f, struct statvfs *sv)
{
	return f->path ? statvfs(f->path, sv) : fstatvfs(f->fd, sv);
}

static int file_stat(const struct file_ref *f, struct stat *st)
{
	return f->path ? stat(f->path, st) : fstat(f->fd, st);
}

/* ext2/3 and ext4 share a magic: glibc tells them apart by /sys/fs/ext4 knowing the device. */
static long ext_link_max(const struct file_ref *f)
{
	struct stat st;
	if (file_stat(f, &st) != 0)
		return 32000;
	char sys[64], dev[PATH_MAX], ext4[PATH_MAX + 16];
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
	int saved = errno; /* a probe: the caller's errno stays as it was */
	ssize_t n = readlink(sys, dev, sizeof(dev));
	errno = saved;
	/*
	 * Not a block device: a union's own st_dev (one per instance, as
	 * overlayfs's) over an ext filesystem. The ext4 driver serves ext2 and
	 * ext3 too on current kernels, so ext4's figure is glibc's answer for
	 * nearly every such filesystem.
	 */
	if (n < 0 || (size_t)n >= sizeof(dev))
		return 65000;
	dev[n] = 0;
	const char *base = strrchr(dev, '/');
	snprintf(ext4, sizeof(ext4), "/sys/fs/ext4/%s", base ? base + 1 : dev);
	bool is_ext4 = access(ext4, F_OK) == 0;
	errno = saved;
	return is_ext4 ? 65000 : 32000;
}

static long link_max(const struct file_ref *f)
{
	struct statfs sf;
	if (file_statfs(f, &sf) != 0)
		return -1;
	switch (sf.f_type) {
	case FS_EXT2: return ext_link_max(f);
	case FS_F2FS: return 32000;
	case FS_MINIX: case FS_MINIX_B: return 250;
	case FS_MINIX2: case FS_MINIX2_B: return 65530;
	case FS_XENIX: case FS_SYSV4: case FS_SYSV2: return 126;
	case FS_COH: return 10000;
	case FS_UFS: case FS_UFS_SWAPPED: return 32000;
	case FS_REISERFS: return 64535;
	case FS_XFS: return 2147483647;
	case FS_LUSTRE: return 65000;
	default: return 127;
	}
}

static long filesize_bits(const struct file_ref *f)
{
	struct statfs sf;
	if (file_statfs(f, &sf) != 0)
		return -1;
	switch (sf.f_type) {
	case FS_F2FS: return 256;
	case FS_BTRFS: return 255;
	case FS_EXT2: case FS_UFS: case FS_UFS_SWAPPED: case FS_REISERFS: case FS_XFS:
	case FS_SMB: case FS_NTFS: case FS_UDF: case FS_JFS: case FS_VXFS: case FS_CGROUP:
	case FS_LUSTRE:
		return 64;
	default: return 32;
	}
}

static long has_symlinks(const struct file_ref *f)
{
	struct statfs sf;
	if (file_statfs(f, &sf) != 0)
		return -1;
	switch (sf.f_type) {
	case FS_ADFS: case FS_BFS: case FS_CRAMFS: case FS_DEVPTS: case FS_EFS: case FS_EFS_OLD:
	case FS_MSDOS: case FS_NTFS: case FS_QNX4: case FS_ROMFS:
		return 0;
	default: return 1;
	}
}

/* The answer for a name that depends on the file; -2 for the others. */
static long file_limit(const struct file_ref *f, int name)
{
	struct statfs sf;
	struct statvfs sv;
	struct stat st;
	switch (name) {
	case _PC_LINK_MAX: return link_max(f);
	case _PC_FILESIZEBITS: return filesize_bits(f);
	case _PC_2_SYMLINKS: return has_symlinks(f);
	case _PC_CHOWN_RESTRICTED: return file_statfs(f, &sf) == 0 ? 1 : -1;
	case _PC_NAME_MAX:
		if (file_statvfs(f, &sv) == 0)
			return (long)sv.f_namemax;
		if (!f->path && errno == ENODEV)
			errno = EINVAL; /* as glibc's fpathconf */
		return -1;
	case _PC_REC_MIN_XFER_SIZE: return file_statvfs(f, &sv) == 0 ? (long)sv.f_bsize : -1;
	case _PC_REC_XFER_ALIGN:
	case _PC_ALLOC_SIZE_MIN: return file_statvfs(f, &sv) == 0 ? (long)sv.f_frsize : -1;
	case _PC_ASYNC_IO: /* AIO takes regular files and block devices */
		return file_stat(f, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) ? 1
											      : -1;
	}
	return -2;
}

DN_EXPORT long pathconf(const char *path, int name)
{
	struct dn_target t;
	if (dn_route(AT_FDCWD, path, &t) == 0)
		return REAL(pathconf)(path, name);
	long r = file_limit(&(struct file_ref){path, -1}, name);
	/* glibc's constant for any path (and EINVAL for an unknown name) */
	return r == -2 ? REAL(pathconf)("/", name) : r;
}

DN_EXPORT long fpathconf(int fd, int name)
{
	if (dn_fdmap_get(fd) < 0)
		return REAL(fpathconf)(fd, name);
	long r = file_limit(&(struct file_ref){NULL, fd}, name);
	return r == -2 ? REAL(fpathconf)(fd, name) : r;
}
