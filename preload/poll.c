/* Readiness Calls: poll, select and epoll_ctl on Danaus fds, which are regular files */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>

#include "client.h"
#include "export.h"
#include "real.h"

/*
 * The kernel would see only a placeholder (POLLNVAL, EBADF). A regular file
 * is always ready: the kernel answers DEFAULT_POLLMASK for files without a
 * poll method, masked by what was asked. Danaus fds get that answer here and
 * never reach the kernel; the other fds do, without a wait when a Danaus fd
 * is already ready.
 */
#define FILE_READY (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen);

static bool attached(void)
{
	return atomic_load_explicit(&dn_client.attached, memory_order_relaxed) != 0;
}

static bool any_danaus_pollfd(const struct pollfd *fds, nfds_t n)
{
	if (!attached())
		return false;
	for (nfds_t i = 0; i < n; i++)
		if (dn_fdmap_get(fds[i].fd) >= 0)
			return true;
	return false;
}

/*
 * poll and ppoll with Danaus fds: the kernel polls a copy where they are -1
 * (ignored, revents 0), so order and indices stay the caller's.
 */
static int poll_mixed(struct pollfd *fds, nfds_t n, int timeout, const struct timespec *ts,
		      const sigset_t *mask, bool is_ppoll)
{
	struct rlimit rl;
	/* the kernel's limit on nfds */
	if ((getrlimit(RLIMIT_NOFILE, &rl) == 0 && n > rl.rlim_cur) ||
	    n > SIZE_MAX / sizeof(struct pollfd)) {
		errno = EINVAL;
		return -1;
	}
	struct pollfd small[64];
	struct pollfd *k = n <= 64 ? small : malloc(n * sizeof(*k));
	if (!k) {
		errno = ENOMEM;
		return -1;
	}
	int ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		k[i] = fds[i];
		if (dn_fdmap_get(fds[i].fd) >= 0) {
			k[i].fd = -1; /* marks a Danaus entry below: the caller's fd is >= 0 */
			ready += (fds[i].events & FILE_READY) != 0;
		}
	}
	struct timespec zero = {0, 0};
	int r = is_ppoll ? REAL(ppoll)(k, n, ready ? &zero : ts, mask)
			 : REAL(poll)(k, n, ready ? 0 : timeout);
	/* A signal during a call that had ready fds: the kernel would have returned them. */
	if (r < 0 && errno == EINTR && ready) {
		for (nfds_t i = 0; i < n; i++)
			k[i].revents = 0;
		r = 0;
	}
	if (r >= 0) {
		for (nfds_t i = 0; i < n; i++)
			fds[i].revents = k[i].fd < 0 && fds[i].fd >= 0
						 ? (short)(fds[i].events & FILE_READY)
						 : k[i].revents;
		r += ready;
	}
	int err = errno;
	if (k != small)
		free(k);
	errno = err;
	return r;
}

/*
 * Under _FORTIFY_SOURCE glibc declares poll's array write-only (the kernel
 * reads it all the same); gcc then warns that we read it.
 */
#ifndef __clang__ /* clang has no such warning, and would warn of the unknown name */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

DN_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	if (!any_danaus_pollfd(fds, nfds))
		return REAL(poll)(fds, nfds, timeout);
	return poll_mixed(fds, nfds, timeout, NULL, NULL, false);
}

DN_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
		    const sigset_t *mask)
{
	if (!any_danaus_pollfd(fds, nfds))
		return REAL(ppoll)(fds, nfds, ts, mask);
	return poll_mixed(fds, nfds, 0, ts, mask, true);
}

/* _FORTIFY_SOURCE builds call these; glibc's would reach its internal poll. */
DN_EXPORT int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return poll(fds, nfds, timeout);
}

DN_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
			  const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		__chk_fail();
	return ppoll(fds, nfds, ts, mask);
}

#ifndef __clang__
#pragma GCC diagnostic pop
#endif

/* ---- select: the sets are in/out, so Danaus bits are taken out and put back ---- */

/* Danaus fds are below this: no need to look at higher bits. */
static int danaus_fd_bound(int nfds)
{
	int top = DN_FDMAP_CHUNKS;
	while (top > 0 && !atomic_load_explicit(&dn_fdmap_chunks[top - 1], memory_order_acquire))
		top--;
	int bound = top * DN_FDMAP_CHUNK;
	return nfds < bound ? nfds : bound;
}

static fd_mask *set_words(fd_set *s)
{
	return s ? __FDS_BITS(s) : NULL;
}

/* Bits of word w that stand for fds below nfds (unsigned: scanning shifts them right). */
static unsigned long word_mask(int w, int nfds)
{
	int left = nfds - w * NFDBITS;
	return left >= NFDBITS ? ~0UL : (1UL << left) - 1;
}

/*
 * Moves the Danaus fds of the three sets (up to nfds) into d[0..2] (nw words
 * each) and clears them in the sets; true when there was any.
 */
static bool take_danaus(int nfds, fd_mask *s[3], fd_mask *d[3], int nw)
{
	bool any = false;
	for (int w = 0; w < nw; w++) {
		unsigned long m = word_mask(w, nfds), all = 0;
		for (int j = 0; j < 3; j++) {
			if (d[j])
				d[j][w] = 0;
			if (s[j])
				all |= (unsigned long)s[j][w] & m;
		}
		for (int b = 0; all; b++, all >>= 1) {
			if (!(all & 1) || dn_fdmap_get(w * NFDBITS + b) < 0)
				continue;
			fd_mask bit = (fd_mask)(1UL << b);
			for (int j = 0; j < 3; j++)
				if (s[j] && (s[j][w] & bit)) {
					if (d[j])
						d[j][w] |= bit;
					s[j][w] &= ~bit;
				}
			any = true;
		}
	}
	return any;
}

static bool any_danaus_fdset(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	if (!attached() || nfds <= 0)
		return false;
	int bound = danaus_fd_bound(nfds);
	int nw = (bound + NFDBITS - 1) / NFDBITS;
	for (int i = 0; i < nw; i++) {
		unsigned long all = (unsigned long)((r ? __FDS_BITS(r)[i] : 0) |
						    (w ? __FDS_BITS(w)[i] : 0) |
						    (e ? __FDS_BITS(e)[i] : 0)) &
				    word_mask(i, bound);
		for (int b = 0; all; b++, all >>= 1)
			if ((all & 1) && dn_fdmap_get(i * NFDBITS + b) >= 0)
				return true;
	}
	return false;
}

static int popcount_words(const fd_mask *d, int nw)
{
	int n = 0;
	for (int i = 0; i < nw; i++)
		n += __builtin_popcountl((unsigned long)d[i]);
	return n;
}

static int select_mixed(int nfds, fd_set *rs, fd_set *ws, fd_set *es, struct timeval *tv,
			const struct timespec *ts, const sigset_t *mask, bool is_pselect)
{
	int bound = danaus_fd_bound(nfds);
	int nw = (bound + NFDBITS - 1) / NFDBITS;
	fd_mask small[3 * 64];
	fd_mask *buf = nw <= 64 ? small : malloc(3 * (size_t)nw * sizeof(fd_mask));
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	fd_mask *s[3] = {set_words(rs), set_words(ws), set_words(es)};
	fd_mask *d[3] = {buf, buf + nw, buf + 2 * nw};
	take_danaus(bound, s, d, nw);
	/* Ready for reading and writing; never an exceptional condition. */
	int ready = popcount_words(d[0], nw) + popcount_words(d[1], nw);
	struct timeval tv0 = {0, 0};
	struct timespec ts0 = {0, 0};
	int r = is_pselect ? REAL(pselect)(nfds, rs, ws, es, ready ? &ts0 : ts, mask)
			   : REAL(select)(nfds, rs, ws, es, ready ? &tv0 : tv);
	if (r < 0 && errno == EINTR && ready) {
		/* The kernel would have returned the ready fds: none of its own. */
		int kw = (nfds + NFDBITS - 1) / NFDBITS;
		for (int j = 0; j < 3; j++)
			if (s[j])
				memset(s[j], 0, (size_t)kw * sizeof(fd_mask));
		r = 0;
	}
	/* On success the answer; on failure the sets as the caller gave them. */
	int puts = r >= 0 ? 2 : 3;
	for (int j = 0; j < puts; j++)
		for (int i = 0; s[j] && i < nw; i++)
			s[j][i] |= d[j][i];
	if (r >= 0)
		r += ready;
	int err = errno;
	if (buf != small)
		free(buf);
	errno = err;
	return r;
}

DN_EXPORT int select(int nfds, fd_set *rs, fd_set *ws, fd_set *es, struct timeval *tv)
{
	if (!any_danaus_fdset(nfds, rs, ws, es))
		return REAL(select)(nfds, rs, ws, es, tv);
	return select_mixed(nfds, rs, ws, es, tv, NULL, NULL, false);
}

DN_EXPORT int pselect(int nfds, fd_set *rs, fd_set *ws, fd_set *es, const struct timespec *ts,
		      const sigset_t *mask)
{
	if (!any_danaus_fdset(nfds, rs, ws, es))
		return REAL(pselect)(nfds, rs, ws, es, ts, mask);
	return select_mixed(nfds, rs, ws, es, NULL, ts, mask, true);
}

/*
 * epoll refuses regular files: the kernel answers EPERM for any op on a file
 * that cannot be polled, and programs rely on exactly that (event loops fall
 * back to treating such fds as always ready). A Danaus fd gets the same
 * answer, after the checks the kernel makes first.
 */
DN_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	bool dfd = attached() && dn_fdmap_get(fd) >= 0;
	bool depfd = attached() && dn_fdmap_get(epfd) >= 0;
	if (!dfd && !depfd)
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	int err;
	if (op != EPOLL_CTL_DEL && !ev)
		err = EFAULT;
	else if ((!depfd && REAL(fcntl)(epfd, F_GETFD) < 0) ||
		 (!dfd && REAL(fcntl)(fd, F_GETFD) < 0))
		err = EBADF;
	else if (dfd)
		err = EPERM;
	else
		err = EINVAL; /* epfd is a regular file, not an epoll instance */
	errno = err;
	return -1;
}
