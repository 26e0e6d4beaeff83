#!/usr/bin/env python3
# Union Differential Checker: the kernel's overlayfs is the union's oracle
#
# The same image layers twice: in OCI form (.wh.NAME whiteouts, .wh..wh..opq
# opaque directories) under a pool whose [union] stacks them, and converted to
# overlayfs form (0/0 character devices, trusted.overlay.opaque=y) under a
# kernel overlay mount. A seeded sequence of operations, each run by the same
# identity (root, two users) on both, one long-lived agent per identity and
# side (union_agent.py; the pool side's under danaus-run). Every answer must
# match; after each change the whole merged tree (walked by root's agents)
# must; at the end the upper layers too, whiteouts and opaque markers mapped
# to one form, and the lower layers must be as they were built.
#
#   union_diff.py layers --oci DIR --ovl DIR             the layers, both forms
#   union_diff.py run --kernel-mnt M --kernel-upper U ... the differential run
# union-diff.sh drives both; see --help for the reproducer options.
import argparse
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
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pdiff_agent import EXPLICIT_AFTER, EXPLICIT_BEFORE, EXPLICIT_TIMES, TREE_TIME  # noqa: E402

LAYERS = ['over', 'top', 'mid', 'base']  # top first, as lowerdir= and [union] lower = list them


class Ids:
    def __init__(self, alice, bob, share):
        self.A = pwd.getpwnam(alice).pw_uid
        self.Ag = pwd.getpwnam(alice).pw_gid
        self.B = pwd.getpwnam(bob).pw_uid
        self.Bg = pwd.getpwnam(bob).pw_gid
        self.S = grp.getgrnam(share).gr_gid
        self.alice, self.bob = alice, bob
        self.name = {0: 'root', self.A: 'alice', self.B: 'bob', -1: '-1'}
        self.gname = {0: 'root', self.Ag: 'alice', self.Bg: 'bob', self.S: 'share', -1: '-1'}


# ---------------------------------------------------------------------------
# the layers

def layer_spec(ids):
    """Each layer's entries, top layer first: (kind, path, attrs...).

    d PATH MODE UID GID        directory       f PATH MODE UID GID DATA [XATTRS]
    l PATH TARGET              symlink         h PATH EXISTING      hard link
    w PATH                     whiteout        o PATH               opaque directory
    """
    A, Ag, B, Bg, S = ids.A, ids.Ag, ids.B, ids.Bg, ids.S
    base = [
        ('d', 'etc', 0o755, 0, 0), ('f', 'etc/passwd', 0o644, 0, 0, 'root:x:0:0\n'),
        ('f', 'etc/shadow', 0o640, 0, S, 'secret\n'),
        ('f', 'etc/hosts', 0o644, 0, 0, '127.0.0.1 localhost\n'),
        ('d', 'bin', 0o755, 0, 0), ('f', 'bin/tool', 0o755, 0, 0, '#!/bin/sh\necho tool\n'),
        ('f', 'bin/sh', 0o755, 0, 0, 'not a shell\n'), ('l', 'bin/link', 'tool'),
        ('d', 'data', 0o755, 0, 0), ('f', 'data/a.txt', 0o644, 0, 0, 'base a\n'),
        ('f', 'data/b.txt', 0o644, 0, 0, 'base b\n'),
        ('f', 'data/big', 0o644, 0, 0, ''.join('line %06d\n' % i for i in range(12000))),
        ('f', 'data/hl1', 0o644, 0, 0, 'linked\n'), ('h', 'data/hl2', 'data/hl1'),
        ('f', 'data/x.attr', 0o644, 0, 0, 'x\n', {'user.color': b'red', 'user.n': b'1'}),
        ('f', 'data/rw', 0o666, 0, 0, 'anyone\n'), ('f', 'data/ro', 0o444, 0, 0, 'read only\n'),
        ('f', 'data/alices', 0o664, A, S, 'alice, group share\n'),
        ('d', 'home', 0o755, 0, 0), ('d', 'home/alice', 0o750, A, Ag),
        ('f', 'home/alice/notes', 0o600, A, Ag, 'notes\n'),
        ('f', 'home/alice/pub', 0o644, A, Ag, 'pub\n', {'user.mine': b'yes'}),
        ('d', 'home/bob', 0o755, B, Bg), ('f', 'home/bob/pub.txt', 0o644, B, Bg, 'bob pub\n'),
        ('f', 'home/bob/private', 0o600, B, Bg, 'bob private\n'),
        ('d', 'home/bob/sub', 0o700, B, Bg), ('f', 'home/bob/sub/deep', 0o644, B, Bg, 'deep\n'),
        ('d', 'shared', 0o1777, 0, 0), ('f', 'shared/alice-file', 0o644, A, Ag, 'a\n'),
        ('f', 'shared/bob-file', 0o600, B, Bg, 'b\n'),
        ('f', 'shared/group-file', 0o664, A, S, 'g\n'),
        ('d', 'shared/alice-dir', 0o755, A, Ag), ('f', 'shared/alice-dir/x', 0o644, A, Ag, 'x\n'),
        ('d', 'setgid', 0o2775, 0, S), ('f', 'setgid/f', 0o664, 0, S, 'sg\n'),
        ('d', 'gone', 0o755, 0, 0), ('f', 'gone/g1', 0o644, 0, 0, 'g1\n'),
        ('d', 'gone/sub', 0o755, 0, 0), ('f', 'gone/sub/g2', 0o644, 0, 0, 'g2\n'),
        ('d', 'opq', 0o755, 0, 0), ('f', 'opq/old1', 0o644, 0, 0, 'old1\n'),
        ('f', 'opq/old2', 0o644, 0, 0, 'old2\n'),
        ('d', 'turn', 0o755, 0, 0), ('f', 'turn/child', 0o644, 0, 0, 'child\n'),
        ('f', 'flip', 0o644, 0, 0, 'flip file\n'),
        ('d', 'rmd', 0o777, 0, 0), ('f', 'rmd/only', 0o644, 0, 0, 'only\n'),
        ('d', 'empty', 0o777, 0, 0),
        ('d', 'deep', 0o755, 0, 0), ('d', 'deep/a', 0o755, 0, 0), ('d', 'deep/a/b', 0o755, 0, 0),
        ('d', 'deep/a/b/c', 0o777, 0, 0), ('f', 'deep/a/b/c/file', 0o644, 0, 0, 'deep\n'),
        ('l', 'lnk-dir', 'data'), ('l', 'broken', 'nowhere'),
        ('d', 'merged', 0o777, 0, 0), ('f', 'merged/m0', 0o644, 0, 0, 'm0\n'),
        ('d', 'merged/sub', 0o755, 0, 0), ('f', 'merged/sub/s0', 0o644, 0, 0, 's0\n'),
        ('d', 'big', 0o777, 0, 0),
    ] + [('f', 'big/e%03d' % i, 0o644, 0, 0, 'e%d\n' % i) for i in range(200)]
    mid = [
        ('w', 'gone'), ('w', 'data/b.txt'), ('o', 'opq'), ('f', 'opq/new1', 0o644, 0, 0, 'new1\n'),
        ('f', 'turn', 0o644, 0, 0, 'now a file\n'),
        ('d', 'flip', 0o755, 0, 0), ('f', 'flip/inside', 0o644, 0, 0, 'inside\n'),
        ('f', 'data/a.txt', 0o644, 0, 0, 'mid a\n'), ('f', 'data/c.txt', 0o600, A, Ag, 'c\n'),
        ('f', 'etc/hosts', 0o600, 0, 0, 'mid hosts\n'),
        ('f', 'merged/m1', 0o644, 0, 0, 'm1\n'), ('f', 'merged/sub/s1', 0o644, 0, 0, 's1\n'),
        ('f', 'home/alice/mid', 0o640, A, Ag, 'alice mid\n'),
    ] + [('w', 'big/e%03d' % i) for i in range(50)] + \
        [('f', 'big/m%03d' % i, 0o644, 0, 0, 'm%d\n' % i) for i in range(100)]
    top = [
        ('f', 'data/d.txt', 0o644, 0, 0, 'd\n'), ('f', 'merged/m2', 0o644, 0, 0, 'm2\n'),
        ('w', 'bin/tool'), ('w', 'ghost'), ('w', 'merged/m0'),
        ('d', 'etc/newdir', 0o755, 0, 0), ('f', 'etc/newdir/conf', 0o644, 0, 0, 'conf\n'),
        ('f', 'data/x.attr', 0o644, 0, 0, 'x top\n', {'user.color': b'blue'}),
        ('w', 'home/alice/notes'), ('o', 'merged/sub'), ('f', 'merged/sub/s2', 0o644, 0, 0, 's2\n'),
    ]
    over = [
        ('d', 'gone', 0o700, 0, 0), ('f', 'gone/fresh', 0o644, 0, 0, 'fresh\n'),
        ('f', 'opq/new2', 0o644, 0, 0, 'new2\n'), ('w', 'turn'),
        ('d', 'empty2', 0o755, A, Ag),
    ] + [('f', 'big/o%03d' % i, 0o644, 0, 0, 'o%d\n' % i) for i in range(50)]
    return {'over': over, 'top': top, 'mid': mid, 'base': base}


def dir_attrs(spec):
    """A directory's (mode, uid, gid) as the lowest layer that defines it says: an
    upper layer's implicit parent directories are made alike (a layer tar holds
    them with the image's attributes), so the merged directory is the same."""
    out = {}
    for name in reversed(LAYERS):
        for e in spec[name]:
            if e[0] == 'd':
                out.setdefault(e[1], e[2:5])
    return out


def build_layers(ids, oci_root, ovl_root):
    spec = layer_spec(ids)
    dattrs = dir_attrs(spec)
    for form, root in (('oci', oci_root), ('ovl', ovl_root)):
        if not root:
            continue
        for name in LAYERS:
            build_layer(os.path.join(root, name), spec[name], dattrs, form)


def build_layer(top, entries, dattrs, form):
    os.makedirs(top)
    os.chmod(top, 0o755)
    made = ['']

    def parent(path):
        d = os.path.dirname(path)
        if d and not os.path.isdir(os.path.join(top, d)):
            parent(d)
            mode, uid, gid = dattrs.get(d, (0o755, 0, 0))
            mkdir(d, mode, uid, gid)

    def mkdir(path, mode, uid, gid):
        p = os.path.join(top, path)
        os.mkdir(p)
        os.chown(p, uid, gid)
        os.chmod(p, mode)
        made.append(path)

    for e in entries:
        kind, path = e[0], e[1]
        parent(path)
        p = os.path.join(top, path)
        if kind == 'd':
            mkdir(path, *e[2:5])
            continue
        if kind == 'f':
            with open(p, 'w') as f:
                f.write(e[5])
            os.chown(p, e[3], e[4])
            os.chmod(p, e[2])
            for n, v in (e[6] if len(e) > 6 else {}).items():
                os.setxattr(p, n, v)
        elif kind == 'l':
            os.symlink(e[2], p)
        elif kind == 'h':
            os.link(os.path.join(top, e[2]), p)
        elif kind == 'w':
            if form == 'oci':
                p = os.path.join(os.path.dirname(p), '.wh.' + os.path.basename(p))
                open(p, 'w').close()
                continue  # its time: below, with the other '.wh.' files
            else:
                os.mknod(p, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        elif kind == 'o':
            if not os.path.isdir(p):
                mode, uid, gid = dattrs.get(path, (0o755, 0, 0))
                mkdir(path, mode, uid, gid)
            if form == 'oci':
                p = os.path.join(p, '.wh..wh..opq')
                open(p, 'w').close()
            else:
                os.setxattr(p, 'trusted.overlay.opaque', b'y')
            continue
        made.append(path)
    # every time the tree's own (children first: making one changes its directory)
    for path in sorted(set(made), key=lambda r: -r.count('/') - (1 if r else 0)):
        os.utime(os.path.join(top, path) if path else top, ns=(TREE_TIME, TREE_TIME),
                 follow_symlinks=False)
    for dirpath, dirs, files in os.walk(top):
        for n in files:
            if n.startswith('.wh.'):
                os.utime(os.path.join(dirpath, n), ns=(TREE_TIME, TREE_TIME))
        os.utime(dirpath, ns=(TREE_TIME, TREE_TIME))


def merged_names(spec):
    """Every path that is in some layer (whiteouts' names too): the generator's
    starting vocabulary, independent of what either side answers."""
    names = set()
    for name in LAYERS:
        for e in spec[name]:
            p = e[1]
            while p:
                names.add(p)
                p = os.path.dirname(p)
    return sorted(names)


# ---------------------------------------------------------------------------
# the generator: a pure function of the seed (and the layers' names)

NEW_IN = ['', 'data', 'etc', 'home/alice', 'home/bob', 'shared', 'opq', 'merged', 'merged/sub',
          'gone', 'setgid', 'empty', 'rmd', 'deep/a/b/c', 'flip', 'empty2']


class Gen:
    def __init__(self, ids, seed, spec):
        self.ids = ids
        self.r = random.Random(seed)
        # not big/: the concurrent readdir check has it to itself
        self.names = [n for n in merged_names(spec) if n != 'big' and not n.startswith('big/')]
        self.fresh = ['%s/%s' % (d, n) if d else n for d in NEW_IN for n in ('n0', 'n1')]
        # names the union keeps for itself: never made, never shown (RESERVED)
        self.fresh += ['.wh.x', 'data/.wh.a.txt', 'opq/.wh..wh..opq']
        self.dirs = sorted({os.path.dirname(n) for n in self.names if '/' in n} |
                           {e[1] for lay in spec.values() for e in lay if e[0] in 'do'} -
                           {'big'})
        self.made = []
        self.kept = {}
        self.k = 0

    def dir(self):
        if self.made and self.r.random() < 0.3:
            return self.r.choice(self.made)
        return self.r.choice(self.dirs)

    def path(self):
        r = self.r.random()
        if r < 0.6:
            return self.r.choice(self.names)
        if r < 0.8 and self.made:
            return self.r.choice(self.made)
        return self.r.choice(self.fresh)

    def new(self):
        p = self.r.choice(self.fresh) if self.r.random() < 0.7 else self.r.choice(self.names)
        if p not in self.made and p not in self.names:
            self.made.append(p)
        return p

    def who(self):
        return self.r.choice(['root', 'root', 'alice', 'bob'])

    def data(self):
        self.k += 1
        return 'write %d %s\n' % (self.k, 'x' * self.r.choice([0, 10, 300, 5000]))

    def op(self):
        r, I = self.r, self.ids
        ops = [
            ('stat', 12), ('access', 5), ('read', 8), ('readlink', 3), ('listdir', 8),
            ('write', 8), ('append', 5), ('create', 5), ('truncate', 4), ('chmod', 4),
            ('chown', 4), ('utime', 4), ('setx', 4), ('removex', 3), ('getx', 3), ('listx', 2),
            ('link', 3), ('symlink', 3), ('mkdir', 6), ('rmdir', 5), ('unlink', 6),
            ('rename', 7), ('renamedir', 4), ('mkfifo', 1), ('keep', 3), ('fread', 4),
        ]
        total = sum(w for _, w in ops)
        x = r.randrange(total)
        for op, w in ops:
            if x < w:
                break
            x -= w
        q = {'op': op}
        if op == 'stat':
            q.update(p=self.path(), nofollow=r.random() < 0.5)
        elif op == 'access':
            q.update(p=self.path(), mode=r.choice([0, 1, 2, 4, 6, 7]), eff=False,
                     nofollow=False)
        elif op in ('read', 'readlink', 'listdir', 'listx'):
            q.update(p=self.path())
            if op == 'read':
                q['flags'] = ['RDONLY']
            if op == 'listx':
                q['nofollow'] = r.random() < 0.3
        elif op == 'write':
            q.update(p=self.path(), flags=r.choice([['WRONLY'], ['RDWR'], ['WRONLY', 'TRUNC'],
                                                    ['WRONLY', 'APPEND'], ['RDWR', 'TRUNC']]),
                     data=self.data())
        elif op == 'append':
            q.update(p=self.path(), data=self.data())
        elif op == 'create':
            q.update(op='write', p=self.new(),
                     flags=r.choice([['WRONLY', 'CREAT'], ['WRONLY', 'CREAT', 'EXCL'],
                                     ['RDWR', 'CREAT', 'TRUNC']]),
                     mode=r.choice([0o644, 0o600, 0o666, 0o755, 0o2755]), data=self.data())
        elif op == 'truncate':
            q.update(p=self.path(), len=r.choice([0, 3, 100, 70000]))
        elif op == 'chmod':
            q.update(p=self.path(), mode=r.choice([0o600, 0o644, 0o755, 0o700, 0o777, 0o2775,
                                                   0o1777, 0o000]))
        elif op == 'chown':
            q.update(p=self.path(), uid=r.choice([-1, -1, 0, I.A, I.B]),
                     gid=r.choice([-1, 0, I.Ag, I.S, I.Bg]), nofollow=r.random() < 0.3)
        elif op == 'utime':
            kind = r.choice(['explicit', 'explicit', 'now', 'null', 'omit_explicit'])
            q.update(p=self.path(), kind=kind, a=r.choice(EXPLICIT_TIMES[1:3]),
                     m=r.choice(EXPLICIT_TIMES[1:3]), nofollow=r.random() < 0.3)
        elif op == 'setx':
            q.update(p=self.path(), name=r.choice(['user.color', 'user.n', 'user.new']),
                     value=r.choice([b'green', b'', b'v' * 40]).hex(),
                     flags=r.choice([0, 0, 1, 2]), nofollow=False)
        elif op in ('removex', 'getx'):
            q.update(p=self.path(), name=r.choice(['user.color', 'user.n', 'user.mine',
                                                   'user.new']), nofollow=False)
        elif op == 'link':
            q.update(p=self.path(), p2=self.new(), follow=False)
        elif op == 'symlink':
            q.update(p=self.new(), target=r.choice(['data/a.txt', '../data', 'nowhere',
                                                    'gone/g1', '.wh.x']))
        elif op == 'mkdir':
            q.update(p=self.new() if r.random() < 0.6 else self.path(),
                     mode=r.choice([0o755, 0o700, 0o777, 0o2775]))
        elif op == 'rmdir':
            q.update(p=self.dir() if r.random() < 0.7 else self.path())
        elif op == 'unlink':
            q.update(p=self.path())
        elif op == 'renamedir':
            q.update(op='rename', p=self.dir(), p2=self.new() if r.random() < 0.7 else self.dir(),
                     flags=r.choice([0, 0, 1]))
        elif op == 'rename':
            q.update(p=self.path(), p2=self.new() if r.random() < 0.6 else self.path(),
                     flags=r.choice([0, 0, 0, 1]))  # 1: RENAME_NOREPLACE
        elif op == 'mkfifo':
            q.update(p=self.new(), mode=0o644)
        elif op == 'keep':
            # a file held open across what later calls do to it (copy-up,
            # rename, unlink): reads through it are compared (fread)
            who = self.who()
            q.update(p=self.path(), flags=['RDONLY'], slot=r.randrange(3))
            self.kept[who, q['slot']] = q['p']
            return who, q
        elif op == 'fread':
            if not self.kept:
                return self.op()
            who, slot = r.choice(sorted(self.kept))
            # p: what the descriptor was opened as (for the report; the agent
            # reads through the descriptor only)
            return who, {'op': 'fop', 'sub': 'hash', 'slot': slot, 'p': self.kept[who, slot]}
        return self.who(), q


# ---------------------------------------------------------------------------
# the agents

AGENT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'
UMASK = {'root': 0o022, 'alice': 0o002, 'bob': 0o077}


class AgentError(Exception):
    pass


class AgentProc:
    def __init__(self, name, side, cmd, logpath, timeout):
        self.name, self.side, self.timeout = name, side, timeout
        self.log = open(logpath, 'wb')
        self.logpath = logpath
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.log, cwd='/',
                                  env={'PATH': AGENT_PATH, 'LANG': 'C.UTF-8',
                                       'PYTHONDONTWRITEBYTECODE': '1'})
        self.buf = b''
        self.last = None

    def readline(self):
        end = time.monotonic() + self.timeout
        fd = self.p.stdout.fileno()
        while b'\n' not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AgentError('%s/%s: no answer in %ds to %s' % (
                    self.name, self.side, self.timeout, json.dumps(self.last)))
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                try:
                    with open(self.logpath) as f:
                        tail = f.read()[-2000:]
                except OSError:
                    tail = ''
                raise AgentError('%s/%s: exited (%s) at %s\n%s' % (
                    self.name, self.side, self.p.poll(), json.dumps(self.last), tail))
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


# ---------------------------------------------------------------------------
# comparing

def tclass(ns, t0):
    """A time is an explicit value (the layers' or a utimensat's: must be equal)
    or 'now' (set during the run: both sides must agree that it is)."""
    if ns < EXPLICIT_BEFORE or ns > EXPLICIT_AFTER:
        return 'T%d' % ns
    return 'now' if ns >= t0 else 'old:%d' % ns


def norm_answer(a, t0):
    if 'mtime' in a:
        a = dict(a, mtime=tclass(a['mtime'], t0))
    return a


def norm_tree(tree, t0):
    return {rel: norm_answer(e, t0) for rel, e in tree.items()}


def tree_diff(k, p):
    """{path: [difference lines]}"""
    out = {}
    for path in sorted(set(k) | set(p)):
        if path not in p:
            out[path] = ['only on the kernel side (%s)' % k[path].get('type')]
        elif path not in k:
            out[path] = ['only through the pool (%s)' % p[path].get('type')]
        else:
            lines = []
            for f in sorted(set(k[path]) | set(p[path])):
                a, b = k[path].get(f), p[path].get(f)
                if a == b:
                    continue
                # each line says the kernel's type of the entry: a known
                # divergence may be one of directories only
                t = '(%s) ' % k[path].get('type')
                if f == 'xattr':
                    for n in sorted(set(a or {}) | set(b or {})):
                        if (a or {}).get(n) != (b or {}).get(n):
                            lines.append(t + 'xattr %s kernel=%s pool=%s' % (
                                n, (a or {}).get(n, '-'), (b or {}).get(n, '-')))
                else:
                    lines.append(t + '%s kernel=%s pool=%s' % (f, a, b))
            if lines:
                out[path] = lines
    return out


def ident_labels(tree, prev, backing, moves=True):
    """st_ino and st_dev as what stays the same, so that two unions on other
    inodes compare. A path's inode is 'same' as at the last walk (prev: path
    -> inode, carried from walk to walk), 'changed' (a copy-up that gives a
    new number shows so) or 'new'; with moves, a new number 'from' a path
    gone since that had it (a rename: one call between walks, so never a
    freed number that came back); 'as' the first of its names when it has
    several. A device is 'instance' (the root's, not the layers' filesystem's),
    'backing' (the layers' own) or 'other'."""
    now, names = {}, {}
    for rel in sorted(tree):
        if 'ino' in tree[rel]:
            now[rel] = tree[rel]['ino']
            names.setdefault(now[rel], []).append(rel)
    had = {ino: rel for rel, ino in prev.items()}
    root_dev = tree.get('', {}).get('dev')
    for rel, ino in now.items():
        e = tree[rel]
        dev = e.pop('dev')
        del e['ino']
        label = 'new' if rel not in prev else 'same' if prev[rel] == ino else 'changed'
        if label != 'same' and moves and ino in had and had[ino] not in now:
            label += ' from ' + (had[ino] or '.')
        if len(names[ino]) > 1:
            label += ' as ' + (names[ino][0] or '.')
        e['ino'] = label
        e['dev'] = 'backing' if dev == backing else 'instance' if dev == root_dev else 'other'
    prev.clear()
    prev.update(now)


def diff_fields(lines):
    fs = set()
    for x in lines:
        x = re.sub(r'^\(.*?\) ', '', x)
        if x.startswith('only '):
            fs.add('exists')
        elif x.startswith('xattr '):
            fs.add('xattr')
        else:
            fs.add(x.split(' ', 1)[0])
    return fs


def read_upper(root, t0, form):
    """An upper layer as a tree of its meaning: whiteouts (in overlayfs form a 0/0
    character device, in OCI form an empty '.wh.NAME') as type 'W'; opaque
    directories (the xattr, or a '.wh..wh..opq' inside) with opaque=y. Read
    directly (as root), not through either union. overlayfs's other
    trusted.overlay.* xattrs (origin, impure) are its bookkeeping, not what a
    union shows: left out, as the union's user.danaus.origin. In overlayfs form a '.wh.' name is a file a caller
    made (overlayfs lets them; the union cannot, its layers being OCI's): left
    out too, the calls that made it are compared as RESERVED."""
    out = {}

    def walk(rel):
        p = os.path.join(root, rel) if rel else root
        st = os.lstat(p)
        e = {'type': stat_type(st), 'mode': '%04o' % stat.S_IMODE(st.st_mode),
             'uid': st.st_uid, 'gid': st.st_gid, 'mtime': tclass(st.st_mtime_ns, t0)}
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            out[rel] = {'type': 'W'}
            return
        if not stat.S_ISDIR(st.st_mode):
            e['nlink'] = st.st_nlink
            e['size'] = st.st_size
        if stat.S_ISLNK(st.st_mode):
            e['target'] = os.readlink(p)
        if stat.S_ISREG(st.st_mode):
            with open(p, 'rb') as f:
                e['sha'] = hashlib.sha1(f.read()).hexdigest()[:12]
        xs = {}
        for n in os.listxattr(p, follow_symlinks=False):
            if n == 'user.danaus.origin' and form == 'oci':
                continue  # the union's bookkeeping, as overlayfs's origin
            if n.startswith('user.'):
                xs[n] = os.getxattr(p, n, follow_symlinks=False).hex()[:80]
            elif n == 'trusted.overlay.opaque':
                if os.getxattr(p, n, follow_symlinks=False) == b'y':
                    e['opaque'] = 'y'
        e['xattr'] = xs
        out[rel] = e
        if stat.S_ISDIR(st.st_mode):
            for n in sorted(os.listdir(p)):
                c = os.path.join(rel, n) if rel else n
                if n.startswith('.wh.') and form == 'ovl':
                    continue
                elif n == '.wh..wh..opq':
                    cst = os.lstat(os.path.join(p, n))
                    e['opaque'] = 'y' if stat.S_ISREG(cst.st_mode) and cst.st_size == 0 \
                        else 'bad marker'
                elif n.startswith('.wh.'):
                    cst = os.lstat(os.path.join(p, n))
                    w = os.path.join(rel, n[4:]) if rel else n[4:]
                    out[w] = {'type': 'W'} if stat.S_ISREG(cst.st_mode) and \
                        cst.st_size == 0 else {'type': 'bad whiteout'}
                else:
                    walk(c)
    walk('')
    # the upper's own root: its times and attributes are the fixture's
    out.pop('', None)
    return out


def in_layer(path):
    """Whether an overlayfs-form layer has an entry (not a whiteout) at path."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return not (stat.S_ISCHR(st.st_mode) and st.st_rdev == 0)


def stat_type(st):
    from pdiff_agent import ftype
    return ftype(st.st_mode)


def layers_state(root):
    """Everything of a directory of layers, by path: to check that nothing wrote
    to them. Not atimes and ctimes (reading the layers is allowed), nor
    directory sizes (CephFS gives the recursive byte count there, which
    its MDS brings up to date in its own time after the layers are built)."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            h = hashlib.sha1()
            if stat.S_ISREG(st.st_mode):
                with open(p, 'rb') as f:
                    h.update(f.read())
            elif stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode())
            xs = sorted((x, os.getxattr(p, x, follow_symlinks=False).hex())
                        for x in os.listxattr(p, follow_symlinks=False))
            out[os.path.relpath(p, root)] = (
                '%o' % st.st_mode, st.st_uid, st.st_gid, st.st_size if not stat.S_ISDIR(
                    st.st_mode) else '-', tclass(st.st_mtime_ns, 0), st.st_rdev, xs,
                h.hexdigest()[:12])
    return out


def load_known(paths):
    """Known divergences: (a header as this prints it, '*' matching anything;
    a regex every difference line must match, or None), as perm-diff.known."""
    known = []
    for path in paths:
        known += load_known_file(path)
    return known


def load_known_file(path):
    known = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            header, _, pattern = line.partition(' @ ')
            if not re.match(r'\[([A-Z-]+|\*)\] ', header):
                sys.exit('%s:%d: expected "[KIND] what: detail [@ line regex]"' % (path, n))
            known.append((re.compile('.*'.join(map(re.escape, header.strip().split('*')))),
                          re.compile(pattern.strip()) if pattern else None))
    return known


def answer_key(a):
    if 'e' in a:
        return a['e']
    for k in ('write_e', 'read_e'):
        if k in a:
            return 'open ok, %s %s' % (k[:-2], a[k])
    return 'ok'


def describe(q, ids):
    d = dict(q)
    op = d.pop('op')
    parts = []
    for k, v in d.items():
        if k in ('mode',) and isinstance(v, int):
            v = '0%o' % v
        elif k == 'uid':
            v = ids.name.get(v, v)
        elif k == 'gid':
            v = ids.gname.get(v, v)
        elif k == 'flags' and isinstance(v, list):
            v = '|'.join(v)
        elif k in ('data', 'value') and len(v) > 20:
            v = v[:20] + '…'
        elif k in ('a', 'm') and d.get('kind') in ('null', 'now'):
            continue
        parts.append('%s=%s' % (k, v))
    return '%s(%s)' % (op, ', '.join(parts))


def under(p, t):
    return p == t or t == '' or p.startswith(t + '/')


# ---------------------------------------------------------------------------
# the run

# differences of an entry that change nothing about what is under it
SHALLOW = {'mtime', 'xattr', 'sha', 'size', 'nlink', 'ino', 'dev', 'd_ino'}

MAY_CHANGE = {'write', 'append', 'truncate', 'chmod', 'chown', 'utime', 'setx', 'removex',
              'link', 'symlink', 'mkdir', 'rmdir', 'unlink', 'rename', 'mkfifo'}


class Runner:
    def __init__(self, a):
        self.a = a
        self.ids = Ids(a.alice, a.bob, a.share)
        self.spec = layer_spec(self.ids)
        self.t0 = time.time_ns() - 2 * 10**9
        self.agents = {}
        self.known = load_known(a.known)
        self.known_seen = {}
        self.groups = {}
        self.mismatches = 0
        # a path that differs -> (the header of the mismatch that made it differ,
        # whether what is under it may differ too: False when only its own
        # times, xattrs or contents do)
        self.after = {}
        self.reported_tree = {}  # path -> its difference lines as last reported
        self.per_op = {}
        self.consequences = 0
        self.inos = {'kernel': {}, 'pool': {}}  # ident_labels' prev, per side

    # -- agents
    def start(self):
        a = self.a
        for f in ('pdiff_agent.py', 'union_agent.py'):
            shutil.copy(os.path.join(HERE, f), os.path.join(a.workdir, f))
        script = os.path.join(a.workdir, 'union_agent.py')
        python = shutil.which('python3', path=AGENT_PATH) or sys.executable
        users = {'root': [], 'alice': self.ids.alice, 'bob': self.ids.bob}
        for name, u in users.items():
            prefix = ['setpriv', '--reuid', u, '--regid', u, '--init-groups', '--'] if u else []
            for side, base in (('kernel', a.kernel_mnt), ('pool', a.mount)):
                cmd = list(prefix)
                if side == 'pool' and not a.pool_is_kernel:
                    cmd += [a.run_bin, '--pool', a.pool, '--socket', a.socket, '--mountpoint',
                            a.mount, '--no-cgroup', '--']
                cmd += [python, script, '--agent', base]
                self.agents[name, side] = AgentProc(
                    name, side, cmd, os.path.join(a.workdir, 'agent-%s-%s.log' % (name, side)),
                    a.timeout)
        for (name, side), ag in self.agents.items():
            msg = ag.readline()
            if 'ready' not in msg:
                raise AgentError('%s/%s did not start: %s' % (name, side, msg))
        for name in users:
            self.both(name, {'op': 'umask', 'mask': UMASK[name]})

    def stop(self):
        for ag in self.agents.values():
            ag.stop()

    def both(self, who, q):
        return (norm_answer(self.agents[who, 'kernel'].ask(q), self.t0),
                norm_answer(self.agents[who, 'pool'].ask(q), self.t0))

    # -- mismatches
    def record(self, kind, what, detail, where, lines=()):
        header = '[%s] %s: %s' % (kind, what, detail)
        for khead, kline in self.known:
            if khead.fullmatch(header) and (kline is None or lines and all(
                    kline.search(x) for x in lines if not x.startswith('after '))):
                self.known_seen[header] = self.known_seen.get(header, 0) + 1
                print('KNOWN %s  (%s)' % (header, where))
                return header, True
        self.mismatches += 1
        print('MISMATCH %s\n    at %s' % (header, where))
        for x in list(lines)[:12]:
            print('    ' + x)
        g = self.groups.setdefault(header, [0, where])
        g[0] += 1
        return header, False

    def tainted(self, q):
        """The mismatch an operation's answer may follow from: one of its paths is
        (under) a path that already differs, or, for calls that see a whole
        directory (listdir, rmdir, rename), a differing path is under it."""
        for p in self.op_paths(q):
            for t, (h, deep) in self.after.items():
                if p == t or deep and (under(p, t) or under(os.path.dirname(p), t)):
                    return h
                if q['op'] in ('rmdir', 'rename') and under(t, p):
                    return h
                if q['op'] == 'listdir' and os.path.dirname(t) == p:
                    return h
        return None

    def op_paths(self, q):
        """An operation's paths, and where they lead through symlinks on the
        kernel's side (lnk-dir/x is data/x): a difference at either counts."""
        out = []
        top = os.path.realpath(self.a.kernel_mnt)
        for key in ('p', 'p2'):
            if key not in q:
                continue
            out.append(q[key])
            real = os.path.realpath(os.path.join(top, q[key]))
            if real.startswith(top + '/'):
                out.append(os.path.relpath(real, top))
        return out

    def facts(self, who, q):
        """What the kernel's side says of a call's paths before it, where that
        names a rule a known divergence is about (so that its line matches
        that case only): ' (protected_regular)' for O_CREAT of a file another
        user owns in a world-writable sticky directory; ' dir onto a lower
        dir' for a rename of a directory onto one a lower layer has."""
        top = self.a.kernel_mnt

        def st(rel):
            try:
                return os.lstat(os.path.join(top, rel))
            except OSError:
                return None
        uid = {'root': 0, 'alice': self.ids.A, 'bob': self.ids.B}[who]
        if q['op'] == 'write' and 'CREAT' in q['flags']:
            f, d = st(q['p']), st(os.path.dirname(q['p']))
            if f and d and stat.S_ISREG(f.st_mode) and d.st_mode & 0o1002 == 0o1002 and \
                    f.st_uid not in (uid, d.st_uid):
                return ' (protected_regular)'
        if q['op'] == 'rename':
            a, b = st(q['p']), st(q['p2'])
            if a and b and stat.S_ISDIR(a.st_mode) and stat.S_ISDIR(b.st_mode) and any(
                    in_layer(os.path.join(self.a.kernel_layers, lay, q['p2'])) for lay in LAYERS):
                return ' dir onto a lower dir'
        return ''

    def follows(self, path):
        """Whether a difference at path follows from one already reported."""
        return any(path == t or deep and under(path, t) for t, (_, deep) in self.after.items())

    def where(self, step):
        return 'DANAUS_BUILD=%s %s --seed %d --steps %d -v' % (
            os.environ.get('DANAUS_BUILD', 'build'), self.a.reproduce, self.a.seed, step)

    def walk_compare(self, step, what, call=None, follows=None, moves=True):
        """The merged trees after a call; follows: the mismatch the call's own
        paths followed from (then what it changed differently follows too);
        moves: one call since the last walk (ident_labels)."""
        k, p = self.both('root', {'op': 'walk', 'p': ''})
        if 'e' in k:
            raise AgentError('the kernel side cannot be walked: %s' % k)
        if 'e' in p:
            self.record('TREE', what, 'the merged tree cannot be walked: %s' % p['e'],
                        self.where(step))
            return
        # (a second overlayfs in the pool's place shows the '.wh.' names callers made)
        if p['wh'] and not self.a.pool_is_kernel:
            new = [x for x in p['wh'] if x not in self.reported_tree.get('.wh.', [])]
            if new:
                self.reported_tree['.wh.'] = p['wh']
                self.record('WHITEOUT-NAME', what, 'listed through the union',
                            self.where(step), new)
        ident_labels(k['tree'], self.inos['kernel'], os.lstat(self.a.kernel_upper).st_dev, moves)
        ident_labels(p['tree'], self.inos['pool'], os.lstat(self.a.pool_upper).st_dev, moves)
        kt, pt = norm_tree(k['tree'], self.t0), norm_tree(p['tree'], self.t0)
        diff = tree_diff(kt, pt)
        new = {}
        for path, lines in diff.items():
            if self.reported_tree.get(path) == lines:
                continue
            self.reported_tree[path] = lines
            new[path] = lines
        for path in list(self.reported_tree):
            if path != '.wh.' and path not in diff:
                del self.reported_tree[path]  # agrees again
        if not new:
            return
        # differences under a path that already differed follow from that mismatch
        fresh = {pa: ls for pa, ls in new.items() if not self.follows(pa)}
        if follows:
            for pa in fresh:
                self.after.setdefault(pa, (follows, True))
            fresh = {}
        self.consequences += len(new) - len(fresh)
        if not fresh:
            return
        lines = ['%s: %s' % (pa or '.', x) for pa, ls in fresh.items() for x in ls]
        if call:
            lines.insert(0, 'after ' + call)
        fields = set()
        for ls in fresh.values():
            fields |= diff_fields(ls)
        h, _ = self.record('TREE', what, 'differs in ' + ', '.join(sorted(fields)),
                           self.where(step), lines)
        for pa, ls in fresh.items():
            self.after.setdefault(pa, (h, not diff_fields(ls) <= SHALLOW))

    def run(self):
        a = self.a
        gen = Gen(self.ids, a.seed, self.spec)
        self.walk_compare(0, 'the layers, before any operation')
        self.readdir_check(0, 'before any operation')
        for step in range(1, a.steps + 1):
            who, q = gen.op()
            # before the call: it may change where the paths lead
            follows = self.tainted(q)
            facts = self.facts(who, q)
            k, p = self.both(who, q)
            if op_is(q, 'listdir'):
                # '.wh.' names that callers made through overlayfs (RESERVED);
                # through the union there must never be one
                if 'names' in k:
                    k['names'] = [n for n in k['names'] if not n.startswith('.wh.')]
                wh = [n for n in p.get('names', []) if n.startswith('.wh.')]
                if self.a.pool_is_kernel and 'names' in p:
                    p['names'] = [n for n in p['names'] if not n.startswith('.wh.')]
                elif wh:
                    self.record('WHITEOUT-NAME', 'listdir', 'listed through the union',
                                self.where(step), ['%s: %s' % (q['p'], ' '.join(wh))])
            op = q['op']
            cnt = self.per_op.setdefault('f' + q['sub'] if op == 'fop' else op, [0, 0])
            cnt[0] += 1
            if a.verbose:
                print('  %d %s %s -> %s%s' % (step, who, describe(q, self.ids), answer_key(k),
                                              '' if k == p else '  / pool %s' % answer_key(p)))
            if k != p:
                cnt[1] += 1
                t = follows
                if t:
                    self.consequences += 1
                    if a.verbose:
                        print('    (follows from: %s)' % t)
                else:
                    ka, pa = answer_key(k), answer_key(p)
                    if any('.wh.' in x for x in self.op_paths(q)):
                        # a '.wh.' name, or a symlink to one: overlayfs makes it,
                        # the union may not (its layers could not tell it from a
                        # whiteout)
                        kind = 'RESERVED'
                    elif ka != 'ok' and pa == 'ok':
                        kind = 'LAXER'
                    elif ka == 'ok' and pa != 'ok':
                        kind = 'STRICTER'
                    elif ka != pa:
                        kind = 'ERRNO'
                    else:
                        kind = 'VALUE'
                    detail = 'kernel %s, pool %s' % (ka, pa)
                    if kind == 'VALUE':
                        detail += ' (%s)' % ', '.join(sorted(
                            f for f in set(k) | set(p) if k.get(f) != p.get(f)))
                    h, _ = self.record(kind, op_key(q, facts), detail, self.where(step),
                                       ['%s %s' % (who, describe(q, self.ids)),
                                        'kernel: ' + json.dumps(k, sort_keys=True),
                                        'pool:   ' + json.dumps(p, sort_keys=True)])
                    for key in ('p', 'p2'):
                        if key in q:
                            self.after.setdefault(q[key], (h, True))
                    if kind == 'RESERVED':
                        follows = h  # what the kernel made of it, the union did not
            if op in MAY_CHANGE and not ('e' in k and 'e' in p):
                self.walk_compare(step, op_key(q, facts), '%s %s' % (who, describe(q, self.ids)),
                                  follows)
        self.readdir_check(a.steps, 'after the operations')
        self.upper_compare(a.steps)
        for side, root, was in (('kernel', a.kernel_layers, a.kernel_layers_state),
                                ('pool', a.pool_layers, a.pool_layers_state)):
            if not root:
                continue
            now = layers_state(root)
            changed = ['%s: %s -> %s' % (pa, was.get(pa, '(none)'), now.get(pa, '(none)'))
                       for pa in sorted(set(was) | set(now)) if was.get(pa) != now.get(pa)]
            if changed:
                self.record('LOWER-CHANGED', side, 'a lower layer was written to',
                            self.where(a.steps), changed)

    def readdir_check(self, step, when):
        """big/ (350 merged names: base's, whiteouts over 50 of them, mid's, over's)
        read in getdents64 calls of 600 bytes while bob creates and removes names in it:
        no name twice, no '.wh.' name, every name that was there throughout given,
        nothing that never was. Checked on each side on its own (the kernel's too,
        which says the check is sound); the order is each union's."""
        for side in ('kernel', 'pool'):
            rd, wr = self.agents['root', side], self.agents['bob', side]
            before = rd.ask({'op': 'listdir', 'p': 'big'})
            if 'e' in before:
                self.record('READDIR', 'big (%s)' % side, 'cannot list: %s' % before['e'],
                            self.where(step))
                continue
            before = set(before['names'])
            r = rd.ask({'op': 'gd_open', 'p': 'big', 'slot': 900})
            if 'e' in r:
                self.record('READDIR', 'big (%s)' % side, 'cannot open: %s' % r['e'],
                            self.where(step))
                continue
            seen, made, removed, i = [], set(), set(), 0
            while True:
                r = rd.ask({'op': 'gd_next', 'slot': 900, 'size': 600})
                if 'e' in r:
                    self.record('READDIR', 'getdents (%s)' % side, 'failed: %s' % r['e'],
                                self.where(step))
                    break
                if not r['names']:
                    break
                seen += r['names']
                # between two calls: a new name, and one of those there removed
                new = 'big/c%s%d' % (when[:1], i)
                wr.ask({'op': 'write', 'p': new, 'flags': ['WRONLY', 'CREAT'], 'mode': 0o644,
                        'data': 'c\n'})
                left = sorted(before - made - removed)
                gone = left[(i * 37) % len(left)]
                wr.ask({'op': 'unlink', 'p': 'big/' + gone})
                made.add(os.path.basename(new))
                removed.add(gone)
                i += 1
                if i > 400:
                    break
            rd.ask({'op': 'gd_close', 'slot': 900})
            after = set(wr.ask({'op': 'listdir', 'p': 'big'}).get('names', []))
            names = [n for n in seen if n not in ('.', '..')]
            bad = []
            dups = sorted(set(n for n in names if names.count(n) > 1))
            if dups:
                bad.append('names given twice: %s' % ' '.join(dups[:10]))
            wh = sorted(n for n in names if n.startswith('.wh.'))
            if wh:
                bad.append('whiteout names given: %s' % ' '.join(wh[:10]))
            missing = sorted(before - made - removed - set(names))
            if missing:
                bad.append('names there throughout, not given: %s' % ' '.join(missing[:10]))
            never = sorted(set(names) - before - made)
            if never:
                bad.append('names that never were: %s' % ' '.join(never[:10]))
            want = (before | made) - removed
            if after != want:
                bad.append('afterwards the directory holds %d names, not the %d expected' % (
                    len(after), len(want)))
            if bad:
                self.record('READDIR', 'big read in %d getdents calls while names come and '
                            'go (%s, %s)' % (i + 1, side, when), bad[0].split(':')[0],
                            self.where(step), bad)
        # both sides made and removed the same names: the merged trees agree again
        # (hundreds of calls since the last walk: a freed inode number may be back)
        self.walk_compare(step, 'the concurrent readdir (%s)' % when, moves=False)

    def upper_compare(self, step):
        a = self.a
        k = read_upper(a.kernel_upper, self.t0, 'ovl')
        p = read_upper(a.pool_upper, self.t0, 'ovl' if a.pool_is_kernel else 'oci')
        # A directory that no lower layer has: opaque or not, it hides nothing.
        # overlayfs marks one it makes in a merged directory opaque all the same
        # (ovl_create_upper: "just an optimization"), the union need not.
        for pa in set(k) | set(p):
            if not any(in_layer(os.path.join(a.kernel_layers, lay, pa)) for lay in LAYERS):
                for t in (k, p):
                    if pa in t:
                        t[pa].pop('opaque', None)
        diff = tree_diff(k, p)
        fresh = {pa: ls for pa, ls in diff.items() if not self.follows(pa)}
        self.consequences += len(diff) - len(fresh)
        print('  upper layers: %d entries (%d whiteouts, %d opaque) through overlayfs, %d through '
              'the union; %d differ, %d of them after an earlier difference at their path' % (
                  len(k), sum(e['type'] == 'W' for e in k.values()),
                  sum(e.get('opaque') == 'y' for e in k.values()), len(p), len(diff),
                  len(diff) - len(fresh)))
        if fresh:
            fields = set()
            for ls in fresh.values():
                fields |= diff_fields(ls)
            self.record('UPPER', 'the upper layer after the run',
                        'differs in ' + ', '.join(sorted(fields)), self.where(step),
                        ['%s: %s' % (pa, x) for pa, ls in fresh.items() for x in ls])

    def report(self):
        print()
        print('union-diff: seed %d, %d operations, %d mismatches in %d groups%s' % (
            self.a.seed, self.a.steps, self.mismatches, len(self.groups),
            ', %d differences that follow from them' % self.consequences
            if self.consequences else ''))
        print('  per call, answers as the kernel\'s / operations: ' + ', '.join(
            '%s %d/%d' % (c, n - bad, n) for c, (n, bad) in sorted(self.per_op.items())))
        if self.known_seen:
            print('  KNOWN DIVERGENCES SKIPPED (%s: each with its bug): %d kinds, %d times' % (
                ', '.join(map(os.path.basename, self.a.known)), len(self.known_seen),
                sum(self.known_seen.values())))
        for header, n in sorted(self.known_seen.items()):
            print('  KNOWN union divergence, skipped (x%d): %s' % (n, header))
        for header, (n, where) in self.groups.items():
            print('  %s  (x%d)\n      reproduce: %s' % (header, n, where))


def op_is(q, op):
    return q['op'] == op


def op_key(q, facts=''):
    """What groups mismatches: the call, its flags, and what the kernel's side
    said of its paths before it (facts: Runner.facts)."""
    op = q['op']
    key = 'f' + q['sub'] if op == 'fop' else op
    if op == 'write':
        key += ' ' + '|'.join(q['flags'])
    if op == 'rename' and q['flags']:
        key += ' NOREPLACE'
    return key + facts


def main():
    ap = argparse.ArgumentParser(description='Differential check of the union '
                                 'libservice against the kernel overlayfs.')
    sub = ap.add_subparsers(dest='cmd', required=True)
    lp = sub.add_parser('layers', help='build the layers in both forms')
    lp.add_argument('--oci', help='directory to hold the OCI-form layers')
    lp.add_argument('--ovl', help='directory to hold the overlayfs-form ones')
    rp = sub.add_parser('run', help='the differential run')
    rp.add_argument('--kernel-mnt', required=True, help='the kernel overlay mount')
    rp.add_argument('--kernel-upper', required=True, help="the overlay's upperdir")
    rp.add_argument('--kernel-layers', required=True, help="the overlay's lower layers (checked unchanged)")
    rp.add_argument('--pool-upper', required=True,
                    help="the union's upper layer, reached directly (as root)")
    rp.add_argument('--pool-layers', help="the union's lower layers, reached directly")
    rp.add_argument('--mount', required=True, help="the pool's mountpoint")
    rp.add_argument('--socket', help="the pool's socket")
    rp.add_argument('--pool', default='x', help='pool name for danaus-run')
    rp.add_argument('--run-bin', help='danaus-run')
    rp.add_argument('--pool-is-kernel', action='store_true',
                    help='--mount is a second kernel overlay (to test this harness): '
                    'its agents run without danaus-run')
    rp.add_argument('--workdir', required=True, help='for agent logs and the agent scripts')
    rp.add_argument('--seed', type=int, default=1)
    rp.add_argument("--steps", type=int, default=500, help='operations to run')
    rp.add_argument('--known', action='append', default=[],
                    help='a file of known divergences: shown, not counted (repeatable)')
    rp.add_argument('--timeout', type=float, default=20, help='seconds an agent may take')
    rp.add_argument('--reproduce', default='tests/integration/union-diff.sh',
                    help='the command a reproducer line names')
    rp.add_argument('-v', '--verbose', action='store_true', help='print every operation')
    for p in (lp, rp):
        p.add_argument('--alice', default='dn_alice')
        p.add_argument('--bob', default='dn_bob')
        p.add_argument('--share', default='dn_share')
    a = ap.parse_args()
    if os.geteuid() != 0:
        ap.error('run it as root (it builds layers for several users and switches to them)')
    if a.cmd == 'layers':
        build_layers(Ids(a.alice, a.bob, a.share), a.oci, a.ovl)
        return 0
    if not a.pool_is_kernel and not (a.socket and a.run_bin):
        ap.error('--socket and --run-bin are needed (or --pool-is-kernel)')
    a.kernel_layers_state = layers_state(a.kernel_layers) if a.kernel_layers else None
    a.pool_layers_state = layers_state(a.pool_layers) if a.pool_layers else None
    r = Runner(a)
    t = time.monotonic()
    try:
        r.start()
        r.run()
    except AgentError as e:
        print('union-diff: %s' % e)
        r.report()
        return 2
    finally:
        r.stop()
    r.report()
    print('  %.1f s' % (time.monotonic() - t))
    if r.known_seen:
        # for the verdict of union-diff.sh, which says so too
        with open(os.path.join(a.workdir, 'union-diff.known-seen'), 'a') as f:
            f.write('seed %d: %d\n' % (a.seed, sum(r.known_seen.values())))
    return 1 if r.mismatches else 0


if __name__ == '__main__':
    sys.exit(main())
