/* Unix Sockets: bind(2), connect(2) and datagrams to a path in a mount */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dn-errno.h"
#include "export.h"
#include "fault.h"
#include "fork-guard.h"
#include "ops.h"
#include "path.h"
#include "real.h"
#include "route.h"

/*
 * A socket bound at a path in a mount must be the pool's file, not one in
 * the host's placeholder directory behind the mountpoint. Where the backend
 * has a kernel directory (local), the pool hands over an O_PATH descriptor
 * of the socket's directory, resolved with the caller's rights, and the
 * kernel binds or connects through "/proc/self/fd/N/NAME", checking the
 * caller's rights on that directory and socket itself. A Ceph pool has no
 * kernel directory for a socket to live in: EOPNOTSUPP, said rather than a
 * socket in the wrong place. getsockname(2) and getpeername(2) show the
 * path the caller gave (sock_name below).
 * A datagram sent to such an address (sendto, sendmsg) goes the same way.
 */

/*
 * A kernel descriptor (O_PATH) of the socket's directory, dir in a pool:
 * the one the pool hands over, or, when an absolute symlink on the way
 * leads out of the pool, the host directory it leads to, as the kernel's
 * walk would have found it; -errno.
 */
static int directory_of(struct dn_target *dir)
{
	char next[PATH_MAX];
	dir->redirect = true;
	for (int hops = 0;; hops++) {
		int fd = dn_op_open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd >= 0) {
			int k = dn_op_mapfd(fd, false);
			dn_op_close(fd);
			return k == -ENODEV ? -EOPNOTSUPP : k;
		}
		if (fd != -DN_OP_REDIRECTED)
			return fd;
		const char *to;
		if (!dn_op_redirect_follow(&to, next, hops))
			return -ELOOP;
		int r = dn_route(AT_FDCWD, to, dir);
		if (r < 0)
			return r;
		if (r == 0) {
			fd = REAL(openat)(AT_FDCWD, to, O_PATH | O_DIRECTORY | O_CLOEXEC);
			return fd < 0 ? -errno : fd;
		}
		dir->redirect = true;
	}
}

/*
 * ".", ".." or "name/": never a socket. bind finds the name's directory
 * (its errors), then the name taken (EEXIST, which unix_bind answers as
 * EADDRINUSE) or, after a slash, missing; connect and sendto look the whole
 * path up, and what is there is not a socket (ECONNREFUSED).
 */
static int no_socket_name(const struct dn_target *t, const struct dn_path_last *l, bool binding)
{
	struct dn_target at = *t;
	at.redirect = false;
	struct stat st;
	if (!binding) {
		int r = dn_op_stat(&at, false, &st);
		return r < 0 ? r : -ECONNREFUSED;
	}
	size_t n = l->dir_len;
	if (n == 0)
		at.path[n++] = '/';
	at.path[n] = 0;
	int r = dn_op_stat(&at, false, &st);
	if (r < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* the walk searches the directory before it sees the last name is none */
	if ((r = dn_op_path(DN_OP_ACCESS, &at, X_OK, DN_AT_EACCESS, 0)) < 0)
		return r;
	if (l->type != DN_LAST_NORM)
		return -EADDRINUSE;
	r = dn_op_stat(t, true, &st);
	return r == 0 ? -EADDRINUSE : r;
}

/*
 * Rewrites a Unix address naming a path in the mount into *via (the
 * directory's descriptor in *dirfd, the caller's to close): 1; 0 when the
 * address is not a mount's (the kernel takes it as given); -errno.
 */
static int via_pool(const struct sockaddr *addr, socklen_t len, bool binding,
		    struct sockaddr_un *via, socklen_t *via_len, int *dirfd)
{
	struct sockaddr_un un;
	const size_t head = offsetof(struct sockaddr_un, sun_path);
	if (!addr || len <= head || len > sizeof(un))
		return 0;
	if (dn_fault_copy_in(&un, addr, len) < 0 || un.sun_family != AF_UNIX || !un.sun_path[0])
		return 0; /* a bad pointer, another family, an abstract name: the kernel's */
	char path[sizeof(un.sun_path) + 1];
	size_t n = strnlen(un.sun_path, len - head);
	memcpy(path, un.sun_path, n);
	path[n] = 0;
	struct dn_target t;
	int r = dn_route(AT_FDCWD, path, &t);
	if (r <= 0)
		return r;
	struct dn_path_last l;
	dn_path_last(t.path, &l);
	if (l.type != DN_LAST_NORM || l.slash)
		return no_socket_name(&t, &l, binding);
	char name[NAME_MAX + 1];
	if (l.name_len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, l.name, l.name_len);
	name[l.name_len] = 0;
	struct dn_target dir = t;
	if (l.dir_len == 0)
		dir.path[l.dir_len++] = '/';
	dir.path[l.dir_len] = 0;
	int k = directory_of(&dir);
	if (k < 0)
		return k;
	*via = (struct sockaddr_un){.sun_family = AF_UNIX};
	int m = snprintf(via->sun_path, sizeof(via->sun_path), "/proc/self/fd/%d/%s", k, name);
	if (m < 0 || (size_t)m >= sizeof(via->sun_path)) {
		REAL(close)(k);
		return -ENAMETOOLONG;
	}
	*via_len = (socklen_t)(head + (size_t)m + 1);
	*dirfd = k;
	return 1;
}

/*
 * The name a socket was bound or connected with at a pool path, so that
 * getsockname and getpeername answer it, as the kernel answers the path
 * given to bind, rather than our /proc/self/fd/N/NAME (whose N is closed
 * by then: the name would lead nowhere). Kept by fd and socket inode, so a
 * closed socket's entry never speaks for another socket.
 */
struct sock_name {
	int fd;
	ino_t ino;
	bool peer;		       /* connect's (the peer's name), else bind's */
	char pool[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* as the caller gave it */
};

#define SOCK_NAMES 64
static struct sock_name sock_names[SOCK_NAMES];
static pthread_mutex_t sock_names_lock = PTHREAD_MUTEX_INITIALIZER;
/* Until a socket is named at a pool path, every other socket's calls skip the table. */
static atomic_bool sock_names_any;

__attribute__((constructor)) static void sock_names_fork_setup(void)
{
	dn_fork_guard(&sock_names_lock);
}

static ino_t sock_ino(int sock)
{
	struct stat st;
	return REAL(fstat)(sock, &st) == 0 ? st.st_ino : 0;
}

static void sock_name_note(int sock, bool peer, const struct sockaddr *addr, socklen_t len)
{
	ino_t ino = sock_ino(sock);
	struct sockaddr_un un;
	const size_t head = offsetof(struct sockaddr_un, sun_path);
	if (!ino || dn_fault_copy_in(&un, addr, len) < 0)
		return;
	pthread_mutex_lock(&sock_names_lock);
	struct sock_name *slot = &sock_names[(unsigned)sock % SOCK_NAMES];
	for (size_t i = 0; i < SOCK_NAMES; i++)
		if (sock_names[i].fd == sock && sock_names[i].peer == peer) {
			slot = &sock_names[i];
			break;
		}
	*slot = (struct sock_name){.fd = sock, .ino = ino, .peer = peer};
	memcpy(slot->pool, un.sun_path, strnlen(un.sun_path, len - head));
	atomic_store(&sock_names_any, true);
	pthread_mutex_unlock(&sock_names_lock);
}

/* An accepted socket has its listener's name (its inode checked once one is found by fd). */
static void sock_name_inherit(int listener, int sock)
{
	if (!atomic_load_explicit(&sock_names_any, memory_order_relaxed))
		return;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	ino_t lino = 0;
	pthread_mutex_lock(&sock_names_lock);
	for (size_t i = 0; i < SOCK_NAMES; i++)
		if (sock_names[i].fd == listener && !sock_names[i].peer) {
			memcpy(un.sun_path, sock_names[i].pool, sizeof(un.sun_path));
			lino = sock_names[i].ino;
		}
	pthread_mutex_unlock(&sock_names_lock);
	if (lino && sock_ino(listener) == lino)
		sock_name_note(sock, false, (const struct sockaddr *)&un, sizeof(un));
}

/* The kernel's answer *addr (of *len) names our /proc path: the caller's name instead. */
static void sock_name_fix(int sock, bool peer, struct sockaddr *addr, socklen_t *len, socklen_t cap)
{
	struct sockaddr_un un;
	const size_t head = offsetof(struct sockaddr_un, sun_path);
	socklen_t got;
	if (!atomic_load_explicit(&sock_names_any, memory_order_relaxed) ||
	    dn_fault_copy_in(&got, len, sizeof(got)) < 0 || got <= head + 14 ||
	    dn_fault_copy_in(&un, addr, cap < sizeof(un) ? cap : sizeof(un)) < 0 ||
	    un.sun_family != AF_UNIX || strncmp(un.sun_path, "/proc/self/fd/", 14) != 0)
		return;
	ino_t ino = sock_ino(sock);
	char pool[sizeof(un.sun_path) + 1] = "";
	pthread_mutex_lock(&sock_names_lock);
	for (size_t i = 0; i < SOCK_NAMES; i++)
		if (sock_names[i].fd == sock && sock_names[i].peer == peer && sock_names[i].ino == ino)
			memcpy(pool, sock_names[i].pool, sizeof(pool));
	pthread_mutex_unlock(&sock_names_lock);
	if (!pool[0])
		return;
	/* as unix_getname: the whole length, the address cut to the caller's buffer */
	struct sockaddr_un out = {.sun_family = AF_UNIX};
	size_t n = strlen(pool);
	memcpy(out.sun_path, pool, n);
	socklen_t full = (socklen_t)(head + n + 1);
	dn_fault_copy_out(addr, &out, cap < full ? cap : full);
	dn_fault_copy_out(len, &full, sizeof(full));
}

static int through(int (*call)(int, const struct sockaddr *, socklen_t), bool binding, int sock,
		   const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_un via;
	socklen_t via_len;
	int dirfd;
	int r = via_pool(addr, len, binding, &via, &via_len, &dirfd);
	if (r == 0)
		return call(sock, addr, len);
	if (r < 0)
		DN_RETURN(r);
	r = call(sock, (const struct sockaddr *)&via, via_len);
	int e = errno;
	if (r == 0 || (!binding && e == EINPROGRESS))
		sock_name_note(sock, !binding, addr, len);
	REAL(close)(dirfd);
	errno = e;
	return r;
}

/* glibc declares the address as a transparent union (__CONST_SOCKADDR_ARG) under _GNU_SOURCE. */
DN_EXPORT int bind(int sock, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	return through(REAL(bind), true, sock, addr.__sockaddr__, len);
}

DN_EXPORT int connect(int sock, __CONST_SOCKADDR_ARG addr, socklen_t len)
{
	return through(REAL(connect), false, sock, addr.__sockaddr__, len);
}

/* A datagram to a socket at a pool path (sendto/sendmsg with an address), the same way. */
DN_EXPORT ssize_t sendto(int sock, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
			 socklen_t len)
{
	struct sockaddr_un via;
	socklen_t via_len;
	int dirfd;
	int r = via_pool(addr.__sockaddr__, len, false, &via, &via_len, &dirfd);
	if (r == 0)
		return REAL(sendto)(sock, buf, n, flags, addr.__sockaddr__, len);
	if (r < 0)
		DN_RETURN(r);
	ssize_t s = REAL(sendto)(sock, buf, n, flags, (const struct sockaddr *)&via, via_len);
	int e = errno;
	REAL(close)(dirfd);
	errno = e;
	return s;
}

DN_EXPORT ssize_t sendmsg(int sock, const struct msghdr *msg, int flags)
{
	struct msghdr m;
	if (dn_fault_copy_in(&m, msg, sizeof(m)) < 0)
		return REAL(sendmsg)(sock, msg, flags); /* the kernel answers EFAULT */
	struct sockaddr_un via;
	socklen_t via_len;
	int dirfd;
	int r = via_pool(m.msg_name, m.msg_namelen, false, &via, &via_len, &dirfd);
	if (r == 0)
		return REAL(sendmsg)(sock, msg, flags);
	if (r < 0)
		DN_RETURN(r);
	m.msg_name = &via;
	m.msg_namelen = via_len;
	ssize_t s = REAL(sendmsg)(sock, &m, flags);
	int e = errno;
	REAL(close)(dirfd);
	errno = e;
	return s;
}

/* getsockname or getpeername (peer): the kernel's answer, a pool path as the caller gave it */
static int sock_name_call(int (*get)(int, struct sockaddr *, socklen_t *), bool peer, int sock,
			  struct sockaddr *addr, socklen_t *len)
{
	socklen_t cap;
	if (dn_fault_copy_in(&cap, len, sizeof(cap)) < 0)
		cap = 0;
	int r = get(sock, addr, len);
	if (r == 0 && cap)
		sock_name_fix(sock, peer, addr, len, cap);
	return r;
}

DN_EXPORT int getsockname(int sock, __SOCKADDR_ARG addr, socklen_t *len)
{
	return sock_name_call(REAL(getsockname), false, sock, addr.__sockaddr__, len);
}

DN_EXPORT int getpeername(int sock, __SOCKADDR_ARG addr, socklen_t *len)
{
	return sock_name_call(REAL(getpeername), true, sock, addr.__sockaddr__, len);
}

static int accepted(int listener, int r)
{
	if (r >= 0) {
		int e = errno;
		sock_name_inherit(listener, r);
		errno = e;
	}
	return r;
}

DN_EXPORT int accept4(int sock, __SOCKADDR_ARG addr, socklen_t *len, int flags)
{
	return accepted(sock, REAL(accept4)(sock, addr.__sockaddr__, len, flags));
}

DN_EXPORT int accept(int sock, __SOCKADDR_ARG addr, socklen_t *len)
{
	return accepted(sock, REAL(accept)(sock, addr.__sockaddr__, len));
}
