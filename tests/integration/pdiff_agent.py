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
import hashlib
import json
import os
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
    'PATH': os.O_PATH,
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
libc.capget.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


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

    def path(self, rel):
        return os.path.join(self.base, rel) if rel else self.base

    def run(self, q):
        op = q['op']
        return getattr(self, 'op_' + op)(q)

    # -- the operations; each returns a dict, OSError becomes {'e': NAME}
    def op_umask(self, q):
        return {'old': '%04o' % os.umask(q['mask'])}

    def op_open(self, q):
        fd = os.open(self.path(q['p']), flags_of(q['flags']), q.get('mode', 0o644))
        os.close(fd)
        return {}

    def op_write(self, q):
        fd = os.open(self.path(q['p']), flags_of(q['flags']), q.get('mode', 0o644))
        try:
            try:
                return {'n': os.write(fd, q['data'].encode())}
            except OSError as e:
                return {'write_e': errno.errorcode.get(e.errno, str(e.errno))}
        finally:
            os.close(fd)

    def op_read(self, q):
        fd = os.open(self.path(q['p']), flags_of(q['flags']))
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
        self.slots[q['slot']] = os.open(self.path(q['p']), flags_of(q['flags']),
                                        q.get('mode', 0o644))
        return {}

    def op_fop(self, q):
        fd = self.slots.get(q['slot'])
        if fd is None:
            return {'e': 'NOSLOT'}
        sub = q['sub']
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
        return {}

    def op_stat(self, q):
        return st_summary(os.stat(self.path(q['p']), follow_symlinks=not q['nofollow']))

    def op_access(self, q):
        flags = (AT_EACCESS if q['eff'] else 0) | (AT_SYMLINK_NOFOLLOW if q['nofollow'] else 0)
        c_check(libc.faccessat(AT_FDCWD, self.path(q['p']).encode(), q['mode'], flags))
        return {}

    def op_mkdir(self, q):
        os.mkdir(self.path(q['p']), q['mode'])
        return {}

    def op_mknod(self, q):
        os.mknod(self.path(q['p']), q['mode'], os.makedev(*q['dev']))
        return {}

    def op_unlink(self, q):
        os.unlink(self.path(q['p']))
        return {}

    def op_rmdir(self, q):
        os.rmdir(self.path(q['p']))
        return {}

    def op_rename(self, q):
        if q['flags'] == 0:
            os.rename(self.path(q['p']), self.path(q['p2']))
        else:
            c_check(libc.renameat2(AT_FDCWD, self.path(q['p']).encode(), AT_FDCWD,
                                   self.path(q['p2']).encode(), q['flags']))
        return {}

    def op_link(self, q):
        os.link(self.path(q['p']), self.path(q['p2']), follow_symlinks=q['follow'])
        return {}

    def op_symlink(self, q):
        os.symlink(q['target'], self.path(q['p']))
        return {}

    def op_readlink(self, q):
        return {'t': os.readlink(self.path(q['p']))}

    def op_chmod(self, q):
        os.chmod(self.path(q['p']), q['mode'])
        return {}

    def op_chown(self, q):
        os.chown(self.path(q['p']), q['uid'], q['gid'], follow_symlinks=not q['nofollow'])
        return {}

    def op_truncate(self, q):
        os.truncate(self.path(q['p']), q['len'])
        return {}

    def op_utime(self, q):
        c_check(libc.utimensat(AT_FDCWD, self.path(q['p']).encode(),
                               times_arg(q['kind'], q['a'], q['m']),
                               AT_SYMLINK_NOFOLLOW if q['nofollow'] else 0))
        return {}

    def op_setx(self, q):
        os.setxattr(self.path(q['p']), q['name'], bytes.fromhex(q['value']), q['flags'],
                    follow_symlinks=not q['nofollow'])
        return {}

    def op_getx(self, q):
        return {'v': os.getxattr(self.path(q['p']), q['name'],
                                 follow_symlinks=not q['nofollow']).hex()}

    def op_listx(self, q):
        return {'names': sorted(os.listxattr(self.path(q['p']),
                                             follow_symlinks=not q['nofollow']))}

    def op_removex(self, q):
        os.removexattr(self.path(q['p']), q['name'], follow_symlinks=not q['nofollow'])
        return {}

    def op_listdir(self, q):
        return {'names': sorted(os.listdir(self.path(q['p'])))}

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
