#!/usr/bin/env bash
# Integration (ceph): the permission differential of perm-diff.sh on a pool
# with backend = ceph. The oracle is ceph-fuse on the same cluster, mounted so
# that it decides per caller as a kernel client would:
#   --client_permissions=true        libcephfs checks each request's uid, gid
#                                    and groups (ceph-fuse takes them from FUSE,
#                                    fuse_set_user_groups)
#   --fuse_default_permissions=true  and the kernel's VFS checks first, with the
#                                    caller's capabilities (without it, uid 0
#                                    may do anything, whatever its capabilities)
#   fuse_allow_other (ceph-fuse's default; root mounts, so /etc/fuse.conf's
#                                    user_allow_other is not needed) lets the
#                                    test's users in at all.
# Both sides are directories of one CephFS: /pd/kernel through the oracle
# mount, /pd/pool through the pool; trees are built and compared as root
# through a third client (ceph-lib's admin ceph-fuse mount).
#
# Divergences that are the oracle's own (FUSE's, not the kernel's) are listed
# with their reasons in ceph-perm-diff.known: shown, not counted.
#
# Arguments go to perm-diff.py, as for perm-diff.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"
. "$HERE/perm-diff-lib.sh"

perm_users_add
ceph_start_with_fuse
mkdir -p "$FUSE/pd/pool" "$FUSE/pd/kernel"
chmod 755 "$FUSE/pd" "$FUSE/pd/pool" "$FUSE/pd/kernel"

ORACLE="$WORK/oracle"
mkdir -p "$ORACLE"
ceph-fuse -c "$CEPH_CONF" --id admin -k "$CEPH_DIR/ceph.client.admin.keyring" -r /pd/kernel \
	--client_permissions=true --fuse_default_permissions=true "$ORACLE" \
	> "$WORK/fuse-oracle.log" 2>&1 || { cat "$WORK/fuse-oracle.log" >&2; fail "ceph-fuse (oracle) failed"; }
FUSE_MOUNTS+=("$ORACLE")
for _ in $(seq 100); do mountpoint -q "$ORACLE" && break; sleep 0.1; done
mountpoint -q "$ORACLE" || fail "ceph-fuse did not mount $ORACLE"
chmod 755 "$ORACLE"

POOL_NAME=pd
ceph_pool_start pd /pd/pool
# the Ceph run is slower per operation: fewer by default (given ones win)
defaults=(--timeout 20)
case " $* " in
*" --seed "* | *" --long "* | *" --directed "* | *" --segment "* | *" --script "*) ;;
*) defaults+=(--directed yes --seed 1 --ops 200) ;;
esac
perm_diff --backend ceph --known "$HERE/ceph-perm-diff.known" --kernel-dir "$ORACLE" --pool-dir "$FUSE/pd/pool" "${defaults[@]}" "$@"
