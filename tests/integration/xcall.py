#!/usr/bin/env python3
"""Runs system calls named on the command line and prints each result (ok,
a number, or the errno's name), one per call, space separated: the calls go
through libc, hence through libdanaus when it is preloaded.

  xcall.py CALL ARG... [, CALL ARG...]...

CALLs: setxattr PATH NAME HEX, getxattr PATH NAME, open PATH FLAGS[|...]
(prints ok, and keeps the fd as "fd"), write TEXT (to that fd), chown PATH
UID GID, mknod PATH fifo|chr, stat PATH (prints mode:uid:gid), capblob
(setxattr's HEX for a file capability granting cap_setuid).
"""
import errno
import os
import sys

CAPBLOB = "0100000280000000000000000000000000000000"
state = {}


def call(name, args):
    if name == "setxattr":
        value = CAPBLOB if args[2] == "capblob" else args[2]
        os.setxattr(args[0], args[1], bytes.fromhex(value))
    elif name == "getxattr":
        return os.getxattr(args[0], args[1]).hex() or "empty"
    elif name == "open":
        flags = 0
        for f in args[1].split("|"):
            flags |= getattr(os, f)
        state["fd"] = os.open(args[0], flags, 0o644)
    elif name == "write":
        return str(os.write(state["fd"], args[0].encode()))
    elif name == "chown":
        os.chown(args[0], int(args[1]), int(args[2]))
    elif name == "mknod":
        import stat
        kind = stat.S_IFIFO if args[1] == "fifo" else stat.S_IFCHR
        os.mknod(args[0], kind | 0o644, os.makedev(1, 3) if kind == stat.S_IFCHR else 0)
    elif name == "stat":
        st = os.lstat(args[0])
        return "%o:%d:%d" % (st.st_mode & 0o7777, st.st_uid, st.st_gid)
    else:
        raise SystemExit("xcall: unknown call " + name)
    return "ok"


out = []
calls, cur = [], []
for a in sys.argv[1:]:
    if a == ",":
        calls.append(cur)
        cur = []
    else:
        cur.append(a)
if cur:
    calls.append(cur)
for c in calls:
    try:
        out.append(call(c[0], c[1:]))
    except OSError as e:
        out.append(errno.errorcode.get(e.errno, str(e.errno)))
print(" ".join(out))
