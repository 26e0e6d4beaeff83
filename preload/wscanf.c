/* Wide Scanf: fwscanf and its variants on our FILE streams, by glibc's own scanner */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wchar.h>

#include "export.h"
#include "memfd.h"
#include "real.h"
#include "stdio-std.h"

/*
 * glibc's wide scanner follows the missing wide buffer of a cookie stream
 * (ours). It runs here on a wide stream of glibc's own over a memfd holding
 * a copy of the next bytes of ours; what it did not consume is pushed back.
 * It only ever reads one character past what it consumes, so a scan that
 * did not reach the copy's end is exactly the scan of the stream itself;
 * one that did is run again over a copy twice as long. Our streams are
 * regular files (pool FIFOs are kernel fds), so reading ahead never waits.
 */

/* %m (and GNU %a) allocate: such a scan is not run twice (it would leak), the copy is all the rest. */
static bool allocates(const wchar_t *fmt)
{
	for (const wchar_t *p = fmt; (p = wcschr(p, L'%')) != NULL;) {
		p++;
		while (*p == L'*' || *p == L'$' || *p == L'\'' || *p == L'I' ||
		       (*p >= L'0' && *p <= L'9'))
			p++;
		if (*p == L'm' || *p == L'a')
			return true;
		if (*p == L'%')
			p++;
	}
	return false;
}

struct scan {
	int ret;
	int err;
	size_t used;  /* bytes of the copy consumed */
	bool hit_end; /* the scanner read the copy's end */
	bool bad;     /* an invalid multibyte sequence stopped it */
};

/* Runs the scanner over buf[0, len): -errno when the copy cannot be made. */
typedef int scanner(FILE *, const wchar_t *, va_list);

static int scan_copy(const char *buf, size_t len, const wchar_t *fmt, va_list ap, scanner *real,
		     struct scan *s)
{
	int fd = dn_memfd_create("danaus-wscanf", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t done = 0; done < len;) {
		ssize_t w = REAL(write)(fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			REAL(close)(fd);
			return -e;
		}
		done += (size_t)w;
	}
	FILE *m = REAL(lseek)(fd, 0, SEEK_SET) == 0 ? REAL(fdopen)(fd, "r") : NULL;
	if (!m) {
		int e = errno;
		REAL(close)(fd);
		return -e;
	}
	va_list aq;
	va_copy(aq, ap);
	errno = 0;
	s->ret = real(m, fmt, aq);
	s->err = errno;
	va_end(aq);
	s->hit_end = feof(m) != 0;
	s->bad = ferror(m) != 0;
	off_t at = s->bad ? -1 : ftello(m);
	/* after a bad sequence glibc cannot say where it is: it stopped at or after what it consumed */
	s->used = at < 0 ? len : (size_t)at;
	fclose(m);
	return 0;
}

/* The stream locked by the caller. */
static int scan_ours(FILE *f, const wchar_t *fmt, va_list ap, scanner *real)
{
	int saved = errno;
	if (!__freadable(f)) {
		errno = EBADF; /* as glibc's, the stream's error indicator left alone */
		return EOF;
	}
	size_t want = allocates(fmt) ? SIZE_MAX : 4096, len = 0, cap = 0;
	char *buf = NULL;
	bool end = false; /* the stream had no more (its end, or an error) */
	int read_err = 0;
	struct scan s = {0};
	for (;;) {
		while (!end && len < want) {
			if (len == cap) {
				size_t ncap = cap ? cap * 2 : 4096;
				char *nb = realloc(buf, ncap);
				if (!nb) {
					s.ret = EOF;
					s.err = ENOMEM;
					goto give_back;
				}
				buf = nb;
				cap = ncap;
			}
			size_t step = cap - len < want - len ? cap - len : want - len;
			size_t n = fread_unlocked(buf + len, 1, step, f);
			len += n;
			if (n < step) {
				end = true;
				read_err = ferror_unlocked(f) ? errno : 0;
			}
		}
		int r = scan_copy(buf, len, fmt, ap, real, &s);
		if (r < 0) {
			s.ret = EOF;
			s.err = -r;
			s.used = 0;
			goto give_back;
		}
		if (!s.hit_end || end)
			break;
		want *= 2;
	}
	if (s.hit_end && read_err)
		s.err = read_err; /* the scanner met our stream's error: its errno */
	if (s.bad)
		f->_flags |= 0x0020; /* _IO_ERR_SEEN: glibc's wide stream marks the error */
give_back:
	/* nothing read past (a literal matched to the last byte): not at the end yet */
	if (buf && !s.hit_end && len == s.used && feof_unlocked(f) && !ferror_unlocked(f))
		clearerr_unlocked(f);
	while (len > s.used)
		if (ungetc((unsigned char)buf[--len], f) == EOF)
			break;
	free(buf);
	errno = s.err ? s.err : saved;
	return s.ret;
}

/* One of ours, which a wide scan makes wide (if nothing oriented it before). */
static bool ours(FILE *f)
{
	return f && dn_stdio_orient(f, 1) != DN_STDIO_NOT_OURS;
}

static int scan_locked(FILE *f, const wchar_t *fmt, va_list ap, scanner *real)
{
	if (!real) {
		errno = ENOSYS; /* (a glibc without the variant: no program of it calls it) */
		return EOF;
	}
	flockfile(f);
	int r = scan_ours(f, fmt, ap, real);
	funlockfile(f);
	return r;
}

/*
 * A C99 compiler's wchar.h renames fwscanf and the rest to their __isoc99_
 * names (glibc 2.38 on: __isoc23_, which read %b); the old GNU ones (%a
 * allocates) keep theirs by an asm label here.
 */
int __isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...);
int __isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap);
int __isoc99_wscanf(const wchar_t *fmt, ...);
int __isoc99_vwscanf(const wchar_t *fmt, va_list ap);
int __isoc23_fwscanf(FILE *f, const wchar_t *fmt, ...);
int __isoc23_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap);
int __isoc23_wscanf(const wchar_t *fmt, ...);
int __isoc23_vwscanf(const wchar_t *fmt, va_list ap);
int gnu_fwscanf(FILE *f, const wchar_t *fmt, ...) __asm__("fwscanf");
int gnu_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap) __asm__("vfwscanf");
int gnu_wscanf(const wchar_t *fmt, ...) __asm__("wscanf");
int gnu_vwscanf(const wchar_t *fmt, va_list ap) __asm__("vwscanf");

DN_EXPORT int gnu_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
{
	return ours(f) ? scan_locked(f, fmt, ap, REAL(vfwscanf)) : REAL(vfwscanf)(f, fmt, ap);
}

DN_EXPORT int __isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
{
	return ours(f) ? scan_locked(f, fmt, ap, REAL(__isoc99_vfwscanf))
		       : REAL(__isoc99_vfwscanf)(f, fmt, ap);
}

DN_EXPORT int gnu_vwscanf(const wchar_t *fmt, va_list ap)
{
	return gnu_vfwscanf(stdin, fmt, ap);
}

DN_EXPORT int __isoc99_vwscanf(const wchar_t *fmt, va_list ap)
{
	return __isoc99_vfwscanf(stdin, fmt, ap);
}

DN_EXPORT int gnu_fwscanf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = gnu_vfwscanf(f, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc99_vfwscanf(f, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int gnu_wscanf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = gnu_vfwscanf(stdin, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __isoc99_wscanf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc99_vfwscanf(stdin, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __isoc23_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap)
{
	return ours(f) ? scan_locked(f, fmt, ap, REAL(__isoc23_vfwscanf))
		       : REAL(__isoc23_vfwscanf)(f, fmt, ap);
}

DN_EXPORT int __isoc23_vwscanf(const wchar_t *fmt, va_list ap)
{
	return __isoc23_vfwscanf(stdin, fmt, ap);
}

DN_EXPORT int __isoc23_fwscanf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc23_vfwscanf(f, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __isoc23_wscanf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __isoc23_vfwscanf(stdin, fmt, ap);
	va_end(ap);
	return r;
}
