/* File Position Lock: read and write at the file offset, one at a time per open file description */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Takes the lock of open file description ofd, whose refs (descriptors and
 * processes sharing it) is refs now; what it took, to be given back with
 * dn_pos_unlock. A call nested in one of this thread's (a signal handler's)
 * takes nothing.
 */
int dn_pos_lock(int32_t ofd, int32_t refs);
void dn_pos_unlock(int32_t ofd, int taken);

/*
 * A fork is about to happen (dn_client.lock held): the descriptions open
 * now are shared from its return on, though the child counts its
 * references only once it runs.
 */
void dn_pos_forking(void);
