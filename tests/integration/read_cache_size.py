# read_cache_size.py FILE METRICS POOL: run under a Ceph pool. Reads FILE
# (8 MiB) in 64 KiB preads, each twice (a block's data is kept from its
# second read), then prints the growth of the
# process's anonymous resident memory in KiB (/proc/self/smaps: the cache
# is such a mapping, which the kernel may merge with its neighbours); then
# reads its first 512 KiB three times and prints the pread requests the
# pool counted for the third; last, the growth while it reads FILE2 (8 MiB)
# once: a read once keeps nothing, even in a process that re-reads. Last,
# scattered whole pages of one block of FILE3 (never read before), read in
# turn three times: the preads the pool counted for the third round (a page
# is kept from its second read wherever it lies in its block).
import os, sys

from pool_metrics import requests_total

path, metrics, pool, path2, path3 = sys.argv[1:6]
BLOCK = 64 << 10


def anon():
    """The resident KiB of the process's anonymous mappings and heap."""
    total, counted = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                counted = len(parts) < 6 or parts[5] == "[heap]"
            elif parts[0] == "Rss:" and counted:
                total += int(parts[1])
    return total


def preads():
    return requests_total(metrics, pool, "pread")


def read(fd, length, times, each=1):
    for _ in range(times):
        for off in range(0, length, BLOCK):
            for _ in range(each):
                assert len(os.pread(fd, BLOCK, off)) == min(BLOCK, length - off)


fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
preads()  # the socket's first use: its allocations before the baseline
read(fd, BLOCK, 1)
before = anon()
read(fd, size, 1, each=2)
print(anon() - before)
read(fd, 512 << 10, 2)
n = preads()
read(fd, 512 << 10, 1)
print(preads() - n)
fd2 = os.open(path2, os.O_RDONLY)
before = anon()
read(fd2, os.fstat(fd2).st_size, 1)
print(anon() - before)
PAGES = [3, 9, 5, 14]
def scatter():
    for p in PAGES:
        off = 2 * BLOCK + p * 4096
        assert os.pread(fd3, 4096, off) == want[p]
want = {}
with open(path3, "rb") as f:  # (through the pool too: what the pages must read)
    data = f.read()
for p in PAGES:
    want[p] = data[2 * BLOCK + p * 4096:2 * BLOCK + (p + 1) * 4096]
fd3 = os.open(path3, os.O_RDONLY)
scatter()
scatter()
n = preads()
scatter()
print(preads() - n)
