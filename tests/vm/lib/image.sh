# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced: the Debian test image for the VM rig, built the way an image builder would: Debian 12
# (VM_SUITE=bookworm, the default) or Debian 13 (VM_SUITE=trixie).
#
#   vm_image_base
#       A debootstrap'ed Debian root of VM_SUITE (minbase plus VM_IMAGE_PACKAGES), cached under
#       $EPHROOT_CACHE/vm/base-<hash of the inputs>/root. Sets VM_BASE_DIR.
#   vm_image_build SRCDIR BUILDROOT [VARIANT]
#       bookworm: ephroot built with --prefix=/usr --sysconfdir=/etc in BUILDROOT/vm-install (a build
#       dir of its own), `meson install --destdir` into a copy of the base root; trixie: the .debs
#       built in the trixie chroot (tests/lib/trixie-chroot.sh), ephroot's installed with `dpkg -i`; the test report unit from
#       tests/vm/image added, `update-initramfs -u` in a chroot, then an OS disk image (GPT, one ext4
#       partition made with `mkfs.ext4 -d`, root=UUID=...) plus the kernel and initrd copied out for
#       QEMU's -kernel/-initrd. Cached under $EPHROOT_CACHE/vm/img-<hash of base + install tree>.
#       VARIANT "overlayroot" (benchmark only) also installs Debian's overlayroot, patched (see
#       vm_image_patch_overlayroot). VARIANT "dracut" replaces initramfs-tools with Debian's dracut
#       and builds the initrd with `dracut` (systemd in the initrd, ephroot.service from
#       units/dracut/90ephroot; see vm_image_install_dracut). Sets VM_IMAGE_DIR, VM_KERNEL, VM_INITRD, VM_OS_IMAGE,
#       VM_ROOT_UUID, VM_KVER, VM_CMDLINE_BASE (root=, ro, console) and VM_INSTALLED_EPHROOT (the
#       binary the image got); VM_IMAGE_DIR/config and modules.builtin are the kernel's.
#
# Every step logs to $VM_IMAGE_DIR/*.log or the base's debootstrap.log; concurrent callers (meson
# runs tests in parallel, several developers share the cache) serialise on a lock file.

VM_IMAGE_SCRIPT_VERSION=4
# VM_SUITE (environment): bookworm (Debian 12, the default) or trixie (Debian 13).
VM_SUITE=${VM_SUITE:-bookworm}
VM_MIRROR=${EPHROOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
case "$VM_SUITE" in
bookworm)
# The OS: kernel, initramfs-tools (with busybox and zstd, its Recommends), systemd as init, udev.
# ephroot's run-time libraries (`ldd ephroot`): libcryptsetup, tpm2-tss (ESYS, MU, RC, SYS, the TCTI
# loader and the device TCTI it dlopens), json-c, libblkid, libsystemd, OpenSSL, libcurl (IMDS, for
# the Azure evidence). Tools: cryptsetup, dmsetup, e2fsprogs, util-linux; tpm2-tools for the
# report's independent PCR read.
VM_IMAGE_PACKAGES="linux-image-amd64 initramfs-tools busybox zstd systemd-sysv udev kmod
libcryptsetup12 libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0 libtss2-sys1 libtss2-tctildr0
libtss2-tcti-device0 libjson-c5 libblkid1 libsystemd0 libssl3 libcurl4
cryptsetup-bin dmsetup e2fsprogs util-linux tpm2-tools"
# Downloaded with the base (each into extra-debs/<package>/ with what it needs), installed only into
# a variant: overlayroot, the benchmark's peer; dracut, the systemd-based initrd.
VM_IMAGE_EXTRA_DEBS="overlayroot dracut"
        ;;
trixie)
# The same for Debian 13, with the kernel flavour Azure's Debian images use (cloud-amd64) and
# trixie's library names (the t64 transition). ephroot comes from the .debs built in the trixie
# chroot (tests/lib/trixie-chroot.sh), installed with dpkg: their Depends must be met by this list.
VM_IMAGE_PACKAGES="linux-image-cloud-amd64 initramfs-tools busybox zstd systemd-sysv udev kmod
libcryptsetup12 libtss2-esys-3.0.2-0t64 libtss2-mu-4.0.1-0t64 libtss2-rc0t64 libtss2-sys1t64 libtss2-tctildr0t64
libtss2-tcti-device0t64 libjson-c5 libblkid1 libsystemd0 libssl3t64 libcurl4t64
cryptsetup-bin dmsetup e2fsprogs util-linux tpm2-tools"
VM_IMAGE_EXTRA_DEBS="dracut"
        ;;
*)
        echo "vm-image: VM_SUITE must be bookworm or trixie, not '$VM_SUITE'" >&2
        return 1
        ;;
esac
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/trixie-chroot.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/debian-debs.sh"

vm_cache_dir() {
        echo "${EPHROOT_CACHE:-/var/cache/ephroot-dev}/vm"
}

vm_log() {
        echo "vm-image: $*" >&2
}

# Runs "$@" holding an exclusive lock on FILE (bounded: 40 minutes, longer than a cold debootstrap).
vm_with_lock() {
        local lock=$1; shift
        (
                local fd
                exec {fd}>"$lock"
                flock -w 2400 "$fd" || { vm_log "timed out waiting for $lock"; exit 1; }
                "$@"
        )
}

vm_base_key() {
        printf 'version=%s\nsuite=%s\nmirror=%s\npackages=%s\nextra=%s\n' \
                "$VM_IMAGE_SCRIPT_VERSION" "$VM_SUITE" "$VM_MIRROR" \
                "$(echo $VM_IMAGE_PACKAGES)" "$VM_IMAGE_EXTRA_DEBS" | sha256sum | cut -c1-16
}

# Runs a command chrooted into ROOT with /proc, /sys and /dev mounted, in a private mount namespace
# so nothing stays mounted on the host if the command dies.
vm_chroot() {
        local root=$1; shift
        unshare --mount --propagation private -- /bin/sh -euc '
                root=$1; shift
                mount -t proc proc "$root/proc"
                mount -t sysfs sysfs "$root/sys"
                mount --bind /dev "$root/dev"
                exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
                        DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

vm_image_base_build() {
        local dir=$1 root start
        [ -e "$dir/.done" ] && return 0
        rm -rf "$dir" && mkdir -p "$dir"
        root="$dir/root.tmp"
        start=$(date +%s)
        vm_log "debootstrap $VM_SUITE into $dir (a few minutes; log: $dir/debootstrap.log)"
        if ! debootstrap --variant=minbase --include="$(echo $VM_IMAGE_PACKAGES | tr ' ' ,)" \
                "$VM_SUITE" "$root" "$VM_MIRROR" >"$dir/debootstrap.log" 2>&1; then
                vm_log "debootstrap failed; last lines of $dir/debootstrap.log:"
                tail -n 20 "$dir/debootstrap.log" >&2
                return 1
        fi
        echo "debootstrap_seconds=$(( $(date +%s) - start ))" >"$dir/timings"

        # The extra packages, downloaded now so the variants need no network later.
        rm -f "$root"/var/cache/apt/archives/*.deb
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        vm_chroot "$root" apt-get update -q >"$dir/extra-debs.log" 2>&1 || {
                vm_log "apt-get update in the base failed:"; tail -n 20 "$dir/extra-debs.log" >&2; return 1; }
        for p in $VM_IMAGE_EXTRA_DEBS; do
                mkdir -p "$dir/extra-debs/$p"
                vm_chroot "$root" apt-get install -y -q --no-install-recommends --download-only "$p" \
                        >>"$dir/extra-debs.log" 2>&1 || {
                        vm_log "downloading $p failed:"; tail -n 20 "$dir/extra-debs.log" >&2; return 1; }
                mv "$root"/var/cache/apt/archives/*.deb "$dir/extra-debs/$p/"
        done

        # What any cloud image does: an uninitialised machine-id (set at first boot), a host name;
        # no package caches, documentation or locales in the image (smaller copy at every boot).
        : >"$root/etc/machine-id"
        rm -f "$root/var/lib/dbus/machine-id"
        echo ephroot-test >"$root/etc/hostname"
        : >"$root/etc/resolv.conf"
        rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
                "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
        find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
        # No login prompts on the consoles: nobody logs in, and they would interleave with the report.
        ln -sf /dev/null "$root/etc/systemd/system/serial-getty@.service"
        ln -sf /dev/null "$root/etc/systemd/system/getty@.service"
        ln -sf /dev/null "$root/etc/systemd/system/getty-static.service"
        mv "$root" "$dir/root"
        du -sm "$dir/root" | awk '{ print "root_mib=" $1 }' >>"$dir/timings"
        touch "$dir/.done"
        vm_log "base ready in $(( $(date +%s) - start )) s"
}

vm_image_base() {
        local cache key
        command -v debootstrap >/dev/null || { vm_log "debootstrap is not installed"; return 77; }
        cache=$(vm_cache_dir)
        mkdir -p "$cache"
        key=$(vm_base_key)
        VM_BASE_DIR="$cache/base-$key"
        if [ ! -e "$VM_BASE_DIR/.done" ]; then
                vm_with_lock "$cache/.lock-base-$key" vm_image_base_build "$VM_BASE_DIR" || return 1
        fi
        export VM_BASE_DIR
}

# ephroot installed the way a package or an image builder installs it: meson with the distribution's
# prefix, into DESTDIR. Prints the install tree's directory.
vm_install_tree() {
        local src=$1 buildroot=$2 bdir
        bdir="$buildroot/vm-install"
        if [ ! -e "$bdir/build.ninja" ]; then
                meson setup --prefix=/usr --sysconfdir=/etc --localstatedir=/var -Dkbs=false "$bdir" "$src" \
                        >"$buildroot/vm-install.log" 2>&1 || {
                        vm_log "meson setup of $bdir failed:"; cat "$buildroot/vm-install.log" >&2; return 1; }
        else
                # The image holds what the initramfs needs: no key broker.
                meson configure "$bdir" -Dkbs=false >>"$buildroot/vm-install.log" 2>&1 || {
                        vm_log "meson configure of $bdir failed:"; tail -n 30 "$buildroot/vm-install.log" >&2; return 1; }
        fi
        ninja -C "$bdir" -j2 ephroot >>"$buildroot/vm-install.log" 2>&1 || {
                vm_log "building ephroot in $bdir failed:"; tail -n 30 "$buildroot/vm-install.log" >&2; return 1; }
        rm -rf "$bdir/destdir"
        meson install -C "$bdir" --no-rebuild --destdir "$bdir/destdir" --quiet >>"$buildroot/vm-install.log" 2>&1 || {
                vm_log "meson install failed:"; tail -n 30 "$buildroot/vm-install.log" >&2; return 1; }
        # Debian 12's systemd.pc names /lib/systemd/system for units; the image is merged-/usr (/lib is
        # a symlink to usr/lib), where dpkg writes through the symlink: the same here (cp -a cannot
        # put a directory over the symlink).
        if [ -d "$bdir/destdir/lib" ] && [ ! -L "$bdir/destdir/lib" ]; then
                mkdir -p "$bdir/destdir/usr/lib" && cp -a "$bdir/destdir/lib/." "$bdir/destdir/usr/lib/" &&
                        rm -rf "$bdir/destdir/lib" || return 1
        fi
        # The rig's own files (the report unit), as an image builder adds its own.
        cp -a "$src/tests/vm/image/." "$bdir/destdir/"
        echo "$bdir/destdir"
}

# Debian 13: the .debs built in the trixie chroot (tests/lib/trixie-chroot.sh, in BUILDROOT/trixie-debs,
# shared with the pkg-deb-trixie test). Prints a directory holding debs/ (ephroot's .deb, which the
# image installs with dpkg), rig/ (the rig's own files) and destdir/ (the .deb unpacked, for the tests
# comparing the initrd's binary with the installed one).
vm_install_debs() {
        local src=$1 buildroot=$2 dir
        dir="$buildroot/vm-install-trixie"
        trixie_build_debs "$src" "$buildroot/trixie-debs" >&2 || return 1
        rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/rig" || return 1
        cp "$TRIXIE_DEBS_DIR"/ephroot_*.deb "$dir/debs/" || return 1
        dpkg-deb -x "$dir"/debs/ephroot_*.deb "$dir/destdir" || return 1
        cp -a "$src/tests/vm/image/." "$dir/rig/" || return 1
        echo "$dir"
}

# Copies the tree SRC into the image root DST as a package manager would: into merged /usr through
# the root's symbolic links (/lib -> usr/lib), keeping them (`cp -a` cannot: "cannot overwrite
# non-directory '.../root/./lib' with directory", for meson's /lib/systemd/system on Debian 12).
vm_merge_tree() {
        tar -C "$1" -c . | tar -C "$2" -x --keep-directory-symlink
}

# A content hash of a directory tree: paths, modes, link targets and file contents.
vm_tree_hash() {
        (cd "$1" && find . -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
                if [ -L "$f" ]; then
                        printf 'L %s %s\n' "$f" "$(readlink "$f")"
                elif [ -f "$f" ]; then
                        printf 'F %s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-64)"
                else
                        printf 'D %s %s\n' "$f" "$(stat -c %a "$f")"
                fi
        done) | sha256sum | cut -c1-16
}

# Debian 12's overlayroot (0.18.debian13+deb12u1), for the benchmark's anchor only (image variant
# "overlayroot"). Its crypt mode does not work as shipped; patched here, in the rig only:
#  1. the init-bottom script calls log_debug, which Debian 12's initramfs-tools does not define
#     (it has log_success_msg, log_failure_msg, log_warning_msg, log_begin_msg, log_end_msg): a
#     no-op log_debug is defined right after the script sources /scripts/functions;
#  2. it runs `mke2fs -t ext4`, but its hook's `copy_exec /sbin/mke2fs` keeps busybox's mke2fs
#     applet when busybox's hook ran first (hooks run in dependency order, not by name), and
#     busybox's mke2fs has no -t: a hook (overlayroot-mke2fs) puts e2fsprogs' mke2fs in its place;
#  3. `cryptsetup luksFormat` aborts ("libgcc_s.so.1 must be installed for pthread_exit to work"):
#     glibc dlopens libgcc_s for thread exit, and nothing copies it (cryptsetup-initramfs's hook
#     would, but it is only a Recommends of cryptsetup, absent from a minimal image): the same hook
#     copies it. (Without this, overlayroot wipes the disk's signatures, fails, and boots on the
#     unencrypted OS root: it fails open.)
# And for timing, one console line at the script's start and one before its final exit 0
# ("overlayroot-bench: start|end <uptime>"). Nothing else of its behaviour (key, cryptsetup
# defaults, wipefs) is changed.
vm_image_patch_overlayroot() {
        local root=$1 debs=$2/overlayroot script
        cp "$debs"/*.deb "$root/tmp/" &&
        vm_chroot "$root" sh -c 'dpkg -i /tmp/*.deb && rm -f /tmp/*.deb' || return 1
        script="$root/usr/share/initramfs-tools/scripts/init-bottom/overlayroot"
        python3 - "$script" <<'PY' || return 1
import re, sys
p = sys.argv[1]
s = open(p).read()
anchor = "\n. /scripts/functions\n"
assert anchor in s, "overlayroot no longer sources /scripts/functions"
if "log_debug " not in s:
    print("overlayroot: log_debug patch not needed any more", file=sys.stderr)
s = s.replace(anchor, anchor +
    "command -v log_debug >/dev/null 2>&1 || log_debug() { :; }  # VM rig: Debian 12 lacks it\n"
    "echo \"overlayroot-bench: start $(cut -d' ' -f1 /proc/uptime)\"  # VM rig: timing\n", 1)
i = s.rindex("\nexit 0\n")
s = s[:i] + "\necho \"overlayroot-bench: end $(cut -d' ' -f1 /proc/uptime)\"  # VM rig: timing" + s[i:]
open(p, "w").write(s)
PY
        cat >"$root/usr/share/initramfs-tools/hooks/overlayroot-mke2fs" <<'HOOK'
#!/bin/sh
# VM test rig (benchmark variant) only: e2fsprogs' mke2fs for overlayroot's `mke2fs -t ext4`.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
cmp -s /usr/sbin/mke2fs "$DESTDIR/usr/sbin/mke2fs" || rm -f "$DESTDIR/usr/sbin/mke2fs"
copy_exec /usr/sbin/mke2fs /usr/sbin
copy_libgcc /usr/lib/x86_64-linux-gnu
HOOK
        chmod +x "$root/usr/share/initramfs-tools/hooks/overlayroot-mke2fs"
}

# Debian 12's dracut (059) in place of initramfs-tools, as an image builder who wants a systemd-based
# initrd does (dracut Provides linux-initramfs-tool, which the kernel package needs). ephroot's
# module (90ephroot) is already in the tree from `meson install`. dracut's own trigger builds
# /boot/initrd.img-<kver> when it is installed, with the image's dracut configuration: not host-only
# (the chroot is not the machine that boots), zstd as initramfs-tools uses.
vm_image_install_dracut() {
        local root=$1 debs=$2/dracut
        mkdir -p "$root/etc/dracut.conf.d" "$root/usr/lib/dracut/modules.d" "$root/tmp/dracut-debs"
        printf '# VM test image\nhostonly="no"\ncompress="zstd"\n' >"$root/etc/dracut.conf.d/50-ephroot-test-image.conf"
        # The rig's own module: the test-only crash unit (tests/vm/image), as an image builder adds
        # its own modules.
        cp -a "$root/usr/lib/ephroot-test/dracut/99ephroot-test" "$root/usr/lib/dracut/modules.d/" || return 1
        cp "$debs"/*.deb "$root/tmp/dracut-debs/" &&
        vm_chroot "$root" sh -c 'dpkg --purge --force-depends initramfs-tools initramfs-tools-core &&
                dpkg -i /tmp/dracut-debs/*.deb && rm -rf /tmp/dracut-debs' || return 1
}

# Copy mode copies the whole OS root at every boot, and under TCG that runs at about 10 MiB/s. The
# initrd is built first, from the full module tree; then the OS root keeps only the modules a QEMU
# q35 guest (and an Azure one) can use: about 60 of Debian's 395 MiB. What is kept is listed here.
VM_KEEP_MODULES="arch crypto lib block mm virt fs/ext4 fs/jbd2 fs/overlayfs fs/autofs fs/fuse
fs/mbcache.ko fs/fat fs/nls fs/efivarfs fs/pstore drivers/md drivers/block drivers/scsi drivers/virtio
drivers/char drivers/hv drivers/nvme drivers/ata drivers/input drivers/tty drivers/firmware
drivers/acpi drivers/pci drivers/cdrom drivers/crypto drivers/dma drivers/thermal"

vm_image_prune_modules() {
        local root=$1 kver=$2 kdir keep k
        kdir="$root/usr/lib/modules/$kver/kernel"
        keep="$root/usr/lib/modules/$kver/kernel.keep"
        mkdir -p "$keep"
        for k in $VM_KEEP_MODULES; do
                [ -e "$kdir/$k" ] || continue
                mkdir -p "$keep/$(dirname "$k")"
                mv "$kdir/$k" "$keep/$k"
        done
        rm -rf "$kdir" && mv "$keep" "$kdir"
        vm_chroot "$root" depmod "$kver"
}

vm_image_assemble() {
        local dir=$1 tree=$2 variant=$3 root start t uuid mib kver
        [ -e "$dir/.done" ] && return 0
        rm -rf "$dir" && mkdir -p "$dir"
        root="$dir/root"
        start=$(date +%s)
        vm_log "assembling the test image in $dir"
        # Every step is checked: a failed one stops the build (no half-made image is cached).
        cp -a "$VM_BASE_DIR/root" "$root" || return 1
        if [ -d "$tree/debs" ]; then
                # The .deb, as an image builder installs it: dpkg (its update-initramfs trigger runs
                # too); the image's packages must meet its Depends, or dpkg fails and so does the build.
                vm_merge_tree "$tree/rig" "$root" && cp "$tree"/debs/*.deb "$root/tmp/" || return 1
                vm_chroot "$root" sh -c 'dpkg -i /tmp/ephroot_*.deb && rm -f /tmp/*.deb' >"$dir/dpkg-install.log" 2>&1 || {
                        vm_log "dpkg -i of the .deb failed:"; tail -n 30 "$dir/dpkg-install.log" >&2; return 1; }
        else
                vm_merge_tree "$tree" "$root" || { vm_log "copying the install tree into the image failed"; return 1; }
        fi
        mkdir -p "$root/etc/systemd/system/multi-user.target.wants" &&
        ln -sf /usr/lib/systemd/system/ephroot-test-report.service \
                "$root/etc/systemd/system/multi-user.target.wants/ephroot-test-report.service" || return 1
        if [ "$variant" = overlayroot ]; then
                vm_image_patch_overlayroot "$root" "$VM_BASE_DIR/extra-debs" >"$dir/overlayroot.log" 2>&1 || {
                        vm_log "installing overlayroot failed:"; cat "$dir/overlayroot.log" >&2; return 1; }
        fi

        # Built in a chroot, the root device cannot be probed: say what it is, as image builders do
        # (else initramfs-tools leaves fsck out).
        if [ "$variant" != dracut ]; then
                printf 'FSTYPE=ext4\n' >"$root/etc/initramfs-tools/conf.d/test-image-fstype" || return 1
        fi
        uuid=$(cat /proc/sys/kernel/random/uuid) || return 1
        printf '# <file system> <mount point> <type> <options> <dump> <pass>\nUUID=%s / ext4 errors=remount-ro 0 1\n' \
                "$uuid" >"$root/etc/fstab" || return 1

        kver=$(basename "$(ls -d "$root"/lib/modules/* | head -n 1)")
        [ -n "$kver" ] && [ -e "$root/boot/vmlinuz-$kver" ] || { vm_log "no kernel in the image"; return 1; }
        t=$(date +%s)
        if [ "$variant" = dracut ]; then
                vm_image_install_dracut "$root" "$VM_BASE_DIR/extra-debs" >"$dir/dracut.log" 2>&1 || {
                        vm_log "installing dracut failed:"; tail -n 30 "$dir/dracut.log" >&2; return 1; }
                [ -s "$root/boot/initrd.img-$kver" ] || { vm_log "dracut built no /boot/initrd.img-$kver"; return 1; }
                echo "dracut_install_and_initrd_seconds=$(( $(date +%s) - t ))" >"$dir/timings"
                vm_chroot "$root" lsinitrd "/boot/initrd.img-$kver" >"$dir/initrd.list" 2>/dev/null ||
                        { vm_log "lsinitrd failed"; return 1; }
        else
                vm_chroot "$root" update-initramfs -u -k all >"$dir/update-initramfs.log" 2>&1 || {
                        vm_log "update-initramfs failed:"; tail -n 30 "$dir/update-initramfs.log" >&2; return 1; }
                echo "update_initramfs_seconds=$(( $(date +%s) - t ))" >"$dir/timings"
                vm_chroot "$root" lsinitramfs -l "/boot/initrd.img-$kver" >"$dir/initrd.list" 2>/dev/null ||
                        { vm_log "lsinitramfs failed"; return 1; }
        fi

        cp "$root/boot/vmlinuz-$kver" "$dir/vmlinuz" && cp "$root/boot/initrd.img-$kver" "$dir/initrd.img" || return 1
        # The kernel's configuration, for the tests that check what it builds in.
        cp "$root/boot/config-$kver" "$dir/config" && cp "$root/usr/lib/modules/$kver/modules.builtin" "$dir/" ||
                return 1
        vm_image_prune_modules "$root" "$kver" >"$dir/prune-modules.log" 2>&1 || return 1

        # The OS disk: GPT, one Linux partition from 1 MiB, an ext4 made from the tree with 25%
        # room to spare.
        mib=$(du -sm "$root" | awk '{ print int($1 * 1.25) + 64 }') && [ -n "$mib" ] || return 1
        truncate -s "${mib}M" "$dir/root.ext4" || return 1
        # 4 KiB blocks as in cloud images (mke2fs would pick 1 KiB for a file system this small,
        # which cannot be mounted on a volume with 4096-byte sectors).
        mkfs.ext4 -q -F -b 4096 -T default -L ephroot-os -U "$uuid" -d "$root" "$dir/root.ext4" || return 1
        truncate -s "$(( mib + 2 ))M" "$dir/os.img" || return 1
        printf 'label: gpt\nstart=2048, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n' \
                "$(( mib * 2048 ))" | sfdisk -q "$dir/os.img" || return 1
        dd if="$dir/root.ext4" of="$dir/os.img" bs=1M seek=1 conv=notrunc,sparse status=none || return 1
        rm -f "$dir/root.ext4" && rm -rf "$root" || return 1

        cat >"$dir/image.env" <<ENV || return 1
VM_KVER=$kver
VM_ROOT_UUID=$uuid
VM_CMDLINE_BASE="root=UUID=$uuid ro console=ttyS0"
VM_SUITE=$VM_SUITE
ENV
        echo "assemble_seconds=$(( $(date +%s) - start ))" >>"$dir/timings"
        echo "os_image_mib=$mib" >>"$dir/timings"
        touch "$dir/.done"
        vm_log "test image ready in $(( $(date +%s) - start )) s"
}

# Keeps the most recent few per-build images; each is about a gigabyte.
vm_image_prune() {
        local cache=$1 keep=${2:-4}
        ls -1dt "$cache"/img-* 2>/dev/null | tail -n +"$((keep + 1))" | while read -r d; do
                rm -rf "$d"
        done
}

vm_image_build_locked() {
        local src=$1 buildroot=$2 variant=$3 cache tree key dir
        cache=$(vm_cache_dir)
        if [ "$VM_SUITE" = trixie ]; then
                tree=$(vm_install_debs "$src" "$buildroot") || return 1
        else
                tree=$(vm_install_tree "$src" "$buildroot") || return 1
        fi
        # Keyed by the base, the variant, this script (how the image is assembled) and the install tree.
        key=$( (echo "$VM_BASE_DIR $variant $VM_SUITE"; sha256sum <"${BASH_SOURCE[0]}"; vm_tree_hash "$tree") | sha256sum | cut -c1-16)
        dir="$cache/img-$key"
        if [ ! -e "$dir/.done" ]; then
                vm_with_lock "$cache/.lock-img-$key" vm_image_assemble "$dir" "$tree" "$variant" >&2 || return 1
        fi
        touch "$dir"
        echo "$dir"
}

vm_image_build() {
        local src=$1 buildroot=$2 variant=${3:-plain}
        vm_image_base || return $?
        VM_IMAGE_DIR=$(vm_with_lock "$buildroot/.vm-install.lock" vm_image_build_locked "$src" "$buildroot" "$variant") ||
                return 1
        vm_image_prune "$(vm_cache_dir)" 6
        . "$VM_IMAGE_DIR/image.env"
        VM_KERNEL="$VM_IMAGE_DIR/vmlinuz"
        VM_INITRD="$VM_IMAGE_DIR/initrd.img"
        VM_OS_IMAGE="$VM_IMAGE_DIR/os.img"
        if [ "$VM_SUITE" = trixie ]; then
                VM_INSTALLED_EPHROOT="$buildroot/vm-install-trixie/destdir/usr/sbin/ephroot"
        else
                VM_INSTALLED_EPHROOT="$buildroot/vm-install/destdir/usr/sbin/ephroot"
        fi
        export VM_IMAGE_DIR VM_INSTALLED_EPHROOT VM_KERNEL VM_INITRD VM_OS_IMAGE VM_KVER VM_ROOT_UUID VM_CMDLINE_BASE
}

# ---- The firmware boot (issue 14): OVMF + shim + GRUB from an ESP on the OS disk ----------------
#
#   vm_efi_binaries
#       Debian 12's signed shim (shim-signed), its signed monolithic GRUB (grub-efi-amd64-signed:
#       the `tpm` module built in, so GRUB measures its commands and the kernel command line into
#       PCR 8 and every file it reads into PCR 9) and systemd-stub (systemd-boot-efi, for a UKI),
#       fetched with `apt-get download` from VM_MIRROR with an apt state of their own (the host's
#       apt configuration is not used), cached under $EPHROOT_CACHE/vm/efi-<hash>. Sets VM_EFI_DIR
#       (shimx64.efi, grubx64.efi, linuxx64.efi.stub, versions).
#   vm_image_efi
#       After vm_image_build: the same OS disk with an EFI system partition (partition 15, FAT, at
#       the end; the root stays partition 1 at 1 MiB, as in Debian's Azure images) holding
#       /EFI/BOOT/BOOTX64.EFI (shim), /EFI/BOOT/grubx64.efi and /EFI/debian/grub.cfg (which finds the
#       root by UUID and reads /boot/grub/grub.cfg there, as grub-install sets it up), and
#       /boot/grub/grub.cfg in the root file system loading /boot/vmlinuz-$VM_KVER and
#       /boot/initrd.img-$VM_KVER with VM_CMDLINE_BASE. Cached as $VM_IMAGE_DIR/efi/os.img; sets
#       VM_EFI_OS_IMAGE. Boot it with VM_FIRMWARE=ovmf (tests/vm/lib/boot.sh).
#   vm_grub_cfg APPEND [KERNEL [INITRD]]
#       The text of /boot/grub/grub.cfg for those (paths in the root file system).
#   vm_os_image_put IMAGE FILE PATH
#       Writes FILE as PATH into IMAGE's root file system (debugfs, ext4 at 1 MiB); checks it.

VM_EFI_DEBS="shim-signed grub-efi-amd64-signed systemd-boot-efi"
VM_ESP_MIB=40

vm_efi_key() {
        printf 'version=1\nsuite=%s\nmirror=%s\ndebs=%s\n' "$VM_SUITE" "$VM_MIRROR" "$VM_EFI_DEBS" | sha256sum | cut -c1-16
}

vm_efi_download() {
        local dir=$1 p f
        [ -e "$dir/.done" ] && return 0
        debian_debs_fetch "$dir/debs" "$VM_MIRROR" "$VM_SUITE" $VM_EFI_DEBS || return 1
        for p in usr/lib/shim/shimx64.efi.signed:shimx64.efi \
                 usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed:grubx64.efi \
                 usr/lib/systemd/boot/efi/linuxx64.efi.stub:linuxx64.efi.stub; do
                f=${p%%:*}
                [ -s "$dir/debs/root/$f" ] || { vm_log "no $f in $VM_EFI_DEBS"; return 1; }
                cp "$dir/debs/root/$f" "$dir/${p##*:}" || return 1
        done
        cp "$dir/debs/versions" "$dir/versions" && rm -rf "$dir/debs" && touch "$dir/.done"
}

vm_efi_binaries() {
        local cache key
        command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
                { vm_log "apt-get and dpkg-deb are needed for the EFI binaries"; return 77; }
        cache=$(vm_cache_dir)
        mkdir -p "$cache"
        key=$(vm_efi_key)
        VM_EFI_DIR="$cache/efi-$key"
        if [ ! -e "$VM_EFI_DIR/.done" ]; then
                vm_with_lock "$cache/.lock-efi-$key" vm_efi_download "$VM_EFI_DIR" || return 1
        fi
        export VM_EFI_DIR
}

vm_grub_cfg() {
        local append=$1 kernel=${2:-/boot/vmlinuz-$VM_KVER} initrd=${3:-/boot/initrd.img-$VM_KVER}
        cat <<CFG
# VM test image: what update-grub writes for one kernel, reduced to one entry.
set default=0
set timeout=0
menuentry 'Debian GNU/Linux' {
	search --no-floppy --fs-uuid --set=root $VM_ROOT_UUID
	linux $kernel $VM_CMDLINE_BASE${append:+ $append}
	initrd $initrd
}
CFG
}

vm_os_image_put() {
        local image=$1 file=$2 path=$3 fs
        fs="$image?offset=1048576"
        debugfs -w -R "rm $path" "$fs" >/dev/null 2>&1
        debugfs -w -R "mkdir $(dirname "$path")" "$fs" >/dev/null 2>&1
        debugfs -w -R "write $file $path" "$fs" >/dev/null 2>&1 || return 1
        debugfs -R "dump $path $file.check" "$fs" >/dev/null 2>&1 && cmp -s "$file" "$file.check"
        local rc=$?
        rm -f "$file.check"
        return $rc
}

vm_image_efi_assemble() {
        local dir=$1 esp mib cfg
        [ -e "$dir/.done" ] && return 0
        rm -rf "$dir" && mkdir -p "$dir"
        cp --sparse=always "$VM_IMAGE_DIR/os.img" "$dir/os.img.tmp" || return 1
        mib=$(( $(stat -c %s "$dir/os.img.tmp") / 1048576 ))
        # The ESP: FAT, at the end of the disk, partition 15; the backup GPT moves to the new end.
        truncate -s "$(( mib + VM_ESP_MIB + 1 ))M" "$dir/os.img.tmp"
        { sfdisk -d "$dir/os.img.tmp" 2>/dev/null | grep -v '^last-lba:'
          printf '%s15 : start=%d, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' \
                "$dir/os.img.tmp" "$(( mib * 2048 ))" "$(( VM_ESP_MIB * 2048 ))"; } | sfdisk -q "$dir/os.img.tmp" 2>/dev/null ||
                { vm_log "adding the ESP to the OS disk failed"; return 1; }
        esp="$dir/esp.fat"
        truncate -s "${VM_ESP_MIB}M" "$esp"
        mkfs.vfat -F 32 -n ESP "$esp" >/dev/null || return 1
        cfg="$dir/esp-grub.cfg"
        printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n' \
                "$VM_ROOT_UUID" >"$cfg"
        mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/debian &&
        mcopy -i "$esp" "$VM_EFI_DIR/shimx64.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$esp" "$VM_EFI_DIR/grubx64.efi" ::/EFI/BOOT/grubx64.efi &&
        mcopy -i "$esp" "$cfg" ::/EFI/debian/grub.cfg || return 1
        dd if="$esp" of="$dir/os.img.tmp" bs=1M seek="$mib" conv=notrunc,sparse status=none || return 1
        rm -f "$esp"
        vm_grub_cfg "" >"$dir/grub.cfg"
        vm_os_image_put "$dir/os.img.tmp" "$dir/grub.cfg" /boot/grub/grub.cfg || { vm_log "writing grub.cfg failed"; return 1; }
        mv "$dir/os.img.tmp" "$dir/os.img"
        cp "$VM_EFI_DIR/versions" "$dir/efi-versions"
        touch "$dir/.done"
}

vm_image_efi() {
        local key dir
        vm_efi_binaries || return $?
        command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null ||
                { echo "SKIP: mkfs.vfat or mcopy not found (scripts/install-deps installs dosfstools, mtools)" >&2; return 77; }
        key=$( (basename "$VM_EFI_DIR"; sha256sum <"${BASH_SOURCE[0]}") | sha256sum | cut -c1-16)
        dir="$VM_IMAGE_DIR/efi-$key"
        if [ ! -e "$dir/.done" ]; then
                vm_with_lock "$VM_IMAGE_DIR/.lock-efi" vm_image_efi_assemble "$dir" || return 1
        fi
        VM_EFI_OS_IMAGE="$dir/os.img"
        export VM_EFI_OS_IMAGE
}
