#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot measure against a fresh swtpm, checked three independent ways: tpm2_pcrread (tpm2-tools)
# equals ephroot predict, and equals a replay of the measurement log written by a Python script
# that shares no code with ephroot. Run on a single-sha256-bank TPM and on a sha1+sha256+sha384 one.
set -euo pipefail
EPHROOT=${1:?usage: test-measure.sh EPHROOT}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm swtpm_setup tpm2_pcrread python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr

head -c 5000000 /dev/urandom >"$work/vmlinuz"
head -c 7000001 /dev/urandom >"$work/initrd.img"
cmdline="BOOT_IMAGE=/vmlinuz root=UUID=0b1c quiet ephroot.measure-log=$work/log/tpm2-measure.log \"x=a b\""
printf '%s\n' "$cmdline" >"$work/cmdline" # as /proc/cmdline has it, with the newline

replay() { # LOG BANK PCR -> hex (an independent Python replay)
        python3 "$(dirname "$(readlink -f "$0")")/../lib/replay-log.py" "$@"
}

pcrread() { # BANK PCR -> lower-case hex
        tpm2_pcrread "$1:$2" | awk -v p="$2" '$1 == p":" { print tolower(substr($2, 3)) }'
}

fail=0
run() { # BANKS_FOR_SWTPM EXPECTED_BANKS...
        local banks=$1; shift
        rm -rf "$work/tpm" "$work/log"
        swtpm_start "$work/tpm" "$banks"

        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null measure \
                --kernel "$work/vmlinuz" --initrd "$work/initrd.img" --cmdline-file "$work/cmdline"
        records=$(grep -c $'\x1e' "$work/log/tpm2-measure.log" || true)
        [ "$records" = 3 ] || { echo "FAIL[$banks]: $records records, expected 3"; fail=1; }
        # systemd's protocol: the sticky bit is cleared once the records are written; timestamps are
        # CLOCK_BOOTTIME µs, so below the uptime read afterwards (CLOCK_REALTIME would be far above).
        mode=$(stat -c %a "$work/log/tpm2-measure.log")
        [ "$mode" = 600 ] || { echo "FAIL[$banks]: log mode $mode, expected 600 (sticky bit left set?)"; fail=1; }
        python3 - "$work/log/tpm2-measure.log" <<'PY' || fail=1
import json, sys
up = float(open("/proc/uptime").read().split()[0]) * 1e6
ts = [json.loads(r)["content"]["timestamp"] for r in open(sys.argv[1]).read().split("\x1e") if r.strip()]
if not all(0 < t <= up + 1e6 for t in ts) or ts != sorted(ts):
    sys.exit(f"FAIL: timestamps {ts} not CLOCK_BOOTTIME µs (uptime {up:.0f} µs)")
print(f"ok timestamps are CLOCK_BOOTTIME: {ts} <= uptime {up:.0f} µs")
PY

        "$EPHROOT" predict --kernel "$work/vmlinuz" --initrd "$work/initrd.img" --cmdline "$cmdline" \
                --banks "$(IFS=,; echo "$*")" >"$work/predict.txt"

        for bank in "$@"; do
                for pcr in 11 12; do
                        tpm=$(pcrread "$bank" "$pcr")
                        log=$(replay "$work/log/tpm2-measure.log" "$bank" "$pcr")
                        pred=$(awk -v b="$bank:" -v p="$pcr:" '/^[a-z]/ { cur = $1 } cur == b && $1 == p { print $2 }' "$work/predict.txt")
                        if [ -n "$tpm" ] && [ "$tpm" = "$log" ] && [ "$tpm" = "$pred" ] && [ "$tpm" != "$(printf '%0*d' ${#tpm} 0)" ]; then
                                echo "ok [$banks] $bank:$pcr = $tpm"
                        else
                                echo "FAIL [$banks] $bank:$pcr tpm=$tpm log=$log predict=$pred"
                                fail=1
                        fi
                done
        done
        # systemd-pcrlock components (predict --pcrlock-dir): read by an independent Python check. Each
        # component's record equals the log record of its event (pcr and every bank's digest: what
        # systemd-pcrlock's record check compares), replaying the components gives the TPM's PCRs,
        # and leave-initrd is H("leave-initrd") into PCR 11 per bank (the same bytes as systemd's own
        # 800-leave-initrd.pcrlock for the four banks).
        rm -rf "$work/pcrlock"
        "$EPHROOT" predict --kernel "$work/vmlinuz" --initrd "$work/initrd.img" --cmdline "$cmdline" \
                --banks "$(IFS=,; echo "$*")" --pcrlock-dir "$work/pcrlock" >/dev/null
        for bank in "$@"; do
                printf '%s %s %s\n' "$bank" "$(pcrread "$bank" 11)" "$(pcrread "$bank" 12)"
        done >"$work/pcrs.txt"
        python3 - "$work/pcrlock" "$work/log/tpm2-measure.log" "$work/pcrs.txt" <<'PY' || fail=1
import hashlib, json, os, sys
d, logf, pcrf = sys.argv[1:]
names = ["760-ephroot-kernel.pcrlock", "761-ephroot-initrd.pcrlock", "762-ephroot-cmdline.pcrlock",
         "800-leave-initrd.pcrlock"]
if sorted(os.listdir(d)) != names:
    sys.exit(f"FAIL pcrlock: files {sorted(os.listdir(d))}")
comp = [json.load(open(os.path.join(d, n))) for n in names]
log = [json.loads(r) for r in open(logf).read().split("\x1e") if r.strip()]
for c, n in zip(comp, names):
    if list(c) != ["records"] or len(c["records"]) != 1 or sorted(c["records"][0]) != ["digests", "pcr"]:
        sys.exit(f"FAIL pcrlock: {n} is not one record of pcr and digests: {c}")
for c, rec, n in zip(comp, log, names):
    if c["records"][0] != {"pcr": rec["pcr"], "digests": rec["digests"]}:
        sys.exit(f"FAIL pcrlock: {n} does not match its log record")
pcrs = {l.split()[0]: l.split()[1:] for l in open(pcrf)}
for bank, (p11, p12) in pcrs.items():
    v = {11: bytes(hashlib.new(bank).digest_size), 12: bytes(hashlib.new(bank).digest_size)}
    for c in comp[:3]:
        r = c["records"][0]
        dg = [x["digest"] for x in r["digests"] if x["hashAlg"] == bank]
        v[r["pcr"]] = hashlib.new(bank, v[r["pcr"]] + bytes.fromhex(dg[0])).digest()
    if (v[11].hex(), v[12].hex()) != (p11, p12):
        sys.exit(f"FAIL pcrlock: replay of the components differs from the TPM in {bank}")
leave = comp[3]["records"][0]
want = [{"hashAlg": b, "digest": hashlib.new(b, b"leave-initrd").hexdigest()} for b in pcrs]
if leave != {"pcr": 11, "digests": want}:
    sys.exit(f"FAIL pcrlock: leave-initrd component {leave}")
print(f"ok pcrlock components: records = log records, replay = TPM in {', '.join(pcrs)}, leave-initrd = H(string)")
PY
        # A bank the TPM does not have must not appear in the log.
        if [ "$banks" = sha256 ] && grep -q '"sha1"' "$work/log/tpm2-measure.log"; then
                echo "FAIL: sha1 digest logged for a TPM without a sha1 bank"; fail=1
        fi
        swtpm_stop
}

run sha256 sha256
run sha1,sha256,sha384 sha1 sha256 sha384
exit $fail
