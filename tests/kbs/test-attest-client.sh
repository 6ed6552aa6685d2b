#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The attestation client (`ephroot attest`) against ephroot-kbs on loopback, with swtpm as the TPM:
# a successful attestation writes the secret (0400, tmpfs); a wrong nonce, a PCR
# that differs from the policy, a tampered quote and an expired session each fail with a clear
# message and no secret file. The test build (ephroot-test) has the protocol fault hooks.
#   test-attest-client.sh EPHROOT-KBS EPHROOT-TEST
set -euo pipefail

KBS=$(realpath "${1:?usage: test-attest-client.sh EPHROOT-KBS EPHROOT-TEST}")
EPHROOT=$(realpath "${2:?}")
HERE=$(cd "$(dirname "$0")" && pwd)
for t in swtpm swtpm_setup tpm2_pcrextend tpm2_pcrread tpm2_checkquote openssl python3; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] || { echo "SKIP: no tmpfs at /dev/shm"; exit 77; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
shm=$(mktemp -d /dev/shm/ephroot-attest.XXXXXX)
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

swtpm_start "$work/tpm" sha256 || fail "swtpm"
cd "$work"
# Something measured, as the boot would: PCR 11.
tpm2_pcrextend 11:sha256=$(printf 'kernel' | sha256sum | cut -d' ' -f1)
PCR11=$(tpm2_pcrread sha256:11 -o pcr11.bin >/dev/null && xxd -p -c 64 pcr11.bin)

# The AK the client will make (a primary key: the same while the TPM keeps its seeds).
"$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null >ak.b64 2>ak.err \
        || fail "print-ak: $(cat ak.err)"
AK=$(cat ak.b64)
[ ${#AK} -gt 300 ] || fail "AK looks wrong: $AK"
echo "attest-ak-type = ecc" >ecc.conf
AK_ECC=$("$EPHROOT" --config ecc.conf --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null 2>ak.err) \
        || fail "print-ak (ecc): $(cat ak.err)"
[ -n "$AK_ECC" ] && [ "$AK_ECC" != "$AK" ] || fail "ECC AK looks wrong: $AK_ECC"

mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
head -c 100 /dev/urandom >res/default/key/other
write_policy() { # $1: expected PCR 11
        cat >policy.json <<JSON
{"policies":[{"name":"t","tee":["tpm"],"trusted_aks":["$AK","$AK_ECC"],
  "pcrs":{"sha256":{"11":"$1"}},"resources":["default/key/*"]}]}
JSON
}
start_server() { # $1: extra JSON config members
        stop_server
        echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"${1:-}}" >kbs.json
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
secret.disk = default/key/disk
secret.other-key = default/key/other
kbs-retries = 0
attest-timeout = 20
CONF
}
attest() { # runs the client; output in client.log
        rm -rf "$shm/secrets"
        "$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
                --secrets-dir "$shm/secrets" >client.log 2>&1
}
no_secret() { [ ! -e "$shm/secrets/disk" ] && [ ! -e "$shm/secrets/other-key" ] || fail "$1: a secret was written"; }
expect_fail() { # $1: what, $2: grep pattern in the client's log, env in $3
        if env ${3:-} bash -c "$(declare -f attest); EPHROOT='$EPHROOT' SWTPM_TCTI='$SWTPM_TCTI' shm='$shm' attest"; then
                fail "$1: accepted"
        fi
        grep -q -- "$2" client.log || fail "$1: message: $(cat client.log)"
        no_secret "$1"
        ok "$1 refused: $(grep -m1 -- "$2" client.log | sed 's/^.*Failed/Failed/')"
}

write_policy "$PCR11"
start_server
# Plain HTTP without kbs-insecure=yes: refused before any request.
sed -i -e '/^kbs-insecure/d' ephroot.conf
expect_fail "plain-HTTP kbs-url without kbs-insecure=yes" "is plain HTTP: nothing would authenticate the broker"
echo "kbs-insecure = yes" >>ephroot.conf
EPHROOT_TEST_EVIDENCE_OUT=$work/evidence.json attest || fail "attestation refused: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs"
cmp "$shm/secrets/other-key" res/default/key/other || fail "second secret differs"
[ "$(stat -c %a "$shm/secrets/disk")" = 400 ] || fail "mode $(stat -c %a "$shm/secrets/disk")"
[ "$(stat -c %a "$shm/secrets")" = 700 ] || fail "dir mode $(stat -c %a "$shm/secrets")"
grep -q "attested to http://127.0.0.1:$PORT as tpm" client.log || fail "summary: $(cat client.log)"
! grep -q "$(xxd -p -c 64 res/default/key/disk)" client.log || fail "secret in the log"
# Not even at debug level: neither the secret (hex, base64) nor anything but its size.
rm -rf "$shm/secrets"
"$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr --log-level debug attest --cmdline-file /dev/null \
        --secrets-dir "$shm/secrets" >debug.log 2>&1 || fail "debug run: $(cat debug.log)"
for s in "$(xxd -p -c 64 res/default/key/disk)" "$(base64 -w0 res/default/key/disk)" "$(base64 -w0 res/default/key/disk | tr '+/' '-_' | tr -d =)"; do
        ! grep -qF -- "$s" debug.log || fail "secret in the debug log"
done
grep -q "Resource 'default/key/disk': 32 bytes" debug.log || fail "debug log: $(cat debug.log)"
ok "attestation fetched two secrets ($(grep -o 'in [0-9]* ms' client.log | head -1)), 0400 in a 0700 tmpfs directory"

# The independent checker agrees: ephroot's quote verifies with tpm2_checkquote, the qualifying data
# being the report data cut to 32 bytes, over the PCRs of attest-pcrs (default 0-23).
python3 - "$work/evidence.json" <<'PY' || fail "evidence format"
import base64, json, sys
e = json.load(open(sys.argv[1]))
assert set(e) == {"ak_public", "tpm_quote"}, e.keys()
q = e["tpm_quote"]
assert set(q) == {"message", "signature", "pcrs"} and len(q["pcrs"]) == 24
assert all(len(p) == 64 and int(p, 16) >= 0 for p in q["pcrs"])
open("q.msg", "wb").write(base64.b64decode(q["message"], validate=True))
open("q.sig", "wb").write(base64.b64decode(q["signature"], validate=True))
open("ak.der", "wb").write(base64.b64decode(e["ak_public"], validate=True))
PY
openssl pkey -pubin -inform DER -in ak.der -out ak.pem
tpm2_checkquote -u ak.pem -m q.msg -s q.sig -g sha256 -q "$(head -c 64 "$work/evidence.json.report-data")" >checkquote.log 2>&1 \
        || fail "tpm2_checkquote refuses ephroot's quote: $(cat checkquote.log)"
if tpm2_checkquote -u ak.pem -m q.msg -s q.sig -g sha256 -q "$(tail -c 64 "$work/evidence.json.report-data")" >/dev/null 2>&1; then
        fail "tpm2_checkquote accepts the quote with another nonce"
fi
[ "$PCR11" = "$(python3 -c "import json;print(json.load(open('$work/evidence.json'))['tpm_quote']['pcrs'][11])")" ] \
        || fail "PCR 11 in the evidence differs from the TPM's"
ok "ephroot's quote verifies with tpm2_checkquote (nonce = report data[0:32]); PCR 11 as the TPM has it"

# Trustee's own tpm verifier rules (tests/kbs/trustee-tpm-rules.py cites file and commit): with the
# default settings the evidence passes them (RSASSA, every carried PCR hashed = the quote's digest,
# nonce = report data resized to 32 bytes); a quote over a subset of the 24 carried PCRs does not.
python3 "$HERE/trustee-tpm-rules.py" "$work/evidence.json" "$(cat "$work/evidence.json.report-data")" >rules.log 2>&1 \
        || fail "default evidence breaks Trustee's rules: $(cat rules.log)"
ok "$(cat rules.log)"
echo "attest-pcrs = 0-15" >>ephroot.conf
EPHROOT_TEST_EVIDENCE_OUT=$work/evidence-sub.json attest || fail "attest-pcrs=0-15 refused by ephroot-kbs: $(cat client.log)"
if python3 "$HERE/trustee-tpm-rules.py" "$work/evidence-sub.json" "$(cat "$work/evidence-sub.json.report-data")" >rules.log 2>&1; then
        fail "a quote over PCRs 0-15 with 24 values carried passes Trustee's digest rule"
fi
grep -q "Digest of PCRs does not match" rules.log || fail "subset: $(cat rules.log)"
ok "attest-pcrs=0-15: ephroot-kbs accepts (it reads the selection); Trustee's rule refuses: $(cat rules.log)"
sed -i '/^attest-pcrs/d' ephroot.conf

# An ECC P-256 AK (attest-ak-type=ecc): ECDSA quote, also checked by tpm2_checkquote.
echo "attest-ak-type = ecc" >>ephroot.conf
EPHROOT_TEST_EVIDENCE_OUT=$work/evidence-ecc.json attest || fail "ECC AK refused: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "ECC AK: secret differs"
python3 -c "import base64,json; e=json.load(open('$work/evidence-ecc.json')); q=e['tpm_quote']
open('qe.msg','wb').write(base64.b64decode(q['message'])); open('qe.sig','wb').write(base64.b64decode(q['signature']))
open('ake.der','wb').write(base64.b64decode(e['ak_public']))"
openssl pkey -pubin -inform DER -in ake.der -out ake.pem
tpm2_checkquote -u ake.pem -m qe.msg -s qe.sig -g sha256 -q "$(head -c 64 "$work/evidence-ecc.json.report-data")" >checkquote.log 2>&1 \
        || fail "tpm2_checkquote refuses the ECDSA quote: $(cat checkquote.log)"
ok "attest-ak-type=ecc: ECDSA quote accepted by the broker and by tpm2_checkquote ($(grep -o 'evidence [0-9]* ms' client.log))"
# Trustee takes only RSASSA (az-cvm-vtpm extract_raw_signature_bytes): the ECC AK is for ephroot-kbs only.
if python3 "$HERE/trustee-tpm-rules.py" "$work/evidence-ecc.json" "$(cat "$work/evidence-ecc.json.report-data")" >rules.log 2>&1; then
        fail "an ECDSA quote passes Trustee's signature rule"
fi
grep -q "expected RSA-SSA" rules.log || fail "ECC rule: $(cat rules.log)"
ok "attest-ak-type=ecc is refused by Trustee's rule, as documented: $(cat rules.log)"
sed -i '/attest-ak-type/d' ephroot.conf

# An EC key and an RSA key both work.
echo "attest-key = rsa" >>ephroot.conf
attest || fail "RSA-OAEP-256 attestation refused: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "RSA: secret differs"
ok "attestation with an RSA-OAEP-256 TEE key"
sed -i '/attest-key/d' ephroot.conf

expect_fail "wrong nonce" "nonce" EPHROOT_TEST_ATTEST=nonce
# Trustee's session semantics (kbs/src/attestation/backend.rs at 78962cd4): an authed session stays
# usable until it expires, so the same attest request sent twice is verified twice; the evidence is
# bound to the nonce and to this client's TEE key, so the second token is good only for this client.
n0=$(grep -c 'attest: tpm evidence verified' kbs.log || true)
EPHROOT_TEST_ATTEST=replay attest || fail "attest sent twice in one session: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "replayed attest: secret differs"
n1=$(grep -c 'attest: tpm evidence verified' kbs.log || true)
[ "$n1" -eq $((n0 + 2)) ] || fail "replayed attest: verified $((n1 - n0)) times, expected 2: $(tail -3 kbs.log)"
ok "attest sent twice in one session: verified both times, as Trustee does"
expect_fail "tampered quote" "Failed to POST.*attest.*AttestationError" EPHROOT_TEST_ATTEST=quote

write_policy "$(printf '%064d' 0)"
start_server
expect_fail "PCR 11 differing from the policy" "PolicyDeny"

write_policy "$PCR11"
start_server ',"session_timeout":1'
expect_fail "expired session" "session expired" EPHROOT_TEST_ATTEST=delay=2

# A secret that does not exist: nothing at all is written (all or nothing).
start_server
sed -i 's|secret.other-key = .*|secret.other-key = default/key/missing|' ephroot.conf
expect_fail "missing resource" "401, PluginInternalError: resource not found"

# A write that fails midway (the second secret's name is taken by a directory, so its rename fails):
# the first secret, already in place, is removed again and no temporary file is left.
sed -i 's|secret.other-key = .*|secret.other-key = default/key/other|' ephroot.conf
rm -rf "$shm/secrets" && mkdir -m 0700 "$shm/secrets" && mkdir "$shm/secrets/other-key" && touch "$shm/secrets/other-key/x"
if "$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
        --secrets-dir "$shm/secrets" >client.log 2>&1; then fail "write failing midway: accepted"; fi
grep -q "Failed to write secret '$shm/secrets/other-key'" client.log || fail "write failing midway: $(cat client.log)"
[ "$(ls -A "$shm/secrets")" = other-key ] || fail "write failing midway: left behind: $(ls -A "$shm/secrets")"
ok "a write failing midway leaves nothing behind (the first secret removed again)"
rm -rf "$shm/secrets"

# A secrets directory that is not on tmpfs is refused before anything is written.
mkdir -p "$work/disk-dir"
if [ "$(stat -f -c %T "$work")" != tmpfs ]; then
        if "$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
                --secrets-dir "$work/disk-dir/secrets" >client.log 2>&1; then fail "non-tmpfs directory accepted"; fi
        grep -q "not on tmpfs" client.log || fail "non-tmpfs: $(cat client.log)"
        [ -z "$(ls -A "$work/disk-dir/secrets" 2>/dev/null)" ] || fail "non-tmpfs: a file was written"
        ok "a secrets directory on a disk refused"
fi

# HTTPS: the broker's certificate verified against kbs-ca-file=, and pinned with kbs-pin=.
write_policy "$PCR11"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tls.key -out tls.crt \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 2>/dev/null
pin() { echo "sha256//$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)"; }
stop_server
echo "{\"port\":0,\"tls_certificate\":\"$work/tls.crt\",\"tls_private_key\":\"$work/tls.key\",\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
: >kbs.log
"$KBS" --config kbs.json >kbs.log 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' kbs.log); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "$PORT" ] || fail "HTTPS server did not start: $(cat kbs.log)"
sed -i -e "s|kbs-url = .*|kbs-url = https://127.0.0.1:$PORT|" ephroot.conf
echo "kbs-ca-file = $work/tls.crt" >>ephroot.conf
attest || fail "HTTPS with kbs-ca-file refused: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "HTTPS: secret differs"
! grep -q "plain HTTP" client.log || fail "HTTPS: warned about plain HTTP"
ok "HTTPS, the certificate verified against kbs-ca-file"
echo "kbs-pin = $(pin tls.crt)" >>ephroot.conf
attest || fail "HTTPS with the right pin refused: $(cat client.log)"
ok "HTTPS with kbs-pin of the broker's key"
sed -i "s|kbs-pin = .*|kbs-pin = $(pin other.crt)|" ephroot.conf
expect_fail "HTTPS with the pin of another key" "certificate did not verify or does not match kbs-pin"
sed -i -e '/kbs-pin/d' -e "s|kbs-ca-file = .*|kbs-ca-file = $work/other.crt|" ephroot.conf
expect_fail "HTTPS with a CA that did not sign the broker's certificate" "certificate did not verify"

# The broker gone: a clear connection failure, bounded in time.
stop_server
t0=$(date +%s%N)
expect_fail "broker stopped" "Failed to POST.*auth"
t1=$(date +%s%N)
[ $(( (t1 - t0) / 1000000 )) -lt 5000 ] || fail "connection failure took $(( (t1 - t0) / 1000000 )) ms"

# Retries with back-off, bounded by the count and by attest-timeout.
sed -i -e '/kbs-retries/d' -e '/attest-timeout/d' ephroot.conf
printf 'kbs-retries = 2\nattest-timeout = 20\n' >>ephroot.conf
t0=$(date +%s%N)
"$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr --log-level debug attest --cmdline-file /dev/null \
        --secrets-dir "$shm/secrets" >client.log 2>&1 && fail "retries: accepted"
t1=$(date +%s%N)
[ "$(grep -c 'attempt [0-9] failed' client.log)" = 3 ] || fail "retries: $(grep 'attempt' client.log)"
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -ge 550 ] && [ "$ms" -lt 5000 ] || fail "retries: took $ms ms (back-off 200 + 400 ms expected)"
ok "kbs-retries=2: three attempts with back-off ($ms ms)"
sed -i -e '/kbs-retries/d' -e '/attest-timeout/d' ephroot.conf
printf 'kbs-retries = 10\nattest-timeout = 1\n' >>ephroot.conf
t0=$(date +%s%N)
"$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
        --secrets-dir "$shm/secrets" >client.log 2>&1 && fail "deadline: accepted"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -lt 2500 ] || fail "attest-timeout=1 with 10 retries took $ms ms"
ok "attest-timeout=1 cuts 10 retries short ($ms ms)"

echo "PASS: $pass checks"
