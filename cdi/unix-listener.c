/* Unix Listener: whether anyone listens on a unix socket's path, without connecting */
#include "unix-listener.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* __SO_ACCEPTCON in include/linux/net.h: the socket has called listen() */
#define ACCEPTCON 0x10000UL

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

bool dn_unix_listener_exists(const char *path)
{
	_cleanup_(fclosep) FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return false;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	/* "Num RefCount Protocol Flags Type St Inode Path": the path is the rest of the line */
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned long flags;
		int at = -1;
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		if (sscanf(line, "%*s %*s %*s %lx %*x %*x %*u %n", &flags, &at) == 1 && at > 0 &&
		    (flags & ACCEPTCON) && strcmp(line + at, path) == 0)
			return true;
	}
	return false;
}
