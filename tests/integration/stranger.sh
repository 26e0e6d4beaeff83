#!/usr/bin/env bash
# Integration: calls strangers' programs make that earlier tests left out,
# each line against the same script on a kernel directory: /proc/self/cwd
# (and /proc/PID/cwd, /proc/thread-self/cwd) of a process working in a
# pool.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

pool_start a
mkdir -p "$WORK/kernel"
chmod 755 "$ROOT" "$WORK/kernel"
# run_both NAME: $WORK/NAME.sh on the kernel directory and in the pool, the outputs compared
run_both() {
	local name=$1
	bash "$WORK/$name.sh" "$WORK/kernel" > "$WORK/$name.kernel" 2>&1
	in_pool bash "$WORK/$name.sh" "$MNT" > "$WORK/$name.pool" 2>&1
	sed -i "s|$WORK/kernel|D|g" "$WORK/$name.kernel"
	sed -i "s|$MNT|D|g" "$WORK/$name.pool"
	cat "$WORK/$name.pool"
	diff "$WORK/$name.kernel" "$WORK/$name.pool"
}

# /proc/self/cwd of a process working in a pool names its working
# directory there (the kernel's magic link leads to the placeholder)
cat > "$WORK/proc-cwd.sh" << 'SCRIPT'
cd "$1" && mkdir -p sub && echo hi > sub/f && cd sub
echo "cat: $(cat /proc/self/cwd/f 2>&1 | sed 's/^.*: //')"
python3 -c '
import os
def read(p):
    try:
        return open(p).read().strip()
    except OSError as e:
        return e.strerror
print("pid:", read("/proc/%d/cwd/f" % os.getpid()), "thread-self:", read("/proc/thread-self/cwd/f"))
fd = os.open(".", os.O_RDONLY)
print("fd dir:", read("/proc/self/fd/%d/f" % fd), sorted(os.listdir("/proc/self/fd/%d/" % fd)))
print("lstat:", oct(os.lstat("/proc/self/cwd").st_mode >> 12), "stat:", oct(os.stat("/proc/self/cwd/").st_mode >> 12))
'
echo "ls: $(ls /proc/self/cwd/ | tr '\n' ' ')"
echo new > /proc/self/cwd/g && echo "create: $(cat g)"
echo "stat: $(stat -L -c '%F %s' /proc/self/cwd/f /proc/self/cwd 2>&1 | sed 's/^.*: //' | tr '\n' ' ')"
echo "readlink: $(readlink /proc/self/cwd)"
echo "parent: $(ls /proc/self/cwd/.. 2>&1)"
echo "missing: $(cat /proc/self/cwd/nope 2>&1 | sed 's/^.*: //')"
rm /proc/self/cwd/g && echo "rm: $(ls)"
SCRIPT
run_both proc-cwd || fail "/proc/self/cwd of a process working in a pool differs from the kernel's"
pass "/proc/self/cwd, /proc/PID/cwd and /proc/thread-self/cwd name the working directory in the pool"
