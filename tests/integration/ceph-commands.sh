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
