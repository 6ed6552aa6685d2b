#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# PCRs 11, 12 and 15 with three active banks (sha1, sha256, sha384; swtpm_setup --pcr-banks): read
# in the guest with tpm2_pcrread, they equal a replay of the measurement log (Python, on the host),
# and 11 and 12 equal `ephroot predict` run on the host for the kernel, initrd and command line QEMU
# booted (11 after the closing leave-initrd event, see docs/measurements.md). The log's file events
# are checked against the host's own hashes of those files. Overlay mode: the shortest boot.
#   test-vm-pcrs.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
vm_test_init pcrs "$@"

out=$VM_WORK/boot
mkdir -p "$out"
vm_resource_disk "$VM_WORK/resource.img" 1024 azure || exit 1
VM_TPM_BANKS=sha1,sha256,sha384 VM_RESOURCE_DISK=$VM_WORK/resource.img \
VM_APPEND="ephroot=on ephroot.device=/dev/sda ephroot.mode=overlay ephroot.failure-action=poweroff" \
        vm_boot "$out"
vm_check_reported "$out"
vm_check_pcrs "$out" sha1,sha256,sha384
vm_test_done
