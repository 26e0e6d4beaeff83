/* Idle Polling: grow the poll window after short sleeps, shrink it after long ones */
#include "idle.h"

void dn_idle_init(struct dn_idle *idle, uint64_t base_ns, uint64_t max_ns)
{
	idle->base_ns = base_ns;
	idle->max_ns = max_ns > base_ns ? max_ns : base_ns;
	idle->poll_ns = base_ns;
}

void dn_idle_slept(struct dn_idle *idle, uint64_t slept_ns)
{
	if (slept_ns > idle->max_ns) {
		idle->poll_ns /= 2;
		if (idle->poll_ns < idle->base_ns)
			idle->poll_ns = idle->base_ns;
		return;
	}
	/* the pause was the window plus the sleep; cover it with room to spare */
	uint64_t pause = idle->poll_ns + slept_ns;
	uint64_t grown = pause + pause / 2;
	if (grown < 2 * idle->poll_ns)
		grown = 2 * idle->poll_ns;
	idle->poll_ns = grown < idle->max_ns ? grown : idle->max_ns;
}
