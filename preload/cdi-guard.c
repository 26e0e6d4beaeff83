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

bool dn_cdi_guard_check(void)
{
	static const char prefix[] = DN_CDI_MARK_PREFIX;
	const char *first = NULL;
	size_t first_len = 0;
	unsigned pools = 0;
	for (char **e = environ; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t len;
		if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0 || !eq || !(len = mark_name(eq + 1)))
			continue;
		/* one mark per pool name: a name seen again is the same pool */
		if (!first || len != first_len || memcmp(first, eq + 1, len) != 0)
			pools++;
		if (!first) {
			first = eq + 1;
			first_len = len;
		}
	}
	if (pools < 2)
		return false;
	size_t n = (size_t)snprintf(refusal, sizeof(refusal), "this process was given the CDI devices");
	unsigned named = 0;
	for (char **e = environ; *e && n < sizeof(refusal); e++) {
		const char *eq = strchr(*e, '=');
		size_t len;
		if (strncmp(*e, prefix, sizeof(prefix) - 1) != 0 || !eq || !(len = mark_name(eq + 1)))
			continue;
		mark_mounts(eq + 1);
		if (named++ < NAMED_MAX)
			n += (size_t)snprintf(refusal + n, sizeof(refusal) - n, "%s danaus.io/pool=%.*s",
					      named > 1 ? "," : "", (int)len, eq + 1);
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
