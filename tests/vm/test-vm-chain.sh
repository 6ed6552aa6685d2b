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
#   kernel      grub.cfg loads /boot/vmlinuz-<kver>.evil (the kernel with bytes appended): Secure
#               Boot (shim's verifier in GRUB) refuses it, nothing boots; no secret.
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
[ "$CASE" = initrd-off ] && boot_chain=off
mkdir -p "$VM_WORK/conf/etc"
cat >"$VM_WORK/conf/etc/ephroot.conf" <<CONF
enabled = yes
lock = yes
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
        echo "   boot $(basename "$out"): $(sed -n 's/^ms=//p' "$out/boot.env") ms from QEMU's start to its end; GRUB's banner at $(sed -n 's/^grub_ms=//p' "$out/boot.env") ms, the kernel's first line at $(sed -n 's/^kernel_ms=//p' "$out/boot.env") ms (OVMF, shim and GRUB under TCG)"
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

# A boot that GRUB started and ephroot stopped in the initramfs, before attesting.
check_halted() {
        local out=$1 what=$2
        check "the boot went through GRUB (its kernel started)" console_has "$out" "Linux version"
        vm_check_failed_closed "$out" "$what"
        check "no 'Failed to measure the failure event' on the console" \
                sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'Failed to measure the failure event'"
        check "no attestation was tried (no network brought up, nothing asked of the broker)" \
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
                boot "$out"
                check_halted "$out" "initrd.img-$VM_KVER' is not what the boot loader loaded: sha256 $good here, $evil in PCR 9"
        else
                # The policy a good boot of this image gives: the control's firmware log, whose PCR 9
                # has the control's initrd, with this image's initrd in its place.
                ref=$VM_BUILDROOT/vm-tests/chain-control/reference
                [ -s "$ref/firmware.log" ] || { echo "SKIP: run vm-chain-control first (its firmware log is the reference)" >&2; exit 77; }
                python3 - "$ref/firmware.log" "$(sha256sum <"$ref/../initrd.img" | cut -c1-64)" "$good" \
                        >"$VM_WORK/good.log" <<'PY'
import sys
log, old, new = open(sys.argv[1], "rb").read(), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
assert log.count(old) == 1, "the control's initrd digest is not once in its log"
sys.stdout.buffer.write(log.replace(old, new))
PY
                "$EPHROOT" reference --event-log "$VM_WORK/good.log" --pcrs 4,7,8,9 >"$VM_WORK/reference.json" &&
                        predict "$VM_WORK/predict.json" &&
                        policy_of "$VM_WORK/reference.json" "$VM_WORK/predict.json" "$VM_WORK/chain.json" ||
                        { echo "FAIL: the policy" >&2; exit 1; }
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
*)
        echo "unknown case $CASE" >&2
        exit 1
        ;;
esac
vm_test_done
