#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Extracts named files from an initrd: an optional uncompressed early cpio, then the main archive
(zstd or gzip compressed, or not at all), both newc. Shared by the vm image tests.

  initrd-extract.py INITRD OUTDIR NAME...      each NAME (a path in the archive) to OUTDIR/<basename>
Exits non-zero naming what was not found."""
import gzip
import os
import subprocess
import sys

data = open(sys.argv[1], "rb").read()
outdir, want = sys.argv[2], set(sys.argv[3:])


def members(buf):
    pos = 0
    while pos + 110 <= len(buf):
        if buf[pos:pos + 6] != b"070701":
            return
        h = buf[pos:pos + 110]
        size, namesize = int(h[54:62], 16), int(h[94:102], 16)
        name = buf[pos + 110:pos + 110 + namesize - 1].decode(errors="replace")
        dstart = (pos + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return
        yield name, buf[dstart:dstart + size]
        pos = (dstart + size + 3) & ~3


zstd, gz = data.find(b"\x28\xb5\x2f\xfd"), data.find(b"\x1f\x8b\x08")
if zstd >= 0 and (gz < 0 or zstd < gz):
    main = subprocess.run(["zstd", "-dc"], input=data[zstd:], capture_output=True, check=True).stdout
elif gz >= 0:
    main = gzip.decompress(data[gz:])
else:
    main = data
for name, content in members(main):
    name = name[2:] if name.startswith("./") else name
    if name in want:
        path = os.path.join(outdir, os.path.basename(name))
        open(path, "wb").write(content)
        os.chmod(path, 0o755)
        want.discard(name)
sys.exit("not in the initrd: %s" % sorted(want) if want else 0)
