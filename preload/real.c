/* Real Symbols: the libc functions behind every interposed one, resolved once */
#include "real.h"

#include <dlfcn.h>

struct dn_real_table dn_real;

void dn_real_init(void)
{
/* POSIX's way to store dlsym's object pointer into a function pointer. */
#define DN_REAL_RESOLVE(name, ret, args) *(void **)&dn_real.name = dlsym(RTLD_NEXT, #name);
	DN_REAL_ALL(DN_REAL_RESOLVE)
#undef DN_REAL_RESOLVE
	dn_real_fill_missing(&dn_real);
}
