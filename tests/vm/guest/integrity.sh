# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job: integrity=hmac-sha256. The tags are initialised at format (timed: the boot-time cost),
# so a full read of the fresh mapping succeeds; then a byte flipped on the raw disk must give an I/O
# error on read, not silent garbage.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }

printf 'integrity = hmac-sha256\n' >/tmp/i.conf
t0=$(now)
ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /tmp/i.conf volume --device /dev/vda \
        --cmdline-file /dev/null >/tmp/out 2>/tmp/err
rc=$?
result volume-rc "$rc"
result volume-seconds "$(elapsed "$t0")"
sed 's/^/out: /' /tmp/out; sed 's/^/err: /' /tmp/err
[ "$rc" = 0 ] || exit 1
result wipe-seconds "$(sed -n 's/.*integrity tags of .* in \([0-9.]*\) s\./\1/p' /tmp/err)"
result data-size "$(sed -n 's/^data-size: *//p' /tmp/out)"
result status-integrity "$(status_field ephroot integrity)"
result status-cipher "$(status_field ephroot cipher)"
result status-flags "$(status_field ephroot flags)"
result table "$(dmsetup table | tr '\n' '|')"

# Never-written sectors read fine.
dd if=/dev/mapper/ephroot of=/dev/null bs=1M iflag=direct 2>/dev/null
result fresh-read-rc $?
plaintext >/tmp/plain
dd if=/tmp/plain of=/dev/mapper/ephroot bs=1M seek=16 oflag=direct conv=fsync 2>/dev/null
dd if=/dev/mapper/ephroot of=/tmp/back bs=1M skip=16 count=4 iflag=direct 2>/dev/null
cmp -s /tmp/plain /tmp/back && result readback ok || result readback differs

# Flip one byte in the middle of each of the 4 MiB just written, on the raw disk. The mapping's
# sector 16 MiB lies somewhere after the integrity metadata: flip in a wide band to be sure to hit
# data or tags of written sectors, then read the whole mapping.
size=$(blockdev --getsize64 /dev/vda)
flipped=0
for frac in 3 4 5 6; do
        off=$(( size / 10 * frac + 1234 ))
        b=$(dd if=/dev/vda bs=1 skip=$off count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
        nb=$(( (b ^ 255) & 255 ))
        printf "\\$(printf '%03o' $nb)" | dd of=/dev/vda bs=1 seek=$off count=1 conv=notrunc 2>/dev/null
        flipped=$((flipped + 1))
done
sync
blockdev --flushbufs /dev/vda
echo 3 >/proc/sys/vm/drop_caches
result flipped "$flipped"
dd if=/dev/mapper/ephroot of=/dev/null bs=1M iflag=direct 2>/tmp/dd-err
result tampered-read-rc $?
sed 's/^/dd: /' /tmp/dd-err
# dm-crypt fails the bio with BLK_STS_PROTECTION, which reaches userspace as EILSEQ (older kernels
# and other paths give EIO): either is an error, not data.
result tampered-read-error "$(grep -o -i -E 'I/O error|Invalid or incomplete multibyte' /tmp/dd-err | head -n1)"
dmesg | grep -i -E 'integrity|aead' | tail -n 5 | sed 's/^/dmesg: /'
result dmesg-integrity "$(dmesg | grep -c -i -E 'INTEGRITY AEAD ERROR|checksum failed')"
cryptsetup close ephroot
