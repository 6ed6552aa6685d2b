# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job: the host-side tampering test. Between format and activation, the test build's hook
# (EPHROOT_TEST_AFTER_MARK) plays the host and overwrites the mark on /dev/vda with a cipher_null
# LUKS2 header (guest/evil-mark.sh: label ephroot, a different data offset, a passphrase the host
# knows). The
# volume must still open with aes-xts and ephroot's key from the tmpfs header; what is written must
# reach the disk as ciphertext, readable with the real key only.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }

EPHROOT_TEST_KEY_FILE=/tmp/key.hex \
EPHROOT_TEST_AFTER_MARK='sh /guest/evil-mark.sh' \
        ephroot-test --log-target stderr --tcti device:/dev/tpmrm0 --config /dev/null \
        volume --device /dev/vda --cmdline-file /dev/null >/tmp/out 2>/tmp/err
rc=$?
result volume-rc "$rc"
result volume-done-at "$(now)"
sed 's/^/out: /' /tmp/out; sed 's/^/err: /' /tmp/err
result hook "$(cat /tmp/hook-ran 2>/dev/null)"
[ "$rc" = 0 ] || exit 1
uuid=$(sed -n 's/^uuid: *//p' /tmp/out)
result printed-uuid "$uuid"

# What the disk now claims (the host's header) versus what the mapping is (ephroot's).
result disk-cipher "$(cryptsetup luksDump /dev/vda | sed -n 's/^[[:space:]]*cipher: *//p' | head -n1)"
result disk-uuid "$(cryptsetup luksDump /dev/vda | sed -n 's/^UUID:[[:space:]]*//p')"
result status-cipher "$(status_field ephroot cipher)"
result status-offset "$(status_field ephroot offset)"
result table "$(dmsetup table ephroot)"

plaintext >/tmp/plain
dd if=/tmp/plain of=/dev/mapper/ephroot bs=1M seek=4 oflag=direct conv=fsync 2>/dev/null
cryptsetup close ephroot
result close-rc $?

# Raw disk, the first 16 MiB (the write went to 5..9 MiB): no marker. The host checks the whole
# image again after power-off.
if dd if=/dev/vda bs=1M count=16 iflag=direct 2>/dev/null | grep -q EPHROOT-PLAINTEXT-MARKER; then
        result raw-has-plaintext yes
else
        result raw-has-plaintext no
fi

# The data opens with the real key as plain aes-xts-plain64 at ephroot's offset (2048 sectors,
# 4096-byte sectors): so it was written under that key and cipher, not the host's.
unhex /tmp/key.hex /tmp/key.bin
cryptsetup open --type plain --cipher aes-xts-plain64 --key-size 512 --sector-size 4096 --offset 2048 \
        --key-file /tmp/key.bin /dev/vda check 2>/tmp/plain-err
result plain-open-rc $?
dd if=/dev/mapper/check of=/tmp/back bs=1M skip=4 count=4 iflag=direct 2>/dev/null
cmp -s /tmp/plain /tmp/back && result real-key-reads-plaintext yes || result real-key-reads-plaintext no
cryptsetup close check
