#!/usr/bin/env bash
# Integration (ceph): mounts.sh on a pool with backend = ceph: every instance
# (two subtrees, a union, a container's union) over its one libcephfs mount.
MOUNTS_CEPH=1 exec "$(dirname "$0")/mounts.sh"
