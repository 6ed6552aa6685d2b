#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attestation from a real kernel: QEMU (TCG) with a busybox initramfs, swtpm as the vTPM, and QEMU
# user networking with restrict=on and one guestfwd rule (10.0.2.100:8080 -> the broker on the host's
# loopback, through `busybox nc`): nothing leaves QEMU but that connection. `ephroot attest` in the guest fetches the secret
# into /run/ephroot/secrets (0400); with the broker stopped it fails and writes nothing.
# The vTPM's state is made on the host first (a fresh one, then copied into the VM) so the broker's
# policy can trust its AK: the `tpm` evidence's AK is a primary key of that state's seeds.
#   test-vm-attest.sh EPHROOT EPHROOT-KBS
set -uo pipefail
EPHROOT=$(readlink -f "${1:?usage: test-vm-attest.sh EPHROOT EPHROOT-KBS}")
KBS=$(readlink -f "${2:?usage}")
here=$(dirname "$(readlink -f "$0")")
. "$here/lib/initramfs-vm.sh"
vm_check || exit 77

work=$(mktemp -d)
KBS_PID=
cleanup() { [ -n "$KBS_PID" ] && kill "$KBS_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
expect() { # NAME EXPECTED
        local v
        v=$(vm_result "$work/console" "$1")
        if [ "$v" = "$2" ]; then ok "$1 = $v"; else bad "$1 = '$v', expected '$2'"; fi
}

# The vTPM's state, and the AK it will make.
swtpm_start "$work/tpm" || { echo "FAIL: swtpm"; exit 1; }
AK=$("$EPHROOT" --config /dev/null --tcti "$SWTPM_TCTI" attest --print-ak --cmdline-file /dev/null)
swtpm_stop
[ -n "$AK" ] || { echo "FAIL: no AK"; exit 1; }

mkdir -p "$work/res/default/key" && head -c 32 /dev/urandom >"$work/res/default/key/disk"
echo "{\"policies\":[{\"name\":\"vm\",\"tee\":[\"tpm\"],\"trusted_aks\":[\"$AK\"],\"resources\":[\"default/key/*\"]}]}" >"$work/policy.json"
echo "{\"port\":0,\"insecure_http\":true,\"resource_dir\":\"$work/res\",\"policy\":\"$work/policy.json\"}" >"$work/kbs.json"
: >"$work/kbs.log"
"$KBS" --config "$work/kbs.json" >"$work/kbs.log" 2>&1 &
KBS_PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/kbs.log"); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "$PORT" ] || { echo "FAIL: the broker did not start"; exit 1; }

VM_BINARIES="$EPHROOT"
VM_MODULES="virtio_pci virtio_net"
VM_TPM_STATE="$work/tpm/state"
# guestfwd with a command: one fresh connection to the broker per guest connection (a tcp: chardev
# would be a single connection made when QEMU starts, which the broker's idle timeout closes).
printf '#!/bin/sh\nexec busybox nc 127.0.0.1 %s 2>/dev/null\n' "$PORT" >"$work/fwd.sh"
chmod +x "$work/fwd.sh"
VM_QEMU_ARGS="-netdev user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:8080-cmd:$work/fwd.sh -device virtio-net-pci,netdev=n0"
vm_initramfs "$work/initrd.gz" "$here/guest/attest.sh" || { echo "FAIL: building the initramfs"; exit 1; }

vm_run "$work/console" "$work/initrd.gz" 240
rc=$?
sed -n '/EPHROOT-VM ready/,$p' "$work/console" | sed 's/^/  | /'
[ "$rc" = 0 ] || bad "the guest job exited $rc"
expect attest-rc 0
expect secret-sha256 "$(sha256sum "$work/res/default/key/disk" | cut -d' ' -f1)"
expect secret-mode 400
grep -q "released" "$work/kbs.log" || bad "the broker released nothing"

# The broker stopped: the guest's attestation fails, nothing written.
kill "$KBS_PID"; wait "$KBS_PID" 2>/dev/null; KBS_PID=
vm_run "$work/console" "$work/initrd.gz" 240
sed -n '/EPHROOT-VM ready/,$p' "$work/console" | grep -i "fail\|RESULT" | sed 's/^/  | /'
expect attest-rc 1
expect secret-sha256 none
grep -q "Failed to POST 'http://10.0.2.100:8080/kbs/v0/auth': .* (Connection reset by peer)" "$work/console" \
        || bad "no clear message for the stopped broker"

# The whole `ephroot boot` with attest=required (copy mode, a blank target disk, a small OS root):
# the attest phase runs after measure-disk, the secret is there with the root laid; with the broker
# stopped the boot fails in the attest phase and the root is not laid.
VM_MODULES="virtio_pci virtio_blk virtio_net dm_mod dm_crypt xts aesni_intel af_alg algif_skcipher ext4"
VM_FILES="$here/guest/lib.sh:/guest/lib.sh"
vm_initramfs "$work/initrd-boot.gz" "$here/guest/attest-boot.sh" || { echo "FAIL: building the boot initramfs"; exit 1; }
boot_vm() {
        truncate -s 0 "$work/disk.img"; truncate -s 256M "$work/disk.img"
        mkdir -p "$work/osroot/etc"
        printf 'UUID=0000 / ext4 defaults 0 1\n' >"$work/osroot/etc/fstab"
        rm -f "$work/os.img"; truncate -s 32M "$work/os.img"
        mkfs.ext4 -q -F -d "$work/osroot" "$work/os.img" || { echo "FAIL: mkfs.ext4"; exit 1; }
        vm_run "$work/console" "$work/initrd-boot.gz" 300 "$work/disk.img" "$work/os.img"
        sed -n '/EPHROOT-VM ready/,$p' "$work/console" | grep -E "RESULT|ephroot: |Failed" | sed 's/^/  | /'
}
: >"$work/kbs.log"
"$KBS" --config "$work/kbs.json" >"$work/kbs.log" 2>&1 &
KBS_PID=$!
PORT=
for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*Listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/kbs.log"); [ -n "$PORT" ] && break; sleep 0.05
done
[ -n "$PORT" ] || { echo "FAIL: the broker did not restart"; exit 1; }
printf '#!/bin/sh\nexec busybox nc 127.0.0.1 %s 2>/dev/null\n' "$PORT" >"$work/fwd.sh"
boot_vm
expect boot-rc 0
expect attest-line 1
expect status-attested true
expect secret-sha256 "$(sha256sum "$work/res/default/key/disk" | cut -d' ' -f1)"
expect root-device /dev/mapper/ephroot

kill "$KBS_PID"; wait "$KBS_PID" 2>/dev/null; KBS_PID=
boot_vm
expect boot-rc 1
expect status-failed-phase attest
expect status-attested false
expect secret-sha256 none
expect_match() { local v; v=$(vm_result "$work/console" "$1"); if [[ "$v" =~ $2 ]]; then ok "$1 = $v"; else bad "$1 = '$v', expected /$2/"; fi; }
expect_match failed-line "Failed to POST 'http://10.0.2.100:8080/kbs/v0/auth'"
expect_match root-device "^/dev/vdb$"

[ "$fail" = 0 ] && echo "PASS" || exit 1
