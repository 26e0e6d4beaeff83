#!/usr/bin/env bash
# Integration: stress-ng's filesystem stressors with --verify, each for a
# short while in a kernel directory and, at the same time, in a pool
# (danaus-run). A stressor that succeeds on the kernel must succeed on the
# pool; one listed in stress-fs.known (with its reason) is shown, not
# counted. Bogo-op counts are printed side by side for the reader; they
# measure nothing here (the pool shares the machine with the stressors), and
# no test asserts speed.
# On a Ceph pool (ceph-conformance.sh) the oracle is ceph-fuse on the same
# cluster, and ceph-stress-fs.known adds what only Ceph answers otherwise.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v stress-ng >/dev/null ||
	fail "stress-ng is missing: install it (scripts/install-deps)"

STRESSORS=${STRESS_FS_STRESSORS:-"dir dentry link symlink rename fallocate lockf flock fcntl hdd
	seek chmod chown utime xattr open readahead sync-file getdent filename dirdeep file-ioctl io
	mmap copy-file sendfile splice tee fiemap dnotify inotify lease fstat iomix aio aiol"}
SECS=${STRESS_FS_SECONDS:-1}

pool_start sng

# run_one DIR NAME [through the pool...]: the exit status; the log in DIR/NAME.log
run_one() {
	local dir=$1 s=$2 extra=
	shift 2
	[ "$s" = mmap ] && extra=--mmap-file # the stressor's file-backed maps
	"$@" mkdir -p "$dir/$s"
	# -k: a stressor stuck past TERM (a reply that never comes) is killed, not waited for
	"$@" timeout -k 10 120 stress-ng --temp-path "$dir/$s" --verify --timeout "$SECS" --metrics-brief \
		--"$s" 1 $extra > "$WORK/$(basename "$dir")-$s.log" 2>&1
}

ops() { awk -v s="$1" '$4 == s {print $5; exit}' "$2"; }

KDIR=$WORK/kernel
KNOWN=$HERE/stress-fs.known
if [ -n "${DANAUS_TEST_CEPH_FUSE:-}" ]; then
	KDIR=$DANAUS_TEST_CEPH_FUSE/oracle-sng-$$/kernel
	cat "$HERE/stress-fs.known" "$HERE/ceph-stress-fs.known" > "$WORK/known"
	KNOWN=$WORK/known
fi
mkdir -p "$KDIR"
bad=0
for s in $STRESSORS; do
	# the two sides at once: each is its own stressor in its own directory
	run_one "$KDIR" "$s" &
	kpid=$!
	run_one "$MNT/pool" "$s" in_pool && prc=0 || prc=$?
	wait "$kpid" && krc=0 || krc=$?
	line="$s: kernel $krc ($(ops "$s" "$WORK/kernel-$s.log") ops), pool $prc ($(ops "$s" "$WORK/pool-$s.log") ops)"
	if [ "$krc" = 0 ] && [ "$prc" != 0 ]; then
		reason=$(awk -v s="$s" '$1 == s {$1 = ""; print; exit}' "$KNOWN")
		if [ -n "$reason" ]; then
			echo "KNOWN $line:$reason"
			continue
		fi
		echo "DIVERGES $line"
		grep -E 'fail|error' "$WORK/pool-$s.log" | head -5 | sed 's/^/    /'
		bad=$((bad + 1))
	else
		echo "$line"
	fi
done
[ -z "${DANAUS_TEST_CEPH_FUSE:-}" ] || rm -rf "$(dirname "$KDIR")"
# a call that slipped past the library would land in the host's placeholder (root may write there)
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files landed in the host directory behind the mountpoint: $(ls -A "$MNT" | head -5)"
[ "$bad" = 0 ] || fail "$bad stressor(s) succeed on a kernel directory and fail on the pool"
pass "stress-ng's $(echo $STRESSORS | wc -w) filesystem stressors with --verify: the pool's exit statuses are the kernel's"
