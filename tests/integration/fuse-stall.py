#!/usr/bin/env python3
"""A filesystem that never answers: mounts FUSE at DIR, completes the kernel's
INIT handshake, then reads requests and answers none, so any access below DIR
waits until this process ends (closing /dev/fuse aborts the connection and
every waiter gets ENOTCONN). The stuck backend call of hung.sh.

With GO_FILE and LOG_FILE, a call stuck in it can also complete: once GO_FILE
exists, the requests held and every later one are answered, as a directory
where any name is an empty regular file, and the name of each request
answered is appended to LOG_FILE (OPEN, RELEASE...): how hung.sh sees a late
open succeed and its file be closed.

  fuse-stall.py DIR READY_FILE [GO_FILE LOG_FILE]
      (runs until killed; touches READY_FILE once mounted)
"""
import ctypes
import errno
import os
import select
import signal
import struct
import sys

LOOKUP, FORGET, GETATTR, OPEN, RELEASE, FLUSH, INIT = 1, 2, 3, 14, 18, 25, 26
INTERRUPT, BATCH_FORGET = 36, 42
NAMES = {LOOKUP: "LOOKUP", GETATTR: "GETATTR", OPEN: "OPEN", RELEASE: "RELEASE",
         FLUSH: "FLUSH"}
MS_NOSUID, MS_NODEV = 2, 4
FILE_NODE = 2  # every name below the root is this one empty file

mnt, ready = sys.argv[1], sys.argv[2]
go, log = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else (None, None)
try:
    dev = os.open("/dev/fuse", os.O_RDWR)
except OSError as e:
    sys.exit("fuse-stall: cannot open /dev/fuse: %s" % e.strerror)
libc = ctypes.CDLL(None, use_errno=True)
opts = "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % dev
if libc.mount(b"stall", mnt.encode(), b"fuse.stall", MS_NOSUID | MS_NODEV, opts.encode()) != 0:
    sys.exit("fuse-stall: mount %s: %s" % (mnt, os.strerror(ctypes.get_errno())))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def attr(node):
    # fuse_attr: ino size blocks atime mtime ctime, their nsecs, mode nlink
    # uid gid rdev blksize flags
    mode = 0o40755 if node == 1 else 0o100644
    return struct.pack("<QQQQQQIIIIIIIIII", node, 0, 0, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0,
                       4096, 0)


def reply(unique, err=0, body=b""):
    try:
        os.write(dev, struct.pack("<IiQ", 16 + len(body), -err, unique) + body)
    except FileNotFoundError:
        pass  # the request was interrupted meanwhile


def answer(req):
    length, opcode, unique, node = struct.unpack_from("<IIQQ", req)
    if opcode in (FORGET, BATCH_FORGET, INTERRUPT):
        return  # these take no answer
    if opcode == LOOKUP:
        # fuse_entry_out: nodeid generation entry_valid attr_valid, their nsecs, attr
        reply(unique, 0, struct.pack("<QQQQII", FILE_NODE, 0, 0, 0, 0, 0) + attr(FILE_NODE))
    elif opcode == GETATTR:
        reply(unique, 0, struct.pack("<QII", 0, 0, 0) + attr(node))
    elif opcode == OPEN:
        reply(unique, 0, struct.pack("<QII", 1, 0, 0))  # fuse_open_out: fh flags padding
    elif opcode in (RELEASE, FLUSH):
        reply(unique)
    else:
        reply(unique, errno.ENOSYS)
        return
    with open(log, "a") as f:
        f.write(NAMES[opcode] + "\n")


held = []
try:
    while True:
        answering = go is not None and os.path.exists(go)
        if answering and held:
            for r in held:
                answer(r)
            held = []
        # waiting for GO_FILE: looks for it every 50 ms
        if go and not answering and not select.select([dev], [], [], 0.05)[0]:
            continue
        req = os.read(dev, 1 << 20)
        length, opcode, unique = struct.unpack_from("<IIQ", req)
        if opcode == INIT:
            # fuse_init_out: major, minor, max_readahead, flags, max_background,
            # congestion_threshold, max_write, time_gran, then padding
            init = struct.pack("<IIIIHHII", 7, 26, 65536, 0, 16, 12, 65536, 1) + bytes(32)
            reply(unique, 0, init)
            open(ready, "w").close()
        elif answering:
            answer(req)
        else:
            held.append(req)  # never answered, or not till GO_FILE: the caller waits
finally:
    os.close(dev)  # aborts the connection: every waiter gets ENOTCONN
    libc.umount2(mnt.encode(), 2)  # MNT_DETACH
