#!/usr/bin/env python3
"""Compares two `python3 -m test -v` logs test by test.

pysuite_compare.py KERNEL_LOG DANAUS_LOG [KNOWN_FILE]

Every test that the kernel run reports "ok" must be "ok" in the Danaus run.
A test listed in KNOWN_FILE (its id, then a reason) is shown as KNOWN and
not counted. Exit status 1 on any other divergence, 2 when a log holds no
results or did not run to its end (a hang or a crash is never a pass).
"""
import re
import sys

# "test_x (test.test_mod.Class.test_x) ... ok", where output of the test may
# come between the dots and the verdict, or the verdict on a line of its own
START = re.compile(r"^(test\w*) \(([\w.]+)\)(?: \.\.\. |(?: \.\.\.)?$)", re.M)
VERDICT = re.compile(
    r"(?:^|\.\.\. )(ok|FAIL|ERROR|skipped|expected failure|unexpected success)\b", re.M)


def results(path):
    text = open(path, errors="replace").read()
    if "== Tests result:" not in text:
        print(f"{path}: the run did not finish (no '== Tests result:' line)")
        sys.exit(2)
    out = {}
    starts = list(START.finditer(text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        v = VERDICT.search(text, m.start() + len(m.group(0)) - 4, end)
        out[m.group(2)] = v.group(1) if v else "no verdict"
    return out


def known(path):
    out = {}
    if path:
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                test, _, reason = line.partition(" ")
                out[test] = reason.strip()
    return out


def main():
    kernel, danaus = results(sys.argv[1]), results(sys.argv[2])
    skip = known(sys.argv[3] if len(sys.argv) > 3 else None)
    if not kernel or not danaus:
        print("no test results in a log")
        sys.exit(2)
    bad = 0
    for test in sorted(kernel):
        if kernel[test] != "ok" or danaus.get(test) == "ok":
            continue
        if test in skip:
            print(f"KNOWN {test}: {danaus.get(test, 'missing')} ({skip[test]})")
        else:
            print(f"DIVERGES {test}: kernel ok, danaus {danaus.get(test, 'missing')}")
            bad += 1
    ok_k = sum(v == "ok" for v in kernel.values())
    ok_d = sum(v == "ok" for v in danaus.values())
    print(f"{len(kernel)} tests on the kernel directory ({ok_k} ok), {len(danaus)} on the pool "
          f"({ok_d} ok): {bad} diverge")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
