# SPDX-License-Identifier: LGPL-2.1-or-later
# Replays systemd's userspace measurement log (JSON-SEQ) for one bank and PCR, from zero, sharing no
# code with ephroot. Prints the PCR value in lower-case hex. START: the value before the log's events
# (hex; what the firmware log has in that PCR, e.g. systemd-stub's PCR 11 events), zeros without.
#   python3 replay-log.py LOG BANK PCR [START]
import hashlib
import json
import sys

log, bank, pcr = sys.argv[1], sys.argv[2], int(sys.argv[3])
value = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else bytes(hashlib.new(bank).digest_size)
assert len(value) == hashlib.new(bank).digest_size, "START is not a %s value" % bank
data = open(log, "rb").read()
assert data.startswith(b"\x1e"), "not JSON-SEQ"
for rec in data.split(b"\x1e")[1:]:
    assert rec.endswith(b"\n"), "record without newline"
    r = json.loads(rec)
    if r["pcr"] != pcr:
        continue
    d = [x["digest"] for x in r["digests"] if x["hashAlg"] == bank]
    assert len(d) == 1, "bank missing from record"
    value = hashlib.new(bank, value + bytes.fromhex(d[0])).digest()
print(value.hex())
