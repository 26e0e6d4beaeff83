/* A process-shared mutex in a MAP_SHARED file map, used by several processes (shared-maps.sh) */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * pshared-mutex FILE init: makes the file one page holding an initialised
 * mutex and a zero counter. pshared-mutex FILE run N: adds 1 to the counter
 * N times, each a read, a yield and a write under the mutex (so that an
 * increment not excluded by it is lost). pshared-mutex FILE show: prints
 * the counter. Maps are used unsynced, as such programs do.
 */
struct shared {
	pthread_mutex_t m;
	volatile uint64_t counter;
};

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int fd = open(argv[1], O_RDWR | (strcmp(argv[2], "init") == 0 ? O_CREAT | O_TRUNC : 0), 0644);
	if (fd < 0 || (strcmp(argv[2], "init") == 0 && ftruncate(fd, 4096) < 0)) {
		perror(argv[1]);
		return 1;
	}
	struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		perror("mmap");
		return 3;
	}
	close(fd);
	if (strcmp(argv[2], "init") == 0) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(&s->m, &a);
		s->counter = 0;
		msync(s, 4096, MS_SYNC);
	} else if (strcmp(argv[2], "run") == 0 && argc == 4) {
		long n = atol(argv[3]);
		for (long i = 0; i < n; i++) {
			if (pthread_mutex_lock(&s->m) != 0)
				return 4;
			uint64_t v = s->counter;
			if (i % 16 == 0)
				sched_yield();
			s->counter = v + 1;
			pthread_mutex_unlock(&s->m);
		}
	} else if (strcmp(argv[2], "show") == 0) {
		printf("%llu\n", (unsigned long long)s->counter);
	} else {
		return 2;
	}
	return munmap(s, 4096) < 0 ? 5 : 0;
}
