#!/usr/bin/env bash
# Integration: a walk that enters the mount from a kernel directory fd. rsync's
# receiver opens "/" with O_PATH and walks down with openat; so do fts-like
# tools. Each step that reaches the mountpoint must enter the pool, and steps
# that stay outside must stay the kernel's. Also rsync itself into a pool.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 > /dev/null || fail "python3 is needed"
command -v rsync > /dev/null || fail "rsync is needed (scripts/install-deps installs it)"

pool_start w
mkdir "$ROOT/dst"
echo inside > "$ROOT/dst/f"
cat > "$WORK/walk.py" << 'PY'
import os, sys
mnt = sys.argv[1]
fd = os.open("/", os.O_PATH | os.O_DIRECTORY)
for name in mnt.strip("/").split("/"):
    nfd = os.open(name, os.O_PATH | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
print("stat dst/f:", os.stat("dst/f", dir_fd=fd).st_size)
g = os.open("dst/g", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
os.write(g, b"made through a walked fd\n")
os.close(g)
print("listdir dst:", sorted(os.listdir(os.open("dst", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd))))
# from the mount's parent, ".." and back in
parent = os.open(os.path.dirname(mnt), os.O_PATH | os.O_DIRECTORY)
base = os.path.basename(mnt)
print("via ..:", os.stat(base + "/../" + base + "/dst/f", dir_fd=parent).st_size)
# outside stays outside
print("outside:", os.path.exists(os.path.join("/proc/self")))
PY
out=$(in_pool python3 "$WORK/walk.py" "$MNT") || fail "the walk failed: $out"
echo "$out"
[ "$out" = "stat dst/f: 7
listdir dst: ['f', 'g']
via ..: 7
outside: True" ] || fail "the walk from a kernel fd did not enter the pool as the kernel would"
[ "$(cat "$ROOT/dst/g")" = "made through a walked fd" ] || fail "the file made through a walked fd is not in the pool"
pass "openat from kernel directory fds of the mount's ancestors enters the pool"

make_source_tree "$WORK/src"
in_pool rsync -a "$WORK/src/" "$MNT/copy/" || fail "rsync into the pool failed"
diff -r "$WORK/src" "$ROOT/copy" || fail "rsync's copy differs"
in_pool rsync -a "$MNT/copy/" "$WORK/back/" || fail "rsync out of the pool failed"
diff -r "$WORK/src" "$WORK/back" || fail "rsync's copy out of the pool differs"
pass "rsync -a into and out of a pool copies the tree"

# Calls relative to an open directory look names up in that directory, as
# the kernel does, even once it was renamed and another took its old name
# (fts, rm -rf, tar and rsync make them): fstatat, unlinkat, openat (also
# O_CREAT), mkdirat and renameat. Each answer, and the trees after them,
# must be the kernel's.
cat > "$WORK/renamed.py" << 'PY'
import errno, os, sys
top = sys.argv[1]
def do(what, f):
    try:
        r = f()
    except OSError as e:
        r = errno.errorcode.get(e.errno, e.errno)
    print(what + ":", r)
def read_at(name, d):
    fd = os.open(name, os.O_RDONLY, dir_fd=d)
    try:
        return os.read(fd, 100).decode()
    finally:
        os.close(fd)
def write_at(name, d, flags, text):
    fd = os.open(name, os.O_WRONLY | flags, 0o640, dir_fd=d)
    os.write(fd, text.encode())
    os.close(fd)
    return oct(os.stat(name, dir_fd=d).st_mode)
def tree(p):
    out = []
    for root, dirs, files in os.walk(p):
        dirs.sort()
        for n in sorted(dirs + files):
            q = os.path.join(root, n)
            st = os.lstat(q)
            out.append("%s %o %d" % (os.path.relpath(q, p), st.st_mode, st.st_size))
    return out
os.makedirs(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("x")
d = os.open(top + "/a/d", os.O_RDONLY | os.O_DIRECTORY)
os.rename(top + "/a/d", top + "/a/e")
os.mkdir(top + "/a/d")
with open(top + "/a/d/f", "w") as f:
    f.write("other")
os.symlink("f", top + "/a/e/ln")
os.symlink("f", top + "/a/d/ln")
os.umask(0o022)
do("lstat f", lambda: os.stat("f", dir_fd=d, follow_symlinks=False).st_size)
do("stat f", lambda: os.stat("f", dir_fd=d).st_size)
do("stat ln", lambda: os.stat("ln", dir_fd=d).st_size)
do("lstat nothing", lambda: os.stat("nothing", dir_fd=d, follow_symlinks=False))
do("open f", lambda: read_at("f", d))
do("open ln", lambda: read_at("ln", d))
do("create g", lambda: write_at("g", d, os.O_CREAT, "made"))
do("create g excl", lambda: write_at("g", d, os.O_CREAT | os.O_EXCL, "again"))
do("open f trunc", lambda: write_at("f", d, os.O_TRUNC, "xy"))
do("mkdir m", lambda: os.mkdir("m", 0o750, dir_fd=d))
do("mkdir m again", lambda: os.mkdir("m", dir_fd=d))
do("rename g h", lambda: os.rename("g", "h", src_dir_fd=d, dst_dir_fd=d))
do("rename m n", lambda: os.rename("m", "n", src_dir_fd=d, dst_dir_fd=d))
os.symlink("../e/h", top + "/a/e/uph")  # (leads out of the directory and back)
do("stat uph", lambda: os.stat("uph", dir_fd=d).st_size)
do("open uph", lambda: read_at("uph", d))
do("chmod uph", lambda: os.chmod("uph", 0o640, dir_fd=d))
do("rename nothing", lambda: os.rename("nothing", "z", src_dir_fd=d, dst_dir_fd=d))
n = os.open("n", os.O_RDONLY | os.O_DIRECTORY, dir_fd=d)
do("create n/k", lambda: write_at("k", n, os.O_CREAT, "k"))
do("rename between two", lambda: os.rename("k", "k2", src_dir_fd=n, dst_dir_fd=d))
do("rename back", lambda: os.rename("k2", "k", src_dir_fd=d, dst_dir_fd=n))
os.rename(top + "/a/e", top + "/a/e2")
do("stat n/k after its parent moved", lambda: os.stat("k", dir_fd=n).st_size)
do("rename into the cwd", lambda: os.rename("k", top + "/a/k", src_dir_fd=n))
do("rename from the cwd", lambda: os.rename(top + "/a/k", "k", dst_dir_fd=n))
do("symlink", lambda: os.symlink("h", "sl", dir_fd=d))
do("readlink", lambda: os.readlink("sl", dir_fd=d))
do("link between two", lambda: os.link("h", "hl", src_dir_fd=d, dst_dir_fd=n))
do("chmod", lambda: os.chmod("h", 0o600, dir_fd=d))
do("chown", lambda: os.chown("h", 65534, 65534, dir_fd=d, follow_symlinks=False))
do("utime", lambda: os.utime("h", (1000000000, 1000000000), dir_fd=d))
do("stat h", lambda: (oct(os.stat("h", dir_fd=d).st_mode), os.stat("h", dir_fd=d).st_uid,
                      os.stat("h", dir_fd=d).st_mtime, os.stat("n/hl", dir_fd=d).st_nlink))
do("stat n/k", lambda: os.stat("n/k", dir_fd=d).st_size)
def cwd_of(fd):
    here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    os.fchdir(fd)
    try:
        return os.path.relpath(os.getcwd(), top)
    finally:
        os.fchdir(here)
        os.close(here)
do("getcwd after fchdir", lambda: cwd_of(d))
do("unlink f", lambda: os.unlink("f", dir_fd=d))
do("unlink f again", lambda: os.unlink("f", dir_fd=d))
os.mkdir(top + "/a/e2/s")
os.mkdir(top + "/a/d/s")
do("rmdir s", lambda: os.rmdir("s", dir_fd=d))
do("rmdir n", lambda: os.rmdir("n", dir_fd=d))
os.close(n)
# a directory removed while open: names are looked up nowhere
os.mkdir(top + "/a/gone")
g = os.open(top + "/a/gone", os.O_RDONLY | os.O_DIRECTORY)
os.rmdir(top + "/a/gone")
os.mkdir(top + "/a/gone")
with open(top + "/a/gone/f", "w") as f:
    f.write("new")
do("stat in removed", lambda: os.stat("f", dir_fd=g))
do("create in removed", lambda: write_at("c", g, os.O_CREAT, "c"))
do("mkdir in removed", lambda: os.mkdir("c", dir_fd=g))
print("tree:", tree(top + "/a"))
PY
mkdir "$WORK/kernel-renamed"
want=$(python3 "$WORK/renamed.py" "$WORK/kernel-renamed") || fail "the kernel run failed: $want"
got=$(in_pool python3 "$WORK/renamed.py" "$MNT/renamed") || fail "the pool run failed: $got"
echo "$got"
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true
	fail "calls relative to a renamed directory: pool and kernel differ (above: < kernel, > pool)"; }
pass "every call relative to an open directory (stat, open, create, mkdir, rename and link between two, symlink, readlink, chmod, chown, utime, unlink, rmdir, fchdir) reaches that directory, as the kernel's"

# A second uid: each call relative to an open directory asks what the path
# call asks (write and search on the directory, its sticky bit), and a
# directory whose search permission went after it was opened refuses lookups.
cat > "$WORK/perm.py" << 'PY'
import errno, os, sys
top = sys.argv[1]
def do(what, f):
    try:
        r = f()
    except OSError as e:
        r = errno.errorcode.get(e.errno, e.errno)
    print(what + ":", r)
def create(name, d):
    os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d))
p = os.open(top + "/p", os.O_RDONLY | os.O_DIRECTORY)
do("p: stat", lambda: os.stat("rootfile", dir_fd=p).st_size)
do("p: open for writing", lambda: os.open("rootfile", os.O_WRONLY, dir_fd=p))
do("p: create", lambda: create("x", p))
do("p: mkdir", lambda: os.mkdir("x", dir_fd=p))
do("p: unlink", lambda: os.unlink("rootfile", dir_fd=p))
do("p: rename", lambda: os.rename("rootfile", "y", src_dir_fd=p, dst_dir_fd=p))
do("p: chmod other's", lambda: os.chmod("rootfile", 0o777, dir_fd=p))
do("p: chown other's", lambda: os.chown("rootfile", 65534, 65534, dir_fd=p))
do("p: utime other's", lambda: os.utime("rootfile", dir_fd=p))
do("p: utime other's, no follow", lambda: os.utime("rootfile", (1, 1), dir_fd=p, follow_symlinks=False))
s = os.open(top + "/sticky", os.O_RDONLY | os.O_DIRECTORY)
do("sticky: create", lambda: create("mine", s))
do("sticky: unlink other's", lambda: os.unlink("rf", dir_fd=s))
do("sticky: rename other's", lambda: os.rename("rf", "z", src_dir_fd=s, dst_dir_fd=s))
do("sticky: rename over other's", lambda: os.rename("mine", "rf", src_dir_fd=s, dst_dir_fd=s))
do("sticky: rename mine", lambda: os.rename("mine", "mine2", src_dir_fd=s, dst_dir_fd=s))
do("sticky: mkdir", lambda: os.mkdir("md", dir_fd=s))
do("sticky: rmdir other's", lambda: os.rmdir("rd", dir_fd=s))
o = os.open(top + "/own", os.O_RDONLY | os.O_DIRECTORY)
os.chmod(top + "/own", 0)
do("no search: stat", lambda: os.stat("f", dir_fd=o))
do("no search: open", lambda: os.open("f", os.O_RDONLY, dir_fd=o))
do("no search: create", lambda: create("n", o))
do("no search: mkdir", lambda: os.mkdir("n", dir_fd=o))
do("no search: unlink", lambda: os.unlink("f", dir_fd=o))
do("no search: chmod", lambda: os.chmod("f", 0o600, dir_fd=o))
do("no search: utime", lambda: os.utime("f", dir_fd=o))
os.chmod(top + "/own", 0o755)
print(sorted(os.listdir(top + "/sticky")), sorted(os.listdir(top + "/own")))
PY
perm_tree() { # DIR: what perm.py finds, made as root
	mkdir -p "$1/p" "$1/sticky/rd" "$1/own"
	echo root > "$1/p/rootfile"
	echo root > "$1/sticky/rf"
	echo own > "$1/own/f"
	chmod 755 "$1" "$1/p"
	chmod 1777 "$1/sticky"
	chmod 666 "$1/sticky/rf"
	chown 65534:65534 "$1/own" "$1/own/f"
}
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
perm_tree "$WORK/kernel-perm"
perm_tree "$ROOT/perm"
want=$(as_nobody /usr/bin/python3 "$WORK/perm.py" "$WORK/kernel-perm") || fail "the kernel run failed: $want"
got=$(as_nobody "$RUN_BIN" --pool "${POOL_NAME:-x}" --socket "$SOCK" --mountpoint "$MNT" -- \
	/usr/bin/python3 "$WORK/perm.py" "$MNT/perm") || fail "the pool run failed: $got"
echo "$got"
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") || true
	fail "a second uid's calls relative to an open directory: pool and kernel differ (< kernel, > pool)"; }
pass "calls relative to an open directory ask the caller's permissions as the kernel does (uid 65534)"

# A symlink relative to an open directory that climbs above the pool's top
# stops at the top, as for a path: the host file beside the top is untouched.
victim="$(dirname "$ROOT")/victim"
echo host > "$victim"
chmod 644 "$victim"
mkdir "$ROOT/esc"
ln -s ../../victim "$ROOT/esc/l"
got=$(in_pool python3 "$HERE/dirfd-escape.py" "$MNT/esc")
[ "$got" = "chmod ENOENT; utime ENOENT; chown ENOENT; open ENOENT; stat ENOENT; " ] ||
	fail "a symlink relative to an open directory, climbing out of the pool, gives '$got'"
[ "$(stat -c '%a %u' "$victim")" = "644 0" ] && [ "$(stat -c %Y "$victim")" != 1 ] &&
	[ "$(cat "$victim")" = host ] || fail "a call relative to an open directory changed $victim"
pass "symlinks relative to an open directory stay inside the pool"

# Through a union, a name relative to an open directory of a lower layer is
# looked up, removed (a whiteout), made and moved as its path call does it.
if [ -n "${DANAUS_TEST_UNION:-}" ]; then
	LOWER="$(dirname "$ROOT")/lower"
	mkdir -p "$LOWER/low/d/sub"
	echo one > "$LOWER/low/d/f1"
	echo two > "$LOWER/low/d/f2"
	echo x > "$LOWER/low/d/sub/x"
	got=$(in_pool python3 -c "
import errno, os
d = os.open('$MNT/low/d', os.O_RDONLY | os.O_DIRECTORY)
print(os.stat('f1', dir_fd=d).st_size, end=' ')
os.unlink('f1', dir_fd=d)
try:
    os.stat('f1', dir_fd=d)
except FileNotFoundError:
    print('hidden', end=' ')
os.close(os.open('new', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d))
os.mkdir('f1', dir_fd=d)
os.rename('f2', 'f3', src_dir_fd=d, dst_dir_fd=d)
try:
    os.rmdir('sub', dir_fd=d)
except OSError as e:
    print(errno.errorcode[e.errno], end=' ')
print(sorted(os.listdir('$MNT/low/d')), sorted(os.listdir('$MNT/low/d/f1')), open('$MNT/low/d/f3').read().strip())
") || fail "calls relative to a lower directory of the union failed: $got"
	[ "$got" = "4 hidden ENOTEMPTY ['f1', 'f3', 'new', 'sub'] [] two" ] ||
		fail "calls relative to a lower directory of the union give '$got'"
	[ -e "$ROOT/low/d/.wh.f2" ] && [ -e "$ROOT/low/d/f1/.wh..wh..opq" ] && [ -f "$ROOT/low/d/new" ] &&
		[ "$(cat "$LOWER/low/d/f1")" = one ] ||
		fail "the union's writable layer after calls relative to a lower directory: $(ls -aR "$ROOT/low")"
	pass "through a union, calls relative to a lower directory white out, make opaque and copy up"
fi
