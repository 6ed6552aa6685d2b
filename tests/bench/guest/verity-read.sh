# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest job of tests/bench/boot-bench.sh: the whole OS root partition (/dev/vda) read once raw and
# once through dm-verity (tree on /dev/vdb, the root hash from /guest/args), ROUNDS times, the page
# cache dropped before each read. Prints raw-N and verity-N in seconds.
. /guest/lib.sh
vm_wait_dev /dev/vda 10 || { result error no-vda; exit 1; }
vm_wait_dev /dev/vdb 10 || { result error no-vdb; exit 1; }
read -r ROUNDS ROOT_HASH </guest/args
veritysetup open /dev/vda bench /dev/vdb "$ROOT_HASH" || { result error veritysetup-open; exit 1; }
vm_wait_dev /dev/mapper/bench 10 || { result error no-mapper; exit 1; }
readall() {
        sync
        echo 3 >/proc/sys/vm/drop_caches
        t0=$(now)
        dd if="$1" of=/dev/null bs=1M 2>/tmp/dd || { cat /tmp/dd; return 1; }
        elapsed "$t0"
}
for i in $(seq 1 "$ROUNDS"); do
        t=$(readall /dev/vda) || { result error raw-read; exit 1; }
        result raw-$i "$t"
        t=$(readall /dev/mapper/bench) || { result error verity-read; exit 1; }
        result verity-$i "$t"
done
result bytes "$(blockdev --getsize64 /dev/mapper/bench)"
veritysetup close bench
result done ok
