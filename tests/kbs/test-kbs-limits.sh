#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot-kbs under attack on loopback (tests/kbs/kbs-attack.py; sources 127.0.0.x so that the
# per-address limit can tell attackers from the client): slow connections trickling bytes, an auth
# flood and oversized bodies held open, while a legitimate client whose evidence takes 3 s completes
# its attestation and gets its resource; the per-address limit, the request deadline and the memory
# budget (503 + Retry-After) each shown; the RSS stays within the budget; afterwards the broker
# answers normally. Then three replicas behind HAProxy (round robin, no stickiness).
#   test-kbs-limits.sh EPHROOT-KBS EPHROOT-TEST
set -euo pipefail

KBS=$(realpath "${1:?usage: test-kbs-limits.sh EPHROOT-KBS EPHROOT-TEST}")
EPHROOT=$(realpath "${2:?usage: test-kbs-limits.sh EPHROOT-KBS EPHROOT-TEST}")
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for t in curl haproxy openssl xxd swtpm swtpm_setup; do command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
"$PY" -c 'import jwcrypto, cryptography' 2>/dev/null || { echo "SKIP: python3-jwcrypto missing"; exit 77; }

work=$(mktemp -d)
PIDS=()
shm=$(mktemp -d /dev/shm/ephroot-limits.XXXXXX)
. "$HERE/../lib/swtpm.sh"
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; swtpm_stop || true; wait 2>/dev/null || true; rm -rf "$work" "$shm"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for l in "$work"/log*; do [ -f "$l" ] && tail -5 "$l" >&2; done; exit 1; }
ok() { echo "ok: $*"; }

"$PY" "$HERE/kbs-client.py" make-ak "$work/ak"
mkdir -p "$work/res/default/key" && head -c 32 /dev/urandom >"$work/res/default/key/disk"
swtpm_start "$work/tpm" sha256 || fail "swtpm"
EAK=$("$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null 2>/dev/null) || fail "print-ak"
cat >"$work/policy.json" <<JSON
{"policies":[{"name":"t","tee":["tpm"],"trusted_aks":["$(cat "$work/ak/ak.spki.b64")","$EAK"],"resources":["default/key/*"]}]}
JSON
head -c 32 /dev/urandom | xxd -p -c 64 >"$work/session.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/token.pem" 2>/dev/null

# start_kbs NAME EXTRA-JSON -> $PORT, $PID; log in $work/log-NAME
start_kbs() {
        cat >"$work/kbs-$1.json" <<JSON
{"port":0,"insecure_http":true,"resource_dir":"$work/res","policy":"$work/policy.json",
 "session_key_file":"$work/session.key","token_key_file":"$work/token.pem" $2}
JSON
        : >"$work/log-$1"
        "$KBS" --config "$work/kbs-$1.json" --log-level "${3:-info}" >"$work/log-$1" 2>&1 &
        PID=$!
        PIDS+=("$PID")
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/log-$1")
                [ -n "$PORT" ] && break
                sleep 0.05
        done
        [ -n "$PORT" ] || fail "$1 did not start"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
cycle() { "$PY" "$HERE/kbs-client.py" cycle "http://127.0.0.1:$1" --ak "$work/ak" --resource default/key/disk "${@:2}"; }

# --- one broker under attack ---
start_kbs a ',"per_ip_connection_limit":4,"request_deadline":4,"max_request_size":1048576,"request_memory_budget":2097152,"connection_limit":128'
A=$PORT; A_PID=$PID
cycle "$A" >"$work/out" || fail "cycle before the attack: $(cat "$work/out")"
RSS0=$(rss_kb "$A_PID")

"$PY" "$HERE/kbs-attack.py" trickle "$A" --from 127.0.0.2 --count 12 --seconds 8 >"$work/trickle.json" &
TR=$!
"$PY" "$HERE/kbs-attack.py" flood "$A" --from 127.0.0.3 --threads 3 --seconds 8 >"$work/flood.json" &
FL=$!
sleep 0.5
"$PY" "$HERE/kbs-attack.py" bigbody "$A" --from 127.0.1.1 --count 8 --size 900000 --seconds 2 >"$work/big.json" &
BB=$!
sleep 1
RSS_ATTACK=$(rss_kb "$A_PID")
# the legitimate client: its evidence takes 3 s between auth and attest
start=$(date +%s%N)
cycle "$A" --delay 3 >"$work/out" 2>&1 || fail "legitimate client under attack: $(cat "$work/out")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "resource: 200" "$work/out" || fail "legitimate client: $(cat "$work/out")"
ok "a client whose evidence takes 3 s got its resource during the attack (${ms} ms)"
wait "$BB" "$TR" "$FL"
RSS_END=$(rss_kb "$A_PID")

"$PY" - "$work/trickle.json" "$work/flood.json" "$work/big.json" <<'PY' || fail "attack counts: $(cat "$work"/*.json)"
import json, sys
t, f, b = (json.load(open(p)) for p in sys.argv[1:4])
print("trickle", t, "flood", f, "bigbody", b)
assert t["kept"] == 4, t                      # per_ip_connection_limit: 4 of 12 from one address
assert t["still_open"] == 0 and t["max_open_s"] is not None and t["max_open_s"] <= 7, t  # request_deadline 4 s
assert f["auth_requests"] > 100, f            # the flood was real
assert b["answered_503_retry_after"] >= 5, b  # budget 2 MiB: at most 2 bodies of 900 kB held
PY
ok "per-address limit (4 of 12 kept), request deadline (trickling closed by $(sed -n 's/.*"max_open_s": \([0-9.]*\).*/\1/p' "$work/trickle.json") s), memory budget ($(sed -n 's/.*"answered_503_retry_after": \([0-9]*\).*/\1/p' "$work/big.json") of 8 big bodies answered 503 + Retry-After), $(sed -n 's/.*"auth_requests": \([0-9]*\).*/\1/p' "$work/flood.json") flood auths"
GROWTH=$(( RSS_ATTACK > RSS_END ? RSS_ATTACK - RSS0 : RSS_END - RSS0 ))
[ "$GROWTH" -lt $(( 2048 + 4096 )) ] || fail "RSS grew by $GROWTH kB under attack (budget 2048 kB + 4 MiB slack): $RSS0 -> $RSS_ATTACK -> $RSS_END"
ok "RSS $RSS0 kB -> $RSS_ATTACK kB under attack -> $RSS_END kB (growth within the 2 MiB body budget + 4 MiB)"
cycle "$A" >"$work/out" || fail "cycle after the attack: $(cat "$work/out")"
ok "after the attack a cycle works"
kill "$A_PID"; wait "$A_PID" 2>/dev/null || true

# --- three replicas behind HAProxy, round robin, no stickiness ---
R=()
for n in r1 r2 r3; do start_kbs "$n" '' debug; R+=("$PORT"); done
R3_PID=$PID
H=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/haproxy.cfg" <<CFG
global
        log stderr local0 warning
defaults
        mode http
        timeout connect 2s
        timeout client 10s
        timeout server 10s
        timeout http-request 5s
        retries 3
        option redispatch 1
        retry-on conn-failure empty-response response-timeout 503
        option http-buffer-request
frontend kbs
        bind 127.0.0.1:$H
        default_backend replicas
backend replicas
        balance roundrobin
        server r1 127.0.0.1:${R[0]} check inter 500ms fall 1 rise 1
        server r2 127.0.0.1:${R[1]} check inter 500ms fall 1 rise 1
        server r3 127.0.0.1:${R[2]} check inter 500ms fall 1 rise 1
CFG
haproxy -f "$work/haproxy.cfg" -db >"$work/log-haproxy" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$H/" && break; sleep 0.1; done
cycle "$H" >"$work/out" || fail "cycle through HAProxy: $(cat "$work/out")"
# each of the three requests went to another replica
"$PY" - "$work"/log-r1 "$work"/log-r2 "$work"/log-r3 <<'PY' || fail "round robin: $(tail -n 3 "$work"/log-r*)"
import sys
logs = [open(p).read() for p in sys.argv[1:]]
att = [l.count("attest: tpm evidence verified") for l in logs]
res = [l.count("resource: default/key/disk released") for l in logs]
assert sum(att) == 1 and sum(res) == 1 and att.index(1) != res.index(1), (att, res)
PY
ok "auth, attest and resource answered by different replicas, and the cycle worked"

# one replica killed in the middle of a run of clients: every client still gets its secret
# (12 clients at once, each with 2 s between auth and attest; r3 is killed once it has answered two
# auths, before their attests)
CL=()
for i in $(seq 1 12); do
        cycle "$H" --delay 2 >"$work/out-$i" 2>&1 &
        CL+=("$!")
done
for _ in $(seq 1 100); do
        [ "$(grep -c 'auth: new session' "$work/log-r3" || true)" -ge 2 ] && break
        sleep 0.1
done
kill -9 "$R3_PID"
fails=0
for p in "${CL[@]}"; do wait "$p" || fails=$((fails + 1)); done
[ "$fails" = 0 ] || fail "$fails of 12 clients failed after a replica was killed: $(cat "$work"/out-* | grep -v 'resource: 200' | head -5)"
auth_r3=$(grep -c "auth: new session\|attest: tpm\|resource: default" "$work/log-r3" || true)
ok "12 clients at once through HAProxy, replica r3 killed mid-run (after answering $auth_r3 requests): every client got its secret"

# the same with `ephroot attest` (swtpm, the test build's 1 s delay between evidence and attest): six
# clients one after the other; replica r2 is killed while the third waits between auth and attest
printf 'attest = required\nkbs-url = http://127.0.0.1:%s\nkbs-insecure = yes\nsecret.disk = default/key/disk\nattest-timeout = 20\n' "$H" >"$work/ephroot.conf"
R2_PID=$(pgrep -f "$work/kbs-r2.json" | head -1)
for i in 1 2 3 4 5 6; do
        rm -rf "$shm/secrets"
        EPHROOT_TEST_ATTEST=delay=1 "$EPHROOT" --config "$work/ephroot.conf" --tcti "$SWTPM_TCTI" --log-target stderr attest \
                --cmdline-file /dev/null --secrets-dir "$shm/secrets" >"$work/eout-$i" 2>&1 &
        c=$!
        if [ "$i" = 3 ]; then sleep 0.5; kill -9 "$R2_PID"; fi
        wait "$c" || fail "ephroot attest $i after r2 was killed: $(cat "$work/eout-$i")"
        cmp "$shm/secrets/disk" "$work/res/default/key/disk" || fail "ephroot attest $i: secret differs"
done
ok "six ephroot attest clients through HAProxy, replica r2 killed while the third was between auth and attest: every one got its secret"
