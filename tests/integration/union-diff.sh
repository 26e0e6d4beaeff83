#!/usr/bin/env bash
# Integration: the union libservice against the kernel's overlayfs. The same
# four image layers in OCI form under a pool's [union] and in overlayfs form
# under a kernel overlay mount; union_diff.py runs the same seeded operations
# as root and two users on both (copy-up, whiteouts, opaque directories,
# EXDEV renames, ENOTEMPTY rmdirs...), compares every answer and the merged
# tree after each change, then the upper layers (whiteout forms mapped) and
# a directory read in many getdents calls while names come and go.
#
# Arguments go to union_diff.py run: a mismatch's reproducer line is
#   DANAUS_BUILD=build tests/integration/union-diff.sh --seed S --steps N -v
# UNION_DIFF_POOL_IS_KERNEL=1 puts a second kernel overlay where the pool
# goes (a check of the harness itself: it must find no difference).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

# overlayfs is the oracle: without it there is nothing to compare with
if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
	echo "SKIP: this kernel has no overlayfs (not in /proc/filesystems, modprobe overlay failed): the union cannot be compared" >&2
	exit 77
fi

. "$HERE/perm-diff-lib.sh"

KMNTS=()
union_cleanup() {
	local m
	[ -n "$PD_PID" ] && kill -KILL "$PD_PID" 2>/dev/null
	PD_PID=
	# the killed checker's agents end when their stdin closes; a lazy unmount
	# does not wait for them
	for m in "${KMNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	true
}
trap 'rc=$?; set +e; union_cleanup; (exit $rc); perm_cleanup' EXIT

perm_users_add

# ovl_mount DIR LAYERS: a kernel overlay of LAYERS/{over,top,mid,base} at DIR/mnt,
# upper DIR/upper. index, redirect_dir, metacopy and xino off: renaming a lower
# or merged directory is EXDEV (as the union answers), copy-up copies whole
# files, and nothing depends on inode numbers.
ovl_mount() {
	local d=$1 l=$2
	mkdir -p "$d/upper" "$d/work" "$d/mnt"
	chmod 755 "$d/upper"
	touch -h -d @400000000.123456789 "$d/upper"
	mount -t overlay "danaus-ud-$$" -o "lowerdir=$l/over:$l/top:$l/mid:$l/base,upperdir=$d/upper,workdir=$d/work,index=off,redirect_dir=off,metacopy=off,xino=off" "$d/mnt"
	KMNTS+=("$d/mnt")
}

# union_diff RUN ARGS...: fresh layers, a fresh overlay and a fresh pool, one
# union_diff.py run on them; its exit status
union_diff() {
	local run=$1 kdir="$WORK/kernel-$1" rc=0
	shift
	mkdir -p "$kdir"
	python3 "$HERE/union_diff.py" layers --ovl "$kdir/layers"
	ovl_mount "$kdir" "$kdir/layers"
	if [ "${UNION_DIFF_POOL_IS_KERNEL:-0}" = 1 ]; then
		local fdir="$WORK/fake-$run"
		mkdir -p "$fdir"
		python3 "$HERE/union_diff.py" layers --ovl "$fdir/layers"
		ovl_mount "$fdir" "$fdir/layers"
		set -- --pool-is-kernel --mount "$fdir/mnt" --pool-upper "$fdir/upper" \
			--pool-layers "$fdir/layers" "$@"
	else
		# the pool's root, as pool_start makes it: the layers are there before it starts
		POOL_NAME=ud$run
		local proot="$WORK/$POOL_NAME/root"
		mkdir -p "$proot/containers/c1"
		chmod 755 "$WORK/$POOL_NAME" "$proot" "$proot/containers" "$proot/containers/c1"
		python3 "$HERE/union_diff.py" layers --oci "$proot/layers"
		touch -h -d @400000000.123456789 "$proot/containers/c1"
		pool_start "$POOL_NAME" '[union]\nlower = /layers/over:/layers/top:/layers/mid:/layers/base\nupper = /containers/c1\n'
		[ "$ROOT" = "$proot" ] || fail "pool_start put the pool's root at $ROOT, not $proot"
		set -- --mount "$MNT" --socket "$SOCK" --pool "$POOL_NAME" --run-bin "$RUN_BIN" \
			--pool-upper "$proot/containers/c1" --pool-layers "$proot/layers" "$@"
	fi
	python3 "$HERE/union_diff.py" run --kernel-mnt "$kdir/mnt" --kernel-upper "$kdir/upper" \
		--kernel-layers "$kdir/layers" --workdir "$WORK" --known "$HERE/union-diff.known" \
		--reproduce "$0" "$@" &
	PD_PID=$!
	wait "$PD_PID" || rc=$?
	PD_PID=
	return $rc
}

# the CI seeds, each on fresh layers and a fresh pool; or what the arguments say
SEEDS=(1 2 3)
for arg in "$@"; do
	[ "$arg" = --seed ] && SEEDS=(given)
done
worst=0
for s in "${SEEDS[@]}"; do
	rc=0
	if [ "$s" = given ]; then
		union_diff 1 "$@" || rc=$?
	else
		union_diff "$s" --seed "$s" "$@" || rc=$?
	fi
	case $rc in
	0) ;;
	1) [ "$worst" = 2 ] || worst=1 ;;
	*) worst=2 ;;
	esac
done
case $worst in
0) pass "the union answered as overlayfs did, for every identity, operation and seed" ;;
1) fail "the union and overlayfs disagree (mismatches above)" ;;
*) fail "union_diff.py could not finish (see above)" ;;
esac
