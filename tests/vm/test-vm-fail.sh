#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fail-closed boots: each halts (here: powers off, ephroot.failure-action=poweroff) with one
# "ephroot: boot failed:" line naming what failed, and never reaches the OS root (no report, systemd
# never starts). The resource disk is left as it was whenever nothing may be written to it.
#   test-vm-fail.sh CASE SRCDIR BUILDROOT EPHROOT
#   CASE: no-tpm | no-disk | ext4-files | too-small | host-var
set -u
case_=$1
shift
. "$(dirname "$0")/lib/checks.sh"
vm_test_init "fail-$case_" "$@"

out=$VM_WORK/boot
res=$VM_WORK/resource.img
mode=copy
VM_TPM=yes
VM_RESOURCE_DISK=$res
case "$case_" in
no-tpm)
        # Everything else in order: an Azure-like disk, but no TPM device at all.
        vm_resource_disk "$res" 1024 azure || exit 1
        VM_TPM=no
        what="TPM"
        ;;
no-disk)
        # ephroot.device names /dev/sda, and there is no such disk.
        VM_RESOURCE_DISK=
        what="/dev/sda"
        ;;
ext4-files)
        # Someone's data: an ext4 with files is never safe to destroy.
        vm_resource_disk "$res" 1024 ext4-files || exit 1
        what="ext4"
        ;;
too-small)
        # A fresh Azure-like disk of 64 MiB: the copy of a ~300 MiB root cannot fit.
        vm_resource_disk "$res" 64 azure || exit 1
        what="needs"
        ;;
host-var)
        # The image's fstab mounts /var from a partition of the OS disk (named by PARTLABEL, as an
        # image builder would): refused before anything is formatted, naming the line.
        vm_resource_disk "$res" 1024 azure || exit 1
        os=$VM_WORK/os-var.img
        check "a copy of the OS image whose fstab mounts /var from the OS disk" vm_os_image_with_fstab "$os" \
                "$(printf '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=%s / ext4 errors=remount-ro 0 1\nPARTLABEL=var /var ext4 defaults 0 2\n' "$VM_ROOT_UUID")"
        VM_OS_IMAGE=$os
        what="/etc/fstab line 3 mounts a disk the host reads: 'PARTLABEL=var /var ext4 defaults 0 2'"
        ;;
*)
        echo "unknown case '$case_'" >&2
        exit 2
        ;;
esac
[ -n "$VM_RESOURCE_DISK" ] && res_before=$(vm_hash "$res")
os_before=$(vm_hash "$VM_OS_IMAGE")

VM_TPM=$VM_TPM VM_RESOURCE_DISK=$VM_RESOURCE_DISK VM_DEADLINE=400 \
VM_APPEND="ephroot=on ephroot.device=/dev/sda ephroot.mode=$mode ephroot.failure-action=poweroff" \
        vm_boot "$out"
vm_check_failed_closed "$out" "$what"
check "the OS image is unchanged" [ "$(vm_hash "$VM_OS_IMAGE")" = "$os_before" ]
case "$case_" in
no-tpm | ext4-files | host-var)
        check "the resource disk was not touched" [ "$(vm_hash "$res")" = "$res_before" ]
        ;;
esac
if [ "$case_" = ext4-files ]; then
        check "the files on it are intact" \
                sh -c "debugfs -R 'cat /data/precious.txt' '$res' 2>/dev/null | grep -q \"somebody else's data\""
fi
vm_test_done
