#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot attest` with attest-tee=svsm-vtpm against ephroot-kbs's svsm verifier: swtpm plays the SVSM
# vTPM (TCG EK persisted at 0x81010001, an SNP report binding SHA-512(EK) signed by a test-only
# AMD-like PKI and stored in NV 0x01C00002, as the linux-svsm prototype does); ephroot makes the AK,
# activates the broker's credential with the EK, quotes over the binding. Refused: a report bound to
# another EK, a launch measurement the policy does not list, a VCEK of another root.
#   test-attest-svsm.sh EPHROOT-KBS EPHROOT-TEST
set -euo pipefail

KBS=$(realpath "${1:?usage: test-attest-svsm.sh EPHROOT-KBS EPHROOT-TEST}")
EPHROOT=$(realpath "${2:?}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in swtpm swtpm_setup tpm2_createek tpm2_nvdefine tpm2_nvwrite openssl; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
"$PY" -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3-cryptography missing"; exit 77; }
[ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] || { echo "SKIP: no tmpfs at /dev/shm"; exit 77; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
shm=$(mktemp -d /dev/shm/ephroot-svsm.XXXXXX)
SERVER_PID=
stop_server() {
        if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
        SERVER_PID=
}
cleanup() { stop_server; swtpm_stop || true; wait 2>/dev/null; rm -rf "$work" "$shm"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/kbs.log" ] && tail -5 "$work/kbs.log" >&2; exit 1; }
pass=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
cd "$work"

# --- the test PKI (as tests/kbs/test-kbs-svsm.sh) ---
pss=(-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384)
mkpki() { # DIR PRODUCT
        mkdir -p "$1"
        openssl genrsa -out "$1/ark.key" 4096 2>/dev/null
        openssl req -x509 -new -key "$1/ark.key" -subj "/CN=ARK-$2" -days 30 "${pss[@]}" \
                -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign -out "$1/ark.crt"
        openssl genrsa -out "$1/ask.key" 4096 2>/dev/null
        openssl req -new -key "$1/ask.key" -subj "/CN=SEV-$2" -out "$1/ask.csr"
        printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$1/ca.ext"
        openssl x509 -req -in "$1/ask.csr" -CA "$1/ark.crt" -CAkey "$1/ark.key" -CAcreateserial -days 30 "${pss[@]}" \
                -extfile "$1/ca.ext" -out "$1/ask.crt" 2>/dev/null
        openssl ecparam -name secp384r1 -genkey -noout -out "$1/vcek.key"
        openssl req -new -key "$1/vcek.key" -subj "/CN=SEV-VCEK" -out "$1/vcek.csr"
        openssl x509 -req -in "$1/vcek.csr" -CA "$1/ask.crt" -CAkey "$1/ask.key" -CAcreateserial -days 30 "${pss[@]}" \
                -outform DER -out "$1/vcek.der" 2>/dev/null
        cat "$1/ask.crt" "$1/ark.crt" >"$1/ask_ark.pem"
}
mkpki pki Milan
mkpki rogue Milan

# --- the SVSM's side: EK persisted, the report in NV ---
swtpm_start "$work/tpm" sha256 || fail "swtpm"
tpm2_createek -c 0x81010001 -G rsa -u ek.pub -f tss >/dev/null
tpm2_createek -c other-ek.ctx -G ecc -u other-ek.pub -f tss >/dev/null
tpm2_flushcontext -t
MEASUREMENT=$(head -c 48 /dev/urandom | xxd -p -c 48)
make_report() { # EK-PUB VCEK-KEY MEASUREMENT-HEX -> report.bin
        "$PY" - "$@" <<'PY'
import hashlib, os, struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
ek, key, meas = open(sys.argv[1], "rb").read(), sys.argv[2], bytes.fromhex(sys.argv[3])
k = serialization.load_pem_private_key(open(key, "rb").read(), None)
r = bytearray(1184)
struct.pack_into("<IIQ", r, 0, 2, 0, 0x30000)
struct.pack_into("<II", r, 0x30, 0, 1)
r[0x50:0x90] = hashlib.sha512(ek).digest()
r[0x90:0xC0] = meas
r[0x1A0:0x1E0] = os.urandom(64)
rr, ss = decode_dss_signature(k.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384())))
r[0x2A0:0x2A0 + 72] = rr.to_bytes(72, "little")
r[0x2E8:0x2E8 + 72] = ss.to_bytes(72, "little")
open("report.bin", "wb").write(r)
PY
}
put_report() {
        tpm2_nvundefine 0x01C00002 -C p >/dev/null 2>&1 || true
        tpm2_nvdefine 0x01C00002 -C p -s 1184 -a "ppwrite|ppread|ownerread|authread|no_da|platformcreate" >/dev/null
        tpm2_nvwrite 0x01C00002 -C p -i report.bin
}
make_report ek.pub pki/vcek.key "$MEASUREMENT"
put_report

mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
cat >policy.json <<JSON
{"amd_roots":["$work/pki/ask_ark.pem"],
 "policies":[{"name":"svsm","tee":["svsm-vtpm"],"snp_measurements":["$MEASUREMENT"],"resources":["default/key/*"]}]}
JSON
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
: >kbs.log
"$KBS" --config kbs.json >kbs.log 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' kbs.log); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "$PORT" ] || fail "server did not start: $(cat kbs.log)"
cat >ephroot.conf <<CONF
attest = required
kbs-url = http://127.0.0.1:$PORT
kbs-insecure = yes
attest-tee = svsm-vtpm
attest-vcek-file = $work/pki/vcek.der
secret.disk = default/key/disk
kbs-retries = 0
CONF
attest() {
        rm -rf "$shm/secrets"
        "$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
                --secrets-dir "$shm/secrets" >client.log 2>&1
}
refused() { # WHAT PATTERN
        if attest; then fail "$1: accepted"; fi
        grep -q -- "$2" client.log || fail "$1: $(cat client.log) lacks '$2'"
        [ ! -e "$shm/secrets/disk" ] || fail "$1: the secret was written"
        ok "$1 refused ($2)"
}

attest || fail "svsm-vtpm attestation refused: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs"
ok "svsm-vtpm: credential activated with the EK, report and quote verified, secret written"
echo "info: $(grep -m1 'attested to' client.log)"
# The TPM commands of one svsm-vtpm attestation, through tpm2-tss's pcap TCTI (for docs/performance.md).
if [ -e /usr/lib/x86_64-linux-gnu/libtss2-tcti-pcap.so.0 ] || ldconfig -p | grep -q libtss2-tcti-pcap; then
        rm -rf "$shm/secrets"
        TCTI_PCAP_FILE=$work/svsm.pcap "$EPHROOT" --config ephroot.conf --tcti "pcap:$SWTPM_TCTI" --log-target stderr \
                attest --cmdline-file /dev/null --secrets-dir "$shm/secrets" >client.log 2>&1 || fail "pcap run: $(cat client.log)"
        echo "info: TPM commands of one svsm-vtpm attestation: $(python3 "$HERE/../bench/tpm-pcap-count.py" svsm.pcap | tr '\n' ' ')"
fi
# The handles ephroot made are gone (AK flushed, policy session flushed): a resource-manager-less TPM
# would otherwise fill up over a few runs.
for i in 1 2 3; do attest || fail "run $i: $(cat client.log)"; done
[ -z "$(tpm2_getcap handles-transient)" ] || fail "transient objects left: $(tpm2_getcap handles-transient)"
ok "three more runs; no transient object left in the TPM"

make_report other-ek.pub pki/vcek.key "$MEASUREMENT"; put_report
refused "a report bound to another EK" "SNP REPORT_DATA is not SHA-512 of the EK"
make_report ek.pub pki/vcek.key "$(head -c 48 /dev/urandom | xxd -p -c 48)"; put_report
refused "a launch measurement the policy does not list" "measurement is not in the policy"
make_report ek.pub rogue/vcek.key "$MEASUREMENT"; put_report
sed -i "s|attest-vcek-file = .*|attest-vcek-file = $work/rogue/vcek.der|" ephroot.conf
refused "a VCEK of another root" "VCEK is not signed by a trusted ASK"
tpm2_nvundefine 0x01C00002 -C p >/dev/null
refused "no report in NV" "Failed to read the SNP report from NV index 0x01c00002"

echo "PASS: $pass checks"
