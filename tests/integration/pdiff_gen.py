# Conformance Harness Generator: perm-diff's trees and operations
#
# The tree every segment starts from (built as root on both sides), the seeded
# generator of operations on it, and the directed cases; perm-diff.py runs them.
import os
import random
import stat

from pdiff_agent import (ACL_GROUP, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER, ACL_USER,
                         ACL_USER_OBJ, CAP_V2, EXPLICIT_TIMES, NOID, TREE_TIME,
                         XATTR_CREATE, XATTR_REPLACE, acl_blob)

# -- the initial tree of every segment ----------------------------------------

# Names at the kernel's limits: NAME_MAX bytes (valid) and one more.
N255, M255, N256 = 'N' * 255, 'M' * 255, 'N' * 256
# A relative symlink target of PATH_MAX - 1 bytes (valid, to adir/f), and one of
# PATH_MAX (ENAMETOOLONG for symlink).
TARGET_4095 = './' * 2043 + './/adir/f'
TARGET_4096 = './' * 2044 + './adir/f'


def tree_spec(ids, host=None):
    """(path, type, mode, uid, gid, extra): built in order, as root, on both sides.

    No relative symlink climbs out of the tree: above it the two sides differ by
    design (the kernel's directory has a parent, the pool's root has none), and
    access.sh checks the confinement itself. Absolute ones lead to host (a
    read-only mount both sides see alike, so that no caller, root included, can
    change the host through them) or to /nonexistent/x, whose parent is missing.
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
        # issue 14: loops, chains, limits, a socket nobody listens on
        ('loop', 'l', 0, 0, 0, {'to': 'loop'}),
        ('la', 'l', 0, 0, 0, {'to': 'lb'}),
        ('lb', 'l', 0, 0, 0, {'to': 'la'}),
        ('c1', 'l', 0, 0, 0, {'to': 'c2'}),
        ('c2', 'l', 0, 0, 0, {'to': 'c3'}),
        ('c3', 'l', 0, 0, 0, {'to': 'adir'}),
        ('llong', 'l', 0, 0, 0, {'to': TARGET_4095}),
        ('pub/' + N255, 'f', 0o666, 0, 0, {'data': 'a name of 255 bytes\n'}),
        ('pub/sock', 's', 0o777, 0, 0, {}),
    ] + ([
        ('habs', 'l', 0, 0, 0, {'to': host}),
        ('hfile', 'l', 0, 0, 0, {'to': host + '/f'}),
        ('hdang', 'l', 0, 0, 0, {'to': host + '/none'}),
        ('hloop', 'l', 0, 0, 0, {'to': host + '/loop'}),
        ('hnone', 'l', 0, 0, 0, {'to': '/nonexistent/x'}),
        ('pub/hd', 'l', 0, A, Ag, {'to': host + '/d'}),
    ] if host else [])


def build_tree(base, ids, features, host):
    """Creates the segment's tree at base (which must not exist), as root."""
    spec = tree_spec(ids, host)
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
        elif t == 's':
            os.mknod(p, 0o600 | stat.S_IFSOCK)
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



# -- the generator --------------------------------------------------------------

class Gen:
    DIRS = ['', 'pub', 'tmp', 'tmp/ad', 'shared', 'adir', 'adir/sub', 'bdir', 'rdir', 'ro',
            'dacl', 'nd', 'pub/nd', 'dlnk']
    FRESH = ['n1', 'n2', 'nd']
    ODD = ['adir/f/x', 'adir/f/', 'adir/sub/../f', 'lnk/', 'tmp/alnk', 'adir/lnk',
           'dlnk/f', 'pub//f', 'nope/n1',
           # trailing . and .., and // (never above the tree: the two sides differ there)
           '.', 'adir/.', 'adir/sub/..', 'adir/f/.', 'adir/f/..', 'pub/.', 'pub/n1/.',
           'pub/nd/..', 'pub/nd/.', 'tmp/.', 'adir//f', 'adir/./f', 'dlnk/.', 'dlnk/..',
           'lnk/.', 'pub//n1', 'pub/n1/', 'adir/sub/../n1', 'adir/fifo/.',
           # loops and chains
           'loop', 'loop/x', 'la', 'lb/x', 'c1', 'c1/f', 'c1/n1', 'c1/.', 'c3/sub/..',
           'llong', 'llong/.',
           # NAME_MAX
           'pub/' + N255, 'pub/' + M255, 'pub/' + N256, 'adir/sub/' + N256 + '/f']
    # absolute symlinks to the read-only host directory (never followed by '..')
    HOST = ['habs', 'habs/f', 'habs/d/g', 'habs/n1', 'habs/.', 'habs/x', 'habs/d/',
            'pub/hd/g', 'pub/hd/.', 'pub/hd/n1', 'hfile', 'hfile/.', 'hnone', 'hnone/x',
            'hdang', 'hloop', 'hloop/x']
    # relative to a working directory inside the tree (no leading '..': the top's
    # parent differs per side)
    CWD = ['f', 'n1', 'n2', 'sub', 'sub/f', '.', 'sub/..', 'nd', 'lnk', 'fifo', 'sub/../f',
           'x/..', 'af', 'f/.']
    # relative to a directory fd
    AT = ['f', 'n1', 'sub', 'sub/f', '.', 'sub/..', 'lnk', 'fifo', 'secret', 'w', 'nd/.']
    MODES = [0o644, 0o600, 0o755, 0o777, 0o4755, 0o2755, 0o2770, 0o2644, 0o1777, 0o7777,
             0o6777, 0o000, 0o666, 0o4644]
    ACCMODES = [['RDONLY'], ['WRONLY'], ['RDWR']]
    EXTRA = ['CREAT', 'EXCL', 'TRUNC', 'APPEND', 'DIRECTORY', 'NOFOLLOW', 'NOATIME']

    def __init__(self, ids, seed, segment, names, feats, host=None):
        self.r = random.Random('%d:%d' % (seed, segment))
        self.ids, self.names, self.feats = ids, names, feats
        self.existing = [p for p, *_ in tree_spec(ids, host) if p]
        self.odd = self.ODD + (self.HOST if host else [])
        self.host = host
        self.HOST_TARGETS = [host, host + '/f', host + '/none', host + '/loop',
                             '/nonexistent/x'] if host else []
        self.slot = 0
        self.slots = {}  # identity -> slots it opened this segment
        self.socks = 0
        self.bound = ['pub/sock']

    def path(self):
        r = self.r.random()
        if r < 0.5:
            return self.r.choice(self.existing)
        if r < 0.82:
            d = self.r.choice(self.DIRS)
            n = self.r.choice(self.FRESH)
            return d + '/' + n if d else n
        return self.r.choice(self.odd)

    def where(self, q, keys=('p',)):
        """Sometimes relative to the working directory, sometimes padded to PATH_MAX - 1
        or PATH_MAX bytes (the agent pads: its directory's path differs per side)."""
        r = self.r.random()
        if r < 0.08:
            q['cwd'] = True
            for k in keys:
                q[k] = self.r.choice(self.CWD)
        elif r < 0.12:
            for k in keys:
                q['pad' if k == 'p' else 'pad2'] = self.r.choice([4095, 4096])
        return q

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
        kinds = ['open'] * 10 + ['write'] * 8 + ['read'] * 3 + ['keep'] * 5 + ['fop'] * 16 + \
            ['stat'] * 3 + ['access'] * 3 + ['mkdir'] * 4 + ['mknod'] * 3 + ['unlink'] * 4 + \
            ['rmdir'] * 3 + ['rename'] * 6 + ['link'] * 3 + ['symlink'] * 3 + \
            ['readlink'] * 1 + ['chmod'] * 6 + ['chown'] * 6 + ['truncate'] * 3 + \
            ['utime'] * 6 + ['setx'] * 7 + ['getx'] * 3 + ['listx'] * 2 + ['removex'] * 3 + \
            ['listdir'] * 2 + ['umask'] * 1 + ['chdir'] * 2 + ['mkfifo'] * 1 + \
            ['readlinkn'] * 2 + ['statfs'] * 1 + ['bind'] * 2 + ['connect'] * 2 + \
            ['efault'] * 1
        k = r.choice(kinds)
        q = self.op_of(k, who)
        if k not in ('bind', 'connect', 'fop', 'efault', 'umask'):
            self.where(q, ('p', 'p2') if 'p2' in q else ('p',))
        return q

    def op_of(self, k, who):
        r = self.r
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
            if r.random() < 0.25:
                # a directory, for getdents, openat and fchdir
                d = r.choice(self.DIRS + ['.', 'adir/sub/..', 'c1', 'dlnk'])
                return {'op': 'keep', 'slot': self.slot, 'p': d or '.',
                        'flags': ['RDONLY'] + (['DIRECTORY'] if r.random() < 0.5 else []) +
                        (['PATH'] if r.random() < 0.1 else [])}
            return {'op': 'keep', 'slot': self.slot, 'p': p, 'flags': self.flags(),
                    'mode': r.choice(self.MODES)}
        if k == 'fop':
            q = {'op': 'fop', 'slot': r.choice(self.slots[who])}
            sub = r.choice(['write', 'write', 'read', 'trunc', 'chmod', 'chmod', 'chown',
                            'chown', 'stat', 'setx', 'setx', 'getx', 'utime', 'close',
                            'lseek', 'lseek', 'fallocate', 'pfallocate', 'fsync', 'getdents',
                            'getdents', 'dup', 'getfl', 'setfl', 'flock', 'lk', 'lk',
                            'openat', 'openat', 'fchdir', 'fstatfs'])
            q['sub'] = sub
            self.fop_args(q)
            return q
        return self.path_op(k, p)

    def fop_args(self, q):
        r, sub = self.r, q['sub']
        if sub == 'lseek':
            q['whence'] = r.choice([0, 1, 2, 3, 4, 3, 4, 7])   # SET CUR END DATA HOLE, bad
            q['off'] = r.choice([0, 0, 1, 3, 4096, 1 << 20, -1, 1 << 62])
        elif sub == 'fallocate':
            # 0, KEEP_SIZE, PUNCH_HOLE (needs KEEP_SIZE), COLLAPSE, ZERO_RANGE, INSERT, bad
            q['mode'] = r.choice([0, 0, 1, 3, 2, 8, 0x10, 0x20, 0x80])
            q['off'] = r.choice([0, 1, 4096, -1])
            q['len'] = r.choice([1, 4096, 1 << 20, 0, -1])
        elif sub == 'pfallocate':
            q['off'], q['len'] = r.choice([0, 5, 4096]), r.choice([1, 8192, 0])
        elif sub == 'fsync':
            q['data'] = r.random() < 0.5
        elif sub == 'getdents':
            q['size'] = r.choice([4096, 64, 1])   # 1: EINVAL (too small for an entry)
        elif sub == 'dup':
            q['cloexec'] = r.random() < 0.5
        elif sub == 'setfl':
            q['flags'] = [x for x in ('APPEND', 'NOATIME', 'DIRECT') if r.random() < 0.4]
            q['nonblock'] = r.random() < 0.5
        elif sub == 'flock':
            q['how'] = r.choice([1, 2, 2, 8])           # LOCK_SH, LOCK_EX, LOCK_UN
        elif sub == 'lk':
            q['cmd'] = r.choice(['setlk', 'setlk', 'getlk', 'ofd_setlk', 'ofd_getlk'])
            q['type'] = r.choice(['rd', 'wr', 'wr', 'un'])
            q['start'], q['len'] = r.choice([(0, 0), (0, 10), (5, 1), (-1, 1), (3, -2)])
        elif sub == 'openat':
            q['rel'] = r.choice(self.AT)
            q['flags'] = self.flags()
            q['mode'] = r.choice(self.MODES)
            q['stat'] = True
        elif sub == 'write':
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

    def path_op(self, k, p):
        r = self.r
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
                    'target': r.choice(['f', 'adir/f', '../rdir/secret', 'nowhere', 'af',
                                        'n1', '.', TARGET_4095, TARGET_4096] +
                                       (self.HOST_TARGETS if self.host else []))}
        if k == 'chdir':
            return {'op': 'chdir', 'p': r.choice(self.DIRS + ['.', 'adir/sub/..', 'c1', 'habs']
                                                 if r.random() < 0.7 else [p])}
        if k == 'mkfifo':
            return {'op': 'mkfifo', 'p': p, 'mode': r.choice(self.MODES)}
        if k == 'readlinkn':
            return {'op': 'readlinkn', 'p': p, 'n': r.choice([0, 1, 3, 16, 4096])}
        if k == 'statfs':
            return {'op': 'statfs', 'p': p}
        if k == 'bind':
            self.socks += 1
            if p not in self.bound:
                self.bound.append(p)
            return {'op': 'bind', 'p': p, 'slot': self.socks, 'listen': r.random() < 0.7}
        if k == 'connect':
            return {'op': 'connect', 'p': r.choice(self.bound) if r.random() < 0.7 else p}
        if k == 'efault':
            return {'op': 'efault', 'p': r.choice(['adir/f', 'pub/f', 'lnk', 'tmp/rf']),
                    'call': r.choice(['open', 'stat', 'mkdir', 'rename', 'readlink', 'getx',
                                      'statfs', 'read', 'write'])}
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


def conformance_ops(ids, host):
    """Issue 14's named cases that the permission cases above do not reach: paths
    ending in . and .., symlink loops, chains and absolute links, the length limits,
    the errno of each misuse, FIFOs, sockets, the fd calls and bad pointers. Every
    identity runs them on a tree of its own, after directed_ops' tree."""
    def st(p, nofollow=False, **kw):
        return dict({'op': 'stat', 'p': p, 'nofollow': nofollow}, **kw)

    def opn(p, *flags, mode=0o644, **kw):
        return dict({'op': 'open', 'p': p, 'flags': list(flags), 'mode': mode}, **kw)

    def keep(slot, p, *flags, **kw):
        return dict({'op': 'keep', 'slot': slot, 'p': p, 'flags': list(flags),
                     'mode': 0o644}, **kw)

    def fop(slot, sub, **kw):
        return dict({'op': 'fop', 'slot': slot, 'sub': sub}, **kw)

    def ren(p, p2, flags=0, **kw):
        return dict({'op': 'rename', 'p': p, 'p2': p2, 'flags': flags}, **kw)

    ops = [
        # trailing . and .. on every kind of call
        {'op': 'mkdir', 'p': 'pub/d1', 'mode': 0o777},
        {'op': 'mkdir', 'p': 'pub/d2', 'mode': 0o777},
        {'op': 'mkdir', 'p': 'pub/d2/x', 'mode': 0o777},
        {'op': 'mkdir', 'p': 'pub/d1/.', 'mode': 0o777},        # EEXIST
        {'op': 'mkdir', 'p': 'pub/n1/.', 'mode': 0o777},        # ENOENT
        {'op': 'mkdir', 'p': 'pub/d1/..', 'mode': 0o777},       # EEXIST
        {'op': 'rmdir', 'p': 'pub/d1/.'},                        # EINVAL
        {'op': 'rmdir', 'p': 'pub/d2/x/..'},                     # ENOTEMPTY
        {'op': 'rmdir', 'p': 'pub/f/.'},                         # ENOTDIR
        {'op': 'unlink', 'p': 'pub/d1'},                         # EISDIR
        {'op': 'unlink', 'p': 'pub/d1/.'},
        {'op': 'unlink', 'p': 'pub/f/'},                         # ENOTDIR
        {'op': 'link', 'p': 'pub/d1', 'p2': 'pub/l1', 'follow': False},   # EPERM
        {'op': 'link', 'p': 'pub/f', 'p2': 'pub/d1/.', 'follow': False},  # EEXIST
        {'op': 'link', 'p': 'pub/f/.', 'p2': 'pub/l1', 'follow': False},  # ENOTDIR
        ren('pub/d1', 'pub/d2'),                                 # ENOTEMPTY
        ren('pub/d2', 'pub/d2/x/y'),                             # EINVAL: into itself
        ren('pub/d1/.', 'pub/d3'),                               # EBUSY
        ren('pub/d1', 'pub/d2/x/..'),                            # EBUSY or ENOTEMPTY
        ren('pub/f', 'pub/d1/.'),                                # EBUSY
        ren('pub/f', 'pub/d1'),                                  # EISDIR
        ren('pub/d1', 'pub/f'),                                  # ENOTDIR
        ren('pub/f', 'pub/af', 1 | 2),                           # EINVAL: NOREPLACE|EXCHANGE
        opn('pub/.', 'WRONLY'),                                  # EISDIR
        opn('pub/.', 'RDONLY', 'CREAT'),                         # EISDIR
        opn('pub/f/.', 'RDONLY'),                                # ENOTDIR
        opn('pub/n1/', 'WRONLY', 'CREAT'),                       # EISDIR
        opn('pub/d1/..', 'RDONLY', 'DIRECTORY'),
        st('adir/sub/..'), st('adir/f/..'), st('adir/f/.'), st('pub//f'), st('adir/./sub/.'),
        {'op': 'chmod', 'p': 'pub/d1/.', 'mode': 0o755},
        {'op': 'chown', 'p': 'pub/d1/..', 'uid': -1, 'gid': -1, 'nofollow': False},
        {'op': 'utime', 'p': 'pub/d1/.', 'kind': 'now', 'a': 0, 'm': 0, 'nofollow': False},
        {'op': 'symlink', 'p': 'pub/d1/.', 'target': 'x'},        # EEXIST
        {'op': 'mknod', 'p': 'pub/d1/.', 'kind': 'fifo', 'mode': stat.S_IFIFO | 0o644,
         'dev': [0, 0]},
        {'op': 'setx', 'p': 'pub/d1/.', 'name': 'user.n', 'value': '76', 'flags': 0,
         'nofollow': False},
        {'op': 'listdir', 'p': 'pub/d2/x/..'},
        {'op': 'access', 'p': 'pub/d1/.', 'mode': 2, 'eff': True, 'nofollow': False},
        # symlink loops and chains
        st('loop'), st('loop', True), st('la/x'), st('c1/f'), st('c1/sub/..'),
        opn('loop', 'WRONLY', 'CREAT'),                          # ELOOP
        opn('la', 'RDONLY', 'NOFOLLOW'),                         # ELOOP (O_NOFOLLOW)
        {'op': 'mkdir', 'p': 'loop/x', 'mode': 0o755},
        {'op': 'readlink', 'p': 'c1'},
        {'op': 'chmod', 'p': 'la', 'mode': 0o644},
        {'op': 'utime', 'p': 'lnk', 'kind': 'explicit', 'a': EXPLICIT_TIMES[1],
         'm': EXPLICIT_TIMES[2], 'nofollow': True},              # the link's own times
        {'op': 'utime', 'p': 'loop', 'kind': 'now', 'a': 0, 'm': 0, 'nofollow': True},
        # the length limits
        st('pub/' + N255), st('pub/' + N256),
        opn('pub/' + M255, 'WRONLY', 'CREAT'),
        opn('pub/' + N256, 'WRONLY', 'CREAT'),
        {'op': 'mkdir', 'p': 'pub/' + N256, 'mode': 0o755},
        {'op': 'symlink', 'p': 'pub/ll', 'target': TARGET_4095},
        {'op': 'symlink', 'p': 'pub/lm', 'target': TARGET_4096},
        {'op': 'readlink', 'p': 'llong'},
        st('llong'), st('pub/ll'),
        st('adir/f', pad=4095), st('adir/f', pad=4096),
        opn('pub/n2', 'WRONLY', 'CREAT', pad=4095),
        ren('pub/n2', 'pub/n3', pad=4095, pad2=4095),
        ren('pub/n3', 'pub/n4', pad2=4096),
        {'op': 'mkdir', 'p': 'pub/d4', 'mode': 0o755, 'pad': 4096},
        # readlink with small buffers
        {'op': 'readlinkn', 'p': 'lnk', 'n': 1},
        {'op': 'readlinkn', 'p': 'lnk', 'n': 6},
        {'op': 'readlinkn', 'p': 'lnk', 'n': 0},                 # EINVAL
        {'op': 'readlinkn', 'p': 'adir/f', 'n': 16},             # EINVAL
        # FIFOs: a writer with no reader, then with one
        opn('adir/fifo', 'WRONLY'),                              # ENXIO
        keep(7, 'adir/fifo', 'RDONLY'),
        opn('adir/fifo', 'WRONLY'),
        fop(7, 'close'),
        {'op': 'mkfifo', 'p': 'pub/ff', 'mode': 0o640},
        {'op': 'mkfifo', 'p': 'pub/ff', 'mode': 0o640},          # EEXIST
        opn('pub/ff', 'RDONLY'),
        # Unix sockets
        {'op': 'connect', 'p': 'pub/sock'},                       # ECONNREFUSED
        {'op': 'connect', 'p': 'pub/f'},                          # ECONNREFUSED
        {'op': 'connect', 'p': 'pub/none'},                       # ENOENT
        {'op': 'bind', 'p': 'pub/s1', 'slot': 1, 'listen': True},
        {'op': 'connect', 'p': 'pub/s1'},
        {'op': 'bind', 'p': 'pub/s1', 'slot': 2, 'listen': False},   # EADDRINUSE
        {'op': 'bind', 'p': 'pub/s2', 'slot': 2, 'listen': False},
        {'op': 'connect', 'p': 'pub/s2'},                         # ECONNREFUSED
        {'op': 'bind', 'p': 'ro/s', 'slot': 3, 'listen': False},     # EACCES for users
        {'op': 'mknod', 'p': 'pub/s3', 'kind': 'sock', 'mode': stat.S_IFSOCK | 0o666,
         'dev': [0, 0]},
        # fd calls
        keep(1, 'pub/f', 'RDWR'),
        fop(1, 'lseek', whence=2, off=0), fop(1, 'lseek', whence=1, off=-1),
        fop(1, 'lseek', whence=0, off=-1),                       # EINVAL
        fop(1, 'lseek', whence=3, off=0), fop(1, 'lseek', whence=4, off=0),
        fop(1, 'lseek', whence=3, off=1 << 20),                  # ENXIO past the end
        fop(1, 'lseek', whence=9, off=0),                        # EINVAL
        fop(1, 'fallocate', mode=0, off=0, len=8192),
        fop(1, 'fallocate', mode=1, off=0, len=1 << 20),         # KEEP_SIZE
        fop(1, 'fallocate', mode=3, off=0, len=4096),            # PUNCH_HOLE
        fop(1, 'fallocate', mode=2, off=0, len=4096),            # EOPNOTSUPP alone
        fop(1, 'fallocate', mode=0, off=0, len=0),               # EINVAL
        fop(1, 'lseek', whence=4, off=0), fop(1, 'lseek', whence=3, off=0),
        fop(1, 'pfallocate', off=0, len=16384),
        fop(1, 'trunc', len=5),
        fop(1, 'fsync'), fop(1, 'fsync', data=True),
        fop(1, 'getfl'), fop(1, 'dup', pos=True), fop(1, 'dup', cloexec=True),
        fop(1, 'setfl', flags=['APPEND'], nonblock=False),
        fop(1, 'setfl', flags=['NOATIME'], nonblock=True),       # EPERM unless owner
        fop(1, 'flock', how=2), fop(1, 'flock', how=1), fop(1, 'flock', how=8),
        fop(1, 'lk', cmd='setlk', type='wr', start=0, len=10),
        fop(1, 'lk', cmd='getlk', type='wr', start=0, len=0),
        fop(1, 'lk', cmd='ofd_getlk', type='wr', start=0, len=0),  # the POSIX lock
        fop(1, 'lk', cmd='ofd_setlk', type='rd', start=20, len=5),
        fop(1, 'lk', cmd='setlk', type='un', start=0, len=0),
        fop(1, 'lk', cmd='setlk', type='wr', start=-1, len=1),  # EINVAL
        fop(1, 'fstatfs'),
        keep(2, 'pub/f', 'RDONLY'),
        fop(2, 'lk', cmd='setlk', type='wr', start=0, len=0),  # EBADF: not open for writing
        fop(2, 'flock', how=2),                                  # fd 1's was released above
        keep(3, 'adir', 'RDONLY', 'DIRECTORY'),
        fop(3, 'getdents'),
        fop(3, 'openat', rel='f', flags=['RDONLY'], stat=True),
        fop(3, 'openat', rel='sub/../f', flags=['RDONLY'], stat=True),
        fop(3, 'openat', rel='n1', flags=['WRONLY', 'CREAT'], mode=0o600, stat=True),
        fop(3, 'lseek', whence=0, off=0),
        fop(3, 'getdents'),                                      # n1 now, and unlinked below
        {'op': 'unlink', 'p': 'adir/n1'},
        fop(3, 'lseek', whence=0, off=0),
        fop(3, 'getdents'),
        fop(3, 'getdents', size=1),                               # EINVAL: no room
        fop(3, 'fsync'),
        fop(3, 'fchdir'),
        {'op': 'stat', 'p': 'f', 'nofollow': False, 'cwd': True},
        {'op': 'open', 'p': 'n2', 'flags': ['WRONLY', 'CREAT'], 'mode': 0o600, 'cwd': True},
        {'op': 'rename', 'p': 'n2', 'p2': 'sub/../n3', 'flags': 0, 'cwd': True},
        {'op': 'unlink', 'p': 'n3', 'cwd': True},
        {'op': 'chdir', 'p': 'pub'},
        {'op': 'mkdir', 'p': 'cd', 'mode': 0o755, 'cwd': True},
        {'op': 'chdir', 'p': 'cd', 'cwd': True},
        {'op': 'rmdir', 'p': 'pub/cd'},                          # the cwd, removed
        {'op': 'open', 'p': 'n1', 'flags': ['WRONLY', 'CREAT'], 'cwd': True},   # ENOENT
        {'op': 'stat', 'p': '.', 'nofollow': False, 'cwd': True},
        {'op': 'statfs', 'p': 'adir'},
        # bad pointers
        {'op': 'efault', 'p': 'pub/f', 'call': 'open'},
        {'op': 'efault', 'p': 'pub/f', 'call': 'stat'},
        {'op': 'efault', 'p': 'pub/f', 'call': 'rename'},
        {'op': 'efault', 'p': 'lnk', 'call': 'readlink'},
        {'op': 'efault', 'p': 'pub/f', 'call': 'getx'},
        {'op': 'efault', 'p': 'pub/f', 'call': 'read'},
        {'op': 'efault', 'p': 'pub/f', 'call': 'write'},
        {'op': 'efault', 'p': 'adir', 'call': 'statfs'},
    ]
    if host:
        ops += [
            st('habs/f'), st('habs/d/g'), st('hfile'), st('hnone'), st('hdang'), st('hloop'),
            st('pub/hd/.'), st('hfile', True),
            {'op': 'read', 'p': 'hfile', 'flags': []},
            {'op': 'read', 'p': 'habs/x', 'flags': []},           # 0600 root: EACCES for users
            opn('hfile', 'WRONLY'),                              # EROFS (or EACCES)
            opn('hdang', 'WRONLY', 'CREAT'),                      # EROFS
            opn('hnone', 'WRONLY', 'CREAT'),                      # ENOENT: no parent
            opn('hloop', 'RDONLY'),                               # ELOOP
            {'op': 'mkdir', 'p': 'habs/n1', 'mode': 0o755},
            {'op': 'chmod', 'p': 'hfile', 'mode': 0o600},
            {'op': 'utime', 'p': 'hfile', 'kind': 'now', 'a': 0, 'm': 0, 'nofollow': False},
            {'op': 'listdir', 'p': 'habs'},
            {'op': 'readlink', 'p': 'habs'},
            {'op': 'chdir', 'p': 'habs'},                        # outside: the agent returns
            {'op': 'statfs', 'p': 'habs'},
            {'op': 'link', 'p': 'hfile', 'p2': 'pub/l4', 'follow': True},    # EXDEV
            {'op': 'symlink', 'p': 'pub/h2', 'target': host + '/d'},
            st('pub/h2/g'),
        ]
    return ops
