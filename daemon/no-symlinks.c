/* Symlink-free Walks: one switch per thread, read by every backend walk */
#include "no-symlinks.h"

static _Thread_local bool refused;

void dn_walk_refuse_symlinks(bool on)
{
	refused = on;
}

bool dn_walk_symlinks_refused(void)
{
	return refused;
}
