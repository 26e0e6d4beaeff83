/* Pool Slice Names: the systemd unit names a pool's cgroup goes by */
#include "slice-name.h"

#include <stdbool.h>
#include <stdio.h>

static size_t escape(const char *s, char *out, size_t len)
{
	size_t o = 0;
	for (const char *c = s; *c && o + 5 < len; c++) {
		bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			     (*c >= '0' && *c <= '9') || *c == '_' || (*c == '.' && c != s);
		if (plain)
			out[o++] = *c;
		else
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", (unsigned char)*c);
	}
	if (o < len)
		out[o] = 0;
	return o;
}

void dn_slice_name(const char *pool, char *out, size_t len)
{
	char esc[4 * 64 + 8];
	escape(pool, esc, sizeof(esc));
	snprintf(out, len, "danaus-%s.slice", esc);
}

void dn_slice_cgroup(const char *pool, char *out, size_t len)
{
	char slice[4 * 64 + 32];
	dn_slice_name(pool, slice, sizeof(slice));
	snprintf(out, len, "danaus.slice/%s", slice);
}
