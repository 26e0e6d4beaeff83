/* FIFO Stand-ins: kernel FIFOs for a backend whose FIFOs the kernel cannot open */
#include "fifos.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cred.h"

struct dn_fifos {
	pthread_mutex_t lock;
	char dir[256]; /* made on first use: most pools never see a FIFO */
	int dir_fd;
	unsigned count;
};

/*
 * A pool killed by SIGKILL leaves its directory behind. Each is named by its
 * pool's pid namespace and pid (danaus-fifos.NS-PID.XXXXXX), so that a pool
 * starting removes those of pools of its own namespace that are gone. Not
 * one of another namespace (a container sharing the host's /tmp): its pid
 * means nothing here; nor one whose pid lives (maybe another process by
 * now: it waits for the next sweep); nor a link, nor another user's.
 */
#define PREFIX "danaus-fifos."

static unsigned long pid_ns(void)
{
	struct stat st;
	return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static const char *tmp_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp ? tmp : "/tmp";
}

/* The directory name (in tmp) of a gone pool of our namespace, emptied and removed. */
static void sweep_one(int tmp_fd, const char *name, unsigned long ns)
{
	unsigned long its_ns;
	int pid, end = 0;
	if (sscanf(name, PREFIX "%lu-%d.%*6[A-Za-z0-9]%n", &its_ns, &pid, &end) != 2 ||
	    name[end] != 0 || its_ns != ns || pid <= 0 || pid == getpid() ||
	    kill(pid, 0) == 0 || errno != ESRCH)
		return;
	int fd = openat(tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) {
		close(fd);
		return;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	unlinkat(tmp_fd, name, AT_REMOVEDIR);
}

void dn_fifos_sweep(void)
{
	unsigned long ns = pid_ns();
	int tmp_fd = open(tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = tmp_fd < 0 ? NULL : fdopendir(tmp_fd);
	if (!d) {
		if (tmp_fd >= 0)
			close(tmp_fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0)
			sweep_one(dirfd(d), e->d_name, ns);
	closedir(d);
}

struct dn_fifos *dn_fifos_new(void)
{
	dn_fifos_sweep();
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
		/* dir_fd is O_PATH, which readdir cannot read: the directory itself, opened */
		int fd = openat(f->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		if (d)
			closedir(d);
		else if (fd >= 0)
			close(fd);
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
	snprintf(f->dir, sizeof(f->dir), "%s/" PREFIX "%lu-%d.XXXXXX", tmp_dir(), pid_ns(),
		 (int)getpid());
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
