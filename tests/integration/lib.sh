# Integration fixture: a real danaus-pool on a temporary local root, torn down on exit.
# Usage: . lib.sh; pool_start NAME [extra ini lines]; ...; (cleanup runs on EXIT)
set -euo pipefail

: "${DANAUS_BUILD:?DANAUS_BUILD must point at the meson build directory}"
POOL_BIN="$DANAUS_BUILD/daemon/danaus-pool"
RUN_BIN="$DANAUS_BUILD/run/danaus-run"
LIB="$DANAUS_BUILD/preload/libdanaus.so"

WORK=$(mktemp -d /tmp/danaus-test.XXXXXX)
chmod 755 "$WORK"
POOL_PIDS=()
MOUNTS=()

cleanup() {
	local rc=$?
	for pid in "${POOL_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${POOL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for m in "${MOUNTS[@]}"; do rmdir "$m" 2>/dev/null || true; done
	for u in "${USERS_MADE[@]}"; do userdel "$u" 2>/dev/null || true; done
	# A sanitizer build of the pool reports into its log: that is a failure.
	for log in "$WORK"/*/pool.log; do
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$log"; then
			cat "$log" >&2
			echo "FAIL: the pool reported a sanitizer error ($log)" >&2
			rc=1
		fi
	done
	rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT

# make_user NAME: an ordinary user for the test (no home, /bin/sh), removed at exit
USERS_MADE=()
make_user() {
	id "$1" >/dev/null 2>&1 && return 0
	useradd --no-create-home --shell /bin/sh "$1" || fail "useradd $1"
	USERS_MADE+=("$1")
}

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

# make_source_tree DIR: the input of workload.sh (sizes around the inline and
# buffer limits, nested dirs, modes)
make_source_tree() {
	local s=$1
	mkdir -p "$s/tree/sub1/deeper" "$s/tree/sub2"
	head -c 3145731 /dev/urandom > "$s/rand-3m"
	head -c 448 /dev/urandom > "$s/inline-448"
	head -c 449 /dev/urandom > "$s/inline-449"
	head -c 1048576 /dev/urandom > "$s/one-mib"
	head -c 1048577 /dev/urandom > "$s/one-mib-plus-1"
	: > "$s/empty"
	printf 'line one\nline two\n' > "$s/small.txt"
	for i in 1 2 3; do
		echo "file $i" > "$s/tree/sub1/f$i"
		head -c $((i * 10000)) /dev/urandom > "$s/tree/sub2/r$i"
	done
	echo deep > "$s/tree/sub1/deeper/x"
	chmod 640 "$s/tree/sub1/f2"
	chmod 750 "$s/tree/sub2"
}

# POOL_SETTINGS: more [pool] lines ("key = value\n...").
# CDI_DIR: where the pool writes its CDI spec (default: its own directory, not /run/cdi).
# pool_start NAME [INI_EXTRA]: sets POOL_<NAME>_{SOCK,ROOT,MNT,PID} via globals SOCK ROOT MNT PID,
# and BACKEND: the backend's root on the host ([mount] paths are in it; ROOT is it, or a union's upper)
# With DANAUS_TEST_CEPH_DIR (a scripts/ceph-local cluster) and DANAUS_TEST_CEPH_FUSE
# (its CephFS root through ceph-fuse) the pool has backend = ceph instead.
# (POOL_ROOT_OF=OTHER: the new pool serves the files of pool OTHER, started before)
# union_lower NAME: where the lower layer of pool NAME's union (DANAUS_TEST_UNION) is made,
# before pool_start NAME (on Ceph: through DANAUS_TEST_CEPH_FUSE)
union_lower() {
	if [ -n "${DANAUS_TEST_CEPH_DIR:-}" ]; then
		echo "$DANAUS_TEST_CEPH_FUSE/pools/t$$-$1/lower"
	else
		echo "$WORK/$1/backend/lower"
	fi
}

pool_start() {
	local name=$1 extra=${2:-}
	local dir="$WORK/$name" top=${POOL_ROOT_OF:-$1}
	mkdir -p "$dir/etc/pools" "$WORK/$top/root"
	chmod 755 "$dir" "$WORK/$top/root"
	MNT="/danaus/t$$-$name"
	ROOT="$WORK/$top/root"
	SOCK="$dir/pool.sock"
	local waits=100
	if [ -n "${DANAUS_TEST_CEPH_DIR:-}" ]; then
		# A CephFS directory served by the ceph backend; ROOT is the same
		# directory through ceph-fuse (tests/integration/ceph-apps.sh).
		ROOT="$DANAUS_TEST_CEPH_FUSE/pools/t$$-$top"
		mkdir -p "$ROOT"
		chmod 755 "$ROOT"
		BACKEND=$ROOT
		local union=
		if [ -n "${DANAUS_TEST_UNION:-}" ]; then
			# with DANAUS_TEST_UNION too: the union below, its layers in CephFS
			mkdir -p "$ROOT/lower" "$ROOT/upper"
			chmod 755 "$ROOT/lower" "$ROOT/upper"
			ROOT="$ROOT/upper"
			union='[union]\nlower = /lower\nupper = /upper\n'
		fi
		printf '[pool]\nbackend = ceph\nmountpoint = %s\nworkers = %s\n'"${POOL_SETTINGS:-}"'\n[ceph]\nconf = %s\nid = admin\nkeyring = %s\nroot = %s\nmount_timeout = 20\n'"$union"'%b\n' \
			"$MNT" "${WORKERS:-1}" "$DANAUS_TEST_CEPH_DIR/ceph.conf" \
			"$DANAUS_TEST_CEPH_DIR/ceph.client.admin.keyring" "/pools/t$$-$top" "$extra" \
			> "$dir/etc/pools/$name.ini"
		waits=600
	elif [ -n "${DANAUS_TEST_UNION:-}" ]; then
		# The pool's tree is a union over an empty lower layer: ROOT is its
		# writable layer, where the test's own files go too (union-apps.sh).
		local backend="$WORK/$top/backend"
		mkdir -p "$backend/lower" "$backend/upper"
		chmod 755 "$backend" "$backend/lower" "$backend/upper"
		ROOT="$backend/upper"
		BACKEND=$backend
		printf '[pool]\nbackend = local\nmountpoint = %s\nworkers = %s\n'"${POOL_SETTINGS:-}"'\n[local]\nroot = %s\n[union]\nlower = /lower\nupper = /upper\n%b\n' \
			"$MNT" "${WORKERS:-1}" "$backend" "$extra" > "$dir/etc/pools/$name.ini"
	else
		BACKEND=$ROOT
		printf '[pool]\nbackend = local\nmountpoint = %s\nworkers = %s\n'"${POOL_SETTINGS:-}"'\n[local]\nroot = %s\n%b\n' \
			"$MNT" "${WORKERS:-1}" "$ROOT" "$extra" > "$dir/etc/pools/$name.ini"
	fi
	"$POOL_BIN" --pool "$name" --config-dir "$dir/etc" --socket "$SOCK" --cdi-dir "${CDI_DIR-$dir/cdi}" \
		2>"$dir/pool.log" &
	PID=$!
	POOL_PIDS+=("$PID")
	MOUNTS+=("$MNT")
	for _ in $(seq $waits); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$PID" 2>/dev/null || { cat "$dir/pool.log" >&2; fail "pool $name exited"; }
		sleep 0.05
	done
	fail "pool $name did not create $SOCK"
}

# in_pool CMD...: runs CMD through danaus-run against the last started pool
in_pool() {
	"$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" -- "$@"
}
