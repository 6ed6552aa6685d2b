#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# boot-chain= against swtpm: a firmware event log made here (TCG PC Client crypto-agile, sha256) that
# describes a GRUB boot (firmware in PCR 0, the EFI application in PCR 4, GRUB's commands in PCR 8, the
# files GRUB loaded in PCR 9), its digests extended into swtpm exactly as firmware and GRUB would
# (tpm2_pcrextend). Then `ephroot measure --event-log`:
#   - kernel and initrd as GRUB loaded them: measured;
#   - the host's trick, an initrd other than the one GRUB loaded: refused before anything is
#     extended, naming the file and both digests (PCR 11 untouched);
#   - a log that does not replay (PCR 9 extended once more in the TPM): refused, naming PCR 9;
#   - no log: auto goes on, required refuses; a log with no PCR 9 files: auto goes on, required
#     refuses; off: the other initrd goes through;
# and `ephroot reference --check-tpm` on the same log gives the TPM's PCRs 4, 8, 9.
#   test-boot-chain.sh EPHROOT
set -euo pipefail
EPHROOT=${1:?usage: test-boot-chain.sh EPHROOT}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
for t in swtpm swtpm_setup tpm2_pcrread tpm2_pcrextend python3 xxd; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
fail() { echo "FAIL: $*" >&2; exit 1; }

head -c 300000 /dev/urandom >"$work/vmlinuz"
head -c 500000 /dev/urandom >"$work/initrd.img"
head -c 500000 /dev/urandom >"$work/initrd-evil.img"
echo "BOOT_IMAGE=/boot/vmlinuz root=UUID=0b1c ro" >"$work/cmdline"

# make-log OUT [no-pcr9]: the log, and on stdout "PCR DIGEST" lines to extend into the TPM
make_log() {
        python3 - "$work" "$@" <<'PY'
import hashlib, struct, sys
work, out = sys.argv[1], sys.argv[2]
no9 = len(sys.argv) > 3
def ev1(pcr, typ, digest, data):
    return struct.pack("<II", pcr, typ) + digest + struct.pack("<I", len(data)) + data
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0xB, 32) + b"\0"
log, ext = ev1(0, 3, bytes(20), spec), []
def ev(pcr, typ, data, digest=None):
    global log
    d = digest or hashlib.sha256(data).digest()
    log += struct.pack("<III", pcr, typ, 1) + struct.pack("<H", 0xB) + d + struct.pack("<I", len(data)) + data
    ext.append((pcr, d))
ev(0, 0x8, b"EDK II firmware")
ev(4, 0x80000003, b"\0" * 32, hashlib.sha256(b"grubx64.efi").digest())
for p in (0, 4, 7):
    ev(p, 0x4, b"\0\0\0\0")
if not no9:
    ev(8, 0xD, b"grub_cmd: linux /boot/vmlinuz root=UUID=0b1c ro\0")
    ev(9, 0xD, b"(hd0,gpt2)/boot/grub/grub.cfg\0", hashlib.sha256(b"set default=0").digest())
    ev(9, 0xD, b"(hd0,gpt2)/boot/vmlinuz\0", hashlib.sha256(open(work + "/vmlinuz", "rb").read()).digest())
    ev(9, 0xD, b"(hd0,gpt2)/boot/initrd.img\0", hashlib.sha256(open(work + "/initrd.img", "rb").read()).digest())
open(out, "wb").write(log)
for p, d in ext:
    print(p, d.hex())
PY
}
fresh_tpm() { # LOG-MODE...: a fresh swtpm with the firmware's and GRUB's extends of that log
        swtpm_stop || true
        rm -rf "$work/tpm"
        swtpm_start "$work/tpm" sha256
        make_log "$work/log.bin" "$@" >"$work/extends"
        while read -r p d; do tpm2_pcrextend "$p:sha256=$d"; done <"$work/extends"
}
measure() { # CONFIG-TEXT INITRD [EVENT-LOG] -> exit status, output in $work/out
        printf '%s\n' "$1" >"$work/ephroot.conf"
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/ephroot.conf" measure --kernel "$work/vmlinuz" --initrd "$2" \
                --cmdline-file "$work/cmdline" --event-log "${3:-$work/log.bin}" >"$work/out" 2>&1
}
pcr11() { tpm2_pcrread sha256:11 -o "$work/pcr11.bin" >/dev/null && xxd -p -c 64 "$work/pcr11.bin"; }
Z=0000000000000000000000000000000000000000000000000000000000000000

fresh_tpm
measure "measure-log = $work/m.log" "$work/initrd.img" || fail "GRUB's own files refused: $(cat "$work/out")"
grep -q "kernel and initrd are the files the boot loader measured" "$work/out" || fail "no check said: $(cat "$work/out")"
[ "$(pcr11)" != "$Z" ] || fail "PCR 11 not extended"
echo "ok: kernel and initrd that GRUB measured into PCR 9: the log replays, measured"

fresh_tpm
if measure "measure-log = $work/m.log" "$work/initrd-evil.img"; then fail "an initrd GRUB did not load was measured"; fi
evil=$(sha256sum "$work/initrd-evil.img" | cut -d' ' -f1)
good=$(sha256sum "$work/initrd.img" | cut -d' ' -f1)
grep -q "The initrd '$work/initrd-evil.img' is not what the boot loader loaded: sha256 $evil here, .* in PCR 9" "$work/out" \
        || fail "evil initrd message: $(cat "$work/out")"
[ "$(pcr11)" = "$Z" ] || fail "PCR 11 extended despite the refusal"
echo "ok: an initrd other than the one GRUB loaded refused before any extend: $(grep -o 'sha256 [0-9a-f]\{12\}' "$work/out" | head -1)…"
cp "$work/initrd-evil.img" "$work/initrd.img.evil"
mkdir -p "$work/named" && cp "$work/initrd-evil.img" "$work/named/initrd.img"
if measure "measure-log = $work/m.log" "$work/named/initrd.img"; then fail "same-named evil initrd measured"; fi
grep -q "sha256 $evil here, $good in PCR 9 (the boot loader's measurement of that name)" "$work/out" \
        || fail "both digests not named: $(cat "$work/out")"
echo "ok: a same-named initrd: both digests named (here and GRUB's)"

fresh_tpm
tpm2_pcrextend "9:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
if measure "" "$work/initrd.img"; then fail "a log that does not replay was accepted"; fi
grep -q "The firmware event log does not replay: sha256 PCR 9 is" "$work/out" || fail "replay: $(cat "$work/out")"
echo "ok: a log that does not replay against the TPM refused, naming the PCR"

fresh_tpm
measure "" "$work/initrd.img" "$work/none.bin" || fail "auto without a log: $(cat "$work/out")"
grep -q "No firmware event log at" "$work/out" || fail "auto without a log said nothing: $(cat "$work/out")"
if measure "boot-chain = required" "$work/initrd.img" "$work/none.bin"; then fail "required without a log accepted"; fi
grep -q "Failed to read the firmware event log .*boot-chain=required" "$work/out" || fail "required: $(cat "$work/out")"
echo "ok: no firmware log: auto goes on (a direct kernel boot), required refuses"

fresh_tpm no-pcr9
measure "" "$work/initrd-evil.img" || fail "auto with a log without PCR 9 files: $(cat "$work/out")"
grep -q "no boot loader file in PCR 9" "$work/out" || fail "no-pcr9 auto: $(cat "$work/out")"
fresh_tpm no-pcr9
if measure "boot-chain = required" "$work/initrd.img"; then fail "required with no PCR 9 files accepted"; fi
grep -q "measured no file into PCR 9 (boot-chain=required)" "$work/out" || fail "no-pcr9 required: $(cat "$work/out")"
echo "ok: a log without boot loader files (UKI, direct boot): auto goes on after the replay, required refuses"

fresh_tpm
measure "boot-chain = off" "$work/initrd-evil.img" || fail "off: $(cat "$work/out")"
echo "ok: boot-chain=off measures whatever it is given"

fresh_tpm
"$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null reference --event-log "$work/log.bin" --check-tpm --pcrs 4,8,9 >"$work/ref.json" \
        || fail "reference --check-tpm: $(cat "$work/ref.json")"
for p in 4 8 9; do
        tpm2_pcrread "sha256:$p" -o "$work/pcr.bin" >/dev/null
        v=$(xxd -p -c 64 "$work/pcr.bin")
        grep -q "\"$p\":\"$v\"" "$work/ref.json" || fail "reference PCR $p: $(cat "$work/ref.json") vs $v"
done
echo "ok: ephroot reference --check-tpm gives the TPM's PCRs 4, 8 and 9 from the log"
