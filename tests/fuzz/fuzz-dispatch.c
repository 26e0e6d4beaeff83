/*
 * Dispatch Fuzzer: client-written requests against a real local libservice,
 * or (FUZZ_UNION=1) against a union of a read-only layer holding root's
 * guards under a writable one, stacked on it as a pool stacks it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <ftw.h>

#include "cred.h"
#include "dispatch.h"
#include "gens.h"
#include "handover.h"
#include "session.h"
#include "shm.h"
#include "svc.h"
#include "union/union.h"

/*
 * An input is a run of records, each a request as a client puts it in its
 * request buffer, then its payload:
 *
 *   struct dn_req up to inl (REQ_HEAD bytes) | u16 LE n | n payload bytes
 *
 * The payload goes where the request says (its inl, or the start of the
 * buffer it names). Requests of one input run in order against one tree, so
 * an open's handle can be used by the next: a handle 1..255 stands for the
 * (h-1 mod count)th handle this input opened. Every input starts from the
 * same fresh tree and ends with its handles and locks gone.
 */
#define REQ_HEAD offsetof(struct dn_req, inl)
#define REQS_MAX 16
#define NBUFS 2
#define DATA_SIZE (1u << 20) /* the pool's own SESSION_DATA */
#define FALLOCATE_MAX (16u << 20)
#define NOBODY 65534

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz-dispatch: %s:%d: %s (%m)\n", __FILE__, __LINE__, #cond);\
			finding();                                                                 \
		}                                                                                  \
	} while (0)

/*
 * Back to our own identity, so libFuzzer can write the crash file, then
 * abort. A sanitizer's report in a request finds the thread as nobody (when
 * run as root): give nobody write access to -artifact_prefix for those.
 */
static _Noreturn void finding(void)
{
	struct dn_cred me = {.uid = geteuid(), .gid = getegid(), .caps = dn_cred_pool_caps()};
	dn_cred_apply(&me);
	abort();
}

static char parent[64]; /* holds only root: anything else there escaped it */
static char root[80];
static int root_fd = -1;  /* the tree requests start from: the root, or the union's upper */
static int guard_fd = -1; /* where root's guards are: the root, or the union's lower layer */
static bool union_mode;   /* FUZZ_UNION=1 */
static struct dn_svc *svc;
static struct dn_session *sess;
static bool trace; /* FUZZ_TRACE=1: each request's op and result on stderr, to read a finding */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void cleanup(void)
{
	struct dn_handovers *h = sess->handovers;
	dn_session_free(sess);
	dn_handovers_free(h);
	svc->ops->destroy(svc);
	close(root_fd);
	if (guard_fd != root_fd)
		close(guard_fd);
	nftw(parent, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Empties directory dfd, whatever modes a request left on what is inside. */
static void wipe(int dfd)
{
	int fd = dup(dfd);
	check(fd >= 0);
	DIR *d = fdopendir(fd);
	check(d);
	rewinddir(d); /* the dup shares dfd's offset: where the last wipe ended */
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dfd, e->d_name, 0) == 0)
			continue;
		/* a directory: a request may have taken our right to list it */
		check(fchmodat(dfd, e->d_name, 0700, 0) == 0);
		int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		check(sub >= 0);
		wipe(sub);
		close(sub);
		check(unlinkat(dfd, e->d_name, AT_REMOVEDIR) == 0);
	}
	closedir(d);
}

static void put_file(const char *path, const char *text)
{
	int fd = openat(root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	check(fd >= 0);
	check(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/*
 * The oracle of privilege: root's files in the tree, which the session's
 * caller (nobody, without capabilities) may not change on the kernel. Any
 * change to them after a request is the pool granting more than the kernel
 * would. Kept by descriptor, so a rename of the directory does not hide them.
 */
struct guard {
	const char *path;
	mode_t mode;
	int fd;
	struct stat st;
	char text[64];
	ssize_t len;
	ssize_t xattrs;
};
static struct guard guards[] = {
	{.path = "guard", .mode = S_IFDIR | 0755, .fd = -1},
	{.path = "guard/file", .mode = S_IFREG | 0644, .fd = -1},
	{.path = "guard/secret", .mode = S_IFREG | 0600, .fd = -1},
	{.path = "guard/suid", .mode = S_IFREG | 04755, .fd = -1},
};
static bool guarded; /* running as root: nobody's requests must leave root's files alone */

static void guards_make(void)
{
	struct dn_cred me = {.uid = geteuid(), .gid = getegid(), .caps = dn_cred_pool_caps()};
	check(dn_cred_apply(&me) == 0);
	for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
		struct guard *g = &guards[i];
		if (g->fd >= 0)
			close(g->fd);
		if (S_ISDIR(g->mode)) {
			check(mkdirat(guard_fd, g->path, g->mode & 07777) == 0);
			g->fd = openat(guard_fd, g->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		} else {
			int w = openat(guard_fd, g->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			check(w >= 0);
			check(write(w, g->path, strlen(g->path)) == (ssize_t)strlen(g->path));
			check(fchmod(w, g->mode & 07777) == 0);
			close(w);
			g->fd = openat(guard_fd, g->path, O_RDONLY | O_CLOEXEC);
		}
		check(g->fd >= 0);
	}
	/* once all are made: the directory's times move with what it holds */
	for (size_t i = 0; i < sizeof(guards) / sizeof(guards[0]); i++) {
		struct guard *g = &guards[i];
		check(fstat(g->fd, &g->st) == 0);
		g->len = S_ISDIR(g->mode) ? 0 : pread(g->fd, g->text, sizeof(g->text), 0);
		g->xattrs = flistxattr(g->fd, NULL, 0);
	}
}

static void guards_check(void)
{
	for (size_t i = 0; guarded && i < sizeof(guards) / sizeof(guards[0]); i++) {
		struct guard *g = &guards[i];
		struct stat st;
		char text[64];
		check(fstat(g->fd, &st) == 0);
		check(st.st_mode == g->st.st_mode && st.st_uid == g->st.st_uid &&
		      st.st_gid == g->st.st_gid && st.st_size == g->st.st_size &&
		      st.st_mtim.tv_sec == g->st.st_mtim.tv_sec &&
		      st.st_mtim.tv_nsec == g->st.st_mtim.tv_nsec && st.st_nlink >= 1);
		if (!S_ISDIR(g->mode))
			check(pread(g->fd, text, sizeof(text), 0) == g->len &&
			      memcmp(text, g->text, (size_t)g->len) == 0);
		check(flistxattr(g->fd, NULL, 0) == g->xattrs);
	}
	/*
	 * Through a union, nobody may not change root's files either: none of
	 * them was copied up into the writable layer (a link would need
	 * fs.protected_hardlinks off, a rename write access to guard/).
	 */
	struct stat st;
	if (guarded && union_mode) {
		/*
		 * As root: nobody may take the search right off its own upper
		 * root (chmod 0666 of "."), as on the kernel. The next request
		 * applies nobody again.
		 */
		struct dn_cred me = {.uid = geteuid(), .gid = getegid(), .caps = dn_cred_pool_caps()};
		check(dn_cred_apply(&me) == 0);
		check(fstatat(root_fd, "guard", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
	}
}

/* The tree every input starts from: files, a directory, and symlinks that point out. */
static void tree_reset(void)
{
	if (guarded) {
		/* as root: whatever nobody left, then root's guards */
		struct dn_cred me = {.uid = geteuid(), .gid = getegid(), .caps = dn_cred_pool_caps()};
		check(dn_cred_apply(&me) == 0);
		wipe(root_fd);
		if (union_mode)
			wipe(guard_fd);
		guards_make();
	}
	check(dn_cred_apply(&sess->cred) == 0);
	check(fchmod(root_fd, 0755) == 0);
	char names[4096];
	ssize_t n = flistxattr(root_fd, names, sizeof(names));
	for (ssize_t at = 0; at < n; at += (ssize_t)strlen(names + at) + 1)
		fremovexattr(root_fd, names + at);
	if (!guarded)
		wipe(root_fd);
	check(mkdirat(root_fd, "dir", 0755) == 0);
	put_file("file", "hello\n");
	put_file("dir/file", "in a directory\n");
	check(symlinkat("file", root_fd, "link") == 0);
	check(symlinkat("../../..", root_fd, "up") == 0);
	check(symlinkat("/etc", root_fd, "abs") == 0);
	check(symlinkat("..", root_fd, "dir/back") == 0);
	if (union_mode) {
		/* the layers changed under the union: what it looked up is stale */
		un_changed((struct union_svc *)svc);
	}
}

/* Nothing but root in parent: no request made a file outside the pool. */
static void check_confined(void)
{
	DIR *d = opendir(parent);
	check(d);
	struct dirent *e;
	while ((e = readdir(d)))
		check(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		      strcmp(e->d_name, "root") == 0);
	closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	check(snprintf(parent, sizeof(parent), "%s/dn-fuzz.XXXXXX", tmp) < (int)sizeof(parent));
	check(mkdtemp(parent));
	check(chmod(parent, 0755) == 0);
	snprintf(root, sizeof(root), "%s/root", parent);
	check(mkdir(root, 0755) == 0);

	sess = dn_session_new(-1);
	check(sess);
	sess->handovers = dn_handovers_new(); /* FIFOs are handed over, never opened here */
	check(sess->handovers);
	sess->pid = getpid();
	check(dn_cred_init() == 0);
	/*
	 * As root, requests run as nobody (root could make device nodes and reach
	 * the host's disks), beside root's own guard files (guards_check).
	 */
	if (geteuid() == 0) {
		check(chown(root, NOBODY, NOBODY) == 0);
		sess->cred = (struct dn_cred){.uid = NOBODY, .gid = NOBODY};
		guarded = true;
	} else {
		sess->cred = (struct dn_cred){.uid = geteuid(), .gid = getegid()};
	}
	sess->real = sess->cred; /* access(2)'s identity: the same ids */
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(root_fd >= 0);
	guard_fd = root_fd;

	struct dn_config cfg = {.local_root = root, .lock_owners_per_uid = 1024};
	char err[256];
	check(dn_svc_local_new(&cfg, &svc, err, sizeof(err)) == 0);
	union_mode = getenv("FUZZ_UNION") && strcmp(getenv("FUZZ_UNION"), "1") == 0;
	if (union_mode) {
		/* root's lower layer (the guards) under nobody's writable one, the requests' tree */
		check(mkdirat(root_fd, "lower", 0755) == 0 && mkdirat(root_fd, "upper", 0755) == 0);
		if (guarded)
			check(fchownat(root_fd, "upper", NOBODY, NOBODY, 0) == 0);
		guard_fd = openat(root_fd, "lower", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int upper = openat(root_fd, "upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		check(guard_fd >= 0 && upper >= 0);
		char *lower[] = {"/lower"};
		struct dn_union_spec spec = {.lower = lower, .nlower = 1, .upper = "/upper"};
		struct dn_svc *u;
		check(dn_svc_union_new(&spec, svc, true, &u, err, sizeof(err)) == 0);
		svc = u;
		close(root_fd);
		root_fd = upper;
		/* as a local pool's union: the attribute cache's bumps and uncached maps too */
		static struct dn_gens gens;
		dn_gens_start(&gens, 1, true);
	}
	sess->mounts[0] = svc;
	sess->nmounts = 1;
	struct dn_layout l;
	check(dn_layout_compute(&l, 1, NBUFS, DATA_SIZE, 16) == 0);
	const char *mountpoints[] = {"/danaus/fuzz"};
	check(dn_session_map(sess, &l, 1, "fuzz", mountpoints, 0) == 0);
	trace = getenv("FUZZ_TRACE") != NULL;
	atexit(cleanup);
	return 0;
}

/* What the harness changes in a request before the service sees it, and why. */
static void tame(struct dn_req *req, const uint64_t *opened, size_t nopened)
{
	if (req->handle >= 1 && req->handle <= 255 && nopened)
		req->handle = opened[(req->handle - 1) % nopened];
	/* real blocks on the host's disk: a few MiB show the same code */
	if (req->op == DN_OP_FALLOCATE && req->len <= INT64_MAX && req->off <= INT64_MAX &&
	    req->len <= INT64_MAX - req->off)
		req->len %= FALLOCATE_MAX;
}

/* Puts the payload where req says it is, as the client would have. */
static void place_payload(struct dn_req *req, const uint8_t *pl, size_t n)
{
	if (req->where != DN_REQ_PAYLOAD_IN_BUF) {
		memcpy(req->inl, pl, n < DN_INLINE_MAX ? n : DN_INLINE_MAX);
		return;
	}
	if (req->buf >= NBUFS)
		return;
	struct dn_buf *b = dn_layout_buf(&sess->l, sess->base, req->buf);
	uint8_t *dst = dn_buf_data(&sess->l, b);
	memcpy(dst, pl, n);
	/* the rest of what it claims: zeroes, not an earlier input's bytes */
	size_t claimed = req->payload_len < DATA_SIZE ? req->payload_len : DATA_SIZE;
	if (claimed > n)
		memset(dst + n, 0, claimed - n);
}

/* What a client relies on in any reply: an errno, or an answer that fits what it asked. */
static void check_reply(const struct dn_req *req, const struct dn_reply *rep)
{
	check(rep->tag == req->tag);
	check(rep->result > -4096); /* an answer, or an errno (-1..-4095) */
	if (rep->result < 0)
		return;
	switch (req->op) {
	case DN_OP_PREAD: case DN_OP_READDIR: case DN_OP_READLINK:
		check((uint64_t)rep->result <= req->len);
		break;
	case DN_OP_GETXATTR: case DN_OP_LISTXATTR:
		check(req->len == 0 || (uint64_t)rep->result <= req->len);
		break;
	case DN_OP_PWRITE:
	case DN_OP_IOCTL: /* the argument as the kernel filled it, in the room asked for */
		check((uint64_t)rep->result <= req->len);
		break;
	case DN_OP_FPATH:
		check((uint64_t)rep->result < DATA_SIZE);
		break;
	}
}

struct input {
	const uint8_t *data;
	size_t size;
};

static void *run_input(void *arg)
{
	const uint8_t *data = ((struct input *)arg)->data;
	size_t size = ((struct input *)arg)->size;
	uint64_t opened[REQS_MAX];
	size_t nopened = 0;

	tree_reset();
	for (int i = 0; i < REQS_MAX && size >= REQ_HEAD + 2; i++) {
		struct dn_req req;
		memset(&req, 0, sizeof(req));
		memcpy(&req, data, REQ_HEAD);
		size_t n = (size_t)data[REQ_HEAD] | (size_t)data[REQ_HEAD + 1] << 8;
		data += REQ_HEAD + 2;
		size -= REQ_HEAD + 2;
		if (n > size)
			n = size;
		tame(&req, opened, nopened);
		place_payload(&req, data, n);
		data += n;
		size -= n;
		if (req.buf < NBUFS) {
			struct dn_buf *b = dn_layout_buf(&sess->l, sess->base, req.buf);
			atomic_store(&b->state, DN_BUF_SUBMITTED);
			atomic_store(&b->ready, 0);
			/* tag bit 0: a client that never takes a streamed read's pieces */
			atomic_store(&b->taken, (req.tag & 1) ? 0 : UINT64_MAX);
		}

		struct dn_reply rep;
		if (!dn_dispatch_run(sess, &req, &rep))
			continue;
		dn_dispatch_reply(sess, req.buf, &rep);
		if (trace)
			fprintf(stderr, "op %u handle %#llx path_len %u -> %lld\n", req.op,
				(unsigned long long)req.handle, req.path_len, (long long)rep.result);
		check_reply(&req, &rep);
		if (req.op == DN_OP_OPEN && rep.result == 0)
			opened[nopened++] = rep.handle;
		check_confined();
		guards_check();
	}

	/* What a session's end does, without ending the session. */
	dn_session_drop_files(sess);
	return NULL;
}

/*
 * Each input on a thread of its own, as a worker would serve it: the
 * session's identity (nobody, under root) sticks to the thread that applied
 * it, and libFuzzer must write its corpus and crash files as itself.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	pthread_t t;
	check(pthread_create(&t, NULL, run_input, &in) == 0);
	check(pthread_join(t, NULL) == 0);
	return 0;
}
