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
# One long-lived agent per (identity, side) performs them (pdiff_agent.py; the
# pool side's runs under danaus-run, or with --pool-side kernel as a plain
# process on the pool's compat mount, through the kernel's FUSE client); the
# trees and the generator are in
# pdiff_gen.py. The orchestrator (this file, as root) builds the
# trees directly on both backing directories, walks them after each operation
# (on Ceph: after each that may have changed them) and compares. After a
# difference it makes the pool's side the kernel's again, so that each
# mismatch is reported once and the tree goes on.
#
# Driven by perm-diff.sh (local backend) and ceph-perm-diff.sh (ceph-fuse is the
# oracle there); see --help for the options a reproducer line uses.
import argparse
import concurrent.futures
import errno
import grp
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
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pdiff_agent import (DAC_CAPS, EXPLICIT_AFTER, EXPLICIT_BEFORE,  # noqa: E402
                         FS_CAPS, ftype)
from pdiff_gen import (Gen, build_tree, conformance_ops, directed_ops,  # noqa: E402
                       probe_features)

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


# Operations that change no attribute compared here (atimes aside, which only
# the local backend compares, and walks after every operation).
READ_ONLY = {'read', 'stat', 'access', 'getx', 'listx', 'listdir', 'readlink', 'umask',
             'closeall', 'become', 'chdir', 'readlinkn', 'statfs', 'connect'}
FOP_READ_ONLY = {'read', 'stat', 'getx', 'lseek', 'getdents', 'dup', 'getfl', 'setfl', 'flock',
                 'lk', 'fchdir', 'fstatfs', 'fsync'}


def may_change(q, answer):
    """Whether the tree may differ after q answered alike on both sides: only if it
    succeeded and writes, for a failed request changes nothing in the kernel."""
    if 'e' in answer:
        return False
    op = q['op']
    if op in READ_ONLY:
        return False
    if op == 'fop':
        if q['sub'] == 'openat':
            return bool({'CREAT', 'TRUNC'} & set(q['flags']))
        return q['sub'] not in FOP_READ_ONLY
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
    for k in ('p', 'p2', 'cwd', 'pad', 'pad2', 'rel', 'target', 'name', 'flags', 'mode', 'uid',
              'gid', 'call', 'cmd', 'type', 'whence', 'off', 'start', 'len', 'how', 'n', 'kind',
              'a', 'm', 'value', 'nofollow', 'follow', 'eff', 'dev', 'data', 'mask', 'drop',
              'listen', 'slot', 'size', 'cloexec', 'nonblock'):
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
        elif k in ('p', 'p2', 'target', 'rel'):
            v = shorten(v)
        parts.append('%s=%s' % (k, v))
    return '%s(%s)' % (op, ', '.join(parts))


def shorten(v):
    """A path for a report line: runs of one character (a name at NAME_MAX, a
    './' padding) counted rather than printed."""
    v = re.sub(r'(.)\1{15,}', lambda m: '%s×%d' % (m.group(1), len(m.group(0))), v)
    v = re.sub(r'(\./){8,}', lambda m: '(./)×%d' % (len(m.group(0)) // 2), v)
    return repr(v)


def through_abs_link(q, tree):
    """Whether a path of q meets, before its last name (or at it, for link's
    AT_SYMLINK_FOLLOW), a symlink to an absolute target in tree (the kernel's
    snapshot before q)."""
    if not tree or q.get('cwd'):
        return False
    for key in ('p', 'p2'):
        if key not in q:
            continue
        names = [n for n in q[key].split('/')[1:] if n]
        upto = len(names) if key == 'p' and q.get('follow') else len(names) - 1
        for i in range(upto):
            e = tree.get('/'.join(names[:i + 1]))
            if e and e['type'] == 'l' and e.get('target', '').startswith('/'):
                return True
    return False


def fuse_notes(q, tree):
    """With --pool-side kernel, what the kernel may decide alone on a FUSE
    mount (without default_permissions, unchecked), named in the group header
    so that a .known line can say so: '.' or '..' after a name (resolved in the kernel's
    dcache: the directory named before is never searched by the filesystem),
    a name in a sticky directory (FUSE hides S_ISVTX from the VFS there: no
    protected_symlinks/regular/fifos, no sticky check before its own), and a
    device node, FIFO or socket (opened by the kernel alone)."""
    notes = ''
    paths = [q[k] for k in ('p', 'p2', 'rel') if k in q]
    if any({'.', '..'} & set(x.split('/')[1:]) and x.split('/')[0] not in ('.', '..')
           for x in paths):
        notes += ' (through name/. or name/..)'
    for key in ('p', 'p2'):
        if key not in q or not tree or q.get('cwd'):
            continue
        names = [n for n in q[key].split('/')[1:] if n]
        e = tree.get('/'.join(names[:-1]))
        if e and e['type'] == 'd' and int(e['mode'], 8) & 0o1002 == 0o1002:
            notes += ' (in a sticky directory)'
            break
    # the compat mount is nodev: opening a device node there is EACCES; a FIFO
    # is opened by the kernel alone, its permission asked of no one
    e = tree.get('/'.join(n for n in q['p'].split('/')[1:] if n)) \
        if tree and 'p' in q and not q.get('cwd') else None
    if e and e['type'] in ('c', 'b'):
        notes += ' (a device node)'
    elif e and e['type'] == 'p':
        notes += ' (a FIFO)'
    elif e and e['type'] == 's':
        notes += ' (a socket)'
    return notes


def op_key(q, abs_link=False):
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
    if op == 'efault':
        key += ' ' + q['call']
    if op == 'flseek':
        key += ' whence=%d' % q['whence']
    if op == 'ffallocate':
        key += ' mode=%#x' % q['mode']
    if op == 'flk':
        key += ' ' + q['cmd']
    if q.get('cwd'):
        key += ' (from the cwd)'
    if abs_link:
        key += ' (through an absolute symlink)'
    if q.get('pad') or q.get('pad2'):
        key += ' (padded to %s)' % '/'.join(str(q[k]) for k in ('pad', 'pad2') if q.get(k))
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
            if not re.match(r'\[([A-Z]+|\*)\] ', header):
                sys.exit('%s:%d: expected "[KIND] op: detail [@ tree regex]"' % (path, n))
            # '*' matches anything, every other character itself
            known.append((re.compile('.*'.join(map(re.escape, header.strip().split('*')))),
                          re.compile(pattern.strip()) if pattern else None))
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
        self.known = [k for path in args.known for k in load_known(path)]
        self.known_seen = {}
        self.agents = {}
        self.t0 = time.time_ns() - 2 * 10**9
        self.atime = args.backend == 'local'
        self.ops_done = 0
        self.observer_lag = 0  # time-only walk differences both clients disowned
        self.per_call = {}  # call -> [operations, answers that differ]
        self.dropped = False
        # what statfs must answer alike: the same filesystem's on the local backend;
        # on Ceph the oracle's type and flags are its FUSE mount's (FUSE_SUPER_MAGIC,
        # nosuid,nodev), where a pool answers as ceph.ko would: only the sizes
        # through a compat mount the kernel answers for FUSE (FUSE_SUPER_MAGIC, and
        # the flags of its mount: nosuid,nodev), as on Ceph's oracle
        # (a union's type is overlayfs's, as a kernel overlay's: not this oracle's)
        self.statfs_fields = ['type', 'bsize', 'namelen', 'frsize', 'flags'] \
            if args.backend == 'local' and args.pool_side == 'preload' \
            and not os.environ.get('DANAUS_TEST_UNION') \
            else ['bsize', 'namelen', 'frsize', 'flags'] \
            if args.backend == 'local' and args.pool_side == 'preload' \
            else ['bsize', 'namelen', 'frsize']
        self.snapper = concurrent.futures.ThreadPoolExecutor(2)
        self.spent = dict.fromkeys(('kernel ops', 'pool ops', 'walks', 'kernel walks', 'pool walks',
                                    'building', 'removing'), 0.0)

    def start_agents(self):
        a = self.a
        script = os.path.join(a.workdir, 'pdiff_agent.py')
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pdiff_agent.py'),
                    script)
        os.chmod(script, 0o755)
        # The system's python3: every identity can run it (the orchestrator's own may
        # live in root's home, as a pyenv one does).
        python = shutil.which('python3', path=AGENT_PATH) or sys.executable
        for name, prefix, _, _ in self.idents:
            for side, base in (('kernel', a.kernel_dir), ('pool', a.mount)):
                cmd = list(prefix)
                if side == 'pool' and a.pool_side == 'preload':
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

    def own_times_agree(self, seg, kern, pool):
        """True when, for every entry whose mtime the walk saw differ, the oracle's
        client and the pool's give times of one class (the walk's view lagged)."""
        for rel in kern:
            if rel not in pool or kern[rel].get('mtime') == pool[rel].get('mtime'):
                continue
            q = {'op': 'mtime', 'p': os.path.join(seg, rel) if rel else seg}
            k, p = self.both('root', q)
            if 'ns' not in k or 'ns' not in p or \
                    tclass(k['ns'], self.t0) != tclass(p['ns'], self.t0):
                return False
            print('    (the walk saw %s: mtime kernel=%s pool=%s; the clients themselves '
                  'say %s: a lagging view, not counted)' % (
                      rel, kern[rel]['mtime'], pool[rel]['mtime'], tclass(p['ns'], self.t0)))
        return True

    def record(self, where, index, who, q, k, p, lines, fields, before=None):
        key = op_key(q, through_abs_link(q, before))
        if self.a.pool_side == 'kernel':
            key += fuse_notes(q, before)
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
            sig = (sev, key, 'kernel %s, pool %s' % (ka, pa))
        else:
            sev = 'TREE'
            sig = (sev, key, 'differs in ' + ', '.join(sorted(fields)))
        if k != p and lines:
            sig = sig[:2] + (sig[2] + '; tree differs in ' + ', '.join(sorted(fields)),)
        m = {'where': where, 'index': index, 'who': who, 'op': describe(q, self.ids),
             'kernel': k, 'pool': p, 'tree': lines, 'sig': sig}
        header = '[%s] %s: %s' % sig
        for kh, kre in self.known:
            if kh.fullmatch(header) and \
                    (kre is None or (lines and all(kre.search(x) for x in lines))):
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
            gen = Gen(self.ids, seed, s, self.names, self.feats, self.a.host_dir)
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
            self.run_tree('c-' + name, '--directed %s  # its second tree,' % name,
                          [(name, q) for q in conformance_ops(self.ids, self.a.host_dir)])

    def run_tree(self, seg, where, ops):
        """Runs ops (identity, request) on a fresh copy of the tree on each side."""
        a = self.a
        t = time.monotonic()
        for d in (a.kernel_dir, a.pool_dir):
            build_tree(os.path.join(d, seg), self.ids, self.feats, a.host_dir)
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
                before = kern
                q = dict(q, seg=seg)
                for key in ('p', 'p2'):
                    if key in q and not q.get('cwd'):
                        q[key] = seg + '/' + q[key] if q[key] else seg
                if q['op'] == 'statfs' or q.get('sub') == 'fstatfs':
                    q['fields'] = self.statfs_fields
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
            if lines and a.backend == 'ceph' and fields <= {'mtime', 'ctime'}:
                # The trees are read through a third CephFS client, which sees a
                # write's times once the writer's caps are flushed: look once more,
                # then ask each side's own client.
                time.sleep(1.0)
                kern, pool = self.snap(seg)
                lines, fields = tree_diff(kern, pool)
                if lines and fields <= {'mtime'} and self.own_times_agree(seg, kern, pool):
                    self.observer_lag += 1
                    lines = []
            if lines and unwalked:
                lines.append('(the tree was not compared after: %s)' % '; '.join(
                    '%s %s %s' % (j, w, describe(x, self.ids)) for j, w, x, _, _ in unwalked
                    if j != 'setup'))
            unwalked = []
            if (k != p or lines) and not (q['op'] == 'fop' and q['slot'] in tainted):
                self.record(where, i, who, q, k, p, lines, fields, before)
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
        if self.observer_lag:
            print('  walks that lagged behind both clients (x%d, not counted)' % self.observer_lag)
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
    ap.add_argument('--backend', choices=['local', 'ceph'], default='local')
    ap.add_argument('--kernel-dir', help='the oracle: a kernel directory (or ceph-fuse mount)')
    ap.add_argument('--pool-dir', help="the pool's root, reached directly (as root)")
    ap.add_argument('--mount', help="the pool's mountpoint (as its clients see it)")
    ap.add_argument('--socket', help="the pool's socket")
    ap.add_argument('--pool', default='x', help='pool name for danaus-run')
    ap.add_argument('--run-bin', help='danaus-run')
    ap.add_argument('--pool-side', choices=['preload', 'kernel'], default='preload',
                    help="how the pool side's agents reach --mount: under danaus-run (the "
                    'preload library), or as plain processes through the kernel, on the '
                    "pool's compat mount (compat_mount = yes)")
    ap.add_argument('--workdir', help='for agent logs and the agent script copy')
    ap.add_argument('--host-dir', help='a read-only host directory for absolute symlinks '
                    '(perm-diff-lib.sh mounts one); without it there are none')
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
    ap.add_argument('--known', metavar='FILE', action='append', default=[],
                    help='known divergences, each with why: matched, shown, not counted '
                    '(may be given more than once: all files count)')
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
    for k in ('kernel_dir', 'pool_dir', 'mount') + \
            (('socket', 'run_bin') if a.pool_side == 'preload' else ()):
        if not getattr(a, k):
            ap.error('--%s is needed' % k.replace('_', '-'))
    if a.pool_side == 'kernel' and not os.path.ismount(a.mount):
        # else the pool side's agents would work on the bare directory beneath
        ap.error('--pool-side kernel: %s is not a mount (is compat_mount = yes set?)' % a.mount)
    if os.geteuid() != 0:
        ap.error('the orchestrator builds trees for several users: run it as root')
    if a.host_dir:
        # absolute symlinks lead there, for root identities too: it must be read-only
        # (and its parent: a '..' follows one), and /nonexistent/x must stay missing
        for d in (a.host_dir, os.path.dirname(a.host_dir)):
            if not os.statvfs(d).f_flag & os.ST_RDONLY:
                ap.error('--host-dir: %s is not on a read-only mount' % d)
        if os.path.lexists('/nonexistent'):
            ap.error('/nonexistent exists: the absolute symlinks to /nonexistent/x need it not to')
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
