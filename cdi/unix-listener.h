/* Unix Listener: whether anyone listens on a unix socket's path, without connecting */
#pragma once

#include <stdbool.h>

/*
 * Whether a socket bound at PATH is listening in this network namespace
 * (/proc/net/unix, __SO_ACCEPTCON). A socket file left by a process that
 * died (SIGKILL) is no listener. Nothing connects: connecting to a
 * socket-activated unit's socket would start its service.
 */
bool dn_unix_listener_exists(const char *path);
