# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job (tests/vm/test-vm-attest.sh): the network as the initramfs would have it (QEMU user
# networking, restrict=on, the broker reached through a guestfwd rule at 10.0.2.100:8080), then
# `ephroot attest` with the vTPM; reports the exit status and the secret's digest and mode.
vm_wait_dev /dev/tpmrm0 10 || echo "EPHROOT-RESULT tpm=missing"
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
mkdir -p /run/ephroot /etc
cat >/etc/ephroot.conf <<CONF
attest = required
kbs-url = http://10.0.2.100:8080
kbs-insecure = yes
secret.disk = default/key/disk
attest-timeout = 30
kbs-retries = 2
CONF
ephroot --log-target stderr attest --cmdline-file /proc/cmdline 2>&1
echo "EPHROOT-RESULT attest-rc=$?"
if [ -e /run/ephroot/secrets/disk ]; then
        echo "EPHROOT-RESULT secret-sha256=$(sha256sum /run/ephroot/secrets/disk | cut -d' ' -f1)"
        echo "EPHROOT-RESULT secret-mode=$(stat -c %a /run/ephroot/secrets/disk)"
else
        echo "EPHROOT-RESULT secret-sha256=none"
fi
