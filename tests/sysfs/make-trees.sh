#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Regenerates the fake sysfs trees under tests/sysfs/<layout>/ that the discovery unit tests read.
# The trees are checked in (git keeps the relative symlinks); run this after changing it:
#     tests/sysfs/make-trees.sh tests/sysfs
# Shapes follow the kernel's: /sys/class/block/<name> -> ../../devices/.../block/<name>, a SCSI
# disk's "device" -> its H:C:T:L directory under the VMBus device (which holds device_id), an NVMe
# namespace's "device" -> its controller, whose "device" is the PCI function (vendor).

set -eu

out=${1:?usage: make-trees.sh OUTPUT-DIR}
AZURE_TAG=7783-7084-3265-9085-8269-3286-77
VMBUS=sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00
SCSI_CLASS='{ba6163d9-04a1-4d29-b605-72e2ffb1dc7f}'
IDE_CLASS='{32412632-86cb-44a2-9b5c-50d1417354f5}'

root() { # LAYOUT ASSET-TAG SYS-VENDOR
        R=$out/$1
        rm -rf "$R"
        mkdir -p "$R/sys/class/block" "$R/sys/class/nvme" "$R/sys/class/dmi/id" "$R/sys/dev/block" \
                "$R/proc/self" "$R/dev/disk/by-path" "$R/etc"
        echo "$2" >"$R/sys/class/dmi/id/chassis_asset_tag"
        echo "$3" >"$R/sys/class/dmi/id/sys_vendor"
        : >"$R/proc/self/mountinfo"
        printf 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n' >"$R/proc/swaps"
        : >"$R/proc/cmdline"
        : >"$R/etc/ephroot.conf"
}

# block DIR NAME MAJ MIN SECTORS: the block directory itself, plus the class and dev links.
block() {
        local d=$1 rel
        mkdir -p "$d"
        echo "$5" >"$d/size"
        echo 0 >"$d/ro"
        echo "$3:$4" >"$d/dev"
        rel=${d#"$R"/sys/}
        ln -s "../../$rel" "$R/sys/class/block/$2"
        ln -s "../../$rel" "$R/sys/dev/block/$3:$4"
        mkdir -p "$d/holders" "$d/slaves"
        : >"$R/dev/$2"
}

part() { # DISKDIR DISKNAME PARTNAME N MAJ MIN
        block "$1/$3" "$3" "$5" "$6" 2048
        echo "$4" >"$1/$3/partition"
}

# scsi LAYOUT-CONTROLLER-UUID CLASS HOST LUN NAME MAJ MIN SECTORS [TYPE [VENDOR [MODEL]]]
scsi() {
        local uuid=$1 class=$2 h=$3 lun=$4 name=$5 ma=$6 mi=$7 sectors=$8 type=${9:-0}
        local vendor=${10:-Msft} model=${11:-Virtual Disk}
        local vm=$R/$VMBUS/$uuid hctl=$h:0:0:$lun
        local sd=$vm/host$h/target$h:0:0/$hctl
        mkdir -p "$sd"
        echo "{$uuid}" >"$vm/device_id"
        echo "$class" >"$vm/class_id"
        printf '%-8s\n' "$vendor" >"$sd/vendor"
        printf '%-16s\n' "$model" >"$sd/model"
        echo "$type" >"$sd/type"
        block "$sd/block/$name" "$name" "$ma" "$mi" "$sectors"
        ln -s "../../../$hctl" "$sd/block/$name/device"
        ln -s "../../$name" "$R/dev/disk/by-path/acpi-VMBUS:00-vmbus-${uuid//-/}-lun-$lun"
        D=$sd/block/$name
}

# nvme PCI CTRL VENDOR MODEL SERIAL NAME NSID MIN SECTORS
nvme() {
        local pci=$R/sys/devices/pci0000:00/$1 ctrl=$2
        local c=$pci/nvme/$ctrl
        mkdir -p "$c"
        echo "$3" >"$pci/vendor"
        printf '%-40s\n' "$4" >"$c/model"
        printf '%-20s\n' "$5" >"$c/serial"
        [ -e "$c/device" ] || ln -s ../.. "$c/device"
        [ -e "$R/sys/class/nvme/$ctrl" ] || ln -s "../../devices/pci0000:00/$1/nvme/$ctrl" "$R/sys/class/nvme/$ctrl"
        block "$c/$6" "$6" 259 "$8" "$9"
        echo "$7" >"$c/$6/nsid"
        ln -s "../../$ctrl" "$c/$6/device"
        D=$c/$6
}

# nvme_mp PCI CTRL SUBSYS VENDOR MODEL SERIAL NAME NSID MIN SECTORS: native multipath, the namespace
# under /sys/devices/virtual/nvme-subsystem/<subsys> (the default on Ubuntu's kernels).
nvme_mp() {
        local pci=$R/sys/devices/pci0000:00/$1 ctrl=$2 sub=$R/sys/devices/virtual/nvme-subsystem/$3
        local c=$pci/nvme/$ctrl
        mkdir -p "$c" "$sub"
        echo "$4" >"$pci/vendor"
        printf '%-40s\n' "$5" | tee "$c/model" >"$sub/model"
        printf '%-20s\n' "$6" | tee "$c/serial" >"$sub/serial"
        [ -e "$c/device" ] || ln -s ../.. "$c/device"
        [ -e "$sub/$ctrl" ] || ln -s "../../../pci0000:00/$1/nvme/$ctrl" "$sub/$ctrl"
        [ -e "$R/sys/class/nvme/$ctrl" ] || ln -s "../../devices/pci0000:00/$1/nvme/$ctrl" "$R/sys/class/nvme/$ctrl"
        block "$sub/$7" "$7" 259 "$9" "${10}"
        echo "$8" >"$sub/$7/nsid"
        ln -s "../../$3" "$sub/$7/device"
        D=$sub/$7
}

# nvme_path CTRLDIR NAME NSID SECTORS: a native multipath path device (nvmeXcYnZ) under its controller,
# as the kernel shows it: in /sys/class/block, "hidden" 1, no "dev" (it has no device node).
nvme_path() {
        local p=$1/$2 rel
        mkdir -p "$p/holders" "$p/slaves"
        echo "$4" >"$p/size"
        echo 0 >"$p/ro"
        echo 1 >"$p/hidden"
        echo "$3" >"$p/nsid"
        ln -s .. "$p/device"
        rel=${p#"$R"/sys/}
        ln -s "../../$rel" "$R/sys/class/block/$2"
}

virtio() { # PCI VIRTIO NAME MAJ MIN SECTORS
        local v=$R/sys/devices/pci0000:00/$1/$2
        mkdir -p "$v"
        echo 0x1af4 >"$R/sys/devices/pci0000:00/$1/vendor"
        block "$v/block/$3" "$3" "$4" "$5" "$6"
        ln -s "../../../$2" "$v/block/$3/device"
        D=$v/block/$3
}

loopdev() { # NAME MIN
        block "$R/sys/devices/virtual/block/$1" "$1" 7 "$2" 0
}

mount_line() { # ID MAJ:MIN MOUNTPOINT FSTYPE SOURCE
        echo "$1 1 $2 / $3 rw,relatime shared:1 - $4 $5 rw" >>"$R/proc/self/mountinfo"
}

GEN2_OS=f8b3781a-1e82-4818-a1c3-63d806ec15bb
GEN2_DATA1=f8b3781b-1e82-4818-a1c3-63d806ec15bb
GEN1_OS=00000000-0000-8899-0000-000000000000
GEN1_RES=00000000-0001-8899-0000-000000000000

# --- Azure Generation 1: IDE controllers for OS and resource; data disks on SCSI scsi0 (f8b3781a).
root azure-gen1 "$AZURE_TAG" "Microsoft Corporation"
scsi $GEN1_OS "$IDE_CLASS" 0 0 sda 8 0 62914560
part "$D" sda sda1 1 8 1
scsi $GEN1_OS "$IDE_CLASS" 0 1 sr0 11 0 2048 5 Msft "Virtual CD/ROM"
scsi $GEN1_RES "$IDE_CLASS" 1 0 sdb 8 16 146800640
part "$D" sdb sdb1 1 8 17
scsi $GEN2_OS "$SCSI_CLASS" 2 0 sdc 8 32 268435456
scsi $GEN2_OS "$SCSI_CLASS" 2 3 sdd 8 48 268435456
mount_line 20 8:1 / ext4 /dev/sda1

# --- Azure Generation 2: scsi0 holds OS (LUN 0), resource (LUN 1), CD-ROM (LUN 2); data on scsi1.
# cloud-init has mounted the resource disk's partition on /mnt, as on a stock image.
root azure-gen2 "$AZURE_TAG" "Microsoft Corporation"
scsi $GEN2_OS "$SCSI_CLASS" 0 0 sda 8 0 62914560
part "$D" sda sda1 1 8 1
part "$D" sda sda15 15 8 15
scsi $GEN2_OS "$SCSI_CLASS" 0 1 sdb 8 16 146800640
part "$D" sdb sdb1 1 8 17
scsi $GEN2_OS "$SCSI_CLASS" 0 2 sr0 11 0 2048 5 Msft "Virtual DVD-ROM"
scsi $GEN2_DATA1 "$SCSI_CLASS" 1 0 sdc 8 32 268435456
scsi $GEN2_DATA1 "$SCSI_CLASS" 1 5 sdd 8 48 536870912
echo 1 >"$D/ro" # a read-only data disk
mkdir -p "$R/sys/devices/virtual/block/dm-0"
scsi $GEN2_DATA1 "$SCSI_CLASS" 1 6 sde 8 64 268435456
ln -s ../../../../../../../../../../../virtual/block/dm-0 "$D/holders/dm-0" # held by LVM
loopdev loop0 0
mount_line 20 8:1 / ext4 /dev/sda1
mount_line 21 8:15 /boot/efi vfat /dev/sda15
mount_line 22 8:17 /mnt ext4 /dev/sdb1

# --- A v5 size with an NVMe local disk (v1 model, no metadata) and no SCSI resource disk; the
# kernel uses native NVMe multipath, so the namespace sits under nvme-subsystem.
root azure-v5-nvme "$AZURE_TAG" "Microsoft Corporation"
scsi $GEN2_OS "$SCSI_CLASS" 0 0 sda 8 0 62914560
part "$D" sda sda1 1 8 1
scsi $GEN2_OS "$SCSI_CLASS" 0 2 sr0 11 0 2048 5 Msft "Virtual DVD-ROM"
nvme_mp 0000:00:00.0 nvme0 nvme-subsys0 0x1414 "Microsoft NVMe Direct Disk" 7ab1e3c4d5f60001 nvme0n1 1 0 1875385008
nvme_path "$R/sys/devices/pci0000:00/0000:00:00.0/nvme/nvme0" nvme0c0n1 1 1875385008 # not a disk of its own
mount_line 20 8:1 / ext4 /dev/sda1

# --- A v6 size: remote OS and data namespaces on the NVMe accelerator, three v2 local disks whose
# metadata indexes do not follow their kernel names.
root azure-v6 "$AZURE_TAG" "Microsoft Corporation"
nvme 0000:00:00.0 nvme0 0x1414 "MSFT NVMe Accelerator v1.0" SN-REMOTE-0 nvme0n1 1 0 62914560
part "$D" nvme0n1 nvme0n1p1 1 259 10
nvme 0000:00:00.0 nvme0 0x1414 "MSFT NVMe Accelerator v1.0" SN-REMOTE-0 nvme0n2 2 1 268435456
nvme 0000:00:00.0 nvme0 0x1414 "MSFT NVMe Accelerator v1.0" SN-REMOTE-0 nvme0n3 3 2 268435456
mkdir -p "$R/nvme-vs"
for n in 1 2 3; do
        idx=$(( (n + 1) % 3 + 1 )) # nvme1 -> 3, nvme2 -> 1, nvme3 -> 2
        nvme 000$n:00:00.0 nvme$n 0x1414 "Microsoft NVMe Direct Disk v2" "SN-LOCAL-$n" nvme${n}n1 1 $((n + 2)) 858993459
        printf 'type=local,index=%s,name=nvme-440G-%s' "$idx" "$idx" >"$R/nvme-vs/nvme${n}n1"
done
# A multipath path device beside a local disk: hidden, never listed.
nvme_path "$R/sys/devices/pci0000:00/0002:00:00.0/nvme/nvme2" nvme2c2n1 1 858993459
scsi $GEN2_OS "$SCSI_CLASS" 0 2 sr0 11 0 2048 5 Msft "Virtual DVD-ROM"
mount_line 20 259:10 / ext4 /dev/nvme0n1p1

# --- Hyper-V outside Azure: the same Generation 2 controllers, but no Azure asset tag.
root hyperv-gen2 "" "Microsoft Corporation"
scsi $GEN2_OS "$SCSI_CLASS" 0 0 sda 8 0 62914560
scsi $GEN2_OS "$SCSI_CLASS" 0 1 sdb 8 16 146800640
mount_line 20 8:0 / ext4 /dev/sda

# --- A plain (QEMU) VM: virtio disks; root on vda1 through device-mapper (dm-1 on vda1),
# vdb mounted, vdc held, vdd read-only, vde free.
root plain "" QEMU
virtio 0000:00:04.0 virtio1 vda 252 0 41943040
part "$D" vda vda1 1 252 1
VDA1=$D/vda1
virtio 0000:00:05.0 virtio2 vdb 252 16 41943040
virtio 0000:00:06.0 virtio3 vdc 252 32 41943040
mkdir -p "$R/sys/devices/virtual/block/dm-0"
ln -s ../../../../../../virtual/block/dm-0 "$D/holders/dm-0"
virtio 0000:00:07.0 virtio4 vdd 252 48 41943040
echo 1 >"$D/ro"
virtio 0000:00:08.0 virtio5 vde 252 64 41943040
block "$R/sys/devices/virtual/block/dm-1" dm-1 253 1 41000000
ln -s ../../../../pci0000:00/0000:00:04.0/virtio1/block/vda/vda1 "$R/sys/devices/virtual/block/dm-1/slaves/vda1"
mkdir -p "$R/dev/disk/by-id"
ln -s ../../vde "$R/dev/disk/by-id/virtio-spare"
mount_line 20 253:1 / ext4 /dev/mapper/root
mount_line 21 252:16 /srv xfs /dev/vdb
# Two OS roots as boot's --rootmnt sees them: btrfs on vdf (an anonymous device number, found through
# the mount source) at /root, and ext4 on dm-2 (over vdg) at /sysroot.
virtio 0000:00:09.0 virtio6 vdf 252 80 41943040
virtio 0000:00:0a.0 virtio7 vdg 252 96 41943040
block "$R/sys/devices/virtual/block/dm-2" dm-2 253 2 41000000
ln -s ../../../../pci0000:00/0000:00:0a.0/virtio7/block/vdg "$R/sys/devices/virtual/block/dm-2/slaves/vdg"
mkdir -p "$R/dev/mapper"
ln -s ../dm-2 "$R/dev/mapper/sysroot"
mount_line 22 0:35 /root btrfs /dev/vdf
mount_line 23 253:2 /sysroot ext4 /dev/mapper/sysroot
# Active swap: on a partition (vdh2), and on dm-3 over a partition (vdi1).
virtio 0000:00:0b.0 virtio8 vdh 252 112 41943040
part "$D" vdh vdh2 2 252 114
virtio 0000:00:0c.0 virtio9 vdi 252 128 41943040
part "$D" vdi vdi1 1 252 129
block "$R/sys/devices/virtual/block/dm-3" dm-3 253 3 41000000
ln -s ../../../../pci0000:00/0000:00:0c.0/virtio9/block/vdi/vdi1 "$R/sys/devices/virtual/block/dm-3/slaves/vdi1"
ln -s ../dm-3 "$R/dev/mapper/swap"
printf '/dev/vdh2                               partition\t1048572\t\t0\t\t-2\n' >>"$R/proc/swaps"
printf '/dev/mapper/swap                        partition\t1048572\t\t0\t\t-3\n' >>"$R/proc/swaps"
