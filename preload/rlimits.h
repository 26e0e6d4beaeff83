/* Resource Limits: the process's RLIMIT_FSIZE, which the kernel applies to writes */
#pragma once

#include <stdint.h>

/* Reads the limit anew (start-up; after a change the library did not see). */
void dn_limits_refresh(void);

/* The limit as requests carry it: RLIMIT_FSIZE + 1, 0 when unlimited (wire.h). */
uint64_t dn_limits_fsize_wire(void);

/* Whether a file may grow to end bytes; if not, SIGXFSZ is raised, as the kernel does. */
int dn_limits_fsize_check(uint64_t end);

/* The pool refused a write for the limit (DN_REPLY_SIGXFSZ): the signal, then EFBIG. */
int dn_limits_fsize_exceeded(void);
