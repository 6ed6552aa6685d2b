#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole boot chain, booted as on an Azure Gen2 VM (issue 14): OVMF with a swtpm, shim and
# Debian's signed GRUB from the OS disk's ESP (tests/vm/lib/image.sh vm_image_efi), GRUB reading
# /boot/grub/grub.cfg and loading the kernel and initrd from the OS disk's /boot. The image builder's
# /etc/ephroot.conf is in the initrd on the disk (appended as a cpio archive, as in vm-lock): enabled,
# lock = yes, overlay on /dev/sda, attest=required against the broker on the host's loopback (as in
# vm-attest-image), boot-chain=required (CASE initrd-off: off). The host's attacks are edits of the
# OS disk that Secure Boot does not see: grub.cfg, and files next to the real ones in /boot.
#   control     1. reference boot (broker policy: AK, PCRs 11 and 12 from `ephroot predict`): the
#                  boot chain check passes, the secret arrives; the guest reports the firmware log
#                  and PCRs 0-15. `ephroot reference` on that log = the guest's PCRs 4, 7, 8, 9.
#               2. a boot against the policy pinning 4,7,8,9 (`ephroot reference`) + 11,12
#                  (`predict`): the secret arrives; PCRs 4-12,15 as predicted.
#   initrd      grub.cfg loads /boot/.host/initrd.img-<kver> (the real initrd plus one more file)
#               while /boot/initrd.img-<kver> is unchanged: ephroot halts in the initramfs naming
#               the initrd and both digests (GRUB's file of the same name), before attesting; no
#               secret.
#   initrd-off  the same attack on an image built with boot-chain = off: the boot reaches the broker,
#               whose policy (the reference of a good boot of this image: the control's log with
#               this image's initrd) refuses; no secret.
#   cmdline     grub.cfg appends ephroot.attest=optional: the lock refuses it, no secret.
#   cmdline-unlocked  the same edit on an image built without the lock (lock = no): ephroot takes
#               attest=optional and attests; the broker, with the policy of a good boot of this image
#               (as initrd-off builds it), refuses on PCR 8 (GRUB measured another command line);
#               PCR 9 (grub.cfg) and 12 (ephroot's command line event) differ too: no secret, and the
#               boot goes on without one, as attest=optional says.
#   kernel      grub.cfg loads /boot/vmlinuz-<kver>.evil (the kernel with bytes appended): Secure
#               Boot (shim's verifier in GRUB) refuses it, nothing boots; no secret.
# The UKI variant: the ESP holds only a UKI at \EFI\BOOT\BOOTX64.EFI (Debian 12's systemd-stub with
# .linux, .osrel, .cmdline and .initrd made by objcopy from the disk's kernel and initrd), which OVMF
# starts directly; systemd-stub measures its sections into PCR 11. OVMF runs without Secure Boot
# (the UKI is not signed by a key in db: OVMF_CODE_4M.fd, OVMF_VARS_4M.fd).
#   uki-control     one boot against a policy predicted from the image alone: PCR 4 (`ephroot
#                   reference --efi-app` on the UKI, then on its kernel, which the stub starts with
#                   LoadImage()), 11 (`ephroot predict --uki`), 12 (`predict`):
#                   the chain check passes (kernel and initrd = the .linux and .initrd the stub
#                   measured), the secret arrives; PCRs 4, 11, 12, 15 as predicted, and `ephroot
#                   reference` on the guest's log = its PCRs 4, 7, 8, 9.
#   uki-initrd      the host rebuilds the UKI with another .initrd while /boot/initrd.img-<kver> is
#                   unchanged: ephroot halts naming the initrd and both digests (PCR 11); no secret.
#   uki-initrd-off  the same on an image built with boot-chain = off: the broker, with the policy
#                   of uki-control, refuses (PCRs 4 and 11 differ); no secret.
#   uki-stub257     uki-control with Debian 13's systemd-stub (systemd-boot-efi 257, fetched once with
#                   tests/lib/debian-debs.sh) and a .uname section: the stub measures .uname and its
#                   own .sbat as well, which `predict --uki` takes from the stub's release in .sdmagic;
#                   the stub's PCR 11 events in the guest's log are the predicted ones, one by one.
# Every boot's time is printed (OVMF under TCG is slow).
#   test-vm-chain.sh CASE SRCDIR BUILDROOT EPHROOT EPHROOT-KBS
set -u
CASE=${1:?usage: test-vm-chain.sh CASE SRCDIR BUILDROOT EPHROOT EPHROOT-KBS}
shift
KBS=$(readlink -f "${4:?usage: test-vm-chain.sh CASE SRCDIR BUILDROOT EPHROOT EPHROOT-KBS}")
. "$(dirname "$0")/lib/checks.sh"
command -v cpio >/dev/null || { echo "SKIP: cpio missing" >&2; exit 77; }
command -v busybox >/dev/null || { echo "SKIP: busybox (nc) not found" >&2; exit 77; }
[ -r /usr/share/OVMF/OVMF_CODE_4M.fd ] || { echo "SKIP: OVMF (package ovmf) not installed" >&2; exit 77; }
vm_test_init "chain-$CASE" "$1" "$2" "$3"
vm_image_efi
rc=$?
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "FAIL: the EFI image could not be made" >&2; exit 1; }
echo "EFI binaries: $(paste -sd';' "$VM_EFI_DIR/versions")"

KBS_PID=
cleanup() { [ -n "$KBS_PID" ] && kill "$KBS_PID" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
SHA0=0000000000000000000000000000000000000000000000000000000000000000
console_has() { tr -d '\r' <"$1/serial.log" | grep -aqF -- "$2"; }
pcr_nonzero() { local v; v=$(vm_get "$1" "pcr.sha256.$2") && [ -n "$v" ] && [ "$v" != "$SHA0" ]; }
pcr_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcrs"]["sha256"][sys.argv[2]])' "$1" "$2"; }

# The vTPM's state, made once so the broker can trust its AK.
tpm=$VM_WORK/tpm0
mkdir -p "$tpm/state"
swtpm_setup --tpm2 --tpmstate "$tpm/state" --pcr-banks sha256 --config /dev/null >"$tpm/setup.log" 2>&1 ||
        { cat "$tpm/setup.log" >&2; echo "FAIL: swtpm_setup" >&2; exit 1; }
swtpm_start "$tpm" || { echo "FAIL: swtpm" >&2; exit 1; }
AK=$("$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null)
swtpm_stop
rm -f "$tpm/state/"*.lock "$tpm/swtpm.pid" 2>/dev/null
[ -n "$AK" ] || { echo "FAIL: no AK from ephroot attest --print-ak" >&2; exit 1; }
res=$VM_WORK/res
mkdir -p "$res/default/key" && head -c 32 /dev/urandom >"$res/default/key/disk"
want=$(sha256sum <"$res/default/key/disk" | cut -c1-64)

# broker_start PCRS-JSON: the broker with one policy (the AK, and PCRS-JSON's sha256 values if given).
broker_start() {
        local pcrs=${1:-}
        [ -n "$KBS_PID" ] && { kill "$KBS_PID"; wait "$KBS_PID" 2>/dev/null; KBS_PID=; }
        python3 - "$AK" "$pcrs" >"$VM_WORK/policy.json" <<'PY'
import json, sys
p = {"name": "vm", "tee": ["tpm"], "trusted_aks": [sys.argv[1]], "resources": ["default/key/*"]}
if sys.argv[2]:
    p["pcrs"] = json.load(open(sys.argv[2]))["pcrs"]
print(json.dumps({"policies": [p]}))
PY
        echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$res\",\"policy\":\"$VM_WORK/policy.json\"}" >"$VM_WORK/kbs.json"
        : >"$VM_WORK/kbs.log"
        "$KBS" --config "$VM_WORK/kbs.json" >"$VM_WORK/kbs.log" 2>&1 &
        KBS_PID=$!
        PORT=
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$VM_WORK/kbs.log")
                [ -n "$PORT" ] && break
                sleep 0.05
        done
        [ -n "$PORT" ] || { cat "$VM_WORK/kbs.log" >&2; echo "FAIL: the broker did not start" >&2; exit 1; }
        printf '#!/bin/sh\nexec busybox nc 127.0.0.1 %s 2>/dev/null\n' "$PORT" >"$VM_WORK/fwd.sh"
        chmod +x "$VM_WORK/fwd.sh"
}

# The image builder's configuration, in the initrd on the disk.
boot_chain=required
case "$CASE" in *-off) boot_chain=off ;; esac
lock=yes
[ "$CASE" = cmdline-unlocked ] && lock=no
mkdir -p "$VM_WORK/conf/etc"
cat >"$VM_WORK/conf/etc/ephroot.conf" <<CONF
enabled = yes
lock = $lock
device = /dev/sda
mode = overlay
failure-action = poweroff
boot-chain = $boot_chain
attest = required
kbs-url = http://10.0.2.100:8080
kbs-insecure = yes
secret.disk = default/key/disk
CONF
# append_cpio FILE DIR: DIR's tree appended to FILE as a newc archive (the kernel unpacks
# concatenated archives in order; an uncompressed one must start 4-byte aligned).
append_cpio() {
        truncate -s "$(( ($(stat -c %s "$1") + 511) / 512 * 512 ))" "$1"
        (cd "$2" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$1"
}
INITRD=$VM_WORK/initrd.img
cp "$VM_INITRD" "$INITRD" && append_cpio "$INITRD" "$VM_WORK/conf" || { echo "FAIL: initrd" >&2; exit 1; }
KVER_INITRD=/boot/initrd.img-$VM_KVER
KVER_KERNEL=/boot/vmlinuz-$VM_KVER
# The host's initrd: the same name in another directory, so ephroot names GRUB's digest of it too.
EVIL_INITRD=/boot/.host/initrd.img-$VM_KVER
APPEND="ip=dhcp"

# The OS disk: the EFI image, this test's initrd in /boot, GRUB's configuration.
DISK=$VM_WORK/os.img
cp --sparse=always "$VM_EFI_OS_IMAGE" "$DISK" &&
        vm_os_image_put "$DISK" "$INITRD" "$KVER_INITRD" || { echo "FAIL: writing the initrd into the image" >&2; exit 1; }
grub_cfg() { vm_grub_cfg "$@" >"$VM_WORK/grub.cfg" && vm_os_image_put "$DISK" "$VM_WORK/grub.cfg" /boot/grub/grub.cfg; }

export VM_FIRMWARE=ovmf VM_OS_IMAGE=$DISK VM_TPM_STATE=$tpm/state
export VM_QEMU_ARGS="-netdev user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:$VM_WORK/fwd.sh -device virtio-net-pci,netdev=n0,romfile="
boot() {
        local out=$1
        vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
        VM_RESOURCE_DISK=$VM_WORK/resource.img vm_boot "$out"
        local grub_ms fw="OVMF and the UKI"
        grub_ms=$(sed -n 's/^grub_ms=//p' "$out/boot.env")
        [ -n "$grub_ms" ] && fw="OVMF, shim and GRUB; the GRUB banner at $grub_ms ms"
        echo "   boot $(basename "$out"): $(sed -n 's/^ms=//p' "$out/boot.env") ms from QEMU's start to its end; the kernel's first line at $(sed -n 's/^kernel_ms=//p' "$out/boot.env") ms ($fw; under TCG)"
        tr -d '\r' <"$out/serial.log" | grep -a -e '^ephroot: ' -e 'Boot chain' -e 'boot loader' | sed 's/^/   console: /'
}
# PREDICT FILE: `ephroot predict` for the disk's kernel, INITRD and the command line GRUB gives.
predict() {
        "$EPHROOT" predict --kernel "$VM_KERNEL" --initrd "${2:-$INITRD}" --cmdline "$VM_CMDLINE" --banks sha256 --json >"$1"
}
export VM_CMDLINE="BOOT_IMAGE=$KVER_KERNEL $VM_CMDLINE_BASE $APPEND"

# The secret arrived and the chain check passed in a boot through OVMF and GRUB.
check_secret() {
        local out=$1
        vm_check_reported "$out"
        check "the boot went through OVMF and GRUB (PCR 9 read in the guest, not zero)" pcr_nonzero "$out" 9
        check "ephroot's boot-chain check passed (log replayed, kernel and initrd are GRUB's)" \
                console_has "$out" "kernel and initrd are the files the boot loader measured"
        expect "$out" secrets.names disk
        expect "$out" secret.disk.sha256 "$want"
        check "the broker released the secret" grep -q released "$VM_WORK/kbs.log"
}

# The guest's firmware log, replayed by `ephroot reference` on the host, gives the guest's PCRs.
reference_of() {
        local out=$1 pcr
        vm_blob "$out" firmware_log "$out/firmware.log" || { fail "no firmware log in the report"; return 1; }
        "$EPHROOT" reference --event-log "$out/firmware.log" --pcrs 4,7,8,9 >"$out/reference.json" ||
                { fail "ephroot reference failed on the guest's log"; return 1; }
        for pcr in 4 7 8 9; do
                check "PCR $pcr read in the guest = ephroot reference of its firmware log ($(pcr_of "$out/reference.json" "$pcr"))" \
                        [ "$(vm_get "$out" "pcr.sha256.$pcr")" = "$(pcr_of "$out/reference.json" "$pcr")" ]
        done
}

# A policy: PCRs 4,7,8,9 of REFERENCE-JSON with PREDICT-JSON's 11 and 12.
policy_of() {
        python3 - "$1" "$2" >"$3" <<'PY'
import json, sys
ref, pred = (json.load(open(f))["pcrs"]["sha256"] for f in sys.argv[1:3])
print(json.dumps({"pcrs": {"sha256": {**{k: ref[k] for k in ("4", "7", "8", "9")},
                                      **{k: pred[k] for k in ("11", "12")}}}}))
PY
}

# The UKI variant: uki_make OUT INITRD: a UKI of systemd-stub (UKI_STUB, default Debian 12's) with
# this image's kernel, INITRD, the command line, an os-release and, when UKI_UNAME is set, a .uname
# with the kernel's release (objcopy, as the systemd docs lay out sections: each at its own address
# after the stub's, relative to the stub's ImageBase).
UKI_CMDLINE="$VM_CMDLINE_BASE $APPEND"
UKI_STUB=$VM_EFI_DIR/linuxx64.efi.stub
UKI_UNAME=
uki_make() {
        local out=$1 initrd=$2 kend base uname=()
        printf '%s' "$UKI_CMDLINE" >"$VM_WORK/uki-cmdline"
        printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >"$VM_WORK/uki-osrel"
        base=$((0x$(objdump -p "$UKI_STUB" | awk '$1 == "ImageBase" { print $2 }')))
        if [ -n "$UKI_UNAME" ]; then
                printf '%s' "$VM_KVER" >"$VM_WORK/uki-uname"
                uname=(--add-section .uname="$VM_WORK/uki-uname" --change-section-vma .uname=$((base + 0x38000)))
        fi
        kend=$(( (0x2000000 + $(stat -c %s "$VM_KERNEL") + 0x100000) / 0x100000 * 0x100000 ))
        objcopy --add-section .osrel="$VM_WORK/uki-osrel" --change-section-vma .osrel=$((base + 0x20000)) \
                --add-section .cmdline="$VM_WORK/uki-cmdline" --change-section-vma .cmdline=$((base + 0x30000)) \
                "${uname[@]}" \
                --add-section .linux="$VM_KERNEL" --change-section-vma .linux=$((base + 0x2000000)) \
                --add-section .initrd="$initrd" --change-section-vma .initrd=$((base + kend)) \
                "$UKI_STUB" "$out"
}
# uki_disk OUT UKI: a copy of the EFI image whose ESP (partition 15, grown to fit) holds only UKI as
# \EFI\BOOT\BOOTX64.EFI, the path the firmware boots from a disk without boot entries. (dd without
# conv=sparse: the new FAT's zeros must overwrite the old ESP; with it, the old FAT showed through
# and systemd-stub crashed reading the ESP, a #GP in LibGetVariableAndSize.)
uki_disk() {
        local out=$1 uki=$2 start mib esp=$VM_WORK/uki-esp.fat
        cp --sparse=always "$DISK" "$out" || return 1
        start=$(sfdisk -d "$out" 2>/dev/null | sed -n 's/^[^ ]*15 : start= *\([0-9]*\),.*/\1/p')
        [ -n "$start" ] || return 1
        mib=$(( $(stat -c %s "$uki") / 1048576 + 40 ))
        truncate -s "$(( start * 512 + (mib + 1) * 1048576 ))" "$out"
        { sfdisk -d "$out" 2>/dev/null | grep -v -e '^last-lba:' -e '^[^ ]*15 :'
          printf '%s15 : start=%d, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' \
                "$out" "$start" "$(( mib * 2048 ))"; } | sfdisk -q "$out" 2>/dev/null || return 1
        rm -f "$esp" && truncate -s "${mib}M" "$esp" && mkfs.vfat -F 32 -n ESP "$esp" >/dev/null &&
                mmd -i "$esp" ::/EFI ::/EFI/BOOT && mcopy -i "$esp" "$uki" ::/EFI/BOOT/BOOTX64.EFI &&
                dd if="$esp" of="$out" bs=512 seek="$start" conv=notrunc status=none
        local rc=$?
        rm -f "$esp"
        return $rc
}
# The policy of a good boot of the UKI image, from the image alone: PCR 4 as OVMF measures the UKI
# (no Secure Boot: no shim) and then the kernel, which systemd-stub 252 starts with LoadImage() (its
# .linux section: the disk's kernel; UKI_PCR4_KERNEL=no for a stub that does not), 11 as the stub and
# then ephroot measure, 12 from `predict`.
UKI_PCR4_KERNEL=yes
uki_policy() {
        local uki=$1 out=$2 kernel=()
        [ "$UKI_PCR4_KERNEL" = yes ] && kernel=(--efi-app "$VM_KERNEL")
        "$EPHROOT" reference --efi-app "$uki" "${kernel[@]}" --pcrs 4 >"$VM_WORK/uki-ref4.json" &&
                "$EPHROOT" predict --kernel "$VM_KERNEL" --initrd "$INITRD" --cmdline "$UKI_CMDLINE" --uki "$uki" \
                        --banks sha256 --json >"$VM_WORK/uki-predict.json" &&
                python3 - "$VM_WORK/uki-ref4.json" "$VM_WORK/uki-predict.json" >"$out" <<'PY'
import json, sys
ref, pred = (json.load(open(f))["pcrs"]["sha256"] for f in sys.argv[1:3])
print(json.dumps({"pcrs": {"sha256": {"4": ref["4"], "11": pred["11"], "12": pred["12"]}}}))
PY
}
uki_boot() {
        local disk=$1 out=$2
        VM_OS_IMAGE=$disk VM_CMDLINE=$UKI_CMDLINE VM_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd \
                VM_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd boot "$out"
}

# good_policy OUT: the policy a good boot of this image gives (4, 7, 8, 9 and 11, 12): the control's
# firmware log, whose PCR 9 has the control's initrd, with this image's initrd in its place, through
# `ephroot reference`; `predict` for this image's initrd and GRUB's command line.
good_policy() {
        local ref=$VM_BUILDROOT/vm-tests/chain-control/reference
        [ -s "$ref/firmware.log" ] || { echo "SKIP: run vm-chain-control first (its firmware log is the reference)" >&2; exit 77; }
        python3 - "$ref/firmware.log" "$(sha256sum <"$ref/../initrd.img" | cut -c1-64)" "$(sha256sum <"$INITRD" | cut -c1-64)" \
                >"$VM_WORK/good.log" <<'PY'
import sys
log, old, new = open(sys.argv[1], "rb").read(), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
assert log.count(old) == 1, "the control's initrd digest is not once in its log"
sys.stdout.buffer.write(log.replace(old, new))
PY
        "$EPHROOT" reference --event-log "$VM_WORK/good.log" --pcrs 4,7,8,9 >"$VM_WORK/reference.json" &&
                predict "$VM_WORK/predict.json" &&
                policy_of "$VM_WORK/reference.json" "$VM_WORK/predict.json" "$1" ||
                { echo "FAIL: the policy" >&2; exit 1; }
}

# check_failure_event OUT PCR11-BEFORE: the TPM the guest left (VM_TPM_KEEP: QEMU killed at
# ephroot's "poweroff in", swtpm's volatile state kept and read on the host) has the failure event
# "ephroot-failure:v1 phase=measure" once in each of ephroot's PCRs and nothing of ephroot's else:
# 11 = PCR11-BEFORE (the firmware's part) extended by it, 12 and 15 = zeros extended by it.
check_failure_event() {
        local out=$1 before=$2 want
        vm_tpm_pcrs "$out" sha256 11,12,15 >"$out/tpm-pcrs.txt" || { fail "the TPM's state was not kept ($(cat "$out/tpm/keep.log" 2>/dev/null))"; return; }
        want=$(python3 - "$before" <<'PY'
import hashlib, sys
h = hashlib.sha256(b"ephroot-failure:v1 phase=measure").digest()
ext = lambda v: hashlib.sha256(v + h).hexdigest()
print("11", ext(bytes.fromhex(sys.argv[1])))
print("12", ext(bytes(32)))
print("15", ext(bytes(32)))
PY
)
        check "the failure event is in the TPM the guest left: PCRs 11, 12, 15 = the firmware's values extended by H(\"ephroot-failure:v1 phase=measure\") ($(awk '{printf "%s %.12s… ", $1, $2}' "$out/tpm-pcrs.txt"))" \
                [ "$(cat "$out/tpm-pcrs.txt")" = "$want" ]
}

# A boot that GRUB started and ephroot stopped in the initramfs, before attesting.
check_halted() {
        local out=$1 what=$2
        check "the firmware boot reached the kernel (started by GRUB, or the UKI)" console_has "$out" "Linux version"
        vm_check_failed_closed "$out" "$what"
        check "no 'Failed to measure the failure event' on the console" \
                sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'Failed to measure the failure event'"
        check_failure_event "$out" "${3:-$SHA0}"
        check "no attestation was tried (no attest phase line from ephroot, nothing asked of the broker)" \
                sh -c "! grep -q released '$VM_WORK/kbs.log' && ! tr -d '\r' <'$out/serial.log' | grep -aq '^ephroot: attest '"
}

case "$CASE" in
control)
        grub_cfg "$APPEND" || { echo "FAIL: grub.cfg" >&2; exit 1; }
        predict "$VM_WORK/predict.json" || { echo "FAIL: predict" >&2; exit 1; }
        # 1. The reference boot: the policy pins ephroot's PCRs only.
        python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(json.dumps({"pcrs":{"sha256":{k:p["pcrs"]["sha256"][k] for k in ("11","12")}}}))' \
                "$VM_WORK/predict.json" >"$VM_WORK/pcrs-11-12.json"
        broker_start "$VM_WORK/pcrs-11-12.json"
        out=$VM_WORK/reference
        boot "$out"
        check_secret "$out"
        reference_of "$out" || vm_test_done
        VM_INITRD=$INITRD vm_check_pcrs "$out" sha256
        check "PCR 7 (Secure Boot state and the certificates that verified shim and GRUB) is not zero" pcr_nonzero "$out" 7
        # 2. The policy pinning the chain.
        policy_of "$out/reference.json" "$VM_WORK/predict.json" "$VM_WORK/chain.json"
        broker_start "$VM_WORK/chain.json"
        out=$VM_WORK/chain
        boot "$out"
        check_secret "$out"
        # (11 is the policy's value extended by leave-initrd: vm_check_pcrs below.)
        for pcr in 4 7 8 9 12; do
                check "PCR $pcr in the second boot = the policy's value" \
                        [ "$(vm_get "$out" "pcr.sha256.$pcr")" = "$(pcr_of "$VM_WORK/chain.json" "$pcr")" ]
        done
        VM_INITRD=$INITRD vm_check_pcrs "$out" sha256
        ;;
initrd | initrd-off)
        # The host's initrd: the real one (this image's) with one more file.
        mkdir -p "$VM_WORK/evil/etc"
        echo "copy /run/ephroot/secrets to the OS disk" >"$VM_WORK/evil/etc/host-was-here"
        cp "$INITRD" "$VM_WORK/initrd.evil" && append_cpio "$VM_WORK/initrd.evil" "$VM_WORK/evil" &&
                vm_os_image_put "$DISK" "$VM_WORK/initrd.evil" "$EVIL_INITRD" &&
                grub_cfg "$APPEND" "$KVER_KERNEL" "$EVIL_INITRD" || { echo "FAIL: the host's edit" >&2; exit 1; }
        good=$(sha256sum <"$INITRD" | cut -c1-64)
        evil=$(sha256sum <"$VM_WORK/initrd.evil" | cut -c1-64)
        if [ "$CASE" = initrd ]; then
                broker_start ""
                out=$VM_WORK/boot
                VM_TPM_KEEP=yes VM_STOP_ON="ephroot: poweroff in" boot "$out"
                check_halted "$out" "initrd.img-$VM_KVER' is not what the boot loader loaded: sha256 $good here, $evil in PCR 9"
        else
                good_policy "$VM_WORK/chain.json"
                broker_start "$VM_WORK/chain.json"
                out=$VM_WORK/boot
                boot "$out"
                check "boot-chain=off: ephroot did not check (no boot-chain line)" \
                        sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'not what the boot loader loaded'"
                vm_check_failed_closed "$out" "PCR values differ from the policy"
                check "the broker refused: PCR values differ" grep -q "PCR values differ" "$VM_WORK/kbs.log"
                check "the broker released nothing" sh -c "! grep -q released '$VM_WORK/kbs.log'"
        fi
        ;;
cmdline)
        grub_cfg "$APPEND ephroot.attest=optional" || { echo "FAIL: grub.cfg" >&2; exit 1; }
        broker_start ""
        out=$VM_WORK/boot
        # The configuration is refused, so ephroot halts (its failure action is not known): QEMU is
        # stopped as soon as the console says so.
        VM_STOP_ON="ephroot: halting." VM_DEADLINE=300 boot "$out"
        lines=$(tr -d '\r' <"$out/serial.log" | grep -a 'ephroot: boot failed:' | head -n 1)
        check "the failure line names 'attest' as locked" \
                grep -qF "kernel command line: Setting 'attest' is locked by the configuration file (lock = yes)" <<<"$lines"
        check "no report line: the booted system was never reached" [ ! -s "$out/report" ]
        vm_check_never_switched "$out"
        check "the broker released nothing" sh -c "! grep -q released '$VM_WORK/kbs.log'"
        ;;
cmdline-unlocked)
        grub_cfg "$APPEND" && good_policy "$VM_WORK/chain.json" &&
                grub_cfg "$APPEND ephroot.attest=optional" || { echo "FAIL: grub.cfg" >&2; exit 1; }
        broker_start "$VM_WORK/chain.json"
        out=$VM_WORK/boot
        VM_CMDLINE="$VM_CMDLINE ephroot.attest=optional" boot "$out"
        vm_check_reported "$out"
        check "the broker refused, naming PCR 8 (GRUB's commands and the kernel command line)" \
                grep -q "PCR 8 of the evidence is [0-9a-f]*: not among" "$VM_WORK/kbs.log"
        check "PCR 8 read in the guest differs from the policy's" \
                [ "$(vm_get "$out" pcr.sha256.8)" != "$(pcr_of "$VM_WORK/chain.json" 8)" ]
        check "PCR 12 read in the guest (ephroot's command line event) differs from the policy's" \
                [ "$(vm_get "$out" pcr.sha256.12)" != "$(pcr_of "$VM_WORK/chain.json" 12)" ]
        check "PCR 9 read in the guest differs too (grub.cfg is a file GRUB read)" \
                [ "$(vm_get "$out" pcr.sha256.9)" != "$(pcr_of "$VM_WORK/chain.json" 9)" ]
        check "PCRs 4 and 7 equal the policy's (the same shim, GRUB and Secure Boot state)" sh -c "
                [ '$(vm_get "$out" pcr.sha256.4)' = '$(pcr_of "$VM_WORK/chain.json" 4)' ] &&
                [ '$(vm_get "$out" pcr.sha256.7)' = '$(pcr_of "$VM_WORK/chain.json" 7)' ]"
        check "the broker released nothing" sh -c "! grep -q released '$VM_WORK/kbs.log'"
        check "no secret in the booted system (attest=optional: the boot went on without one)" \
                [ -z "$(vm_get "$out" secrets.names)" ]
        ;;
kernel)
        # The kernel with bytes appended: its signature no longer covers it, so with Secure Boot on
        # shim's verifier (GRUB's shim_lock) refuses it and GRUB boots nothing. (A kernel Debian
        # signed, under this kernel's name in another place, would reach ephroot, which halts as
        # in the initrd case; the rig has no second signed kernel.)
        cp "$VM_KERNEL" "$VM_WORK/vmlinuz.evil" && printf 'host was here' >>"$VM_WORK/vmlinuz.evil" &&
                vm_os_image_put "$DISK" "$VM_WORK/vmlinuz.evil" "$KVER_KERNEL.evil" &&
                grub_cfg "$APPEND" "$KVER_KERNEL.evil" "$KVER_INITRD" || { echo "FAIL: the host's edit" >&2; exit 1; }
        broker_start ""
        out=$VM_WORK/boot
        VM_STOP_ON="Failed to boot both default and fallback entries" VM_DEADLINE=300 boot "$out"
        check "GRUB refused the kernel: 'bad shim signature' (Secure Boot)" console_has "$out" "error: bad shim signature"
        check "stopped at GRUB, before the deadline" grep -qx 'stopped_on=yes' "$out/boot.env"
        check "no kernel started" sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'Linux version'"
        check "the broker released nothing" sh -c "! grep -q released '$VM_WORK/kbs.log'"
        ;;
uki-control | uki-stub257)
        command -v objcopy >/dev/null || { echo "SKIP: objcopy (binutils) missing" >&2; exit 77; }
        if [ "$CASE" = uki-stub257 ]; then
                stub_dir=$(vm_cache_dir)/stub-trixie
                vm_with_lock "$(vm_cache_dir)/.lock-stub-trixie" debian_debs_fetch "$stub_dir" "$VM_MIRROR" trixie \
                        systemd-boot-efi || { echo "FAIL: Debian 13's systemd-boot-efi could not be fetched" >&2; exit 1; }
                UKI_STUB=$stub_dir/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub UKI_UNAME=yes
                echo "   stub: $(cat "$stub_dir/versions")"
        fi
        uki_make "$VM_WORK/uki.efi" "$INITRD" && uki_disk "$VM_WORK/os-uki.img" "$VM_WORK/uki.efi" &&
                uki_policy "$VM_WORK/uki.efi" "$VM_WORK/chain.json" || { echo "FAIL: the UKI image or its policy" >&2; exit 1; }
        echo "   UKI: $(stat -c %s "$VM_WORK/uki.efi") bytes; policy $(cat "$VM_WORK/chain.json")"
        broker_start "$VM_WORK/chain.json"
        out=$VM_WORK/boot
        uki_boot "$VM_WORK/os-uki.img" "$out"
        vm_check_reported "$out"
        check "ephroot's boot-chain check passed on systemd-stub's PCR 11 events" \
                console_has "$out" "kernel and initrd are the UKI's .linux and .initrd sections systemd-stub measured"
        check "no GRUB ran (PCR 8 read in the guest is zero)" [ "$(vm_get "$out" pcr.sha256.8)" = "$SHA0" ]
        expect "$out" secrets.names disk
        expect "$out" secret.disk.sha256 "$want"
        check "the broker released the secret" grep -q released "$VM_WORK/kbs.log"
        reference_of "$out" || vm_test_done
        for pcr in 4 12; do
                check "PCR $pcr in the guest = the image-only policy's ($(pcr_of "$VM_WORK/chain.json" "$pcr"))" \
                        [ "$(vm_get "$out" "pcr.sha256.$pcr")" = "$(pcr_of "$VM_WORK/chain.json" "$pcr")" ]
        done
        # PCR 11: the firmware log's part (the stub's events) replayed by `ephroot reference`, then
        # ephroot's own log on top; the prediction for it is checked by vm_check_pcrs.
        "$EPHROOT" reference --event-log "$out/firmware.log" --pcrs 11 >"$out/stub11.json" ||
                fail "ephroot reference --pcrs 11 on the guest's log"
        check "the guest's firmware log has systemd-stub's PCR 11 events" \
                [ "$(pcr_of "$out/stub11.json" 11)" != "$SHA0" ]
        # ... and they are, one by one, the events `reference --uki` predicts from the UKI alone
        "$EPHROOT" reference --uki "$VM_WORK/uki.efi" --events >"$out/uki-events" || fail "reference --uki --events"
        "$EPHROOT" reference --event-log "$out/firmware.log" --events >"$out/firmware-events" || fail "reference --events"
        awk '$1 == 11 { print $3 }' "$out/uki-events" >"$out/uki-digests.want"
        awk '$1 == 11 && $2 == "EV_IPL" { print $3 }' "$out/firmware-events" >"$out/uki-digests.got"
        check "the stub's $(wc -l <"$out/uki-digests.got") PCR 11 events are the $(wc -l <"$out/uki-digests.want") predicted from the UKI, in order ($(awk '{ print $4 }' "$out/uki-events" | uniq | paste -sd' '))" \
                cmp -s "$out/uki-digests.want" "$out/uki-digests.got"
        if [ "$CASE" = uki-stub257 ]; then
                check "stub 257: among them .uname and its own .sbat" \
                        sh -c "grep -q ' [.]uname\$' '$out/uki-events' && grep -q ' [.]sbat\$' '$out/uki-events'"
        fi
        # In the booted system, Debian 12's systemd-pcrphase (started because the stub ran) adds "sysinit"
        # and "ready" to PCR 11 after ephroot's "leave-initrd".
        VM_INITRD=$INITRD VM_UKI=$VM_WORK/uki.efi VM_PCR11_START=$(pcr_of "$out/stub11.json" 11) VM_PCR11_PHASES="sysinit|sysinit ready" \
                vm_check_pcrs "$out" sha256
        ;;
uki-initrd | uki-initrd-off)
        command -v objcopy >/dev/null || { echo "SKIP: objcopy (binutils) missing" >&2; exit 77; }
        mkdir -p "$VM_WORK/evil/etc"
        echo "copy /run/ephroot/secrets to the OS disk" >"$VM_WORK/evil/etc/host-was-here"
        cp "$INITRD" "$VM_WORK/initrd.evil" && append_cpio "$VM_WORK/initrd.evil" "$VM_WORK/evil" &&
                uki_make "$VM_WORK/uki.efi" "$INITRD" && uki_policy "$VM_WORK/uki.efi" "$VM_WORK/chain.json" &&
                uki_make "$VM_WORK/uki-evil.efi" "$VM_WORK/initrd.evil" &&
                uki_disk "$VM_WORK/os-uki.img" "$VM_WORK/uki-evil.efi" || { echo "FAIL: the host's UKI" >&2; exit 1; }
        good=$(sha256sum <"$INITRD" | cut -c1-64)
        evil=$(sha256sum <"$VM_WORK/initrd.evil" | cut -c1-64)
        out=$VM_WORK/boot
        if [ "$CASE" = uki-initrd ]; then
                broker_start ""
                VM_TPM_KEEP=yes VM_STOP_ON="ephroot: poweroff in" uki_boot "$VM_WORK/os-uki.img" "$out"
                "$EPHROOT" reference --uki "$VM_WORK/uki-evil.efi" --pcrs 11 >"$VM_WORK/stub-evil.json" || fail "reference --uki"
                check_halted "$out" "initrd.img-$VM_KVER' is not what the boot loader loaded: sha256 $good here, $evil in PCR 11 (the UKI's .initrd section" \
                        "$(pcr_of "$VM_WORK/stub-evil.json" 11)"
        else
                broker_start "$VM_WORK/chain.json"
                uki_boot "$VM_WORK/os-uki.img" "$out"
                check "boot-chain=off: ephroot did not check (no boot-chain line)" \
                        sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'not what the boot loader loaded'"
                vm_check_failed_closed "$out" "PCR values differ from the policy"
                check "the broker refused: PCR values differ" grep -q "PCR values differ" "$VM_WORK/kbs.log"
                check "the broker names PCR 4 (the host's UKI is another EFI application)" \
                        grep -q "PCR 4 of the evidence is [0-9a-f]*: not among" "$VM_WORK/kbs.log"
                "$EPHROOT" reference --uki "$VM_WORK/uki.efi" --pcrs 11 >"$VM_WORK/stub-good.json" &&
                        "$EPHROOT" reference --uki "$VM_WORK/uki-evil.efi" --pcrs 11 >"$VM_WORK/stub-evil.json" ||
                        fail "reference --uki"
                check "PCR 11 differs too: the stub measures another .initrd ($(pcr_of "$VM_WORK/stub-evil.json" 11 | cut -c1-16)… against $(pcr_of "$VM_WORK/stub-good.json" 11 | cut -c1-16)…)" \
                        [ "$(pcr_of "$VM_WORK/stub-evil.json" 11)" != "$(pcr_of "$VM_WORK/stub-good.json" 11)" ]
                check "the broker released nothing" sh -c "! grep -q released '$VM_WORK/kbs.log'"
        fi
        ;;
*)
        echo "unknown case $CASE" >&2
        exit 1
        ;;
esac
vm_test_done
