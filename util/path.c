/* Path Normalization: lexical "." and ".." folding shared by both sides */
#include "path.h"

#include <errno.h>
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
