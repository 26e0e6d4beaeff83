/* Memory Maps: mmap of Danaus fds */
#include "mmap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client.h"
#include "dn-errno.h"
#include "export.h"
#include "ops.h"
#include "real.h"
#include "reopen.h"

/*
 * The kernel cannot map a Danaus fd (its placeholder is O_PATH). A MAP_SHARED
 * map, where the backend has a kernel file (local), is the kernel's map of a
 * descriptor of that file the pool hands over (dn_op_mapfd): one page cache
 * for every mapper and for the pool's reads and writes, as on a kernel
 * filesystem. Otherwise a map is an anonymous private map filled by reading
 * the file. MAP_PRIVATE needs nothing more. A MAP_SHARED map of a file open
 * for reading and writing is then a region in the table below: it holds a
 * reference on the open file description (so it outlives close(fd), as a
 * kernel map does) and its contents go back to the file on msync, munmap,
 * the close of an fd of that file, and exit. Only maps that have been
 * writable are written back, and only as far as the file reaches at that
 * moment: a map never extends a file.
 *
 * Such copies have no page cache between them and other mappers. Within
 * the process, the library stands in for one: its writes through the pool
 * are read again into its maps of the file (dn_mmap_changed), and a
 * write-back merges what each of its maps changed (writeback_piece). A
 * map's stores reach read(2) at its write-back; other processes' changes
 * reach a map when it is made again (Ceph pools).
 */

#define MAX_REGIONS 65530 /* the kernel's default vm.max_map_count */
#define COPY_PAGES 256 /* pages copy_out reads at once: more than a write-back piece */

struct region {
	uintptr_t start, end; /* page aligned */
	uint64_t off;         /* file offset of start */
	uint64_t dev, ino;    /* the file, as fstat names it: other descriptors' writes find it */
	int32_t ofd;          /* holds one reference */
	bool writable;        /* has been PROT_WRITE; a read-only map is never written back */
	bool may_write;       /* its fd was open for writing: else PROT_WRITE is EACCES */
};

static struct region *regions; /* from mmap, not malloc: munmap may run inside malloc */
static size_t nregions, capacity;
/* Recursive: an allocator preloaded after us may munmap from inside our write-back. */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
/* Bounds of all regions (hi 0: none): the lock-free first test of every munmap. */
static _Atomic uintptr_t span_lo, span_hi;

static size_t page_size(void)
{
	static size_t page;
	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

/* [*a, *b): the pages of addr..addr+len; false when that wraps around. */
static bool page_range(const void *addr, size_t len, uintptr_t *a, uintptr_t *b)
{
	size_t page = page_size();
	*a = (uintptr_t)addr & ~(uintptr_t)(page - 1);
	uintptr_t end = (uintptr_t)addr + len;
	if (end < *a || end > UINTPTR_MAX - page)
		return false;
	*b = (end + page - 1) & ~(uintptr_t)(page - 1);
	return true;
}

/* Could addr..addr+len hold a region? No lock: a region a thread may name is already inside. */
static inline bool may_touch(const void *addr, size_t len)
{
	uintptr_t hi = atomic_load_explicit(&span_hi, memory_order_acquire);
	if (!hi)
		return false;
	uintptr_t a = (uintptr_t)addr, lo = atomic_load_explicit(&span_lo, memory_order_acquire);
	return a < hi && (a >= lo || len > lo - a);
}

/*
 * The lock, for work that makes calls through the pool: this thread holds
 * the session first (dn_session_hold), so that a switch waits for the work
 * to end rather than the work for the switch (client.h, dn_switch_begin).
 */
static bool lock_for_calls(void)
{
	bool held = dn_session_hold() == 0;
	pthread_mutex_lock(&lock);
	return held;
}

static void unlock_for_calls(bool held)
{
	pthread_mutex_unlock(&lock);
	if (held)
		dn_session_release();
}

/*
 * The same for work on [a, b), but with no hold where no region lies there
 * (no call will be made): a thread's exit unmaps its malloc arenas after
 * its last destructor, when holding the session would list it again.
 */
static bool lock_for_range(uintptr_t a, uintptr_t b)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nregions; i++)
		if (regions[i].start < b && a < regions[i].end) {
			pthread_mutex_unlock(&lock);
			return lock_for_calls();
		}
	return false;
}

/* Lock held from here on. */

static void bounds_update(void)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (size_t i = 0; i < nregions; i++) {
		lo = regions[i].start < lo ? regions[i].start : lo;
		hi = regions[i].end > hi ? regions[i].end : hi;
	}
	atomic_store(&span_lo, lo);
	atomic_store(&span_hi, hi);
}

static bool overlaps(const struct region *r, uintptr_t a, uintptr_t b)
{
	return r->start < b && a < r->end;
}

/*
 * The region *was named, found again after a pool call: the call may have
 * moved the table (a restart's rebase, a signal handler's munmap on this
 * thread, the lock being recursive). NULL when it is no longer there.
 */
static const struct region *region_again(const struct region *was)
{
	for (size_t i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];
		if (r->start == was->start && r->end == was->end && r->off == was->off &&
		    r->dev == was->dev && r->ino == was->ino)
			return r;
	}
	return NULL;
}

/* Copies n bytes of our own memory at src (page aligned); stops at a page we may not read. */
static size_t copy_out(void *dst, uintptr_t src, size_t n)
{
	size_t page = page_size();
	struct iovec local = {dst, n}, remote[COPY_PAGES];
	unsigned long cnt = 0;
	/* One iovec per page: the kernel copies up to the first unreadable one. */
	for (size_t at = 0; at < n; at += page)
		remote[cnt++] = (struct iovec){(void *)(src + at), n - at < page ? n - at : page};
	ssize_t got = process_vm_readv(getpid(), &local, 1, remote, cnt, 0);
	if (got >= 0)
		return (size_t)got;
	if (errno == EFAULT)
		return 0;
	/* No process_vm_readv (a seccomp filter): a program keeps its shared maps readable. */
	memcpy(dst, (const void *)src, n);
	return n;
}

/*
 * Bytes [a, b) of the file into r, read again; what lies past the file's
 * end turns zero. They go in through /proc/self/mem, as a debugger writes,
 * so a read-only map takes them too (without /proc, nothing does).
 */
static void region_refresh(const struct region *named, uint64_t a, uint64_t b)
{
	const struct region was = *named, *r;
	int mem = REAL(openat)(AT_FDCWD, "/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (mem < 0)
		return;
	struct dn_call c;
	if (dn_call_begin(&c) < 0) {
		REAL(close)(mem);
		return;
	}
	if (!(r = region_again(&was))) {
		dn_call_end(&c);
		REAL(close)(mem);
		return;
	}
	uint64_t handle = dn_ofds()[r->ofd].handle;
	bool eof = false;
	while (a < b) {
		/* pieces the reply carries in the request buffer, not streamed */
		size_t max = dn_call_data_max() < DN_READ_STREAM_CHUNK ? dn_call_data_max()
								       : DN_READ_STREAM_CHUNK;
		size_t n = b - a < max ? (size_t)(b - a) : max;
		int64_t got = 0;
		if (!eof) {
			struct dn_req req = {.op = DN_OP_PREAD, .handle = handle, .off = a, .len = n};
			struct dn_reply rep;
			got = dn_request_into(&c, &req, NULL, &rep);
			handle = req.handle; /* a pool restart in it: the file's new one */
			if (got < 0 || (size_t)got > n)
				break;
		}
		/* after the request: a restart in it gives the call another buffer */
		uint8_t *data = dn_call_data(&c);
		eof = (size_t)got < n;
		memset(data + got, 0, n - (size_t)got);
		/*
		 * Written where the region is now, and only while it is: this
		 * memory may belong to something else once it is gone.
		 */
		sigset_t all, was_mask;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &was_mask);
		bool ok = (r = region_again(&was)) &&
			  REAL(pwrite)(mem, data, n, (off_t)(r->start + (uintptr_t)(a - r->off))) ==
				  (ssize_t)n;
		pthread_sigmask(SIG_SETMASK, &was_mask, NULL);
		if (!ok)
			break;
		a += n;
	}
	dn_call_end(&c);
	REAL(close)(mem);
}

/* The last file file_id had to ask the pool for: a stream of writes asks once. */
static struct {
	uint64_t handle, dev, ino;
} last_asked;

/* The file of open file description ofd, as its regions or else fstat name it. */
static bool file_id(int32_t ofd, uint64_t *dev, uint64_t *ino)
{
	for (size_t i = 0; i < nregions; i++)
		if (regions[i].ofd == ofd) {
			*dev = regions[i].dev;
			*ino = regions[i].ino;
			return true;
		}
	uint64_t handle = dn_ofds()[ofd].handle;
	if (handle && handle == last_asked.handle) {
		*dev = last_asked.dev;
		*ino = last_asked.ino;
		return true;
	}
	struct dn_call c;
	if (dn_call_begin(&c) < 0)
		return false;
	struct dn_req req = {.op = DN_OP_FSTAT, .handle = handle};
	struct dn_reply rep;
	int64_t res = dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	dn_call_end(&c);
	if (res < 0)
		return false;
	struct stat st;
	dn_stat_from_wire(&rep.st, &st); /* as region_add took it: dev as the library shows it */
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	last_asked.handle = handle;
	last_asked.dev = *dev;
	last_asked.ino = *ino;
	return true;
}

/* Reads [off, off + len) of file dev/ino again into every region of it there. */
static void refresh_file(uint64_t dev, uint64_t ino, uint64_t off, uint64_t len)
{
	uint64_t end = len > UINT64_MAX - off ? UINT64_MAX : off + len;
	for (size_t i = 0; i < nregions; i++) {
		const struct region *r = &regions[i];
		uint64_t lo = r->off, hi = r->off + (r->end - r->start);
		if (r->dev != dev || r->ino != ino || end <= lo || hi <= off)
			continue;
		region_refresh(r, off > lo ? off : lo, end < hi ? end : hi);
	}
}

/* The first and one past the last byte where x and y differ; false when they are the same. */
static bool diff_span(const uint8_t *x, const uint8_t *y, size_t n, size_t *lo, size_t *hi)
{
	size_t i = 0, j = n;
	while (i + 64 <= n && memcmp(x + i, y + i, 64) == 0)
		i += 64;
	while (i < n && x[i] == y[i])
		i++;
	if (i == n)
		return false;
	while (j >= i + 64 && memcmp(x + j - 64, y + j - 64, 64) == 0)
		j -= 64;
	while (x[j - 1] == y[j - 1])
		j--;
	*lo = i;
	*hi = j;
	return true;
}

/* Where mine differs from was, merged takes mine's byte. */
static void merge_changes(uint8_t *merged, const uint8_t *mine, const uint8_t *was, size_t n)
{
	for (size_t i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;
		if (memcmp(mine + i, was + i, k) == 0)
			continue;
		for (size_t j = i; j < i + k; j++)
			if (mine[j] != was[j])
				merged[j] = mine[j];
	}
}

#define PIECE DN_READ_STREAM_CHUNK /* a read's reply fits the request buffer */

/* Byte j of a map (now: cur) must take merged's: it differs, and not by a store of the map's own. */
static inline bool must_take(const struct region *w, const uint8_t *cur, const uint8_t *merged,
			     const uint8_t *was, size_t j)
{
	return cur[j] != merged[j] && !(w->writable && cur[j] != was[j]);
}

/*
 * After [pos, pos + n) of r's file went back as merged (was: the file's
 * bytes before), every map of the file shows it. A writable map keeps the
 * bytes it changed itself, so a store another thread made since the merge
 * read the map stays there (the next write-back takes it), where reading
 * the span again would undo it. cur: PIECE bytes.
 */
static void show_merged(const struct region *r, uint64_t pos, const uint8_t *merged,
			const uint8_t *was, size_t n, uint8_t *cur)
{
	int mem = REAL(openat)(AT_FDCWD, "/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (mem < 0)
		return;
	/* no handler of this thread unmaps what is written here meanwhile */
	sigset_t all, was_mask;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &was_mask);
	for (size_t i = 0; i < nregions; i++) {
		const struct region *w = &regions[i];
		uint64_t lo = w->off, hi = w->off + (w->end - w->start);
		if (w->dev != r->dev || w->ino != r->ino || pos + n <= lo || hi <= pos)
			continue;
		uint64_t x = pos > lo ? pos : lo, y = pos + n < hi ? pos + n : hi;
		size_t len = (size_t)(y - x);
		uintptr_t at = w->start + (uintptr_t)(x - lo);
		const uint8_t *m = merged + (x - pos), *v = was + (x - pos);
		size_t k = copy_out(cur, at, len);
		for (size_t j = 0; j < k;) {
			if (j + 64 <= k && memcmp(cur + j, m + j, 64) == 0) {
				j += 64;
				continue;
			}
			if (!must_take(w, cur, m, v, j)) {
				j++;
				continue;
			}
			size_t e = j + 1;
			while (e < k && must_take(w, cur, m, v, e))
				e++;
			if (REAL(pwrite)(mem, m + j, e - j, (off_t)(at + j)) < 0)
				break;
			j = e;
		}
		/* pages it may not read: stores there are not known, a read-only map has none */
		if (k < len && !w->writable)
			(void)REAL(pwrite)(mem, m + k, len - k, (off_t)(at + k));
	}
	pthread_sigmask(SIG_SETMASK, &was_mask, NULL);
	REAL(close)(mem);
}

/*
 * One piece of the file, [pos, pos + n) (within the file): its bytes now,
 * with what every writable map of the file changed in them merged in, go
 * back as one span; then every map of the file shows it (show_merged). A
 * map's bytes are the file's but for its own stores (the process's writes
 * reach its maps at once: dn_mmap_changed), so two maps of one file, or a
 * map and write(2), do not overwrite each other's changes, as one page
 * cache would have it. buf: 3 * PIECE bytes.
 */
static int64_t writeback_piece(struct dn_call *c, uint64_t handle, const struct region *r,
			       uint64_t pos, size_t n, uint8_t *buf)
{
	uint8_t *was = buf, *merged = buf + PIECE, *mine = buf + 2 * PIECE;
	struct dn_req req = {.op = DN_OP_PREAD, .handle = handle, .off = pos, .len = n};
	struct dn_reply rep;
	int64_t got = dn_request_into(c, &req, NULL, &rep);
	handle = req.handle; /* a pool restart in it: the file's new one */
	if (got < 0 || (size_t)got > n)
		return got < 0 ? got : -EIO;
	n = (size_t)got; /* past the file's end (it shrank meanwhile) nothing goes back */
	memcpy(was, dn_call_data(c), n);
	memcpy(merged, was, n);
	for (size_t i = 0; i < nregions; i++) {
		const struct region *w = &regions[i];
		uint64_t lo = w->off, hi = w->off + (w->end - w->start);
		if (!w->writable || w->dev != r->dev || w->ino != r->ino || pos + n <= lo || hi <= pos)
			continue;
		uint64_t x = pos > lo ? pos : lo, y = pos + n < hi ? pos + n : hi;
		/* a page made unreadable (PROT_NONE) changed nothing */
		size_t k = copy_out(mine, w->start + (uintptr_t)(x - lo), (size_t)(y - x));
		merge_changes(merged + (x - pos), mine, was + (x - pos), k);
	}
	size_t l, h;
	if (!diff_span(merged, was, n, &l, &h))
		return 0;
	uint8_t *data = dn_call_data(c);
	memcpy(data, merged + l, h - l);
	req = (struct dn_req){.op = DN_OP_PWRITE, .handle = handle, .off = pos + l, .len = h - l};
	int64_t w = dn_request(c, &req, NULL, NULL, data, h - l, &rep);
	if (w < 0 || (size_t)w < h - l)
		return w < 0 ? w : -EIO;
	show_merged(r, pos + l, merged + l, was + l, h - l, mine);
	return 0;
}

/*
 * Writes part [a, b) of r back (with what the process's other maps of the
 * file changed there), as far as the file reaches now.
 */
static int region_writeback(const struct region *named, uintptr_t a, uintptr_t b)
{
	const struct region was = *named, *r = &was;
	if (!r->writable)
		return 0;
	uint8_t *buf = REAL(mmap)(NULL, 3 * PIECE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -ENOMEM;
	struct dn_call c;
	int64_t res = dn_call_begin(&c);
	if (res < 0) {
		REAL(munmap)(buf, 3 * PIECE);
		return (int)res;
	}
	const struct region *now = region_again(&was);
	if (!now) { /* gone meanwhile (its file lost in a restart, or unmapped and written back by a handler) */
		dn_call_end(&c);
		REAL(munmap)(buf, 3 * PIECE);
		return 0;
	}
	uint64_t handle = dn_ofds()[now->ofd].handle;
	struct dn_req req = {.op = DN_OP_FSTAT, .handle = handle};
	struct dn_reply rep;
	res = dn_request(&c, &req, NULL, NULL, NULL, 0, &rep);
	uint64_t pos = r->off + (a - r->start), size = rep.st.size, end = pos + (b - a);
	end = end < size ? end : size;
	uint32_t gen = c.gen;
	while (res >= 0 && pos < end) {
		/* a pool restart between two requests: another buffer, the file's new handle */
		if (c.gen != gen) {
			gen = c.gen;
			if (!(handle = dn_reopen_successor(handle))) {
				res = -EIO;
				break;
			}
		}
		size_t n = end - pos < PIECE ? (size_t)(end - pos) : PIECE;
		res = writeback_piece(&c, handle, r, pos, n, buf);
		pos += n;
	}
	dn_call_end(&c);
	REAL(munmap)(buf, 3 * PIECE);
	return res < 0 ? (int)res : 0;
}

static int writeback_range(uintptr_t a, uintptr_t b)
{
	int err = 0;
	for (size_t i = 0; i < nregions; i++) {
		struct region *r = &regions[i];
		if (!overlaps(r, a, b))
			continue;
		int e = region_writeback(r, a > r->start ? a : r->start, b < r->end ? b : r->end);
		err = err ? err : e;
	}
	return err;
}

static void region_drop(const struct region *r)
{
	struct dn_ofd *t = dn_ofds();
	uint64_t handle = t[r->ofd].handle;
	if (dn_ofd_unref(t, dn_client.chan.l.nofds, r->ofd))
		dn_handle_close(handle);
}

/* Room for n regions; -ENOMEM beyond MAX_REGIONS, as the kernel beyond vm.max_map_count. */
static int reserve(size_t n)
{
	if (n <= capacity)
		return 0;
	if (n > MAX_REGIONS)
		return -ENOMEM;
	size_t cap = capacity ? capacity * 2 : 64;
	cap = cap < n ? n : cap;
	struct region *t = REAL(mmap)(NULL, cap * sizeof(*t), PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return -ENOMEM;
	if (regions) {
		memcpy(t, regions, nregions * sizeof(*t));
		REAL(munmap)(regions, capacity * sizeof(*t));
	}
	regions = t;
	capacity = cap;
	return 0;
}

/* Entries forget_range would add: one per region [a, b) cuts in two. */
static size_t splits_needed(uintptr_t a, uintptr_t b)
{
	size_t n = 0;
	for (size_t i = 0; i < nregions; i++)
		n += regions[i].start < a && b < regions[i].end;
	return n;
}

/* [a, b) is no longer mapped: trims, splits or removes the regions there. */
static void forget_range(uintptr_t a, uintptr_t b)
{
	for (size_t i = 0; i < nregions;) {
		struct region *r = &regions[i];
		if (!overlaps(r, a, b)) {
			i++;
		} else if (a <= r->start && r->end <= b) {
			region_drop(r);
			*r = regions[--nregions];
		} else if (a <= r->start) {
			r->off += b - r->start;
			r->start = b;
			i++;
		} else if (r->end <= b) {
			r->end = a;
			i++;
		} else {
			/* A hole in the middle: the upper part is a region of its own. */
			struct region *hi = &regions[nregions++];
			*hi = *r;
			hi->off += b - r->start;
			hi->start = b;
			r->end = a;
			dn_ofd_ref(dn_ofds(), dn_client.chan.l.nofds, r->ofd);
			i++;
		}
	}
	bounds_update();
}

/* Unlocked again. */

bool dn_mmap_copies(void)
{
	return atomic_load_explicit(&span_hi, memory_order_acquire) != 0;
}

void dn_mmap_changed(int32_t ofd, uint64_t off, uint64_t len)
{
	if (!dn_mmap_copies() || len == 0)
		return;
	uint64_t dev, ino;
	bool held = lock_for_calls();
	if (nregions && file_id(ofd, &dev, &ino))
		refresh_file(dev, ino, off, len);
	unlock_for_calls(held);
}

void dn_mmap_changed_file(uint64_t dev, uint64_t ino, uint64_t off, uint64_t len)
{
	if (!dn_mmap_copies() || len == 0)
		return;
	bool held = lock_for_calls();
	refresh_file(dev, ino, off, len);
	unlock_for_calls(held);
}

/* Something new (MAP_FIXED, MREMAP_FIXED) replaces [addr, addr+len): the old contents go home. */
static int replace_tracked(void *addr, size_t len)
{
	uintptr_t a, b;
	if (!page_range(addr, len, &a, &b) || a != (uintptr_t)addr)
		return 0; /* the kernel refuses such a range by itself */
	bool held = lock_for_range(a, b);
	int r = reserve(nregions + splits_needed(a, b));
	if (r == 0) {
		writeback_range(a, b);
		forget_range(a, b);
	}
	unlock_for_calls(held);
	return r;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/*
 * The child's copy of a shared map is private to it: writing it back too
 * would let whichever process finishes last overwrite the other's changes.
 * (No reference was taken for the child, so there is nothing to drop.)
 */
static void fork_child(void)
{
	nregions = 0;
	bounds_update();
	/* A recursive mutex belongs to the parent's thread id: start afresh. */
	lock = (pthread_mutex_t)PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
}

static void atfork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static int region_add(uintptr_t start, uintptr_t end, uint64_t off, const struct stat *st,
		      int32_t ofd, bool writable, bool may_write)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, atfork_register);
	pthread_mutex_lock(&lock);
	int r = reserve(nregions + 1);
	if (r == 0) {
		regions[nregions++] = (struct region){start, end, off, (uint64_t)st->st_dev,
						      (uint64_t)st->st_ino, ofd, writable, may_write};
		dn_ofd_ref(dn_ofds(), dn_client.chan.l.nofds, ofd);
		bounds_update();
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static void *map_fail(int e)
{
	errno = e;
	return MAP_FAILED;
}

/* mmap of Danaus fd: the kernel's checks, then an anonymous map with the file's bytes. */
static void *map_danaus(void *addr, size_t len, int prot, int flags, int fd, int32_t ofd,
			off_t off)
{
	const struct dn_ofd *o = &dn_ofds()[ofd];
	size_t page = page_size();
	int type = flags & MAP_TYPE, acc = (int)(o->oflags & O_ACCMODE);
	bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
	if (o->oflags & O_PATH)
		return map_fail(EBADF);
	if ((!shared && type != MAP_PRIVATE) || len == 0 || off < 0 ||
	    ((uint64_t)off & (page - 1)) || (flags & MAP_HUGETLB))
		return map_fail(EINVAL);
	if (len > SIZE_MAX - page)
		return map_fail(ENOMEM);
	size_t span = (len + page - 1) & ~(page - 1);
	if ((uint64_t)off > (uint64_t)INT64_MAX - span)
		return map_fail(EOVERFLOW);
	if (type == MAP_SHARED_VALIDATE && (flags & MAP_SYNC))
		return map_fail(EOPNOTSUPP);
	if (o->is_dir)
		return map_fail(ENODEV);
	/* Every map reads the file; a shared writable one writes it too. */
	if (acc == O_WRONLY || (shared && (prot & PROT_WRITE) && acc != O_RDWR))
		return map_fail(EACCES);
	if ((flags & MAP_FIXED) && replace_tracked(addr, span) < 0)
		return map_fail(ENOMEM);
	if (shared) {
		/* the kernel's own map where the backend has a kernel file: coherent */
		int k = dn_op_mapfd(fd, acc == O_RDWR); /* a copy of it would be written back */
		if (k >= 0) {
			void *p = REAL(mmap)(addr, len, prot, flags, k, off);
			int e = errno;
			REAL(close)(k);
			errno = e;
			return p;
		}
		if (k != -ENODEV)
			return map_fail(-k);
	}

	int aflags = (flags & ~(MAP_TYPE | MAP_SYNC)) | MAP_PRIVATE | MAP_ANONYMOUS;
	void *p = REAL(mmap)(addr, len, prot | PROT_READ | PROT_WRITE, aflags, -1, 0);
	if (p == MAP_FAILED)
		return p;
	/* Whole pages, as the kernel shows them; what lies past the end of the file stays zero. */
	ssize_t n = dn_op_read(fd, p, span, off);
	int e = n < 0 ? (int)n : 0;
	if (!e && (prot | PROT_READ | PROT_WRITE) != prot && REAL(mprotect)(p, len, prot) < 0)
		e = -errno;
	/*
	 * Every shared map is a region: the process's writes reach it; one of
	 * a read-only fd is never written back, nor made writable.
	 */
	struct stat st;
	if (!e && shared && (e = dn_op_fstat(fd, &st)) == 0)
		e = region_add((uintptr_t)p, (uintptr_t)p + span, (uint64_t)off, &st, ofd,
			       prot & PROT_WRITE, acc == O_RDWR);
	if (e) {
		REAL(munmap)(p, len);
		return map_fail(-e);
	}
	return p;
}

DN_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int32_t ofd = (flags & MAP_ANONYMOUS) ? -1 : dn_fdmap_get(fd);
	if (ofd >= 0)
		return map_danaus(addr, len, prot, flags, fd, ofd, off);
	if ((flags & MAP_FIXED) && may_touch(addr, len) && replace_tracked(addr, len) < 0)
		return map_fail(ENOMEM);
	return REAL(mmap)(addr, len, prot, flags, fd, off);
}
DN_ALIAS(mmap, mmap64);

/* munmap over a region: write back what goes away, then forget it. */
static int unmap_tracked(void *addr, size_t len)
{
	uintptr_t a, b;
	if (len == 0 || !page_range(addr, len, &a, &b) || a != (uintptr_t)addr)
		return REAL(munmap)(addr, len); /* the kernel's EINVAL */
	bool held = lock_for_range(a, b);
	int r = reserve(nregions + splits_needed(a, b));
	if (r == 0) {
		/* munmap has no way to report a failed write-back, as the kernel's has not. */
		writeback_range(a, b);
		r = REAL(munmap)(addr, len) < 0 ? -errno : 0;
		if (r == 0)
			forget_range(a, b);
	}
	unlock_for_calls(held);
	DN_RETURN(r);
}

DN_EXPORT int munmap(void *addr, size_t len)
{
	if (!may_touch(addr, len))
		return REAL(munmap)(addr, len);
	return unmap_tracked(addr, len);
}

/* MS_SYNC and MS_ASYNC both write back before returning; MS_INVALIDATE re-reads nothing. */
DN_EXPORT int msync(void *addr, size_t len, int flags)
{
	if (!may_touch(addr, len))
		return REAL(msync)(addr, len, flags);
	/* The kernel checks flags, alignment and that the range is mapped. */
	uintptr_t a, b;
	if (REAL(msync)(addr, len, flags) < 0)
		return -1;
	if (!page_range(addr, len, &a, &b))
		return 0;
	bool held = lock_for_calls();
	int r = writeback_range(a, b);
	unlock_for_calls(held);
	DN_RETURN(r);
}

/* A region made writable later (mapped PROT_READ, then mprotect) is written back from then on. */
DN_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	if (!(prot & PROT_WRITE) || !may_touch(addr, len))
		return REAL(mprotect)(addr, len, prot);
	uintptr_t a, b;
	/* what the kernel refuses before it looks at the maps (EINVAL, ENOMEM) is its own */
	if (((uintptr_t)addr & (page_size() - 1)) || !page_range(addr, len, &a, &b) ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return REAL(mprotect)(addr, len, prot);
	pthread_mutex_lock(&lock);
	/* a shared map of a file not open for writing: the kernel's VM_MAYWRITE refusal */
	int r = 0;
	for (size_t i = 0; i < nregions && r == 0; i++)
		if (overlaps(&regions[i], a, b) && !regions[i].may_write)
			r = -EACCES;
	if (r == 0 && REAL(mprotect)(addr, len, prot) < 0)
		r = -errno;
	for (size_t i = 0; i < nregions && r == 0; i++)
		if (overlaps(&regions[i], a, b))
			regions[i].writable = true;
	pthread_mutex_unlock(&lock);
	DN_RETURN(r);
}

static bool is_tracked(const void *addr, size_t len)
{
	uintptr_t a, b;
	if (!page_range(addr, len ? len : 1, &a, &b))
		return false;
	bool hit = false;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nregions && !hit; i++)
		hit = overlaps(&regions[i], a, b);
	pthread_mutex_unlock(&lock);
	return hit;
}

/*
 * A shared Danaus map may shrink in place (its tail goes as by munmap). It
 * cannot grow or move: EINVAL. Its new pages would have to be read from the
 * file and its region follow it, which no caller has needed so far.
 */
static void *remap_tracked(void *old, size_t old_size, size_t new_size, int flags)
{
	size_t page = page_size();
	if ((flags & ~MREMAP_MAYMOVE) || new_size == 0 || new_size > old_size ||
	    ((uintptr_t)old & (page - 1)) || old_size > SIZE_MAX - page)
		return map_fail(EINVAL);
	size_t keep = (new_size + page - 1) & ~(page - 1);
	size_t had = (old_size + page - 1) & ~(page - 1);
	if (keep < had && unmap_tracked((char *)old + keep, had - keep) < 0)
		return MAP_FAILED;
	return old;
}

DN_EXPORT void *mremap(void *old, size_t old_size, size_t new_size, int flags, ...)
{
	void *to = NULL;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		to = va_arg(ap, void *);
		va_end(ap);
	}
	bool dst = (flags & MREMAP_FIXED) && may_touch(to, new_size);
	if (!may_touch(old, old_size ? old_size : 1) && !dst)
		return REAL(mremap)(old, old_size, new_size, flags, to);
	if (is_tracked(old, old_size))
		return remap_tracked(old, old_size, new_size, flags);
	/* The kernel unmaps whatever lies at a fixed target. */
	if (dst && replace_tracked(to, new_size) < 0)
		return map_fail(ENOMEM);
	return REAL(mremap)(old, old_size, new_size, flags, to);
}

void dn_mmap_flush_ofd(int32_t ofd)
{
	if (!atomic_load_explicit(&span_hi, memory_order_acquire))
		return;
	bool held = lock_for_calls();
	for (size_t i = 0; i < nregions; i++)
		if (regions[i].ofd == ofd)
			region_writeback(&regions[i], regions[i].start, regions[i].end);
	unlock_for_calls(held);
}

void dn_mmap_lock(void)
{
	pthread_mutex_lock(&lock);
}

void dn_mmap_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

void dn_mmap_each_ofd(void (*fn)(int32_t ofd, void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nregions; i++)
		fn(regions[i].ofd, arg);
	pthread_mutex_unlock(&lock);
}

void dn_mmap_rebase_ofds(int32_t (*to)(int32_t ofd, void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	last_asked.handle = 0; /* another session's handles */
	size_t kept = 0;
	for (size_t i = 0; i < nregions; i++) {
		regions[i].ofd = to(regions[i].ofd, arg);
		/* a file that could not move: its map keeps its memory, and no longer its file */
		if (regions[i].ofd >= 0)
			regions[kept++] = regions[i];
	}
	nregions = kept;
	bounds_update();
	pthread_mutex_unlock(&lock);
}

void dn_mmap_release_all(void)
{
	if (!atomic_load_explicit(&span_hi, memory_order_acquire))
		return;
	bool held = lock_for_calls();
	for (size_t i = 0; i < nregions; i++) {
		region_writeback(&regions[i], regions[i].start, regions[i].end);
		region_drop(&regions[i]);
	}
	nregions = 0;
	bounds_update();
	unlock_for_calls(held);
}

/*
 * Exit writes the maps back. Linked after lifecycle.c, this runs before its
 * release of the fds; the other order would do as well: every region holds
 * its own reference, and the session stays attached until the process is gone.
 */
__attribute__((destructor)) static void mmap_fini(void)
{
	dn_mmap_release_all();
}
