# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job of tests/bench/volume-bench.sh: on the same disk (/dev/vda) in the same VM run, ROUNDS
# times each: ephroot's format+activate (the whole `ephroot volume`: checks, TPM key, LUKS2 format,
# mark, activation, measurement), then `cryptsetup luksFormat` with its defaults followed by
# `cryptsetup open` (what overlayroot does), then the same with PBKDF2 at 1000 iterations; finally
# one ephroot format with integrity=hmac-sha256 (the tag initialisation cost).
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/tpmrm0 10 || { result error no-tpm; exit 1; }
ROUNDS=$(cat /guest/rounds 2>/dev/null || echo 3)
printf 'bench-passphrase' >/tmp/pw
blank() { dd if=/dev/zero of=/dev/vda bs=1M count=16 conv=fsync 2>/dev/null; }

for i in $(seq 1 "$ROUNDS"); do
        blank
        rm -rf /run/ephroot /run/log
        t0=$(now)
        ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /dev/null volume --device /dev/vda \
                --cmdline-file /dev/null >/dev/null 2>/tmp/err || { cat /tmp/err; result error ephroot; exit 1; }
        result ephroot-$i "$(elapsed "$t0")"
        cryptsetup close ephroot

        blank
        t0=$(now)
        cryptsetup luksFormat --batch-mode --key-file /tmp/pw /dev/vda || { result error luksFormat; exit 1; }
        t1=$(now)
        cryptsetup open --key-file /tmp/pw /dev/vda bench || { result error open; exit 1; }
        result luksformat-$i "$(elapsed "$t0")"
        result luksformat-open-only-$i "$(elapsed "$t1")"
        cryptsetup close bench

        blank
        t0=$(now)
        cryptsetup luksFormat --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /tmp/pw /dev/vda ||
                { result error luksFormat-pbkdf2; exit 1; }
        cryptsetup open --key-file /tmp/pw /dev/vda bench || { result error open-pbkdf2; exit 1; }
        result pbkdf2-$i "$(elapsed "$t0")"
        cryptsetup close bench
done
result luksformat-pbkdf "$(cryptsetup luksDump /dev/vda >/dev/null 2>&1; echo ok)"

blank
rm -rf /run/ephroot /run/log
printf 'integrity = hmac-sha256\n' >/tmp/i.conf
t0=$(now)
ephroot --log-target stderr --tcti device:/dev/tpmrm0 --config /tmp/i.conf volume --device /dev/vda \
        --cmdline-file /dev/null >/tmp/out 2>/tmp/err || { cat /tmp/err; result error integrity; exit 1; }
result integrity-total "$(elapsed "$t0")"
result integrity-wipe "$(sed -n 's/.*integrity tags of .* in \([0-9.]*\) s\./\1/p' /tmp/err)"
result integrity-data-size "$(sed -n 's/^data-size: *//p' /tmp/out)"
cryptsetup close ephroot
