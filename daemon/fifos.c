/* FIFO Stand-ins: kernel FIFOs for a backend whose FIFOs the kernel cannot open */
#include "fifos.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cred.h"

struct dn_fifos {
	pthread_mutex_t lock;
	char dir[128]; /* made on first use: most pools never see a FIFO */
	int dir_fd;
	unsigned count;
};

struct dn_fifos *dn_fifos_new(void)
{
	struct dn_fifos *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->dir_fd = -1;
	return f;
}

struct dn_fifos *dn_fifos_free(struct dn_fifos *f)
{
	if (!f)
		return NULL;
	if (f->dir_fd >= 0) {
		DIR *d = fdopendir(f->dir_fd);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		if (d)
			closedir(d);
		else
			close(f->dir_fd);
		rmdir(f->dir);
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
	return NULL;
}

/* The private directory: $TMPDIR (the unit's PrivateTmp=) or /tmp, 0700, the pool's. */
static int dir_open(struct dn_fifos *f)
{
	if (f->dir_fd >= 0)
		return 0;
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/danaus-fifos.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -errno;
	f->dir_fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return f->dir_fd < 0 ? -errno : 0;
}

static int get_locked(struct dn_fifos *f, uint64_t id, uid_t uid, gid_t gid, mode_t mode)
{
	int r = dir_open(f);
	if (r < 0)
		return r;
	char name[32];
	snprintf(name, sizeof(name), "%llx", (unsigned long long)id);
	_cleanup_close_ int fd = openat(f->dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		if (f->count >= DN_FIFOS_MAX)
			return -ENFILE;
		if (mkfifoat(f->dir_fd, name, 0600) < 0)
			return -errno;
		f->count++;
		fd = openat(f->dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	/* The kernel checks the opener against these: they must be the FIFO's own. */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 || chmod(proc, mode & 07777) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int dn_fifos_get(struct dn_fifos *f, uint64_t id, uid_t uid, gid_t gid, mode_t mode)
{
	int r = dn_cred_reset();
	if (r < 0)
		return r;
	pthread_mutex_lock(&f->lock);
	r = get_locked(f, id, uid, gid, mode);
	pthread_mutex_unlock(&f->lock);
	return r;
}
