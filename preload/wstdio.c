/* Wide Stdio: fgetwc, fputws, fwprintf... on our FILE streams; dprintf on Danaus fds */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "export.h"
#include "fdtable.h"
#include "real.h"
#include "stdio-std.h"

/*
 * Our streams over Danaus files are glibc cookie streams, whose wide
 * side glibc never sets up: its fgetws on one follows a bad pointer
 * (util-linux rev crashed), its fputws fails. For ours, the wide calls are made here of the
 * byte calls, converting by the locale as glibc's wide streams do; every
 * other FILE goes to glibc untouched.
 */
#ifndef _IO_ERR_SEEN
#define _IO_ERR_SEEN 0x0020 /* libio.h: the stream's error indicator */
#endif

/* One of ours, which a wide call makes wide (if nothing oriented it before). */
static bool ours(FILE *f)
{
	return f && dn_stdio_orient(f, 1) != DN_STDIO_NOT_OURS;
}

static void set_error(FILE *f)
{
	f->_flags |= _IO_ERR_SEEN;
	errno = EILSEQ;
}

/* One character, the stream locked by the caller. */
static wint_t get_ours(FILE *f)
{
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	for (size_t n = 0;; n++) {
		int c = getc_unlocked(f);
		if (c == EOF) {
			if (n && !ferror_unlocked(f))
				set_error(f); /* a character cut off by the end */
			return WEOF;
		}
		char ch = (char)c;
		wchar_t wc;
		size_t r = mbrtowc(&wc, &ch, 1, &st);
		if (r == (size_t)-2)
			continue;
		if (r == (size_t)-1) {
			set_error(f);
			return WEOF;
		}
		return (wint_t)wc;
	}
}

static wint_t put_ours(wchar_t wc, FILE *f)
{
	char b[MB_LEN_MAX];
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	size_t n = wcrtomb(b, wc, &st);
	if (n == (size_t)-1) {
		set_error(f);
		return WEOF;
	}
	return fwrite_unlocked(b, 1, n, f) == n ? (wint_t)wc : WEOF;
}

static wchar_t *gets_ours(wchar_t *buf, int n, FILE *f)
{
	if (n <= 0)
		return NULL;
	int i = 0;
	bool failed = false;
	while (i < n - 1) {
		wint_t c = get_ours(f);
		if (c == WEOF) {
			failed = ferror_unlocked(f);
			break;
		}
		buf[i++] = (wchar_t)c;
		if (c == L'\n')
			break;
	}
	/* as glibc: nothing read, or an error on the way, is NULL */
	if ((i == 0 && n > 1) || failed)
		return NULL;
	buf[i] = L'\0';
	return buf;
}

static int puts_ours(const wchar_t *s, FILE *f)
{
	for (; *s; s++)
		if (put_ours(*s, f) == WEOF)
			return EOF;
	return 1; /* glibc's success */
}

/* The same, each under the stream's lock, as glibc's locked calls take it. */
static wint_t get_locked(FILE *f)
{
	flockfile(f);
	wint_t r = get_ours(f);
	funlockfile(f);
	return r;
}

static wint_t put_locked(wchar_t wc, FILE *f)
{
	flockfile(f);
	wint_t r = put_ours(wc, f);
	funlockfile(f);
	return r;
}

static wchar_t *gets_locked(wchar_t *buf, int n, FILE *f)
{
	flockfile(f);
	wchar_t *r = gets_ours(buf, n, f);
	funlockfile(f);
	return r;
}

static int puts_locked(const wchar_t *s, FILE *f)
{
	flockfile(f);
	int r = puts_ours(s, f);
	funlockfile(f);
	return r;
}

/* glibc's names without a declaration in its headers */
wint_t _IO_getwc(FILE *f);
wint_t _IO_putwc(wchar_t wc, FILE *f);
wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f);
wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *f);
int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap);
int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...);
int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap);
int __wprintf_chk(int flag, const wchar_t *fmt, ...);

DN_EXPORT wint_t fgetwc(FILE *f)
{
	return ours(f) ? get_locked(f) : REAL(fgetwc)(f);
}

DN_EXPORT wint_t getwc(FILE *f)
{
	return ours(f) ? get_locked(f) : REAL(getwc)(f);
}

DN_EXPORT wint_t _IO_getwc(FILE *f)
{
	return ours(f) ? get_locked(f) : REAL(_IO_getwc)(f);
}

DN_EXPORT wint_t fgetwc_unlocked(FILE *f)
{
	return ours(f) ? get_ours(f) : REAL(fgetwc_unlocked)(f);
}

DN_EXPORT wint_t getwc_unlocked(FILE *f)
{
	return ours(f) ? get_ours(f) : REAL(getwc_unlocked)(f);
}

DN_EXPORT wint_t getwchar(void)
{
	return ours(stdin) ? get_locked(stdin) : REAL(getwchar)();
}

DN_EXPORT wint_t getwchar_unlocked(void)
{
	return ours(stdin) ? get_ours(stdin) : REAL(getwchar_unlocked)();
}

DN_EXPORT wchar_t *fgetws(wchar_t *buf, int n, FILE *f)
{
	return ours(f) ? gets_locked(buf, n, f) : REAL(fgetws)(buf, n, f);
}

DN_EXPORT wchar_t *fgetws_unlocked(wchar_t *buf, int n, FILE *f)
{
	return ours(f) ? gets_ours(buf, n, f) : REAL(fgetws_unlocked)(buf, n, f);
}

DN_EXPORT wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f)
{
	if (!ours(f))
		return REAL(__fgetws_chk)(buf, size, n, f);
	if ((size_t)n > size)
		__chk_fail();
	return gets_locked(buf, n, f);
}

DN_EXPORT wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *f)
{
	if (!ours(f))
		return REAL(__fgetws_unlocked_chk)(buf, size, n, f);
	if ((size_t)n > size)
		__chk_fail();
	return gets_ours(buf, n, f);
}

static wint_t unget_ours(wint_t wc, FILE *f)
{
	char b[MB_LEN_MAX];
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	size_t n = wc == WEOF ? (size_t)-1 : wcrtomb(b, (wchar_t)wc, &st);
	if (n == (size_t)-1)
		return WEOF;
	/* glibc's byte streams take several bytes back (a backup area) */
	while (n > 0)
		if (ungetc((unsigned char)b[--n], f) == EOF)
			return WEOF;
	return wc;
}

static wint_t unget_locked(wint_t wc, FILE *f)
{
	flockfile(f);
	wint_t r = unget_ours(wc, f);
	funlockfile(f);
	return r;
}

DN_EXPORT wint_t ungetwc(wint_t wc, FILE *f)
{
	return ours(f) ? unget_locked(wc, f) : REAL(ungetwc)(wc, f);
}

DN_EXPORT wint_t fputwc(wchar_t wc, FILE *f)
{
	return ours(f) ? put_locked(wc, f) : REAL(fputwc)(wc, f);
}

DN_EXPORT wint_t putwc(wchar_t wc, FILE *f)
{
	return ours(f) ? put_locked(wc, f) : REAL(putwc)(wc, f);
}

DN_EXPORT wint_t _IO_putwc(wchar_t wc, FILE *f)
{
	return ours(f) ? put_locked(wc, f) : REAL(_IO_putwc)(wc, f);
}

DN_EXPORT wint_t fputwc_unlocked(wchar_t wc, FILE *f)
{
	return ours(f) ? put_ours(wc, f) : REAL(fputwc_unlocked)(wc, f);
}

DN_EXPORT wint_t putwc_unlocked(wchar_t wc, FILE *f)
{
	return ours(f) ? put_ours(wc, f) : REAL(putwc_unlocked)(wc, f);
}

DN_EXPORT wint_t putwchar(wchar_t wc)
{
	return ours(stdout) ? put_locked(wc, stdout) : REAL(putwchar)(wc);
}

DN_EXPORT wint_t putwchar_unlocked(wchar_t wc)
{
	return ours(stdout) ? put_ours(wc, stdout) : REAL(putwchar_unlocked)(wc);
}

DN_EXPORT int fputws(const wchar_t *s, FILE *f)
{
	return ours(f) ? puts_locked(s, f) : REAL(fputws)(s, f);
}

DN_EXPORT int fputws_unlocked(const wchar_t *s, FILE *f)
{
	return ours(f) ? puts_ours(s, f) : REAL(fputws_unlocked)(s, f);
}

/* Formatted into a wide memory stream first, then written as fputws does. */
static int vprintf_ours(FILE *f, const wchar_t *fmt, va_list ap)
{
	wchar_t *buf = NULL;
	size_t len = 0;
	FILE *m = open_wmemstream(&buf, &len);
	if (!m)
		return -1;
	int n = REAL(vfwprintf)(m, fmt, ap);
	if (fclose(m) != 0 || n < 0) {
		free(buf);
		return -1;
	}
	int r = puts_locked(buf, f);
	free(buf);
	return r == EOF ? -1 : n;
}

DN_EXPORT int vfwprintf(FILE *f, const wchar_t *fmt, va_list ap)
{
	return ours(f) ? vprintf_ours(f, fmt, ap) : REAL(vfwprintf)(f, fmt, ap);
}

DN_EXPORT int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap)
{
	return ours(f) ? vprintf_ours(f, fmt, ap) : REAL(__vfwprintf_chk)(f, flag, fmt, ap);
}

DN_EXPORT int fwprintf(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfwprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vfwprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
	return vfwprintf(stdout, fmt, ap);
}

DN_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
	return __vfwprintf_chk(stdout, flag, fmt, ap);
}

DN_EXPORT int wprintf(const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfwprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __wprintf_chk(int flag, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vfwprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* Our wide calls are byte calls to glibc: the stream's orientation is kept beside it. */
DN_EXPORT int fwide(FILE *f, int mode)
{
	int r = f ? dn_stdio_orient(f, mode) : DN_STDIO_NOT_OURS;
	return r == DN_STDIO_NOT_OURS ? REAL(fwide)(f, mode) : r;
}

/*
 * dprintf formats into a FILE of glibc's own over the fd, which writes
 * with an internal write no preload sees: on a Danaus fd, our placeholder
 * (EBADF). Formatted here, then written through write(2) as glibc would.
 */
__attribute__((format(printf, 2, 0))) static int vdprintf_ours(int fd, const char *fmt, va_list ap)
{
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	if (n < 0)
		return -1;
	size_t done = 0;
	while (done < (size_t)n) {
		ssize_t w = write(fd, s + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			free(s);
			return -1;
		}
		done += (size_t)w;
	}
	free(s);
	return n;
}

int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int __dprintf_chk(int fd, int flag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

DN_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return dn_fdmap_get(fd) >= 0 ? vdprintf_ours(fd, fmt, ap) : REAL(vdprintf)(fd, fmt, ap);
}

DN_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return dn_fdmap_get(fd) >= 0 ? vdprintf_ours(fd, fmt, ap)
				     : REAL(__vdprintf_chk)(fd, flag, fmt, ap);
}

DN_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

DN_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}
