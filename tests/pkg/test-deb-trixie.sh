#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Debian 13 (trixie): in the cached trixie chroot (tests/lib/trixie-chroot.sh), a copy of the source
# tree builds warning-free with `-Dwerror=true` (gcc 14) and `dpkg-buildpackage -us -uc -b` makes
# both .debs; their Depends carry trixie's library package names, the t64 ones (64-bit time_t
# transition: libssl3t64, libtss2-*t64, libcurl4t64, libmicrohttpd12t64) where trixie renamed the
# library, each name one that trixie has (installed in the chroot); the units sit under /usr/lib
# (trixie's systemd.pc). The .debs (BUILDROOT/trixie-debs) are the ones the trixie VM image installs.
# Skips (77) when not root or without debootstrap, unless CI=true. Arguments: SRCDIR BUILDROOT.
set -uo pipefail
src=$(readlink -f "${1:?usage: test-deb-trixie.sh SRCDIR BUILDROOT}")
buildroot=$(readlink -f "${2:?usage: test-deb-trixie.sh SRCDIR BUILDROOT}")
. "$src/tests/lib/trixie-chroot.sh"

fail=0
checks=0
check() { # DESCRIPTION COMMAND...
        local what=$1
        shift
        checks=$((checks + 1))
        if "$@"; then echo "ok - $what"; else echo "FAIL - $what"; fail=1; fi
}

unset DESTDIR MAKEFLAGS MFLAGS MAKELEVEL
start=$(date +%s)
trixie_build_debs "$src" "$buildroot/trixie-debs"
rc=$?
if [ $rc = 77 ]; then
        [ "${CI:-}" = true ] && { echo "FAIL - no trixie chroot in CI (root and debootstrap needed)"; exit 1; }
        echo "SKIP: no trixie chroot (root and debootstrap needed)"
        exit 77
fi
echo "chroot: $TRIXIE_CHROOT_DIR ($(tr '\n' ' ' <"$TRIXIE_CHROOT_DIR/timings"))"
echo "trixie .debs: $(( $(date +%s) - start )) s here; $(tr '\n' ' ' <"$buildroot/trixie-debs/timings" 2>/dev/null)"
check "the -Dwerror=true build and dpkg-buildpackage in the trixie chroot succeed" [ $rc = 0 ]
[ $rc = 0 ] || { echo "$checks checks, failures: the build failed"; exit 1; }

deb=$(ls "$TRIXIE_DEBS_DIR"/ephroot_*.deb 2>/dev/null | head -n 1)
kbsdeb=$(ls "$TRIXIE_DEBS_DIR"/ephroot-kbs_*.deb 2>/dev/null | head -n 1)
check "ephroot_*.deb built" [ -f "$deb" ]
check "ephroot-kbs_*.deb built" [ -f "$kbsdeb" ]
[ -f "$deb" ] && [ -f "$kbsdeb" ] || { echo "$checks checks, failures: a package is missing"; exit 1; }
dep=$(dpkg-deb -f "$deb" Depends)
kbsdep=$(dpkg-deb -f "$kbsdeb" Depends)
echo "ephroot Depends: $dep"
echo "ephroot-kbs Depends: $kbsdep"
names() { printf '%s\n' "$1" | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//' | grep .; }
has() { names "$1" | grep -qx -- "$2"; }

# The names trixie gives the libraries ephroot links (the t64 transition renamed those whose ABI
# has a time_t); json-c, libblkid, libsystemd and libcryptsetup kept their names.
for p in libssl3t64 libtss2-esys-3.0.2-0t64 libtss2-mu-4.0.1-0t64 libtss2-tctildr0t64 libtss2-tcti-device0t64 \
        libcurl4t64 libcryptsetup12 libjson-c5 libblkid1 libsystemd0; do
        check "ephroot Depends names $p" has "$dep" "$p"
done
for p in libssl3t64 libmicrohttpd12t64 libjson-c5; do
        check "ephroot-kbs Depends names $p" has "$kbsdep" "$p"
done
for p in libssl3 libtss2-esys-3.0.2-0 libtss2-mu-4.0.1-0 libtss2-tctildr0 libcurl4 libmicrohttpd12; do
        check "no pre-t64 name $p from the shlibs substitution" sh -c "! { printf '%s\n%s\n' \"\$1\" \"\$2\" | tr ',|' '\n\n' | sed 's/^ *//' | grep -Eq '^$p( |\$)'; }" sh "$dep" "$kbsdep"
done
# Every alternative group of a lib* dependency has a member trixie has (installed in the chroot,
# whose packages are trixie's): a name no trixie package has would make the .deb uninstallable.
bad=
while IFS= read -r group; do
        ok=no
        for n in $(printf '%s\n' "$group" | tr '|' '\n' | sed 's/^ *//; s/ .*//'); do
                trixie_chroot_run dpkg-query -W -f='${Status}' "$n" 2>/dev/null | grep -q 'install ok installed' && ok=yes
        done
        [ $ok = yes ] || bad="$bad [$group]"
done < <(printf '%s\n%s\n' "$dep" "$kbsdep" | tr ',' '\n' | sed 's/^ *//' | grep '^lib')
check "every library dependency names a package trixie has${bad:+ (not:$bad)}" [ -z "$bad" ]
check "ephroot.service under /usr/lib/systemd/system (trixie's systemd.pc)" \
        sh -c "dpkg-deb -c '$deb' | grep -q ' \\./usr/lib/systemd/system/ephroot\\.service\$'"
check "the werror build printed no warning" sh -c "! grep -q 'warning:' '$TRIXIE_DEBS_DIR/werror.log'"

if [ $fail = 0 ]; then
        echo "$checks checks passed"
        exit 0
fi
echo "$checks checks, failures"
exit 1
