"""What the cache tests' agents (attr_agent.py, read_agent.py) share: a
change made while another thread, or a forked child, looks right after it.
probe(path) looks (a stat, reads); change(*op) makes the change."""
import json, os, sys, threading


def threaded(probe, change, op, path):
    """[the change's answer, another thread's probe once it returned]"""
    got, go = [], threading.Event()

    def prober():
        go.wait()
        got.append(probe(path))
    t = threading.Thread(target=prober)
    t.start()
    probe(path)  # this thread's own answer is kept too
    r = change(*op)
    go.set()
    t.join()
    return [r, got[0]]


def forked(probe, change, op, path):
    """the change's answer; a forked child's probe after it is printed first"""
    probe(path), probe(path)
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(wr)
        os.read(rd, 1)
        sys.stdout.write(json.dumps(probe(path)) + "\n")
        sys.stdout.flush()
        os._exit(0)
    os.close(rd)
    r = change(*op)
    os.write(wr, b"x")
    os.close(wr)
    os.waitpid(pid, 0)
    return r
