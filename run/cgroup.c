/* Pool Cgroup Placement: moving danaus-run into its pool's slice */
#include "cgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "dn-paths.h"
#include "slice-name.h"

#if DN_HAVE_LIBCGROUP
#include <libcgroup.h>
#endif

static void busp(sd_bus **b) { sd_bus_flush_close_unref(*b); }
static void msgp(sd_bus_message **m) { sd_bus_message_unref(*m); }
static void errp(sd_bus_error *e) { sd_bus_error_free(e); }

struct job_wait {
	const char *path; /* the job we wait for, once known */
	char result[32];
	bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && strcmp(path, w->path) == 0) {
		snprintf(w->result, sizeof(w->result), "%s", result);
		w->done = true;
	}
	return 0;
}

/* Root talks to PID 1 directly, as systemctl does; others through the bus. */
static int bus_connect(sd_bus **out)
{
	if (geteuid() == 0) {
		sd_bus *b = NULL;
		if (sd_bus_new(&b) >= 0 &&
		    sd_bus_set_address(b, "unix:path=/run/systemd/private") >= 0 &&
		    sd_bus_start(b) >= 0) {
			*out = b;
			return 0;
		}
		sd_bus_unref(b);
	}
	return sd_bus_open_system(out);
}

static int place_systemd(const char *pool, const char *slice, char *msg, size_t len)
{
	__attribute__((cleanup(busp))) sd_bus *bus = NULL;
	__attribute__((cleanup(msgp))) sd_bus_message *m = NULL, *reply = NULL;
	__attribute__((cleanup(errp))) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct job_wait w = {0};
	char scope[320];
	char esc[300];
	const char *job;
	int r;

	/* The slice name's escaped pool, reused: danaus-run-<pool>-<pid>.scope. */
	snprintf(esc, sizeof(esc), "%s", slice + strlen("danaus-"));
	esc[strlen(esc) - strlen(".slice")] = 0;
	snprintf(scope, sizeof(scope), "danaus-run-%s-%ld.scope", esc, (long)getpid());

	r = bus_connect(&bus);
	if (r < 0) {
		snprintf(msg, len, "cannot reach systemd: %s", strerror(-r));
		return r;
	}
	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed,
				&w);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				       "org.freedesktop.systemd1.Manager", "Subscribe", &e, NULL,
				       "");
	if (r < 0)
		goto fail;
	r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
					   "/org/freedesktop/systemd1",
					   "org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", scope, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)", "Slice", "s", slice, "Description",
					  "s", "danaus-run in Danaus pool", "CollectMode", "s",
					  "inactive-or-failed", "PIDs", "au", 1,
					  (uint32_t)getpid());
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r < 0)
		goto fail;
	r = sd_bus_call(bus, m, 0, &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &job);
	if (r < 0)
		goto fail;
	w.path = job;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!w.done) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			goto fail;
		if (r > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10) {
			snprintf(msg, len, "systemd did not start %s in time", scope);
			return -ETIMEDOUT;
		}
		r = sd_bus_wait(bus, 500000);
		if (r < 0)
			goto fail;
	}
	if (strcmp(w.result, "done") != 0) {
		snprintf(msg, len, "systemd could not start %s in %s: job %s", scope, slice,
			 w.result);
		return -EIO;
	}
	return 0;
fail:
	snprintf(msg, len, "cannot start %s in %s: %s", scope, slice,
		 sd_bus_error_is_set(&e) ? e.message : strerror(-r));
	return r;
}

#if DN_HAVE_LIBCGROUP
/* Makes danaus.slice/danaus-<pool>.slice (the path systemd would use) where it is missing. */
static void create_libcgroup(const char *path)
{
	/* danaus.slice first: it is the parent the pool's cgroup copies from. */
	struct cgroup *top = cgroup_new_cgroup("danaus.slice");
	if (top && cgroup_add_all_controllers(top) == 0)
		(void)cgroup_create_cgroup_from_parent(top, 0);
	cgroup_free(&top);
	/* From the parent: a v1 cpuset cgroup starts with no CPUs or memory nodes. */
	struct cgroup *cg = cgroup_new_cgroup(path);
	if (cg && cgroup_add_all_controllers(cg) == 0)
		(void)cgroup_create_cgroup_from_parent(cg, 0);
	cgroup_free(&cg);
}

#define CONTROLLERS_MAX 32

/*
 * Without a manager nobody owns the tree: join the pool's cgroup in every
 * mounted hierarchy that has it (each v1 controller, named ones, the
 * unified one), making it first when asked to.
 */
static int place_libcgroup(const char *path, bool create, char *msg, size_t len)
{
	int r = cgroup_init();
	if (r != 0) {
		snprintf(msg, len, "libcgroup: %s", cgroup_strerror(r));
		return -EIO;
	}
	if (create)
		create_libcgroup(path);
	static char names[CONTROLLERS_MAX][64];
	const char *ctrls[CONTROLLERS_MAX + 1];
	size_t n = 0;
	void *it = NULL;
	struct cgroup_mount_point mp;
	for (r = cgroup_get_controller_begin(&it, &mp); r == 0 && n < CONTROLLERS_MAX;
	     r = cgroup_get_controller_next(&it, &mp)) {
		char dir[sizeof(mp.path) + 400];
		snprintf(dir, sizeof(dir), "%s/%s", mp.path, path);
		if (access(dir, F_OK) != 0)
			continue;
		if (strlen(mp.name) >= sizeof(names[n]))
			continue; /* controller names are short; a longer one is not ours to join */
		memcpy(names[n], mp.name, strlen(mp.name) + 1);
		ctrls[n] = names[n];
		n++;
	}
	cgroup_get_controller_end(&it);
	ctrls[n] = NULL;
	if (n == 0) {
		snprintf(msg, len, "libcgroup: no hierarchy has %s", path);
		return -ENOENT;
	}
	r = cgroup_change_cgroup_path(path, getpid(), ctrls);
	if (r != 0) {
		int e = r == ECGOTHER ? cgroup_get_last_errno() : 0;
		snprintf(msg, len, "libcgroup: cannot join %s: %s", path, cgroup_strerror(r));
		return e ? -e : -EIO;
	}
	return 0;
}
#endif

/* Whether someone (an administrator, cgconfig) made the pool's cgroup already. */
static bool cgroup_exists(const char *path)
{
	static const char *const roots[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
					    "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/memory"};
	char p[512];
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s/cgroup.procs", roots[i], path);
		if (access(p, F_OK) == 0)
			return true;
	}
	return false;
}

int dn_run_cgroup_place(const char *pool, bool create, enum dn_cgroup_via via, char *msg,
			size_t len)
{
	char slice[300], path[340];
	dn_slice_name(pool, slice, sizeof(slice));
	dn_slice_cgroup(pool, path, sizeof(path));
	if (via == DN_CGROUP_VIA_SYSTEMD || (via == DN_CGROUP_VIA_AUTO && sd_booted() > 0))
		return place_systemd(pool, slice, msg, len);
	/* No manager and no pool cgroup: nothing to join unless asked to make it. */
	if (!create && !cgroup_exists(path))
		return 1;
#if DN_HAVE_LIBCGROUP
	return place_libcgroup(path, create, msg, len);
#else
	snprintf(msg, len, "no systemd manager runs and danaus-run was built without "
			   "libcgroup: cannot join %s", path);
	return -ENOTSUP;
#endif
}
