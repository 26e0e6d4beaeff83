/* MDS Cap Count: the MDS's count of cap messages from clients, read over its admin socket */
#include "mds-caps.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "cleanup.h"

#define ANSWER_MAX 4096 /* the filtered dump is ~60 bytes */

static int read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		got += (size_t)n;
	}
	return 0;
}

/*
 * The admin socket protocol: the command as JSON ending in a NUL, answered
 * with a 32-bit big-endian length and that many bytes of JSON.
 */
int64_t mds_caps_read(const char *asok)
{
	static const char cmd[] =
		"{\"prefix\": \"perf dump\", \"logger\": \"mds\", \"counter\": \"handle_client_caps\"}";
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(asok) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, asok);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a wedged MDS must not hang the bench */
	struct timeval limit = {.tv_sec = 5};
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	ssize_t sent = send(fd, cmd, sizeof(cmd), MSG_NOSIGNAL); /* with its NUL */
	if (sent < 0)
		return -errno;
	if (sent != (ssize_t)sizeof(cmd))
		return -EIO;
	uint32_t be_len;
	int r = read_all(fd, &be_len, sizeof(be_len));
	if (r < 0)
		return r;
	uint32_t len = ntohl(be_len);
	if (len >= ANSWER_MAX)
		return -EPROTO;
	char answer[ANSWER_MAX];
	if ((r = read_all(fd, answer, len)) < 0)
		return r;
	answer[len] = '\0';
	const char *at = strstr(answer, "\"handle_client_caps\":");
	if (!at)
		return -EPROTO;
	const char *digits = at + strlen("\"handle_client_caps\":");
	char *end;
	errno = 0;
	unsigned long long v = strtoull(digits, &end, 10);
	if (errno || end == digits || v > INT64_MAX)
		return -EPROTO;
	return (int64_t)v;
}
