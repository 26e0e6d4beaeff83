/* CDI Spec: a pool as a Container Device Interface device (danaus.io/pool=NAME) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The CDI kind of pools; a container asks for one with --device danaus.io/pool=NAME. */
#define DN_CDI_KIND "danaus.io/pool"
/* Where the library and the socket appear inside a container. */
#define DN_CDI_CONTAINER_DIR "/run/danaus"

/* What a container needs of the host to reach one pool. */
struct dn_cdi_pool {
	const char *name;        /* the pool's name: the CDI device name */
	const char *socket;      /* host path of the pool's socket */
	const char *mountpoint;  /* where the pool's files appear, in the container too */
	const char *more;        /* its other instances' mountpoints, ':'-separated; NULL, "": none */
	const char *library;     /* host path of libdanaus.so */
	const char *placeholder; /* host path of the file bound at the mountpoint */
	/* the pool mounts each instance at its mountpoint ([pool] compat_mount): bound instead
	 * of the placeholder */
	bool compat_mount;
};

/* The spec as JSON text (malloc'd; the caller frees it), or NULL with errno set. */
char *dn_cdi_spec_json(const struct dn_cdi_pool *p);

/* DIR/danaus-pool-NAME.json; negative errno when it does not fit. */
int dn_cdi_spec_path(const char *dir, const char *name, char *out, size_t len);

/* Writes the spec into DIR (made if missing) under a temporary name, then
 * renames it: a container engine reads the old spec or the new, never half.
 * 0 or negative errno. */
int dn_cdi_spec_write(const char *dir, const struct dn_cdi_pool *p);

/* PATH's text (malloc'd, NUL-terminated) into *TEXT: 0 or negative errno (-EFBIG past 1 MiB). */
int dn_cdi_spec_load(const char *path, char **text);

/*
 * Whether TEXT is a Danaus spec of pool NAME, as dn_cdi_spec_json writes
 * them: 0 with the host path of the socket it binds in OUT (of LEN), or
 * -EINVAL (another vendor's spec, another pool's, or no spec at all).
 */
int dn_cdi_spec_socket(const char *text, const char *name, char *out, size_t len);

/* Removes DIR's spec of pool NAME; 0 also when there was none. */
int dn_cdi_spec_remove(const char *dir, const char *name);

/* The one entry of the placeholder directory: a note on why the process sees it. */
#define DN_CDI_PLACEHOLDER_NOTE "DANAUS-NOT-SERVED"

/*
 * The directory bound read-only at each mountpoint inside containers:
 * "/danaus/t" then exists for "..", getcwd and the library's own fallbacks,
 * and a process the library does not serve (a static binary, an image whose
 * loader refused the library) sees no empty look-alike of the pool: a
 * read-only directory (EROFS on every write) whose only entry,
 * DN_CDI_PLACEHOLDER_NOTE, says why. Made (0555, the note 0444) if missing,
 * with its parents. 0 or negative errno.
 */
int dn_cdi_placeholder_ensure(const char *path);
