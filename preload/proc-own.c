/* Proc Own: names of this process's own directory under /proc */
#include "proc-own.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static const char *wanted_rest(const char *p, const char *const *wanted)
{
	for (; *wanted; wanted++)
		if (strncmp(p, *wanted, strlen(*wanted)) == 0)
			return p;
	return NULL;
}

const char *dn_proc_own(const char *path, const char *const *wanted)
{
	if (strncmp(path, "/proc/", 6) != 0)
		return NULL;
	const char *p = path + 6;
	if (strncmp(p, "self/", 5) == 0)
		return wanted_rest(p + 5, wanted);
	if (strncmp(p, "thread-self/", 12) == 0)
		return wanted_rest(p + 12, wanted);
	/* no leading zero: procfs finds no "/proc/01" */
	if (*p < '1' || *p > '9')
		return NULL;
	long pid = 0;
	for (; *p >= '0' && *p <= '9' && pid <= INT32_MAX; p++)
		pid = pid * 10 + (*p - '0');
	if (*p != '/' || !wanted_rest(p + 1, wanted) || pid != (long)getpid())
		return NULL;
	return p + 1;
}
