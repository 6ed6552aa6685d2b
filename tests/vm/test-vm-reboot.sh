#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Reboot with the same resource disk and a fresh swtpm (an ephemeral vTPM: new seeds, PCRs at zero):
# the second boot recognises the disk as ephroot's (its mark from the first boot), formats it again
# with a new key (a different LUKS UUID, on the disk too), and the first boot's data is unreadable:
# its marker is found neither through the new mapping (read back in the guest, where this boot's
# own marker is found the same way, as a control) nor in plaintext on the raw disk.
#   test-vm-reboot.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
vm_test_init reboot "$@"

# A small disk: the second boot reads the whole decrypted volume back in the guest.
vm_resource_disk "$VM_WORK/resource.img" 384 azure || exit 1
append="ephroot=on ephroot.device=/dev/sda ephroot.mode=overlay ephroot.failure-action=poweroff"

VM_RESOURCE_DISK=$VM_WORK/resource.img VM_APPEND="$append" vm_boot "$VM_WORK/boot1"
vm_check_reported "$VM_WORK/boot1"
vm_blob "$VM_WORK/boot1" status "$VM_WORK/status1.json" || fail "no status.json in boot 1"
uuid1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["luks_uuid"])' "$VM_WORK/status1.json" 2>/dev/null)
marker1=$(vm_get "$VM_WORK/boot1" marker) || marker1=none
check "boot 1 formatted the disk (LUKS UUID $uuid1)" [ -n "$uuid1" ]
check "boot 1 left its mark: blkid sees crypto_LUKS with UUID $uuid1" \
        [ "$(blkid -p -o value -s TYPE "$VM_WORK/resource.img") $(blkid -p -o value -s UUID "$VM_WORK/resource.img")" = "crypto_LUKS $uuid1" ]

VM_FIND=$marker1 VM_RESOURCE_DISK=$VM_WORK/resource.img VM_APPEND="$append" vm_boot "$VM_WORK/boot2"
vm_check_reported "$VM_WORK/boot2"
vm_blob "$VM_WORK/boot2" status "$VM_WORK/status2.json" || fail "no status.json in boot 2"
read -r uuid2 class2 < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["luks_uuid"], s["classification"])' \
        "$VM_WORK/status2.json" 2>/dev/null)
marker2=$(vm_get "$VM_WORK/boot2" marker) || marker2=none
check "boot 2 recognised the disk as ephroot's (classification '$class2')" [ "$class2" = ephroot ]
check "boot 2 formatted with a new key: LUKS UUID $uuid2 differs from $uuid1" \
        sh -c "[ -n '$uuid2' ] && [ '$uuid2' != '$uuid1' ]"
check "the disk now carries boot 2's mark" [ "$(blkid -p -o value -s UUID "$VM_WORK/resource.img")" = "$uuid2" ]
check "boot 2's swtpm was fresh: PCR 15 differs from boot 1's" \
        [ "$(vm_get "$VM_WORK/boot1" pcr.sha256.15)" != "$(vm_get "$VM_WORK/boot2" pcr.sha256.15)" ]
expect "$VM_WORK/boot2" "find.$marker2" found
expect "$VM_WORK/boot2" "find.$marker1" absent
for m in "$marker1" "$marker2"; do
        check "marker $m is not in plaintext on the raw disk" sh -c "! grep -qaF '$m' '$VM_WORK/resource.img'"
done
vm_test_done
