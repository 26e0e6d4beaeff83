/* Layer: one image layer's tar unpacked into a directory, nothing outside it */
#include "layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

static void read_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static void write_freep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

/* A name a layer may hold: relative, no ".." component (libarchive checks too). */
static bool name_ok(const char *name)
{
	if (!name || name[0] == '/')
		return false;
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		while (*p == '/')
			p++;
	}
	return true;
}

static int copy_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			return ARCHIVE_OK;
		if (r < ARCHIVE_OK)
			return r;
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_OK)
			return ARCHIVE_FATAL;
	}
}

static int unpack_here(int fd, const char *path, char *why, size_t why_len)
{
	_cleanup_(read_freep) struct archive *in = archive_read_new();
	_cleanup_(write_freep) struct archive *out = archive_write_disk_new();
	if (!in || !out)
		return -ENOMEM;
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL;
	archive_write_disk_set_options(out, flags);
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
		snprintf(why, why_len, "%s: %s", path, archive_error_string(in));
		return -EIO;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			snprintf(why, why_len, "%s: %s", path, archive_error_string(in));
			return -EIO;
		}
		const char *name = archive_entry_pathname(e);
		const char *link = archive_entry_hardlink(e);
		if (!name_ok(name) || (link && !name_ok(link))) {
			snprintf(why, why_len, "%s: entry '%s'%s%s leads out of the layer: refused",
				 path, name ? name : "", link ? " linked to " : "", link ? link : "");
			return -EPERM;
		}
		r = archive_write_header(out, e);
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0)
			r = copy_data(in, out);
		if (r == ARCHIVE_OK)
			r = archive_write_finish_entry(out);
		if (r < ARCHIVE_WARN) {
			snprintf(why, why_len, "%s: entry '%s': %s", path, name,
				 archive_error_string(out) ? archive_error_string(out)
							   : archive_error_string(in));
			return -EIO;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		snprintf(why, why_len, "%s: %s", path, archive_error_string(out));
		return -EIO;
	}
	return 0;
}

int dn_layer_unpack(const char *path, const char *dir, char *why, size_t why_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* libarchive writes relative to the working directory: go there, and back */
	_cleanup_close_ int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (back < 0 || chdir(dir) < 0) {
		snprintf(why, why_len, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	int r = unpack_here(fd, path, why, why_len);
	if (fchdir(back) < 0 && r == 0) {
		snprintf(why, why_len, "returning from %s: %s", dir, strerror(errno));
		r = -errno;
	}
	return r;
}
