# Calls relative to an open directory DIR on its symlink "l", which climbs
# above the pool's top (dirfd-walk.sh, ceph-dirfd.sh): each must stop at
# the top, as a path does, and find nothing there. Prints each call's
# outcome; run through the library.
import os
import sys

d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for name, call in (('chmod', lambda: os.chmod('l', 0o600, dir_fd=d)),
                   ('utime', lambda: os.utime('l', (1, 1), dir_fd=d)),
                   ('chown', lambda: os.chown('l', 65534, 65534, dir_fd=d)),
                   ('open', lambda: os.open('l', os.O_WRONLY | os.O_TRUNC, dir_fd=d)),
                   ('stat', lambda: os.stat('l', dir_fd=d))):
    try:
        call()
        print(name, 'reached something', end='; ')
    except FileNotFoundError:
        print(name, 'ENOENT', end='; ')
