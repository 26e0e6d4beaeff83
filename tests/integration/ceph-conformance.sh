#!/usr/bin/env bash
# Integration (ceph): python-suite.sh and stress-fs.sh on a pool served by a
# real CephFS cluster, each compared with the same run through ceph-fuse on
# that cluster (the client the kernel would use), as ceph-apps.sh runs its tests.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

ceph_start_with_fuse
# On Ceph each module runs twice over the cluster (pool, ceph-fuse): the
# modules that found bugs (~1/3 of the local list's time) keep CI's run short;
# PYSUITE_MODULES still overrides.
export PYSUITE_MODULES=${PYSUITE_MODULES:-"test_os test_posix test_shutil test_tempfile test_fileio
	test_fcntl test_stat test_mmap"}
failed=()
for t in python-suite stress-fs; do
	t0=$SECONDS
	if ceph_run_local "$t"; then
		pass "$t.sh on a ceph pool against ceph-fuse ($((SECONDS - t0)) s)"
	else
		failed+=("$t")
	fi
done
[ ${#failed[@]} = 0 ] || fail "on a ceph pool: ${failed[*]}"
