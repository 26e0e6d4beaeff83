# paths_compare KDIR PDIR: runs paths.py on the kernel directory KDIR and
# through the pool (the last one started) on PDIR, both empty, and fails on
# any difference. Source after lib.sh (or ceph-lib.sh) and pool_start.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# nobody must reach both the script and the interpreter (not one in root's home)
cp "$HERE/paths.py" "$WORK/paths.py"
chmod 644 "$WORK/paths.py"
PY3=python3
[ -x /usr/bin/python3 ] && PY3=/usr/bin/python3

# paths_run DIR TAG [RUNNER...]: the script's parts on DIR, into $WORK/paths.TAG
paths_run() {
	local dir=$1 tag=$2
	shift 2
	local py=("$PY3" "$WORK/paths.py" "$dir")
	local part rc
	for part in cases perm-setup perm long renames; do
		rc=0
		if [ $part = perm ]; then
			timeout 60 "$@" "${NOBODY[@]}" "${py[@]}" $part || rc=$?
		else
			# a hang is a failure (the Ceph pool's renames, issue 14 item 5)
			timeout 300 "$@" "${py[@]}" $part || rc=$?
		fi
		[ $rc = 0 ] || echo "$part: exit $rc"
	done > "$WORK/paths.$tag" 2> "$WORK/paths-err.$tag"
}

paths_compare() {
	local kdir=$1 pdir=$2
	paths_run "$kdir" kernel
	paths_run "$pdir" pool "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" --
	grep -qx 'end' "$WORK/paths.kernel" || {
		cat "$WORK/paths.kernel" "$WORK/paths-err.kernel" >&2
		fail "the script did not run to its end on the kernel directory"
	}
	if ! diff -u "$WORK/paths.kernel" "$WORK/paths.pool"; then
		cat "$WORK/paths-err.pool" >&2
		fail "paths with '.', '..' or trailing slashes answered differently through the pool"
	fi
	pass "'.', '..' and trailing slashes as the kernel resolves them ($(grep -c -- ' -> ' "$WORK/paths.kernel") calls)"
}
