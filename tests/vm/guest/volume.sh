# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job: format and activate /dev/vda with the test build (so the key is at hand to look for),
# write and read back, and report what cryptsetup and dmsetup say.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }

t0=$(now)
EPHROOT_TEST_KEY_FILE=/tmp/key.hex ephroot-test --log-target stderr --tcti device:/dev/tpmrm0 --config /dev/null \
        volume --device /dev/vda --cmdline-file /dev/null >/tmp/out 2>/tmp/err
rc=$?
result volume-rc "$rc"
result volume-seconds "$(elapsed "$t0")"
sed 's/^/out: /' /tmp/out; sed 's/^/err: /' /tmp/err
[ "$rc" = 0 ] || exit 1
result printed-uuid "$(sed -n 's/^uuid: *//p' /tmp/out)"
result keylen "$(tr -d '\n' </tmp/key.hex | wc -c)"

plaintext >/tmp/plain
dd if=/tmp/plain of=/dev/mapper/ephroot bs=1M seek=8 oflag=direct conv=fsync 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/mapper/ephroot of=/tmp/back bs=1M skip=8 count=4 iflag=direct 2>/dev/null
cmp -s /tmp/plain /tmp/back && result readback ok || result readback differs

result status-type "$(status_field ephroot type)"
result status-cipher "$(status_field ephroot cipher)"
result status-sector "$(status_field ephroot 'sector size')"
result status-flags "$(status_field ephroot flags)"
result status-keyloc "$(status_field ephroot 'key location')"
result status-offset "$(status_field ephroot offset)"
result table "$(dmsetup table ephroot)"
showkeys=$(dmsetup table --showkeys ephroot)
result showkeys "$showkeys"
key=$(tr -d '\n' </tmp/key.hex)
case "$showkeys" in *"$key"*) result showkeys-has-key yes ;; *) result showkeys-has-key no ;; esac
# The key in hex anywhere under /run (the header, the measurement log)?
if grep -rqiF "$key" /run 2>/dev/null; then result run-has-key yes; else result run-has-key no; fi
result log-records "$(grep -c 'pcr' /run/log/systemd/tpm2-measure.log)"
result header "$(ls -l /run/ephroot/ephroot.header | awk '{ print $1, $5 }')"
result blkid "$(blkid -p -o export /dev/vda | grep -E '^(TYPE|LABEL)=' | tr '\n' ' ')"
# While mapped, /dev/vda is held by dm: a second volume on it is refused, before anything is written.
ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /dev/null volume --device /dev/vda \
        --cmdline-file /dev/null --header-dir /run/second --dm-name second >/dev/null 2>/tmp/err2
result held-rc $?
result held-msg "$(grep -o "Refusing to format '/dev/vda': .*" /tmp/err2 | head -n1)"
cryptsetup close ephroot
result close-rc $?

# A mounted whole disk is refused too.
if vm_wait_dev /dev/vdb 5 && mke2fs -q /dev/vdb >/dev/null 2>&1 && mkdir -p /mnt && mount -t ext2 /dev/vdb /mnt; then
        ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /dev/null volume --device /dev/vdb \
                --cmdline-file /dev/null --header-dir /run/third >/dev/null 2>/tmp/err3
        result mounted-rc $?
        result mounted-msg "$(grep -o "Refusing to format '/dev/vdb': .*" /tmp/err3 | head -n1)"
        umount /mnt
else
        result mounted-rc setup-failed
fi
