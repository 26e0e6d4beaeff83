/* Chattr from Another User Namespace: the kernel's project-quota rule the pool cannot inherit */
#include "chattr-ns.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/stat.h>

#include "cred.h"
#include "peer.h"
#include "vfs-perm.h"

/*
 * The pool calls the backend from the initial user namespace, where the
 * kernel lets an owner change a file's project id and its project-inherit
 * flag; from any other namespace it refuses both (EINVAL), so that a
 * rootless container cannot move its files out of their project quota.
 */
int dn_chattr_ns_check(struct dn_svc *svc, const struct dn_cred *c, struct dn_file *f,
		       unsigned int req, const void *arg, pid_t pid)
{
	const struct dn_svc_ops *ops = svc->ops;
	struct stat st;
	struct fsxattr old;
	if (pid <= 0 || dn_proc_same_user_ns(pid) || !ops->fstat || !ops->ioctl_get ||
	    ops->fstat(svc, f, &st) < 0 || ops->ioctl_get(svc, f, FS_IOC_FSGETXATTR, &old) < 0)
		return 0;
	/* the kernel's order: the owner, then the immutable and append-only flags (EPERM) */
	if (!dn_vfs_owner_or_capable(c, st.st_uid))
		return 0;
	uint32_t xflags, projid = old.fsx_projid;
	if (req == FS_IOC_SETFLAGS) {
		int flags;
		memcpy(&flags, arg, sizeof(flags));
		xflags = ((flags & FS_APPEND_FL) ? FS_XFLAG_APPEND : 0) |
			 ((flags & FS_IMMUTABLE_FL) ? FS_XFLAG_IMMUTABLE : 0) |
			 ((flags & FS_PROJINHERIT_FL) ? FS_XFLAG_PROJINHERIT : 0);
	} else {
		struct fsxattr x;
		memcpy(&x, arg, sizeof(x));
		xflags = x.fsx_xflags;
		projid = x.fsx_projid;
	}
	if (((xflags ^ old.fsx_xflags) & (FS_XFLAG_APPEND | FS_XFLAG_IMMUTABLE)) &&
	    !dn_cred_capable(c, CAP_LINUX_IMMUTABLE))
		return 0;
	if (projid != old.fsx_projid || ((xflags ^ old.fsx_xflags) & FS_XFLAG_PROJINHERIT))
		return -EINVAL;
	return 0;
}
