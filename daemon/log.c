/* Service Log: journald when systemd runs us, stderr otherwise */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>
#include <time.h>

#define PER_SECOND 50 /* messages of a budget; the rest of that second is counted, then said */

static bool to_journal, debug_to_stderr;
static char pool_name[80] = "?";
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* two budgets: warnings and worse are never crowded out by notices of attaches */
static struct budget {
	time_t window;
	unsigned in_window, suppressed;
} budgets[2];

void dn_log_init(const char *pool)
{
	/* JOURNAL_STREAM: our stderr is connected to journald by systemd. */
	to_journal = getenv("JOURNAL_STREAM") != NULL;
	/* on a terminal or a log file, attaches and the like only when asked for */
	debug_to_stderr = getenv("DANAUS_DEBUG") != NULL;
	snprintf(pool_name, sizeof(pool_name), "%s", pool);
}

static void emit(int priority, const struct dn_log_client *c, const char *msg)
{
	if (to_journal && c)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority, "POOL=%s", pool_name,
				"DANAUS_POOL=%s", pool_name, "SESSION=%u", c->session, "UID=%u",
				(unsigned)c->uid, "CLIENT_PID=%d", (int)c->pid, NULL);
	else if (to_journal)
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", priority, "POOL=%s", pool_name,
				"DANAUS_POOL=%s", pool_name, NULL);
	else if (c)
		fprintf(stderr, "danaus-pool[%s]: session %u (uid %u, pid %d): %s\n", pool_name,
			c->session, (unsigned)c->uid, (int)c->pid, msg);
	else
		fprintf(stderr, "danaus-pool[%s]: %s\n", pool_name, msg);
}

/*
 * At most PER_SECOND messages a second: clients that misbehave in a loop
 * (refused, timing out) must not flood the journal. What was left out is
 * said with the next message that gets through.
 */
__attribute__((format(printf, 3, 0))) static void log_limited(int priority,
							      const struct dn_log_client *c,
							      const char *fmt, va_list ap)
{
	if (priority == LOG_DEBUG && !to_journal && !debug_to_stderr)
		return;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct budget *b = &budgets[priority > LOG_WARNING];
	pthread_mutex_lock(&lock);
	if (now.tv_sec != b->window) {
		b->window = now.tv_sec;
		b->in_window = 0;
	}
	bool pass = b->in_window < PER_SECOND;
	b->in_window++;
	unsigned left_out = 0;
	if (pass) {
		left_out = b->suppressed;
		b->suppressed = 0;
	} else {
		b->suppressed++;
	}
	pthread_mutex_unlock(&lock);
	if (!pass)
		return;
	if (left_out) {
		char note[96];
		snprintf(note, sizeof(note), "%u messages left out (more than %d a second)",
			 left_out, PER_SECOND);
		emit(priority > LOG_WARNING ? priority : LOG_WARNING, NULL, note);
	}
	emit(priority, c, msg);
}

void dn_log(int priority, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_limited(priority, NULL, fmt, ap);
	va_end(ap);
}

void dn_log_client(int priority, const struct dn_log_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_limited(priority, c, fmt, ap);
	va_end(ap);
}
