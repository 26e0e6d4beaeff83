/* Symlink-free Walks: one switch, set before the workers start, read by every backend walk */
#include "no-symlinks.h"

static bool refused;

void dn_walk_refuse_symlinks(void)
{
	refused = true;
}

bool dn_walk_symlinks_refused(void)
{
	return refused;
}
