/* Shell Commands: system and popen whose shell keeps the Danaus session */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "export.h"
#include "fork-guard.h"
#include "real.h"

/*
 * glibc runs the shell of system(3) and popen(3) through its internal
 * posix_spawn, which our interposed one cannot replace: the shell would lose
 * the session, its Danaus fds and a working directory inside a mount. When
 * this process is attached, both go through our posix_spawn instead.
 */

extern char **environ;

static int spawn_shell(pid_t *pid, const char *cmd, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	return posix_spawn(pid, "/bin/sh", fa, attr, argv, environ);
}

DN_EXPORT int system(const char *cmd)
{
	if (!atomic_load(&dn_client.attached))
		return REAL(system)(cmd);
	if (!cmd)
		return 1; /* a shell is there */
	/* As POSIX asks: the caller ignores SIGINT/SIGQUIT and blocks SIGCHLD meanwhile. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigset_t chld, old_mask;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);

	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t defaults;
	sigemptyset(&defaults);
	if (old_int.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGINT);
	if (old_quit.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGQUIT);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setsigmask(&attr, &old_mask);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

	pid_t pid;
	int status, err = spawn_shell(&pid, cmd, NULL, &attr);
	posix_spawnattr_destroy(&attr);
	if (err == 0) {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
	} else {
		status = W_EXITCODE(127, 0); /* the shell could not run */
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return status;
}

/* The streams popen gave out, with their shells. */
struct piped {
	struct piped *next;
	FILE *f;
	pid_t pid;
};
static struct piped *piped;
static pthread_mutex_t piped_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((constructor)) static void piped_fork_setup(void)
{
	dn_fork_guard(&piped_lock);
}

DN_EXPORT FILE *popen(const char *cmd, const char *mode)
{
	if (!atomic_load(&dn_client.attached))
		return REAL(popen)(cmd, mode);
	bool reading = mode[0] == 'r';
	if ((mode[0] != 'r' && mode[0] != 'w') || (mode[1] && mode[1] != 'e')) {
		errno = EINVAL;
		return NULL;
	}
	struct piped *p = malloc(sizeof(*p));
	int fds[2];
	if (!p || pipe2(fds, O_CLOEXEC) < 0) {
		free(p);
		return NULL;
	}
	int ours = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
	int target = reading ? STDOUT_FILENO : STDIN_FILENO;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	/* dup2 onto itself (the pipe end already is fd 0 or 1) clears close-on-exec */
	posix_spawn_file_actions_adddup2(&fa, theirs, target);
	/* POSIX: the shell must not see the streams of earlier popens */
	pthread_mutex_lock(&piped_lock);
	for (struct piped *q = piped; q; q = q->next)
		posix_spawn_file_actions_addclose(&fa, fileno(q->f));
	pthread_mutex_unlock(&piped_lock);
	int err = spawn_shell(&p->pid, cmd, &fa, NULL);
	posix_spawn_file_actions_destroy(&fa);
	REAL(close)(theirs);
	if (err) {
		REAL(close)(ours);
		free(p);
		errno = err;
		return NULL;
	}
	if (mode[1] != 'e')
		REAL(fcntl)(ours, F_SETFD, 0);
	p->f = fdopen(ours, reading ? "r" : "w");
	if (!p->f) {
		int e = errno;
		REAL(close)(ours);
		waitpid(p->pid, NULL, 0);
		free(p);
		errno = e;
		return NULL;
	}
	pthread_mutex_lock(&piped_lock);
	p->next = piped;
	piped = p;
	pthread_mutex_unlock(&piped_lock);
	return p->f;
}

DN_EXPORT int pclose(FILE *f)
{
	pthread_mutex_lock(&piped_lock);
	struct piped **it = &piped;
	while (*it && (*it)->f != f)
		it = &(*it)->next;
	struct piped *p = *it;
	if (p)
		*it = p->next;
	pthread_mutex_unlock(&piped_lock);
	if (!p)
		return REAL(pclose)(f);
	fclose(f);
	int status;
	pid_t r;
	while ((r = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR)
		;
	free(p);
	return r < 0 ? -1 : status;
}
