#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# conf/cloud-init/90-ephroot.cfg against Debian 12's own cloud-init, in a chroot made from the rig's
# cached base with cloud-init installed from Debian's archive (no VM boot): with the drop-in,
# cc_disk_setup runs nothing against any disk (only `udevadm settle`) although the Azure
# datasource's disk_setup/fs_setup for ephemeral0 are still in the merged configuration (they rank
# above /etc/cloud), and the default /mnt mount is removed; without it (the control), the same run
# goes to /dev/disk/cloud/azure_resource.
#   test-vm-cloud-init.sh SRCDIR BUILDROOT EPHROOT
set -u
. "$(dirname "$0")/lib/checks.sh"
VM_SRC=$(readlink -f "$1") VM_BUILDROOT=$(readlink -f "$2")
vm_require
vm_image_base || { echo "FAIL: no base image" >&2; exit 1; }
VM_WORK="$VM_BUILDROOT/vm-tests/cloud-init"
rm -rf "$VM_WORK" && mkdir -p "$VM_WORK"
root=$VM_WORK/root
trap 'rm -rf "$root"' EXIT
cp -a "$VM_BASE_DIR/root" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
if ! { vm_chroot "$root" apt-get update -q && vm_chroot "$root" apt-get install -y -q --no-install-recommends cloud-init; } \
        >"$VM_WORK/apt.log" 2>&1; then
        tail -n 20 "$VM_WORK/apt.log" >&2
        echo "FAIL: cannot install cloud-init from Debian's archive" >&2
        exit 1
fi
echo "cloud-init $(vm_chroot "$root" dpkg-query -W -f='${Version}' cloud-init)"
cp "$VM_SRC/tests/vm/cloud-init-check.py" "$root/tmp/check.py"

vm_chroot "$root" python3 /tmp/check.py >"$VM_WORK/without.json" 2>"$VM_WORK/without.err" || { cat "$VM_WORK/without.err" >&2; fail "check without the drop-in"; }
cp "$VM_SRC/conf/cloud-init/90-ephroot.cfg" "$root/etc/cloud/cloud.cfg.d/90-ephroot.cfg"
vm_chroot "$root" python3 /tmp/check.py >"$VM_WORK/with.json" 2>"$VM_WORK/with.err" || { cat "$VM_WORK/with.err" >&2; fail "check with the drop-in"; }
echo "without: $(cat "$VM_WORK/without.json")"
echo "with:    $(cat "$VM_WORK/with.json")"

j() {
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"
}
check "control: without the drop-in cc_disk_setup goes to the resource disk" \
        [ "$(j "$VM_WORK/without.json" 'any("azure_resource" in c for c in d["commands"])')" = True ]
check "with it, ephemeral0 names a path that cannot exist" \
        [ "$(j "$VM_WORK/with.json" 'd["ephemeral0"]')" = /dev/null/ephroot-owns-the-resource-disk ]
check "with it, the datasource's disk_setup for ephemeral0 is still merged (the drop-in cannot remove it)" \
        [ "$(j "$VM_WORK/with.json" '"ephemeral0" in (d["disk_setup"] or {})')" = True ]
check "with it, cc_disk_setup runs no command against any disk (only udevadm settle)" \
        [ "$(j "$VM_WORK/with.json" 'all(c.startswith("udevadm settle") for c in d["commands"])')" = True ]
check "with it, the default ephemeral0 mount is removed ([ephemeral0, null])" \
        [ "$(j "$VM_WORK/with.json" '["ephemeral0", None] in (d["mounts"] or [])')" = True ]
vm_test_done
