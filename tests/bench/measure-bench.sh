#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark (not a test): `ephroot measure` against a fresh swtpm versus the same three extends done
# with tpm2-tools (`tpm2_pcrextend`, digests computed with openssl). Prints wall time per run (median
# of RUNS) and the number of TPM commands each sends, counted by tpm2-tss's pcap TCTI wrapped around
# the same swtpm TCTI. Usage: measure-bench.sh EPHROOT [RUNS]
set -euo pipefail
EPHROOT=$(readlink -f "${1:?usage: measure-bench.sh EPHROOT [RUNS]}")
RUNS=${2:-20}
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/swtpm.sh"

work=$(mktemp -d)
trap 'swtpm_stop; rm -rf "$work"' EXIT
cache=${EPHROOT_CACHE:-/var/cache/ephroot-dev}
kernel=$(ls "$cache"/kernel/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
if [ -z "$kernel" ]; then
        kernel=$work/vmlinuz
        head -c 8000000 /dev/urandom >"$kernel"
fi
head -c 40000000 /dev/urandom >"$work/initrd.img" # a typical initramfs-tools initrd is 30-70 MB
printf 'BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet ephroot=on ephroot.measure-log=%s\n' "$work/log" >"$work/cmdline"
banks=sha1,sha256,sha384
swtpm_start "$work/tpm" "$banks"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now_ms() { date +%s%N | awk '{ printf "%.1f\n", $1 / 1000000 }'; }

run_ephroot() {
        "$EPHROOT" --tcti "$1" --config /dev/null --log-level err measure \
                --kernel "$kernel" --initrd "$work/initrd.img" --cmdline-file "$work/cmdline"
}

run_tools() { # what a shell script in an initramfs would do with tpm2-tools
        local tcti=$1 k i c args
        for b in ${banks//,/ }; do
                k+="${k:+,}$b=$(openssl dgst -"$b" -r "$kernel" | cut -d' ' -f1)"
                i+="${i:+,}$b=$(openssl dgst -"$b" -r "$work/initrd.img" | cut -d' ' -f1)"
                c+="${c:+,}$b=$(head -c -1 "$work/cmdline" | openssl dgst -"$b" -r | cut -d' ' -f1)"
        done
        tpm2_pcrextend -T "$tcti" "11:$k"
        tpm2_pcrextend -T "$tcti" "11:$i"
        tpm2_pcrextend -T "$tcti" "12:$c"
}

time_runs() {
        local f=$1 t0
        for _ in $(seq 1 "$RUNS"); do
                t0=$(now_ms)
                "$f" "$SWTPM_TCTI" >/dev/null
                echo "$(now_ms) - $t0" | bc
        done | median
}

command -v bc >/dev/null || { echo "bc is needed" >&2; exit 1; }
e_ms=$(time_runs run_ephroot)
t_ms=$(time_runs run_tools)

TCTI_PCAP_FILE=$work/e.pcap run_ephroot "pcap:$SWTPM_TCTI" >/dev/null
TCTI_PCAP_FILE=$work/t.pcap run_tools "pcap:$SWTPM_TCTI" >/dev/null
e_cmds=$(python3 "$here/tpm-pcap-count.py" "$work/e.pcap")
t_cmds=$(python3 "$here/tpm-pcap-count.py" "$work/t.pcap")

echo "inputs: kernel $(stat -c %s "$kernel") bytes, initrd $(stat -c %s "$work/initrd.img") bytes, banks $banks, $RUNS runs each"
printf '%-34s %10s %12s\n' "" "wall ms" "TPM commands"
printf '%-34s %10s %12s\n' "ephroot measure" "$e_ms" "$(head -n1 <<<"$e_cmds" | cut -d' ' -f2)"
printf '%-34s %10s %12s\n' "openssl + 3x tpm2_pcrextend" "$t_ms" "$(head -n1 <<<"$t_cmds" | cut -d' ' -f2)"
echo "ratio (tpm2-tools / ephroot): wall $(echo "scale=2; $t_ms / $e_ms" | bc)x"
echo "ephroot commands:     $(tail -n +2 <<<"$e_cmds" | tr '\n' ' ')"
echo "tpm2-tools commands:  $(tail -n +2 <<<"$t_cmds" | tr '\n' ' ')"
