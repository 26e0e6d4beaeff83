/* Metrics Socket: the pool's counters as Prometheus text, to those who may read them */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct dn_metrics_socket;

/* Writes the metrics text into f: 0 or -errno. */
typedef int (*dn_metrics_render_fn)(void *ctx, FILE *f);
/* Whether a peer with these credentials (SO_PEERCRED, SO_PEERGROUPS) may read them. */
typedef bool (*dn_metrics_allow_fn)(void *ctx, uid_t uid, gid_t gid, const gid_t *groups,
				    size_t ngroups);

/*
 * Serves listen_fd (a listening AF_UNIX SOCK_STREAM socket, which stays the
 * caller's) on a thread of its own, one reader at a time, so a reader
 * never holds up the workers or the acceptor. A reader that sends an HTTP
 * request gets an HTTP/1.0 answer (curl --unix-socket); one that sends
 * nothing within 100 ms gets the bare text (socat, danaus-ctl). A reader
 * that has not taken the whole answer within two seconds is dropped.
 */
int dn_metrics_socket_start(struct dn_metrics_socket **out, int listen_fd,
			    dn_metrics_render_fn render, dn_metrics_allow_fn allow, void *ctx);
/* Stops and joins the thread; accepts NULL and returns NULL. */
struct dn_metrics_socket *dn_metrics_socket_stop(struct dn_metrics_socket *ms);
