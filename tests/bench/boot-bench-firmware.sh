#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot benchmark, the firmware boot (issue 14): the cost of booting as an Azure Gen2 VM does (OVMF
# with Secure Boot, shim, GRUB, kernel and initrd read by GRUB from the OS disk; tests/vm/lib
# VM_FIRMWARE=ovmf) reported apart from ephroot's own phases, for ephroot's overlay mode:
#   - firmware: QEMU's start to the console's first line of the kernel (OVMF, shim, GRUB reading
#     grub.cfg, the kernel and the initrd, all under TCG; the host polls the console every 0.5 s);
#     of which QEMU's start to GRUB's banner;
#   - ephroot: status.json's per-phase timings and total, as in boot-bench.sh;
#   - the kernel's uptime when the report ran, and QEMU's whole run.
# Run by boot-bench.sh after its own boots, or alone:
#   tests/bench/boot-bench-firmware.sh [RUNS]      RUNS boots (default 2), the median is kept
set -euo pipefail

bench_firmware() {
        local runs=$1 work out run cfg
        work=$(mktemp -d)
        vm_image_build "$PWD" "$PWD/build" plain
        vm_image_efi
        echo "== firmware boot (OVMF + Secure Boot, shim, GRUB 2.06), ephroot overlay mode, $runs boot(s)"
        echo "   $(paste -sd';' "$VM_EFI_DIR/versions")"
        cp --sparse=always "$VM_EFI_OS_IMAGE" "$work/os.img"
        vm_grub_cfg "fsck.mode=skip ephroot=on ephroot.device=/dev/sda ephroot.mode=overlay ephroot.failure-action=poweroff" \
                >"$work/grub.cfg"
        vm_os_image_put "$work/os.img" "$work/grub.cfg" /boot/grub/grub.cfg
        : >"$work/results"
        for run in $(seq 1 "$runs"); do
                out=$work/fw-$run
                vm_resource_disk "$work/resource.img" 2048 azure
                VM_FIRMWARE=ovmf VM_OS_IMAGE=$work/os.img VM_RESOURCE_DISK=$work/resource.img vm_boot "$out" || true
                if ! grep -qx 'report=end' "$out/report"; then
                        cp "$out/serial.log" "/tmp/boot-bench-firmware-$run.log"
                        echo "boot-bench: firmware run $run did not reach the report; console: /tmp/boot-bench-firmware-$run.log" >&2
                        return 1
                fi
                vm_blob "$out" status "$out/status.json"
                cfg=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["result"]=="ok"; print(" ".join("%s_ms=%.0f" % (p["name"], p["ms"]) for p in s["phases"]) + " total_ms=%.0f" % s["total_ms"])' "$out/status.json")
                echo "run=$run $(grep -E '^(ms|grub_ms|kernel_ms)=' "$out/boot.env" | paste -sd' ') uptime_s=$(vm_get "$out" uptime_s) $cfg" \
                        | tee -a "$work/results" | sed 's/^/   /'
        done
        python3 - "$work/results" <<'PY'
import statistics, sys
rows = [dict(x.split("=", 1) for x in line.split()) for line in open(sys.argv[1])]
med = lambda k: statistics.median(float(r[k]) for r in rows)
phases = ["measure", "key", "disk", "volume", "measure-disk", "root", "leave"]
print("| QEMU start → GRUB banner s | QEMU start → kernel s | " + " | ".join(phases) + " | ephroot total ms | uptime at report s | QEMU run s |")
print("|---|---|" + "---|" * (len(phases) + 3))
print("| %.1f | **%.1f** | " % (med("grub_ms") / 1000, med("kernel_ms") / 1000)
      + " | ".join("%.0f" % med(p + "_ms") for p in phases)
      + " | **%.0f** | %.1f | %.1f |" % (med("total_ms"), med("uptime_s"), med("ms") / 1000))
PY
        rm -rf "$work"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        cd "$(dirname "$(readlink -f "$0")")/../.."
        . tests/vm/lib/image.sh
        . tests/vm/lib/boot.sh
        vm_require
        meson setup build >/dev/null 2>&1 || true
        ninja -C build >/dev/null
        bench_firmware "${1:-2}"
fi
