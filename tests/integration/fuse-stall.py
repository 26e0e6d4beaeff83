#!/usr/bin/env python3
"""A filesystem that never answers: mounts FUSE at DIR, completes the kernel's
INIT handshake, then reads requests and answers none, so any access below DIR
waits until this process ends (closing /dev/fuse aborts the connection and
every waiter gets ENOTCONN). The stuck backend call of hung.sh.

  fuse-stall.py DIR READY_FILE    (runs until killed; touches READY_FILE once mounted)
"""
import ctypes
import os
import signal
import struct
import sys

FUSE_INIT = 26
MS_NOSUID, MS_NODEV = 2, 4

mnt, ready = sys.argv[1], sys.argv[2]
try:
    dev = os.open("/dev/fuse", os.O_RDWR)
except OSError as e:
    sys.exit("fuse-stall: cannot open /dev/fuse: %s" % e.strerror)
libc = ctypes.CDLL(None, use_errno=True)
opts = "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % dev
if libc.mount(b"stall", mnt.encode(), b"fuse.stall", MS_NOSUID | MS_NODEV, opts.encode()) != 0:
    sys.exit("fuse-stall: mount %s: %s" % (mnt, os.strerror(ctypes.get_errno())))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    while True:
        req = os.read(dev, 1 << 20)
        length, opcode, unique = struct.unpack_from("<IIQ", req)
        if opcode != FUSE_INIT:
            continue  # never answered: the caller waits
        # fuse_init_out: major, minor, max_readahead, flags, max_background,
        # congestion_threshold, max_write, time_gran, then padding
        init = struct.pack("<IIIIHHII", 7, 26, 65536, 0, 16, 12, 65536, 1) + bytes(32)
        os.write(dev, struct.pack("<IiQ", 16 + len(init), 0, unique) + init)
        open(ready, "w").close()
finally:
    os.close(dev)  # aborts the connection: every waiter gets ENOTCONN
    libc.umount2(mnt.encode(), 2)  # MNT_DETACH
