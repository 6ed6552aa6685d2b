#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# dm-verity under the root (docs/verity.md). The host puts a marker file into a copy of the OS image,
# writes the hash tree with `ephroot verity-format` into a partition of its own (GPT type
# root-x86-64-verity, label "root-verity", on a second virtio disk: the image's partition has no room
# after its filesystem), found in the guest by its label (/dev/disk/by-partlabel/root-verity, udev's
# link), and boots with the root hash on the command line, and fsck.mode=skip (initramfs-tools' fsck of
# the root rewrites its superblock even when clean, which dm-verity then rightly refuses):
#   control       overlay: boots; the lower layer is /dev/mapper/ephroot-os (verity); the marker reads
#                 back byte for byte; status.json has the root hash; PCRs equal the replay/prediction
#   tamper        one byte of the marker's data block changed on the OS image after verity-format,
#                 overlay: the boot is otherwise the same; reading the marker fails with an I/O error
#                 and the kernel logs its verity message
#   tamper-copy   the same image in copy mode: the boot halts before the switch, naming dm-verity
#   wrong-hash    another root hash on the command line: fails closed in the initramfs
#   test-vm-verity.sh CASE SRCDIR BUILDROOT EPHROOT
set -u
case_=$1
shift
. "$(dirname "$0")/lib/checks.sh"
vm_test_init "verity-$case_" "$@"

part=$VM_WORK/root.part
os=$VM_WORK/os.img
hash=$VM_WORK/hash.img
out=$VM_WORK/boot

# The OS image with the marker (16 KiB: whole data blocks, never inline), then the tree.
cp --sparse=always "$VM_OS_IMAGE" "$os" || exit 1
head -c 16384 /dev/urandom >"$VM_WORK/marker"
marker_sha=$(sha256sum <"$VM_WORK/marker" | cut -c1-64)
debugfs -w -R "write $VM_WORK/marker /ephroot-verity-marker" "$os?offset=1048576" >/dev/null 2>&1 ||
        { fail "could not write the marker into the OS image"; vm_test_done; }
dd if="$os" of="$part" bs=1M skip=1 conv=sparse status=none || exit 1
hashpart=$VM_WORK/hash.part
truncate -s $(( ($(stat -c %s "$part") / 100) + (1 << 20) )) "$hashpart"
root_hash=$("$EPHROOT" verity-format "$part" --hash-device "$hashpart") ||
        { fail "ephroot verity-format failed"; vm_test_done; }
echo "   root hash: $root_hash"
check "veritysetup verify accepts the tree" veritysetup verify "$part" "$hashpart" "$root_hash"
# The hash disk: a GPT with the tree's partition at 1 MiB, as an image builder would add it.
truncate -s $(( $(stat -c %s "$hashpart") + (2 << 20) )) "$hash"
printf 'label: gpt
start=2048, size=%d, type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, name="root-verity"
' \
        "$(( $(stat -c %s "$hashpart") / 512 ))" | sfdisk -q "$hash" >/dev/null 2>&1 ||
        { fail "sfdisk could not partition the hash disk"; vm_test_done; }
dd if="$hashpart" of="$hash" bs=1M seek=1 conv=notrunc,sparse status=none || exit 1
rm -f "$hashpart"
blk=$(debugfs -R "bmap /ephroot-verity-marker 0" "$part" 2>/dev/null)
rm -f "$part"

append_hash=$root_hash mode=overlay
case "$case_" in
control) ;;
tamper | tamper-copy)
        # One byte inside the marker's first data block, on the disk the guest reads.
        printf '\x5a' | dd of="$os" bs=1 seek=$(( (1 << 20) + blk * 4096 + 100 )) conv=notrunc status=none
        [ "$case_" = tamper-copy ] && mode=copy
        ;;
wrong-hash)
        append_hash=$(tr 0-9a-f 1-9a-f0 <<<"$root_hash")
        ;;
*)
        echo "unknown case '$case_'" >&2
        exit 2
        ;;
esac

vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
VM_OS_IMAGE=$os VM_RESOURCE_DISK=$VM_WORK/resource.img VM_DEADLINE=500 \
VM_QEMU_ARGS="-drive file=$hash,format=raw,if=none,id=vh,readonly=on -device virtio-blk-pci,drive=vh" \
VM_APPEND="fsck.mode=skip ephroot=on ephroot.device=/dev/sda ephroot.mode=$mode ephroot.failure-action=poweroff ephroot.verity-root-hash=$append_hash ephroot.verity-hash-device=/dev/disk/by-partlabel/root-verity" \
        vm_boot "$out"
tr -d '\r' <"$out/serial.log" | grep -a '^ephroot: \|verity' | head -n 20 | sed 's/^/   console: /'

case "$case_" in
control | tamper)
        vm_check_reported "$out"
        expect "$out" root.fstype overlay
        expect "$out" root.lowerdir /run/ephroot/lower
        expect "$out" root.lower_source /dev/mapper/ephroot-os
        expect "$out" root.upper_source /dev/mapper/ephroot
        expect "$out" dm.verity_devices ephroot-os
        expect "$out" dm.crypt_devices ephroot
        if [ "$case_" = control ]; then
                expect "$out" verity_marker.read ok
                expect "$out" verity_marker.sha256 "$marker_sha"
                expect "$out" verity_marker.kernel none
        else
                got=$(vm_get "$out" verity_marker.read)
                check "reading the changed marker fails with an I/O error ($got)" grep -q 'Input/output error' <<<"$got"
                got=$(vm_get "$out" verity_marker.kernel)
                check "the kernel logged its verity message ($got)" grep -q 'corrupted' <<<"$got"
        fi
        if vm_blob "$out" status "$out/status.json"; then
                check "status.json: root.verity_root_hash, verity_device, verity_open_ms" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["root"]
assert r["verity_root_hash"] == sys.argv[2] and r["verity_device"] == "/dev/mapper/ephroot-os" and r["verity_error"] == "eio", r
assert isinstance(r["verity_open_ms"], int) and 0 < r["verity_open_ms"] < 60000, r
' "$out/status.json" "$root_hash"
        else
                fail "no status.json in the report"
        fi
        if vm_blob "$out" measure_log "$out/measure.log"; then
                check "the measurement log has the verity event with this root hash" \
                        grep -qF "ephroot-verity:v1 root-hash=$root_hash error=eio" "$out/measure.log"
        else
                fail "no measurement log in the report"
        fi
        vm_check_pcrs "$out" sha256
        ;;
tamper-copy)
        vm_check_failed_closed "$out" "dm-verity"
        ;;
wrong-hash)
        vm_check_failed_closed "$out" "does not match verity-root-hash"
        ;;
esac
vm_test_done
