#!/usr/bin/env bash
# Integration (ceph): requests run with the calling process's uid/gid (CephFS
# checks each process, not the service), and a pool rooted at /tenants/a
# reaches nothing outside it, by any path.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"; }

ceph_start_with_fuse
mkdir -p "$FUSE/tenants/a/pub" "$FUSE/tenants/a/priv" "$FUSE/tenants/b"
chmod 755 "$FUSE/tenants" "$FUSE/tenants/a"
chmod 777 "$FUSE/tenants/a/pub"
chmod 700 "$FUSE/tenants/a/priv"
echo private > "$FUSE/tenants/a/secret"
chmod 600 "$FUSE/tenants/a/secret"
echo world > "$FUSE/tenants/a/public"
chmod 644 "$FUSE/tenants/a/public"
echo tenant-b > "$FUSE/tenants/b/secret"
echo top > "$FUSE/outside.txt"

# The service's cephx id (admin) may see everything: confinement is Danaus's.
POOL_NAME=a
ceph_pool_start a /tenants/a admin '[access]\nusers = root, nobody, 1000'

# 1. Each process is checked as itself.
for u in 65534 1000; do
	set +e
	out=$(as_user $u "$RUN_BIN" --pool a --socket "$SOCK" --mountpoint "$MNT" -- bash -c "
		cat '$MNT/public'; echo \"[\$?]\"
		cat '$MNT/secret'; echo \"[\$?]\"
		ls '$MNT/priv'; echo \"[\$?]\"
		touch '$MNT/rootdir-file'; echo \"[\$?]\"
		echo mine > '$MNT/pub/mine-$u'; echo \"[\$?]\"
		rm '$MNT/secret'; echo \"[\$?]\"
		chmod 777 '$MNT/public'; echo \"[\$?]\"
	" 2>&1)
	set -e
	echo "$out" | sed 's/^/  | /'
	echo "$out" | grep -qx world || fail "uid $u could not read a 0644 file"
	[ "$(echo "$out" | grep -c 'Permission denied')" = 4 ] || fail "expected 4 EACCES for uid $u"
	echo "$out" | grep -q "chmod: changing permissions of '$MNT/public': Operation not permitted" ||
		fail "uid $u could chmod root's file"
	[ "$(stat -c %u:%g "$FUSE/tenants/a/pub/mine-$u")" = "$u:$u" ] ||
		fail "a file uid $u created is $(stat -c %u:%g "$FUSE/tenants/a/pub/mine-$u") in CephFS"
	[ -e "$FUSE/tenants/a/secret" ] && [ ! -e "$FUSE/tenants/a/rootdir-file" ] ||
		fail "uid $u changed what it may not"
	[ "$(stat -c %a "$FUSE/tenants/a/public")" = 644 ] || fail "uid $u changed root's mode"
done
in_pool cat "$MNT/secret" | grep -qx private || fail "root cannot read its own 0600 file"
pass "requests run as the calling process (0600 root file unreadable by 65534 and 1000)"

# 2. No path leads out of /tenants/a.
ln -s / "$FUSE/tenants/a/abs-root"
ln -s ../../../../.. "$FUSE/tenants/a/rel-up"
ln -s /tenants/b/secret "$FUSE/tenants/a/abs-b"
ln -s ../b/secret "$FUSE/tenants/a/rel-b"
ln -s /outside.txt "$FUSE/tenants/a/abs-out"
mkdir -p "$FUSE/tenants/a/d1/d2"
ln -s ../../../b "$FUSE/tenants/a/d1/d2/up3-b"
for p in abs-b rel-b abs-out abs-root/outside.txt rel-up/outside.txt abs-root/tenants/b/secret \
	rel-up/tenants/b/secret rel-up/b/secret rel-b/../../outside.txt d1/d2/up3-b/secret \
	d1/../../b/secret; do
	set +e
	got=$(in_pool cat "$MNT/$p" 2>&1)
	set -e
	case "$got" in
	tenant-b | top) fail "$p escaped the pool root: $got" ;;
	*"No such file or directory"*) ;;
	*) fail "$p: unexpected answer: $got" ;;
	esac
done
# The climbs end at the pool's own top: what is there is the pool's. An
# absolute symlink names the process's root, as on a kernel filesystem: the
# host's, never the cluster's (abs-b, abs-root/tenants/... above).
[ "$(in_pool cat "$MNT/rel-up/public")" = world ] || fail "rel-up does not stop at the pool top"
in_pool test -e "$MNT/abs-root/public" && fail "/ in a symlink is the pool top, not the process's root"
[ "$(in_pool readlink "$MNT/abs-b")" = /tenants/b/secret ] || fail "readlink changed the target"
[ "$(in_pool ls "$MNT/abs-root/")" = "$(ls /)" ] || fail "abs-root/ does not list the process's root"
pass ".. and relative symlinks stay inside /tenants/a; absolute ones lead to the host's root, never the cluster's"
