#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A KBS test client written independently of the server's C code (Python `cryptography` and
`jwcrypto`): RCAR auth, attest with `tpm` evidence, resource fetch, JWE decryption.

The `tpm` evidence is made either in software (an RSA AK held by this client signs a TPMS_ATTEST it
builds, which is exactly what a TPM does) or by a real TPM through tpm2-tools (--tpm2-ak-ctx).

  kbs-client.py make-ak DIR
  kbs-client.py cycle URL --ak DIR --resource R [--tee-key ec|ec521|rsa] [--out DIR] [--tamper WHAT] [--cacert F]
  kbs-client.py bench URL --ak DIR --resource R --seconds S
"""

import argparse
import base64
import hashlib
import http.cookiejar
import json
import os
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from jwcrypto import jwe, jwk


def b64(b):
    return base64.b64encode(b).decode()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jcs(o):
    # RFC 8785 for the ASCII-only strings and objects the binding uses
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Client:
    def __init__(self, url, cacert=None):
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if cacert:
            ctx = ssl.create_default_context(cafile=cacert)
            handlers.append(urllib.request.HTTPSHandler(context=ctx))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


def make_ak(d):
    os.makedirs(d, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(os.path.join(d, "ak.pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(os.path.join(d, "ak.spki.b64"), "w") as f:
        f.write(b64(spki))


def software_quote(ak, extra, pcrs):
    """TPMS_ATTEST (quote over sha256 PCRs 0-23) and its TPMT_SIGNATURE (RSASSA SHA-256)."""
    digest = hashlib.sha256(b"".join(pcrs)).digest()
    msg = struct.pack(">IH", 0xFF544347, 0x8018)
    msg += struct.pack(">H", 34) + b"\x00\x0b" + os.urandom(32)      # qualifiedSigner
    msg += struct.pack(">H", len(extra)) + extra                     # extraData
    msg += struct.pack(">QIIB", 12345, 1, 0, 1)                       # clockInfo
    msg += struct.pack(">Q", 0x2020031200120003)                      # firmwareVersion
    msg += struct.pack(">IHB", 1, 0x000B, 3) + b"\xff\xff\xff"        # pcrSelect sha256:0-23
    msg += struct.pack(">H", 32) + digest                             # pcrDigest
    sig = ak.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    tsig = struct.pack(">HHH", 0x0014, 0x000B, len(sig)) + sig
    return msg, tsig


def tpm2_quote(ctx, extra, workdir):
    env = dict(os.environ)
    msg, sig, pcrs = (os.path.join(workdir, n) for n in ("q.msg", "q.sig", "q.pcrs"))
    # without a resource manager transient objects stay loaded: flush them first
    subprocess.run(["tpm2_flushcontext", "-t"], check=True, env=env)
    subprocess.run(["tpm2_quote", "-c", ctx, "-q", extra.hex(), "-l", "sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
                    "-m", msg, "-s", sig, "-o", pcrs, "-F", "values", "-g", "sha256"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    values = open(pcrs, "rb").read()
    return open(msg, "rb").read(), open(sig, "rb").read(), [values[i * 32:(i + 1) * 32] for i in range(24)]


def make_tee_key(kind):
    if kind in ("ec", "ec521"):
        crv = "P-521" if kind == "ec521" else "P-256"
        k = jwk.JWK.generate(kty="EC", crv=crv)
        pub = {"alg": "ECDH-ES+A256KW", "crv": crv, "kty": "EC",
               "x": k.export_public(as_dict=True)["x"], "y": k.export_public(as_dict=True)["y"]}
    else:
        k = jwk.JWK.generate(kty="RSA", size=2048)
        p = k.export_public(as_dict=True)
        pub = {"alg": "RSA-OAEP-256", "e": p["e"], "kty": "RSA", "n": p["n"]}
    return k, pub


def tpm2(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, stdout=subprocess.DEVNULL, **kw)


def snp_report(vcek_key, report_data, measurement, vmpl=0, policy=0x30000):
    """A SEV-SNP report (ABI layout, version 2) signed like the AMD-SP signs it: ECDSA P-384 SHA-384
    over bytes 0..0x2A0, r and s little-endian in 72-byte fields."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r = bytearray(1184)
    struct.pack_into("<IIQ", r, 0, 2, 0, policy)
    struct.pack_into("<II", r, 0x30, vmpl, 1)
    r[0x50:0x90] = report_data
    r[0x90:0xC0] = measurement
    r[0x1A0:0x1E0] = os.urandom(64)
    sig = vcek_key.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384()))
    rr, ss = decode_dss_signature(sig)
    r[0x2A0:0x2A0 + 72] = rr.to_bytes(72, "little")
    r[0x2E8:0x2E8 + 72] = ss.to_bytes(72, "little")
    return bytes(r)


def svsm_cycle(args):
    """svsm-vtpm: EK and AK from a (sw)TPM, the credential activated there, an SNP report binding the EK
    signed by the test VCEK, a quote by the AK over the binding."""
    d = args.svsm
    tamper = args.tamper or ""
    c = Client(args.url, args.cacert)
    ek_pub = open(os.path.join(d, "ek.pub"), "rb").read()
    ak_pub = open(os.path.join(d, "ak.pub"), "rb").read()
    st, body = c.request("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "svsm-vtpm",
                                                  "extra-params": {"ek_public": b64url(ek_pub), "ak_public": b64url(ak_pub)}})
    if st != 200:
        print(f"auth: {st} {json.dumps(body)}")
        return st
    nonce, extra = body["nonce"], body["extra-params"]
    dec = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    with tempfile.TemporaryDirectory() as w:
        cred = os.path.join(w, "cred.in")
        open(cred, "wb").write(struct.pack(">II", 0xBADCC0DE, 1) + dec(extra["credential_blob"]) + dec(extra["encrypted_secret"]))
        tpm2("tpm2_flushcontext", "-t")
        tpm2("tpm2_startauthsession", "--policy-session", "-S", os.path.join(w, "s.ctx"))
        tpm2("tpm2_policysecret", "-S", os.path.join(w, "s.ctx"), "-c", "e")
        tpm2("tpm2_activatecredential", "-c", os.path.join(d, "ak.ctx"), "-C", os.path.join(d, "ek.ctx"), "-i", cred,
             "-o", os.path.join(w, "secret"), "-P", "session:" + os.path.join(w, "s.ctx"))
        tpm2("tpm2_flushcontext", os.path.join(w, "s.ctx"))
        secret = open(os.path.join(w, "secret"), "rb").read()
    if tamper == "wrong-secret":
        secret = bytes([secret[0] ^ 1]) + secret[1:]

    key, pub = make_tee_key(args.tee_key)
    report_data = hashlib.sha384(jcs({"additional-evidence": "", "nonce": nonce, "tee-pubkey": pub})).digest()
    vcek_key = serialization.load_pem_private_key(open(os.path.join(d, "vcek.key"), "rb").read(), None)
    measurement = bytes.fromhex(open(os.path.join(d, "measurement.hex")).read().strip())
    bound_ek = ek_pub if tamper != "other-ek" else open(os.path.join(d, "other-ek.pub"), "rb").read()
    signer = vcek_key if tamper != "report-key" else ec.generate_private_key(ec.SECP384R1())
    if tamper == "measurement":
        measurement = bytes(48)
    report = snp_report(signer, hashlib.sha512(bound_ek).digest(), measurement, vmpl=1 if tamper == "vmpl1" else 0,
                        policy=0x30000 | (1 << 19) if tamper == "debug" else 0x30000)
    with tempfile.TemporaryDirectory() as w:
        msg, sig, pcrs = tpm2_quote(os.path.join(d, "ak.ctx"), report_data, w)
    evidence = {"version": 1, "snp_report": b64url(report), "vcek": b64url(open(os.path.join(d, "vcek.der"), "rb").read()),
                "ek_public": b64url(ek_pub), "ak_public": b64url(ak_pub), "activated_secret": b64url(secret),
                "tpm_quote": {"message": b64(msg), "signature": b64(sig), "pcrs": [p.hex() for p in pcrs]}}
    req = {"runtime-data": {"nonce": nonce, "tee-pubkey": pub},
           "tee-evidence": {"primary_evidence": evidence, "additional_evidence": ""}}
    st, body = c.request("POST", "/kbs/v0/attest", req)
    if st != 200:
        print(f"attest: {st} {json.dumps(body)}")
        return st
    if getattr(args, "resource_url", None):
        c.url = args.resource_url.rstrip("/")
    st, body = c.request("GET", "/kbs/v0/resource/" + args.resource)
    if st != 200:
        print(f"resource: {st} {json.dumps(body)}")
        return st
    t = jwe.JWE()
    t.deserialize(json.dumps(body), key=key)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        open(os.path.join(args.out, "plain-jwcrypto"), "wb").write(t.payload)
    print("resource: 200 decrypted %d bytes" % len(t.payload))
    return 200


def cycle(args, c=None, ak=None, ak_spki=None):
    c = c or Client(args.url, args.cacert)
    if ak is None:
        if os.path.exists(os.path.join(args.ak, "ak.pem")):  # a software AK; with --tpm2-ak-ctx only its public part
            ak = serialization.load_pem_private_key(open(os.path.join(args.ak, "ak.pem"), "rb").read(), None)
        ak_spki = open(os.path.join(args.ak, "ak.spki.b64")).read().strip()
    tamper = getattr(args, "tamper", None) or ""

    st, body = c.request("POST", "/kbs/v0/auth", {"version": "0.4.0", "tee": "tpm", "extra-params": ""})
    if st != 200:
        raise SystemExit(f"auth: {st} {body}")
    nonce = body["nonce"]
    if len(base64.b64decode(nonce)) != 32:
        raise SystemExit("auth: nonce is not 32 bytes")

    time.sleep(getattr(args, "delay", None) or 0)  # evidence that takes this long (an Azure vTPM: seconds)
    key, pub = make_tee_key(getattr(args, "tee_key", "ec"))
    rd_nonce = nonce if tamper != "nonce" else b64(os.urandom(32))
    add_ev = getattr(args, "additional_evidence", None) or ""
    binding = {"additional-evidence": add_ev, "nonce": nonce, "tee-pubkey": pub}
    report_data = hashlib.sha384(jcs(binding)).digest()
    extra = report_data[:32]
    if tamper == "binding":
        extra = hashlib.sha384(jcs(dict(binding, nonce=b64(os.urandom(32))))).digest()[:32]

    pcrs = [bytes(32)] * 24
    if getattr(args, "tpm2_ak_ctx", None):
        with tempfile.TemporaryDirectory() as d:
            msg, sig, pcrs = tpm2_quote(args.tpm2_ak_ctx, extra, d)
    else:
        if getattr(args, "pcr", None):
            for spec in args.pcr:
                i, v = spec.split("=")
                pcrs[int(i)] = bytes.fromhex(v)
        msg, sig = software_quote(ak, extra, pcrs)
    if tamper == "signature":
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    if tamper == "pcr":
        pcrs = [bytes([1] * 32)] + pcrs[1:]
    if tamper == "untrusted-ak":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        msg, sig = software_quote(other, extra, pcrs)
        ak_spki = b64(other.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))

    evidence = {"ak_public": ak_spki,
                "tpm_quote": {"message": b64(msg), "signature": b64(sig), "pcrs": [p.hex() for p in pcrs]}}
    req = {"runtime-data": {"nonce": rd_nonce, "tee-pubkey": pub},
           "tee-evidence": {"primary_evidence": evidence, "additional_evidence": add_ev}}
    if getattr(args, "init_data", None):
        fmt, _, path = args.init_data.rpartition(":")
        req["init-data"] = {"format": fmt or "toml", "body": open(path).read()}
    if getattr(args, "attest_url", None):  # another replica finishes the attestation
        c.url = args.attest_url.rstrip("/")
    st, body = c.request("POST", "/kbs/v0/attest", req)
    out = getattr(args, "out", None)
    if out:
        os.makedirs(out, exist_ok=True)
        json.dump(req, open(os.path.join(out, "attest.json"), "w"))
        json.dump({"status": st, "body": body}, open(os.path.join(out, "attest-reply.json"), "w"))
    if st != 200:
        print(f"attest: {st} {json.dumps(body)}")
        return st
    if tamper == "reuse":  # attest again on the attested session: Trustee returns the same token
        first = body.get("token")
        st, body = c.request("POST", "/kbs/v0/attest", req)
        same = st == 200 and body.get("token") == first
        print(f"attest again: {st} {'the same token' if same else json.dumps(body)}")
        if not same:
            return st if st != 200 else 1

    st, body = c.request("GET", "/kbs/v0/resource/" + args.resource)
    if st != 200:
        print(f"resource: {st} {json.dumps(body)}")
        return st
    t = jwe.JWE()
    t.deserialize(json.dumps(body), key=key)
    if out:
        json.dump(body, open(os.path.join(out, "resource.jwe"), "w"))
        open(os.path.join(out, "tee-key.jwk"), "w").write(key.export_private())
        open(os.path.join(out, "plain-jwcrypto"), "wb").write(t.payload)
    print("resource: 200 decrypted %d bytes" % len(t.payload))
    return 200


def bench(args):
    ak = serialization.load_pem_private_key(open(os.path.join(args.ak, "ak.pem"), "rb").read(), None)
    spki = open(os.path.join(args.ak, "ak.spki.b64")).read().strip()
    n, start = 0, time.monotonic()
    lat = []
    while time.monotonic() - start < args.seconds:
        t0 = time.monotonic()
        if cycle(args, Client(args.url, args.cacert), ak, spki) != 200:
            raise SystemExit("cycle failed")
        lat.append(time.monotonic() - t0)
        n += 1
    el = time.monotonic() - start
    lat.sort()
    print(json.dumps({"cycles": n, "seconds": round(el, 2), "cycles_per_s": round(n / el, 1),
                      "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
                      "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2)}))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-ak")
    p.add_argument("dir")
    for name in ("cycle", "bench"):
        p = sub.add_parser(name)
        p.add_argument("url")
        p.add_argument("--ak")
        p.add_argument("--resource", required=True)
        p.add_argument("--tee-key", choices=["ec", "ec521", "rsa"], default="ec")
        p.add_argument("--cacert")
        p.add_argument("--out")
        p.add_argument("--pcr", action="append")
        p.add_argument("--tpm2-ak-ctx")
        p.add_argument("--init-data", help="[FORMAT:]FILE sent as init-data (format toml unless given)")
        p.add_argument("--additional-evidence")
        p.add_argument("--delay", type=float, help="seconds between auth and attest")
        p.add_argument("--attest-url", help="send attest to this broker (a replica) instead of URL")
        p.add_argument("--resource-url", help="fetch the resource from this broker instead")
        p.add_argument("--tamper", choices=["nonce", "binding", "signature", "pcr", "untrusted-ak", "reuse",
                                            "wrong-secret", "other-ek", "report-key", "measurement", "vmpl1", "debug"])
        p.add_argument("--svsm", help="svsm-vtpm mode: DIR with ek/ak (tss and ctx), vcek.key, vcek.der, measurement.hex")
        if name == "bench":
            p.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    if args.cmd == "make-ak":
        make_ak(args.dir)
        return 0
    if args.cmd == "bench":
        bench(args)
        return 0
    if args.svsm:
        return 0 if svsm_cycle(args) == 200 else 1
    return 0 if cycle(args) == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
