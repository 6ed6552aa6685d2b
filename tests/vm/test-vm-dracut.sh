#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The dracut image (VM_IMAGE_VARIANT=dracut: Debian 12's dracut in place of initramfs-tools, systemd
# in the initrd, ephroot.service from units/ and the 90ephroot module).
#   image: what dracut put into the initrd: the module, the unit and the link that makes
#          initrd-root-fs.target require it, the binary (byte for byte the installed one), the TCTI
#          module, libgcc_s, e2fsprogs' mke2fs, the configuration, the kernel modules; no error from
#          dracut.
#   guard: ephroot killed with SIGKILL in the middle of its run (the rig's test-only crash unit,
#          ephroot-test.crash): no failure line from ephroot (it had no chance), but ExecStopPost=
#          (`ephroot boot-failed`) measures the failure event and the unit's failure powers the
#          machine off (FailureAction=poweroff-force); the switch to the real root never begins,
#          nothing of the OS is reached, the OS image unchanged.
#   test-vm-dracut.sh CASE SRCDIR BUILDROOT EPHROOT
set -u
case_=$1
shift
export VM_IMAGE_VARIANT=dracut
. "$(dirname "$0")/lib/checks.sh"
vm_test_init "$case_" "$@"

case "$case_" in
image)
        list="$VM_IMAGE_DIR/initrd.list"
        has() {
                grep -qE "[ /]$1( |\$)" "$list"
        }
        cat "$VM_IMAGE_DIR/timings"
        check "dracut printed no error" sh -c "! grep -iE 'error|failed' '$VM_IMAGE_DIR/dracut.log'"
        check "dracut included the ephroot module" sh -c "sed -n '/^dracut modules:/,/^=====/p' '$list' | grep -qx ephroot"
        check "dracut included the systemd module (a systemd-based initrd)" \
                sh -c "sed -n '/^dracut modules:/,/^=====/p' '$list' | grep -qx systemd"
        check "initrd-root-fs.target requires ephroot.service" \
                grep -qE 'usr/lib/systemd/system/initrd-root-fs\.target\.requires/ephroot\.service -> \.\./ephroot\.service' "$list"
        for f in usr/sbin/ephroot usr/lib/systemd/system/ephroot.service etc/ephroot.conf etc/initrd-release \
                'usr/lib/x86_64-linux-gnu/libtss2-tcti-device\.so\.0' 'usr/lib/x86_64-linux-gnu/libtss2-tctildr\.so\.0' \
                'usr/lib/x86_64-linux-gnu/libcryptsetup\.so\.12' 'usr/lib/x86_64-linux-gnu/libgcc_s\.so\.1' \
                usr/sbin/mke2fs usr/sbin/mkfs.ext4 usr/sbin/dmsetup usr/lib/udev/rules.d/95-dm-notify.rules; do
                check "initrd holds $f" has "$f"
        done
        vm_check_initrd_modules "$list"
        mkdir -p "$VM_WORK/initrd"
        python3 "$VM_SRC/tests/vm/lib/initrd-extract.py" "$VM_INITRD" "$VM_WORK/initrd" usr/sbin/ephroot \
                usr/lib/systemd/system/ephroot.service usr/sbin/mke2fs || fail "could not read files back from the initrd"
        check "the initrd's ephroot = the installed build" \
                cmp -s "$VM_WORK/initrd/ephroot" "$VM_INSTALLED_EPHROOT"
        check "the initrd's ephroot.service = units/ephroot.service" cmp -s "$VM_WORK/initrd/ephroot.service" "$VM_SRC/units/ephroot.service"
        v=$(vm_binary_version "$VM_WORK/initrd/mke2fs")
        check "the initrd's mke2fs is e2fsprogs' ($v)" [ "${v#mke2fs 1.}" != "$v" ]
        ;;
guard)
        out=$VM_WORK/boot
        vm_resource_disk "$VM_WORK/resource.img" 2048 azure || exit 1
        os_before=$(vm_hash "$VM_OS_IMAGE")
        VM_RESOURCE_DISK=$VM_WORK/resource.img VM_DEADLINE=400 \
        VM_APPEND="ephroot=on ephroot.device=/dev/sda ephroot.mode=copy ephroot.failure-action=poweroff ephroot-test.crash" \
                vm_boot "$out"
        tr -d '\r' <"$out/serial.log" | grep -a -e '^ephroot' -e 'ephroot.service' | sed 's/^/   console: /'
        check "the rig killed ephroot with SIGKILL while it ran" \
                sh -c "tr -d '\r' <'$out/serial.log' | grep -aq 'ephroot-test: killed ephroot (pid [0-9]*) with SIGKILL'"
        check "ephroot printed no failure line (it was killed, not failing)" \
                sh -c "! tr -d '\r' <'$out/serial.log' | grep -aq 'ephroot: boot failed'"
        check "ExecStopPost= measured the failure event ephroot could not (ephroot boot-failed)" \
                sh -c "tr -d '\r' <'$out/serial.log' | grep -aq 'ephroot: the boot did not finish (signal): failure event measured into 3 PCRs (1 bank)'"
        check "QEMU powered off before the deadline (the unit's FailureAction=)" grep -qx 'deadline_hit=no' "$out/boot.env"
        check "no report line: the booted system was never reached" [ ! -s "$out/report" ]
        vm_check_never_switched "$out"
        check "the OS image is unchanged" [ "$(vm_hash "$VM_OS_IMAGE")" = "$os_before" ]
        ;;
*)
        echo "unknown case '$case_'" >&2
        exit 2
        ;;
esac
vm_test_done
