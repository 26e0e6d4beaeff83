/* Internal Calls: glibc functions that reach files through calls no interposer sees */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "export.h"

/*
 * glibc's remove() calls its own unlink and rmdir, which bypass every
 * preloaded library: on a pool path it answered ENOENT and left the file,
 * or removed the host file behind the mountpoint. The same steps here go
 * through the library's unlink and rmdir (and to the kernel's for any other
 * path, as before).
 */
DN_EXPORT int remove(const char *path)
{
	if (unlink(path) == 0)
		return 0;
	if (errno != EISDIR)
		return -1;
	return rmdir(path);
}
