#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# host-mounts=comment: the image's fstab mounts /var from an OS-disk partition; the boot goes on with
# that line commented out in the new root's fstab (nothing mounted at /var, no failed unit), and the
# change measured into PCR 15 before the closing event: the log's host-mounts record carries the
# documented string, its digest is H(string), and PCRs 11/12/15 still equal the log's replay.
#   test-vm-host-mounts.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
vm_test_init host-mounts "$@"

out=$VM_WORK/boot
os=$VM_WORK/os-var.img
line='PARTLABEL=var /var ext4 defaults 0 2'
vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
check "a copy of the OS image whose fstab mounts /var from the OS disk (line 3)" vm_os_image_with_fstab "$os" \
        "$(printf '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=%s / ext4 errors=remount-ro 0 1\n%s\n' "$VM_ROOT_UUID" "$line")"

VM_OS_IMAGE=$os VM_RESOURCE_DISK=$VM_WORK/resource.img \
VM_APPEND="ephroot=on ephroot.device=/dev/sda ephroot.host-mounts=comment ephroot.failure-action=poweroff" \
        vm_boot "$out"
tr -d '\r' <"$out/serial.log" | grep -a 'ephroot' | grep -a -e 'host-mounts' -e '^ephroot: ' | sed 's/^/   console: /'
vm_check_reported "$out"
expect "$out" root.source /dev/mapper/ephroot
expect "$out" failed_units ""
check "the console names the line commented out" \
        sh -c "tr -d '\r' <'$out/serial.log' | grep -aqF \"/etc/fstab line 3 mounts a disk the host reads, commenting it out: '$line'\""

if vm_blob "$out" fstab "$out/fstab"; then
        check "the new root's fstab has the line commented out" \
                grep -qxF "# ephroot: on a disk the host reads, not mounted (host-mounts=comment): $line" "$out/fstab"
        check "and no uncommented /var line" sh -c "! grep -qE '^[^#]*[[:space:]]/var[[:space:]]' '$out/fstab'"
else
        fail "no fstab in the report"
fi
if vm_blob "$out" mountinfo "$out/mountinfo"; then
        check "nothing is mounted at /var" sh -c "! awk '\$5 == \"/var\"' '$out/mountinfo' | grep -q ."
else
        fail "no mountinfo in the report"
fi

vm_check_pcrs "$out" sha256
python3 - "$out/measure.log" "$line" >"$out/host-mounts-check.txt" 2>&1 <<'PY'
import hashlib, json, sys
log, line = sys.argv[1:3]
recs = [json.loads(r) for r in open(log, "rb").read().split(b"\x1e")[1:]]
hm = [r for r in recs if r["content"].get("eventType") == "host-mounts"]
assert len(hm) == 1, "host-mounts records: %d" % len(hm)
r = hm[0]
esc = "".join(c if c.isalnum() or c in "._:,/+@-" else "%%%02X" % ord(c) for c in line)
want = "ephroot-host-mounts:v1 action=comment count=1 line=3:" + esc
assert r["pcr"] == 15, r["pcr"]
assert r["content_type"] == "ephroot", r["content_type"]
assert r["content"]["string"] == want, "%r != %r" % (r["content"]["string"], want)
for d in r["digests"]:
    assert d["digest"] == hashlib.new(d["hashAlg"], want.encode()).hexdigest(), d
kinds = [(x["pcr"], x["content"].get("eventType")) for x in recs]
assert kinds.index((15, "host-mounts")) < kinds.index((11, "phase")), kinds
print(want)
PY
check "the log's host-mounts record: PCR 15, the documented string, digest H(string), before leave-initrd ($(tail -n 1 "$out/host-mounts-check.txt"))" \
        grep -q '^ephroot-host-mounts:v1 ' "$out/host-mounts-check.txt"
vm_test_done
