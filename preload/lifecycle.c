/* Process Lifecycle: start-up, fork, exec and exit of a preloaded process */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cdi-guard.h"
#include "cleanup.h"
#include "memfd.h"
#include "client.h"
#include "dn-paths.h"
#include "export.h"
#include "mmap.h"
#include "mounts.h"
#include "ops.h"
#include "path.h"
#include "pos-lock.h"
#include "preload-keep.h"
#include "route.h"
#include "real.h"
#include "reopen.h"
#include "rlimits.h"
#include "stdio-std.h"

/* Is fd one of our placeholders? (O_PATH on /dev/null, as dn_placeholder_new makes them) */
static bool is_placeholder(int fd)
{
	int fl = REAL(fcntl)(fd, F_GETFL);
	struct stat st;
	return fl >= 0 && (fl & O_PATH) && REAL(fstat)(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	       st.st_rdev == makedev(1, 3);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= DN_NAME_MAX || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* Takes over the session and fds a pre-exec image of this process left in the environment. */
static void adopt_inherited(void)
{
	/* "sock,shm,state,bell,bell...": see dn_exec */
	const char *sess = getenv(DN_ENV_SESSION);
	int own[3 + DN_MAX_QUEUES], nown = 0, len;
	for (const char *p = sess;
	     p && nown < (int)DN_ARRAY_SIZE(own) && sscanf(p, "%d%n", &own[nown], &len) == 1; nown++)
		p += len + (p[len] == ',');
	if (nown < 4)
		return;
	for (int i = 0; i < nown; i++)
		if (REAL(fcntl)(own[i], F_GETFD) < 0)
			return;
	if (dn_chan_adopt(&dn_client.chan, own[0], own[1], own[2], own + 3, (uint32_t)(nown - 3)) < 0) {
		dn_chan_close(&dn_client.chan);
		return;
	}
	/* The identity the pool gives the session, compared with ours once the files are in. */
	struct dn_client *cl = &dn_client;
	cl->ident = (struct dn_ident){.euid = cl->chan.uid, .egid = cl->chan.gid,
				      .ngroups = (int)cl->chan.ngroups, .caps = cl->chan.caps};
	memcpy(cl->ident.groups, cl->chan.groups, cl->chan.ngroups * sizeof(gid_t));
	for (int i = 0; i < nown; i++)
		REAL(fcntl)(own[i], F_SETFD, FD_CLOEXEC);
	/* record locks outlive exec: the image before may have taken some here */
	atomic_store(&dn_client.session_locks, true);
	atomic_store(&dn_client.attached, 1);
	dn_client.placeholder = -1;
	if (dn_attach_finish() < 0)
		return;

	uint32_t n = dn_client.chan.l.nofds;
	struct dn_ofd *t = dn_ofds();
	const char *s = getenv(DN_ENV_FDS);
	while (s && *s) {
		int fd, ofd, used;
		if (sscanf(s, "%d:%d%n", &fd, &ofd, &used) != 2)
			break;
		s += used + (s[used] == ',');
		if (ofd >= 0 && (uint32_t)ofd < n && is_placeholder(fd))
			dn_fdmap_set(fd, ofd);
		else if (ofd >= 0 && (uint32_t)ofd < n && dn_ofd_unref(t, n, ofd))
			dn_handle_close(t[ofd].handle);
	}
	/*
	 * Not in a set-id image: whoever ran it wrote its environment, and
	 * after a restart the image would reopen what that names with rights
	 * of its own. Its inherited files then answer ESTALE after a restart.
	 */
	if (!getauxval(AT_SECURE))
		dn_reopen_env_take(getenv(DN_ENV_REOPEN));
	s = getenv(DN_ENV_DROP);
	while (s && *s) {
		int ofd, used;
		if (sscanf(s, "%d%n", &ofd, &used) != 1)
			break;
		s += used + (s[used] == ',');
		if (ofd >= 0 && (uint32_t)ofd < n) {
			uint64_t h = t[ofd].handle;
			if (dn_ofd_unref(t, n, ofd))
				dn_handle_close(h);
		}
	}
	for (int fd = 0; fd < 3; fd++)
		dn_std_stream_update(fd);
	/* "MOUNT:PATH": the mount's index, then the pool path */
	const char *cwd = getenv(DN_ENV_CWD);
	unsigned mount;
	int at = 0;
	if (cwd && sscanf(cwd, "%u:%n", &mount, &at) == 1 && at > 0 && cwd[at] == '/' &&
	    mount < dn_client.nmounts) {
		snprintf(dn_client.cwd, sizeof(dn_client.cwd), "%s", cwd + at);
		dn_client.cwd_mount = mount;
		atomic_store(&dn_client.cwd_in_mount, true);
	}
	/*
	 * An image that is not who the session acts as (a setuid program, a
	 * drop by a raw system call before exec) attaches as itself, taking
	 * the inherited files along.
	 */
	dn_identity_changed();
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&dn_client.lock);
	dn_pos_forking();
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&dn_client.lock);
}

static void ref_inherited(int fd, int32_t ofd, void *arg)
{
	(void)fd;
	(void)arg;
	dn_ofd_ref(dn_ofds(), dn_client.chan.l.nofds, ofd);
}

static void fork_child(void)
{
	/* The child holds every fd the parent held: one more reference each. */
	if (atomic_load(&dn_client.attached))
		dn_fdmap_each(ref_inherited, NULL);
	dn_thread_forget_buffer();
	dn_calls_forget_others();
	dn_placeholder_refresh(); /* the child's credentials are its own */
	pthread_mutex_unlock(&dn_client.lock);
}

__attribute__((constructor)) static void dn_init(void)
{
	dn_real_init();
	dn_preload_keep_init();
	mode_t m = REAL(umask)(022);
	REAL(umask)(m);
	atomic_store(&dn_client.umask, m);
	dn_limits_refresh();
	const char *pool = getenv("DANAUS_POOL");
	if (!pool || !valid_name(pool))
		return;
	snprintf(dn_client.pool, sizeof(dn_client.pool), "%s", pool);
	const char *sock = getenv("DANAUS_SOCKET");
	if (sock && *sock)
		snprintf(dn_client.socket_path, sizeof(dn_client.socket_path), "%s", sock);
	else
		snprintf(dn_client.socket_path, sizeof(dn_client.socket_path), "%s/%s.sock",
			 DN_RUNDIR, pool);
	/* a container of the pool (danaus-run --container): every attach asks for it */
	const char *ctr = getenv("DANAUS_CONTAINER"), *rm = getenv("DANAUS_CONTAINER_RM");
	if (dn_chan_set_container(ctr, getenv("DANAUS_IMAGE"), rm && strcmp(rm, "1") == 0) < 0)
		return; /* a name no pool takes: not served, as an unknown pool */
	const char *mnt = getenv("DANAUS_MOUNTPOINT");
	char want[DN_MOUNT_MAX];
	if (mnt && *mnt)
		snprintf(want, sizeof(want), "%s", mnt);
	else
		snprintf(want, sizeof(want), "/danaus/%s", pool);
	/* several pools' CDI devices: their mountpoints, each answering the refusal */
	unsigned n = dn_cdi_guard_check() ? dn_client.nmounts
					  : dn_mounts_init(want, getenv("DANAUS_MOUNTS"));
	if (n == 0)
		return; /* not absolute, or "/": refuse to take over the whole tree */
	dn_client.configured = true;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	dn_host_cwd_changed();
	adopt_inherited();
	/* Children we do not exec ourselves (posix_spawn) must not see stale values. */
	unsetenv(DN_ENV_SESSION);
	unsetenv(DN_ENV_FDS);
	unsetenv(DN_ENV_DROP);
	unsetenv(DN_ENV_CWD);
	unsetenv(DN_ENV_REOPEN);
}

static void release_fd(int fd, int32_t ofd, void *arg)
{
	(void)arg;
	dn_op_drop_posix_locks(fd);
	struct dn_ofd *t = dn_ofds();
	uint64_t h = t[ofd].handle;
	dn_fdmap_set(fd, -1);
	if (dn_ofd_unref(t, dn_client.chan.l.nofds, ofd))
		dn_handle_close(h);
}

/* The process ends: its fds stop holding their files. */
static void release_all(void)
{
	if (!atomic_load(&dn_client.attached))
		return;
	dn_fdmap_each(release_fd, NULL);
	dn_thread_release_buffer();
}

__attribute__((destructor)) static void dn_fini(void)
{
	if (!atomic_load(&dn_client.attached))
		return;
	/* Destructors run before stdio's last flush: flush our streams while they work. */
	fflush(NULL);
	release_all();
}

DN_EXPORT void _exit(int status)
{
	dn_mmap_release_all(); /* shared maps are written back, as the kernel would */
	release_all();
	REAL(_exit)(status);
	for (;;)
		;
}
DN_ALIAS(_exit, _Exit);

/* vfork's child shares our memory; fork keeps the descriptor table honest. */
DN_EXPORT pid_t vfork(void)
{
	return REAL(fork)();
}

DN_EXPORT mode_t umask(mode_t mask)
{
	mode_t old = REAL(umask)(mask);
	atomic_store(&dn_client.umask, mask & 0777);
	return old;
}

/* Room for reopen records in an exec's environment: beyond, ESTALE after a restart. */
#define REOPEN_ENV_MAX (64u << 10)
/* The most an exec's new environment takes of the caller's stack (dn_exec). */
#define EXEC_ENV_STACK_MAX (8u << 10)

struct exec_env {
	char *fds, *drop;
	size_t fds_len, drop_len, cap;
	char *reopen; /* NULL: sizing it (reopen_len) */
	size_t reopen_len, reopen_cap;
};

static bool survives_exec(int fd)
{
	int fl = REAL(fcntl)(fd, F_GETFD);
	return fl >= 0 && !(fl & FD_CLOEXEC);
}

/* What a new image needs to reopen its inherited files after a pool restart (reopen.h). */
static void describe_reopen(int fd, int32_t ofd, void *arg)
{
	struct exec_env *e = arg;
	if (!survives_exec(fd))
		return;
	if (!e->reopen) {
		e->reopen_len += dn_reopen_env_size(ofd);
		return;
	}
	e->reopen_len += dn_reopen_env_put(ofd, e->reopen + e->reopen_len,
					   e->reopen_cap - e->reopen_len);
}

static void describe_fd(int fd, int32_t ofd, void *arg)
{
	struct exec_env *e = arg;
	bool survives = survives_exec(fd);
	char *dst = survives ? e->fds : e->drop;
	size_t *len = survives ? &e->fds_len : &e->drop_len;
	int w = survives ? snprintf(dst + *len, e->cap - *len, "%s%d:%d", *len ? "," : "", fd, ofd)
			 : snprintf(dst + *len, e->cap - *len, "%s%d", *len ? "," : "", ofd);
	if (w > 0 && (size_t)w < e->cap - *len)
		*len += (size_t)w;
}

static size_t count_fds(void)
{
	size_t n = 0;
	for (unsigned k = 0; k < DN_FDMAP_CHUNKS; k++) {
		int32_t *c = atomic_load(&dn_fdmap_chunks[k]);
		if (c)
			for (unsigned i = 0; i < DN_FDMAP_CHUNK; i++)
				n += c[i] > 0;
	}
	return n;
}

static bool is_ours(const char *var)
{
	static const char *const names[] = {DN_ENV_SESSION "=", DN_ENV_FDS "=", DN_ENV_DROP "=",
					    DN_ENV_CWD "=", DN_ENV_REOPEN "=", DN_ENV_PRELOAD "="};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(var, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/*
 * exec keeps the session: its descriptors stay open across exec and the
 * environment tells the new image which fds are Danaus files. Nothing
 * comes from malloc: a vfork child may be the one calling.
 */
/*
 * The kernel cannot execute a file it cannot see: a program stored in a pool
 * is copied into a memfd and run from there. Returns that fd, -1 when file is
 * not in a Danaus mount (a PATH search with no pool directory in it: the
 * host's; exec_search otherwise), or -errno. A
 * pool symlink to an absolute path (a venv's bin/python3) leads where the
 * kernel's would (ops.h, DN_OP_REDIRECTED): to a host program, whose path
 * then goes to host (else "").
 */
#define EXEC_COPY_BUF (64u << 10)

/*
 * dn_route of a program's path; a host path the kernel cannot find may be a
 * host symlink into a mount (dn_route_after): one stat more for an exec.
 */
static int route_exec(const char *file, struct dn_target *t)
{
	int r = dn_route(AT_FDCWD, file, t);
	struct stat st;
	if (r == 0 && dn_client.configured && REAL(fstatat)(AT_FDCWD, file, &st, 0) < 0 &&
	    dn_route_after(AT_FDCWD, file, t))
		r = 1;
	return r;
}

static int exec_image(const char *file, bool search, char host[PATH_MAX])
{
	struct dn_target t;
	char next[PATH_MAX];
	struct stat st;
	host[0] = 0;
	if (search && !strchr(file, '/'))
		return -1;
	for (int hops = 0;; hops++) {
		int r = route_exec(file, &t);
		if (r == 0 && hops > 0)
			snprintf(host, PATH_MAX, "%s", file);
		if (r <= 0)
			return r == 0 ? -1 : r;
		t.redirect = true;
		r = dn_op_stat(&t, false, &st);
		if (r == -DN_OP_REDIRECTED && dn_op_redirect_follow(&file, next, hops))
			continue;
		if (r < 0)
			return r == -DN_OP_REDIRECTED ? -ELOOP : r;
		break;
	}
	t.redirect = false;
	int r;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if ((r = dn_op_path(DN_OP_ACCESS, &t, X_OK, DN_AT_EACCESS, 0)) < 0)
		return r;
	int fd = dn_op_open(&t, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	/*
	 * 64 KiB at a time through a mapping of its own: not on the stack (a
	 * thread's may be small), nor malloc's (a vfork child may be calling).
	 */
	char *buf = REAL(mmap)(NULL, EXEC_COPY_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		dn_op_close(fd);
		return -ENOMEM;
	}
	ssize_t n = dn_op_read(fd, buf, EXEC_COPY_BUF, -1);
	if (n >= 2 && buf[0] == '#' && buf[1] == '!') {
		REAL(munmap)(buf, EXEC_COPY_BUF);
		dn_op_close(fd);
		return -ENOEXEC; /* the caller runs the interpreter itself */
	}
	int mfd = dn_memfd_create("danaus-exec", MFD_CLOEXEC);
	if (mfd < 0)
		r = -errno;
	for (; mfd >= 0 && n > 0; n = dn_op_read(fd, buf, EXEC_COPY_BUF, -1)) {
		if (write(mfd, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	}
	if (n < 0)
		r = (int)n;
	REAL(munmap)(buf, EXEC_COPY_BUF);
	dn_op_close(fd);
	if (r < 0) {
		if (mfd >= 0)
			REAL(close)(mfd);
		return r;
	}
	return mfd;
}

/*
 * A script in a pool: run its interpreter as the kernel would ("#!interp
 * [arg]" + the script's path + its arguments), so the interpreter opens the
 * script by its own path, through this library.
 */
static int exec_script(const char *file, char *const argv[], char *const envp[])
{
	struct dn_target t;
	if (route_exec(file, &t) != 1)
		return -ENOEXEC;
	int fd = dn_op_open(&t, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	char line[256];
	ssize_t n = dn_op_read(fd, line, sizeof(line) - 1, -1);
	dn_op_close(fd);
	if (n < 2)
		return -ENOEXEC;
	line[n] = 0;
	char *end = strchr(line, '\n');
	if (!end && n == (ssize_t)sizeof(line) - 1)
		return -ENOEXEC; /* the kernel's limit on an interpreter line, roughly */
	if (end)
		*end = 0;
	char *interp = line + 2;
	while (*interp == ' ' || *interp == '\t')
		interp++;
	char *arg = interp + strcspn(interp, " \t");
	if (*arg) {
		*arg++ = 0;
		while (*arg == ' ' || *arg == '\t')
			arg++;
		/* like Linux: everything after the interpreter is one argument */
		for (char *e = arg + strlen(arg); e > arg && (e[-1] == ' ' || e[-1] == '\t');)
			*--e = 0;
	}
	if (!*interp)
		return -ENOEXEC;
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char *nargv[argc + 4];
	size_t k = 0;
	nargv[k++] = interp;
	if (*arg)
		nargv[k++] = arg;
	nargv[k++] = (char *)file;
	for (size_t i = 1; i <= argc; i++)
		nargv[k++] = argv[i];
	dn_exec(interp, nargv, envp, false);
	return -errno;
}

/* The session's descriptors stay open across exec (arg 0) or not (FD_CLOEXEC). */
static void set_cloexec(int *fd, void *arg)
{
	REAL(fcntl)(*fd, F_SETFD, *(int *)arg);
}

/* $PATH's directories one by one, as execvp(3) walks them ("" is "."). */
static const char *path_next(const char *at, char *dir, size_t len)
{
	const char *end = strchrnul(at, ':');
	size_t n = (size_t)(end - at);
	if (n == 0)
		n = 1, at = ".";
	if (n >= len)
		n = len - 1; /* too long to name anything: the exec says so */
	memcpy(dir, at, n);
	dir[n] = 0;
	return *end ? end + 1 : NULL;
}

/* Does the search path hold a directory in the mount? Then we search it, glibc cannot. */
static bool path_enters_mount(const char *path)
{
	char dir[PATH_MAX];
	struct dn_target t;
	for (const char *at = path; at;) {
		at = path_next(at, dir, sizeof(dir));
		if (dn_route(AT_FDCWD, dir, &t) == 1)
			return true;
	}
	return false;
}

/*
 * execvp(3)'s search of $PATH (default "/bin:/usr/bin"), each candidate
 * executed as execve would (ours: a pool program, or the kernel's): the
 * first that runs wins; ENOENT, ENOTDIR and EACCES go on to the next, the
 * search answering EACCES if any candidate did, else ENOENT.
 */
static int exec_search(const char *file, const char *path, char *const argv[],
		       char *const envp[])
{
	bool denied = false;
	char dir[PATH_MAX], full[PATH_MAX];
	for (const char *at = path; at;) {
		at = path_next(at, dir, sizeof(dir));
		if (snprintf(full, sizeof(full), "%s/%s", dir, file) >= (int)sizeof(full))
			continue;
		dn_exec(full, argv, envp, false);
		if (errno == EACCES)
			denied = true;
		else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
			 errno != ETIMEDOUT)
			return -1;
	}
	errno = denied ? EACCES : ENOENT;
	return -1;
}

/*
 * Does a directory of the search path lead into a mount through a host
 * symlink (/tmp/l/bin, /tmp/l -> /danaus/p)? Asked only after glibc's
 * search failed: the kernel met the placeholder there.
 */
static bool path_links_into_mount(const char *path)
{
	char dir[PATH_MAX];
	struct dn_target t;
	int saved = errno;
	bool in = false;
	for (const char *at = path; at && !in;) {
		at = path_next(at, dir, sizeof(dir));
		errno = ENOENT;
		in = dir[0] == '/' && dn_route_host_link(AT_FDCWD, dir, &t) == 1;
	}
	errno = saved;
	return in;
}

static int exec_once(const char *file, char *const argv[], char *const envp[], bool search);

int dn_exec(const char *file, char *const argv[], char *const envp[], bool search)
{
	int r = exec_once(file, argv, envp, search);
	if (search && (errno == ENOENT || errno == EACCES) && file[0] && !strchr(file, '/')) {
		const char *path = getenv("PATH");
		if (!path)
			path = "/bin:/usr/bin";
		if (!path_enters_mount(path) && path_links_into_mount(path))
			return exec_search(file, path, argv, envp);
	}
	return r;
}

/*
 * exec without a session, the library kept in LD_PRELOAD (preload-keep.h):
 * the environment built as dn_exec's, without malloc
 */
static int exec_kept(int image, const char *file, char *const argv[], char *const envp[],
		     bool search, size_t keep)
{
	size_t n = 0;
	while (envp[n])
		n++;
	size_t need = (n + 3) * sizeof(char *) + keep;
	bool mapped = need > EXEC_ENV_STACK_MAX;
	char *stack_area[mapped ? 1 : (need + sizeof(char *) - 1) / sizeof(char *)];
	char **env = mapped ? REAL(mmap)(NULL, need, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			    : stack_area;
	if (env == MAP_FAILED) {
		if (image >= 0)
			REAL(close)(image);
		errno = ENOMEM;
		return -1;
	}
	char *kept[2];
	dn_preload_keep_put(envp, (char *)(env + n + 3), kept);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_ours(envp[i]) && !dn_preload_keep_replaces(envp[i]))
			env[k++] = envp[i];
	env[k++] = kept[0];
	env[k++] = kept[1];
	env[k] = NULL;
	int r = image >= 0 ? fexecve(image, argv, env)
			   : search ? REAL(execvpe)(file, argv, env) : REAL(execve)(file, argv, env);
	int err = errno;
	if (image >= 0)
		REAL(close)(image);
	if (mapped)
		REAL(munmap)(env, need);
	errno = err;
	return r;
}

static int exec_once(const char *file, char *const argv[], char *const envp[], bool search)
{
	if (search && file[0] && !strchr(file, '/')) {
		const char *path = getenv("PATH");
		if (!path)
			path = "/bin:/usr/bin";
		if (path_enters_mount(path))
			return exec_search(file, path, argv, envp);
	}
	char host[PATH_MAX];
	int image = exec_image(file, search, host);
	const char *script = file;
	if (host[0]) {
		file = host; /* a pool symlink to a host program: the kernel runs that */
		search = false;
	}
	if (image == -ENOEXEC) {
		errno = -exec_script(script, argv, envp);
		return -1;
	}
	if (image < -1) {
		errno = -image;
		return -1;
	}
	/*
	 * The service acts as the session's identity: a process that changed
	 * its own where the library could not see it (a raw system call) must
	 * not hand the old one to what it runs. It attaches as itself first;
	 * failing that, its program starts without the session (and its files).
	 */
	dn_identity_changed();
	size_t keep = dn_preload_keep_size(envp);
	if (!atomic_load(&dn_client.attached)) {
		if (keep)
			return exec_kept(image, file, argv, envp, search, keep);
		if (image >= 0)
			return fexecve(image, argv, envp);
		return search ? REAL(execvpe)(file, argv, envp) : REAL(execve)(file, argv, envp);
	}
	struct dn_chan *ch = &dn_client.chan;
	/* The new image has no maps: what the old one wrote to shared ones reaches the file. */
	dn_mmap_release_all();
	/* Held until the exec: no other thread may change the fds the new image is told of. */
	pthread_mutex_lock(&dn_client.lock);
	size_t nfd = count_fds();
	size_t cap = 32 + nfd * 24;
	char sess[32 + 12 * (3 + DN_MAX_QUEUES)];
	char cwd[PATH_MAX + sizeof(DN_ENV_CWD) + 16]; /* "=MOUNT:PATH" */
	/* sized first: the reopen records (a shared entry once per fd is fine: the new image takes the last) */
	struct exec_env e = {.reopen = NULL};
	dn_fdmap_each(describe_reopen, &e);
	size_t rcap = sizeof(DN_ENV_REOPEN) + (e.reopen_len < REOPEN_ENV_MAX ? e.reopen_len
									    : REOPEN_ENV_MAX) + 1;
	size_t n = 0;
	while (envp && envp[n])
		n++;
	/*
	 * The new environment and its fd lists grow with the fds and the
	 * caller's environment: on the stack while small, else in a mapping
	 * (a thread's stack may be small). Not malloc's: a vfork child may
	 * be calling; one made with CLONE_VM leaves the mapping to its parent.
	 */
	size_t need = (n + 8) * sizeof(char *) + 2 * cap + rcap + keep;
	bool mapped = need > EXEC_ENV_STACK_MAX;
	char *stack_area[mapped ? 1 : (need + sizeof(char *) - 1) / sizeof(char *)];
	char **env = mapped ? REAL(mmap)(NULL, need, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
			    : stack_area;
	if (env == MAP_FAILED) {
		if (image >= 0)
			REAL(close)(image);
		pthread_mutex_unlock(&dn_client.lock);
		errno = ENOMEM;
		return -1;
	}
	char *fds = (char *)(env + n + 8), *drop = fds + cap, *reopen = drop + cap;
	char *kept[2] = {NULL, NULL};
	if (keep)
		dn_preload_keep_put(envp, reopen + rcap, kept);
	memcpy(fds, DN_ENV_FDS "=", sizeof(DN_ENV_FDS));
	memcpy(drop, DN_ENV_DROP "=", sizeof(DN_ENV_DROP));
	e = (struct exec_env){.fds = fds + sizeof(DN_ENV_FDS), .drop = drop + sizeof(DN_ENV_DROP),
			      .cap = cap - sizeof(DN_ENV_FDS)};
	e.fds[0] = e.drop[0] = 0;
	dn_fdmap_each(describe_fd, &e);
	memcpy(reopen, DN_ENV_REOPEN "=", sizeof(DN_ENV_REOPEN));
	e.reopen = reopen + sizeof(DN_ENV_REOPEN);
	e.reopen_cap = rcap - sizeof(DN_ENV_REOPEN);
	e.reopen_len = 0;
	e.reopen[0] = 0;
	dn_fdmap_each(describe_reopen, &e);
	e.reopen[e.reopen_len] = 0; /* an entry that did not fit may have left a piece */
	int at = snprintf(sess, sizeof(sess), DN_ENV_SESSION "=%d,%d,%d", ch->sock, ch->shm_fd,
			  ch->state_fd);
	for (uint32_t i = 0; i < ch->nbells && at > 0 && (size_t)at < sizeof(sess); i++)
		at += snprintf(sess + at, sizeof(sess) - (size_t)at, ",%d", ch->bells[i]);
	bool in_mount = atomic_load(&dn_client.cwd_in_mount);
	if (in_mount)
		snprintf(cwd, sizeof(cwd), DN_ENV_CWD "=%u:%s", dn_client.cwd_mount, dn_client.cwd);

	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_ours(envp[i]) && !(keep && dn_preload_keep_replaces(envp[i])))
			env[k++] = envp[i];
	if (keep) {
		env[k++] = kept[0];
		env[k++] = kept[1];
	}
	env[k++] = sess;
	env[k++] = fds;
	env[k++] = drop;
	if (in_mount)
		env[k++] = cwd;
	if (e.reopen_len)
		env[k++] = reopen;
	env[k] = NULL;
	dn_chan_each_fd(ch, set_cloexec, &(int){0});
	dn_std_stream_flush(1);
	dn_std_stream_flush(2);
	int r = image >= 0 ? fexecve(image, argv, env)
			   : search ? REAL(execvpe)(file, argv, env) : REAL(execve)(file, argv, env);
	int err = errno;
	if (image >= 0)
		REAL(close)(image);
	dn_chan_each_fd(ch, set_cloexec, &(int){FD_CLOEXEC});
	if (mapped)
		REAL(munmap)(env, need);
	pthread_mutex_unlock(&dn_client.lock);
	errno = err;
	return r;
}

extern char **environ;

DN_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return dn_exec(path, argv, envp, false);
}

DN_EXPORT int execv(const char *path, char *const argv[])
{
	return dn_exec(path, argv, environ, false);
}

DN_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return dn_exec(file, argv, envp, true);
}

DN_EXPORT int execvp(const char *file, char *const argv[])
{
	return dn_exec(file, argv, environ, true);
}

static size_t count_args(va_list ap)
{
	size_t n = 1;
	while (va_arg(ap, char *))
		n++;
	return n;
}

#define COLLECT_ARGS(arg0, last)                                                                  \
	va_list ap;                                                                                \
	va_start(ap, last);                                                                        \
	size_t nargs = count_args(ap);                                                             \
	va_end(ap);                                                                                \
	char *argv[nargs + 1];                                                                     \
	argv[0] = (char *)(arg0);                                                                  \
	va_start(ap, last);                                                                        \
	for (size_t i = 1; i <= nargs; i++)                                                        \
		argv[i] = va_arg(ap, char *);

DN_EXPORT int execl(const char *path, const char *arg0, ...)
{
	COLLECT_ARGS(arg0, arg0)
	va_end(ap);
	return dn_exec(path, argv, environ, false);
}

DN_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	COLLECT_ARGS(arg0, arg0)
	va_end(ap);
	return dn_exec(file, argv, environ, true);
}

DN_EXPORT int execle(const char *path, const char *arg0, ...)
{
	COLLECT_ARGS(arg0, arg0)
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return dn_exec(path, argv, envp, false);
}
