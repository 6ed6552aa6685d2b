#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot reference` predicting from the image alone (--efi-app, --grub-command,
# --grub-kernel-cmdline; src/ephroot/measure/pe-authenticode.c and boot-predict.c).
#   test-reference-image.sh EPHROOT genuine FIXTURES-DIR
#     Against the genuine firmware logs of the fixtures: the events ephroot predicts before the first
#     EFI application (EV_EFI_ACTION "Calling EFI Application from Boot Option", EV_SEPARATOR) are the
#     ones EDK2-based firmware logged in PCR 4 (GCE Ubuntu 24.04 SEV-SNP, RHEL 8, GCE Ubuntu 21.04,
#     Fedora 37), and with the logged application digests they give the logged PCR 4; the SHA-1-only
#     log's older firmware has no action event (firmware-specific, docs/measurements.md). GRUB's
#     strings of the two upstream-GRUB logs (Ubuntu 24.04: 2.12, Ubuntu 21.04: 2.04), given as
#     --grub-command / --grub-kernel-cmdline, give the logged PCR 8: GRUB hashes the string alone and
#     logs it behind "grub_cmd: " or "kernel_cmdline: " (grub-core/commands/tpm.c,
#     grub_tpm_verify_string(), coreos/grub d6ca0a90cac78f40ea4a04ac6894784c5313cbe9, the same in
#     GRUB 2.06). RHEL 8's GRUB 2.02 logs "grub_cmd " with other digests and is left out.
#   test-reference-image.sh EPHROOT archive
#     The Authenticode digests of Debian's real EFI binaries (grubx64.efi from grub-efi-amd64-signed,
#     shimx64.efi from shim-signed, linuxx64.efi.stub and systemd-bootx64.efi from systemd-boot-efi,
#     the bookworm kernel's vmlinuz, an EFI-stub PE, and a UKI made here from the stub with objcopy)
#     against pesign (`pesign -h -d sha1|sha256`, no
#     padding: firmware hashes the file as it is). Fetched with `apt-get download` into
#     $EPHROOT_CACHE/efi-apps (default /var/cache/ephroot-dev, kept; the kernel is the VM rig's,
#     tests/lib/debian-kernel.sh); without the archive the test skips (77) saying why.
set -euo pipefail

EPHROOT=$(realpath "${1:?usage: test-reference-image.sh EPHROOT genuine FIXTURES-DIR | archive}")
MODE=${2:?}
DIR=${3:-${EPHROOT_CACHE:-/var/cache/ephroot-dev}}
here=$(dirname "$(readlink -f "$0")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
fail() { echo "FAIL: $*" >&2; exit 1; }

# A small PE32+ image with two sections (the prediction of the events around it needs any image).
make_pe() {
        python3 - "$1" <<'PY'
import struct, sys
b = bytearray(0x600)
b[0:2] = b"MZ"; struct.pack_into("<I", b, 0x3C, 0x40); b[0x40:0x44] = b"PE\0\0"
struct.pack_into("<HH", b, 0x44, 0x8664, 1); struct.pack_into("<H", b, 0x54, 240)
struct.pack_into("<H", b, 0x58, 0x20B); struct.pack_into("<II", b, 0x58 + 56, 0x2000, 0x200)
struct.pack_into("<I", b, 0x58 + 108, 16)
s = 0x58 + 240; b[s:s + 5] = b".text"; struct.pack_into("<IIII", b, s + 8, 0x400, 0x1000, 0x400, 0x200)
b[0x200:0x600] = bytes((i * 13) & 0xFF for i in range(0x400))
open(sys.argv[1], "wb").write(b)
PY
}

# events-of LOG PCR: "TYPE DIGEST" of each event of the log in that PCR (sha256), from --events
events_of() { "$EPHROOT" reference --event-log "$1" --events | awk -v p="$2" '$1 == p { print $2, $3 }'; }

genuine() {
        local fix=$DIR n=0 f log_pcr4 mine
        for t in python3; do command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
        [ -d "$fix" ] || { echo "SKIP: genuine fixtures not found at $fix (meson option -Dfixtures=DIR)"; exit 77; }
        make_pe "$work/app.efi"
        "$EPHROOT" reference --efi-app "$work/app.efi" --events | awk '{ print $2, $3 }' | head -n 2 >"$work/prologue"
        [ "$(wc -l <"$work/prologue")" = 2 ] || fail "no prologue predicted: $(cat "$work/prologue")"
        for f in go-tpm-tools-eventlogs/ubuntu-2404-amd-sevsnp.bin go-tpm-tools-eventlogs/rhel8-uefi.bin \
                tpm2-tools-eventlogs/event-gce-ubuntu-2104-log.bin tpm2-tools-eventlogs/event-sd-boot-fedora37.bin; do
                events_of "$fix/$f" 4 >"$work/pcr4"
                head -n 2 "$work/pcr4" | cmp -s - "$work/prologue" \
                        || fail "$f: PCR 4 does not start with the predicted events: $(head -n 2 "$work/pcr4")"
                # the prediction's PCR 4 from the predicted prologue and the log's application digests
                mine=$(python3 - "$work/prologue" "$work/pcr4" <<'PY'
import hashlib, sys
pcr = bytes(32)
prologue = [l.split()[1] for l in open(sys.argv[1])]
apps = [l.split()[1] for l in open(sys.argv[2]) if l.split()[0] == "EV_EFI_BOOT_SERVICES_APPLICATION"]
for d in prologue + apps:
    pcr = hashlib.sha256(pcr + bytes.fromhex(d)).digest()
print(pcr.hex())
PY
)
                log_pcr4=$("$EPHROOT" reference --event-log "$fix/$f" --pcrs 4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcrs"]["sha256"]["4"])')
                [ "$mine" = "$log_pcr4" ] || fail "$f: PCR 4 $log_pcr4 in the log, $mine from the predicted events and its applications"
                echo "ok: $(basename "$f"): PCR 4 = the predicted action and separator, then its $(grep -c APPLICATION "$work/pcr4" || true) application(s)"
                n=$((n + 1))
        done
        "$EPHROOT" reference --event-log "$fix/tpm2-tools-eventlogs/event-uefi-sha1-log.bin" --events --banks sha1 \
                | awk '$1 == 4 { print $2; exit }' | grep -qx EV_SEPARATOR || fail "the SHA-1 log's PCR 4 changed"
        echo "ok: the SHA-1-only log's firmware starts PCR 4 with the separator (no action event): firmware-specific"

        # PCR 8 of the upstream-GRUB logs from their strings
        for f in go-tpm-tools-eventlogs/ubuntu-2404-amd-sevsnp.bin tpm2-tools-eventlogs/event-gce-ubuntu-2104-log.bin; do
                python3 - "$fix/$f" "$work/strings" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
size = struct.unpack_from("<I", b, 28)[0]
spec, off = b[32:32 + size], 32 + size
banks = dict(struct.unpack_from("<HH", spec, 28 + 4 * i) for i in range(struct.unpack_from("<I", spec, 24)[0]))
out = open(sys.argv[2], "wb")
while off < len(b):
    pcr, typ, count = struct.unpack_from("<III", b, off); off += 12
    for _ in range(count):
        off += 2 + banks[struct.unpack_from("<H", b, off)[0]]
    size = struct.unpack_from("<I", b, off)[0]; data = b[off + 4:off + 4 + size]; off += 4 + size
    if pcr != 8 or typ == 3:
        continue
    assert typ == 0xD and data.endswith(b"\0"), (typ, data)
    kind, text = data[:-1].split(b": ", 1)
    out.write({b"grub_cmd": b"command", b"kernel_cmdline": b"kernel-cmdline"}[kind] + b"\0" + text + b"\0")
PY
                args=()
                while IFS= read -r -d '' kind && IFS= read -r -d '' text; do
                        args+=("--grub-$kind" "$text")
                done <"$work/strings"
                mine=$("$EPHROOT" reference "${args[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcrs"]["sha256"]["8"])')
                log_pcr8=$("$EPHROOT" reference --event-log "$fix/$f" --pcrs 8 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcrs"]["sha256"]["8"])')
                [ "$mine" = "$log_pcr8" ] || fail "$f: PCR 8 $log_pcr8 in the log, $mine predicted from its $((${#args[@]} / 2)) strings"
                echo "ok: $(basename "$f"): PCR 8 predicted from its $((${#args[@]} / 2)) GRUB strings = the log's"
        done

        # usage: no log with image inputs, only predictable PCRs, a non-PE refused naming it
        if "$EPHROOT" reference --event-log "$fix/$f" --efi-app "$work/app.efi" >"$work/out" 2>&1; then fail "--event-log with --efi-app accepted"; fi
        grep -q "not both" "$work/out" || fail "log+app: $(cat "$work/out")"
        rc=0; "$EPHROOT" reference --efi-app "$work/app.efi" --pcrs 4,7 >"$work/out" 2>&1 || rc=$?
        [ "$rc" = 2 ] || fail "--pcrs 7 with --efi-app: exit $rc, not 2 (usage)"
        grep -q "PCR 7 cannot be predicted from these inputs" "$work/out" || fail "pcr 7: $(cat "$work/out")"
        head -c 4096 /dev/urandom >"$work/random.efi"
        if "$EPHROOT" reference --efi-app "$work/random.efi" >"$work/out" 2>&1; then fail "a random file accepted as PE"; fi
        grep -q "Failed to compute the Authenticode digest of '$work/random.efi': not a PE/COFF image we accept" "$work/out" \
                || fail "random: $(cat "$work/out")"
        if "$EPHROOT" reference --grub-file "$work" >"$work/out" 2>&1; then fail "a directory hashed"; fi
        grep -q "not a regular file" "$work/out" || fail "directory: $(cat "$work/out")"
        printf 'tpm = none\n' >"$work/none.conf"
        if "$EPHROOT" --config "$work/none.conf" reference --efi-app "$work/app.efi" --check-tpm >"$work/out" 2>&1; then
                fail "--check-tpm without a TPM accepted"
        fi
        grep -q -- "--check-tpm needs a TPM (tpm=none)" "$work/out" || fail "check-tpm tpm=none: $(cat "$work/out")"
        echo "ok: --event-log with image inputs, an unpredictable PCR, a non-PE, a directory and --check-tpm without a TPM refused with their messages"
}

archive() {
        local cache=$DIR/efi-apps f a mine theirs
        command -v pesign >/dev/null || { echo "SKIP: pesign missing (scripts/install-deps)"; exit 77; }
        mkdir -p "$cache"
        if [ ! -e "$cache/.extracted" ]; then
                rm -rf "$cache"/* 2>/dev/null || true
                (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root grub-efi-amd64-signed shim-signed systemd-boot-efi) \
                        >"$work/apt" 2>&1 || { echo "SKIP: no Debian archive (apt-get download failed: $(tail -n 1 "$work/apt"))"; exit 77; }
                for d in "$cache"/*.deb; do dpkg-deb -x "$d" "$cache/root"; done
                touch "$cache/.extracted"
        fi
        . "$here/../lib/debian-kernel.sh"
        debian_kernel_fetch "$DIR" >"$work/kernel" 2>&1 || { echo "SKIP: no Debian kernel ($(tail -n 1 "$work/kernel"))"; exit 77; }
        # a UKI as systemd-stub boots one: the stub with .cmdline, .linux and .initrd sections added
        command -v objcopy >/dev/null || { echo "SKIP: objcopy missing"; exit 77; }
        echo "root=/dev/vda1 ro" >"$work/cmdline.txt"
        head -c 300000 /dev/urandom >"$work/initrd.img"
        objcopy --add-section .cmdline="$work/cmdline.txt" --change-section-vma .cmdline=0x30000 \
                --add-section .linux="$DEBIAN_KERNEL" --change-section-vma .linux=0x2000000 \
                --add-section .initrd="$work/initrd.img" --change-section-vma .initrd=0x3000000 \
                "$cache"/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub "$work/uki.efi"
        for f in "$cache"/root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed "$cache"/root/usr/lib/shim/shimx64.efi.signed \
                "$cache"/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub "$cache"/root/usr/lib/systemd/boot/efi/systemd-bootx64.efi \
                "$DEBIAN_KERNEL" "$work/uki.efi"; do
                [ -f "$f" ] || fail "$f missing from the packages"
                for a in sha1 sha256; do
                        theirs=$(pesign -h -d "$a" -i "$f" | sed -n 's/^hash: //p')
                        mine=$("$EPHROOT" reference --efi-app "$f" --banks "$a" \
                                | python3 -c 'import json,sys; print(json.load(sys.stdin)["pcrs"][sys.argv[1]]["4"])' "$a")
                        # PCR 4 = the two prologue events, then this application
                        want=$(python3 - "$a" "$theirs" <<'PY'
import hashlib, sys
a, app = sys.argv[1], bytes.fromhex(sys.argv[2])
h = lambda b: hashlib.new(a, b).digest()
pcr = bytes(hashlib.new(a).digest_size)
for d in (h(b"Calling EFI Application from Boot Option"), h(bytes(4)), app):
    pcr = h(pcr + d)
print(pcr.hex())
PY
)
                        [ -n "$theirs" ] && [ "$mine" = "$want" ] \
                                || fail "$(basename "$f") $a: pesign $theirs, ephroot's PCR 4 $mine (want $want)"
                done
                theirs=$(pesign -h -d sha256 -i "$f" | sed -n 's/^hash: //p')
                "$EPHROOT" reference --efi-app "$f" --events | tail -n 1 | grep -q " $theirs " \
                        || fail "$(basename "$f"): the event digest is not pesign's $theirs"
                echo "ok: $(basename "$f") ($(stat -c %s "$f") bytes): Authenticode sha1 and sha256 = pesign's ($theirs)"
        done
}

case "$MODE" in
genuine) genuine ;;
archive) archive ;;
*) fail "unknown mode $MODE" ;;
esac
