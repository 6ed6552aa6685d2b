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
# and `ephroot reference --check-tpm` on the same log gives the TPM's PCRs 4, 8, 9; and the same PCRs
# predicted from the files alone (`reference --efi-app --grub-file --grub-command
# --grub-kernel-cmdline --check-tpm`) equal the log's replay and the TPM's. The log follows EDK2 (PCR 7's
# separator, the boot option's action, the separators of 0-6, the application's Authenticode digest,
# here of a PE with a certificate table built by the test and hashed by the test's own ranges) and GRUB
# 2.06 (a string's digest is of the string alone, logged behind "grub_cmd: " or "kernel_cmdline: ";
# a file's digest is of its bytes).
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
printf 'set default=0\n' >"$work/grub.cfg"
# grubx64.efi: a PE32+ image with one section and a certificate table; its Authenticode digest (the
# headers without the checksum and the certificate entry, the section) is computed by make_log
python3 - "$work/grubx64.efi" <<'PY'
import struct, sys
b = bytearray(0x700)
b[0:2] = b"MZ"; struct.pack_into("<I", b, 0x3C, 0x40); b[0x40:0x44] = b"PE\0\0"
struct.pack_into("<HH", b, 0x44, 0x8664, 1); struct.pack_into("<H", b, 0x54, 240)
struct.pack_into("<H", b, 0x58, 0x20B); struct.pack_into("<III", b, 0x58 + 56, 0x2000, 0x200, 0x1234)
struct.pack_into("<I", b, 0x58 + 108, 16); struct.pack_into("<II", b, 0x58 + 112 + 32, 0x600, 0x100)
s = 0x58 + 240; b[s:s + 5] = b".text"; struct.pack_into("<IIII", b, s + 8, 0x400, 0x1000, 0x400, 0x200)
b[0x200:0x700] = bytes((i * 13) & 0xFF for i in range(0x500))
open(sys.argv[1], "wb").write(b)
PY

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
def file_digest(name):
    return hashlib.sha256(open(work + "/" + name, "rb").read()).digest()
def grub_string(prefix, text):
    ev(8, 0xD, prefix + text + b"\0", hashlib.sha256(text).digest())
app = open(work + "/grubx64.efi", "rb").read()
authenticode = hashlib.sha256(app[:0x98] + app[0x9C:0xE8] + app[0xF0:0x200] + app[0x200:0x600]).digest()
ev(0, 0x8, b"EDK II firmware")
ev(7, 0x4, b"\0\0\0\0")
ev(4, 0x80000007, b"Calling EFI Application from Boot Option")
for p in range(7):
    ev(p, 0x4, b"\0\0\0\0")
ev(4, 0x80000003, b"\0" * 32, authenticode)
if not no9:
    ev(9, 0xD, b"(hd0,gpt2)/boot/grub/grub.cfg\0", file_digest("grub.cfg"))
    grub_string(b"grub_cmd: ", b"set default=0")
    grub_string(b"grub_cmd: ", b"linux /boot/vmlinuz root=UUID=0b1c ro")
    ev(9, 0xD, b"(hd0,gpt2)/boot/vmlinuz\0", file_digest("vmlinuz"))
    grub_string(b"kernel_cmdline: ", b"/boot/vmlinuz root=UUID=0b1c ro")
    grub_string(b"grub_cmd: ", b"initrd /boot/initrd.img")
    ev(9, 0xD, b"(hd0,gpt2)/boot/initrd.img\0", file_digest("initrd.img"))
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

# the same PCRs predicted from the files alone, checked against the TPM, equal the log's replay
predict() { # [GRUB.CFG] -> exit status, JSON in $work/predicted.json, messages in $work/out
        "$EPHROOT" --tcti "$SWTPM_TCTI" --config /dev/null reference --efi-app "$work/grubx64.efi" \
                --grub-file "${1:-$work/grub.cfg}" --grub-command "set default=0" \
                --grub-command "linux /boot/vmlinuz root=UUID=0b1c ro" --grub-file "$work/vmlinuz" \
                --grub-kernel-cmdline "/boot/vmlinuz root=UUID=0b1c ro" --grub-command "initrd /boot/initrd.img" \
                --grub-file "$work/initrd.img" --check-tpm >"$work/predicted.json" 2>"$work/out"
}
predict || fail "prediction from the files: $(cat "$work/out")"
[ "$(cat "$work/predicted.json")" = "$(cat "$work/ref.json")" ] \
        || fail "predicted $(cat "$work/predicted.json"), the log replays to $(cat "$work/ref.json")"
echo "ok: PCRs 4, 8, 9 predicted from grubx64.efi, GRUB's files and strings = the log's replay = the TPM's"
printf 'set default=1\n' >"$work/grub-edited.cfg"
if predict "$work/grub-edited.cfg"; then fail "a prediction with another grub.cfg held"; fi
grep -q "The prediction does not hold: sha256 PCR 9 is [0-9a-f]* predicted, [0-9a-f]* in the TPM" "$work/out" \
        || fail "edited grub.cfg: $(cat "$work/out")"
echo "ok: a prediction from another grub.cfg fails --check-tpm naming PCR 9"
