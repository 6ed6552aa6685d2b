# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced: boots the test image (tests/vm/lib/image.sh) in QEMU under TCG and reads back the report.
#
#   vm_boot OUTDIR
#       Boots VM_KERNEL/VM_INITRD with "VM_CMDLINE_BASE VM_APPEND" on VM_OS_IMAGE (virtio-blk,
#       snapshot mode: the image file is never written), with
#         VM_RESOURCE_DISK  a raw image attached like Azure's resource disk: virtio-scsi, LUN 1,
#                           vendor Msft, product "Virtual Disk" (/dev/sda in the guest); empty: none
#         VM_TPM            yes (default): a fresh swtpm per boot, i.e. an ephemeral vTPM; no: none
#         VM_TPM_BANKS      PCR banks of that swtpm (default sha256)
#         VM_TPM_STATE      a swtpm state directory made beforehand (e.g. so a broker's policy can
#                           trust the AK its seeds give): copied for each boot instead of a fresh one
#         VM_QEMU_ARGS      extra QEMU arguments, split on blanks (e.g. a -netdev user with guestfwd)
#         VM_DEADLINE       seconds before the host kills QEMU (default 600)
#         VM_STOP_ON        a console string after which the host stops QEMU (a boot that halts
#                           instead of powering off); boot.env then says stopped_on=yes
#         VM_TPM_KEEP       yes: the TPM's state as the guest left it is kept for vm_tpm_pcrs: QEMU
#                           is killed (SIGKILL, so it does not shut the TPM down) at VM_STOP_ON, and
#                           swtpm stores its volatile state (PCRs) into OUTDIR/tpm/state;
#                           boot.env then says tpm_kept=yes
#       In a firmware boot, boot.env also has grub_ms and kernel_ms: when the console first showed
#       GRUB's banner and the kernel's first line, from QEMU's start (the firmware's cost).
#         VM_FIND           strings the report looks for in the decrypted volume (fw_cfg)
#         VM_FIRMWARE       direct (default): QEMU loads VM_KERNEL and VM_INITRD itself, no firmware
#                           measures anything; ovmf: boots like an Azure Gen2 VM with Secure Boot, UEFI
#                           firmware (Debian's OVMF_CODE_4M.secboot.fd with SMM, a fresh copy of
#                           OVMF_VARS_4M.ms.fd per boot: Microsoft's keys enrolled, Secure Boot on;
#                           VM_OVMF_CODE, VM_OVMF_VARS choose others) from
#                           the disk's ESP: shim, GRUB, and the kernel, initrd and command line that
#                           /boot/grub/grub.cfg names (VM_OS_IMAGE from vm_image_efi; VM_KERNEL,
#                           VM_INITRD and VM_APPEND are not used, OUTDIR/cmdline holds VM_CMDLINE, the
#                           command line grub.cfg gives, when set)
#       Writes OUTDIR/serial.log (the console), OUTDIR/cmdline, OUTDIR/qemu.log, OUTDIR/report
#       (the EPHROOT-TEST key=value lines, nothing else) and OUTDIR/boot.env (qemu_rc, seconds,
#       deadline_hit). Returns 0 when QEMU exited by itself before the deadline.
#   vm_get OUTDIR KEY              the value of one report key (empty and status 1 if absent)
#   vm_tpm_pcrs OUTDIR BANK LIST   after a VM_TPM_KEEP boot: "PCR HEX" lines of the kept TPM's PCRs
#                                  (swtpm restarted on that state without a TPM2_Startup)
#   vm_blob OUTDIR NAME FILE       reassembles a file the report sent in chunks; checks its SHA-256
#   vm_resource_disk FILE MIB KIND a resource disk image: azure (MBR + NTFS "Temporary Storage", as
#                                  Azure delivers it), raw (zeros), ext4-files (an ext4 with files)
#   vm_require                     exits 77 when QEMU, swtpm or debootstrap is missing
#   vm_os_image_with_fstab FILE TEXT
#                                  a copy of VM_OS_IMAGE (sparse) whose /etc/fstab holds TEXT (written
#                                  into the ext4 at 1 MiB with debugfs)

VM_LIB_DIR=$(dirname "${BASH_SOURCE[0]}")
. "$VM_LIB_DIR/../../lib/swtpm.sh"

vm_require() {
        local t
        for t in qemu-system-x86_64 swtpm swtpm_setup debootstrap mkfs.ext4 debugfs sfdisk mkntfs ntfscp blkid zstd \
                 unshare python3 base64; do
                if ! command -v "$t" >/dev/null && ! [ -x "/usr/sbin/$t" ] && ! [ -x "/sbin/$t" ]; then
                        echo "SKIP: $t not found (scripts/install-deps installs it)" >&2
                        exit 77
                fi
        done
        [ "$(id -u)" = 0 ] || { echo "SKIP: building the VM image needs root (debootstrap, chroot)" >&2; exit 77; }
}

vm_resource_disk() {
        local file=$1 mib=$2 kind=$3 part sectors
        rm -f "$file"
        truncate -s "${mib}M" "$file"
        case "$kind" in
        raw) ;;
        azure)
                # What a fresh Azure SCSI resource disk holds: an MBR with one NTFS partition labelled
                # "Temporary Storage" holding DATALOSS_WARNING_README.txt.
                sectors=$(( mib * 2048 - 2048 ))
                printf 'label: dos\nstart=2048, type=7\n' | sfdisk -q "$file" || return 1
                part="$file.part"
                truncate -s "$(( sectors * 512 ))" "$part"
                mkntfs -q -F -f -s 512 -p 2048 -H 255 -S 63 -L "Temporary Storage" "$part" >/dev/null 2>&1 || return 1
                printf 'WARNING: THIS IS A TEMPORARY DISK.\r\n' >"$file.readme"
                ntfscp -f "$part" "$file.readme" DATALOSS_WARNING_README.txt >/dev/null 2>&1 || return 1
                dd if="$part" of="$file" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
                rm -f "$part" "$file.readme"
                ;;
        ext4-files)
                mkdir -p "$file.d/data"
                printf 'somebody else'"'"'s data\n' >"$file.d/data/precious.txt"
                mkfs.ext4 -q -F -L userdata -d "$file.d" "$file" || return 1
                rm -rf "$file.d"
                ;;
        *)
                echo "vm_resource_disk: unknown kind '$kind'" >&2
                return 1
                ;;
        esac
}

vm_os_image_with_fstab() {
        local file=$1 text=$2
        cp --sparse=always "$VM_OS_IMAGE" "$file" || return 1
        printf '%s' "$text" >"$file.fstab"
        debugfs -w -R "rm /etc/fstab" "$file?offset=1048576" >/dev/null 2>&1
        debugfs -w -R "write $file.fstab /etc/fstab" "$file?offset=1048576" >/dev/null 2>&1 || return 1
        [ "$(debugfs -R 'cat /etc/fstab' "$file?offset=1048576" 2>/dev/null)" = "$(cat "$file.fstab")" ]
}

vm_boot() {
        local out=$1 cmdline start rc qemu stopped kept fw_grub_ms fw_kernel_ms boot_index= tpm_args=() res_args=() fw_args=() extra_args=() boot_args=() deadline=${VM_DEADLINE:-600}
        mkdir -p "$out"
        rm -f "$out/serial.log" "$out/report" "$out/qemu.log"
        if [ "${VM_FIRMWARE:-direct}" = ovmf ]; then
                # The firmware's variable store is written at every boot (boot entries, MOK state):
                # a fresh copy each time, as a new VM gets.
                cp "${VM_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.ms.fd}" "$out/OVMF_VARS.fd" || return 1
                boot_args=(-machine smm=on -global driver=cfi.pflash01,property=secure,value=on
                           -drive "if=pflash,format=raw,unit=0,readonly=on,file=${VM_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}"
                           -drive "if=pflash,format=raw,unit=1,file=$out/OVMF_VARS.fd")
                printf '%s' "${VM_CMDLINE:-}" >"$out/cmdline"
                # The OS disk first: the firmware's default order would try the network first.
                boot_index=",bootindex=0"
        else
                cmdline="$VM_CMDLINE_BASE${VM_APPEND:+ $VM_APPEND}"
                printf '%s' "$cmdline" >"$out/cmdline"
                boot_args=(-kernel "$VM_KERNEL" -initrd "$VM_INITRD" -append "$cmdline")
        fi

        if [ "${VM_TPM:-yes}" = yes ]; then
                rm -rf "$out/tpm"
                if [ -n "${VM_TPM_STATE:-}" ]; then
                        mkdir -p "$out/tpm/state" && cp -a "$VM_TPM_STATE/." "$out/tpm/state/" || return 1
                        SWTPM_KEEP=${VM_TPM_KEEP:-no} swtpm_start_vm "$out/tpm" || return 1
                else
                        SWTPM_KEEP=${VM_TPM_KEEP:-no} swtpm_start_vm "$out/tpm" "${VM_TPM_BANKS:-sha256}" || return 1
                fi
                read -r -a tpm_args <<<"$SWTPM_QEMU_ARGS"
        fi
        if [ -n "${VM_RESOURCE_DISK:-}" ]; then
                res_args=(-drive "file=$VM_RESOURCE_DISK,format=raw,if=none,id=res,cache=writeback"
                          -device virtio-scsi-pci,id=scsi0
                          -device "scsi-hd,drive=res,bus=scsi0.0,lun=1,vendor=Msft,product=Virtual Disk")
        fi

        if [ -n "${VM_FIND:-}" ]; then
                printf '%s\n' "$VM_FIND" >"$out/find"
                fw_args=(-fw_cfg "name=opt/ephroot-test/find,file=$out/find")
        fi

        [ -n "${VM_QEMU_ARGS:-}" ] && read -r -a extra_args <<<"$VM_QEMU_ARGS"

        start=$(date +%s%N)
        timeout --kill-after=10 "$deadline" qemu-system-x86_64 \
                -machine q35 -cpu max -m 2048 -smp 2 \
                -nodefaults -display none -no-reboot \
                -serial "file:$out/serial.log" \
                "${boot_args[@]}" \
                -drive "file=$VM_OS_IMAGE,format=raw,if=none,id=os,snapshot=on" \
                -device "virtio-blk-pci,drive=os${boot_index}" \
                "${res_args[@]}" "${tpm_args[@]}" "${fw_args[@]}" "${extra_args[@]}" \
                >"$out/qemu.log" 2>&1 </dev/null &
        qemu=$!
        stopped=no fw_grub_ms= fw_kernel_ms=
        # Watches the console: for VM_STOP_ON, and in a firmware boot for when GRUB and the kernel
        # start (the firmware's cost, half a second's resolution).
        if [ -n "${VM_STOP_ON:-}" ] || [ "${VM_FIRMWARE:-direct}" = ovmf ]; then
                while kill -0 "$qemu" 2>/dev/null; do
                        if [ "${VM_FIRMWARE:-direct}" = ovmf ] && [ -z "$fw_kernel_ms" ]; then
                                [ -z "$fw_grub_ms" ] && grep -aqF 'Welcome to GRUB' "$out/serial.log" 2>/dev/null &&
                                        fw_grub_ms=$(( ($(date +%s%N) - start) / 1000000 ))
                                grep -aqF 'Linux version' "$out/serial.log" 2>/dev/null &&
                                        fw_kernel_ms=$(( ($(date +%s%N) - start) / 1000000 ))
                        elif [ -z "${VM_STOP_ON:-}" ]; then
                                break
                        fi
                        if [ -n "${VM_STOP_ON:-}" ] && tr -d '\r' <"$out/serial.log" 2>/dev/null | grep -aqF -- "$VM_STOP_ON"; then
                                sleep 2
                                stopped=yes
                                # ($qemu is timeout's PID: SIGKILL goes to QEMU itself, its child)
                                if [ "${VM_TPM_KEEP:-no}" = yes ]; then pkill -KILL -P "$qemu"; else kill "$qemu"; fi 2>/dev/null
                                break
                        fi
                        sleep 0.5
                done
        fi
        wait "$qemu"
        rc=$?
        [ "$stopped" = yes ] && rc=0
        kept=no
        if [ "${VM_TPM:-yes}" = yes ] && [ "${VM_TPM_KEEP:-no}" = yes ]; then
                swtpm_ioctl --unix "$SWTPM_SOCK" -v >"$out/tpm/keep.log" 2>&1 && kept=yes
                swtpm_ioctl --unix "$SWTPM_SOCK" -s >>"$out/tpm/keep.log" 2>&1
        fi
        if [ "${VM_TPM:-yes}" = yes ]; then
                # swtpm --terminate exits with QEMU; make sure of it.
                kill "$SWTPM_PID" 2>/dev/null
                wait "$SWTPM_PID" 2>/dev/null
        fi
        {
                echo "qemu_rc=$rc"
                echo "ms=$(( ($(date +%s%N) - start) / 1000000 ))"
                if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo deadline_hit=yes; else echo deadline_hit=no; fi
                echo "stopped_on=$stopped"
                echo "tpm_kept=$kept"
                [ -n "$fw_grub_ms" ] && echo "grub_ms=$fw_grub_ms"
                [ -n "$fw_kernel_ms" ] && echo "kernel_ms=$fw_kernel_ms"
        } >"$out/boot.env"
        # Only the report's lines, wherever they start on a console line; carriage returns dropped.
        tr -d '\r' <"$out/serial.log" 2>/dev/null | sed -n 's/^.*EPHROOT-TEST \([A-Za-z0-9_.-]*=\)/\1/p' >"$out/report"
        [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && [ "$rc" -eq 0 ]
}

vm_tpm_pcrs() {
        local out=$1 bank=$2 list=$3 p
        grep -qx 'tpm_kept=yes' "$out/boot.env" || { echo "no kept TPM state in $out" >&2; return 1; }
        SWTPM_FLAGS=not-need-init swtpm_start "$out/tpm" >/dev/null 2>&1 || return 1
        for p in ${list//,/ }; do
                tpm2_pcrread "$bank:$p" -o "$out/tpm/pcr.bin" >/dev/null 2>&1 &&
                        echo "$p $(xxd -p -c 64 "$out/tpm/pcr.bin")" || { swtpm_stop; return 1; }
        done
        swtpm_stop
}

vm_get() {
        awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); found = 1; exit }
                END { exit !found }' "$1/report"
}

vm_blob() {
        local out=$1 name=$2 file=$3 head chunks sum i
        head=$(vm_get "$out" "blob.$name") || { echo "vm_blob: no blob '$name' in the report" >&2; return 1; }
        [ "$head" != absent ] || { echo "vm_blob: '$name' was absent in the guest" >&2; return 1; }
        chunks=$(echo "$head" | sed -n 's/^chunks=\([0-9]*\) .*/\1/p')
        sum=$(echo "$head" | sed -n 's/.* sha256=\([0-9a-f]*\)$/\1/p')
        : >"$file.b64"
        for ((i = 0; i < chunks; i++)); do
                vm_get "$out" "blob.$name.$i" >>"$file.b64" || { echo "vm_blob: chunk $i of '$name' missing" >&2; return 1; }
        done
        tr -d '\n' <"$file.b64" | base64 -d >"$file" 2>/dev/null || { echo "vm_blob: '$name' is not base64" >&2; return 1; }
        rm -f "$file.b64"
        [ "$(sha256sum <"$file" | cut -c1-64)" = "$sum" ] || { echo "vm_blob: '$name' garbled on the console (SHA-256 differs)" >&2; return 1; }
}
