/* Handshake: hello and welcome messages on a pool's unix socket */
#pragma once

#include <stddef.h>

#include "wire.h"

/*
 * The fds a welcome carries: session memory, the pool's worker states, then
 * the session's doorbells, one per worker (DN_WELCOME_FDS_MIN + nworkers).
 */
#define DN_WELCOME_FDS_MIN 2
#define DN_WELCOME_FDS_MAX (DN_WELCOME_FDS_MIN + DN_MAX_QUEUES)

/* Sends buf with up to nfds (at most DN_WELCOME_FDS_MAX) descriptors attached (SCM_RIGHTS). */
int dn_msg_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/*
 * Receives one message of exactly len bytes; up to *nfds descriptors land in
 * fds (CLOEXEC), *nfds becomes how many came. Surplus descriptors are closed.
 */
int dn_msg_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds);

/* Client side: connects to path (SOCK_SEQPACKET, CLOEXEC). */
int dn_socket_connect(const char *path);
