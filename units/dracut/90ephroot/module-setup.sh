#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ephroot's dracut module: ephroot.service in a systemd-based initrd (docs/boot.md). It puts into the
# initrd what the initramfs-tools hook puts there (initramfs-hooks/initramfs-tools/hooks/ephroot):
# the binary and its libraries, the TCTI modules the loader dlopens, libgcc_s (glibc dlopens it for
# the threads libcryptsetup starts), /etc/ephroot.conf, e2fsprogs' mke2fs, the kernel modules for
# device-mapper, the ciphers, the TPM, the disks and ext4/overlay; for attestation the CA file, the
# VCEK file and dracut's network module. The unit is required by initrd-root-fs.target: ephroot runs
# in every boot of this initrd and decides itself whether it is enabled (ephroot=on).
#
# dracut goes on when install() merely returns an error, which would leave an initrd without
# ephroot: the unit goes in first (so whatever is missing later makes the boot fail closed rather
# than skip ephroot), and any error stops the build (dfatal, exit 1).

# KEY: its value in /etc/ephroot.conf as ephroot reads it (`ephroot config --get`; empty when unset).
# There is no kernel command line when the initrd is built. Fails when ephroot refuses the file.
ephroot_conf_get() {
        /usr/sbin/ephroot --log-target stderr config --cmdline-file /dev/null --get "$1"
}

ephroot_fatal() {
        dfatal "ephroot: $*"
        exit 1
}

check() {
        require_binaries /usr/sbin/ephroot || return 1
        return 0
}

# systemd: the unit is what runs ephroot (a systemd-based initrd only). A configuration ephroot
# refuses brings the network in too: install() then stops the build on it.
depends() {
        local deps="systemd systemd-udevd dm rootfs-block" attest
        attest=$(ephroot_conf_get attest 2>/dev/null) || attest=required
        case "$attest" in
        required | optional) deps="$deps network" ;;
        esac
        echo "$deps"
        return 0
}

installkernel() {
        hostonly='' instmods dm-mod dm-crypt dm-integrity dm-verity xts ecb aesni_intel algif_skcipher \
                tpm_tis tpm_tis_core tpm_crb hv_vmbus hv_storvsc hv_netvsc nvme \
                virtio_pci virtio_blk virtio_scsi virtio_net sd_mod ext4 overlay
}

install() {
        local libdir tctis t conf_tcti ca vcek

        inst_binary /usr/sbin/ephroot || ephroot_fatal "cannot install /usr/sbin/ephroot"
        inst_simple "$moddir/ephroot.service" "$systemdsystemunitdir/ephroot.service" ||
                ephroot_fatal "cannot install ephroot.service"
        mkdir -p "$initdir$systemdsystemunitdir/initrd-root-fs.target.requires" &&
                ln_r "$systemdsystemunitdir/ephroot.service" \
                        "$systemdsystemunitdir/initrd-root-fs.target.requires/ephroot.service" &&
                [ -L "$initdir$systemdsystemunitdir/initrd-root-fs.target.requires/ephroot.service" ] ||
                ephroot_fatal "cannot make initrd-root-fs.target require ephroot.service"
        if [ -e /etc/ephroot.conf ]; then
                inst_simple /etc/ephroot.conf || ephroot_fatal "cannot install /etc/ephroot.conf"
        fi

        # TCTI modules, from the directory the TCTI loader lives in.
        libdir=$(ldd /usr/sbin/ephroot | sed -n 's/^[[:space:]]*libtss2-tctildr\.so\.0 => \([^ ]*\)\/libtss2-tctildr\.so\.0 .*/\1/p')
        [ -n "$libdir" ] || ephroot_fatal "cannot find libtss2-tctildr.so.0 among /usr/sbin/ephroot's libraries"
        tctis=device
        conf_tcti=$(ephroot_conf_get tcti) || ephroot_fatal "cannot read tcti from /etc/ephroot.conf"
        conf_tcti=${conf_tcti%%:*}
        case "$conf_tcti" in
        "" | device) ;;
        *) tctis="$tctis $conf_tcti" ;;
        esac
        for t in $tctis; do
                if [ -e "$libdir/libtss2-tcti-$t.so.0" ]; then
                        # inst (dracut-install with its library resolution), not inst_library, which
                        # dracut 106 (Debian 13) no longer has.
                        inst "$libdir/libtss2-tcti-$t.so.0" || ephroot_fatal "cannot install libtss2-tcti-$t.so.0"
                elif [ "$t" = device ]; then
                        ephroot_fatal "$libdir/libtss2-tcti-device.so.0 is missing (package libtss2-tcti-device0)"
                else
                        dwarn "ephroot: TCTI module libtss2-tcti-$t.so.0 (tcti = in /etc/ephroot.conf) not found"
                fi
        done
        inst_libdir_file "libgcc_s.so*" || ephroot_fatal "libgcc_s.so.1 not found"

        inst_multiple mke2fs mkfs.ext4 || ephroot_fatal "cannot install mke2fs (package e2fsprogs)"
        if [ -e /etc/mke2fs.conf ]; then
                inst_simple /etc/mke2fs.conf || ephroot_fatal "cannot install /etc/mke2fs.conf"
        fi

        ca=$(ephroot_conf_get kbs-ca-file) || ephroot_fatal "cannot read kbs-ca-file from /etc/ephroot.conf"
        if [ -n "$ca" ]; then
                [ -r "$ca" ] || ephroot_fatal "kbs-ca-file = $ca in /etc/ephroot.conf is not readable"
                inst_simple "$ca" || ephroot_fatal "cannot install $ca"
        elif [ -r /etc/ssl/certs/ca-certificates.crt ]; then
                inst_simple /etc/ssl/certs/ca-certificates.crt
        fi
        vcek=$(ephroot_conf_get attest-vcek-file) || ephroot_fatal "cannot read attest-vcek-file from /etc/ephroot.conf"
        if [ -n "$vcek" ]; then
                [ -r "$vcek" ] || ephroot_fatal "attest-vcek-file = $vcek in /etc/ephroot.conf is not readable"
                inst_simple "$vcek" || ephroot_fatal "cannot install $vcek"
        fi
}
