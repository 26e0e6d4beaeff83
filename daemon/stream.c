/* Streamed Reads: the service's side of the ring protocol (see DN_READ_STREAM_RING) */
#include "stream.h"

#include <stdbool.h>

#include "futex.h"

/*
 * Until the client has taken `need` bytes; false once DN_READ_STREAM_STALL_NS
 * have passed, or when the request is no longer waited for (the watchdog
 * answered it). The deadline does not move when `taken` does: the word is
 * the client's to write, and no client may hold a worker longer than that.
 * A client asleep on the buffer is set back to SUBMITTED and woken, to copy
 * out and spin again. Yields rather than sleeps: a client that runs copies
 * a piece out in microseconds.
 */
static bool wait_taken(struct dn_buf *b, uint64_t need)
{
	uint64_t start = dn_now_ns(), spent = 0;
	while (atomic_load_explicit(&b->taken, memory_order_acquire) < need) {
		uint32_t state = DN_BUF_SLEEPING;
		if (atomic_compare_exchange_strong(&b->state, &state, DN_BUF_SUBMITTED))
			dn_futex_wake(&b->state, 1);
		else if (state != DN_BUF_SUBMITTED)
			return false;
		spent = dn_now_ns() - start;
		if (spent > DN_READ_STREAM_STALL_NS)
			return false;
		dn_spin_turn(spent);
	}
	return true;
}

int64_t dn_stream_pread(struct dn_svc *svc, struct dn_file *f, struct dn_buf *b, uint8_t *data,
			size_t len, off_t off, uint64_t *ring_end)
{
	size_t done = 0;
	ssize_t r = 0;
	*ring_end = UINT64_MAX;
	while (done < len) {
		size_t n = len - done < DN_READ_STREAM_CHUNK ? len - done : DN_READ_STREAM_CHUNK;
		/* pieces are whole chunks up to the last: none straddles the ring's end */
		bool ringed = *ring_end == UINT64_MAX;
		if (ringed && done + n > DN_READ_STREAM_RING &&
		    !wait_taken(b, done + n - DN_READ_STREAM_RING)) {
			ringed = false;
			*ring_end = done;
		}
		r = svc->ops->pread(svc, f, data + dn_stream_at(done, *ring_end), n,
				    off + (off_t)done);
		if (r < 0)
			break;
		done += (size_t)r;
		if (ringed)
			atomic_store_explicit(&b->ready, done, memory_order_release);
		if ((size_t)r < n)
			break;
	}
	if (*ring_end > done)
		*ring_end = done;
	return done || r >= 0 ? (int64_t)done : r;
}
