#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One RCAR cycle with ephroot's Azure evidence: auth as az-snp-vtpm, the binding report data from
the nonce and a fresh TEE key, the evidence made by `az-collect` (ephroot's provider against the
TPM), attest, fetch the resource and decrypt it with jwcrypto (tests/kbs/kbs-client.py's pieces).

  az-kbs-client.py URL AZ-COLLECT TCTI CONFIG-TEXT RESOURCE OUT-DIR [TEE]
Exit 0 when the resource was released and decrypted; OUT-DIR gets evidence.json, report-data.hex,
plain.
"""

import hashlib
import importlib.util
import json
import os
import subprocess
import sys

from jwcrypto import jwe

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("kbs_client", os.path.join(here, "..", "kbs", "kbs-client.py"))
kc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kc)


def main():
    url, collect, tcti, config, resource, out = sys.argv[1:7]
    tee = sys.argv[7] if len(sys.argv) > 7 else "az-snp-vtpm"
    os.makedirs(out, exist_ok=True)
    c = kc.Client(url)
    st, body = c.request("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": tee, "extra-params": ""})
    if st != 200:
        print(f"auth: {st} {body}")
        return 1
    nonce = body["nonce"]
    key, pub = kc.make_tee_key("ec")
    report_data = hashlib.sha384(kc.jcs({"additional-evidence": "", "nonce": nonce, "tee-pubkey": pub})).digest()
    open(os.path.join(out, "report-data.hex"), "w").write(report_data.hex())
    p = subprocess.run([collect, tcti, tee, report_data.hex(), config], capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        print("az-collect failed")
        return 1
    open(os.path.join(out, "evidence.json"), "w").write(p.stdout)
    evidence = json.loads(p.stdout)
    req = {"runtime-data": {"nonce": nonce, "tee-pubkey": pub},
           "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""}}
    st, body = c.request("POST", "/kbs/v0/attest", req)
    if st != 200:
        print(f"attest: {st} {json.dumps(body)}")
        return 1
    st, body = c.request("GET", "/kbs/v0/resource/" + resource)
    if st != 200:
        print(f"resource: {st} {json.dumps(body)}")
        return 1
    t = jwe.JWE()
    t.deserialize(json.dumps(body), key=key)
    open(os.path.join(out, "plain"), "wb").write(t.payload)
    print("resource: 200 decrypted %d bytes" % len(t.payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
