# Ceph fixture: lib.sh plus a throwaway single-node cluster (scripts/ceph-local)
# in $WORK/ceph, ceph-fuse mounts and pools with backend = ceph; all torn
# down on exit, also on failure.
# Usage: . ceph-lib.sh; ceph_start (or ceph_start_with_fuse); ceph_pool_start NAME [ROOT [ID [INI_EXTRA]]]
HERE=${HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
. "$HERE/lib.sh"

CEPH_LOCAL="$HERE/../../scripts/ceph-local"
CEPH_DIR="$WORK/ceph"
FUSE_MOUNTS=()

[ "$(id -u)" = 0 ] || fail "the ceph tests start a cluster and mount ceph-fuse: run as root"

# Runs before lib.sh's cleanup: pools first (they hold libcephfs sessions),
# then the ceph-fuse mounts, then the cluster; lib.sh then removes $WORK.
ceph_cleanup() {
	local rc=$? pid m
	for pid in "${POOL_PIDS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${POOL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for m in "${FUSE_MOUNTS[@]}"; do
		fusermount -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	# An unmounted ceph-fuse still ends its session with the MDS before it
	# exits: with the cluster stopped first it never does, and spins on a CPU
	# for good (a lazy unmount lets it run on). So the cluster stops after
	# they are gone, and what is left of them after 10 s is killed.
	for _ in $(seq 100); do [ -z "$(ceph_fuse_pids)" ] && break; sleep 0.1; done
	if [ -d "$CEPH_DIR" ]; then
		if [ $rc != 0 ]; then
			for log in "$WORK"/*/pool.log; do
				[ -f "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }
			done
		fi
		"$CEPH_LOCAL" stop "$CEPH_DIR" >/dev/null 2>&1 || true
	fi
	for pid in $(ceph_fuse_pids); do
		echo "ceph-lib: ceph-fuse (pid $pid) did not exit after its unmount: killed" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done
	# hands rc on to cleanup as $?, without errexit ending the trap right here
	set +e
	(exit $rc)
	cleanup
}
trap ceph_cleanup EXIT

# The pids of the ceph-fuse processes of this test's cluster (they daemonize:
# found by the conf on their command line, as scripts/ceph-local stop does).
ceph_fuse_pids() {
	local f a
	for f in /proc/[0-9]*/cmdline; do
		mapfile -t -d '' a 2>/dev/null < "$f" || continue
		[ "${a[0]:-}" = ceph-fuse ] && [ "${a[1]:-}" = -c ] && [ "${a[2]:-}" = "$CEPH_DIR/ceph.conf" ] &&
			{ f=${f#/proc/}; echo "${f%/cmdline}"; }
	done
	return 0
}

# ceph c ARGS: the ceph CLI on the test cluster as admin, bounded.
ceph_cli() { timeout 30 ceph -c "$CEPH_DIR/ceph.conf" --connect-timeout 15 "$@"; }

ceph_start() {
	mkdir -p "$CEPH_DIR"
	# A read after another client's write waits for the MDS's tick: 1 s, not
	# 5, so that the tests that check it do not wait 5 s each time.
	if ! CEPH_LOCAL_MDS_TICK=${CEPH_LOCAL_MDS_TICK:-1} "$CEPH_LOCAL" start "$CEPH_DIR" > "$WORK/ceph-start.log" 2>&1; then
		cat "$WORK/ceph-start.log" >&2
		fail "could not start the test cluster"
	fi
	CEPH_CONF="$CEPH_DIR/ceph.conf"
}

# ceph_client NAME PATH: client.NAME limited to PATH; prints its keyring
ceph_client() { "$CEPH_LOCAL" client "$CEPH_DIR" "$1" "${2:-}"; }

# ceph_fuse_mount DIR [CEPHFS_PATH]: mounts CephFS (as admin) on DIR
ceph_fuse_mount() {
	local mnt=$1 sub=${2:-/}
	mkdir -p "$mnt"
	ceph-fuse -c "$CEPH_CONF" --id admin -k "$CEPH_DIR/ceph.client.admin.keyring" \
		-r "$sub" "$mnt" > "$WORK/fuse-$(basename "$mnt").log" 2>&1 ||
		{ cat "$WORK/fuse-$(basename "$mnt").log" >&2; fail "ceph-fuse $mnt failed"; }
	FUSE_MOUNTS+=("$mnt")
	for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.1; done
	fail "ceph-fuse did not mount $mnt"
}

# ceph_start_with_fuse: ceph_start, and the whole of CephFS mounted through
# ceph-fuse on FUSE (which it sets): the independent client the tests check
# what pools wrote against.
ceph_start_with_fuse() {
	ceph_start
	FUSE="$WORK/fuse"
	ceph_fuse_mount "$FUSE"
}

# ceph_pool_start NAME [ROOT [ID [INI_EXTRA]]]: a pool with backend = ceph;
# sets SOCK MNT PID like pool_start (its processes are cleaned up alike).
ceph_pool_start() {
	local name=$1 root=${2:-/} id=${3:-admin} extra=${4:-}
	local dir="$WORK/$name"
	mkdir -p "$dir/etc/pools"
	chmod 755 "$dir"
	MNT="/danaus/t$$-$name"
	SOCK="$dir/pool.sock"
	printf '[pool]\nbackend = ceph\nmountpoint = %s\nworkers = %s\n'"${POOL_SETTINGS:-}"'\n[ceph]\nconf = %s\nid = %s\nkeyring = %s\nroot = %s\nmount_timeout = %s\n%b\n' \
		"$MNT" "${WORKERS:-1}" "$CEPH_CONF" "$id" "$CEPH_DIR/ceph.client.$id.keyring" \
		"$root" "${MOUNT_TIMEOUT:-20}" "$extra" > "$dir/etc/pools/$name.ini"
	"$POOL_BIN" --pool "$name" --config-dir "$dir/etc" --socket "$SOCK" --cdi-dir "${CDI_DIR-$dir/cdi}" \
		2>"$dir/pool.log" &
	PID=$!
	POOL_PIDS+=("$PID")
	MOUNTS+=("$MNT")
	for _ in $(seq 600); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$PID" 2>/dev/null || { cat "$dir/pool.log" >&2; fail "pool $name exited"; }
		sleep 0.05
	done
	fail "pool $name did not create $SOCK"
}

# ceph_run_local NAME: tests/integration/NAME.sh on pools of this cluster
# (lib.sh's pool_start follows DANAUS_TEST_CEPH_DIR; its ROOT is the pool's
# directory through ceph-fuse), its lines marked with NAME; its exit status.
# After ceph_start_with_fuse.
ceph_run_local() {
	mkdir -p "$FUSE/pools"
	DANAUS_TEST_CEPH_DIR="$CEPH_DIR" DANAUS_TEST_CEPH_FUSE="$FUSE" bash "$HERE/$1.sh" 2>&1 |
		sed -u "s/^/  $1: /"
	return "${PIPESTATUS[0]}"
}
