#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Azure evidence flow end to end against swtpm behind a paravisor simulator (paravisor-sim.py):
# an AK provisioned at 0x81000003, ephroot's az-snp-vtpm provider writes the report data to NV
# 0x01400002, polls 0x01400001 until the regenerated HCL report carries it, quotes, reads the PCRs,
# fetches the VCEK from a fake IMDS on loopback, and ephroot-kbs (configured with the test AMD root)
# verifies the evidence and releases a resource. Then: a paravisor that never regenerates the report
# (the client gives up at its deadline), one that regenerates it with other user data (refused), the
# tee detected from the report, and the evidence refused by a broker with another root.
#   test-az-flow.sh AZ-COLLECT EPHROOT-KBS
set -euo pipefail

COLLECT=$(realpath "${1:?usage: test-az-flow.sh AZ-COLLECT EPHROOT-KBS EPHROOT}")
KBS=$(realpath "${2:?usage: test-az-flow.sh AZ-COLLECT EPHROOT-KBS EPHROOT}")
EPHROOT=$(realpath "${3:?usage: test-az-flow.sh AZ-COLLECT EPHROOT-KBS EPHROOT}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in swtpm swtpm_setup tpm2_createprimary tpm2_evictcontrol tpm2_flushcontext openssl; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
"$PY" -c 'import jwcrypto, cryptography' 2>/dev/null || { echo "SKIP: python3-jwcrypto or cryptography missing"; exit 77; }
. "$HERE/../lib/swtpm.sh"
. "$HERE/../lib/amd-test-pki.sh"

work=$(mktemp -d)
SERVER_PID= SIM_PID=
stop_sim() {
        if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
        SIM_PID=
}
cleanup() {
        set +e
        [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
        stop_sim
        swtpm_stop
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in log sim.log; do [ -f "$work/$f" ] && tail -20 "$work/$f" >&2; done; exit 1; }
cd "$work"
pass=0

amd_test_pki pki Milan azure || fail "test PKI"
amd_test_pki rogue Milan || fail "rogue PKI"

# --- the vTPM and its AK, as Azure provisions it ---
swtpm_start "$work/tpm" sha256 || fail "swtpm"
SWTPM_PORT=${SWTPM_TCTI##*port=}
tpm2_createprimary -C o -G rsa2048:rsassa-sha256:null -g sha256 -c ak.ctx \
        -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda' >/dev/null
tpm2_evictcontrol -C o -c ak.ctx 0x81000003 >/dev/null
tpm2_flushcontext -t

start_sim() { # MODE [TIMEOUT [TEE]]
        rm -f ready
        "$PY" "$HERE/paravisor-sim.py" --swtpm-port "$SWTPM_PORT" --pki "$work/pki" --ready ready --mode "$1" \
                --tee "${3:-snp}" >sim.log 2>&1 &
        SIM_PID=$!
        for _ in $(seq 1 100); do [ -f ready ] && break; kill -0 "$SIM_PID" || fail "simulator died"; sleep 0.05; done
        [ -f ready ] || fail "simulator did not start"
        read -r SIM_PORT IMDS_PORT <ready
        TCTI="swtpm:host=127.0.0.1,port=$SIM_PORT"
        CONF=$(printf 'azure-imds-url = http://127.0.0.1:%s\nazure-report-timeout = %s\nlog-level = debug\n' \
                "$IMDS_PORT" "${2:-5}")
}

# --- the broker ---
# Nothing extends PCR 0 of this swtpm: the policies pin it to zeros (an Azure policy must pin PCRs).
PIN='{"sha256":{"0":"0000000000000000000000000000000000000000000000000000000000000000"}}'
mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
start_kbs() { # ROOTS [POLICY]
        local policy=${2:-}
        [ -n "$policy" ] || policy='{"name":"azure","tee":["az-snp-vtpm"],"pcrs":'"$PIN"',"resources":["default/key/*"]}'
        cat >policy.json <<JSON
{"amd_roots":["$1"],
 "policies":[$policy]}
JSON
        echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
        : >log
        "$KBS" --config kbs.json >log 2>&1 &
        SERVER_PID=$!
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' log); [ -n "$PORT" ] && break; sleep 0.05
        done
        [ -n "$PORT" ] || fail "server did not start: $(cat log)"
}
stop_kbs() { kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
cycle() { "$PY" "$HERE/az-kbs-client.py" "http://127.0.0.1:$PORT" "$COLLECT" "$TCTI" "$CONF" default/key/disk out "$@"; }

# 1. the whole flow, verified and released by ephroot-kbs
start_sim good
start_kbs "$work/pki/ask_ark.pem"
cycle >client.log 2>&1 || fail "az-snp-vtpm flow: $(cat client.log)"
grep "HCL report with" client.log || true
cmp out/plain res/default/key/disk || fail "released resource differs"
"$PY" - out <<'PYEOF' || fail "evidence shape"
import base64, json, struct, sys
d = sys.argv[1]
e = json.load(open(d + "/evidence.json"))
rd = open(d + "/report-data.hex").read()
assert list(e) == ["version", "tpm_quote", "hcl_report", "vcek"] and e["version"] == 2, list(e)
assert list(e["tpm_quote"]) == ["signature", "message", "pcrs"] and len(e["tpm_quote"]["pcrs"]) == 24
assert e["hcl_report"].endswith("=") or len(e["hcl_report"]) % 4 == 0
h = base64.urlsafe_b64decode(e["hcl_report"])
n = struct.unpack_from("<I", h, 0x4C0 + 16)[0]
ud = json.loads(h[0x4D4:0x4D4 + n])["user-data"]
assert ud == (rd + "00" * 16).upper(), (ud, rd)
assert rd in e["tpm_quote"]["message"]
PYEOF
# the simulator regenerates the report 300 ms after the write: the client must have polled
grep -Eq "HCL report with our user data after ([2-9]|[1-9][0-9]) read" client.log || fail "no polling: $(cat client.log)"
echo "ok: az-snp-vtpm evidence from swtpm behind the paravisor simulator verifies in ephroot-kbs and releases the resource"
pass=$((pass + 1))

# 1b. the same through the client, `ephroot attest`, with attest-tee=azure (the tee from the HCL report)
shm=$(mktemp -d /dev/shm/ephroot-az.XXXXXX)
printf '%s\nattest = required\nkbs-url = http://127.0.0.1:%s\nkbs-insecure = yes\nattest-tee = azure\nsecret.disk = default/key/disk\n' \
        "$CONF" "$PORT" >attest.conf
if ! "$EPHROOT" --config attest.conf --tcti "$TCTI" --log-target stderr attest --cmdline-file /dev/null \
        --secrets-dir "$shm/secrets" >attest.log 2>&1; then
        rm -rf "$shm"; fail "ephroot attest (azure): $(cat attest.log)"
fi
cmp -s "$shm/secrets/disk" res/default/key/disk || { rm -rf "$shm"; fail "ephroot attest: the secret differs"; }
rm -rf "$shm"
grep -q "attest-tee=azure: the HCL report says az-snp-vtpm" attest.log || fail "no detection: $(cat attest.log)"
echo "ok: ephroot attest with attest-tee=azure detects az-snp-vtpm, attests to ephroot-kbs and writes the secret"
pass=$((pass + 1))

# 2. the tee detected from the HCL report
"$COLLECT" "$TCTI" auto "$(cat out/report-data.hex)" "$CONF" >auto.json 2>auto.log || fail "auto: $(cat auto.log)"
grep -q "Detected az-snp-vtpm" auto.log || fail "auto: $(cat auto.log)"
echo "ok: the tee is detected from the HCL report (az-snp-vtpm)"
pass=$((pass + 1))

# 3. asking for TDX evidence on an SNP report is refused
if "$COLLECT" "$TCTI" az-tdx-vtpm "$(cat out/report-data.hex)" "$CONF" >/dev/null 2>tdx.log; then fail "tdx on snp accepted"; fi
grep -q "the HCL report is of the other type (SNP)" tdx.log || fail "tdx on snp: $(cat tdx.log)"
echo "ok: az-tdx-vtpm evidence on an SNP HCL report refused"
pass=$((pass + 1))

# 4. the same evidence to a broker that trusts another root
stop_kbs
start_kbs "$work/rogue/ask_ark.pem"
if cycle >client.log 2>&1; then fail "evidence accepted under a rogue root"; fi
grep -q "VCEK is not signed by a trusted ASK" client.log || fail "rogue root: $(cat client.log)"
echo "ok: refused by a broker that trusts another AMD root"
pass=$((pass + 1))
stop_kbs
stop_sim

# 5. a paravisor that never regenerates the report: the client gives up at its deadline
start_sim stale 1
rd=$(head -c 48 /dev/urandom | xxd -p -c 48)
t0=$(date +%s%N)
if "$COLLECT" "$TCTI" az-snp-vtpm "$rd" "$CONF" >/dev/null 2>stale.log; then fail "stale report accepted"; fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q "was not regenerated within 1 s after writing 0x01400002, giving up" stale.log || fail "stale: $(cat stale.log)"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 6000 ] || fail "stale: gave up after $ms ms, expected about 1 s"
echo "ok: a report that is never regenerated: given up after $ms ms (deadline 1 s)"
pass=$((pass + 1))
stop_sim

# 6. a paravisor that regenerates the report with other user data: refused
start_sim wrong 1
if "$COLLECT" "$TCTI" az-snp-vtpm "$rd" "$CONF" >/dev/null 2>wrong.log; then fail "wrong user data accepted"; fi
grep -q "regenerated, but its user-data is not what was written to 0x01400002, refusing" wrong.log || fail "wrong: $(cat wrong.log)"
echo "ok: a report regenerated with other user data refused"
pass=$((pass + 1))
stop_sim

# 6b. one that regenerates it with our user data but a hardware report that binds other runtime data
start_sim unbound 1
if "$COLLECT" "$TCTI" az-snp-vtpm "$rd" "$CONF" >/dev/null 2>unbound.log; then fail "unbound report accepted"; fi
grep -q "its hardware report does not bind its runtime data, refusing" unbound.log || fail "unbound: $(cat unbound.log)"
echo "ok: a report whose SNP report_data is not SHA-256 of its runtime data refused"
pass=$((pass + 1))
stop_sim

# 6c. a report that names another AK than the one at 0x81000003
start_sim other-ak 2
if "$COLLECT" "$TCTI" az-snp-vtpm "$rd" "$CONF" >/dev/null 2>other-ak.log; then fail "other AK accepted"; fi
grep -q "Failed to match the HCL report's HCLAkPub with the attestation key at 0x81000003, refusing" other-ak.log ||
        fail "other-ak: $(cat other-ak.log)"
echo "ok: a report whose HCLAkPub is not the AK at 0x81000003 refused"
pass=$((pass + 1))
stop_sim

# 7. TDX: a TDREPORT in the HCL report, the TD quote from IMDS's /acc/tdquote; ephroot-kbs accepts it
# only as an unverified TD quote (the simulator's quote has no Intel signature)
start_sim good 5 tdx
start_kbs "$work/pki/ask_ark.pem" '{"name":"tdx","tee":["az-tdx-vtpm"],"pcrs":'"$PIN"',"accept_unverified_td_quote":true,"resources":["default/key/*"]}'
rm -rf out
cycle az-tdx-vtpm >client.log 2>&1 || fail "az-tdx-vtpm flow: $(cat client.log)"
cmp out/plain res/default/key/disk || fail "released resource differs (tdx)"
"$PY" -c 'import json,sys; e=json.load(open(sys.argv[1])); assert list(e)==["version","tpm_quote","hcl_report","td_quote"] and e["version"]==2, e.keys()' \
        out/evidence.json || fail "tdx evidence shape"
"$COLLECT" "$TCTI" auto "$(cat out/report-data.hex)" "$CONF" >/dev/null 2>auto.log || fail "auto tdx: $(cat auto.log)"
grep -q "Detected az-tdx-vtpm" auto.log || fail "auto tdx: $(cat auto.log)"
echo "ok: az-tdx-vtpm evidence (TDREPORT, TD quote from IMDS) accepted by ephroot-kbs as an unverified TD quote; tee detected"
pass=$((pass + 1))
stop_kbs
# without accept_unverified_td_quote the same evidence is refused
start_kbs "$work/pki/ask_ark.pem" '{"name":"tdx","tee":["az-tdx-vtpm"],"pcrs":'"$PIN"',"resources":["default/key/*"]}'
if cycle az-tdx-vtpm >client.log 2>&1; then fail "unverified TD quote accepted by a strict policy"; fi
grep -q "attest: 401" client.log || fail "strict tdx: $(cat client.log)"
echo "ok: the same TDX evidence refused by a policy that wants a verified TD quote"
pass=$((pass + 1))
stop_kbs
stop_sim

echo "$pass passed, 0 failed"
