#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lib/swtpm.sh starts swtpm reliably (issue 16): (1) the port it is first given is held in
# TIME-WAIT (the state that made swtpm fail with "Address already in use" while a connect probe
# called the port free): swtpm_start says so, tries another port and succeeds, and the retry's
# cleanup does not end this set -e script; (2) N start/use/stop cycles in a row, 0 failures.
#   test-swtpm-start.sh [N]   (default 20; `SWTPM_STARTS=200` for a longer run by hand)
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm tpm2_getrandom python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
n=${SWTPM_STARTS:-${1:-20}}

work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT

# A loopback port left in TIME-WAIT on its listening side: the server closes first.
time_wait_port() {
        python3 - <<'PY'
import socket
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
port = srv.getsockname()[1]
cli = socket.create_connection(("127.0.0.1", port))
conn, _ = srv.accept()
conn.close(); cli.recv(1); cli.close(); srv.close()
print(port)
PY
}

fail=0
# 1. The first port handed out is in TIME-WAIT.
busy=$(time_wait_port)
if command -v ss >/dev/null; then
        tw=$(ss -Htan state time-wait "( sport = :$busy )")
        [ -n "$tw" ] || { echo "FAIL setup: port $busy is not in TIME-WAIT"; exit 1; }
fi
eval "real_$(declare -f swtpm_free_port)"
echo 1 >"$work/first"
swtpm_free_port() {
        if [ "$(cat "$work/first")" = 1 ]; then echo 0 >"$work/first"; echo "$busy"; return 0; fi
        real_swtpm_free_port
}
swtpm_start "$work/tpm" 2>"$work/start.err"
cat "$work/start.err"
port=${SWTPM_TCTI##*port=}
if [ "$port" = "$busy" ]; then
        echo "FAIL collision: swtpm reported on the TIME-WAIT port $busy"; fail=1
fi
grep -q "could not listen on port $busy" "$work/start.err" ||
        { echo "FAIL collision: no message about the retry"; fail=1; }
tpm2_getrandom --hex 8 >/dev/null || { echo "FAIL collision: swtpm on $port does not answer"; fail=1; }
swtpm_stop
echo "collision: TIME-WAIT port $busy refused, swtpm up on $port"
unset -f swtpm_free_port
eval "$(declare -f real_swtpm_free_port | sed 's/^real_swtpm_free_port/swtpm_free_port/')"

# 2. N cycles, as the tpm suite does them (fresh state each time).
failures=0 t0=$(date +%s%N)
for i in $(seq 1 "$n"); do
        rm -rf "$work/tpm"
        if ! swtpm_start "$work/tpm" 2>>"$work/loop.err"; then
                failures=$((failures + 1)); continue
        fi
        tpm2_getrandom --hex 8 >/dev/null || failures=$((failures + 1))
        swtpm_stop
done
t1=$(date +%s%N)
retries=$(grep -c "could not listen" "$work/loop.err" || true)
echo "$n starts: $failures failures, $retries retries, $(((t1 - t0) / 1000000 / n)) ms per start+getrandom+stop"
[ "$failures" = 0 ] || { cat "$work/loop.err"; fail=1; }
exit $fail
