/* Native AIO on Danaus fds: what libaio's entry points and syscall() share */
#pragma once

#include <linux/aio_abi.h>
#include <signal.h>
#include <time.h>

/* As the system calls, answering -errno: what the kernel would for these requests. */
long dn_io_submit(aio_context_t ctx, long nr, struct iocb **iocbs);
/* usig: io_pgetevents' signal mask argument ({sigset_t *, size}), NULL for io_getevents */
long dn_io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev,
		     struct timespec *ts, const void *usig);
long dn_io_destroy(aio_context_t ctx);

/* libaio's (io_context_t is the context's number) */
int io_submit(aio_context_t ctx, long nr, struct iocb **iocbs);
int io_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev, struct timespec *ts);
int io_pgetevents(aio_context_t ctx, long min_nr, long nr, struct io_event *ev, struct timespec *ts,
		  sigset_t *sigmask);
int io_destroy(aio_context_t ctx);
int io_queue_release(aio_context_t ctx);
int io_queue_run(aio_context_t ctx);
