# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job (tests/vm/test-vm-attest.sh): `ephroot boot` with attest=required, copy mode, /dev/vda the
# blank target, /dev/vdb the OS root, the broker reached through QEMU's guestfwd at 10.0.2.100:8080.
# Reports the boot's exit status, its phase lines, status.json's attest object, the secret.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/vdb 10 || { result error no-vdb; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
mkdir -p /rootmnt /run/ephroot
mount -o ro -t ext4 /dev/vdb /rootmnt || { result error mount-vdb; exit 1; }
printf '%s\n' enabled=yes device=/dev/vda mode=copy failure-action=halt attest=required \
        kbs-url=http://10.0.2.100:8080 kbs-insecure=yes secret.disk=default/key/disk attest-timeout=20 kbs-retries=1 >/tmp/c.conf
ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /tmp/c.conf boot --rootmnt /rootmnt \
        --kernel /bin/busybox --initrd /job.sh --cmdline-file /proc/cmdline --no-failure-action >/tmp/out 2>/tmp/err
result boot-rc "$?"
sed 's/^/out: /' /tmp/out; sed 's/^/err: /' /tmp/err
result attest-line "$(grep -c '^ephroot: attest ' /tmp/out)"
result failed-line "$(grep -h '^ephroot: boot failed:' /tmp/out /tmp/err | head -n1 | cut -c1-160)"
result status-attested "$(grep -o '"attested": *[a-z]*' /run/ephroot/status.json | sed 's/.*: *//')"
result status-failed-phase "$(sed -n 's/.*"failed_phase": *"\([a-z-]*\)".*/\1/p' /run/ephroot/status.json)"
if [ -e /run/ephroot/secrets/disk ]; then
        result secret-sha256 "$(sha256sum /run/ephroot/secrets/disk | cut -d' ' -f1)"
else
        result secret-sha256 none
fi
result root-device "$(awk '$2 == "/rootmnt" { print $1 }' /proc/mounts)"
