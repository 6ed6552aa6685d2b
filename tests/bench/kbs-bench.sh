#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot-kbs under load on loopback (docs/performance.md, "Key broker"):
#   1. wrk on POST /kbs/v0/auth: requests/s and latency percentiles;
#   2. (twice) full auth + attest (tpm evidence, verified) + resource fetch (JWE, decrypted) cycles/s with the
#      test client (tests/kbs/kbs-client.py), N clients in parallel;
#   3. wrk with a malformed-request mix: every request answered with a 4xx, no socket errors, the
#      server alive and still serving a valid cycle afterwards;
# and the server's RSS before, between and after (no growth once the session table is full).
# With REPLICAS=3: three brokers sharing the session and token keys behind HAProxy (round robin, as
# docs/kbs.md), all measured through the proxy; CPU is the sum of the replicas', RSS the first one's.
#   tests/bench/kbs-bench.sh [BUILD-DIR]     env: SECONDS_EACH (30), CONNECTIONS (4), CLIENTS (2), REPLICAS (1)
set -euo pipefail

BUILD=$(realpath "${1:-build}")
KBS=$BUILD/src/kbs/ephroot-kbs
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$HERE/../kbs/kbs-client.py
PY=/usr/bin/python3
DUR=${SECONDS_EACH:-30}
CONN=${CONNECTIONS:-4}
CLIENTS=${CLIENTS:-2}
REPLICAS=${REPLICAS:-1}
for t in wrk curl; do command -v $t >/dev/null || { echo "kbs-bench: $t missing (scripts/install-deps)"; exit 77; }; done
[ -x "$KBS" ] || { echo "kbs-bench: build $KBS first"; exit 1; }

work=$(mktemp -d)
PID=
MORE=()
cleanup() { for p in $PID "${MORE[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$PY" "$CLIENT" make-ak "$work/ak"
mkdir -p "$work/res/default/key" && head -c 32 /dev/urandom >"$work/res/default/key/disk"
cat >"$work/policy.json" <<JSON
{"policies":[{"name":"bench","tee":["tpm"],"trusted_aks":["$(cat "$work/ak/ak.spki.b64")"],"resources":["default/key/*"]}]}
JSON
head -c 32 /dev/urandom | xxd -p -c 64 >"$work/session.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/token.pem" 2>/dev/null
cat >"$work/kbs.json" <<JSON
{"port":0,"insecure_http":true,"resource_dir":"$work/res","policy":"$work/policy.json","threads":2,
"max_request_size":16384,"session_key_file":"$work/session.key","token_key_file":"$work/token.pem"}
JSON
: >"$work/log"
"$KBS" --config "$work/kbs.json" --log-level warning >"$work/log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do grep -q Listening "$work/log" 2>/dev/null && break; sleep 0.05; done
# --log-level warning hides the Listening line: find the port from the socket table
PORT=$(ss -ltnpH 2>/dev/null | awk -v pid="pid=$PID," '$0 ~ pid { sub(/.*:/, "", $4); print $4; exit }')
[ -n "$PORT" ] || { echo "kbs-bench: server did not start"; cat "$work/log"; exit 1; }
URL=http://127.0.0.1:$PORT
if [ "$REPLICAS" -gt 1 ]; then
        command -v haproxy >/dev/null || { echo "kbs-bench: haproxy missing (scripts/install-deps)"; exit 77; }
        backends="        server r1 127.0.0.1:$PORT"
        for i in $(seq 2 "$REPLICAS"); do
                "$KBS" --config "$work/kbs.json" --log-level warning >"$work/log.$i" 2>&1 &
                MORE+=("$!")
                sleep 0.3
                p=$(ss -ltnpH 2>/dev/null | awk -v pid="pid=$!," '$0 ~ pid { sub(/.*:/, "", $4); print $4; exit }')
                [ -n "$p" ] || { echo "kbs-bench: replica $i did not start"; exit 1; }
                backends="$backends
        server r$i 127.0.0.1:$p"
        done
        HP=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        cat >"$work/haproxy.cfg" <<CFG
defaults
        mode http
        timeout connect 2s
        timeout client 30s
        timeout server 30s
        timeout http-request 5s
frontend kbs
        bind 127.0.0.1:$HP
        default_backend replicas
backend replicas
        balance roundrobin
$backends
CFG
        haproxy -f "$work/haproxy.cfg" -db >"$work/log.haproxy" 2>&1 &
        MORE+=("$!")
        for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$HP/" && break; sleep 0.1; done
        URL=http://127.0.0.1:$HP
fi
rss() { awk '/VmRSS/ { print $2 }' /proc/$PID/status; }
cpu_ticks() { local p t=0; for p in $PID "${MORE[@]:0:$((REPLICAS - 1))}"; do t=$((t + $(awk '{ print $14 + $15 }' /proc/$p/stat))); done; echo $t; }

echo "ephroot-kbs $(uname -m), $(nproc) cores, $REPLICAS replica(s), $URL, $DUR s per run, $CONN wrk connections, $CLIENTS clients"
RSS0=$(rss)

cat >"$work/auth.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"version":"0.4.0","tee":"tpm","extra-params":""}'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== auth: wrk -t2 -c$CONN -d${DUR}s --latency"
wrk -t2 -c"$CONN" -d"${DUR}s" --latency -s "$work/auth.lua" "$URL/kbs/v0/auth" | tee "$work/wrk-auth"
RSS1=$(rss)

cycles() {
        echo "== full cycles: $CLIENTS x kbs-client.py bench (auth, attest with a verified RSA quote, resource JWE decrypted)"
        local t0 t1 pids=() p i
        t0=$(cpu_ticks)
        for i in $(seq 1 "$CLIENTS"); do
                "$PY" "$CLIENT" bench "$URL" --ak "$work/ak" --resource default/key/disk --seconds "$DUR" >"$work/cycles.$i" &
                pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || { echo "kbs-bench: a client failed:"; tail -3 "$work"/cycles.*; exit 1; }; done
        t1=$(cpu_ticks)
        "$PY" - "$work" "$CLIENTS" "$((t1 - t0))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
tick_ms = 1000 / int(sys.argv[4])
rs = [json.loads(open(f"{sys.argv[1]}/cycles.{i}").read().splitlines()[-1]) for i in range(1, int(sys.argv[2]) + 1)]
n = sum(r["cycles"] for r in rs)
print(json.dumps({"clients": len(rs), "cycles": n, "cycles_per_s": round(sum(r["cycles_per_s"] for r in rs), 1),
                  "p50_ms": max(r["p50_ms"] for r in rs), "p99_ms": max(r["p99_ms"] for r in rs),
                  "server_cpu_ms_per_cycle": round(int(sys.argv[3]) * tick_ms / max(1, n), 2)}))
PY
}
cycles
RSS2=$(rss)

cat >"$work/bad.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
        statuses = {}
        local j = { ["Content-Type"] = "application/json" }
        reqs = {
                wrk.format("POST", "/kbs/v0/auth", j, '{"version":"0.4.0","tee":'),
                wrk.format("POST", "/kbs/v0/auth", j, '{"version":"0.3.0","tee":"tpm","extra-params":""}'),
                wrk.format("POST", "/kbs/v0/auth", j, '{"version":"0.4.0","tee":"quantum","extra-params":""}'),
                wrk.format("POST", "/kbs/v0/auth", j, string.rep("[", 5000)),
                wrk.format("POST", "/kbs/v0/auth", j, ""),
                wrk.format("POST", "/kbs/v0/attest", j, '{"runtime-data":{}}'),
                wrk.format("POST", "/kbs/v0/attest", { ["Content-Type"] = "application/json", ["Cookie"] = "kbs-session-id=00112233445566778899aabbccddeeff" }, "{}"),
                wrk.format("GET", "/kbs/v0/resource/default/key/disk", { ["Cookie"] = "kbs-session-id=zz" }),
                wrk.format("GET", "/kbs/v0/resource/../../etc/passwd"),
                wrk.format("GET", "/kbs/v0/resource/a/b"),
                wrk.format("DELETE", "/kbs/v0/auth"),
                wrk.format("GET", "/nothing"),
                wrk.format("POST", "/kbs/v0/auth", j, '{"version":"0.4.0","tee":"svsm-vtpm","extra-params":{"ek_public":"AAAA","ak_public":"AAAA"}}'),
                wrk.format("POST", "/kbs/v0/auth", j, string.rep("x", 20000)),
        }
        n = 0
end
function request()
        n = n + 1
        return reqs[(n % #reqs) + 1]
end
function response(status, headers, body)
        statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
        local total, answered = {}, 0
        for _, t in ipairs(threads) do
                for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
        end
        local keys = {}
        for k in pairs(total) do table.insert(keys, k) end
        table.sort(keys)
        for _, k in ipairs(keys) do
                io.write(string.format("status %d: %d\n", k, total[k]))
                answered = answered + total[k]
        end
        local e = summary.errors
        io.write(string.format("answered %d of %d requests; socket errors connect %d read %d write %d timeout %d\n",
                answered, summary.requests, e.connect, e.read, e.write, e.timeout))
end
LUA
echo "== malformed mix: wrk -t2 -c$CONN -d${DUR}s"
wrk -t2 -c"$CONN" -d"${DUR}s" -s "$work/bad.lua" "$URL" | tee "$work/wrk-bad"
kill -0 "$PID" || { echo "kbs-bench: SERVER DIED"; cat "$work/log"; exit 1; }
if grep -q "^status 2" "$work/wrk-bad"; then echo "kbs-bench: a malformed request got a 2xx"; exit 1; fi
"$PY" "$CLIENT" cycle "$URL" --ak "$work/ak" --resource default/key/disk >/dev/null || { echo "kbs-bench: no valid cycle after the mix"; exit 1; }
RSS3=$(rss)
echo "== server alive after the mix and still serving a valid cycle"
cycles
RSS4=$(rss)
echo "RSS kB: start $RSS0, after auth $RSS1, after cycles $RSS2, after malformed mix $RSS3, after cycles again $RSS4"
kill "$PID"; wait "$PID"; PID=
grep "Stopping" "$work/log" || true
