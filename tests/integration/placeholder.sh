#!/usr/bin/env bash
# Integration: the mountpoint's directory in the host tree is a placeholder
# nothing should use. The pool makes it search-only (0111) when empty, so a
# program that bypasses the library (a static binary, a raw system call)
# gets EACCES listing or writing it instead of an empty directory that looks
# like the pool; and the library does not need it: with it removed, cd into
# the pool still works.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start ph "[access]\nusers = root, nobody"
echo hello > "$ROOT/f"
[ "$(stat -c %a "$MNT")" = 111 ] || fail "the placeholder $MNT is mode $(stat -c %a "$MNT"), not 111"
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
# without the library, as a static binary would see it
out=$(nobody ls "$MNT" 2>&1) && fail "nobody listed the placeholder without the library: $out"
echo "$out" | grep -q "Permission denied" || fail "listing the placeholder: $out"
nobody touch "$MNT/x" 2>/dev/null && fail "nobody created a file in the placeholder"
pass "the placeholder is search-only: listing and creating in it fail (EACCES)"
# with the library the mount is the pool's, for nobody too (cd needs only search)
run_nobody() { nobody "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" -- "$@"; }
[ "$(run_nobody sh -c "cd '$MNT' && cat f")" = hello ] || fail "nobody cannot cd into the pool"
rmdir "$MNT"
[ "$(in_pool sh -c "cd '$MNT' && pwd && cat f")" = "$MNT
hello" ] || fail "cd into the pool needs the placeholder"
pass "cd into the pool works without the placeholder"
