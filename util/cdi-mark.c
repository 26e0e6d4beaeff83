/* CDI Mark: the variable each pool's CDI spec sets, so a container given two pools can tell */
#include "cdi-mark.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int dn_cdi_mark_key(const char *pool, char *out, size_t len)
{
	size_t n = strlen(DN_CDI_MARK_PREFIX);
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, DN_CDI_MARK_PREFIX, n);
	for (const unsigned char *c = (const unsigned char *)pool; *c; c++) {
		size_t need = alnum(*c) ? 1 : 3;
		if (n + need >= len)
			return -ENAMETOOLONG;
		if (need == 1)
			out[n] = (char)*c;
		else
			snprintf(out + n, 4, "_%02X", *c);
		n += need;
	}
	out[n] = 0;
	return 0;
}
