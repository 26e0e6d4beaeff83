#!/usr/bin/env bash
# Integration: a tenant gets nothing from its pool that the kernel would
# refuse it (issue 13). Real users (made here), a real pool; every check is
# an attack that worked once. On a Ceph pool too: ceph-security.sh runs this
# file with lib.sh pointed at a cluster.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test switches users and must run as root (CI does)"

# Two ordinary users of our own, removed again on exit.
USERS_MADE=()
make_user() {
	id "$1" > /dev/null 2>&1 && return 0
	useradd --no-create-home --shell /bin/sh "$1" || fail "useradd $1"
	USERS_MADE+=("$1")
}
drop_users() {
	local rc=$?
	for u in "${USERS_MADE[@]}"; do userdel "$u" 2> /dev/null || true; done
	(exit $rc)
	cleanup
}
trap drop_users EXIT
make_user dnsec_a
make_user dnsec_b
A=$(id -u dnsec_a)
B=$(id -u dnsec_b)

as() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups -- "$@"; }
# run_as USER CMD...: CMD through the pool as USER
run_as() { local u=$1; shift; as "$u" "$RUN_BIN" --pool "$POOL_NAME" --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }

POOL_NAME=sec
pool_start sec "[access]\nusers = root, dnsec_a, dnsec_b"
chmod 755 "$ROOT"

X="$HERE/xcall.py"

# 1. Privileged xattrs and file capabilities: only with CAP_SETFCAP/CAP_SYS_ADMIN.
echo x > "$ROOT/alice-own"
chown "$A:$A" "$ROOT/alice-own"
chmod 755 "$ROOT/alice-own"
echo x > "$ROOT/root-0755"
chmod 755 "$ROOT/root-0755"
for f in alice-own root-0755; do
	p="$MNT/$f"
	out=$(run_as dnsec_a "$X" setxattr "$p" security.capability capblob , \
		setxattr "$p" trusted.x 76 , setxattr "$p" security.x 76 , getxattr "$p" trusted.x)
	[ "$out" = "EPERM EPERM EPERM ENODATA" ] ||
		fail "alice on $f: privileged xattrs answered '$out', the kernel: EPERM EPERM EPERM ENODATA"
done
# Root without CAP_SETFCAP/CAP_SYS_ADMIN (bounding set) is refused alike.
p="$MNT/root-0755"
out=$(setpriv --bounding-set=-setfcap,-sys_admin "$RUN_BIN" --pool sec --socket "$SOCK" \
	--mountpoint "$MNT" -- "$X" setxattr "$p" security.capability capblob , setxattr "$p" trusted.x 76)
[ "$out" = "EPERM EPERM" ] || fail "root without CAP_SETFCAP/CAP_SYS_ADMIN set xattrs: $out"
# Nothing landed: the files give no capability when run from the host.
out=$(python3 -c 'import os, sys
for p in sys.argv[1:]:
    try: os.getxattr(p, "security.capability"); print("found on", p)
    except OSError: pass' "$ROOT/alice-own" "$ROOT/root-0755")
[ -z "$out" ] || fail "a file capability landed: $out"
pass "security.capability, security.* and trusted.* need the caller's own capabilities"

# Set-id bits are cleared by a write or chown of a caller without CAP_FSETID,
# as the kernel does (the Ceph backend does it itself).
suid_after() { # suid_after USER CMD: creates a 06777 file of alice, runs CMD as USER on it, prints the mode
	rm -f "$ROOT/sid"
	echo x > "$ROOT/sid"
	chown "$A:$A" "$ROOT/sid"
	chmod 06777 "$ROOT/sid"
	run_as "$1" bash -c "$2" > /dev/null 2>&1 || true
	stat -c %a "$ROOT/sid"
}
[ "$(suid_after dnsec_a "echo y >> $MNT/sid")" = 777 ] || fail "write by the owner kept set-id bits"
[ "$(suid_after dnsec_b "echo y >> $MNT/sid")" = 777 ] || fail "write by another user kept set-id bits"
[ "$(suid_after dnsec_a "truncate -s 1 $MNT/sid")" = 777 ] || fail "truncate kept set-id bits"
[ "$(suid_after dnsec_a "chown $A:$A $MNT/sid")" = 777 ] || fail "chown kept set-id bits"
[ "$(suid_after root "chown $A $MNT/sid")" = 777 ] || fail "chown by root kept set-uid"
[ "$(suid_after root "echo y >> $MNT/sid")" = 6777 ] || fail "root's write (CAP_FSETID) cleared set-id bits"
pass "writes, truncates and chown clear set-id bits as the kernel does"
