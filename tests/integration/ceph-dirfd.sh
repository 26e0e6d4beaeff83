#!/usr/bin/env bash
# Integration (ceph): dirfd-walk.sh's calls relative to an open directory on
# a Ceph pool (its stat_at/unlink_at, issue 17): fstatat and unlinkat of a
# plain name reach that directory, as the kernel's, even once it was renamed
# and another took its old name; the kernel's directory is the oracle.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/ceph-lib.sh"

command -v python3 >/dev/null || fail "python3 is needed"

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
