/* Preload Keeping: a pool's program keeps the library across an exec whose environment names other preloads */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "preload-keep.h"

/*
 * A program may set LD_PRELOAD for what it runs (git's test-lib preloads
 * libc_malloc_debug.so.0) while keeping the pool's variables: on a kernel
 * mount its children would still see the mount, so the library goes last
 * in their LD_PRELOAD, and each new image sets the variable back to what
 * its caller gave, so it sees the environment it was given.
 */
static char self[PATH_MAX]; /* the library's name as the loader has it */
static const char *self_base;

static const char *env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=')
			return envp[i] + len + 1;
	return NULL;
}

/* Whether the n bytes at p (one LD_PRELOAD entry) name a library called as ours */
static int is_self(const char *p, size_t n)
{
	const char *base = p;
	for (const char *q = p; q < p + n; q++)
		if (*q == '/')
			base = q + 1;
	size_t blen = strlen(self_base);
	return (size_t)(p + n - base) == blen && memcmp(base, self_base, blen) == 0;
}

/*
 * Whether list (LD_PRELOAD: names apart by spaces or colons) has the
 * library last, where the caller's preloads wrap it (1), elsewhere (-1),
 * or not at all (0)
 */
static int self_in(const char *list)
{
	int found = 0;
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, " :");
		if (n)
			found = is_self(p, n) ? 1 : found ? -1 : 0;
		p += n;
		p += strspn(p, " :");
	}
	return found;
}

void dn_preload_keep_init(void)
{
	Dl_info info;
	if (dladdr(self, &info) /* (an address in the library) */ && info.dli_fname && info.dli_fname[0] &&
	    strlen(info.dli_fname) < sizeof(self)) {
		strcpy(self, info.dli_fname);
		const char *slash = strrchr(self, '/');
		self_base = slash ? slash + 1 : self;
	}
	const char *given = getenv(DN_ENV_PRELOAD);
	if (!given)
		return;
	/*
	 * A set-id image: ld.so dropped LD_PRELOAD on purpose, and the caller
	 * wrote this variable: its children must not get the caller's preloads.
	 */
	if (getauxval(AT_SECURE)) {
		unsetenv(DN_ENV_PRELOAD);
		return;
	}
	if (given[0] == '+')
		setenv("LD_PRELOAD", given + 1, 1);
	else if (given[0] == '-')
		unsetenv("LD_PRELOAD");
	unsetenv(DN_ENV_PRELOAD);
}

size_t dn_preload_keep_size(char *const envp[])
{
	if (!self[0])
		return 0;
	const char *pool = env_get(envp, "DANAUS_POOL");
	const char *pre = env_get(envp, "LD_PRELOAD");
	if (!pool || !pool[0] || (pre && self_in(pre) == 1))
		return 0;
	size_t theirs = pre ? strlen(pre) : 0;
	return sizeof("LD_PRELOAD=") + strlen(self) + 1 + theirs + sizeof(DN_ENV_PRELOAD "=+") +
	       theirs;
}

int dn_preload_keep_replaces(const char *var)
{
	return strncmp(var, "LD_PRELOAD=", sizeof("LD_PRELOAD=") - 1) == 0 ||
	       strncmp(var, DN_ENV_PRELOAD "=", sizeof(DN_ENV_PRELOAD)) == 0;
}

void dn_preload_keep_put(char *const envp[], char *area, char *out[2])
{
	const char *pre = env_get(envp, "LD_PRELOAD");
	out[0] = area;
	area += sprintf(area, "LD_PRELOAD=");
	/* last: the caller's preloads wrap the library as they would wrap libc on a kernel mount */
	for (const char *p = pre ? pre : ""; *p;) {
		size_t n = strcspn(p, " :");
		if (n && !is_self(p, n)) {
			memcpy(area, p, n);
			area += n;
			*area++ = ' ';
		}
		p += n;
		p += strspn(p, " :");
	}
	area += sprintf(area, "%s", self) + 1;
	out[1] = area;
	sprintf(area, DN_ENV_PRELOAD "=%s%s", pre ? "+" : "-", pre ? pre : "");
}
