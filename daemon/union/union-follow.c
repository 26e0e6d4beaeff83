/* Union Follow: open lower files move to their copy-up, as overlayfs's ovl_real_fdget */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "union-ops.h"

/*
 * A file opened in a lower layer and copied up since (by another open, a
 * truncate, a chmod...) is read, stat'ed and mapped through the copy, as
 * overlayfs reopens its upper file when it sees the copy-up. The copy-up
 * itself opens the copy for each open file of that name and inode, so the
 * file goes on with the copy's inode wherever it is renamed or unlinked to
 * later, and a read costs nothing more than before. Locks stay on the file
 * as opened (union_lock).
 */

/* f onto the copy at backend path real (files_lock held): false if it cannot be opened */
static bool follow_locked(struct union_svc *u, struct dn_file *f, const char *real)
{
	struct dn_file *up = NULL;
	int handover = -1;
	/* with the pool's rights, as overlayfs opens its real files with the mounter's */
	int r = u->below->ops->open(u->below, &u->priv, real, f->oflags, 0, &up, &handover);
	if (r > 0 && handover >= 0)
		close(handover); /* (a regular file is never handed over) */
	if (r != 0)
		return false;
	atomic_store_explicit(&f->below, up, memory_order_release);
	atomic_store_explicit(&f->layer, 0, memory_order_release);
	return true;
}

static void unlist_locked(struct union_svc *u, struct dn_file *f)
{
	if (!f->listed_lower)
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		u->lower_files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->next = f->prev = NULL;
	f->listed_lower = false;
}

void union_files_copied(struct union_svc *u, const char *p, ino_t lower_ino, const char *real)
{
	pthread_mutex_lock(&u->files_lock);
	atomic_fetch_add_explicit(&u->copies, 1, memory_order_release);
	for (struct dn_file *f = u->lower_files, *next; f; f = next) {
		next = f->next;
		/* (one it cannot open, out of descriptors, reads the lower copy on) */
		if (f->ino == lower_ino && strcmp(f->path, p) == 0 && follow_locked(u, f, real))
			unlist_locked(u, f);
	}
	pthread_mutex_unlock(&u->files_lock);
}

/*
 * f's file was copied up between its walk and now (files_lock held): then
 * f follows. The writable layer's own name is asked, not a lookup: the
 * lookup cache may hold what a walk saw during the copy-up until the change
 * that copied ends. The copy is f's if it carries f's number (UN_ORIGIN).
 */
static bool copied_since_locked(struct union_svc *u, struct dn_file *f)
{
	_cleanup_free_ struct un_node *n = malloc(sizeof(*n));
	char real[UN_PATH_MAX];
	if (!n || un_real(u, 0, f->path, real) < 0 ||
	    u->below->ops->stat(u->below, &u->priv, real, true, &n->st) < 0 ||
	    !S_ISREG(n->st.st_mode))
		return false;
	snprintf(n->path, sizeof(n->path), "%s", f->path);
	n->layer = 0;
	un_ident(u, n, 0);
	return n->st.st_ino == f->ino && follow_locked(u, f, real);
}

void union_files_add(struct union_svc *u, struct dn_file *f, uint64_t copies)
{
	pthread_mutex_lock(&u->files_lock);
	if (atomic_load(&u->copies) == copies || !copied_since_locked(u, f)) {
		f->prev = NULL;
		f->next = u->lower_files;
		if (f->next)
			f->next->prev = f;
		u->lower_files = f;
		f->listed_lower = true;
	}
	pthread_mutex_unlock(&u->files_lock);
}

void union_files_remove(struct union_svc *u, struct dn_file *f)
{
	pthread_mutex_lock(&u->files_lock);
	unlist_locked(u, f);
	pthread_mutex_unlock(&u->files_lock);
}
