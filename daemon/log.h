/* Service Log: journald when systemd runs us, stderr otherwise */
#pragma once

#include <syslog.h>

void dn_log_init(const char *pool);
void dn_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define dn_log_error(...) dn_log(LOG_ERR, __VA_ARGS__)
#define dn_log_warning(...) dn_log(LOG_WARNING, __VA_ARGS__)
#define dn_log_info(...) dn_log(LOG_INFO, __VA_ARGS__)
