/* Streamed Reads: a large read's pieces round the request buffer's ring as they land */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "svc.h"
#include "wire.h"

/*
 * Reads len bytes of f at off into b's data area (data), piece by piece as
 * DN_READ_STREAM_RING describes, publishing b->ready as they land. Returns
 * the bytes read (short at end of file or on an error after some data) or
 * -errno; *ring_end: the reply's aux, where the ring ends.
 */
int64_t dn_stream_pread(struct dn_svc *svc, struct dn_file *f, struct dn_buf *b, uint8_t *data,
			size_t len, off_t off, uint64_t *ring_end);
