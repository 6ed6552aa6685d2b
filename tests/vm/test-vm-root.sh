#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# copy or overlay mode boots to the real root's init with / on dm-crypt over the resource disk:
# writable, every write in the encrypted volume (a marker written in the guest is not in plaintext
# on the raw resource disk image after power-off), the OS image file unchanged, the OS disk no longer
# mounted (copy), fstab consistent (no failed unit, no second mount of the resource disk), and
# PCRs 11/12/15 equal to a replay of the log and 11/12 to `ephroot predict` on the host, in each bank
# of VM_TPM_BANKS (default sha256); with VM_PCRLOCK=yes, also as Debian 13's systemd-pcrlock judges.
#   test-vm-root.sh MODE SRCDIR BUILDROOT EPHROOT      MODE: copy or overlay
set -u
mode=$1
shift
. "$(dirname "$0")/lib/checks.sh"
vm_test_init "$mode" "$@"

out=$VM_WORK/boot
mkdir -p "$out"
vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
os_before=$(vm_hash "$VM_OS_IMAGE")

VM_RESOURCE_DISK=$VM_WORK/resource.img \
VM_APPEND="ephroot=on ephroot.device=/dev/sda ephroot.mode=$mode ephroot.failure-action=poweroff" \
        vm_boot "$out"
tr -d '\r' <"$out/serial.log" | grep -a '^ephroot: ' | sed 's/^/   console: /'
vm_check_reported "$out"

# / and the mapping under it.
if [ "$mode" = copy ]; then
        expect "$out" root.source /dev/mapper/ephroot
        expect "$out" root.fstype ext4
        expect "$out" disk.vda.mounts none
else
        expect "$out" root.fstype overlay
        expect "$out" root.upper_source /dev/mapper/ephroot
        expect "$out" root.upper_fstype ext4
        expect "$out" root.lowerdir /run/ephroot/lower
fi
expect "$out" root.dm_name ephroot
expect "$out" root.dm_target crypt
expect "$out" root.dm_cipher aes-xts-plain64
expect "$out" root.dm_leaf sda
expect "$out" root.dm_key keyring
expect "$out" root.cs_type LUKS2
expect "$out" root.cs_sector_size 4096
expect "$out" dm.crypt_devices ephroot
expect "$out" root.writable yes
expect "$out" disk.sda.holders dm-0
expect "$out" mounts.resource_disk ""
expect "$out" failed_units ""

# status.json, and the LUKS UUID it names is the one now on the disk (ephroot's mark).
if vm_blob "$out" status "$out/status.json"; then
        python3 - "$out/status.json" "$mode" >"$out/status-check.txt" 2>&1 <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "ok", s
assert s["mode"] == sys.argv[2], s["mode"]
assert s["device"] == "/dev/sda", s["device"]
assert s["classification"] == "fresh-azure-resource", s["classification"]
names = [p["name"] for p in s["phases"]]
assert names == ["measure", "key", "disk", "volume", "measure-disk", "root", "leave"], names
assert all(p["ms"] >= 0 for p in s["phases"])
assert s["pcrs"] == {"kernel": 11, "initrd": 11, "cmdline": 12, "disk": 15, "leave": 11}, s["pcrs"]
print(s["luks_uuid"])
PY
        check "status.json: ok, $mode, /dev/sda, 7 phases, PCRs ($(tail -n 1 "$out/status-check.txt"))" \
                [ "$(wc -l <"$out/status-check.txt")" -eq 1 ]
        uuid=$(tail -n 1 "$out/status-check.txt")
        check "the resource disk now carries ephroot's mark with LUKS UUID $uuid" \
                [ "$(blkid -p -o value -s UUID "$VM_WORK/resource.img")" = "$uuid" ]
else
        fail "no status.json in the report"
fi

vm_check_no_plaintext "$out" "$VM_WORK/resource.img"
check "the OS image file is unchanged" [ "$(vm_hash "$VM_OS_IMAGE")" = "$os_before" ]
vm_check_pcrs "$out" "${VM_TPM_BANKS:-sha256}"
# VM_PCRLOCK=yes: trixie's systemd-pcrlock judges the log too (tests/vm/lib/pcrlock.sh).
[ "${VM_PCRLOCK:-no}" = yes ] && vm_check_pcrlock "$out" "${VM_TPM_BANKS:-sha256}"

# Phase timings for docs/performance.md and the benchmark.
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("   phases:", ", ".join("%s %.0f ms" % (p["name"], p["ms"]) for p in s["phases"]), "| total %.0f ms" % s["total_ms"])' \
        "$out/status.json" 2>/dev/null
vm_test_done
