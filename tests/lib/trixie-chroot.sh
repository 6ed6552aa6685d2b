# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by tests: a Debian 13 (trixie) root made with the host's (Debian 12's) debootstrap, holding
# ephroot's build dependencies as scripts/install-deps lists them for VERSION_ID=13, debhelper and
# dpkg-dev for the package build, and trixie's systemd (systemd-pcrlock, systemd-pcrextend in
# /usr/lib/systemd) with tpm2-tools and the swtpm TCTI, so host tests can run trixie's tools on
# their own files and TPMs.
#
#   trixie_chroot
#       Builds the root once (debootstrap minbase, then apt-get install in it; a few minutes) or
#       reuses it: cached under $EPHROOT_CACHE/vm/chroot-trixie-<hash of the inputs>/root, built
#       under a lock, logs (debootstrap.log, apt.log) kept there and printed on failure. Sets
#       TRIXIE_CHROOT_DIR and TRIXIE_ROOT. Returns 77 (skip) when not root or without debootstrap,
#       1 when the build fails.
#   trixie_chroot_run [--bind DIR]... [VAR=VALUE]... COMMAND [ARG]...
#       Runs COMMAND in the root, in a private mount namespace with /proc, /sys and /dev (so
#       /dev/tpmrm0 when the host has one) mounted, each DIR of the host bind-mounted at the same
#       path (read-write), and an environment of PATH, LANG, HOME=/tmp plus the VAR=VALUE given.
#       Loopback TCP is the host's, so a host swtpm (tests/lib/swtpm.sh) is reached with
#       SYSTEMD_TPM2_DEVICE="$SWTPM_TCTI" (systemd-pcrlock has no --tpm2-device= option; the
#       variable takes a TCTI string) or TPM2TOOLS_TCTI="$SWTPM_TCTI".
#       Nothing stays mounted on the host when the command ends or dies. The root itself is shared
#       by every caller: write into bound directories, not into the root.
#
# Example, trixie's systemd-pcrlock reading a log (ephroot's) with no firmware log:
#   trixie_chroot || exit $?
#   trixie_chroot_run --bind "$work" SYSTEMD_TPM2_DEVICE="$SWTPM_TCTI" \
#           SYSTEMD_MEASURE_LOG_USERSPACE="$work/tpm2-measure.log" SYSTEMD_MEASURE_LOG_FIRMWARE=/dev/null \
#           /usr/lib/systemd/systemd-pcrlock log --pcr=11,12,15 --json=short

TRIXIE_CHROOT_SCRIPT_VERSION=1
TRIXIE_MIRROR=${EPHROOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# scripts/install-deps for VERSION_ID=13 (build, the package build), plus what the tests run there
# (systemd-pcrlock, tpm2-tools with the swtpm TCTI, python3; e2fsprogs, which trixie's minbase lacks,
# to run the image's mke2fs).
TRIXIE_CHROOT_PACKAGES="build-essential meson ninja-build pkg-config
libcryptsetup-dev libtss2-dev libssl-dev libblkid-dev libsystemd-dev libjson-c-dev libcurl4-openssl-dev
libmicrohttpd-dev libcmocka-dev
debhelper dpkg-dev fakeroot systemd-dev
systemd tpm2-tools libtss2-tcti-swtpm0t64 python3 e2fsprogs"

trixie_log() {
        echo "trixie-chroot: $*" >&2
}

trixie_chroot_key() {
        printf 'version=%s\nsuite=trixie\nmirror=%s\npackages=%s\n' "$TRIXIE_CHROOT_SCRIPT_VERSION" \
                "$TRIXIE_MIRROR" "$(echo $TRIXIE_CHROOT_PACKAGES)" | sha256sum | cut -c1-16
}

trixie_chroot_run() {
        local binds=()
        while [ "${1:-}" = --bind ]; do
                binds+=("$(readlink -f "$2")")
                shift 2
        done
        [ -n "${TRIXIE_ROOT:-}" ] || { trixie_log "trixie_chroot_run before trixie_chroot"; return 1; }
        unshare --mount --propagation private -- /bin/bash -euc '
                root=$1 n=$2; shift 2
                mount -t proc proc "$root/proc"
                mount -t sysfs sysfs "$root/sys"
                mount --rbind /dev "$root/dev"
                for ((i = 0; i < n; i++)); do
                        mkdir -p "$root$1"
                        mount --bind "$1" "$root$1"
                        shift
                done
                exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
                        HOME=/tmp DEBIAN_FRONTEND=noninteractive "$@"' sh "$TRIXIE_ROOT" "${#binds[@]}" \
                "${binds[@]}" "$@"
}

trixie_chroot_build() {
        local dir=$1 start t
        [ -e "$dir/.done" ] && return 0
        rm -rf "$dir" && mkdir -p "$dir" || return 1
        start=$(date +%s)
        trixie_log "debootstrap trixie into $dir (log: $dir/debootstrap.log)"
        if ! debootstrap --variant=minbase trixie "$dir/root.tmp" "$TRIXIE_MIRROR" >"$dir/debootstrap.log" 2>&1; then
                trixie_log "debootstrap failed; last lines of $dir/debootstrap.log:"
                tail -n 20 "$dir/debootstrap.log" >&2
                return 1
        fi
        echo "debootstrap_seconds=$(( $(date +%s) - start ))" >"$dir/timings"
        t=$(date +%s)
        cp /etc/resolv.conf "$dir/root.tmp/etc/resolv.conf" || return 1
        # No daemons started by maintainer scripts in the chroot.
        printf '#!/bin/sh\nexit 101\n' >"$dir/root.tmp/usr/sbin/policy-rc.d" && chmod 755 "$dir/root.tmp/usr/sbin/policy-rc.d" ||
                return 1
        TRIXIE_ROOT="$dir/root.tmp" trixie_chroot_run sh -c 'apt-get update -q &&
                apt-get install -y -q --no-install-recommends "$@" && apt-get clean' sh $TRIXIE_CHROOT_PACKAGES \
                >"$dir/apt.log" 2>&1 || {
                trixie_log "apt-get install in the chroot failed; last lines of $dir/apt.log:"
                tail -n 30 "$dir/apt.log" >&2
                return 1
        }
        rm -rf "$dir/root.tmp/var/lib/apt/lists/"* || return 1
        echo "apt_seconds=$(( $(date +%s) - t ))" >>"$dir/timings"
        mv "$dir/root.tmp" "$dir/root" || return 1
        du -sm "$dir/root" | awk '{ print "root_mib=" $1 }' >>"$dir/timings"
        touch "$dir/.done"
        trixie_log "chroot ready in $(( $(date +%s) - start )) s"
}

trixie_chroot() {
        local cache key
        [ "$(id -u)" = 0 ] || { trixie_log "not root: no chroot"; return 77; }
        command -v debootstrap >/dev/null || { trixie_log "debootstrap is not installed"; return 77; }
        [ -e /usr/share/debootstrap/scripts/trixie ] || { trixie_log "this debootstrap knows no trixie"; return 77; }
        cache="${EPHROOT_CACHE:-/var/cache/ephroot-dev}/vm"
        mkdir -p "$cache" || return 1
        key=$(trixie_chroot_key)
        TRIXIE_CHROOT_DIR="$cache/chroot-trixie-$key"
        if [ ! -e "$TRIXIE_CHROOT_DIR/.done" ]; then
                (
                        exec {fd}>"$cache/.lock-chroot-trixie-$key"
                        flock -w 2400 "$fd" || { trixie_log "timed out waiting for the lock"; exit 1; }
                        trixie_chroot_build "$TRIXIE_CHROOT_DIR"
                ) || return 1
        fi
        TRIXIE_ROOT="$TRIXIE_CHROOT_DIR/root"
        export TRIXIE_CHROOT_DIR TRIXIE_ROOT
}

# trixie_build_debs SRCDIR OUTDIR
#       In the chroot, on a copy of SRCDIR (as tests/pkg/test-deb.sh copies it: no .git, no build
#       directories): a `-Dwerror=true` meson build of everything (gcc 14's warnings as errors),
#       then `dpkg-buildpackage -us -uc -b`. OUTDIR gets the .debs, werror.log, dpkg-buildpackage.log
#       and timings (seconds of each step). Reused while the copied tree is byte for byte the same
#       (OUTDIR/.done holds its hash); concurrent callers with the same OUTDIR serialise on a lock.
#       Sets TRIXIE_DEBS_DIR. Returns 77 when trixie_chroot does, 1 when a step fails (its log's
#       tail printed).
trixie_build_debs() {
        local src=$1 out=$2 rc
        trixie_chroot || return $?
        mkdir -p "$out" || return 1
        TRIXIE_DEBS_DIR=$(readlink -f "$out")
        export TRIXIE_DEBS_DIR
        (
                exec {fd}>"$TRIXIE_DEBS_DIR.lock"
                flock -w 2400 "$fd" || { trixie_log "timed out waiting for $TRIXIE_DEBS_DIR.lock"; exit 1; }
                trixie_build_debs_locked "$(readlink -f "$src")" "$TRIXIE_DEBS_DIR"
        )
}

trixie_build_debs_locked() {
        local src=$1 out=$2 work hash t start
        work="$out/work"
        rm -rf "$work" && mkdir -p "$work/ephroot" || return 1
        # The copy, as a tar stream independent of time stamps and owners: its hash keys the result.
        tar -C "$src" -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude=./.git \
                --exclude='./obj-*' --exclude-tag-all=meson-private . >"$work/src.tar" || return 1
        hash=$(sha256sum <"$work/src.tar" | cut -c1-16)
        if [ -e "$out/.done" ] && [ "$(cat "$out/.done")" = "$hash" ]; then
                rm -rf "$work"
                return 0
        fi
        rm -f "$out/.done" "$out"/*.deb "$out/timings"
        tar -C "$work/ephroot" -xf "$work/src.tar" && rm -f "$work/src.tar" || return 1
        start=$(date +%s)
        trixie_log "-Dwerror=true build in the trixie chroot (log: $out/werror.log)"
        trixie_chroot_run --bind "$work" sh -c 'meson setup -Dwerror=true -Dkbs=true "$1/werror" "$1/ephroot" &&
                nice -n 10 ninja -C "$1/werror"' sh "$work" >"$out/werror.log" 2>&1 || {
                trixie_log "the -Dwerror=true build failed; last lines of $out/werror.log:"
                tail -n 30 "$out/werror.log" >&2
                return 1
        }
        echo "werror_build_seconds=$(( $(date +%s) - start ))" >"$out/timings"
        rm -rf "$work/werror"
        t=$(date +%s)
        trixie_log "dpkg-buildpackage in the trixie chroot (log: $out/dpkg-buildpackage.log)"
        trixie_chroot_run --bind "$work" sh -c 'cd "$1/ephroot" && nice -n 10 dpkg-buildpackage -us -uc -b' sh "$work" \
                >"$out/dpkg-buildpackage.log" 2>&1 || {
                trixie_log "dpkg-buildpackage failed; last lines of $out/dpkg-buildpackage.log:"
                tail -n 30 "$out/dpkg-buildpackage.log" >&2
                return 1
        }
        echo "dpkg_buildpackage_seconds=$(( $(date +%s) - t ))" >>"$out/timings"
        mv "$work"/*.deb "$out/" || return 1
        rm -rf "$work"
        echo "$hash" >"$out/.done"
        trixie_log "trixie .debs built in $(( $(date +%s) - start )) s"
}
