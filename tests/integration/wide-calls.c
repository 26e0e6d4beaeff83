/*
 * Wide Calls: every wide-character stdio entry point glibc exports, called on
 * a FILE over a file in the current directory; prints what each answers
 * (apps-scenarios.sh wide-stdio compares a kernel directory with a mount).
 * Usage: test-wide-calls files | test-wide-calls stdin < FILE | test-wide-calls stdout > FILE
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the _unlocked calls */
#endif
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* the names a C99 compiler's headers hide (GNU scanf) or never declare (_chk) */
int gnu_fwscanf(FILE *f, const wchar_t *fmt, ...) __asm__("fwscanf");
int gnu_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap) __asm__("vfwscanf");
int gnu_wscanf(const wchar_t *fmt, ...) __asm__("wscanf");
int gnu_vwscanf(const wchar_t *fmt, va_list ap) __asm__("vwscanf");
int __isoc99_fwscanf(FILE *f, const wchar_t *fmt, ...);
int __isoc99_vfwscanf(FILE *f, const wchar_t *fmt, va_list ap);
int __isoc99_wscanf(const wchar_t *fmt, ...);
int __isoc99_vwscanf(const wchar_t *fmt, va_list ap);
wchar_t *__fgetws_chk(wchar_t *buf, size_t size, int n, FILE *f);
wchar_t *__fgetws_unlocked_chk(wchar_t *buf, size_t size, int n, FILE *f);
int __fwprintf_chk(FILE *f, int flag, const wchar_t *fmt, ...);
int __vfwprintf_chk(FILE *f, int flag, const wchar_t *fmt, va_list ap);
int __wprintf_chk(int flag, const wchar_t *fmt, ...);
int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap);

static int v_gnu(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = f ? gnu_vfwscanf(f, fmt, ap) : gnu_vwscanf(fmt, ap);
	va_end(ap);
	return r;
}

static int v_c99(FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = f ? __isoc99_vfwscanf(f, fmt, ap) : __isoc99_vwscanf(fmt, ap);
	va_end(ap);
	return r;
}

static int v_print(int chk, FILE *f, const wchar_t *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = chk ? (f ? __vfwprintf_chk(f, 1, fmt, ap) : __vwprintf_chk(1, fmt, ap))
		    : (f ? vfwprintf(f, fmt, ap) : vwprintf(fmt, ap));
	va_end(ap);
	return r;
}

static FILE *make(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(name);
		exit(1);
	}
	f = fopen(name, "r");
	if (!f) {
		perror(name);
		exit(1);
	}
	return f;
}

/* where a stream stands after a call: its offset, EOF and error indicators */
static void state(const char *what, FILE *f)
{
	printf("  %s: tell %ld eof %d err %d\n", what, ftell(f), feof(f) != 0, ferror(f) != 0);
}

static void scans(void)
{
	FILE *f = make("scan", "12 h\303\251llo 3.5 100ergs x\n0x1fq -7 \316\261\316\262 end");
	int a = 0, b = 0, n = -1;
	wchar_t w[64] = L"";
	char s[64] = "";
	double d = 0;
	int r = fwscanf(f, L"%d %ls %lf%n", &a, w, &d, &n);
	printf("fwscanf %d %d %ls %g %d\n", r, a, w, d, n);
	r = fwscanf(f, L"%lf", &d);
	printf("fwscanf 100ergs %d %g\n", r, d);
	state("after", f);
	printf("fgetwc %x\n", (unsigned)fgetwc(f));
	r = gnu_fwscanf(f, L"%s %x", s, &a);
	printf("fwscanf(gnu) %d %s %x\n", r, s, a);
	r = __isoc99_fwscanf(f, L"%x %d", &a, &b);
	printf("__isoc99_fwscanf %d %x %d\n", r, a, b);
	state("after", f);
	r = v_gnu(f, L"%*c%d", &a);
	printf("vfwscanf(gnu) %d %d\n", r, a);
	r = v_c99(f, L" %lc%c%n", &w[0], s, &n);
	printf("__isoc99_vfwscanf %d %x %d\n", r, (unsigned)w[0], n);
	wchar_t *m = NULL;
	r = __isoc99_fwscanf(f, L"%mls", &m);
	printf("fwscanf %%m %d %ls\n", r, m ? m : L"(none)");
	free(m);
	r = fwscanf(f, L"%d", &a);
	printf("fwscanf at the end %d\n", r);
	state("end", f);
	fclose(f);

	/* a scan longer than any buffer: 20,000 digits, then a word */
	FILE *g = fopen("long", "w");
	for (int i = 0; i < 20000; i++)
		fputc('0' + i % 10, g);
	fputs(" w\303\266rd", g);
	fclose(g);
	g = fopen("long", "r");
	wchar_t *digits = NULL;
	r = fwscanf(g, L"%ml[0-9] %ls", &digits, w);
	printf("fwscanf long %d %zu %ls\n", r, digits ? wcslen(digits) : 0, w);
	free(digits);
	rewind(g);
	r = fwscanf(g, L"%*[0-9]%n %ls", &n, w);
	printf("fwscanf long skip %d %d %ls\n", r, n, w);
	state("long", g);
	fclose(g);

	/* a character cut by the end of a first read (4096 bytes): 4095 a's, then é */
	static wchar_t cut[8192];
	g = fopen("cut", "w");
	for (int i = 0; i < 4095; i++)
		fputc('a', g);
	fputs("\303\251z 9", g);
	fclose(g);
	g = fopen("cut", "r");
	a = 0;
	errno = 0;
	r = fwscanf(g, L"%ls %d", cut, &a);
	printf("fwscanf cut %d %zu %x %d %d %s\n", r, wcslen(cut), (unsigned)cut[4095], a,
	       ferror(g) != 0, strerror(errno));
	fclose(g);

	/* a bad sequence, a literal matched to the last byte, ungetwc then a scan */
	f = make("bad", "ab\377cd");
	r = fwscanf(f, L"%ls", w);
	printf("fwscanf bad %d %d\n", r, ferror(f) != 0);
	fclose(f);
	f = make("lit", "abc");
	r = fwscanf(f, L"abc");
	printf("fwscanf literal %d\n", r);
	state("literal", f);
	fclose(f);
	f = make("unget", "5 6");
	ungetwc(L'4', f);
	r = fwscanf(f, L"%d %d", &a, &b);
	printf("ungetwc+fwscanf %d %d %d\n", r, a, b);
	fclose(f);
	f = fopen("wonly", "w");
	errno = 0;
	r = fwscanf(f, L"%d", &a);
	printf("fwscanf write-only %d %s %d\n", r, strerror(errno), ferror(f) != 0);
	fclose(f);
}

static void reads(void)
{
	FILE *f = make("rd", "\303\251a\316\261b\ncd\nef\ngh\nij\nkl\n");
	wchar_t buf[16];
	printf("fwide %d\n", fwide(f, 0));
	printf("fgetwc %x\n", (unsigned)fgetwc(f));
	printf("getwc %x\n", (unsigned)getwc(f));
	printf("fgetwc_unlocked %x\n", (unsigned)fgetwc_unlocked(f));
	printf("getwc_unlocked %x\n", (unsigned)getwc_unlocked(f));
	printf("fgetws %ls", fgetws(buf, 16, f));
	printf("fgetws_unlocked %ls", fgetws_unlocked(buf, 16, f));
	printf("__fgetws_chk %ls", __fgetws_chk(buf, 16, 16, f));
	printf("__fgetws_unlocked_chk %ls", __fgetws_unlocked_chk(buf, 16, 16, f));
	printf("fwide %d\n", fwide(f, 1));
	state("reads", f);
	/* (glibc's own ftell is wrong after an ungetwc of another character: none after it) */
	printf("ungetwc %x\n", (unsigned)ungetwc(L'\u00e9', f));
	printf("then %x %x\n", (unsigned)fgetwc(f), (unsigned)fgetwc(f));
	fclose(f);
}

static void writes(void)
{
	FILE *f = fopen("wr", "w");
	printf("fputwc %x\n", (unsigned)fputwc(L'\u00e9', f));
	printf("putwc %x\n", (unsigned)putwc(L'a', f));
	printf("fputwc_unlocked %x\n", (unsigned)fputwc_unlocked(L'b', f));
	printf("putwc_unlocked %x\n", (unsigned)putwc_unlocked(L'\n', f));
	printf("fputws %d\n", fputws(L"x\u20acy\n", f) >= 0);
	printf("fputws_unlocked %d\n", fputws_unlocked(L"z\n", f) >= 0);
	printf("fwprintf %d\n", fwprintf(f, L"%d %ls\n", 42, L"\u00fc"));
	printf("__fwprintf_chk %d\n", __fwprintf_chk(f, 1, L"%5.2f|\n", 3.14159));
	printf("vfwprintf %d\n", v_print(0, f, L"%s\n", "n"));
	printf("__vfwprintf_chk %d\n", v_print(1, f, L"%lc\n", (wint_t)L'\u03c9'));
	errno = 0;
	wint_t bad = fputwc((wchar_t)0x7fffffff, f);
	printf("fputwc bad %x %s\n", (unsigned)bad, strerror(errno));
	fclose(f);
	f = fopen("wr", "r");
	char line[64];
	while (fgets(line, sizeof(line), f))
		printf("  wr: %s", line);
	fclose(f);
}

/* stdin is the file: the calls without a stream argument */
static void from_stdin(void)
{
	int a = 0, b = 0, c = 0, d = 0;
	printf("getwchar %x\n", (unsigned)getwchar());
	printf("getwchar_unlocked %x\n", (unsigned)getwchar_unlocked());
	int r = wscanf(L"%d", &a);
	printf("wscanf %d %d\n", r, a);
	r = gnu_wscanf(L"%d", &b);
	printf("wscanf(gnu) %d %d\n", r, b);
	r = v_c99(NULL, L"%d", &c);
	printf("vwscanf %d %d\n", r, c);
	r = v_gnu(NULL, L"%d", &d);
	printf("vwscanf(gnu) %d %d\n", r, d);
	r = __isoc99_wscanf(L"%d", &d);
	printf("__isoc99_wscanf %d %d\n", r, d);
	printf("rest %x\n", (unsigned)getwchar());
	r = wscanf(L"%d", &d);
	printf("wscanf at the end %d eof %d\n", r, feof(stdin) != 0);
}

/* stdout is the file: the calls without a stream argument */
static void to_stdout(void)
{
	putwchar(L'\u00e9');
	putwchar_unlocked(L'\n');
	wprintf(L"%d\n", 1);
	__wprintf_chk(1, L"%d\n", 2);
	v_print(0, NULL, L"%d\n", 3);
	v_print(1, NULL, L"%ls\n", L"\u03b4");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "C.UTF-8");
	if (argc != 2)
		return 2;
	if (!strcmp(argv[1], "stdin"))
		from_stdin();
	else if (!strcmp(argv[1], "stdout"))
		to_stdout();
	else {
		reads();
		writes();
		scans();
	}
	return 0;
}
