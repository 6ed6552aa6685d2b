#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Trustee's `tpm` verifier rules, reproduced to judge the evidence ephroot's client sends.

Upstream: confidential-containers/trustee deps/verifier/src/tpm/mod.rs at 78962cd4 (2026-08-21) and
az-cvm-vtpm 0.8.1 (kinvolk/azure-cvm-tooling, the version Trustee's Cargo.lock pins), src/vtpm:
  - extract_raw_signature_bytes: the TPMT_SIGNATURE must be RSASSA ("expected RSA-SSA");
  - parse_pcr_values: every PCR value exactly 64 hex characters;
  - Quote::verify_signature: RSASSA-PKCS1v1.5 SHA-256 over the TPMS_ATTEST with ak_public (DER SPKI);
  - Quote::verify_pcrs: SHA-256 over EVERY value in `pcrs`, in order, equals the quote's pcrDigest
    (the quote's PCR selection is not read);
  - verify_nonce: the quote's extraData equals the expected report data resized to exactly 32 bytes
    (cut or zero-padded).
Usage: trustee-tpm-rules.py EVIDENCE.json REPORT-DATA-HEX   (exit 0: Trustee would accept)
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TPM_ALG_RSASSA = 0x0014
TPM_ST_ATTEST_QUOTE = 0x8018


def tpm2b(b, off):
    (n,) = struct.unpack_from(">H", b, off)
    return b[off + 2:off + 2 + n], off + 2 + n


def parse_quote(msg):
    magic, typ = struct.unpack_from(">IH", msg, 0)
    if magic != 0xFF544347 or typ != TPM_ST_ATTEST_QUOTE:
        raise ValueError("not a TPMS_ATTEST quote")
    _, off = tpm2b(msg, 6)            # qualifiedSigner
    extra, off = tpm2b(msg, off)      # extraData
    off += 17 + 8                     # clockInfo, firmwareVersion
    (count,) = struct.unpack_from(">I", msg, off)
    off += 4
    for _ in range(count):
        off += 2
        size = msg[off]
        off += 1 + size
    digest, _ = tpm2b(msg, off)
    return extra, digest


def check(evidence, report_data):
    q = evidence["tpm_quote"]
    sig = base64.b64decode(q["signature"], validate=True)
    alg, _hash = struct.unpack_from(">HH", sig, 0)
    if alg != TPM_ALG_RSASSA:
        return "Unsupported signature type, expected RSA-SSA"
    raw_sig, _ = tpm2b(sig, 4)
    pcrs = []
    for p in q["pcrs"]:
        if len(p) != 64:
            return "PCR should be 64 hex characters (32 bytes), got %d" % len(p)
        pcrs.append(bytes.fromhex(p))
    msg = base64.b64decode(q["message"], validate=True)
    ak = serialization.load_der_public_key(base64.b64decode(evidence["ak_public"], validate=True))
    try:
        ak.verify(raw_sig, msg, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return "TPM quote signature verification failed"
    extra, digest = parse_quote(msg)
    if hashlib.sha256(b"".join(pcrs)).digest() != digest:
        return "Digest of PCRs does not match digest in Quote"
    if extra != report_data[:32].ljust(32, b"\0"):
        return "TPM quote nonce doesn't match expected report_data"
    return None


def main():
    evidence = json.load(open(sys.argv[1]))
    err = check(evidence, bytes.fromhex(sys.argv[2]))
    if err:
        print("Trustee's tpm verifier would refuse: " + err)
        return 1
    print("Trustee's tpm verifier rules hold (%d PCRs hashed)" % len(evidence["tpm_quote"]["pcrs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
