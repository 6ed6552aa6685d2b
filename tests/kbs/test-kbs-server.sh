#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot-kbs end to end on loopback: the server is started here on a free port (plain HTTP, then
# HTTPS), and spoken to with curl and with tests/kbs/kbs-client.py (Python cryptography + jwcrypto, an
# implementation independent of the server). Each protocol error is checked for its status and
# message; resources come back as JWEs that `jose` (latchset) and jwcrypto decrypt with the TEE key.
#   test-kbs-server.sh EPHROOT-KBS EPHROOT
set -euo pipefail

KBS=$(realpath "${1:?usage: test-kbs-server.sh EPHROOT-KBS EPHROOT}")
EPHROOT=$(realpath "${2:?}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
CLIENT=("$PY" "$HERE/kbs-client.py")
for t in curl jose openssl; do command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
"$PY" -c 'import jwcrypto, cryptography' 2>/dev/null || { echo "SKIP: python3-jwcrypto missing"; exit 77; }

work=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/log" ] && tail -20 "$work/log" >&2; exit 1; }
pass=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }

# --- fixtures of this test: an AK, resources, reference PCRs from `ephroot predict --json` ---
"${CLIENT[@]}" make-ak "$work/ak"
mkdir -p "$work/res/default/key" "$work/res/other/key"
head -c 64 /dev/urandom >"$work/res/default/key/disk"
echo -n "not for you" >"$work/res/other/key/x"
ln -s /etc/passwd "$work/res/default/key/link"
head -c 100 /dev/urandom >"$work/kernel"; head -c 100 /dev/urandom >"$work/initrd"
"$EPHROOT" predict --kernel "$work/kernel" --initrd "$work/initrd" --cmdline "root=/dev/sda1 ro" --json >"$work/predict.json"
pcr() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['pcrs']['sha256'][sys.argv[2]])" "$work/predict.json" "$1"; }
PCR11=$(pcr 11); PCR12=$(pcr 12)
cat >"$work/policy.json" <<JSON
{"policies":[
  {"name":"boot","tee":["tpm"],"trusted_aks":["$(cat "$work/ak/ak.spki.b64")"],
   "pcrs":$(cat "$work/predict.json"),
   "resources":["default/key/*"]}]}
JSON

start_server() { # $1: extra config members
        cat >"$work/kbs.json" <<JSON
{"address":"127.0.0.1","port":0,"resource_dir":"$work/res","policy":"$work/policy.json",
 "max_request_size":65536 $1}
JSON
        : >"$work/log"
        "$KBS" --config "$work/kbs.json" >"$work/log" 2>&1 &
        SERVER_PID=$!
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on https\?:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/log")
                [ -n "$PORT" ] && break
                kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$work/log")"
                sleep 0.05
        done
        [ -n "$PORT" ] || fail "server did not start"
}
stop_server() {
        kill "$SERVER_PID"; wait "$SERVER_PID" || fail "server exited with $?"
        SERVER_PID=
}

# req METHOD PATH [BODY-FILE|-] -> "$status" and $work/body; cookies in $work/jar
req() {
        local data=()
        [ -n "${3:-}" ] && data=(--data-binary "@$3" -H 'Content-Type: application/json')
        status=$(curl -s -o "$work/body" -w '%{http_code}' -b "$work/jar" -c "$work/jar" -X "$1" "${data[@]}" \
                 "$BASE$2") || fail "curl $1 $2"
}
# Status codes and error types as Trustee's kbs/src/error.rs at 78962cd4 (ResponseError): 404 for
# InvalidRequestPath and PluginNotFound, 401 for every other error; type = ERROR_TYPE_PREFIX/<variant>.
expect() { # STATUS DETAIL-SUBSTRING WHAT [TRUSTEE-ERROR-TYPE]
        [ "$status" = "$1" ] || fail "$3: status $status, expected $1 ($(cat "$work/body"))"
        grep -q -- "$2" "$work/body" || fail "$3: body $(cat "$work/body") lacks '$2'"
        "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert ("detail" in d) == (int(sys.argv[2]) >= 400)
if len(sys.argv) > 3: assert d["type"] == "https://github.com/confidential-containers/kbs/errors/" + sys.argv[3], d["type"]' \
                "$work/body" "$status" ${4:-} || fail "$3: body is not the expected JSON (type ${4:-any})"
        ok "$3 -> $1 ${4:-}"
}
body() { printf '%s' "$1" >"$work/in"; echo "$work/in"; }

start_server ',"insecure_http":true'
BASE=http://127.0.0.1:$PORT

# --- auth ---
rm -f "$work/jar"
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
expect 200 '"nonce"' "auth"
grep -q kbs-session-id "$work/jar" || fail "auth set no kbs-session-id cookie"
"$PY" -c 'import json,base64,sys; assert len(base64.b64decode(json.load(open(sys.argv[1]))["nonce"])) == 32' "$work/body" \
        || fail "nonce is not 32 bytes"
req GET /kbs/v0/resource/default/key/disk
expect 401 "no attested session and no Bearer token" "resource before attestation" TokenNotFound
req POST /kbs/v0/auth "$(body '{"version":"0.3.0","tee":"tpm","extra-params":""}')"
expect 401 "protocol version is not supported" "auth with a wrong version" AttestationError
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"quantum","extra-params":""}')"
expect 401 "tee is unknown" "auth with an unknown tee" AttestationError
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"sample","extra-params":""}')"
expect 401 "tee is not supported" "auth with tee sample" AttestationError
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":')"
expect 401 "not a JSON object" "auth with malformed JSON" AttestationError
req POST /kbs/v0/auth "$(body '')"
expect 401 "empty" "auth with an empty body" AttestationError
head -c 70000 /dev/zero | tr '\0' ' ' >"$work/big"
req POST /kbs/v0/auth "$work/big"
expect 413 "too large" "auth with an oversized body"
req GET /kbs/v0/auth
expect 405 "method not allowed" "GET auth"
req GET /kbs/v0/nothing
expect 404 "no such endpoint" "unknown endpoint" InvalidRequestPath

# --- attest errors with curl ---
rm -f "$work/jar"
req POST /kbs/v0/attest "$(body '{}')"
expect 401 "no valid session" "attest without a session" AttestationError
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
req POST /kbs/v0/attest "$(body '{"runtime-data":{}}')"
expect 401 "runtime-data" "attest with a malformed body" AttestationError
req POST /kbs/v0/attest "$(body '{}')"
expect 401 "runtime-data is missing" "a failed attest leaves the session usable (Trustee's semantics)" AttestationError
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
head -c 70000 /dev/zero | tr '\0' ' ' >"$work/big"
req POST /kbs/v0/attest "$work/big"
expect 413 "too large" "attest with an oversized body"
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
NONCE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["nonce"])' "$work/body")
req POST /kbs/v0/attest "$(body "{\"runtime-data\":{\"nonce\":\"$NONCE\",\"tee-pubkey\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}},\"tee-evidence\":{\"primary_evidence\":{}}}")"
expect 401 "tee-pubkey is not a valid" "attest with an invalid TEE key" AttestationError

# --- full cycles with the independent client ---
cyc() { "${CLIENT[@]}" cycle "$BASE" --ak "$work/ak" --pcr 11="$PCR11" --pcr 12="$PCR12" "$@"; }
cyc --resource default/key/disk --out "$work/ec" >"$work/out" || fail "EC cycle: $(cat "$work/out")"
jose jwe dec -i "$work/ec/resource.jwe" -k "$work/ec/tee-key.jwk" -O "$work/ec/plain-jose" || fail "jose cannot decrypt"
cmp "$work/ec/plain-jose" "$work/res/default/key/disk" || fail "jose plaintext differs from the resource"
cmp "$work/ec/plain-jwcrypto" "$work/res/default/key/disk" || fail "jwcrypto plaintext differs from the resource"
"$PY" - "$work/ec/resource.jwe" <<'PY' || fail "JWE form"
import json, sys, base64
j = json.load(open(sys.argv[1]))
assert sorted(j) == ["ciphertext", "encrypted_key", "iv", "protected", "tag"], sorted(j)
h = json.loads(base64.urlsafe_b64decode(j["protected"] + "=="))
assert h["alg"] == "ECDH-ES+A256KW" and h["enc"] == "A256GCM" and h["epk"]["crv"] == "P-256", h
pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
assert len(pad(j["encrypted_key"])) == 40 and len(pad(j["iv"])) == 12 and len(pad(j["tag"])) == 16
PY
ok "EC P-256 cycle: JWE decrypted by jose and jwcrypto"
cyc --resource default/key/disk --tee-key rsa --out "$work/rsa" >"$work/out" || fail "RSA cycle: $(cat "$work/out")"
cmp "$work/rsa/plain-jwcrypto" "$work/res/default/key/disk" || fail "RSA plaintext differs"
ok "RSA-OAEP-256 cycle: JWE decrypted by jwcrypto"
cyc --resource default/key/disk --tee-key ec521 --out "$work/ec521" >"$work/out" || fail "P-521 cycle: $(cat "$work/out")"
cmp "$work/ec521/plain-jwcrypto" "$work/res/default/key/disk" || fail "P-521 plaintext differs"
jose jwe dec -i "$work/ec521/resource.jwe" -k "$work/ec521/tee-key.jwk" -O "$work/ec521/plain-jose" || fail "jose cannot decrypt P-521"
cmp "$work/ec521/plain-jose" "$work/res/default/key/disk" || fail "P-521 jose plaintext differs"
ok "EC P-521 cycle (Trustee's kbs/src/jwe takes P-521): JWE decrypted by jwcrypto and jose"

refused() { # WHAT EXPECTED-LINE-SUBSTRING CLIENT-ARGS...
        local what=$1 exp=$2; shift 2
        if cyc "$@" >"$work/out" 2>&1; then fail "$what: accepted"; fi
        grep -q -- "$exp" "$work/out" || fail "$what: $(cat "$work/out") lacks '$exp'"
        ok "$what refused"
}
refused "a nonce from elsewhere" "401.*not this session's nonce" --resource default/key/disk --tamper nonce
refused "a quote bound to other runtime data" "401.*extraData does not match" --resource default/key/disk --tamper binding
refused "a changed quote signature" "401.*signature does not verify" --resource default/key/disk --tamper signature
refused "PCRs that do not match the quote" "401.*PCR digest does not match" --resource default/key/disk --tamper pcr
refused "an AK the policy does not trust" "401.*AK is not trusted" --resource default/key/disk --tamper untrusted-ak
cyc --resource default/key/disk --tamper reuse >"$work/out" || fail "attest again: $(cat "$work/out")"
grep -q "attest again: 200 the same token" "$work/out" || fail "attest again: $(cat "$work/out")"
ok "an attested session attesting again gets its token back (Trustee's backend.rs), then the resource"

# Authorization: Bearer <token> without the session (Trustee's api_server.rs get_attestation_token)
cyc --resource default/key/disk --out "$work/bearer" >"$work/out" || fail "cycle for a token: $(cat "$work/out")"
TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["body"]["token"])' "$work/bearer/attest-reply.json")
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/kbs/v0/resource/default/key/disk")
[ "$status" = 200 ] || fail "Bearer: $status $(cat "$work/body")"
jose jwe dec -i "$work/body" -k "$work/bearer/tee-key.jwk" -O "$work/bearer/plain" || fail "Bearer: jose cannot decrypt"
cmp "$work/bearer/plain" "$work/res/default/key/disk" || fail "Bearer: plaintext differs"
ok "a resource with only Authorization: Bearer <token>, encrypted to the token's tee-pubkey"
BAD=$("$PY" -c 'import sys; t=sys.argv[1]; i=len(t)-20; print(t[:i] + ("B" if t[i] == "A" else "A") + t[i+1:])' "$TOKEN")
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $BAD" "$BASE/kbs/v0/resource/default/key/disk")
expect 401 "not signed by this broker" "a Bearer token with a changed signature" TokenNotFound
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE/kbs/v0/resource/other/key/x")
expect 401 "no policy that held releases" "a Bearer token for a resource its policies do not release" PolicyDeny
if "${CLIENT[@]}" cycle "$BASE" --ak "$work/ak" --resource default/key/disk >"$work/out" 2>&1; then fail "wrong PCRs accepted"; fi
grep -q "401.*PCR values differ from the policy" "$work/out" || fail "wrong PCRs: $(cat "$work/out")"
ok "PCRs other than \`ephroot predict\`'s refused by the policy"
# init-data as Trustee takes it (kbs/src/attestation/coco/builtin.rs: format toml only; attestation-service
# parse_init_data(): the body hashed with its `algorithm`; deps/verifier/src/tpm/mod.rs verify_init_data:
# PCR 8 == SHA-256(32 zero bytes || digest), i.e. the digest extended once into a fresh PCR 8)
printf 'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n"aa.toml" = "x"\n' >"$work/init.toml"
ID_PCR8=$("$PY" -c 'import hashlib,sys; d=hashlib.sha256(open(sys.argv[1],"rb").read()).digest(); print(hashlib.sha256(bytes(32)+d).hexdigest())' "$work/init.toml")
cyc --resource default/key/disk --init-data "$work/init.toml" --pcr 8="$ID_PCR8" >"$work/out" || fail "init-data: $(cat "$work/out")"
ok "init-data (toml, sha256) bound to PCR 8 as Trustee binds it: accepted"
refused "init-data whose digest is not in PCR 8" "401.*PCR 8 does not match the init-data digest" --resource default/key/disk --init-data "$work/init.toml"
refused "init-data in a format other than toml" "401.*init-data is not" --resource default/key/disk --init-data "json:$work/init.toml"
printf 'version = "0.1.0"\n[data]\nalgorithm = "sha256"\n' >"$work/init-noalg.toml"
refused "init-data with no top-level algorithm" "401.*no top-level algorithm" --resource default/key/disk --init-data "$work/init-noalg.toml"
refused "non-empty additional_evidence (not verified here, so refused)" "401.*additional_evidence is not empty" \
        --resource default/key/disk --additional-evidence '{"tpm":{}}'
refused "an unknown resource" "resource: 401.*resource not found" --resource default/key/nothing
refused "a symlinked resource" "resource: 401.*resource not found" --resource default/key/link
refused "a resource no policy releases" "resource: 401.*no policy that held releases" --resource other/key/x
refused "a resource path with .." "resource: 404" --resource default/../x

kill -0 "$SERVER_PID" || fail "server died"
stop_server
grep -q "Stopping on signal 15" "$work/log" || fail "no clean stop"
! grep -q "$(xxd -p -c 64 "$work/res/default/key/disk" | head -c 16)" "$work/log" || fail "resource bytes in the log"
ok "server stopped cleanly; the log holds no resource bytes"

# --- expiry: sessions of 1 s ---
start_server ',"insecure_http":true,"session_timeout":1'
BASE=http://127.0.0.1:$PORT
rm -f "$work/jar"
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
SID=$(awk '$6 == "kbs-session-id" { print $7 }' "$work/jar")
[ -n "$SID" ] || fail "no session id in the cookie jar"
sleep 1.5
# the cookie's Max-Age has passed too: send it by hand, as a client that ignores Max-Age would
status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Cookie: kbs-session-id=$SID" -d '{}' "$BASE/kbs/v0/attest")
expect 401 "session expired" "attest on an expired session"
stop_server

# --- sessions sealed into the cookie: nothing to evict, any replica finishes any attestation ---
head -c 32 /dev/urandom | xxd -p -c 64 >"$work/session.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/token.pem" 2>/dev/null
start_server ',"insecure_http":true,"session_key_file":"'"$work/session.key"'","token_key_file":"'"$work/token.pem"'"'
BASE=http://127.0.0.1:$PORT
rm -f "$work/jar"
req POST /kbs/v0/auth "$(body '{"version":"0.4.0","tee":"tpm","extra-params":""}')"
cp "$work/jar" "$work/jar-first"
for i in $(seq 1 200); do
        curl -s -o /dev/null -d '{"version":"0.4.0","tee":"tpm","extra-params":""}' "$BASE/kbs/v0/auth"
done
cp "$work/jar-first" "$work/jar"
req POST /kbs/v0/attest "$(body '{"runtime-data":{}}')"
expect 401 "runtime-data has no nonce" "after 200 more auth requests the first session is still valid" AttestationError
PORT_A=$PORT
A_PID=$SERVER_PID
start_server ',"insecure_http":true,"session_key_file":"'"$work/session.key"'","token_key_file":"'"$work/token.pem"'"'
PORT_B=$PORT
B_PID=$SERVER_PID
"${CLIENT[@]}" cycle "http://127.0.0.1:$PORT_A" --attest-url "http://127.0.0.1:$PORT_B" --resource-url "http://127.0.0.1:$PORT_A" \
        --ak "$work/ak" --pcr 11="$PCR11" --pcr 12="$PCR12" --resource default/key/disk >"$work/out" 2>&1 \
        || fail "auth on A, attest on B, resource on A: $(cat "$work/out")"
ok "two replicas sharing the key files: auth on one, attest on the other, the resource from the first"
kill "$B_PID"; wait "$B_PID" 2>/dev/null || true
head -c 32 /dev/urandom | xxd -p -c 64 >"$work/other.key"
start_server ',"insecure_http":true,"session_key_file":"'"$work/other.key"'","token_key_file":"'"$work/token.pem"'"'
if "${CLIENT[@]}" cycle "http://127.0.0.1:$PORT_A" --attest-url "http://127.0.0.1:$PORT" --ak "$work/ak" \
        --pcr 11="$PCR11" --pcr 12="$PCR12" --resource default/key/disk >"$work/out" 2>&1; then
        fail "a replica with another session key finished the attestation"
fi
grep -q "attest: 401.*did not seal" "$work/out" || fail "other key: $(cat "$work/out")"
ok "a broker with another session key does not open the session: 401"
stop_server
SERVER_PID=$A_PID
stop_server

# --- HTTPS ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/tls.key" -out "$work/tls.crt" \
        -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
start_server ",\"tls_certificate\":\"$work/tls.crt\",\"tls_private_key\":\"$work/tls.key\""
BASE=https://127.0.0.1:$PORT
grep -q "Listening on https://" "$work/log" || fail "not serving HTTPS"
cyc --resource default/key/disk --cacert "$work/tls.crt" --out "$work/tls" >"$work/out" || fail "HTTPS cycle: $(cat "$work/out")"
cmp "$work/tls/plain-jwcrypto" "$work/res/default/key/disk" || fail "HTTPS plaintext differs"
if curl -s -o /dev/null "http://127.0.0.1:$PORT/kbs/v0/auth" -d '{}'; then
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/kbs/v0/auth" -d '{}' || true)
        [ "$code" = 200 ] && fail "plain HTTP answered on the HTTPS port"
fi
ok "HTTPS cycle with a verified certificate; plain HTTP not served there"
stop_server

# --- refusals at start ---
echo '{"resource_dir":"/tmp","policy":"/tmp/p"}' >"$work/bad.json"
if "$KBS" --config "$work/bad.json" 2>"$work/err"; then fail "started without TLS or insecure_http"; fi
grep -q "refusing to serve plain HTTP" "$work/err" || fail "no TLS: $(cat "$work/err")"
ok "no TLS and no insecure_http refused at start"
echo '{"policies":[{"name":"a","tee":["tpm"]}]}' >"$work/bad-policy.json"
echo "{\"insecure_http\":true,\"resource_dir\":\"/tmp\",\"policy\":\"$work/bad-policy.json\"}" >"$work/bad.json"
if "$KBS" --config "$work/bad.json" --check 2>"$work/err"; then fail "tpm policy without trusted_aks accepted"; fi
grep -q "lists no \"trusted_aks\"" "$work/err" || fail "policy: $(cat "$work/err")"
ok "a tpm policy without trusted AKs refused at start"
echo '{"policies":[{"name":"a","tee":["az-snp-vtpm"],"resources":["default/key/*"]}]}' >"$work/bad-policy.json"
if "$KBS" --config "$work/bad.json" --check 2>"$work/err"; then fail "az-snp-vtpm policy without PCRs accepted"; fi
grep -q "accepts tee \"az-snp-vtpm\" but pins no PCR" "$work/err" || fail "policy: $(cat "$work/err")"
ok "an az-snp-vtpm policy without PCRs refused at start"
# The sample policy (conf/kbs/policy.json) loads, its AMD roots pointed at the fixtures' copies.
FIX=$(cd "$HERE/../../.." && pwd)/shared/fixtures/attestation/trustee/amd-roots
if [ -d "$FIX" ]; then
        sed -e "s|/etc/ephroot/kbs/amd/milan_ask_ark.pem|$FIX/milan_ask_ark_asvk.pem|" \
            -e "s|/etc/ephroot/kbs/amd/genoa_ask_ark.pem|$FIX/genoa_ask_ark_asvk.pem|" \
            "$HERE/../../conf/kbs/policy.json" >"$work/sample-policy.json"
        echo "{\"insecure_http\":true,\"resource_dir\":\"/tmp\",\"policy\":\"$work/sample-policy.json\"}" >"$work/sample.json"
        "$KBS" --config "$work/sample.json" --check 2>"$work/err" || fail "sample policy: $(cat "$work/err")"
        ok "conf/kbs/policy.json loads"
fi

echo "$pass passed, 0 failed"
