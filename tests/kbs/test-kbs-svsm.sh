#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# svsm-vtpm end to end: a test-only AMD-like PKI made here with openssl (ARK and ASK RSA-4096 signing
# with RSASSA-PSS SHA-384 salt 48, VCEK EC P-384), a fresh swtpm as the ephemeral vTPM (TCG EK, AK),
# and the client (kbs-client.py) playing the SVSM: an SNP report binding SHA-512(EK) signed by the
# VCEK, credential activation through tpm2_activatecredential, a quote by the AK. Then each refusal:
# a report signed by a different key, VMPL 1, a measurement not in the policy, a report bound to
# another EK, a wrong activation secret, a VCEK from another root.
#   test-kbs-svsm.sh EPHROOT-KBS
set -euo pipefail

KBS=$(realpath "${1:?usage: test-kbs-svsm.sh EPHROOT-KBS}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in swtpm swtpm_setup tpm2_createek tpm2_createak tpm2_activatecredential tpm2_quote openssl; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
"$PY" -c 'import jwcrypto, cryptography' 2>/dev/null || { echo "SKIP: python3-jwcrypto missing"; exit 77; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; swtpm_stop; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/log" ] && tail -20 "$work/log" >&2; exit 1; }
cd "$work"
pass=0

# --- the test PKI (tests/lib/amd-test-pki.sh) ---
. "$HERE/../lib/amd-test-pki.sh"
mkpki() { amd_test_pki "$1" "$2" || fail "test PKI: ASK does not verify"; }
mkpki pki Milan
mkpki rogue Milan

# --- the vTPM ---
swtpm_start "$work/tpm" sha256 || fail "swtpm"
mkdir svsm
tpm2_createek -c svsm/ek.ctx -G rsa -u svsm/ek.pub -f tss >/dev/null
tpm2_createak -C svsm/ek.ctx -c svsm/ak.ctx -G rsa -g sha256 -s rsassa -u svsm/ak.pub -f tss -n svsm/ak.name >/dev/null
tpm2_flushcontext -t
tpm2_createek -c other-ek.ctx -G ecc -u svsm/other-ek.pub -f tss >/dev/null
tpm2_flushcontext -t
cp pki/vcek.key pki/vcek.der svsm/
MEASUREMENT=$(head -c 48 /dev/urandom | xxd -p -c 48)
echo "$MEASUREMENT" >svsm/measurement.hex

mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
cat >policy.json <<JSON
{"amd_roots":["$work/pki/ask_ark.pem"],
 "policies":[{"name":"svsm","tee":["svsm-vtpm"],"snp_measurements":["$MEASUREMENT"],"resources":["default/key/*"]}]}
JSON
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
start() {
        : >log
        "$KBS" --config kbs.json >log 2>&1 &
        SERVER_PID=$!
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' log); [ -n "$PORT" ] && break; sleep 0.05
        done
        [ -n "$PORT" ] || fail "server did not start: $(cat log)"
}
start
client() { "$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$PORT" --svsm svsm --resource default/key/disk "$@"; }

client --out out >client.log 2>&1 || fail "svsm-vtpm evidence refused: $(cat client.log)"
cmp out/plain-jwcrypto res/default/key/disk || fail "plaintext differs"
echo "ok: svsm-vtpm evidence (SNP report, credential activation, quote) verifies and releases the resource"
pass=$((pass + 1))

refused() { # TAMPER EXPECTED
        if client --tamper "$1" >client.log 2>&1; then fail "$1: accepted"; fi
        grep -q -- "$2" client.log || fail "$1: $(cat client.log) lacks '$2'"
        echo "ok: $1 refused ($2)"
        pass=$((pass + 1))
}
refused report-key "SNP report signature does not verify with the VCEK"
refused vmpl1 "SNP report is not from VMPL 0"
refused debug "SNP guest policy allows debugging (policy bit 19)"
refused measurement "SNP launch measurement is not in the policy's allowed list"
refused other-ek "SNP REPORT_DATA is not SHA-512 of the EK"
refused wrong-secret "credential activation proof is wrong"

# a VCEK of another PKI (same product name, another ARK)
cp rogue/vcek.key rogue/vcek.der svsm/
if client >client.log 2>&1; then fail "VCEK from a rogue root accepted"; fi
grep -q "VCEK is not signed by a trusted ASK" client.log || fail "rogue VCEK: $(cat client.log)"
echo "ok: a VCEK from another root refused"
pass=$((pass + 1))
cp pki/vcek.key pki/vcek.der svsm/

# auth without the EK and AK
code=$(curl -s -o body -w '%{http_code}' "http://127.0.0.1:$PORT/kbs/v0/auth" \
        -d '{"version":"0.4.0","tee":"svsm-vtpm","extra-params":""}')
[ "$code" = 401 ] && grep -q "needs extra-params" body || fail "svsm auth without EK/AK: $code $(cat body)"
echo "ok: svsm-vtpm auth without ek_public/ak_public refused"
pass=$((pass + 1))

# The policy's TCB floor and guest policy bits apply to svsm-vtpm (the test report: SMT allowed,
# reported_tcb = committed_tcb = 0).
policy_with() { # extra members of the policy
        cat >policy.json <<JSON
{"amd_roots":["$work/pki/ask_ark.pem"],
 "policies":[{"name":"svsm","tee":["svsm-vtpm"],"snp_measurements":["$MEASUREMENT"],"resources":["default/key/*"]$1}]}
JSON
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        start
}
policy_refuses() { # EXTRA EXPECTED
        policy_with "$1"
        if client >client.log 2>&1; then fail "$1: accepted"; fi
        grep -q -- "$2" client.log || fail "$1: $(cat client.log) lacks '$2'"
        echo "ok: policy $1 refuses ($2)"
        pass=$((pass + 1))
}
policy_refuses ',"snp_guest_policy":{"smt":false}' "SNP guest policy bit SMT (16) differs"
policy_refuses ',"min_snp_tcb":{"Milan":{"bootloader":0,"tee":0,"snp":0,"microcode":1}}' "SNP reported_tcb is below the policy's min_snp_tcb"
policy_with ',"snp_guest_policy":{"smt":true,"migrate_ma":false},"min_snp_tcb":{"Milan":{"bootloader":0,"tee":0,"snp":0,"microcode":0}}'
client >client.log 2>&1 || fail "floors the report meets: $(cat client.log)"
echo "ok: svsm-vtpm evidence meeting the policy's TCB floor and guest policy bits released"
pass=$((pass + 1))
echo "$pass passed, 0 failed"
