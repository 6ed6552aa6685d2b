#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The `tpm` verifier against quotes made by a real TPM: a fresh swtpm, tpm2_createek + tpm2_createak,
# PCRs extended, tpm2_quote over the session's binding; the server verifies, the policy trusts the AK
# and the PCR values, and the resource decrypts. A quote of other PCRs, or by another AK, is refused.
#   test-kbs-tpm-live.sh EPHROOT-KBS
set -euo pipefail

KBS=$(realpath "${1:?usage: test-kbs-tpm-live.sh EPHROOT-KBS}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in swtpm swtpm_setup tpm2_createek tpm2_createak tpm2_quote tpm2_pcrextend tpm2_pcrread openssl; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
"$PY" -c 'import jwcrypto, cryptography' 2>/dev/null || { echo "SKIP: python3-jwcrypto missing"; exit 77; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; swtpm_stop; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/log" ] && tail -20 "$work/log" >&2; exit 1; }

swtpm_start "$work/tpm" sha256 || fail "swtpm"
cd "$work"
tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null
tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.pub -f pem -n ak.name >/dev/null
tpm2_flushcontext -t
mkdir ak && openssl pkey -pubin -in ak.pub -outform DER | base64 -w0 >ak/ak.spki.b64
tpm2_pcrextend 11:sha256=$(printf 'kernel' | sha256sum | cut -d' ' -f1)
tpm2_pcrread sha256:11 -o pcr11.bin >/dev/null
PCR11=$(xxd -p -c 64 pcr11.bin)

mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
cat >policy.json <<JSON
{"policies":[{"name":"live","tee":["tpm"],"trusted_aks":["$(cat ak/ak.spki.b64)"],
  "pcrs":{"pcrs":{"sha256":{"11":"$PCR11"}}},"resources":["default/key/disk"]}]}
JSON
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
: >log
"$KBS" --config kbs.json >log 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' log); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "${PORT:-}" ] || fail "server did not start"

"$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$PORT" --ak ak --tpm2-ak-ctx ak.ctx --resource default/key/disk \
        --out out >client.log 2>&1 || fail "live quote refused: $(cat client.log)"
cmp out/plain-jwcrypto res/default/key/disk || fail "plaintext differs"
echo "ok: a quote made by swtpm over the session binding verifies and releases the resource"

# the independent checker agrees on what the server accepted: signature and the binding as nonce
"$PY" - >nonce.hex <<'PY' || fail "tpm2_checkquote input"
import json, base64, hashlib
a = json.load(open("out/attest.json"))
q = a["tee-evidence"]["primary_evidence"]["tpm_quote"]
open("q.msg", "wb").write(base64.b64decode(q["message"]))
open("q.sig", "wb").write(base64.b64decode(q["signature"]))
rd = a["runtime-data"]
binding = {"additional-evidence": "", "nonce": rd["nonce"], "tee-pubkey": rd["tee-pubkey"]}
print(hashlib.sha384(json.dumps(binding, sort_keys=True, separators=(",", ":")).encode()).digest()[:32].hex())
PY
tpm2_checkquote -u ak.pub -m q.msg -s q.sig -g sha256 -q "$(cat nonce.hex)" >checkquote.log 2>&1 \
        || fail "tpm2_checkquote refuses what the server accepted: $(cat checkquote.log)"
echo "ok: tpm2_checkquote verifies the same quote"

# a second AK of the same TPM, not in the policy
tpm2_createak -C ek.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa -u ak2.pub -f pem -n ak2.name >/dev/null
tpm2_flushcontext -t
mkdir ak2 && openssl pkey -pubin -in ak2.pub -outform DER | base64 -w0 >ak2/ak.spki.b64
if "$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$PORT" --ak ak2 --tpm2-ak-ctx ak2.ctx --resource default/key/disk \
        >client.log 2>&1; then fail "untrusted AK accepted"; fi
grep -q "401.*AK is not trusted" client.log || fail "untrusted AK: $(cat client.log)"
echo "ok: a quote by an AK the policy does not list refused"
# a quote by the trusted AK presented as another AK's
if "$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$PORT" --ak ak --tpm2-ak-ctx ak2.ctx --resource default/key/disk \
        >client.log 2>&1; then fail "quote by another AK accepted"; fi
grep -q "401.*signature does not verify" client.log || fail "wrong AK: $(cat client.log)"
echo "ok: a quote signed by another key than ak_public refused"
# a PCR the policy does not expect
tpm2_pcrextend 11:sha256=$(printf 'other' | sha256sum | cut -d' ' -f1)
if "$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$PORT" --ak ak --tpm2-ak-ctx ak.ctx --resource default/key/disk \
        >client.log 2>&1; then fail "changed PCR 11 accepted"; fi
grep -q "401.*PCR values differ" client.log || fail "changed PCR: $(cat client.log)"
echo "ok: a PCR 11 other than the reference value refused"

echo "5 passed, 0 failed"
