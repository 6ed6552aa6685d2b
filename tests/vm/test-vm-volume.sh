#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The volume in a real kernel: QEMU (TCG) with Debian's kernel, a busybox initramfs, a fresh swtpm as
# vTPM and a blank disk image as the target. JOB is one of the guest jobs in tests/vm/guest/:
#   volume     activate, write/read back, cryptsetup status and dmsetup table show cipher, sector
#              size and flags, the key is not in `dmsetup table --showkeys` (nor in /run); a held
#              disk (the mapped one) and a mounted disk (the second image) are refused
#   tamper     the mark is replaced by a cipher_null header between format and activation: the
#              volume still opens aes-xts with the real key, the raw disk holds no plaintext
#   integrity  integrity=hmac-sha256: fresh sectors read fine, a flipped byte gives an I/O error
#   copy1k     `ephroot boot`, copy mode, from an OS root with 1 KiB ext4 blocks: sector-size=4096 is
#              refused before the disk is written; the default picks 512-byte sectors and the copy
#              mounts, writable, as the root
# Exits 77 when QEMU, busybox or swtpm is missing.
set -uo pipefail
EPHROOT=$(readlink -f "${1:?usage: test-vm-volume.sh EPHROOT EPHROOT_TEST JOB}")
EPHROOT_TEST=$(readlink -f "${2:?usage}")
JOB=${3:?usage}
here=$(dirname "$(readlink -f "$0")")
. "$here/lib/initramfs-vm.sh"
vm_check || exit 77

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
expect() { # NAME EXPECTED (exact)
        local v
        v=$(vm_result "$work/console" "$1")
        if [ "$v" = "$2" ]; then ok "$1 = $v"; else bad "$1 = '$v', expected '$2'"; fi
}
expect_match() { # NAME REGEX
        local v
        v=$(vm_result "$work/console" "$1")
        if [[ "$v" =~ $2 ]]; then ok "$1 = $v"; else bad "$1 = '$v', expected /$2/"; fi
}

VM_BINARIES="$EPHROOT $EPHROOT_TEST"
VM_FILES="$here/guest/lib.sh:/guest/lib.sh $here/guest/evil-mark.sh:/guest/evil-mark.sh"
vm_initramfs "$work/initrd.gz" "$here/guest/$JOB.sh" || { echo "FAIL: building the initramfs"; exit 1; }
truncate -s 256M "$work/disk.img"
truncate -s 32M "$work/second.img"
if [ "$JOB" = copy1k ]; then
        # A small OS root as a small mkfs.ext4 makes it: 1 KiB blocks.
        mkdir -p "$work/osroot/etc"
        echo "copied-from-the-1k-root" >"$work/osroot/etc/ephroot-copy-check"
        printf 'UUID=0000 / ext4 defaults 0 1\n' >"$work/osroot/etc/fstab"
        mkfs.ext4 -q -F -b 1024 -d "$work/osroot" "$work/second.img" || { echo "FAIL: mkfs.ext4"; exit 1; }
fi
vm_run "$work/console" "$work/initrd.gz" 240 "$work/disk.img" "$work/second.img"
rc=$?
sed -n '/EPHROOT-VM ready/,$p' "$work/console" | sed 's/^/  | /'
[ "$rc" = 0 ] || bad "the guest job exited $rc"

case "$JOB" in
volume)
        expect volume-rc 0
        expect keylen 128
        expect readback ok
        expect status-type LUKS2
        expect status-cipher aes-xts-plain64
        expect status-sector 4096
        expect status-flags "discards no_read_workqueue no_write_workqueue"
        expect status-keyloc keyring
        expect status-offset "2048 sectors"
        uuid=$(vm_result "$work/console" printed-uuid)
        expect_match table "^0 [0-9]+ crypt aes-xts-plain64 :64:logon:cryptsetup:$uuid-d0 0 [0-9]+:[0-9]+ 2048 4 allow_discards no_read_workqueue no_write_workqueue sector_size:4096$"
        expect_match showkeys ":64:logon:cryptsetup:$uuid-d0 "
        expect showkeys-has-key no
        expect run-has-key no
        expect log-records 2
        expect header "-rw------- 1048576"
        expect_match blkid "LABEL=ephroot" && expect_match blkid "TYPE=crypto_LUKS"
        expect held-rc 1
        expect held-msg "Refusing to format '/dev/vda': it or one of its partitions is held by another device (dm, md, ...)."
        expect close-rc 0
        expect mounted-rc 1
        expect mounted-msg "Refusing to format '/dev/vdb': it or one of its partitions is mounted."
        # After power-off, on the host: the mark is there, the plaintext is not.
        blkid -p -o export "$work/disk.img" | grep -qx "UUID=$uuid" && ok "host: blkid sees ephroot's header, UUID $uuid" ||
                bad "host: blkid does not see UUID $uuid"
        grep -qa EPHROOT-PLAINTEXT-MARKER "$work/disk.img" && bad "host: plaintext on the raw disk" ||
                ok "host: no plaintext on the raw disk"
        ;;
tamper)
        expect volume-rc 0
        expect hook tampered
        expect disk-cipher cipher_null-ecb
        uuid=$(vm_result "$work/console" printed-uuid)
        disk_uuid=$(vm_result "$work/console" disk-uuid)
        [ -n "$uuid" ] && [ -n "$disk_uuid" ] && [ "$uuid" != "$disk_uuid" ] &&
                ok "the disk's header (UUID $disk_uuid) is the host's, not ephroot's ($uuid)" || bad "UUIDs: $uuid / $disk_uuid"
        expect status-cipher aes-xts-plain64
        expect status-offset "2048 sectors"
        expect_match table "^0 [0-9]+ crypt aes-xts-plain64 :64:logon:cryptsetup:$uuid-d0 0 [0-9]+:[0-9]+ 2048 "
        expect close-rc 0
        expect raw-has-plaintext no
        expect plain-open-rc 0
        expect real-key-reads-plaintext yes
        grep -qa EPHROOT-PLAINTEXT-MARKER "$work/disk.img" && bad "host: plaintext on the raw disk" ||
                ok "host: the raw disk holds ciphertext only (no plaintext marker in 256 MiB)"
        ;;
integrity)
        expect volume-rc 0
        expect status-integrity "hmac(sha256)"
        expect status-cipher aes-xts-plain64
        expect_match table "integrity"
        expect fresh-read-rc 0
        expect readback ok
        expect flipped 4
        expect_match tampered-read-rc "^[1-9][0-9]*$"
        expect_match tampered-read-error "^(I/O error|Invalid or incomplete multibyte)$"
        expect_match dmesg-integrity "^[1-9][0-9]*$"
        secs=$(vm_result "$work/console" wipe-seconds)
        size=$(vm_result "$work/console" data-size)
        [ -n "$secs" ] && [ -n "$size" ] &&
                echo "integrity tag initialisation: $secs s for $size bytes = $(awk -v s="$secs" -v b="$size" 'BEGIN { printf "%.1f", s / (b / 1073741824) }') s/GiB (TCG)"
        ;;
copy1k)
        expect source-bsize 1024
        expect forced4k-rc 1
        expect forced4k-line "ephroot: boot failed: Failed to set up the volume: sector-size=4096 is larger than the OS root's blocks allow (512); its copy could not be mounted. Use sector-size=0 or 512."
        expect forced4k-disk untouched
        expect forced4k-rootmnt mounted
        expect boot-rc 0
        expect status-sector 512
        expect root-device /dev/mapper/ephroot
        expect root-bsize 1024
        expect root-file copied-from-the-1k-root
        expect root-fstab /dev/mapper/ephroot
        expect root-writable yes
        ;;
*)
        echo "unknown job '$JOB'"; exit 2 ;;
esac

[ "$fail" = 0 ] && echo "all vm-$JOB checks passed"
exit $fail
