#!/usr/bin/env python3
# Differential Permission Checker: the kernel is the oracle (security issue 13)
#
# A seeded generator of filesystem operations, each run by the same identity
# twice: once on a kernel directory (the oracle) and once through a pool on an
# identical copy of it. Every answer (result or errno, and what stat-like calls
# return) and the whole tree afterwards (type, mode, owner, size, links, xattrs,
# times where they carry information) must match; a request must never succeed
# where the kernel refuses the same caller.
#
# One long-lived agent per (identity, side) reads operations as JSON lines on
# stdin and performs them with os.* and libc calls (through ctypes, so that
# they reach the preload library on the pool side, which runs under
# danaus-run). The orchestrator (this file without --agent, as root) builds the
# trees directly on both backing directories, walks them after each operation
# (on Ceph: after each that may have changed them) and compares. After a
# difference it makes the pool's side the kernel's again, so that each
# mismatch is reported once and the tree goes on.
#
# Driven by perm-diff.sh (local backend) and ceph-perm-diff.sh (ceph-fuse is the
# oracle there); see --help for the options a reproducer line uses.
import argparse
import concurrent.futures
import ctypes
import errno
import grp
import hashlib
import json
import os
import pwd
import random
import re
import select
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time

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


# ---------------------------------------------------------------------------
# orchestrator

class Ids:
    """The test's users and groups, by number."""

    def __init__(self, alice, bob, share, other):
        self.A = pwd.getpwnam(alice).pw_uid
        self.Ag = pwd.getpwnam(alice).pw_gid
        self.B = pwd.getpwnam(bob).pw_uid
        self.Bg = pwd.getpwnam(bob).pw_gid
        self.S = grp.getgrnam(share).gr_gid
        self.O = grp.getgrnam(other).gr_gid
        self.N = pwd.getpwnam('nobody').pw_uid
        self.Ng = pwd.getpwnam('nobody').pw_gid
        self.alice, self.bob = alice, bob
        self.Agroups = sorted(set(os.getgrouplist(alice, self.Ag)))
        self.name = {0: 'root', self.A: alice, self.B: bob, self.N: 'nobody'}
        self.gname = {0: 'root', self.Ag: alice, self.Bg: bob, self.S: share, self.O: other,
                      self.Ng: 'nogroup'}


def identities(ids):
    """(name, setpriv prefix, umask, drop op or None); order is the report's."""
    def caps(d):
        return ','.join('-' + c for c in sorted(d))
    user = lambda u: ['setpriv', '--reuid', u, '--regid', u, '--init-groups', '--']
    return [
        ('root', [], 0o022, None),
        ('root-nocaps', ['setpriv', '--inh-caps=-all', '--bounding-set=' + caps(FS_CAPS), '--'],
         0o022, None),
        ('root-nodac', ['setpriv', '--inh-caps=-all', '--bounding-set=' + caps(DAC_CAPS), '--'],
         0o022, None),
        ('alice', user(ids.alice), 0o002, None),
        ('bob', user(ids.bob), 0o077, None),
        ('nobody', ['setpriv', '--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups',
                    '--'], 0o000, None),
        ('drop-setresuid', [], 0o022,
         {'op': 'become', 'kind': 'setresuid', 'uid': ids.A, 'gid': ids.Ag,
          'groups': ids.Agroups}),
        ('drop-seteuid', [], 0o022,
         {'op': 'become', 'kind': 'seteuid', 'uid': ids.A, 'gid': ids.Ag,
          'groups': ids.Agroups}),
        ('drop-exec', [], 0o022,
         {'op': 'become', 'kind': 'exec', 'uid': ids.A, 'gid': ids.Ag, 'groups': []}),
        ('drop-capset', [], 0o022,
         {'op': 'become', 'kind': 'capset', 'drop': sorted(FS_CAPS.values())}),
    ]


AGENT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'


class AgentProc:
    def __init__(self, name, side, cmd, logpath, timeout):
        self.name, self.side, self.timeout = name, side, timeout
        self.log = open(logpath, 'wb')
        env = {'PATH': AGENT_PATH, 'LANG': 'C.UTF-8',
               'PYTHONDONTWRITEBYTECODE': '1'}
        for k in ('DANAUS_SPIN_US',):
            if k in os.environ:
                env[k] = os.environ[k]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log, cwd='/', env=env)
        self.buf = b''
        self.logpath = logpath
        self.last = None

    def readline(self):
        end = time.monotonic() + self.timeout
        fd = self.p.stdout.fileno()
        while b'\n' not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AgentError('%s/%s: no answer in %ds to %s' % (
                    self.name, self.side, self.timeout, json.dumps(self.last)), self)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AgentError('%s/%s: exited (%s) at %s' % (
                    self.name, self.side, self.p.poll(), json.dumps(self.last)), self)
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line)

    def ask(self, q):
        self.last = q
        self.p.stdin.write((json.dumps(q) + '\n').encode())
        self.p.stdin.flush()
        return self.readline()

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()


class WalkHung(Exception):
    pass


class AgentError(Exception):
    def __init__(self, msg, agent):
        super().__init__(msg)
        self.agent = agent


# -- the initial tree of every segment ----------------------------------------

def tree_spec(ids):
    """(path, type, mode, uid, gid, extra): built in order, as root, on both sides.

    No symlink climbs out of the tree: above it the two sides differ by design
    (the kernel's directory has a parent, the pool's root has none), and
    access.sh checks the confinement itself.
    """
    A, Ag, B, Bg, S = ids.A, ids.Ag, ids.B, ids.Bg, ids.S
    return [
        ('', 'd', 0o755, 0, 0, {}),
        ('pub', 'd', 0o777, 0, 0, {}),
        ('pub/f', 'f', 0o666, 0, 0, {'data': 'pub file\n', 'x': {'user.a': b'1'}}),
        ('pub/af', 'f', 0o644, A, Ag, {'data': 'alice in pub\n'}),
        ('pub/hl', 'h', 0, 0, 0, {'to': 'pub/f'}),
        ('pub/ao', 'f', 0o644, A, ids.O, {'data': 'alice, a group she is not in\n'}),
        ('pub/bo', 'f', 0o644, B, ids.O, {'data': 'bob, a group he is not in\n'}),
        ('tmp', 'd', 0o1777, 0, 0, {}),
        ('tmp/af', 'f', 0o644, A, Ag, {'data': 'a\n'}),
        ('tmp/bf', 'f', 0o666, B, Bg, {'data': 'b\n'}),
        ('tmp/rf', 'f', 0o666, 0, 0, {'data': 'r\n'}),
        ('tmp/ad', 'd', 0o777, A, Ag, {}),
        ('tmp/alnk', 'l', 0, A, Ag, {'to': 'af'}),
        ('tmp/afifo', 'p', 0o666, A, Ag, {}),
        ('shared', 'd', 0o2775, 0, S, {}),
        ('shared/af', 'f', 0o664, A, S, {'data': 'shared\n'}),
        ('shared/bx', 'f', 0o2775, B, S, {'data': '#!/bin/sh\n'}),
        ('adir', 'd', 0o755, A, Ag, {'x': {'user.d': b'dir'}}),
        ('adir/f', 'f', 0o644, A, Ag, {'data': 'alice\n', 'x': {'user.a': b'alice',
                                                                 'trusted.t': b'T'}}),
        ('adir/suid', 'f', 0o4777, A, Ag, {'data': 'suid\n'}),
        ('adir/sgid', 'f', 0o2777, A, S, {'data': 'sgid\n'}),
        ('adir/sgidnx', 'f', 0o2666, A, S, {'data': 'sgid, no group x\n'}),
        ('adir/priv', 'f', 0o600, A, Ag, {'data': 'private\n'}),
        ('adir/cap', 'f', 0o777, A, Ag, {'data': 'cap\n', 'cap': True}),
        ('adir/sub', 'd', 0o700, A, Ag, {}),
        ('adir/sub/f', 'f', 0o644, A, Ag, {'data': 'deep\n'}),
        ('adir/lnk', 'l', 0, A, Ag, {'to': 'f'}),
        ('adir/fifo', 'p', 0o666, A, Ag, {}),
        ('bdir', 'd', 0o750, B, S, {}),
        ('bdir/f', 'f', 0o640, B, S, {'data': 'bob\n'}),
        ('bdir/g', 'f', 0o604, B, Bg, {'data': 'bob other\n'}),
        ('rdir', 'd', 0o700, 0, 0, {}),
        ('rdir/secret', 'f', 0o600, 0, 0, {'data': 'secret\n',
                                            'x': {'trusted.t': b'root', 'security.s': b'S'}}),
        ('ro', 'd', 0o555, 0, 0, {}),
        ('ro/f', 'f', 0o444, 0, 0, {'data': 'ro\n'}),
        ('ro/w', 'f', 0o666, 0, 0, {'data': 'ro dir, rw file\n'}),
        ('acl', 'f', 0o660, 0, 0, {'data': 'acl\n', 'acl': [
            (ACL_USER_OBJ, 6, NOID), (ACL_USER, 6, B), (ACL_GROUP_OBJ, 4, NOID),
            (ACL_MASK, 6, NOID), (ACL_OTHER, 0, NOID)]}),
        ('dacl', 'd', 0o777, 0, 0, {'dacl': [
            (ACL_USER_OBJ, 7, NOID), (ACL_USER, 7, A), (ACL_GROUP_OBJ, 5, NOID),
            (ACL_MASK, 7, NOID), (ACL_OTHER, 5, NOID)]}),
        ('dev', 'c', 0o666, 0, 0, {'dev': (1, 3)}),
        ('lnk', 'l', 0, 0, 0, {'to': 'adir/f'}),
        ('dlnk', 'l', 0, 0, 0, {'to': 'adir/sub'}),
    ]


def build_tree(base, ids, features):
    """Creates the segment's tree at base (which must not exist), as root."""
    spec = tree_spec(ids)
    for path, t, mode, uid, gid, x in spec:
        p = os.path.join(base, path) if path else base
        if t == 'd':
            os.mkdir(p, 0o700)
        elif t == 'f':
            with open(p, 'w') as f:
                f.write(x.get('data', ''))
        elif t == 'h':
            os.link(os.path.join(base, x['to']), p)
            continue
        elif t == 'l':
            os.symlink(x['to'], p)
        elif t == 'p':
            os.mkfifo(p, 0o600)
        elif t == 'c':
            os.mknod(p, 0o600 | stat.S_IFCHR, os.makedev(*x['dev']))
        for name, v in x.get('x', {}).items():
            os.setxattr(p, name, v, follow_symlinks=False)
        os.chown(p, uid, gid, follow_symlinks=False)
        if t != 'l':
            os.chmod(p, mode)
        # after chown, which clears it
        if x.get('cap') and features.get('cap'):
            os.setxattr(p, 'security.capability', CAP_V2)
        if x.get('acl') and features.get('acl'):
            os.setxattr(p, 'system.posix_acl_access', acl_blob(x['acl']))
        if x.get('dacl') and features.get('acl'):
            os.setxattr(p, 'system.posix_acl_default', acl_blob(x['dacl']))
    for path, t, *_ in sorted(spec, key=lambda e: -e[0].count('/') - (1 if e[0] else 0)):
        if t == 'h':
            continue
        p = os.path.join(base, path) if path else base
        os.utime(p, ns=(TREE_TIME, TREE_TIME), follow_symlinks=False)


def probe_features(d):
    """What the backing filesystem stores: security.capability, POSIX ACLs."""
    f = os.path.join(d, '.probe')
    with open(f, 'w'):
        pass
    feats = {}
    for key, name, val in (('cap', 'security.capability', CAP_V2),
                           ('acl', 'system.posix_acl_access', acl_blob([
                               (ACL_USER_OBJ, 6, NOID), (ACL_USER, 4, 0),
                               (ACL_GROUP_OBJ, 4, NOID), (ACL_MASK, 4, NOID),
                               (ACL_OTHER, 0, NOID)])),
                           ('trusted', 'trusted.probe', b'1'),
                           ('security', 'security.probe', b'1')):
        try:
            os.setxattr(f, name, val)
            feats[key] = True
        except OSError:
            feats[key] = False
    os.unlink(f)
    return feats


# -- snapshots ------------------------------------------------------------------

def tclass(ns, t0):
    if ns < EXPLICIT_BEFORE or ns > EXPLICIT_AFTER:
        return 'T%d' % ns
    if ns >= t0:
        return 'now'
    return 'old:%d' % ns  # neither: should not happen, and would show up as a mismatch


def snapshot(root, t0, atime):
    """Everything of the tree at root that the kernel decides, keyed by relative path.

    Not compared, on purpose: inode numbers and st_dev (two filesystems or
    two directories); ctime (cannot be set, so it only says "changed during
    the run" for every entry); directory sizes (block-granular on ext4,
    entry counts on CephFS: they tell how a directory was used, not what
    the caller may do); directory atimes (our own walk reads them). Link
    structure is compared as "which paths name the same inode".
    """
    entries = {}
    level = ['']
    while level:
        # one level at a time, its entries at once: on Ceph each call is a
        # FUSE round trip, and waiting for them in turn is what a walk costs
        found = list((WALKERS.map if WALKERS else map)(
            lambda rel: walk_entry(root, rel, t0, atime), level))
        level = []
        for rel, e, key, children in found:
            entries[rel] = (e, key)
            level += [os.path.join(rel, n) if rel else n for n in children]
    out, inodes = {}, {}
    # the order of a walk with sorted names: the first name of a hard-linked
    # inode is the one the others are "same_as"
    for rel in sorted(entries, key=lambda r: r.split('/') if r else []):
        e, key = entries[rel]
        if e['nlink'] > 1 and e['type'] != 'd':
            if key in inodes:
                e['same_as'] = inodes[key]
            else:
                inodes[key] = rel
        out[rel] = e
    return out


# set for Ceph; on a local filesystem threads only add their own overhead
WALKERS = None


def walk_entry(root, rel, t0, atime):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    e = {'type': ftype(st.st_mode), 'mode': '%04o' % stat.S_IMODE(st.st_mode),
         'uid': st.st_uid, 'gid': st.st_gid, 'nlink': st.st_nlink,
         'mtime': tclass(st.st_mtime_ns, t0)}
    if not stat.S_ISDIR(st.st_mode):
        e['size'] = st.st_size
        if atime and stat.S_ISREG(st.st_mode):
            e['atime'] = tclass(st.st_atime_ns, t0)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        e['rdev'] = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if stat.S_ISLNK(st.st_mode):
        e['target'] = os.readlink(p)
    xs = {}
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError as ex:
        names = []
        xs['!list'] = errno.errorcode.get(ex.errno, str(ex.errno))
    for n in sorted(names):
        try:
            xs[n] = os.getxattr(p, n, follow_symlinks=False).hex()[:80]
        except OSError as ex:
            xs[n] = '!' + errno.errorcode.get(ex.errno, str(ex.errno))
    e['xattr'] = xs
    children = sorted(os.listdir(p)) if stat.S_ISDIR(st.st_mode) else []
    return rel, e, (st.st_dev, st.st_ino), children


def tree_diff(k, p):
    """Lines naming each difference: 'path: field kernel=... pool=...'."""
    lines, fields = [], set()
    for path in sorted(set(k) | set(p)):
        if path not in p:
            lines.append('%s: only on the kernel side (%s)' % (path or '.', k[path]['type']))
            fields.add('exists')
            continue
        if path not in k:
            lines.append('%s: only through the pool (%s)' % (path or '.', p[path]['type']))
            fields.add('exists')
            continue
        for f in sorted(set(k[path]) | set(p[path])):
            a, b = k[path].get(f), p[path].get(f)
            if a != b:
                if f == 'xattr':
                    for n in sorted(set(a or {}) | set(b or {})):
                        if (a or {}).get(n) != (b or {}).get(n):
                            lines.append('%s: xattr %s kernel=%s pool=%s' % (
                                path or '.', n, (a or {}).get(n, '-'), (b or {}).get(n, '-')))
                            fields.add('xattr ' + xattr_ns(n))
                else:
                    lines.append('%s: %s kernel=%s pool=%s' % (path or '.', f, a, b))
                    fields.add(f)
    return lines, fields


def xattr_ns(name):
    if name in ('security.capability', 'system.posix_acl_access', 'system.posix_acl_default'):
        return name
    return name.split('.', 1)[0] + '.*' if '.' in name else name


def repair(pool_root, kern_root, kern, pool, t0, atime):
    """Makes the pool's tree what the kernel's is, directly on its backing directory,
    so that the next operations start alike (a mismatch is reported once, not again
    by everything that touches it after). Entries of another type, target or link
    structure, or whose attributes cannot be set, are made anew.

    True when the trees then agree; else the tree's remaining operations are skipped.
    """
    def fs(root, path):
        return os.path.join(root, path) if path else root

    def remove(path):
        f = fs(pool_root, path)
        if os.path.isdir(f) and not os.path.islink(f):
            shutil.rmtree(f)
        else:
            os.unlink(f)

    def same_kind(k, p):
        return all(k.get(x) == p.get(x) for x in ('type', 'target', 'same_as', 'rdev'))

    try:
        # 1. what the pool has and the kernel has not, or has of another kind
        for path in reversed(list(pool)):
            if path and (path not in kern or not same_kind(kern[path], pool[path])):
                if os.path.lexists(fs(pool_root, path)):
                    remove(path)
        # 2. what the kernel has and the pool now lacks, parents first
        for path, k in kern.items():
            f, kf = fs(pool_root, path), fs(kern_root, path)
            if os.path.lexists(f):
                continue
            t = k['type']
            if 'same_as' in k:
                os.link(fs(pool_root, k['same_as']), f)
            elif t == 'd':
                os.mkdir(f, 0o700)
            elif t == 'f':
                # O_NOATIME: reading the kernel's file must not change what is compared
                src = os.open(kf, os.O_RDONLY | os.O_NOATIME)
                try:
                    with open(f, 'wb') as out:
                        while True:
                            chunk = os.read(src, 1 << 16)
                            if not chunk:
                                break
                            out.write(chunk)
                finally:
                    os.close(src)
            elif t == 'l':
                os.symlink(k['target'], f)
            elif t == 'p':
                os.mkfifo(f, 0o600)
            else:
                os.mknod(f, 0o600 | stat.S_IFMT(os.lstat(kf).st_mode), os.lstat(kf).st_rdev)
        # 3. attributes, children before their directories (whose times they change)
        pool = snapshot(pool_root, t0, atime)
        for path in reversed(list(kern)):
            if kern[path] != pool.get(path):
                try:
                    repair_one(pool_root, kern_root, path, kern[path], pool[path])
                except OSError:
                    # e.g. a user.* xattr the pool put on a FIFO, which the VFS keeps
                    # even root from removing: make it anew (a directory keeps it)
                    if kern[path]['type'] == 'd':
                        raise
                    remove(path)
                    return repair(pool_root, kern_root, kern, snapshot(pool_root, t0, atime),
                                  t0, atime)
    except OSError as e:
        print('    (cannot repair the pool side: %s)' % e)
        return False
    left = tree_diff(kern, snapshot(pool_root, t0, atime))[0]
    for line in left[:5]:
        print('    (cannot repair the pool side: %s)' % line)
    return not left


def repair_one(pool_root, kern_root, path, k, p):
    """One entry: owner, mode, size, xattrs and times as the kernel side has them."""
    f = os.path.join(pool_root, path) if path else pool_root
    kf = os.path.join(kern_root, path) if path else kern_root
    ks = os.lstat(kf)
    if (k['uid'], k['gid']) != (p['uid'], p['gid']):
        os.chown(f, k['uid'], k['gid'], follow_symlinks=False)
    if k['type'] != 'l':
        os.chmod(f, int(k['mode'], 8))
    if 'size' in k and k['size'] != p.get('size') and k['type'] == 'f':
        os.truncate(f, k['size'])
    kx, px = k['xattr'], os.listxattr(f, follow_symlinks=False)
    for n in px:
        if n not in kx:
            os.removexattr(f, n, follow_symlinks=False)
    for n, v in kx.items():
        if not v.startswith('!'):
            os.setxattr(f, n, os.getxattr(kf, n, follow_symlinks=False),
                        follow_symlinks=False)
    if k['type'] != 'l':
        os.chmod(f, int(k['mode'], 8))  # again: chown and xattrs may clear set-id bits
    os.utime(f, ns=(ks.st_atime_ns, ks.st_mtime_ns), follow_symlinks=False)


# -- the generator --------------------------------------------------------------

class Gen:
    DIRS = ['', 'pub', 'tmp', 'tmp/ad', 'shared', 'adir', 'adir/sub', 'bdir', 'rdir', 'ro',
            'dacl', 'nd', 'pub/nd', 'dlnk']
    FRESH = ['n1', 'n2', 'nd']
    ODD = ['adir/f/x', 'adir/f/', 'adir/sub/../f', 'lnk/', 'tmp/alnk', 'adir/lnk',
           'dlnk/f', 'pub//f', 'nope/n1']
    MODES = [0o644, 0o600, 0o755, 0o777, 0o4755, 0o2755, 0o2770, 0o2644, 0o1777, 0o7777,
             0o6777, 0o000, 0o666, 0o4644]
    ACCMODES = [['RDONLY'], ['WRONLY'], ['RDWR']]
    EXTRA = ['CREAT', 'EXCL', 'TRUNC', 'APPEND', 'DIRECTORY', 'NOFOLLOW', 'NOATIME']

    def __init__(self, ids, seed, segment, names, feats):
        self.r = random.Random('%d:%d' % (seed, segment))
        self.ids, self.names, self.feats = ids, names, feats
        self.existing = [p for p, *_ in tree_spec(ids) if p]
        self.slot = 0
        self.slots = {}  # identity -> slots it opened this segment

    def path(self):
        r = self.r.random()
        if r < 0.55:
            return self.r.choice(self.existing)
        if r < 0.9:
            d = self.r.choice(self.DIRS)
            n = self.r.choice(self.FRESH)
            return d + '/' + n if d else n
        return self.r.choice(self.ODD)

    def uid(self):
        i = self.ids
        return self.r.choice([-1, 0, i.A, i.B, i.N, 4242])

    def gid(self):
        i = self.ids
        return self.r.choice([-1, 0, i.Ag, i.Bg, i.S, i.O, i.Ng])

    def flags(self):
        f = list(self.r.choice(self.ACCMODES))
        for x in self.EXTRA:
            if self.r.random() < (0.3 if x == 'CREAT' else 0.12):
                f.append(x)
        if self.r.random() < 0.03:
            f = ['PATH'] + ([x for x in f if x in ('NOFOLLOW', 'DIRECTORY')])
        return f

    def xname(self):
        r = self.r
        return r.choice(['user.a', 'user.n', 'user.d', 'trusted.t', 'trusted.n', 'security.s',
                         'security.capability', 'security.capability',
                         'system.posix_acl_access', 'system.posix_acl_default',
                         'system.bogus', 'bogus.x', 'user.', 'user.' + 'x' * 300])

    def xvalue(self, name):
        i, r = self.ids, self.r
        if name == 'security.capability':
            return r.choice([CAP_V2, CAP_V2, b'\x01\x02\x03'])
        if name.startswith('system.posix_acl'):
            good = acl_blob([(ACL_USER_OBJ, 7, NOID), (ACL_USER, r.choice([6, 7]),
                                                       r.choice([i.A, i.B])),
                             (ACL_GROUP_OBJ, r.choice([0, 5]), NOID),
                             (ACL_GROUP, 6, i.S), (ACL_MASK, 7, NOID),
                             (ACL_OTHER, r.choice([0, 4]), NOID)])
            return r.choice([good, good, b'\x02\x00\x00\x00\x01'])
        return r.choice([b'v', b'value-' + bytes([65 + r.randrange(26)])])

    def times(self):
        return self.r.choice(EXPLICIT_TIMES), self.r.choice(EXPLICIT_TIMES)

    def op(self, who):
        r = self.r
        kinds = ['open'] * 10 + ['write'] * 8 + ['read'] * 3 + ['keep'] * 3 + ['fop'] * 8 + \
            ['stat'] * 2 + ['access'] * 3 + ['mkdir'] * 4 + ['mknod'] * 3 + ['unlink'] * 4 + \
            ['rmdir'] * 2 + ['rename'] * 5 + ['link'] * 3 + ['symlink'] * 2 + \
            ['readlink'] * 1 + ['chmod'] * 8 + ['chown'] * 8 + ['truncate'] * 3 + \
            ['utime'] * 6 + ['setx'] * 9 + ['getx'] * 3 + ['listx'] * 2 + ['removex'] * 3 + \
            ['listdir'] * 2 + ['umask'] * 1
        k = r.choice(kinds)
        p = self.path()
        if k == 'open':
            return {'op': 'open', 'p': p, 'flags': self.flags(), 'mode': r.choice(self.MODES)}
        if k == 'write':
            f = [r.choice(['WRONLY', 'RDWR'])] + [x for x in ('APPEND', 'TRUNC', 'CREAT')
                                                   if r.random() < 0.25]
            return {'op': 'write', 'p': p, 'flags': f, 'mode': r.choice(self.MODES),
                    'data': r.choice(['x', 'more data\n'])}
        if k == 'read':
            return {'op': 'read', 'p': p, 'flags': [x for x in ('NOFOLLOW', 'NOATIME')
                                                    if r.random() < 0.2]}
        if k == 'keep' or (k == 'fop' and not self.slots.get(who)):
            self.slot += 1
            self.slots.setdefault(who, []).append(self.slot)
            return {'op': 'keep', 'slot': self.slot, 'p': p, 'flags': self.flags(),
                    'mode': r.choice(self.MODES)}
        if k == 'fop':
            q = {'op': 'fop', 'slot': r.choice(self.slots[who])}
            sub = r.choice(['write', 'write', 'read', 'trunc', 'chmod', 'chmod', 'chown',
                            'chown', 'stat', 'setx', 'setx', 'getx', 'utime', 'close'])
            q['sub'] = sub
            if sub == 'write':
                q['data'] = 'y'
            elif sub == 'trunc':
                q['len'] = r.choice([0, 3, 10000])
            elif sub == 'chmod':
                q['mode'] = r.choice(self.MODES)
            elif sub == 'chown':
                q['uid'], q['gid'] = self.uid(), self.gid()
            elif sub in ('setx', 'getx'):
                q['name'] = self.xname()
                q['value'] = self.xvalue(q['name']).hex()
                q['flags'] = r.choice([0, 0, XATTR_CREATE, XATTR_REPLACE])
            elif sub == 'utime':
                q['kind'] = r.choice(['null', 'now', 'explicit', 'now_explicit', 'omit'])
                q['a'], q['m'] = self.times()
            return q
        if k == 'stat':
            return {'op': 'stat', 'p': p, 'nofollow': r.random() < 0.3}
        if k == 'access':
            return {'op': 'access', 'p': p, 'mode': r.choice([0, 1, 2, 4, 6, 7]),
                    'eff': r.random() < 0.5, 'nofollow': r.random() < 0.2}
        if k == 'mkdir':
            return {'op': 'mkdir', 'p': p, 'mode': r.choice(self.MODES)}
        if k == 'mknod':
            kind = r.choice(['fifo', 'fifo', 'chr', 'blk', 'reg', 'sock', 'bad'])
            t = {'fifo': stat.S_IFIFO, 'chr': stat.S_IFCHR, 'blk': stat.S_IFBLK,
                 'reg': stat.S_IFREG, 'sock': stat.S_IFSOCK, 'bad': 0o170000}[kind]
            dev = {'chr': [1, 3], 'blk': [7, 0]}.get(kind, [0, 0])
            return {'op': 'mknod', 'p': p, 'kind': kind,
                    'mode': t | r.choice(self.MODES), 'dev': dev}
        if k in ('unlink', 'rmdir', 'readlink', 'listdir'):
            return {'op': k, 'p': p}
        if k == 'rename':
            return {'op': 'rename', 'p': p, 'p2': self.path(),
                    'flags': r.choice([0, 0, 0, 1, 2, 4])}
        if k == 'link':
            return {'op': 'link', 'p': p, 'p2': self.path(), 'follow': r.random() < 0.3}
        if k == 'symlink':
            return {'op': 'symlink', 'p': p,
                    'target': r.choice(['f', 'adir/f', '../rdir/secret', 'nowhere', 'af'])}
        if k == 'chmod':
            return {'op': 'chmod', 'p': p, 'mode': r.choice(self.MODES)}
        if k == 'chown':
            return {'op': 'chown', 'p': p, 'uid': self.uid(), 'gid': self.gid(),
                    'nofollow': r.random() < 0.2}
        if k == 'truncate':
            return {'op': 'truncate', 'p': p, 'len': r.choice([0, 1, 4096, 1 << 20, -1])}
        if k == 'utime':
            a, m = self.times()
            return {'op': 'utime', 'p': p, 'a': a, 'm': m, 'nofollow': r.random() < 0.2,
                    'kind': r.choice(['null', 'now', 'omit', 'explicit', 'explicit',
                                      'now_explicit', 'omit_explicit', 'bad_nsec'])}
        if k == 'setx':
            n = self.xname()
            return {'op': 'setx', 'p': p, 'name': n, 'value': self.xvalue(n).hex(),
                    'flags': r.choice([0, 0, XATTR_CREATE, XATTR_REPLACE]),
                    'nofollow': r.random() < 0.2}
        if k == 'getx':
            return {'op': 'getx', 'p': p, 'name': self.xname(), 'nofollow': r.random() < 0.2}
        if k == 'listx':
            return {'op': 'listx', 'p': p, 'nofollow': r.random() < 0.3}
        if k == 'removex':
            return {'op': 'removex', 'p': p, 'name': self.xname(),
                    'nofollow': r.random() < 0.2}
        if k == 'umask':
            return {'op': 'umask', 'mask': r.choice([0, 0o002, 0o022, 0o077])}
        raise AssertionError(k)

    def segment(self, n):
        out = []
        for _ in range(n):
            who = self.r.choice(self.names)
            out.append((who, self.op(who)))
        return out


def directed_ops(ids):
    """The cases the issue names, in an order where each still finds its file as the
    tree has it; every identity runs all of them on a tree of its own."""
    A, Ag, B, S, O = ids.A, ids.Ag, ids.B, ids.S, ids.O
    acl_bob = acl_blob([(ACL_USER_OBJ, 6, NOID), (ACL_USER, 6, B), (ACL_GROUP_OBJ, 4, NOID),
                        (ACL_MASK, 6, NOID), (ACL_OTHER, 4, NOID)]).hex()

    def rd(p, *flags):
        return {'op': 'read', 'p': p, 'flags': list(flags)}

    def wr(p, *flags, mode=0o644):
        return {'op': 'write', 'p': p, 'flags': list(flags or ('WRONLY', 'APPEND')),
                'mode': mode, 'data': 'x'}

    def opn(p, *flags, mode=0o644):
        return {'op': 'open', 'p': p, 'flags': list(flags), 'mode': mode}

    def acc(p, mode, eff):
        return {'op': 'access', 'p': p, 'mode': mode, 'eff': eff, 'nofollow': False}

    def setx(p, name, value=b'v'.hex(), flags=0):
        return {'op': 'setx', 'p': p, 'name': name, 'value': value, 'flags': flags,
                'nofollow': False}

    def chown(p, uid, gid):
        return {'op': 'chown', 'p': p, 'uid': uid, 'gid': gid, 'nofollow': False}

    def utime(p, kind):
        return {'op': 'utime', 'p': p, 'kind': kind, 'a': EXPLICIT_TIMES[1],
                'm': EXPLICIT_TIMES[2], 'nofollow': False}

    def fop(sub, **kw):
        return dict({'op': 'fop', 'slot': 1, 'sub': sub}, **kw)

    return [
        # lookups and reads
        rd('rdir/secret'),
        rd('adir/sub/../f'),               # needs search on adir/sub: '..' is not lexical
        rd('dlnk/f'),
        rd('tmp/alnk'),                    # alice's link in sticky tmp: protected_symlinks
        rd('acl'),                         # the ACL grants bob rw
        rd('pub/f', 'NOATIME'),            # O_NOATIME: owner or CAP_FOWNER
        acc('rdir/secret', 4, False),      # access(): real ids
        acc('rdir/secret', 4, True),       # AT_EACCESS: effective ids
        acc('adir/priv', 6, True),
        acc('dlnk/f', 1, True),
        {'op': 'listdir', 'p': 'bdir'},
        {'op': 'stat', 'p': 'adir/sub/f', 'nofollow': False},
        {'op': 'listx', 'p': 'adir/f', 'nofollow': False},   # trusted.*: CAP_SYS_ADMIN
        {'op': 'getx', 'p': 'adir/f', 'name': 'trusted.t', 'nofollow': False},
        {'op': 'getx', 'p': 'rdir/secret', 'name': 'security.s', 'nofollow': False},
        {'op': 'getx', 'p': 'acl', 'name': 'system.posix_acl_access', 'nofollow': False},
        opn('tmp/bf', 'WRONLY', 'CREAT'),  # bob's file in sticky tmp: protected_regular
        # xattrs in every namespace
        setx('pub/f', 'user.n'),           # a writer may
        setx('ro/f', 'user.n'),            # a reader may not
        setx('tmp', 'user.n'),             # sticky directory: its owner only
        setx('adir/fifo', 'user.n'),       # user.* only on files and directories
        setx('adir/f', 'trusted.n'),       # CAP_SYS_ADMIN
        setx('adir/f', 'security.n'),      # CAP_SYS_ADMIN
        setx('adir/f', 'security.capability', CAP_V2.hex()),   # CAP_SETFCAP
        setx('adir/priv', 'system.posix_acl_access', acl_bob),  # the owner may
        setx('pub/f', 'system.posix_acl_access', acl_bob),      # others may not
        {'op': 'removex', 'p': 'adir/f', 'name': 'trusted.t', 'nofollow': False},
        {'op': 'removex', 'p': 'adir/cap', 'name': 'security.capability', 'nofollow': False},
        {'op': 'removex', 'p': 'pub/f', 'name': 'user.a', 'nofollow': False},
        # modes: set-gid on a file whose group the caller is not in is dropped silently
        {'op': 'chmod', 'p': 'pub/ao', 'mode': 0o2755},
        {'op': 'chmod', 'p': 'pub/bo', 'mode': 0o2755},
        {'op': 'chmod', 'p': 'adir/sgid', 'mode': 0o2775},
        {'op': 'chmod', 'p': 'adir/f', 'mode': 0o4755},
        {'op': 'chmod', 'p': 'ro/w', 'mode': 0o600},
        # owners: to self, to others, to a group one is or is not in
        chown('adir/f', A, -1),
        chown('adir/priv', -1, S),
        chown('adir/sub/f', -1, O),
        chown('pub/af', B, -1),
        chown('pub/f', -1, -1),
        chown('adir/suid', -1, Ag),        # clears set-uid
        chown('bdir/g', -1, S),
        chown('pub/bo', 0, 0),
        # times: NULL for writers, explicit values for the owner
        utime('pub/f', 'null'),
        utime('pub/f', 'now'),
        utime('pub/f', 'explicit'),
        utime('pub/f', 'now_explicit'),
        utime('ro/f', 'null'),
        utime('adir/priv', 'explicit'),
        # writes clear set-uid, set-gid with group-exec and file capabilities
        wr('adir/suid'),
        wr('adir/sgid'),
        wr('adir/sgidnx'),
        wr('adir/cap'),
        {'op': 'truncate', 'p': 'shared/bx', 'len': 1},
        {'op': 'truncate', 'p': 'pub/hl', 'len': -1},
        wr('ro/f'),
        # an fd opened now and used after: its rights were checked at open
        {'op': 'keep', 'slot': 1, 'p': 'pub/f', 'flags': ['RDWR'], 'mode': 0o644},
        fop('chmod', mode=0o4777),
        fop('write', data='y'),
        fop('stat'),
        fop('setx', name='trusted.n', value='76', flags=0),
        fop('utime', kind='null', a=0, m=0),
        fop('chown', uid=-1, gid=S),
        # creating: set-gid directories, default ACLs, devices
        {'op': 'mkdir', 'p': 'shared/nd', 'mode': 0o755},
        opn('shared/n1', 'WRONLY', 'CREAT', mode=0o2755),
        {'op': 'mkdir', 'p': 'dacl/nd', 'mode': 0o777},
        opn('dacl/n1', 'WRONLY', 'CREAT', mode=0o666),
        opn('pub/n1', 'WRONLY', 'CREAT', 'EXCL', mode=0o6777),
        {'op': 'mknod', 'p': 'pub/c1', 'kind': 'chr', 'mode': stat.S_IFCHR | 0o666,
         'dev': [1, 3]},
        {'op': 'mknod', 'p': 'pub/p1', 'kind': 'fifo', 'mode': stat.S_IFIFO | 0o666,
         'dev': [0, 0]},
        {'op': 'symlink', 'p': 'pub/s1', 'target': 'f'},
        {'op': 'link', 'p': 'ro/f', 'p2': 'pub/l1', 'follow': False},  # protected_hardlinks
        {'op': 'link', 'p': 'adir/priv', 'p2': 'pub/l2', 'follow': False},
        {'op': 'link', 'p': 'pub/f', 'p2': 'pub/l3', 'follow': False},
        # renaming and removing: sticky tmp, read-only ro
        {'op': 'rename', 'p': 'tmp/bf', 'p2': 'tmp/n1', 'flags': 0},
        {'op': 'rename', 'p': 'tmp/af', 'p2': 'tmp/n2', 'flags': 0},
        {'op': 'rename', 'p': 'tmp/ad', 'p2': 'pub/nd', 'flags': 0},
        {'op': 'rename', 'p': 'pub/af', 'p2': 'pub/w1', 'flags': 4},   # WHITEOUT: CAP_MKNOD
        {'op': 'rename', 'p': 'pub/bo', 'p2': 'pub/ao', 'flags': 2},   # EXCHANGE
        {'op': 'unlink', 'p': 'tmp/rf'},
        {'op': 'unlink', 'p': 'ro/w'},
        {'op': 'rmdir', 'p': 'tmp/ad'},
        {'op': 'unlink', 'p': 'pub/f'},
    ]


# Operations that change no attribute compared here (atimes aside, which only
# the local backend compares, and walks after every operation).
READ_ONLY = {'read', 'stat', 'access', 'getx', 'listx', 'listdir', 'readlink', 'umask',
             'closeall', 'become'}


def may_change(q, answer):
    """Whether the tree may differ after q answered alike on both sides: only if it
    succeeded and writes, for a failed request changes nothing in the kernel."""
    if 'e' in answer:
        return False
    op = q['op']
    if op in READ_ONLY:
        return False
    if op == 'fop':
        return q['sub'] not in ('read', 'stat', 'getx')
    if op in ('open', 'keep'):
        return bool({'CREAT', 'TRUNC'} & set(q['flags']))
    return True


def describe(q, ids):
    """One readable line for an operation (the reproducer's)."""
    d = dict(q)
    op = d.pop('op')
    if op == 'fop':
        sub = d.pop('sub')
        op = 'fd%d.%s' % (d.pop('slot'), sub)
    parts = []
    for k in ('p', 'p2', 'target', 'name', 'flags', 'mode', 'uid', 'gid', 'len', 'kind',
              'a', 'm', 'value', 'nofollow', 'follow', 'eff', 'dev', 'data', 'mask', 'drop'):
        if k not in d:
            continue
        v = d[k]
        if k in ('mode', 'mask') and isinstance(v, int):
            v = '0%o' % v
        elif k == 'uid':
            v = ids.name.get(v, v)
        elif k == 'gid':
            v = ids.gname.get(v, v)
        elif k == 'flags' and isinstance(v, list):
            v = '|'.join(v)
        elif k == 'value' and len(v) > 24:
            v = v[:24] + '…'
        elif k in ('a', 'm') and d.get('kind') in ('null', 'now', 'omit'):
            continue
        elif k in ('p', 'p2'):
            v = repr(v)
        parts.append('%s=%s' % (k, v))
    return '%s(%s)' % (op, ', '.join(parts))


def op_key(q):
    """What groups mismatches: the operation and its salient argument."""
    op = q['op']
    if op == 'fop':
        op = 'f' + q['sub']
    key = op
    if 'name' in q:
        key += ' ' + xattr_ns(q['name'])
    if op == 'mknod':
        key += ' ' + q['kind']
    if op in ('utime', 'futime'):
        key += ' ' + q['kind']
    if op == 'rename' and q['flags']:
        key += ' flags=%d' % q['flags']
    if op in ('chmod', 'fchmod', 'mkdir', 'open', 'keep', 'write') and \
            q.get('mode', 0) & 0o7000:
        key += ' set-id/sticky mode'
    return key


def load_known(path):
    """Known divergences: (group header, regex every tree line must match, or None)."""
    known = []
    if not path:
        return known
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            header, _, pattern = line.partition(' @ ')
            if not re.match(r'\[[A-Z]+\] ', header):
                sys.exit('%s:%d: expected "[KIND] op: detail [@ tree regex]"' % (path, n))
            known.append((header.strip(), re.compile(pattern.strip()) if pattern else None))
    return known


def answer_key(a):
    if 'e' in a:
        return a['e']
    for k in ('write_e', 'read_e'):
        if k in a:
            return 'open ok, ' + k[0:-2] + ' ' + a[k]
    return 'ok'


# -- the run --------------------------------------------------------------------

class Runner:
    def __init__(self, args):
        self.a = args
        self.ids = Ids(args.alice, args.bob, args.share, args.other)
        self.idents = identities(self.ids)
        self.names = [n for n, *_ in self.idents]
        self.mismatches = []
        self.groups = {}
        self.known = load_known(args.known)
        self.known_seen = {}
        self.agents = {}
        self.t0 = time.time_ns() - 2 * 10**9
        self.atime = args.backend == 'local'
        self.ops_done = 0
        self.per_call = {}  # call -> [operations, answers that differ]
        self.dropped = False
        self.snapper = concurrent.futures.ThreadPoolExecutor(2)
        self.spent = dict.fromkeys(('kernel ops', 'pool ops', 'walks', 'kernel walks', 'pool walks',
                                    'building', 'removing'), 0.0)

    def start_agents(self):
        a = self.a
        script = os.path.join(a.workdir, 'perm-diff-agent.py')
        shutil.copy(os.path.abspath(__file__), script)
        os.chmod(script, 0o755)
        # The system's python3: every identity can run it (the orchestrator's own may
        # live in root's home, as a pyenv one does).
        python = shutil.which('python3', path=AGENT_PATH) or sys.executable
        for name, prefix, _, _ in self.idents:
            for side, base in (('kernel', a.kernel_dir), ('pool', a.mount)):
                cmd = list(prefix)
                if side == 'pool':
                    cmd += [a.run_bin, '--pool', a.pool, '--socket', a.socket, '--mountpoint',
                            a.mount, '--no-cgroup', '--']
                cmd += [python, script, '--agent', base]
                self.agents[name, side] = AgentProc(
                    name, side, cmd, os.path.join(a.workdir, 'agent-%s-%s.log' % (name, side)),
                    a.timeout)
        print('identities (res uid, res gid, groups, CapEff):')
        for name, *_ in self.idents:
            got = {}
            for side in ('kernel', 'pool'):
                msg = self.agents[name, side].readline()
                if 'ready' not in msg:
                    raise AgentError('%s/%s: did not start: %s' % (name, side, msg),
                                     self.agents[name, side])
                got[side] = msg['ready']
            same = got['kernel'] == got['pool']
            print('  %-15s %s%s' % (name, fmt_id(got['kernel']),
                                    '' if same else '  pool side: ' + fmt_id(got['pool'])))
            if not same:
                raise AgentError('%s: the two agents started as different identities' % name,
                                 self.agents[name, 'pool'])

    def stop_agents(self):
        for ag in self.agents.values():
            ag.stop()

    def both(self, who, q):
        t = time.monotonic()
        k = self.agents[who, 'kernel'].ask(q)
        t2 = time.monotonic()
        p = self.agents[who, 'pool'].ask(q)
        self.spent['kernel ops'] += t2 - t
        self.spent['pool ops'] += time.monotonic() - t2
        return k, p

    def timed(self, what, root):
        t = time.monotonic()
        try:
            return snapshot(root, self.t0, self.atime)
        finally:
            self.spent[what] += time.monotonic() - t

    def snap(self, seg):
        """Both trees, walked at once (on Ceph each stat is a FUSE round trip)."""
        t = time.monotonic()
        k = self.snapper.submit(self.timed, 'kernel walks', os.path.join(self.a.kernel_dir, seg))
        p = self.snapper.submit(self.timed, 'pool walks', os.path.join(self.a.pool_dir, seg))
        try:
            k, p = k.result(self.a.timeout), p.result(self.a.timeout)
        except concurrent.futures.TimeoutError:
            # a backend call the pool never finished can hold the inode for every
            # other client too: then our own walk waits, and so would we, forever
            raise WalkHung('walking the trees took more than %ds (a client holds '
                           'an inode: see the last operation above)' % self.a.timeout)
        self.spent['walks'] += time.monotonic() - t
        return k, p

    def record(self, where, index, who, q, k, p, lines, fields):
        if k != p:
            ka, pa = answer_key(k), answer_key(p)
            if ka != 'ok' and pa == 'ok':
                sev = 'ESCALATION'
            elif ka == 'ok' and pa != 'ok':
                sev = 'STRICTER'
            elif ka != pa:
                sev = 'ERRNO'
            else:
                sev = 'VALUE'
            sig = (sev, op_key(q), 'kernel %s, pool %s' % (ka, pa))
        else:
            sev = 'TREE'
            sig = (sev, op_key(q), 'differs in ' + ', '.join(sorted(fields)))
        if k != p and lines:
            sig = sig[:2] + (sig[2] + '; tree differs in ' + ', '.join(sorted(fields)),)
        m = {'where': where, 'index': index, 'who': who, 'op': describe(q, self.ids),
             'kernel': k, 'pool': p, 'tree': lines, 'sig': sig}
        header = '[%s] %s: %s' % sig
        for kh, kre in self.known:
            if kh == header and (kre is None or (lines and all(kre.search(x) for x in lines))):
                self.known_seen[header] = self.known_seen.get(header, 0) + 1
                print('KNOWN %s %s op %s, %s: %s' % (sev, where, index, who, m['op']))
                return
        self.mismatches.append(m)
        self.groups.setdefault(sig, []).append(m)
        print('MISMATCH %s %s op %s, %s: %s' % (sev, where, index, who, m['op']))
        print('    kernel: %s' % json.dumps(k, sort_keys=True))
        print('    pool:   %s' % json.dumps(p, sort_keys=True))
        for line in lines[:12]:
            print('    tree: ' + line)
        if len(lines) > 12:
            print('    tree: … %d more' % (len(lines) - 12))

    def setup_ops(self):
        """Not counted: each agent's umask (every segment, so that a segment runs
        alike alone), and on the first tree of the run the uid drops, each after
        its agent used the filesystem as root (so that the pool knows it as root)."""
        pre = [(name, {'op': 'umask', 'mask': mask}) for name, _, mask, _ in self.idents]
        if not self.dropped:
            self.dropped = True
            for name, _, _, drop in self.idents:
                if drop:
                    pre += [(name, {'op': 'stat', 'p': 'rdir/secret', 'nofollow': False}),
                            (name, {'op': 'read', 'p': 'pub/f', 'flags': []}),
                            (name, drop)]
        return [('setup', w, q) for w, q in pre]

    def run_seed(self, seed):
        a = self.a
        nseg = (a.ops + a.segment_len - 1) // a.segment_len
        for s in ([a.segment] if a.segment is not None else range(nseg)):
            n = a.segment_len if a.segment is not None else \
                min(a.segment_len, a.ops - s * a.segment_len)
            gen = Gen(self.ids, seed, s, self.names, self.feats)
            where = '--seed %d --segment %d' % (seed, s)
            if a.segment_len != SEGMENT_LEN:
                where += ' --segment-len %d' % a.segment_len
            self.run_tree('x%ds%d' % (seed, s), where, gen.segment(n))

    def run_directed(self, only):
        for name in self.names:
            if only and name not in only:
                continue
            self.run_tree('d-' + name, '--directed %s' % name,
                          [(name, q) for q in directed_ops(self.ids)])

    def run_tree(self, seg, where, ops):
        """Runs ops (identity, request) on a fresh copy of the tree on each side."""
        a = self.a
        t = time.monotonic()
        for d in (a.kernel_dir, a.pool_dir):
            build_tree(os.path.join(d, seg), self.ids, self.feats)
        self.spent['building'] += time.monotonic() - t
        kern, pool = self.snap(seg)
        lines, _ = tree_diff(kern, pool)
        if lines:
            raise SystemExit('perm-diff: the two trees differ before any operation '
                             '(a harness fault):\n  ' + '\n  '.join(lines))
        # fds whose open already answered differently: what is done with them
        # later only repeats that mismatch
        tainted = set()
        # operations since the last walk (--walk changes)
        unwalked = []
        ops = self.setup_ops() + [(i, w, q) for i, (w, q) in enumerate(ops)]
        ops.append(('end', None, None))
        for i, who, q in ops:
            if q is None:
                if not unwalked:
                    break
                # the walk owed since the last operation that was not walked
                i, who, q, k, p = unwalked.pop()
            else:
                q = dict(q)
                for key in ('p', 'p2'):
                    if key in q:
                        q[key] = seg + '/' + q[key] if q[key] else seg
                k, p = self.both(who, q)
                if i != 'setup':
                    self.ops_done += 1
                    call = 'f' + q['sub'] if q['op'] == 'fop' else q['op']
                    counts = self.per_call.setdefault(call, [0, 0])
                    counts[0] += 1
                    counts[1] += k != p
                elif q['op'] == 'become':
                    print('  %-15s %s after %s%s' % (
                        who, fmt_id(k['id']) if 'id' in k else k, q['kind'],
                        '' if k == p else '  pool side: %s' % (
                            fmt_id(p['id']) if 'id' in p else p)))
                if a.verbose:
                    print('  %s %s %s: %s -> %s%s' % (
                        seg, i, who, describe(q, self.ids), answer_key(k),
                        '' if k == p else ' / pool ' + answer_key(p)))
                if k != p and q['op'] == 'keep':
                    tainted.add(q['slot'])
                if a.walk == 'changes' and k == p and not may_change(q, k) or \
                        i == 'setup' and k == p:
                    unwalked.append((i, who, q, k, p))
                    continue
            kern, pool = self.snap(seg)
            lines, fields = tree_diff(kern, pool)
            if lines and unwalked:
                lines.append('(the tree was not compared after: %s)' % '; '.join(
                    '%s %s %s' % (j, w, describe(x, self.ids)) for j, w, x, _, _ in unwalked
                    if j != 'setup'))
            unwalked = []
            if (k != p or lines) and not (q['op'] == 'fop' and q['slot'] in tainted):
                self.record(where, i, who, q, k, p, lines, fields)
            if lines and (a.no_repair or not repair(
                    os.path.join(a.pool_dir, seg), os.path.join(a.kernel_dir, seg), kern, pool,
                    self.t0, self.atime)):
                print('    (the rest of this tree is skipped)')
                break
        for name in self.names:
            self.both(name, {'op': 'closeall'})
        if not a.keep:
            t = time.monotonic()
            for d in (a.kernel_dir, a.pool_dir):
                shutil.rmtree(os.path.join(d, seg))
            self.spent['removing'] += time.monotonic() - t

    def report(self, what):
        print()
        print('perm-diff: %d operations (%s), %d mismatches in %d groups' % (
            self.ops_done, what, len(self.mismatches), len(self.groups)))
        print('  seconds spent: ' + ', '.join('%s %.1f' % kv for kv in self.spent.items()))
        print('  per call, answers as the kernel\'s / operations: ' + ', '.join(
            '%s %d/%d' % (c, n - bad, n) for c, (n, bad) in sorted(self.per_call.items())))
        for header, n in sorted(self.known_seen.items()):
            print('  known divergence (x%d, not counted): %s' % (n, header))
        order = {'ESCALATION': 0, 'TREE': 1, 'STRICTER': 2, 'ERRNO': 3, 'VALUE': 4}
        for sig in sorted(self.groups, key=lambda s: (order[s[0]], s[1], s[2])):
            ms = self.groups[sig]
            who = sorted(set(m['who'] for m in ms), key=self.names.index)
            print('  [%s] %s: %s  (x%d: %s)' % (sig[0], sig[1], sig[2], len(ms), ', '.join(who)))
            m = ms[0]
            print('      reproduce: %s  # op %s, %s: %s' % (m['where'], m['index'], m['who'],
                                                         m['op']))


def fmt_id(i):
    return '%s %s %s %s' % ('/'.join(map(str, i['uid'])), '/'.join(map(str, i['gid'])),
                            ','.join(map(str, i['groups'])) or '-', i['capeff'])


CI_SEEDS = [1, 2, 3, 4, 5]
SEGMENT_LEN = 20


def what_ran(done):
    if len(done) > 8:
        return '%s, … %d more (each printed when it started)' % (', '.join(done[:3]),
                                                                 len(done) - 3)
    return ', '.join(done) or 'none'


def main():
    ap = argparse.ArgumentParser(description='Differential permission checker: every '
                                 'operation on a kernel directory and through a pool.')
    ap.add_argument('--agent', metavar='BASE', help=argparse.SUPPRESS)
    ap.add_argument('--after-exec', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--backend', choices=['local', 'ceph'], default='local')
    ap.add_argument('--kernel-dir', help='the oracle: a kernel directory (or ceph-fuse mount)')
    ap.add_argument('--pool-dir', help="the pool's root, reached directly (as root)")
    ap.add_argument('--mount', help="the pool's mountpoint (as its clients see it)")
    ap.add_argument('--socket', help="the pool's socket")
    ap.add_argument('--pool', default='x', help='pool name for danaus-run')
    ap.add_argument('--run-bin', help='danaus-run')
    ap.add_argument('--workdir', help='for agent logs and the agent script copy')
    ap.add_argument('--alice', default='dn_alice')
    ap.add_argument('--bob', default='dn_bob')
    ap.add_argument('--share', default='dn_share')
    ap.add_argument('--other', default='dn_other')
    ap.add_argument('--seed', type=int, action='append',
                    help='a seed (repeatable); default: the CI list %s' % CI_SEEDS)
    ap.add_argument('--ops', type=int, default=300, help='operations per seed')
    ap.add_argument('--segment-len', type=int, default=SEGMENT_LEN,
                    help='operations on one fresh tree')
    ap.add_argument('--segment', type=int, help='run only this segment of each seed')
    ap.add_argument('--directed', metavar='WHO|yes|no', default=None,
                    help="the issue's named cases for every identity: yes (the default "
                    "without --seed/--segment/--long), no, or only the identities named "
                    "(comma-separated; then no seeds unless --seed)")
    ap.add_argument('--script', metavar='FILE',
                    help='run these operations on one tree: a JSON list of [identity, '
                    "request] pairs, requests as the generator makes them (the agents' "
                    'protocol, paths relative to the tree)')
    ap.add_argument('--long', type=float, metavar='SECONDS',
                    help='random seeds until this much time has passed')
    ap.add_argument('--timeout', type=float, default=20, help='seconds an agent may take')
    ap.add_argument('--known', metavar='FILE',
                    help='known divergences, each with why: matched, shown, not counted')
    ap.add_argument('--keep', action='store_true', help='keep the trees of each segment')
    ap.add_argument('--no-repair', action='store_true',
                    help='end a tree at its first difference, rather than make the pool '
                    "side the kernel's again and go on")
    ap.add_argument('--walk', choices=['every', 'changes'],
                    help='compare the trees after every operation (default on the local '
                    'backend), or only after those that answered differently or may have '
                    'changed them, and at the end of each tree (default on Ceph, where a '
                    'walk costs ~0.1 s); a difference then names the operations not '
                    'compared after')
    ap.add_argument('-v', '--verbose', action='store_true', help='print every operation')
    a = ap.parse_args()
    if a.agent:
        return agent_main(a.agent, a.after_exec)
    for k in ('kernel_dir', 'pool_dir', 'mount', 'socket', 'run_bin'):
        if not getattr(a, k):
            ap.error('--%s is needed' % k.replace('_', '-'))
    if os.geteuid() != 0:
        ap.error('the orchestrator builds trees for several users: run it as root')
    a.workdir = a.workdir or tempfile.mkdtemp(prefix='perm-diff.')
    os.chmod(a.workdir, 0o755)
    a.walk = a.walk or ('every' if a.backend == 'local' else 'changes')
    if a.backend == 'ceph':
        global WALKERS
        WALKERS = concurrent.futures.ThreadPoolExecutor(12)
    directed = a.directed
    if directed is None:
        directed = 'no' if (a.seed or a.segment is not None or a.long or a.script) \
            else 'yes'
    only = [] if directed in ('yes', 'no') else directed.split(',')
    seeds = a.seed or ([] if (a.long or only or a.script) else CI_SEEDS)
    r = Runner(a)
    for w in only:
        if w not in r.names:
            ap.error('--directed: no identity %s (%s)' % (w, ', '.join(r.names)))
    feats_k, feats_p = probe_features(a.kernel_dir), probe_features(a.pool_dir)
    r.feats = {k: feats_k[k] and feats_p[k] for k in feats_k}
    print('backend %s; the backing filesystems store: %s' % (
        a.backend, ', '.join(k for k, v in r.feats.items() if v) or 'no special xattrs'))
    t_end = time.monotonic() + (a.long or 0)
    done = []
    rc = 0
    try:
        r.start_agents()
        if a.script:
            with open(a.script) as f:
                r.run_tree('script', '--script %s' % a.script, json.load(f))
            done.append('script')
        if directed != 'no':
            r.run_directed(only)
            done.append('directed')
        for s in seeds:
            r.run_seed(s)
            done.append('seed %d' % s)
        if a.long:
            rnd = random.SystemRandom()
            while time.monotonic() < t_end:
                s = rnd.randrange(1, 1 << 31)
                print('seed %d' % s, flush=True)
                r.run_seed(s)
                done.append('seed %d' % s)
    except AgentError as e:
        print('perm-diff: %s' % e)
        try:
            with open(e.agent.logpath) as f:
                tail = f.read()[-3000:]
            if tail:
                print('  agent log (%s):\n%s' % (e.agent.logpath, tail))
        except OSError:
            pass
        rc = 2
    except WalkHung as e:
        print('perm-diff: %s' % e)
        r.report(what_ran(done))
        sys.stdout.flush()
        # the walking thread cannot be stopped, and exit would wait for it
        os._exit(2)
    r.stop_agents()
    r.report(what_ran(done))
    return rc or (1 if r.mismatches else 0)


if __name__ == '__main__':
    sys.exit(main())
