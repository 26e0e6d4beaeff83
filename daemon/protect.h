/* Link Protections: the kernel's fs.protected_* rules, for walks the pool does itself */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* fs.protected_symlinks, _hardlinks, _regular and _fifos as this host sets them (0 when unreadable). */
struct dn_protect {
	int symlinks, hardlinks, regular, fifos;
};

void dn_protect_read(struct dn_protect *p);

/*
 * The kernel's may_follow_link: a symlink in a sticky, world-writable
 * directory is followed only by its owner, or when the directory's owner
 * owns it too -- root included. 0 or -EACCES.
 */
int dn_protect_follow(const struct dn_protect *p, mode_t dir_mode, uid_t dir_uid, uid_t link_uid,
		      uid_t fsuid);

/*
 * The kernel's may_create_in_sticky: open(O_CREAT) of an existing file
 * (a regular file or FIFO as the sysctls say) in a sticky directory that
 * neither the caller nor the directory's owner owns. 0 or -EACCES.
 */
int dn_protect_create(const struct dn_protect *p, mode_t dir_mode, uid_t dir_uid, mode_t mode,
		      uid_t uid, uid_t fsuid);
