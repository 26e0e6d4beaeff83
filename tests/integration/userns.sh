#!/usr/bin/env bash
# Integration: capabilities count only in the pool's own user namespace. A
# process in another one (`unshare -U -r` by anyone, a rootless container's
# root) has a full CapEff in its /proc status, but the kernel grants it
# nothing over files whose owners its namespace does not map: through the
# pool it gets what its host uid gets, as with the kernel on the pool's root.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v unshare > /dev/null || fail "unshare (util-linux) is needed"
pool_start un "[access]\nusers = root, nobody"
echo secret > "$ROOT/secret"
chmod 600 "$ROOT/secret"
mkdir -m 1777 "$ROOT/tmp"
echo "root's" > "$ROOT/tmp/roots"
as_ns_root() { # nobody, mapped to root in a new user namespace
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- unshare -U -r \
		"$RUN_BIN" --pool un --socket "$SOCK" --mountpoint "$MNT" --no-cgroup -- "$@"
}
caps=$(as_ns_root sh -c 'grep CapEff /proc/self/status') || fail "unshare -U -r as nobody failed: $caps"
case "$caps" in *0000000000000000) fail "no capabilities in the new namespace: the test proves nothing" ;; esac

# the kernel's answers, on the pool's backing directory itself
for cmd in "cat $ROOT/secret" "chown 0:0 $ROOT/tmp/roots" "chmod 666 $ROOT/tmp/roots" "touch $ROOT/x"; do
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups -- unshare -U -r sh -c "$cmd" 2>&1) &&
		fail "the kernel let namespace root do '$cmd' on the host directory: $out"
done
# the pool's, through the library
out=$(as_ns_root cat "$MNT/secret" 2>&1) && fail "namespace root read root's 0600 file through the pool: $out"
grep -q "Permission denied" <<< "$out" || fail "reading root's 0600 file: $out"
out=$(as_ns_root chmod 666 "$MNT/tmp/roots" 2>&1) && fail "namespace root chmod'ed root's file: $out"
grep -q "Operation not permitted" <<< "$out" || fail "chmod of root's file: $out"
out=$(as_ns_root chown 65534 "$MNT/tmp/roots" 2>&1) && fail "namespace root chown'ed root's file: $out"
out=$(as_ns_root touch "$MNT/x" 2>&1) && fail "namespace root wrote into root's 0755 directory: $out"
[ -e "$ROOT/x" ] && fail "the refused file exists"
pass "root in a user namespace gets no capability over the pool's files (EACCES/EPERM, as the kernel)"

# what its host uid may do, it does, and its files are its host uid's
as_ns_root sh -c "echo mine > $MNT/tmp/mine" || fail "namespace root cannot write where nobody may"
[ "$(stat -c %u "$ROOT/tmp/mine")" = "$(id -u nobody)" ] ||
	fail "its file is owned by $(stat -c %u "$ROOT/tmp/mine"), not nobody"
pass "it acts as its host uid: writes where nobody may, and owns what it creates"
