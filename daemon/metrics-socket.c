/* Metrics Socket: the pool's counters as Prometheus text, to those who may read them */
#include "metrics-socket.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define GROUPS_MAX 256
#define ASK_WAIT_MS 100
#define SEND_MS 2000 /* a whole answer; whole seconds */

struct dn_metrics_socket {
	int listen_fd, stop_fd;
	dn_metrics_render_fn render;
	dn_metrics_allow_fn allow;
	void *ctx;
	pthread_t thread;
};

static bool peer_allowed(struct dn_metrics_socket *ms, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	gid_t groups[GROUPS_MAX];
	socklen_t glen = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0)
		glen = 0; /* too many to list: only uid and gid count */
	return ms->allow(ms->ctx, cr.uid, cr.gid, groups, glen / sizeof(gid_t));
}

/* Whether the reader asked in HTTP: what it sent first, if anything, within ASK_WAIT_MS. */
static bool asked_http(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, ASK_WAIT_MS) <= 0)
		return false;
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	return n >= 4 && memcmp(buf, "GET ", 4) == 0;
}

static int64_t ms_left(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/*
 * All of buf within SEND_MS in all: a reader that takes a byte now and then
 * must not keep the one thread from the next reader.
 */
static void send_all(int fd, const char *buf, size_t len, const struct timespec *deadline)
{
	while (len) {
		int64_t left = ms_left(deadline);
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return;
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return; /* gone */
		buf += n;
		len -= (size_t)n;
	}
}

static void answer(struct dn_metrics_socket *ms, int fd)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += SEND_MS / 1000;
	bool http = asked_http(fd);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	const char *status = "200 OK";
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	if (!peer_allowed(ms, fd)) {
		status = "403 Forbidden";
		fputs("# not allowed: the pool's [access] list decides who may read its metrics\n", f);
	} else if (ms->render(ms->ctx, f) < 0) {
		status = "500 Internal Server Error";
		fputs("# the metrics could not be written\n", f);
	}
	if (fclose(f) != 0)
		return;
	if (http) {
		char hdr[160];
		int n = snprintf(hdr, sizeof(hdr),
				 "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
				 "Content-Length: %zu\r\n\r\n",
				 status, len);
		send_all(fd, hdr, (size_t)n, &deadline);
	}
	send_all(fd, text, len, &deadline);
}

static void *serve(void *arg)
{
	struct dn_metrics_socket *ms = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = ms->listen_fd, .events = POLLIN},
				      {.fd = ms->stop_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			dn_log_error("metrics socket: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		int fd = accept4(ms->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				struct timespec ts = {0, 100000000}; /* out of fds: do not spin */
				nanosleep(&ts, NULL);
			}
			continue;
		}
		answer(ms, fd);
		close(fd);
	}
}

int dn_metrics_socket_start(struct dn_metrics_socket **out, int listen_fd,
			    dn_metrics_render_fn render, dn_metrics_allow_fn allow, void *ctx)
{
	struct dn_metrics_socket *ms = calloc(1, sizeof(*ms));
	if (!ms)
		return -ENOMEM;
	*ms = (struct dn_metrics_socket){.listen_fd = listen_fd, .render = render, .allow = allow,
					 .ctx = ctx};
	ms->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (ms->stop_fd < 0) {
		int r = -errno;
		free(ms);
		return r;
	}
	int r = pthread_create(&ms->thread, NULL, serve, ms);
	if (r != 0) {
		close(ms->stop_fd);
		free(ms);
		return -r;
	}
	*out = ms;
	return 0;
}

struct dn_metrics_socket *dn_metrics_socket_stop(struct dn_metrics_socket *ms)
{
	if (!ms)
		return NULL;
	uint64_t one = 1;
	if (write(ms->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(ms->thread, NULL);
	close(ms->stop_fd);
	free(ms);
	return NULL;
}
