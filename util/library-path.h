/* Library Path: where libdanaus.so is, for danaus-run and the CDI specs */
#pragma once

#include <stddef.h>

/*
 * libdanaus.so's path: GIVEN if not NULL, else $DANAUS_LIBRARY, else the
 * installed one (DN_LIBDIR), else the build tree's (../preload beside the
 * running executable's directory). 0, or negative errno with OUT set to the
 * path that was looked for last.
 */
int dn_library_find(const char *given, char *out, size_t len);
