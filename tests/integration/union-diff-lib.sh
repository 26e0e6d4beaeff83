# Fixture of union-diff.sh and ceph-union-diff.sh: the kernel overlay (the
# oracle), the users, and one union_diff.py run per seed. Source it after
# lib.sh or ceph-lib.sh; the sourcing script defines
#   union_pool_side RUN   layers in OCI form, a pool with [union] over them;
#                         sets UD_POOL_ARGS (union_diff.py run's pool options)

# what the pool's ini file says of its union (layers and upper inside its backend)
UD_INI='[union]\nlower = /layers/over:/layers/top:/layers/mid:/layers/base\nupper = /containers/c1\n'

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
		union_pool_side "$run"
		set -- "${UD_POOL_ARGS[@]}" "$@"
	fi
	python3 "$HERE/union_diff.py" run --kernel-mnt "$kdir/mnt" --kernel-upper "$kdir/upper" \
		--kernel-layers "$kdir/layers" --workdir "$WORK" --reproduce "$0" "$@" &
	PD_PID=$!
	wait "$PD_PID" || rc=$?
	PD_PID=
	return $rc
}

# union_diff_seeds "SEEDS" ARGS...: each seed on fresh layers and a fresh pool
# (the arguments' --seed instead, when they have one), then the verdict
union_diff_seeds() {
	local seeds=($1) s rc worst=0
	shift
	for arg in "$@"; do
		[ "$arg" = --seed ] && seeds=(given)
	done
	for s in "${seeds[@]}"; do
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
	0)
		if [ -s "$WORK/union-diff.known-seen" ]; then
			echo "NOTE: known union divergences were skipped (KNOWN lines above): $(tr '\n' ' ' < "$WORK/union-diff.known-seen")" >&2
			pass "the union answered as overlayfs did, for every identity, operation and seed, but for the KNOWN divergences above"
		else
			pass "the union answered as overlayfs did, for every identity, operation and seed"
		fi
		;;
	1) fail "the union and overlayfs disagree (mismatches above)" ;;
	*) fail "union_diff.py could not finish (see above)" ;;
	esac
}
