/* Thread Buffer: a bounce buffer of each thread's, off its stack */
#pragma once

/*
 * The bytes a splice or a copy between fds (copy_file_range, sendfile)
 * moves pass through a 64 KiB buffer of the thread's: not on its stack (a
 * thread made with a small stack, or musl's 128 KiB, would overflow), nor
 * allocated per call. Mapped at the thread's first use, unmapped when it
 * ends. One user at a time: its users call no other user while they hold it.
 */
#define DN_THREAD_BUF (64u << 10)

/* The calling thread's DN_THREAD_BUF bytes, or NULL when they cannot be mapped. */
char *dn_thread_buf(void);
