#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `ephroot volume --no-activate` on image files, on the host (no device-mapper here): the header in a
# temporary "tmpfs" directory is checked with the independent `cryptsetup luksDump`, the mark on the
# image with `blkid` and `ephroot probe`; then every kind of bad input must fail with a clear message
# and the right exit code, leaving the image byte for byte as it was.
#
# The "no key material at rest" check uses the test build (ephroot-test), which writes the key to
# $EPHROOT_TEST_KEY_FILE: the approach chosen is "get the key through a debug-only path compiled
# into the test build" (never into ephroot). The search is done here, in Python, for the 64 raw bytes
# and their hex form, in the header, the image and every regular file under /run.
set -uo pipefail
EPHROOT=$(readlink -f "${1:?usage: test-volume-host.sh EPHROOT EPHROOT_TEST}")
EPHROOT_TEST=$(readlink -f "${2:?usage: test-volume-host.sh EPHROOT EPHROOT_TEST}")
for t in cryptsetup blkid python3 sha256sum truncate; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done

work=$(mktemp -d)
loopdev=
cleanup() {
        [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
export EPHROOT_LOG_TARGET=stderr
printf 'tpm = none\n' >"$work/dev.conf"
: >"$work/cmdline"
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# vol CONF ARGS...: runs ephroot volume; stdout in $work/out, stderr in $work/err, exit code in $rc.
vol() {
        local conf=$1; shift
        "$EPHROOT" --config "$conf" volume --cmdline-file "$work/cmdline" "$@" >"$work/out" 2>"$work/err"
        rc=$?
}

expect_fail() { # NAME EXPECTED_RC PATTERN IMAGE_OR_EMPTY CONF ARGS...
        local name=$1 want=$2 pat=$3 img=$4 conf=$5 before=
        shift 5
        [ -n "$img" ] && [ -f "$img" ] && before=$(sha256sum <"$img")
        vol "$conf" "$@"
        if [ "$rc" != "$want" ]; then
                bad "$name: exit $rc, expected $want"; sed 's/^/     /' "$work/err"
        elif ! grep -qE -- "$pat" "$work/err"; then
                bad "$name: message does not match /$pat/:"; sed 's/^/     /' "$work/err"
        elif [ -n "$before" ] && [ "$before" != "$(sha256sum <"$img")" ]; then
                bad "$name: the image was modified"
        else
                ok "$name ($(grep -E -- "$pat" "$work/err" | head -n1))"
        fi
}

# --- the good path ------------------------------------------------------------------------------
img=$work/disk.img
truncate -s 64M "$img"
vol "$work/dev.conf" --no-activate --device "$img" --header-dir "$work/run/ephroot"
hdr=$work/run/ephroot/ephroot.header
if [ "$rc" != 0 ]; then
        bad "format: exit $rc"; cat "$work/err"
else
        ok "format of a 64 MiB image"
fi
grep -q 'tpm=none: NO TPM' "$work/err" && ok "tpm=none is logged loudly" || bad "tpm=none not logged"
grep -q '^measured: *no' "$work/out" && ok "tpm=none measures nothing" || bad "measured line: $(grep measured "$work/out")"

dump=$(cryptsetup luksDump "$hdr" 2>&1)
check_dump() { # PATTERN WHAT
        if grep -qE -- "$1" <<<"$dump"; then ok "luksDump: $2"; else bad "luksDump: $2 (/$1/)"; fi
}
check_dump '^Version:[[:space:]]+2$' "LUKS2"
check_dump '^[[:space:]]+cipher: aes-xts-plain64$' "cipher aes-xts-plain64"
check_dump '^[[:space:]]+sector: 4096 \[bytes\]$' "sector 4096"
check_dump '^[[:space:]]+offset: 1048576 \[bytes\]$' "data offset 1 MiB (after the mark area)"
check_dump '^Label:[[:space:]]+ephroot$' "label ephroot"
check_dump '^Subsystem:[[:space:]]+ephroot$' "subsystem ephroot"
check_dump '^Metadata area:[[:space:]]+16384 \[bytes\]$' "16 KiB metadata"
check_dump '^Keyslots area:[[:space:]]+1015808 \[bytes\]$' "keyslots area fills the mark to 1 MiB"
# No keyslot at all: the "Keyslots:" heading is followed directly by "Tokens:".
if python3 -c 'import sys,re; d=sys.stdin.read(); sys.exit(0 if re.search(r"^Keyslots:\n(Tokens:)", d, re.M) else 1)' <<<"$dump"; then
        ok "luksDump: no keyslots"
else
        bad "luksDump: keyslots present:"; sed -n '/^Keyslots:/,/^Tokens:/p' <<<"$dump"
fi
check_dump '^[[:space:]]+Iterations: 1000$' "volume-key digest with minimal PBKDF2 (1000)"

[ "$(stat -c %a "$hdr")" = 600 ] && ok "header file mode 0600" || bad "header mode $(stat -c %a "$hdr")"
[ "$(stat -c %s "$hdr")" = 1048576 ] && ok "header file is 1 MiB" || bad "header size $(stat -c %s "$hdr")"
cmp -s -n 1048576 "$hdr" "$img" && ok "the first MiB of the image is the header (the mark)" || bad "mark differs from header"

bl=$(blkid -p -o export "$img")
grep -qx 'TYPE=crypto_LUKS' <<<"$bl" && grep -qx 'LABEL=ephroot' <<<"$bl" && grep -qx 'SUBSYSTEM=ephroot' <<<"$bl" &&
        ok "blkid: TYPE=crypto_LUKS LABEL=ephroot SUBSYSTEM=ephroot" || { bad "blkid says:"; echo "$bl"; }
uuid=$(awk '/^uuid:/ { print $2 }' "$work/out")
grep -qx "UUID=$uuid" <<<"$bl" && ok "blkid UUID = printed UUID" || bad "blkid UUID vs $uuid"

"$EPHROOT" --config "$work/dev.conf" probe --device "$img" >"$work/probe" 2>/dev/null
grep -q "ephroot: LUKS2 header with ephroot's label and subsystem" "$work/probe" &&
        ok "ephroot probe classifies the image as ephroot" || { bad "probe:"; cat "$work/probe"; }

# JSON output, and a second format of the same (now "ephroot") image gives a new UUID.
vol "$work/dev.conf" --no-activate --device "$img" --header-dir "$work/run2" --dm-name data1 --json
python3 - "$work/out" "$uuid" "$work/run2/data1.header" <<'PY' && ok "--json: fields, new UUID, --dm-name names the header" || bad "--json output"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["cipher"] == "aes-xts-plain64" and v["sector_size"] == 4096 and v["key_bits"] == 512, v
assert v["data_offset"] == 1048576 and v["data_size"] == 64 * 2**20 - 2**20, v
assert v["flags"] == "allow-discards,no-read-workqueue,no-write-workqueue", v
assert v["header"] == sys.argv[3] and v["dm_node"] is None and v["measured"] is False, v
assert v["uuid"] != sys.argv[2], "same UUID twice"
PY

# An image whose size is not a multiple of 4096 gets 512-byte sectors, and says so.
img512=$work/odd.img
truncate -s $((64 * 1024 * 1024 + 512)) "$img512"
vol "$work/dev.conf" --no-activate --device "$img512" --header-dir "$work/run3"
if [ "$rc" = 0 ] && grep -q '^sector-size: *512$' "$work/out" && grep -q 'sector size 512' "$work/err" &&
   cryptsetup luksDump "$work/run3/ephroot.header" | grep -qE 'sector: 512 \[bytes\]'; then
        ok "unaligned image: sector size 512, logged"
else
        bad "unaligned image: rc=$rc"; cat "$work/out" "$work/err"
fi

# Activation flags follow the configuration (they are in the header's view of the volume only at
# activation, so check the printed flags).
printf 'tpm = none\ndiscard = no\nno-read-workqueue = no\nformat-discard = no\n' >"$work/flags.conf"
vol "$work/flags.conf" --no-activate --device "$img512" --header-dir "$work/run4"
grep -q '^flags: *no-write-workqueue$' "$work/out" && grep -q '^discarded: *no$' "$work/out" &&
        ok "discard=no no-read-workqueue=no format-discard=no are honoured" || { bad "flags:"; cat "$work/out"; }

# --- no key material at rest (test build) --------------------------------------------------------
truncate -s 0 "$img"; truncate -s 64M "$img"
EPHROOT_TEST_KEY_FILE=$work/key.hex "$EPHROOT_TEST" --config "$work/dev.conf" volume --cmdline-file "$work/cmdline" \
        --no-activate --device "$img" --header-dir "$work/run5" >/dev/null 2>"$work/err" || { bad "test build failed"; cat "$work/err"; }
python3 - "$work/key.hex" "$work/run5/ephroot.header" "$img" /run <<'PY' && ok "no key at rest: not in the header, the image or /run" || bad "key material found at rest"
import os, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
assert len(key) == 64, len(key)
needles = [key, key.hex().encode(), key.hex().upper().encode()]
def found(path):
    with open(path, "rb") as f:
        data = f.read(256 * 2**20)
    return [n for n in needles if n in data]
# The search itself must work: a file holding the key is found.
probe = sys.argv[1] + ".probe"
open(probe, "wb").write(b"x" * 1000 + key + b"y")
assert found(probe), "search does not find a planted key"
os.unlink(probe)
files = [sys.argv[2], sys.argv[3]]
for root, dirs, names in os.walk(sys.argv[4]):
    for n in names:
        p = os.path.join(root, n)
        if os.path.isfile(p) and not os.path.islink(p):
            files.append(p)
bad = []
for p in files:
    try:
        if found(p):
            bad.append(p)
    except OSError:
        pass
print(f"     searched {len(files)} files")
if bad:
    print("key found in:", bad)
    sys.exit(1)
PY

# --- bad input -----------------------------------------------------------------------------------
small=$work/small.img; truncate -s 8M "$small"
foreign=$work/foreign.img; head -c $((32 * 1024 * 1024)) /dev/urandom >"$foreign"
mkdir -p "$work/adir"
expect_fail "missing device" 1 "Refusing to format '$work/nope.img': it does not exist" "" \
        "$work/dev.conf" --no-activate --device "$work/nope.img" --header-dir "$work/r"
expect_fail "a directory" 1 "Refusing to format '$work/adir': it is a directory" "" \
        "$work/dev.conf" --no-activate --device "$work/adir" --header-dir "$work/r"
expect_fail "a character device" 1 "neither a block device nor an image file" "" \
        "$work/dev.conf" --no-activate --device /dev/null --header-dir "$work/r"
expect_fail "too small" 1 "Failed to format '$small': 8388608 bytes is too small" "$small" \
        "$work/dev.conf" --no-activate --device "$small" --header-dir "$work/r"
[ ! -e "$work/r/ephroot.header" ] && ok "too small: no header left behind" || bad "too small: header left behind"
expect_fail "foreign data" 1 "Refusing to format '$foreign': it is foreign" "$foreign" \
        "$work/dev.conf" --no-activate --device "$foreign" --header-dir "$work/r"
expect_fail "header exists already" 1 "Failed to create the LUKS2 header file '$work/run5/ephroot.header': File exists" "$img" \
        "$work/dev.conf" --no-activate --device "$img" --header-dir "$work/run5"
printf 'tpm = none\nsector-size = 4096\n' >"$work/ss.conf"
expect_fail "sector-size=4096 on an unaligned image" 1 "sector size 4096: the device size is not a multiple of 4096" "$img512" \
        "$work/ss.conf" --no-activate --device "$img512" --header-dir "$work/r7"
printf 'tpm = none\nintegrity = hmac-sha512\n' >"$work/c1.conf"
expect_fail "unknown integrity value" 2 "Invalid value 'hmac-sha512' for 'integrity'" "$img" \
        "$work/c1.conf" --no-activate --device "$img" --header-dir "$work/r8"
printf 'tpm = maybe\n' >"$work/c2.conf"
expect_fail "unknown tpm value" 2 "Invalid value 'maybe' for 'tpm' \(expected required or none\)" "$img" \
        "$work/c2.conf" --no-activate --device "$img" --header-dir "$work/r8"
printf 'tpm = none\nvolume-size = 1G\n' >"$work/c3.conf"
expect_fail "unknown key" 2 "Unknown setting 'volume-size'" "$img" \
        "$work/c3.conf" --no-activate --device "$img" --header-dir "$work/r8"
printf 'tpm = none\nsector-size = 2048\n' >"$work/c4.conf"
expect_fail "unknown sector size" 2 "Invalid value '2048' for 'sector-size'" "$img" \
        "$work/c4.conf" --no-activate --device "$img" --header-dir "$work/r8"
printf 'tpm = none\ntpm = none\n' >"$work/c5.conf"
expect_fail "duplicate tpm=" 2 "Setting 'tpm' given more than once" "$img" \
        "$work/c5.conf" --no-activate --device "$img" --header-dir "$work/r8"
# tpm=required (the default) and no TPM: the TCTI comes from the command line file here, as at boot.
printf 'tpm = required\n' >"$work/c6.conf"
printf 'ephroot.tcti=swtpm:host=127.0.0.1,port=1\n' >"$work/tcti-cmdline"
"$EPHROOT" --config "$work/c6.conf" volume --cmdline-file "$work/tcti-cmdline" --no-activate --device "$img" \
        --header-dir "$work/r9" >/dev/null 2>"$work/err"; rc=$?
[ "$rc" = 1 ] && grep -q "Failed to open the TPM through TCTI 'swtpm:host=127.0.0.1,port=1'" "$work/err" &&
        ok "tpm=required without a TPM: no key, exit 1" || { bad "tpm=required without TPM: rc=$rc"; cat "$work/err"; }
[ ! -e "$work/r9" ] && ok "tpm=required without a TPM: nothing written" || bad "header dir created without a key"
expect_fail "no --device" 2 "--device is required" "" "$work/dev.conf" --no-activate
expect_fail "bad --dm-name" 2 "Invalid --dm-name 'a:b'" "" "$work/dev.conf" --device "$img" --dm-name a:b
expect_fail "relative --header-dir" 2 "--header-dir needs an absolute path" "" "$work/dev.conf" --device "$img" --header-dir rel

# The disk that holds / (when it is a whole disk ephroot enumerates), and a loop-attached image.
rootsrc=$(findmnt -no SOURCE / 2>/dev/null)
rootdisk=
if [ -b "$rootsrc" ]; then
        pk=$(lsblk -no PKNAME "$rootsrc" 2>/dev/null | head -n1)
        rootdisk=/dev/${pk:-$(basename "$rootsrc")}
fi
if [ -n "$rootdisk" ] && [ -b "$rootdisk" ]; then
        expect_fail "the root disk $rootdisk" 1 "Refusing to format '$rootdisk': (it holds the root file system|it or one of its partitions is mounted|it is the Azure OS disk|it is not a whole disk)" "" \
                "$work/dev.conf" --no-activate --device "$rootdisk" --header-dir "$work/r10"
else
        echo "note: / is on '$rootsrc', not a block device: root-disk refusal not testable here"
fi
if loopdev=$(losetup -f --show "$small" 2>/dev/null); then
        expect_fail "an image attached to $loopdev" 1 "Refusing to format '$small': it is in use as the backing file of $loopdev" "$small" \
                "$work/dev.conf" --no-activate --device "$small" --header-dir "$work/r11"
        expect_fail "a loop device" 1 "Refusing to format '$loopdev': it is not a whole disk that ephroot enumerates" "$small" \
                "$work/dev.conf" --no-activate --device "$loopdev" --header-dir "$work/r11"
        losetup -d "$loopdev"; loopdev=
else
        echo "note: no loop device available: loop refusals not tested"
fi

[ "$fail" = 0 ] && echo "all volume host checks passed"
exit $fail
