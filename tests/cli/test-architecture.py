#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""docs/architecture.md names every source file under src/ (by its base name, as the module table
does), and the limits the docs state hold: no file in src/ over 800 lines, no function over 120."""
import os
import re
import sys

src = sys.argv[1]
doc = open(os.path.join(src, "docs", "architecture.md")).read()
failed = 0


def check(ok, what, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed += 1
        if detail:
            print("     " + detail)


files = []
for root, _, names in os.walk(os.path.join(src, "src")):
    for n in names:
        if n.endswith((".c", ".h")):
            files.append(os.path.join(root, n))
check(len(files) > 100, f"src/ holds {len(files)} source files")

# A file is named when the table has its name, or its stem with ".c/h" for a pair.
named = set(re.findall(r"`([A-Za-z0-9_.-]+\.[ch])`", doc))
for stem in re.findall(r"`([A-Za-z0-9_-]+)\.c/h`", doc):
    named |= {stem + ".c", stem + ".h"}
missing = sorted(os.path.relpath(f, src) for f in files if os.path.basename(f) not in named)
check(not missing, "docs/architecture.md names every file under src/", f"missing: {missing}")
stale = sorted(n for n in named if not any(os.path.basename(f) == n for f in files))
check(not stale, "docs/architecture.md names no file that does not exist", f"unknown: {stale}")

long_files = []
long_funcs = []
for f in files:
    lines = open(f).read().split("\n")
    if len(lines) > 800:
        long_files.append(f"{os.path.relpath(f, src)} ({len(lines)})")
    start = None
    for i, line in enumerate(lines):
        if start is None and re.match(r"^[A-Za-z_].*\)\s*\{\s*$", line) and not line.startswith(
                ("static const", "struct", "typedef", "enum")):
            start, name = i, line
        elif start is not None and line == "}":
            if i - start + 1 > 120:
                long_funcs.append(f"{os.path.relpath(f, src)}:{start + 1} ({i - start + 1} lines)")
            start = None
check(not long_files, "no file in src/ is over 800 lines", f"{long_files}")
check(not long_funcs, "no function in src/ is over 120 lines", f"{long_funcs}")

print(f"{failed} failed" if failed else "all passed")
sys.exit(1 if failed else 0)
