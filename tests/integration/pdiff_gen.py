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
