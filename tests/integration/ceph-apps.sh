#!/usr/bin/env bash
# Integration (ceph): the application tests (apps.sh: coreutils, git, sqlite
# rollback/WAL with concurrent writers, python, make, shell, fio, rocksdb,
# stress) and spawn-poll.sh, mmap.sh, libc-calls.sh, shared-maps.sh,
# unix-sockets.sh, abs-symlinks.sh, inotify.sh, pathconf.sh, dlopen.sh, images.sh
# (the image store), userns.sh (capabilities of other user namespaces), robust.sh
# (garbage requests), compat-mount.sh (the FUSE compat mount) and fsx.sh on pools served by a real
# CephFS cluster, each compared with the same run on a plain kernel directory.
# One cluster for all; every test runs as itself with lib.sh's pool_start
# pointed at the cluster (DANAUS_TEST_CEPH_DIR), its ROOT being the pool's
# directory through ceph-fuse.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
mkdir -p "$FUSE/pools"

# What legitimately differs between CephFS and ext4, blanked on both sides
# before comparing (DANAUS_TEST_FILTER, read by apps.sh): a directory's size
# (ext4: 4096 per block, CephFS: the bytes of everything below it), so the
# size column of `stat -c '%n %A %s %Y'` lines of directories and du's
# apparent sizes, which add directory sizes up. Files' sizes stay compared.
cat > "$WORK/filter" << 'EOF'
#!/bin/sh
exec sed -E 's/^([^ ]+ d[rwxsStT-]{9}) [0-9]+ /\1 DIRSIZE /
	s/^[0-9]+\t([^\t]+)$/DU\t\1/'
EOF
chmod +x "$WORK/filter"

set +e
failed=()
for t in apps spawn-poll mmap libc-calls shared-maps unix-sockets abs-symlinks inotify pathconf dlopen \
	images userns robust compat-mount fsx; do
	t0=$SECONDS
	DANAUS_TEST_CEPH_DIR="$CEPH_DIR" DANAUS_TEST_CEPH_FUSE="$FUSE" \
		DANAUS_TEST_FILTER="$WORK/filter" bash "$HERE/$t.sh" 2>&1 | sed "s/^/  $t: /"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then
		pass "$t.sh on a ceph pool ($((SECONDS - t0)) s)"
	else
		echo "FAIL: $t.sh on a ceph pool (exit $rc, $((SECONDS - t0)) s)" >&2
		failed+=("$t")
	fi
done
set -e
[ ${#failed[@]} -eq 0 ] || fail "on a ceph pool: ${failed[*]}"
