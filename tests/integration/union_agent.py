#!/usr/bin/env python3
# Union Differential Agent: pdiff_agent's agent with the calls union-diff adds
#
# One long-lived agent per (identity, side), as in perm-diff: JSON requests on
# stdin, one JSON answer a line. On top of pdiff_agent.Agent's operations:
# a walk of the whole merged tree (what union_diff.py compares after each
# change), stat with its mtime, reads that hash the whole file, and a
# directory read one getdents64 call at a time (the concurrent readdir check).
#
#   python3 union_agent.py --agent BASE
import ctypes
import errno
import hashlib
import json
import os
import stat
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pdiff_agent import Agent, c_check, flags_of, ftype, identity, libc  # noqa: E402

DT = {0: '?', 1: 'p', 2: 'c', 4: 'd', 6: 'b', 8: 'f', 10: 'l', 12: 's'}


def file_sha(path):
    h = hashlib.sha1()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()[:12]


def entry(path, st):
    """What is compared of one entry (the orchestrator turns mtime into a class)."""
    e = {'type': ftype(st.st_mode), 'mode': '%04o' % stat.S_IMODE(st.st_mode),
         'uid': st.st_uid, 'gid': st.st_gid, 'mtime': st.st_mtime_ns}
    if not stat.S_ISDIR(st.st_mode):
        # Directories: no nlink (overlayfs says 1 for a merged directory, by
        # convention, not a count) and no size (the backing filesystem's blocks).
        e['nlink'] = st.st_nlink
        e['size'] = st.st_size
    if stat.S_ISLNK(st.st_mode):
        e['target'] = os.readlink(path)
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        e['rdev'] = '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return e


def user_xattrs(path):
    xs = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as ex:
        return {'!list': errno.errorcode.get(ex.errno, str(ex.errno))}
    for n in sorted(names):
        if not n.startswith('user.'):
            continue
        try:
            xs[n] = os.getxattr(path, n, follow_symlinks=False).hex()[:80]
        except OSError as ex:
            xs[n] = '!' + errno.errorcode.get(ex.errno, str(ex.errno))
    return xs


def dir_entries(path):
    """A directory's (name, d_ino) pairs, '.' and '..' among them, as getdents64 gives them."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        buf = ctypes.create_string_buffer(32768)
        out = []
        while True:
            n = c_check(libc.getdents64(fd, buf, len(buf)))
            if n == 0:
                return out
            off = 0
            while off < n:
                d_ino, = struct.unpack_from('<Q', buf.raw, off)
                reclen, = struct.unpack_from('<H', buf.raw, off + 16)
                name = buf.raw[off + 19:off + reclen].split(b'\0', 1)[0].decode(
                    errors='surrogateescape')
                out.append((name, d_ino))
                off += reclen
    finally:
        os.close(fd)


def d_ino_mismatches(path, st, ents):
    """The names whose d_ino is not the st_ino lstat gives them: overlayfs with
    all layers on one filesystem keeps st_ino == d_ino for every entry
    (Documentation/filesystems/overlayfs.rst, "Inode properties"), '.' too.
    Not '..': overlayfs lists a directory that merges nothing as its layer
    lists it, so its '..' is the layer's parent, not the merged one (the
    union says the merged parent's, as lstat of '..' does)."""
    bad = []
    for name, d_ino in ents:
        if name == '..':
            continue
        try:
            want = st.st_ino if name == '.' else os.lstat(os.path.join(path, name)).st_ino
        except OSError:
            continue  # (gone meanwhile, or not searchable: the walk shows that)
        if d_ino != want:
            bad.append(name)
    return sorted(bad)


class UnionAgent(Agent):
    def op_walk(self, q):
        """The whole tree under p: entry attributes, inode numbers and devices,
        the names a directory lists with a d_ino that is not their st_ino,
        content hashes, symlink targets and user.* xattrs by relative path; 'wh' lists every '.wh.'
        name a directory listing showed (never allowed through a union)."""
        top = self.P(q)
        out, wh = {}, []
        todo = ['']
        while todo:
            rel = todo.pop()
            p = os.path.join(top, rel) if rel else top
            try:
                st = os.lstat(p)
            except OSError as ex:
                out[rel] = {'!lstat': errno.errorcode.get(ex.errno, str(ex.errno))}
                continue
            e = entry(p, st)
            # (the orchestrator turns them into what stays the same: ident_labels)
            e['ino'], e['dev'] = st.st_ino, st.st_dev
            e['xattr'] = user_xattrs(p)
            if stat.S_ISREG(st.st_mode):
                try:
                    e['sha'] = file_sha(p)
                except OSError as ex:
                    e['sha'] = '!' + errno.errorcode.get(ex.errno, str(ex.errno))
            if stat.S_ISDIR(st.st_mode):
                try:
                    ents = dir_entries(p)
                except OSError as ex:
                    e['!list'] = errno.errorcode.get(ex.errno, str(ex.errno))
                    ents = []
                e['d_ino'] = d_ino_mismatches(p, st, ents)
                names = [n for n, _ in ents if n not in ('.', '..')]
                if len(names) != len(set(names)):
                    e['dups'] = sorted(n for n in set(names) if names.count(n) > 1)
                for n in names:
                    c = os.path.join(rel, n) if rel else n
                    if n.startswith('.wh.'):
                        wh.append(c)
                    else:
                        todo.append(c)
            out[rel] = e
        return {'tree': out, 'wh': sorted(wh)}

    def op_stat(self, q):
        p = self.P(q)
        st = os.stat(p, follow_symlinks=not q['nofollow'])
        e = entry(p, st)
        if 'target' in e:
            del e['target']  # readlink answers that
        return e

    def op_read(self, q):
        fd = os.open(self.P(q), flags_of(q['flags']))
        try:
            h = hashlib.sha1()
            n = 0
            try:
                while True:
                    b = os.read(fd, 1 << 16)
                    if not b:
                        break
                    h.update(b)
                    n += len(b)
            except OSError as e:
                return {'read_e': errno.errorcode.get(e.errno, str(e.errno))}
            return {'len': n, 'sha': h.hexdigest()[:12]}
        finally:
            os.close(fd)

    def op_append(self, q):
        """open(O_WRONLY|O_APPEND), write, then the size through that fd."""
        fd = os.open(self.P(q), flags_of(['WRONLY', 'APPEND']))
        try:
            os.write(fd, q['data'].encode())
            return {'size': os.fstat(fd).st_size}
        finally:
            os.close(fd)

    def fop_hash(self, fd, q):
        """The whole file from offset 0 through a held descriptor."""
        h, n, off = hashlib.sha1(), 0, 0
        while True:
            b = os.pread(fd, 1 << 16, off)
            if not b:
                break
            h.update(b)
            off += len(b)
        return {'len': off, 'sha': h.hexdigest()[:12]}

    def op_gd_open(self, q):
        old = self.slots.pop(q['slot'], None)
        if old is not None:
            os.close(old)
        self.slots[q['slot']] = os.open(self.P(q), os.O_RDONLY | os.O_DIRECTORY)
        return {}

    def op_gd_next(self, q):
        """One getdents64 call of q['size'] bytes: the names it gave, [] at the end."""
        fd = self.slots[q['slot']]
        buf = ctypes.create_string_buffer(q['size'])
        n = c_check(libc.getdents64(fd, buf, len(buf)))
        out, off = [], 0
        while off < n:
            reclen, dtype = struct.unpack_from('<HB', buf.raw, off + 16)
            name = buf.raw[off + 19:off + reclen].split(b'\0', 1)[0].decode(errors='replace')
            out.append(name)
            off += reclen
        return {'names': out}

    def op_gd_close(self, q):
        os.close(self.slots.pop(q['slot']))
        return {}


def agent_main(base):
    out = sys.stdout.buffer
    inp = sys.stdin.buffer
    a = UnionAgent(base)
    out.write((json.dumps({'ready': identity()}) + '\n').encode())
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


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] != '--agent':
        sys.exit('usage: union_agent.py --agent BASE')
    sys.exit(agent_main(sys.argv[2]))
