/* danaus-ctl: what a running pool is doing, from its metrics socket */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dn-paths.h"
#include "path.h"

#define OPS_MAX 64
#define BUCKETS_MAX 64

static void usage(FILE *f)
{
	fprintf(f, "Usage: danaus-ctl status [POOL] [--pool NAME] [--socket PATH] [--metrics PATH]\n"
		   "                         [--interval SECONDS]\n"
		   "Prints what the pool is doing: sessions, open files, requests per second\n"
		   "over the interval (default 1), p50/p99 by operation, memory. The pool's\n"
		   "metrics socket is " DN_RUNDIR "/NAME.metrics, or beside --socket PATH.\n");
}

struct histogram {
	double le[BUCKETS_MAX], cum[BUCKETS_MAX];
	unsigned n;
};

struct op {
	char name[32];
	double count, errors, bytes;
	struct histogram time, wait;
};

struct sample {
	char backend[32], mountpoint[PATH_MAX];
	double uptime, sessions, files, resident, cg_memory, cg_max, cpu;
	double cache_limit, queued, queued_max;
	unsigned workers, queues;
	struct op ops[OPS_MAX];  /* through shared memory */
	struct op cops[OPS_MAX]; /* through the compat mount (danaus_compat_*) */
	unsigned nops, ncops;
};

/* The value of label key in labels ("a=\"x\",b=\"y\""), unescaped, into out. */
static bool label(const char *labels, const char *key, char *out, size_t len)
{
	size_t k = strlen(key);
	for (const char *p = labels; (p = strstr(p, key));) {
		if ((p == labels || p[-1] == ',') && p[k] == '=' && p[k + 1] == '"') {
			size_t o = 0;
			for (p += k + 2; *p && *p != '"' && o + 1 < len; p++) {
				if (*p == '\\' && p[1])
					p++;
				out[o++] = *p == 'n' && p[-1] == '\\' ? '\n' : *p;
			}
			out[o] = 0;
			return true;
		}
		p += k;
	}
	return false;
}

static struct op *op_of(struct op *ops, unsigned *nops, const char *labels)
{
	char name[32];
	if (!label(labels, "op", name, sizeof(name)))
		return NULL;
	for (unsigned i = 0; i < *nops; i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	if (*nops == OPS_MAX)
		return NULL;
	struct op *o = &ops[(*nops)++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

static void bucket(struct histogram *h, const char *labels, double v)
{
	char le[32];
	if (!label(labels, "le", le, sizeof(le)) || h->n == BUCKETS_MAX)
		return;
	h->le[h->n] = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL);
	h->cum[h->n++] = v;
}

/* One line of the text format: name{labels} value. */
static void take(struct sample *s, char *line)
{
	if (line[0] == '#' || !line[0])
		return;
	char *brace = strchr(line, '{'), *space = strrchr(line, ' ');
	if (!space)
		return;
	double v = strtod(space + 1, NULL);
	char *labels = "";
	if (brace && brace < space) {
		*brace = 0;
		labels = brace + 1;
		char *close = strrchr(labels, '}');
		if (close)
			*close = 0;
	} else {
		*space = 0;
	}
	const char *n = line;
	struct op *o = NULL;
	/* the compat mount's series are the shared-memory ones' with danaus_compat_ for danaus_ */
	bool compat = strncmp(n, "danaus_compat_", 14) == 0;
	const char *per_op = compat ? n + 14 : strncmp(n, "danaus_", 7) == 0 ? n + 7 : "";
	if (strcmp(n, "danaus_info") == 0) {
		label(labels, "backend", s->backend, sizeof(s->backend));
		label(labels, "mountpoint", s->mountpoint, sizeof(s->mountpoint));
	} else if (strcmp(n, "danaus_uptime_seconds") == 0) {
		s->uptime = v;
	} else if (strcmp(n, "danaus_sessions") == 0) {
		s->sessions = v;
	} else if (strcmp(n, "danaus_open_files") == 0) {
		s->files = v;
	} else if (strcmp(n, "danaus_resident_memory_bytes") == 0) {
		s->resident = v;
	} else if (strcmp(n, "danaus_cgroup_memory_bytes") == 0) {
		s->cg_memory = v;
	} else if (strcmp(n, "danaus_cgroup_memory_max_bytes") == 0) {
		s->cg_max = v;
	} else if (strcmp(n, "danaus_cpu_seconds_total") == 0) {
		s->cpu = v;
	} else if (strcmp(n, "danaus_worker_busy_seconds_total") == 0) {
		s->workers++;
	} else if (strcmp(n, "danaus_queue_depth") == 0) {
		s->queues++;
		s->queued += v;
		s->queued_max = v > s->queued_max ? v : s->queued_max;
	} else if (strcmp(n, "danaus_backend_cache_limit_bytes") == 0) {
		s->cache_limit = v;
	} else if ((o = compat ? op_of(s->cops, &s->ncops, labels) : op_of(s->ops, &s->nops, labels))) {
		if (strcmp(per_op, "requests_total") == 0)
			o->count = v;
		else if (strcmp(per_op, "request_errors_total") == 0)
			o->errors = v;
		else if (strcmp(per_op, "request_bytes_total") == 0)
			o->bytes = v;
		else if (strcmp(per_op, "request_duration_seconds_bucket") == 0)
			bucket(&o->time, labels, v);
		else if (strcmp(per_op, "request_wait_seconds_bucket") == 0)
			bucket(&o->wait, labels, v);
	}
}

/* Reads the pool's metrics into s: 0, or an exit status after a message. */
static int fetch(const char *path, struct sample *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "danaus-ctl: %s: path too long\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "danaus-ctl: cannot reach the pool's metrics at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	static const char ask[] = "GET /metrics HTTP/1.0\r\n\r\n";
	if (write(fd, ask, sizeof(ask) - 1) < 0) {
		fprintf(stderr, "danaus-ctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 1;
	}
	memset(s, 0, sizeof(*s));
	char line[4096];
	bool body = false, ok = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!body) {
			if (strncmp(line, "HTTP/", 5) == 0)
				ok = strstr(line, " 200 ") != NULL;
			body = line[0] == 0;
			continue;
		}
		if (!ok) {
			fprintf(stderr, "danaus-ctl: %s: %s\n", path, line[0] == '#' ? line + 2 : line);
			fclose(f);
			return 1;
		}
		take(s, line);
	}
	fclose(f);
	if (!ok) {
		fprintf(stderr, "danaus-ctl: %s answered no metrics\n", path);
		return 1;
	}
	return 0;
}

/* The bucket bound under which q of the count between then and now fell (-1: none). */
static double quantile(const struct histogram *now, const struct histogram *then, double q)
{
	unsigned n = now->n;
	if (!n)
		return -1;
	double total = now->cum[n - 1] - (then && then->n == n ? then->cum[n - 1] : 0);
	if (total <= 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		double c = now->cum[i] - (then && then->n == n ? then->cum[i] : 0);
		if (c >= q * total)
			return now->le[i];
	}
	return now->le[n - 1];
}

static const char *duration(double s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (isinf(s))
		snprintf(buf, len, ">34s");
	else if (s < 1e-6)
		snprintf(buf, len, "%.0fns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, len, "%.1fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.1fms", s * 1e3);
	else
		snprintf(buf, len, "%.2fs", s);
	return buf;
}

static const char *bytes(double b, char *buf, size_t len)
{
	const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
	return buf;
}

static const struct op *find_op(const struct op *ops, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	return NULL;
}

/*
 * One line per op of b (with requests in the interval, if any had them):
 * rate, totals, p50/p99 of the time in the pool and of the wait in a queue.
 */
static void print_ops(const struct op *b, unsigned nb, const struct op *a, unsigned na, double dt)
{
	double total = 0, before = 0;
	for (unsigned i = 0; i < nb; i++) {
		const struct op *was = find_op(a, na, b[i].name);
		total += b[i].count;
		before += was ? was->count : 0;
	}
	bool recent = total > before;
	printf("%-12s %10s %12s %8s %9s %9s %9s\n", "op", "/s", "total", "errors", "p50", "p99",
	       "wait p99");
	for (unsigned i = 0; i < nb; i++) {
		const struct op *o = &b[i], *was = find_op(a, na, o->name);
		double d = o->count - (was ? was->count : 0);
		if (recent && d <= 0)
			continue; /* with traffic in the interval, only the ops it had */
		const struct op *base = recent ? was : NULL;
		char p50[16], p99[16], w99[16];
		printf("%-12s %10.0f %12.0f %8.0f %9s %9s %9s\n", o->name, d / dt, o->count, o->errors,
		       duration(quantile(&o->time, base ? &base->time : NULL, 0.5), p50, sizeof(p50)),
		       duration(quantile(&o->time, base ? &base->time : NULL, 0.99), p99, sizeof(p99)),
		       duration(quantile(&o->wait, base ? &base->wait : NULL, 0.99), w99, sizeof(w99)));
	}
	if (!recent)
		printf("(no requests in the interval: latencies since the start)\n");
}

static void sums(const struct op *ops, unsigned n, double *count, double *errors)
{
	*count = *errors = 0;
	for (unsigned i = 0; i < n; i++) {
		*count += ops[i].count;
		*errors += ops[i].errors;
	}
}

static void print(const char *pool, const struct sample *a, const struct sample *b, double dt)
{
	char x[32], y[32], z[32];
	unsigned up = (unsigned)b->uptime;
	printf("pool %s (%s at %s): up %uh%02um%02us, %.0f sessions, %.0f open files\n", pool,
	       b->backend, b->mountpoint, up / 3600, up / 60 % 60, up % 60, b->sessions, b->files);
	double total, errors, before, unused;
	sums(b->ops, b->nops, &total, &errors);
	sums(a->ops, a->nops, &before, &unused);
	printf("requests: %.0f/s over %.1f s; %.0f since start, %.0f errors; %.0f waiting in %u "
	       "queue%s (at most %.0f in one)\n",
	       (total - before) / dt, dt, total, errors, b->queued, b->queues,
	       b->queues == 1 ? "" : "s", b->queued_max);
	printf("memory: %s resident", bytes(b->resident, x, sizeof(x)));
	if (b->cg_memory > 0)
		printf("; cgroup %s%s%s", bytes(b->cg_memory, y, sizeof(y)),
		       b->cg_max > 0 ? " of " : "", b->cg_max > 0 ? bytes(b->cg_max, z, sizeof(z)) : "");
	printf("; CPU %.1f%% over the interval, %u worker%s\n", 100 * (b->cpu - a->cpu) / dt,
	       b->workers, b->workers == 1 ? "" : "s");
	if (b->cache_limit > 0) /* libcephfs tells no more than its configuration (README) */
		printf("backend cache: %s configured; its use only on the client's admin socket\n",
		       bytes(b->cache_limit, x, sizeof(x)));
	print_ops(b->ops, b->nops, a->ops, a->nops, dt);
	if (!b->ncops)
		return;
	sums(b->cops, b->ncops, &total, &errors);
	sums(a->cops, a->ncops, &before, &unused);
	printf("compat mount: %.0f/s over the interval; %.0f since start, %.0f errors\n",
	       (total - before) / dt, total, errors);
	print_ops(b->cops, b->ncops, a->cops, a->ncops, dt);
}

int main(int argc, char **argv)
{
	const char *pool = NULL, *sock = NULL, *metrics = NULL;
	double interval = 1;
	static const struct option opts[] = {
		{"pool", required_argument, NULL, 'p'},
		{"socket", required_argument, NULL, 's'},
		{"metrics", required_argument, NULL, 'M'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	if (argc < 2 || strcmp(argv[1], "status") != 0) {
		usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	optind = 2;
	for (int o; (o = getopt_long(argc, argv, "p:s:M:i:h", opts, NULL)) != -1;) {
		switch (o) {
		case 'p': pool = optarg; break;
		case 's': sock = optarg; break;
		case 'M': metrics = optarg; break;
		case 'i': {
			char *end;
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.1 && interval <= 3600)) {
				fprintf(stderr, "danaus-ctl: --interval %s: seconds from 0.1 to 3600\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !pool)
		pool = argv[optind++];
	if (optind < argc || (!pool && !sock && !metrics)) {
		usage(stderr);
		return 2;
	}
	char path[PATH_MAX];
	if (metrics) {
		snprintf(path, sizeof(path), "%s", metrics);
	} else if (sock) {
		if (dn_path_metrics_socket(sock, path, sizeof(path)) < 0) {
			fprintf(stderr, "danaus-ctl: --socket %s: path too long\n", sock);
			return 2;
		}
	} else {
		snprintf(path, sizeof(path), "%s/%s.metrics", DN_RUNDIR, pool);
	}
	static struct sample a, b;
	int r = fetch(path, &a);
	if (r)
		return r;
	struct timespec ts = {(time_t)interval, (long)((interval - (double)(time_t)interval) * 1e9)};
	nanosleep(&ts, NULL);
	if ((r = fetch(path, &b)))
		return r;
	double dt = b.uptime - a.uptime;
	print(pool ? pool : path, &a, &b, dt > 0 ? dt : interval);
	return 0;
}
