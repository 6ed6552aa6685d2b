#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installed but not enabled changes nothing: without ephroot=on (and enabled = no in the file, the
# default) the image boots on its OS root, nothing is measured, nothing is formatted, ephroot prints
# nothing. The same boot classifies the Azure-like disk from inside the guest: QEMU's
# scsi-hd with vendor Msft, product "Virtual Disk" at LUN 1, holding a fresh "Temporary Storage"
# NTFS, is a fresh-azure-resource, and `ephroot probe --device /dev/sda` picks it.
#   test-vm-not-enabled.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
vm_test_init not-enabled "$@"

out=$VM_WORK/boot
mkdir -p "$out"
vm_resource_disk "$VM_WORK/resource.img" 1024 azure || exit 1
res_before=$(vm_hash "$VM_WORK/resource.img")
os_before=$(vm_hash "$VM_OS_IMAGE")

# No ephroot word at all on the command line: the package is merely installed.
VM_DEADLINE=400 VM_RESOURCE_DISK=$VM_WORK/resource.img VM_APPEND="" vm_boot "$out"
vm_check_reported "$out"
expect "$out" root.source /dev/vda1
expect "$out" root.fstype ext4
expect "$out" root.dm_name none
expect "$out" dm.crypt_devices ""
expect "$out" root.writable yes
expect "$out" disk.sda.mounts none
expect "$out" disk.sda.holders none
expect "$out" blob.status absent
expect "$out" blob.measure_log absent
for pcr in 11 12 15; do
        expect "$out" "pcr.sha256.$pcr" 0000000000000000000000000000000000000000000000000000000000000000
done
check "ephroot printed nothing on the console" sh -c "! tr -d '\r' <'$out/serial.log' | grep -aE '^ephroot:|ephroot\[[0-9]+\]'"
check "the resource disk image is unchanged" [ "$(vm_hash "$VM_WORK/resource.img")" = "$res_before" ]
check "the OS image is unchanged" [ "$(vm_hash "$VM_OS_IMAGE")" = "$os_before" ]
expect "$out" failed_units ""

# The disk as the guest sees it.
expect "$out" disk.sda.vendor Msft
expect "$out" probe.rc 0
if vm_blob "$out" probe "$out/probe.json"; then
        python3 - "$out/probe.json" >"$out/probe-check.txt" 2>&1 <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
sda = [d for d in p["disks"] if d["node"] == "/dev/sda"]
assert len(sda) == 1, "no /dev/sda in %r" % p["disks"]
d = sda[0]
assert d["lun"] == 1, "lun %r" % d["lun"]
assert d["model"] == "Virtual Disk", "model %r" % d["model"]
assert d["classification"] == "fresh-azure-resource", "classification %r (%s)" % (d["classification"], d["reason"])
assert d["size"] == 1024 * 1024 * 1024, "size %r" % d["size"]
assert p["target"] and p["target"]["node"] == "/dev/sda", "target %r" % p["target"]
vda = [d for d in p["disks"] if d["node"] == "/dev/vda"]
assert vda and vda[0]["classification"] != "fresh-azure-resource", "the OS disk %r" % vda
print("sda: lun 1, Virtual Disk, fresh-azure-resource, the target")
PY
        check "probe in the guest: $(tail -n 1 "$out/probe-check.txt")" grep -q '^sda: lun 1' "$out/probe-check.txt"
else
        fail "no probe output in the report"
fi
vm_test_done
