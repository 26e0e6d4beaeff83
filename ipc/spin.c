/* Client Spin: how long a client waiting on its reply polls before it sleeps */
#include "spin.h"

#include <stdbool.h>

#include "wire.h"

void dn_spin_begin(struct dn_spin *sp, uint64_t now, uint64_t word)
{
	*sp = (struct dn_spin){.began = now, .start = now, .seen = word};
}

void dn_spin_renew(struct dn_spin *sp, uint64_t now)
{
	sp->start = now;
}

enum dn_spin_verdict dn_spin_look(struct dn_spin *sp, uint64_t now, uint64_t word,
				  uint64_t spin_ns)
{
	bool settling = now - sp->began < DN_WORKER_SETTLE_NS;
	if (word != sp->seen) {
		sp->seen = word;
		if (settling) {
			sp->start = now;
			return DN_SPIN_RENEWED;
		}
	}
	if (now - sp->start <= spin_ns)
		return DN_SPIN_ON;
	if (settling && ((word & 1) || word >> 32 == DN_WORKER_MOVING))
		return DN_SPIN_ON;
	return DN_SPIN_SLEEP;
}
