#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Debian packaging (debian/, docs/packaging.md): builds the binary packages with
# `dpkg-buildpackage -us -uc -b` from a copy of the source tree (uncommitted changes included, build
# directories left out), then reads the .debs: which files each package holds and with what mode,
# conffiles, the update-initramfs trigger, the dependencies, that ephroot-kbs's unit is neither
# enabled nor started on a fresh install (its postinst run against stub helpers), lintian (E: tags
# fail, W: tags are printed), and that the packaged binaries run.
# Skips (77) only when dpkg-buildpackage is missing and CI is not true. Argument: the source root.
set -uo pipefail
src=$(readlink -f "${1:?usage: test-deb.sh SOURCE_ROOT}")

if ! command -v dpkg-buildpackage >/dev/null; then
        if [ "${CI:-}" = true ]; then
                echo "FAIL - dpkg-buildpackage missing in CI (scripts/install-deps installs dpkg-dev)"
                exit 1
        fi
        echo "SKIP: dpkg-buildpackage missing (package dpkg-dev)"
        exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ephroot-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail=0
checks=0
check() { # DESCRIPTION CONDITION
        checks=$((checks + 1))
        if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fail=1; fi
}

# The copy: everything under the source root but .git, meson build directories (any directory holding
# meson-private) and debhelper's obj-* directories. Symbolic links (tests/sysfs) are kept as links.
tree=$work/ephroot
mkdir "$tree"
tar -C "$src" -c --exclude=./.git --exclude='./obj-*' --exclude-tag-all=meson-private . | tar -C "$tree" -x || {
        echo "FAIL - copy the source tree to $tree"
        exit 1
}
version=$(cd "$tree" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$work/ephroot_${version}_${arch}.deb
kbsdeb=$work/ephroot-kbs_${version}_${arch}.deb

# Variables of the surrounding build (meson test, make) must not reach debian/rules.
unset DESTDIR MAKEFLAGS MFLAGS MAKELEVEL
start=$(date +%s)
(cd "$tree" && nice -n 10 dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
rc=$?
echo "dpkg-buildpackage: exit $rc after $(($(date +%s) - start)) s"
check "dpkg-buildpackage -us -uc -b exits 0" '[ $rc = 0 ]'
if [ $rc != 0 ]; then
        tail -n 40 "$work/build.log"
        echo "$checks checks, failures: the build failed"
        exit 1
fi
grep '^dh_missing' "$work/build.log"

check "ephroot_${version}_${arch}.deb built" '[ -f "$deb" ]'
check "ephroot-kbs_${version}_${arch}.deb built" '[ -f "$kbsdeb" ]'
[ -f "$deb" ] && [ -f "$kbsdeb" ] || { echo "$checks checks, failures: a package is missing"; exit 1; }

# --- ephroot ---
dpkg-deb -c "$deb" >"$work/ephroot.list"
has() { grep -q " \\./$2\$" "$work/$1.list"; }                            # PKG PATH
mode() { awk -v p="./$2" '$6 == p { print $1 }' "$work/$1.list"; }       # PKG PATH -> mode
check "ephroot holds /usr/sbin/ephroot (0755)" '[ "$(mode ephroot usr/sbin/ephroot)" = -rwxr-xr-x ]'
check "ephroot holds /etc/ephroot.conf" 'has ephroot etc/ephroot.conf'
check "ephroot holds the initramfs-tools hook, mode 0755" \
        '[ "$(mode ephroot usr/share/initramfs-tools/hooks/ephroot)" = -rwxr-xr-x ]'
check "ephroot holds the local-bottom boot script, mode 0755" \
        '[ "$(mode ephroot usr/share/initramfs-tools/scripts/local-bottom/ephroot)" = -rwxr-xr-x ]'
check "ephroot holds the cloud-init and WALinuxAgent settings (inert, under /usr/share/ephroot)" \
        'has ephroot usr/share/ephroot/cloud-init/90-ephroot.cfg && has ephroot usr/share/ephroot/waagent/waagent-ephroot.conf'
check "ephroot holds its man pages, ephroot(8) and ephroot.conf(5)" \
        'has ephroot usr/share/man/man8/ephroot.8.gz && has ephroot usr/share/man/man5/ephroot.conf.5.gz'
check "ephroot holds no file of ephroot-kbs (binary, unit, sysusers, examples)" \
        '! grep -Eq "ephroot-kbs|sysusers|examples/kbs" "$work/ephroot.list"'
check "ephroot holds the systemd-based initrd's unit and the dracut module (module-setup.sh 0755)" \
        '(has ephroot lib/systemd/system/ephroot.service || has ephroot usr/lib/systemd/system/ephroot.service) &&
         has ephroot usr/lib/dracut/modules.d/90ephroot/ephroot.service &&
         [ "$(mode ephroot usr/lib/dracut/modules.d/90ephroot/module-setup.sh)" = -rwxr-xr-x ]'

dpkg-deb -I "$deb" conffiles >"$work/conffiles" 2>/dev/null
check "conffiles lists /etc/ephroot.conf" 'grep -qx /etc/ephroot.conf "$work/conffiles"'
dpkg-deb -I "$deb" triggers >"$work/triggers" 2>/dev/null
check "triggers: activate-noawait update-initramfs, once" \
        '[ "$(grep -cx "activate-noawait update-initramfs" "$work/triggers")" = 1 ]'

depends=$(dpkg-deb -f "$deb" Depends)
echo "ephroot Depends: $depends"
# A library name with or without Debian 13's t64 suffix (libtss2-esys-3.0.2-0t64, libssl3t64, ...).
dep() { printf '%s\n' "$depends" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep -Eqx -- "$1(t64)?"; }
check "ephroot depends on initramfs-tools or dracut" 'printf "%s" "$depends" | grep -q "initramfs-tools | dracut"'
for p in initramfs-tools e2fsprogs dmsetup libtss2-tcti-device0 \
        libcryptsetup12 libtss2-esys-3.0.2-0 libtss2-tctildr0 libjson-c5 libcurl4 libssl3 libblkid1; do
        check "ephroot depends on $p" "dep $p"
done
check "ephroot does not depend on libmicrohttpd" '! printf "%s" "$depends" | grep -q libmicrohttpd'
check "ephroot's description says it does nothing until ephroot=on or enabled = yes" \
        'dpkg-deb -f "$deb" Description | tr "\n" " " | grep -q "does nothing unless .*ephroot=on"'

# --- ephroot-kbs ---
dpkg-deb -c "$kbsdeb" >"$work/kbs.list"
check "ephroot-kbs holds /usr/sbin/ephroot-kbs (0755)" '[ "$(mode kbs usr/sbin/ephroot-kbs)" = -rwxr-xr-x ]'
check "ephroot-kbs holds its systemd unit" \
        'has kbs lib/systemd/system/ephroot-kbs.service || has kbs usr/lib/systemd/system/ephroot-kbs.service'
check "ephroot-kbs holds its sysusers file" 'has kbs usr/lib/sysusers.d/ephroot-kbs.conf'
check "ephroot-kbs holds its man page, ephroot-kbs(8)" 'has kbs usr/share/man/man8/ephroot-kbs.8.gz'
check "ephroot-kbs holds the example configuration and policy" \
        'has kbs usr/share/doc/ephroot/examples/kbs/ephroot-kbs.json && has kbs usr/share/doc/ephroot/examples/kbs/policy.json'
check "ephroot-kbs holds nothing of ephroot (binary, conf, initramfs-tools)" \
        '! grep -Eq " \./(usr/sbin/ephroot|etc/ephroot\.conf|usr/share/initramfs-tools/.*)$" "$work/kbs.list"'
check "ephroot-kbs depends on libmicrohttpd12" 'dpkg-deb -f "$kbsdeb" Depends | grep -q "libmicrohttpd12"'
check "ephroot-kbs has no conffile (the examples are documentation)" '! dpkg-deb -I "$kbsdeb" conffiles >/dev/null 2>&1'

# Its postinst on a fresh install, against stub helpers that log their arguments and answer as the
# real ones do on a new system (nothing installed before; was-enabled defaults to true).
mkdir -p "$work/ctl" "$work/stub"
dpkg-deb -e "$kbsdeb" "$work/ctl"
for t in deb-systemd-helper deb-systemd-invoke systemctl systemd-sysusers; do
        cat >"$work/stub/$t" <<EOF
#!/bin/sh
echo "$t \$*" >>"$work/calls"
case "$t \$*" in
"deb-systemd-helper debian-installed "*) exit 1 ;;
esac
exit 0
EOF
        chmod +x "$work/stub/$t"
done
: >"$work/calls"
PATH=$work/stub:$PATH sh "$work/ctl/postinst" configure "" >/dev/null 2>&1
prc=$?
sed 's/^/  postinst called: /' "$work/calls"
check "ephroot-kbs postinst configure (fresh install) exits 0" '[ $prc = 0 ]'
check "ephroot-kbs postinst creates the user (systemd-sysusers ephroot-kbs.conf)" \
        'grep -q "^systemd-sysusers .*ephroot-kbs.conf" "$work/calls"'
check "ephroot-kbs postinst does not enable the unit on a fresh install" \
        '! grep -Eq "^(deb-systemd-helper|systemctl) .*enable" "$work/calls"'
check "ephroot-kbs postinst never starts the unit (at most try-restart on upgrade)" \
        '! grep -Eq "deb-systemd-invoke +(start|restart|\\\$)|systemctl .*start" "$work/ctl/postinst"'
check "ephroot-kbs prerm stops the unit on removal" \
        'grep -q "deb-systemd-invoke stop ephroot-kbs.service" "$work/ctl/prerm"'

# --- the packaged binaries run ---
mkdir "$work/x"
dpkg-deb -x "$deb" "$work/x"
dpkg-deb -x "$kbsdeb" "$work/x"
out=$("$work/x/usr/sbin/ephroot" --version 2>&1)
vrc=$?
echo "ephroot --version: $out"
check "packaged ephroot --version exits 0 and prints $version" '[ $vrc = 0 ] && printf "%s" "$out" | grep -qF "$version"'
"$work/x/usr/sbin/ephroot-kbs" --help >"$work/kbs-help" 2>&1
krc=$?
check "packaged ephroot-kbs --help exits 0" '[ $krc = 0 ] && grep -q "^Usage: ephroot-kbs" "$work/kbs-help"'

# --- lintian ---
if command -v lintian >/dev/null; then
        lintian "$work/ephroot_${version}_${arch}.changes" >"$work/lintian" 2>&1
        grep -E '^[EWIP]:' "$work/lintian" | sed 's/^/  lintian: /'
        check "lintian: no E: tags" '! grep -q "^E:" "$work/lintian"'
        check "lintian: no binary without a manual page" '! grep -q "no-manual-page" "$work/lintian"'
else
        echo "lintian not installed: not run"
fi

echo "$checks checks, $(if [ $fail = 0 ]; then echo "all passed"; else echo "failures above"; fi)"
exit $fail
