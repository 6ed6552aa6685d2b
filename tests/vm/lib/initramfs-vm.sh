# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by VM tests and benchmarks: a throw-away Linux VM in QEMU (TCG) that runs one shell script
# as its only job. A busybox initramfs around Debian's own kernel (tests/lib/debian-kernel.sh), with
# the binaries the caller names and their shared libraries (found with ldd), the kernel modules it
# needs (with their dependencies, from modules.dep), a fresh swtpm as its TPM (tests/lib/swtpm.sh:
# an ephemeral vTPM, PCRs at zero), and the disk images the caller attaches. The guest reports on
# the serial console with lines "EPHROOT-RESULT name=value" and powers off (poweroff -f); the host
# enforces a deadline.
#
#   vm_check                                  returns 77 (print why) when QEMU or busybox is missing
#   vm_initramfs OUT SCRIPT                   builds OUT (gzip newc cpio) running SCRIPT as the job
#   vm_run LOG INITRAMFS TIMEOUT [DISK...]    boots; the serial console goes to LOG; returns the
#                                             guest job's exit status, 124 on timeout, 125 when the
#                                             guest never reported
#   vm_result LOG NAME                        prints the value of "EPHROOT-RESULT NAME=..." (last one)
#
# Knobs (set before the calls):
#   VM_BINARIES    host executables (names on PATH or paths) to copy, with their libraries, to the
#                  same path in the guest, also reachable as /usr/bin/<name> (cryptsetup, dmsetup
#                  and blkid always are); callers add their own (e.g. build/ephroot)
#   VM_FILES       extra "HOSTPATH:GUESTPATH" pairs
#   VM_MODULES     kernel modules to load at boot, in order (dependencies are added); default: virtio
#                  block and SCSI, sd_mod, dm-mod, dm-crypt, dm-integrity, AES/XTS, authenc, AF_ALG,
#                  loop, ext4
#   VM_DISK_BUS    virtio (default: /dev/vda, vdb, ...) or scsi (Azure-like "Msft Virtual Disk" on a
#                  virtio-scsi controller, LUNs from 0: /dev/sda, sdb, ...)
#   VM_MEMORY      MiB (default 1024); VM_SMP (default 1); VM_APPEND extra kernel command line
#   VM_QEMU_ARGS   extra QEMU arguments (word-split)
#   VM_TPM         1 (default) to attach a fresh swtpm, 0 for none
#   VM_TPM_STATE   a swtpm state directory to start from instead of a fresh one (copied: the tests
#                  that need to know the TPM's keys in advance, e.g. the attestation key)
#
# Guest side: the job runs as `sh SCRIPT` with PATH set, /proc /sys /dev (devtmpfs) /run /tmp
# mounted, modules loaded, and a helper `vm_wait_dev NODE [SECONDS]`. Everything the job prints goes
# to the console; kernel messages are kept off it (loglevel=1) so results stay on their own lines.

VM_LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. "$VM_LIB_DIR/../../lib/debian-kernel.sh"
. "$VM_LIB_DIR/../../lib/swtpm.sh"

: "${VM_BINARIES:=}"
: "${VM_FILES:=}"
: "${VM_MODULES:=virtio_pci virtio_blk virtio_scsi sd_mod dm_mod dm_crypt dm_integrity xts aesni_intel authenc af_alg algif_skcipher algif_hash algif_aead loop ext4}"
: "${VM_DISK_BUS:=virtio}"
: "${VM_MEMORY:=1024}"
: "${VM_SMP:=1}"
: "${VM_APPEND:=}"
: "${VM_QEMU_ARGS:=}"
: "${VM_TPM:=1}"
VM_DEFAULT_BINARIES="cryptsetup dmsetup blkid"

vm_check() {
        local t
        for t in qemu-system-x86_64 busybox cpio gzip ldd modprobe depmod; do
                if ! command -v "$t" >/dev/null; then
                        echo "SKIP: $t missing"
                        return 77
                fi
        done
        # (grep -x, not -q: under pipefail an early exit of grep -q kills busybox with SIGPIPE and the
        # pipeline "fails" on a loaded machine)
        if ! busybox --list 2>/dev/null | grep -x poweroff >/dev/null; then
                echo "SKIP: busybox without poweroff (need busybox-static)"
                return 77
        fi
        if [ "$VM_TPM" = 1 ] && ! command -v swtpm >/dev/null; then
                echo "SKIP: swtpm missing"
                return 77
        fi
        return 0
}

# Copies FILE and every library ldd names for it under ROOT: FILE to DEST (default: its own path),
# each library to its own path.
vm_copy_with_libs() {
        local root=$1 f=$2 dest=${3:-$2} lib
        mkdir -p "$root$(dirname "$dest")"
        cp -L "$f" "$root$dest"
        for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
                [ -e "$root$lib" ] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
        done
}

vm_initramfs() {
        local out=$1 script=$2 root b m p line mods=() seen=" "
        debian_kernel_fetch >/dev/null || return 1
        root=$(mktemp -d)
        mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,lib/modules,var/tmp}

        cp "$(command -v busybox)" "$root/bin/busybox"
        for b in $VM_DEFAULT_BINARIES $VM_BINARIES; do
                p=$(command -v "$b" 2>/dev/null || echo "$b")
                [ -x "$p" ] || { echo "vm_initramfs: no executable '$b'" >&2; rm -rf "$root"; return 1; }
                # By its base name on PATH, never at its host path: a build tree under /tmp or /run
                # would be hidden by the tmpfs the guest's init mounts there.
                [ -e "$root/usr/bin/$(basename "$p")" ] ||
                        vm_copy_with_libs "$root" "$(readlink -f "$p")" "/usr/bin/$(basename "$p")"
        done
        # Loaded at run time, invisible to ldd: the TPM device TCTI (and what it needs).
        for p in /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0 /lib/x86_64-linux-gnu/libtss2-tcti-device.so.0; do
                [ -e "$p" ] && { vm_copy_with_libs "$root" "$p"; break; }
        done
        for line in $VM_FILES; do
                mkdir -p "$root$(dirname "${line#*:}")"
                cp -L "${line%%:*}" "$root${line#*:}"
        done

        # Modules with their dependencies, in load order, each once.
        for m in $VM_MODULES; do
                while read -r kind p; do
                        [ "$kind" = insmod ] || continue
                        b=$(basename "$p")
                        case "$seen" in *" $b "*) continue ;; esac
                        seen="$seen$b "
                        cp "$p" "$root/lib/modules/$b"
                        mods+=("$b")
                done < <(modprobe -d "$DEBIAN_KERNEL_ROOT" -S "$DEBIAN_KVER" --show-depends "$m" 2>/dev/null)
        done
        printf '%s\n' "${mods[@]}" >"$root/etc/vm-modules"

        cp "$script" "$root/job.sh"
        cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
ln -sf /proc/self/fd /dev/fd 2>/dev/null
while read -r m; do
        insmod "/lib/modules/$m" 2>/dev/null || echo "EPHROOT-VM insmod-failed=$m"
done </etc/vm-modules
vm_wait_dev() {
        local i=0 max=$(( ${2:-10} * 10 ))
        while [ ! -b "$1" ] && [ ! -c "$1" ]; do
                i=$((i + 1)); [ $i -gt $max ] && return 1
                sleep 0.1
        done
}
echo "EPHROOT-VM ready uptime=$(cut -d' ' -f1 /proc/uptime)"
( . /job.sh )
rc=$?
echo
echo "EPHROOT-DONE rc=$rc"
sync
poweroff -f
INIT
        chmod +x "$root/init" "$root/bin/busybox"
        (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out" || { rm -rf "$root"; return 1; }
        rm -rf "$root"
}

vm_run() {
        local log=$1 initrd=$2 timeout=$3 tpmdir rc i=0 disk done_rc
        shift 3
        local args=(-machine q35 -cpu max -m "$VM_MEMORY" -smp "$VM_SMP" -nographic -no-reboot
                -kernel "$DEBIAN_KERNEL" -initrd "$initrd"
                -append "console=ttyS0 loglevel=1 panic=-1 rdinit=/init $VM_APPEND")
        debian_kernel_fetch >/dev/null || return 1
        if [ "$VM_DISK_BUS" = scsi ]; then
                args+=(-device virtio-scsi-pci,id=scsi0)
        fi
        for disk in "$@"; do
                args+=(-drive "file=$disk,if=none,id=d$i,format=raw")
                if [ "$VM_DISK_BUS" = scsi ]; then
                        args+=(-device "scsi-hd,drive=d$i,bus=scsi0.0,lun=$i,vendor=Msft,product=Virtual Disk")
                else
                        args+=(-device "virtio-blk-pci,drive=d$i")
                fi
                i=$((i + 1))
        done
        tpmdir=
        if [ "$VM_TPM" = 1 ]; then
                tpmdir=$(mktemp -d)
                if [ -n "${VM_TPM_STATE:-}" ]; then
                        mkdir -p "$tpmdir/state" && cp -a "$VM_TPM_STATE/." "$tpmdir/state/"
                fi
                swtpm_start_vm "$tpmdir" || { rm -rf "$tpmdir"; return 1; }
                # shellcheck disable=SC2206
                args+=($SWTPM_QEMU_ARGS)
        fi
        # shellcheck disable=SC2206
        args+=($VM_QEMU_ARGS)

        timeout --kill-after=10 "$timeout" qemu-system-x86_64 "${args[@]}" </dev/null >"$log" 2>&1
        rc=$?
        if [ -n "$tpmdir" ]; then
                swtpm_stop
                rm -rf "$tpmdir"
        fi
        tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
        [ "$rc" = 124 ] || [ "$rc" = 137 ] && { echo "vm_run: no power-off within ${timeout}s" >&2; return 124; }
        done_rc=$(grep -o 'EPHROOT-DONE rc=[0-9]*' "$log" | tail -n1 | cut -d= -f2)
        [ -n "$done_rc" ] || { echo "vm_run: the guest never reported (QEMU exit $rc)" >&2; return 125; }
        return "$done_rc"
}

vm_result() {
        sed -n "s/^.*EPHROOT-RESULT $2=//p" "$1" | tail -n1
}
