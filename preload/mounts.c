/* Mount Table: this process's Danaus mountpoints, each an instance of its pool */
#include "mounts.h"

#include <string.h>

#include "path.h"

static bool add(const char *path)
{
	struct dn_client_mount *m = &dn_client.mounts[dn_client.nmounts];
	int n = dn_path_normalize(path, m->path, sizeof(m->path));
	if (n <= 1)
		return false; /* not absolute, or "/": refuse to take over the whole tree */
	m->len = (size_t)n;
	m->served = true;
	unsigned char c = (unsigned char)m->path[1];
	dn_client.mount_first[c / 64] |= UINT64_C(1) << (c % 64);
	dn_client.nmounts++;
	return true;
}

bool dn_mounts_add(const char *path)
{
	return dn_client.nmounts < DN_MOUNTS_MAX && add(path);
}

unsigned dn_mounts_init(const char *mountpoint, const char *more)
{
	if (!add(mountpoint))
		return 0;
	/* a bad entry leaves its index unserved, so the later ones keep theirs */
	for (const char *s = more ? more : ""; *s && dn_client.nmounts < DN_MOUNTS_MAX;) {
		size_t n = strcspn(s, ":");
		char one[DN_MOUNT_MAX] = "";
		if (n < sizeof(one))
			memcpy(one, s, n);
		one[n < sizeof(one) ? n : 0] = 0;
		if (!add(one))
			dn_client.mounts[dn_client.nmounts++] = (struct dn_client_mount){.len = 0};
		s += n + (s[n] == ':');
	}
	return dn_client.nmounts;
}

void dn_mounts_bind(void)
{
	/* mount 0 is where the process wants its default tree; the others must match */
	for (uint32_t i = 1; i < dn_client.nmounts; i++) {
		char pool[DN_MOUNT_MAX];
		int n = i < dn_client.chan.nmounts
				? dn_path_normalize(dn_client.chan.mounts[i], pool, sizeof(pool))
				: -1;
		dn_client.mounts[i].served = n > 1 && dn_client.mounts[i].len && strcmp(pool, dn_client.mounts[i].path) == 0;
	}
}

int dn_mount_at(const char *abs, size_t len)
{
	for (uint32_t i = 0; i < dn_client.nmounts; i++) {
		const struct dn_client_mount *m = &dn_client.mounts[i];
		if (m->len && len >= m->len && memcmp(abs, m->path, m->len) == 0 &&
		    (abs[m->len] == '/' || !abs[m->len]))
			return (int)i;
	}
	return -1;
}

bool dn_mount_below(const char *dir, size_t len)
{
	if (len == 1)
		return true;
	for (uint32_t i = 0; i < dn_client.nmounts; i++) {
		const struct dn_client_mount *m = &dn_client.mounts[i];
		if (m->len > len && len && memcmp(m->path, dir, len) == 0 && m->path[len] == '/')
			return true;
	}
	return false;
}
