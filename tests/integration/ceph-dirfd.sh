#!/usr/bin/env bash
# Integration (ceph): dirfd-walk.sh's calls relative to an open directory on
# a Ceph pool (its *_at ops, svc-ceph-at.c): fstatat, unlinkat, openat (also
# O_CREAT), mkdirat, renameat, fchmodat, utimensat and fchownat of a plain
# name reach that directory, as the kernel's, even once it was renamed and
# another took its old name, and find nothing in one removed while open;
# a second uid (and uid 0 without capabilities) is refused as the kernel
# refuses it. A kernel directory is the oracle; ceph-fuse, another client
# of the cluster, sees the pool's tree as the kernel's is.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed"

ceph_start_with_fuse
mkdir -p "$FUSE/pools/dirfd"
chmod 755 "$FUSE/pools/dirfd"
POOL_NAME=dirfd
ceph_pool_start dirfd /pools/dirfd

cat >"$WORK/renamed.py" <<'PY'
import errno, os, stat, sys
def stat_type(st):
    return "link" if stat.S_ISLNK(st.st_mode) else "other"
top = sys.argv[1]
os.makedirs(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("x")
os.symlink("f", top + "/a/d/l")
d = os.open(top + "/a/d", os.O_RDONLY | os.O_DIRECTORY)
os.rename(top + "/a/d", top + "/a/e")
os.mkdir(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("other")
print("lstat f:", os.stat("f", dir_fd=d, follow_symlinks=False).st_size)
print("stat f:", os.stat("f", dir_fd=d).st_size)
print("lstat l:", stat_type(os.stat("l", dir_fd=d, follow_symlinks=False)))
def err(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print("stat missing:", err(lambda: os.stat("missing", dir_fd=d)))
print("unlink missing:", err(lambda: os.unlink("missing", dir_fd=d)))
os.unlink("f", dir_fd=d)
os.mkdir(top + "/a/e/s")
os.mkdir(top + "/a/d/s")
print("unlink a dir:", err(lambda: os.unlink("s", dir_fd=d)))
print("rmdir a file:", err(lambda: os.rmdir("l", dir_fd=d)))
os.rmdir("s", dir_fd=d)
print("e:", sorted(os.listdir(top + "/a/e")), "d:", sorted(os.listdir(top + "/a/d")))
with open(top + "/a/e/g", "w") as f:
    f.write("g")
fd = os.open(top + "/a/e/g", os.O_RDONLY)
print("stat in a non-directory:", err(lambda: os.stat("x", dir_fd=fd)))
print("unlink in a non-directory:", err(lambda: os.unlink("x", dir_fd=fd)))
PY
mkdir "$WORK/kernel"
want=$(python3 "$WORK/renamed.py" "$WORK/kernel") || fail "the kernel run failed: $want"
got=$(in_pool python3 "$WORK/renamed.py" "$MNT/renamed") || fail "the pool run failed: $got"
echo "$got"
[ "$got" = "$want" ] || fail "calls relative to a renamed directory: pool '$got', kernel '$want'"
pass "stat, unlink and rmdir relative to an open directory on a Ceph pool reach that directory"

# Every call relative to an open directory, in one renamed after it was
# opened, in one removed after, in a file (ENOTDIR), with names too long or
# taken (ENAMETOOLONG, EEXIST) or missing (ENOENT); then the tree.
cat >"$WORK/calls.py" <<'PY'
import errno, os, stat, sys
top = sys.argv[1]
def do(what, f):
    try:
        r = f()
    except OSError as e:
        r = errno.errorcode.get(e.errno, e.errno)
    print(what + ":", r)
def read_at(name, d, flags=0):
    fd = os.open(name, os.O_RDONLY | flags, dir_fd=d)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)
def write_at(name, d, flags, text):
    fd = os.open(name, os.O_WRONLY | flags, 0o640, dir_fd=d)
    os.write(fd, text.encode())
    os.close(fd)
    return oct(os.stat(name, dir_fd=d, follow_symlinks=False).st_mode)
def fd_type(name, d, flags):
    fd = os.open(name, flags, dir_fd=d)
    try:
        return stat.filemode(os.fstat(fd).st_mode)[0]
    finally:
        os.close(fd)
def attrs(name, d, times=False):
    st = os.stat(name, dir_fd=d, follow_symlinks=False)
    return "%o %d:%d" % (st.st_mode, st.st_uid, st.st_gid) + (
        " %d %d" % (st.st_atime, st.st_mtime) if times else "")
os.umask(0o022)
os.makedirs(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("x")
os.symlink("f", top + "/a/d/ln")
os.symlink("ln", top + "/a/d/ln2")
os.symlink("loop2", top + "/a/d/loop1")
os.symlink("loop1", top + "/a/d/loop2")
os.symlink("missing", top + "/a/d/dangling")
d = os.open(top + "/a/d", os.O_RDONLY | os.O_DIRECTORY)
os.rename(top + "/a/d", top + "/a/e")
os.mkdir(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("other")
os.symlink("f", top + "/a/d/ln")
do("open f", lambda: read_at("f", d))
do("open ln", lambda: read_at("ln", d))
do("open ln2 (to ln)", lambda: read_at("ln2", d))
do("open loop1", lambda: read_at("loop1", d))
do("open dangling", lambda: read_at("dangling", d))
do("stat ln", lambda: os.stat("ln", dir_fd=d).st_size)
do("stat dangling", lambda: os.stat("dangling", dir_fd=d))
do("chmod ln2", lambda: os.chmod("ln2", 0o640, dir_fd=d))
do("utime ln", lambda: os.utime("ln", (1000000003, 1000000003), dir_fd=d))
do("chown ln", lambda: os.chown("ln", -1, 65534, dir_fd=d))
do("attrs ln's f", lambda: attrs("f", d, True))
do("open missing", lambda: read_at("missing", d))
do("open f, O_DIRECTORY", lambda: read_at("f", d, os.O_DIRECTORY))
do("open ln, O_NOFOLLOW", lambda: read_at("ln", d, os.O_NOFOLLOW))
do("open ln, O_PATH|O_NOFOLLOW", lambda: fd_type("ln", d, os.O_PATH | os.O_NOFOLLOW))
do("open f, O_PATH", lambda: fd_type("f", d, os.O_PATH))
do("create g", lambda: write_at("g", d, os.O_CREAT, "made"))
do("create g again", lambda: write_at("g", d, os.O_CREAT, "ma"))
do("create g, O_EXCL", lambda: write_at("g", d, os.O_CREAT | os.O_EXCL, "again"))
do("create ln, O_EXCL", lambda: write_at("ln", d, os.O_CREAT | os.O_EXCL, "again"))
do("create ln, O_NOFOLLOW", lambda: write_at("ln", d, os.O_CREAT | os.O_NOFOLLOW, "again"))
do("create a long name", lambda: write_at("l" * 256, d, os.O_CREAT, "long"))
do("open f, O_TRUNC", lambda: write_at("f", d, os.O_TRUNC, "xy"))
do("mkdir m", lambda: os.mkdir("m", 0o750, dir_fd=d))
do("mkdir m again", lambda: os.mkdir("m", dir_fd=d))
do("mkdir over f", lambda: os.mkdir("f", dir_fd=d))
do("mkdir over ln", lambda: os.mkdir("ln", dir_fd=d))
do("mkdir a long name", lambda: os.mkdir("m" * 256, dir_fd=d))
do("open m, O_RDWR", lambda: read_at("m", d, os.O_RDWR))
do("open m, O_CREAT", lambda: write_at("m", d, os.O_CREAT, "no"))
do("rename g h", lambda: os.rename("g", "h", src_dir_fd=d, dst_dir_fd=d))
do("rename m n", lambda: os.rename("m", "n", src_dir_fd=d, dst_dir_fd=d))
do("rename missing", lambda: os.rename("missing", "z", src_dir_fd=d, dst_dir_fd=d))
do("rename a file over a dir", lambda: os.rename("h", "n", src_dir_fd=d, dst_dir_fd=d))
do("rename a dir over a file", lambda: os.rename("n", "h", src_dir_fd=d, dst_dir_fd=d))
do("rename to a long name", lambda: os.rename("h", "h" * 256, src_dir_fd=d, dst_dir_fd=d))
os.mkdir(top + "/a/e/full")
os.mkdir(top + "/a/e/full/x")
os.mkdir(top + "/a/e/empty")
do("rename a dir over a full one", lambda: os.rename("empty", "full", src_dir_fd=d, dst_dir_fd=d))
do("rename a dir over an empty one", lambda: os.rename("full", "empty", src_dir_fd=d, dst_dir_fd=d))
n = os.open("n", os.O_RDONLY | os.O_DIRECTORY, dir_fd=d)
do("create n/k", lambda: write_at("k", n, os.O_CREAT, "k"))
do("rename between two", lambda: os.rename("k", "k2", src_dir_fd=n, dst_dir_fd=d))
do("rename back", lambda: os.rename("k2", "k", src_dir_fd=d, dst_dir_fd=n))
do("rename a dir into itself", lambda: os.rename("n", "inside", src_dir_fd=d, dst_dir_fd=n))
os.rename(top + "/a/e", top + "/a/e2")
do("create in n after its parent moved", lambda: write_at("k3", n, os.O_CREAT, "k3"))
do("mkdir in n after its parent moved", lambda: os.mkdir("sub", dir_fd=n))
do("rename n/sub up", lambda: os.rename("sub", "up", src_dir_fd=n, dst_dir_fd=d))
do("chmod h", lambda: os.chmod("h", 0o600, dir_fd=d))
do("chmod n", lambda: os.chmod("n", 0o711, dir_fd=d))
do("chmod missing", lambda: os.chmod("missing", 0o600, dir_fd=d))
do("utime h", lambda: os.utime("h", (1000000000, 1000000000), dir_fd=d))
do("utime up, no follow", lambda: os.utime("up", (1000000001, 1000000001), dir_fd=d, follow_symlinks=False))
do("utime missing", lambda: os.utime("missing", (1, 1), dir_fd=d))
do("chown h", lambda: os.chown("h", 65534, 65534, dir_fd=d))
do("chown ln, no follow", lambda: os.chown("ln", 65534, 65534, dir_fd=d, follow_symlinks=False))
do("chown f, group only", lambda: os.chown("f", -1, 65534, dir_fd=d))
do("chown missing", lambda: os.chown("missing", 1, 1, dir_fd=d))
do("attrs h", lambda: attrs("h", d, True))
do("attrs n", lambda: attrs("n", d))
do("attrs up", lambda: attrs("up", d, True))
do("attrs f", lambda: attrs("f", d))
do("attrs ln uid", lambda: os.stat("ln", dir_fd=d, follow_symlinks=False).st_uid)
do("rmdir up", lambda: os.rmdir("up", dir_fd=d))
os.close(n)
# symlinks to follow that are not plain names (the path's way), in a directory
# still where it was opened
os.mkdir(top + "/a/s")
with open(top + "/a/s/f", "w") as f:
    f.write("s")
os.symlink("./f", top + "/a/s/ln")
os.symlink("./missing", top + "/a/s/dangling")
s = os.open(top + "/a/s", os.O_RDONLY | os.O_DIRECTORY)
do("s: open ln", lambda: read_at("ln", s))
do("s: open ln, O_CREAT", lambda: write_at("ln", s, os.O_CREAT, "t"))
do("s: open dangling", lambda: read_at("dangling", s))
do("s: stat ln", lambda: os.stat("ln", dir_fd=s).st_size)
do("s: chmod ln", lambda: os.chmod("ln", 0o604, dir_fd=s))
do("s: utime ln", lambda: os.utime("ln", (1000000002, 1000000002), dir_fd=s))
do("s: chown ln", lambda: os.chown("ln", 65534, -1, dir_fd=s))
do("s: attrs f", lambda: attrs("f", s, True))
do("s: rename ln", lambda: os.rename("ln", "ln2", src_dir_fd=s, dst_dir_fd=s))
do("s: readlink ln2", lambda: os.readlink("ln2", dir_fd=s))
os.close(s)
# a file as the directory: ENOTDIR for each call
fd = os.open(top + "/a/e2/f", os.O_RDONLY)
do("file: open", lambda: read_at("x", fd))
do("file: create", lambda: write_at("x", fd, os.O_CREAT, "x"))
do("file: mkdir", lambda: os.mkdir("x", dir_fd=fd))
do("file: rename from", lambda: os.rename("x", "y", src_dir_fd=fd, dst_dir_fd=d))
do("file: rename to", lambda: os.rename("h", "y", src_dir_fd=d, dst_dir_fd=fd))
do("file: chmod", lambda: os.chmod("x", 0o600, dir_fd=fd))
do("file: utime", lambda: os.utime("x", (1, 1), dir_fd=fd))
do("file: chown", lambda: os.chown("x", 1, 1, dir_fd=fd))
os.close(fd)
# a directory removed while open (its name taken again): nothing is found or made in it
os.mkdir(top + "/a/gone")
g = os.open(top + "/a/gone", os.O_RDONLY | os.O_DIRECTORY)
os.rmdir(top + "/a/gone")
os.mkdir(top + "/a/gone")
with open(top + "/a/gone/f", "w") as f:
    f.write("new")
do("removed: open", lambda: read_at("f", g))
do("removed: create", lambda: write_at("c", g, os.O_CREAT, "c"))
do("removed: create, O_EXCL", lambda: write_at("c", g, os.O_CREAT | os.O_EXCL, "c"))
do("removed: mkdir", lambda: os.mkdir("c", dir_fd=g))
do("removed: rename from", lambda: os.rename("f", "y", src_dir_fd=g, dst_dir_fd=d))
do("removed: rename into", lambda: os.rename("h", "y", src_dir_fd=d, dst_dir_fd=g))
do("removed: chmod", lambda: os.chmod("f", 0o600, dir_fd=g))
do("removed: utime", lambda: os.utime("f", (1, 1), dir_fd=g))
do("removed: chown", lambda: os.chown("f", 1, 1, dir_fd=g))
os.close(g)
os.close(d)
PY
# the tree below a directory: names, types and modes, owners, file sizes
tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		stat -c "%n %A %u:%g $( [ -f "$p" ] && stat -c %s "$p")" "$p"
	done)
}
mkdir "$WORK/kernel-calls"
want=$(python3 "$WORK/calls.py" "$WORK/kernel-calls") || fail "the kernel run failed: $want"
got=$(in_pool python3 "$WORK/calls.py" "$MNT/calls") || fail "the pool run failed: $got"
echo "$got"
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true
	fail "calls relative to an open directory: pool and kernel differ (< kernel, > pool)"; }
want=$(tree "$WORK/kernel-calls")
got=$(tree "$FUSE/pools/dirfd/calls")
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true
	fail "the tree after calls relative to an open directory: ceph-fuse and kernel differ (< kernel, > ceph-fuse)"; }
pass "openat, mkdirat, renameat, fchmodat, utimensat and fchownat relative to an open directory on a Ceph pool reach that directory, as the kernel's"

# A second uid, and uid 0 without capabilities: each call relative to an
# open directory asks what its path call asks (search and write on the
# directory, its sticky bit, the file's owner), also once the directory's
# search permission went after it was opened.
cat >"$WORK/perm.py" <<'PY'
import errno, os, sys
top = sys.argv[1]
def do(what, f):
    try:
        r = f()
    except OSError as e:
        r = errno.errorcode.get(e.errno, e.errno)
    print(what + ":", r)
def create(name, d, flags=0):
    os.close(os.open(name, os.O_WRONLY | os.O_CREAT | flags, 0o644, dir_fd=d))
def opens(name, d, flags):
    os.close(os.open(name, flags, dir_fd=d))
    return "ok"
p = os.open(top + "/p", os.O_RDONLY | os.O_DIRECTORY)
do("p: open for writing", lambda: opens("rootfile", p, os.O_WRONLY))
do("p: open for reading", lambda: opens("rootfile", p, os.O_RDONLY))
do("p: open 0600, for reading", lambda: opens("secret", p, os.O_RDONLY))
do("p: create", lambda: create("x", p))
do("p: create existing", lambda: create("rootfile", p))
do("p: create existing, O_EXCL", lambda: create("rootfile", p, os.O_EXCL))
do("p: mkdir", lambda: os.mkdir("x", dir_fd=p))
do("p: mkdir existing", lambda: os.mkdir("rootfile", dir_fd=p))
do("p: rename", lambda: os.rename("rootfile", "y", src_dir_fd=p, dst_dir_fd=p))
do("p: rename missing", lambda: os.rename("missing", "y", src_dir_fd=p, dst_dir_fd=p))
do("p: chmod other's", lambda: os.chmod("rootfile", 0o777, dir_fd=p))
do("p: chown other's", lambda: os.chown("rootfile", 65534, 65534, dir_fd=p))
do("p: utime other's", lambda: os.utime("rootfile", dir_fd=p))
do("p: utime other's, times", lambda: os.utime("rootfile", (1, 1), dir_fd=p))
do("p: utime writable other's", lambda: os.utime("open", dir_fd=p))
do("p: chmod missing", lambda: os.chmod("missing", 0o600, dir_fd=p))
s = os.open(top + "/sticky", os.O_RDONLY | os.O_DIRECTORY)
do("sticky: create", lambda: create("mine", s))
do("sticky: mkdir", lambda: os.mkdir("md", dir_fd=s))
do("sticky: rename other's", lambda: os.rename("rf", "z", src_dir_fd=s, dst_dir_fd=s))
do("sticky: rename over other's", lambda: os.rename("mine", "rf", src_dir_fd=s, dst_dir_fd=s))
do("sticky: rename mine", lambda: os.rename("mine", "mine2", src_dir_fd=s, dst_dir_fd=s))
do("sticky: rename into p", lambda: os.rename("mine2", "m", src_dir_fd=s, dst_dir_fd=p))
do("sticky: chmod mine", lambda: os.chmod("mine2", 0o600, dir_fd=s))
do("sticky: chown mine to my group", lambda: os.chown("mine2", -1, os.getgid(), dir_fd=s))
do("sticky: chown mine away", lambda: os.chown("mine2", 0, 0, dir_fd=s))
do("sticky: utime mine", lambda: os.utime("mine2", (5, 5), dir_fd=s))
o = os.open(top + "/own", os.O_RDONLY | os.O_DIRECTORY)
os.chmod(top + "/own", 0)
do("no search: open", lambda: opens("f", o, os.O_RDONLY))
do("no search: create", lambda: create("n", o))
do("no search: mkdir", lambda: os.mkdir("n", dir_fd=o))
do("no search: rename", lambda: os.rename("f", "g", src_dir_fd=o, dst_dir_fd=o))
do("no search: chmod", lambda: os.chmod("f", 0o600, dir_fd=o))
do("no search: utime", lambda: os.utime("f", dir_fd=o))
do("no search: chown", lambda: os.chown("f", -1, -1, dir_fd=o))
os.chmod(top + "/own", 0o755)
print(sorted(os.listdir(top + "/sticky")), sorted(os.listdir(top + "/own")))
PY
perm_tree() { # DIR OTHER OWNER: what perm.py finds; OTHER's but own/, OWNER's
	mkdir -p "$1/p" "$1/sticky" "$1/own"
	echo other >"$1/p/rootfile"
	echo other >"$1/p/secret"
	echo open >"$1/p/open"
	echo other >"$1/sticky/rf"
	echo own >"$1/own/f"
	chmod 755 "$1" "$1/p"
	chmod 600 "$1/p/secret"
	chmod 666 "$1/p/open" "$1/sticky/rf"
	chmod 1777 "$1/sticky"
	chown "$2" "$1/p" "$1/p/rootfile" "$1/p/secret" "$1/p/open" "$1/sticky" "$1/sticky/rf"
	chown "$3" "$1/own" "$1/own/f"
}
as_user() { # as_user WHO CMD...: WHO a uid, or nocaps (uid 0 without capabilities)
	local who=(--reuid="$1" --regid="$1")
	[ "$1" = nocaps ] && who=(--reuid=0 --regid=0 --bounding-set=-all --inh-caps=-all)
	shift
	setpriv "${who[@]}" --clear-groups -- "$@"
}
for who in 65534 nocaps; do
	ids="0:0 65534:65534"
	[ "$who" = nocaps ] && ids="65534:65534 0:0"
	perm_tree "$WORK/kernel-perm-$who" $ids
	perm_tree "$FUSE/pools/dirfd/perm-$who" $ids
	want=$(as_user "$who" /usr/bin/python3 "$WORK/perm.py" "$WORK/kernel-perm-$who") ||
		fail "the kernel run as $who failed: $want"
	got=$(as_user "$who" "$RUN_BIN" --pool "$POOL_NAME" --socket "$SOCK" --mountpoint "$MNT" -- \
		/usr/bin/python3 "$WORK/perm.py" "$MNT/perm-$who") || fail "the pool run as $who failed: $got"
	echo "$got"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true
		fail "calls relative to an open directory as $who: pool and kernel differ (< kernel, > pool)"; }
	[ "$(tree "$FUSE/pools/dirfd/perm-$who")" = "$(tree "$WORK/kernel-perm-$who")" ] ||
		fail "the tree after $who's calls: ceph-fuse '$(tree "$FUSE/pools/dirfd/perm-$who")'"
done
pass "calls relative to an open directory on a Ceph pool ask the caller's permissions as the kernel does (uid 65534, uid 0 without capabilities)"

# A symlink relative to an open directory that climbs above the pool's top
# stops at the top, as for a path: the file beside the top is untouched.
echo host >"$FUSE/pools/victim"
chmod 644 "$FUSE/pools/victim"
mkdir "$FUSE/pools/dirfd/esc"
ln -s ../../victim "$FUSE/pools/dirfd/esc/l"
got=$(in_pool python3 "$HERE/dirfd-escape.py" "$MNT/esc")
[ "$got" = "chmod ENOENT; utime ENOENT; chown ENOENT; open ENOENT; stat ENOENT; " ] ||
	fail "a symlink relative to an open directory, climbing out of the pool, gives '$got'"
[ "$(stat -c '%a %u' "$FUSE/pools/victim")" = "644 0" ] && [ "$(stat -c %Y "$FUSE/pools/victim")" != 1 ] &&
	[ "$(cat "$FUSE/pools/victim")" = host ] || fail "a call relative to an open directory changed the file beside the top"
pass "symlinks relative to an open directory on a Ceph pool stay inside the pool"

# O_CREAT through a dangling symlink creates its target, and one climbing
# above the top creates it at the top, never beside it: by path and
# relative to an open directory.
ln -s ../../../made-by-path "$FUSE/pools/dirfd/esc/up1"
ln -s ../../made-at "$FUSE/pools/dirfd/esc/up2"
got=$(in_pool python3 -c "
import os
os.close(os.open('$MNT/esc/up1', os.O_WRONLY | os.O_CREAT, 0o644))
d = os.open('$MNT/esc', os.O_RDONLY | os.O_DIRECTORY)
os.close(os.open('up2', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d))
print('created')
" 2>&1) || fail "O_CREAT through a symlink climbing out of the pool: $got"
for f in made-by-path made-at; do
	[ ! -e "$FUSE/pools/$f" ] && [ ! -e "$FUSE/$f" ] || fail "O_CREAT through a symlink made $f above the pool's top"
	[ -f "$FUSE/pools/dirfd/$f" ] || fail "O_CREAT through a symlink climbing out did not make $f at the top"
done
pass "O_CREAT through a symlink climbing above a Ceph pool's top creates its target at the top"
