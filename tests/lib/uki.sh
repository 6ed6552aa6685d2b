# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: a UKI made without a stub binary.
#   make_uki OUT VERSION SECTION=FILE...
#       A PE32+ image laid out as objcopy/ukify lay out a UKI (each section at its own address, raw
#       data 512-byte aligned, VirtualSize = the file's size), with .sdmagic naming systemd-stub
#       VERSION and the sections in the order given. Needs python3.
make_uki() {
        python3 - "$@" <<'PY'
import struct, sys
out, version, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
secs = [(".sdmagic", b"#### LoaderInfo: systemd-stub %s ####\0" % version.encode())]
secs += [(n, open(f, "rb").read()) for n, f in (s.split("=", 1) for s in specs)]
hdr = 0x400
b = bytearray(hdr)
b[0:2] = b"MZ"; struct.pack_into("<I", b, 0x3C, 0x40); b[0x40:0x44] = b"PE\0\0"
struct.pack_into("<HH", b, 0x44, 0x8664, len(secs)); struct.pack_into("<H", b, 0x54, 240)
struct.pack_into("<H", b, 0x58, 0x20B); struct.pack_into("<II", b, 0x58 + 32, 0x1000, 0x200)
struct.pack_into("<I", b, 0x58 + 108, 16)
va = 0x1000
for i, (name, data) in enumerate(secs):
    raw = len(b)
    b += data + bytes(-len(data) % 0x200)
    struct.pack_into("<8sIIII", b, 0x148 + 40 * i, name.encode(), len(data), va, len(b) - raw, raw)
    va += (len(data) + 0xFFF) // 0x1000 * 0x1000
struct.pack_into("<II", b, 0x58 + 56, va, hdr)
open(out, "wb").write(b)
PY
}
