/* Shared Map Owners: which open file may map a file shared and writable, where maps are copies */
#include "map-owners.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct claim {
	uint64_t id;
	const void *owner;
};

struct dn_map_owners {
	pthread_mutex_t lock;
	struct claim *v; /* few: files mapped shared and writable right now */
	size_t n, cap;
};

struct dn_map_owners *dn_map_owners_new(void)
{
	struct dn_map_owners *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

struct dn_map_owners *dn_map_owners_free(struct dn_map_owners *m)
{
	if (m) {
		pthread_mutex_destroy(&m->lock);
		free(m->v);
		free(m);
	}
	return NULL;
}

int dn_map_owners_claim(struct dn_map_owners *m, uint64_t id, const void *owner)
{
	int r = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].id == id) {
			r = m->v[i].owner == owner ? 0 : -EAGAIN;
			goto out;
		}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct claim *v = realloc(m->v, cap * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct claim){id, owner};
out:
	pthread_mutex_unlock(&m->lock);
	return r;
}

void dn_map_owners_release(struct dn_map_owners *m, uint64_t id, const void *owner)
{
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].id == id && m->v[i].owner == owner) {
			m->v[i] = m->v[--m->n];
			break;
		}
	pthread_mutex_unlock(&m->lock);
}
