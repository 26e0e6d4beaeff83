#!/usr/bin/env bash
# Integration: coreutils through danaus-run on a local pool, byte for byte
# against the same commands on a plain kernel directory (the oracle).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

SRC="$WORK/src"
make_source_tree "$SRC"

POOL_NAME=cmd
pool_start cmd
PLAIN="$WORK/plain"
mkdir "$PLAIN"

bash "$HERE/workload.sh" "$PLAIN" "$SRC" > "$WORK/out.plain" 2>&1
in_pool bash "$HERE/workload.sh" "$MNT" "$SRC" > "$WORK/out.danaus" 2>&1

if ! diff -u "$WORK/out.plain" "$WORK/out.danaus"; then
	fail "command output differs between the kernel directory and the Danaus mount"
fi
pass "command outputs identical ($(wc -l < "$WORK/out.plain") lines)"

tree_of() { (cd "$1" && find . -printf '%y %m %s %p\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
if ! diff -u <(tree_of "$PLAIN") <(tree_of "$ROOT"); then
	fail "the pool's tree differs from the kernel directory's"
fi
pass "resulting trees identical ($(find "$ROOT" | wc -l) entries)"
grep -q 'sha256sum' "$WORK/out.plain" || fail "workload did not run"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files leaked into the host directory $MNT"
pass "nothing written to the host mountpoint directory"

# One session shared by many processes (fork+exec): each takes a request
# buffer; those that exit, or are killed, must not use them up (64 per session).
out=$(in_pool bash -c "echo x > '$MNT/shared'
	for i in \$(seq 150); do cat '$MNT/shared' > /dev/null || { echo 'cat failed at' \$i; exit 1; }; done
	for i in \$(seq 100); do sh -c 'read y < \"$MNT/shared\"; kill -9 \$\$' 2>/dev/null; done 2>/dev/null
	for i in \$(seq 10); do cat '$MNT/shared' || exit 1; done | wc -l" 2>&1)
[ "$out" = 10 ] || fail "processes of one session ran out of request buffers: $out"
pass "250 processes of one session, 100 of them killed, leave its buffers usable"

# statfs's type is the backing filesystem's (a local pool is a view of it, as a
# bind mount; ceph-commands.sh: "ceph"), not one df cannot name.
want=$(stat -f -c %T "$ROOT")
got=$(in_pool stat -f -c %T "$MNT/shared")
[ "$got" = "$want" ] || fail "statfs type of a pool file: $got, not $want"
pass "statfs names the backing filesystem's type ($got)"
