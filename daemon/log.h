/* Service Log: journald when systemd runs us, stderr otherwise; at most 50 messages a second */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

void dn_log_init(const char *pool);
void dn_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whom a message is about: journald gets its SESSION=, UID= and CLIENT_PID= fields. */
struct dn_log_client {
	uint32_t session;
	uid_t uid;
	pid_t pid;
};
void dn_log_client(int priority, const struct dn_log_client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define dn_log_error(...) dn_log(LOG_ERR, __VA_ARGS__)
#define dn_log_warning(...) dn_log(LOG_WARNING, __VA_ARGS__)
#define dn_log_info(...) dn_log(LOG_INFO, __VA_ARGS__)
