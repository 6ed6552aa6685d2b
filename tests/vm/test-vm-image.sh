#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Builds (or reuses from the cache) the Debian 12 test image with ephroot installed by
# `meson install --destdir` and its initramfs rebuilt by `update-initramfs -u`, then checks what the
# initramfs-tools hook put into the initrd: the binary, the TCTI module the loader dlopens, the
# boot script, the tools and modules the boot needs; and that the initrd's ephroot is the installed one.
#   test-vm-image.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
vm_test_init image "$@"

list="$VM_IMAGE_DIR/initrd.list"
has() {
        grep -qE "[ /]$1( |\$)" "$list"
}
cat "$VM_IMAGE_DIR/timings"
check "update-initramfs printed no warning or error" sh -c "! grep -E '^(W|E):' '$VM_IMAGE_DIR/update-initramfs.log'"
for f in usr/sbin/ephroot scripts/local-bottom/ephroot etc/ephroot.conf \
        'usr/lib/x86_64-linux-gnu/libtss2-tcti-device\.so\.0' 'usr/lib/x86_64-linux-gnu/libtss2-tctildr\.so\.0' \
        'usr/lib/x86_64-linux-gnu/libcryptsetup\.so\.12' 'usr/lib/x86_64-linux-gnu/libjson-c\.so\.5' \
        'usr/lib/x86_64-linux-gnu/libgcc_s\.so\.1' \
        usr/sbin/mke2fs usr/sbin/mkfs.ext4 etc/mke2fs.conf usr/sbin/dmsetup \
        usr/lib/udev/rules.d/55-dm.rules usr/lib/udev/rules.d/95-dm-notify.rules; do
        check "initrd holds $f" has "$f"
done
vm_check_initrd_modules "$list"
vm_check_kernel_config
# Files read back from the initrd itself: the installed binary, byte for byte, and the script order.
mkdir -p "$VM_WORK/initrd"
python3 "$VM_SRC/tests/vm/lib/initrd-extract.py" "$VM_INITRD" "$VM_WORK/initrd" usr/sbin/ephroot usr/sbin/mke2fs scripts/local-bottom/ORDER ||
        fail "could not read files back from the initrd"
check "the initrd's ephroot = the installed build ($VM_INSTALLED_EPHROOT)" \
        cmp -s "$VM_WORK/initrd/ephroot" "$VM_INSTALLED_EPHROOT"
v=$(vm_binary_version "$VM_WORK/initrd/mke2fs")
check "the initrd's mke2fs is e2fsprogs' (busybox's cannot make ext4): $v" [ "${v#mke2fs 1.}" != "$v" ]
check "local-bottom's ORDER runs /scripts/local-bottom/ephroot" grep -q '^/scripts/local-bottom/ephroot' "$VM_WORK/initrd/ORDER"
check "the OS image has a GPT with one Linux partition" \
        sh -c "sfdisk -d '$VM_OS_IMAGE' | grep -q 'type=0FC63DAF-8483-4772-8E79-3D69D8477DE4'"
vm_test_done
