#!/usr/bin/env bash
# Integration: who may attach ([access]), whose permissions apply (the
# client's uid), and that no path leads out of the pool's root.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test switches users and must run as root (CI does)"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }

# 1. A pool that admits only root refuses nobody at the handshake: EACCES, no crash.
POOL_NAME=closed
pool_start closed '[access]\nusers = root'
echo secret > "$ROOT/f"
chmod 644 "$ROOT/f"
in_pool cat "$MNT/f" | grep -qx secret || fail "root could not read through the closed pool"
set +e
out=$(as_nobody "$RUN_BIN" --pool closed --socket "$SOCK" --mountpoint "$MNT" -- cat "$MNT/f" 2>&1)
rc=$?
set -e
echo "$out" | sed 's/^/  | /'
[ $rc = 1 ] || fail "cat as nobody exited $rc, expected 1 (an error, not a crash)"
echo "$out" | grep -q "cat: $MNT/f: Permission denied" || fail "cat did not see EACCES"
echo "$out" | grep -q "uid 65534 gid 65534 may not attach to pool 'closed'" ||
	fail "no clear refusal message"
kill -0 "$PID" || fail "the pool died refusing a client"
pass "a client outside [access] is refused with EACCES and a clear message"

# 2. An admitted client runs with its own uid: the kernel's checks apply to it.
POOL_NAME=open
pool_start open '[access]\nusers = nobody, root'
mkdir "$ROOT/pub" "$ROOT/priv"
chmod 777 "$ROOT/pub"
chmod 700 "$ROOT/priv"
echo private > "$ROOT/secret"
chmod 600 "$ROOT/secret"
set +e
out=$(as_nobody "$RUN_BIN" --pool open --socket "$SOCK" --mountpoint "$MNT" -- bash -c "
	cat '$MNT/secret'; echo \"[\$?]\"
	ls '$MNT/priv'; echo \"[\$?]\"
	touch '$MNT/rootdir-file'; echo \"[\$?]\"
	echo mine > '$MNT/pub/mine'; echo \"[\$?]\"
	rm '$MNT/secret'; echo \"[\$?]\"
" 2>&1)
set -e
echo "$out" | sed 's/^/  | /'
[ "$(echo "$out" | grep -c 'Permission denied')" = 4 ] || fail "expected 4 EACCES for nobody"
[ "$(stat -c %u:%g "$ROOT/pub/mine")" = 65534:65534 ] || fail "a file nobody created is not nobody's"
[ -e "$ROOT/secret" ] && [ ! -e "$ROOT/rootdir-file" ] || fail "nobody changed what it may not"
pass "operations run with the client's uid (EACCES where the kernel says so, ownership)"

# A write by nobody clears a set-uid bit as the kernel does, even right after
# root's request on the same worker (whose capabilities must not carry over).
echo x > "$ROOT/pub/suid"
chmod 04666 "$ROOT/pub/suid"
# nobody opens; root's stat is served while nobody waits; then nobody writes
mkfifo "$WORK/go" "$WORK/opened"
chmod 666 "$WORK/go" "$WORK/opened"
as_nobody "$RUN_BIN" --pool open --socket "$SOCK" --mountpoint "$MNT" -- \
	sh -c "exec 3>>'$MNT/pub/suid'; echo > '$WORK/opened'; read x < '$WORK/go'; echo y >&3" &
writer=$!
read -r _ < "$WORK/opened"
in_pool stat "$MNT/pub/suid" > /dev/null
echo go > "$WORK/go"
wait $writer
[ "$(stat -c %a "$ROOT/pub/suid")" = 666 ] ||
	fail "set-uid bit kept after nobody wrote: $(stat -c %a "$ROOT/pub/suid")"
pass "a write by another uid clears set-uid, whatever the worker served before"

# 3. The pool serves nothing outside its root: ".." and relative symlinks stop
# at its top; an absolute symlink is the process's own business, resolved
# from its root as on a kernel filesystem (the library does, with the
# process's rights: what the process may not read itself stays unreadable).
echo outside > "$WORK/outside.txt"
chmod 600 "$WORK/outside.txt"
ln -s / "$ROOT/abs-root"
ln -s ../../../../../.. "$ROOT/rel-up"
ln -s "$WORK/outside.txt" "$ROOT/abs-file"
for p in rel-up/etc/passwd "rel-up/$WORK/outside.txt"; do
	set +e
	got=$(in_pool cat "$MNT/$p" 2>&1)
	set -e
	case "$got" in
	outside | *root:x:0:0*) fail "$p escaped the pool root: $got" ;;
	*"No such file or directory"*) ;;
	*) fail "$p: unexpected answer: $got" ;;
	esac
done
[ "$(in_pool cat "$MNT/abs-root/etc/hostname")" = "$(cat /etc/hostname)" ] ||
	fail "an absolute symlink to / does not lead to the process's root"
for p in abs-file "abs-root/$WORK/outside.txt"; do
	set +e
	got=$(as_nobody "$RUN_BIN" --pool open --socket "$SOCK" --mountpoint "$MNT" -- cat "$MNT/$p" 2>&1)
	set -e
	case "$got" in
	outside) fail "$p: nobody read a root-only host file through a pool symlink" ;;
	*"Permission denied"*) ;;
	*) fail "$p as nobody: unexpected answer: $got" ;;
	esac
done
pass ".. and relative symlinks stay inside the pool root; absolute ones are the process's, with its rights"
