#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# One attestation, timed and counted (docs/performance.md, "Attestation"): `ephroot attest` with the
# `tpm` evidence against ephroot-kbs on loopback (plain HTTP), swtpm as the TPM; RUNS runs, median of
# the client's own figure (auth to the last resource) and of its evidence part; then one run through
# tpm2-tss's pcap TCTI to count the TPM commands it sends.
#   tests/bench/attest-bench.sh [BUILD-DIR]     env: RUNS (10), SECRETS (1), AK_TYPE (rsa, or ecc)
set -euo pipefail

BUILD=$(realpath "${1:-build}")
EPHROOT=$BUILD/ephroot
KBS=$BUILD/src/kbs/ephroot-kbs
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-10}
SECRETS=${SECRETS:-1}
AK_TYPE=${AK_TYPE:-rsa}
[ -x "$EPHROOT" ] && [ -x "$KBS" ] || { echo "attest-bench: build $EPHROOT and $KBS first"; exit 1; }
. "$HERE/../lib/swtpm.sh"

work=$(mktemp -d)
shm=$(mktemp -d /dev/shm/ephroot-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; swtpm_stop || true; wait 2>/dev/null; rm -rf "$work" "$shm"; }
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

swtpm_start "$work/tpm" sha256
cd "$work"
echo "attest-ak-type = $AK_TYPE" >ak.conf
AK=$("$EPHROOT" --config ak.conf --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null)
mkdir -p res/default/key
for i in $(seq 1 "$SECRETS"); do head -c 32 /dev/urandom >"res/default/key/s$i"; done
echo "{\"policies\":[{\"name\":\"b\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"$AK\"],\"resources\":[\"default/key/*\"]}]}" >policy.json
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >kbs.json
: >kbs.log
"$KBS" --config kbs.json >kbs.log 2>&1 &
PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' kbs.log); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "$PORT" ] || { echo "server did not start"; exit 1; }
{
        echo "attest = required"
        echo "attest-ak-type = $AK_TYPE"
        echo "kbs-url = http://127.0.0.1:$PORT"
        echo "kbs-insecure = yes"
        for i in $(seq 1 "$SECRETS"); do echo "secret.s$i = default/key/s$i"; done
} >ephroot.conf

run() { # TCTI
        "$EPHROOT" --config ephroot.conf --tcti "$1" --log-level err attest --cmdline-file /dev/null --secrets-dir "$shm/s"
}
for _ in $(seq 1 "$RUNS"); do run "$SWTPM_TCTI"; done >runs.log
total=$(sed -n 's/.* in \([0-9]*\) ms (evidence.*/\1/p' runs.log | median)
evidence=$(sed -n 's/.*(evidence \([0-9]*\) ms.*/\1/p' runs.log | median)
requests=$(sed -n 's/.*ms, \([0-9]*\) HTTP requests.*/\1/p' runs.log | head -1)
TCTI_PCAP_FILE=$work/a.pcap run "pcap:$SWTPM_TCTI" >/dev/null; [ -n "${KEEP_PCAP:-}" ] && cp "$work/a.pcap" "$KEEP_PCAP"
cmds=$(python3 "$HERE/tpm-pcap-count.py" "$work/a.pcap")

echo "ephroot attest (tpm evidence, $AK_TYPE AK, EC P-256 TEE key, $SECRETS secret(s)), $RUNS runs, median:"
echo "  auth to last resource: $total ms, of which evidence (TPM): $evidence ms; $requests HTTP requests"
echo "  TPM commands: $(head -n1 <<<"$cmds" | cut -d' ' -f2) ($(tail -n +2 <<<"$cmds" | tr '\n' ' '))"
