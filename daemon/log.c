/* Service Log: journald when systemd runs us, stderr otherwise */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>

static bool to_journal;
static char pool_name[80] = "?";

void dn_log_init(const char *pool)
{
	/* JOURNAL_STREAM: our stderr is connected to journald by systemd. */
	to_journal = getenv("JOURNAL_STREAM") != NULL;
	snprintf(pool_name, sizeof(pool_name), "%s", pool);
}

void dn_log(int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority, "DANAUS_POOL=%s",
				pool_name, NULL);
	else
		fprintf(stderr, "danaus-pool[%s]: %s\n", pool_name, msg);
}
