/* CDI Guard: a container given several pools is served by none of them, and says so */
#include "cdi-guard.h"

#include <stdio.h>
#include <string.h>

#include "cdi-mark.h"
#include "client.h"
#include "mounts.h"

extern char **environ;

/* Room for the names in the message; more pools than this are counted, not named. */
#define NAMED_MAX 4

static char refusal[512];
static bool refused;

/* The pool's name in a mark's VALUE (NAME:MOUNTPOINT...): its length, 0 if none. */
static size_t mark_name(const char *value)
{
	size_t n = strcspn(value, ":");
	return value[n] == ':' && n > 0 && n < DN_NAME_MAX ? n : 0;
}

/* Every mountpoint of a mark's VALUE into the table. */
static void mark_mounts(const char *value)
{
	for (const char *m = value + mark_name(value) + 1; *m;) {
		size_t n = strcspn(m, ":");
		char one[DN_MOUNT_MAX];
		if (n < sizeof(one)) {
			memcpy(one, m, n);
			one[n] = 0;
			dn_mounts_add(one);
		}
		m += n + (m[n] == ':');
	}
}

/* VALUE of environment entry E when it is a pool's mark, else NULL. */
static const char *mark_value(const char *e)
{
	static const char prefix[] = DN_CDI_MARK_PREFIX;
	const char *eq = strchr(e, '=');
	return strncmp(e, prefix, sizeof(prefix) - 1) == 0 && eq && mark_name(eq + 1) ? eq + 1
										   : NULL;
}

bool dn_cdi_guard_check(void)
{
	/* each device sets its own pool's variable: two marks, two pools */
	unsigned pools = 0;
	for (char **e = environ; e && *e; e++)
		pools += mark_value(*e) != NULL;
	if (pools < 2)
		return false;
	size_t n = (size_t)snprintf(refusal, sizeof(refusal), "this process was given the CDI devices");
	unsigned named = 0;
	for (char **e = environ; *e; e++) {
		const char *value = mark_value(*e);
		if (!value)
			continue;
		mark_mounts(value);
		if (named++ < NAMED_MAX && n < sizeof(refusal))
			n += (size_t)snprintf(refusal + n, sizeof(refusal) - n, "%s danaus.io/pool=%.*s",
					      named > 1 ? "," : "", (int)mark_name(value), value);
	}
	if (n < sizeof(refusal))
		snprintf(refusal + n, sizeof(refusal) - n,
			 "%s: a process is served by one pool, so none of them serves this one "
			 "(their mountpoints answer ENOTCONN); give the container one --device "
			 "danaus.io/pool=NAME", named > NAMED_MAX ? ", ..." : "");
	refused = true;
	return true;
}

const char *dn_cdi_guard_refusal(void)
{
	return refused ? refusal : NULL;
}
