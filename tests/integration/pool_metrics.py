"""A pool's request counters, read from its metrics socket (the tests'
one reader of danaus_requests_total)."""
import socket


def requests_total(metrics_sock, pool, op):
    """requests of op the pool has served"""
    s = socket.socket(socket.AF_UNIX)
    s.connect(metrics_sock)
    data = b""
    while True:
        x = s.recv(65536)
        if not x:
            break
        data += x
    s.close()
    key = 'danaus_requests_total{pool="%s",op="%s"}' % (pool, op)
    for line in data.decode().splitlines():
        if line.startswith(key + " "):
            return int(line.split()[-1])
    return 0
