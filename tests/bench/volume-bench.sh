#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Format (and activation) cost of ephroot's volume against cryptsetup's defaults. Prints figures and
# ratios; not a test. docs/performance.md ("Volume format") records a run.
#   tests/bench/volume-bench.sh [EPHROOT] [ROUNDS] [DISK_MIB]
# Host, on a file image: `ephroot volume --no-activate` (tpm=none, and with a swtpm), `cryptsetup
# luksFormat` with its defaults, and with --pbkdf pbkdf2 --pbkdf-force-iterations 1000.
# VM (QEMU TCG, tests/vm/lib/initramfs-vm.sh), same disk image, same run: ephroot format+activate vs
# luksFormat + open (defaults, and PBKDF2-1000), and integrity=hmac-sha256's tag initialisation.
set -uo pipefail
here=$(dirname "$(readlink -f "$0")")
EPHROOT=$(readlink -f "${1:-$here/../../build/ephroot}")
ROUNDS=${2:-3}
DISK_MIB=${3:-1024}
. "$here/../lib/swtpm.sh"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/volume-bench.XXXXXX")
trap 'swtpm_stop; rm -rf "$work"' EXIT
export EPHROOT_LOG_TARGET=stderr
: >"$work/cmdline"
printf 'bench-passphrase' >"$work/pw"
printf 'tpm = none\n' >"$work/none.conf"
printf 'measure-log = %s/log/m.log\n' "$work" >"$work/tpm.conf"
img=$work/disk.img

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fresh() { rm -f "$img"; truncate -s "${DISK_MIB}M" "$img"; }
timed() { # prints seconds
        local t0 t1
        t0=$(now_ms); "$@" >/dev/null 2>"$work/err" || { echo "bench: '$*' failed:" >&2; cat "$work/err" >&2; exit 1; }
        t1=$(now_ms); awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

echo "== host: file image of $DISK_MIB MiB, $ROUNDS rounds, median seconds ($(nproc) CPUs, $(uname -r))"
e_none=; e_tpm=; cs_def=; cs_pb=
for i in $(seq 1 "$ROUNDS"); do
        fresh
        e_none+=" $(timed "$EPHROOT" --config "$work/none.conf" volume --cmdline-file "$work/cmdline" --no-activate --device "$img" --header-dir "$work/h$i")"
        rm -rf "$work/tpm" "$work/log"; swtpm_start "$work/tpm" >/dev/null
        e_tpm+=" $(timed "$EPHROOT" --tcti "$SWTPM_TCTI" --config "$work/tpm.conf" volume --cmdline-file "$work/cmdline" --no-activate --device "$img" --header-dir "$work/t$i")"
        swtpm_stop
        cs_def+=" $(timed cryptsetup luksFormat --batch-mode --key-file "$work/pw" "$img")"
        cs_pb+=" $(timed cryptsetup luksFormat --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$work/pw" "$img")"
done
m_none=$(median <<<"$e_none"); m_tpm=$(median <<<"$e_tpm"); m_def=$(median <<<"$cs_def"); m_pb=$(median <<<"$cs_pb")
printf '  %-58s %8s s  (%s)\n' "ephroot volume --no-activate, tpm=none" "$m_none" "${e_none# }"
printf '  %-58s %8s s  (%s)\n' "ephroot volume --no-activate, swtpm (key + 2 measurements)" "$m_tpm" "${e_tpm# }"
printf '  %-58s %8s s  (%s)\n' "cryptsetup luksFormat (defaults: argon2id keyslot)" "$m_def" "${cs_def# }"
printf '  %-58s %8s s  (%s)\n' "cryptsetup luksFormat --pbkdf pbkdf2 --pbkdf-force-iterations 1000" "$m_pb" "${cs_pb# }"
echo "  ratio luksFormat defaults / ephroot (swtpm): $(ratio "$m_def" "$m_tpm")x; pbkdf2-1000 / ephroot (swtpm): $(ratio "$m_pb" "$m_tpm")x"

. "$here/../vm/lib/initramfs-vm.sh"
if ! vm_check >/dev/null; then
        echo "== VM: skipped ($(vm_check))"
        exit 0
fi
echo "== VM: QEMU TCG, 1 vCPU, $VM_MEMORY MiB, virtio disk image of $DISK_MIB MiB, $ROUNDS rounds, median seconds"
echo "$ROUNDS" >"$work/rounds"
VM_BINARIES="$EPHROOT"
VM_FILES="$here/../vm/guest/lib.sh:/guest/lib.sh $work/rounds:/guest/rounds"
vm_initramfs "$work/initrd.gz" "$here/guest/volume-bench.sh" || exit 1
fresh
vm_run "$work/console" "$work/initrd.gz" 900 "$img" || { echo "VM run failed:"; tail -n 30 "$work/console"; exit 1; }
get() { vm_result "$work/console" "$1"; }
v_e=; v_d=; v_o=; v_p=
for i in $(seq 1 "$ROUNDS"); do
        v_e+=" $(get ephroot-$i)"; v_d+=" $(get luksformat-$i)"; v_o+=" $(get luksformat-open-only-$i)"; v_p+=" $(get pbkdf2-$i)"
done
mv_e=$(median <<<"$v_e"); mv_d=$(median <<<"$v_d"); mv_o=$(median <<<"$v_o"); mv_p=$(median <<<"$v_p")
printf '  %-58s %8s s  (%s)\n' "ephroot volume (format + activate + measure)" "$mv_e" "${v_e# }"
printf '  %-58s %8s s  (%s)\n' "cryptsetup luksFormat + open (defaults)" "$mv_d" "${v_d# }"
printf '  %-58s %8s s  (%s)\n' "  of which cryptsetup open" "$mv_o" "${v_o# }"
printf '  %-58s %8s s  (%s)\n' "cryptsetup luksFormat + open (pbkdf2, 1000 iterations)" "$mv_p" "${v_p# }"
echo "  ratio (luksFormat + open, defaults) / ephroot: $(ratio "$mv_d" "$mv_e")x; pbkdf2-1000 / ephroot: $(ratio "$mv_p" "$mv_e")x"
iw=$(get integrity-wipe); it=$(get integrity-total); isz=$(get integrity-data-size)
echo "  integrity=hmac-sha256: whole ephroot volume $it s, of which tag initialisation $iw s for $isz bytes" \
     "= $(awk -v s="$iw" -v b="$isz" 'BEGIN { printf "%.1f", s / (b / 1073741824) }') s per GiB (TCG)"
