/* Stat More: what a backend's stat told beyond struct stat, for the reply that answers it */
#include "svc.h"

static _Thread_local struct dn_stat_more more;

void dn_stat_more_set(const struct dn_stat_more *m)
{
	more = *m;
}

void dn_stat_more_clear(void)
{
	more.mask = 0;
}

bool dn_stat_more_get(const struct stat *st, struct dn_stat_more *m)
{
	if (!more.mask || more.dev != st->st_dev || more.ino != st->st_ino)
		return false;
	*m = more;
	return true;
}
