#!/usr/bin/env bash
# Integration (union): the application and path tests through a pool whose
# tree is a union (lib.sh's DANAUS_TEST_UNION: an empty lower layer under a
# writable one, which is the test's ROOT), each compared with the same run
# on a kernel directory as it is for a plain pool: git, sqlite, python,
# make, fio, rocksdb..., paths with '.', '..' and trailing slashes, libc
# calls, maps, directory descriptors, handles, inotify, the compat mount,
# fsx (the file starting in the lower layer).
# (commands.sh stays
# out: a merged directory's link count is 1 there, as overlayfs says.)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

set +e
failed=()
for t in apps paths libc-calls mmap shared-maps dirfd-walk file-handles internal-calls inotify \
	unix-sockets abs-symlinks pathconf compat-mount fsx stranger; do
	t0=$SECONDS
	DANAUS_TEST_UNION=1 bash "$HERE/$t.sh" 2>&1 | sed "s/^/  $t: /"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then
		pass "$t.sh through a union ($((SECONDS - t0)) s)"
	else
		echo "FAIL: $t.sh through a union (exit $rc, $((SECONDS - t0)) s)" >&2
		failed+=("$t")
	fi
done
set -e
[ ${#failed[@]} -eq 0 ] || fail "through a union: ${failed[*]}"
