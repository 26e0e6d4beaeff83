#!/usr/bin/env bash
# Integration: name_to_handle_at and open_by_handle_at on a pool answer as a
# filesystem without export support (the lookup's errors, then EOPNOTSUPP;
# ESTALE for a handle given a Danaus fd as its mount), never with a handle
# of the host placeholder behind the mountpoint; kernel paths keep working.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

POOL_NAME=handles
pool_start handles
mkdir "$WORK/kernel"
echo k > "$WORK/kernel/f"

got=$(in_pool python3 - "$MNT" "$WORK/kernel" << 'PY'
import ctypes, errno, os, sys
d, k = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = -100, 0x400, 0x1000
def handle(size=128):
    h = ctypes.create_string_buffer(8 + size)
    ctypes.memmove(h, size.to_bytes(4, "little"), 4)
    return h
def n2h(dirfd, path, flags, h=None):
    mid = ctypes.c_int()
    r = libc.name_to_handle_at(dirfd, path.encode(), h if h is not None else handle(),
                               ctypes.byref(mid), flags)
    return "ok" if r == 0 else errno.errorcode[ctypes.get_errno()]
os.mkdir(d + "/dir")
open(d + "/dir/f", "w").write("p")
os.symlink("f", d + "/dir/l")
print("file", n2h(AT_FDCWD, d + "/dir/f", 0))
print("dir", n2h(AT_FDCWD, d + "/dir", 0))
print("symlink", n2h(AT_FDCWD, d + "/dir/l", 0), n2h(AT_FDCWD, d + "/dir/l", AT_SYMLINK_FOLLOW))
print("missing", n2h(AT_FDCWD, d + "/dir/missing", 0))
print("through a file", n2h(AT_FDCWD, d + "/dir/f/x", 0))
print("bad flags", n2h(AT_FDCWD, d + "/dir/f", 0x8000))
print("tiny handle", n2h(AT_FDCWD, d + "/dir/f", 0, handle(0)))
fd = os.open(d + "/dir", os.O_RDONLY)
print("relative", n2h(fd, "f", 0), n2h(fd, "nope", 0))
print("fd itself", n2h(fd, "", AT_EMPTY_PATH))
print("empty path", n2h(fd, "", 0))
# a real handle of a kernel file, offered with a Danaus fd as its mount
h = handle()
mid = ctypes.c_int()
assert libc.name_to_handle_at(AT_FDCWD, (k + "/f").encode(), h, ctypes.byref(mid), 0) == 0
r = libc.open_by_handle_at(fd, h, os.O_RDONLY)
print("open by handle, Danaus mount fd", r if r >= 0 else errno.errorcode[ctypes.get_errno()])
bad = handle(0)
r = libc.open_by_handle_at(fd, bad, os.O_RDONLY)
print("open by empty handle, Danaus mount fd", r if r >= 0 else errno.errorcode[ctypes.get_errno()])
kfd = os.open(k, os.O_RDONLY)
r = libc.open_by_handle_at(kfd, h, os.O_RDONLY)
print("kernel handle still opens", r >= 0 and os.read(r, 10) == b"k\n")
PY
)
want="file ENOTSUP
dir ENOTSUP
symlink ENOTSUP ENOTSUP
missing ENOENT
through a file ENOTDIR
bad flags EINVAL
tiny handle ENOTSUP
relative ENOTSUP ENOENT
fd itself ENOTSUP
empty path ENOENT
open by handle, Danaus mount fd ESTALE
open by empty handle, Danaus mount fd EINVAL
kernel handle still opens True"
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") | sed 's/^/  | /'
	fail "file handles on the pool do not answer as a filesystem without export support"
fi
echo "$got" | sed 's/^/  | /'
pass "name_to_handle_at/open_by_handle_at answer EOPNOTSUPP/ESTALE on the pool, kernel handles work"
