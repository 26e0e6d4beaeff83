#!/usr/bin/env bash
# Docs: every key the parser knows (daemon/config.c's keys[]) is in the
# README's configuration reference and in danaus.ini(5), and neither names a
# key the parser does not know; prints each difference as FILE: what.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
python3 - "$SRC" << 'PY'
import re, sys
src = sys.argv[1]
config = open(src + "/daemon/config.c").read()
parser = set(re.findall(r'^\s*\{"(\w+)",\s*"(\w+)",', config, re.M))
if len(parser) < 10:
    sys.exit("daemon/config.c: no key table found (%d keys)" % len(parser))
# [mount NAME] sections have a table of their own
m = re.search(r'mount_keys\[\] = \{([^}]*)\}', config)
if not m:
    sys.exit("daemon/config.c: no mount_keys[] table found")
parser |= {("mount", k) for k in re.findall(r'"(\w+)"', m.group(1))}

readme, section, inside = set(), None, False
for line in open(src + "/README.md"):
    if line.startswith("## "):
        inside = line.startswith("## Configuration reference")
        continue
    if not inside or not line.startswith("|") or line.startswith("|---"):
        continue
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    m = re.fullmatch(r"`\[(\w+)(?: NAME)?\]`", cells[0])
    if m:
        section = m.group(1)
    if section and len(cells) > 1:
        readme |= {(section, k) for k in re.findall(r"`(\w+)`", cells[1])}

man, section = set(), None
for line in open(src + "/man/danaus.ini.5.scd"):
    m = re.match(r"# \[(\w+)(?: NAME)?\]", line)
    if m:
        section = m.group(1)
    elif line.startswith("# "):
        section = None
    elif section and line.startswith("*"):
        man |= {(section, k) for k in re.findall(r"\*(\w+)\*", line)}

bad = 0
for name, keys in (("README.md (## Configuration reference)", readme),
                   ("man/danaus.ini.5.scd", man)):
    for s, k in sorted(parser - keys):
        print("%s: [%s] %s is not described" % (name, s, k))
        bad += 1
    for s, k in sorted(keys - parser):
        print("%s: [%s] %s is not a key danaus-pool reads" % (name, s, k))
        bad += 1
if bad:
    sys.exit(1)
print("ok - the README and danaus.ini(5) describe the parser's %d keys, no more" % len(parser))
PY
