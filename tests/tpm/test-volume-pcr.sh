#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot volume --no-activate` against a fresh swtpm (banks sha1+sha256+sha384): PCR 15, read with
# tpm2_pcrread, must equal a Python replay of the two log records; the disk event's digest must be
# the hash of the string in its record (what a verifier rebuilds); the volume-key digest must equal
# HMAC(key, "cryptsetup:<dm name>:<uuid>") computed with `openssl mac`. That last check needs the
# key: it comes from the test build (ephroot-test writes it to $EPHROOT_TEST_KEY_FILE; ephroot never
# does). The regular binary is then run on another fresh TPM for the replay alone, and with a bad
# bank setup.
set -uo pipefail
EPHROOT=$(readlink -f "${1:?usage: test-volume-pcr.sh EPHROOT EPHROOT_TEST}")
EPHROOT_TEST=$(readlink -f "${2:?usage: test-volume-pcr.sh EPHROOT EPHROOT_TEST}")
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm swtpm_setup tpm2_pcrread python3 openssl; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
: >"$work/cmdline"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

pcrread() { # BANK PCR -> lower-case hex
        tpm2_pcrread "$1:$2" | awk -v p="$2" '$1 == p":" { print tolower(substr($2, 3)) }'
}

run() { # BINARY NAME DMNAME [ENV...]
        local bin=$1 name=$2 dm=$3; shift 3
        rm -rf "$work/tpm" "$work/log" "$work/hdr"
        truncate -s 0 "$work/disk.img"; truncate -s 48M "$work/disk.img"
        printf 'measure-log = %s\n' "$work/log/tpm2-measure.log" >"$work/t.conf"
        swtpm_start "$work/tpm" sha1,sha256,sha384 || { bad "$name: swtpm"; return; }
        env "$@" "$bin" --tcti "$SWTPM_TCTI" --config "$work/t.conf" volume --cmdline-file "$work/cmdline" \
                --no-activate --device "$work/disk.img" --header-dir "$work/hdr" --dm-name "$dm" --json \
                >"$work/out.json" 2>"$work/err"
        if [ $? != 0 ]; then bad "$name: ephroot volume failed"; cat "$work/err"; swtpm_stop; return; fi

        for bank in sha1 sha256 sha384; do
                tpm=$(pcrread "$bank" 15)
                log=$(python3 "$here/../lib/replay-log.py" "$work/log/tpm2-measure.log" "$bank" 15)
                if [ -n "$tpm" ] && [ "$tpm" = "$log" ] && [ "$tpm" != "$(printf '%0*d' ${#tpm} 0)" ]; then
                        ok "$name: $bank:15 = replay of the log = $tpm"
                else
                        bad "$name: $bank:15 tpm=$tpm log=$log"
                fi
        done
        swtpm_stop
}

# 1. The test build, with the key in hand.
run "$EPHROOT_TEST" "test build" data0 EPHROOT_TEST_KEY_FILE="$work/key.hex"
key=$(cat "$work/key.hex" 2>/dev/null)
[ ${#key} = 128 ] && ok "got the 64-byte key from the test build" || bad "no key from the test build"

python3 - "$work/log/tpm2-measure.log" "$work/out.json" >"$work/records" <<'PY' || bad "log records"
import hashlib, json, sys
data = open(sys.argv[1], "rb").read()
out = json.load(open(sys.argv[2]))
recs = [json.loads(r) for r in data.split(b"\x1e")[1:]]
assert len(recs) == 2, f"{len(recs)} records"
disk, vk = recs
assert disk["pcr"] == 15 and vk["pcr"] == 15
assert disk["content_type"] == "ephroot" and disk["content"]["eventType"] == "disk", disk
assert vk["content_type"] == "systemd" and vk["content"]["eventType"] == "volume-key", vk
s = disk["content"]["string"]
want = (f"ephroot-disk:v1 identity=- role=image class=blank uuid={out['uuid']} cipher=aes-xts-plain64 key-bits=512"
        " sector-size=4096 integrity=none flags=allow-discards,no-read-workqueue,no-write-workqueue forced=no")
assert s == want, f"disk string {s!r}"
# A verifier rebuilds the disk digest from the string alone.
for d in disk["digests"]:
    assert d["digest"] == hashlib.new(d["hashAlg"], s.encode()).hexdigest(), d["hashAlg"]
assert vk["content"]["string"] == f"cryptsetup:data0:{out['uuid']}", vk["content"]["string"]
assert sorted(d["hashAlg"] for d in vk["digests"]) == ["sha1", "sha256", "sha384"]
for d in vk["digests"]:
    print(d["hashAlg"], d["digest"])
print("string", vk["content"]["string"])
PY
grep -q '^string ' "$work/records" && ok "two records: disk (ephroot, digest = H(string)), volume-key (systemd)"
vkstring=$(awk '/^string / { print $2 }' "$work/records")
for bank in sha1 sha256 sha384; do
        logged=$(awk -v b="$bank" '$1 == b { print $2 }' "$work/records")
        mac=$(printf '%s' "$vkstring" | openssl mac -digest "${bank^^}" -macopt "hexkey:$key" HMAC | tr 'A-F' 'a-f')
        if [ -n "$mac" ] && [ "$mac" = "$logged" ]; then
                ok "volume-key $bank digest = openssl HMAC-${bank^^}(key, '$vkstring')"
        else
                bad "volume-key $bank: logged=$logged openssl=$mac"
        fi
done
if grep -qi "$key" "$work/log/tpm2-measure.log" "$work/out.json" "$work/err"; then
        bad "the key appears in the log, the output or the messages"
else
        ok "the key is in neither the log nor the output nor the messages"
fi

# 2. The production binary: same events, same replay (no key available, by design).
run "$EPHROOT" "ephroot" ephroot
grep -q "cryptsetup:ephroot:" "$work/log/tpm2-measure.log" && ok "ephroot: volume-key string names the default dm name" ||
        bad "ephroot: volume-key string"

# 3. pcr-disk moves both events.
rm -rf "$work/tpm" "$work/log" "$work/hdr"; truncate -s 0 "$work/disk.img"; truncate -s 48M "$work/disk.img"
swtpm_start "$work/tpm" sha256
printf 'measure-log = %s\npcr-disk = 14\n' "$work/log/tpm2-measure.log" >"$work/t.conf"
"$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/t.conf" volume --cmdline-file "$work/cmdline" --no-activate \
        --device "$work/disk.img" --header-dir "$work/hdr" >/dev/null 2>"$work/err" || { bad "pcr-disk=14 run"; cat "$work/err"; }
p14=$(pcrread sha256 14); p15=$(pcrread sha256 15)
r14=$(python3 "$here/../lib/replay-log.py" "$work/log/tpm2-measure.log" sha256 14)
if [ "$p14" = "$r14" ] && [ "$p15" = "$(printf '%064d' 0)" ]; then
        ok "pcr-disk=14: both events in PCR 14, PCR 15 untouched"
else
        bad "pcr-disk=14: pcr14=$p14 replay=$r14 pcr15=$p15"
fi
swtpm_stop

[ "$fail" = 0 ] && echo "all volume TPM checks passed"
exit $fail
