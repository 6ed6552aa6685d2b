#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# lock = yes in the initrd's /etc/ephroot.conf: a kernel command line that turns ephroot off, or
# loosens attest=, stops the boot in the initramfs with one line naming the locked key; the OS root
# is never reached. The image's initrd gets the configuration as an appended cpio archive (the kernel
# unpacks concatenated archives in order), as if the image builder had put it there; the command
# line stands for what the host wrote into grub.cfg. Without the lock, "ephroot=off" would boot the
# OS disk's root (vm-not-enabled), so reaching neither the OS nor any other failure shows the lock.
# The configuration cannot be read, so the boot script halts (failure-action unknown): QEMU is
# stopped at the deadline.
#   test-vm-lock.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
command -v cpio >/dev/null || { echo "SKIP: cpio missing"; exit 77; }
vm_test_init lock "$@"

mkdir -p "$VM_WORK/conf/etc"
printf 'enabled = yes\nlock = yes\ndevice = /dev/sda\nattest = required\nkbs-url = https://kbs.invalid\nsecret.key = default/key/1\n' \
        >"$VM_WORK/conf/etc/ephroot.conf"
cp "$VM_INITRD" "$VM_WORK/initrd.img"
# An uncompressed archive must start 4-byte aligned; the kernel skips the zeros before it.
truncate -s "$(( ($(stat -c %s "$VM_WORK/initrd.img") + 511) / 512 * 512 ))" "$VM_WORK/initrd.img"
(cd "$VM_WORK/conf" && find etc | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$VM_WORK/initrd.img" ||
        { fail "could not append the configuration to the initrd"; vm_test_done; }
vm_resource_disk "$VM_WORK/resource.img" 1024 azure || exit 1
res_before=$(vm_hash "$VM_WORK/resource.img")

for case_ in "off:ephroot=off:enabled" "attest:ephroot.attest=optional:attest"; do
        IFS=: read -r name append key <<<"$case_"
        out=$VM_WORK/$name
        VM_INITRD=$VM_WORK/initrd.img VM_RESOURCE_DISK=$VM_WORK/resource.img VM_DEADLINE=150 VM_APPEND="$append" \
                vm_boot "$out"
        lines=$(tr -d '\r' <"$out/serial.log" | grep -a 'ephroot: boot failed:' | head -n 1)
        echo "   console ($append): $lines"
        check "$append: the failure line names '$key' as locked" \
                grep -qF "kernel command line: Setting '$key' is locked by the configuration file (lock = yes)" <<<"$lines"
        check "$append: the kernel unpacked the appended configuration" \
                sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'Initramfs unpacking failed'"
        check "$append: no report line: the booted system was never reached" [ ! -s "$out/report" ]
        vm_check_never_switched "$out"
done
check "the resource disk was not touched" [ "$(vm_hash "$VM_WORK/resource.img")" = "$res_before" ]
vm_test_done
