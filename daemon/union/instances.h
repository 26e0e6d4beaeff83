/* Container Instances: a union per container, made when its first process attaches */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../svc.h"

/*
 * The containers of a pool ([union] containers): container NAME is the union
 * of an image of the pool's store under the writable layer CONTAINERS/NAME,
 * which outlives it (the next run of NAME finds it) unless a process asked
 * for --rm. A container belongs to the uid that made it: others may not
 * attach, except root with CAP_DAC_OVERRIDE. Only the pool's acceptor thread
 * calls these.
 */
struct dn_instances;

struct dn_instances *dn_instances_new(struct dn_svc *below, const char *containers);
void dn_instances_free(struct dn_instances *t);

/*
 * The union of container name for a process of c, made or shared (one more
 * user); image must be what the container runs. 0 and *svc, or -errno and
 * why (a line for the client).
 */
int dn_instances_acquire(struct dn_instances *t, const struct dn_cred *c, const char *name,
			 const char *image, bool rm, struct dn_svc **svc, char *why,
			 size_t whylen);

/* One user less of svc (nothing when svc is no instance). */
void dn_instances_release(struct dn_instances *t, struct dn_svc *svc);

/*
 * Unions nobody used for a grace time go (a program's exec attaches anew
 * right after its old image let go), their writable layer too when asked.
 * Answers whether some wait for their time (the caller looks again).
 */
bool dn_instances_reap(struct dn_instances *t, uint64_t now_ns);
