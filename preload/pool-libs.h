/* Pool Libraries: shared objects stored in a mount, handed to the dynamic loader */
#pragma once

#include <stdbool.h>

/* Whether dlopen(file) is ours: a name with a '/' that routes to a mount. */
bool dn_pool_lib_wanted(const char *file);

/*
 * dlopen, or with namespaced dlmopen(lmid), of file from its pool: NULL
 * with dlerror's text, as glibc answers for a kernel path.
 */
void *dn_pool_lib_open(const char *file, int mode, bool namespaced, long lmid);

/* dlerror's message, with our names of pool libraries put back as the caller's paths. */
char *dn_pool_lib_error(char *glibc_message);
