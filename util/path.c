/* Path Strings: the lexical work on paths both sides share (routing, splitting) */
#include "path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int dn_path_normalize(const char *in, char *out, size_t outlen)
{
	if (in[0] != '/')
		return -EINVAL;
	if (outlen < 2)
		return -ENAMETOOLONG;
	size_t n = 0; /* length of out, which never ends in '/' except as "/" */
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p;
		while (*e && *e != '/')
			e++;
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* drop the slash too */
		} else {
			if (n + 1 + len + 1 > outlen)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = e;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return (int)n;
}

int dn_path_join(const char *base, const char *rel, char *out, size_t outlen)
{
	if (rel[0] == '/')
		return dn_path_normalize(rel, out, outlen);
	size_t bl = strlen(base), rl = strlen(rel);
	char tmp[bl + rl + 2];
	memcpy(tmp, base, bl);
	tmp[bl] = '/';
	memcpy(tmp + bl + 1, rel, rl + 1);
	return dn_path_normalize(tmp, out, outlen);
}

int dn_path_concat(const char *base, const char *rel, char *out, size_t outlen)
{
	size_t bl = strlen(base), rl = strlen(rel);
	if (rel[0] == '/')
		bl = 0;
	bool slash = bl > 0 && base[bl - 1] != '/';
	if (bl + slash + rl + 1 > outlen)
		return -ENAMETOOLONG;
	memmove(out + bl + slash, rel, rl + 1); /* rel may be out itself */
	memcpy(out, base, bl);
	if (slash)
		out[bl] = '/';
	return (int)(bl + slash + rl);
}

const char *dn_path_below(const char *path, const char *prefix, size_t prefix_len)
{
	if (strncmp(path, prefix, prefix_len) != 0)
		return NULL;
	if (path[prefix_len] == 0)
		return "/";
	if (path[prefix_len] != '/')
		return NULL;
	return path + prefix_len;
}

/* Whether the normalized norm[0, n) is prefix or lies below it. */
static bool at_or_below(const char *norm, size_t n, const char *prefix, size_t prefix_len)
{
	return n >= prefix_len && memcmp(norm, prefix, prefix_len) == 0 &&
	       (n == prefix_len || norm[prefix_len] == '/');
}

int dn_path_under(const char *path, const char *prefix, size_t prefix_len, char *out,
		  size_t outlen)
{
	size_t plen = strlen(path);
	if (path[0] != '/')
		return 0;
	if (plen >= outlen)
		return -ENAMETOOLONG;
	/*
	 * The lexical form, one component at a time (as dn_path_normalize);
	 * entered: just after the component that last took it from above
	 * prefix to prefix itself. Each step moves one level, so it cannot
	 * pass below prefix without stopping at it.
	 */
	char norm[plen + 2];
	size_t n = 0;
	bool below = false;
	const char *entered = NULL;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && norm[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			norm[n++] = '/';
			memcpy(norm + n, p, len);
			n += len;
		}
		bool now = at_or_below(norm, n, prefix, prefix_len);
		if (now && !below)
			entered = e;
		below = now;
		p = e;
	}
	if (!below)
		return 0;
	size_t rest = strlen(entered);
	if (rest == 0) {
		out[0] = '/';
		out[1] = 0;
	} else {
		memcpy(out, entered, rest + 1); /* starts with its slash */
	}
	return 1;
}

/* The DN_PATH_* of the component at p, which ends at '/' or NUL. */
static unsigned component_oddity(const char *p)
{
	if (*p == '/')
		return DN_PATH_SLASHES;
	if (p[0] != '.')
		return 0;
	if (!p[1] || p[1] == '/')
		return DN_PATH_DOT;
	if (p[1] == '.' && (!p[2] || p[2] == '/'))
		return DN_PATH_DOTDOT;
	return 0;
}

unsigned dn_path_oddities(const char *path)
{
	unsigned f = path[0] && path[0] != '/' ? component_oddity(path) : 0;
	for (const char *p = path; (p = strchr(p, '/')); p++) {
		if (!p[1])
			break; /* a trailing slash: resolution tells what it means */
		f |= component_oddity(p + 1);
	}
	return f;
}

void dn_path_last(const char *path, struct dn_path_last *l)
{
	size_t n = strlen(path), end = n;
	while (end > 0 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	l->dir_len = start;
	l->name = path + start;
	l->name_len = end - start;
	l->slash = end < n;
	if (l->name_len == 0)
		l->type = DN_LAST_ROOT;
	else if (l->name_len == 1 && l->name[0] == '.')
		l->type = DN_LAST_DOT;
	else if (l->name_len == 2 && l->name[0] == '.' && l->name[1] == '.')
		l->type = DN_LAST_DOTDOT;
	else
		l->type = DN_LAST_NORM;
}

int dn_path_next(const char **at, char *name, bool *last, bool *must_dir)
{
	const char *p = *at + strspn(*at, "/");
	if (!*p)
		return 0;
	size_t len = strcspn(p, "/");
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, p, len);
	name[len] = 0;
	const char *end = p + len;
	*last = !end[strspn(end, "/")];
	*must_dir = !*last || *end == '/';
	*at = end;
	return 1;
}

int dn_path_splice(char *buf, size_t size, const char *target, const char *rest)
{
	size_t t = strlen(target), r = strlen(rest);
	if (t + r + 1 > size)
		return -ENAMETOOLONG;
	memmove(buf + t, rest, r + 1);
	memcpy(buf, target, t);
	return 0;
}

int dn_path_metrics_socket(const char *sock, char *out, size_t len)
{
	size_t n = strlen(sock);
	if (n > 5 && strcmp(sock + n - 5, ".sock") == 0)
		n -= 5;
	int r = snprintf(out, len, "%.*s.metrics", (int)n, sock);
	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : r;
}
