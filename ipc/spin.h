/* Client Spin: how long a client waiting on its reply polls before it sleeps */
#pragma once

#include <stdint.h>

/* What a waiting client sees of its worker: its CPU (high half), whether it sleeps (bit 0). */
static inline uint64_t dn_worker_word(uint32_t cpu, uint32_t sleeping)
{
	return (uint64_t)cpu << 32 | (sleeping ? 1u : 0u);
}

struct dn_spin {
	uint64_t began; /* when the wait began */
	uint64_t start; /* when this spin began: the wait, progress, or a change of the worker */
	uint64_t seen;  /* the worker word at the last look */
};

enum dn_spin_verdict {
	DN_SPIN_ON,      /* poll again */
	DN_SPIN_RENEWED, /* the worker woke up or moved: poll again, a fresh spin */
	DN_SPIN_SLEEP,   /* sleep on the buffer's futex */
};

void dn_spin_begin(struct dn_spin *sp, uint64_t now, uint64_t word);

/* A fresh spin from now: data arrived, or the client was woken. */
void dn_spin_renew(struct dn_spin *sp, uint64_t now);

/*
 * After spin_ns without a reply the client sleeps, except while its worker
 * settles (see DN_WORKER_SETTLE_NS): up to that long into the wait, a
 * worker asleep or moving keeps it polling, and any change of the worker's
 * word renews the spin.
 */
enum dn_spin_verdict dn_spin_look(struct dn_spin *sp, uint64_t now, uint64_t word,
				  uint64_t spin_ns);
