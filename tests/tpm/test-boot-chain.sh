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
# Then a UKI boot (a PE made here as objcopy lays out a UKI, .sdmagic naming systemd-stub 252): the
# stub's PCR 11 events (name with NUL, then data, described in UTF-16; systemd-stub 252's order) in
# the log and the TPM. `reference --uki` = bookworm's systemd-measure calculate = the log's replay =
# the TPM's PCR 11; ephroot's kernel and initrd matched to .linux and .initrd, PCR 11 after = `predict
# --uki`; another initrd refused naming both digests; a PCR 11 that does not replay refused, systemd's
# enter-initrd after the stub accepted; the sections a stub of version 255 measures (.sbat too; the
# lists of 252, 254 and 257 are checked against their own systemd-measure in cli/test-uki-measure.sh);
# predict and reference refusing files that are not the UKI's or not a UKI, and the UKIs whose
# measurement depends on the machine or the boot menu (.profile, .dtbauto, .efifw).
#   test-boot-chain.sh EPHROOT
set -euo pipefail
EPHROOT=${1:?usage: test-boot-chain.sh EPHROOT}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"
. "$here/../lib/uki.sh"
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

# make-log OUT [no-pcr9|uki]: the log, and on stdout "PCR DIGEST" lines to extend into the TPM. uki:
# a UKI boot's log (the UKI in PCR 4, systemd-stub 252's pairs in PCR 11 in its order: .linux,
# .osrel, .cmdline, .initrd; .sbat is not measured before 254; EV_IPL described by the name in
# UTF-16)
make_log() {
        python3 - "$work" "$@" <<'PY'
import hashlib, struct, sys
work, out = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else ""
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
if mode == "uki":
    ev(4, 0x80000003, b"\0" * 32, hashlib.sha256(open(work + "/uki.efi", "rb").read()).digest())
    for name, f in ((".linux", "vmlinuz"), (".osrel", "osrel"), (".cmdline", "uki-cmdline"), (".initrd", "initrd.img")):
        desc = (name + "\0").encode("utf-16-le")
        ev(11, 0xD, desc, hashlib.sha256(name.encode() + b"\0").digest())
        ev(11, 0xD, desc, file_digest(f))
else:
    ev(4, 0x80000003, b"\0" * 32, authenticode)
if mode == "":
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
grep -q "neither a boot loader measured a file into PCR 9 nor systemd-stub a UKI into PCR 11 (boot-chain=required)" "$work/out" || fail "no-pcr9 required: $(cat "$work/out")"
echo "ok: a log without boot loader files or UKI sections (a direct boot): auto goes on after the replay, required refuses"

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

# ---- A UKI boot: systemd-stub's PCR 11 events instead of GRUB's PCR 9 files ------------------------
printf 'ID=debian\nVERSION_ID="12"\n' >"$work/osrel"
printf 'root=UUID=0b1c ro' >"$work/uki-cmdline"
head -c 1000 /dev/urandom >"$work/sbat"
make_uki "$work/uki.efi" 252.39 .osrel="$work/osrel" .cmdline="$work/uki-cmdline" .linux="$work/vmlinuz" \
        .initrd="$work/initrd.img" .sbat="$work/sbat"
uki_tpm() {
        swtpm_stop || true
        rm -rf "$work/tpm"
        swtpm_start "$work/tpm" sha256
        make_log "$work/uki-log.bin" uki >"$work/extends"
        while read -r p d; do tpm2_pcrextend "$p:sha256=$d"; done <"$work/extends"
}
predict_uki() { # KERNEL INITRD -> JSON of `predict --uki` in $work/uki-predict.json
        "$EPHROOT" --config /dev/null predict --kernel "$1" --initrd "$2" --cmdline-file "$work/cmdline" \
                --uki "$work/uki.efi" --banks sha256 --json >"$work/uki-predict.json" 2>"$work/out"
}

# the stub's part of PCR 11: ephroot's image-only prediction = bookworm's own systemd-measure = the
# log's replay = the TPM's
uki_tpm
stub11=$(pcr11)
"$EPHROOT" --config /dev/null reference --uki "$work/uki.efi" --pcrs 11 >"$work/uki-ref.json" \
        || fail "reference --uki: $(cat "$work/uki-ref.json")"
grep -q "\"11\":\"$stub11\"" "$work/uki-ref.json" || fail "reference --uki $(cat "$work/uki-ref.json"), TPM $stub11"
"$EPHROOT" --config /dev/null reference --event-log "$work/uki-log.bin" --pcrs 11 >"$work/uki-log.json"
grep -q "\"11\":\"$stub11\"" "$work/uki-log.json" || fail "the log's replay $(cat "$work/uki-log.json"), TPM $stub11"
measure_tool=
for m in /usr/lib/systemd/systemd-measure /lib/systemd/systemd-measure; do [ -x "$m" ] && measure_tool=$m && break; done
if [ -n "$measure_tool" ]; then
        sm=$("$measure_tool" calculate --linux="$work/vmlinuz" --osrel="$work/osrel" --cmdline="$work/uki-cmdline" \
                --initrd="$work/initrd.img" --bank=sha256 --phase= | sed -n 's/^11:sha256=//p')
        [ "$sm" = "$stub11" ] || fail "systemd-measure calculate gives $sm, ephroot reference --uki and the TPM $stub11"
        echo "ok: PCR 11 after the stub: ephroot reference --uki = $($measure_tool --version | head -n 1 | cut -d' ' -f1-2)'s systemd-measure calculate = the TPM's ($stub11)"
else
        echo "ok: PCR 11 after the stub: ephroot reference --uki = the log's replay = the TPM's (systemd-measure not installed)"
fi
"$EPHROOT" --config /dev/null reference --uki "$work/uki.efi" --events >"$work/uki-events"
[ "$(awk '{print $4}' "$work/uki-events" | paste -sd' ')" = ".linux .linux .osrel .osrel .cmdline .cmdline .initrd .initrd" ] \
        || fail "stub 252's events: $(cat "$work/uki-events")"
make_uki "$work/uki-255.efi" 255.4 .osrel="$work/osrel" .cmdline="$work/uki-cmdline" .linux="$work/vmlinuz" \
        .initrd="$work/initrd.img" .sbat="$work/sbat"
"$EPHROOT" --config /dev/null reference --uki "$work/uki-255.efi" --events >"$work/uki-events"
[ "$(awk '{print $4}' "$work/uki-events" | paste -sd' ')" = ".linux .linux .osrel .osrel .cmdline .cmdline .initrd .initrd .sbat .sbat" ] \
        || fail "stub 255's events: $(cat "$work/uki-events")"
echo "ok: the sections measured follow the stub's version: 252 skips .sbat, 255 measures it last"

# ephroot on top: the kernel and initrd are the UKI's sections; PCR 11 = predict --uki
measure "measure-log = $work/m.log" "$work/initrd.img" "$work/uki-log.bin" || fail "the UKI's own files refused: $(cat "$work/out")"
grep -q "kernel and initrd are the UKI's .linux and .initrd sections systemd-stub measured" "$work/out" \
        || fail "no UKI check said: $(cat "$work/out")"
predict_uki "$work/vmlinuz" "$work/initrd.img" || fail "predict --uki: $(cat "$work/out")"
grep -q "\"11\":\"$(pcr11)\"" "$work/uki-predict.json" || fail "predict --uki $(cat "$work/uki-predict.json"), TPM $(pcr11)"
echo "ok: kernel and initrd = the UKI's .linux and .initrd: measured, and PCR 11 = ephroot predict --uki ($(pcr11 | cut -c1-16)…)"

uki_tpm
if measure "" "$work/named/initrd.img" "$work/uki-log.bin"; then fail "an initrd other than the UKI's was measured"; fi
grep -q "The initrd '$work/named/initrd.img' is not what the boot loader loaded: sha256 $evil here, $good in PCR 11 (the UKI's .initrd section, as systemd-stub measured it); refusing." "$work/out" \
        || fail "UKI evil initrd: $(cat "$work/out")"
[ "$(pcr11)" = "$stub11" ] || fail "PCR 11 extended despite the refusal"
echo "ok: an initrd other than the UKI's .initrd refused before any extend, naming both digests"

uki_tpm
tpm2_pcrextend "11:sha256=$(printf x | sha256sum | cut -d' ' -f1)"
if measure "" "$work/initrd.img" "$work/uki-log.bin"; then fail "a UKI log that does not replay on PCR 11 was accepted"; fi
grep -q "The firmware event log does not replay: sha256 PCR 11 is $stub11 in the log" "$work/out" || fail "PCR 11 replay: $(cat "$work/out")"
uki_tpm
tpm2_pcrextend "11:sha256=$(printf enter-initrd | sha256sum | cut -d' ' -f1)"
measure "" "$work/initrd.img" "$work/uki-log.bin" || fail "the stub's log with systemd's enter-initrd after it: $(cat "$work/out")"
grep -q "PCR 11 replays with systemd's 'enter-initrd' measured after the stub's" "$work/out" || fail "enter-initrd: $(cat "$work/out")"
echo "ok: PCR 11 must replay (one more extend refused, naming PCR 11; systemd-pcrphase's enter-initrd accepted and said)"

if predict_uki "$work/vmlinuz" "$work/initrd-evil.img"; then fail "predict --uki with an initrd that is not the UKI's"; fi
grep -q "'$work/initrd-evil.img' is not the UKI's .initrd section: ephroot would halt that boot" "$work/out" || fail "predict evil: $(cat "$work/out")"
if "$EPHROOT" --config /dev/null reference --uki "$work/grubx64.efi" --pcrs 11 >/dev/null 2>"$work/out"; then fail "reference --uki on GRUB"; fi
grep -q "not a UKI we accept (no .sdmagic section" "$work/out" || fail "reference --uki on a non-UKI: $(cat "$work/out")"
make_uki "$work/no-linux.efi" 252 .initrd="$work/initrd.img"
if "$EPHROOT" --config /dev/null reference --uki "$work/no-linux.efi" >/dev/null 2>"$work/out"; then fail "a UKI without .linux"; fi
grep -q "no .linux section: not a UKI" "$work/out" || fail "no .linux: $(cat "$work/out")"
make_uki "$work/profile.efi" 257 .linux="$work/vmlinuz" .profile="$work/osrel"
if "$EPHROOT" --config /dev/null reference --uki "$work/profile.efi" >/dev/null 2>"$work/out"; then fail "a multi-profile UKI"; fi
grep -q "a multi-profile UKI (.profile): measured per profile, not predicted" "$work/out" || fail "profile: $(cat "$work/out")"
for s in dtbauto efifw; do
        make_uki "$work/$s.efi" 258 .linux="$work/vmlinuz" ".$s=$work/osrel"
        if "$EPHROOT" --config /dev/null reference --uki "$work/$s.efi" >/dev/null 2>"$work/out"; then fail "a UKI with .$s"; fi
        grep -q "a UKI with .$s: measured as the stub picks it for the machine, not predicted" "$work/out" \
                || fail ".$s: $(cat "$work/out")"
done
head -c 2000 "$work/uki.efi" >"$work/uki-cut.efi"
if "$EPHROOT" --config /dev/null reference --uki "$work/uki-cut.efi" >/dev/null 2>"$work/out"; then fail "a truncated UKI"; fi
grep -q "beyond the end of the file" "$work/out" || fail "truncated UKI: $(cat "$work/out")"
echo "ok: predict --uki refuses files that are not the UKI's sections; reference --uki refuses a non-UKI, a UKI without .linux, a multi-profile UKI, one with .dtbauto or .efifw, a truncated one"
