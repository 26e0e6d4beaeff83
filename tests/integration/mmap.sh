#!/usr/bin/env bash
# Integration: mmap of Danaus files (python's mmap module and libc's mmap through
# ctypes), line for line against the same script on a plain kernel directory.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

SCRIPT="$WORK/mmap-test.py"
cat > "$SCRIPT" <<'EOF'
import ctypes, errno, hashlib, mmap, os, random, struct, subprocess, sys, threading

PG = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)  # the global scope: libdanaus's mmap when preloaded
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.msync.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mremap.restype = ctypes.c_void_p
libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
FAILED = ctypes.c_void_p(-1).value
RW = mmap.PROT_READ | mmap.PROT_WRITE
MS_SYNC = 4


def p(*a):
    print(*a, flush=True)


def ename(e):
    return errno.errorcode.get(e, str(e))


def cmap(n, prot, flags, fd, off=0, addr=None):
    a = libc.mmap(addr, n, prot, flags, fd, off)
    if a == FAILED:
        return ename(ctypes.get_errno())
    return a


def check(rc):
    return 'ok' if rc == 0 else ename(ctypes.get_errno())


def tryit(f):
    try:
        f()
        return 'ok'
    except OSError as e:
        return ename(e.errno)


def h(b):
    return hashlib.sha256(b).hexdigest()[:16]


def content(path):
    with open(path, 'rb') as f:
        return f.read()


def other_process(path):
    code = 'import hashlib,sys;d=open(sys.argv[1],"rb").read();' \
           'print(hashlib.sha256(d).hexdigest()[:16],len(d))'
    return subprocess.run([sys.executable, '-c', code, path], capture_output=True,
                          text=True).stdout.strip()


def fresh(path, data):
    with open(path, 'wb') as f:
        f.write(data)


if len(sys.argv) == 3 and sys.argv[1] == 'child-exit':
    # Maps, writes, closes its fd and exits without munmap: exit writes the map back.
    fd = os.open(sys.argv[2], os.O_RDWR)
    a = cmap(PG, RW, mmap.MAP_SHARED, fd)
    os.close(fd)
    ctypes.memmove(a + 7, b'EXITED', 6)
    sys.exit(0)

D = sys.argv[1]
base = bytes((i * 7 + 3) % 251 for i in range(3 * PG + 100))
f = os.path.join(D, 'data')

# Read-only maps against read().
fresh(f, base)
fd = os.open(f, os.O_RDONLY)
m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
p('ro whole', len(m), m[:] == content(f))
m.close()
m = mmap.mmap(fd, 100, access=mmap.ACCESS_READ, offset=PG)
p('ro offset', len(m), m[:] == base[PG:PG + 100])
m.close()
m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ, offset=3 * PG)
p('ro tail', len(m), m[:] == base[3 * PG:])
m.close()
p('ro unaligned offset', tryit(lambda: mmap.mmap(fd, 10, access=mmap.ACCESS_READ, offset=100)))
p('ro fd shared write', tryit(lambda: mmap.mmap(fd, 10, access=mmap.ACCESS_WRITE)))
m = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
m[0:3] = b'cow'
p('ro fd private write', m[0:5], content(f) == base)
m.close()
a = cmap(PG, mmap.PROT_READ, mmap.MAP_SHARED, fd)
p('ro fd shared read, ctypes', a != FAILED)
# the kernel's map of a read-only fd may never be made writable ...
p('ro fd shared mprotect write', check(libc.mprotect(a, PG, RW)))
p('ro fd shared mprotect read', check(libc.mprotect(a, PG, mmap.PROT_READ)))
# ... and shows the file's bytes as they change: here the process's own write
w = os.open(f, os.O_WRONLY)
os.pwrite(w, b'SEEN', 40)
p('ro fd shared map sees a write', ctypes.string_at(a + 40, 4))
os.close(w)
libc.munmap(a, PG)
fresh(f, base)
p('zero length', cmap(0, mmap.PROT_READ, mmap.MAP_PRIVATE, fd))
os.close(fd)
fd = os.open(f, os.O_WRONLY)
p('wronly fd', tryit(lambda: mmap.mmap(fd, 10, access=mmap.ACCESS_READ)))
os.close(fd)
fd = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
p('directory', cmap(PG, mmap.PROT_READ, mmap.MAP_PRIVATE, fd))
os.close(fd)

# MAP_SHARED: writes reach the file on flush (msync) and on close (munmap).
fd = os.open(f, os.O_RDWR)
m = mmap.mmap(fd, 0)
m[10:20] = b'X' * 10
m[3 * PG + 50:3 * PG + 60] = b'Y' * 10
m.flush()
exp = bytearray(base)
exp[10:20] = b'X' * 10
exp[3 * PG + 50:3 * PG + 60] = b'Y' * 10
p('shared flush, same process', content(f) == exp, os.pread(fd, 10, 10))
p('shared flush, new process', other_process(f), h(exp), len(exp))
m[PG:PG + 4] = b'ZZZZ'
m.close()
exp[PG:PG + 4] = b'ZZZZ'
p('shared close', content(f) == exp, other_process(f) == '%s %d' % (h(exp), len(exp)))
os.close(fd)

# MAP_PRIVATE on a writable fd leaves the file alone.
fd = os.open(f, os.O_RDWR)
m = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
m[0:4] = b'PPPP'
m.flush()
p('private', m[0:6], content(f) == exp)
m.close()
a = cmap(2 * PG, RW, mmap.MAP_PRIVATE, fd)
ctypes.memmove(a, b'private', 7)
p('private ctypes', check(libc.msync(a, 2 * PG, MS_SYNC)), check(libc.munmap(a, 2 * PG)),
  content(f) == exp)
os.close(fd)

# The map outlives every fd of its file.
fd = os.open(f, os.O_RDWR)
a = cmap(2 * PG, RW, mmap.MAP_SHARED, fd)
os.close(fd)
ctypes.memmove(a + 5, b'CLOSED', 6)
p('after close msync', check(libc.msync(a, 2 * PG, MS_SYNC)), content(f)[5:11])
ctypes.memmove(a + PG + 1, b'AFTER', 5)
p('after close munmap', check(libc.munmap(a, 2 * PG)), content(f)[PG + 1:PG + 6])
exp = bytearray(content(f))

# munmap of a middle page writes that page back; the rest stays mapped.
fd = os.open(f, os.O_RDWR)
a = cmap(3 * PG, RW, mmap.MAP_SHARED, fd)
os.close(fd)
for i, c in enumerate(b'ABC'):
    ctypes.memmove(a + i * PG + 100, bytes([c]) * 8, 8)
p('partial munmap', check(libc.munmap(a + PG, PG)), content(f)[PG + 100:PG + 108])
p('partial msync', check(libc.msync(a + 2 * PG, PG, MS_SYNC)),
  content(f)[2 * PG + 100:2 * PG + 108])
p('partial rest', check(libc.munmap(a, 3 * PG)), content(f)[100:108])
p('unmapped msync', check(libc.msync(a, PG, MS_SYNC)))

# The last page past the end of the file: zeros, and never written to the file.
size = len(content(f))
fd = os.open(f, os.O_RDWR)
a = cmap(4 * PG, RW, mmap.MAP_SHARED, fd)
ctypes.memmove(a + 3 * PG + 200, b'TAIL', 4)
p('past eof', ctypes.string_at(a + 3 * PG + 96, 8), ctypes.string_at(a + 3 * PG + 200, 4))
p('past eof munmap', check(libc.munmap(a, 4 * PG)), len(content(f)) == size)
os.close(fd)

# A file grown by ftruncate while mapped takes the map's bytes up to its new size.
g = os.path.join(D, 'grow')
fresh(g, b'g' * 100)
fd = os.open(g, os.O_RDWR)
a = cmap(2 * PG, RW, mmap.MAP_SHARED, fd)
os.ftruncate(fd, PG + 1000)
ctypes.memmove(a + PG + 500, b'GROW', 4)
ctypes.memmove(a + PG + 1500, b'BEYOND', 6)
p('grow', check(libc.msync(a, 2 * PG, MS_SYNC)), len(content(g)), content(g)[PG + 500:PG + 504],
  h(content(g)))
libc.munmap(a, 2 * PG)
os.close(fd)

# Mapped read-only, made writable with mprotect: still written back.
fd = os.open(g, os.O_RDWR)
a = cmap(PG, mmap.PROT_READ, mmap.MAP_SHARED, fd)
p('mprotect', check(libc.mprotect(a, PG, RW)))
ctypes.memmove(a, b'MPROT', 5)
p('mprotect munmap', check(libc.munmap(a, PG)), content(g)[:6])
os.close(fd)

# MAP_FIXED: a file over a reserved range, and an anonymous map over a shared one.
fd = os.open(f, os.O_RDWR)
r = cmap(3 * PG, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1)
b = cmap(PG, mmap.PROT_READ, mmap.MAP_SHARED | 0x10, fd, PG, r + PG)
p('fixed file', b == r + PG, ctypes.string_at(b, PG) == content(f)[PG:2 * PG])
libc.munmap(r, 3 * PG)
a = cmap(2 * PG, RW, mmap.MAP_SHARED, fd)
ctypes.memmove(a + PG + 8, b'FIXED', 5)
b = cmap(PG, RW, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x10, -1, 0, a + PG)
p('fixed over shared', b == a + PG, content(f)[PG + 8:PG + 13],
  ctypes.string_at(a + PG + 8, 5))
libc.munmap(a, 2 * PG)

# mremap shrinking in place writes the tail back.
a = cmap(2 * PG, RW, mmap.MAP_SHARED, fd)
ctypes.memmove(a + PG + 20, b'SHRINK', 6)
p('mremap shrink', libc.mremap(a, 2 * PG, PG, 0) == a, content(f)[PG + 20:PG + 26])
libc.munmap(a, PG)
os.close(fd)

# A thread's stores are kept while another thread writes the map back (msync).
fd = os.open(g, os.O_RDWR)
os.ftruncate(fd, 16 * PG)
a = cmap(16 * PG, RW, mmap.MAP_SHARED, fd)
slots = 16 * PG // 8
order = list(range(slots))
random.Random(2).shuffle(order)
stop = threading.Event()


def syncing():
    while not stop.is_set():
        libc.msync(a, 16 * PG, MS_SYNC)


t = threading.Thread(target=syncing)
t.start()
for i in order:
    ctypes.memmove(a + 8 * i, struct.pack('<Q', i + 1), 8)
stop.set()
t.join()
lost = sum(struct.unpack_from('<Q', ctypes.string_at(a, 16 * PG), 8 * i)[0] != i + 1
           for i in range(slots))
p('stores during msync kept', lost == 0, check(libc.munmap(a, 16 * PG)), h(content(g)))
os.close(fd)

# Exit writes back a map nobody unmapped.
subprocess.run([sys.executable, sys.argv[0], 'child-exit', g], check=True)
p('exit', content(g)[:16])

# Larger than one request buffer, both ways.
big = os.path.join(D, 'big')
data = bytearray(random.Random(1).randbytes(3 * 1024 * 1024 + 123))
fresh(big, data)
fd = os.open(big, os.O_RDWR)
m = mmap.mmap(fd, 0)
p('big read', m[:] == data)
for off in (0, 1048575, 2 * 1048576 + 7, len(data) - 3):
    m[off:off + 3] = b'big'
    data[off:off + 3] = b'big'
m.flush()
p('big write', content(big) == data, other_process(big), h(data))
m.close()
os.close(fd)
p('done')
EOF

POOL_NAME=mmap
pool_start mmap
PLAIN="$WORK/plain"
mkdir "$PLAIN"

python3 "$SCRIPT" "$PLAIN" > "$WORK/out.plain" 2>&1 || { cat "$WORK/out.plain" >&2; fail "the script failed on the kernel directory"; }
in_pool python3 "$SCRIPT" "$MNT" > "$WORK/out.danaus" 2>&1 || true

if ! diff -u "$WORK/out.plain" "$WORK/out.danaus"; then
	fail "mmap results differ between the kernel directory and the Danaus mount"
fi
grep -qx done "$WORK/out.plain" || fail "the script did not finish"
pass "mmap results identical ($(wc -l < "$WORK/out.plain") lines)"

sums() { (cd "$1" && sha256sum data grow big); }
if ! diff -u <(sums "$PLAIN") <(sums "$ROOT"); then
	fail "the pool's files differ from the kernel directory's"
fi
pass "resulting files identical"
