#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A test stand-in for Azure's paravisor (HCL) in front of swtpm.

It sits between a TPM client and swtpm on loopback TCP (the swtpm TCTI protocol: raw TPM commands on
PORT, the control channel on PORT+1), passes every command through, and, like the paravisor, keeps an
HCL report at NV 0x01400001: whenever NV 0x01400002 is written, it regenerates the report (some time
later, so the client has to poll) with the runtime-data JSON naming the AK at 0x81000003 (HCLAkPub,
read from the TPM) and user-data = the bytes written, and an SNP report whose report_data is
SHA-256(runtime data), signed by a test VCEK (ECDSA P-384, AMD's layout). It also serves the IMDS
certification endpoint with that VCEK. With --tee tdx the hardware report is a TDREPORT instead
(reportdata = SHA-256(runtime data), a random TDINFO), and IMDS's /acc/tdquote answers with a
version 4 TD quote carrying that TDREPORT's reportdata and TDINFO (its signature data are
placeholders: a broker must be told to accept an unverified TD quote).

  paravisor-sim.py --swtpm-port P --pki DIR --ready FILE [--tee snp|tdx] [--mode good|stale|wrong]
                   [--delay-ms MS]

DIR holds vcek.key (PEM), vcek.der, ask.crt, ark.crt. FILE receives "LISTEN_PORT IMDS_PORT" when ready.
Modes: good; stale (the report is never regenerated); wrong (regenerated with other user data);
unbound (regenerated with the right user data, but the hardware report binds other runtime data);
other-ak (HCLAkPub is not the key at 0x81000003).
"""

import argparse
import base64
import hashlib
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

NV_REPORT = 0x01400001
NV_USER_DATA = 0x01400002
AK = 0x81000003
NV_REPORT_SIZE = 2048          # swtpm's largest NV index (TPM2_PT_NV_INDEX_MAX)
TPM_RH_OWNER = 0x40000001
TPM_RS_PW = 0x40000009
CC_NV_WRITE = 0x137
CC_NV_DEFINE = 0x12A
CC_READ_PUBLIC = 0x173


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def transact(s, cmd):
    s.sendall(cmd)
    hdr = recv_exact(s, 10)
    tag, size, rc = struct.unpack(">HII", hdr)
    return hdr + recv_exact(s, size - 10), rc


def pw_auth():
    # one password session, empty password, continueSession
    area = struct.pack(">IHBH", TPM_RS_PW, 0, 1, 0)
    return struct.pack(">I", len(area)) + area


def command(cc, handles, params, sessions=True):
    body = b"".join(struct.pack(">I", h) for h in handles) + (pw_auth() if sessions else b"") + params
    return struct.pack(">HII", 0x8002 if sessions else 0x8001, 10 + len(body), cc) + body


def nv_define(s, index, size):
    pub = struct.pack(">IHIHH", index, 0x000B, 0x00020002, 0, size)  # ownerwrite|ownerread
    resp, rc = transact(s, command(CC_NV_DEFINE, [TPM_RH_OWNER], struct.pack(">H", 0) + struct.pack(">H", len(pub)) + pub))
    if rc not in (0, 0x14C):  # 0x14C: TPM_RC_NV_DEFINED
        raise RuntimeError("NV_DefineSpace: 0x%x" % rc)


def nv_write(s, index, data):
    for off in range(0, len(data), 1024):
        chunk = data[off:off + 1024]
        resp, rc = transact(s, command(CC_NV_WRITE, [TPM_RH_OWNER, index],
                                       struct.pack(">H", len(chunk)) + chunk + struct.pack(">H", off)))
        if rc != 0:
            raise RuntimeError("NV_Write: 0x%x" % rc)


def ak_modulus(s):
    resp, rc = transact(s, command(CC_READ_PUBLIC, [AK], b"", sessions=False))
    if rc != 0:
        raise RuntimeError("ReadPublic(0x%08x): 0x%x" % (AK, rc))
    p = 10 + 2  # TPM2B_PUBLIC size
    typ, name_alg, attrs = struct.unpack_from(">HHI", resp, p)
    p += 8
    if typ != 0x0001:
        raise RuntimeError("AK is not RSA")
    (pol,) = struct.unpack_from(">H", resp, p)
    p += 2 + pol
    (sym,) = struct.unpack_from(">H", resp, p)
    p += 2 + (4 if sym != 0x0010 else 0)
    (scheme,) = struct.unpack_from(">H", resp, p)
    p += 2 + (2 if scheme != 0x0010 else 0)
    bits, exp = struct.unpack_from(">HI", resp, p)
    p += 6
    (n,) = struct.unpack_from(">H", resp, p)
    return resp[p + 2:p + 2 + n], exp or 65537


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Paravisor:
    def __init__(self, args):
        self.args = args
        self.vcek = serialization.load_pem_private_key(open(os.path.join(args.pki, "vcek.key"), "rb").read(), None)
        self.lock = threading.Lock()
        self.pending = None     # (time due, user data)
        self.user_data = bytes(64)
        chip = os.path.join(args.pki, "chip_id.hex")  # the VCEK's hwID, when the test PKI has one
        self.chip_id = bytes.fromhex(open(chip).read().strip()) if os.path.exists(chip) else os.urandom(64)
        self.measurement = os.urandom(48)
        self.td_info = bytes(8) + os.urandom(392)  # TDATTRIBUTES 0: not a debug TD
        self.regenerations = 0

    def tdreport(self, report_data):
        """TDREPORT_STRUCT: REPORTMACSTRUCT (256, reportdata at 128), TEE_TCB_INFO (239) + 17 reserved,
        TDINFO (512: attributes .. RTMR3 in the first 400)."""
        r = bytearray(1024)
        r[0] = 0x81
        r[128:192] = report_data
        r[512:912] = self.td_info
        return bytes(r)

    def snp_report(self, report_data):
        r = bytearray(1184)
        struct.pack_into("<IIQ", r, 0, 2, 0, 0x30000)
        struct.pack_into("<II", r, 0x30, 0, 1)  # VMPL 0, ECDSA P-384 SHA-384
        r[0x50:0x90] = report_data
        r[0x90:0xC0] = self.measurement
        r[0x1A0:0x1E0] = self.chip_id
        sig = self.vcek.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384()))
        rr, ss = decode_dss_signature(sig)
        r[0x2A0:0x2A0 + 72] = rr.to_bytes(72, "little")
        r[0x2E8:0x2E8 + 72] = ss.to_bytes(72, "little")
        return bytes(r)

    def hcl_report(self, s, user_data, unbound=False):
        n, e = ak_modulus(s)
        if self.args.mode == "other-ak":
            n = bytes([0xC0]) + os.urandom(len(n) - 1)
        var = json.dumps({
            "keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA",
                      "e": b64url(e.to_bytes(3, "big")), "n": b64url(n)}],
            "vm-configuration": {"console-enabled": True, "secure-boot": True, "tpm-enabled": True,
                                 "vmUniqueId": "00000000-0000-4000-8000-00000000e9e0"},
            "user-data": user_data.hex().upper(),
        }, separators=(",", ":")).encode()
        rd = hashlib.sha256(var + (b" " if unbound else b"")).digest() + bytes(32)
        if self.args.tee == "tdx":
            hw = self.tdreport(rd) + bytes(1184 - 1024)
        else:
            hw = self.snp_report(rd)
        tdx = self.args.tee == "tdx"
        header = struct.pack("<8I", 0x414C4348, 2 if tdx else 1, 0x4D4 + len(var), 2, 0, 0, 0, 0)
        req = struct.pack("<5I", 20 + len(var), 1, 4 if tdx else 2, 1, len(var))
        rep = header + hw + req + var
        if len(rep) > NV_REPORT_SIZE:
            raise RuntimeError("HCL report too large for the NV index")
        return rep + bytes(NV_REPORT_SIZE - len(rep))

    def install(self, s, user_data, unbound=False):
        nv_write(s, NV_REPORT, self.hcl_report(s, user_data, unbound))
        self.regenerations += 1

    def init(self, port):
        with socket.create_connection(("127.0.0.1", port)) as s:
            nv_define(s, NV_REPORT, NV_REPORT_SIZE)
            self.install(s, bytes(64))

    def before_command(self, up):
        """A regeneration that is due happens between two of the client's commands."""
        with self.lock:
            p = self.pending
            if p is None or time.monotonic() < p[0]:
                return
            self.pending = None
        self.install(up, p[1], self.args.mode == "unbound")

    def after_command(self, cmd, rc):
        tag, size, cc = struct.unpack_from(">HII", cmd)
        if cc != CC_NV_WRITE or rc != 0:
            return
        auth_handle, index = struct.unpack_from(">II", cmd, 10)
        if index != NV_USER_DATA:
            return
        (auth_size,) = struct.unpack_from(">I", cmd, 18)
        p = 22 + auth_size
        (n,) = struct.unpack_from(">H", cmd, p)
        data = cmd[p + 2:p + 2 + n]
        (off,) = struct.unpack_from(">H", cmd, p + 2 + n)
        ud = bytearray(self.user_data)
        ud[off:off + n] = data
        self.user_data = bytes(ud[:64])
        if self.args.mode == "stale":
            return
        ud = self.user_data
        if self.args.mode == "wrong":
            ud = bytes([ud[0] ^ 0xFF]) + ud[1:]
        with self.lock:
            self.pending = (time.monotonic() + self.args.delay_ms / 1000.0, ud)


def serve_data(pv, client, swtpm_port):
    with client, socket.create_connection(("127.0.0.1", swtpm_port)) as up:
        try:
            while True:
                hdr = recv_exact(client, 10)
                (size,) = struct.unpack_from(">I", hdr, 2)
                if size < 10 or size > 8192:
                    return
                cmd = hdr + recv_exact(client, size - 10)
                pv.before_command(up)
                resp, rc = transact(up, cmd)
                pv.after_command(cmd, rc)
                client.sendall(resp)
        except (EOFError, ConnectionError):
            return


def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_ctrl(client, swtpm_port):
    up = socket.create_connection(("127.0.0.1", swtpm_port + 1))
    t = threading.Thread(target=pipe, args=(up, client), daemon=True)
    t.start()
    pipe(client, up)
    t.join()
    client.close()
    up.close()


def listen_pair():
    """Two consecutive free loopback ports (the swtpm TCTI uses PORT and PORT+1)."""
    for _ in range(100):
        a = socket.socket()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        a.bind(("127.0.0.1", 0))
        port = a.getsockname()[1]
        b = socket.socket()
        b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            b.bind(("127.0.0.1", port + 1))
        except OSError:
            a.close()
            b.close()
            continue
        a.listen(8)
        b.listen(8)
        return a, b, port
    raise RuntimeError("no free port pair")


def accept_loop(sock, handler):
    while True:
        c, _ = sock.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def td_quote(tdreport):
    """A version 4 TD quote shaped as DCAP makes it: header, body (TDINFO and reportdata copied from
    the TDREPORT), then signature data with placeholder signature, QE report and PCK chain."""
    header = struct.pack("<HHI", 4, 2, 0x81) + bytes(40)
    body = bytearray(584)
    body[120:520] = tdreport[512:912]
    body[520:584] = tdreport[128:192]
    pem = b"-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n"
    inner = struct.pack("<HI", 5, len(pem)) + pem
    qe = bytes(384) + bytes(64) + struct.pack("<H", 0) + inner
    sig = bytes(64) + bytes(64) + struct.pack("<HI", 6, len(qe)) + qe
    return header + bytes(body) + struct.pack("<I", len(sig)) + sig


def imds_server(pki):
    vcek_pem = open(os.path.join(pki, "vcek.pem")).read()
    chain = open(os.path.join(pki, "ask.crt")).read() + open(os.path.join(pki, "ark.crt")).read()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metadata/THIM/amd/certification" or self.headers.get("Metadata") != "true":
                self.send_error(400)
                return
            body = json.dumps({"vcekCert": vcek_pem, "certificateChain": chain}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(n)) if 0 < n < 65536 else {}
            if self.path != "/acc/tdquote" or self.headers.get("Metadata") != "true" or "report" not in req:
                self.send_error(400)
                return
            tdreport = base64.urlsafe_b64decode(req["report"] + "=" * (-len(req["report"]) % 4))
            if len(tdreport) != 1024:
                self.send_error(400)
                return
            body = json.dumps({"quote": b64url(td_quote(tdreport))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swtpm-port", type=int, required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--mode", choices=["good", "stale", "wrong", "unbound", "other-ak"], default="good")
    ap.add_argument("--tee", choices=["snp", "tdx"], default="snp")
    ap.add_argument("--delay-ms", type=int, default=300)
    args = ap.parse_args()

    pv = Paravisor(args)
    pv.init(args.swtpm_port)
    data, ctrl, port = listen_pair()
    imds = imds_server(args.pki)
    threading.Thread(target=accept_loop, args=(ctrl, lambda c: serve_ctrl(c, args.swtpm_port)), daemon=True).start()
    threading.Thread(target=accept_loop, args=(data, lambda c: serve_data(pv, c, args.swtpm_port)), daemon=True).start()
    tmp = args.ready + ".tmp"
    open(tmp, "w").write("%d %d\n" % (port, imds))
    os.rename(tmp, args.ready)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
