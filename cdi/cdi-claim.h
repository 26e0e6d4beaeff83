/* CDI Claim: a pool started by hand holds its spec while it runs, and gives it back */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * A pool on a socket of its own writes its spec over whatever was there
 * (say the generator's, naming systemd's socket). When it exits, a spec
 * that names its socket would send containers to a dead pool, so:
 *   - a spec someone else wrote since (the generator, another pool) stays;
 *   - otherwise the spec that was there before comes back if someone still
 *     listens on the socket it names (systemd's, on another path than ours;
 *     not the file a pool killed by SIGKILL left);
 *   - otherwise the spec goes, and `podman run --device danaus.io/pool=NAME`
 *     fails as an unresolvable CDI device.
 */
struct dn_cdi_claim {
	char path[PATH_MAX]; /* the spec; "" when none is held */
	dev_t dev;          /* the file written, by identity: a rename replaces it */
	ino_t ino;
	char *previous;     /* the spec before ours (malloc'd), or NULL */
	char name[256];     /* the pool */
};

/* Before the spec is written: remembers DIR's spec of pool NAME as it is. 0 or negative errno. */
int dn_cdi_claim_begin(struct dn_cdi_claim *c, const char *dir, const char *name);

/* After it was written: the file now there is ours. 0 or negative errno (then nothing is held). */
int dn_cdi_claim_hold(struct dn_cdi_claim *c);

/* At exit, OUR_SOCKET gone or going: puts back or removes the spec as above; frees the claim. */
void dn_cdi_claim_end(struct dn_cdi_claim *c, const char *our_socket);
