#!/usr/bin/env bash
# Integration: dlopen(3) of libraries stored in a pool, which glibc's loader
# opens and maps with internal calls: a Python C extension module imported
# from a pool directory first on sys.path (a venv in a pool), and through
# ctypes the same library by several paths (one handle), RTLD_NOLOAD,
# dlmopen, and the failures' NULL and dlerror text (also for a caller that
# may not read the file), each compared with a kernel directory; bare names
# still follow the calling program's RUNPATH. Run as root: it switches to nobody.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
command -v cc >/dev/null || { echo "SKIP: no cc"; exit 77; }
JSON=$(python3 -c 'import sysconfig, os; d = sysconfig.get_path("platstdlib") + "/lib-dynload"; print(next(d + "/" + f for f in os.listdir(d) if f.startswith("_json.")))' 2>/dev/null) ||
	{ echo "SKIP: python3 has no _json extension module"; exit 77; }

POOL_NAME=dl
pool_start dl '[access]\nusers = nobody, root'

# A library with a function, one with an undefined symbol, and a program
# built with a RUNPATH that dlopens a bare name found only there.
mkdir -p "$WORK/src" "$WORK/runpath"
printf 'int dn_answer(void) { return 42; }\n' > "$WORK/src/answer.c"
printf 'extern int dn_missing(void);\nint dn_call(void) { return dn_missing(); }\n' > "$WORK/src/undef.c"
cc -shared -fPIC -o "$WORK/src/libanswer.so" "$WORK/src/answer.c"
cc -shared -fPIC -o "$WORK/src/libundef.so" "$WORK/src/undef.c"
cp "$WORK/src/libanswer.so" "$WORK/runpath/libplug.so"
cat > "$WORK/src/runpath.c" << 'EOF2'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
	void *h = dlopen("libplug.so", RTLD_NOW);
	printf("%s\n", h ? "found through RUNPATH" : dlerror());
	return !h;
}
EOF2
cc -o "$WORK/runpath-prog" "$WORK/src/runpath.c" -ldl -Wl,--enable-new-dtags,-rpath,"$WORK/runpath"

loads() { # loads DIR JSON SRC: one answer per line, DIR shown as @
	python3 - "$@" << 'PY'
import ctypes, os, shutil, sys
d, json_so, src = sys.argv[1:4]
os.makedirs(d + "/venv/site")
shutil.copy(json_so, d + "/venv/site/")
sys.path.insert(0, d + "/venv/site")
import _json
print("import", _json.__file__.replace(d, "@"), _json.encode_basestring_ascii("\u00e9"))
os.mkdir(d + "/lib")
for n in ("libanswer.so", "libundef.so"):
    shutil.copy(src + "/" + n, d + "/lib/" + n)
os.symlink("libanswer.so", d + "/lib/alias.so")
open(d + "/lib/text.so", "w").write("not a library, and longer than an ELF header is\n" * 4)
open(d + "/lib/empty.so", "w").close()
os.mkdir(d + "/lib/dir.so")
libc = ctypes.CDLL(None)
libc.dlopen.restype = libc.dlmopen.restype = ctypes.c_void_p
libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
libc.dlmopen.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_int]
libc.dlerror.restype = ctypes.c_char_p
libc.dlsym.restype = ctypes.c_void_p
libc.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
RTLD_LAZY, RTLD_NOW, RTLD_NOLOAD = 1, 2, 4
def err():
    e = libc.dlerror()
    return e.decode().replace(d, "@") if e else None
def op(path, mode=RTLD_NOW):
    return libc.dlopen(path.encode() if path is not None else None, mode)
print("not loaded yet, NOLOAD", op(d + "/lib/libanswer.so", RTLD_LAZY | RTLD_NOLOAD), err())
h = op(d + "/lib/libanswer.so")
print("load", h is not None, err())
f = ctypes.CFUNCTYPE(ctypes.c_int)(libc.dlsym(h, b"dn_answer"))
print("call", f())
print("again", op(d + "/lib/libanswer.so") == h)
print("by symlink", op(d + "/lib/alias.so") == h)
print("by /./", op(d + "/./lib/libanswer.so") == h)
os.chdir(d + "/lib")
print("relative", op("./libanswer.so") == h)
os.chdir("/")
print("NOLOAD loaded", op(d + "/lib/libanswer.so", RTLD_LAZY | RTLD_NOLOAD) == h, err())
print("missing", op(d + "/lib/missing.so"), err())
print("missing dir", op(d + "/nodir/x.so"), err())
print("through a file", op(d + "/lib/text.so/x.so"), err())
print("not ELF", op(d + "/lib/text.so"), err())
print("empty", op(d + "/lib/empty.so"), err())
print("directory", op(d + "/lib/dir.so"), err())
print("undefined symbol", op(d + "/lib/libundef.so"), err())
print("lazy undefined", op(d + "/lib/libundef.so", RTLD_LAZY) is not None, err())
print("error cleared", err())
op(d + "/lib/missing.so")
libc.dlsym(h, b"dn_answer")
print("error after a later good call", err())
m = libc.dlmopen(-1, (d + "/lib/libanswer.so").encode(), RTLD_NOW)
print("dlmopen new namespace", m is not None and m != h, err())
g = ctypes.CFUNCTYPE(ctypes.c_int)(libc.dlsym(m, b"dn_answer"))
print("call there", g())
print("main program", op(None) is not None)
PY
}

mkdir "$WORK/kernel"
want=$(loads "$WORK/kernel" "$JSON" "$WORK/src" 2>&1) || true
got=$(in_pool bash -c "$(declare -f loads); loads '$MNT' '$JSON' '$WORK/src'" 2>&1) || true
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") | sed 's/^/  | /'
	fail "dlopen of libraries in the pool differs from a kernel directory's"
fi
echo "$want" | sed 's/^/  | /'
pass "dlopen/dlmopen of pool libraries (a Python extension, ctypes) as from a kernel directory"

out=$(in_pool "$WORK/runpath-prog") || fail "a program's dlopen of a bare name no longer follows its RUNPATH: $out"
pass "a bare name still follows the calling program's RUNPATH ($out)"

# The loader opens with the caller's rights: nobody may load a 0644 library, not a 0600 one.
[ "$(id -u)" = 0 ] || { echo "SKIP: the permission part switches users and needs root"; exit 0; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
perms() { # perms DIR
	python3 - "$1" << 'PY'
import ctypes, sys
d = sys.argv[1]
libc = ctypes.CDLL(None)
libc.dlopen.restype = ctypes.c_void_p
libc.dlerror.restype = ctypes.c_char_p
for n in ("libanswer.so", "private.so"):
    h = libc.dlopen((d + "/lib/" + n).encode(), 2)
    e = libc.dlerror()
    print(n, h is not None, e.decode().replace(d, "@") if e else None)
PY
}
for d in "$WORK/kernel" "$ROOT"; do
	cp "$d/lib/libanswer.so" "$d/lib/private.so"
	chmod 600 "$d/lib/private.so"
	chmod 755 "$d" "$d/lib"
done
want=$(as_nobody bash -c "$(declare -f perms); perms '$WORK/kernel'" 2>&1)
got=$(as_nobody "$RUN_BIN" --pool dl --socket "$SOCK" --mountpoint "$MNT" -- \
	bash -c "$(declare -f perms); perms '$MNT'" 2>&1)
if [ "$got" != "$want" ]; then
	diff <(echo "$want") <(echo "$got") | sed 's/^/  | /'
	fail "a caller's permission to read a pool library is not what the kernel checks"
fi
echo "$want" | sed 's/^/  | /'
pass "dlopen of a pool library needs the caller's read permission, as on the kernel"
