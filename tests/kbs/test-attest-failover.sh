#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot attest` with several brokers in kbs-url (swtpm as the TPM, ephroot-kbs replicas sharing their
# session and token keys on loopback): a dead first broker gives way to the next; a busy one (503 with
# Retry-After) too, and alone it is waited for as Retry-After says; every broker down fails within
# attest-timeout with one line naming it; a refusal (401) by the first broker is final, the next one
# is not asked.
#   test-attest-failover.sh EPHROOT-KBS EPHROOT-TEST
set -euo pipefail

KBS=$(realpath "${1:?usage: test-attest-failover.sh EPHROOT-KBS EPHROOT}")
EPHROOT=$(realpath "${2:?}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in swtpm swtpm_setup tpm2_pcrextend openssl xxd; do
        command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
[ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ] || { echo "SKIP: no tmpfs at /dev/shm"; exit 77; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
shm=$(mktemp -d /dev/shm/ephroot-failover.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; swtpm_stop || true; wait 2>/dev/null; rm -rf "$work" "$shm"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -3 "$work"/log-* >&2 2>/dev/null || true; exit 1; }
ok() { echo "ok: $*"; }
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

swtpm_start "$work/tpm" sha256 || fail "swtpm"
cd "$work"
AK=$("$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null 2>ak.err) \
        || fail "print-ak: $(cat ak.err)"
mkdir -p res/default/key && head -c 32 /dev/urandom >res/default/key/disk
echo "{\"policies\":[{\"name\":\"t\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"$AK\"],\"resources\":[\"default/key/*\"]}]}" >policy.json
OTHER_AK=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -outform DER | base64 -w0)
echo "{\"policies\":[{\"name\":\"other\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"$OTHER_AK\"],\"resources\":[\"default/key/*\"]}]}" >policy-other.json
head -c 32 /dev/urandom | xxd -p -c 64 >session.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out token.pem 2>/dev/null

start_kbs() { # NAME POLICY -> $PORT
        echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/$2\",\"session_key_file\":\"$work/session.key\",\"token_key_file\":\"$work/token.pem\"}" >"kbs-$1.json"
        : >"log-$1"
        "$KBS" --config "kbs-$1.json" >"log-$1" 2>&1 &
        PIDS+=("$!")
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "log-$1"); [ -n "$PORT" ] && break; sleep 0.05
        done
        [ -n "$PORT" ] || fail "$1 did not start: $(cat "log-$1")"
}
attest() { # KBS-URL [extra config lines] -> client.log, exit status
        rm -rf "$shm/secrets"
        printf 'attest = required\nkbs-url = %s\nkbs-insecure = yes\nsecret.disk = default/key/disk\nattest-timeout = 8\nkbs-retries = 1\nkbs-connect-timeout = 2\n%s\n' \
                "$1" "${2:-}" >ephroot.conf
        "$EPHROOT" --config ephroot.conf --tcti "$SWTPM_TCTI" --log-target stderr attest --cmdline-file /dev/null \
                --secrets-dir "$shm/secrets" >client.log 2>&1
}

start_kbs a policy.json; A=$PORT
start_kbs b policy.json; B=$PORT
start_kbs refuse policy-other.json; R=$PORT
DEAD=$(free_port)

attest "http://127.0.0.1:$DEAD,http://127.0.0.1:$B" || fail "dead first broker: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs"
grep -q "Broker 'http://127.0.0.1:$DEAD' failed (unreachable); trying the next" client.log || fail "no failover line: $(cat client.log)"
ok "first broker dead: the second served the secret ($(grep -o 'in [0-9]* ms' client.log | head -1))"

# a broker that answers every request 503 with Retry-After: 1
BUSY=$(free_port)
"$PY" - "$BUSY" >log-busy 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def busy(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.send_response(503)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"type":"https://github.com/confidential-containers/kbs/errors/ServiceUnavailable","detail":"busy"}')
        print("503", flush=True)
    do_GET = do_POST = busy
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PIDS+=("$!")
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$BUSY/" && break; sleep 0.1; done
: >log-busy
attest "http://127.0.0.1:$BUSY,http://127.0.0.1:$A" || fail "busy first broker: $(cat client.log)"
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs (busy)"
grep -q "Broker 'http://127.0.0.1:$BUSY' failed (busy or failing); trying the next" client.log || fail "busy: $(cat client.log)"
[ "$(grep -c 503 log-busy)" = 1 ] || fail "the busy broker was asked $(grep -c 503 log-busy) times, expected once"
ok "first broker answering 503: asked once, the next served the secret"

: >log-busy
start=$(date +%s%N)
if attest "http://127.0.0.1:$BUSY"; then fail "a busy broker alone gave a secret"; fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(grep -c 503 log-busy)" = 2 ] || fail "alone, the busy broker was asked $(grep -c 503 log-busy) times, expected 2 (kbs-retries=1)"
[ "$ms" -ge 950 ] && [ "$ms" -lt 8000 ] || fail "Retry-After: 1 not honoured: $ms ms"
grep -q "HTTP 503" client.log || fail "busy alone: $(cat client.log)"
[ ! -e "$shm/secrets/disk" ] || fail "a secret was written"
ok "a busy broker alone: retried after its Retry-After (two requests in $ms ms), then refused, no secret"

# a broker that accepts connections but never answers (listening, nothing accepted): with
# attest-timeout=8 and two brokers, each request may take 4 s, and the second serves in time
HANG=$(free_port)
"$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); time.sleep(600)' "$HANG" &
PIDS+=("$!")
sleep 0.3
start=$(date +%s%N)
attest "http://127.0.0.1:$HANG,http://127.0.0.1:$A" || fail "a silent first broker: $(cat client.log)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs (silent)"
grep -q "Broker 'http://127.0.0.1:$HANG' failed (timed out); trying the next" client.log || fail "silent: $(cat client.log)"
[ "$ms" -ge 3500 ] && [ "$ms" -lt 8000 ] || fail "silent first broker: $ms ms"
ok "first broker accepts but never answers: given up after its share of attest-timeout, the second served in $ms ms"

# every broker unreachable for a moment (the network coming up at boot): the list is retried with a
# back-off as a single broker is, not given up on in a few milliseconds
LATE=$(free_port)
sed "s/\"port\":0/\"port\":$LATE/" kbs-a.json >kbs-late.json
(sleep 0.5; exec "$KBS" --config kbs-late.json) >log-late 2>&1 &
PIDS+=("$!")
start=$(date +%s%N)
attest "http://127.0.0.1:$DEAD,http://127.0.0.1:$LATE" "kbs-retries = 4" || fail "a broker up after 0.5 s: $(cat client.log)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cmp "$shm/secrets/disk" res/default/key/disk || fail "secret differs (late)"
[ "$ms" -ge 500 ] && [ "$ms" -lt 8000 ] || fail "late broker: $ms ms"
ok "both brokers down at first, the second up after 0.5 s: retried with a back-off, secret in $ms ms"

DEAD2=$(free_port)
start=$(date +%s%N)
if attest "http://127.0.0.1:$DEAD,http://127.0.0.1:$DEAD2" "attest-timeout = 5"; then fail "no broker, but attested"; fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "none of the 2 brokers of kbs-url answered within attest-timeout (5 s)" client.log || fail "all down: $(cat client.log)"
[ "$ms" -lt 7000 ] || fail "all down took $ms ms with attest-timeout=5"
[ ! -e "$shm/secrets/disk" ] || fail "a secret was written (all down)"
ok "every broker down: failed in $ms ms (attest-timeout=5 s), one line naming kbs-url, no secret"

if attest "http://127.0.0.1:$R,http://127.0.0.1:$A"; then fail "a refusal was followed by the next broker"; fi
grep -q "HTTP 401" client.log || fail "refusal: $(cat client.log)"
! grep -q "trying the next" client.log || fail "failover after a refusal: $(cat client.log)"
ok "a 401 from the first broker is final: the next one is not asked"
