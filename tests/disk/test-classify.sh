#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Classification against real images made here: each gets its expected class from
# `ephroot probe --device IMG --json`, and every refusal names the image and the reason.
# Needs mkntfs and ntfscp (ntfs-3g), sfdisk (fdisk), sgdisk (gdisk), mkfs.ext4, mkswap, cryptsetup, python3.
# Exits 77 (skipped) when one is missing. Works on plain files: no root, no loop devices.

set -eu

EPHROOT=$(realpath "${1:?usage: test-classify.sh PATH-TO-EPHROOT}")
export EPHROOT_LOG_TARGET=stderr

for tool in mkntfs ntfscp sfdisk sgdisk mkfs.ext4 mkswap cryptsetup python3; do
        if ! command -v "$tool" >/dev/null && ! [ -x "/usr/sbin/$tool" ] && ! [ -x "/sbin/$tool" ]; then
                echo "SKIP: $tool not found" >&2
                exit 77
        fi
done
export PATH="$PATH:/usr/sbin:/sbin"

dir=$(mktemp -d)
trap 'umount "$dir/mnt" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
: >empty.conf
failures=0
MiB=$((1024 * 1024))
# An empty sysfs root: the host's own disks stay out of the picture.
mkdir -p noroot/sys/class/block

fail() {
        echo "FAIL: $*" >&2
        failures=$((failures + 1))
}

# probe IMG [extra ephroot options...]: runs probe, leaves JSON in out.json and messages in err.txt.
probe() {
        local img=$1
        shift
        set +e
        "$EPHROOT" --config "$dir/${CONF:-empty.conf}" "$@" probe --sysfs-root "$dir/noroot" --device "$img" --json \
                >out.json 2>err.txt
        rc=$?
        set -e
}

json() {
        python3 -c 'import json,sys; d=json.load(open("out.json")); print(eval(sys.argv[1]))' "$1"
}

# expect IMG CLASS [REASON-SUBSTRING]
expect() {
        local img=$1 class=$2 why=${3:-}
        probe "$dir/$img"
        if ! [ -s out.json ]; then
                fail "$img: no JSON output (rc=$rc): $(cat err.txt)"
                return
        fi
        # One python3 for the three fields: its start-up dominates this test's time.
        { read -r got; read -r accepted; read -r reason; } < <(json \
                '"\n".join([str(d["target"]["classification"]), str(d["target"]["accepted"]), d["target"]["reason"]])')
        if [ "$got" != "$class" ]; then
                fail "$img: expected $class, got $got ($reason)"
                return
        fi
        if [ "$class" = foreign ]; then
                [ "$rc" = 1 ] || fail "$img: foreign but exit status $rc"
                [ "$accepted" = False ] || fail "$img: foreign but accepted as the target"
                grep -q "Refusing to format '$dir/$img': it is foreign" err.txt ||
                        fail "$img: refusal does not name the image: $(cat err.txt)"
                [ -z "$why" ] || grep -qF -- "$why" err.txt || fail "$img: refusal lacks '$why': $(cat err.txt)"
        else
                [ "$rc" = 0 ] || fail "$img: $class but exit status $rc: $(cat err.txt)"
                [ "$accepted" = True ] || fail "$img: $class but not accepted"
        fi
        echo "ok: $img -> $got: $reason"
}

# An NTFS file system made as a separate file and copied into place at the partition's offset.
# POPULATE, if given, is called with the partition file before it is copied.
ntfs_at() { # IMG START-SECTOR SECTORS LABEL [POPULATE]
        local part="$dir/part.$$"
        truncate -s $(($3 * 512)) "$part"
        mkntfs -q -F -f -s 512 -p "$2" -H 255 -S 63 -L "$4" "$part" >/dev/null 2>&1
        [ -z "${5:-}" ] || "$5" "$part"
        dd if="$part" of="$1" bs=1M seek=$(($2 * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
        rm -f "$part"
}

# 1. Fresh Azure resource disk, MBR: one NTFS partition "Temporary Storage".
truncate -s 64M ntfs-mbr.img
printf 'label: dos\nstart=2048, size=126976, type=7\n' | sfdisk -q ntfs-mbr.img
ntfs_at ntfs-mbr.img 2048 126976 "Temporary Storage"
expect ntfs-mbr.img fresh-azure-resource

# 2. The GPT layout of large resource disks: Microsoft Reserved, then NTFS "Temporary Storage".
truncate -s 96M ntfs-gpt.img
sgdisk -o -n 1:2048:+16M -t 1:0C01 -n 2:0:0 -t 2:0700 ntfs-gpt.img >/dev/null 2>&1
start=$(sgdisk -i 2 ntfs-gpt.img | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
end=$(sgdisk -i 2 ntfs-gpt.img | sed -n 's/^Last sector: \([0-9]*\).*/\1/p')
ntfs_at ntfs-gpt.img "$start" $((end - start + 1)) "Temporary Storage"
expect ntfs-gpt.img fresh-azure-resource

# What Azure puts on a fresh resource disk: the README (ntfscp), and System Volume Information with a
# file in it (through ntfs-3g, FUSE: needs root and /dev/fuse; without them these checks are skipped).
echo "WARNING: THIS IS A TEMPORARY DISK." >readme.txt
head -c $((5 * MiB)) /dev/urandom >customer.db
mbr_ntfs() { # IMG [POPULATE]
        truncate -s 64M "$1"
        printf 'label: dos\nstart=2048, size=126976, type=7\n' | sfdisk -q "$1"
        ntfs_at "$1" 2048 126976 "Temporary Storage" "${2:-}"
}
put_readme() { ntfscp -q "$1" readme.txt DATALOSS_WARNING_README.txt >/dev/null; }
put_customer_file() { put_readme "$1" && ntfscp -q "$1" customer.db customer.db >/dev/null; }
put_big_readme() { ntfscp -q "$1" customer.db DATALOSS_WARNING_README.txt >/dev/null; }
fuse_ok=no
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ] && command -v ntfs-3g >/dev/null; then
        truncate -s 8M fuse-probe.img && mkntfs -q -F -f -L x fuse-probe.img >/dev/null 2>&1 && mkdir -p mnt &&
                ntfs-3g fuse-probe.img mnt 2>/dev/null && umount mnt && fuse_ok=yes
fi
with_mount() { # PART COMMAND...: runs COMMAND in the mounted NTFS
        local part=$1
        shift
        ntfs-3g "$part" "$dir/mnt"
        (cd "$dir/mnt" && "$@")
        umount "$dir/mnt"
}
put_svi() {
        put_readme "$1"
        with_mount "$1" sh -c 'mkdir "System Volume Information" && echo "{guid}" >"System Volume Information/IndexerVolumeGuid" &&
                mkdir "System Volume Information/SPP" && echo x >"System Volume Information/SPP/state"'
}
put_user_dir() { put_svi "$1" && with_mount "$1" mkdir Users; }

# 2a. A fresh-like one: the README only; then with System Volume Information.
mbr_ntfs ntfs-readme.img put_readme
expect ntfs-readme.img fresh-azure-resource
if [ "$fuse_ok" = yes ]; then
        mbr_ntfs ntfs-svi.img put_svi
        expect ntfs-svi.img fresh-azure-resource
        # 2b. A directory of someone's.
        mbr_ntfs ntfs-dir.img put_user_dir
        expect ntfs-dir.img foreign "holds an unexpected directory 'Users'"
else
        echo "note: System Volume Information and directory checks skipped (need root, /dev/fuse, ntfs-3g)"
fi
# 2c. A customer's file next to the README: the label says nothing about it.
mbr_ntfs ntfs-file.img put_customer_file
expect ntfs-file.img foreign "partition 1: NTFS 'Temporary Storage' holds an unexpected file 'customer.db'"
# 2d. The README's name on someone's data.
mbr_ntfs ntfs-bigreadme.img put_big_readme
expect ntfs-bigreadme.img foreign "'DATALOSS_WARNING_README.txt' of 5242880 bytes"

# 3. NTFS with another label: someone's data.
truncate -s 64M ntfs-other.img
printf 'label: dos\nstart=2048, type=7\n' | sfdisk -q ntfs-other.img
ntfs_at ntfs-other.img 2048 126976 "My Data"
expect ntfs-other.img foreign "not NTFS labelled 'Temporary Storage'"

mkdir -p tree/home && echo important >tree/home/file.txt

# 4. Zeroed.
truncate -s 64M zero.img
expect zero.img blank

# 5. Zeroed but for data near the end (beyond any signature blkid knows).
truncate -s 64M tail.img
printf 'precious' | dd of=tail.img bs=1 seek=$((64 * MiB - 4096)) conv=notrunc status=none
expect tail.img foreign "non-zero data in the last MiB"

# 5b. A GPT disk whose table was wiped (sgdisk --zap-all): its ext4 at 1 MiB is still there.
truncate -s 64M zapped.img
sgdisk -o -n 1:2048:0 -t 1:8300 zapped.img >/dev/null 2>&1
truncate -s 32M zapped-part.img
mkfs.ext4 -q -F -d tree zapped-part.img >/dev/null 2>&1
dd if=zapped-part.img of=zapped.img bs=1M seek=1 conv=notrunc status=none
sgdisk --zap-all zapped.img >/dev/null 2>&1
expect zapped.img foreign "no partition table, but ext4 at byte 1048576, as a wiped table leaves it"
# ... and data without a signature at 4 MiB.
truncate -s 64M head.img
printf 'precious' | dd of=head.img bs=1 seek=$((4 * MiB)) conv=notrunc status=none
expect head.img foreign "non-zero data in the first 8 MiB"

# 6. ext4 with files.
truncate -s 64M ext4.img
mkfs.ext4 -q -F -d tree ext4.img >/dev/null 2>&1
expect ext4.img foreign "the whole disk holds ext4"

# 7. A LUKS2 volume that is not ephroot's.
head -c 32 /dev/urandom >key
luks() { # IMG LABEL SUBSYSTEM
        truncate -s 32M "$1"
        cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file key \
                --label "$2" --subsystem "$3" "$1" >/dev/null
}
luks luks-foreign.img data ""
expect luks-foreign.img foreign "LUKS2 volume with label 'data'"
luks luks-half.img ephroot other
expect luks-half.img foreign "subsystem 'other'"

# 8. ephroot's own mark.
luks mark.img ephroot ephroot
expect mark.img ephroot

# 9. Swap.
truncate -s 64M swap.img
mkswap -q swap.img >/dev/null 2>&1 || mkswap swap.img >/dev/null
expect swap.img foreign "swap"

# 10. A partition table with two partitions.
truncate -s 64M two.img
printf 'label: dos\nstart=2048, size=32768, type=83\nstart=34816, type=83\n' | sfdisk -q two.img
expect two.img foreign "dos partition table with 2 partitions"

# 11. Random bytes.
head -c $((8 * MiB)) /dev/urandom >random.img
expect random.img foreign "non-zero data in the first 8 MiB"

# 12. force-format naming a different disk does not unlock a foreign one.
echo "force-format = vmbus:f8b3781a-1e82-4818-a1c3-63d806ec15bb:lun1:size=67108864" >force.conf
CONF=force.conf probe "$dir/ext4.img"
[ "$rc" = 1 ] || fail "force-format for another disk: exit status $rc"
grep -q "Refusing to format '$dir/ext4.img': it is foreign (.*), and force-format=vmbus:f8b3781a.* names another disk" err.txt ||
        fail "force-format for another disk: wrong message: $(cat err.txt)"
echo "ok: force-format naming another disk refused"

# 13. A device that does not exist.
probe "$dir/nonexistent.img"
[ "$rc" = 1 ] || fail "nonexistent: exit status $rc"
grep -q "Refusing to format '$dir/nonexistent.img': it does not exist" err.txt || fail "nonexistent: $(cat err.txt)"
[ "$(json 'd["target"]["node"], d["target"]["accepted"], d["target"]["classification"]')" = "('$dir/nonexistent.img', False, None)" ] ||
        fail "nonexistent: $(cat out.json)"
echo "ok: nonexistent device refused"

# 14. Classification never writes.
sum_before=$(sha256sum ntfs-mbr.img mark.img zero.img | sha256sum)
probe "$dir/ntfs-mbr.img" >/dev/null; probe "$dir/mark.img"; probe "$dir/zero.img"
[ "$sum_before" = "$(sha256sum ntfs-mbr.img mark.img zero.img | sha256sum)" ] || fail "an image changed"

# 15. A block device that is not an enumerated whole disk (a loop device): classified, never a target.
# Needs root and a free loop device; without them this check alone is skipped.
if [ "$(id -u)" = 0 ] && loop=$(losetup -f --show -r "$dir/mark.img" 2>/dev/null); then
        set +e
        "$EPHROOT" --config "$dir/empty.conf" probe --device "$loop" --json >out.json 2>err.txt
        rc=$?
        set -e
        losetup -d "$loop"
        [ "$rc" = 1 ] || fail "loop device: exit status $rc"
        [ "$(json 'd["target"]["classification"], d["target"]["accepted"], d["target"]["node"]')" = "('ephroot', False, '$loop')" ] ||
                fail "loop device: $(cat out.json)"
        grep -q "Refusing to format '$loop': it is not a whole disk that ephroot enumerates (ephroot: " err.txt ||
                fail "loop device: $(cat err.txt)"
        echo "ok: loop device classified and refused as a target"
else
        echo "note: loop device check skipped (needs root and a free loop device)"
fi

if [ "$failures" -gt 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
fi
echo "all classification checks passed"
