/* Link Protections: the kernel's fs.protected_* rules, for walks the pool does itself */
#include "protect.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

static int sysctl_int(const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/sys/fs/%s", name);
	FILE *f = fopen(path, "re");
	int v = 0;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

void dn_protect_read(struct dn_protect *p)
{
	p->symlinks = sysctl_int("protected_symlinks");
	p->hardlinks = sysctl_int("protected_hardlinks");
	p->regular = sysctl_int("protected_regular");
	p->fifos = sysctl_int("protected_fifos");
}

int dn_protect_follow(const struct dn_protect *p, mode_t dir_mode, uid_t dir_uid, uid_t link_uid,
		      uid_t fsuid)
{
	if (!p->symlinks || link_uid == fsuid)
		return 0;
	if ((dir_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
		return 0;
	return dir_uid == link_uid ? 0 : -EACCES;
}

int dn_protect_create(const struct dn_protect *p, mode_t dir_mode, uid_t dir_uid, mode_t mode,
		      uid_t uid, uid_t fsuid)
{
	/* as the kernel's: other types than these two are protected whatever the sysctls say */
	if (!(dir_mode & S_ISVTX) || (S_ISREG(mode) && !p->regular) ||
	    (S_ISFIFO(mode) && !p->fifos) || uid == dir_uid || uid == fsuid)
		return 0;
	if ((dir_mode & S_IWOTH) ||
	    ((dir_mode & S_IWGRP) &&
	     ((p->fifos >= 2 && S_ISFIFO(mode)) || (p->regular >= 2 && S_ISREG(mode)))))
		return -EACCES;
	return 0;
}
