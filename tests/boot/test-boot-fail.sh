#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot boot` on the host, where it cannot get far (no Azure disk, no device-mapper): what it does
# when it is not enabled (nothing), and how it fails closed: one line beginning "ephroot: boot
# failed:" that names the cause, exit 1 (with --no-failure-action; otherwise it would halt), the
# failure event in every PCR ephroot uses so that PCRs equal a replay of the log and differ from a
# successful boot's, and status.json saying which phase failed.
set -euo pipefail
ephroot=$(readlink -f "$1")
here=$(dirname "$(readlink -f "$0")")
for t in swtpm tpm2_pcrread python3; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
. "$here/../lib/swtpm.sh"
work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
cd "$work"
fail=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi; }

mkdir -p root/boot
head -c 100000 /dev/urandom >root/boot/vmlinuz-test
head -c 50000 /dev/urandom >root/boot/initrd.img-test
common=(--rootmnt "$work/root" --kernel root/boot/vmlinuz-test --initrd root/boot/initrd.img-test --no-failure-action)
run() { # cmdline, extra args...
        local cl=$1; shift
        printf '%s\n' "$cl" >cmdline
        if "$ephroot" --config /dev/null "$@" boot "${common[@]}" --cmdline-file cmdline --status "$work/status.json" \
                >out.txt 2>err.txt; then rc=0; else rc=$?; fi
}

# Not enabled: exit 0, no output, no status, nothing measured.
run "root=/dev/vda1 ro quiet"
check "not enabled: exit 0" '[ $rc = 0 ]'
check "not enabled: prints nothing" '[ ! -s out.txt ] && [ ! -s err.txt ]'
check "not enabled: writes no status" '[ ! -e status.json ]'
run "root=/dev/vda1 ephroot=off"
check "ephroot=off: exit 0, nothing printed" '[ $rc = 0 ] && [ ! -s out.txt ] && [ ! -s err.txt ]'

# Enabled, no TPM reachable.
run "root=/dev/vda1 ephroot=on ephroot.tcti=swtpm:host=127.0.0.1,port=9" 
check "no TPM: exit 1" '[ $rc = 1 ]'
check "no TPM: one failure line naming the TPM" \
        '[ "$(grep -c "^ephroot: boot failed:" err.txt)" = 1 ] && grep -q "^ephroot: boot failed: Failed to open the TPM through TCTI" err.txt'
check "no TPM: status says phase measure failed" \
        'python3 -c "import json; s=json.load(open(\"status.json\")); assert s[\"result\"]==\"failed\" and s[\"failed_phase\"]==\"measure\""'

# Bad configuration on the command line: never guess whether to run.
run "root=/dev/vda1 ephroot=on ephroot.mode=sideways"
check "bad mode=: exit 1 with the reason" '[ $rc = 1 ] && grep -q "^ephroot: boot failed: .*Invalid .mode. value .sideways." err.txt'
run "root=/dev/vda1 ephroot.device=sdz"
check "malformed ephroot.* setting without ephroot=on: still fails closed" '[ $rc = 1 ] && grep -q "^ephroot: boot failed: .*device" err.txt'

# Enabled, a TPM, but no disk that may be formatted (the host is not Azure): fails in phase disk,
# after measuring; the failure event goes into PCRs 11, 12 and 15.
swtpm_start "$work/tpm" sha256
rm -f status.json
run "root=/dev/vda1 ephroot=on ephroot.measure-log=$work/log" --tcti "$SWTPM_TCTI"
check "no disk: exit 1" '[ $rc = 1 ]'
check "no disk: one failure line naming the cause" \
        '[ "$(grep -c "^ephroot: boot failed:" err.txt)" = 1 ] && grep -q "^ephroot: boot failed: Failed to find a disk to format" err.txt'
check "no disk: phases before it were printed with durations" \
        'grep -qE "^ephroot: measure +[0-9]+ ms" out.txt && grep -qE "^ephroot: key +[0-9]+ ms" out.txt'
check "no disk: status says phase disk failed" \
        'python3 -c "import json; s=json.load(open(\"status.json\")); assert s[\"failed_phase\"]==\"disk\", s"'
python3 - "$work/log" >replay.txt <<'PY'
import hashlib, json, sys
pcrs = {}
events = []
for rec in open(sys.argv[1], 'rb').read().split(b'\x1e'):
    if not rec.strip():
        continue
    r = json.loads(rec)
    events.append((r['pcr'], r['content'].get('eventType')))
    for d in r['digests']:
        if d['hashAlg'] == 'sha256':
            old = pcrs.get(r['pcr'], b'\0' * 32)
            pcrs[r['pcr']] = hashlib.sha256(old + bytes.fromhex(d['digest'])).digest()
for p in sorted(pcrs):
    print(p, pcrs[p].hex())
print('events', ' '.join('%d:%s' % e for e in events))
PY
check "no disk: the log has the failure event in PCR 11, 12 and 15" \
        'grep -q "11:failure" replay.txt && grep -q "12:failure" replay.txt && grep -q "15:failure" replay.txt'
for p in 11 12 15; do
        tpm=$(tpm2_pcrread "sha256:$p" | awk -v p="$p" '$1 == p":" { print tolower(substr($2, 3)) }')
        check "no disk: PCR $p equals the replay of the log" '[ "$tpm" = "$(awk -v p=$p '"'"'$1 == p { print $2 }'"'"' replay.txt)" ]'
done
h=$(python3 -c 'import hashlib; print(hashlib.sha256(b"ephroot-failure:v1 phase=disk").hexdigest())')
check "no disk: the failure digest is sha256(\"ephroot-failure:v1 phase=disk\")" 'grep -q "$h" "$work/log"'
predict=$("$ephroot" predict --kernel root/boot/vmlinuz-test --initrd root/boot/initrd.img-test --cmdline-file cmdline --banks sha256 | awk '$1 == "11:" { print $2 }')
check "no disk: PCR 11 no longer equals the successful prediction" '[ "$(awk '"'"'$1 == 11 { print $2 }'"'"' replay.txt)" != "$predict" ]'
exit $fail
