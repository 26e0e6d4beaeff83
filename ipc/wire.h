/* Wire Format: the structs libdanaus.so and danaus-pool share through memory */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DN_PROTO_MAGIC 0x31534e4144ULL /* "DANS1" */
#define DN_PROTO_VERSION 26
#define DN_CACHELINE 64

enum dn_op {
	DN_OP_NOP = 1, /* round trip only: for benchmarks and liveness */
	DN_OP_OPEN,
	DN_OP_CLOSE,
	DN_OP_PREAD,   /* flags: DN_READ_STREAM */
	DN_OP_PWRITE,
	DN_OP_FSTAT,
	DN_OP_STAT,    /* flags: DN_AT_NOFOLLOW */
	DN_OP_ACCESS,  /* mode: R_OK..; flags: DN_AT_NOFOLLOW, DN_AT_EACCESS */
	DN_OP_MKDIR,
	DN_OP_RMDIR,
	DN_OP_UNLINK,
	DN_OP_RENAME,  /* path, path2; flags: renameat2 flags; off: as DN_OP_LINK's */
	DN_OP_READDIR, /* off: cookie; answers linux_dirent64 records */
	DN_OP_FSYNC,   /* flags: DN_FSYNC_DATA, DN_FSYNC_FS */
	DN_OP_TRUNCATE,
	DN_OP_FTRUNCATE,
	DN_OP_CHMOD,
	DN_OP_FCHMOD,
	DN_OP_READLINK, /* len: buffer size; answers the target in the data area */
	DN_OP_FPATH,    /* the pool path a handle was opened by, in the data area */
	DN_OP_UTIMENS,  /* path (flags: DN_AT_NOFOLLOW) or, without one, handle;
			 * data: two struct dn_timespec (atime, mtime) */
	DN_OP_CHOWN,    /* path (flags: DN_AT_NOFOLLOW) or handle; mode: uid, oflags: gid */
	DN_OP_SYMLINK,  /* path: the link to create, path2: its target (not resolved) */
	DN_OP_LINK,     /* path: existing file, path2: new name; flags: DN_LINK_FOLLOW;
			 * off: the handle a relative path2 is relative to (0: handle);
			 * DN_LINK_HANDLE: no path, the open file handle itself */
	DN_OP_STATFS,   /* path or handle; answers struct dn_statfs in the data area */
	DN_OP_FALLOCATE, /* handle; mode, off, len */
	DN_OP_GETXATTR,  /* path (DN_AT_NOFOLLOW) or handle; path2: name; len: buffer */
	DN_OP_SETXATTR,  /* path or handle; path2: name; data: value; oflags: XATTR_* */
	DN_OP_LISTXATTR, /* path or handle; len: buffer */
	DN_OP_REMOVEXATTR, /* path or handle; path2: name */
	DN_OP_LOCK,     /* handle; data: struct dn_flock; oflags: F_GETLK/F_SETLK; off: owner */
	DN_OP_FLOCK,    /* handle; mode: LOCK_SH/LOCK_EX/LOCK_UN; off: owner */
	DN_OP_MKNOD,    /* path; mode: type and permissions; off: device number */
	DN_OP_HANDOFF,  /* data: struct dn_handoff + its handles; answers the new handles */
	DN_OP_MAPFD,    /* handle; flags: DN_MAP_WRITE; answers a descriptor to map shared
			 * (DN_REPLY_HANDOVER), or ENODEV: map a copy */
	DN_OP_FADVISE,  /* handle; off, len, mode: posix_fadvise advice */
	DN_OP_SEEK,     /* handle; off, mode: SEEK_DATA or SEEK_HOLE; answers the offset,
			 * for directories and backends without holes too; or
			 * SEEK_END of a directory, where the backend's end is */
	DN_OP_IOCTL,    /* handle; oflags: an inode ioctl that only reads (FS_IOC_GETFLAGS,
			 * FS_IOC_GETVERSION, FS_IOC_FSGETXATTR, FS_IOC_FIEMAP); data:
			 * FIEMAP's struct fiemap; len: room for the answer, which is
			 * the argument as the kernel fills it, in the data area; or
			 * chattr's FS_IOC_SETFLAGS (data: an int) or FS_IOC_FSSETXATTR
			 * (data: struct fsxattr) */
	DN_OP_MAX,
};

/* Flags of the wire, independent of the platform's O_ and AT_ values. */
#define DN_AT_NOFOLLOW 0x1u
#define DN_AT_EACCESS 0x2u /* access: effective ids, not the real ones */
#define DN_LINK_FOLLOW 0x4u /* link: the old name's symlink is followed (AT_SYMLINK_FOLLOW) */
#define DN_LINK_HANDLE 0x8u /* link: the file is handle (linkat's AT_EMPTY_PATH, an O_TMPFILE) */
/*
 * open, stat, access: the client follows an absolute symlink the walk meets
 * itself (DN_REPLY_REDIRECT), from the process's root as the kernel would;
 * without it the pool resolves it inside the pool's top.
 */
#define DN_REQ_REDIRECT 0x80000000u
/*
 * open: the reply's aux and aux2 say which file the open reached (its inode
 * number and device), so that a client reopening it by its path after a
 * pool restart can tell it is still the same file (preload/reopen.h).
 */
#define DN_OPEN_IDENT 0x40000000u
/*
 * open: len is the handle the file is to have, taken when its slot is free
 * (else any): a client reopening its files after a pool restart keeps the
 * numbers its threads may have read just before it (preload/restart.c).
 */
#define DN_OPEN_HANDLE 0x20000000u
#define DN_FSYNC_DATA 0x1u
#define DN_FSYNC_FS 0x2u /* syncfs(2): all of the filesystem the file lies on */
#define DN_MAP_WRITE 0x1u /* mapfd: a copy may be written back */
#define DN_WRITE_APPEND 0x1u
/*
 * PREAD, PWRITE: the caller's open file has O_DIRECT (open or F_SETFL), and
 * mode is its buffer's address modulo DN_DIRECT_PAGE. The service does the
 * I/O from a buffer of its own at that same place in a page, so that the
 * kernel's alignment rules for direct I/O refuse what they would refuse
 * the caller (EINVAL); len + mode fits the data area. Never with
 * DN_READ_STREAM.
 */
#define DN_RW_DIRECT 0x2u
#define DN_DIRECT_PAGE 4096u
/*
 * With DN_RW_DIRECT, the first piece of a readv/writev: mode's bits from
 * here hold the OR of its segments' lengths modulo DN_DIRECT_PAGE, and its
 * low bits the OR of their addresses' places (the kernel checks the whole
 * vector's alignment before any I/O). 0 there: one buffer.
 */
#define DN_DIRECT_LENS_SHIFT 16
/*
 * A large read whose data the service publishes as it lands (the buffer's
 * `ready`, every DN_READ_STREAM_CHUNK bytes until a stall), so that the client
 * copies out one piece while the service reads the next: on reads served
 * from libcephfs's cache the two copies overlap instead of adding up.
 *
 * The pieces go round a ring of DN_READ_STREAM_RING bytes at the start of
 * the data area (byte p of the reply at p % DN_READ_STREAM_RING), not
 * through the whole area: the lines the two CPUs pass between them then
 * stay in their caches. Measured on 2 CPUs, 1 MiB reads from libcephfs's
 * cache: ~4 GB/s through 1 MiB, 7 through a 384 KiB ring, 9-10 through
 * 256 KiB (in-process libcephfs: ~10).
 *
 * The client says in the buffer's `taken` how much it has copied out; the
 * service overwrites a piece only once it is taken, and wakes a client
 * asleep on the buffer to take it (state SLEEPING -> SUBMITTED). A client
 * that has not taken a piece DN_READ_STREAM_STALL_NS after the service needs
 * its room (stopped, starved of CPU, or scribbling on the word) gets the rest
 * in place: the reply's aux says where the ring ends, and the bytes from
 * there on sit at their own offset in the data area.
 */
#define DN_READ_STREAM 0x1u
#define DN_READ_STREAM_CHUNK (128u << 10)
#define DN_READ_STREAM_RING (2u * DN_READ_STREAM_CHUNK)
#define DN_READ_STREAM_STALL_NS 10000000u

/* Where byte p of a streamed reply lies in the data area; ring_end: the reply's aux. */
static inline uint64_t dn_stream_at(uint64_t p, uint64_t ring_end)
{
	return p < ring_end ? p % DN_READ_STREAM_RING : p;
}

/*
 * A process whose identity changed (setuid, setgroups, capset...) attaches
 * anew as itself; its open files go with it, as kernel fds keep the rights
 * they were opened with. Sent on the OLD session, which the process still
 * has mapped: each handle is added to the new session (named by its id and
 * its secret token, which only its own processes can read in its header),
 * whose new handles the reply's data area holds in the same order (0: that
 * one was not open): the same numbers where the new session has them free,
 * so that a thread holding one from before the switch names the same file.
 * The process then unmaps the old session.
 */
struct dn_handoff {
	uint32_t session;
	uint32_t n;
	uint64_t token[2];
	/* then n uint64_t handles */
};

/* A time to set; nsec may be UTIME_NOW or UTIME_OMIT as for utimensat(2). */
struct dn_timespec {
	int64_t sec;
	int64_t nsec;
};

/* statvfs as it crosses the wire */
struct dn_statfs {
	uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax;
	uint64_t type; /* statfs(2)'s f_type: the backing filesystem's magic (0: not known) */
};

/* A record lock as it crosses the wire (struct flock's fields, fixed width) */
struct dn_flock {
	int32_t type, whence;
	int64_t start, len;
	int32_t pid, pad;
};

/* Stat as it crosses the wire: fixed width, so both sides agree. */
struct dn_stat {
	uint64_t dev, ino, nlink, size, blocks;
	uint32_t mode, uid, gid, blksize;
	uint64_t rdev;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
	uint32_t more; /* DN_STAT_*: which of the fields below the backend told */
	/* statx's birth time and attributes (their low 32 bits), where the backend's filesystem tells them */
	int64_t btime_sec;
	uint32_t btime_nsec;
	uint32_t attributes, attributes_mask;
	uint32_t pad;
};
#define DN_STAT_BTIME 0x1u
#define DN_STAT_ATTRS 0x2u

/*
 * A request as a client thread writes it into its request buffer
 * (dn_buf.req) before it posts the buffer's index in a queue slot. Every
 * field is untrusted by the service. Payload = path NUL [path2 NUL] [data];
 * it sits in `inl` when it fits, else at the start of the buffer's data area.
 */
#define DN_INLINE_MAX 424
#define DN_REQ_PAYLOAD_IN_BUF 0x1u

struct dn_req {
	uint32_t op;
	uint32_t buf;          /* request buffer that takes the reply */
	uint64_t handle;       /* file handle of fd operations */
	uint64_t off;
	uint64_t len;          /* bytes to read or write */
	uint32_t flags;        /* per op */
	uint32_t mode;         /* open flags' mode, access mode, chmod mode */
	uint32_t oflags;       /* open(2) flags in Linux encoding */
	uint16_t path_len;     /* lengths without the NUL; 0 = no path */
	uint16_t path2_len;
	uint32_t payload_len;  /* paths with NULs + data */
	uint16_t where;        /* DN_REQ_PAYLOAD_IN_BUF */
	uint16_t cpu;          /* the client's CPU + 1 when it queued this; 0: unknown */
	uint64_t tag;          /* echoed in the reply, checked by the client */
	uint64_t fsize;        /* PWRITE, TRUNCATE: the caller's RLIMIT_FSIZE + 1; 0: none */
	/*
	 * OPEN (O_CREAT, O_TMPFILE), MKDIR, MKNOD: the caller's umask. mode is
	 * sent without it: a directory with a default ACL ignores the umask.
	 */
	uint32_t umask;
	/*
	 * The filesystem instance an absolute path is in: an index into the
	 * session's table (dn_shm_header.mounts). A path relative to a handle
	 * is in the handle's instance.
	 */
	uint16_t mount;
	uint16_t pad_;
	/* CLOCK_MONOTONIC when it was queued: for the pool's queue-wait metrics only */
	uint64_t sent_ns;
	uint8_t inl[DN_INLINE_MAX];
};

/* Request buffers a session may have: their index fits a slot's word. */
#define DN_BUFS_MAX 4096u

/*
 * A queue slot is one word, so that a producer fills it with one
 * compare-and-swap: a producer stopped between its reserve and its publish
 * for so long that the service skipped the slot cannot write over the next
 * lap's request (its swap fails), as a copy into the slot could. The word
 * is the slot's sequence number (shifted by DN_SLOT_SEQ_SHIFT) and, once
 * filled, DN_SLOT_FULL and the index of the buffer holding the request
 * (queue.c says whose turn each value means).
 */
#define DN_SLOT_BUF_MASK ((uint64_t)DN_BUFS_MAX - 1)
#define DN_SLOT_FULL ((uint64_t)DN_BUFS_MAX)
#define DN_SLOT_SEQ_SHIFT 13

struct dn_slot {
	_Atomic uint64_t word;
};

struct dn_queue {
	_Atomic uint64_t head; /* producers (client threads) */
	uint8_t pad[DN_CACHELINE - sizeof(uint64_t)];
	/* depth slots follow; the consumer's position lives in the service only */
	struct dn_slot slots[];
};

/* Request buffer states, also the futex word the client sleeps on. */
enum dn_buf_state {
	DN_BUF_FREE = 0,
	DN_BUF_IDLE,      /* owned by a thread, no request in flight */
	DN_BUF_SUBMITTED, /* request queued */
	DN_BUF_SLEEPING,  /* submitted and the client sleeps on the futex */
	DN_BUF_DONE,      /* reply written */
	DN_BUF_RETIRED,   /* never to be used again: a late backend call may still write here */
};

/* Reply flags */
#define DN_REPLY_RETIRE_BUFFER 0x1u /* the request timed out in the service: retire the buffer */
#define DN_REPLY_STAT 0x2u /* st holds an answer (stat, fstat, a lock's F_GETLK) */
#define DN_REPLY_SIGXFSZ 0x4u /* EFBIG for the caller's RLIMIT_FSIZE: it raises SIGXFSZ */
/*
 * An open the client does itself (a FIFO, a device: see DN_SVC_HANDOVER in
 * the pool): handle and aux are the token of a DN_HELLO_TAKE that receives
 * an O_PATH descriptor of the file, which the client then opens.
 */
#define DN_REPLY_HANDOVER 0x8u
/*
 * The walk met an absolute symlink to follow (DN_REQ_REDIRECT): the result
 * is the length of the path to resolve instead, in the data area: the
 * link's target, then what followed the link in the path.
 */
#define DN_REPLY_REDIRECT 0x10u
/* A stat's answer the library may keep (struct dn_gens): the instance's pool bumps for it */
#define DN_REPLY_KEEP 0x20u

struct dn_reply {
	int64_t result; /* >= 0, or -errno */
	uint64_t handle;
	uint64_t tag;
	uint64_t aux;   /* per op: next readdir cookie, new offset, where a streamed read's ring ends */
	uint32_t flags; /* DN_REPLY_* */
	uint32_t aux2;  /* per op: the device of what an open reached (DN_OPEN_IDENT) */
	struct dn_stat st; /* crosses only with DN_REPLY_STAT; zeroes otherwise */
};

/* What every reply carries: its fields before st. */
#define DN_REPLY_HEAD offsetof(struct dn_reply, st)

/*
 * A request buffer's header. The reply's head shares the state word's cache
 * line, so the client spinning on state gets most answers in that one
 * transfer, and the service writes one line the client holds, not four. The
 * next line stays unused: CPUs fetch lines in aligned pairs, and the
 * client's polling would pull it away from a service writing there. On 2
 * vCPUs a NOP round trip went from ~490 to ~400 ns.
 */
struct dn_buf {
	_Atomic uint32_t state;
	_Atomic int32_t owner; /* tid of the owning thread, for diagnostics */
	_Atomic uint64_t ready; /* DN_READ_STREAM: bytes of reply data already in place */
	_Atomic uint64_t taken; /* DN_READ_STREAM: bytes the client has copied out */
	uint8_t reply[DN_REPLY_HEAD]; /* struct dn_reply up to st */
	uint8_t unused[DN_CACHELINE];
	struct dn_stat st; /* struct dn_reply's st, when the reply has DN_REPLY_STAT */
	/* the request in flight, which the queue slot names by this buffer's index */
	struct dn_req req __attribute__((aligned(DN_CACHELINE)));
	/* data follows, aligned to 4 KiB from the start of the buffer */
};

/*
 * Open file descriptions of one session, kept by the clients themselves (the
 * service never reads them): shared by the processes of a session across
 * fork and exec, like the kernel's struct file.
 */
struct dn_ofd {
	_Atomic int32_t refs;   /* 0 = free */
	uint32_t oflags;        /* access mode and status flags (O_APPEND..) */
	uint64_t handle;        /* the service's handle */
	_Atomic int64_t offset;
	uint32_t is_dir;
	uint32_t mount; /* the instance its file is in (dn_req.mount) */
};

/*
 * The backend keeps written data in a cache of the pool's own (libcephfs),
 * which dies with the pool: a write it acknowledged is lost if the pool is
 * killed before the data reaches the cluster (a local pool's writes are in
 * the host's page cache as soon as they return).
 */
#define DN_SESSION_CACHE_DIES 0x1u

#define DN_NAME_MAX 64
#define DN_MOUNT_MAX 256
/* filesystem instances a session may use, each at its mountpoint */
#define DN_MOUNTS_MAX 16
#define DN_IDENT_GROUPS_MAX 64 /* supplementary groups a session may carry */

/* Start of a session's shared memory. Written by the service at creation. */
struct dn_shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t nqueues;
	uint32_t qdepth;
	uint32_t nbufs;
	uint32_t buf_size;      /* whole buffer, header included; multiple of 4 KiB */
	uint32_t buf_data;      /* offset of data inside a buffer */
	uint32_t nofds;
	uint32_t nworkers;      /* queue q is served by worker q % nworkers */
	uint64_t queues_off, queue_stride;
	uint64_t bufs_off, ofds_off, total_size;
	/* The identity the service gives this session (the peer's at connect). */
	uint32_t uid, gid;
	uint32_t ngroups, session;  /* session: its id, for a handoff to it */
	uint32_t groups[DN_IDENT_GROUPS_MAX];
	uint64_t caps;              /* effective capabilities the service acts with */
	uint64_t token[2];          /* secret of the session's processes (DN_OP_HANDOFF) */
	uint32_t flags;             /* DN_SESSION_* */
	uint32_t pad_;
	char pool[DN_NAME_MAX];
	/*
	 * The instances this session may use, by their mountpoints in the
	 * pool's configuration: entry 0 the session's default tree (the pool's
	 * top, or its container's union) that DANAUS_MOUNTPOINT may move; the
	 * others at their own (DANAUS_MOUNTS). The pool decides the list.
	 */
	uint32_t nmounts;
	uint32_t pad2_;
	char mounts[DN_MOUNTS_MAX][DN_MOUNT_MAX];
};

/*
 * Doorbells: each session has one eventfd per worker (the welcome carries
 * them), and a client whose worker sleeps writes to its own. A worker
 * sleeps in epoll on the doorbells of every session it serves, so a ring
 * wakes it for that session only, and a session that keeps ringing with
 * nothing queued is muted for a while (served by the worker's own rounds).
 */
#define DN_MAX_QUEUES 64

/*
 * Whether each worker sleeps, and on which CPU it runs (a client sharing it
 * yields rather than spins): written by the service only. Clients map it
 * read-only (the memfd is sealed against writable maps), so none can make
 * the others skip the doorbell and wait out a worker's sleep.
 */
struct dn_worker_state {
	_Atomic uint32_t sleeping;
	_Atomic uint32_t cpu; /* where the worker last ran, + 1; 0: unknown; or DN_WORKER_MOVING */
	uint8_t pad[DN_CACHELINE - 8];
} __attribute__((aligned(DN_CACHELINE)));

/*
 * A client spins a while for its reply before it sleeps; woken by the
 * worker, the scheduler puts it on the worker's CPU when its own vCPU has
 * halted meanwhile (it avoids halted vCPUs), and the two then share one CPU
 * (measured on 2 vCPUs: stat ~2.1 us instead of ~1.2, open+close ~5 instead
 * of ~2.5, for as long as the burst of requests lasts). A worker waking from
 * its doorbell, or moving off its client's CPU (DN_WORKER_MOVING while it
 * does), takes ~0.1-0.3 ms there, longer than that spin: a client whose
 * worker sleeps, is moving, or has just changed either spins on, up to
 * DN_WORKER_SETTLE_NS into its wait.
 */
#define DN_WORKER_MOVING UINT32_MAX
#define DN_WORKER_SETTLE_NS 2000000u

/*
 * The pool as a whole, for every waiting client (daemon/crowd.h): crowded
 * when more client threads were at work lately than the pool's CPUs can
 * run beside its workers; a client of a crowded pool sleeps for its reply
 * rather than spin, since its spin would take the CPU its worker needs.
 */
struct dn_pool_state {
	_Atomic uint32_t crowded;
	_Atomic uint32_t clients; /* distinct client threads served in the last window */
	/*
	 * + 1 at each lock released through the pool, and a futex wake: a
	 * client waiting for a lock (F_SETLKW, flock) sleeps on it between
	 * attempts, as the kernel wakes its waiters at the unlock.
	 */
	_Atomic uint32_t unlocks;
	uint8_t pad[DN_CACHELINE - 12];
} __attribute__((aligned(DN_CACHELINE)));

/*
 * Generations of the library's attribute cache (preload/attr-cache.c),
 * written by the pool only (mapped read-only by clients, so no process can
 * make another see stale attributes). A client reads them before it sends
 * the stat whose answer it keeps, and uses the answer only while they stay
 * the same; the pool adds 1 after each change, before its reply:
 *
 * - names: anything a path's meaning or who may search it can hang on
 *   (creates, removals, renames, links, a mode, owner, ACL or times changed
 *   by path, and every op it does not know to touch one inode's data only);
 * - inode[dn_gen_inode_slot(ino)]: a change of that inode's data and the
 *   attributes that follow it (write, truncate, allocate, sync by handle).
 *
 * attr_timeout_ms bounds what changes outside the pool (other clients of
 * the cluster) may go unseen; 0: the pool wants nothing cached.
 *
 * An inode counter with DN_GEN_UNCACHED set names an inode the kernel may
 * change with no request (a local file the pool handed a client the
 * descriptor of): nothing is kept for it, nor for the others of its slot,
 * for the pool's life.
 */
#define DN_GEN_INODES 4096u
/* The library's read cache (preload/read-cache.c) keeps data in blocks of this, up to MAX a process. */
#define DN_READ_CACHE_BLOCK (UINT32_C(64) << 10)
#define DN_READ_CACHE_MAX (UINT64_C(4) << 30)
#define DN_GEN_UNCACHED (1ull << 63)
struct dn_gens {
	_Atomic uint64_t names;
	_Atomic uint32_t attr_timeout_ms;
	_Atomic uint32_t read_cache_blocks; /* of DN_READ_CACHE_BLOCK per process: [ceph] read_cache */
	uint8_t pad[DN_CACHELINE - 16];
	_Atomic uint64_t inode[DN_GEN_INODES];
} __attribute__((aligned(DN_CACHELINE)));

static inline uint32_t dn_gen_inode_slot(uint64_t ino)
{
	return (uint32_t)((ino * 0x9e3779b97f4a7c15ull) >> 32) & (DN_GEN_INODES - 1);
}

struct dn_worker_states {
	struct dn_worker_state w[DN_MAX_QUEUES];
	struct dn_pool_state pool;
	struct dn_gens gens;
};

/* Handshake over the unix socket (SOCK_SEQPACKET). */
enum dn_hello_kind {
	DN_HELLO_ATTACH = 0, /* a session: the welcome carries its memory */
	DN_HELLO_TAKE,       /* the descriptor an open handed over (token): the welcome carries it */
};

/* A container's name: [A-Za-z0-9_.-], 1 to DN_CONTAINER_NAME_MAX characters. */
#define DN_CONTAINER_NAME_MAX 64
#define DN_HELLO_IMAGE_MAX 256
/* remove the container's writable layer when its last process is gone */
#define DN_HELLO_CONTAINER_RM 1u

struct dn_hello {
	uint64_t magic;
	uint32_t version;
	uint32_t kind;
	uint64_t token[2];
	/*
	 * DN_HELLO_ATTACH into a container of the pool: its own union of image
	 * (NAME:TAG) under the writable layer of that name, made on first use.
	 * Empty: the pool's own tree. Whether this peer may is the pool's call.
	 */
	uint32_t flags; /* DN_HELLO_CONTAINER_* */
	char container[DN_CONTAINER_NAME_MAX + 4];
	char image[DN_HELLO_IMAGE_MAX];
};

#define DN_MSG_MAX 200
struct dn_welcome {
	uint64_t magic;
	uint32_t version;
	int32_t status; /* 0, or -errno: then msg says why and no fds follow */
	char msg[DN_MSG_MAX];
	char mountpoint[DN_MOUNT_MAX];
};

_Static_assert(sizeof(struct dn_req) <= 512, "a request stays within eight lines");
_Static_assert(DN_SLOT_FULL << 1 == 1ull << DN_SLOT_SEQ_SHIFT,
	       "a slot's word: sequence, full bit, buffer index");
_Static_assert(sizeof(struct dn_hello) == 360, "the hello's size is its wire format");
_Static_assert(sizeof(struct dn_buf) <= 4096, "buffer header fits a page");
_Static_assert(offsetof(struct dn_buf, unused) == DN_CACHELINE,
	       "the reply's head fills the state word's line");
