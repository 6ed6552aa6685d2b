#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot reference --uki` (PCR 11 after systemd-stub) judged by systemd's own systemd-measure of
# three releases. `systemd-measure calculate` measures a UKI's sections with the same table
# (src/fundamental's UnifiedSection) as the stub of its release, so each run checks ephroot's
# per-release section list and order (src/ephroot/measure/boot-predict.c) against that stub's:
#   - 252: the host's (Debian 12), /usr/lib/systemd/systemd-measure;
#   - the one of bookworm-backports (254 when written): its systemd and libsystemd-shared packages,
#     fetched once (tests/lib/debian-debs.sh) into $EPHROOT_CACHE/systemd-bpo (default
#     /var/cache/ephroot-dev) and unpacked there, run with the unpacked libsystemd-shared;
#   - Debian 13's (257), in the trixie chroot of tests/lib/trixie-chroot.sh.
# For each: the release is read from `systemd-measure --version`, the sections it takes from its
# --help ("→ .name"). One UKI (tests/lib/uki.sh) whose .sdmagic names that release carries every
# section any stub measures (.linux .osrel .cmdline .initrd .ucode .splash .dtb .uname .sbat .pcrpkey
# .hwids), in file order unlike the measuring order; the tool is given the ones it lists (not
# .profile, .dtbauto or .efifw, which ephroot refuses, tests/tpm/test-boot-chain.sh) and its PCR 11
# for the sha256 bank with no phase must equal ephroot's. The releases must list different sections
# (252 without .uname and .sbat, 257 with .ucode), so a list wrongly taken as the same for all fails.
# 257.13's systemd-measure measures the file of --hwids under the name .dtbauto and that of --dtbauto
# under .hwids (found here: what it gives for --hwids is the sum of H(".dtbauto\0"), H(file)), so it
# is not given .hwids. The judge of .hwids is 257's systemd-pcrlock `lock-uki`, which reads the UKI
# itself, its sections by name as the stub does: its PCR 11 records, replayed, equal ephroot's value
# for a UKI with all the sections, .hwids included.
# Skips (77) saying why when not root, without the archive, or without the trixie chroot.
#   test-uki-measure.sh EPHROOT
set -uo pipefail
EPHROOT=$(realpath "${1:?usage: test-uki-measure.sh EPHROOT}")
here=$(dirname "$(readlink -f "$0")")
. "$here/../lib/uki.sh"
. "$here/../lib/trixie-chroot.sh"
. "$here/../lib/debian-debs.sh"
export EPHROOT_LOG_TARGET=stderr
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in python3 apt-get dpkg-deb; do command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }; done
[ -x /usr/lib/systemd/systemd-measure ] || { echo "SKIP: no /usr/lib/systemd/systemd-measure (systemd)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: not root (apt into the cache, the trixie chroot)"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=${EPHROOT_CACHE:-/var/cache/ephroot-dev}/systemd-bpo
mirror=${EPHROOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# ---- the peers -----------------------------------------------------------------------------------
debian_debs_fetch "$cache" "$mirror" bookworm-backports systemd/bookworm-backports \
        libsystemd-shared/bookworm-backports 2>"$work/apt" \
        || { echo "SKIP: no bookworm-backports from $mirror ($(tail -n 1 "$work/apt"))"; exit 77; }
bpo_measure() {
        local m
        m=$(ls "$cache"/root/{usr/,}lib/systemd/systemd-measure 2>/dev/null | head -n 1)
        LD_LIBRARY_PATH="$cache/root/usr/lib/x86_64-linux-gnu/systemd" "$m" "$@"
}
trixie_chroot >"$work/chroot" 2>&1
rc=$?
[ $rc = 0 ] || { [ $rc = 77 ] && echo "SKIP: no trixie chroot (needs root and debootstrap)"; tail -n 5 "$work/chroot"; exit $rc; }
trixie_measure() {
        trixie_chroot_run --bind "$work" /usr/lib/systemd/systemd-measure "$@"
}
host_measure() {
        /usr/lib/systemd/systemd-measure "$@"
}

# ---- the sections, each with its own content; the UKI's file order is not the measuring order ----
for s in linux osrel cmdline initrd ucode splash dtb uname sbat pcrpkey hwids; do
        { echo "$s"; head -c $((RANDOM % 3000 + 1)) /dev/urandom; } >"$work/$s"
done
file_order="hwids pcrpkey sbat uname dtb splash ucode initrd cmdline osrel linux"

# check TOOL: the release and sections TOOL states, the UKI for that release, both PCR 11 values
lists=()
ephroot_pcr11() { # UKI -> PCR 11 after the stub, sha256
        "$EPHROOT" --config /dev/null reference --uki "$1" --pcrs 11 --banks sha256 >"$work/ref.json" 2>"$work/err" \
                || fail "reference --uki $1: $(cat "$work/err")"
        sed -n 's/.*"11":"\([0-9a-f]*\)".*/\1/p' "$work/ref.json"
}
check() { # TOOL [SECTION-LEFT-OUT]...: the UKI has every section but those, the tool gets the ones it lists
        local tool=$1 version full sections args=() uki_args=() theirs mine s
        shift
        full=$("$tool" --version | head -n 1)
        version=$(echo "$full" | sed -n 's/^systemd \([0-9][0-9]*\).*/\1/p')
        [ -n "$version" ] || fail "$tool: no release in '$full'"
        "$tool" --help >"$work/help" || fail "$tool --help"
        sections=$(sed -n 's/.*→ \.\([a-z]*\)$/\1/p' "$work/help" | grep -vxE 'profile|dtbauto|efifw' | paste -sd' ')
        echo "$sections" | grep -qw linux || fail "$tool --help lists no .linux: $(cat "$work/help")"
        for s in "$@"; do sections=$(echo "$sections" | tr ' ' '\n' | grep -vx "$s" | paste -sd' '); done
        for s in $sections; do args+=("--$s=$work/$s"); done
        for s in $file_order; do echo " $* " | grep -q " $s " || uki_args+=(".$s=$work/$s"); done
        make_uki "$work/uki-$version.efi" "$version.0" "${uki_args[@]}"
        theirs=$("$tool" calculate "${args[@]}" --bank=sha256 --phase= 2>"$work/err" | sed -n 's/^11:sha256=//p')
        [ -n "$theirs" ] || fail "$full: systemd-measure calculate gave nothing: $(cat "$work/err")"
        mine=$(ephroot_pcr11 "$work/uki-$version.efi") || exit 1
        [ "$mine" = "$theirs" ] || fail "stub $version (sections $sections): ephroot reference --uki gives $mine, $full's systemd-measure $theirs"
        lists+=("$sections")
        echo "ok: $full: sections .${sections// / .}: ephroot reference --uki = systemd-measure calculate (${theirs:0:16}…)"
}
check host_measure
check bpo_measure
check trixie_measure hwids

# 257's systemd-pcrlock reads the UKI itself: every section, .hwids included, stub 257
uki_args=()
for s in $file_order; do uki_args+=(".$s=$work/$s"); done
make_uki "$work/uki-all.efi" 257.13 "${uki_args[@]}"
trixie_chroot_run --bind "$work" /usr/lib/systemd/systemd-pcrlock lock-uki "$work/uki-all.efi" \
        --pcrlock="$work/uki-all.pcrlock" >"$work/err" 2>&1 || fail "systemd-pcrlock lock-uki: $(cat "$work/err")"
theirs=$(python3 - "$work/uki-all.pcrlock" <<'PY'
import hashlib, json, sys
pcr, n = bytes(32), 0
for r in json.load(open(sys.argv[1]))["records"]:
    if r["pcr"] == 11:
        d = next(x["digest"] for x in r["digests"] if x["hashAlg"] == "sha256")
        pcr, n = hashlib.sha256(pcr + bytes.fromhex(d)).digest(), n + 1
print(pcr.hex(), n)
PY
) || fail "reading pcrlock's records"
mine=$(ephroot_pcr11 "$work/uki-all.efi") || exit 1
[ "${theirs% *}" = "$mine" ] || fail "a UKI with every section: ephroot reference --uki gives $mine, systemd-pcrlock lock-uki's records ${theirs% *}"
[ "${theirs#* }" = 22 ] || fail "pcrlock logged ${theirs#* } PCR 11 records, not 2 for each of the 11 sections"
echo "ok: $(trixie_chroot_run /usr/lib/systemd/systemd-pcrlock --version | head -n 1): lock-uki of a UKI with all 11 sections (.hwids too): 22 records, replayed = ephroot reference --uki (${mine:0:16}…)"
[ "${lists[0]}" != "${lists[1]}" ] && [ "${lists[1]}" != "${lists[2]}" ] \
        || fail "the releases list the same sections (${lists[*]}): the check cannot tell releases apart"
echo "ok: three releases, three section lists, each one's PCR 11 predicted from the UKI alone"
