#!/usr/bin/env python3
# Conformance Harness Agent: performs perm-diff's operations as one identity
#
# One long-lived agent per (identity, side) reads operations as JSON lines on
# stdin and performs them with os.* and libc calls (through ctypes, so that
# they reach the preload library on the pool side, which runs under
# danaus-run), on BASE/<relative path>; it answers each with a JSON line
# (result, or the errno's name as {'e': NAME}). The constants both halves
# share live here: perm-diff.py imports them.
#
#   python3 pdiff_agent.py --agent BASE [--after-exec]
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import socket
import stat
import struct
import sys

# ---------------------------------------------------------------------------
# constants shared by both halves

# The capabilities that decide filesystem permissions; the reduced-capability
# identities run without them (setpriv's bounding set at exec, or capset
# mid-run).
FS_CAPS = {
    'chown': 0, 'dac_override': 1, 'dac_read_search': 2, 'fowner': 3, 'fsetid': 4,
    'linux_immutable': 9, 'sys_admin': 21, 'mknod': 27, 'setfcap': 31,
}
# Only DAC overrides gone; CAP_FOWNER, CAP_CHOWN... stay.
DAC_CAPS = {'dac_override': 1, 'dac_read_search': 2}

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_EACCESS = 0x200
XATTR_CREATE, XATTR_REPLACE = 1, 2

OPEN_FLAGS = {
    'RDONLY': os.O_RDONLY, 'WRONLY': os.O_WRONLY, 'RDWR': os.O_RDWR, 'CREAT': os.O_CREAT,
    'EXCL': os.O_EXCL, 'TRUNC': os.O_TRUNC, 'APPEND': os.O_APPEND,
    'DIRECTORY': os.O_DIRECTORY, 'NOFOLLOW': os.O_NOFOLLOW, 'NOATIME': os.O_NOATIME,
    'PATH': os.O_PATH, 'DIRECT': os.O_DIRECT,
}

# Times the generator sets explicitly are all before 2001 (or far in the
# future); every other time on the trees is "now" (set by the filesystem
# during the run). So a time either is an explicit value, which must match
# exactly, or "now", and both sides must agree which.
EXPLICIT_BEFORE = 1_000_000_000 * 10**9
EXPLICIT_AFTER = 3_000_000_000 * 10**9
TREE_TIME = 400_000_000 * 10**9 + 123456789
EXPLICIT_TIMES = [0, 123_456_789 * 10**9 + 5, 500_000_000 * 10**9 + 999_999_999,
                  4_000_000_000 * 10**9]

CAP_V2 = struct.pack('<IIIII', 0x02000001, 1 << 10, 0, 0, 0)  # cap_net_bind_service+ep


def acl_blob(entries):
    """system.posix_acl_* value: version 2, then (tag, perm, id) sorted by tag, id."""
    return struct.pack('<I', 2) + b''.join(struct.pack('<HHI', t, p, i & 0xffffffff)
                                           for t, p, i in sorted(entries))


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 1, 2, 4, 8, 0x10, 0x20
NOID = 0xffffffff

# ---------------------------------------------------------------------------
# agent: performs operations as its own identity, on BASE/<relative path>

libc = ctypes.CDLL(None, use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [('tv_sec', ctypes.c_long), ('tv_nsec', ctypes.c_long)]


class CapHeader(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32),
                ('inheritable', ctypes.c_uint32)]


libc.utimensat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
libc.futimens.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.faccessat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
libc.readlink.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
libc.readlink.restype = ctypes.c_ssize_t
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.getdents64.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
libc.getdents64.restype = ctypes.c_ssize_t
libc.read.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
libc.read.restype = ctypes.c_ssize_t
libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
libc.write.restype = ctypes.c_ssize_t
libc.open.argtypes = [ctypes.c_void_p, ctypes.c_int]
libc.stat.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.mkdir.argtypes = [ctypes.c_void_p, ctypes.c_uint]
libc.rename.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.getxattr.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
libc.getxattr.restype = ctypes.c_ssize_t
libc.statfs.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.fstatfs.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.capget.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


class Statfs(ctypes.Structure):
    _fields_ = [('f_type', ctypes.c_long), ('f_bsize', ctypes.c_long),
                ('f_blocks', ctypes.c_ulong), ('f_bfree', ctypes.c_ulong),
                ('f_bavail', ctypes.c_ulong), ('f_files', ctypes.c_ulong),
                ('f_ffree', ctypes.c_ulong), ('f_fsid', ctypes.c_int * 2),
                ('f_namelen', ctypes.c_long), ('f_frsize', ctypes.c_long),
                ('f_flags', ctypes.c_long), ('f_spare', ctypes.c_long * 4)]


def statfs_summary(buf, fields):
    """The fields of a statfs answer that must be alike on both sides (the
    orchestrator names them: free counts change, some depend on the backend)."""
    return {f: getattr(buf, 'f_' + f) for f in fields}


F_OFD_GETLK, F_OFD_SETLK = 36, 37
DT = {0: '?', 1: 'p', 2: 'c', 4: 'd', 6: 'b', 8: 'f', 10: 'l', 12: 's'}


def pad_to(head, rel, n):
    """head + rel made exactly n bytes long with './' (and './/' for an odd
    count) put before rel; as is when it cannot be (already longer)."""
    short = n - len(head) - len(rel)
    if short < 2:
        return head + rel
    odd = './/' if short % 2 else ''
    return head + odd + './' * ((short - len(odd)) // 2) + rel


def c_check(r):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def identity():
    caps = '?'
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('CapEff:'):
                caps = line.split()[1]
    return {'uid': list(os.getresuid()), 'gid': list(os.getresgid()),
            'groups': sorted(os.getgroups()), 'capeff': caps}


def st_summary(st):
    d = {'type': ftype(st.st_mode), 'mode': '%04o' % stat.S_IMODE(st.st_mode),
         'uid': st.st_uid, 'gid': st.st_gid, 'nlink': st.st_nlink}
    if not stat.S_ISDIR(st.st_mode):
        d['size'] = st.st_size
    return d


def ftype(m):
    for t, c in ((stat.S_ISREG, 'f'), (stat.S_ISDIR, 'd'), (stat.S_ISLNK, 'l'),
                 (stat.S_ISFIFO, 'p'), (stat.S_ISCHR, 'c'), (stat.S_ISBLK, 'b'),
                 (stat.S_ISSOCK, 's')):
        if t(m):
            return c
    return '?'


def times_arg(kind, a, m):
    """utimensat's times for a kind: None (NULL) or a timespec[2]."""
    if kind == 'null':
        return None
    pick = {'now': (UTIME_NOW, UTIME_NOW), 'omit': (UTIME_OMIT, UTIME_OMIT),
            'explicit': (a, m), 'now_explicit': (UTIME_NOW, m),
            'omit_explicit': (UTIME_OMIT, m), 'bad_nsec': (a, None)}[kind]
    ts = (Timespec * 2)()
    for i, v in enumerate(pick):
        if v in (UTIME_NOW, UTIME_OMIT):
            ts[i].tv_sec, ts[i].tv_nsec = 0, v
        elif v is None:
            ts[i].tv_sec, ts[i].tv_nsec = 1, 2_000_000_000  # out of range: EINVAL
        else:
            ts[i].tv_sec, ts[i].tv_nsec = v // 10**9, v % 10**9
    return ts


class Agent:
    def __init__(self, base):
        self.base = base
        self.slots = {}
        self.socks = {}
        # the tree the working directory is in (set by chdir/fchdir into it):
        # paths relative to the working directory are used only inside it
        self.cwd_seg = None

    def path(self, rel):
        return os.path.join(self.base, rel) if rel else self.base

    def P(self, q, key='p'):
        """The path of q[key] as this side passes it: under BASE, or relative to the
        working directory (q['cwd']); padded with './' to exactly q['pad'] bytes
        (q['pad2'] for p2), which differs per side as BASE does."""
        rel = q[key]
        if q.get('cwd'):
            if self.cwd_seg is None or self.cwd_seg != q.get('seg'):
                raise OSError(errno.ESRCH, 'the working directory is not in this tree')
            full, head = rel, ''
        else:
            full, head = self.path(rel), self.base + '/'
        pad = q.get('pad' if key == 'p' else 'pad2')
        if pad:
            full = pad_to(head, full[len(head):], pad)
        return full

    def cwd_check(self, q):
        """After a chdir: outside the tree (an absolute symlink to the host), go to /
        and use no relative path until the next chdir into the tree."""
        top = os.path.join(self.base, q['seg'])
        cwd = os.getcwd()
        if cwd == top or cwd.startswith(top + '/'):
            self.cwd_seg = q['seg']
            return {'cwd': cwd[len(top):] or '/'}
        os.chdir('/')
        self.cwd_seg = None
        return {'cwd': 'outside'}

    def run(self, q):
        op = q['op']
        return getattr(self, 'op_' + op)(q)

    # -- the operations; each returns a dict, OSError becomes {'e': NAME}
    def op_umask(self, q):
        return {'old': '%04o' % os.umask(q['mask'])}

    def op_open(self, q):
        fd = os.open(self.P(q), flags_of(q['flags']), q.get('mode', 0o644))
        os.close(fd)
        return {}

    def op_write(self, q):
        fd = os.open(self.P(q), flags_of(q['flags']), q.get('mode', 0o644))
        try:
            try:
                return {'n': os.write(fd, q['data'].encode())}
            except OSError as e:
                return {'write_e': errno.errorcode.get(e.errno, str(e.errno))}
        finally:
            os.close(fd)

    def op_read(self, q):
        fd = os.open(self.P(q), flags_of(q['flags']))
        try:
            try:
                data = os.read(fd, 1 << 16)
            except OSError as e:
                return {'read_e': errno.errorcode.get(e.errno, str(e.errno))}
            return {'len': len(data), 'sha': hashlib.sha1(data).hexdigest()[:12]}
        finally:
            os.close(fd)

    def op_keep(self, q):
        old = self.slots.pop(q['slot'], None)
        if old is not None:
            os.close(old)
        self.slots[q['slot']] = os.open(self.P(q), flags_of(q['flags']),
                                        q.get('mode', 0o644))
        return {}

    def op_fop(self, q):
        fd = self.slots.get(q['slot'])
        if fd is None:
            return {'e': 'NOSLOT'}
        sub = q['sub']
        f = getattr(self, 'fop_' + sub, None)
        if f:
            return f(fd, q)
        if sub == 'write':
            return {'n': os.write(fd, q['data'].encode())}
        if sub == 'read':
            os.lseek(fd, 0, os.SEEK_SET)
            return {'len': len(os.read(fd, 1 << 16))}
        if sub == 'trunc':
            os.ftruncate(fd, q['len'])
        elif sub == 'chmod':
            os.fchmod(fd, q['mode'])
        elif sub == 'chown':
            os.fchown(fd, q['uid'], q['gid'])
        elif sub == 'stat':
            return st_summary(os.fstat(fd))
        elif sub == 'setx':
            os.setxattr(fd, q['name'], bytes.fromhex(q['value']), q['flags'])
        elif sub == 'getx':
            return {'v': os.getxattr(fd, q['name']).hex()}
        elif sub == 'utime':
            c_check(libc.futimens(fd, times_arg(q['kind'], q['a'], q['m'])))
        elif sub == 'close':
            del self.slots[q['slot']]
            os.close(fd)
        return {}

    def op_closeall(self, q):
        for fd in self.slots.values():
            os.close(fd)
        self.slots.clear()
        for s in self.socks.values():
            s.close()
        self.socks.clear()
        os.chdir('/')
        self.cwd_seg = None
        return {}

    def op_stat(self, q):
        return st_summary(os.stat(self.P(q), follow_symlinks=not q['nofollow']))

    def op_mtime(self, q):
        # what this side's own client says, for a walk through a third one that differs
        return {'ns': os.lstat(self.P(q)).st_mtime_ns}

    def op_access(self, q):
        flags = (AT_EACCESS if q['eff'] else 0) | (AT_SYMLINK_NOFOLLOW if q['nofollow'] else 0)
        c_check(libc.faccessat(AT_FDCWD, self.P(q).encode(), q['mode'], flags))
        return {}

    def op_mkdir(self, q):
        os.mkdir(self.P(q), q['mode'])
        return {}

    def op_mknod(self, q):
        os.mknod(self.P(q), q['mode'], os.makedev(*q['dev']))
        return {}

    def op_unlink(self, q):
        os.unlink(self.P(q))
        return {}

    def op_rmdir(self, q):
        os.rmdir(self.P(q))
        return {}

    def op_rename(self, q):
        if q['flags'] == 0:
            os.rename(self.P(q), self.P(q, 'p2'))
        else:
            c_check(libc.renameat2(AT_FDCWD, self.P(q).encode(), AT_FDCWD,
                                   self.P(q, 'p2').encode(), q['flags']))
        return {}

    def op_link(self, q):
        os.link(self.P(q), self.P(q, 'p2'), follow_symlinks=q['follow'])
        return {}

    def op_symlink(self, q):
        os.symlink(q['target'], self.P(q))
        return {}

    def op_readlink(self, q):
        return {'t': os.readlink(self.P(q))}

    def op_chmod(self, q):
        os.chmod(self.P(q), q['mode'])
        return {}

    def op_chown(self, q):
        os.chown(self.P(q), q['uid'], q['gid'], follow_symlinks=not q['nofollow'])
        return {}

    def op_truncate(self, q):
        os.truncate(self.P(q), q['len'])
        return {}

    def op_utime(self, q):
        c_check(libc.utimensat(AT_FDCWD, self.P(q).encode(),
                               times_arg(q['kind'], q['a'], q['m']),
                               AT_SYMLINK_NOFOLLOW if q['nofollow'] else 0))
        return {}

    def op_setx(self, q):
        os.setxattr(self.P(q), q['name'], bytes.fromhex(q['value']), q['flags'],
                    follow_symlinks=not q['nofollow'])
        return {}

    def op_getx(self, q):
        return {'v': os.getxattr(self.P(q), q['name'],
                                 follow_symlinks=not q['nofollow']).hex()}

    def op_listx(self, q):
        return {'names': sorted(os.listxattr(self.P(q),
                                             follow_symlinks=not q['nofollow']))}

    def op_removex(self, q):
        os.removexattr(self.P(q), q['name'], follow_symlinks=not q['nofollow'])
        return {}

    def op_listdir(self, q):
        return {'names': sorted(os.listdir(self.P(q)))}

    # -- issue 14's conformance calls
    def op_chdir(self, q):
        os.chdir(self.P(q))
        return self.cwd_check(q)

    def op_mkfifo(self, q):
        os.mkfifo(self.P(q), q['mode'])
        return {}

    def op_readlinkn(self, q):
        """readlink(2) into a buffer of q['n'] bytes: the count and what it holds."""
        buf = ctypes.create_string_buffer(max(q['n'], 1))
        n = c_check(libc.readlink(self.P(q).encode(), buf, q['n']))
        return {'n': n, 't': buf.raw[:n].decode(errors='replace')}

    def op_statfs(self, q):
        buf = Statfs()
        c_check(libc.statfs(self.P(q).encode(), ctypes.byref(buf)))
        return statfs_summary(buf, q['fields'])

    def op_bind(self, q):
        """A Unix stream socket bound at p, kept (listening if q['listen'])."""
        old = self.socks.pop(q['slot'], None)
        if old is not None:
            old.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(self.P(q))
            if q['listen']:
                s.listen(64)
        except OSError:
            s.close()
            raise
        self.socks[q['slot']] = s
        return {}

    def op_connect(self, q):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.setblocking(False)
            s.connect(self.P(q))
        finally:
            s.close()
        return {}

    def op_efault(self, q):
        """A bad pointer (address 1) where the call takes a path or a buffer."""
        bad = ctypes.c_void_p(1)
        call = q['call']
        if call == 'open':
            c_check(libc.open(bad, os.O_RDONLY))
        elif call == 'stat':
            c_check(libc.stat(bad, ctypes.create_string_buffer(256)))
        elif call == 'mkdir':
            c_check(libc.mkdir(bad, 0o755))
        elif call == 'rename':
            c_check(libc.rename(self.P(q).encode(), bad))
        elif call == 'readlink':
            c_check(libc.readlink(self.P(q).encode(), bad, 64))
        elif call == 'getx':
            c_check(libc.getxattr(self.P(q).encode(), b'user.a', bad, 64))
        elif call == 'statfs':
            c_check(libc.statfs(self.P(q).encode(), bad))
        elif call in ('read', 'write'):
            fd = os.open(self.P(q), os.O_RDWR if call == 'write' else os.O_RDONLY)
            try:
                f = libc.read if call == 'read' else libc.write
                try:
                    c_check(f(fd, bad, 16))
                    r = {}
                except OSError as e:
                    r = {'e2': errno.errorcode.get(e.errno, str(e.errno))}
                # nothing moved: the offset is where it was
                r['off'] = os.lseek(fd, 0, os.SEEK_CUR)
                return r
            finally:
                os.close(fd)
        else:
            raise ValueError(call)
        return {}

    # fd operations of the conformance calls: fop_SUB(fd, q)
    def fop_lseek(self, fd, q):
        return {'off': os.lseek(fd, q['off'], q['whence'])}

    def fop_fallocate(self, fd, q):
        c_check(libc.fallocate(fd, q['mode'], q['off'], q['len']))
        return {}

    def fop_pfallocate(self, fd, q):
        os.posix_fallocate(fd, q['off'], q['len'])
        return {}

    def fop_fsync(self, fd, q):
        (os.fdatasync if q.get('data') else os.fsync)(fd)
        return {}

    def fop_getdents(self, fd, q):
        """getdents64 from the current offset to the end: names and d_type."""
        buf = ctypes.create_string_buffer(q.get('size', 4096))
        out = []
        while True:
            n = c_check(libc.getdents64(fd, buf, len(buf)))
            if n == 0:
                break
            off = 0
            while off < n:
                reclen, dtype = struct.unpack_from('<HB', buf.raw, off + 16)
                name = buf.raw[off + 19:off + reclen].split(b'\0', 1)[0].decode(
                    errors='replace')
                out.append('%s:%s' % (name, DT.get(dtype, dtype)))
                off += reclen
        return {'ents': sorted(out)}

    def fop_dup(self, fd, q):
        """dup (or fcntl F_DUPFD_CLOEXEC): the copy's status and descriptor flags."""
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 0) if q.get('cloexec') else os.dup(fd)
        try:
            return {'fl': fcntl.fcntl(new, fcntl.F_GETFL), 'fd': fcntl.fcntl(new, fcntl.F_GETFD),
                    'pos': os.lseek(new, 0, os.SEEK_CUR) if q.get('pos') else None}
        finally:
            os.close(new)

    def fop_getfl(self, fd, q):
        return {'fl': fcntl.fcntl(fd, fcntl.F_GETFL)}

    def fop_setfl(self, fd, q):
        fcntl.fcntl(fd, fcntl.F_SETFL, flags_of(q['flags']) & ~os.O_NONBLOCK |
                    (os.O_NONBLOCK if q.get('nonblock') else 0))
        return {'fl': fcntl.fcntl(fd, fcntl.F_GETFL)}

    def fop_flock(self, fd, q):
        fcntl.flock(fd, q['how'] | fcntl.LOCK_NB)
        return {}

    def fop_lk(self, fd, q):
        """fcntl record locks (POSIX or OFD): the answer, and for F_GETLK what
        conflicts (not its pid, which differs per side)."""
        cmd = {'setlk': fcntl.F_SETLK, 'getlk': fcntl.F_GETLK, 'ofd_setlk': F_OFD_SETLK,
               'ofd_getlk': F_OFD_GETLK}[q['cmd']]
        lt = {'rd': fcntl.F_RDLCK, 'wr': fcntl.F_WRLCK, 'un': fcntl.F_UNLCK}[q['type']]
        arg = struct.pack('hhxxxxqqixxxx', lt, os.SEEK_SET, q['start'], q['len'], 0)
        got = fcntl.fcntl(fd, cmd, arg)
        if cmd in (fcntl.F_GETLK, F_OFD_GETLK):
            t, w, start, ln, _ = struct.unpack('hhxxxxqqixxxx', got)
            return {'type': t, 'whence': w, 'start': start, 'len': ln}
        return {}

    def fop_openat(self, fd, q):
        new = os.open(q['rel'], flags_of(q['flags']), q.get('mode', 0o644), dir_fd=fd)
        try:
            return st_summary(os.fstat(new)) if q.get('stat') else {}
        finally:
            os.close(new)

    def fop_fchdir(self, fd, q):
        os.fchdir(fd)
        return self.cwd_check(q)

    def fop_fstatfs(self, fd, q):
        buf = Statfs()
        c_check(libc.fstatfs(fd, ctypes.byref(buf)))
        return statfs_summary(buf, q['fields'])

    def op_become(self, q):
        """The uid drop, mid-run, after this process has used the filesystem as root."""
        kind = q['kind']
        if kind == 'setresuid':
            os.setgroups(q['groups'])
            os.setresgid(q['gid'], q['gid'], q['gid'])
            os.setresuid(q['uid'], q['uid'], q['uid'])
        elif kind == 'seteuid':
            os.setgroups(q['groups'])
            os.setegid(q['gid'])
            os.seteuid(q['uid'])
        elif kind == 'exec':
            os.setgroups([])
            os.setresgid(q['gid'], q['gid'], q['gid'])
            os.setresuid(q['uid'], q['uid'], q['uid'])
            self.op_closeall(q)
            sys.stdout.flush()
            # The new image answers this request with its identity (--after-exec).
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), '--agent',
                                      self.base, '--after-exec'])
        elif kind == 'capset':
            hdr = CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
            data = (CapData * 2)()
            c_check(libc.capget(ctypes.byref(hdr), data))
            for bit in q['drop']:
                for field in ('effective', 'permitted', 'inheritable'):
                    w = data[bit // 32]
                    setattr(w, field, getattr(w, field) & ~(1 << (bit % 32)) & 0xffffffff)
            c_check(libc.capset(ctypes.byref(hdr), data))
        else:
            raise ValueError(kind)
        return {'id': identity()}


def flags_of(names):
    # Always O_NONBLOCK: a FIFO then answers at once (ENXIO for a writer with no
    # reader) instead of holding the agent; on every other file it changes nothing
    # that is checked here.
    f = os.O_NONBLOCK
    for n in names:
        f |= OPEN_FLAGS[n]
    return f


def agent_main(base, after_exec):
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    a = Agent(base)
    out.write((json.dumps({'id': identity()} if after_exec else {'ready': identity()}) +
               '\n').encode())
    out.flush()
    while True:
        line = inp.readline()
        if not line:
            return 0
        q = json.loads(line)
        try:
            r = a.run(q)
        except OSError as e:
            r = {'e': errno.errorcode.get(e.errno, str(e.errno))}
        out.write((json.dumps(r, sort_keys=True) + '\n').encode())
        out.flush()


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != '--agent':
        sys.exit('usage: pdiff_agent.py --agent BASE [--after-exec]')
    return agent_main(args[1], '--after-exec' in args[2:])


if __name__ == '__main__':
    sys.exit(main())
