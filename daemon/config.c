/* Pool Configuration: danaus.ini defaults + pools/<pool>.ini, read with inih */
#include "config.h"
#include "image-ref.h"

#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <arpa/inet.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define NAME_MAX_LEN 64 /* pool names and cephx ids */
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
#define WORKERS_MAX 64
#define QUEUES_MAX 64
#define POLL_US_MAX 100000
#define READ_THREADS_MAX 256
#define READ_THREADS_UNSET UINT_MAX
#define ID_MAX 4294967294ul /* (uid_t)-1 means "no id" to the kernel */
#define CPU_QUOTA_MAX 100000
#define CPUS_MAX 4096
#define SIZE_MIN 4096
#define IO_WEIGHT_MAX 10000
#define MOUNT_TIMEOUT_MAX 3600
#define CEPH_CONF_DEFAULT "/etc/ceph/ceph.conf"
#define CEPH_ID_DEFAULT "admin"
#define CEPH_ROOT_DEFAULT "/"
#define CEPH_MOUNT_TIMEOUT_DEFAULT 30
#define CEPH_ENTRY_TIMEOUT_DEFAULT 1.0 /* seconds: as FUSE's default entry_timeout */
#define CEPH_ENTRY_TIMEOUT_MAX 3600
/* seconds: as FUSE's default attr_timeout, and the pool's entry_timeout */
#define CEPH_ATTR_TIMEOUT_DEFAULT 1.0
#define CEPH_ATTR_TIMEOUT_MAX 3600
/* seconds: as fuse-overlayfs's (FUSE's default attr_timeout) */
#define UNION_ATTR_TIMEOUT_DEFAULT 1.0
#define SESSIONS_PER_UID_DEFAULT 128
#define LOCK_OWNERS_PER_UID_DEFAULT 1024
#define HELLO_TIMEOUT_DEFAULT 5

/* Users and groups go through one list parser. */
_Static_assert(sizeof(uid_t) == sizeof(id_t) && sizeof(gid_t) == sizeof(id_t),
               "uid_t, gid_t and id_t share one representation");

/*
 * One file (or string) being parsed. inih gets its lines through reader(),
 * which counts them exactly as inih does, so handlers know their line number
 * even though this inih passes none.
 */
struct parse_state {
	struct dn_config *cfg;
	const char *name; /* file name used in messages */
	FILE *file;       /* source: a file ... */
	const char *pos;  /* ... or the rest of a string */
	char *buf;        /* getline() buffer for file */
	size_t bufsize;
	int read_errno;
	unsigned line;         /* line last handed to inih */
	unsigned section_line; /* line of the last [section] header */
	uint64_t seen;         /* bit per keys[] entry already given in this file */
	const char **from;     /* optional, per keys[] entry: name of the file that set it */
	const char *key;       /* key being set, for messages */
	unsigned err_line;     /* line inih will report for err (0: no error yet) */
	int err_code;
	char err[DN_CONFIG_ERR_MAX];
};

static bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static void config_freep(struct dn_config **cfg) { dn_config_free(*cfg); }

static _printf_(3, 4) void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Records "NAME:SHOWN: WHAT: reason" unless an error was already recorded:
 * like inih, the first error wins. `at` is the line inih will report for it.
 */
static _printf_(6, 0) int record_v(struct parse_state *st, int code, unsigned at, unsigned shown,
                                   const char *what, const char *fmt, va_list ap)
{
	int n;

	if (st->err_line)
		return code;
	if (what)
		n = snprintf(st->err, sizeof(st->err), "%s:%u: %s: ", st->name, shown, what);
	else
		n = snprintf(st->err, sizeof(st->err), "%s:%u: ", st->name, shown);
	if (n >= 0 && (size_t)n < sizeof(st->err))
		vsnprintf(st->err + n, sizeof(st->err) - (size_t)n, fmt, ap);
	st->err_line = at;
	st->err_code = code;
	return code;
}

static _printf_(6, 7) int record(struct parse_state *st, int code, unsigned at, unsigned shown,
                                 const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_v(st, code, at, shown, what, fmt, ap);
	va_end(ap);
	return code;
}

/* Fails the key being set, on the current line, with -EINVAL. */
static _printf_(2, 3) int fail(struct parse_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_v(st, -EINVAL, st->line, st->line, st->key, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int fail_nomem(struct parse_state *st)
{
	return record(st, -ENOMEM, st->line, st->line, st->key, "out of memory");
}

/* Next raw line without its newline; false at end of input or on error. */
static bool next_line(struct parse_state *st, const char **s, size_t *len)
{
	if (st->file) {
		errno = 0;
		ssize_t n = getline(&st->buf, &st->bufsize, st->file);
		if (n < 0) {
			if (ferror(st->file))
				st->read_errno = errno ? errno : EIO;
			return false;
		}
		if (n > 0 && st->buf[n - 1] == '\n')
			n--;
		/* inih would end the line at a NUL and take what is left for the value */
		if (memchr(st->buf, 0, (size_t)n))
			record(st, -EINVAL, st->line + 1, st->line + 1, NULL,
			       "NUL byte in the line");
		*s = st->buf;
		*len = (size_t)n;
		return true;
	}
	if (!*st->pos)
		return false;
	*s = st->pos;
	*len = strcspn(st->pos, "\n");
	st->pos += *len + (st->pos[*len] == '\n');
	return true;
}

/*
 * fgets()-style reader for ini_parse_stream(). Strips leading blanks so inih
 * never sees a continuation line (an indented "key = v" would otherwise be
 * appended to the previous key's value), and turns a line longer than inih's
 * buffer into an error instead of letting inih split it into two lines.
 */
static char *reader(char *buf, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *s;
	size_t len;

	if (num < 2 || !next_line(st, &s, &len))
		return NULL;
	st->line++;
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	if (len > 0 && *s == '[')
		st->section_line = st->line;
	if (len > (size_t)num - 2) {
		record(st, -EINVAL, st->line, st->line, NULL,
		       "line too long (more than %d characters)", num - 2);
		len = 0;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

static int set_string(struct parse_state *st, char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return fail_nomem(st);
	free(*dst);
	*dst = s;
	return 0;
}

/*
 * Reads the decimal digits at *s (no sign, no blanks) and moves *s past them
 * all: 0, -EINVAL when there are none, -ERANGE when they overflow.
 */
static int read_u64(const char **s, uint64_t *out)
{
	const char *p = *s;
	uint64_t n = 0;
	bool overflow = false;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			overflow = true;
		n = n * 10 + d;
	}
	*s = p;
	*out = n;
	return overflow ? -ERANGE : 0;
}

/* Strict unsigned decimal: digits only, within min..max. */
static int parse_ulong(struct parse_state *st, const char *value, unsigned long min,
                       unsigned long max, unsigned long *out)
{
	const char *end = value;
	uint64_t n = 0;
	int r = read_u64(&end, &n);

	if (r == -EINVAL || *end)
		return fail(st, "'%s' is not a number", value);
	if (r == -ERANGE || n < min || n > max)
		return fail(st, "'%s' is out of range %lu..%lu", value, min, max);
	*out = (unsigned long)n;
	return 0;
}

static int parse_uint(struct parse_state *st, const char *value, unsigned min, unsigned max,
                      unsigned *dst)
{
	unsigned long n = 0;
	int r = parse_ulong(st, value, min, max, &n);

	if (r == 0)
		*dst = (unsigned)n;
	return r;
}

/* Seconds, with an optional decimal fraction ("0.25"), within 0..max. */
static int parse_seconds(struct parse_state *st, const char *value, unsigned max, double *dst)
{
	const char *end = value;
	uint64_t n = 0;
	int r = read_u64(&end, &n);
	double frac = 0, scale = 1;

	if (r == -EINVAL)
		return fail(st, "'%s' is not a number of seconds", value);
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return fail(st, "'%s' is not a number of seconds", value);
		for (end++; *end >= '0' && *end <= '9'; end++) {
			scale /= 10;
			frac += (*end - '0') * scale;
		}
	}
	if (*end)
		return fail(st, "'%s' is not a number of seconds", value);
	if (r == -ERANGE || n > max || (n == max && frac > 0))
		return fail(st, "'%s' is out of range 0..%u", value, max);
	*dst = (double)n + frac;
	return 0;
}

/*
 * Bytes, with an optional suffix K, M, G or T (powers of 1024), at least
 * min; "infinity" (UINT64_MAX) where infinity_ok.
 */
static int parse_size_min(struct parse_state *st, const char *value, bool infinity_ok,
			  uint64_t min, uint64_t *dst)
{
	static const char suffixes[] = "KMGT";
	const char *end = value;
	unsigned shift = 0;
	uint64_t n = 0;
	int r;

	if (infinity_ok && streq(value, "infinity")) {
		*dst = UINT64_MAX;
		return 0;
	}
	r = read_u64(&end, &n);
	if (r == -EINVAL || (*end && (end[1] || !strchr(suffixes, *end))))
		return fail(st, "'%s' is not a size (use %s)", value,
		            infinity_ok ? "K, M, G, T or infinity" : "K, M, G or T");
	if (*end)
		shift = 10 * (unsigned)(strchr(suffixes, *end) - suffixes + 1);
	if (r == -ERANGE || n > UINT64_MAX >> shift)
		return fail(st, "'%s' is too large", value);
	n <<= shift;
	if (n < min)
		return fail(st, "'%s' is too small (at least %" PRIu64 " bytes)", value, min);
	*dst = n;
	return 0;
}

static int parse_size(struct parse_state *st, const char *value, bool infinity_ok, uint64_t *dst)
{
	return parse_size_min(st, value, infinity_ok, SIZE_MIN, dst);
}

/* Marks the CPUs of a list like "0-3, 6" in on[]: 0, -EINVAL, or -ERANGE for a CPU >= CPUS_MAX. */
static int cpu_list_parse(const char *s, bool on[CPUS_MAX])
{
	for (;;) {
		uint64_t a = 0, b = 0;
		int r;

		s += strspn(s, " \t");
		r = read_u64(&s, &a);
		b = a;
		if (r == 0 && *s == '-') {
			s++;
			r = read_u64(&s, &b);
		}
		if (r == -EINVAL || (r == 0 && a > b))
			return -EINVAL;
		if (r == -ERANGE || b >= CPUS_MAX)
			return -ERANGE;
		while (a <= b)
			on[a++] = true;
		s += strspn(s, " \t");
		if (!*s)
			return 0;
		if (*s++ != ',')
			return -EINVAL;
	}
}

/*
 * Absolute path with repeated and trailing slashes removed; "." and ".."
 * components are refused rather than resolved, so the path means what it says.
 */
static int parse_path(struct parse_state *st, const char *value, bool allow_root, char **dst)
{
	_cleanup_free_ char *p = NULL;
	const char *s = value;
	size_t n = 0;

	if (value[0] != '/')
		return fail(st, "'%s' is not an absolute path", value);
	p = malloc(strlen(value) + 2);
	if (!p)
		return fail_nomem(st);
	while (*s) {
		size_t len;

		s += strspn(s, "/");
		if (!*s)
			break;
		len = strcspn(s, "/");
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return fail(st, "'%s' must not contain '.' or '..' components", value);
		p[n++] = '/';
		memcpy(p + n, s, len);
		n += len;
		s += len;
	}
	if (n == 0) {
		if (!allow_root)
			return fail(st, "'%s' must not be the root directory", value);
		p[n++] = '/';
	}
	p[n] = '\0';
	free(*dst);
	*dst = TAKE_PTR(p);
	return 0;
}

/* Resolves a user or group name: 0, -ENOENT when unknown, or another -errno. */
static int id_lookup(const char *name, bool group, id_t *id)
{
	long max = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size_t size = max > 0 ? (size_t)max : 1024;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		int r;

		if (!buf)
			return -ENOMEM;
		if (group) {
			struct group gr, *res = NULL;

			r = getgrnam_r(name, &gr, buf, size, &res);
			if (r == 0 && res) {
				*id = res->gr_gid;
				return 0;
			}
		} else {
			struct passwd pw, *res = NULL;

			r = getpwnam_r(name, &pw, buf, size, &res);
			if (r == 0 && res) {
				*id = res->pw_uid;
				return 0;
			}
		}
		/* Not found is 0 in glibc; POSIX lets others say ENOENT or ESRCH. */
		if (r == 0 || r == ENOENT || r == ESRCH)
			return -ENOENT;
		if (r != ERANGE || size >= (1u << 20))
			return -r;
		size *= 2;
	}
}

/* Comma and/or blank separated names or numeric ids; empty means no list. */
static int parse_ids(struct parse_state *st, const char *value, bool group, id_t **dst,
                     size_t *n_dst)
{
	static const char sep[] = ", \t";
	const char *kind = group ? "group" : "user";
	_cleanup_free_ id_t *ids = NULL;
	size_t n = 0, cap = 0;
	const char *s = value;

	for (s += strspn(s, sep); *s; s += strspn(s, sep)) {
		size_t len = strcspn(s, sep);
		_cleanup_free_ char *tok = strndup(s, len);
		unsigned long num = 0;
		id_t id = 0;
		int r;

		if (!tok)
			return fail_nomem(st);
		s += len;
		if (tok[strspn(tok, "0123456789")] == '\0') {
			r = parse_ulong(st, tok, 0, ID_MAX, &num);
			if (r < 0)
				return r;
			id = (id_t)num;
		} else {
			r = id_lookup(tok, group, &id);
			if (r == -ENOENT)
				return fail(st, "unknown %s '%s'", kind, tok);
			if (r == -ENOMEM)
				return fail_nomem(st);
			if (r < 0)
				return record(st, r, st->line, st->line, st->key,
				              "cannot look up %s '%s': %s", kind, tok,
				              strerror(-r));
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			id_t *grown = reallocarray(ids, ncap, sizeof(*ids));

			if (!grown)
				return fail_nomem(st);
			ids = grown;
			cap = ncap;
		}
		ids[n++] = id;
	}
	free(*dst);
	*dst = TAKE_PTR(ids);
	*n_dst = n;
	return 0;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NAME_MAX_LEN && s[strspn(s, NAME_CHARS)] == '\0';
}

static int set_backend(struct parse_state *st, const char *value)
{
	if (!streq(value, "local") && !streq(value, "ceph"))
		return fail(st, "unknown backend '%s' (expected local or ceph)", value);
	return set_string(st, &st->cfg->backend, value);
}

/* Well-formed UTF-8 without control characters (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
static bool utf8_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p, n, cp;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return false;
		p += n + 1;
	}
	return true;
}

static int parse_mountpoint(struct parse_state *st, const char *value, char **dst)
{
	/* It reaches unit names, CDI specs and every program's path checks. */
	if (!utf8_printable(value))
		return fail(st, "not valid UTF-8, or holds control characters");
	/* (DANAUS_MOUNTS lists mountpoints colon-separated) */
	if (strchr(value, ':'))
		return fail(st, "'%s' holds a ':'", value);
	return parse_path(st, value, false, dst);
}

static int set_mountpoint(struct parse_state *st, const char *value)
{
	return parse_mountpoint(st, value, &st->cfg->mountpoint);
}

static int set_workers(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, WORKERS_MAX, &st->cfg->workers);
}

static int set_queues(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, QUEUES_MAX, &st->cfg->queues);
}

static int set_poll_us(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 0, POLL_US_MAX, &st->cfg->poll_us);
}

static int set_read_threads(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 0, READ_THREADS_MAX, &st->cfg->read_threads);
}

static int set_poll_max_us(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 0, POLL_US_MAX, &st->cfg->poll_max_us);
}

static int set_request_timeout(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, 3600, &st->cfg->request_timeout);
}

static int set_local_root(struct parse_state *st, const char *value)
{
	st->cfg->local_root_line = st->line;
	return parse_path(st, value, true, &st->cfg->local_root);
}

static int parse_bool(struct parse_state *st, const char *value, bool *dst)
{
	if (streq(value, "yes") || streq(value, "true") || streq(value, "1")) {
		*dst = true;
		return 0;
	}
	if (streq(value, "no") || streq(value, "false") || streq(value, "0")) {
		*dst = false;
		return 0;
	}
	return fail(st, "'%s' is not yes or no", value);
}

static int set_local_allow_system_root(struct parse_state *st, const char *value)
{
	return parse_bool(st, value, &st->cfg->local_allow_system_root);
}

static int set_compat_mount(struct parse_state *st, const char *value)
{
	return parse_bool(st, value, &st->cfg->compat_mount);
}

static int set_sessions_per_uid(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, 65536, &st->cfg->sessions_per_uid);
}

static int set_open_files_per_uid(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, 1048576, &st->cfg->open_files_per_uid);
}

static int set_lock_owners_per_uid(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, 65536, &st->cfg->lock_owners_per_uid);
}

static int set_hello_timeout(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, 600, &st->cfg->hello_timeout);
}

static int set_users(struct parse_state *st, const char *value)
{
	return parse_ids(st, value, false, &st->cfg->users, &st->cfg->n_users);
}

static int set_groups(struct parse_state *st, const char *value)
{
	return parse_ids(st, value, true, &st->cfg->groups, &st->cfg->n_groups);
}

static int set_cpu_quota(struct parse_state *st, const char *value)
{
	const char *end = value;
	uint64_t n = 0;
	int r = read_u64(&end, &n);

	if (r == -EINVAL || !streq(end, "%"))
		return fail(st, "'%s' is not a percentage (like 150%%)", value);
	if (r == -ERANGE || n < 1 || n > CPU_QUOTA_MAX)
		return fail(st, "'%s' is out of range 1%%..%d%%", value, CPU_QUOTA_MAX);
	st->cfg->cpu_quota_pct = (unsigned)n;
	return 0;
}

/* Stored normalized: sorted, merged ranges ("6,0-2,3" becomes "0-3,6"). */
static int set_cpus(struct parse_state *st, const char *value)
{
	bool on[CPUS_MAX] = {false};
	char *list = NULL;
	size_t len = 0;
	const char *sep = "";
	FILE *f;
	int r = cpu_list_parse(value, on);

	if (r == -ERANGE)
		return fail(st, "'%s' is not a CPU list (CPUs are 0..%d)", value, CPUS_MAX - 1);
	if (r < 0)
		return fail(st, "'%s' is not a CPU list", value);
	f = open_memstream(&list, &len);
	if (!f)
		return fail_nomem(st);
	for (unsigned a = 0; a < CPUS_MAX; a++) {
		unsigned b = a;

		if (!on[a])
			continue;
		while (b + 1 < CPUS_MAX && on[b + 1])
			b++;
		if (a == b)
			fprintf(f, "%s%u", sep, a);
		else
			fprintf(f, "%s%u-%u", sep, a, b);
		sep = ",";
		a = b;
	}
	if (fclose(f) != 0) {
		free(list);
		return fail_nomem(st);
	}
	free(st->cfg->cpus);
	st->cfg->cpus = list;
	return 0;
}

static int set_memory_max(struct parse_state *st, const char *value)
{
	return parse_size(st, value, true, &st->cfg->memory_max);
}

static int set_memory_high(struct parse_state *st, const char *value)
{
	return parse_size(st, value, true, &st->cfg->memory_high);
}

static int set_io_weight(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, IO_WEIGHT_MAX, &st->cfg->io_weight);
}

static int set_ceph_conf(struct parse_state *st, const char *value)
{
	return parse_path(st, value, false, &st->cfg->ceph_conf);
}

static int set_ceph_id(struct parse_state *st, const char *value)
{
	if (!name_valid(value))
		return fail(st, "'%s' is not a client id (1..%d of A-Z a-z 0-9 _ . -)", value,
		            NAME_MAX_LEN);
	return set_string(st, &st->cfg->ceph_id, value);
}

static int set_ceph_keyring(struct parse_state *st, const char *value)
{
	return parse_path(st, value, false, &st->cfg->ceph_keyring);
}

static int set_ceph_root(struct parse_state *st, const char *value)
{
	return parse_path(st, value, true, &st->cfg->ceph_root);
}

static int set_ceph_cache_size(struct parse_state *st, const char *value)
{
	return parse_size(st, value, false, &st->cfg->ceph_cache_size);
}

/* 0 (off), or whole blocks of the library's read cache, at most DN_CONFIG_READ_CACHE_MAX */
static int set_ceph_read_cache(struct parse_state *st, const char *value)
{
	uint64_t n;
	if (streq(value, "0")) {
		st->cfg->ceph_read_cache = 0;
		return 0;
	}
	int r = parse_size_min(st, value, false, DN_CONFIG_READ_CACHE_BLOCK, &n);
	if (r < 0)
		return r;
	if (n > DN_CONFIG_READ_CACHE_MAX)
		return fail(st, "'%s' is too large (at most 4G: each process may hold that much)",
			    value);
	if (n % DN_CONFIG_READ_CACHE_BLOCK)
		return fail(st, "'%s' is not a multiple of 64K (the cache's blocks), or 0 for none",
			    value);
	st->cfg->ceph_read_cache = n;
	return 0;
}

static int set_ceph_mount_timeout(struct parse_state *st, const char *value)
{
	return parse_uint(st, value, 1, MOUNT_TIMEOUT_MAX, &st->cfg->ceph_mount_timeout);
}

static int set_ceph_entry_timeout(struct parse_state *st, const char *value)
{
	return parse_seconds(st, value, CEPH_ENTRY_TIMEOUT_MAX, &st->cfg->ceph_entry_timeout);
}

static int set_ceph_attr_timeout(struct parse_state *st, const char *value)
{
	return parse_seconds(st, value, CEPH_ATTR_TIMEOUT_MAX, &st->cfg->ceph_attr_timeout);
}

static int set_ceph_memory_log(struct parse_state *st, const char *value)
{
	return parse_bool(st, value, &st->cfg->ceph_memory_log);
}

/* One entry of [ceph] networks: an IPv4 or IPv6 address with an optional prefix, or localhost. */
static bool network_valid(const char *s)
{
	if (streq(s, "localhost"))
		return true;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = 0;
	unsigned char bin[16];
	int bits = inet_pton(AF_INET, addr, bin) == 1 ? 32 : inet_pton(AF_INET6, addr, bin) == 1 ? 128 : 0;
	if (!bits)
		return false;
	if (!slash)
		return true;
	char *end;
	errno = 0;
	unsigned long prefix = strtoul(slash + 1, &end, 10);
	return slash[1] >= '0' && slash[1] <= '9' && !*end && !errno && prefix <= (unsigned long)bits;
}

static int set_ceph_networks(struct parse_state *st, const char *value)
{
	_cleanup_free_ char *copy = strdup(value);
	char *list = NULL;
	size_t len = 0;
	if (!copy)
		return fail_nomem(st);
	FILE *f = open_memstream(&list, &len);
	if (!f)
		return fail_nomem(st);
	const char *sep = "";
	char *save = NULL;
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (!network_valid(tok)) {
			fclose(f);
			free(list);
			return fail(st, "'%s' is not an IP address, a network (address/prefix) or "
					"localhost", tok);
		}
		fprintf(f, "%s%s", sep, tok);
		sep = " ";
	}
	if (fclose(f) != 0) {
		free(list);
		return fail_nomem(st);
	}
	if (!*list) {
		free(list);
		return fail(st, "no network given (leave the key out to allow any)");
	}
	free(st->cfg->ceph_networks);
	st->cfg->ceph_networks = list;
	return 0;
}

static void layers_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Layers PATH[:PATH...], top first, as overlayfs' lowerdir=, into *list (replaced). */
static int parse_layers(struct parse_state *st, const char *value, char ***dst, size_t *ndst)
{
	char **list = NULL;
	size_t n = 0;
	int r = 0;
	for (const char *s = value; r == 0;) {
		size_t len = strcspn(s, ":");
		_cleanup_free_ char *one = strndup(s, len);
		char **grown = reallocarray(list, n + 1, sizeof(*list));
		if (!one || !grown) {
			free(grown ? grown : list);
			list = NULL;
			r = fail_nomem(st);
			break;
		}
		list = grown;
		list[n] = NULL;
		if (len == 0)
			r = fail(st, "an empty layer in '%s'", value);
		else if (n + 1 >= DN_UNION_LAYERS_MAX)
			r = fail(st, "more than %d layers", DN_UNION_LAYERS_MAX - 1);
		else if ((r = parse_path(st, one, false, &list[n])) == 0)
			n++;
		s += len;
		if (!*s)
			break;
		s++;
	}
	if (r < 0) {
		layers_free(list, n);
		return r;
	}
	layers_free(*dst, *ndst);
	*dst = list;
	*ndst = n;
	return 0;
}

/* [union] lower */
static int set_union_attr_timeout(struct parse_state *st, const char *value)
{
	return parse_seconds(st, value, CEPH_ATTR_TIMEOUT_MAX, &st->cfg->union_attr_timeout);
}

static int set_union_lower(struct parse_state *st, const char *value)
{
	st->cfg->union_line = st->line;
	return parse_layers(st, value, &st->cfg->union_lower, &st->cfg->n_union_lower);
}

/* [union] image: NAME[:TAG] of the pool's image store, its layers the lower ones */
static int set_union_image(struct parse_state *st, const char *value)
{
	char ref[DN_IMAGE_REF_MAX];
	if (dn_image_ref(value, ref, sizeof(ref)) < 0)
		return fail(st, "'%s' is not an image name (NAME[:TAG])", value);
	st->cfg->union_line = st->line;
	return set_string(st, &st->cfg->union_image, ref);
}

static int set_union_containers(struct parse_state *st, const char *value)
{
	st->cfg->union_line = st->line;
	return parse_path(st, value, false, &st->cfg->union_containers);
}

static int set_union_upper(struct parse_state *st, const char *value)
{
	st->cfg->union_line = st->line;
	return parse_path(st, value, false, &st->cfg->union_upper);
}

static const char *const sections[] = {"pool", "local", "access", "limits", "resources", "ceph",
				       "union"};

struct key {
	const char *section;
	const char *name;
	bool empty_ok; /* an empty value is meaningful (an empty list) */
	int (*set)(struct parse_state *st, const char *value);
};

/* clang-format off */
static const struct key keys[] = {
	{"pool",      "backend",       false, set_backend},
	{"pool",      "mountpoint",    false, set_mountpoint},
	{"pool",      "workers",       false, set_workers},
	{"pool",      "queues",        false, set_queues},
	{"pool",      "poll_us",       false, set_poll_us},
	{"pool",      "poll_max_us",   false, set_poll_max_us},
	{"pool",      "read_threads",  false, set_read_threads},
	{"pool",      "request_timeout", false, set_request_timeout},
	{"pool",      "compat_mount",  false, set_compat_mount},
	{"local",     "root",          false, set_local_root},
	{"local",     "allow_system_root", false, set_local_allow_system_root},
	{"access",    "users",         true,  set_users},
	{"access",    "groups",        true,  set_groups},
	{"limits",    "sessions_per_uid", false, set_sessions_per_uid},
	{"limits",    "open_files_per_uid", false, set_open_files_per_uid},
	{"limits",    "lock_owners_per_uid", false, set_lock_owners_per_uid},
	{"limits",    "hello_timeout", false, set_hello_timeout},
	{"resources", "cpu_quota",     false, set_cpu_quota},
	{"resources", "cpus",          false, set_cpus},
	{"resources", "memory_max",    false, set_memory_max},
	{"resources", "memory_high",   false, set_memory_high},
	{"resources", "io_weight",     false, set_io_weight},
	{"ceph",      "conf",          false, set_ceph_conf},
	{"ceph",      "id",            false, set_ceph_id},
	{"ceph",      "keyring",       false, set_ceph_keyring},
	{"ceph",      "root",          false, set_ceph_root},
	{"ceph",      "cache_size",    false, set_ceph_cache_size},
	{"ceph",      "read_cache",    false, set_ceph_read_cache},
	{"ceph",      "mount_timeout", false, set_ceph_mount_timeout},
	{"ceph",      "memory_log",    false, set_ceph_memory_log},
	{"ceph",      "entry_timeout", false, set_ceph_entry_timeout},
	{"ceph",      "attr_timeout",  false, set_ceph_attr_timeout},
	{"ceph",      "networks",      false, set_ceph_networks},
	{"union",     "lower",         false, set_union_lower},
	{"union",     "upper",         false, set_union_upper},
	{"union",     "image",         false, set_union_image},
	{"union",     "containers",    false, set_union_containers},
	{"union",     "attr_timeout",  false, set_union_attr_timeout},
};
/* clang-format on */

_Static_assert(DN_ARRAY_SIZE(keys) <= 64, "parse_state.seen has one bit per key");

static bool section_known(const char *section)
{
	for (size_t i = 0; i < DN_ARRAY_SIZE(sections); i++)
		if (streq(section, sections[i]))
			return true;
	return false;
}

static bool mount_name_valid(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= NAME_MAX_LEN && s[0] != '.' && strspn(s, NAME_CHARS) == n;
}

/* [mount NAME] from an earlier section or file, or a new one; NULL when out of room. */
static struct dn_config_mount *mount_get(struct parse_state *st, const char *name)
{
	struct dn_config *cfg = st->cfg;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (streq(cfg->mounts[i].name, name))
			return &cfg->mounts[i];
	if (cfg->n_mounts == DN_CONFIG_MOUNTS_MAX) {
		fail(st, "more than %d [mount] sections", DN_CONFIG_MOUNTS_MAX);
		return NULL;
	}
	struct dn_config_mount *v = reallocarray(cfg->mounts, cfg->n_mounts + 1, sizeof(*v));
	if (!v) {
		fail_nomem(st);
		return NULL;
	}
	cfg->mounts = v;
	struct dn_config_mount *m = &v[cfg->n_mounts];
	*m = (struct dn_config_mount){.name = strdup(name)};
	if (!m->name) {
		fail_nomem(st);
		return NULL;
	}
	cfg->n_mounts++;
	return m;
}

static const char *const mount_keys[] = {"mountpoint", "path", "lower", "upper", "image",
					 "access_users", "access_groups"};

/* A key of [mount NAME] (section holds what follows "mount"): as handler(). */
static int mount_key(struct parse_state *st, const char *section, const char *name,
		     const char *value)
{
	section += strspn(section, " \t");
	if (!mount_name_valid(section)) {
		record(st, -EINVAL, st->line, st->section_line, NULL,
		       "[mount %s]: a mount's name is 1 to %d of [A-Za-z0-9_.-], not starting "
		       "with '.'", section, NAME_MAX_LEN);
		return 0;
	}
	size_t k = 0;
	while (k < DN_ARRAY_SIZE(mount_keys) && !streq(name, mount_keys[k]))
		k++;
	if (k == DN_ARRAY_SIZE(mount_keys)) {
		record(st, -EINVAL, st->line, st->line, name, "unknown key in [mount %s]", section);
		return 0;
	}
	st->key = mount_keys[k];
	struct dn_config_mount *m = mount_get(st, section);
	if (!m)
		return 0;
	if (m->seen_in != st->cfg->parses) {
		m->seen = 0;
		m->seen_in = st->cfg->parses;
	}
	int r = 0;
	if (m->seen & (1u << k))
		r = fail(st, "duplicate key");
	else if (!*value)
		r = fail(st, "empty value");
	m->seen |= 1u << k;
	if (r < 0)
		return 0;
	switch (k) {
	case 0: r = parse_mountpoint(st, value, &m->mountpoint); break;
	case 1: r = parse_path(st, value, true, &m->path); break;
	case 2: r = parse_layers(st, value, &m->lower, &m->n_lower); break;
	case 3: r = parse_path(st, value, false, &m->upper); break;
	case 5: r = parse_ids(st, value, false, &m->users, &m->n_users); break;
	case 6: r = parse_ids(st, value, true, &m->groups, &m->n_groups); break;
	default: {
		char ref[DN_IMAGE_REF_MAX];
		r = dn_image_ref(value, ref, sizeof(ref)) < 0
			    ? fail(st, "'%s' is not an image name (NAME[:TAG])", value)
			    : set_string(st, &m->image, ref);
	}
	}
	if (r < 0)
		return 0;
	char *file = strdup(st->name);
	if (!file) {
		fail_nomem(st);
		return 0;
	}
	free(m->file);
	m->file = file;
	m->line = st->section_line;
	return 1;
}

/* inih handler: nonzero to go on, zero to make inih report this line. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;

	/* Only the first error is reported; the rest of the file is not applied. */
	if (st->err_line)
		return 1;
	if (!*section) {
		record(st, -EINVAL, st->line, st->line, name, "key outside of any section");
		return 0;
	}
	if (strncmp(section, "mount", 5) == 0 && (section[5] == ' ' || section[5] == '\t' ||
						    !section[5]))
		return mount_key(st, section + 5, name, value);
	if (!section_known(section)) {
		/* Shown at the header, though inih reports the first key under it. */
		record(st, -EINVAL, st->line, st->section_line, NULL, "[%s]: unknown section",
		       section);
		return 0;
	}
	for (size_t i = 0; i < DN_ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		if (!streq(section, k->section) || !streq(name, k->name))
			continue;
		st->key = k->name;
		if (st->seen & (UINT64_C(1) << i)) {
			fail(st, "duplicate key");
			return 0;
		}
		st->seen |= UINT64_C(1) << i;
		if (!*value && !k->empty_ok) {
			fail(st, "empty value");
			return 0;
		}
		if (k->set(st, value) < 0)
			return 0;
		if (st->from)
			st->from[i] = st->name;
		return 1;
	}
	record(st, -EINVAL, st->line, st->line, name, "unknown key in [%s]", section);
	return 0;
}

static int parse_run(struct parse_state *st, char *err, size_t errlen)
{
	st->cfg->parses++;
	int ret = ini_parse_stream(reader, st, handler, st);

	if (st->read_errno) {
		err_set(err, errlen, "%s: read error: %s", st->name, strerror(st->read_errno));
		return -st->read_errno;
	}
	if (ret == -2) {
		err_set(err, errlen, "%s: out of memory", st->name);
		return -ENOMEM;
	}
	/* inih returns the first failing line: ours, or an earlier syntax error. */
	if (st->err_line && (ret <= 0 || (unsigned)ret >= st->err_line)) {
		err_set(err, errlen, "%s", st->err);
		return st->err_code;
	}
	if (ret > 0) {
		err_set(err, errlen, "%s:%d: syntax error", st->name, ret);
		return -EINVAL;
	}
	if (ret < 0) {
		err_set(err, errlen, "%s: cannot parse (inih error %d)", st->name, ret);
		return -EIO;
	}
	return 0;
}

int dn_config_parse_string(struct dn_config *cfg, const char *name, const char *text, char *err,
                           size_t errlen)
{
	struct parse_state st = {.cfg = cfg, .name = name, .pos = text};

	return parse_run(&st, err, errlen);
}

/*
 * Parses one file into cfg, noting in from[] which keys it set; an optional
 * file that does not exist is fine.
 */
static int parse_file(struct dn_config *cfg, const char *path, bool optional, const char **from,
                      char *err, size_t errlen)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	struct parse_state st = {.cfg = cfg, .name = path, .from = from};
	int r;

	if (!f) {
		int e = errno;

		if (optional && e == ENOENT)
			return 0;
		err_set(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	st.file = f;
	r = parse_run(&st, err, errlen);
	free(st.buf);
	return r;
}

static bool pool_name_valid(const char *pool) { return name_valid(pool) && pool[0] != '.'; }

/* NULL with errno EINVAL for an invalid pool name, ENOMEM when out of memory. */
struct dn_config *dn_config_new(const char *pool)
{
	_cleanup_(config_freep) struct dn_config *cfg = NULL;

	if (!pool || !pool_name_valid(pool)) {
		errno = EINVAL;
		return NULL;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->pool = strdup(pool);
	cfg->backend = strdup("local");
	cfg->ceph_conf = strdup(CEPH_CONF_DEFAULT);
	cfg->ceph_id = strdup(CEPH_ID_DEFAULT);
	cfg->ceph_root = strdup(CEPH_ROOT_DEFAULT);
	if (!cfg->pool || !cfg->backend || !cfg->ceph_conf || !cfg->ceph_id || !cfg->ceph_root) {
		errno = ENOMEM;
		return NULL;
	}
	cfg->workers = 0; /* not given: dn_config_finish() makes it the CPUs the pool may use */
	cfg->queues = 0; /* not given: dn_config_finish() makes it = workers */
	cfg->read_threads = READ_THREADS_UNSET; /* dn_config_finish(): by backend */
	cfg->poll_us = 50;
	cfg->poll_max_us = 2000;
	cfg->request_timeout = 60;
	cfg->ceph_mount_timeout = CEPH_MOUNT_TIMEOUT_DEFAULT;
	cfg->ceph_entry_timeout = CEPH_ENTRY_TIMEOUT_DEFAULT;
	cfg->ceph_attr_timeout = CEPH_ATTR_TIMEOUT_DEFAULT;
	cfg->ceph_read_cache = DN_READ_CACHE_UNSET;
	cfg->union_attr_timeout = UNION_ATTR_TIMEOUT_DEFAULT;
	cfg->sessions_per_uid = SESSIONS_PER_UID_DEFAULT;
	cfg->lock_owners_per_uid = LOCK_OWNERS_PER_UID_DEFAULT;
	cfg->hello_timeout = HELLO_TIMEOUT_DEFAULT;
	return TAKE_PTR(cfg);
}

/* The file that set [section] key according to from[] (if any), else fallback. */
static const char *origin(const char *const *from, const char *section, const char *key,
                          const char *fallback)
{
	for (size_t i = 0; from && i < DN_ARRAY_SIZE(keys); i++)
		if (from[i] && streq(keys[i].section, section) && streq(keys[i].name, key))
			return from[i];
	return fallback;
}

/*
 * "NAME: [SECTION] KEY: PATH: reason" unless path is an existing directory
 * (dir) or regular file (!dir).
 */
static int check_exists(const char *name, const char *section, const char *key, const char *path,
                        bool dir, char *err, size_t errlen)
{
	struct stat stb;
	int e = 0;

	if (stat(path, &stb) < 0)
		e = errno;
	else if (dir && !S_ISDIR(stb.st_mode))
		e = ENOTDIR;
	else if (!dir && !S_ISREG(stb.st_mode))
		e = S_ISDIR(stb.st_mode) ? EISDIR : EINVAL;
	if (e)
		err_set(err, errlen, "%s: [%s] %s: %s: %s", name, section, key, path,
		        e == EINVAL ? "not a regular file" : strerror(e));
	return -e;
}

/*
 * Directories of the system a pool must not serve by accident: a root that
 * is one of them or holds one ("/", "/var") would hand the host's files to
 * the pool's tenants, and one below the kernel's own trees (/proc/1/root)
 * leads anywhere. [local] allow_system_root = yes says it is meant.
 */
static const char *const system_dirs[] = {
	"/bin", "/boot", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/opt",
	"/root", "/run", "/sbin", "/srv", "/tmp", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
	"/usr/sbin", "/usr/share", "/var", "/var/cache", "/var/lib", "/var/log", "/var/spool",
	"/var/tmp",
};
static const char *const kernel_trees[] = {"/proc", "/sys", "/dev"};

/* Whether dir is path or an ancestor of it (both normalized). */
static bool path_holds(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	if (streq(dir, "/"))
		return true;
	return strncmp(dir, path, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static int check_system_root(const char *file, unsigned line, const char *root, char *err,
                             size_t errlen)
{
	/* What it really is: a link to "/" is "/". */
	_cleanup_free_ char *real = realpath(root, NULL);
	const char *r = real ? real : root;
	const char *why = NULL;
	for (size_t i = 0; i < DN_ARRAY_SIZE(system_dirs) && !why; i++)
		if (path_holds(r, system_dirs[i]))
			why = system_dirs[i];
	for (size_t i = 0; i < DN_ARRAY_SIZE(kernel_trees) && !why; i++)
		if (path_holds(kernel_trees[i], r) || path_holds(r, kernel_trees[i]))
			why = kernel_trees[i];
	if (!why)
		return 0;
	char shown[PATH_MAX + 32];
	if (real && !streq(real, root))
		snprintf(shown, sizeof(shown), "%s (that is %s)", root, real);
	else
		snprintf(shown, sizeof(shown), "%s", root);
	err_set(err, errlen,
	        "%s:%u: root: %s holds or lies in the system directory %s; "
	        "set allow_system_root = yes in [local] to serve it anyway",
	        file, line, shown, why);
	return -EINVAL;
}

/*
 * The CPUs this process may run on (a slice's AllowedCPUs= narrows them):
 * one worker each, so that client threads on every CPU have a worker to
 * hand their requests to.
 */
/*
 * The pool's slice holds its containers too (memory_max bounds them all), and
 * libcephfs needs memory beside its object cache (inodes, messages): a
 * quarter leaves the rest to them.
 */
uint64_t dn_config_ceph_cache_size(const struct dn_config *cfg)
{
	if (cfg->ceph_cache_size)
		return cfg->ceph_cache_size;
	uint64_t limit = UINT64_MAX;
	if (cfg->memory_max && cfg->memory_max < limit)
		limit = cfg->memory_max;
	if (cfg->memory_high && cfg->memory_high < limit)
		limit = cfg->memory_high;
	if (limit == UINT64_MAX)
		return 0;
	return limit / 4 > DN_CEPH_CACHE_MIN ? limit / 4 : DN_CEPH_CACHE_MIN;
}

/*
 * The read cache lives in each process of the pool's containers, which its
 * slice holds (memory_max bounds them all), as anonymous memory that only
 * swap could reclaim: a sixteenth per process, beside the pool's quarter,
 * leaves room for several re-reading processes and their own memory.
 */
uint64_t dn_config_read_cache(const struct dn_config *cfg)
{
	if (cfg->ceph_read_cache != DN_READ_CACHE_UNSET)
		return cfg->ceph_read_cache;
	uint64_t limit = UINT64_MAX;
	if (cfg->memory_max && cfg->memory_max < limit)
		limit = cfg->memory_max;
	if (cfg->memory_high && cfg->memory_high < limit)
		limit = cfg->memory_high;
	uint64_t n = limit / 16 < DN_READ_CACHE_DEFAULT ? limit / 16 : DN_READ_CACHE_DEFAULT;
	n -= n % DN_CONFIG_READ_CACHE_BLOCK;
	return n ? n : DN_CONFIG_READ_CACHE_BLOCK;
}

/*
 * A worker more than the CPU time the pool's slice gets only adds a thread
 * to throttle: its spinning is charged to the quota that its siblings and
 * the tenant's own programs share. (On a cgroup v1 host AllowedCPUs= is not
 * applied, so the affinity mask alone would not show [resources] cpus.)
 */
unsigned dn_config_default_workers(const struct dn_config *cfg)
{
	cpu_set_t set;
	unsigned n = 1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1)
		n = (unsigned)CPU_COUNT(&set);
	bool on[CPUS_MAX] = {false};
	if (cfg->cpus && cpu_list_parse(cfg->cpus, on) == 0) {
		unsigned listed = 0;
		for (size_t i = 0; i < CPUS_MAX; i++)
			listed += on[i];
		if (listed >= 1 && listed < n)
			n = listed;
	}
	if (cfg->cpu_quota_pct) {
		unsigned cpus_of_time = (cfg->cpu_quota_pct + 99) / 100;
		if (cpus_of_time < n)
			n = cpus_of_time;
	}
	return n > WORKERS_MAX ? WORKERS_MAX : n;
}

/* a is b, or a directory above or below it */
static bool paths_nest(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;
	return strncmp(a, b, l) == 0 && (a[l] == '/' || a[l] == '\0') && (b[l] == '/' || b[l] == '\0');
}

/* Whether a and b nest, "/" with every path. */
static bool paths_meet(const char *a, const char *b)
{
	return strcmp(a, "/") == 0 || strcmp(b, "/") == 0 || paths_nest(a, b);
}

/* Whether the direct subtree path nests with a union's writable layer. */
static bool meets_upper(const struct dn_config *cfg, const char *path)
{
	if ((cfg->union_upper && paths_meet(path, cfg->union_upper)) ||
	    (cfg->union_containers && paths_meet(path, cfg->union_containers)))
		return true;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].upper && paths_meet(path, cfg->mounts[i].upper))
			return true;
	return false;
}

bool dn_config_direct_meets_upper(const struct dn_config *cfg)
{
	/* the top instance is the whole backend unless [union] makes it a union */
	if (!cfg->union_upper && meets_upper(cfg, "/"))
		return true;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].path && meets_upper(cfg, cfg->mounts[i].path))
			return true;
	return false;
}

/* [union]: both keys or neither; the writable layer apart from the read-only ones */
static int check_union(const struct dn_config *cfg, const char *name, const char *const *from,
		       char *err, size_t errlen)
{
	if (cfg->union_containers) {
		const char *file = origin(from, "union", "containers", name);
		const char *apart[] = {DN_IMAGE_STORE, cfg->union_upper};
		for (size_t i = 0; i < DN_ARRAY_SIZE(apart); i++) {
			if (apart[i] && paths_nest(cfg->union_containers, apart[i])) {
				err_set(err, errlen, "%s:%u: containers: %s overlaps %s", file,
					cfg->union_line, cfg->union_containers, apart[i]);
				return -EINVAL;
			}
		}
		for (size_t i = 0; i < cfg->n_union_lower; i++) {
			if (paths_nest(cfg->union_containers, cfg->union_lower[i])) {
				err_set(err, errlen, "%s:%u: containers: %s overlaps %s", file,
					cfg->union_line, cfg->union_containers,
					cfg->union_lower[i]);
				return -EINVAL;
			}
		}
	}
	if (!cfg->union_upper && !cfg->n_union_lower && !cfg->union_image)
		return 0;
	const char *file = origin(from, "union", cfg->union_upper ? "upper" : "lower", name);
	if (cfg->union_image && cfg->n_union_lower) {
		err_set(err, errlen, "%s:%u: [union] takes lower or image, not both", file,
			cfg->union_line);
		return -EINVAL;
	}
	if (!cfg->union_upper || (!cfg->n_union_lower && !cfg->union_image)) {
		err_set(err, errlen, "%s:%u: [union] needs upper and lower (or image)", file,
			cfg->union_line);
		return -EINVAL;
	}
	if (cfg->union_image && paths_nest(cfg->union_upper, DN_IMAGE_STORE)) {
		err_set(err, errlen, "%s:%u: upper: %s overlaps the image store %s", file,
			cfg->union_line, cfg->union_upper, DN_IMAGE_STORE);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_union_lower; i++) {
		if (paths_nest(cfg->union_upper, cfg->union_lower[i])) {
			err_set(err, errlen, "%s:%u: upper: %s overlaps the lower layer %s", file,
				cfg->union_line, cfg->union_upper, cfg->union_lower[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* [mount NAME]: a subtree or a union, each at a mountpoint no other instance's nests with */
static int check_mounts(const struct dn_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct dn_config_mount *m = &cfg->mounts[i];
		bool uni = m->upper || m->n_lower || m->image;
		const char *why = NULL, *key = "path";
		if (!m->mountpoint)
			key = "mountpoint", why = "has none";
		else if (m->path && uni)
			why = "is a subtree (path) or a union (upper with lower or image), not both";
		else if (!m->path && !uni)
			why = "needs path, or upper with lower or image";
		else if (uni && m->image && m->n_lower)
			key = "image", why = "takes lower or image, not both";
		else if (uni && !m->upper)
			key = "upper", why = "has lower or image but no upper";
		else if (uni && !m->n_lower && !m->image)
			key = "upper", why = "needs lower or image under upper";
		if (why) {
			err_set(err, errlen, "%s:%u: %s: [mount %s] %s", m->file, m->line, key,
				m->name, why);
			return -EINVAL;
		}
		if (m->image && paths_nest(m->upper, DN_IMAGE_STORE)) {
			err_set(err, errlen, "%s:%u: upper: %s overlaps the image store %s", m->file,
				m->line, m->upper, DN_IMAGE_STORE);
			return -EINVAL;
		}
		for (size_t l = 0; l < m->n_lower; l++) {
			if (paths_nest(m->upper, m->lower[l])) {
				err_set(err, errlen, "%s:%u: upper: %s overlaps the lower layer %s",
					m->file, m->line, m->upper, m->lower[l]);
				return -EINVAL;
			}
		}
		/* as kernel mounts could, but then a path would name two instances' files */
		if (paths_nest(m->mountpoint, cfg->mountpoint)) {
			err_set(err, errlen, "%s:%u: mountpoint: %s of [mount %s] nests with the "
				"pool's mountpoint %s", m->file, m->line, m->mountpoint, m->name,
				cfg->mountpoint);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (paths_nest(m->mountpoint, cfg->mounts[j].mountpoint)) {
				err_set(err, errlen, "%s:%u: mountpoint: %s of [mount %s] nests with "
					"%s of [mount %s]", m->file, m->line, m->mountpoint, m->name,
					cfg->mounts[j].mountpoint, cfg->mounts[j].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* dn_config_finish(), blaming the file from[] says set a key when it names one. */
static int finish(struct dn_config *cfg, const char *name, const char *const *from, char *err,
                  size_t errlen)
{
	int r;

	if (cfg->workers == 0)
		cfg->workers = dn_config_default_workers(cfg);
	if (cfg->queues == 0)
		cfg->queues = cfg->workers;
	/* reads that miss libcephfs's cache wait on an OSD; the page cache answers a local one */
	if (cfg->read_threads == READ_THREADS_UNSET)
		cfg->read_threads = streq(cfg->backend, "ceph") ? 4 * cfg->workers : 0;
	if (!cfg->mountpoint && asprintf(&cfg->mountpoint, "/danaus/%s", cfg->pool) < 0) {
		cfg->mountpoint = NULL;
		err_set(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if ((r = check_union(cfg, name, from, err, errlen)) < 0 ||
	    (r = check_mounts(cfg, err, errlen)) < 0)
		return r;
	if (streq(cfg->backend, "local")) {
		if (!cfg->local_root) {
			err_set(err, errlen, "%s: [local] root is required for backend local",
			        name);
			return -EINVAL;
		}
		const char *file = origin(from, "local", "root", name);
		r = check_exists(file, "local", "root", cfg->local_root, true, err, errlen);
		if (r < 0 || cfg->local_allow_system_root)
			return r;
		return check_system_root(file, cfg->local_root_line, cfg->local_root, err, errlen);
	}
	if (streq(cfg->backend, "ceph")) {
		r = check_exists(origin(from, "ceph", "conf", name), "ceph", "conf", cfg->ceph_conf,
		                 false, err, errlen);
		if (r < 0 || !cfg->ceph_keyring)
			return r;
		return check_exists(origin(from, "ceph", "keyring", name), "ceph", "keyring",
		                    cfg->ceph_keyring, false, err, errlen);
	}
	return 0;
}

int dn_config_finish(struct dn_config *cfg, const char *name, char *err, size_t errlen)
{
	return finish(cfg, name, NULL, err, errlen);
}

int dn_config_load_file(struct dn_config **out, const char *path, const char *pool, char *err,
                        size_t errlen)
{
	_cleanup_(config_freep) struct dn_config *cfg = NULL;
	_cleanup_free_ char *copy = NULL, *global = NULL;
	const char *from[DN_ARRAY_SIZE(keys)] = {NULL};
	const char *dir;
	int r;

	if (!pool_name_valid(pool)) {
		err_set(err, errlen, "invalid pool name '%s'", pool);
		return -EINVAL;
	}
	cfg = dn_config_new(pool);
	copy = strdup(path);
	if (!cfg || !copy) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	dir = dirname(dirname(copy)); /* DIR/pools/POOL.ini -> DIR */
	if (asprintf(&global, "%s%sdanaus.ini", dir, streq(dir, "/") ? "" : "/") < 0) {
		global = NULL;
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = parse_file(cfg, global, true, from, err, errlen);
	if (r < 0)
		return r;
	r = parse_file(cfg, path, false, from, err, errlen);
	if (r < 0)
		return r;
	r = finish(cfg, path, from, err, errlen);
	if (r < 0)
		return r;
	*out = TAKE_PTR(cfg);
	return 0;
}

int dn_config_load(struct dn_config **out, const char *dir, const char *pool, char *err,
                   size_t errlen)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/pools/%s.ini", dir, pool) < 0) {
		path = NULL;
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return dn_config_load_file(out, path, pool, err, errlen);
}

struct dn_config *dn_config_free(struct dn_config *cfg)
{
	if (!cfg)
		return NULL;
	free(cfg->pool);
	free(cfg->backend);
	free(cfg->mountpoint);
	free(cfg->local_root);
	free(cfg->users);
	free(cfg->groups);
	free(cfg->cpus);
	free(cfg->ceph_conf);
	free(cfg->ceph_id);
	free(cfg->ceph_keyring);
	free(cfg->ceph_root);
	free(cfg->ceph_networks);
	layers_free(cfg->union_lower, cfg->n_union_lower);
	free(cfg->union_upper);
	free(cfg->union_image);
	free(cfg->union_containers);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct dn_config_mount *m = &cfg->mounts[i];
		free(m->name);
		free(m->mountpoint);
		free(m->path);
		layers_free(m->lower, m->n_lower);
		free(m->upper);
		free(m->image);
		free(m->users);
		free(m->groups);
		free(m->file);
	}
	free(cfg->mounts);
	free(cfg);
	return NULL;
}

static bool id_in(const id_t *ids, size_t n, id_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* uid (gid, groups) is in a users and groups list, or there is none */
static bool ids_allow(const id_t *users, size_t n_users, const id_t *gids, size_t n_gids,
		      uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups)
{
	if (uid == 0 || (n_users == 0 && n_gids == 0))
		return true;
	if (id_in(users, n_users, uid) || id_in(gids, n_gids, gid))
		return true;
	for (size_t i = 0; i < n_groups; i++)
		if (id_in(gids, n_gids, groups[i]))
			return true;
	return false;
}

bool dn_config_allows(const struct dn_config *cfg, uid_t uid, gid_t gid, const gid_t *groups,
                      size_t n_groups)
{
	return ids_allow(cfg->users, cfg->n_users, cfg->groups, cfg->n_groups, uid, gid, groups,
			 n_groups);
}

bool dn_config_mount_allows(const struct dn_config_mount *m, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t n_groups)
{
	return ids_allow(m->users, m->n_users, m->groups, m->n_groups, uid, gid, groups, n_groups);
}
