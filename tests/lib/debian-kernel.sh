# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced: Debian's own kernel package (the one linux-image-amd64 depends on), downloaded once into
# the cache and extracted, with depmod run so modprobe works from an initramfs built around it.
# Sets DEBIAN_KERNEL (vmlinuz), DEBIAN_KVER (release) and DEBIAN_KERNEL_ROOT (the extracted tree,
# modules under lib/modules/$DEBIAN_KVER).
#   debian_kernel_fetch [CACHE]   CACHE default: ${EPHROOT_CACHE:-/var/cache/ephroot-dev}

debian_kernel_fetch() {
        local cache=${1:-${EPHROOT_CACHE:-/var/cache/ephroot-dev}} pkg
        mkdir -p "$cache"
        if ! ls "$cache"/kernel/boot/vmlinuz-* >/dev/null 2>&1 || [ ! -e "$cache/kernel/.depmod-done" ]; then
                pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
                [ -n "$pkg" ] || { echo "debian-kernel: cannot resolve linux-image-amd64" >&2; return 1; }
                if ! ls "$cache"/"$pkg"_*.deb >/dev/null 2>&1; then
                        echo "debian-kernel: fetching $pkg into $cache" >&2
                        (cd "$cache" && apt-get download -q -o APT::Sandbox::User=root "$pkg") >&2 || return 1
                fi
                rm -rf "$cache/kernel" && dpkg-deb -x "$cache"/"$pkg"_*.deb "$cache/kernel" || return 1
                DEBIAN_KVER=$(basename "$(ls -d "$cache"/kernel/lib/modules/* | head -n1)")
                depmod -b "$cache/kernel" "$DEBIAN_KVER" || return 1
                touch "$cache/kernel/.depmod-done"
        fi
        DEBIAN_KERNEL_ROOT="$cache/kernel"
        DEBIAN_KERNEL=$(ls "$cache"/kernel/boot/vmlinuz-* | head -n1)
        DEBIAN_KVER=$(basename "$(ls -d "$cache"/kernel/lib/modules/* | head -n1)")
        export DEBIAN_KERNEL DEBIAN_KVER DEBIAN_KERNEL_ROOT
}
