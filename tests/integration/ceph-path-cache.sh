#!/usr/bin/env bash
# Integration (ceph): the pool's cache of walked directory paths ([ceph]
# entry_timeout, issue 17) never lets a caller through where a walk from the
# root would refuse it, forgets at once what the pool itself renames or
# removes, and sees another client's rename within the timeout. Two real
# users; the pools run with a cephx key limited to their root.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"

make_user dnpc_a
make_user dnpc_b

ceph_start_with_fuse
TOP="$FUSE/pools/pc"
mkdir -p "$TOP"
chmod 755 "$TOP"
ceph_client pc /pools/pc >/dev/null || fail "could not make client.pc"

# A long timeout: whatever the pool itself changes must not wait for it.
POOL_NAME=pc
ceph_pool_start pc /pools/pc pc "entry_timeout = 600"
SOCK1=$SOCK MNT1=$MNT

# what USER's stat of PATH through the pool answers: ok, or the errno's name
cat >"$WORK/stat.py" <<'PY'
import errno, os, sys
try:
    os.stat(sys.argv[1])
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
stat_as() { # stat_as USER PATH [SOCK MNT POOL]; USER nocaps: uid 0 without capabilities
	local who=(--reuid="$1" --regid="$1")
	[ "$1" = nocaps ] && who=(--reuid=0 --regid=0 --bounding-set=-all --inh-caps=-all)
	setpriv "${who[@]}" --clear-groups -- "$RUN_BIN" --pool "${5:-pc}" \
		--socket "${3:-$SOCK1}" --mountpoint "${4:-$MNT1}" -- python3 "$WORK/stat.py" "$2"
}
do_as() { # do_as USER CMD...: CMD through the first pool as USER
	local u=$1; shift
	setpriv --reuid="$u" --regid="$u" --clear-groups -- "$RUN_BIN" --pool pc \
		--socket "$SOCK1" --mountpoint "$MNT1" -- "$@"
}
expect() { # expect WHAT WANT GOT
	[ "$3" = "$2" ] || fail "$1: got $3, want $2"
}

# 1. A directory's owner takes search permission away through the pool:
#    another user's stat below it fails at once, from a cached walk too.
mkdir -p "$TOP/d/sub"
echo x >"$TOP/d/sub/f"
chown -R dnpc_a:dnpc_a "$TOP/d"
chmod 755 "$TOP/d" "$TOP/d/sub"
expect "stat before the chmod" ok "$(stat_as dnpc_b "$MNT1/d/sub/f")"
expect "stat again (cached walk)" ok "$(stat_as dnpc_b "$MNT1/d/sub/f")"
do_as dnpc_a chmod 700 "$MNT1/d" || fail "chmod by the owner failed"
expect "another user's stat below a directory just made 0700" EACCES "$(stat_as dnpc_b "$MNT1/d/sub/f")"
expect "another user's stat of the directory below it" EACCES "$(stat_as dnpc_b "$MNT1/d/sub")"
expect "the owner's stat" ok "$(stat_as dnpc_a "$MNT1/d/sub/f")"
do_as dnpc_a chmod 755 "$MNT1/d" || fail "chmod back failed"
expect "stat once searchable again" ok "$(stat_as dnpc_b "$MNT1/d/sub/f")"
pass "a chmod 0700 through the pool refuses another user's cached walk at once"

# 2. The same chmod by another client (ceph-fuse): the pool checks the
#    directories above a cached one on their current modes, not on a copy.
expect "warm" ok "$(stat_as dnpc_b "$MNT1/d/sub/f")"
chmod 700 "$TOP/d"
expect "stat below a directory another client made 0700" EACCES "$(stat_as dnpc_b "$MNT1/d/sub/f")"
chmod 711 "$TOP/d"
chmod 700 "$TOP/d/sub"
expect "stat below a subdirectory another client made 0700" EACCES "$(stat_as dnpc_b "$MNT1/d/sub/f")"
chmod 755 "$TOP/d" "$TOP/d/sub"
pass "a chmod by another client refuses a cached walk at once"

# 3. A directory renamed through the pool: its old path is gone at once, and
#    a new directory of that name is the new one.
mkdir -p "$TOP/r/x"
echo 1 >"$TOP/r/x/f"
chmod -R a+rwX "$TOP/r"
expect "warm" ok "$(stat_as dnpc_a "$MNT1/r/x/f")"
do_as dnpc_a mv "$MNT1/r/x" "$MNT1/r/y" || fail "rename through the pool failed"
expect "the old path after a rename" ENOENT "$(stat_as dnpc_a "$MNT1/r/x/f")"
expect "the new path" ok "$(stat_as dnpc_a "$MNT1/r/y/f")"
do_as dnpc_a mkdir "$MNT1/r/x" && do_as dnpc_a touch "$MNT1/r/x/g" || fail "remaking r/x failed"
expect "a file of the new directory of the old name" ok "$(stat_as dnpc_a "$MNT1/r/x/g")"
expect "the old directory's file under the old name" ENOENT "$(stat_as dnpc_a "$MNT1/r/x/f")"
# a directory renamed over an empty one
mkdir "$TOP/r/z"
echo 2 >"$TOP/r/z/h"
chmod -R a+rwX "$TOP/r"
expect "warm" ok "$(stat_as dnpc_a "$MNT1/r/x/g")"
do_as dnpc_a rm "$MNT1/r/x/g" || fail "rm failed"
do_as dnpc_a python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$MNT1/r/z" "$MNT1/r/x" ||
	fail "rename over an empty directory failed"
expect "a file of the directory renamed over the cached one" ok "$(stat_as dnpc_a "$MNT1/r/x/h")"
pass "a rename through the pool ends the cached paths at once"

# 3b. The same, renamed and removed relative to open directories (renameat
#     and unlinkat with directory fds, svc-ceph-at.c).
mkdir -p "$TOP/q/x" "$TOP/q2"
echo 1 >"$TOP/q/x/f"
chmod -R a+rwX "$TOP/q" "$TOP/q2"
expect "warm" ok "$(stat_as dnpc_a "$MNT1/q/x/f")"
cat >"$WORK/at.py" <<'PY'
import os, sys
d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
e = os.open(sys.argv[2], os.O_RDONLY | os.O_DIRECTORY)
if sys.argv[3] == "rename":
    os.rename("x", "y", src_dir_fd=d, dst_dir_fd=d)
elif sys.argv[3] == "move":
    os.rename("y", "x", src_dir_fd=d, dst_dir_fd=e)
else:
    os.rmdir(sys.argv[3], dir_fd=d)
PY
at_as() { do_as dnpc_a python3 "$WORK/at.py" "$MNT1/q" "$MNT1/q2" "$1"; }
at_as rename || fail "renameat relative to an open directory failed"
expect "the old path after a renameat" ENOENT "$(stat_as dnpc_a "$MNT1/q/x/f")"
expect "the new path" ok "$(stat_as dnpc_a "$MNT1/q/y/f")"
at_as move || fail "renameat between two open directories failed"
expect "the old path after a renameat to another directory" ENOENT "$(stat_as dnpc_a "$MNT1/q/y/f")"
expect "the new path in the other directory" ok "$(stat_as dnpc_a "$MNT1/q2/x/f")"
mkdir "$TOP/q/y"
echo 2 >"$TOP/q/y/g"
chmod -R a+rwX "$TOP/q"
expect "warm" ok "$(stat_as dnpc_a "$MNT1/q/y/g")"
rm "$TOP/q/y/g"
at_as y || fail "unlinkat(AT_REMOVEDIR) relative to an open directory failed"
mkdir "$TOP/q/y"
echo 3 >"$TOP/q/y/h"
chmod -R a+rwX "$TOP/q/y"
expect "a file of the new directory of the name an unlinkat removed" ok "$(stat_as dnpc_a "$MNT1/q/y/h")"
pass "renames and removals relative to open directories end the cached paths at once"

# 4. rmdir (by path, and unlinkat relative to an open directory, as rm -rf)
#    then mkdir of the same name: the new directory, not the removed one.
mkdir -p "$TOP/m/s"
echo 1 >"$TOP/m/s/t"
chmod -R a+rwX "$TOP/m"
expect "warm" ok "$(stat_as dnpc_a "$MNT1/m/s/t")"
do_as dnpc_a rm "$MNT1/m/s/t" && do_as dnpc_a rmdir "$MNT1/m/s" || fail "rmdir failed"
do_as dnpc_a mkdir "$MNT1/m/s" && do_as dnpc_a touch "$MNT1/m/s/u" || fail "remaking m/s failed"
expect "a file in the directory made after an rmdir" ok "$(stat_as dnpc_a "$MNT1/m/s/u")"
do_as dnpc_a rm -rf "$MNT1/m/s" || fail "rm -rf failed"
do_as dnpc_a mkdir "$MNT1/m/s" && do_as dnpc_a touch "$MNT1/m/s/v" || fail "remaking m/s failed"
expect "a file in the directory made after rm -rf" ok "$(stat_as dnpc_a "$MNT1/m/s/v")"
pass "rmdir and rm -rf through the pool end the cached paths at once"

# 5. ".." and symlinks from a cached directory answer as the walk from the
#    root does: the oracle is a pool on the same root with the cache off.
ceph_pool_start pc0 /pools/pc pc "entry_timeout = 0"
SOCK0=$SOCK MNT0=$MNT
mkdir -p "$TOP/l/a/b" "$TOP/l/a/c"
echo 1 >"$TOP/l/top"
ln -s ../.. "$TOP/l/a/b/up"
ln -s /l/top "$TOP/l/a/b/abs"
ln -s ../../../../../.. "$TOP/l/a/b/far"
ln -s . "$TOP/l/a/b/self"
ln -s ../c "$TOP/l/a/b/side"
chmod -R a+rwX "$TOP/l"
chown dnpc_a "$TOP/l/a/c"
chmod 700 "$TOP/l/a/c"
for p in b/up b/../../top b/up/top b/abs b/far/l/top b/far/pools b/far/.. b/self/self/up/top \
	b/side b/side/x b/side/.. b/../c/x b/up/a/b/self/../up/top b/nothing/.. b/up/top/; do
	for u in dnpc_a dnpc_b root nocaps; do
		stat_as "$u" "$MNT1/l/a/$p" >/dev/null # warm the cache
		want=$(stat_as "$u" "$MNT0/l/a/$p" "$SOCK0" "$MNT0" pc0)
		expect "$u's stat of l/a/$p, cache against none" "$want" "$(stat_as "$u" "$MNT1/l/a/$p")"
	done
done
pass "dotdot and symlinks from cached directories answer as the uncached walk"

# 6. Another client's rename is seen within the timeout, not only after the
#    pool restarts: a second pool with entry_timeout = 2.
ceph_pool_start pc2 /pools/pc pc "entry_timeout = 2"
mkdir -p "$TOP/o/a"
echo 1 >"$TOP/o/a/f"
chmod -R a+rwX "$TOP/o"
expect "warm" ok "$(stat_as dnpc_a "$MNT/o/a/f" "$SOCK" "$MNT" pc2)"
mv "$TOP/o/a" "$TOP/o/b"
mkdir "$TOP/o/a"
echo 2 >"$TOP/o/a/g"
chmod -R a+rwX "$TOP/o"
t0=$SECONDS seen=
# the bound: the timeout, and a second for the coarse clock and the call itself
while ((SECONDS - t0 <= 3)); do
	[ "$(stat_as dnpc_a "$MNT/o/a/g" "$SOCK" "$MNT" pc2)" = ok ] && { seen=1; break; }
	sleep 0.2
done
[ -n "$seen" ] || fail "another client's new o/a not seen through the pool within entry_timeout"
expect "the renamed directory's file under the old name" ENOENT \
	"$(stat_as dnpc_a "$MNT/o/a/f" "$SOCK" "$MNT" pc2)"
pass "another client's rename is seen within entry_timeout (after $((SECONDS - t0)) s)"
