/* Compat test probe: a file read through io_uring, which no preload library sees, to stdout */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: compat-uring FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	struct io_uring ring;
	int r = io_uring_queue_init(4, &ring, 0);
	if (r < 0) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r));
		return 1;
	}
	static char buf[65536];
	for (off_t off = 0;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, fd, buf, sizeof(buf), (unsigned long long)off);
		io_uring_submit(&ring);
		struct io_uring_cqe *cqe;
		if ((r = io_uring_wait_cqe(&ring, &cqe)) < 0) {
			fprintf(stderr, "io_uring_wait_cqe: %s\n", strerror(-r));
			return 1;
		}
		int n = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (n < 0) {
			fprintf(stderr, "io_uring read at %lld: %s\n", (long long)off, strerror(-n));
			return 1;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
		off += n;
	}
	io_uring_queue_exit(&ring);
	return 0;
}
