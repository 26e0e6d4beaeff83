/* Pool Metrics: what each worker served, counted by that worker alone */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char *const op_names[DN_OP_MAX] = {
	[DN_OP_NOP] = "nop", [DN_OP_OPEN] = "open", [DN_OP_CLOSE] = "close",
	[DN_OP_PREAD] = "pread", [DN_OP_PWRITE] = "pwrite", [DN_OP_FSTAT] = "fstat",
	[DN_OP_STAT] = "stat", [DN_OP_ACCESS] = "access", [DN_OP_MKDIR] = "mkdir",
	[DN_OP_RMDIR] = "rmdir", [DN_OP_UNLINK] = "unlink", [DN_OP_RENAME] = "rename",
	[DN_OP_READDIR] = "readdir", [DN_OP_FSYNC] = "fsync", [DN_OP_TRUNCATE] = "truncate",
	[DN_OP_FTRUNCATE] = "ftruncate", [DN_OP_CHMOD] = "chmod", [DN_OP_FCHMOD] = "fchmod",
	[DN_OP_READLINK] = "readlink", [DN_OP_FPATH] = "fpath", [DN_OP_UTIMENS] = "utimens",
	[DN_OP_CHOWN] = "chown", [DN_OP_SYMLINK] = "symlink", [DN_OP_LINK] = "link",
	[DN_OP_STATFS] = "statfs", [DN_OP_FALLOCATE] = "fallocate",
	[DN_OP_GETXATTR] = "getxattr", [DN_OP_SETXATTR] = "setxattr",
	[DN_OP_LISTXATTR] = "listxattr", [DN_OP_REMOVEXATTR] = "removexattr",
	[DN_OP_LOCK] = "lock", [DN_OP_FLOCK] = "flock", [DN_OP_MKNOD] = "mknod",
	[DN_OP_HANDOFF] = "handoff", [DN_OP_MAPFD] = "mapfd", [DN_OP_FADVISE] = "fadvise",
	[DN_OP_SEEK] = "seek", [DN_OP_IOCTL] = "ioctl",
};

const char *dn_metrics_op_name(uint32_t op, char buf[16])
{
	if (op < DN_OP_MAX && op_names[op])
		return op_names[op];
	snprintf(buf, 16, "op%" PRIu32, op);
	return buf;
}

/* floor(log2(ns)), 0 for 0, in six steps */
static unsigned bucket(uint64_t ns)
{
	unsigned b = 0;
	for (unsigned s = 32; s; s >>= 1)
		if (ns >> s) {
			ns >>= s;
			b += s;
		}
	return b < DN_METRICS_BUCKETS ? b : DN_METRICS_BUCKETS - 1;
}

/* The one writer's add: no locked instruction (metrics.h). */
static void add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void dn_metrics_record(struct dn_worker_metrics *m, uint32_t op, int64_t result, uint64_t wait_ns,
		       uint64_t time_ns)
{
	if (op >= DN_OP_MAX)
		op = 0; /* garbage: counted apart, as "op0" */
	struct dn_op_metrics *o = &m->op[op];
	add(&o->count, 1);
	if (result < 0)
		add(&o->errors, 1);
	else if (op == DN_OP_PREAD || op == DN_OP_PWRITE)
		add(&o->bytes, (uint64_t)result);
	add(&o->time_ns, time_ns);
	add(&o->wait_ns, wait_ns);
	add(&o->time_hist[bucket(time_ns)], 1);
	add(&o->wait_hist[bucket(wait_ns)], 1);
	add(&m->busy_ns, time_ns);
}

void dn_metrics_sum(struct dn_worker_metrics *sum, const struct dn_worker_metrics *w)
{
	for (unsigned i = 0; i < DN_OP_MAX; i++) {
		struct dn_op_metrics *s = &sum->op[i];
		const struct dn_op_metrics *o = &w->op[i];
		add(&s->count, get(&o->count));
		add(&s->errors, get(&o->errors));
		add(&s->bytes, get(&o->bytes));
		add(&s->time_ns, get(&o->time_ns));
		add(&s->wait_ns, get(&o->wait_ns));
		for (unsigned b = 0; b < DN_METRICS_BUCKETS; b++) {
			add(&s->time_hist[b], get(&o->time_hist[b]));
			add(&s->wait_hist[b], get(&o->wait_hist[b]));
		}
	}
	add(&sum->busy_ns, get(&w->busy_ns));
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Per op counter lines, for the ops that were asked for at least once. */
static void per_op(FILE *f, const char *pool, const struct dn_worker_metrics *m, const char *name,
		   const char *help, size_t field)
{
	head(f, name, "counter", help);
	for (uint32_t i = 0; i < DN_OP_MAX; i++) {
		const struct dn_op_metrics *o = &m->op[i];
		if (!get(&o->count))
			continue;
		char buf[16];
		const _Atomic uint64_t *v = (const _Atomic uint64_t *)((const char *)o + field);
		fprintf(f, "%s{pool=\"%s\",op=\"%s\"} %" PRIu64 "\n", name, pool,
			dn_metrics_op_name(i, buf), get(v));
	}
}

/* A histogram per op in seconds: cumulative buckets at 2^(i+1) ns. */
static void histogram(FILE *f, const char *pool, const struct dn_worker_metrics *m,
		      const char *name, const char *help, bool wait)
{
	head(f, name, "histogram", help);
	for (uint32_t i = 0; i < DN_OP_MAX; i++) {
		const struct dn_op_metrics *o = &m->op[i];
		if (!get(&o->count))
			continue;
		char buf[16];
		const char *op = dn_metrics_op_name(i, buf);
		const _Atomic uint64_t *h = wait ? o->wait_hist : o->time_hist;
		uint64_t cum = 0;
		for (unsigned b = 0; b + 1 < DN_METRICS_BUCKETS; b++) {
			cum += get(&h[b]);
			fprintf(f, "%s_bucket{pool=\"%s\",op=\"%s\",le=\"%.9g\"} %" PRIu64 "\n", name,
				pool, op, (double)(UINT64_C(2) << b) / 1e9, cum);
		}
		cum += get(&h[DN_METRICS_BUCKETS - 1]);
		fprintf(f, "%s_bucket{pool=\"%s\",op=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name, pool, op,
			cum);
		fprintf(f, "%s_sum{pool=\"%s\",op=\"%s\"} %.9f\n", name, pool, op,
			(double)get(wait ? &o->wait_ns : &o->time_ns) / 1e9);
		fprintf(f, "%s_count{pool=\"%s\",op=\"%s\"} %" PRIu64 "\n", name, pool, op, cum);
	}
}

/* One number from a file of the process's cgroup (v2), or -1. */
static long long cgroup_value(const char *cgroup, const char *file, const char *key)
{
	char path[512];
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/%s", cgroup, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[256];
	long long v = -1;
	while (fgets(line, sizeof(line), f)) {
		size_t k = key ? strlen(key) : 0;
		if (key && (strncmp(line, key, k) != 0 || line[k] != ' '))
			continue;
		char *end;
		long long n = strtoll(line + k, &end, 10);
		if (end != line + k)
			v = n; /* "max" leaves -1: no limit */
		break;
	}
	fclose(f);
	return v;
}

/*
 * The process's own cgroup path ("/system.slice/x.service") in the
 * hierarchy named in /proc/self/cgroup as "N:controllers:" (cgroup v2:
 * ""), or "".
 */
static void own_cgroup(const char *controllers, char *out, size_t len)
{
	out[0] = 0;
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return;
	char line[512];
	size_t c = strlen(controllers);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");
		const char *at = strchr(line, ':');
		if (!at || strncmp(at + 1, controllers, c) != 0 || at[1 + c] != ':')
			continue;
		size_t skip = (size_t)(at + 2 + c - line);
		if (n - skip < len) {
			memcpy(out, line + skip, n - skip);
			out[n - skip] = 0;
		}
		break;
	}
	fclose(f);
}

/*
 * The lowest memory limit of cgroup and its parents, the one that binds
 * (systemd sets a slice's MemoryMax= on the slice, not on the service in
 * it): file of each, read under prefix; -1 when none has one. v1 says "no
 * limit" with a figure near 2^63, v2 with "max".
 */
static long long cgroup_limit(const char *prefix, const char *cgroup, const char *file)
{
	char path[440];
	long long low = -1;
	snprintf(path, sizeof(path), "%s%s", prefix, cgroup);
	for (;;) {
		long long v = cgroup_value(path, file, NULL);
		if (v >= 0 && v < (1LL << 62) && (low < 0 || v < low))
			low = v;
		char *slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = 0;
	}
	return low;
}

/*
 * The pool cgroup's memory (current, limit) and CPU time in microseconds,
 * each -1 when unknown: cgroup v2, else the v1 controllers of a hybrid
 * host (memory, cpuacct), where systemd puts the slice's MemoryMax=.
 */
static void cgroup_use(long long *cur, long long *max, long long *usec)
{
	char cg[400], v1[440];
	own_cgroup("", cg, sizeof(cg));
	*cur = cg[0] ? cgroup_value(cg, "memory.current", NULL) : -1;
	*max = cg[0] ? cgroup_limit("", cg, "memory.max") : -1;
	*usec = cg[0] ? cgroup_value(cg, "cpu.stat", "usage_usec") : -1;
	own_cgroup("memory", cg, sizeof(cg));
	if (*cur < 0 && cg[0]) {
		snprintf(v1, sizeof(v1), "/memory%s", cg);
		*cur = cgroup_value(v1, "memory.usage_in_bytes", NULL);
		*max = cgroup_limit("/memory", cg, "memory.limit_in_bytes");
	}
	/* cpuacct alone, or mounted together with cpu */
	static const char *const acct[] = {"cpuacct", "cpu,cpuacct"};
	for (size_t i = 0; i < 2 && *usec < 0; i++) {
		own_cgroup(acct[i], cg, sizeof(cg));
		if (!cg[0])
			continue;
		snprintf(v1, sizeof(v1), "/%s%s", acct[i], cg);
		long long ns = cgroup_value(v1, "cpuacct.usage", NULL);
		*usec = ns >= 0 ? ns / 1000 : -1;
	}
}

static void process(FILE *f, const char *pool)
{
	long pages = 0, resident = 0;
	FILE *s = fopen("/proc/self/statm", "re");
	if (s) {
		if (fscanf(s, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(s);
	}
	head(f, "danaus_resident_memory_bytes", "gauge", "The pool process's resident memory.");
	fprintf(f, "danaus_resident_memory_bytes{pool=\"%s\"} %lld\n", pool,
		(long long)resident * sysconf(_SC_PAGESIZE));
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(f, "danaus_cpu_seconds_total", "counter", "CPU time of the pool process.");
		fprintf(f, "danaus_cpu_seconds_total{pool=\"%s\"} %.6f\n", pool,
			(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	}
	long long cur, max, usec;
	cgroup_use(&cur, &max, &usec);
	if (cur >= 0) {
		head(f, "danaus_cgroup_memory_bytes", "gauge",
		     "Memory of the pool's cgroup (memory.current; v1: memory.usage_in_bytes).");
		fprintf(f, "danaus_cgroup_memory_bytes{pool=\"%s\"} %lld\n", pool, cur);
	}
	if (max >= 0) {
		head(f, "danaus_cgroup_memory_max_bytes", "gauge",
		     "The memory limit binding the pool's cgroup, its slice's included (memory.max "
		     "or memory.limit_in_bytes; absent when none).");
		fprintf(f, "danaus_cgroup_memory_max_bytes{pool=\"%s\"} %lld\n", pool, max);
	}
	if (usec >= 0) {
		head(f, "danaus_cgroup_cpu_seconds_total", "counter",
		     "CPU time of the pool's cgroup (cpu.stat usage_usec; v1: cpuacct.usage).");
		fprintf(f, "danaus_cgroup_cpu_seconds_total{pool=\"%s\"} %.6f\n", pool,
			(double)usec / 1e6);
	}
}

/* A label value as the text format wants it: backslash, quote and newline escaped. */
static void escape(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (; *in && o + 3 < len; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n')
			out[o++] = '\\';
		out[o++] = *in == '\n' ? 'n' : *in;
	}
	out[o] = 0;
}

int dn_metrics_write(FILE *f, const struct dn_metrics_pool *p, const struct dn_worker_metrics *sum)
{
	char pool[256], mountpoint[1024];
	escape(p->pool, pool, sizeof(pool));
	escape(p->mountpoint, mountpoint, sizeof(mountpoint));
	head(f, "danaus_info", "gauge", "The pool: its backend and mountpoint.");
	fprintf(f, "danaus_info{pool=\"%s\",backend=\"%s\",mountpoint=\"%s\"} 1\n", pool,
		p->backend, mountpoint);
	head(f, "danaus_uptime_seconds", "gauge", "Seconds since the pool started serving.");
	fprintf(f, "danaus_uptime_seconds{pool=\"%s\"} %.3f\n", pool, (double)p->uptime_ns / 1e9);
	head(f, "danaus_sessions", "gauge", "Attached clients.");
	fprintf(f, "danaus_sessions{pool=\"%s\"} %" PRIu64 "\n", pool, p->sessions);
	head(f, "danaus_open_files", "gauge", "Files the pool holds open for its clients.");
	fprintf(f, "danaus_open_files{pool=\"%s\"} %" PRIu64 "\n", pool, p->files);
	if (p->cache_size >= 0) {
		head(f, "danaus_backend_cache_limit_bytes", "gauge",
		     "The backend's object cache size (configured).");
		fprintf(f, "danaus_backend_cache_limit_bytes{pool=\"%s\"} %ld\n", pool,
			p->cache_size);
	}
	head(f, "danaus_queue_depth", "gauge",
	     "Requests waiting now in each queue (all sessions'), and the worker serving it.");
	for (unsigned q = 0; q < p->queues; q++)
		fprintf(f, "danaus_queue_depth{pool=\"%s\",queue=\"%u\",worker=\"%u\"} %" PRIu64 "\n",
			pool, q, q % p->workers, p->queued[q]);
	head(f, "danaus_worker_busy_seconds_total", "counter", "Time each worker spent in requests.");
	for (unsigned i = 0; i < p->workers; i++)
		fprintf(f, "danaus_worker_busy_seconds_total{pool=\"%s\",worker=\"%u\"} %.9f\n", pool,
			i, (double)p->busy_ns[i] / 1e9);
	per_op(f, pool, sum, "danaus_requests_total", "Requests served, by operation.",
	       offsetof(struct dn_op_metrics, count));
	per_op(f, pool, sum, "danaus_request_errors_total", "Requests answered with an error.",
	       offsetof(struct dn_op_metrics, errors));
	per_op(f, pool, sum, "danaus_request_bytes_total", "Bytes read or written.",
	       offsetof(struct dn_op_metrics, bytes));
	histogram(f, pool, sum, "danaus_request_duration_seconds",
		  "Time in the worker (the backend call), by operation.", false);
	histogram(f, pool, sum, "danaus_request_wait_seconds",
		  "Time queued until a worker took the request, by operation.", true);
	if (p->compat) {
		/* apart from the shared-memory series, whose names and labels stay as they were */
		per_op(f, pool, p->compat, "danaus_compat_requests_total",
		       "Requests through the compat mount (FUSE), by operation.",
		       offsetof(struct dn_op_metrics, count));
		per_op(f, pool, p->compat, "danaus_compat_request_errors_total",
		       "Compat mount requests answered with an error.",
		       offsetof(struct dn_op_metrics, errors));
		per_op(f, pool, p->compat, "danaus_compat_request_bytes_total",
		       "Bytes read or written through the compat mount.",
		       offsetof(struct dn_op_metrics, bytes));
		histogram(f, pool, p->compat, "danaus_compat_request_duration_seconds",
			  "Time in the pool's FUSE thread (the backend call), by operation.", false);
	}
	process(f, pool);
	return ferror(f) ? -EIO : 0;
}
