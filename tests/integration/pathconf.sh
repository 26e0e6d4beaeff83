#!/usr/bin/env bash
# Integration: pathconf(3) and fpathconf(3), which glibc answers from statfs,
# statvfs and stat it calls internally, say for a file in a pool what they
# say for a kernel directory on the pool's own filesystem (the local pool's
# root and the kernel directory share /tmp; on Ceph, the kernel directory
# is the same CephFS through ceph-fuse; through a union, a kernel overlay
# there): every _PC_ name, an unknown one,
# missing paths, a path through a file, and descriptors.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

POOL_NAME=limits
pool_start limits

limits() { # limits DIR: one answer per line, DIR shown as @
	python3 - "$1" << 'PY'
import ctypes, errno, os, sys
d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
libc.pathconf.restype = libc.fpathconf.restype = ctypes.c_long
os.mkdir(d + "/dir")
open(d + "/dir/file", "w").write("x")
os.symlink("file", d + "/dir/link")
names = list(range(0, 21)) + [999, -1]
def ans(f, *a):
    ctypes.set_errno(0)
    r = f(*a)
    e = ctypes.get_errno()
    return "%d%s" % (r, "/" + errno.errorcode[e] if e else "")
for p in ("dir", "dir/file", "dir/link", "dir/", "missing", "dir/missing", "dir/file/x"):
    print(p, " ".join(ans(libc.pathconf, (d + "/" + p).encode(), n) for n in names))
for p in ("dir", "dir/file"):
    fd = os.open(d + "/" + p, os.O_RDONLY)
    print("fd", p, " ".join(ans(libc.fpathconf, fd, n) for n in names))
    os.close(fd)
    print("closed fd", p, " ".join(ans(libc.fpathconf, fd, n) for n in names))
fd = os.open(d + "/dir/file", os.O_PATH)
print("O_PATH fd", " ".join(ans(libc.fpathconf, fd, n) for n in names))
PY
}

mkdir "$WORK/kernel"
KDIR="$WORK/kernel"
if [ -n "${DANAUS_TEST_CEPH_FUSE:-}" ]; then
	KDIR="$DANAUS_TEST_CEPH_FUSE/pools/t$$-kernel"
	mkdir -p "$KDIR"
	trap 'rc=$?; set +e; rm -rf "$KDIR"; (exit $rc); cleanup' EXIT
elif [ -n "${DANAUS_TEST_UNION:-}" ]; then
	# a union is an overlay (its statfs type: glibc then answers LINK_MAX
	# and FILESIZEBITS as for any overlayfs): a kernel overlay on /tmp's
	# filesystem is the one to compare with
	mkdir -p "$WORK/ovl/lower" "$WORK/ovl/upper" "$WORK/ovl/work"
	mount -t overlay "danaus-pathconf-$$" \
		-o "lowerdir=$WORK/ovl/lower,upperdir=$WORK/ovl/upper,workdir=$WORK/ovl/work" "$KDIR" ||
		fail "cannot mount a kernel overlay to compare a union with"
	trap 'rc=$?; set +e; umount "$KDIR"; (exit $rc); cleanup' EXIT
fi
want=$(limits "$KDIR")
got=$(in_pool bash -c "$(declare -f limits); limits '$MNT'")
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") | sed 's/^/  | /'
	fail "pathconf/fpathconf in the pool differ from the kernel directory's"
fi
echo "$want" | head -3 | sed 's/^/  | /'
pass "pathconf and fpathconf answer every name for pool files and fds as for a kernel directory"
