#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot predict against values computed independently with the OpenSSL command line:
# PCR = H(H(0 || H(kernel)) || H(initrd)) for PCR 11, H(0 || H(cmdline)) for PCR 12, per bank.
set -euo pipefail
EPHROOT=${1:?usage: test-predict-openssl.sh EPHROOT}
for t in openssl xxd; do command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf 'kernel bytes\0\1\2' >"$work/k"
head -c 300000 /dev/urandom >"$work/i"
cmdline='root=/dev/vda1 ro "quoted arg" ephroot=on'

dgst() { openssl dgst -"$1" -binary | xxd -p -c 256; }
extend() { printf '%s%s' "$2" "$3" | xxd -r -p | dgst "$1"; } # BANK OLD NEW

fail=0
"$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --cmdline "$cmdline" --json >"$work/p.json"
for bank in sha1 sha256 sha384 sha512; do
        size=$(printf '' | dgst "$bank" | tr -d '\n' | wc -c)
        zero=$(printf '%0*d' "$size" 0)
        p11=$(extend "$bank" "$(extend "$bank" "$zero" "$(dgst "$bank" <"$work/k")")" "$(dgst "$bank" <"$work/i")")
        p12=$(extend "$bank" "$zero" "$(printf '%s' "$cmdline" | dgst "$bank")")
        for pair in "11:$p11" "12:$p12"; do
                pcr=${pair%%:*} want=${pair#*:}
                if grep -q "\"$bank\":{[^}]*\"$pcr\":\"$want\"" "$work/p.json"; then
                        echo "ok $bank:$pcr = $want"
                else
                        echo "FAIL $bank:$pcr: expected $want in $(cat "$work/p.json")"; fail=1
                fi
        done
done

# Configuration on the command line moves the events, as at boot.
"$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --cmdline "$cmdline ephroot.pcr-cmdline=13" --json --banks sha256 >"$work/q.json"
grep -q '"13":' "$work/q.json" && ! grep -q '"12":' "$work/q.json" || { echo "FAIL: pcr-cmdline=13 not honoured: $(cat "$work/q.json")"; fail=1; }
# --pcrlock-dir: the components follow the configuration (pcr-leave=14 moves leave-initrd, whose
# digest is openssl's SHA-256 of the string), a relative directory is a usage error (exit 2).
"$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --cmdline "$cmdline ephroot.pcr-leave=14" --banks sha256 \
        --pcrlock-dir "$work/pl" >/dev/null
want=$(printf '%s' leave-initrd | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$(cat "$work/pl/800-leave-initrd.pcrlock")" = "{\"records\":[{\"pcr\":14,\"digests\":[{\"hashAlg\":\"sha256\",\"digest\":\"$want\"}]}]}" ] ||
        { echo "FAIL: leave-initrd component: $(cat "$work/pl/800-leave-initrd.pcrlock")"; fail=1; }
want=$(openssl dgst -sha256 -r "$work/k" | cut -d' ' -f1)
grep -q "{\"pcr\":11,\"digests\":\[{\"hashAlg\":\"sha256\",\"digest\":\"$want\"}\]}" "$work/pl/760-ephroot-kernel.pcrlock" ||
        { echo "FAIL: kernel component: $(cat "$work/pl/760-ephroot-kernel.pcrlock")"; fail=1; }
rc=0
"$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --cmdline x --pcrlock-dir rel 2>"$work/err" >/dev/null || rc=$?
[ "$rc" = 2 ] && grep -q "not an absolute path" "$work/err" ||
        { echo "FAIL: relative --pcrlock-dir: exit $rc, $(cat "$work/err")"; fail=1; }

# verity-root-hash=: the text output names the verity event and its digest = openssl's SHA-256 of the
# event string; pcr-disk=14 moves it; the JSON output (a broker policy fragment) keeps its shape.
vh=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
out=$("$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --banks sha256 \
        --cmdline "$cmdline ephroot.verity-root-hash=$vh ephroot.verity-error=panic ephroot.pcr-disk=14")
want=$(printf '%s' "ephroot-verity:v1 root-hash=$vh error=panic" | openssl dgst -sha256 -r | cut -d' ' -f1)
grep -q "^verity event into PCR 14" <<<"$out" && grep -q "^  sha256: $want\$" <<<"$out" ||
        { echo "FAIL: verity event: $out"; fail=1; }
grep -q verity <<<"$("$EPHROOT" predict --kernel "$work/k" --initrd "$work/i" --json --cmdline "$cmdline ephroot.verity-root-hash=$vh")" &&
        { echo "FAIL: verity in the JSON output"; fail=1; }
exit $fail
