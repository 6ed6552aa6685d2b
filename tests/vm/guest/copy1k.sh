# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job: `ephroot boot` in copy mode with an OS root (/dev/vdb, ext4 with 1 KiB blocks, mounted
# read-only at /rootmnt) that a 4096-byte-sector volume could not mount. An explicit sector-size=4096
# is refused before anything is written; the default picks 512-byte sectors and the copy mounts.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/vdb 10 || { result error no-vdb; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }
mkdir -p /rootmnt
mount -o ro -t ext4 /dev/vdb /rootmnt || { result error mount-vdb; exit 1; }
result source-bsize "$(stat -f -c %S /rootmnt)"

boot() { # CONFIG-LINES...
        printf '%s\n' enabled=yes device=/dev/vda mode=copy failure-action=halt "$@" >/tmp/c.conf
        ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /tmp/c.conf boot --rootmnt /rootmnt \
                --kernel /bin/busybox --initrd /job.sh --cmdline-file /proc/cmdline --no-failure-action \
                >/tmp/out 2>/tmp/err
}

boot sector-size=4096
result forced4k-rc "$?"
result forced4k-line "$(grep '^ephroot: boot failed:' /tmp/out /tmp/err | head -n1 | cut -d: -f2-)"
sed 's/^/err: /' /tmp/err
cmp -s -n 4194304 /dev/vda /dev/zero && result forced4k-disk untouched || result forced4k-disk written
grep -q ' /rootmnt ' /proc/mounts && result forced4k-rootmnt mounted || result forced4k-rootmnt gone

boot
result boot-rc "$?"
sed 's/^/out: /' /tmp/out; sed 's/^/err: /' /tmp/err
result status-sector "$(status_field ephroot 'sector size')"
result root-device "$(awk '$2 == "/rootmnt" { print $1 }' /proc/mounts)"
result root-bsize "$(stat -f -c %S /rootmnt)"
result root-file "$(cat /rootmnt/etc/ephroot-copy-check 2>&1)"
result root-fstab "$(awk '$2 == "/" { print $1 }' /rootmnt/etc/fstab)"
echo written-after-copy >/rootmnt/new-file && sync && result root-writable yes || result root-writable no
