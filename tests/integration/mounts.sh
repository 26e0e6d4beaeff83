#!/usr/bin/env bash
# Integration: one pool, several filesystem instances ([mount NAME]) over its
# one backend (local; ceph-mounts.sh: Ceph): the pool's top, two subtrees and a union, each at its
# own mountpoint. Files go where their instance keeps them and nowhere else;
# ".." and symlinks stay inside an instance as they stay inside the pool's
# top; rename and link between instances are EXDEV as between kernel mounts;
# one process (and its children, across fork and exec) works in all of them
# at once; the pool decides which instances a process may use.
HERE=$(cd "$(dirname "$0")" && pwd)
D="/danaus/t$$-m-data" O="/danaus/t$$-m-other" U="/danaus/t$$-m-union"
# (data narrows who may use it: uid 4242, or group 4300; root always)
INI="[mount data]\nmountpoint = $D\npath = /tenants/a/data\naccess_users = 4242\naccess_groups = 4300\n[mount other]\nmountpoint = $O\npath = /tenants/b//\n[mount u]\nmountpoint = $U\nlower = /layers/low\nupper = /layers/up\n[union]\ncontainers = /containers\n"
# the backend's tree, before the pool starts: the subtrees must be there
backend_fill() {
	mkdir -p "$B/tenants/a/data" "$B/tenants/b" "$B/layers/low" "$B/layers/up"
	chmod -R 777 "$B/tenants" "$B/layers/up"
	echo "backend secret" > "$B/secret"
	echo "b's secret" > "$B/tenants/b/secret"
	echo "from the lower layer" > "$B/layers/low/lowfile"
}
if [ -n "${MOUNTS_CEPH:-}" ]; then
	# (ceph-mounts.sh) the same on a Ceph backend, B seen through ceph-fuse
	. "$HERE/ceph-lib.sh"
	ceph_start_with_fuse
	B="$FUSE/pools/m"
	backend_fill
	# (kept answers must never be the reason a change goes unseen)
	ceph_pool_start m /pools/m admin "attr_timeout = 600\n$INI"
else
	. "$HERE/lib.sh"
	B="$WORK/m/root" # the backend, as pool_start makes it
	backend_fill
	pool_start m "$INI"
fi
MOUNTS+=("$D" "$O" "$U")
PY=/usr/bin/python3
[ -x "$PY" ] || fail "$PY is needed"
POOL_NAME=m

# each mountpoint has its placeholder in the host tree, search-only
for m in "$MNT" "$D" "$O" "$U"; do
	[ "$(stat -c %a "$m")" = 111 ] || fail "no search-only placeholder at $m"
done
pass "a placeholder directory at every instance's mountpoint"

# files land in their instance's part of the backend, and nowhere else
in_pool sh -c "echo one > $D/f && mkdir $D/dir && echo two > $D/dir/g && echo three > $O/h"
[ "$(cat "$B/tenants/a/data/f")" = one ] && [ "$(cat "$B/tenants/a/data/dir/g")" = two ] &&
	[ "$(cat "$B/tenants/b/h")" = three ] || fail "files are not in their subtrees of the backend"
[ "$(in_pool cat "$MNT/tenants/a/data/f")" = one ] || fail "the pool's top does not see a subtree's file"
out=$(in_pool ls "$O")
[ "$out" = "$(printf 'h\nsecret')" ] || fail "instance other lists '$out'"
in_pool test -e "$O/f" && fail "a file of instance data shows in instance other"
in_pool test -e "$D/h" && fail "a file of instance other shows in instance data"
in_pool test -e "$D/tenants" && fail "instance data shows the pool's top"
pass "files written at one mountpoint are in the backend subtree, not in the other instance"

# ".." at an instance's top stays there, as at the pool's; symlinks resolve inside it
ln -s ../../b/secret "$B/tenants/a/data/rel-out"
ln -s ../.. "$B/tenants/a/data/up2"
ln -s /tenants/b/secret "$B/tenants/a/data/abs-backend"
ln -s dir "$B/tenants/a/data/to-dir"
out=$(in_pool sh -c "cd $D/dir && cat ../../../../f && ls ../../.. | tr '\n' ' '")
[ "$out" = "one
abs-backend dir f rel-out to-dir up2 " ] || fail "'..' from a cwd in an instance gives '$out'"
in_pool cat "$D/rel-out" 2>/dev/null && fail "a relative symlink led out of instance data"
out=$(in_pool sh -c "cd $D && ls up2/ | tr '\n' ' '; cat up2/dir/g; cat up2/../secret 2>&1 | sed 's/^.*: //'")
[ "$out" = "abs-backend dir f rel-out to-dir up2 two
No such file or directory" ] || fail "a symlink climbing out of instance data gives '$out'"
in_pool cat "$D/abs-backend" 2>/dev/null && fail "an absolute symlink reached the backend's /tenants/b"
[ "$(in_pool cat "$D/to-dir/g")" = two ] || fail "a symlink inside an instance is not followed"
[ "$(in_pool readlink "$D/rel-out")" = ../../b/secret ] || fail "readlink in an instance"
# calls that act on names (no redirect to the host): through the links, inside the instance
in_pool sh -c "cd $D && mkdir up2/made2 && mv f up2/made2/f && ln -s x up2/made2/sl && mv up2/made2/f f && rm up2/made2/sl && rmdir up2/made2" ||
	fail "name calls through a symlink climbing out of instance data"
if [ -e "$B/made2" ] || [ -e "$B/tenants/made2" ] || [ -e "$B/tenants/a/made2" ]; then
	fail "a name call through a symlink left instance data"
fi
in_pool "$PY" -c "
import errno, os
for call in (lambda: os.rmdir('$D/'), lambda: os.rename('$D/.', '$D/x'), lambda: os.rmdir('$D/dir/..')):
    try:
        call()
        raise SystemExit('removed or renamed an instance top')
    except OSError as e:
        assert e.errno in (errno.EBUSY, errno.ENOTEMPTY, errno.EINVAL), e
" || fail "an instance's top can be removed"
[ -d "$B/tenants/a/data" ] || fail "instance data's top is gone"
pass "'..' and symlinks stay inside their instance"

# rename and link between instances: EXDEV as between kernel mounts; mv copies
in_pool "$PY" -c "
import errno, os
for call in (os.rename, os.link):
    try:
        call('$D/f', '$O/f')
        raise SystemExit('%s between instances worked' % call.__name__)
    except OSError as e:
        assert e.errno == errno.EXDEV, e
os.chdir('$D')
d = os.open('dir', os.O_RDONLY | os.O_DIRECTORY)
o = os.open('$O', os.O_RDONLY | os.O_DIRECTORY)
try:
    os.rename('f', 'f2', src_dir_fd=d, dst_dir_fd=o)
    raise SystemExit('renameat between instances worked')
except OSError as e:
    assert e.errno in (errno.EXDEV, errno.ENOENT), e
try:
    os.rename('$D/f', '$MNT/f')
    raise SystemExit('rename from a subtree to the top worked')
except OSError as e:
    assert e.errno == errno.EXDEV, e
os.rename('f', 'dir/f-moved')
os.rename('dir/f-moved', 'f')
" || fail "rename or link between instances"
in_pool sh -c "cp $D/f $D/f-copy && mv $D/f-copy $O/moved" || fail "mv between instances"
[ "$(cat "$B/tenants/b/moved")" = one ] && [ ! -e "$B/tenants/a/data/f-copy" ] ||
	fail "mv between instances did not copy"
pass "rename and link between instances are EXDEV; mv copies"

# a working directory in one instance, relative paths, getcwd
out=$(in_pool sh -c "cd $D/dir && echo rel > r.txt && cat r.txt && pwd && cd $O && pwd && cat h && cat $D/dir/r.txt")
[ "$out" = "rel
$D/dir
$O
three
rel" ] || fail "cwd in an instance gives '$out'"
[ "$(cat "$B/tenants/a/data/dir/r.txt")" = rel ] || fail "a relative path from a cwd in data"
pass "cwd in an instance: relative paths, pwd"

# calls relative to an open directory of a subtree reach that directory once
# it was renamed and replaced, and stay inside the instance (dirfd-walk.sh),
# on the Ceph libservice too (svc-ceph-at.c).
in_pool "$PY" -c "
import os
os.makedirs('$O/rd/d')
d = os.open('$O/rd/d', os.O_RDONLY | os.O_DIRECTORY)
os.rename('$O/rd/d', '$O/rd/e')
os.mkdir('$O/rd/d')
open('$O/rd/d/f', 'w').write('other')
fd = os.open('f', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d)
os.write(fd, b'made')
os.close(fd)
os.mkdir('m', dir_fd=d)
os.rename('f', 'g', src_dir_fd=d, dst_dir_fd=d)
assert os.stat('g', dir_fd=d).st_size == 4
os.unlink('g', dir_fd=d)
os.rmdir('m', dir_fd=d)
os.mkdir('n', dir_fd=d)
os.chmod('n', 0o700, dir_fd=d)
os.utime('n', (1, 1), dir_fd=d)
" || fail "calls relative to a renamed directory of a subtree"
[ "$(ls "$B/tenants/b/rd/e")" = n ] && [ "$(stat -c '%a %Y' "$B/tenants/b/rd/e/n")" = "700 1" ] &&
	[ "$(ls "$B/tenants/b/rd/d")" = f ] && [ "$(cat "$B/tenants/b/rd/d/f")" = other ] ||
	fail "calls relative to a renamed directory of a subtree went elsewhere: $(ls -R "$B/tenants/b/rd")"
pass "a subtree's calls relative to an open directory reach that directory"

# one process across two mountpoints: coreutils, tar, python, a union among them
mkdir -p "$WORK/src/sub"
head -c 200000 /dev/urandom > "$WORK/src/big"
echo small > "$WORK/src/sub/small"
in_pool sh -c "cp -a $WORK/src $D/src && cp -a $D/src $O/copy && diff -r $D/src $O/copy" ||
	fail "cp -a between instances"
in_pool sh -c "tar -C $D/src -cf $O/t.tar . && mkdir $U/x && tar -C $U/x -xf $O/t.tar && diff -r $WORK/src $U/x" ||
	fail "tar between instances"
[ -f "$B/layers/up/x/big" ] || fail "the union instance did not write its upper layer"
in_pool "$PY" -c "
import os, shutil
shutil.copytree('$D/src', '$U/py')
assert open('$U/lowfile').read() == 'from the lower layer\n'
with open('$U/lowfile', 'a') as f: f.write('and the upper\n')
fds = [os.open(p, os.O_RDONLY) for p in ('$D/f', '$O/h', '$U/py/big', '$MNT/secret')]
print(' '.join(os.read(fd, 5).decode(errors='replace')[:3] for fd in fds[:2]), os.read(fds[3], 7).decode())
" > "$WORK/py.out" || fail "python across instances"
[ "$(cat "$WORK/py.out")" = "one thr backend" ] || fail "python across instances read '$(cat "$WORK/py.out")'"
[ "$(cat "$B/layers/low/lowfile")" = "from the lower layer" ] &&
	[ "$(cat "$B/layers/up/lowfile")" = "from the lower layer
and the upper" ] || fail "the union instance did not copy up"
pass "one process (cp, tar, python) works across mountpoints, a union's too"

# a copied-up file is seen through the union ($U/lowfile, its origin's
# number) and through the pool's top (the writable layer's own file, its own
# number): what another process writes through either is seen at once
# through the other, by stat and by read, whatever the library kept
cat > "$WORK/views.py" <<'PYEOF'
import os, sys
views = sys.argv[1:3]
fds = {v: (os.open(v, os.O_WRONLY), os.open(v, os.O_RDONLY)) for v in views}
def look():
    return [(os.stat(v).st_size, os.pread(fds[v][1], 4096, 0)) for v in views]
for by in views:
    for _ in range(3):
        look()  # (kept from the second on)
    size = os.stat(by).st_size
    pid = os.fork()
    if pid == 0:
        os.pwrite(fds[by][0], b"through " + by.encode() + b"\n", size)
        os._exit(0)
    os.waitpid(pid, 0)
    seen = look()
    if seen[0] != seen[1] or seen[0][0] == size:
        sys.exit("after a write through %s: %r" % (by, seen))
print("ok")
PYEOF
out=$(in_pool "$PY" "$WORK/views.py" "$U/lowfile" "$MNT/layers/up/lowfile" 2>&1) &&
	[ "$out" = ok ] || fail "a write through one view of a copied-up file: $out"
pass "a write through the union or through its writable layer is seen at once through the other"

# The union's record of a copy-up's origin is an attribute of the copy in the
# writable layer: cp -a (or rsync -X) through the pool's top copies it along.
# The copy of the copy is another file: through the union it must have its
# own number, not the origin's (tar and rsync -H would take the two for
# hard links of one file); the copy-up keeps its lower file's.
in_pool cp -a "$MNT/layers/up/lowfile" "$MNT/layers/up/lowcopy" || fail "cp -a through the pool's top"
out=$(in_pool stat -c %i "$U/lowfile" "$U/lowcopy" "$MNT/layers/up/lowcopy" | tr '\n' ' ')
read -r ino_up ino_copy ino_copy_raw <<< "$out"
[ "$ino_up" = "$(stat -c %i "$B/layers/low/lowfile")" ] ||
	fail "the copied-up file's number through the union is not its lower file's: $out"
[ "$ino_copy" != "$ino_up" ] && [ "$ino_copy" = "$ino_copy_raw" ] ||
	fail "a copy of a copied-up file shows the origin's number through the union: $out"
listed=$(in_pool ls -i "$U" | awk '$2 == "lowcopy" {print $1}')
[ "$listed" = "$ino_copy" ] || fail "readdir's number of the copy ($listed) is not stat's ($ino_copy)"
pass "a copy of a copied-up file's attributes is another file through the union (its own number)"

# fork and exec keep the table, and a working directory in an instance
out=$(in_pool "$PY" -c "
import os, sys
os.chdir('$O')
pid = os.fork()
if pid == 0:
    os.execv('/bin/sh', ['sh', '-c', 'pwd; cat h; cat $D/f; sh -c \"cat $U/lowfile | head -1\"'])
os.waitpid(pid, 0)
")
[ "$out" = "$O
three
one
from the lower layer" ] || fail "fork and exec give '$out'"
pass "fork and exec keep the mount table and the cwd"

# the pool decides: a table the process brings is checked against its session's
out=$(env LD_PRELOAD="$LIB" DANAUS_POOL=m DANAUS_SOCKET="$SOCK" DANAUS_MOUNTPOINT="$MNT" \
	DANAUS_MOUNTS="$WORK/bogus:$O" sh -c "cat $O/h; cat $WORK/bogus/f 2>&1 | sed 's/^.*: //'")
[ "$out" = "three
No such file or directory" ] || fail "a mountpoint the pool does not serve gives '$out'"
# a container's session has its own union alone, whatever its environment says
python3 "$HERE/oci_layout.py" "$WORK/tiny" '{"layers": [[{"name": "etc", "kind": "dir", "mode": 493},
	{"name": "etc/motd", "data": "from the image"}]]}' > /dev/null
"$DANAUS_BUILD/image/danaus-image" --pool m --socket "$SOCK" --mountpoint "$MNT" \
	import "$WORK/tiny" tiny:1 > /dev/null || fail "import of the tiny image failed"
out=$("$RUN_BIN" --pool m --socket "$SOCK" --container c1 --image tiny:1 -- \
	sh -c "echo \${DANAUS_MOUNTS-none}; cat $MNT/etc/motd; echo")
[ "$out" = "none
from the image" ] || fail "danaus-run --container gives '$out'"
out=$(env LD_PRELOAD="$LIB" DANAUS_POOL=m DANAUS_SOCKET="$SOCK" DANAUS_MOUNTPOINT="$MNT" \
	DANAUS_MOUNTS="$D:$O" DANAUS_CONTAINER=c1 DANAUS_IMAGE=tiny:1 \
	sh -c "cat $MNT/etc/motd; echo; cat $D/f 2>&1 | sed 's/^.*: //'; ls $O 2>&1 | sed 's/^.*: //'")
[ "$out" = "from the image
No such file or directory
No such file or directory" ] || fail "a container's session reached other instances: '$out'"
pass "only instances the pool gives the session are served (a container: its union alone)"

# [mount data] access_users/access_groups: checked by the pool from SO_PEERCRED
# at attach, whatever the process says; the other instances stay open to all
as_id() { # UID GIDS CMD...: in the pool as UID, gid and supplementary groups GIDS (a,b)
	local uid=$1 gids=$2
	shift 2
	setpriv --reuid="$uid" --regid="${gids%%,*}" --groups="$gids" -- \
		"$RUN_BIN" --pool m --socket "$SOCK" --mountpoint "$MNT" -- "$@"
}
chmod 644 "$B/tenants/a/data/f"
out=$(as_id 4242 4242 sh -c "cat $D/f; cat $O/h")
[ "$out" = "one
three" ] || fail "uid 4242, listed in access_users, gets '$out'"
out=$(as_id 4244 4244,4300 sh -c "cat $D/f; ls $D | grep -x dir")
[ "$out" = "one
dir" ] || fail "gid 4300 as a supplementary group of uid 4244 (access_groups) gets '$out'"
out=$(as_id 4243 4300 sh -c "cat $D/f")
[ "$out" = "one" ] || fail "gid 4300 as the primary group (access_groups) gets '$out'"
out=$(as_id 4243 4243 sh -c "cat $D/f; ls $D; stat -c %n $D/dir; echo x > $D/new
	cat $O/h; cat $MNT/tenants/a/data/f" 2>&1 | sed 's/^.*: //')
[ "$out" = "Permission denied
Permission denied
Permission denied
Permission denied
three
one" ] || fail "uid 4243, in neither list, gets '$out'"
[ -e "$B/tenants/a/data/new" ] && fail "a refused caller made a file in the instance"
# its mountpoint still shows, as a mount one cannot enter: the placeholder's
# attributes (ls -l of the parent shows no d?????????), nothing of the instance
# (ls's complaints about other tests' mountpoints coming and going left out)
out=$(as_id 4243 4243 sh -c "stat -c '%F %a %u' $D; ls -ld $D | cut -c1-10; ls -la $(dirname "$D") 2>/dev/null | grep -c ' $(basename "$D")\$'" 2>&1)
[ "$out" = "directory 111 0
d--x--x--x
1" ] || fail "a refused caller's stat of the instance's mountpoint gives '$out'"
# a process that becomes another user is served as the new identity
out=$(in_pool "$PY" -c "
import os
print(open('$D/f').read().strip())
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setgid(4243); os.setuid(4243)
    try:
        open('$D/f')
        print('served')
    except PermissionError:
        print('refused')
    os._exit(0)
os.waitpid(pid, 0)
" 2>&1)
[ "$out" = "one
refused" ] || fail "root's child become uid 4243 gets '$out'"
pass "[mount] access_users and access_groups narrow who uses an instance (EACCES), the pool's others unchanged"
