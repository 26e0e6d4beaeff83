/* Descriptor Handover: kernel descriptors a client takes over a connection of its own */
#include "handover.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "futex.h"

struct entry {
	uint64_t token[2];
	uint64_t since_ns;
	uid_t uid;
	int fd; /* -1: a free slot */
};

struct dn_handovers {
	pthread_mutex_t lock;
	unsigned n; /* waiting */
	struct entry e[DN_HANDOVER_MAX];
};

struct dn_handovers *dn_handovers_new(void)
{
	struct dn_handovers *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	for (unsigned i = 0; i < DN_HANDOVER_MAX; i++)
		h->e[i].fd = -1;
	return h;
}

struct dn_handovers *dn_handovers_free(struct dn_handovers *h)
{
	if (!h)
		return NULL;
	for (unsigned i = 0; i < DN_HANDOVER_MAX; i++)
		if (h->e[i].fd >= 0)
			close(h->e[i].fd);
	pthread_mutex_destroy(&h->lock);
	free(h);
	return NULL;
}

int dn_handover_put(struct dn_handovers *h, int fd, uid_t uid, uint64_t token[2])
{
	/* unguessable: a claim names it, and the uid must match besides */
	if (getrandom(token, 2 * sizeof(uint64_t), 0) != 2 * sizeof(uint64_t)) {
		close(fd);
		return -EIO;
	}
	pthread_mutex_lock(&h->lock);
	unsigned mine = 0, free_slot = DN_HANDOVER_MAX;
	for (unsigned i = 0; i < DN_HANDOVER_MAX && (h->n || free_slot == DN_HANDOVER_MAX); i++) {
		if (h->e[i].fd < 0) {
			if (free_slot == DN_HANDOVER_MAX)
				free_slot = i;
		} else {
			mine += h->e[i].uid == uid;
		}
	}
	int r = 0;
	if (free_slot == DN_HANDOVER_MAX || mine >= DN_HANDOVER_PER_UID_MAX) {
		r = -ENFILE;
		close(fd);
	} else {
		h->e[free_slot] = (struct entry){{token[0], token[1]}, dn_now_ns(), uid, fd};
		h->n++;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

int dn_handover_take(struct dn_handovers *h, const uint64_t token[2], uid_t uid)
{
	int fd = -ENOENT;
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < DN_HANDOVER_MAX && h->n; i++) {
		struct entry *e = &h->e[i];
		if (e->fd >= 0 && e->token[0] == token[0] && e->token[1] == token[1]) {
			if (e->uid == uid) {
				fd = e->fd;
				e->fd = -1;
				h->n--;
			}
			break;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return fd;
}

unsigned dn_handover_expire(struct dn_handovers *h, uint64_t now_ns)
{
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < DN_HANDOVER_MAX && h->n; i++) {
		struct entry *e = &h->e[i];
		/* now_ns was read before the lock: an entry put since is newer than it */
		if (e->fd >= 0 && now_ns > e->since_ns && now_ns - e->since_ns > DN_HANDOVER_TTL_NS) {
			close(e->fd);
			e->fd = -1;
			h->n--;
		}
	}
	unsigned n = h->n;
	pthread_mutex_unlock(&h->lock);
	return n;
}
