/* Pool Configuration: danaus.ini defaults + pools/<pool>.ini, read with inih */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DN_CONFIG_ERR_MAX 512

struct dn_config {
	char *pool;        /* pool name, [a-zA-Z0-9_.-]{1,64} */
	char *backend;     /* [pool] backend: "local" or "ceph" */
	char *mountpoint;  /* [pool] mountpoint: absolute, normalized; default /danaus/<pool> */
	unsigned workers;  /* [pool] workers: 1..64, default 1 */
	unsigned queues;   /* [pool] queues: 1..64, default = workers */
	unsigned read_threads; /* [pool] read_threads: 0..256; default 4 per worker on ceph, else 0 */
	unsigned poll_us;  /* [pool] poll_us: 0..100000, busy-poll time before futex sleep, default 50 */
	unsigned poll_max_us; /* [pool] poll_max_us: 0..100000, what poll_us may grow to, default 2000 */
	unsigned request_timeout; /* [pool] request_timeout: 1..3600 s a request may take, default 60 */
	bool compat_mount; /* [pool] compat_mount: also serve the mountpoint through FUSE; no */
	char *local_root;  /* [local] root: absolute path of an existing directory; required for local */
	bool local_allow_system_root; /* [local] allow_system_root: serve "/" or a system directory */
	unsigned local_root_line;      /* where root was set, for messages */
	uid_t *users;      /* [access] users: names or numeric uids, comma/space separated */
	size_t n_users;
	gid_t *groups;     /* [access] groups: names or numeric gids */
	size_t n_groups;

	/* [limits]: what one uid may hold of the pool, so that none starves the others */
	unsigned sessions_per_uid;    /* sessions_per_uid: 1..65536, default 128 (connections) */
	unsigned open_files_per_uid;  /* open_files_per_uid: 1..1048576; 0 (default): a quarter
				       * of the descriptors the pool may open */
	unsigned lock_owners_per_uid; /* lock_owners_per_uid: 1..65536, default 1024 */
	unsigned hello_timeout;       /* hello_timeout: 1..600 s to finish attaching, default 5 */

	/* [resources], for the pool's unit; 0 or NULL means unset */
	unsigned cpu_quota_pct; /* cpu_quota: "150%" -> 150, 1..100000 */
	char *cpus;             /* cpus: CPU list, normalized ("0-3,6"), CPUs 0..4095 */
	uint64_t memory_max;    /* memory_max: bytes >= 4096, UINT64_MAX for infinity */
	uint64_t memory_high;   /* memory_high: likewise */
	unsigned io_weight;     /* io_weight: 1..10000 */

	/* [ceph], used by backend ceph */
	char *ceph_conf;          /* conf: absolute path of a regular file; /etc/ceph/ceph.conf */
	char *ceph_id;            /* id: cephx client id, [A-Za-z0-9_.-]{1,64}; "admin" */
	char *ceph_keyring;       /* keyring: absolute path; NULL for libcephfs' default */
	char *ceph_root;          /* root: absolute, normalized path inside CephFS; "/" */
	uint64_t ceph_cache_size; /* cache_size: bytes >= 4096; 0 for libcephfs' default */
	unsigned ceph_mount_timeout; /* mount_timeout: seconds, 1..3600; 30 */
	bool ceph_memory_log;     /* memory_log: keep libcephfs' in-memory debug log; false */
	double ceph_entry_timeout; /* entry_timeout: seconds a walked path is cached, 0 = off; 1 */
	/* attr_timeout: seconds the library keeps a stat's answer, 0 = off; 1 (preload/attr-cache.c) */
	double ceph_attr_timeout;
	/* read_cache: bytes of the library's read cache per process, 0 = off, a multiple of 64K */
	uint64_t ceph_read_cache; /* DN_READ_CACHE_UNSET: dn_config_read_cache() */
	/*
	 * networks: the IP networks (address[/prefix], or localhost) the
	 * cluster is on, space-separated: the unit may reach nothing else
	 * (IPAddressAllow=); NULL for any
	 */
	char *ceph_networks;

	/*
	 * [union]: the pool's tree is a union of read-only layers under a
	 * writable one, all directories of the backend (absolute, normalized,
	 * not "/"): upper and either lower or image. upper must not nest
	 * with a lower layer (or the image store).
	 */
	char **union_lower;   /* lower: colon-separated, top first, at most 127 */
	size_t n_union_lower;
	char *union_upper;    /* upper: made at start when missing */
	char *union_image;    /* image: NAME:TAG in DN_IMAGE_STORE, instead of lower */
	/* containers: where the writable layers of containers (danaus-run --container) go */
	char *union_containers;
	unsigned union_line;  /* where [union] was last set, for messages */
	/*
	 * attr_timeout: on a local pool, how long the library may keep a
	 * union instance's stat answers (seconds, 0: none); a host process's
	 * change to a layer is seen that late. Ceph pools: [ceph] attr_timeout.
	 */
	double union_attr_timeout;

	/* [mount NAME]: the pool's other filesystem instances, in the order first given */
	struct dn_config_mount *mounts;
	size_t n_mounts;
	unsigned parses; /* files parsed so far: a key twice in one file is an error */
};

/*
 * [mount NAME]: a filesystem instance at its own mountpoint, over the pool's
 * one backend: a subtree of it (path), or a union of its directories
 * (upper with lower or image, as [union]). Paths absolute and normalized.
 */
struct dn_config_mount {
	char *name;       /* [A-Za-z0-9_.-]{1,64}, not starting with '.' */
	char *mountpoint; /* required; nests with no other instance's */
	char *path;       /* a direct instance: this directory of the backend */
	char **lower;     /* a union: read-only layers, top first */
	size_t n_lower;
	char *upper;      /* a union's writable layer, made when missing */
	char *image;      /* NAME:TAG in DN_IMAGE_STORE, instead of lower */
	/*
	 * access_users, access_groups: who of those [access] lets attach may
	 * use this instance (none given: all of them); as [access]'s lists
	 */
	uid_t *users;
	size_t n_users;
	gid_t *groups;
	size_t n_groups;
	char *file;       /* where its section was last given, for messages */
	unsigned line;
	unsigned seen;     /* keys given in the file parse `seen_in` counted */
	unsigned seen_in;
};

/* Instances a pool serves: its top ([pool] mountpoint) and up to 15 [mount] sections. */
#define DN_CONFIG_MOUNTS_MAX 15

#define DN_UNION_LAYERS_MAX 128 /* the writable layer included */
/* where danaus-image keeps a pool's images, in its backend */
#define DN_IMAGE_STORE "/images"

/*
 * Reads DIR/danaus.ini (optional: absent is fine) then DIR/pools/POOL.ini
 * (required), the pool file overriding the defaults. On error returns a
 * negative errno and writes "FILE:LINE: key: reason" (or "FILE: reason" when no
 * line applies) into err.
 */
int dn_config_load(struct dn_config **out, const char *dir, const char *pool, char *err,
		   size_t errlen);

/*
 * The same for a pool file given by path (as a generator sees
 * /etc/danaus/pools/NAME.ini): the defaults come from
 * dirname(dirname(path))/danaus.ini when it exists.
 */
int dn_config_load_file(struct dn_config **out, const char *path, const char *pool, char *err,
			size_t errlen);

/* Parses one ini text as if it were the file named `name` (for tests and the
 * generator); merges into cfg, which must come from dn_config_new(). */
struct dn_config *dn_config_new(const char *pool);
int dn_config_parse_string(struct dn_config *cfg, const char *name, const char *text, char *err,
			   size_t errlen);
/* Checks cross-key rules (backend needs its section, its files exist) and fills
 * in defaults; name is the file blamed in messages. */
int dn_config_finish(struct dn_config *cfg, const char *name, char *err, size_t errlen);

struct dn_config *dn_config_free(struct dn_config *cfg);

/*
 * The libcephfs object cache a pool gets, in bytes: cache_size when set;
 * else a quarter of the lower of memory_max and memory_high when either
 * is set (at least DN_CEPH_CACHE_MIN); else 0, libcephfs's default (200 MiB).
 */
#define DN_CEPH_CACHE_MIN (UINT64_C(8) << 20)
uint64_t dn_config_ceph_cache_size(const struct dn_config *cfg);
/*
 * Whether a direct instance (the top one included) reaches into a union's
 * writable layer (or the containers' ones): there a copied-up file answers
 * its origin's number through the union and its own through the instance.
 */
bool dn_config_direct_meets_upper(const struct dn_config *cfg);

/*
 * The library's read cache per process of a Ceph pool, in bytes (a multiple
 * of DN_CONFIG_READ_CACHE_BLOCK): read_cache when set (0: none); else a sixteenth
 * of the lower of memory_max and memory_high when either is set, at most
 * DN_READ_CACHE_DEFAULT and at least one block; else DN_READ_CACHE_DEFAULT.
 */
#define DN_READ_CACHE_UNSET UINT64_MAX
/* as ipc/wire.h's DN_READ_CACHE_BLOCK and _MAX (the config does not link the ipc) */
#define DN_CONFIG_READ_CACHE_BLOCK (UINT64_C(64) << 10)
#define DN_CONFIG_READ_CACHE_MAX (UINT64_C(4) << 30)
#define DN_READ_CACHE_DEFAULT (UINT64_C(64) << 20)
uint64_t dn_config_read_cache(const struct dn_config *cfg);

/*
 * workers when none are configured: the CPUs this process may use, no more
 * than [resources] cpus lists or cpu_quota gives time for (1 to 64).
 */
unsigned dn_config_default_workers(const struct dn_config *cfg);

bool dn_config_allows(const struct dn_config *cfg, uid_t uid, gid_t gid, const gid_t *groups,
		      size_t n_groups);
/*
 * Whether a caller [access] allows may also use instance m: in its own
 * lists, when it has any. Root always may, as with [access].
 */
bool dn_config_mount_allows(const struct dn_config_mount *m, uid_t uid, gid_t gid,
			    const gid_t *groups, size_t n_groups);
