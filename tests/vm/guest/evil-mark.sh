# SPDX-License-Identifier: LGPL-2.1-or-later
# Run by the test build's after-mark hook, as the host would act: make a LUKS2 header whose segment
# is cipher_null (plaintext on disk), with ephroot's label and another data offset, and write it over
# the mark on $EPHROOT_DEVICE. Only the disk changes: ephroot's tmpfs header ($EPHROOT_HEADER) stays.
set -e
truncate -s 64M /tmp/evil-data
printf 'host-knows-this' >/tmp/evil-pass
cryptsetup luksFormat --batch-mode --type luks2 --header /tmp/evil.header --cipher cipher_null-ecb --key-size 256 \
        --label ephroot --subsystem ephroot --luks2-metadata-size 16k --luks2-keyslots-size 992k \
        --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --offset 4096 --key-file /tmp/evil-pass /tmp/evil-data
dd if=/tmp/evil.header of="$EPHROOT_DEVICE" bs=1M count=1 conv=notrunc,fsync 2>/dev/null
echo tampered >/tmp/hook-ran
