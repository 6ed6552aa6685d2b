#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Counts the TPM commands in a pcapng file written by tpm2-tss's pcap TCTI (TCTI_PCAP_FILE):
# each command is a packet to TCP port 2321 carrying a TPM command (tag, size, command code).
# Prints "total" and a count per command code.
import collections, struct, sys

NAMES = {0x182: "PCR_Extend", 0x17E: "PCR_Read", 0x17A: "GetCapability", 0x17B: "GetRandom",
         0x176: "StartAuthSession", 0x165: "FlushContext", 0x173: "ReadPublic", 0x144: "Startup",
         0x131: "CreatePrimary", 0x158: "Quote", 0x147: "ActivateCredential", 0x151: "PolicySecret",
         0x14E: "NV_Read", 0x169: "NV_ReadPublic"}
counts = collections.Counter()
for path in sys.argv[1:]:
    d = open(path, "rb").read()
    off = 0
    while off + 12 <= len(d):
        btype, blen = struct.unpack_from("<II", d, off)
        if blen < 12 or off + blen > len(d):
            sys.exit("malformed pcapng block in " + path)
        if btype == 6:  # Enhanced Packet Block
            caplen = struct.unpack_from("<I", d, off + 20)[0]
            pkt = d[off + 28: off + 28 + caplen]
            ihl = (pkt[0] & 0x0F) * 4
            dport = struct.unpack_from(">H", pkt, ihl + 2)[0]
            tcp_len = (pkt[ihl + 12] >> 4) * 4
            tpm = pkt[ihl + tcp_len:]
            if dport == 2321 and len(tpm) >= 10:
                cc = struct.unpack_from(">I", tpm, 6)[0]
                counts[NAMES.get(cc, hex(cc))] += 1
        off += blen
print("total", sum(counts.values()))
for name, n in sorted(counts.items()):
    print(name, n)
