/* Memory Maps: mmap of Danaus fds */
#include "mmap.h"

void dn_mmap_flush_ofd(int32_t ofd)
{
	(void)ofd;
}
