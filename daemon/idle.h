/* Idle Polling: how long a worker polls empty queues before it sleeps on the doorbell */
#pragma once

#include <stdint.h>

/*
 * Waking a worker from its futex costs tens of microseconds here (on 2
 * vCPUs, the first 1 MiB read after a pause took ~70 us longer than the
 * next ones), so a worker whose clients come back soon after it went to
 * sleep should have polled a little longer. As with KVM's halt polling:
 * a sleep ended by a request within max_ns grows the poll window to cover
 * such a pause; a longer sleep halves it, back down to base_ns. An idle
 * pool still sleeps after base_ns, and costs no CPU.
 */
struct dn_idle {
	uint64_t base_ns, max_ns; /* max_ns >= base_ns */
	uint64_t poll_ns;         /* the window now */
};

void dn_idle_init(struct dn_idle *idle, uint64_t base_ns, uint64_t max_ns);

/* After a sleep: slept_ns from giving up polling to being woken. */
void dn_idle_slept(struct dn_idle *idle, uint64_t slept_ns);
