/* Dynamic Loading: dlopen(3), dlmopen(3) and dlerror(3) of libraries in a mount */
#include <dlfcn.h>

#include "export.h"
#include "pool-libs.h"
#include "real.h"

/*
 * glibc's loader opens and maps a library with internal calls, so a
 * library stored in a pool is served from a copy (pool-libs.c). Every
 * other name must reach glibc exactly as the program passed it, including
 * who called: glibc searches a bare name along the caller's RUNPATH and
 * expands $ORIGIN from it, and finds the caller by dlopen's return
 * address. The fallback is therefore the last call with nothing left to
 * do after it, which this file is built to turn into a jump
 * (meson.build: -O2 -foptimize-sibling-calls, whatever the build type).
 */
DN_EXPORT void *dlopen(const char *file, int mode)
{
	if (dn_pool_lib_wanted(file))
		return dn_pool_lib_open(file, mode, false, 0);
	return REAL(dlopen)(file, mode);
}

DN_EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	if (dn_pool_lib_wanted(file))
		return dn_pool_lib_open(file, mode, true, lmid);
	return REAL(dlmopen)(lmid, file, mode);
}

DN_EXPORT char *dlerror(void)
{
	return dn_pool_lib_error(REAL(dlerror)());
}
