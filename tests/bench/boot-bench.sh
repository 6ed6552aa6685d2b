#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot benchmark (not a test): in one run of the VM rig, the time from the start of the root setup
# to the root ready, for
#   - ephroot, copy mode and overlay mode: status.json's per-phase timings and total (measured by
#     ephroot itself, from its start to the root ready);
#   - ephroot, overlay mode with the OS root under dm-verity (docs/verity.md): the tree written by
#     `ephroot verity-format` onto a second virtio disk, the root hash on the command line;
#   - overlayroot's crypt mode (`overlayroot=crypt:dev=/dev/sda,mkfs=1`), the closest peer, as the
#     anchor: its init-bottom script's start and end, as uptime stamps the rig adds to it (Debian
#     12's overlayroot patched in the rig only: tests/vm/lib/image.sh, vm_image_patch_overlayroot);
# each on the same image, the same 2 GiB Azure-like resource disk, a fresh swtpm, QEMU under TCG.
# Then, in a throw-away VM (tests/vm/lib/initramfs-vm.sh) with the same OS partition and tree, the
# whole partition read raw and through dm-verity (tests/bench/guest/verity-read.sh).
# Prints the figures and the ratios; docs/performance.md ("## Boot") records them.
#   tests/bench/boot-bench.sh [RUNS]      RUNS per configuration (default 2), the median is kept
#   BENCH_CONFIGS="copy overlay verity"   a subset of the four (default: all, with overlayroot)
# Every ephroot boot has fsck.mode=skip (dm-verity refuses initramfs-tools' fsck rewriting the
# superblock; the others get it too so the boots differ only in the root mode).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
. tests/vm/lib/image.sh
. tests/vm/lib/boot.sh
runs=${1:-2}
configs=" ${BENCH_CONFIGS:-copy overlay verity overlayroot} "
vm_require

meson setup build >/dev/null 2>&1 || true
ninja -C build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results
: >"$results"

# One boot; appends "CONFIG RUN KEY=VALUE..." to the results.
bench_boot() {
        local config=$1 run=$2 append=$3 out=$work/$1-$2 qemu_args=
        [ "$config" = verity ] &&
                qemu_args="-drive file=$work/hash.img,format=raw,if=none,id=vh,readonly=on -device virtio-blk-pci,drive=vh"
        vm_resource_disk "$work/resource.img" 2048 azure
        VM_RESOURCE_DISK=$work/resource.img VM_APPEND=$append VM_QEMU_ARGS=$qemu_args vm_boot "$out" || true
        if ! grep -qx 'report=end' "$out/report"; then
                cp "$out/serial.log" "/tmp/boot-bench-$config-$run.log"
                echo "boot-bench: $config run $run did not reach the report; console: /tmp/boot-bench-$config-$run.log" >&2
                exit 1
        fi
        local uptime upper
        uptime=$(vm_get "$out" uptime_s)
        case "$config" in
        overlayroot)
                # It fails open: make sure the root really is an overlay on a dm-crypt upper.
                upper=$(vm_get "$out" root.upper_source || true)
                if [ "$(vm_get "$out" root.fstype)" != overlay ] || [ "$(vm_get "$out" root.dm_target || true)" != crypt ]; then
                        cp "$out/serial.log" /tmp/boot-bench-overlayroot.log
                        echo "boot-bench: overlayroot did not set up its crypt overlay (root $(vm_get "$out" root.source), upper '$upper'); console: /tmp/boot-bench-overlayroot.log" >&2
                        exit 1
                fi
                tr -d '\r' <"$out/serial.log" | python3 -c '
import re, sys
t = {}
for line in sys.stdin:
    m = re.search(r"overlayroot-bench: (start|end) ([0-9.]+)", line)
    if m:
        t[m.group(1)] = float(m.group(2))
print("total_ms=%.0f" % ((t["end"] - t["start"]) * 1000))' | sed "s/^/$config $run uptime_s=$uptime /" >>"$results"
                ;;
        *)
                vm_blob "$out" status "$out/status.json"
                python3 - "$out/status.json" <<'PY' | sed "s/^/$config $run uptime_s=$uptime /" >>"$results"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "ok", s
print(" ".join("%s_ms=%.0f" % (p["name"], p["ms"]) for p in s["phases"]) + " total_ms=%.0f copied_mib=%s verity_open_ms=%s" % (
    s["total_ms"], s["root"].get("copied", 0) // 1048576 if "copied" in s["root"] else "-", s["root"].get("verity_open_ms", "-")))
PY
                ;;
        esac
        echo "   $config run $run: $(tail -n 1 "$results" | cut -d' ' -f3-)"
}

echo "== images (cached): ephroot, and the same plus Debian's overlayroot (patched) for the anchor"
vm_image_build "$PWD" "$PWD/build" plain
plain_env=$(env | grep '^VM_' | sed 's/^/export /; s/=\(.*\)$/="\1"/')
olr_env=$plain_env
if [[ $configs == *" overlayroot "* ]]; then
        vm_image_build "$PWD" "$PWD/build" overlayroot
        olr_env=$(env | grep '^VM_' | sed 's/^/export /; s/=\(.*\)$/="\1"/')
fi
echo "   $(echo "$plain_env" | sed -n 's/^export VM_IMAGE_DIR="\(.*\)"$/\1/p'), $(echo "$olr_env" | sed -n 's/^export VM_IMAGE_DIR="\(.*\)"$/\1/p')"

echo "== dm-verity tree for the image's root partition (ephroot verity-format, on a disk of its own)"
eval "$plain_env"
dd if="$VM_OS_IMAGE" of="$work/root.part" bs=1M skip=1 conv=sparse status=none
truncate -s $(( ($(stat -c %s "$work/root.part") / 100) + (1 << 20) )) "$work/hash.img"
root_hash=$(build/ephroot verity-format "$work/root.part" --hash-device "$work/hash.img")
echo "   root hash $root_hash, partition $(( $(stat -c %s "$work/root.part") >> 20 )) MiB"

echo "== $runs boot(s) per configuration (QEMU TCG, -smp 2, 2 GiB, fresh swtpm, 2 GiB Azure-like disk)"
for run in $(seq 1 "$runs"); do
        eval "$plain_env"
        common="fsck.mode=skip ephroot=on ephroot.device=/dev/sda ephroot.failure-action=poweroff"
        [[ $configs == *" copy "* ]] && bench_boot copy "$run" "$common ephroot.mode=copy"
        [[ $configs == *" overlay "* ]] && bench_boot overlay "$run" "$common ephroot.mode=overlay"
        [[ $configs == *" verity "* ]] &&
                bench_boot verity "$run" "$common ephroot.mode=overlay ephroot.verity-root-hash=$root_hash ephroot.verity-hash-device=/dev/vdb"
        if [[ $configs == *" overlayroot "* ]]; then
                eval "$olr_env"
                bench_boot overlayroot "$run" "overlayroot=crypt:dev=/dev/sda,mkfs=1"
                eval "$plain_env"
        fi
done

echo "== whole root partition read raw and through dm-verity, same VM run (QEMU TCG, 1 vCPU), $runs rounds"
. tests/vm/lib/initramfs-vm.sh
echo "$runs $root_hash" >"$work/verity-args"
VM_BINARIES=veritysetup
VM_MODULES="virtio_pci virtio_blk dm_mod dm_verity"
VM_FILES="$PWD/tests/vm/guest/lib.sh:/guest/lib.sh $work/verity-args:/guest/args"
VM_TPM=0 # no TPM needed to read a partition
vm_initramfs "$work/verity-read.gz" tests/bench/guest/verity-read.sh
vm_run "$work/verity-read.log" "$work/verity-read.gz" 1200 "$work/root.part" "$work/hash.img" ||
        { echo "boot-bench: the read VM failed:" >&2; tail -n 30 "$work/verity-read.log" >&2; exit 1; }
for r in $(seq 1 "$runs"); do
        echo "read raw=$(vm_result "$work/verity-read.log" raw-$r) verity=$(vm_result "$work/verity-read.log" verity-$r)" >>"$results"
done
echo "   bytes read: $(vm_result "$work/verity-read.log" bytes)"
# initramfs-vm.sh's settings end here: its VM_TPM=1 default means "no TPM" to boot.sh (which wants
# "yes"), and the firmware boot below then found no TPM.
unset VM_TPM VM_BINARIES VM_MODULES VM_FILES

echo "== results (median of $runs; ms from the start of the root setup to the root ready)"
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    cfg = f[0]
    kv = dict(x.split("=", 1) for x in f[2:])
    if cfg == "read":
        rows.setdefault(cfg, []).append(dict(x.split("=", 1) for x in f[1:]))
        continue
    rows.setdefault(cfg, []).append(kv)
def med(cfg, key):
    v = [float(r[key]) for r in rows[cfg] if key in r and r[key] != "-"]
    return statistics.median(v) if v else None
phases = ["measure", "key", "disk", "volume", "measure-disk", "root", "leave"]
print("| | " + " | ".join(phases) + " | total ms | uptime at report s |")
print("|---|" + "---|" * (len(phases) + 2))
names = {"copy": "copy", "overlay": "overlay", "verity": "overlay + dm-verity"}
for cfg in [x for x in ("copy", "overlay", "verity") if x in rows]:
    print("| ephroot %s | " % names[cfg] + " | ".join("%.0f" % med(cfg, p + "_ms") for p in phases)
          + " | **%.0f** | %.1f |" % (med(cfg, "total_ms"), med(cfg, "uptime_s")))
if "overlayroot" in rows:
    print("| overlayroot crypt | " + " | ".join("" for _ in phases) + " | **%.0f** | %.1f |" % (
        med("overlayroot", "total_ms"), med("overlayroot", "uptime_s")))
    o = med("overlayroot", "total_ms")
    print()
    print("overlayroot crypt / ephroot overlay = %.1f (same layout: an overlay with a fresh encrypted upper)" % (o / med("overlay", "total_ms")))
    print("overlayroot crypt / ephroot copy    = %.2f (copy also moves the whole root, %s MiB, into the volume)" % (
        o / med("copy", "total_ms"), rows["copy"][0].get("copied_mib")))
print()
v, ov, c = med("verity", "root_ms"), med("overlay", "root_ms"), med("copy", "root_ms")
print("root phase: overlay+verity / overlay = %.2f (goal <= 1.2); copy / overlay+verity = %.1f (goal >= 5)" % (v / ov, c / v))
print("whole ephroot run: overlay+verity / overlay = %.2f; copy / overlay+verity = %.1f" % (
    med("verity", "total_ms") / med("overlay", "total_ms"), med("copy", "total_ms") / med("verity", "total_ms")))
print("dm-verity opened and mounted in a child during the volume phase: %.0f ms; volume phase overlay+verity / overlay = %.2f" % (
    med("verity", "verity_open_ms"), med("verity", "volume_ms") / med("overlay", "volume_ms")))
raw, ver = med("read", "raw"), med("read", "verity")
print("whole partition read: raw %.2f s, through dm-verity %.2f s, ratio %.2f" % (raw, ver, ver / raw))
PY

# The firmware boot (OVMF, shim, GRUB), its cost reported apart from ephroot's phases.
. tests/bench/boot-bench-firmware.sh
bench_firmware "$runs"
