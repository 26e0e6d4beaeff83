/* Walks: which tree walks the library redoes on its own calls */
#pragma once

/*
 * 1 when a walk from dir can lead into the mount: a Danaus path or an
 * ancestor of the mountpoint (a walk of "/" must not see the empty host
 * placeholder); 0 for libc's own walk; -errno.
 */
int dn_walk_route(const char *dir);
