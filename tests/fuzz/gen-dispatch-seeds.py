#!/usr/bin/env python3
"""Writes fuzz-dispatch's seed corpus: a few valid request sequences.

Usage: gen-dispatch-seeds.py DIR. The record format is fuzz-dispatch.c's:
struct dn_req up to inl (88 bytes, ipc/wire.h), u16 LE payload length,
payload. A handle of 1 stands for the first file the input opened.
"""
import os
import struct
import sys

OPS = ['NOP', 'OPEN', 'CLOSE', 'PREAD', 'PWRITE', 'FSTAT', 'STAT', 'ACCESS', 'MKDIR',
       'RMDIR', 'UNLINK', 'RENAME', 'READDIR', 'FSYNC', 'TRUNCATE', 'FTRUNCATE', 'CHMOD',
       'FCHMOD', 'READLINK', 'FPATH', 'UTIMENS', 'CHOWN', 'SYMLINK', 'LINK', 'STATFS',
       'FALLOCATE', 'GETXATTR', 'SETXATTR', 'LISTXATTR', 'REMOVEXATTR', 'LOCK', 'FLOCK',
       'MKNOD', 'HANDOFF', 'MAPFD', 'FADVISE', 'SEEK', 'IOCTL']
OP = {name: i + 1 for i, name in enumerate(OPS)}
IN_BUF = 1
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_DIRECTORY = 0, 1, 2, 0o100, 0o200000


def req(op, path=b'', path2=b'', data=b'', handle=0, off=0, length=0, flags=0, mode=0,
        oflags=0, where=0, buf=0, tag=0x1000, fsize=0, umask=0):
    payload = b''
    if path:
        payload += path + b'\0'
    if path2:
        payload += path2 + b'\0'
    payload += data
    head = struct.pack('<IIQQQIIIHHIHHQQIHHQ', OP[op], buf, handle, off, length, flags, mode,
                       oflags, len(path), len(path2), len(payload), where, 0, tag, fsize, umask,
                       0, 0, 0)  # mount, pad_, sent_ns
    assert len(head) == 88
    return head + struct.pack('<H', len(payload)) + payload


SEEDS = {
    'nop': [req('NOP')],
    'stat': [req('STAT', b'/link'), req('STAT', b'/up', flags=1)],
    'open-read': [req('OPEN', b'/file', oflags=O_RDONLY), req('PREAD', handle=1, length=64),
                  req('FSTAT', handle=1), req('FPATH', handle=1), req('CLOSE', handle=1)],
    'create-write': [req('OPEN', b'/dir/new', oflags=O_RDWR | O_CREAT, mode=0o644),
                     req('PWRITE', data=b'abcdef', handle=1, length=6),
                     req('PWRITE', data=b'x' * 600, handle=1, length=600, where=IN_BUF),
                     req('FTRUNCATE', handle=1, off=3), req('FSYNC', handle=1),
                     req('PWRITE', data=b'x' * 100, handle=1, off=4000, length=100, fsize=4097),
                     req('TRUNCATE', b'/dir/new', off=1 << 20, fsize=4097)],
    'readdir': [req('OPEN', b'/dir', oflags=O_RDONLY | O_DIRECTORY),
                req('READDIR', handle=1, length=4096), req('STAT', b'back', handle=1)],
    'paths': [req('MKDIR', b'/a', mode=0o755), req('RENAME', b'/a', b'/b'),
              req('SYMLINK', b'/b/s', b'../../etc/passwd'), req('READLINK', b'/b/s', length=256),
              req('LINK', b'/file', b'/b/h'), req('UNLINK', b'/b/h'), req('RMDIR', b'/b'),
              req('MKNOD', b'/n', mode=0o100644), req('TRUNCATE', b'/n', off=10),
              req('CHMOD', b'/n', mode=0o600), req('ACCESS', b'/n', mode=4)],
    'attrs': [req('UTIMENS', b'/file', data=struct.pack('<qqqq', 1, 2, 3, 4)),
              req('CHOWN', b'/file', mode=0xffffffff, oflags=0xffffffff),
              req('STATFS', b'/'), req('SETXATTR', b'/file', b'user.a', b'value'),
              req('GETXATTR', b'/file', b'user.a', length=64), req('LISTXATTR', b'/file', length=64),
              req('REMOVEXATTR', b'/file', b'user.a')],
    # the read-only inode ioctls (FS_IOC_GETFLAGS, FSGETXATTR, FIEMAP with its
    # header and room for 2 extents) and a directory's SEEK_END
    'ioctls': [req('OPEN', b'/file', oflags=O_RDONLY),
               req('IOCTL', handle=1, oflags=0x80086601, length=64),
               req('IOCTL', handle=1, oflags=0x801C581F, length=64),
               req('IOCTL', handle=1, oflags=0xC020660B, length=32 + 2 * 56,
                   data=struct.pack('<QQIIII', 0, 1 << 20, 1, 0, 2, 0)),
               req('OPEN', b'/dir', oflags=O_RDONLY | O_DIRECTORY),
               req('SEEK', handle=2, mode=2)],
    'locks': [req('OPEN', b'/file', oflags=O_RDWR),
              req('LOCK', data=struct.pack('<iiqqii', 1, 0, 0, 10, 0, 0), handle=1, oflags=6, off=7),
              req('LOCK', data=struct.pack('<iiqqii', 1, 0, 0, 10, 0, 0), handle=1, oflags=5, off=8),
              req('FLOCK', handle=1, mode=2), req('FALLOCATE', handle=1, off=0, length=8192)],
    # root's guard files (fuzz-dispatch.c): what nobody may not change
    'guards': [req('CHMOD', b'/guard/file', mode=0o666),
               req('OPEN', b'/guard/secret', oflags=O_RDWR),
               req('PWRITE', data=b'owned', handle=1, length=5),
               req('SETXATTR', b'/guard/suid', b'security.capability', b'\x01\0\0\x02' + bytes(16)),
               req('SETXATTR', b'/guard/file', b'trusted.x', b'v'),
               req('CHOWN', b'/guard/file', mode=65534, oflags=65534),
               req('TRUNCATE', b'/guard/file', off=0), req('UNLINK', b'/guard/file'),
               req('UTIMENS', b'/guard/file', data=struct.pack('<qqqq', 1, 2, 3, 4))],
    # paths as written: dots, trailing slashes, ".." past the top and after a handle
    'dots': [req('MKDIR', b'/d/', mode=0o777, umask=0o022), req('MKDIR', b'/d/.', mode=0o755),
             req('OPEN', b'/d/../d/n', oflags=O_RDWR | O_CREAT, mode=0o666, umask=0o077),
             req('STAT', b'/d/n/'), req('RMDIR', b'/d/.'), req('RMDIR', b'/d/..'),
             req('RENAME', b'/d/n', b'/d/.'), req('RENAME', b'/d/n/', b'/m'),
             req('UNLINK', b'/d/n/'), req('LINK', b'/d/.', b'/h'),
             req('OPEN', b'/../../d/./', oflags=O_RDONLY | O_DIRECTORY),
             req('STAT', b'../../../file', handle=1), req('FPATH', handle=1),
             req('MKNOD', b'/d/p/', mode=0o10644, umask=0o002), req('READLINK', b'/d/..', length=64),
             req('UTIMENS', b'/..', flags=1, data=struct.pack('<qqqq', 1, 2, 3, 4))],
    'stream': [req('OPEN', b'/file', oflags=O_RDONLY),
               req('PREAD', handle=1, length=1 << 19, flags=1, tag=0x1001)],
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus-dispatch')
os.makedirs(out, exist_ok=True)
for name, reqs in SEEDS.items():
    with open(os.path.join(out, name + '.bin'), 'wb') as f:
        f.write(b''.join(reqs))
