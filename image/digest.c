/* Digest: sha256 of a blob as stored, and of the tar stream inside it */
#include "digest.h"

#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

static void hex_of(EVP_MD_CTX *ctx, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(ctx, md, &n);
	strcpy(out, "sha256:");
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static void md_freep(EVP_MD_CTX **c)
{
	if (*c)
		EVP_MD_CTX_free(*c);
}

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}

static int blob_digest(const char *path, char *out, char *why, size_t why_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	_cleanup_(md_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		return -ENOMEM;
	char buf[1 << 16];
	for (ssize_t n; (n = read(fd, buf, sizeof(buf))) != 0;) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, why_len, "reading %s: %s", path, strerror(errno));
			return -errno;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	hex_of(ctx, out);
	return 0;
}

/* The decompressed stream: libarchive's filters with the "raw" format. */
static int diff_digest(const char *path, char *out, char *why, size_t why_len)
{
	_cleanup_(archive_freep) struct archive *a = archive_read_new();
	_cleanup_(md_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!a || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		return -ENOMEM;
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		snprintf(why, why_len, "%s: %s", path, archive_error_string(a));
		return -EIO;
	}
	char buf[1 << 16];
	for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof(buf))) != 0;) {
		if (n < 0) {
			snprintf(why, why_len, "%s: %s", path, archive_error_string(a));
			return -EIO;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	hex_of(ctx, out);
	return 0;
}

int dn_digest_file(const char *path, char *blob, char *diff, char *why, size_t why_len)
{
	int r = blob_digest(path, blob, why, why_len);
	if (r == 0 && diff)
		r = diff_digest(path, diff, why, why_len);
	return r;
}

bool dn_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
