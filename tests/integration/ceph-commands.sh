#!/usr/bin/env bash
# Integration (ceph): the command workload of commands.sh on a pool served by
# a real CephFS cluster, byte for byte against a plain kernel directory; the
# resulting tree is read back through ceph-fuse.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

SRC="$WORK/src"
make_source_tree "$SRC"

ceph_start_with_fuse
mkdir -p "$FUSE/pools/cmd"

POOL_NAME=cmd
ceph_pool_start cmd /pools/cmd
PLAIN="$WORK/plain"
mkdir "$PLAIN"

bash "$HERE/workload.sh" "$PLAIN" "$SRC" > "$WORK/out.plain" 2>&1
in_pool bash "$HERE/workload.sh" "$MNT" "$SRC" > "$WORK/out.danaus" 2>&1

# A directory's size and blocks are the filesystem's own business (ext4:
# 4096, CephFS: 0): blank them in `ls -l` lines of directories, in ls's
# "total", and in `find -printf %s` lines of directories; ls pads columns to
# the widest size, so runs of blanks in ls lines count as one.
dirsize() {
	sed -E '/^[-dlcbps][rwxsStT-]{9}[.+]? /s/ +/ /g
		s/^(d[rwxsStT-]{9}[.+]? [0-9]+ [^ ]+ [^ ]+ )[0-9]+/\1DIRSIZE/
		s/^total [0-9]+$/total N/
		s/^d ([0-7]+) [0-9]+ /d \1 DIRSIZE /'
}
if ! diff -u <(dirsize < "$WORK/out.plain") <(dirsize < "$WORK/out.danaus"); then
	fail "command output differs between the kernel directory and the Danaus ceph mount"
fi
pass "command outputs identical ($(wc -l < "$WORK/out.plain") lines)"

tree_of() {
	(cd "$1" && find . -printf '%y %m %s %p\n' | sed -E 's/^d ([0-7]+) [0-9]+ /d \1 - /' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
if ! diff -u <(tree_of "$PLAIN") <(tree_of "$FUSE/pools/cmd"); then
	fail "the tree seen through ceph-fuse differs from the kernel directory's"
fi
pass "resulting trees identical through ceph-fuse ($(find "$FUSE/pools/cmd" | wc -l) entries)"
grep -q 'sha256sum' "$WORK/out.plain" || fail "workload did not run"
[ -z "$(ls -A "$MNT" 2>/dev/null)" ] || fail "files leaked into the host directory $MNT"
pass "nothing written to the host mountpoint directory"
got=$(in_pool stat -f -c %T "$MNT")
[ "$got" = ceph ] || fail "statfs type of a Ceph pool: $got, not ceph (as ceph.ko answers)"
pass "statfs names a Ceph pool's type: ceph"
# truncate(2) and ftruncate(2) set the times, as the kernel passes them along
# (libcephfs sets none for a size alone); also for a writer who is not the owner.
in_pool sh -c "echo 123456 > '$MNT/trunc' && touch -d 2001-02-03 '$MNT/trunc' && chmod 666 '$MNT/trunc'" ||
	fail "could not make trunc"
in_pool truncate -s 3 "$MNT/trunc" || fail "truncate failed"
[ "$(in_pool stat -c %y "$MNT/trunc" | cut -c1-4)" != 2001 ] || fail "truncate left the mtime"
in_pool touch -d 2001-02-03 "$MNT/trunc"
setpriv --reuid=65534 --regid=65534 --clear-groups "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" \
	--mountpoint "$MNT" -- python3 -c "import os; f = os.open('$MNT/trunc', os.O_WRONLY); os.ftruncate(f, 1)" ||
	fail "nobody's ftruncate of a 0666 file failed"
[ "$(in_pool stat -c %y:%s "$MNT/trunc" | cut -c1-4)" != 2001 ] || fail "ftruncate left the mtime"
pass "truncate and ftruncate set the mtime on Ceph, for a writer who is not the owner too"
# A directory's size is its number of entries (as ceph.ko's default), not the
# bytes below it, which the MDS propagates lazily: tar saw directories grow
# while it read them ("file changed as we read it").
mkdir "$FUSE/pools/cmd/sized" && touch "$FUSE/pools/cmd/sized/a" "$FUSE/pools/cmd/sized/b" &&
	head -c 100000 /dev/zero > "$FUSE/pools/cmd/sized/c"
[ "$(in_pool stat -c %s "$MNT/sized")" = 3 ] ||
	fail "a directory of 3 entries has size $(in_pool stat -c %s "$MNT/sized")"
out=$(in_pool sh -c "cd '$MNT' && cp -a '$SRC' copied && tar czf '$WORK/pool.tgz' ." 2>&1) ||
	fail "tar of the pool's tree failed: $out"
[ -z "$out" ] || fail "tar of the pool's tree warned: $out"
pass "directories have their number of entries as size; tar reads a fresh tree without warning"
